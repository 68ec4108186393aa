/*
 * control — the control socket: listening, accepting, framing, peer
 * credentials, per-uid limits and timeouts.  Decoded requests go to
 * command_dispatch(); replies come back through request.c.
 *
 * Recipe (STYLE.md): refuse a second instance (connect first), unlink a stale
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
struct client;
struct request;
struct buf;

/* Create and bind the socket (as root, before dropping privileges).
 * owner/group: chown the socket to these (-1 = leave).  0 or -1 + err. */
int control_open(struct control **out, const char *path, uid_t owner, gid_t group,
                 char *err, size_t errlen);

/* Start accepting on pd->loop.  0 or -1. */
int control_start(struct control *c, struct provd *pd);

/* Stop accepting new connections (SIGTERM); in-flight requests finish. */
void control_stop_accepting(struct control *c);

/* Number of requests in flight (for a clean shutdown). */
size_t control_active_requests(const struct control *c);
size_t control_clients(const struct control *c);

/* Close everything, unlink the socket. */
void control_free(struct control *c);

/* For request.c: the client's output queue and flow control. */
struct buf *client_out(struct client *cl);
void client_flush(struct client *cl);
bool client_congested(const struct client *cl);
void client_pause_input(struct client *cl, bool paused);
/* The client's queued replies reached the hard cap (it does not read):
 * true, and the client is then disconnected on the next turn of the loop
 * with one log line; its further replies are dropped. */
bool client_overflowed(struct client *cl);
/* The request on this client finished (its STATUS is queued). */
void client_request_finished(struct client *cl);

#endif
