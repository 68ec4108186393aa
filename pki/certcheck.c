/*
 * certcheck.c — the engine's check of a certificate the signer returns
 * (see certcheck.h): a linear DER walk and one signature verification,
 * with no OpenSSL ASN.1 decoding of the certificate.
 */
#include "certcheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "der.h"
#include "sigalg.h"

/*
 * Split a certificate cert[0..len) into its TBSCertificate, its outer
 * AlgorithmIdentifier and its signature BIT STRING.  Returns 0 or -1.
 */
static int
split_cert(const unsigned char *cert, size_t len, struct der_item *tbs,
    struct der_item *alg, struct der_item *sig)
{
	const unsigned char *p = cert, *end = cert + len;
	struct der_item outer;

	if (der_read(&p, end, &outer) < 0 || outer.tag != DER_SEQUENCE ||
	    p != end)
		return -1;
	p = outer.content;
	end = p + outer.len;
	if (der_read(&p, end, tbs) < 0 || tbs->tag != DER_SEQUENCE ||
	    der_read(&p, end, alg) < 0 || alg->tag != DER_SEQUENCE ||
	    der_read(&p, end, sig) < 0 || sig->tag != DER_BIT_STRING ||
	    sig->len < 2 || sig->content[0] != 0 || p != end)
		return -1;
	return 0;
}

/*
 * Is got, the signer's TBSCertificate, byte for byte sent, the engine's,
 * but for its signature field, which must be alg's?  The signature field
 * is the first SEQUENCE of a TBSCertificate (after the [0] version and the
 * serial number).
 */
static bool
same_tbs(const struct der_item *sent, const struct der_item *got,
    const struct sigalg *alg)
{
	const unsigned char *p = sent->content, *pend = p + sent->len;
	const unsigned char *q = got->content, *qend = q + got->len;
	struct der_item a, b;
	bool seen_alg = false;

	while (p < pend && q < qend) {
		if (der_read(&p, pend, &a) < 0 || der_read(&q, qend, &b) < 0 ||
		    a.tag != b.tag)
			return false;
		if (!seen_alg && a.tag == DER_SEQUENCE) {
			seen_alg = true;
			if (b.total != alg->algid_len ||
			    memcmp(b.start, alg->algid, alg->algid_len) != 0)
				return false;
			continue;
		}
		if (a.total != b.total || memcmp(a.start, b.start, a.total) != 0)
			return false;
	}
	return seen_alg && p == pend && q == qend;
}

int
certcheck_signed(EVP_PKEY *pub, const unsigned char *sent, size_t sentlen,
    const unsigned char *got, size_t gotlen, char *err, size_t errlen)
{
	struct der_item st, sa, ss, gt, ga, gs;
	struct sigalg alg;
	EVP_MD_CTX *md = NULL;
	bool ok;

	if (pub == NULL) {
		snprintf(err, errlen, "signer: no CA public key to check with");
		return -1;
	}
	if (sigalg_for_key(pub, &alg, err, errlen) < 0)
		return -1;
	if (split_cert(sent, sentlen, &st, &sa, &ss) < 0 ||
	    split_cert(got, gotlen, &gt, &ga, &gs) < 0) {
		snprintf(err, errlen, "signer sent a malformed certificate");
		return -1;
	}
	if (ga.total != alg.algid_len ||
	    memcmp(ga.start, alg.algid, alg.algid_len) != 0) {
		snprintf(err, errlen, "signer used a signature algorithm "
		    "other than the CA key's");
		return -1;
	}
	if (!same_tbs(&st, &gt, &alg)) {
		snprintf(err, errlen, "signer sent a certificate other than "
		    "the one it was asked to sign");
		return -1;
	}
	md = EVP_MD_CTX_new();
	ok = md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, alg.md, NULL, pub) == 1 &&
	    EVP_DigestVerify(md, gs.content + 1, gs.len - 1, gt.start,
	    gt.total) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!ok) {
		snprintf(err, errlen, "signed certificate does not verify "
		    "with the CA key");
		return -1;
	}
	return 0;
}
