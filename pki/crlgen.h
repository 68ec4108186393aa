/*
 * crlgen.h — build the CA's CRL from the revocation records, and publish
 * the signed result atomically.
 */
#ifndef PROVD_PKI_CRLGEN_H
#define PROVD_PKI_CRLGEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

#include "serial.h"

/* ~55 bytes an entry: one million entries stay below the signer's 64 MiB
 * message cap (SIGNER_WIRE_MAX). */
#define CRLGEN_MAX_ENTRIES     (1000u * 1000)
#define CRLGEN_NEXT_DAYS_MAX   31
#define CRLGEN_PATH_MAX        4096

struct crl_entry {
	struct serial serial;
	time_t        revoked_at;
	int           reason;           /* enum reason_code */
	time_t        invalidity_date;  /* 0 = none */
};

/*
 * Build an unsigned v2 CRL, DER-encoded: issuer = the CA certificate's
 * subject, signature algorithm chosen from the CA's key (sigalg.h),
 * thisUpdate = now (0 = time(NULL)), nextUpdate = now + next_update_days
 * (1..31), cRLNumber = number, authorityKeyIdentifier keyid = the CA's SKI
 * (or a hash of its key), one entry per element of entries[0..n) sorted by
 * serial: revocationDate, reasonCode (omitted for unspecified, as RFC 5280
 * §5.3.1 asks), invalidityDate (GeneralizedTime) when set.  The signature
 * BIT STRING is empty: have signer_sign_crl() sign it.  The encoding is
 * done here rather than with OpenSSL's ASN.1 templates, which take ~2 µs
 * per entry per pass; 100,000 entries take a few milliseconds.
 * Refuses removeFromCRL and unknown reasons, a serial listed twice, times
 * before 1950.  On success *der (malloc'd, caller frees) and *derlen;
 * returns 0, else -1 with a message naming the bad entry.
 */
int crlgen_build(X509 *cacert, uint64_t number, time_t now,
    unsigned next_update_days, const struct crl_entry *entries, size_t n,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/*
 * Publish data at path atomically: write a temporary file in the same
 * directory (mode 0644), fsync it, rename it over path, fsync the
 * directory.  On failure the temporary file is removed and path is left
 * as it was.  Returns 0, or -1 with a message naming the file.
 */
int crlgen_write_file(const char *path, const unsigned char *data,
    size_t len, char *err, size_t errlen);

#endif
