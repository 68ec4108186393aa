/*
 * signer_wire.c — framing of engine <-> signer messages (see
 * signer_wire.h).
 */
#include "signer_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready; returns 0 ready, -1 timeout or error. */
static int
wait_fd(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int left, r;

	if (deadline < 0)
		return 0;
	for (;;) {
		left = (int)(deadline - now_ms());
		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 0;
		if (r == 0) {
			snprintf(err, errlen, "signer did not answer in time");
			return -1;
		}
		if (errno != EINTR) {
			snprintf(err, errlen, "signer socket: poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

unsigned char *
signer_wire_encode(uint8_t op, uint8_t status, uint8_t flags,
    const struct signer_field *fields, size_t nfields, size_t *total,
    char *err, size_t errlen)
{
	size_t body = 0, off, i;
	unsigned char *buf;

	*total = 0;
	if (nfields > SIGNER_WIRE_MAX_FIELDS) {
		snprintf(err, errlen, "signer message: too many fields");
		return NULL;
	}
	for (i = 0; i < nfields; i++) {
		if (fields[i].len > SIGNER_WIRE_MAX - 4 - body) {
			snprintf(err, errlen, "signer message: larger than %u "
			    "bytes", SIGNER_WIRE_MAX);
			return NULL;
		}
		body += 4 + fields[i].len;
	}
	buf = malloc(SIGNER_WIRE_HEADER + body);
	if (buf == NULL) {
		snprintf(err, errlen, "signer message: out of memory");
		return NULL;
	}
	memset(buf, 0, SIGNER_WIRE_HEADER);
	buf[0] = SIGNER_WIRE_VERSION;
	buf[1] = op;
	buf[2] = status;
	buf[3] = flags;
	buf[4] = (unsigned char)nfields;
	put32(buf + 8, (uint32_t)body);
	off = SIGNER_WIRE_HEADER;
	for (i = 0; i < nfields; i++) {
		put32(buf + off, (uint32_t)fields[i].len);
		off += 4;
		if (fields[i].len > 0)
			memcpy(buf + off, fields[i].data, fields[i].len);
		off += fields[i].len;
	}
	*total = SIGNER_WIRE_HEADER + body;
	return buf;
}

int
signer_wire_send(int fd, uint8_t op, uint8_t status, uint8_t flags,
    const struct signer_field *fields, size_t nfields, int timeout_ms,
    char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t total, off;
	unsigned char *buf;
	int rc = -1;

	buf = signer_wire_encode(op, status, flags, fields, nfields, &total,
	    err, errlen);
	if (buf == NULL)
		return -1;
	for (off = 0; off < total;) {
		size_t n = total - off > SIGNER_WIRE_CHUNK ? SIGNER_WIRE_CHUNK :
		    total - off;
		ssize_t w;

		if (wait_fd(fd, POLLOUT, deadline, err, errlen) < 0)
			goto out;
		w = send(fd, buf + off, n, MSG_NOSIGNAL |
		    (deadline >= 0 ? MSG_DONTWAIT : 0));
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "signer socket: send: %s",
			    strerror(errno));
			goto out;
		}
		if ((size_t)w != n) {
			snprintf(err, errlen, "signer socket: short send");
			goto out;
		}
		off += n;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, total);
	free(buf);
	return rc;
}

/* Receive one packet of at most len bytes; 0 = EOF. */
static ssize_t
recv_packet(int fd, unsigned char *p, size_t len, int64_t deadline,
    char *err, size_t errlen)
{
	for (;;) {
		struct iovec iov = { .iov_base = p, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t r;

		if (wait_fd(fd, POLLIN, deadline, err, errlen) < 0)
			return -1;
		r = recvmsg(fd, &mh, deadline >= 0 ? MSG_DONTWAIT : 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "signer socket: recv: %s",
			    strerror(errno));
			return -1;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			snprintf(err, errlen, "signer message: packet overruns "
			    "the announced length");
			return -1;
		}
		return r;
	}
}

int
signer_wire_header(const unsigned char *p, size_t len, size_t max_body,
    size_t *total, char *err, size_t errlen)
{
	size_t body;

	if (len < SIGNER_WIRE_HEADER) {
		snprintf(err, errlen, "signer message: short header");
		return -1;
	}
	if (p[0] != SIGNER_WIRE_VERSION) {
		snprintf(err, errlen, "signer message: version %u, expected %u",
		    p[0], SIGNER_WIRE_VERSION);
		return -1;
	}
	if (p[4] > SIGNER_WIRE_MAX_FIELDS || p[5] != 0 || p[6] != 0 ||
	    p[7] != 0) {
		snprintf(err, errlen, "signer message: bad header");
		return -1;
	}
	body = get32(p + 8);
	if (body > max_body || body > SIGNER_WIRE_MAX) {
		snprintf(err, errlen, "signer message: body of %zu bytes over "
		    "the limit of %zu", body, max_body);
		return -1;
	}
	*total = SIGNER_WIRE_HEADER + body;
	if (len > *total) {
		snprintf(err, errlen, "signer message: packet overruns the "
		    "announced length");
		return -1;
	}
	return 0;
}

int
signer_wire_parse(unsigned char *buf, size_t total, struct signer_msg *m,
    char *err, size_t errlen)
{
	size_t off, i;

	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->buflen = total;
	m->op = buf[1];
	m->status = buf[2];
	m->flags = buf[3];
	m->nfields = buf[4];
	off = SIGNER_WIRE_HEADER;
	for (i = 0; i < m->nfields; i++) {
		uint32_t flen;

		if (total - off < 4) {
			snprintf(err, errlen, "signer message: field %zu "
			    "truncated", i);
			goto fail;
		}
		flen = get32(m->buf + off);
		off += 4;
		if (flen > total - off) {
			snprintf(err, errlen, "signer message: field %zu "
			    "overruns the body", i);
			goto fail;
		}
		m->field[i].data = m->buf + off;
		m->field[i].len = flen;
		off += flen;
	}
	if (off != total) {
		snprintf(err, errlen, "signer message: %zu stray bytes after "
		    "the fields", total - off);
		goto fail;
	}
	return 0;
fail:
	signer_msg_free(m);
	return -1;
}

int
signer_wire_recv(int fd, struct signer_msg *m, size_t max_body,
    int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	unsigned char first[SIGNER_WIRE_CHUNK];
	unsigned char *buf;
	size_t total, have;
	ssize_t r;

	memset(m, 0, sizeof(*m));
	r = recv_packet(fd, first, sizeof(first), deadline, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return 1;
	if (signer_wire_header(first, (size_t)r, max_body, &total, err,
	    errlen) < 0)
		return -1;
	buf = malloc(total);
	if (buf == NULL) {
		snprintf(err, errlen, "signer message: out of memory");
		return -1;
	}
	memcpy(buf, first, (size_t)r);
	OPENSSL_cleanse(first, (size_t)r);
	for (have = (size_t)r; have < total; have += (size_t)r) {
		size_t want = total - have > SIGNER_WIRE_CHUNK ?
		    SIGNER_WIRE_CHUNK : total - have;

		r = recv_packet(fd, buf + have, want, deadline, err, errlen);
		if (r <= 0) {
			if (r == 0)
				snprintf(err, errlen, "signer socket closed in "
				    "the middle of a message");
			OPENSSL_cleanse(buf, total);
			free(buf);
			return -1;
		}
	}
	return signer_wire_parse(buf, total, m, err, errlen);
}

void
signer_msg_free(struct signer_msg *m)
{
	if (m->buf != NULL) {
		OPENSSL_cleanse(m->buf, m->buflen);
		free(m->buf);
	}
	memset(m, 0, sizeof(*m));
}

int
signer_msg_string(const struct signer_msg *m, size_t i, char *out,
    size_t outsize)
{
	if (i >= m->nfields || outsize == 0 || m->field[i].len >= outsize ||
	    memchr(m->field[i].data, '\0', m->field[i].len) != NULL)
		return -1;
	memcpy(out, m->field[i].data, m->field[i].len);
	out[m->field[i].len] = '\0';
	return 0;
}
