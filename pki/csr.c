/*
 * csr.c — hostile CSR intake (see csr.h).
 */
#include "csr.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "keyinfo.h"
#include "pem.h"

static const char *const csr_labels[] = {
	"CERTIFICATE REQUEST",
	"NEW CERTIFICATE REQUEST",
};

/* Parse DER that must be consumed exactly. */
/*
 * A PKCS #10 request with the subject public key kept as its two fields.
 * OpenSSL's X509_REQ template decodes the key into an EVP_PKEY through
 * OpenSSL 3.0's decoders, which build a decoder chain on every call (more
 * than half the cost of a CSR); this one is otherwise the same (the
 * subject and attributes are decoded and checked as X509_REQ does, and the
 * CertificationRequestInfo keeps its received encoding for the signature
 * check), and the key is made below: directly for an EC key on a named
 * curve, through the decoders for any other.
 */
typedef struct {
	X509_ALGOR      *algor;
	ASN1_BIT_STRING *public_key;
} CSR_SPKI;

typedef struct {
	ASN1_ENCODING             enc;
	ASN1_INTEGER             *version;
	X509_NAME                *subject;
	CSR_SPKI                 *spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CSR_INFO;

typedef struct {
	CSR_INFO        *info;
	X509_ALGOR      *sig_alg;
	ASN1_BIT_STRING *signature;
} CSR_REQ;

ASN1_SEQUENCE(CSR_SPKI) = {
	ASN1_SIMPLE(CSR_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(CSR_SPKI, public_key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CSR_SPKI)

/* As X509_REQ_INFO: attributes are [0] IMPLICIT SET OF, tolerated absent. */
ASN1_SEQUENCE_enc(CSR_INFO, enc, NULL) = {
	ASN1_SIMPLE(CSR_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CSR_INFO, spki, CSR_SPKI),
	ASN1_IMP_SET_OF_OPT(CSR_INFO, attributes, X509_ATTRIBUTE, 0)
} static_ASN1_SEQUENCE_END_ref(CSR_INFO, CSR_INFO)

ASN1_SEQUENCE(CSR_REQ) = {
	ASN1_SIMPLE(CSR_REQ, info, CSR_INFO),
	ASN1_SIMPLE(CSR_REQ, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CSR_REQ, signature, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CSR_REQ)

static void
request_free(CSR_REQ *req)
{
	ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(CSR_REQ));
}

static CSR_REQ *
der_request(const unsigned char *der, size_t len, int *trailing)
{
	const unsigned char *p = der;
	CSR_REQ *req;

	*trailing = 0;
	if (len == 0 || len > CSR_MAX_BYTES)
		return NULL;
	req = (CSR_REQ *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(CSR_REQ));
	if (req != NULL && p != der + len) {
		*trailing = 1;
		request_free(req);
		return NULL;
	}
	return req;
}

/*
 * An EC key on P-256, P-384 or P-521, made from its curve and a compressed
 * or uncompressed point.  The import decodes the point as the
 * SubjectPublicKeyInfo decoder does (and refuses one off the curve).  NULL
 * when spki is not such a key or does not import: the caller then takes
 * the decoders' path (hybrid points, explicit parameters, other keys).
 */
static EVP_PKEY *
ec_named_key(const CSR_SPKI *spki)
{
	const ASN1_OBJECT *aobj;
	const void *pval;
	OSSL_PARAM params[4];
	const char *form;
	char group[32], format[16];
	int ptype, nid;

	X509_ALGOR_get0(&aobj, &ptype, &pval, spki->algor);
	if (OBJ_obj2nid(aobj) != NID_X9_62_id_ecPublicKey ||
	    ptype != V_ASN1_OBJECT || spki->public_key->length <= 0)
		return NULL;
	nid = OBJ_obj2nid(pval);
	if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
	    nid != NID_secp521r1)
		return NULL;
	/* The key keeps the point's form, as a decoded key does: the
	 * certificate carries the point as the CSR gave it. */
	switch (spki->public_key->data[0] & ~0x01) {
	case POINT_CONVERSION_COMPRESSED:
		form = OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED;
		break;
	case POINT_CONVERSION_UNCOMPRESSED:
		form = OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED;
		break;
	default:
		return NULL;
	}
	snprintf(group, sizeof(group), "%s", OBJ_nid2sn(nid));
	snprintf(format, sizeof(format), "%s", form);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, format, 0);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    spki->public_key->data, (size_t)spki->public_key->length);
	params[3] = OSSL_PARAM_construct_end();
	return keyinfo_public_from_params("EC", params);
}

