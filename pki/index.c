/*
 * index.c — OpenSSL index.txt lines (see index.h).
 */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pkitime.h"
#include "reason.h"

/* How OpenSSL's apps (ca, ocsp) spell the reasons they understand. */
static const char *
openssl_reason(int code)
{
	switch (code) {
	case REASON_KEY_COMPROMISE:         return "keyCompromise";
	case REASON_CA_COMPROMISE:          return "CACompromise";
	case REASON_AFFILIATION_CHANGED:    return "affiliationChanged";
	case REASON_SUPERSEDED:             return "superseded";
	case REASON_CESSATION_OF_OPERATION: return "cessationOfOperation";
	case REASON_CERTIFICATE_HOLD:       return "certificateHold";
	default:                            return NULL;
	}
}

int
index_format_line(const struct index_record *r, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char expiry[PKITIME_LDAP_LEN + 1], rev[64] = "", gt[PKITIME_LDAP_LEN + 1];
	char hex[SERIAL_HEX_MAX + 1];
	int n;

	if (r->status != 'V' && r->status != 'R' && r->status != 'E') {
		snprintf(err, errlen, "index: status must be V, R or E");
		return -1;
	}
	if (r->serial.len == 0 || r->serial.len > SERIAL_MAX_BYTES) {
		snprintf(err, errlen, "index: bad serial");
		return -1;
	}
	if (r->subject == NULL || strpbrk(r->subject, "\t\r\n") != NULL) {
		snprintf(err, errlen, "index: subject missing or holds a tab "
		    "or newline");
		return -1;
	}
	if (pkitime_format_asn1(r->not_after, expiry) < 0) {
		snprintf(err, errlen, "index: bad expiry time");
		return -1;
	}
	if (r->status == 'R') {
		struct tm tm;
		const char *why = openssl_reason(r->reason);

		if (gmtime_r(&r->revoked_at, &tm) == NULL ||
		    tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 >= 2050 ||
		    pkitime_format_asn1(r->revoked_at, rev) < 0) {
			snprintf(err, errlen, "index: revocation time must be "
			    "in 1950..2049");
			return -1;
		}
		if (r->invalidity_date != 0 &&
		    (r->reason == REASON_KEY_COMPROMISE ||
		    r->reason == REASON_CA_COMPROMISE)) {
			if (pkitime_format_ldap(r->invalidity_date, gt) < 0) {
				snprintf(err, errlen, "index: bad invalidity "
				    "date");
				return -1;
			}
			snprintf(rev + strlen(rev), sizeof(rev) - strlen(rev),
			    ",%s,%s", r->reason == REASON_KEY_COMPROMISE ?
			    "keyTime" : "CAkeyTime", gt);
		} else if (why != NULL) {
			snprintf(rev + strlen(rev), sizeof(rev) - strlen(rev),
			    ",%s", why);
		}
	}
	serial_to_hex(&r->serial, 1, hex);
	n = snprintf(out, outlen, "%c\t%s\t%s\t%s\tunknown\t%s\n", r->status,
	    expiry, rev, hex, r->subject);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "index: line longer than %zu bytes",
		    outlen);
		return -1;
	}
	return n;
}

int
index_subject(X509 *cert, char *out, size_t outlen)
{
	char *s;
	size_t n;

	if (cert == NULL || outlen == 0)
		return -1;
	s = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n >= outlen) {
		OPENSSL_free(s);
		return -1;
	}
	memcpy(out, s, n + 1);
	OPENSSL_free(s);
	return 0;
}
