/*
 * reason.c — RFC 5280 CRLReason names (see reason.h).
 */
#include "reason.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const reason_names[] = {
	[REASON_UNSPECIFIED]            = "unspecified",
	[REASON_KEY_COMPROMISE]         = "keyCompromise",
	[REASON_CA_COMPROMISE]          = "cACompromise",
	[REASON_AFFILIATION_CHANGED]    = "affiliationChanged",
	[REASON_SUPERSEDED]             = "superseded",
	[REASON_CESSATION_OF_OPERATION] = "cessationOfOperation",
	[REASON_CERTIFICATE_HOLD]       = "certificateHold",
	[REASON_REMOVE_FROM_CRL]        = "removeFromCRL",
	[REASON_PRIVILEGE_WITHDRAWN]    = "privilegeWithdrawn",
	[REASON_AA_COMPROMISE]          = "aACompromise",
};

#define NREASONS (sizeof(reason_names) / sizeof(reason_names[0]))

const char *
reason_name(int code)
{
	if (code < 0 || (size_t)code >= NREASONS)
		return NULL;
	return reason_names[code];
}

bool
reason_valid_for_crl(int code)
{
	return reason_name(code) != NULL && code != REASON_REMOVE_FROM_CRL;
}

int
reason_parse(const char *name, int *code, char *err, size_t errlen)
{
	size_t i;

	if (name == NULL || *name == '\0' ||
	    strnlen(name, REASON_NAME_MAX + 1) > REASON_NAME_MAX)
		goto bad;
	for (i = 0; i < NREASONS; i++) {
		if (reason_names[i] == NULL ||
		    strcasecmp(name, reason_names[i]) != 0)
			continue;
		if ((int)i == REASON_REMOVE_FROM_CRL) {
			snprintf(err, errlen, "reason: removeFromCRL is only "
			    "used in delta CRLs; release a hold instead");
			return -1;
		}
		*code = (int)i;
		return 0;
	}
bad:
	snprintf(err, errlen, "reason: unknown revocation reason (use one of "
	    "unspecified, keyCompromise, cACompromise, affiliationChanged, "
	    "superseded, cessationOfOperation, certificateHold, "
	    "privilegeWithdrawn, aACompromise)");
	return -1;
}
