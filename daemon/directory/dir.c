/* dir — asynchronous libldap connection driven by the loop. See dir.h. */
#include "dir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/queue.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS  250
#define BACKOFF_MAX_MS  8000
#define TICK_MS         500
#define PROBE_TIMEOUT_MS 1000       /* how long one probe waits for its answer */
#define DIR_READ_TURN   128u        /* messages one turn takes at most */
#define DIR_CLOCK_EVERY 8u          /* messages between two reads of the clock */

enum op_kind { OP_SEARCH, OP_ADD, OP_MODIFY, OP_DELETE };

/* One fail-back probe in flight (see "fail-back probe" below). */
struct probe {
	bool          active;
	size_t        idx;          /* the URI asked */
	LDAP         *ld;           /* its own handle, never d->ld */
	int           fd;
	int           msgid;
	struct timer *timer;
};

struct op {
	enum op_kind   kind;
	char          *dn;          /* base for searches */
	int            scope;
	char          *filter;
	char         **attrs;
	int            sizelimit;
	struct dir_mods *mods;      /* a copy, by the builder below */
	LDAPControl  **ctrls;
	dir_entry_fn  *on_entry;
	dir_done_fn   *done;
	void          *ctx;
	int            msgid;
	uint64_t       deadline;
	int            fail_code;   /* for deferred failures */
	char          *fail_text;   /* its text, NULL for the code's own */
	bool           ungated;     /* a write the write gate lets through */
	struct dir    *dir;
	STAILQ_ENTRY(op) entry;    /* in the queue or the held list */
};
STAILQ_HEAD(opq, op);

struct dir {
	struct loop   *loop;
	LDAP          *ld;
	int            fd;
	bool           up;
	char          *uris[CONFIG_MAX_URIS];
	size_t         nuris, cur;
	bool           simple;
	char          *bind_dn;
	char          *bind_pw;
	unsigned       timeout_s;
	size_t         window;
	struct op    **out;         /* outstanding, size window */
	size_t         nout;
	struct opq     queue;        /* waiting for a place in the window */
	size_t         nqueued;
	struct opq     held;         /* writes held by DIR_GATE_HOLD */
	enum dir_gate  gate;
	char           gate_why[1024];
	size_t         switch_to;     /* > nuris: no switch back pending */
	uint64_t       next_probe;
	uint64_t       failback_ms;   /* how often a failed-over dir probes the URIs before it */
	struct probe   probe;
	struct timer  *retry, *tick;
	unsigned       backoff;
	unsigned long  reconnects;
	bool           ever_up;
	bool           lost_pending;
	bool           read_yielded; /* on_readable continues after a poll */
	bool           writing;      /* libldap holds a request not yet all sent */
	bool           want_out;     /* ... and the loop watches for EPOLLOUT */
	int            writing_msgid;
	int            fl;           /* the socket's file status flags, blocking */
	bool           nonblock;     /* O_NONBLOCK set: while sending */
	unsigned long  read_slices;  /* ... how often it did */
	dir_state_fn  *state_cb;
	void          *state_ctx;
	dir_write_fn  *write_cb[DIR_WRITE_OBSERVERS];
	void          *write_ctx[DIR_WRITE_OBSERVERS];
};

static void dir_connect_now(void *arg);
static void dir_lost(struct dir *d, const char *why);
static void pump(struct dir *d);

/* ---- op memory ------------------------------------------------------- */

static struct dir_mods *mods_copy(LDAPMod **in);

static void
op_free(struct op *op)
{
	size_t i;

	free(op->dn);
	free(op->filter);
	if (op->attrs != NULL) {
		for (i = 0; op->attrs[i] != NULL; i++)
			free(op->attrs[i]);
		free(op->attrs);
	}
	dir_mods_free(op->mods);
	ldap_controls_free(op->ctrls);
	free(op->fail_text);
	free(op);
}

static void
complete(struct op *op, int code, const char *text, const char *matched,
         LDAPControl **ctrls)
{
	struct dir_result r = {
		.code = code, .text = text ? text : "",
		.matched = matched ? matched : "", .ctrls = ctrls,
	};
	struct dir *d = op->dir;
	size_t i;

	for (i = 0; code == LDAP_SUCCESS && op->kind != OP_SEARCH && d != NULL &&
	            i < DIR_WRITE_OBSERVERS && d->write_cb[i] != NULL; i++)
		d->write_cb[i](d->write_ctx[i], op->kind == OP_ADD ? DIR_WROTE_ADD :
		               op->kind == OP_DELETE ? DIR_WROTE_DELETE : DIR_WROTE_MODIFY, op->dn,
		               op->mods != NULL ? dir_mods_get(op->mods) : NULL);
	op->done(op->ctx, &r);
	op_free(op);
}

static void
complete_deferred(void *arg)
{
	struct op *op = arg;
	const char *text = ldap_err2string(op->fail_code);

	if (op->fail_text != NULL)
		text = op->fail_text;
	else if (op->fail_code == LDAP_UNAVAILABLE)
		text = "directory unavailable";
	else if (op->fail_code == LDAP_SERVER_DOWN)
		text = "connection to the directory lost; outcome unknown";
	complete(op, op->fail_code, text, NULL, NULL);
}

static void
defer_failure(struct dir *d, struct op *op, int code)
{
	op->fail_code = code;
	loop_defer(d->loop, complete_deferred, op);
}

static void
lost_deferred(void *arg)
{
	struct dir *d = arg;

	d->lost_pending = false;
	dir_lost(d, "write to the directory failed");
}

