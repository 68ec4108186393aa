/* control — the control socket and its clients. See control.h. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "provd.h"
#include "request.h"
#include "wire.h"

#define IN_MAX        (WIRE_MAX_FRAME + WIRE_HEADER + 64)
#define OUT_MAX       (64u << 20)     /* hard cap on queued replies */
#define OUT_HIGH      (256u << 10)    /* streaming handlers pause above this */
#define OUT_LOW       (64u << 10)     /* ... and resume below this */
#define SWEEP_MS      1000
#define MAX_CLIENTS   1024

struct client {
	struct control  *ctl;
	int              fd;
	struct peer      peer;
	struct buf       in, out;
	struct request  *req;        /* current request, or NULL */
	uint64_t         last_rx;    /* monotonic ms of the last byte received */
	bool             input_paused;
	bool             want_out;
	bool             closing;    /* close once out is flushed */
	bool             resume;     /* input unpaused: decode what is buffered */
	bool             congested;  /* out went above OUT_HIGH, not yet below OUT_LOW */
	struct client   *prev, *next;
};

struct control {
	struct provd   *pd;
	control_dispatch_fn *dispatch;   /* command_dispatch */
	int             fd;
	int             spare;       /* reserved descriptor for EMFILE */
	char           *path;
	bool            accepting;
	struct client  *clients;
	size_t          nclients;
	size_t          nactive;
	unsigned long   next_id;
	bool            resume_scheduled;
	struct timer   *sweep;
};

static void client_close(struct client *cl);
static struct buf *client_out(struct client *cl);
static void client_flush(struct client *cl);
static bool client_congested(const struct client *cl);
static void client_pause_input(struct client *cl, bool paused);
static void client_request_finished(struct client *cl);

/* What request.c may do with a client (see request.h). */
static const struct request_conn client_conn = {
	.out         = client_out,
	.flush       = client_flush,
	.congested   = client_congested,
	.pause_input = client_pause_input,
	.finished    = client_request_finished,
};
static void client_update_events(struct client *cl);
static void client_on_event(void *arg, int fd, uint32_t events);

/* ---- socket setup ---------------------------------------------------- */

int
control_open(struct control **out, const char *path, uid_t owner, gid_t group,
             char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;
	mode_t old;
	int fd = -1, probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);

	/* Refuse a second instance; replace a stale socket. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		snprintf(err, errlen, "%s: another provd is already running", path);
		return -1;
	}
	close(probe);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "unlink stale %s: %s", path, strerror(errno));
		return -1;
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) < 0 ||
	    ((owner != (uid_t)-1 || group != (gid_t)-1) && chown(path, owner, group) < 0)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (listen(fd, 128) < 0) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->fd = fd;
	c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*out = c;
	return 0;
}

/* ---- accepting ------------------------------------------------------- */

static size_t
clients_of(const struct control *c, uid_t uid)
{
	const struct client *cl;
	size_t n = 0;

	for (cl = c->clients; cl != NULL; cl = cl->next)
		if (cl->peer.uid == uid)
			n++;
	return n;
}

/* Refuse a connection with a STATUS frame, best effort, and close it. */
static void
refuse(int fd, int code, const char *msg)
{
	struct buf b;

	buf_init(&b, 4096);
	if (wire_put_status(&b, code, msg) == 0) {
		ssize_t n = write(fd, buf_head(&b), b.len);
		(void)n;
	}
	buf_free(&b);
	close(fd);
}

