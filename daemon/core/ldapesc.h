/*
 * ldapesc — escaping of values for LDAP search filters (RFC 4515) and DNs
 * (RFC 4514), done by libldap's own encoders so that what we send is exactly
 * what libldap and slapd parse back.
 *
 * Both functions treat the value as hostile: any byte may appear. They never
 * truncate: a result that does not fit the caller's buffer is an error.
 */
#ifndef PROVD_LDAPESC_H
#define PROVD_LDAPESC_H

#include <stddef.h>

/* Longest value accepted, in bytes (before escaping). */
#define LDAPESC_VALUE_MAX 4096
/* Longest attribute name accepted by ldapesc_rdn_dn. */
#define LDAPESC_ATTR_MAX 64
/* Most RDNs accepted in parent_dn. */
#define LDAPESC_PARENT_RDNS_MAX 32

/*
 * Escape `value` for use as an assertion value inside a search filter:
 * '*', '(', ')', '\', NUL and every byte outside printable ASCII become \XX
 * (ldap_bv2escaped_filter_value). Writes the NUL-terminated result to `out`
 * (`outsz` bytes; 3 * strlen(value) + 1 is always enough) and returns 0.
 * Returns -1, with `out` set to "" when outsz > 0, if value or out is NULL,
 * value is longer than LDAPESC_VALUE_MAX, or the result does not fit.
 */
int ldapesc_filter(const char *value, char *out, size_t outsz);

/* The same for a counted value of `len` bytes; a NUL byte in it is refused
 * (returns -1) rather than escaped, since no provd value may hold one. */
int ldapesc_filter_n(const char *value, size_t len, char *out, size_t outsz);

/*
 * Build the DN "attr=<value>,<parent_dn>" with the value escaped as RFC 4514
 * requires (',', '+', '"', '\', '<', '>', ';', '=', a leading '#' or space, a
 * trailing space), by assembling an LDAPAVA/LDAPRDN/LDAPDN and rendering it
 * with ldap_dn2bv(LDAP_DN_FORMAT_LDAPV3 | LDAP_DN_PRETTY): UTF-8 is kept as
 * is. parent_dn is parsed (ldap_str2dn) and re-rendered the same way; NULL
 * or "" gives the bare RDN "attr=<value>". Parsing the result with
 * ldap_str2dn gives back `value` byte for byte.
 *
 * `attr` must match [A-Za-z][A-Za-z0-9-]* (at most LDAPESC_ATTR_MAX bytes).
 * `value` must be non-empty, valid UTF-8, at most LDAPESC_VALUE_MAX bytes and
 * free of control characters (U+0000..U+001F, U+007F).
 *
 * Writes the NUL-terminated DN to `out` (`outsz` bytes) and returns 0.
 * Returns -1, with `out` set to "" when outsz > 0, on a bad attr, value or
 * parent_dn, when the DN does not fit, or when memory is exhausted.
 */
int ldapesc_rdn_dn(const char *attr, const char *value,
    const char *parent_dn, char *out, size_t outsz);

/* The same for a counted value of `len` bytes; a NUL byte is refused. */
int ldapesc_rdn_dn_n(const char *attr, const char *value, size_t len,
    const char *parent_dn, char *out, size_t outsz);

#endif
