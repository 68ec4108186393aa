/*
 * serial.c — certificate serial numbers (see serial.h).
 */
#include "serial.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "hex.h"

/* Store a big-endian magnitude, dropping leading zero bytes. */
static int
serial_set(struct serial *out, const unsigned char *b, size_t n, char *err,
    size_t errlen)
{
	while (n > 0 && b[0] == 0) {
		b++;
		n--;
	}
	if (n == 0) {
		snprintf(err, errlen, "serial number is zero");
		return -1;
	}
	if (n > SERIAL_MAX_BYTES) {
		snprintf(err, errlen,
		    "serial number is %zu bytes long (at most %d allowed)",
		    n, SERIAL_MAX_BYTES);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, b, n);
	out->len = n;
	return 0;
}

int
serial_random(struct serial *out, char *err, size_t errlen)
{
	unsigned char b[SERIAL_MAX_BYTES];
	int tries;

	for (tries = 0; tries < 64; tries++) {
		if (RAND_bytes(b, sizeof(b)) != 1) {
			snprintf(err, errlen,
			    "random number generator failed to give a serial");
			return -1;
		}
		b[0] &= 0x7f;
		if (b[0] != 0)
			return serial_set(out, b, sizeof(b), err, errlen);
	}
	snprintf(err, errlen, "random number generator keeps giving zeros");
	return -1;
}

void
serial_to_hex(const struct serial *s, int upper,
    char out[SERIAL_HEX_MAX + 1])
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i, n = s->len > SERIAL_MAX_BYTES ? SERIAL_MAX_BYTES : s->len;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[s->bytes[i] >> 4];
		out[2 * i + 1] = digits[s->bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
serial_parse(const char *text, struct serial *out, char *err, size_t errlen)
{
	/* Room for every digit of the longest accepted text. */
	unsigned char digits[SERIAL_TEXT_MAX];
	unsigned char bytes[SERIAL_TEXT_MAX / 2 + 1];
	size_t len, ndig = 0, group = 0, nbytes, i, j;
	const char *p, *end;
	int colons = 0;

	if (text == NULL) {
		snprintf(err, errlen, "serial: missing");
		return -1;
	}
	len = strnlen(text, SERIAL_TEXT_MAX + 1);
	if (len > SERIAL_TEXT_MAX) {
		snprintf(err, errlen, "serial: longer than %d characters",
		    SERIAL_TEXT_MAX);
		return -1;
	}
	p = text;
	end = text + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if ((size_t)(end - p) >= 7 && strncasecmp(p, "serial=", 7) == 0)
		p += 7;
	if ((size_t)(end - p) >= 2 && p[0] == '0' && (p[1] == 'x' ||
	    p[1] == 'X'))
		p += 2;
	if (p == end) {
		snprintf(err, errlen, "serial: empty");
		return -1;
	}
	for (; p < end; p++) {
		if (*p == ':') {
			if (group != 2) {
				snprintf(err, errlen, "serial: colon-separated "
				    "groups must have two hex digits");
				return -1;
			}
			colons = 1;
			group = 0;
			continue;
		}
		if (hex_value((unsigned char)*p) < 0) {
			snprintf(err, errlen, "serial: '%c' is not a hex digit",
			    isprint((unsigned char)*p) ? *p : '?');
			return -1;
		}
		digits[ndig++] = (unsigned char)hex_value((unsigned char)*p);
		group++;
	}
	if (colons && group != 2) {
		snprintf(err, errlen, "serial: colon-separated groups must "
		    "have two hex digits");
		return -1;
	}
	/* An odd number of digits gets an implicit leading zero. */
	nbytes = (ndig + 1) / 2;
	j = 0;
	i = 0;
	if (ndig % 2 == 1)
		bytes[j++] = digits[i++];
	for (; i < ndig; i += 2)
		bytes[j++] = (unsigned char)(digits[i] << 4 | digits[i + 1]);
	return serial_set(out, bytes, nbytes, err, errlen);
}

int
serial_from_asn1(const ASN1_INTEGER *ai, struct serial *out, char *err,
    size_t errlen)
{
	if (ai == NULL) {
		snprintf(err, errlen, "serial: missing");
		return -1;
	}
	if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER) {
		snprintf(err, errlen, "serial number is negative");
		return -1;
	}
	if (ASN1_STRING_length(ai) < 0) {
		snprintf(err, errlen, "serial: bad encoding");
		return -1;
	}
	return serial_set(out, ASN1_STRING_get0_data(ai),
	    (size_t)ASN1_STRING_length(ai), err, errlen);
}

ASN1_INTEGER *
serial_to_asn1(const struct serial *s)
{
	ASN1_INTEGER *ai;

	if (s->len == 0 || s->len > SERIAL_MAX_BYTES)
		return NULL;
	ai = ASN1_INTEGER_new();
	if (ai == NULL)
		return NULL;
	if (!ASN1_STRING_set(ai, s->bytes, (int)s->len)) {
		ASN1_INTEGER_free(ai);
		return NULL;
	}
	return ai;
}

int
serial_cmp(const struct serial *a, const struct serial *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->len);
}
