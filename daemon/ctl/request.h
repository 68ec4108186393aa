/*
 * request — one control command in flight, and the reply API handlers use.
 *
 * control.c decodes a REQUEST frame, command.c checks it against the command
 * table (existence, arity, options, role) and calls the handler with a
 * request whose arguments are already validated.  The handler replies with
 * any number of records and finishes with exactly one request_done(); after
 * that the request is freed and must not be touched.
 *
 * If the client disconnects first, the request lives on until the handler
 * calls request_done() (an operation already sent to the directory still
 * completes and is audited); replies are then discarded.  Handlers that
 * stream long replies or consume streamed input register on_cancel to stop
 * early.
 */
#ifndef PROVD_REQUEST_H
#define PROVD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "commands.h"
#include "peer.h"
#include "wire.h"

struct client;
struct provd;
struct timer;

struct request;
typedef void request_fn(struct request *req);
typedef void request_data_fn(struct request *req, const char *p, size_t n);
/* The bytes queued before a request_when_written reached the socket
 * (written true), or never will (the client went away first). */
typedef void request_written_fn(void *ctx, bool written);

/* The connection a request came in on, as the reply API reaches it.  The
 * control socket (control.c, which creates requests) fills req->conn in;
 * request.c calls only these, with req->client. */
struct request_conn {
	struct buf *(*out)(struct client *cl);          /* the output queue */
	void (*flush)(struct client *cl);
	bool (*congested)(const struct client *cl);
	void (*pause_input)(struct client *cl, bool paused);
	void (*finished)(struct client *cl);            /* its STATUS is queued */
	/* Its queued replies reached the hard cap (it does not read): true,
	 * and it is disconnected on the next turn of the loop with one log
	 * line; further replies to it are dropped. */
	bool (*overflowed)(struct client *cl);
	/* See request_when_written. */
	int (*when_written)(struct client *cl, request_written_fn *fn, void *ctx);
};

struct request {
	struct provd          *pd;
	struct client         *client;    /* NULL once the client has gone */
	const struct request_conn *conn;  /* how to reach client */
	const struct cmd_spec *spec;
	struct cmd_args        args;
	struct wire_msg        msg;       /* owns the strings args point into */
	struct peer            peer;
	unsigned long          id;        /* sequence number, for logs */
	uint64_t               started_ms;
	void                  *state;     /* the handler's own */
	request_fn            *on_cancel; /* client went away (optional) */
	request_fn            *on_drain;  /* output below the low mark (optional;
	                                     request_wait_drain sets it) */
	request_data_fn       *on_data;   /* streamed input chunk (CMD_STREAM_INPUT) */
	request_fn            *on_end;    /* end of streamed input */
	char                   audit_note[256]; /* extra audit text, e.g. "login=annv" */
	request_fn            *on_resume; /* request_wait_drain's */
	struct timer          *drain_timer;
	bool                   done;
	bool                   scope_checked; /* request_may asked about a unit */
	int                    status;    /* set by request_done */
	char                   status_msg[1024];
};

/* A record under construction: rec_begin, rec_kv..., rec_end. */
struct rec {
	struct request *req;
	struct wire_enc enc;
	struct buf     *out;
};

void rec_begin(struct rec *r, struct request *req);
void rec_begin_type(struct rec *r, struct request *req, enum wire_type type);
void rec_kv(struct rec *r, const char *key, const char *value);
void rec_kvn(struct rec *r, const char *key, const char *value, size_t n);
void rec_kvf(struct rec *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rec_end(struct rec *r);
/* rec_end without sending: the record waits in the output queue for the
 * next rec_end, request_flush or request_done (a handler streaming many
 * records sends them a bundle at a time, one send() instead of one a
 * record). */
void rec_end_held(struct rec *r);
void request_flush(struct request *req);
/*
 * Call fn(ctx, written) once every byte queued to req's client so far has
 * been written to its socket (written true), or once the connection ends
 * with some of them unsent (false: dropped, the client gone or cut off for
 * not reading).  The call outlives the request (a reply's last bytes may
 * go after its STATUS).  Returns 0 (fn will be called, from the loop,
 * never from here), 1 (nothing is left unsent: fn is not called), or -1
 * (the client is gone or its replies are being dropped: fn is not called).
 */
int request_when_written(struct request *req, request_written_fn *fn, void *ctx);

/* One record from key/value pairs, NULL-terminated. NULL values are skipped. */
void reply_kv(struct request *req, const char *key, ...) __attribute__((sentinel));

/* Finish: audit, then send STATUS(code, message) and free the request — at
 * once, or for a writing command once its audit record is on disk (the
 * request then lives on, detached from its handler). */
void request_done(struct request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The audit step of request_done, wired at start-up (main.c: the audit
 * journal).  Returns 0 when the STATUS may go out now; 1 when it must wait:
 * durable(ctx) is then called exactly once, later.  With no hook set the
 * STATUS goes out at once. */
typedef void request_durable_fn(void *ctx);
typedef int request_audit_fn(const struct request *req, int code, const char *msg,
                             request_durable_fn *durable, void *ctx);
void request_set_audit(request_audit_fn *fn);

/* True while the client's output queue is above the high-water mark; a
 * streaming handler then waits for on_drain before producing more. */
bool request_congested(const struct request *req);

/*
 * Wait for the client to take its output: resume(req) runs once, from the
 * loop, when the output queue is below the low-water mark — on the drain
 * (on_drain) or on one of the rechecks every REQUEST_DRAIN_RECHECK_MS (a
 * client that drains in small steps never crosses from the high mark to the
 * low one in one flush).  The handler waits for nothing else meanwhile;
 * request_drain_cancel or request_done ends the wait.  A streaming handler
 * calls this when request_congested() is true.
 */
#define REQUEST_DRAIN_RECHECK_MS 20
void request_wait_drain(struct request *req, request_fn *resume);
void request_drain_cancel(struct request *req);

/* Pause / resume reading streamed input from the client (backpressure). */
void request_pause_input(struct request *req, bool paused);

/*
 * The one permission rule (role + scope).  Does the caller hold one of
 * `roles` over unit `code`?  True when it holds one of them over the whole
 * province; otherwise through a grant scoped to `code` or one of its
 * ancestors, and only if the running command's scope (req->spec->scope,
 * see commands.h) lets scoped grants act at all: never for SCOPE_NONE and
 * SCOPE_CA; for SCOPE_READ any scoped grant of one of the roles reads the
 * whole province, whatever code is.  code NULL (or "") means the whole
 * province.  Dispatch asks it for every command before the handler runs
 * (with the unit of a SCOPE_UNIT command); handlers of SCOPE_ACCOUNT,
 * SCOPE_CERT and SCOPE_EACH commands ask it once they know the target's
 * unit.  Each call with a unit is remembered on req (req->scope_checked):
 * a writing SCOPE_ACCOUNT or SCOPE_CERT command that succeeds for a caller
 * without a province-wide grant and never asked is a bug, and aborts
 * (assert) in request_done.
 */
bool request_may(struct request *req, unsigned roles, const char *code);

/* Finish req with ST_PERMISSION, naming the caller, the roles it lacks and
 * over what ("unit CODE", "account LOGIN (unit CODE)", ...: `what`). */
void request_refuse(struct request *req, unsigned roles, const char *what);

#endif
