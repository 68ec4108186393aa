/*
 * ocspreq.c — reading OCSP requests (see ocspreq.h).
 */
#include "ocspreq.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

int
ocspreq_issuer_of(X509 *ca, struct ocspreq_issuer *out)
{
	const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(ca);
	unsigned char *name = NULL;
	unsigned int n1 = 0, n2 = 0;
	int nlen, rc = -1;

	nlen = i2d_X509_NAME(X509_get_subject_name(ca), &name);
	if (nlen > 0 && key != NULL &&
	    EVP_Digest(name, (size_t)nlen, out->name_hash, &n1, EVP_sha1(),
	    NULL) == 1 &&
	    EVP_Digest(ASN1_STRING_get0_data(key), (size_t)ASN1_STRING_length(key),
	    out->key_hash, &n2, EVP_sha1(), NULL) == 1 &&
	    n1 == OCSPREQ_HASH_LEN && n2 == OCSPREQ_HASH_LEN)
		rc = 0;
	OPENSSL_free(name);
	ERR_clear_error();
	return rc;
}

static bool
same(const ASN1_OCTET_STRING *os, const unsigned char *h)
{
	return os != NULL && ASN1_STRING_length(os) == OCSPREQ_HASH_LEN &&
	    memcmp(ASN1_STRING_get0_data(os), h, OCSPREQ_HASH_LEN) == 0;
}

/*
 * The fast path: the common request (RFC 5019 §2.1.1: one Request, SHA-1
 * CertID, no version, requestor name, extensions or signature) read byte
 * by byte, strictly DER.  Anything else, however valid, is left to
 * OpenSSL: -1.  On what it accepts it answers as the OpenSSL path does.
 */

/* The header of a DER element with tag at *p (definite, minimal length,
 * at most 0xffff, within end): its length in *len, *p past the header.
 * 0 or -1. */
static int
der_head(const unsigned char **p, const unsigned char *end, unsigned char tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t n;

	if (end - q < 2 || q[0] != tag)
		return -1;
	n = q[1];
	q += 2;
	if (n == 0x81) {
		if (end - q < 1 || q[0] < 0x80)
			return -1;
		n = q[0];
		q += 1;
	} else if (n == 0x82) {
		if (end - q < 2 || q[0] == 0)
			return -1;
		n = (size_t)q[0] << 8 | q[1];
		q += 2;
	} else if (n >= 0x80) {
		return -1;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*p = q;
	*len = n;
	return 0;
}

static int
parse_fast(const unsigned char *der, size_t len, const struct ocspreq_issuer *iss,
    struct serial *serial)
{
	static const unsigned char sha1[] = { 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a };
	const unsigned char *p = der, *end = der + len, *e_tbs, *e_list, *e_req, *e_id, *e_alg;
	const unsigned char *nh, *kh;
	size_t n;

	if (der_head(&p, end, 0x30, &n) < 0 || p + n != end ||      /* OCSPRequest */
	    der_head(&p, end, 0x30, &n) < 0 || p + n != end)        /* tbsRequest only */
		return -1;
	e_tbs = p + n;
	if (der_head(&p, e_tbs, 0x30, &n) < 0 || p + n != e_tbs)    /* requestList only */
		return -1;
	e_list = p + n;
	if (der_head(&p, e_list, 0x30, &n) < 0 || p + n != e_list)  /* one Request */
		return -1;
	e_req = p + n;
	if (der_head(&p, e_req, 0x30, &n) < 0 || p + n != e_req)    /* CertID only */
		return -1;
	e_id = p + n;
	if (der_head(&p, e_id, 0x30, &n) < 0)                        /* hashAlgorithm */
		return -1;
	e_alg = p + n;
	if ((size_t)(e_alg - p) < sizeof(sha1) || memcmp(p, sha1, sizeof(sha1)) != 0)
		return -1;
	p += sizeof(sha1);
	if (p != e_alg && (e_alg - p != 2 || p[0] != 0x05 || p[1] != 0x00))
		return -1;
	p = e_alg;
	if (der_head(&p, e_id, 0x04, &n) < 0 || n != OCSPREQ_HASH_LEN)
		return -1;
	nh = p;
	p += n;
	if (der_head(&p, e_id, 0x04, &n) < 0 || n != OCSPREQ_HASH_LEN)
		return -1;
	kh = p;
	p += n;
	if (der_head(&p, e_id, 0x02, &n) < 0 || p + n != e_id || n == 0 ||
	    (p[0] & 0x80) != 0)                                      /* negative */
		return -1;
	if (p[0] == 0 && n > 1) {
		if ((p[1] & 0x80) == 0)                             /* not minimal */
			return -1;
		p++;
		n--;
	}
	if (n > SERIAL_MAX_BYTES || p[0] == 0)                      /* zero, too long */
		return -1;
	if (memcmp(nh, iss->name_hash, OCSPREQ_HASH_LEN) != 0 ||
	    memcmp(kh, iss->key_hash, OCSPREQ_HASH_LEN) != 0)
		return OCSPREQ_OTHER_ISSUER;
	serial->len = n;
	memcpy(serial->bytes, p, n);
	return OCSPREQ_SERIAL;
}

enum ocspreq_result
ocspreq_parse(const unsigned char *der, size_t len,
    const struct ocspreq_issuer *iss, struct serial *serial)
{
	int fast;

	if (der != NULL && len > 0 && len <= OCSPREQ_MAX &&
	    (fast = parse_fast(der, len, iss, serial)) >= 0)
		return (enum ocspreq_result)fast;
	return ocspreq_parse_openssl(der, len, iss, serial);
}

enum ocspreq_result
ocspreq_parse_openssl(const unsigned char *der, size_t len,
    const struct ocspreq_issuer *iss, struct serial *serial)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *cid;
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *md = NULL;
	ASN1_INTEGER *ser = NULL;
	enum ocspreq_result r = OCSPREQ_MALFORMED;
	char err[64];

	if (der == NULL || len == 0 || len > OCSPREQ_MAX)
		goto out;
	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	if (req == NULL || p != der + len || OCSP_request_onereq_count(req) != 1)
		goto out;
	cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	if (cid == NULL || OCSP_id_get0_info(&nh, &md, &kh, &ser, cid) != 1 ||
	    nh == NULL || md == NULL || kh == NULL || ser == NULL)
		goto out;
	if (OBJ_obj2nid(md) != NID_sha1 || !same(nh, iss->name_hash) ||
	    !same(kh, iss->key_hash)) {
		r = OCSPREQ_OTHER_ISSUER;
		goto out;
	}
	r = serial_from_asn1(ser, serial, err, sizeof(err)) == 0 ? OCSPREQ_SERIAL :
	    OCSPREQ_BAD_SERIAL;
out:
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return r;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-' || c == ' ')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long
ocspreq_base64(const char *in, size_t len, unsigned char *out, size_t outsize)
{
	unsigned long acc = 0;
	size_t i, o = 0, pad = 0;
	int bits = 0, v;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len == 0 || (len + pad) % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value(in[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsize)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	if (acc != 0)          /* non-zero leftover bits: not canonical */
		return -1;
	return (long)o;
}
