/*
 * pkitime.h — time conversions between time_t, LDAP GeneralizedTime text
 * and ASN.1 times in certificates and CRLs.  All times are UTC.
 *
 * One format on the wire, one in output: every time a reply field carries
 * is GeneralizedTime "YYYYMMDDHHMMSSZ" (pkitime_format_ldap, the form the
 * directory stores); provctl shows every time as ISO 8601
 * "YYYY-MM-DDTHH:MM:SSZ" (proto/fieldtype.h), and the text provd writes
 * for people to read (the audit journal's records, provd-self's audit
 * log) uses that same form through pkitime_format_iso.
 */
#ifndef PROVD_PKI_PKITIME_H
#define PROVD_PKI_PKITIME_H

#include <stddef.h>
#include <time.h>
#include <openssl/asn1.h>

#define PKITIME_LDAP_LEN 15   /* YYYYMMDDHHMMSSZ */
#define PKITIME_ISO_LEN  20   /* YYYY-MM-DDTHH:MM:SSZ */

/*
 * Format t as LDAP GeneralizedTime "YYYYMMDDHHMMSSZ" into out (16 bytes).
 * Returns 0, or -1 when t is outside years 1..9999.
 */
int pkitime_format_ldap(time_t t, char out[PKITIME_LDAP_LEN + 1]);

/* Format t as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" into out (21 bytes).
 * Returns 0, or -1 when t is outside years 1..9999 (out is then ""). */
int pkitime_format_iso(time_t t, char out[PKITIME_ISO_LEN + 1]);

/*
 * Parse "YYYYMMDDHHMMSSZ" exactly (as provd writes it; no fractions or
 * offsets).  Returns 0 with *out set, or -1 with a message.
 */
int pkitime_parse_ldap(const char *s, time_t *out, char *err, size_t errlen);

/* Convert an ASN1_TIME (UTCTime or GeneralizedTime).  Returns 0 or -1. */
int pkitime_from_asn1(const ASN1_TIME *t, time_t *out);

/*
 * Format t the way certificates and OpenSSL's index.txt carry it: UTCTime
 * "YYMMDDHHMMSSZ" for years 1950..2049, GeneralizedTime otherwise
 * (RFC 5280 §4.1.2.5).  out must hold 16 bytes.  Returns 0 or -1.
 */
int pkitime_format_asn1(time_t t, char out[PKITIME_LDAP_LEN + 1]);

#endif
