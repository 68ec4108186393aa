/*
 * p11uri.c — RFC 7512 PKCS #11 URIs naming a CA key (see p11uri.h).
 */
#include "p11uri.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hex.h"

/*
 * Percent-decode in[0..n) into out (at most max bytes).  Characters RFC
 * 7512 allows unescaped in a path value are pchar minus ';' plus '/';
 * anything else (controls, spaces, '#', ...) must come escaped.  Returns
 * the decoded length or -1.
 */
static long
decode(const char *in, size_t n, unsigned char *out, size_t max)
{
	static const char ok[] = "-._~!$&'()*+,=:@/";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = hex_value((unsigned char)in[i + 1]);
			lo = hex_value((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c >= 0x80) ||
		    strchr(ok, c) != NULL)) {
			return -1;
		}
		if (o >= max)
			return -1;
		out[o++] = c;
	}
	return (long)o;
}

/* Decode a text attribute: no NUL, fits max bytes, stored NUL-terminated. */
static int
text_attr(const char *name, const char *v, size_t n, char *out, size_t max,
    bool *has, char *err, size_t errlen)
{
	long len;

	if (*has) {
		snprintf(err, errlen, "PKCS#11 URI: %s given twice", name);
		return -1;
	}
	len = decode(v, n, (unsigned char *)out, max);
	if (len < 0 || memchr(out, '\0', (size_t)len) != NULL) {
		snprintf(err, errlen, "PKCS#11 URI: %s: malformed or longer "
		    "than %zu bytes", name, max);
		return -1;
	}
	out[len] = '\0';
	*has = true;
	return 0;
}

bool
p11uri_is(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

static int
path_attr(struct p11uri *u, const char *a, size_t n, char *err,
    size_t errlen)
{
	const char *eq = memchr(a, '=', n);
	size_t nl, vl;
	const char *v;
	long len;
	bool has_id = u->idlen > 0;

	if (eq == NULL) {
		snprintf(err, errlen, "PKCS#11 URI: an attribute without '='");
		return -1;
	}
	nl = (size_t)(eq - a);
	v = eq + 1;
	vl = n - nl - 1;
#define IS(lit) (nl == sizeof(lit) - 1 && memcmp(a, lit, nl) == 0)
	if (IS("token"))
		return text_attr("token", v, vl, u->token, P11URI_LABEL_MAX,
		    &u->has_token, err, errlen);
	if (IS("manufacturer"))
		return text_attr("manufacturer", v, vl, u->manufacturer,
		    P11URI_LABEL_MAX, &u->has_manufacturer, err, errlen);
	if (IS("model"))
		return text_attr("model", v, vl, u->model, P11URI_MODEL_MAX,
		    &u->has_model, err, errlen);
	if (IS("serial"))
		return text_attr("serial", v, vl, u->serial, P11URI_MODEL_MAX,
		    &u->has_serial, err, errlen);
	if (IS("object"))
		return text_attr("object", v, vl, u->object,
		    P11URI_OBJECT_MAX, &u->has_object, err, errlen);
	if (IS("id")) {
		len = has_id ? -1 : decode(v, vl, u->id, sizeof(u->id));
		if (len <= 0) {
			snprintf(err, errlen, "PKCS#11 URI: id: empty, given "
			    "twice, malformed or longer than %d bytes",
			    P11URI_ID_MAX);
			return -1;
		}
		u->idlen = (size_t)len;
		return 0;
	}
	if (IS("type")) {
		if (vl == 7 && memcmp(v, "private", 7) == 0)
			return 0;
		snprintf(err, errlen, "PKCS#11 URI: type: a CA key is "
		    "type=private");
		return -1;
	}
#undef IS
	snprintf(err, errlen, "PKCS#11 URI: attribute '%.*s' is not "
	    "supported (token, manufacturer, model, serial, object, id, type)",
	    (int)(nl < 32 ? nl : 32), a);
	return -1;
}

int
p11uri_parse(const char *s, struct p11uri *out, char *err, size_t errlen)
{
	const char *p, *end, *q;

	memset(out, 0, sizeof(*out));
	if (!p11uri_is(s)) {
		snprintf(err, errlen, "PKCS#11 URI: must begin with pkcs11:");
		return -1;
	}
	if (strnlen(s, P11URI_MAX + 1) > P11URI_MAX) {
		snprintf(err, errlen, "PKCS#11 URI: longer than %d bytes",
		    P11URI_MAX);
		return -1;
	}
	p = s + 7;
	q = strchr(p, '?');
	if (q != NULL) {
		/* Every query attribute is refused: pin-source / pin-value
		 * would carry or point at the PIN, module-* would choose a
		 * library other than the configured one. */
		snprintf(err, errlen, "PKCS#11 URI: query attributes (after "
		    "'?') are not accepted; the PIN comes from "
		    "pki.pkcs11_pin_file and the module from pki.pkcs11_module");
		return -1;
	}
	if (strchr(p, '#') != NULL) {
		snprintf(err, errlen, "PKCS#11 URI: a fragment is not allowed");
		return -1;
	}
	while (*p != '\0') {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p) {
			snprintf(err, errlen, "PKCS#11 URI: empty attribute");
			return -1;
		}
		if (path_attr(out, p, (size_t)(end - p), err, errlen) < 0)
			return -1;
		p = *end == ';' ? end + 1 : end;
		if (*end == ';' && *p == '\0') {
			snprintf(err, errlen, "PKCS#11 URI: trailing ';'");
			return -1;
		}
	}
	if (!out->has_token && !out->has_serial) {
		snprintf(err, errlen, "PKCS#11 URI: name the token (token= or "
		    "serial=)");
		return -1;
	}
	if (!out->has_object && out->idlen == 0) {
		snprintf(err, errlen, "PKCS#11 URI: name the key (object= or "
		    "id=)");
		return -1;
	}
	return 0;
}

bool
p11uri_match_padded(bool has_want, const char *want,
    const unsigned char *field, size_t len)
{
	size_t wl, i;

	if (!has_want)
		return true;
	wl = strlen(want);
	if (wl > len || memcmp(field, want, wl) != 0)
		return false;
	for (i = wl; i < len; i++)
		if (field[i] != ' ')
			return false;
	return true;
}
