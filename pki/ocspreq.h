/*
 * ocspreq.h — reading an OCSP request from the network (RFC 6960 §4.1,
 * RFC 5019 §2.1) for provd-ocsp, which answers with pre-signed responses.
 *
 * Every byte is hostile: a request is decoded only if it is one DER
 * OCSPRequest of at most OCSPREQ_MAX bytes with exactly one Request (RFC
 * 5019 §2.1.1).  Its CertID must use SHA-1 (the responses are pre-signed
 * with SHA-1 CertIDs, as RFC 5019 requires of clients) and name our issuer.
 * Extensions are ignored, the nonce too: a pre-signed response cannot
 * echo it, which RFC 8954 §2.1 (and RFC 5019 §2.1.2) allow.
 */
#ifndef PROVD_PKI_OCSPREQ_H
#define PROVD_PKI_OCSPREQ_H

#include <stddef.h>

#include <openssl/x509.h>

#include "serial.h"

#define OCSPREQ_MAX      (8 * 1024)   /* a one-certificate request is ~100 bytes */
#define OCSPREQ_HASH_LEN 20           /* SHA-1 */

struct ocspreq_issuer {
	unsigned char name_hash[OCSPREQ_HASH_LEN];
	unsigned char key_hash[OCSPREQ_HASH_LEN];
};

enum ocspreq_result {
	OCSPREQ_SERIAL = 0,       /* *serial is the certificate asked about */
	OCSPREQ_MALFORMED,        /* not one well-formed single request */
	OCSPREQ_OTHER_ISSUER,     /* another CA, or a CertID hash we do not sign */
	OCSPREQ_BAD_SERIAL,       /* zero, negative or longer than 20 bytes:
	                             never one of ours */
};

/* The SHA-1 hashes of ca's subject name and public key (the CertID's
 * issuerNameHash and issuerKeyHash).  Returns 0 or -1. */
int ocspreq_issuer_of(X509 *ca, struct ocspreq_issuer *out);

/* Decode der[0..len) and check it against iss (see above).  The common
 * request (one SHA-1 CertID, no version, requestor name, extensions or
 * signature, strict DER) is read without OpenSSL; anything else goes to
 * ocspreq_parse_openssl, whose answer the fast path always gives. */
enum ocspreq_result ocspreq_parse(const unsigned char *der, size_t len,
    const struct ocspreq_issuer *iss, struct serial *serial);

/* The same, every request decoded by OpenSSL (the reference the unit
 * test holds the fast path to). */
enum ocspreq_result ocspreq_parse_openssl(const unsigned char *der, size_t len,
    const struct ocspreq_issuer *iss, struct serial *serial);

/*
 * Decode the base64 in in[0..len) of an RFC 5019 GET (after the URL's
 * percent-decoding): standard or URL-safe alphabet, padding optional, a
 * space taken as '+' (a '+' that went through form decoding).  Returns the
 * number of bytes written to out (at most outsize), or -1.
 */
long ocspreq_base64(const char *in, size_t len, unsigned char *out,
    size_t outsize);

#endif
