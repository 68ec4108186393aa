/*
 * ocsp_load — HTTP/1.1 load for an OCSP responder (bench/ocsp).
 *
 *   ocsp_load HOST PORT PATH REQDIR CLIENTS SECONDS [THREADS]
 *
 * CLIENTS keep-alive connections, each with one request outstanding at a
 * time, POST the DER requests in REQDIR (round-robin) for SECONDS.  One
 * thread (or THREADS, each with its share of the connections) drives them
 * with epoll, so that the load costs the shared cores as little as it can
 * and the server, not the client, is measured: the requests are built
 * once, an answer is read with one recv in the common case, and only its
 * status line ("HTTP/1.x 200"), Content-Length (the body must be exactly
 * that long, nothing may follow it) and "Connection: close" are looked at.
 * The first answer on each of the CLIENTS connections and one in SAMPLE
 * after that are decoded by OpenSSL: a successful OCSPResponse with one
 * single response, for the certificate that request asked about.  A
 * server that closes the connection after an answer (openssl ocsp) is
 * reconnected to (counted).  Prints one line:
 *   requests=N seconds=S rps=R reconnects=C errors=E checked=K client_cpu_us=U
 * (U: this client's own CPU time per answer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#define MAX_REQS    4096
#define MAX_CLIENTS 256
#define BUF         16384     /* an OCSP answer is ~1 KB */
#define SAMPLE      1024
#define MAX_THREADS 16

struct req {
	char         *msg;        /* whole HTTP request */
	size_t        len;
	OCSP_CERTID  *id;         /* what it asks about */
};

struct conn {
	int    fd;
	size_t req;               /* index of the request outstanding */
	size_t sent;              /* bytes of it sent */
	size_t have;              /* bytes of the answer read */
	size_t need;              /* header + body, once the header is read */
	bool   keep;              /* the server keeps the connection */
	bool   check;             /* decode this answer */
	char   buf[BUF];
};

static struct req reqs[MAX_REQS];
static size_t nreqs;
static struct sockaddr_in addr;
static double t0, secs;

/* One thread's connections and counts. */
struct worker {
	pthread_t     th;
	int           ep;
	unsigned long total, reconnects, errors, checked;
	int           busy;       /* connections with a request outstanding */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Send what is left of c's request; EPOLLOUT while the socket is full. */
static int
push(struct worker *w, struct conn *c)
{
	const struct req *r = &reqs[c->req];
	struct epoll_event ev = { .data.ptr = c };
	ssize_t n;

	while (c->sent < r->len) {
		n = send(c->fd, r->msg + c->sent, r->len - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ev.events = EPOLLOUT;
			return epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		if (n <= 0)
			return -1;
		c->sent += (size_t)n;
	}
	return 0;
}

/* Connect c and send its request.  The connect blocks: on loopback the
 * handshake completes within the call, the server need not accept first. */
static int
dial(struct worker *w, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return push(w, c);
}

static void
hangup(struct conn *c)
{
	close(c->fd);      /* leaves the epoll set with it */
	c->fd = -1;
}

/* Start c's next request (after an answer, or an error: then on a new
 * connection).  -1 when it cannot. */
static int
next(struct worker *w, struct conn *c)
{
	c->req = (c->req + 1) % nreqs;
	c->sent = c->have = c->need = 0;
	return c->fd < 0 ? dial(w, c) : push(w, c);
}

/* Is the sampled answer body[0..len) a successful OCSP response with one
 * single response, for the certificate r asked about? */
static bool
answer_ok(const struct req *r, const unsigned char *body, size_t len)
{
	const unsigned char *p = body;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *b = NULL;
	OCSP_SINGLERESP *s;
	bool ok = false;

	if (resp != NULL && p == body + len &&
	    OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
	    (b = OCSP_response_get1_basic(resp)) != NULL && OCSP_resp_count(b) == 1 &&
	    (s = OCSP_resp_get0(b, 0)) != NULL &&
	    OCSP_id_cmp(OCSP_SINGLERESP_get0_id(s), r->id) == 0)
		ok = true;
	OCSP_BASICRESP_free(b);
	OCSP_RESPONSE_free(resp);
	return ok;
}

/* The header c->buf[0..hlen) ("\r\n\r\n" included): c->need and c->keep.
 * -1 unless it is a 200 with a Content-Length. */
static int
header(struct conn *c, size_t hlen)
{
	const char *p = c->buf, *end = c->buf + hlen, *eol;
	bool have_len = false;
	size_t body = 0;

	if (hlen < 12 || memcmp(p, "HTTP/1.", 7) != 0 || memcmp(p + 8, " 200", 4) != 0)
		return -1;
	c->keep = p[7] == '1';
	while ((eol = memchr(p, '\n', (size_t)(end - p))) != NULL && eol + 1 < end) {
		p = eol + 1;
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			body = strtoul(p + 15, NULL, 10);
			have_len = true;
		} else if (strncasecmp(p, "Connection:", 11) == 0) {
			const char *v = p + 11;

			while (*v == ' ')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				c->keep = false;
		}
	}
	if (!have_len || body == 0 || body > BUF - hlen)
		return -1;
	c->need = hlen + body;
	return 0;
}

/* Data readable on c: 1 when an answer is complete, 0 for more, -1 error. */
static int
readable(struct conn *c)
{
	ssize_t n;
	char *e;

	for (;;) {
		n = recv(c->fd, c->buf + c->have, BUF - 1 - c->have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;       /* closed before a whole answer */
		c->have += (size_t)n;
		if (c->need == 0) {
			c->buf[c->have] = '\0';
			if ((e = memmem(c->buf, c->have, "\r\n\r\n", 4)) == NULL) {
				if (c->have >= BUF - 1)
					return -1;
				continue;
			}
			if (header(c, (size_t)(e + 4 - c->buf)) < 0)
				return -1;
		}
		if (c->have > c->need)
			return -1;       /* nothing was asked for */
		if (c->have == c->need)
			return 1;
	}
}

static void
answered(struct worker *w, struct conn *c)
{
	const struct req *r = &reqs[c->req];
	size_t body;

	w->total++;
	if (c->check || w->total % SAMPLE == 0) {
		c->check = false;
		body = (size_t)((char *)memmem(c->buf, c->need, "\r\n\r\n", 4) + 4 - c->buf);
		if (!answer_ok(r, (unsigned char *)c->buf + body, c->need - body)) {
			w->errors++;
			w->total--;
		} else {
			w->checked++;
		}
	}
	if (!c->keep) {
		hangup(c);
		w->reconnects++;
	}
}

static void
load_reqs(const char *dir, const char *host, const char *path)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];
	unsigned char der[8192];
	const unsigned char *q;
	OCSP_REQUEST *oreq;
	size_t n, hl;
	FILE *f;

