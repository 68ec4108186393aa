/*
 * p11uri.h — the subset of RFC 7512 PKCS #11 URIs that names a CA key:
 *
 *   pkcs11:token=provd-ca;object=provd-ca-2026;type=private
 *
 * Path attributes understood: token, manufacturer, model, serial (the
 * token), object (CKA_LABEL), id (CKA_ID), type (private only; a CA key
 * is a private key).  slot-id, library-* and unknown path attributes are
 * refused rather than ignored, so that a URI never names a different key
 * than the officer meant.  Query attributes pin-source and pin-value are
 * refused: the PIN comes from pki.pkcs11_pin_file, never from a URI that
 * is logged and crosses the control socket; module-name and module-path
 * are refused too (the module is pki.pkcs11_module).  Values are
 * percent-decoded; a token or an object attribute must be present.
 */
#ifndef PROVD_PKI_P11URI_H
#define PROVD_PKI_P11URI_H

#include <stdbool.h>
#include <stddef.h>

#define P11URI_MAX        1024   /* longest URI accepted */
#define P11URI_LABEL_MAX  32     /* CK_TOKEN_INFO label, manufacturerID */
#define P11URI_MODEL_MAX  16     /* CK_TOKEN_INFO model, serialNumber */
#define P11URI_OBJECT_MAX 128    /* CKA_LABEL */
#define P11URI_ID_MAX     64     /* CKA_ID */

struct p11uri {
	char          token[P11URI_LABEL_MAX + 1];        /* "" = any */
	char          manufacturer[P11URI_LABEL_MAX + 1];
	char          model[P11URI_MODEL_MAX + 1];
	char          serial[P11URI_MODEL_MAX + 1];
	char          object[P11URI_OBJECT_MAX + 1];
	unsigned char id[P11URI_ID_MAX];
	size_t        idlen;                              /* 0 = any */
	bool          has_token, has_manufacturer, has_model, has_serial;
	bool          has_object;
};

/* Does s begin with "pkcs11:" (case-insensitive scheme)? */
bool p11uri_is(const char *s);

/*
 * Parse s into *out.  Returns 0, or -1 with a message naming the
 * offending attribute (never echoing a PIN).
 */
int p11uri_parse(const char *s, struct p11uri *out, char *err,
    size_t errlen);

/*
 * Does a CK_TOKEN_INFO-style blank-padded field field[0..len) match want
 * (set: has_want)?  An unset attribute matches anything.
 */
bool p11uri_match_padded(bool has_want, const char *want,
    const unsigned char *field, size_t len);

#endif
