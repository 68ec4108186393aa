/*
 * fingerprint.c — certificate fingerprints (see fingerprint.h).
 */
#include "fingerprint.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "hex.h"

int
fingerprint_sha256(const X509 *cert, char out[FINGERPRINT_HEX_LEN + 1],
    char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &n) != 1 ||
	    n != 32) {
		snprintf(err, errlen, "certificate: cannot compute SHA-256 "
		    "fingerprint");
		return -1;
	}
	hex_encode(md, n, out);
	return 0;
}

int
fingerprint_sha256_der(const unsigned char *der, size_t len,
    char out[FINGERPRINT_HEX_LEN + 1], char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (der == NULL || len == 0 ||
	    EVP_Digest(der, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		snprintf(err, errlen, "certificate: cannot compute SHA-256 "
		    "fingerprint");
		return -1;
	}
	hex_encode(md, n, out);
	return 0;
}

int
fingerprint_spki(const EVP_PKEY *pub, char out[FINGERPRINT_HEX_LEN + 1],
    char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL;
	int len, rc = -1;

	if (pub == NULL || (k = EVP_PKEY_dup((EVP_PKEY *)(uintptr_t)pub)) == NULL)
		goto out;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    !EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
		goto out;
	if ((len = i2d_PUBKEY(k, &der)) <= 0)
		goto out;
	rc = fingerprint_sha256_der(der, (size_t)len, out, err, errlen);
out:
	if (rc < 0)
		snprintf(err, errlen, "key: cannot compute the SubjectPublicKeyInfo hash");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return rc;
}

int
fingerprint_spki_cert_der(const unsigned char *der, size_t len,
    char out[FINGERPRINT_HEX_LEN + 1], char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509 *x;
	int rc;

	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		snprintf(err, errlen, "certificate: cannot decode");
		return -1;
	}
	rc = fingerprint_spki(X509_get0_pubkey(x), out, err, errlen);
	X509_free(x);
	return rc;
}
