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
#include <sys/queue.h>
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
#include "xmalloc.h"

#define IN_MAX        (WIRE_MAX_FRAME + WIRE_HEADER + 64)
#define OUT_MAX       (64u << 20)     /* hard cap on queued replies */
#define OUT_HIGH      (256u << 10)    /* streaming handlers pause above this */
#define OUT_LOW       (64u << 10)     /* ... and resume below this */
#define SWEEP_MS      1000
#define MAX_CLIENTS   1024
/* Fair scheduling.  A connection has at most one request in flight
 * (CLIENT_MAX_INFLIGHT; the protocol is request/reply): while it runs, or
 * while the connection's unread replies are above OUT_HIGH, nothing more is
 * read from it (streamed input of the running request aside).  Per turn of
 * the loop a connection starts at most one request, or has at most
 * FRAMES_PER_TURN frames of streamed input decoded, and gets at most
 * READS_PER_TURN reads; what is left waits for the next turn, so every
 * connection is served in turn however much one of them has pipelined.
 * And one uid starts at most one request per turn, however many
 * connections it holds: the share is the caller's, not the connection's
 * (32 connections of one user get what one connection of another gets). */
#define CLIENT_MAX_INFLIGHT 1
#define FRAMES_PER_TURN     4
#define READS_PER_TURN      2
#define TURN_UIDS           64        /* uids tracked per turn (more: no limit) */
#define LOG_BURST           10        /* client-provoked log lines a second */

/* A request_when_written: fn once out_sent reaches upto. */
struct out_watch {
	uint64_t             upto;
	request_written_fn  *fn;
	void                *ctx;
	STAILQ_ENTRY(out_watch) entry;
};
STAILQ_HEAD(out_watch_list, out_watch);

struct client {
	struct control  *ctl;
	int              fd;
	struct peer      peer;
	struct buf       in, out;
	struct request  *req;        /* current request, or NULL */
	uint64_t         idle_since;  /* connected, or its last reply finished */
	uint64_t         frame_since; /* first byte of the partial frame in `in` */
	uint64_t         last_rx;     /* last byte received (streamed input) */
	uint64_t         out_since;   /* replies queued above OUT_LOW since (0: not) */
	uint64_t         out_sent;    /* bytes written to the socket, ever */
	struct out_watch_list watches; /* by upto, ascending */
	uint64_t         closing_since;
	bool             partial;     /* `in` ends in an incomplete frame */
	bool             input_paused;
	bool             closing;    /* close once out is flushed */
	bool             resume;     /* has buffered work for the next turn */
	bool             overflow;   /* reply cap hit: being disconnected */
	bool             congested;  /* out went above OUT_HIGH, not yet below OUT_LOW */
	bool             out_lost;   /* the peer is gone: what is queued goes nowhere */
	uint32_t         events;     /* what the loop watches for now */
	TAILQ_ENTRY(client) entry;
};
TAILQ_HEAD(client_list, client);

struct control {
	struct provd   *pd;
	control_dispatch_fn *dispatch;   /* command_dispatch */
	int             fd;
	int             spare;       /* reserved descriptor for EMFILE */
	char           *path;
	bool            accepting;
	struct client_list clients;  /* served in this order; rotated each turn */
	size_t          nclients;
	size_t          nactive;
	unsigned long   next_id;
	struct timer   *turn;        /* next turn for clients with buffered work */
	uid_t           turn_uid[TURN_UIDS];  /* uids that started a request */
	size_t          nturn_uids;           /* ... this turn */
	struct timer   *sweep;
	struct log_rate lr_accept, lr_proto, lr_close;
};

static void client_close(struct client *cl);
static struct buf *client_out(struct client *cl);
static void client_flush(struct client *cl);
static bool client_congested(const struct client *cl);
static void client_pause_input(struct client *cl, bool paused);
static void client_request_finished(struct client *cl);
static bool client_overflowed(struct client *cl);
static int client_when_written(struct client *cl, request_written_fn *fn, void *ctx);

