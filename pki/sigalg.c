/*
 * sigalg.c — CA signature algorithms (see sigalg.h).
 */
#include "sigalg.h"

#include <stdio.h>

#include <openssl/objects.h>

#include "keyinfo.h"

static const unsigned char ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const unsigned char rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };

int
sigalg_for_key(const EVP_PKEY *pk, struct sigalg *out, char *err,
    size_t errlen)
{
	struct keyinfo ki;

	if (keyinfo_get(pk, &ki, err, errlen) < 0)
		return -1;
	if (ki.type == KEYINFO_RSA) {
		out->md = EVP_sha256();
		out->algid = rsa_sha256;
		out->algid_len = sizeof(rsa_sha256);
		out->nid = NID_sha256WithRSAEncryption;
		return 0;
	}
	if (ki.type == KEYINFO_EC && ki.curve_nid == NID_X9_62_prime256v1) {
		out->md = EVP_sha256();
		out->algid = ecdsa_sha256;
		out->algid_len = sizeof(ecdsa_sha256);
		out->nid = NID_ecdsa_with_SHA256;
		return 0;
	}
	if (ki.type == KEYINFO_EC && ki.curve_nid == NID_secp384r1) {
		out->md = EVP_sha384();
		out->algid = ecdsa_sha384;
		out->algid_len = sizeof(ecdsa_sha384);
		out->nid = NID_ecdsa_with_SHA384;
		return 0;
	}
	snprintf(err, errlen, "CA key: no signature algorithm for this key "
	    "type (RSA, EC P-256 or P-384 only)");
	return -1;
}