static void
on_accept(void *arg, int lfd, uint32_t events)
{
	struct control *c = arg;
	struct client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i;

	(void)events;
	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if ((errno == EMFILE || errno == ENFILE) && c->spare >= 0) {
				/* Use the spare descriptor to accept and drop one
				 * connection, so the listener does not spin. */
				log_warnx("control: out of file descriptors, refusing a client");
				close(c->spare);
				if ((fd = accept(lfd, NULL, NULL)) >= 0)
					close(fd);
				c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
				return;
			}
			log_warn("control: accept");
			return;
		}
		if (!c->accepting) {
			refuse(fd, ST_UNAVAILABLE, "provd is shutting down");
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_warn("control: SO_PEERCRED");
			close(fd);
			continue;
		}
		if (c->nclients >= MAX_CLIENTS) {
			log_warnx("control: %zu clients connected, refusing uid %u",
			          c->nclients, (unsigned)cred.uid);
			refuse(fd, ST_UNAVAILABLE, "too many clients connected");
			continue;
		}
		if (clients_of(c, cred.uid) >= c->pd->cfg.max_clients_per_uid) {
			log_warnx("control: uid %u already has %u connections, refusing",
			          (unsigned)cred.uid, c->pd->cfg.max_clients_per_uid);
			refuse(fd, ST_PERMISSION, "too many connections from this user");
			continue;
		}
		if ((cl = calloc(1, sizeof(*cl))) == NULL) {
			close(fd);
			continue;
		}
		cl->ctl = c;
		cl->fd = fd;
		buf_init(&cl->in, IN_MAX);
		buf_init(&cl->out, OUT_MAX);
		cl->last_rx = loop_now_ms();
		peer_resolve(&cl->peer, cred.uid, cred.gid, cred.pid, &c->pd->cfg);
		if (loop_add_fd(c->pd->loop, fd, EPOLLIN, client_on_event, cl) < 0) {
			log_warn("control: epoll");
			buf_free(&cl->in);
			buf_free(&cl->out);
			free(cl);
			close(fd);
			continue;
		}
		cl->next = c->clients;
		if (c->clients)
			c->clients->prev = cl;
		c->clients = cl;
		c->nclients++;
		log_debug("control: client fd %d uid %u (%s) pid %d", fd,
		          (unsigned)cred.uid, cl->peer.name, (int)cred.pid);
	}
}

/* ---- per-client I/O -------------------------------------------------- */

static struct buf *
client_out(struct client *cl)
{
	return &cl->out;
}

static bool
client_congested(const struct client *cl)
{
	return cl->congested || cl->out.len > OUT_HIGH;
}

static bool client_read(struct client *cl);
static bool client_close_if_done(struct client *cl);

/* Frames already buffered when input was paused produce no new epoll event:
 * decode them on the next turn of the loop. */
static void
resume_clients(void *arg)
{
	struct control *c = arg;
	struct client *cl, *next;

	c->resume_scheduled = false;
	for (cl = c->clients; cl != NULL; cl = next) {
		next = cl->next;
		if (cl->resume) {
			cl->resume = false;
			if (!cl->input_paused && !cl->closing &&
			    client_read(cl))
				client_close_if_done(cl);
		}
	}
}

static void
client_pause_input(struct client *cl, bool paused)
{
	struct control *c = cl->ctl;

	cl->input_paused = paused;
	client_update_events(cl);
	if (!paused && cl->in.len > 0) {
		cl->resume = true;
		if (!c->resume_scheduled && loop_defer(c->pd->loop, resume_clients, c) == 0)
			c->resume_scheduled = true;
	}
}

static void
client_update_events(struct client *cl)
{
	uint32_t ev = 0;

	if (!cl->input_paused && !cl->closing)
		ev |= EPOLLIN;
	if (cl->out.len > 0)
		ev |= EPOLLOUT;
	loop_mod_fd(cl->ctl->pd->loop, cl->fd, ev);
}

static void
client_flush(struct client *cl)
{
	ssize_t n;

	while (cl->out.len > 0) {
		n = send(cl->fd, buf_head(&cl->out), cl->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* Peer gone: drop what is queued; the read side will see
			 * EOF or error and close. */
			buf_reset(&cl->out);
			cl->closing = true;
			break;
		}
		buf_consume(&cl->out, (size_t)n);
	}
	if (cl->out.len == 0)
		buf_free(&cl->out), buf_init(&cl->out, OUT_MAX);
	client_update_events(cl);
	/* Hysteresis: once above the high mark, a streaming handler waits
	 * until the queue has drained below the low mark, however many
	 * flushes that takes. */
	if (cl->out.len > OUT_HIGH) {
		cl->congested = true;
	} else if (cl->congested && cl->out.len < OUT_LOW) {
		cl->congested = false;
		if (cl->req != NULL && cl->req->on_drain != NULL)
			cl->req->on_drain(cl->req);
	}
}

