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

struct ocsp_unknown {
	struct provd *pd;
	ocsp_unknown_fn *sign;
	int           lfd;
	int           conns[OCSP_UNKNOWN_CONNS];
	size_t        nconns;
	char          path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t      window_ms;   /* start of the current second */
	unsigned      used;        /* answers signed in it */
};

static void
conn_close(struct ocsp_unknown *u, int fd)
{
	size_t i;

	loop_del_fd(u->pd->loop, fd);
	close(fd);
	for (i = 0; i < u->nconns; i++) {
		if (u->conns[i] == fd) {
			u->conns[i] = u->conns[--u->nconns];
			break;
		}
	}
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
on_question(void *ctx, int fd, uint32_t events)
{
	struct ocsp_unknown *u = ctx;
	char q[SERIAL_HEX_MAX + 2], err[256], code;
	unsigned char *der = NULL, *pkt;
	size_t derlen = 0;
	struct serial ser;
	ssize_t n;
	int r;

	(void)events;
	n = recv(fd, q, sizeof(q) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || n > SERIAL_HEX_MAX) {
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
		code = 'T';
		(void)send(fd, &code, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		return;
	}
	r = u->sign(u->pd, &ser, &der, &derlen, err, sizeof(err));
	if (r != 0) {
		code = r == 1 ? 'K' : 'T';
		(void)send(fd, &code, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		return;
	}
	pkt = xmalloc(derlen + 1);
	pkt[0] = 'R';
	memcpy(pkt + 1, der, derlen);
	/* A client too slow to take one packet loses the answer (it waits
	 * for a second, then says unauthorized). */
	(void)send(fd, pkt, derlen + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(pkt);
	free(der);
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
	u->conns[u->nconns++] = c;
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
		conn_close(u, u->conns[0]);
	loop_del_fd(u->pd->loop, u->lfd);
	close(u->lfd);
	(void)unlink(u->path);
	free(u);
}
