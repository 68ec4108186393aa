/*
 * csr.h — intake of a certificate signing request sent by an officer.
 * The bytes are hostile.  Only the public key is used: the CSR's subject
 * and extensions are ignored (they come from the account and profile).
 */
#ifndef PROVD_PKI_CSR_H
#define PROVD_PKI_CSR_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "profile.h"

#define CSR_MAX_BYTES (64 * 1024)

/*
 * Parse buf[0..len) as a PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE
 * REQUEST", exactly one block, only whitespace around it) or DER (consumed
 * exactly) PKCS#10 request of at most CSR_MAX_BYTES, and check its
 * signature with its own key (proof of possession).  On success *out is
 * the request's public key (caller frees) and 0 is returned; else -1 with
 * one of:
 *   "CSR larger than 65536 bytes", "not a PEM or DER certificate request",
 *   "trailing data after CSR", "CSR signature does not verify (no proof of
 *   possession)", ...
 */
int csr_parse(const unsigned char *buf, size_t len, EVP_PKEY **out,
    char *err, size_t errlen);

/*
 * Check a subject public key against profile p: key type allowed, RSA size
 * within [min_bits, max_bits], EC curve listed, EC point valid.  Messages:
 *   "RSA key of 1024 bits is below the profile minimum of 2048"
 *   "EC curve prime192v1 is not allowed by profile staff-email (allowed:
 *    P-256, P-384)"
 * Returns 0 or -1.
 */
int csr_check_key(EVP_PKEY *pub, const struct profile *p, char *err,
    size_t errlen);

/*
 * csr_parse + csr_check_key: on success *pub is the request's public key
 * (caller frees with EVP_PKEY_free).  Returns 0 or -1.
 */
int csr_intake(const unsigned char *buf, size_t len, const struct profile *p,
    EVP_PKEY **pub, char *err, size_t errlen);

#endif
