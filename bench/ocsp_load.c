/*
 * ocsp_load — HTTP/1.1 load for an OCSP responder (bench/ocsp).
 *
 *   ocsp_load HOST PORT PATH REQDIR CLIENTS SECONDS
 *
 * CLIENTS threads, each on its own keep-alive connection, POST the DER
 * requests in REQDIR (round-robin) for SECONDS and read every answer
 * (Content-Length).  A server that closes the connection after an answer
 * is reconnected to (and counted).  Prints one line:
 *   requests=N seconds=S rps=R reconnects=C errors=E
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQS 4096
#define BUF      65536

struct req {
	char  *msg;      /* whole HTTP request */
	size_t len;
};

static struct req reqs[MAX_REQS];
static size_t nreqs;
static struct sockaddr_in addr;
static double deadline;
static atomic_ulong total, reconnects, errors;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one answer; 1 = ok and the server keeps the connection, 0 = ok and
 * it closes it, -1 = error. */
static int
read_answer(int fd, char *buf)
{
	size_t have = 0, body, need;
	char *end, *cl;
	int keep;
	ssize_t r;

	for (;;) {
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have >= BUF - 1)
			return -1;
		r = recv(fd, buf + have, BUF - 1 - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 9, "200", 3) != 0)
		return -1;
	*end = '\0';
	cl = strcasestr(buf, "\r\nContent-Length:");
	keep = strcasestr(buf, "\r\nConnection: close") == NULL &&
	    strncmp(buf, "HTTP/1.0", 8) != 0;
	if (cl == NULL)
		return -1;
	body = strtoul(cl + 17, NULL, 10);
	need = (size_t)(end + 4 - buf) + body;
	while (have < need) {
		r = recv(fd, buf + have, need - have < BUF - have ? need - have :
		    BUF - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		if (have == BUF && have < need)
			have = (size_t)(end + 4 - buf);   /* discard, keep counting */
	}
	return keep;
}

static void *
client(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;
	char *buf = malloc(BUF);
	int fd = -1, r;

	while (now() < deadline) {
		if (fd < 0 && (fd = dial()) < 0) {
			atomic_fetch_add(&errors, 1);
			usleep(1000);
			continue;
		}
		if (send_all(fd, reqs[i % nreqs].msg, reqs[i % nreqs].len) < 0 ||
		    (r = read_answer(fd, buf)) < 0) {
			atomic_fetch_add(&errors, 1);
			close(fd);
			fd = -1;
			continue;
		}
		atomic_fetch_add(&total, 1);
		i++;
		if (r == 0) {
			close(fd);
			fd = -1;
			atomic_fetch_add(&reconnects, 1);
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void
load_reqs(const char *dir, const char *host, const char *path)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096], der[8192];
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
		reqs[nreqs].msg = malloc(n + 512);
		hl = (size_t)snprintf(reqs[nreqs].msg, 512, "POST %s HTTP/1.1\r\n"
		    "Host: %s\r\nContent-Type: application/ocsp-request\r\n"
		    "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
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

int
main(int argc, char **argv)
{
	pthread_t th[256];
	int clients, i;
	double secs, t0, t1;

	if (argc != 7) {
		fprintf(stderr, "usage: ocsp_load HOST PORT PATH REQDIR CLIENTS SECONDS\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1)
		return 2;
	load_reqs(argv[4], argv[1], argv[3]);
	clients = atoi(argv[5]);
	secs = atof(argv[6]);
	if (clients < 1 || clients > 256 || secs <= 0)
		return 2;
	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, client, (void *)(uintptr_t)(i * 7));
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t1 = now();
	printf("requests=%lu seconds=%.2f rps=%.0f reconnects=%lu errors=%lu\n",
	    (unsigned long)total, t1 - t0, (double)total / (t1 - t0),
	    (unsigned long)reconnects, (unsigned long)errors);
	return 0;
}
