/*
 * control — the control socket: listening, accepting, framing, peer
 * credentials, per-uid limits and timeouts.  Decoded requests go to
 * the dispatch function given to
 * control_start (command_dispatch); replies come back through request.c.
 *
 * Recipe: refuse a second instance (connect first), unlink a stale
 * socket, umask around bind(), mode 0660, read SO_PEERCRED on accept, cap
 * connections per uid, keep a spare descriptor for EMFILE.
 */
#ifndef PROVD_CONTROL_H
#define PROVD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct provd;
struct control;
struct request;

/* Create and bind the socket (as root, before dropping privileges).
 * owner/group: chown the socket to these (-1 = leave).  0 or -1 + err. */
int control_open(struct control **out, const char *path, uid_t owner, gid_t group,
                 char *err, size_t errlen);

/* Start accepting on pd->loop; each decoded request goes to dispatch (the
 * command table, command_dispatch), which finishes it with request_done.
 * 0 or -1. */
typedef void control_dispatch_fn(struct request *req);
int control_start(struct control *c, struct provd *pd, control_dispatch_fn *dispatch);

/* Stop accepting new connections (SIGTERM); in-flight requests finish. */
void control_stop_accepting(struct control *c);

/* Number of requests in flight (for a clean shutdown). */
size_t control_active_requests(const struct control *c);
size_t control_clients(const struct control *c);

/* Close everything, unlink the socket. */
void control_free(struct control *c);

#endif