/* ---- connection ------------------------------------------------------ */

static void
set_up(struct dir *d, bool up)
{
	if (d->up == up)
		return;
	d->up = up;
	if (d->state_cb)
		d->state_cb(d->state_ctx, up);
}

static void
schedule_retry(struct dir *d)
{
	if (d->retry != NULL)
		return;
	d->backoff = d->backoff ? d->backoff * 2 : BACKOFF_MIN_MS;
	if (d->backoff > BACKOFF_MAX_MS)
		d->backoff = BACKOFF_MAX_MS;
	d->retry = loop_timer(d->loop, d->backoff, dir_connect_now, d);
}

static void read_results(struct dir *d);

/*
 * Requests are sent on a non-blocking socket: one larger than the socket
 * buffer (a CRL of 100,000 entries is 6 MB) is sent by libldap in parts,
 * the rest from ldap_result when the loop sees the socket writable, and
 * the loop never waits in write() for slapd to take it.  Between requests
 * the socket is blocking again, so read_results takes a message that is
 * still arriving whole (and a stream of entries for LOOP_SLICE_US).
 */
static void
set_nonblock(struct dir *d, bool on)
{
	if (d->ld == NULL || d->nonblock == on)
		return;
	if (fcntl(d->fd, F_SETFL, on ? d->fl | O_NONBLOCK : d->fl) == 0)
		d->nonblock = on;
}

static void
watch_out(struct dir *d, bool on)
{
	if (d->ld == NULL || d->want_out == on)
		return;
	if (loop_mod_fd(d->loop, d->fd, on ? EPOLLIN | EPOLLOUT : EPOLLIN) == 0)
		d->want_out = on;
}

static void
set_writing(struct dir *d, bool on)
{
	d->writing = on;
	watch_out(d, on);
	if (!on)
		set_nonblock(d, false);
}

static void
read_resume(void *arg)
{
	struct dir *d = arg;

	d->read_yielded = false;
	read_results(d);
}

static void
on_readable(void *arg, int fd, uint32_t events)
{
	struct dir *d = arg;

	(void)fd;
	if (d->read_yielded)
		return;              /* read_resume calls ldap_result soon */
	read_results(d);             /* ldap_result also sends more of a request */
	/* Still writable after libldap sent what it held: the request went out
	 * whole, or nearly; tick() watches again in case it had not. */
	if ((events & EPOLLOUT) && d->ld != NULL && d->want_out) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLOUT, .revents = 0 };

		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT))
			watch_out(d, false);
	}
}

/*
 * The answers that have arrived, for LOOP_SLICE_US and DIR_READ_TURN
 * messages at most: a search of 100,000 entries that slapd streams as fast
 * as they are taken would otherwise hold the loop until the last one.  Past
 * either budget the rest (on the socket or already in libldap's buffer,
 * which epoll cannot see) waits for the next turn, loop_yield.  The count
 * bounds a turn where the clock cannot: on a machine slow enough that 1 ms
 * of parsing is a few entries, or fast enough that it is thousands.  The
 * clock is read every DIR_CLOCK_EVERY messages, not for each (a listing of
 * 100,000 entries read it 200,000 times): a turn may pass LOOP_SLICE_US by
 * the time that many entries take.  A search that sent entries in a turn
 * is answering: its deadline runs from the turn's start.
 */
static void
read_results(struct dir *d)
{
	struct timeval zero = { 0, 0 };
	uint64_t start = loop_now_us(), until = start + LOOP_SLICE_US;
	uint64_t deadline = start / 1000u + (uint64_t)d->timeout_s * 1000u;
	unsigned taken = 0;
	LDAPMessage *msg;
	int rc;
	size_t i;

	while (d->ld != NULL) {
		struct op *op = NULL;
		int msgid, type;

		if (taken == DIR_READ_TURN ||
		    (taken % DIR_CLOCK_EVERY == DIR_CLOCK_EVERY - 1 && loop_now_us() >= until)) {
			d->read_yielded = true;
			d->read_slices++;
			loop_yield(d->loop, read_resume, d);
			break;
		}
		taken++;
		rc = ldap_result(d->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
		if (rc == 0)
			break;
		if (rc < 0) {
			int err = LDAP_SERVER_DOWN;

			ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &err);
			dir_lost(d, ldap_err2string(err));
			return;
		}
		msgid = ldap_msgid(msg);
		type = ldap_msgtype(msg);
		for (i = 0; i < d->nout; i++)
			if (d->out[i]->msgid == msgid) {
				op = d->out[i];
				break;
			}
		if (op == NULL) {           /* abandoned after a timeout */
			ldap_msgfree(msg);
			continue;
		}
		if (type == LDAP_RES_SEARCH_ENTRY) {
			/* A search that is sending entries is answering: its time
			 * runs from the last one (a count of 1,000,000 entries
			 * takes longer than ldap.timeout, and is not a stall). */
			op->deadline = deadline;
			if (op->on_entry)
				op->on_entry(op->ctx, d->ld, msg);
			ldap_msgfree(msg);
			continue;
		}
		if (type == LDAP_RES_SEARCH_REFERENCE || type == LDAP_RES_INTERMEDIATE) {
			ldap_msgfree(msg);
			continue;
		}
		/* A final result: take the op off the outstanding list first, so
		 * the callback may submit more. */
		d->out[i] = d->out[--d->nout];
		if (d->writing && msgid == d->writing_msgid)
			set_writing(d, false);   /* answered, so sent whole */
		{
			int err = LDAP_OTHER;
			char *matched = NULL, *text = NULL;
			LDAPControl **ctrls = NULL;

			rc = ldap_parse_result(d->ld, msg, &err, &matched, &text,
			                       NULL, &ctrls, 1);
			if (rc != LDAP_SUCCESS)
				err = rc;
			complete(op, err, text, matched, ctrls);
			ldap_memfree(matched);
			ldap_memfree(text);
			ldap_controls_free(ctrls);
		}
	}
	pump(d);
}

