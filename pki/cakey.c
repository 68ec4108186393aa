/*
 * cakey.c — signing with the CA key, file or token (see cakey.h).
 */
#include "cakey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "der.h"
#include "p11.h"

void
cakey_clear(struct cakey *k)
{
	EVP_PKEY_free(k->pkey);     /* wipes a private key */
	p11_key_free(k->p11);
	k->pkey = NULL;
	k->p11 = NULL;
}

int
cakey_sign(const struct cakey *k, const struct sigalg *alg,
    const unsigned char *tbs, size_t tbslen, unsigned char **sig,
    size_t *siglen, char *err, size_t errlen)
{
	EVP_MD_CTX *mctx = NULL;
	unsigned char *s = NULL;
	size_t n = 0;

	*sig = NULL;
	*siglen = 0;
	if (k->p11 != NULL)
		return p11_sign(k->p11, alg->md, tbs, tbslen, sig, siglen, err,
		    errlen);
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL ||
	    EVP_DigestSignInit(mctx, NULL, alg->md, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(mctx, NULL, &n, tbs, tbslen) != 1 ||
	    (s = malloc(n)) == NULL ||
	    EVP_DigestSign(mctx, s, &n, tbs, tbslen) != 1) {
		ERR_clear_error();
		EVP_MD_CTX_free(mctx);
		free(s);
		snprintf(err, errlen, "signing failed");
		return -1;
	}
	EVP_MD_CTX_free(mctx);
	*sig = s;
	*siglen = n;
	return 0;
}

int
cakey_sign_tbs(const struct cakey *k, const struct sigalg *alg,
    const unsigned char *tbs, size_t tbslen, unsigned char **out,
    size_t *outlen, char *err, size_t errlen)
{
	unsigned char *sig = NULL;
	size_t siglen = 0, body;
	struct der_buf b;

	*out = NULL;
	*outlen = 0;
	if (cakey_sign(k, alg, tbs, tbslen, &sig, &siglen, err, errlen) < 0)
		return -1;
	der_buf_init(&b);
	body = tbslen + alg->algid_len + der_header_len(siglen + 1) + siglen + 1;
	if (der_reserve(&b, der_header_len(body) + body) == 0) {
		der_put_header(&b, DER_SEQUENCE, body);
		der_put(&b, tbs, tbslen);
		der_put(&b, alg->algid, alg->algid_len);
		der_put_header(&b, DER_BIT_STRING, siglen + 1);
		der_put(&b, "", 1);             /* no unused bits */
		der_put(&b, sig, siglen);
	}
	free(sig);
	if (b.failed) {
		der_buf_free(&b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

int
cakey_sign_cert(const struct cakey *k, const unsigned char *cert,
    size_t len, unsigned char **out, size_t *outlen, char *err,
    size_t errlen)
{
	const unsigned char *p = cert, *end = cert + len, *q, *qend;
	struct der_item outer, tbs, it, alg_old;
	struct sigalg alg;
	struct der_buf b;
	size_t head, body;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (sigalg_for_key(k->pkey, &alg, err, errlen) < 0)
		return -1;
	/* Certificate ::= SEQUENCE { tbs, algorithm, signature } */
	if (der_read(&p, end, &outer) < 0 || outer.tag != DER_SEQUENCE ||
	    p != end)
		goto bad;
	q = outer.content;
	if (der_read(&q, outer.content + outer.len, &tbs) < 0 ||
	    tbs.tag != DER_SEQUENCE)
		goto bad;
	/* TBSCertificate: [0] version, serialNumber, signature, rest */
	q = tbs.content;
	qend = tbs.content + tbs.len;
	if (der_read(&q, qend, &it) < 0)
		goto bad;
	if (it.tag == DER_CONTEXT0_CONS && der_read(&q, qend, &it) < 0)
		goto bad;
	if (it.tag != DER_INTEGER || der_read(&q, qend, &alg_old) < 0 ||
	    alg_old.tag != DER_SEQUENCE)
		goto bad;
	head = (size_t)(alg_old.start - tbs.content);
	body = tbs.len - alg_old.total + alg.algid_len;
	der_buf_init(&b);
	if (der_reserve(&b, der_header_len(body) + body) == 0) {
		der_put_header(&b, DER_SEQUENCE, body);
		der_put(&b, tbs.content, head);
		der_put(&b, alg.algid, alg.algid_len);
		der_put(&b, q, (size_t)(qend - q));
	}
	if (b.failed) {
		der_buf_free(&b);
		snprintf(err, errlen, "certificate: out of memory");
		return -1;
	}
	rc = cakey_sign_tbs(k, &alg, b.p, b.len, out, outlen, err, errlen);
	der_buf_free(&b);
	return rc;
bad:
	snprintf(err, errlen, "certificate: not a DER certificate");
	return -1;
}
