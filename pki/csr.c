/*
 * csr.c — hostile CSR intake (see csr.h).
 */
#include "csr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "keyinfo.h"
#include "pem.h"

static const char *const csr_labels[] = {
	"CERTIFICATE REQUEST",
	"NEW CERTIFICATE REQUEST",
};

/* Parse DER that must be consumed exactly. */
static X509_REQ *
der_request(const unsigned char *der, size_t len, int *trailing)
{
	const unsigned char *p = der;
	X509_REQ *req;

	*trailing = 0;
	if (len == 0 || len > CSR_MAX_BYTES)
		return NULL;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req != NULL && p != der + len) {
		*trailing = 1;
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

int
csr_parse(const unsigned char *buf, size_t len, X509_REQ **out, char *err,
    size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
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
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		snprintf(err, errlen, "CSR: unsupported version %ld (only v1)",
		    X509_REQ_get_version(req) + 1);
		goto out;
	}
	pub = X509_REQ_get0_pubkey(req);
	if (pub == NULL) {
		snprintf(err, errlen, "CSR: public key cannot be decoded");
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		snprintf(err, errlen, "CSR signature does not verify (no proof "
		    "of possession)");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	ERR_clear_error();
	X509_REQ_free(req);
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
static int
ec_point_valid(EVP_PKEY *pub, int curve_nid)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	if (ctx == NULL)
		return 0;
	if (curve_nid == NID_X9_62_prime256v1 || curve_nid == NID_secp384r1 ||
	    curve_nid == NID_secp521r1)
		ok = EVP_PKEY_public_check_quick(ctx) == 1;
	else
		ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
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
		return 0;
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
	X509_REQ *req = NULL;
	EVP_PKEY *k;
	int rc = -1;

	*pub = NULL;
	if (csr_parse(buf, len, &req, err, errlen) < 0)
		goto out;
	k = X509_REQ_get0_pubkey(req);
	if (csr_check_key(k, p, err, errlen) < 0)
		goto out;
	if (!EVP_PKEY_up_ref(k)) {
		snprintf(err, errlen, "CSR: out of memory");
		goto out;
	}
	*pub = k;
	rc = 0;
out:
	X509_REQ_free(req);
	return rc;
}