/* The request's public key (caller frees), or NULL when it cannot be
 * decoded. */
static EVP_PKEY *
request_pubkey(const CSR_REQ *req)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pk;
	int len;

	pk = ec_named_key(req->info->spki);
	if (pk != NULL)
		return pk;
	len = ASN1_item_i2d((const ASN1_VALUE *)req->info->spki, &der,
	    ASN1_ITEM_rptr(CSR_SPKI));
	if (len <= 0)
		return NULL;
	p = der;
	pk = d2i_PUBKEY(NULL, &p, len);
	if (pk != NULL && p != der + len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OPENSSL_free(der);
	return pk;
}

int
csr_parse(const unsigned char *buf, size_t len, EVP_PKEY **out, char *err,
    size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	CSR_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	int trailing = 0, rc = -1;

	*out = NULL;
	if (buf == NULL || len == 0) {
		snprintf(err, errlen, "CSR is empty");
		goto out;
	}
	if (len > CSR_MAX_BYTES) {
		snprintf(err, errlen, "CSR larger than %d bytes", CSR_MAX_BYTES);
		goto out;
	}
	if (pem_looks_like(buf, len)) {
		if (pem_decode_one(buf, len, csr_labels,
		    sizeof(csr_labels) / sizeof(csr_labels[0]), "CSR", &der,
		    &derlen, err, errlen) < 0)
			goto out;
		req = der_request(der, derlen, &trailing);
	} else {
		req = der_request(buf, len, &trailing);
	}
	if (req == NULL) {
		if (trailing)
			snprintf(err, errlen, "trailing data after CSR");
		else
			snprintf(err, errlen, "not a PEM or DER certificate "
			    "request");
		goto out;
	}
	if (ASN1_INTEGER_get(req->info->version) != X509_REQ_VERSION_1) {
		snprintf(err, errlen, "CSR: unsupported version %ld (only v1)",
		    ASN1_INTEGER_get(req->info->version) + 1);
		goto out;
	}
	pub = request_pubkey(req);
	if (pub == NULL) {
		snprintf(err, errlen, "CSR: public key cannot be decoded");
		goto out;
	}
	if (ASN1_item_verify(ASN1_ITEM_rptr(CSR_INFO), req->sig_alg,
	    req->signature, req->info, pub) != 1) {
		snprintf(err, errlen, "CSR signature does not verify (no proof "
		    "of possession)");
		goto out;
	}
	*out = pub;
	pub = NULL;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pub);
	request_free(req);
	free(der);
	return rc;
}

/*
 * The point must lie on the curve.  On a curve of cofactor 1 every point of
 * the curve other than infinity is in the prime-order group, so the quick
 * check (on the curve, coordinates in range, not infinity) is complete for
 * P-256, P-384 and P-521, the only curves a profile may allow; the full
 * check adds a scalar multiplication by the order, and is kept for any
 * other curve.
 */
