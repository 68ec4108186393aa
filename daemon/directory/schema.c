/* schema — the directory's vocabulary. See schema.h. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir.h"
#include "ldapesc.h"
#include "names.h"
#include "wire.h"

const char *const schema_account_attrs[SA_N + 1] = {
	[SA_UID] = AT_UID,
	[SA_MAIL] = AT_MAIL,
	[SA_CN] = AT_CN,
	[SA_GIVEN] = AT_GIVEN_NAME,
	[SA_SN] = AT_SURNAME,
	[SA_EMPLOYEE] = AT_EMPLOYEE_ID,
	[SA_UNIT] = AT_UNIT,
	[SA_TITLE] = AT_TITLE,
	[SA_PHONE] = AT_PHONE,
	[SA_ALIAS] = AT_MAIL_ALIAS,
	[SA_QUOTA] = AT_MAIL_QUOTA,
	[SA_LOCKED] = AT_LOCKED_TIME,
	[SA_REASON] = AT_DISABLED_REASON,
	[SA_DELETE] = AT_DELETE_AFTER,
	[SA_CREATED] = AT_CREATED,
	[SA_N] = NULL,
};

static const char *const account_names[] = {
	[ACCOUNT_STATE_ACTIVE] = "active",
	[ACCOUNT_STATE_DISABLED] = "disabled",
	[ACCOUNT_STATE_DELETED] = "deleted",
};

static const char *const account_filters[] = {
	[ACCOUNT_STATE_ACTIVE] = "(!" SCHEMA_FILTER_LOCKED ")(!(" AT_DELETE_AFTER "=*))",
	[ACCOUNT_STATE_DISABLED] = SCHEMA_FILTER_LOCKED "(!(" AT_DELETE_AFTER "=*))",
	[ACCOUNT_STATE_DELETED] = "(" AT_DELETE_AFTER "=*)",
};

static const char *const cert_names[] = {
	[CERT_STATE_VALID] = "valid",
	[CERT_STATE_HOLD] = "hold",
	[CERT_STATE_REVOKED] = "revoked",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
account_state_name(enum account_state s)
{
	return (size_t)s < NELEM(account_names) ? account_names[s] : "?";
}

int
account_state_parse(const char *name, enum account_state *out)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(account_names); i++)
		if (strcmp(name, account_names[i]) == 0) {
			*out = (enum account_state)i;
			return 0;
		}
	return -1;
}

const char *
account_state_filter(enum account_state s)
{
	return (size_t)s < NELEM(account_filters) ? account_filters[s] : "(!(objectClass=*))";
}

enum account_state
account_state_read(LDAP *ld, LDAPMessage *e)
{
	char *locked = dir_entry_get(ld, e, AT_LOCKED_TIME);
	char *del = dir_entry_get(ld, e, AT_DELETE_AFTER);
	enum account_state st = ACCOUNT_STATE_ACTIVE;

	if (del != NULL)
		st = ACCOUNT_STATE_DELETED;
	else if (locked != NULL && strcmp(locked, SCHEMA_LOCKED_FOREVER) == 0)
		st = ACCOUNT_STATE_DISABLED;
	free(locked);
	free(del);
	return st;
}

int
schema_filter_person(const char *key, bool employee_id, char *out, size_t outsz)
{
	char esc[800];
	int n;

	if (key == NULL || strlen(key) > 254 || ldapesc_filter(key, esc, sizeof(esc)) < 0)
		return -1;
	if (employee_id)
		n = snprintf(out, outsz,
		             "(&(objectClass=" OC_PERSON ")(|(" AT_UID "=%s)(" AT_MAIL
		             "=%s)(" AT_MAIL_ALIAS "=%s)(" AT_EMPLOYEE_ID "=%s)))",
		             esc, esc, esc, esc);
	else
		n = snprintf(out, outsz,
		             "(&(objectClass=" OC_PERSON ")(|(" AT_UID "=%s)(" AT_MAIL
		             "=%s)(" AT_MAIL_ALIAS "=%s)))",
		             esc, esc, esc);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
schema_filter_name_words(const char *name, bool prefix, char *out, size_t outsz)
{
	char words[NAMES_WORDS_MAX][NAMES_WORD_BUFSZ];
	int n = names_fold_words(name, words, NAMES_WORDS_MAX), k, w;
	size_t len;

	if (n <= 0 || outsz < 4)
		return -1;
	/* Folded words are [a-z0-9]: nothing to escape. */
	strcpy(out, "(&");
	len = 2;
	for (k = 0; k < n; k++) {
		w = snprintf(out + len, outsz - len, "(" AT_NAME_WORDS "=%s%s)", words[k],
		             prefix ? "*" : "");
		if (w < 0 || (size_t)w >= outsz - len)
			return -1;
		len += (size_t)w;
	}
	if (len + 2 > outsz)
		return -1;
	memcpy(out + len, ")", 2);
	return 0;
}

const char *
cert_state_name(enum cert_state s)
{
	return (size_t)s < NELEM(cert_names) ? cert_names[s] : "?";
}

int
cert_state_parse(const char *name, enum cert_state *out)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(cert_names); i++)
		if (strcasecmp(name, cert_names[i]) == 0) {
			*out = (enum cert_state)i;
			return 0;
		}
	return -1;
}

int
schema_status_of_ldap(int code)
{
	switch (code) {
	case LDAP_SUCCESS: return ST_OK;
	case LDAP_NO_SUCH_OBJECT: return ST_NOTFOUND;
	case LDAP_ALREADY_EXISTS:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_ASSERTION_FAILED: return ST_CONFLICT;
	case LDAP_INSUFFICIENT_ACCESS: return ST_PERMISSION;
	case LDAP_SERVER_DOWN:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR: return ST_UNAVAILABLE;
	case LDAP_INVALID_SYNTAX:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_UNDEFINED_TYPE: return ST_INVALID;
	}
	return ST_INTERNAL;
}
