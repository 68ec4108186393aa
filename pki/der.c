/*
 * der.c — minimal DER writer and strict reader (see der.h).
 */
#include "der.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
der_buf_init(struct der_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
der_buf_free(struct der_buf *b)
{
	free(b->p);
	der_buf_init(b);
}

int
der_reserve(struct der_buf *b, size_t extra)
{
	size_t want, ncap;
	unsigned char *np;

	if (b->failed)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return -1;
	}
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	ncap = b->cap > 0 ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (np == NULL) {
		b->failed = true;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
der_put(struct der_buf *b, const void *data, size_t n)
{
	if (n == 0 || der_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

size_t
der_header_len(size_t len)
{
	size_t n = 2;

	if (len < 0x80)
		return n;
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n;
}

void
der_put_header(struct der_buf *b, unsigned char tag, size_t len)
{
	unsigned char h[2 + sizeof(size_t)];
	size_t n = 0, i, nb = 0, l;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else {
		for (l = len; l > 0; l >>= 8)
			nb++;
		h[n++] = (unsigned char)(0x80 | nb);
		for (i = nb; i > 0; i--)
			h[n++] = (unsigned char)(len >> (8 * (i - 1)));
	}
	der_put(b, h, n);
}

int
der_read(const unsigned char **pp, const unsigned char *end,
    struct der_item *out)
{
	const unsigned char *p = *pp;
	size_t len = 0, nb, i, avail;

	if (p == NULL || end == NULL || p >= end || end - p < 2)
		return -1;
	out->start = p;
	out->tag = *p++;
	if ((out->tag & 0x1f) == 0x1f)
		return -1;              /* high tag numbers: never used here */
	if (*p < 0x80) {
		len = *p++;
	} else {
		nb = *p++ & 0x7f;
		if (nb == 0 || nb > 4 || (size_t)(end - p) < nb)
			return -1;      /* indefinite or absurd */
		if (p[0] == 0)
			return -1;      /* not minimal */
		for (i = 0; i < nb; i++)
			len = len << 8 | p[i];
		p += nb;
		if (len < 0x80)
			return -1;      /* long form for a short length */
	}
	avail = (size_t)(end - p);
	if (len > avail)
		return -1;
	out->content = p;
	out->len = len;
	out->total = (size_t)(p - out->start) + len;
	*pp = p + len;
	return 0;
}

int
der_check_tree(const unsigned char *p, size_t len, int depth)
{
	const unsigned char *end = p + len;
	struct der_item it;

	if (depth > DER_MAX_DEPTH)
		return -1;
	while (p < end) {
		if (der_read(&p, end, &it) < 0)
			return -1;
		if ((it.tag & 0x20) &&
		    der_check_tree(it.content, it.len, depth + 1) < 0)
			return -1;
	}
	return 0;
}