	if (d == NULL) {
		perror(dir);
		exit(1);
	}
	while ((e = readdir(d)) != NULL && nreqs < MAX_REQS) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if ((f = fopen(p, "rb")) == NULL)
			continue;
		n = fread(der, 1, sizeof(der), f);
		fclose(f);
		q = der;
		if ((oreq = d2i_OCSP_REQUEST(NULL, &q, (long)n)) == NULL ||
		    OCSP_request_onereq_count(oreq) != 1 ||
		    (reqs[nreqs].id = OCSP_CERTID_dup(OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(oreq, 0)))) == NULL) {
			fprintf(stderr, "ocsp_load: %s: not a one-certificate request\n", p);
			exit(1);
		}
		OCSP_REQUEST_free(oreq);
		reqs[nreqs].msg = malloc(n + 512);
		hl = (size_t)snprintf(reqs[nreqs].msg, 512, "POST %s HTTP/1.1\r\n"
		    "Host: %s\r\nContent-Type: application/ocsp-request\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    path, host, n);
		memcpy(reqs[nreqs].msg + hl, der, n);
		reqs[nreqs].len = hl + n;
		nreqs++;
	}
	closedir(d);
	if (nreqs == 0) {
		fprintf(stderr, "ocsp_load: no requests in %s\n", dir);
		exit(1);
	}
}

/* Keep w's connections busy until the deadline. */
static void *
run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[MAX_CLIENTS];
	struct conn *c;
	int i, n, r;
	bool late;

	/* After SECONDS no new request is sent; the answers outstanding are
	 * still read (for a second at most), so that no server is left with
	 * requests its client abandoned. */
	while ((late = now() >= t0 + secs) == false || w->busy > 0) {
		if (late && now() >= t0 + secs + 1)
			break;
		n = epoll_wait(w->ep, evs, MAX_CLIENTS, 100);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (evs[i].events & EPOLLOUT) {
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

				if (push(w, c) == 0 && (c->sent < reqs[c->req].len ||
				    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0))
					continue;
			} else if ((r = readable(c)) == 0) {
				continue;
			} else if (r > 0) {
				answered(w, c);
				if (late) {
					w->busy--;
					if (c->fd >= 0)
						hangup(c);
					continue;
				}
				if (next(w, c) == 0)
					continue;
			}
			if (late) {
				w->busy--;
				if (c->fd >= 0)
					hangup(c);
				continue;
			}
			/* an error: the next request on a new connection */
			do {
				w->errors++;
				if (c->fd >= 0)
					hangup(c);
				if (next(w, c) == 0)
					break;
				usleep(1000);
			} while (now() < t0 + secs);
			if (c->fd < 0)
				w->busy--;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct conn conns[MAX_CLIENTS];
	static struct worker ws[MAX_THREADS];
	unsigned long total = 0, reconnects = 0, errors = 0, checked = 0;
	struct rusage ru;
	int clients, threads = 1, i;
	double t1, cpu;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: ocsp_load HOST PORT PATH REQDIR CLIENTS SECONDS [THREADS]\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1)
		return 2;
	load_reqs(argv[4], argv[1], argv[3]);
	clients = atoi(argv[5]);
	secs = atof(argv[6]);
	if (argc == 8)
		threads = atoi(argv[7]);
	if (clients < 1 || clients > MAX_CLIENTS || secs <= 0 || threads < 1 ||
	    threads > MAX_THREADS || threads > clients)
		return 2;
	t0 = now();
	for (i = 0; i < threads; i++) {
		if ((ws[i].ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			perror("epoll_create1");
			return 1;
		}
	}
	for (i = 0; i < clients; i++) {
		struct worker *w = &ws[i * threads / clients];

		w->busy++;
		conns[i].fd = -1;
		conns[i].req = (size_t)i * 7 % nreqs;
		conns[i].check = true;
		if (dial(w, &conns[i]) < 0) {
			fprintf(stderr, "ocsp_load: cannot connect to %s:%s\n", argv[1], argv[2]);
			return 1;
		}
	}
	for (i = 0; i < threads; i++)
		if (pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0)
			return 1;
	for (i = 0; i < threads; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].total;
		reconnects += ws[i].reconnects;
		errors += ws[i].errors;
		checked += ws[i].checked;
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
	printf("requests=%lu seconds=%.2f rps=%.0f reconnects=%lu errors=%lu checked=%lu "
	    "client_cpu_us=%.1f\n", total, t1 - t0, (double)total / (t1 - t0), reconnects,
	    errors, checked, total > 0 ? cpu * 1e6 / (double)total : 0.0);
	return 0;
}
