/*
 * test_pki_csr.c — hostile CSR intake: PEM and DER of the allowed key
 * types pass; bad signatures, weak keys, truncation, garbage and trailing
 * junk are refused with the documented messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "csr.h"
#include "keyinfo.h"
#include "profile.h"
#include "test_pki_util.h"

struct fixture {
	struct profile_set *profiles;
	const struct profile *email;
	EVP_PKEY *p256, *p384, *p192, *rsa2048, *rsa1024, *ed25519;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char dir[1024], err[512];

	if (f == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/templates/profiles", tpki_srcdir());
	if (profile_load_dir(dir, &f->profiles, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->email = profile_find(f->profiles, "staff-email");
	f->p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f->p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	f->p192 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-192");
	f->rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	f->rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	f->ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (f->email == NULL || f->p256 == NULL || f->p384 == NULL ||
	    f->p192 == NULL || f->rsa2048 == NULL || f->rsa1024 == NULL ||
	    f->ed25519 == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	profile_set_free(f->profiles);
	EVP_PKEY_free(f->p256);
	EVP_PKEY_free(f->p384);
	EVP_PKEY_free(f->p192);
	EVP_PKEY_free(f->rsa2048);
	EVP_PKEY_free(f->rsa1024);
	EVP_PKEY_free(f->ed25519);
	free(f);
	return 0;
}

/* Intake both the PEM and the DER form of a CSR for k. */
static int
intake_both(struct fixture *f, EVP_PKEY *k, char *err, size_t errlen)
{
	X509_REQ *r = tpki_req(k);
	unsigned char *der;
	char *pem;
	size_t derlen = 0, pemlen = 0;
	EVP_PKEY *pub = NULL;
	int rc_pem, rc_der;
	char err2[512];

	assert_non_null(r);
	der = tpki_req_der(r, &derlen);
	pem = tpki_req_pem(r, &pemlen);
	assert_non_null(der);
	assert_non_null(pem);
	rc_pem = csr_intake((unsigned char *)pem, pemlen, f->email, &pub, err,
	    errlen);
	if (rc_pem == 0) {
		assert_int_equal(EVP_PKEY_eq(pub, k), 1);
		EVP_PKEY_free(pub);
		pub = NULL;
	}
	rc_der = csr_intake(der, derlen, f->email, &pub, err2, sizeof(err2));
	assert_int_equal(rc_pem, rc_der);
	if (rc_der == 0) {
		assert_int_equal(EVP_PKEY_eq(pub, k), 1);
		EVP_PKEY_free(pub);
	} else {
		assert_string_equal(err, err2);
	}
	OPENSSL_free(der);
	free(pem);
	X509_REQ_free(r);
	return rc_pem;
}

static void
test_allowed_keys(void **state)
{
	struct fixture *f = *state;
	char err[512];

	if (intake_both(f, f->p256, err, sizeof(err)) != 0)
		fail_msg("P-256: %s", err);
	if (intake_both(f, f->p384, err, sizeof(err)) != 0)
		fail_msg("P-384: %s", err);
	if (intake_both(f, f->rsa2048, err, sizeof(err)) != 0)
		fail_msg("RSA-2048: %s", err);
}

static void
test_weak_keys(void **state)
{
	struct fixture *f = *state;
	char err[512];

	assert_int_equal(intake_both(f, f->rsa1024, err, sizeof(err)), -1);
	assert_string_equal(err, "RSA key of 1024 bits is below the profile "
	    "minimum of 2048");
	assert_int_equal(intake_both(f, f->p192, err, sizeof(err)), -1);
	assert_string_equal(err, "EC curve prime192v1 is not allowed by "
	    "profile staff-email (allowed: P-256, P-384)");
	assert_int_equal(intake_both(f, f->ed25519, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ED25519 is not allowed by profile "
	    "staff-email"));
}

/*
 * The key comes out as the CSR gave it: an EC point compressed,
 * uncompressed or hybrid, a curve named or given by explicit parameters
 * (keys on named curves are imported from curve and point, the others
 * decoded).  On a named curve the encoding is the CSR's too, so that the
 * certificate carries the point in the CSR's form.
 */