/* What request.c may do with a client (see request.h). */
static const struct request_conn client_conn = {
	.out         = client_out,
	.flush       = client_flush,
	.congested   = client_congested,
	.pause_input = client_pause_input,
	.finished    = client_request_finished,
	.overflowed  = client_overflowed,
	.when_written = client_when_written,
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
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	TAILQ_INIT(&c->clients);
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

	TAILQ_FOREACH(cl, &c->clients, entry)
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
			unsigned long held;

			if (log_rate_allow(&c->lr_accept, LOG_BURST, &held))
				log_warnx("control: %zu clients connected, refusing uid %u "
				          "(%lu more such lines suppressed)",
				          c->nclients, (unsigned)cred.uid, held);
			refuse(fd, ST_UNAVAILABLE, "too many clients connected");
			continue;
		}
		if (clients_of(c, cred.uid) >= c->pd->cfg.max_clients_per_uid) {
			unsigned long held;

			if (log_rate_allow(&c->lr_accept, LOG_BURST, &held))
				log_warnx("control: uid %u already has %u connections, refusing "
				          "(%lu more such lines suppressed)", (unsigned)cred.uid,
				          c->pd->cfg.max_clients_per_uid, held);
			refuse(fd, ST_PERMISSION, "too many connections from this user");
			continue;
		}
		cl = xcalloc(1, sizeof(*cl));
		cl->ctl = c;
		cl->fd = fd;
		STAILQ_INIT(&cl->watches);
		buf_init(&cl->in, IN_MAX);
		buf_init(&cl->out, OUT_MAX);
		cl->idle_since = cl->last_rx = loop_now_ms();
		peer_resolve(&cl->peer, cred.uid, cred.gid, cred.pid, &c->pd->cfg);
		if (loop_add_fd(c->pd->loop, fd, EPOLLIN, client_on_event, cl) < 0) {
			log_warn("control: epoll");
			buf_free(&cl->in);
			buf_free(&cl->out);
			free(cl);
			close(fd);
			continue;
		}
		cl->events = EPOLLIN;
		TAILQ_INSERT_HEAD(&c->clients, cl, entry);
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

static bool client_read(struct client *cl, unsigned *budget);
static bool client_close_if_done(struct client *cl);

/* May the connection give us more input now?  Only while it is under its
 * in-flight limit (or its running request takes streamed input), and while
 * its unread replies are below the high mark. */
static bool
client_wants_input(const struct client *cl)
{
	const struct request *req = cl->req;

	if (cl->closing || cl->input_paused || cl->out.len > OUT_HIGH)
		return false;
	if (req == NULL)
		return true;
	/* A streaming request: its DATA, or (once it is done and waits for
	 * its audit record) the rest of its input, which is dropped. */
	return req->on_data != NULL ||
	       (req->done && req->spec != NULL && (req->spec->flags & CMD_STREAM_INPUT));
}

static void run_turn(void *arg);

/* May cl's uid start a request in this turn?  Notes that it does. */
static bool
uid_turn_take(struct client *cl)
{
	struct control *c = cl->ctl;
	size_t i;

	for (i = 0; i < c->nturn_uids; i++)
		if (c->turn_uid[i] == cl->peer.uid)
			return false;
	if (c->nturn_uids < TURN_UIDS)
		c->turn_uid[c->nturn_uids++] = cl->peer.uid;
	return true;
}

/* Give cl another turn after the next epoll_wait: a timer, not a deferred
 * call, so the other clients' events are served first. */
static void
schedule_turn(struct client *cl)
{
	struct control *c = cl->ctl;

	cl->resume = true;
	if (c->turn == NULL)
		c->turn = loop_timer(c->pd->loop, 0, run_turn, c);
}

/* One turn for every client with buffered work, in list order; the list
 * is rotated first, so that the one served first this turn is served last
 * next turn. */
static void
run_turn(void *arg)
{
	struct control *c = arg;
	struct client *cl, *next, *first = TAILQ_FIRST(&c->clients);

	c->turn = NULL;
	if (first != NULL && TAILQ_NEXT(first, entry) != NULL) {
		TAILQ_REMOVE(&c->clients, first, entry);
		TAILQ_INSERT_TAIL(&c->clients, first, entry);
	}
	for (cl = TAILQ_FIRST(&c->clients); cl != NULL; cl = next) {
		unsigned budget = FRAMES_PER_TURN;

		next = TAILQ_NEXT(cl, entry);
		if (!cl->resume)
			continue;
		cl->resume = false;
		if (cl->overflow) {
			client_close(cl);
			continue;
		}
		if (client_wants_input(cl) && client_read(cl, &budget))
			client_close_if_done(cl);
	}
	/* The turn ends here: events of the next one start afresh. */
	c->nturn_uids = 0;
}

