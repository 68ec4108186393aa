/* ocsp_unknown — "unknown" answers for provd-ocsp.  See ocsp_unknown.h. */
#include "ocsp_unknown.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "ocspgen.h"
#include "provd.h"
#include "serial.h"
#include "xmalloc.h"

/* One question in the signer's queue.  It belongs to its connection:
 * closing that (or freeing u) detaches it, and its answer is dropped. */
struct question {
	struct ocsp_unknown *u;    /* NULL once detached */
	int                  fd;
};

struct conn {
	int              fd;
	struct question *q;        /* the question being signed, or NULL */
};

struct ocsp_unknown {
	struct provd *pd;
	ocsp_unknown_fn *sign;
	int           lfd;
	struct conn   conns[OCSP_UNKNOWN_CONNS];
	size_t        nconns;
	char          path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t      window_ms;   /* start of the current second */
	unsigned      used;        /* answers signed in it */
};

static struct conn *
conn_of(struct ocsp_unknown *u, int fd)
{
	size_t i;

	for (i = 0; i < u->nconns; i++)
		if (u->conns[i].fd == fd)
			return &u->conns[i];
	return NULL;
}

static void
conn_close(struct ocsp_unknown *u, int fd)
{
	struct conn *c = conn_of(u, fd);

	loop_del_fd(u->pd->loop, fd);
	close(fd);
	if (c == NULL)
		return;
	if (c->q != NULL)
		c->q->u = NULL;
	*c = u->conns[--u->nconns];
}

static bool
rate_ok(struct ocsp_unknown *u)
{
	uint64_t now = loop_now_ms();

	if (now - u->window_ms >= 1000) {
		u->window_ms = now;
		u->used = 0;
	}
	return u->used++ < OCSP_UNKNOWN_RATE;
}

static void
reply(int fd, char code, const unsigned char *der, size_t derlen)
{
	unsigned char *pkt = xmalloc(derlen + 1);

	pkt[0] = (unsigned char)code;
	if (derlen > 0)
		memcpy(pkt + 1, der, derlen);
	/* A client too slow to take one packet loses the answer (it waits
	 * for a second, then says unauthorized). */
	(void)send(fd, pkt, derlen + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(pkt);
}

/* The signer answered q: send it, if its connection is still there, and
 * read that connection again. */
static void
on_answer(void *ctx, int rc, const unsigned char *der, size_t derlen)
{
	struct question *q = ctx;
	struct ocsp_unknown *u = q->u;
	struct conn *c;

	if (u != NULL && (c = conn_of(u, q->fd)) != NULL && c->q == q) {
		c->q = NULL;
		reply(q->fd, rc == 0 ? 'R' : 'T', der, rc == 0 ? derlen : 0);
		if (loop_mod_fd(u->pd->loop, q->fd, EPOLLIN) < 0)
			conn_close(u, q->fd);
	}
	free(q);
}

static void
on_question(void *ctx, int fd, uint32_t events)
{
	struct ocsp_unknown *u = ctx;
	struct conn *c = conn_of(u, fd);
	char q[SERIAL_HEX_MAX + 2], err[256];
	struct question *qn;
	struct serial ser;
	ssize_t n;
	int r;

	(void)events;
	n = recv(fd, q, sizeof(q) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* A second question before the answer is not provd-ocsp speaking
	 * either (it waits for each). */
	if (n <= 0 || n > SERIAL_HEX_MAX || c == NULL || c->q != NULL) {
		conn_close(u, fd);
		return;
	}
	q[n] = '\0';
	if (strspn(q, "0123456789ABCDEF") != (size_t)n ||
	    serial_parse(q, &ser, err, sizeof(err)) < 0) {
		conn_close(u, fd);     /* not provd-ocsp speaking */
		return;
	}
	if (!rate_ok(u)) {
		reply(fd, 'T', NULL, 0);
		return;
	}
	qn = xcalloc(1, sizeof(*qn));
	qn->u = u;
	qn->fd = fd;
	r = u->sign(u->pd, &ser, on_answer, qn);
	if (r != 0) {
		free(qn);
		reply(fd, r == 1 ? 'K' : 'T', NULL, 0);
		return;
	}
	/* Nothing more from this connection until its answer is sent (a
	 * hang-up is still reported). */
	c->q = qn;
	if (loop_mod_fd(u->pd->loop, fd, 0) < 0)
		conn_close(u, fd);
}

static void
on_connect(void *ctx, int fd, uint32_t events)
{
	struct ocsp_unknown *u = ctx;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (u->nconns >= OCSP_UNKNOWN_CONNS ||
	    loop_add_fd(u->pd->loop, c, EPOLLIN, on_question, u) < 0) {
		close(c);
		return;
	}
	u->conns[u->nconns].fd = c;
	u->conns[u->nconns++].q = NULL;
}

struct ocsp_unknown *
ocsp_unknown_start(struct provd *pd, const char *dir, ocsp_unknown_fn *sign)
{
	struct ocsp_unknown *u = xcalloc(1, sizeof(*u));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	u->pd = pd;
	u->sign = sign;
	u->lfd = -1;
	if ((size_t)snprintf(u->path, sizeof(u->path), "%s/" OCSP_UNKNOWN_SOCK, dir) >=
	    sizeof(u->path)) {
		log_warnx("ocsp: %s: path too long for a socket; serials without a "
		          "record will be answered unauthorized", dir);
		goto fail;
	}
	memcpy(sa.sun_path, u->path, strlen(u->path) + 1);
	(void)unlink(u->path);
	u->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->lfd < 0 || bind(u->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(u->path, 0666) < 0 || listen(u->lfd, 16) < 0 ||
	    loop_add_fd(pd->loop, u->lfd, EPOLLIN, on_connect, u) < 0) {
		log_warn("ocsp: %s", u->path);
		goto fail;
	}
	return u;
fail:
	if (u->lfd >= 0)
		close(u->lfd);
	free(u);
	return NULL;
}

void
ocsp_unknown_free(struct ocsp_unknown *u)
{
	if (u == NULL)
		return;
	while (u->nconns > 0)
		conn_close(u, u->conns[0].fd);
	loop_del_fd(u->pd->loop, u->lfd);
	close(u->lfd);
	(void)unlink(u->path);
	free(u);
}
