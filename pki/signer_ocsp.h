/*
 * signer_ocsp.h — the engine's OCSP requests to the signer process.
 *
 * The signer holds a second key besides the CA key: the delegated OCSP
 * responder's (EC P-256).  It is made in the signer's memory by
 * signer_ocsp_newkey and never leaves it; a restarted signer has none, and
 * the engine makes a new one with a new responder certificate.  The CA key
 * never signs an OCSP response.
 */
#ifndef PROVD_PKI_SIGNER_OCSP_H
#define PROVD_PKI_SIGNER_OCSP_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "signer.h"
#include "signer_wire.h"

/* Limits: SIGNER_OCSP_* in signer_wire.h (the signer checks them too). */

/*
 * Replace the responder key by a new one; *pub (caller frees) is its
 * public half, to certify with certgen_ocsp_responder + signer_sign_cert.
 * Returns 0 or -1.
 */
int signer_ocsp_newkey(struct signer *s, EVP_PKEY **pub, char *err,
    size_t errlen);

/*
 * Sign one response per line of lines[0..len) (ocspgen.h format, '\n'
 * between lines, at most SIGNER_OCSP_BATCH_MAX) as responder rcert for the
 * certificates of issuer (both DER), valid from this_update to
 * next_update.  The signer refuses a responder certificate the CA did not
 * sign for its current key, or one that expires before next_update.
 * *out (malloc'd, caller frees) holds the responses in line order, each
 * as a 4-byte big-endian length and the DER OCSPResponse.  Returns 0 or -1.
 */
int signer_ocsp_sign(struct signer *s, const unsigned char *rcert,
    size_t rcertlen, const unsigned char *issuer, size_t issuerlen,
    time_t this_update, time_t next_update, const char *lines, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen);

/*
 * signer_ocsp_newkey through the signer's queue: cb gets the new key's
 * public half as DER SubjectPublicKeyInfo, for signer_ocsp_key_parse
 * (*pub: caller frees; 0 or -1).
 */
int signer_ocsp_newkey_async(struct signer *s, signer_der_fn *cb, void *ctx,
    char *err, size_t errlen);
int signer_ocsp_key_parse(const unsigned char *der, size_t len, EVP_PKEY **pub,
    char *err, size_t errlen);

/*
 * The same through the signer's queue (signer.h, "Asynchronous
 * requests"): cb gets the responses as *out above (valid during the call
 * only).  0 (cb will be called once) or -1 with err.
 */
int signer_ocsp_sign_async(struct signer *s, const unsigned char *rcert,
    size_t rcertlen, const unsigned char *issuer, size_t issuerlen,
    time_t this_update, time_t next_update, const char *lines, size_t len,
    signer_der_fn *cb, void *ctx, char *err, size_t errlen);

#endif