static void
client_request_finished(struct client *cl)
{
	cl->req = NULL;
	cl->ctl->nactive--;
	cl->last_rx = loop_now_ms();
	if (cl->input_paused)
		client_pause_input(cl, false);
	client_flush(cl);
}

static void
protocol_error(struct client *cl, int code, const char *why)
{
	char msg[300];

	log_warnx("control: uid %u: %s; closing", (unsigned)cl->peer.uid, why);
	snprintf(msg, sizeof(msg), "protocol error: %s", why);
	wire_put_status(&cl->out, code, msg);
	cl->closing = true;
	client_flush(cl);
}

static void
start_request(struct client *cl, struct wire_msg *msg)
{
	struct control *c = cl->ctl;
	struct request *req = calloc(1, sizeof(*req));

	if (req == NULL) {
		wire_msg_free(msg);
		protocol_error(cl, ST_INTERNAL, "out of memory");
		return;
	}
	req->pd = c->pd;
	req->client = cl;
	req->conn = &client_conn;
	req->msg = *msg;
	req->peer = cl->peer;
	req->id = ++c->next_id;
	req->started_ms = loop_now_ms();
	cl->req = req;
	c->nactive++;
	c->pd->requests++;
	c->dispatch(req);
}

/* Handle one decoded frame.  Returns false if the client was closed. */
static bool
handle_frame(struct client *cl, struct wire_msg *msg)
{
	struct request *req = cl->req;

	switch (msg->type) {
	case WIRE_REQUEST:
		if (req != NULL) {
			wire_msg_free(msg);
			protocol_error(cl, ST_PROTOCOL, "a request is already running on this connection");
			return false;
		}
		if (!cl->ctl->accepting) {
			wire_msg_free(msg);
			protocol_error(cl, ST_UNAVAILABLE, "provd is shutting down");
			return false;
		}
		start_request(cl, msg);
		return true;
	case WIRE_DATA:
	case WIRE_END:
		if (req != NULL && req->done) {
			/* Finished, its STATUS waiting for the audit record to
			 * reach the disk: input still in flight is dropped. */
			wire_msg_free(msg);
			return true;
		}
		if (req == NULL || req->on_data == NULL) {
			wire_msg_free(msg);
			protocol_error(cl, ST_PROTOCOL, "streamed data without a streaming request");
			return false;
		}
		if (msg->type == WIRE_DATA) {
			if (msg->nfields != 1) {
				wire_msg_free(msg);
				protocol_error(cl, ST_PROTOCOL, "DATA frame must have one field");
				return false;
			}
			req->on_data(req, msg->f[0].ptr, msg->f[0].len);
		} else {
			request_fn *on_end = req->on_end;

			req->on_data = NULL;    /* no more input accepted */
			if (on_end)
				on_end(req);
		}
		wire_msg_free(msg);
		return true;
	default:
		wire_msg_free(msg);
		protocol_error(cl, ST_PROTOCOL, "unexpected frame type from a client");
		return false;
	}
}

/* Returns false if the client was closed (and freed). */
static bool
client_read(struct client *cl)
{
	char err[256];
	struct wire_msg msg;
	size_t used;
	ssize_t n;
	char *dst;

	for (;;) {
		/* Decode whatever is complete before reading more: a handler may
		 * pause input between frames. */
		while (!cl->input_paused && !cl->closing) {
			enum wire_decode rc = wire_decode(buf_head(&cl->in), cl->in.len,
			                                  &msg, &used, err, sizeof(err));
			if (rc == WIRE_NEED_MORE)
				break;
			if (rc != WIRE_FRAME) {
				protocol_error(cl, ST_PROTOCOL, err);
				return true;
			}
			/* Frames may carry secrets: leave no copy behind. */
			explicit_bzero(buf_head(&cl->in), used);
			buf_consume(&cl->in, used);
			if (!handle_frame(cl, &msg))
				return true;
		}
		if (cl->input_paused || cl->closing)
			return true;
		if ((dst = buf_reserve(&cl->in, 65536)) == NULL &&
		    (dst = buf_reserve(&cl->in, IN_MAX - cl->in.len)) == NULL) {
			protocol_error(cl, ST_PROTOCOL, "frame too large");
			return true;
		}
		n = recv(cl->fd, dst, cl->in.len + 65536 <= IN_MAX ? 65536 : IN_MAX - cl->in.len, 0);
		if (n == 0) {
			client_close(cl);
			return false;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			client_close(cl);
			return false;
		}
		buf_commit(&cl->in, (size_t)n);
		cl->last_rx = loop_now_ms();
	}
}

