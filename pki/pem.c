/*
 * pem.c — strict PEM decoding and PEM encoding (see pem.h).
 */
#include "pem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_LABEL_MAX 64
#define PEM_ENCODE_MAX (256u * 1024 * 1024)

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static const unsigned char *
find(const unsigned char *p, const unsigned char *end, const char *needle)
{
	size_t n = strlen(needle);

	if ((size_t)(end - p) < n)
		return NULL;
	return memmem(p, (size_t)(end - p), needle, n);
}

bool
pem_looks_like(const unsigned char *in, size_t len)
{
	const unsigned char *p = in, *end = in + len;

	while (p < end && is_ws(*p))
		p++;
	return (size_t)(end - p) >= 11 && memcmp(p, "-----BEGIN ", 11) == 0;
}

/*
 * Strict base64: whitespace anywhere is skipped; '=' only as the last one
 * or two characters of the final quantum; length a multiple of four.
 */
static int
b64_decode(const unsigned char *p, const unsigned char *end,
    unsigned char *out, size_t *outlen)
{
	uint32_t acc = 0;
	size_t n = 0, o = 0, pad = 0;

	for (; p < end; p++) {
		int v;

		if (is_ws(*p))
			continue;
		if (*p == '=') {
			pad++;
			n++;
			if (pad > 2)
				return -1;
			acc <<= 6;
			if (n % 4 == 0) {
				out[o++] = (unsigned char)(acc >> 16);
				if (pad == 1)
					out[o++] = (unsigned char)(acc >> 8);
			}
			continue;
		}
		if (pad > 0)
			return -1;      /* data after padding */
		v = b64val(*p);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		n++;
		if (n % 4 == 0) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (n == 0 || n % 4 != 0)
		return -1;
	if (pad > 0 && n % 4 != 0)
		return -1;
	*outlen = o;
	return 0;
}

int
pem_decode_one(const unsigned char *in, size_t len,
    const char *const *labels, size_t nlabels, const char *what,
    unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	const unsigned char *p = in, *end = in + len, *lab, *labend;
	const unsigned char *body, *bodyend, *after;
	char endline[PEM_LABEL_MAX + 32];
	unsigned char *buf = NULL;
	size_t lablen, i, outlen = 0;
	int rc = -1;

	*der = NULL;
	*derlen = 0;
	if (len > PEM_MAX_INPUT) {
		snprintf(err, errlen, "%s: input larger than %d bytes", what,
		    PEM_MAX_INPUT);
		goto out;
	}
	while (p < end && is_ws(*p))
		p++;
	if ((size_t)(end - p) < 11 || memcmp(p, "-----BEGIN ", 11) != 0) {
		snprintf(err, errlen, "%s: not PEM", what);
		goto out;
	}
	lab = p + 11;
	labend = find(lab, end, "-----");
	if (labend == NULL || labend - lab > PEM_LABEL_MAX) {
		snprintf(err, errlen, "%s: malformed PEM BEGIN line", what);
		goto out;
	}
	lablen = (size_t)(labend - lab);
	for (i = 0; i < nlabels; i++)
		if (strlen(labels[i]) == lablen &&
		    memcmp(labels[i], lab, lablen) == 0)
			break;
	if (i == nlabels) {
		snprintf(err, errlen, "%s: PEM block has the wrong label "
		    "(expected %s)", what, nlabels > 0 ? labels[0] : "?");
		goto out;
	}
	body = labend + 5;
	/* The BEGIN line ends right here. */
	if (body < end && *body == '\r')
		body++;
	if (body >= end || *body != '\n') {
		snprintf(err, errlen, "%s: malformed PEM BEGIN line", what);
		goto out;
	}
	body++;
	snprintf(endline, sizeof(endline), "-----END %.*s-----",
	    (int)lablen, (const char *)lab);
	bodyend = find(body, end, "-----");
	if (bodyend == NULL) {
		snprintf(err, errlen, "%s: PEM block has no END line", what);
		goto out;
	}
	if ((size_t)(end - bodyend) < strlen(endline) ||
	    memcmp(bodyend, endline, strlen(endline)) != 0) {
		snprintf(err, errlen, "%s: PEM END line does not match BEGIN",
		    what);
		goto out;
	}
	if (memchr(body, ':', (size_t)(bodyend - body)) != NULL) {
		snprintf(err, errlen, "%s: PEM headers are not supported", what);
		goto out;
	}
	after = bodyend + strlen(endline);
	while (after < end && is_ws(*after))
		after++;
	if (after != end) {
		snprintf(err, errlen, "trailing data after %s", what);
		goto out;
	}
	buf = malloc((size_t)(bodyend - body) / 4 * 3 + 3);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		goto out;
	}
	if (b64_decode(body, bodyend, buf, &outlen) < 0 || outlen == 0) {
		snprintf(err, errlen, "%s: bad base64 in PEM block", what);
		goto out;
	}
	*der = buf;
	*derlen = outlen;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
pem_encode(const char *label, const unsigned char *der, size_t derlen,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t b64len, lines, cap, o = 0, i, col = 0;
	char *s;
	int n;

	*out = NULL;
	*outlen = 0;
	if (label == NULL || strlen(label) > PEM_LABEL_MAX ||
	    derlen > PEM_ENCODE_MAX) {
		snprintf(err, errlen, "PEM: bad label or data too large");
		return -1;
	}
	b64len = (derlen + 2) / 3 * 4;
	lines = b64len / 64 + 1;
	cap = b64len + lines + 2 * (strlen(label) + 20) + 1;
	s = malloc(cap);
	if (s == NULL) {
		snprintf(err, errlen, "PEM: out of memory");
		return -1;
	}
	n = snprintf(s, cap, "-----BEGIN %s-----\n", label);
	o = (size_t)n;
	for (i = 0; i < derlen; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16;
		size_t rem = derlen - i;

		if (rem > 1)
			v |= (uint32_t)der[i + 1] << 8;
		if (rem > 2)
			v |= der[i + 2];
		s[o++] = b64chars[(v >> 18) & 63];
		s[o++] = b64chars[(v >> 12) & 63];
		s[o++] = rem > 1 ? b64chars[(v >> 6) & 63] : '=';
		s[o++] = rem > 2 ? b64chars[v & 63] : '=';
		col += 4;
		if (col == 64) {
			s[o++] = '\n';
			col = 0;
		}
	}
	if (col != 0)
		s[o++] = '\n';
	n = snprintf(s + o, cap - o, "-----END %s-----\n", label);
	o += (size_t)n;
	*out = s;
	*outlen = o;
	return 0;
}
