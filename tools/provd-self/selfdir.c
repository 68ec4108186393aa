#include "selfdir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <lber.h>
#include <ldap.h>

#include "dir.h"
#include "pkitime.h"
#include "schema.h"

static void first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out,
    size_t outsz);

/* Connect (lazily: libldap connects at the first operation) to uri, or
 * to the first of c->uri's list that answers when uri is NULL. */
static LDAP *
connect_uri(const struct selfdir_conf *c, const char *uri, char *err, size_t errlen)
{
	LDAP *ld = NULL;
	int version = LDAP_VERSION3, rc;
	struct timeval tv = { .tv_sec = c->timeout, .tv_usec = 0 };

	if ((rc = ldap_initialize(&ld, uri != NULL ? uri : c->uri)) != LDAP_SUCCESS) {
		snprintf(err, errlen, "ldap_initialize: %s", ldap_err2string(rc));
		return NULL;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "ldap_set_option failed");
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

static LDAP *
connect_dir(const struct selfdir_conf *c, char *err, size_t errlen)
{
	return connect_uri(c, NULL, err, errlen);
}

static int
simple_bind(LDAP *ld, const char *dn, const char *pw)
{
	struct berval cred;

	cred.bv_val = (char *)(uintptr_t)pw;
	cred.bv_len = strlen(pw);
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL);
}

