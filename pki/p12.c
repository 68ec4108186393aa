/*
 * p12.c — PKCS #12 files for server-side keys (see p12.h).
 */
#include "p12.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>

int
p12_build(EVP_PKEY *key, X509 *cert, X509 *chain, const char *friendly,
    const char *pass, unsigned char **out, size_t *outlen, char *err,
    size_t errlen)
{
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	size_t plen;
	int n, rc = -1;

	*out = NULL;
	*outlen = 0;
	plen = pass != NULL ? strnlen(pass, P12_PASS_MAX + 1) : 0;
	if (plen < P12_PASS_MIN || plen > P12_PASS_MAX) {
		snprintf(err, errlen, "PKCS#12: the passphrase must have %d to %d "
		    "bytes", P12_PASS_MIN, P12_PASS_MAX);
		return -1;
	}
	if (friendly == NULL || strnlen(friendly, P12_FRIENDLY_MAX + 1) >
	    P12_FRIENDLY_MAX) {
		snprintf(err, errlen, "PKCS#12: friendly name missing or longer "
		    "than %d bytes", P12_FRIENDLY_MAX);
		return -1;
	}
	if (X509_check_private_key(cert, key) != 1) {
		snprintf(err, errlen, "PKCS#12: the certificate does not carry "
		    "the key");
		goto out;
	}
	if (chain != NULL &&
	    ((ca = sk_X509_new_null()) == NULL || !sk_X509_push(ca, chain)))
		goto nomem;
	/* mac_iter -1: no MAC here; PKCS12_set_mac adds an HMAC-SHA-256 one
	 * below (PKCS12_create's own would use SHA-1). */
	p12 = PKCS12_create_ex(pass, friendly, key, cert, ca,
	    NID_aes_256_cbc, NID_aes_256_cbc, P12_ITER, -1, 0, NULL, NULL);
	if (p12 == NULL) {
		snprintf(err, errlen, "PKCS#12: cannot build the file");
		goto out;
	}
	if (PKCS12_set_mac(p12, pass, (int)plen, NULL, 0, P12_ITER,
	    EVP_sha256()) != 1) {
		snprintf(err, errlen, "PKCS#12: cannot add the MAC");
		goto out;
	}
	n = i2d_PKCS12(p12, &der);
	if (n <= 0)
		goto nomem;
	if ((*out = malloc((size_t)n)) == NULL)
		goto nomem;
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "PKCS#12: out of memory");
out:
	ERR_clear_error();
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_free(ca);        /* chain stays the caller's */
	return rc;
}