static void
client_pause_input(struct client *cl, bool paused)
{
	cl->input_paused = paused;
	client_update_events(cl);
	if (!paused && cl->in.len > 0)
		schedule_turn(cl);
}

static void
client_update_events(struct client *cl)
{
	uint32_t ev = 0;

	if (client_wants_input(cl))
		ev |= EPOLLIN;
	if (cl->out.len > 0)
		ev |= EPOLLOUT;
	/* A streamed reply flushes once per bundle of records: no system call
	 * when nothing changes. */
	if (ev == cl->events)
		return;
	/* provd reads again (after a pause of the running request, or a
	 * backlog of replies): the client's clocks for a frame and for owed
	 * input start now.  Time provd spent not reading is not the
	 * client's delay; counting it closed a batch that had waited on a
	 * slow directory for longer than client_timeout as "streamed input
	 * stopped". */
	if ((ev & EPOLLIN) && !(cl->events & EPOLLIN)) {
		uint64_t now = loop_now_ms();

		cl->last_rx = now;
		if (cl->partial)
			cl->frame_since = now;
	}
	cl->events = ev;
	loop_mod_fd(cl->ctl->pd->loop, cl->fd, ev);
}

static int
client_when_written(struct client *cl, request_written_fn *fn, void *ctx)
{
	struct out_watch *w;

	if (cl->overflow || cl->out_lost)
		return -1;
	if (cl->out.len == 0)
		return 1;
	w = xcalloc(1, sizeof(*w));
	w->upto = cl->out_sent + cl->out.len;
	w->fn = fn;
	w->ctx = ctx;
	STAILQ_INSERT_TAIL(&cl->watches, w, entry);
	return 0;
}

/* Tell the watches whose bytes are all written; with lost, every one left
 * (the queue was dropped or the connection ends). */
static void
fire_watches(struct client *cl, bool lost)
{
	struct out_watch *w;

	while ((w = STAILQ_FIRST(&cl->watches)) != NULL && (lost || w->upto <= cl->out_sent)) {
		STAILQ_REMOVE_HEAD(&cl->watches, entry);
		w->fn(w->ctx, !lost);
		free(w);
	}
}

static void
client_flush(struct client *cl)
{
	bool was_full = cl->out.len > OUT_HIGH;
	bool dropped = false;
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
			cl->out_lost = dropped = true;
			break;
		}
		buf_consume(&cl->out, (size_t)n);
		cl->out_sent += (uint64_t)n;
	}
	fire_watches(cl, dropped);
	if (cl->out.len == 0)
		buf_free(&cl->out), buf_init(&cl->out, OUT_MAX);
	/* A reply must drain: the clock runs from the moment the queue went
	 * above the low mark, not from the client's last read. */
	if (cl->out.len < OUT_LOW)
		cl->out_since = 0;
	else if (cl->out_since == 0)
		cl->out_since = loop_now_ms();
	client_update_events(cl);
	if (was_full && cl->out.len <= OUT_HIGH && cl->in.len > 0)
		schedule_turn(cl);
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

static bool
client_overflowed(struct client *cl)
{
	struct control *c = cl->ctl;
	unsigned long held;

	if (cl->overflow)
		return true;
	if (cl->out.len + WIRE_MAX_FRAME < OUT_MAX)
		return false;
	/* Its replies reached the hard cap: the client does not read.  Say so
	 * once, drop the queue and disconnect it on the next turn (not here:
	 * a handler is on the stack). */
	if (log_rate_allow(&c->lr_close, LOG_BURST, &held))
		log_warnx("control: uid %u (%s) does not read its replies (%u MiB queued); "
		          "disconnecting it (%lu more such lines suppressed)",
		          (unsigned)cl->peer.uid, cl->peer.name, OUT_MAX >> 20, held);
	cl->overflow = true;
	cl->closing = true;
	if (cl->closing_since == 0)
		cl->closing_since = loop_now_ms();
	fire_watches(cl, true);
	buf_free(&cl->out);
	buf_init(&cl->out, OUT_MAX);
	cl->out_since = 0;
	client_update_events(cl);
	schedule_turn(cl);
	return true;
}

