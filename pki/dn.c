/*
 * dn.c — distinguished name parsing (see dn.h).
 */
#include "dn.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unistr.h>

#include <openssl/objects.h>

#include "hex.h"

struct dn_type {
	const char *name;
	int         nid;
};

static const struct dn_type dn_types[] = {
	{ "C",            NID_countryName },
	{ "ST",           NID_stateOrProvinceName },
	{ "L",            NID_localityName },
	{ "O",            NID_organizationName },
	{ "OU",           NID_organizationalUnitName },
	{ "CN",           NID_commonName },
	{ "DC",           NID_domainComponent },
	{ "serialNumber", NID_serialNumber },
	{ "street",       NID_streetAddress },
	{ "title",        NID_title },
};

struct dn_ava {
	int  nid;
	char value[DN_VALUE_MAX * 4 + 1];   /* UTF-8, at most 4 bytes/char */
};

static bool
is_printable_string(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!(isalnum(c) || c == ' ' || c == '\'' || c == '(' ||
		    c == ')' || c == '+' || c == ',' || c == '-' || c == '.' ||
		    c == '/' || c == ':' || c == '=' || c == '?'))
			return false;
	}
	return true;
}

int
dn_add(X509_NAME *name, int nid, const char *value, const char *field,
    char *err, size_t errlen)
{
	size_t len, nchars;
	const uint8_t *p;
	int type = V_ASN1_UTF8STRING;

	if (value == NULL || *value == '\0') {
		snprintf(err, errlen, "%s: empty", field);
		return -1;
	}
	len = strnlen(value, DN_VALUE_MAX * 4 + 1);
	if (len > DN_VALUE_MAX * 4 ||
	    u8_check((const uint8_t *)value, len) != NULL) {
		snprintf(err, errlen, "%s: not valid UTF-8 or too long", field);
		return -1;
	}
	nchars = u8_mbsnlen((const uint8_t *)value, len);
	if (nchars > DN_VALUE_MAX) {
		snprintf(err, errlen, "%s: longer than %d characters", field,
		    DN_VALUE_MAX);
		return -1;
	}
	for (p = (const uint8_t *)value; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "%s: contains a control character",
			    field);
			return -1;
		}
	}
	switch (nid) {
	case NID_countryName:
		if (len != 2 || !isupper((unsigned char)value[0]) ||
		    !isupper((unsigned char)value[1])) {
			snprintf(err, errlen, "%s: country must be two capital "
			    "letters (ISO 3166), e.g. VN", field);
			return -1;
		}
		type = V_ASN1_PRINTABLESTRING;
		break;
	case NID_serialNumber:
		if (!is_printable_string(value)) {
			snprintf(err, errlen, "%s: serialNumber allows only "
			    "letters, digits and ' ()+,-./:=?", field);
			return -1;
		}
		type = V_ASN1_PRINTABLESTRING;
		break;
	case NID_domainComponent:
		for (p = (const uint8_t *)value; *p != '\0'; p++) {
			if (*p >= 0x80) {
				snprintf(err, errlen, "%s: DC must be ASCII",
				    field);
				return -1;
			}
		}
		type = V_ASN1_IA5STRING;
		break;
	default:
		break;
	}
	if (!X509_NAME_add_entry_by_NID(name, nid, type,
	    (const unsigned char *)value, (int)len, -1, 0)) {
		snprintf(err, errlen, "%s: cannot add to name", field);
		return -1;
	}
	return 0;
}

static int
type_nid(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(dn_types) / sizeof(dn_types[0]); i++)
		if (strlen(dn_types[i].name) == n &&
		    strncasecmp(dn_types[i].name, s, n) == 0)
			return dn_types[i].nid;
	return NID_undef;
}

/*
 * Parse one "type=value" starting at *pp, stopping at an unescaped sep.
 * Leading and trailing unescaped blanks of type and value are dropped.
 */
