/*
 * keyinfo.h — what kind of public key an EVP_PKEY is (algorithm, size,
 * curve), in the terms profiles and error messages use.
 */
#ifndef PROVD_PKI_KEYINFO_H
#define PROVD_PKI_KEYINFO_H

#include <stddef.h>
#include <openssl/core.h>
#include <openssl/evp.h>

enum keyinfo_type {
	KEYINFO_OTHER = 0,   /* anything but plain RSA and named-curve EC */
	KEYINFO_RSA,
	KEYINFO_EC
};

#define KEYINFO_NAME_MAX 64

struct keyinfo {
	enum keyinfo_type type;
	int  bits;                        /* EVP_PKEY_get_bits */
	int  curve_nid;                   /* EC: NID of the named curve */
	char curve[KEYINFO_NAME_MAX];     /* EC: group name, e.g. prime256v1 */
	char type_name[KEYINFO_NAME_MAX]; /* "RSA", "EC", "ED25519", ... */
};

/*
 * Describe pk.  An EC key without a named curve (explicit parameters) is
 * KEYINFO_OTHER.  Returns 0, or -1 with a message when pk is NULL or its
 * parameters cannot be read.
 */
int keyinfo_get(const EVP_PKEY *pk, struct keyinfo *out, char *err,
    size_t errlen);

/*
 * Human form for messages: "RSA-3072", "EC P-256", "EC prime192v1",
 * "ED25519".  Always NUL-terminates buf.
 */
void keyinfo_describe(const struct keyinfo *ki, char *buf, size_t len);

/*
 * Name of a curve NID for people: the NIST name when there is one
 * ("P-256"), else OpenSSL's short name.  Static storage; "unknown" for an
 * unknown NID.
 */
const char *keyinfo_curve_name(int nid);

/*
 * Curve NID from a name given in a profile or by an officer: NIST names
 * ("P-256"), OpenSSL short names ("prime256v1", "secp384r1").  Returns
 * NID_undef when unknown.
 */
int keyinfo_curve_nid(const char *name);

/*
 * A public key of algorithm type ("EC", "RSA") from its parameters (e.g.
 * group name and point, or n and e).  Returns a new key, or NULL.
 */
EVP_PKEY *keyinfo_public_from_params(const char *type, OSSL_PARAM *params);

#endif
