/*
 * ocspgen.h — pre-signed OCSP responses (RFC 6960, RFC 5019 profile) for
 * the certificates of one CA, signed by a delegated responder.
 *
 * The engine describes each certificate's state as one text line (so the
 * signer never parses more than a short line per response):
 *
 *   SERIALHEX good
 *   SERIALHEX revoked REASON REVOKED_AT [INVALIDITY]
 *   SERIALHEX unknown          (a serial provd has no record of)
 *
 * REASON is the RFC 5280 reason code (0..10, not 7; 6 = certificateHold),
 * times are seconds since the epoch, INVALIDITY 0 or absent = none.
 *
 * The signer (which alone holds the responder key) turns a line into a
 * complete DER OCSPResponse: CertID with SHA-1 hashes (RFC 5019 §2.1.1),
 * thisUpdate/nextUpdate as given, responderID byKey, the responder
 * certificate included, no nonce (the response is made before anyone asks).
 */
#ifndef PROVD_PKI_OCSPGEN_H
#define PROVD_PKI_OCSPGEN_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "serial.h"

#define OCSPGEN_LINE_MAX   128
#define OCSPGEN_RESP_MAX   (16 * 1024)   /* one response, responder cert included */

enum ocspgen_status { OCSPGEN_GOOD = 0, OCSPGEN_REVOKED = 1, OCSPGEN_UNKNOWN = 2 };

struct ocspgen_entry {
	struct serial serial;
	int           status;        /* enum ocspgen_status */
	int           reason;        /* revoked: RFC 5280 code */
	time_t        revoked_at;    /* revoked */
	time_t        invalidity;    /* revoked: 0 = none */
	unsigned      gen;           /* the engine's: the CA generation that
	                                issued it (0 = the current CA); not
	                                formatted */
};

/* Format e as one line (without newline) into out.  Returns its length,
 * or -1 when it does not fit or e is not valid. */
int ocspgen_format(const struct ocspgen_entry *e, char *out, size_t outlen);

/* Parse one line (no newline) strictly.  Returns 0, or -1 with a message. */
int ocspgen_parse(const char *line, size_t len, struct ocspgen_entry *e,
    char *err, size_t errlen);

/*
 * Check that rcert may sign OCSP responses for issuer with rkey: it
 * carries rkey, issuer issued it and its signature verifies with ca_pub,
 * issuer carries ca_pub, it is not a CA, its extendedKeyUsage has
 * id-kp-OCSPSigning.  Returns 0, or -1 with the reason.
 */
int ocspgen_check_responder(X509 *rcert, EVP_PKEY *rkey, X509 *issuer,
    EVP_PKEY *ca_pub, char *err, size_t errlen);

/*
 * Sign one response for e with rkey as responder rcert (checked by the
 * caller) for the certificates of issuer, valid from this_update to
 * next_update.  *der (malloc'd, caller frees) is the DER OCSPResponse.
 * Returns 0 or -1 with a message.
 */
int ocspgen_sign(EVP_PKEY *rkey, X509 *rcert, X509 *issuer,
    const struct ocspgen_entry *e, time_t this_update, time_t next_update,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/*
 * A DER OCSPResponse without a body for an error status
 * (OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, _UNAUTHORIZED, _INTERNALERROR,
 * _TRYLATER).  *der malloc'd, caller frees.  Returns 0 or -1.
 */
int ocspgen_error(int status, unsigned char **der, size_t *derlen);

#endif