static int
bind_now(struct dir *d, char *why, size_t whylen)
{
	struct berval cred = { 0, NULL };
	int rc;

	if (d->simple) {
		cred.bv_val = d->bind_pw;
		cred.bv_len = d->bind_pw ? strlen(d->bind_pw) : 0;
		rc = ldap_sasl_bind_s(d->ld, d->bind_dn, LDAP_SASL_SIMPLE, &cred,
		                      NULL, NULL, NULL);
	} else {
		/* An empty initial response (not an absent one) completes
		 * EXTERNAL in one round trip: the identity is the socket peer. */
		static char empty[] = "";

		cred.bv_val = empty;
		cred.bv_len = 0;
		rc = ldap_sasl_bind_s(d->ld, NULL, "EXTERNAL", &cred, NULL, NULL, NULL);
	}
	if (rc != LDAP_SUCCESS)
		snprintf(why, whylen, "bind: %s", ldap_err2string(rc));
	return rc;
}

static int
try_uri(struct dir *d, const char *uri, char *why, size_t whylen)
{
	struct timeval nto = { 2, 0 }, opto = { (time_t)d->timeout_s, 0 };
	int v3 = LDAP_VERSION3, rc, fd = -1;

	if ((rc = ldap_initialize(&d->ld, uri)) != LDAP_SUCCESS) {
		snprintf(why, whylen, "%s", ldap_err2string(rc));
		d->ld = NULL;
		return -1;
	}
	ldap_set_option(d->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(d->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(d->ld, LDAP_OPT_NETWORK_TIMEOUT, &nto);
	ldap_set_option(d->ld, LDAP_OPT_TIMEOUT, &opto);
	if (bind_now(d, why, whylen) != LDAP_SUCCESS ||
	    ldap_get_option(d->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0) {
		if (fd < 0 && why[0] == '\0')
			snprintf(why, whylen, "no socket");
		ldap_unbind_ext(d->ld, NULL, NULL);
		d->ld = NULL;
		return -1;
	}
	/* Read ahead: without it libldap reads each message with two small
	 * read() calls (header, then body), 200,000 syscalls for a CRL
	 * rebuild over 100,000 records. */
	{
		Sockbuf *sb = NULL;

		if (ldap_get_option(d->ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL) {
			ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead,
			                   LBER_SBIOD_LEVEL_PROVIDER, NULL);
		}
	}
	if ((d->fl = fcntl(fd, F_GETFL)) < 0)
		d->fl = O_RDWR;
	d->fl &= ~O_NONBLOCK;
	if (loop_add_fd(d->loop, fd, EPOLLIN, on_readable, d) < 0) {
		snprintf(why, whylen, "epoll: %s", strerror(errno));
		ldap_unbind_ext(d->ld, NULL, NULL);
		d->ld = NULL;
		return -1;
	}
	d->fd = fd;
	d->writing = false;
	d->want_out = false;
	d->nonblock = false;
	return 0;
}

static void
dir_connect_now(void *arg)
{
	struct dir *d = arg;
	char why[256];
	size_t k;

	d->retry = NULL;
	if (d->ld != NULL)
		return;
	for (k = 0; k < d->nuris; k++) {
		size_t i = (d->cur + k) % d->nuris;

		why[0] = '\0';
		if (try_uri(d, d->uris[i], why, sizeof(why)) == 0) {
			d->cur = i;
			d->backoff = 0;
			if (d->ever_up)
				d->reconnects++;
			d->ever_up = true;
			log_info("directory: connected to %s", d->uris[i]);
			set_up(d, true);
			pump(d);
			return;
		}
		log_warnx("directory: %s: %s", d->uris[i], why);
	}
	schedule_retry(d);
}

static void
fail_all(struct dir *d)
{
	struct opq q = STAILQ_HEAD_INITIALIZER(q);
	struct op *op, **out = d->out;
	size_t n = d->nout, i;

	/* Detach everything first: callbacks may submit new operations. */
	d->out = xcalloc(d->window, sizeof(*d->out));
	d->nout = 0;
	STAILQ_CONCAT(&q, &d->queue);
	STAILQ_CONCAT(&q, &d->held);        /* held writes after the queued ones */
	d->nqueued = 0;
	for (i = 0; i < n; i++)
		complete(out[i], LDAP_SERVER_DOWN,
		         "connection to the directory lost; outcome unknown", NULL, NULL);
	free(out);
	while ((op = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		complete(op, LDAP_UNAVAILABLE, "directory unavailable", NULL, NULL);
	}
}

static void
dir_lost(struct dir *d, const char *why)
{
	if (d->ld == NULL)
		return;
	log_warnx("directory: connection to %s lost: %s", d->uris[d->cur], why);
	loop_del_fd(d->loop, d->fd);
	ldap_unbind_ext(d->ld, NULL, NULL);
	d->ld = NULL;
	d->fd = -1;
	d->switch_to = SIZE_MAX;
	set_up(d, false);
	fail_all(d);
	/* Try the next URI first: the one we had just failed. */
	d->cur = (d->cur + 1) % d->nuris;
	schedule_retry(d);
}

/* ---- fail-back probe -------------------------------------------------
 *
 * Connected to a failover URI, dir asks the URIs listed before it, one at
 * a time, whether they answer a bind again.  The probe never blocks the
 * loop: its own libldap handle connects asynchronously
 * (LDAP_OPT_CONNECT_ASYNC), the bind is sent with ldap_sasl_bind (no _s),
 * the socket is watched by the loop and ldap_result is polled with a zero
 * timeout; a timer ends a probe that has no answer after PROBE_TIMEOUT_MS
 * (a blackholed port, a stopped slapd).  Host names in URIs are resolved
 * by libldap's connect, which does block: list providers by address or in
 * /etc/hosts.
 */

static void probe_next(struct dir *d, size_t from);

static void
probe_end(struct dir *d)
{
	struct probe *p = &d->probe;

	if (p->timer != NULL) {
		loop_timer_cancel(d->loop, p->timer);
		p->timer = NULL;
	}
	if (p->fd >= 0) {
		loop_del_fd(d->loop, p->fd);
		p->fd = -1;
	}
	if (p->ld != NULL) {
		ldap_unbind_ext(p->ld, NULL, NULL);
		p->ld = NULL;
	}
	p->active = false;
}

/* The probe of URI p->idx ended: answered (bind ok) or not. */
static void
probe_finish(struct dir *d, bool answered)
{
	size_t idx = d->probe.idx;

	probe_end(d);
	if (d->ld == NULL || idx >= d->cur || d->switch_to < d->nuris)
		return; /* the connection moved meanwhile: this answer is moot */
	if (answered) {
		log_info("directory: %s answers again; moving back to it from %s",
		         d->uris[idx], d->uris[d->cur]);
		d->switch_to = idx;
		pump(d);
		return;
	}
	probe_next(d, idx + 1);
}

static void
probe_timeout(void *arg)
{
	struct dir *d = arg;

	d->probe.timer = NULL;
	probe_finish(d, false);
}

static void
probe_io(void *arg, int fd, uint32_t events)
{
	struct dir *d = arg;
	struct probe *p = &d->probe;
	struct timeval zero = {0, 0};
	LDAPMessage *res = NULL;
	int rc, err = LDAP_OTHER;

	(void)fd;
	if (events & (EPOLLERR | EPOLLHUP)) {
		probe_finish(d, false);
		return;
	}
	/* ldap_result finishes the connect and sends the queued bind. */
	rc = ldap_result(p->ld, p->msgid, LDAP_MSG_ALL, &zero, &res);
	if (rc == 0) {
		if (events & EPOLLOUT)
			(void)loop_mod_fd(d->loop, p->fd, EPOLLIN); /* connected: wait for the answer */
		return;
	}
	if (rc < 0) {
		probe_finish(d, false);
		return;
	}
	if (ldap_parse_result(p->ld, res, &err, NULL, NULL, NULL, NULL, 1) != LDAP_SUCCESS)
		err = LDAP_OTHER;
	probe_finish(d, err == LDAP_SUCCESS);
}

/* Start a probe of uris[i]; false when it could not even start. */
static bool
probe_start(struct dir *d, size_t i)
{
	struct probe *p = &d->probe;
	struct berval cred = {0, NULL};
	struct timeval nto = {PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000};
	static char empty[] = "";
	int v3 = LDAP_VERSION3, rc;

	p->idx = i;
	p->fd = -1;
	p->active = true;
	if (ldap_initialize(&p->ld, d->uris[i]) != LDAP_SUCCESS) {
		p->ld = NULL;
		goto fail;
	}
	ldap_set_option(p->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(p->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	/* libldap connects without blocking only with a network timeout set
	 * as well (ldap_pvt_connect); the timer below is what ends a probe. */
	ldap_set_option(p->ld, LDAP_OPT_NETWORK_TIMEOUT, &nto);
	ldap_set_option(p->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON);
	if (d->simple) {
		cred.bv_val = d->bind_pw;
		cred.bv_len = d->bind_pw ? strlen(d->bind_pw) : 0;
		rc = ldap_sasl_bind(p->ld, d->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
		                    &p->msgid);
	} else {
		cred.bv_val = empty;
		rc = ldap_sasl_bind(p->ld, NULL, "EXTERNAL", &cred, NULL, NULL, &p->msgid);
	}
	if (rc != LDAP_SUCCESS ||
	    ldap_get_option(p->ld, LDAP_OPT_DESC, &p->fd) != LDAP_OPT_SUCCESS || p->fd < 0) {
		p->fd = -1;
		goto fail;
	}
	if (loop_add_fd(d->loop, p->fd, EPOLLIN | EPOLLOUT, probe_io, d) < 0) {
		p->fd = -1;
		goto fail;
	}
	if ((p->timer = loop_timer(d->loop, PROBE_TIMEOUT_MS, probe_timeout, d)) == NULL)
		goto fail;
	return true;
fail:
	probe_end(d);
	return false;
}

/* Probe the earlier URIs from index from on, one at a time, until one
 * starts (its answer comes later) or none is left. */
static void
probe_next(struct dir *d, size_t from)
{
	size_t i;

	for (i = from; i < d->cur; i++)
		if (probe_start(d, i))
			return;
}

/* Connected to a failover URI: when one listed before it answers again,
 * go back to it (every site writes to the first provider that answers).
 * New operations wait in the queue until the outstanding ones are
 * answered; then the connection moves (switch_back). */
static void
probe_earlier(struct dir *d)
{
	if (!d->probe.active)
		probe_next(d, 0);
}

/* Writes queued for the old connection passed the write gate there: they
 * wait for the gate's decision on the new one, ahead of any held before. */
static void
hold_queued_writes(struct dir *d)
{
	struct opq q = STAILQ_HEAD_INITIALIZER(q), hold = STAILQ_HEAD_INITIALIZER(hold);
	struct op *op;

	STAILQ_CONCAT(&q, &d->queue);
	d->nqueued = 0;
	while ((op = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		if (op->kind == OP_SEARCH || op->ungated) {
			STAILQ_INSERT_TAIL(&d->queue, op, entry);
			d->nqueued++;
		} else {
			STAILQ_INSERT_TAIL(&hold, op, entry);
		}
	}
	if (!STAILQ_EMPTY(&hold)) {
		STAILQ_CONCAT(&hold, &d->held);
		STAILQ_CONCAT(&d->held, &hold);
		d->gate = DIR_GATE_HOLD;
	}
}

static void
switch_back(struct dir *d)
{
	size_t to = d->switch_to;

	d->switch_to = SIZE_MAX;
	hold_queued_writes(d);
	loop_del_fd(d->loop, d->fd);
	ldap_unbind_ext(d->ld, NULL, NULL);
	d->ld = NULL;
	d->fd = -1;
	set_up(d, false);
	d->cur = to;
	d->backoff = 0;
	/* Queued and held operations stay: they go to the new connection (or
	 * fail as unavailable if no URI answers). */
	dir_connect_now(d);
	if (d->ld == NULL)
		fail_all(d);
}

static void
tick(void *arg)
{
	struct dir *d = arg;
	uint64_t now = loop_now_ms();
	size_t i = 0;

	d->tick = loop_timer(d->loop, TICK_MS, tick, d);
	if (d->writing)
		watch_out(d, true);
	while (i < d->nout) {
		struct op *op = d->out[i];

		if (op->deadline > now) {
			i++;
			continue;
		}
		if (d->writing) {
			/* An abandon now would land inside the half-sent request. */
			dir_lost(d, "the directory did not take a request in time");
			return;
		}
		d->out[i] = d->out[--d->nout];
		if (d->ld != NULL)
			ldap_abandon_ext(d->ld, op->msgid, NULL, NULL);
		complete(op, LDAP_TIMEOUT, "the directory did not answer in time", NULL, NULL);
	}
	if (d->ld != NULL && d->cur > 0 && d->switch_to >= d->nuris && now >= d->next_probe) {
		d->next_probe = now + d->failback_ms;
		probe_earlier(d);
	}
	pump(d);
}

/* ---- submission ------------------------------------------------------ */

static int
send_op(struct dir *d, struct op *op)
{
	int rc = LDAP_OTHER;

	switch (op->kind) {
	case OP_SEARCH:
		rc = ldap_search_ext(d->ld, op->dn, op->scope, op->filter, op->attrs,
		                     0, op->ctrls, NULL, NULL, op->sizelimit, &op->msgid);
		break;
	case OP_ADD:
		rc = ldap_add_ext(d->ld, op->dn, dir_mods_get(op->mods), op->ctrls, NULL, &op->msgid);
		break;
	case OP_MODIFY:
		rc = ldap_modify_ext(d->ld, op->dn, dir_mods_get(op->mods), op->ctrls, NULL, &op->msgid);
		break;
	case OP_DELETE:
		rc = ldap_delete_ext(d->ld, op->dn, op->ctrls, NULL, &op->msgid);
		break;
	}
	return rc;
}

static void
pump(struct dir *d)
{
	struct op *op;
	int rc;

	if (d->ld != NULL && d->switch_to < d->nuris) {
		if (d->nout == 0)
			switch_back(d);
		return;
	}
	while (d->ld != NULL && (op = STAILQ_FIRST(&d->queue)) != NULL && d->nout < d->window) {
		STAILQ_REMOVE_HEAD(&d->queue, entry);
		d->nqueued--;
		op->deadline = loop_now_ms() + (uint64_t)d->timeout_s * 1000u;
		set_nonblock(d, true);       /* never wait in write(): see set_nonblock */
		rc = send_op(d, op);
		if (rc == LDAP_SUCCESS) {
			int err = LDAP_SUCCESS;

			d->out[d->nout++] = op;
			/* Sent in part: the rest goes when the socket takes it. */
			(void)ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &err);
			set_writing(d, err == LDAP_BUSY);
			d->writing_msgid = op->msgid;
			if (d->writing)
				return;
			continue;
		}
		if (rc == LDAP_BUSY) {
			/* The request before is still being sent: this one waits. */
			STAILQ_INSERT_HEAD(&d->queue, op, entry);
			d->nqueued++;
			set_writing(d, true);
			return;
		}
		/* pump() may run inside a submitting call: report failures from
		 * the loop, never synchronously. */
		if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) {
			/* Possibly half-written: outcome unknown. */
			defer_failure(d, op, LDAP_SERVER_DOWN);
			if (!d->lost_pending) {
				d->lost_pending = true;
				loop_defer(d->loop, lost_deferred, d);
			}
			return;
		}
		defer_failure(d, op, rc);
	}
	if (!d->writing)
		set_nonblock(d, false);
}

static void
submit(struct dir *d, struct op *op)
{
	op->dir = d;
	if (d->ld == NULL) {
		defer_failure(d, op, LDAP_UNAVAILABLE);
		return;
	}
	if (op->kind != OP_SEARCH && !op->ungated && d->gate != DIR_GATE_OPEN) {
		if (d->gate == DIR_GATE_HOLD) {
			STAILQ_INSERT_TAIL(&d->held, op, entry);
			return;
		}
		op->fail_text = xstrdup(d->gate_why);
		defer_failure(d, op, LDAP_UNAVAILABLE);
		return;
	}
	STAILQ_INSERT_TAIL(&d->queue, op, entry);
	d->nqueued++;
	/* Send now if the window allows; the done callback still runs later
	 * (results are only read from the loop). */
	pump(d);
}

static struct op *
op_new(enum op_kind kind, const char *dn, LDAPControl **ctrls, dir_done_fn *done,
       void *ctx)
{
	struct op *op = xcalloc(1, sizeof(*op));

	op->dn = xstrdup(dn ? dn : "");
	op->kind = kind;
	op->done = done;
	op->ctx = ctx;
	op->msgid = -1;
	if (ctrls != NULL && (op->ctrls = ldap_controls_dup(ctrls)) == NULL)
		fatal("directory: out of memory");
	return op;
}

void
dir_search(struct dir *d, const char *base, int scope, const char *filter,
           const char *const *attrs, int sizelimit, LDAPControl **ctrls,
           dir_entry_fn *on_entry, dir_done_fn *done, void *ctx)
{
	struct op *op = op_new(OP_SEARCH, base, ctrls, done, ctx);
	size_t n = 0, i;

	op->scope = scope;
	op->sizelimit = sizelimit;
	op->on_entry = on_entry;
	op->filter = xstrdup(filter ? filter : "(objectClass=*)");
	if (attrs != NULL) {
		while (attrs[n] != NULL)
			n++;
		op->attrs = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			op->attrs[i] = xstrdup(attrs[i]);
	}
	submit(d, op);
}

static void
submit_write(struct dir *d, enum op_kind kind, const char *dn, LDAPMod **mods,
             LDAPControl **ctrls, dir_done_fn *done, void *ctx, bool ungated)
{
	struct op *op = op_new(kind, dn, ctrls, done, ctx);

	if (mods != NULL)
		op->mods = mods_copy(mods);
	op->ungated = ungated;
	submit(d, op);
}

void
dir_add_ungated(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
                dir_done_fn *done, void *ctx)
{
	submit_write(d, OP_ADD, dn, mods, ctrls, done, ctx, true);
}

void
dir_modify_ungated(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
                   dir_done_fn *done, void *ctx)
{
	submit_write(d, OP_MODIFY, dn, mods, ctrls, done, ctx, true);
}

void
dir_set_write_gate(struct dir *d, enum dir_gate gate, const char *why)
{
	struct opq held = STAILQ_HEAD_INITIALIZER(held);
	struct op *op;

	d->gate = gate;
	snprintf(d->gate_why, sizeof(d->gate_why), "%s", why ? why : "");
	if (gate == DIR_GATE_HOLD)
		return;
	STAILQ_CONCAT(&held, &d->held);
	while ((op = STAILQ_FIRST(&held)) != NULL) {
		STAILQ_REMOVE_HEAD(&held, entry);
		submit(d, op);
	}
}

enum dir_gate
dir_write_gate(const struct dir *d, const char **why)
{
	if (why != NULL)
		*why = d->gate_why;
	return d->gate;
}

size_t
dir_uri_index(const struct dir *d)
{
	return d->cur;
}

void
dir_add(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
        dir_done_fn *done, void *ctx)
{
	submit_write(d, OP_ADD, dn, mods, ctrls, done, ctx, false);
}

void
dir_modify(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
           dir_done_fn *done, void *ctx)
{
	submit_write(d, OP_MODIFY, dn, mods, ctrls, done, ctx, false);
}

void
dir_modify_take(struct dir *d, const char *dn, struct dir_mods *m, LDAPControl **ctrls,
                dir_done_fn *done, void *ctx)
{
	struct op *op = op_new(OP_MODIFY, dn, ctrls, done, ctx);

	op->mods = m;
	submit(d, op);
}

void
dir_delete(struct dir *d, const char *dn, LDAPControl **ctrls, dir_done_fn *done,
           void *ctx)
{
	submit_write(d, OP_DELETE, dn, NULL, ctrls, done, ctx, false);
}

/* ---- lifecycle ------------------------------------------------------- */

static void
take_config(struct dir *d, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < d->nuris; i++)
		free(d->uris[i]);
	for (i = 0; i < cfg->nuris; i++)
		d->uris[i] = xstrdup(cfg->uris[i]);
	d->nuris = cfg->nuris;
	d->cur = 0;
	d->switch_to = SIZE_MAX;
	d->simple = cfg->bind_simple;
	free(d->bind_dn);
	d->bind_dn = cfg->bind_dn ? xstrdup(cfg->bind_dn) : NULL;
	if (d->bind_pw) {
		explicit_bzero(d->bind_pw, strlen(d->bind_pw));
		free(d->bind_pw);
	}
	d->bind_pw = cfg->bind_password ? xstrdup(cfg->bind_password) : NULL;
	d->timeout_s = cfg->ldap_timeout;
	d->failback_ms = (uint64_t)cfg->failback_probe * 1000u;
}

struct dir *
dir_new(struct loop *loop, const struct config *cfg)
{
	struct dir *d = xcalloc(1, sizeof(*d));

	d->loop = loop;
	d->fd = -1;
	d->probe.fd = -1;
	STAILQ_INIT(&d->queue);
	STAILQ_INIT(&d->held);
	d->gate = DIR_GATE_OPEN;
	d->switch_to = SIZE_MAX;
	d->window = cfg->ldap_window;
	d->out = xcalloc(d->window, sizeof(*d->out));
	take_config(d, cfg);
	return d;
}

void
dir_start(struct dir *d)
{
	if (d->tick == NULL)
		d->tick = loop_timer(d->loop, TICK_MS, tick, d);
	dir_connect_now(d);
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Would cfg connect or bind differently from what d does now? */
static bool
connection_changed(const struct dir *d, const struct config *cfg)
{
	size_t i;

	if (cfg->nuris != d->nuris || cfg->bind_simple != d->simple ||
	    !same_str(cfg->bind_dn, d->bind_dn) || !same_str(cfg->bind_password, d->bind_pw))
		return true;
	for (i = 0; i < d->nuris; i++)
		if (strcmp(cfg->uris[i], d->uris[i]) != 0)
			return true;
	return false;
}

void
dir_reconfigure(struct dir *d, const struct config *cfg)
{
	bool reconnect = connection_changed(d, cfg);
	size_t cur = d->cur;

	probe_end(d); /* it may ask a URI the new list no longer has */
	take_config(d, cfg);
	if (!reconnect)
		d->cur = cur;      /* still connected to that URI */
	/* Only a new server or identity drops the connection (and fails the
	 * operations in flight); any other reload leaves them alone. */
	if (d->ld != NULL && reconnect) {
		dir_lost(d, "configuration reloaded");
		if (d->retry) {
			loop_timer_cancel(d->loop, d->retry);
			d->retry = NULL;
		}
		d->backoff = 0;
		dir_connect_now(d);
	}
}

void
dir_free(struct dir *d)
{
	size_t i;

	if (d == NULL)
		return;
	probe_end(d);
	if (d->ld != NULL) {
		loop_del_fd(d->loop, d->fd);
		ldap_unbind_ext(d->ld, NULL, NULL);
		d->ld = NULL;
	}
	d->state_cb = NULL;
	fail_all(d);
	if (d->retry)
		loop_timer_cancel(d->loop, d->retry);
	if (d->tick)
		loop_timer_cancel(d->loop, d->tick);
	for (i = 0; i < d->nuris; i++)
		free(d->uris[i]);
	free(d->bind_dn);
	if (d->bind_pw) {
		explicit_bzero(d->bind_pw, strlen(d->bind_pw));
		free(d->bind_pw);
	}
	if (d->read_yielded)
		loop_yield_cancel(d->loop, read_resume, d);
	free(d->out);
	free(d);
}

bool dir_connected(const struct dir *d) { return d->ld != NULL; }
LDAP *dir_ldap(const struct dir *d) { return d->ld; }
const char *dir_uri(const struct dir *d) { return d->nuris ? d->uris[d->cur] : ""; }
size_t dir_outstanding(const struct dir *d) { return d->nout; }
size_t dir_queued(const struct dir *d) { return d->nqueued; }
unsigned long dir_reconnects(const struct dir *d) { return d->reconnects; }
unsigned long dir_read_slices(const struct dir *d) { return d->read_slices; }

void
dir_on_state(struct dir *d, dir_state_fn *cb, void *ctx)
{
	d->state_cb = cb;
	d->state_ctx = ctx;
}

int
dir_on_write(struct dir *d, dir_write_fn *cb, void *ctx)
{
	size_t i;

	for (i = 0; i < DIR_WRITE_OBSERVERS; i++)
		if (d->write_cb[i] == NULL) {
			d->write_cb[i] = cb;
			d->write_ctx[i] = ctx;
			return 0;
		}
	return -1;
}

/* ---- entry helpers --------------------------------------------------- */

char *
dir_entry_get(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = NULL;

	if (v != NULL && v[0] != NULL) {
		s = xmalloc(v[0]->bv_len + 1);
		memcpy(s, v[0]->bv_val, v[0]->bv_len);
		s[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return s;
}

void
dir_entry_copy(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t outsz)
{
	char *v = dir_entry_get(ld, e, attr);

	snprintf(out, outsz, "%s", v ? v : "");
	free(v);
}

char **
dir_entry_get_all(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char **out = NULL;
	size_t n, i;

	if (v == NULL)
		return NULL;
	n = (size_t)ldap_count_values_len(v);
	if (n > 0) {
		out = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++) {
			out[i] = xmalloc(v[i]->bv_len + 1);
			memcpy(out[i], v[i]->bv_val, v[i]->bv_len);
			out[i][v[i]->bv_len] = '\0';
		}
	}
	ldap_value_free_len(v);
	return out;
}

unsigned char *
dir_entry_get_bin(LDAP *ld, LDAPMessage *e, const char *attr, size_t *len)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	unsigned char *p = NULL;

	if (v != NULL && v[0] != NULL) {
		p = xmalloc(v[0]->bv_len ? v[0]->bv_len : 1);
		memcpy(p, v[0]->bv_val, v[0]->bv_len);
		*len = v[0]->bv_len;
	}
	ldap_value_free_len(v);
	return p;
}

char *
dir_entry_dn(LDAP *ld, LDAPMessage *e)
{
	char *dn = ldap_get_dn(ld, e), *s;

	if (dn == NULL)
		return NULL;
	s = xstrdup(dn);
	ldap_memfree(dn);
	return s;
}

void
dir_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

bool
dir_strv_has(char **v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

const char *
dir_result_str(const struct dir_result *r, char *buf, size_t len)
{
	if (r->text && r->text[0])
		snprintf(buf, len, "%s: %s", ldap_err2string(r->code), r->text);
	else
		snprintf(buf, len, "%s", ldap_err2string(r->code));
	return buf;
}

/* ---- mods builder: every LDAPMod array provd sends is made here ------- */

struct dir_mods {
	LDAPMod *mods[DIR_MODS_MAX + 1];
	size_t   n;
};

struct dir_mods *
dir_mods_new(void)
{
	return xcalloc(1, sizeof(struct dir_mods));
}

static struct berval *
bv_new(const void *p, size_t n)
{
	struct berval *bv = xcalloc(1, sizeof(*bv));

	bv->bv_val = xmalloc(n + 1);
	memcpy(bv->bv_val, p, n);
	bv->bv_val[n] = '\0';
	bv->bv_len = n;
	return bv;
}

/* One modification of n values: values[i] is lens[i] bytes, or a string
 * when lens is NULL.  Every value is copied; past DIR_MODS_MAX is fatal. */
static void
mods_push(struct dir_mods *m, int op, const char *attr, const char *const *values,
          const size_t *lens, size_t n)
{
	LDAPMod *mod;
	size_t i;

	if (m->n >= DIR_MODS_MAX)
		fatalx("directory: more than %d modifications for %s (bug)", DIR_MODS_MAX, attr);
	mod = xcalloc(1, sizeof(*mod));
	mod->mod_type = xstrdup(attr);
	mod->mod_op = (op & ~LDAP_MOD_BVALUES) | LDAP_MOD_BVALUES;
	if (n > 0) {
		mod->mod_bvalues = xcalloc(n + 1, sizeof(*mod->mod_bvalues));
		for (i = 0; i < n; i++)
			mod->mod_bvalues[i] =
				bv_new(values[i], lens != NULL ? lens[i] : strlen(values[i]));
	}
	m->mods[m->n++] = mod;
}

void
dir_mods_addn(struct dir_mods *m, int op, const char *attr, const char *const *values, size_t n)
{
	mods_push(m, op, attr, values, NULL, n);
}

void
dir_mods_add(struct dir_mods *m, int op, const char *attr, const char *const *values)
{
	size_t n = 0;

	while (values != NULL && values[n] != NULL)
		n++;
	mods_push(m, op, attr, values, NULL, n);
}

void
dir_mods_add1(struct dir_mods *m, int op, const char *attr, const char *value)
{
	const char *v[] = { value, NULL };

	dir_mods_add(m, op, attr, value ? v : NULL);
}

void
dir_mods_add_bin(struct dir_mods *m, int op, const char *attr, const void *p, size_t n)
{
	const char *v[] = { p };

	mods_push(m, op, attr, v, &n, 1);
}

void
dir_mods_add_bin_take(struct dir_mods *m, int op, const char *attr, unsigned char *buf,
                      size_t n)
{
	LDAPMod *mod;
	struct berval *bv = xcalloc(1, sizeof(*bv));

	mods_push(m, op, attr, NULL, NULL, 0);
	mod = m->mods[m->n - 1];
	bv->bv_val = (char *)buf;
	bv->bv_len = n;
	mod->mod_bvalues = xcalloc(2, sizeof(*mod->mod_bvalues));
	mod->mod_bvalues[0] = bv;
}

/* The builder's copy of a caller's array (string or binary values), which
 * the op keeps until the directory has answered. */
static struct dir_mods *
mods_copy(LDAPMod **in)
{
	struct dir_mods *m = dir_mods_new();
	size_t i, j, n;

	for (i = 0; in[i] != NULL; i++) {
		const char **v;
		size_t *lens;
		bool bin = (in[i]->mod_op & LDAP_MOD_BVALUES) != 0;

		n = 0;
		if (bin)
			while (in[i]->mod_bvalues != NULL && in[i]->mod_bvalues[n] != NULL)
				n++;
		else
			while (in[i]->mod_values != NULL && in[i]->mod_values[n] != NULL)
				n++;
		v = xcalloc(n + 1, sizeof(*v));
		lens = xcalloc(n + 1, sizeof(*lens));
		for (j = 0; j < n; j++) {
			v[j] = bin ? in[i]->mod_bvalues[j]->bv_val : in[i]->mod_values[j];
			lens[j] = bin ? in[i]->mod_bvalues[j]->bv_len : strlen(v[j]);
		}
		mods_push(m, in[i]->mod_op, in[i]->mod_type, v, lens, n);
		free(v);
		free(lens);
	}
	return m;
}

LDAPMod **
dir_mods_get(struct dir_mods *m)
{
	m->mods[m->n] = NULL;
	return m->mods;
}

size_t
dir_mods_count(const struct dir_mods *m)
{
	return m->n;
}

void
dir_mods_free(struct dir_mods *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->mods[i]->mod_type);
		for (j = 0; m->mods[i]->mod_bvalues && m->mods[i]->mod_bvalues[j]; j++) {
			free(m->mods[i]->mod_bvalues[j]->bv_val);
			free(m->mods[i]->mod_bvalues[j]);
		}
		free(m->mods[i]->mod_bvalues);
		free(m->mods[i]);
	}
	free(m);
}
