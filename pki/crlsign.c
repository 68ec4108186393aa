/*
 * crlsign.c — checking and signing CRLs in the signer (see crlsign.h).
 */
#include "crlsign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "der.h"

static int
is_time(const struct der_item *it)
{
	size_t i, want;

	if (it->tag == DER_UTCTIME)
		want = 13;
	else if (it->tag == DER_GENERALIZEDTIME)
		want = 15;
	else
		return 0;
	if (it->len != want || it->content[want - 1] != 'Z')
		return 0;
	for (i = 0; i + 1 < want; i++)
		if (it->content[i] < '0' || it->content[i] > '9')
			return 0;
	return 1;
}

static int
same_bytes(const struct der_item *it, const struct sigalg *alg)
{
	return it->total == alg->algid_len &&
	    memcmp(it->start, alg->algid, alg->algid_len) == 0;
}

static int
check_entries(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *q, *qend;
	struct der_item entry, it;

	while (p < end) {
		if (der_read(&p, end, &entry) < 0 || entry.tag != DER_SEQUENCE)
			return -1;
		q = entry.content;
		qend = q + entry.len;
		if (der_read(&q, qend, &it) < 0 || it.tag != DER_INTEGER ||
		    it.len == 0 || it.len > 21)
			return -1;
		if (der_read(&q, qend, &it) < 0 || !is_time(&it))
			return -1;
		if (q < qend) {
			if (der_read(&q, qend, &it) < 0 ||
			    it.tag != DER_SEQUENCE ||
			    der_check_tree(it.content, it.len, 2) < 0)
				return -1;
		}
		if (q != qend)
			return -1;
	}
	return 0;
}

int
crlsign_check(const unsigned char *crl, size_t len, const struct sigalg *alg,
    const unsigned char **tbs, size_t *tbslen, char *err, size_t errlen)
{
	const unsigned char *p = crl, *end = crl + len, *q, *qend;
	struct der_item outer, t, a, s, it;

	*tbs = NULL;
	*tbslen = 0;
	if (crl == NULL || len == 0 || der_read(&p, end, &outer) < 0 ||
	    outer.tag != DER_SEQUENCE || p != end)
		goto bad;
	p = outer.content;
	end = p + outer.len;
	if (der_read(&p, end, &t) < 0 || t.tag != DER_SEQUENCE ||
	    der_read(&p, end, &a) < 0 || der_read(&p, end, &s) < 0 ||
	    s.tag != DER_BIT_STRING || p != end)
		goto bad;
	if (!same_bytes(&a, alg)) {
		snprintf(err, errlen, "CRL: signature algorithm does not match "
		    "the CA key");
		return -1;
	}
	q = t.content;
	qend = q + t.len;
	/* version v2 */
	if (der_read(&q, qend, &it) < 0 || it.tag != DER_INTEGER ||
	    it.len != 1 || it.content[0] != 1)
		goto bad;
	if (der_read(&q, qend, &it) < 0 || !same_bytes(&it, alg)) {
		snprintf(err, errlen, "CRL: inner signature algorithm does not "
		    "match the CA key");
		return -1;
	}
	/* issuer */
	if (der_read(&q, qend, &it) < 0 || it.tag != DER_SEQUENCE ||
	    der_check_tree(it.content, it.len, 1) < 0)
		goto bad;
	/* thisUpdate, nextUpdate */
	if (der_read(&q, qend, &it) < 0 || !is_time(&it) ||
	    der_read(&q, qend, &it) < 0 || !is_time(&it))
		goto bad;
	if (q < qend && *q == DER_SEQUENCE) {
		if (der_read(&q, qend, &it) < 0 ||
		    check_entries(it.content, it.len) < 0)
			goto bad;
	}
	if (q < qend) {
		const unsigned char *x;
		struct der_item exts;

		if (der_read(&q, qend, &it) < 0 || it.tag != DER_CONTEXT0_CONS)
			goto bad;
		x = it.content;
		if (der_read(&x, it.content + it.len, &exts) < 0 ||
		    exts.tag != DER_SEQUENCE || x != it.content + it.len ||
		    der_check_tree(exts.content, exts.len, 2) < 0)
			goto bad;
	}
	if (q != qend)
		goto bad;
	*tbs = t.start;
	*tbslen = t.total;
	return 0;
bad:
	snprintf(err, errlen, "CRL: not a well-formed unsigned v2 CRL");
	return -1;
}

int
crlsign_sign(EVP_PKEY *key, const unsigned char *crl, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	EVP_MD_CTX *mctx = NULL;
	const unsigned char *tbs;
	unsigned char *sig = NULL;
	struct sigalg alg;
	struct der_buf b;
	size_t tbslen, siglen = 0, body;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	der_buf_init(&b);
	if (sigalg_for_key(key, &alg, err, errlen) < 0 ||
	    crlsign_check(crl, len, &alg, &tbs, &tbslen, err, errlen) < 0)
		goto out;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL ||
	    EVP_DigestSignInit(mctx, NULL, alg.md, NULL, key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &siglen, tbs, tbslen) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(mctx, sig, &siglen, tbs, tbslen) != 1) {
		snprintf(err, errlen, "signing the CRL failed");
		goto out;
	}
	body = tbslen + alg.algid_len + der_header_len(siglen + 1) + siglen + 1;
	if (der_reserve(&b, der_header_len(body) + body) < 0)
		goto nomem;
	der_put_header(&b, DER_SEQUENCE, body);
	der_put(&b, tbs, tbslen);
	der_put(&b, alg.algid, alg.algid_len);
	der_put_header(&b, DER_BIT_STRING, siglen + 1);
	der_put(&b, "", 1);             /* no unused bits */
	der_put(&b, sig, siglen);
	if (b.failed)
		goto nomem;
	*out = b.p;
	*outlen = b.len;
	der_buf_init(&b);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "CRL: out of memory");
out:
	ERR_clear_error();
	der_buf_free(&b);
	free(sig);
	EVP_MD_CTX_free(mctx);
	return rc;
}
