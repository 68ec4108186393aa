/*
 * fingerprint.c — certificate fingerprints (see fingerprint.h).
 */
#include "fingerprint.h"

#include <stdio.h>

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