static int
parse_ava(const char **pp, char sep, bool rfc4514, struct dn_ava *ava,
    char *err, size_t errlen)
{
	const char *p = *pp, *t, *tend;
	size_t o = 0, keep = 0;   /* keep: length up to the last escaped char */

	while (*p == ' ')
		p++;
	t = p;
	while (*p != '\0' && *p != '=' && *p != sep)
		p++;
	tend = p;
	while (tend > t && tend[-1] == ' ')
		tend--;
	if (*p != '=') {
		snprintf(err, errlen, "subject: expected type=value near "
		    "\"%.20s\"", t);
		return -1;
	}
	ava->nid = type_nid(t, (size_t)(tend - t));
	if (ava->nid == NID_undef) {
		snprintf(err, errlen, "subject: unsupported attribute type "
		    "\"%.*s\" (use C, ST, L, O, OU, CN, DC, serialNumber, "
		    "street, title)", (int)((tend - t) > 20 ? 20 : tend - t), t);
		return -1;
	}
	p++;
	while (*p == ' ')
		p++;
	if (*p == '#') {
		snprintf(err, errlen, "subject: #hex values are not supported");
		return -1;
	}
	while (*p != '\0' && *p != sep) {
		int c = (unsigned char)*p;

		if (rfc4514 && c == '+') {
			snprintf(err, errlen, "subject: multi-valued RDNs "
			    "('+') are not supported");
			return -1;
		}
		if (rfc4514 && c == '"') {
			snprintf(err, errlen, "subject: unescaped '\"' in "
			    "value");
			return -1;
		}
		if (c == '\\') {
			int h1 = hex_value((unsigned char)p[1]);
			int h2 = h1 >= 0 ? hex_value((unsigned char)p[2]) : -1;

			if (h1 >= 0 && h2 >= 0) {
				c = h1 << 4 | h2;
				p += 3;
			} else if (p[1] != '\0') {
				c = (unsigned char)p[1];
				p += 2;
			} else {
				snprintf(err, errlen, "subject: dangling '\\' "
				    "at end");
				return -1;
			}
			if (o >= sizeof(ava->value) - 1)
				goto toolong;
			ava->value[o++] = (char)c;
			keep = o;
			continue;
		}
		if (o >= sizeof(ava->value) - 1)
			goto toolong;
		ava->value[o++] = (char)c;
		p++;
	}
	while (o > keep && ava->value[o - 1] == ' ')
		o--;
	ava->value[o] = '\0';
	if (memchr(ava->value, '\0', o) != NULL) {
		snprintf(err, errlen, "subject: value contains a NUL byte");
		return -1;
	}
	*pp = p;
	return 0;
toolong:
	snprintf(err, errlen, "subject: value longer than %d characters",
	    DN_VALUE_MAX);
	return -1;
}

int
dn_parse(const char *text, X509_NAME **out, char *err, size_t errlen)
{
	struct dn_ava *avas = NULL;
	X509_NAME *name = NULL;
	const char *p;
	size_t n = 0, i, len;
	bool rfc4514;
	int rc = -1;
	char sep;

	*out = NULL;
	if (text == NULL) {
		snprintf(err, errlen, "subject: missing");
		goto out;
	}
	len = strnlen(text, DN_TEXT_MAX + 1);
	if (len > DN_TEXT_MAX) {
		snprintf(err, errlen, "subject: longer than %d bytes",
		    DN_TEXT_MAX);
		goto out;
	}
	p = text;
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		snprintf(err, errlen, "subject: empty");
		goto out;
	}
	rfc4514 = *p != '/';
	sep = rfc4514 ? ',' : '/';
	if (!rfc4514)
		p++;
	avas = calloc(DN_MAX_RDNS, sizeof(*avas));
	if (avas == NULL) {
		snprintf(err, errlen, "subject: out of memory");
		goto out;
	}
	for (;;) {
		if (n == DN_MAX_RDNS) {
			snprintf(err, errlen, "subject: more than %d "
			    "attributes", DN_MAX_RDNS);
			goto out;
		}
		if (parse_ava(&p, sep, rfc4514, &avas[n], err, errlen) < 0)
			goto out;
		n++;
		if (*p == '\0')
			break;
		p++;        /* separator */
		if (!rfc4514 && *p == '\0')
			break;  /* tolerate a trailing slash */
	}
	name = X509_NAME_new();
	if (name == NULL) {
		snprintf(err, errlen, "subject: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct dn_ava *a = &avas[rfc4514 ? n - 1 - i : i];
		char field[48];

		snprintf(field, sizeof(field), "subject %s",
		    OBJ_nid2sn(a->nid));
		if (dn_add(name, a->nid, a->value, field, err, errlen) < 0)
			goto out;
	}
	*out = name;
	name = NULL;
	rc = 0;
out:
	X509_NAME_free(name);
	free(avas);
	return rc;
}
