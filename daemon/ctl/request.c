/* request — reply API for handlers. See request.h. */
#include "request.h"

#include <assert.h>
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
rec_end_held(struct rec *r)
{
	if (wire_finish(&r->enc) < 0 && r->out != &discard)
		log_warnx("request %lu: a reply record was too large and was dropped",
		          r->req->id);
}

void
request_flush(struct request *req)
{
	if (req->client != NULL)
		req->conn->flush(req->client);
}

int
request_when_written(struct request *req, request_written_fn *fn, void *ctx)
{
	if (req->client == NULL)
		return -1;
	return req->conn->when_written(req->client, fn, ctx);
}

void
rec_end(struct rec *r)
{
	rec_end_held(r);
	request_flush(r->req);
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
	/* A command on one account or certificate that succeeded for a caller
	 * without a province-wide grant must have asked request_may about its
	 * target.  (SCOPE_EACH commands ask per entry, and may have none.) */
	assert(code != ST_OK || req->spec == NULL || !(req->spec->flags & CMD_WRITES) ||
	       (req->spec->scope != SCOPE_ACCOUNT && req->spec->scope != SCOPE_CERT) ||
	       (req->peer.roles & req->spec->roles) || req->scope_checked);
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
request_may(struct request *req, unsigned roles, const char *code)
{
	enum cmd_scope scope = req->spec != NULL ? req->spec->scope : SCOPE_NONE;
	size_t i;

	if (code != NULL && code[0] != '\0')
		req->scope_checked = true;
	if (req->peer.roles & roles)
		return true;
	if (scope == SCOPE_NONE || scope == SCOPE_CA)
		return false;
	for (i = 0; i < req->peer.nscopes; i++) {
		if (!(req->peer.scope[i].role & roles))
			continue;
		if (scope == SCOPE_READ)
			return true;
		if (code != NULL && code[0] != '\0' &&
		    units_within(req->pd->units, code, req->peer.scope[i].unit))
			return true;
	}
	return false;
}

void
request_refuse(struct request *req, unsigned roles, const char *what)
{
	const struct cmd_spec *s = req->spec;
	char need[48], have[48], scoped[300];
	size_t i, off = 0;

	scoped[0] = '\0';
	for (i = 0; i < req->peer.nscopes && off < sizeof(scoped); i++) {
		int n = snprintf(scoped + off, sizeof(scoped) - off, "%s%s over %s",
		                 off ? ", " : "; scoped: ",
		                 role_names(req->peer.scope[i].role, have, sizeof(have)),
		                 req->peer.scope[i].unit);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	request_done(req, ST_PERMISSION, "permission denied: '%s%s%s' on %s needs role %s%s; "
	             "%s (uid %u) has %s province-wide%s",
	             s->noun, s->verb ? " " : "", s->verb ? s->verb : "", what,
	             role_names(roles, need, sizeof(need)),
	             s->scope == SCOPE_NONE || s->scope == SCOPE_CA ?
	             " over the whole province (a grant scoped to units does not cover it)" : "",
	             req->peer.name, (unsigned)req->peer.uid,
	             role_names(req->peer.roles, have, sizeof(have)), scoped);
}
