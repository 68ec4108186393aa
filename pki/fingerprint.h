/*
 * fingerprint.h — SHA-256 fingerprint of a certificate, as stored in the
 * certificate record (provdCertFingerprint).
 */
#ifndef PROVD_PKI_FINGERPRINT_H
#define PROVD_PKI_FINGERPRINT_H

#include <stddef.h>
#include <openssl/x509.h>

#define FINGERPRINT_HEX_LEN 64

/*
 * SHA-256 over the DER certificate, 64 lower-case hex digits without
 * separators, into out (65 bytes).  Returns 0, or -1 with a message.
 */
int fingerprint_sha256(const X509 *cert, char out[FINGERPRINT_HEX_LEN + 1],
    char *err, size_t errlen);

/* The same over a certificate already in DER, der[0..len). */
int fingerprint_sha256_der(const unsigned char *der, size_t len,
    char out[FINGERPRINT_HEX_LEN + 1], char *err, size_t errlen);

/*
 * The key's identity: SHA-256 over its SubjectPublicKeyInfo in DER, with an
 * EC point in uncompressed form, so that one key has one hash whichever
 * point form a request used (provdCertKeyHash).  64 lower-case hex digits
 * into out.  Returns 0, or -1 with a message.
 */
int fingerprint_spki(const EVP_PKEY *pub, char out[FINGERPRINT_HEX_LEN + 1],
    char *err, size_t errlen);

/* The same for the key a DER certificate carries. */
int fingerprint_spki_cert_der(const unsigned char *der, size_t len,
    char out[FINGERPRINT_HEX_LEN + 1], char *err, size_t errlen);

#endif
