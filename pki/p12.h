/*
 * p12.h — the PKCS #12 file handed to a person whose key the office made
 * (cert issue --generate).  Built only in provd-keygen, the short-lived
 * process that holds that key.
 *
 * Both bags (key and certificates) are encrypted with PBES2: AES-256-CBC
 * under a PBKDF2 key with HMAC-SHA-256 and P12_ITER iterations; the MAC is
 * HMAC-SHA-256 with the same count.  No RC2, no 3DES, no SHA-1.  The key
 * bag and the person's certificate carry the friendly name and the same
 * localKeyID; the CA certificate follows as the chain.  OpenSSL 3,
 * GnuTLS and NSS (Thunderbird) read it.
 */
#ifndef PROVD_PKI_P12_H
#define PROVD_PKI_P12_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define P12_ITER          600000
#define P12_FRIENDLY_MAX  256
#define P12_PASS_MIN      8
#define P12_PASS_MAX      1024

/*
 * Build the file for key and cert (which must carry key's public half)
 * with chain (may be NULL) under passphrase pass (P12_PASS_MIN ..
 * P12_PASS_MAX bytes, no NUL) and friendly name friendly (UTF-8).
 * *out malloc'd DER (caller frees).  Returns 0 or -1 with a message.
 */
int p12_build(EVP_PKEY *key, X509 *cert, X509 *chain, const char *friendly,
    const char *pass, unsigned char **out, size_t *outlen, char *err,
    size_t errlen);

#endif