static void
test_ec_key_forms(void **state)
{
	static const struct {
		const char *format, *encoding;
	} forms[] = {
		{ "uncompressed", "named_curve" },
		{ "compressed", "named_curve" },
		{ "hybrid", "named_curve" },
		{ "uncompressed", "explicit" },
		{ "compressed", "explicit" },
	};
	struct fixture *f = *state;
	EVP_PKEY *keys[2] = { f->p256, f->p384 };
	size_t i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < sizeof(forms) / sizeof(forms[0]); j++) {
			EVP_PKEY *k = EVP_PKEY_dup(keys[i]), *pub = NULL;
			unsigned char *der, *want = NULL, *got = NULL;
			int wantlen, gotlen;
			size_t len = 0;
			X509_REQ *r;
			char err[512];

			assert_non_null(k);
			assert_true(EVP_PKEY_set_utf8_string_param(k,
			    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
			    forms[j].format));
			assert_true(EVP_PKEY_set_utf8_string_param(k,
			    OSSL_PKEY_PARAM_EC_ENCODING, forms[j].encoding));
			r = tpki_req(k);
			assert_non_null(r);
			der = tpki_req_der(r, &len);
			assert_non_null(der);
			if (csr_intake(der, len, f->email, &pub, err,
			    sizeof(err)) < 0)
				fail_msg("%s %s: %s", forms[j].format,
				    forms[j].encoding, err);
			assert_int_equal(EVP_PKEY_eq(pub, k), 1);
			if (strcmp(forms[j].encoding, "named_curve") == 0) {
				wantlen = i2d_PUBKEY(k, &want);
				gotlen = i2d_PUBKEY(pub, &got);
				assert_true(wantlen > 0);
				assert_int_equal(gotlen, wantlen);
				assert_memory_equal(got, want, (size_t)wantlen);
			}
			OPENSSL_free(got);
			OPENSSL_free(want);
			OPENSSL_free(der);
			X509_REQ_free(r);
			EVP_PKEY_free(pub);
			EVP_PKEY_free(k);
		}
	}
}

/* A point that is not on the curve does not make a key. */
static void
test_ec_point_off_curve(void **state)
{
	struct fixture *f = *state;
	X509_REQ *r = tpki_req(f->p256);
	unsigned char *der, point[65];
	EVP_PKEY *pub = NULL;
	size_t len = 0, plen = 0, i;
	char err[512];

	assert_non_null(r);
	der = tpki_req_der(r, &len);
	assert_non_null(der);
	assert_true(EVP_PKEY_get_octet_string_param(f->p256,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &plen));
	assert_int_equal(plen, 65);
	for (i = 0; i + plen <= len; i++)
		if (memcmp(der + i, point, plen) == 0)
			break;
	assert_true(i + plen <= len);
	der[i + plen - 1] ^= 0x01;      /* the last byte of y */
	assert_int_equal(csr_intake(der, len, f->email, &pub, err,
	    sizeof(err)), -1);
	assert_null(pub);
	assert_string_equal(err, "CSR: public key cannot be decoded");
	OPENSSL_free(der);
	X509_REQ_free(r);
}

static void
test_bad_signature(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *keys[2] = { f->p256, f->rsa2048 };
	EVP_PKEY *pub = NULL;
	char err[512];
	size_t i;

	for (i = 0; i < 2; i++) {
		X509_REQ *r = tpki_req(keys[i]);
		size_t len = 0;
		unsigned char *der = tpki_req_der(r, &len);

		/* The signature BIT STRING ends the DER. */
		der[len - 3] ^= 0x01;
		assert_int_equal(csr_intake(der, len, f->email, &pub, err,
		    sizeof(err)), -1);
		assert_null(pub);
		assert_string_equal(err, "CSR signature does not verify (no "
		    "proof of possession)");
		OPENSSL_free(der);
		X509_REQ_free(r);
	}
}

/* A CSR whose public key is not the one that signed it. */
static void
test_foreign_key(void **state)
{
	struct fixture *f = *state;
	X509_REQ *r = X509_REQ_new();
	EVP_PKEY *pub = NULL;
	unsigned char *der;
	size_t len = 0;
	char err[512];

	X509_REQ_set_pubkey(r, f->p384);
	assert_true(X509_REQ_sign(r, f->p256, EVP_sha256()) > 0);
	X509_REQ_set_pubkey(r, f->p384);
	der = tpki_req_der(r, &len);
	assert_non_null(der);
	assert_int_equal(csr_intake(der, len, f->email, &pub, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "proof of possession"));
	OPENSSL_free(der);
	X509_REQ_free(r);
}

