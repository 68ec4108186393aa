/* wire — framing of the control protocol. See wire.h and docs/protocol.md. */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
wire_status_name(int code)
{
	switch (code) {
	case ST_OK:          return "ok";
	case ST_INTERNAL:    return "internal";
	case ST_USAGE:       return "usage";
	case ST_NOTFOUND:    return "not-found";
	case ST_CONFLICT:    return "conflict";
	case ST_PERMISSION:  return "permission";
	case ST_INVALID:     return "invalid";
	case ST_UNAVAILABLE: return "unavailable";
	case ST_PARTIAL:     return "partial";
	case ST_PROTOCOL:    return "protocol";
	}
	return "unknown";
}

static bool
type_known(uint8_t t)
{
	switch (t) {
	case WIRE_REQUEST: case WIRE_DATA: case WIRE_END:
	case WIRE_RECORD: case WIRE_SECRET: case WIRE_PROGRESS: case WIRE_STATUS:
	case WIRE_PLAN:
		return true;
	}
	return false;
}

enum wire_decode
wire_decode(const void *buf, size_t n, struct wire_msg *msg, size_t *used,
            char *err, size_t errlen)
{
	const unsigned char *p = buf, *body, *q, *end;
	uint32_t blen, flen;
	uint16_t nf, i;
	size_t storelen;
	char *s;

	memset(msg, 0, sizeof(*msg));
	if (n < WIRE_HEADER)
		return WIRE_NEED_MORE;
	blen = get_u32(p);
	if (blen < WIRE_MIN_BODY || blen > WIRE_MAX_FRAME) {
		snprintf(err, errlen, "frame length %u outside 4..%u", blen,
		         WIRE_MAX_FRAME);
		return WIRE_BAD;
	}
	/* The version is checked as soon as it arrives, before waiting for the
	 * rest of a frame that may be in a format we do not know. */
	if (n > WIRE_HEADER && p[WIRE_HEADER] != WIRE_VERSION) {
		snprintf(err, errlen, "protocol version %u, this provd speaks %u",
		         p[WIRE_HEADER], WIRE_VERSION);
		return WIRE_BAD_VERSION;
	}
	if (n - WIRE_HEADER < blen)
		return WIRE_NEED_MORE;

	body = p + WIRE_HEADER;
	end = body + blen;
	if (!type_known(body[1])) {
		snprintf(err, errlen, "unknown frame type %u", body[1]);
		return WIRE_BAD;
	}
	nf = get_u16(body + 2);
	if (nf > WIRE_MAX_FIELDS) {
		snprintf(err, errlen, "%u fields, at most %u", nf, WIRE_MAX_FIELDS);
		return WIRE_BAD;
	}
	/* First pass: validate every length against what is left. */
	q = body + 4;
	storelen = 0;
	for (i = 0; i < nf; i++) {
		if ((size_t)(end - q) < 4) {
			snprintf(err, errlen, "field %u: truncated length", i);
			return WIRE_BAD;
		}
		flen = get_u32(q);
		q += 4;
		if (flen > (size_t)(end - q)) {
			snprintf(err, errlen, "field %u: length %u past frame end",
			         i, flen);
			return WIRE_BAD;
		}
		q += flen;
		storelen += (size_t)flen + 1;
	}
	if (q != end) {
		snprintf(err, errlen, "%zu stray bytes after the last field",
		         (size_t)(end - q));
		return WIRE_BAD;
	}
	/* Second pass: copy out, NUL-terminating each field. */
	msg->type = body[1];
	msg->nfields = nf;
	msg->f = calloc(nf ? nf : 1, sizeof(*msg->f));
	msg->store = malloc(storelen ? storelen : 1);
	if (msg->f == NULL || msg->store == NULL) {
		wire_msg_free(msg);
		snprintf(err, errlen, "out of memory");
		return WIRE_BAD;
	}
	q = body + 4;
	s = msg->store;
	for (i = 0; i < nf; i++) {
		flen = get_u32(q);
		q += 4;
		memcpy(s, q, flen);
		s[flen] = '\0';
		msg->f[i].ptr = s;
		msg->f[i].len = flen;
		s += flen + 1;
		q += flen;
	}
	*used = WIRE_HEADER + blen;
	return WIRE_FRAME;
}

void
wire_msg_free(struct wire_msg *msg)
{
	/* Fields may be passwords: wipe before the memory is reused. */
	if (msg->store != NULL && msg->f != NULL) {
		size_t len = 0, i;

		for (i = 0; i < msg->nfields; i++)
			len += msg->f[i].len + 1;
		explicit_bzero(msg->store, len);
	}
	free(msg->f);
	free(msg->store);
	memset(msg, 0, sizeof(*msg));
}

const char *
wire_field_str(const struct wire_msg *msg, size_t i)
{
	if (i >= msg->nfields)
		return NULL;
	if (memchr(msg->f[i].ptr, '\0', msg->f[i].len) != NULL)
		return NULL;
	return msg->f[i].ptr;
}

void
wire_begin(struct wire_enc *e, struct buf *out, enum wire_type type)
{
	unsigned char hdr[8] = { 0, 0, 0, 0, WIRE_VERSION, (unsigned char)type, 0, 0 };

	e->out = out;
	e->start = out->len;
	e->nfields = 0;
	e->failed = buf_append(out, hdr, sizeof(hdr)) != 0;
}

void
wire_add(struct wire_enc *e, const void *p, size_t n)
{
	if (e->failed)
		return;
	if (e->nfields >= WIRE_MAX_FIELDS ||
	    n > WIRE_MAX_FRAME ||
	    e->out->len - e->start - WIRE_HEADER + 4 + n > WIRE_MAX_FRAME ||
	    buf_put_u32(e->out, (uint32_t)n) != 0 ||
	    buf_append(e->out, p, n) != 0) {
		e->failed = true;
		return;
	}
	e->nfields++;
}

void
wire_add_str(struct wire_enc *e, const char *s)
{
	wire_add(e, s, strlen(s));
}

int
wire_finish(struct wire_enc *e)
{
	unsigned char *h;
	size_t blen;

	if (e->failed) {
		/* Drop the partial frame so the stream stays well-formed. */
		e->out->len = e->start;
		return -1;
	}
	h = (unsigned char *)buf_head(e->out) + e->start;
	blen = e->out->len - e->start - WIRE_HEADER;
	h[0] = (unsigned char)(blen >> 24);
	h[1] = (unsigned char)(blen >> 16);
	h[2] = (unsigned char)(blen >> 8);
	h[3] = (unsigned char)blen;
	h[6] = (unsigned char)(e->nfields >> 8);
	h[7] = (unsigned char)e->nfields;
	return 0;
}

int
wire_put_strv(struct buf *out, enum wire_type type, const char *const *v)
{
	struct wire_enc e;

	wire_begin(&e, out, type);
	for (; *v != NULL; v++)
		wire_add_str(&e, *v);
	return wire_finish(&e);
}

int
wire_put_status(struct buf *out, int code, const char *msg)
{
	char num[16];
	const char *v[] = { num, msg, NULL };

	snprintf(num, sizeof(num), "%d", code);
	return wire_put_strv(out, WIRE_STATUS, v);
}