static LDAP *
service_connection(const struct selfdir_conf *c, char *err, size_t errlen)
{
	LDAP *ld = connect_dir(c, err, errlen);
	int rc;

	if (ld == NULL)
		return NULL;
	if ((rc = simple_bind(ld, c->bind_dn, c->bind_pw)) != LDAP_SUCCESS) {
		snprintf(err, errlen, "bind as %s: %s", c->bind_dn,
		    ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/*
 * The writing provider, the way provd chooses it (docs/operations.md, "Two
 * sites"): the first URI of c->uri's list that answers, and only if the
 * writer lease cn=provd-writer,<base> there ("<position> <time> <uri>")
 * names that position.  One URI: that one, no lease needed.  SELFDIR_OK
 * with the service identity bound to the writer in *svc and its URI in
 * uri; SELFDIR_NOT_WRITER (err says who writes) when the lease names
 * another provider; SELFDIR_UNAVAILABLE when none answers or the lease
 * cannot be read.
 */
static enum selfdir_rc
writer_connection(const struct selfdir_conf *c, LDAP **svc, char *uri, size_t urisz,
    char *err, size_t errlen)
{
	char list[SELFDIR_URIS_MAX], *save = NULL, *u, dn[1100], value[600] = "";
	char *attrs[] = { "description", NULL };
	LDAPMessage *res = NULL, *e;
	unsigned long pos = 0, i, n = 0;
	long long renewed = 0;
	int rc, used = 0;
	LDAP *ld = NULL;

	*svc = NULL;
	if (strlen(c->uri) >= sizeof(list)) {
		snprintf(err, errlen, "ldap.uri too long");
		return SELFDIR_UNAVAILABLE;
	}
	snprintf(list, sizeof(list), "%s", c->uri);
	for (u = strtok_r(list, " \t", &save); u != NULL; u = strtok_r(NULL, " \t", &save))
		n++;
	snprintf(list, sizeof(list), "%s", c->uri);
	save = NULL;
	for (i = 0, u = strtok_r(list, " \t", &save); u != NULL;
	    i++, u = strtok_r(NULL, " \t", &save)) {
		if ((ld = connect_uri(c, u, err, errlen)) == NULL)
			continue;
		if ((rc = simple_bind(ld, c->bind_dn, c->bind_pw)) == LDAP_SUCCESS)
			break;
		snprintf(err, errlen, "%s: bind as %s: %s", u, c->bind_dn, ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		ld = NULL;
	}
	if (ld == NULL)
		return SELFDIR_UNAVAILABLE;
	snprintf(uri, urisz, "%s", u);
	if (n <= 1) {
		*svc = ld;
		return SELFDIR_OK;
	}
	snprintf(dn, sizeof(dn), "cn=provd-writer,%s", c->base);
	rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
	    NULL, NULL, NULL, 1, &res);
	if (rc == LDAP_SUCCESS && (e = ldap_first_entry(ld, res)) != NULL)
		first_value(ld, e, "description", value, sizeof(value));
	if (res != NULL)
		ldap_msgfree(res);
	if (rc != LDAP_SUCCESS || value[0] == '\0' ||
	    sscanf(value, "%lu %lld %n", &pos, &renewed, &used) < 2 || used <= 0) {
		snprintf(err, errlen, "no writer lease readable at %s on %s: %s", dn, uri,
		    rc != LDAP_SUCCESS ? ldap_err2string(rc) : "no value");
		ldap_unbind_ext_s(ld, NULL, NULL);
		return SELFDIR_UNAVAILABLE;
	}
	if (pos != i) {
		snprintf(err, errlen, "not the writer: the sites write to %s (position %lu of "
		    "ldap.uri), %s (position %lu) answers here; password changes wait until "
		    "that provider answers again or provd moves its lease",
		    value + used, pos, uri, i);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return SELFDIR_NOT_WRITER;
	}
	*svc = ld;
	return SELFDIR_OK;
}

/* 0 when s is not GeneralizedTime as provd writes it. */
static time_t
parse_gtime(const char *s)
{
	time_t t;

	return pkitime_parse_ldap(s, &t, NULL, 0) == 0 ? t : 0;
}

static void
first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out,
    size_t outsz)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);

	out[0] = '\0';
	if (v != NULL && v[0] != NULL && v[0]->bv_len < outsz &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
}

enum selfdir_rc
selfdir_lookup(const struct selfdir_conf *c, const char *login,
    struct selfdir_person *p, char *err, size_t errlen)
{
	char *attrs[] = { "uid", "mail", "cn", "pwdReset", "pwdEndTime",
	    "pwdAccountLockedTime", NULL };
	char base[1100], filter[1200], value[64];
	struct berval in, esc = { 0, NULL };
	LDAP *ld = NULL;
	LDAPMessage *res = NULL, *e;
	enum selfdir_rc out = SELFDIR_UNAVAILABLE;
	struct timeval tv = { .tv_sec = c->timeout, .tv_usec = 0 };
	int rc;

	memset(p, 0, sizeof(*p));
	in.bv_val = (char *)(uintptr_t)login;
	in.bv_len = strlen(login);
	if (in.bv_len == 0 || in.bv_len > SELFDIR_LOGIN_MAX)
		return SELFDIR_NOT_FOUND;
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0) {
		snprintf(err, errlen, "out of memory");
		return SELFDIR_UNAVAILABLE;
	}
	snprintf(filter, sizeof(filter), "(&(objectClass=inetOrgPerson)(%s=%s))",
	    strchr(login, '@') != NULL ? "mail" : "uid", esc.bv_val);
	ber_memfree(esc.bv_val);
	snprintf(base, sizeof(base), "ou=people,%s", c->base);
	if ((ld = service_connection(c, err, errlen)) == NULL)
		goto out;
	rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_ONELEVEL, filter, attrs, 0,
	    NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		out = SELFDIR_NOT_FOUND;
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "search: %s", ldap_err2string(rc));
		goto out;
	}
	if (ldap_count_entries(ld, res) != 1) {
		out = SELFDIR_NOT_FOUND;
		goto out;
	}
	e = ldap_first_entry(ld, res);
	{
		char *dn = ldap_get_dn(ld, e);

		if (dn == NULL || strlen(dn) >= sizeof(p->dn)) {
			ldap_memfree(dn);
			snprintf(err, errlen, "entry name too long");
			goto out;
		}
		memcpy(p->dn, dn, strlen(dn) + 1);
		ldap_memfree(dn);
	}
	first_value(ld, e, "uid", p->login, sizeof(p->login));
	first_value(ld, e, "mail", p->mail, sizeof(p->mail));
	first_value(ld, e, "cn", p->cn, sizeof(p->cn));
	first_value(ld, e, "pwdReset", value, sizeof(value));
	p->initial = strcmp(value, "TRUE") == 0;
	first_value(ld, e, "pwdAccountLockedTime", value, sizeof(value));
	p->disabled = strcmp(value, SCHEMA_LOCKED_FOREVER) == 0;
	first_value(ld, e, "pwdEndTime", p->end_value, sizeof(p->end_value));
	p->end_time = p->end_value[0] != '\0' ? parse_gtime(p->end_value) : 0;
	out = SELFDIR_OK;
out:
	if (res != NULL)
		ldap_msgfree(res);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return out;
}

/* slapd's reason for refusing a new password, from the ppolicy control. */
static void
policy_reason(LDAP *ld, LDAPControl **ctrls, const char *diag, char *err,
    size_t errlen)
{
	LDAPControl *pp;
	LDAPPasswordPolicyError pe = PP_noError;
	ber_int_t expire = -1, grace = -1;

	snprintf(err, errlen, "%s", diag != NULL && diag[0] != '\0' ? diag :
	    "refused by the password policy");
	pp = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, ctrls, NULL);
	if (pp != NULL && ldap_parse_passwordpolicy_control(ld, pp, &expire,
	    &grace, &pe) == LDAP_SUCCESS && pe != PP_noError)
		snprintf(err, errlen, "%s", ldap_passwordpolicy_err2txt(pe));
}

