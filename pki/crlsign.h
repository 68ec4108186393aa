/*
 * crlsign.h — the signer's half of CRL signing.  The engine sends an
 * unsigned CRL (crlgen_build); the signer checks that the bytes are
 * exactly the shape of a v2 CRL — so that a TBSCertificate or any other
 * structure can never be passed off as one and signed — signs the
 * TBSCertList bytes, and assembles the signed CRL.  No OpenSSL ASN.1
 * decoding is involved: the check is a strict linear DER walk, fast for
 * hundreds of thousands of entries.
 */
#ifndef PROVD_PKI_CRLSIGN_H
#define PROVD_PKI_CRLSIGN_H

#include <stddef.h>
#include <openssl/evp.h>

#include "cakey.h"
#include "sigalg.h"

/*
 * Check crl[0..len): SEQUENCE { TBSCertList, AlgorithmIdentifier equal to
 * alg's, BIT STRING } and nothing after it, where TBSCertList is version 2,
 * signature equal to alg's, issuer Name, thisUpdate, nextUpdate (required),
 * optional revokedCertificates (each SEQUENCE { INTEGER, Time, optional
 * extensions }), optional [0] extensions, every element well-formed DER.
 * On success *tbs / *tbslen locate the TBSCertList (inside crl).
 * Returns 0 or -1 with a message.
 */
int crlsign_check(const unsigned char *crl, size_t len,
    const struct sigalg *alg, const unsigned char **tbs, size_t *tbslen,
    char *err, size_t errlen);

/*
 * crlsign_check, then sign the TBSCertList with key and return the signed
 * CRL in DER: *out malloc'd (caller frees), *outlen.  Returns 0 or -1.
 */
int crlsign_sign(EVP_PKEY *key, const unsigned char *crl, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen);

/* crlsign_sign with the CA key wherever it lives (file or token). */
int crlsign_sign_key(const struct cakey *key, const unsigned char *crl,
    size_t len, unsigned char **out, size_t *outlen, char *err,
    size_t errlen);

#endif
