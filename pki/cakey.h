/*
 * cakey.h — the CA signing key inside the signer process, wherever it
 * lives: a private key read from a file (keyfile.h) or a key on a PKCS #11
 * token (p11.h).  Certificates and CRLs are signed through one path for
 * both: the to-be-signed bytes are signed with the algorithm of the key
 * (sigalg.h) and assembled as SEQUENCE { tbs, AlgorithmIdentifier,
 * BIT STRING } by hand.
 */
#ifndef PROVD_PKI_CAKEY_H
#define PROVD_PKI_CAKEY_H

#include <stddef.h>
#include <openssl/evp.h>

#include "sigalg.h"

struct p11key;

struct cakey {
	EVP_PKEY      *pkey;   /* file key: the private key; token: public */
	struct p11key *p11;    /* NULL for a file key */
};

/* Free both halves and zero k.  Safe on a zeroed cakey. */
void cakey_clear(struct cakey *k);

/*
 * The X.509 signature value over tbs[0..tbslen) with alg (which must be
 * sigalg_for_key of k->pkey): *sig malloc'd (caller frees).  Returns 0 or
 * -1.
 */
int cakey_sign(const struct cakey *k, const struct sigalg *alg,
    const unsigned char *tbs, size_t tbslen, unsigned char **sig,
    size_t *siglen, char *err, size_t errlen);

/*
 * Sign tbs[0..tbslen) (a DER TBSCertificate or TBSCertList whose signature
 * field already is alg->algid) and return SEQUENCE { tbs, alg->algid,
 * BIT STRING signature }: *out malloc'd (caller frees).  Returns 0 or -1.
 */
int cakey_sign_tbs(const struct cakey *k, const struct sigalg *alg,
    const unsigned char *tbs, size_t tbslen, unsigned char **out,
    size_t *outlen, char *err, size_t errlen);

/*
 * Sign the DER certificate cert[0..len) (sealed with any key): its
 * TBSCertificate is kept byte for byte but for the signature field, which
 * becomes the CA key's AlgorithmIdentifier; the outer fields are the CA's.
 * *out malloc'd (caller frees).  Returns 0 or -1.
 */
int cakey_sign_cert(const struct cakey *k, const unsigned char *cert,
    size_t len, unsigned char **out, size_t *outlen, char *err,
    size_t errlen);

#endif