/* A client marked closing whose last frame has left is closed now, not at
 * the next sweep: a refused connection must not linger (and count against
 * the per-uid cap) for client_timeout.  What the client still sends is
 * read and dropped first, so that closing with unread input does not reset
 * the connection before the client has read the STATUS.  Returns true if
 * the client was closed. */
static bool
client_close_if_done(struct client *cl)
{
	char sink[4096];
	int i;

	if (!cl->closing || cl->out.len > 0 || cl->req != NULL)
		return false;
	shutdown(cl->fd, SHUT_WR);
	for (i = 0; i < 256 && recv(cl->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	client_close(cl);
	return true;
}

static void
client_on_event(void *arg, int fd, uint32_t events)
{
	struct client *cl = arg;

	(void)fd;
	if (events & EPOLLOUT) {
		client_flush(cl);
		if (client_close_if_done(cl))
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (cl->closing) {
			if (events & (EPOLLHUP | EPOLLERR))
				client_close(cl);
			return;
		}
		if (client_read(cl))
			client_close_if_done(cl);
	}
}

static void
client_close(struct client *cl)
{
	struct control *c = cl->ctl;
	struct request *req = cl->req;

	if (req != NULL) {
		/* The request outlives its client; tell the handler. */
		req->client = NULL;
		cl->req = NULL;
		c->nactive--;
		if (req->on_cancel)
			req->on_cancel(req);
	}
	loop_del_fd(c->pd->loop, cl->fd);
	close(cl->fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->nclients--;
	buf_free(&cl->in);
	buf_free(&cl->out);
	free(cl);
}

/* Close clients that stay silent: connected without a request, in the
 * middle of a frame, or owing streamed input. */
static void
sweep(void *arg)
{
	struct control *c = arg;
	struct client *cl, *next;
	uint64_t now = loop_now_ms(),
	         limit = (uint64_t)c->pd->cfg.client_timeout * 1000u;

	c->sweep = loop_timer(c->pd->loop, SWEEP_MS, sweep, c);
	for (cl = c->clients; cl != NULL; cl = next) {
		bool waiting_for_client;

		next = cl->next;
		waiting_for_client = cl->req == NULL ||
		                     (cl->req->on_data != NULL && !cl->input_paused) ||
		                     cl->in.len > 0;
		if (cl->closing && now - cl->last_rx > limit) {
			client_close(cl);
			continue;
		}
		if (waiting_for_client && !cl->closing && now - cl->last_rx > limit) {
			log_info("control: closing idle client uid %u (%s)",
			         (unsigned)cl->peer.uid, cl->peer.name);
			if (cl->req == NULL) {
				wire_put_status(&cl->out, ST_PROTOCOL, "timed out waiting for a request");
				cl->closing = true;
				client_flush(cl);
				if (cl->out.len == 0)
					client_close(cl);
			} else {
				client_close(cl);
			}
		}
	}
}

int
control_start(struct control *c, struct provd *pd, control_dispatch_fn *dispatch)
{
	c->pd = pd;
	c->dispatch = dispatch;
	c->accepting = true;
	if (loop_add_fd(pd->loop, c->fd, EPOLLIN, on_accept, c) < 0)
		return -1;
	c->sweep = loop_timer(pd->loop, SWEEP_MS, sweep, c);
	return 0;
}

void
control_stop_accepting(struct control *c)
{
	c->accepting = false;
}

size_t
control_active_requests(const struct control *c)
{
	return c->nactive;
}

size_t
control_clients(const struct control *c)
{
	return c->nclients;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	while (c->clients != NULL)
		client_close(c->clients);
	if (c->pd != NULL) {
		loop_del_fd(c->pd->loop, c->fd);
		if (c->sweep)
			loop_timer_cancel(c->pd->loop, c->sweep);
	}
	close(c->fd);
	if (c->spare >= 0)
		close(c->spare);
	unlink(c->path);
	free(c->path);
	free(c);
}
