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

enum ocspreq_result
ocspreq_parse(const unsigned char *der, size_t len,
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
