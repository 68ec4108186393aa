/*
 * index.h — certificate records in OpenSSL's index.txt format, so that
 * "openssl ocsp -index" and "openssl ca" can read provd's records.
 *
 * One line, six tab-separated fields:
 *   status     V (valid), R (revoked or on hold), E (expired)
 *   expiry     notAfter as the certificate carries it: YYMMDDHHMMSSZ
 *              (GeneralizedTime YYYYMMDDHHMMSSZ from 2050 on)
 *   revocation empty unless R: YYMMDDHHMMSSZ[,reason]
 *   serial     upper-case hex, two digits per byte (as BN_bn2hex)
 *   file       "unknown"
 *   subject    X509_NAME_oneline form ("/C=VN/O=.../CN=..."; bytes
 *              outside ASCII escaped as \xHH, as openssl ca writes it)
 *
 * Reasons are written in OpenSSL's spelling.  A keyCompromise or
 * cACompromise with an invalidity date is written as keyTime/CAkeyTime
 * with the date, as "openssl ca -crl_compromise" does.  unspecified is
 * written as no reason (as in the CRL); privilegeWithdrawn and
 * aACompromise have no index.txt spelling and are also written without a
 * reason (status stays R).  Because one person may hold several
 * certificates with one subject, the index needs "unique_subject = no" in
 * index.txt.attr for openssl ca.
 */
#ifndef PROVD_PKI_INDEX_H
#define PROVD_PKI_INDEX_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#include "serial.h"

#define INDEX_LINE_MAX 4096

struct index_record {
	char          status;           /* 'V', 'R' or 'E' */
	time_t        not_after;
	time_t        revoked_at;       /* R only */
	int           reason;           /* R only: enum reason_code */
	time_t        invalidity_date;  /* R only: 0 = none */
	struct serial serial;
	const char   *subject;          /* oneline form (index_subject) */
};

/*
 * Format r as one index.txt line ending in '\n' into out[0..outlen).
 * Refuses a bad status, a revocation time outside 1950..2049 (OpenSSL reads
 * it as UTCTime), tabs or newlines in subject, and lines longer than
 * outlen.  Returns the line length, or -1 with a message.
 */
int index_format_line(const struct index_record *r, char *out, size_t outlen,
    char *err, size_t errlen);

/*
 * The subject of cert in the oneline form openssl ca records, into out.
 * Returns 0, or -1 if it does not fit.
 */
int index_subject(X509 *cert, char *out, size_t outlen);

#endif
