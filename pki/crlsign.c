/*
 * crlsign.c — checking and signing CRLs in the signer (see crlsign.h).
 */
#include "crlsign.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "der.h"

static bool
is_time(const struct der_item *it)
{
	size_t i, want;

	if (it->tag == DER_UTCTIME)
		want = 13;
	else if (it->tag == DER_GENERALIZEDTIME)
		want = 15;
	else
		return false;
	if (it->len != want || it->content[want - 1] != 'Z')
		return false;
	for (i = 0; i + 1 < want; i++)
		if (it->content[i] < '0' || it->content[i] > '9')
			return false;
	return true;
}

static bool
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
crlsign_sign_key(const struct cakey *key, const unsigned char *crl,
    size_t len, unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	const unsigned char *tbs;
	struct sigalg alg;
	size_t tbslen;

	*out = NULL;
	*outlen = 0;
	if (sigalg_for_key(key->pkey, &alg, err, errlen) < 0 ||
	    crlsign_check(crl, len, &alg, &tbs, &tbslen, err, errlen) < 0)
		return -1;
	if (cakey_sign_tbs(key, &alg, tbs, tbslen, out, outlen, err,
	    errlen) < 0) {
		snprintf(err, errlen, "signing the CRL failed");
		return -1;
	}
	return 0;
}

int
crlsign_sign(EVP_PKEY *key, const unsigned char *crl, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	struct cakey k = { .pkey = key, .p11 = NULL };

	return crlsign_sign_key(&k, crl, len, out, outlen, err, errlen);
}