static bool
ec_point_valid(EVP_PKEY *pub, int curve_nid)
{
	EVP_PKEY_CTX *ctx;
	bool ok;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	if (ctx == NULL)
		return false;
	if (curve_nid == NID_X9_62_prime256v1 || curve_nid == NID_secp384r1 ||
	    curve_nid == NID_secp521r1)
		ok = EVP_PKEY_public_check_quick(ctx) == 1;
	else
		ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * The RSA public exponent: odd, 65537 <= e < 2^256 (CA/Browser Forum
 * Baseline Requirements 6.1.6).  e = 1 lets anyone forge signatures; a
 * small or huge e has no place in a staff certificate.
 */
static bool
rsa_exponent_ok(const EVP_PKEY *pub, char *err, size_t errlen)
{
	BIGNUM *e = NULL;
	char *dec = NULL;
	bool ok = false;
	int bits;

	if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) || e == NULL) {
		snprintf(err, errlen, "RSA key: cannot read the public exponent");
		ERR_clear_error();
		return false;
	}
	bits = BN_num_bits(e);
	ok = BN_is_odd(e) && bits <= 256 && BN_cmp(e, BN_value_one()) > 0 &&
	    (bits > 17 || BN_get_word(e) >= 65537);
	if (!ok) {
		if (bits <= 64 && (dec = BN_bn2dec(e)) != NULL)
			snprintf(err, errlen, "RSA public exponent e = %s is not "
			    "allowed (it must be odd and 65537 <= e < 2^256)", dec);
		else
			snprintf(err, errlen, "RSA public exponent of %d bits is "
			    "not allowed (it must be odd and 65537 <= e < 2^256)",
			    bits);
	}
	OPENSSL_free(dec);
	BN_free(e);
	return ok;
}

int
csr_check_key(EVP_PKEY *pub, const struct profile *p, char *err,
    size_t errlen)
{
	struct keyinfo ki;
	char desc[96], allowed[96];
	size_t i;

	if (keyinfo_get(pub, &ki, err, errlen) < 0)
		return -1;
	switch (ki.type) {
	case KEYINFO_RSA:
		if (!p->rsa_allowed) {
			profile_curves_text(p, allowed, sizeof(allowed));
			snprintf(err, errlen, "RSA keys are not allowed by "
			    "profile %s (allowed: EC %s)", p->name, allowed);
			return -1;
		}
		if (ki.bits < 0 || (unsigned)ki.bits < p->rsa_min_bits) {
			snprintf(err, errlen, "RSA key of %d bits is below the "
			    "profile minimum of %u", ki.bits, p->rsa_min_bits);
			return -1;
		}
		if ((unsigned)ki.bits > p->rsa_max_bits) {
			snprintf(err, errlen, "RSA key of %d bits is above the "
			    "profile maximum of %u", ki.bits, p->rsa_max_bits);
			return -1;
		}
		return rsa_exponent_ok(pub, err, errlen) ? 0 : -1;
	case KEYINFO_EC:
		for (i = 0; i < p->ec_ncurves; i++)
			if (p->ec_allowed && p->ec_curves[i] == ki.curve_nid)
				break;
		if (!p->ec_allowed || i == p->ec_ncurves) {
			profile_curves_text(p, allowed, sizeof(allowed));
			snprintf(err, errlen, "EC curve %s is not allowed by "
			    "profile %s (allowed: %s)", ki.curve, p->name,
			    p->ec_allowed ? allowed : "RSA only");
			return -1;
		}
		if (!ec_point_valid(pub, ki.curve_nid)) {
			snprintf(err, errlen, "EC public key is not a valid "
			    "point on %s", ki.curve);
			return -1;
		}
		return 0;
	default:
		break;
	}
	keyinfo_describe(&ki, desc, sizeof(desc));
	if (ki.curve[0] != '\0' && strcmp(ki.type_name, "EC") == 0) {
		profile_curves_text(p, allowed, sizeof(allowed));
		snprintf(err, errlen, "EC curve %s is not allowed by profile %s "
		    "(allowed: %s)", ki.curve, p->name, allowed);
		return -1;
	}
	snprintf(err, errlen, "key type %s is not allowed by profile %s "
	    "(allowed: %s%s%s)", desc, p->name, p->rsa_allowed ? "RSA" : "",
	    p->rsa_allowed && p->ec_allowed ? ", " : "",
	    p->ec_allowed ? "EC" : "");
	return -1;
}

int
csr_intake(const unsigned char *buf, size_t len, const struct profile *p,
    EVP_PKEY **pub, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;

	*pub = NULL;
	if (csr_parse(buf, len, &k, err, errlen) < 0)
		return -1;
	if (csr_check_key(k, p, err, errlen) < 0) {
		EVP_PKEY_free(k);
		return -1;
	}
	*pub = k;
	return 0;
}