enum selfdir_rc
selfdir_change(const struct selfdir_conf *c, const struct selfdir_person *p,
    const char *current, const char *next, bool *end_time_left, char *err,
    size_t errlen)
{
	LDAP *ld = NULL, *svc = NULL;
	LDAPControl ppctrl = { .ldctl_oid = LDAP_CONTROL_PASSWORDPOLICYREQUEST,
	    .ldctl_value = { 0, NULL }, .ldctl_iscritical = 0 };
	LDAPControl *sctrls[] = { &ppctrl, NULL }, **rctrls = NULL;
	LDAPMessage *res = NULL;
	struct berval user, old, new;
	struct timeval tv = { .tv_sec = c->timeout, .tv_usec = 0 };
	enum selfdir_rc out = SELFDIR_UNAVAILABLE;
	char *diag = NULL;
	int rc, msgid, result = LDAP_OTHER;

	*end_time_left = false;
	if (next != NULL) {
		/* A change goes to the writing provider, or nowhere: a password
		 * changed on another provider could undo (or be undone by)
		 * provd's changes of the same entry when replication merges. */
		char wuri[SELFDIR_URIS_MAX];

		if ((out = writer_connection(c, &svc, wuri, sizeof(wuri), err, errlen)) !=
		    SELFDIR_OK)
			goto out;
		out = SELFDIR_UNAVAILABLE;
		ld = connect_uri(c, wuri, err, errlen);
	} else {
		ld = connect_dir(c, err, errlen);
	}
	if (ld == NULL)
		goto out;
	rc = simple_bind(ld, p->dn, current);
	if (rc == LDAP_INVALID_CREDENTIALS) {
		out = SELFDIR_BAD_PASSWORD;
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "bind: %s", ldap_err2string(rc));
		goto out;
	}
	if (next == NULL) {             /* only check the current password */
		out = SELFDIR_OK;
		goto out;
	}
	user.bv_val = (char *)(uintptr_t)p->dn;
	user.bv_len = strlen(p->dn);
	old.bv_val = (char *)(uintptr_t)current;
	old.bv_len = strlen(current);
	new.bv_val = (char *)(uintptr_t)next;
	new.bv_len = strlen(next);
	rc = ldap_passwd(ld, &user, &old, &new, sctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "password modify: %s", ldap_err2string(rc));
		goto out;
	}
	if (ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res) <= 0) {
		snprintf(err, errlen, "password modify: no answer in %d s",
		    c->timeout);
		goto out;
	}
	rc = ldap_parse_result(ld, res, &result, NULL, &diag, NULL, &rctrls, 0);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "password modify: %s", ldap_err2string(rc));
		goto out;
	}
	if (result == LDAP_CONSTRAINT_VIOLATION ||
	    result == LDAP_UNWILLING_TO_PERFORM) {
		policy_reason(ld, rctrls, diag, err, errlen);
		out = SELFDIR_POLICY;
		goto out;
	}
	if (result != LDAP_SUCCESS) {
		snprintf(err, errlen, "password modify: %s",
		    ldap_err2string(result));
		goto out;
	}
	out = SELFDIR_OK;
	/* The password is the person's own now: the deadline that bound the
	 * initial one must not cut it off.  slapd cleared pwdReset. */
	if (p->end_value[0] != '\0') {
		/* Only the deadline read: a password an admin reissued in the
		 * meantime keeps its own (then the value differs and slapd
		 * answers noSuchAttribute).  svc is bound to the writer. */
		struct dir_mods *m = dir_mods_new();

		dir_mods_add1(m, LDAP_MOD_DELETE, AT_PWD_END_TIME, p->end_value);
		rc = svc == NULL ? LDAP_SERVER_DOWN :
		    ldap_modify_ext_s(svc, p->dn, dir_mods_get(m), NULL, NULL);
		dir_mods_free(m);
		if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_ATTRIBUTE)
			*end_time_left = true;
	}
out:
	if (diag != NULL)
		ldap_memfree(diag);
	if (rctrls != NULL)
		ldap_controls_free(rctrls);
	if (res != NULL)
		ldap_msgfree(res);
	if (svc != NULL)
		ldap_unbind_ext_s(svc, NULL, NULL);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return out;
}
