/*
 * sigalg.h — which signature algorithm the CA key signs with, as a digest
 * and as the DER AlgorithmIdentifier that certificates and CRLs carry.
 *   EC P-256 -> ecdsa-with-SHA256    EC P-384 -> ecdsa-with-SHA384
 *   RSA      -> sha256WithRSAEncryption (PKCS #1 v1.5)
 */
#ifndef PROVD_PKI_SIGALG_H
#define PROVD_PKI_SIGALG_H

#include <stddef.h>
#include <openssl/evp.h>

struct sigalg {
	const EVP_MD        *md;
	const unsigned char *algid;      /* DER AlgorithmIdentifier, static */
	size_t               algid_len;
	int                  nid;        /* signature algorithm NID */
};

/*
 * The algorithm for key pk (public or private).  Returns 0, or -1 with a
 * message for a key that is neither RSA nor EC P-256/P-384.
 */
int sigalg_for_key(const EVP_PKEY *pk, struct sigalg *out, char *err,
    size_t errlen);

#endif
