/*
 * reason.h — RFC 5280 §5.3.1 CRLReason codes and their names.
 */
#ifndef PROVD_PKI_REASON_H
#define PROVD_PKI_REASON_H

#include <stdbool.h>
#include <stddef.h>

enum reason_code {
	REASON_UNSPECIFIED            = 0,
	REASON_KEY_COMPROMISE         = 1,
	REASON_CA_COMPROMISE          = 2,
	REASON_AFFILIATION_CHANGED    = 3,
	REASON_SUPERSEDED             = 4,
	REASON_CESSATION_OF_OPERATION = 5,
	REASON_CERTIFICATE_HOLD       = 6,
	/* 7 is unused by RFC 5280 */
	REASON_REMOVE_FROM_CRL        = 8,
	REASON_PRIVILEGE_WITHDRAWN    = 9,
	REASON_AA_COMPROMISE          = 10
};

#define REASON_NAME_MAX 32

/*
 * RFC 5280 name of a code ("keyCompromise", "cACompromise", ...), or NULL
 * for a code RFC 5280 does not define.  Static storage.
 */
const char *reason_name(int code);

/*
 * Parse a reason name given by an officer, case-insensitively.  Refuses
 * unknown names and removeFromCRL (only meaningful in delta CRLs, which
 * provd does not issue); the message lists the accepted names.  Returns 0
 * with *code set, or -1.
 */
int reason_parse(const char *name, int *code, char *err, size_t errlen);

/*
 * Non-zero when a CRL entry may carry this code: every RFC 5280 code except
 * 7 (unused) and removeFromCRL.
 */
bool reason_valid_for_crl(int code);

#endif
