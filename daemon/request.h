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
#include "wire.h"

struct client;
struct provd;

#define PEER_MAX_SCOPES 8

struct peer {
	uid_t    uid;
	gid_t    gid;
	pid_t    pid;
	char     name[64];       /* user name, or the uid as text */
	unsigned roles;          /* roles held over the whole province */
	struct {
		unsigned role;
		char     unit[64];   /* subtree root */
	} scope[PEER_MAX_SCOPES];
	size_t   nscopes;
};

struct request;
typedef void request_fn(struct request *req);
typedef void request_data_fn(struct request *req, const char *p, size_t n);

struct request {
	struct provd          *pd;
	struct client         *client;    /* NULL once the client has gone */
	const struct cmd_spec *spec;
	struct cmd_args        args;
	struct wire_msg        msg;       /* owns the strings args point into */
	struct peer            peer;
	unsigned long          id;        /* sequence number, for logs */
	uint64_t               started_ms;
	void                  *state;     /* the handler's own */
	request_fn            *on_cancel; /* client went away (optional) */
	request_fn            *on_drain;  /* output below the low mark (optional) */
	request_data_fn       *on_data;   /* streamed input chunk (CMD_STREAM_INPUT) */
	request_fn            *on_end;    /* end of streamed input */
	char                   audit_note[256]; /* extra audit text, e.g. "login=annv" */
	bool                   done;
	bool                   scope_checked; /* request_may asked about a unit */
	int                    status;    /* set by request_done */
	char                   status_msg[1024];
};

/* A record under construction: request_rec_begin, _kv..., _end. */
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

/* One record from key/value pairs, NULL-terminated. NULL values are skipped. */
void reply_kv(struct request *req, const char *key, ...) __attribute__((sentinel));

/* Finish: audit, then send STATUS(code, message) and free the request — at
 * once, or for a writing command once its audit record is on disk (the
 * request then lives on, detached from its handler). */
void request_done(struct request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True while the client's output queue is above the high-water mark; a
 * streaming handler then waits for on_drain before producing more. */
bool request_congested(const struct request *req);

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
