/* request — reply API for handlers. See request.h. */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "provd.h"
#include "units.h"

/* The audit step of request_done (request_set_audit). */
static request_audit_fn *audit_hook;

void
request_set_audit(request_audit_fn *fn)
{
	audit_hook = fn;
}

/* Where replies go when the client has gone: a scratch buffer, reset each time. */
static struct buf discard = { .max = WIRE_MAX_FRAME * 2 };

static struct buf *
out_of(struct request *req)
{
	if (req->client != NULL && !req->conn->overflowed(req->client))
		return req->conn->out(req->client);
	buf_reset(&discard);
	return &discard;
}

void
rec_begin_type(struct rec *r, struct request *req, enum wire_type type)
{
	r->req = req;
	r->out = out_of(req);
	wire_begin(&r->enc, r->out, type);
}

void
rec_begin(struct rec *r, struct request *req)
{
	rec_begin_type(r, req, WIRE_RECORD);
}

void
rec_kvn(struct rec *r, const char *key, const char *value, size_t n)
{
	if (value == NULL)
		return;
	wire_add_str(&r->enc, key);
	wire_add(&r->enc, value, n);
}

void
rec_kv(struct rec *r, const char *key, const char *value)
{
	if (value != NULL)
		rec_kvn(r, key, value, strlen(value));
}

void
rec_kvf(struct rec *r, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= 0)
		rec_kvn(r, key, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void
rec_end(struct rec *r)
{
	if (wire_finish(&r->enc) < 0 && r->out != &discard)
		log_warnx("request %lu: a reply record was too large and was dropped",
		          r->req->id);
	if (r->req->client != NULL)
		r->req->conn->flush(r->req->client);
}

void
reply_kv(struct request *req, const char *key, ...)
{
	struct rec r;
	va_list ap;
	const char *k, *v;

	rec_begin(&r, req);
	va_start(ap, key);
	for (k = key; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		rec_kv(&r, k, v);
	}
	va_end(ap);
	rec_end(&r);
}

/* Send the STATUS (if the client is still there) and free the request. */
static void
request_finish(void *arg)
{
	struct request *req = arg;

	if (req->client != NULL) {
		if (!req->conn->overflowed(req->client) &&
		    wire_put_status(req->conn->out(req->client), req->status, req->status_msg) < 0)
			log_warnx("request %lu: could not queue the status", req->id);
		req->conn->finished(req->client);
	}
	wire_msg_free(&req->msg);
	free(req);
}

void
request_done(struct request *req, int code, const char *fmt, ...)
{
	va_list ap;

	if (req->done) {
		log_warnx("request %lu: finished twice (bug)", req->id);
		return;
	}
	req->done = true;
	va_start(ap, fmt);
	vsnprintf(req->status_msg, sizeof(req->status_msg), fmt, ap);
	va_end(ap);
	req->status = code;
	/* The handler is finished with it: nothing may call back into it
	 * while the STATUS waits for the audit record to reach the disk. */
	request_drain_cancel(req);
	req->on_cancel = NULL;
	req->on_drain = NULL;
	req->on_data = NULL;
	req->on_end = NULL;
	if (audit_hook == NULL ||
	    audit_hook(req, code, req->status_msg, request_finish, req) == 0)
		request_finish(req);
}

void
request_drain_cancel(struct request *req)
{
	if (req->drain_timer != NULL)
		loop_timer_cancel(req->pd->loop, req->drain_timer);
	req->drain_timer = NULL;
	req->on_drain = NULL;
	req->on_resume = NULL;
}

static void
drained(struct request *req)
{
	request_fn *resume = req->on_resume;

	request_drain_cancel(req);
	if (resume != NULL)
		resume(req);
}

static void
drain_recheck(void *arg)
{
	struct request *req = arg;

	req->drain_timer = NULL;
	if (!request_congested(req)) {
		drained(req);
		return;
	}
	req->drain_timer = loop_timer(req->pd->loop, REQUEST_DRAIN_RECHECK_MS, drain_recheck, req);
	if (req->drain_timer == NULL)
		log_warnx("request %lu: no timer; waiting for the client to drain", req->id);
}

void
request_wait_drain(struct request *req, request_fn *resume)
{
	request_drain_cancel(req);
	req->on_resume = resume;
	req->on_drain = drained;
	req->drain_timer = loop_timer(req->pd->loop, REQUEST_DRAIN_RECHECK_MS, drain_recheck, req);
	if (req->drain_timer == NULL)
		log_warnx("request %lu: no timer; waiting for the client to drain", req->id);
}

bool
request_congested(const struct request *req)
{
	return req->client != NULL && req->conn->congested(req->client);
}

void
request_pause_input(struct request *req, bool paused)
{
	if (req->client != NULL)
		req->conn->pause_input(req->client, paused);
}

bool
request_may(const struct request *req, unsigned role, const char *code)
{
	size_t i;

	if (req->peer.roles & role)
		return true;
	if (code == NULL)
		return false;
	for (i = 0; i < req->peer.nscopes; i++)
		if ((req->peer.scope[i].role & role) &&
		    units_within(req->pd->units, code, req->peer.scope[i].unit))
			return true;
	return false;
}
