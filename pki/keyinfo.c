/*
 * keyinfo.c — public key classification (see keyinfo.h).
 */
#include "keyinfo.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

EVP_PKEY *
keyinfo_public_from_params(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

int
keyinfo_get(const EVP_PKEY *pk, struct keyinfo *out, char *err,
    size_t errlen)
{
	const char *tn;
	size_t glen = 0;

	memset(out, 0, sizeof(*out));
	out->curve_nid = NID_undef;
	if (pk == NULL) {
		snprintf(err, errlen, "public key: missing");
		return -1;
	}
	tn = EVP_PKEY_get0_type_name(pk);
	snprintf(out->type_name, sizeof(out->type_name), "%s",
	    tn != NULL ? tn : "unknown");
	out->bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		out->type = KEYINFO_RSA;
		snprintf(out->type_name, sizeof(out->type_name), "RSA");
		break;
	case EVP_PKEY_EC:
		snprintf(out->type_name, sizeof(out->type_name), "EC");
		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, out->curve, sizeof(out->curve),
		    &glen) != 1 || glen == 0) {
			/* Explicit curve parameters: never acceptable. */
			snprintf(out->curve, sizeof(out->curve),
			    "explicit-parameters");
			out->type = KEYINFO_OTHER;
			break;
		}
		out->curve_nid = keyinfo_curve_nid(out->curve);
		out->type = out->curve_nid == NID_undef ? KEYINFO_OTHER :
		    KEYINFO_EC;
		break;
	default:
		out->type = KEYINFO_OTHER;
		break;
	}
	return 0;
}

const char *
keyinfo_curve_name(int nid)
{
	const char *n = EC_curve_nid2nist(nid);

	if (n == NULL)
		n = OBJ_nid2sn(nid);
	return n != NULL ? n : "unknown";
}

int
keyinfo_curve_nid(const char *name)
{
	int nid;

	if (name == NULL || strnlen(name, KEYINFO_NAME_MAX) >= KEYINFO_NAME_MAX)
		return NID_undef;
	nid = EC_curve_nist2nid(name);
	if (nid != NID_undef)
		return nid;
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = OBJ_ln2nid(name);
	/* Only accept names of real curves, not of any other object. */
	if (nid != NID_undef && EC_curve_nid2nist(nid) == NULL) {
		static const int others[] = { NID_X9_62_prime192v1,
		    NID_X9_62_prime256v1, NID_secp224r1, NID_secp384r1,
		    NID_secp521r1, NID_secp256k1, NID_brainpoolP256r1,
		    NID_brainpoolP384r1, NID_brainpoolP512r1 };
		size_t i;

		for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
			if (others[i] == nid)
				return nid;
		return NID_undef;
	}
	return nid;
}

void
keyinfo_describe(const struct keyinfo *ki, char *buf, size_t len)
{
	if (len == 0)
		return;
	switch (ki->type) {
	case KEYINFO_RSA:
		snprintf(buf, len, "RSA-%d", ki->bits);
		break;
	case KEYINFO_EC:
		snprintf(buf, len, "EC %s", keyinfo_curve_name(ki->curve_nid));
		break;
	default:
		if (ki->curve[0] != '\0')
			snprintf(buf, len, "%s %s", ki->type_name, ki->curve);
		else
			snprintf(buf, len, "%s", ki->type_name);
		break;
	}
}