static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	X509_REQ *r = tpki_req(f->p256);
	unsigned char *der, *buf, junk[512];
	char *pem, err[512];
	size_t derlen = 0, pemlen = 0, i;
	EVP_PKEY *pub = NULL;

	der = tpki_req_der(r, &derlen);
	pem = tpki_req_pem(r, &pemlen);

	/* truncated DER, at every length */
	for (i = 0; i < derlen; i++) {
		assert_int_equal(csr_intake(der, i, f->email, &pub, err,
		    sizeof(err)), -1);
		assert_null(pub);
	}
	assert_int_equal(csr_intake(der, derlen - 1, f->email, &pub, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "not a PEM or DER certificate request");

	/* DER with one trailing byte */
	buf = malloc(derlen + 1);
	memcpy(buf, der, derlen);
	buf[derlen] = 0;
	assert_int_equal(csr_intake(buf, derlen + 1, f->email, &pub, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "trailing data after CSR");
	free(buf);

	/* PEM with trailing junk; trailing whitespace is fine */
	buf = malloc(pemlen + 32);
	memcpy(buf, pem, pemlen);
	memcpy(buf + pemlen, "\n\r\n  \t\n", 7);
	assert_int_equal(csr_intake(buf, pemlen + 7, f->email, &pub, err,
	    sizeof(err)), 0);
	EVP_PKEY_free(pub);
	pub = NULL;
	memcpy(buf + pemlen, "Xtra", 4);
	assert_int_equal(csr_intake(buf, pemlen + 4, f->email, &pub, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "trailing data after CSR");
	/* PEM truncated before END */
	assert_int_equal(csr_intake((unsigned char *)pem, pemlen - 20, f->email,
	    &pub, err, sizeof(err)), -1);
	free(buf);

	/* a PEM certificate is not a CSR */
	assert_int_equal(csr_intake((const unsigned char *)
	    "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
	    58, f->email, &pub, err, sizeof(err)), -1);

	/* garbage */
	for (i = 0; i < 200; i++) {
		size_t n = 1 + (i * 37) % sizeof(junk);

		RAND_bytes(junk, (int)n);
		if (i % 2)
			junk[0] = 0x30;
		assert_int_equal(csr_intake(junk, n, f->email, &pub, err,
		    sizeof(err)), -1);
		assert_null(pub);
	}
	assert_int_equal(csr_intake((const unsigned char *)"hello", 5,
	    f->email, &pub, err, sizeof(err)), -1);
	assert_string_equal(err, "not a PEM or DER certificate request");
	assert_int_equal(csr_intake(junk, 0, f->email, &pub, err,
	    sizeof(err)), -1);

	/* over the size cap */
	buf = calloc(1, CSR_MAX_BYTES + 1);
	assert_int_equal(csr_intake(buf, CSR_MAX_BYTES + 1, f->email, &pub,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	free(buf);

	OPENSSL_free(der);
	free(pem);
	X509_REQ_free(r);
}

/* An RSA public key with rsa2048's modulus and exponent e (hex). */
static EVP_PKEY *
rsa_with_e(struct fixture *f, const char *ehex)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	assert_true(EVP_PKEY_get_bn_param(f->rsa2048, OSSL_PKEY_PARAM_RSA_N, &n));
	assert_true(BN_hex2bn(&e, ehex) > 0);
	assert_non_null(bld);
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return k;
}

/* RSA public exponents: odd, 65537 <= e < 2^256. */
static void
test_rsa_exponents(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *hex, *what; int ok; } cases[] = {
		{ "1", "e = 1", 0 },
		{ "3", "e = 3", 0 },
		{ "5", "e = 5", 0 },
		{ "FFFF", "e = 65535", 0 },
		{ "10000", "e = 65536 (even)", 0 },
		{ "10002", "e = 65538 (even)", 0 },
		{ "10001", "e = 65537", 1 },
		{ "10003", "e = 65539", 1 },
		/* 2^256 - 1: odd, the largest allowed */
		{ "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
		  "e = 2^256 - 1", 1 },
		/* 2^256 + 1: odd, too large */
		{ "10000000000000000000000000000000000000000000000000000000000000001",
		  "e = 2^256 + 1", 0 },
		/* 2^256: even and too large */
		{ "10000000000000000000000000000000000000000000000000000000000000000",
		  "e = 2^256", 0 },
	};
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k = rsa_with_e(f, cases[i].hex);
		int rc = csr_check_key(k, f->email, err, sizeof(err));

		if (cases[i].ok && rc != 0)
			fail_msg("%s refused: %s", cases[i].what, err);
		if (!cases[i].ok) {
			if (rc == 0)
				fail_msg("%s accepted", cases[i].what);
			if (strstr(err, "public exponent") == NULL)
				fail_msg("%s: message does not name the exponent: %s",
				    cases[i].what, err);
		}
		EVP_PKEY_free(k);
	}
	/* The whole intake path, with a request signed by a real e = 3 key. */
	{
		EVP_PKEY *k3 = NULL;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		unsigned int e3 = 3;
		size_t bits = 2048;
		OSSL_PARAM params[3];

		params[0] = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
		params[1] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e3);
		params[2] = OSSL_PARAM_construct_end();
		assert_non_null(ctx);
		assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_params(ctx, params), 1);
		assert_int_equal(EVP_PKEY_generate(ctx, &k3), 1);
		EVP_PKEY_CTX_free(ctx);
		assert_int_equal(intake_both(f, k3, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "RSA public exponent e = 3 is not allowed"));
		EVP_PKEY_free(k3);
	}
}

/* A profile stricter than the shipped ones. */
static void
test_rsa_profile_bounds(void **state)
{
	struct fixture *f = *state;
	struct profile p = *f->email;
	char err[512];

	p.rsa_min_bits = 3072;
	assert_int_equal(csr_check_key(f->rsa2048, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "RSA key of 2048 bits is below the profile "
	    "minimum of 3072");
	p.rsa_allowed = false;
	assert_int_equal(csr_check_key(f->rsa2048, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RSA keys are not allowed"));
	p = *f->email;
	p.ec_allowed = false;
	assert_int_equal(csr_check_key(f->p256, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not allowed"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_keys),
		cmocka_unit_test(test_weak_keys),
		cmocka_unit_test(test_ec_key_forms),
		cmocka_unit_test(test_ec_point_off_curve),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_foreign_key),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_rsa_profile_bounds),
		cmocka_unit_test(test_rsa_exponents),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
