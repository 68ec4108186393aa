/*
 * der.h — just enough DER to write and check a CRL quickly.  OpenSSL's
 * ASN.1 templates spend ~2 µs per revoked entry on every encode or decode;
 * a CRL of 100,000 entries is written here by hand in a few milliseconds.
 *
 * Only low-tag-number, definite-length, minimally encoded DER is produced
 * or accepted.
 */
#ifndef PROVD_PKI_DER_H
#define PROVD_PKI_DER_H

#include <stdbool.h>
#include <stddef.h>

#define DER_SEQUENCE        0x30
#define DER_INTEGER         0x02
#define DER_BIT_STRING      0x03
#define DER_OCTET_STRING    0x04
#define DER_OID             0x06
#define DER_ENUMERATED      0x0a
#define DER_UTCTIME         0x17
#define DER_GENERALIZEDTIME 0x18
#define DER_CONTEXT0_CONS   0xa0

#define DER_MAX_DEPTH       32

/* A growable output buffer; any allocation failure sticks in failed. */
struct der_buf {
	unsigned char *p;
	size_t         len;
	size_t         cap;
	bool           failed;
};

void der_buf_init(struct der_buf *b);
void der_buf_free(struct der_buf *b);
/* Make room for extra more bytes; 0 or -1 (and b->failed set). */
int der_reserve(struct der_buf *b, size_t extra);
void der_put(struct der_buf *b, const void *data, size_t n);
/* Append tag and the DER encoding of len. */
void der_put_header(struct der_buf *b, unsigned char tag, size_t len);
/* Bytes taken by a tag plus the encoding of len. */
size_t der_header_len(size_t len);

/* One element read from DER input. */
struct der_item {
	unsigned char        tag;
	const unsigned char *start;     /* first byte of the tag */
	const unsigned char *content;
	size_t               len;       /* content length */
	size_t               total;     /* tag + length + content */
};

/*
 * Read the element at *pp (not beyond end): low tag number only, definite
 * minimal length (at most 4 length bytes), content inside [*pp, end).
 * Advances *pp past it.  Returns 0 or -1.
 */
int der_read(const unsigned char **pp, const unsigned char *end,
    struct der_item *out);

/*
 * Check that p[0..len) is a sequence of well-formed elements, recursing
 * into constructed ones up to DER_MAX_DEPTH.  Returns 0 or -1.
 */
int der_check_tree(const unsigned char *p, size_t len, int depth);

#endif
