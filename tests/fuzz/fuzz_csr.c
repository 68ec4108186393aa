/*
 * libFuzzer target: arbitrary bytes through csr_intake (the officer's CSR,
 * PEM or DER) against a profile like staff-email, checking its promises:
 * a key comes back exactly when the call succeeds, a refusal carries a
 * terminated message, an accepted key is of an allowed kind, and an
 * accepted DER request is accepted again in PEM form with the same key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "keyinfo.h"
#include "pem.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const struct profile *
fuzz_profile(void)
{
	static struct profile p;
	static int ready;

	if (!ready) {
		memset(&p, 0, sizeof(p));
		strcpy(p.name, "staff-email");
		p.validity_days = 730;
		p.email_san = 1;
		p.rsa_allowed = 1;
		p.rsa_min_bits = 2048;
		p.rsa_max_bits = 8192;
		p.rsa_key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
		p.ec_allowed = 1;
		p.ec_curves[0] = NID_X9_62_prime256v1;
		p.ec_curves[1] = NID_secp384r1;
		p.ec_ncurves = 2;
		p.ec_key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
		ready = 1;
	}
	return &p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct profile *p = fuzz_profile();
	EVP_PKEY *pub = NULL, *again = NULL;
	struct keyinfo ki;
	char err[512], err2[512];
	char *pem = NULL;
	size_t pemlen = 0;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = csr_intake(data, size, p, &pub, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == -1);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(pub == NULL);
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(pub != NULL);
	CHECK(keyinfo_get(pub, &ki, err2, sizeof(err2)) == 0);
	CHECK(ki.type == KEYINFO_RSA || ki.type == KEYINFO_EC);
	if (ki.type == KEYINFO_RSA)
		CHECK(ki.bits >= 2048 && ki.bits <= 8192);
	else
		CHECK(ki.curve_nid == NID_X9_62_prime256v1 ||
		    ki.curve_nid == NID_secp384r1);
	if (!pem_looks_like(data, size)) {
		CHECK(pem_encode("CERTIFICATE REQUEST", data, size, &pem,
		    &pemlen, err2, sizeof(err2)) == 0);
		CHECK(csr_intake((const unsigned char *)pem, pemlen, p, &again,
		    err2, sizeof(err2)) == 0);
		CHECK(EVP_PKEY_eq(pub, again) == 1);
		EVP_PKEY_free(again);
		free(pem);
	}
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return 0;
}