static void
client_request_finished(struct client *cl)
{
	cl->req = NULL;
	cl->ctl->nactive--;
	cl->idle_since = cl->last_rx = loop_now_ms();
	if (cl->input_paused)
		cl->input_paused = false;
	client_flush(cl);
	if (cl->in.len > 0)
		schedule_turn(cl);
}

static void
mark_closing(struct client *cl)
{
	cl->closing = true;
	if (cl->closing_since == 0)
		cl->closing_since = loop_now_ms();
}

static void
protocol_error(struct client *cl, int code, const char *why)
{
	struct control *c = cl->ctl;
	unsigned long held;
	char msg[300];

	if (log_rate_allow(&c->lr_proto, LOG_BURST, &held))
		log_warnx("control: uid %u: %s; closing (%lu more such lines suppressed)",
		          (unsigned)cl->peer.uid, why, held);
	snprintf(msg, sizeof(msg), "protocol error: %s", why);
	wire_put_status(&cl->out, code, msg);
	mark_closing(cl);
	client_flush(cl);
}

static void
start_request(struct client *cl, struct wire_msg *msg)
{
	struct control *c = cl->ctl;
	struct request *req = xcalloc(1, sizeof(*req));

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

/* The next buffered frame is a REQUEST while one is in flight: it waits. */
static bool
next_is_request(const struct client *cl)
{
	const unsigned char *p = (const unsigned char *)buf_head(&cl->in);

	return cl->in.len > 5 && p[5] == WIRE_REQUEST;
}

/* Is a whole REQUEST frame buffered next? */
static bool
next_request_whole(const struct client *cl)
{
	const unsigned char *p = (const unsigned char *)buf_head(&cl->in);
	size_t len;

	if (cl->in.len < 6 || p[5] != WIRE_REQUEST)
		return false;
	len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	return cl->in.len - 4 >= len;
}

/* Decode and handle buffered frames, reading more while the client may
 * give more, within *budget frames and READS_PER_TURN reads.  When work is
 * left over it gets the next turn.  Returns false if the client was closed
 * (and freed). */
static bool
client_read(struct client *cl, unsigned *budget)
{
	char err[256];
	struct wire_msg msg;
	unsigned reads = 0;
	size_t used, room;
	ssize_t n;
	char *dst;

	for (;;) {
		/* Decode whatever is complete before reading more: a handler may
		 * pause input between frames. */
		while (client_wants_input(cl) && cl->in.len > 0) {
			enum wire_decode rc;

			if (cl->req != NULL && next_is_request(cl))
				return true;    /* resumes when the request finishes */
			if (*budget == 0) {
				schedule_turn(cl);
				return true;
			}
			if (cl->req == NULL && next_request_whole(cl) && !uid_turn_take(cl)) {
				schedule_turn(cl);      /* its uid had its turn */
				return true;
			}
			rc = wire_decode(buf_head(&cl->in), cl->in.len, &msg, &used,
			                 err, sizeof(err));
			if (rc == WIRE_NEED_MORE) {
				if (!cl->partial)
					cl->frame_since = loop_now_ms();
				cl->partial = true;
				break;
			}
			if (rc != WIRE_FRAME) {
				protocol_error(cl, ST_PROTOCOL, err);
				return true;
			}
			/* A request takes the rest of the connection's turn (it
			 * may finish at once: a refusal, a short reply). */
			*budget = msg.type == WIRE_REQUEST ? 0 : *budget - 1;
			cl->partial = false;
			/* Frames may carry secrets: leave no copy behind. */
			explicit_bzero(buf_head(&cl->in), used);
			buf_consume(&cl->in, used);
			if (!handle_frame(cl, &msg))
				return true;
		}
		if (cl->in.len == 0)
			cl->partial = false;
		if (!client_wants_input(cl))
			return true;
		if (reads++ == READS_PER_TURN) {
			schedule_turn(cl);
			return true;
		}
		room = cl->in.len + 65536 <= IN_MAX ? 65536 : IN_MAX - cl->in.len;
		if (room == 0 || (dst = buf_reserve(&cl->in, room)) == NULL) {
			protocol_error(cl, ST_PROTOCOL, "frame too large");
			return true;
		}
		n = recv(cl->fd, dst, room, 0);
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
		if (cl->in.len == 0) {
			cl->frame_since = loop_now_ms();
			cl->partial = true;
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
	unsigned budget = FRAMES_PER_TURN;

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
		if (!client_wants_input(cl)) {
			/* Not reading from it now: only a hang-up matters. */
			if (events & (EPOLLHUP | EPOLLERR))
				client_close(cl);
			return;
		}
		if (client_read(cl, &budget))
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
	fire_watches(cl, true);      /* what is still queued goes nowhere */
	loop_del_fd(c->pd->loop, cl->fd);
	close(cl->fd);
	TAILQ_REMOVE(&c->clients, cl, entry);
	c->nclients--;
	buf_free(&cl->in);
	buf_free(&cl->out);
	free(cl);
}

/* Log that a client is being closed, within the rate limit. */
static void
log_closing(struct client *cl, const char *why)
{
	unsigned long held;

	if (log_rate_allow(&cl->ctl->lr_close, LOG_BURST, &held))
		log_info("control: closing client uid %u (%s): %s (%lu more such lines "
		         "suppressed)", (unsigned)cl->peer.uid, cl->peer.name, why, held);
}

/* Close clients that hold provd up.  Each clock starts once and is not
 * reset by a trickle of bytes: a connection without a request has
 * client_timeout to send one; a frame must be complete within
 * client_timeout of its first byte; streamed input owed to a running
 * request must keep coming; and queued replies must drain below the low
 * mark within client_timeout of going above it. */
static void
sweep(void *arg)
{
	struct control *c = arg;
	struct client *cl, *next;
	uint64_t now = loop_now_ms(),
	         limit = (uint64_t)c->pd->cfg.client_timeout * 1000u;

	c->sweep = loop_timer(c->pd->loop, SWEEP_MS, sweep, c);
	for (cl = TAILQ_FIRST(&c->clients); cl != NULL; cl = next) {
		const char *why = NULL;

		next = TAILQ_NEXT(cl, entry);
		if (cl->closing) {
			if (now - cl->closing_since > limit)
				client_close(cl);
			continue;
		}
		if (cl->out_since != 0 && now - cl->out_since > limit)
			why = "it does not read its replies";
		else if (cl->partial && cl->in.len > 0 && client_wants_input(cl) &&
		         now - cl->frame_since > limit)
			why = "a frame was not completed in time";
		else if (cl->req == NULL && cl->in.len == 0 && now - cl->idle_since > limit)
			why = "no request";
		else if (cl->req != NULL && cl->req->on_data != NULL && client_wants_input(cl) &&
		         cl->in.len == 0 && now - cl->last_rx > limit)
			why = "streamed input stopped";
		if (why == NULL)
			continue;
		log_closing(cl, why);
		if (cl->req == NULL && cl->out.len == 0) {
			wire_put_status(&cl->out, ST_PROTOCOL, cl->partial ?
			                "timed out waiting for the rest of a frame" :
			                "timed out waiting for a request");
			mark_closing(cl);
			client_flush(cl);
			if (cl->out.len == 0)
				client_close_if_done(cl);
		} else {
			client_close(cl);
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
	while (!TAILQ_EMPTY(&c->clients))
		client_close(TAILQ_FIRST(&c->clients));
	if (c->pd != NULL) {
		loop_del_fd(c->pd->loop, c->fd);
		if (c->sweep)
			loop_timer_cancel(c->pd->loop, c->sweep);
		if (c->turn)
			loop_timer_cancel(c->pd->loop, c->turn);
	}
	close(c->fd);
	if (c->spare >= 0)
		close(c->spare);
	unlink(c->path);
	free(c->path);
	free(c);
}
