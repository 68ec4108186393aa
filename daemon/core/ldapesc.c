/*
 * ldapesc — RFC 4515 filter and RFC 4514 DN escaping through libldap.
 * See ldapesc.h for the contract.
 */
#include "ldapesc.h"

#include <ldap.h>
#include <string.h>
#include <unistr.h>

static void
clear_out(char *out, size_t outsz)
{
	if (out != NULL && outsz > 0)
		out[0] = '\0';
}

/* Copy a berval into out as a C string; -1 if it does not fit. */
static int
copy_out(const struct berval *bv, char *out, size_t outsz)
{
	if (bv->bv_val == NULL || bv->bv_len >= outsz ||
	    memchr(bv->bv_val, '\0', bv->bv_len) != NULL)
		return -1;
	memcpy(out, bv->bv_val, bv->bv_len);
	out[bv->bv_len] = '\0';
	return 0;
}

int
ldapesc_filter_n(const char *value, size_t len, char *out, size_t outsz)
{
	char copy[LDAPESC_VALUE_MAX + 1];
	struct berval in, esc = { 0, NULL };
	int rc = -1;

	clear_out(out, outsz);
	if (value == NULL || out == NULL || outsz == 0 ||
	    len > LDAPESC_VALUE_MAX || memchr(value, '\0', len) != NULL)
		return -1;
	if (len == 0)
		return 0;       /* out is already "" */
	/* libldap takes a non-const berval: hand it a private copy. */
	memcpy(copy, value, len);
	copy[len] = '\0';
	in.bv_val = copy;
	in.bv_len = len;
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		goto out;
	if (copy_out(&esc, out, outsz) != 0)
		goto out;
	rc = 0;
out:
	if (esc.bv_val != NULL)
		ber_memfree(esc.bv_val);
	if (rc != 0)
		clear_out(out, outsz);
	return rc;
}

int
ldapesc_filter(const char *value, char *out, size_t outsz)
{
	if (value == NULL) {
		clear_out(out, outsz);
		return -1;
	}
	return ldapesc_filter_n(value, strnlen(value, LDAPESC_VALUE_MAX + 1),
	    out, outsz);
}

static int
attr_name_ok(const char *attr)
{
	size_t i;

	if (attr == NULL || !((attr[0] >= 'A' && attr[0] <= 'Z') ||
	    (attr[0] >= 'a' && attr[0] <= 'z')))
		return 0;
	for (i = 1; attr[i] != '\0'; i++) {
		char c = attr[i];
		if (i >= LDAPESC_ATTR_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

/* Valid UTF-8 (no overlongs, surrogates or values past U+10FFFF) without
 * C0 control characters or DEL. */
static int
dn_value_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return u8_check((const uint8_t *)s, len) == NULL;
}

int
ldapesc_rdn_dn_n(const char *attr, const char *value, size_t len,
    const char *parent_dn, char *out, size_t outsz)
{
	char attrbuf[LDAPESC_ATTR_MAX + 1];
	char valbuf[LDAPESC_VALUE_MAX + 1];
	LDAPAVA ava;
	LDAPAVA *rdn[2];
	LDAPRDN dn[LDAPESC_PARENT_RDNS_MAX + 2];
	LDAPDN parent = NULL;
	struct berval bv = { 0, NULL };
	size_t i, alen;
	int rc = -1;

	clear_out(out, outsz);
	if (out == NULL || outsz == 0 || value == NULL || len == 0 ||
	    len > LDAPESC_VALUE_MAX || !attr_name_ok(attr) ||
	    !dn_value_ok(value, len))
		return -1;

	alen = strlen(attr);
	memcpy(attrbuf, attr, alen + 1);
	memcpy(valbuf, value, len);
	valbuf[len] = '\0';
	memset(&ava, 0, sizeof(ava));
	ava.la_attr.bv_val = attrbuf;
	ava.la_attr.bv_len = alen;
	ava.la_value.bv_val = valbuf;
	ava.la_value.bv_len = len;
	ava.la_flags = LDAP_AVA_STRING;
	rdn[0] = &ava;
	rdn[1] = NULL;
	dn[0] = rdn;

	i = 0;
	if (parent_dn != NULL && parent_dn[0] != '\0') {
		if (ldap_str2dn(parent_dn, &parent, LDAP_DN_FORMAT_LDAPV3) !=
		    LDAP_SUCCESS || parent == NULL)
			goto out;
		for (; parent[i] != NULL; i++) {
			if (i >= LDAPESC_PARENT_RDNS_MAX)
				goto out;
			dn[i + 1] = parent[i];
		}
	}
	dn[i + 1] = NULL;

	if (ldap_dn2bv(dn, &bv, LDAP_DN_FORMAT_LDAPV3 | LDAP_DN_PRETTY) !=
	    LDAP_SUCCESS)
		goto out;
	if (copy_out(&bv, out, outsz) != 0)
		goto out;
	rc = 0;
out:
	if (bv.bv_val != NULL)
		ldap_memfree(bv.bv_val);
	if (parent != NULL)
		ldap_dnfree(parent);
	if (rc != 0)
		clear_out(out, outsz);
	return rc;
}

int
ldapesc_rdn_dn(const char *attr, const char *value, const char *parent_dn,
    char *out, size_t outsz)
{
	if (value == NULL) {
		clear_out(out, outsz);
		return -1;
	}
	return ldapesc_rdn_dn_n(attr, value,
	    strnlen(value, LDAPESC_VALUE_MAX + 1), parent_dn, out, outsz);
}
