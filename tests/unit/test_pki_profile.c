/*
 * test_pki_profile.c — certificate profiles: the shipped ones load with the
 * documented contents; bad files are refused with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "profile.h"
#include "test_pki_util.h"

static void
test_shipped_profiles(void **state)
{
	struct profile_set *set = NULL;
	const struct profile *p;
	char dir[1024], err[512], curves[64];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/templates/profiles", tpki_srcdir());
	if (profile_load_dir(dir, &set, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(profile_count(set) >= 2);

	p = profile_find(set, "staff-email");
	assert_non_null(p);
	assert_int_equal(p->validity_days, 730);
	assert_true(p->email_san);
	assert_true(p->rsa_allowed);
	assert_int_equal(p->rsa_min_bits, 2048);
	assert_int_equal(p->rsa_key_usage,
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_true(p->ec_allowed);
	assert_int_equal(p->ec_key_usage,
	    KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
	profile_curves_text(p, curves, sizeof(curves));
	assert_string_equal(curves, "P-256, P-384");
	assert_int_equal(p->neku, 2);
	assert_string_equal(p->eku[0], "1.3.6.1.5.5.7.3.4");
	assert_string_equal(p->eku[1], "1.3.6.1.5.5.7.3.2");
	assert_true(p->escrow);
	assert_int_equal(p->npolicies, 1);
	assert_string_equal(p->policies[0], "2.23.140.1.5.3.2");

	p = profile_find(set, "staff-sign");
	assert_false(p->escrow);
	assert_non_null(p);
	assert_int_equal(p->validity_days, 730);
	assert_int_equal(p->rsa_key_usage,
	    KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_int_equal(p->ec_key_usage,
	    KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_int_equal(p->neku, 3);
	assert_string_equal(p->eku[0], "1.3.6.1.5.5.7.3.4");
	assert_string_equal(p->eku[1], "1.3.6.1.5.5.7.3.36");
	assert_string_equal(p->eku[2], "1.3.6.1.4.1.311.10.3.12");
	assert_int_equal(p->npolicies, 1);

	assert_null(profile_find(set, "nope"));
	assert_null(profile_find(set, NULL));
	profile_set_free(set);
}

/* Write body as dir/name.conf and expect a refusal mentioning want. */
static void
expect_bad(const char *dir, const char *body, const char *want)
{
	struct profile p;
	char *path = tpki_path(dir, "bad.conf"), err[512];

	assert_int_equal(tpki_write(path, body, strlen(body), 0644), 0);
	if (profile_load_file(path, &p, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", body);
	if (strstr(err, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err, want);
	free(path);
}

static void
test_bad_profiles(void **state)
{
	char *dir = tpki_tmpdir();
	struct profile_set *set = NULL;
	char err[512];

	(void)state;
	assert_non_null(dir);
	expect_bad(dir, "validity_days = 730;\nrsa = { min_bits = 1024; "
	    "key_usage = [\"digitalSignature\"]; };\n", "bad.conf:2:");
	expect_bad(dir, "validity_days = 730;\nrsa = { min_bits = 1024; "
	    "key_usage = [\"digitalSignature\"]; };\n", "min_bits");
	expect_bad(dir, "validity_days = 730;\n\nec = { curves = [\"P-192\"]; "
	    "key_usage = [\"digitalSignature\"]; };\n", "bad.conf:3:");
	expect_bad(dir, "validity_days = 730;\nec = { curves = [\"P-256\"]; "
	    "key_usage = [\"keyEncipherment\"]; };\n", "keyAgreement");
	expect_bad(dir, "validity_days = 730;\nec = { curves = [\"P-256\"]; "
	    "key_usage = [\"keyCertSign\"]; };\n", "keyCertSign");
	expect_bad(dir, "validity_days = 730;\nrsa = { key_usage = "
	    "[\"keyAgreement\"]; };\n", "RSA");
	expect_bad(dir, "validity_days = 730;\nvalidty = 3;\n", "bad.conf:2: "
	    "unknown setting \"validty\"");
	expect_bad(dir, "validity_days = 0;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\n", "validity_days");
	expect_bad(dir, "rsa = { key_usage = [\"digitalSignature\"]; };\n",
	    "validity_days is required");
	expect_bad(dir, "validity_days = 10;\n", "no key type");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = "
	    "[\"anyExtendedKeyUsage\"];\n", "neither");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = "
	    "[\"1.3.6.1.5.5.7.3.9\"];\n", "not allowed");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = "
	    "[\"clientAuth\", \"clientAuth\"];\n", "twice");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\npolicies = [\"2.5.29.32.0\"];\n",
	    "anyPolicy");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\npolicies = [\"smime\"];\n",
	    "bad.conf:3: policy \"smime\" is not a dotted OID");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\npolicies = [\"1.2.3\", \"1.2.3\"];\n",
	    "twice");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\npolicies = [\"1.2.1\", \"1.2.2\", "
	    "\"1.2.3\", \"1.2.4\", \"1.2.5\"];\n", "at most 3");
	/* Every certificate carries certificatePolicies. */
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\npolicies = [];\n", "at least one OID");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\n", "at least one OID");
	/* S/MIME Baseline Requirements: the generation and validation type. */
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\"];\n"
	    "policies = [\"1.2.3\"];\n", "needs smime_generation");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\"];\n"
	    "policies = [\"2.23.140.1.5.3.2\"];\n", "derived from them");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\"];\n"
	    "smime_generation = \"strict\";\n", "go together");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\"];\n"
	    "smime_generation = \"legacy\";\n", "Legacy");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\", "
	    "\"clientAuth\"];\nsmime_generation = \"strict\";\n"
	    "smime_validation = \"mailbox\";\n", "Strict generation allows");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\", \"keyEncipherment\", \"dataEncipherment\"]; };\n"
	    "extended_key_usage = [\"emailProtection\"];\nsmime_generation = \"strict\";\n"
	    "smime_validation = \"mailbox\";\n", "dataEncipherment");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"emailProtection\", "
	    "\"serverAuth\"];\nsmime_generation = \"multipurpose\";\n"
	    "smime_validation = \"sponsor\";\n", "no serverAuth");
	expect_bad(dir, "validity_days = 10;\nrsa = { key_usage = "
	    "[\"digitalSignature\"]; };\nextended_key_usage = [\"clientAuth\"];\n"
	    "smime_generation = \"multipurpose\";\nsmime_validation = \"sponsor\";\n",
	    "needs emailProtection");
	expect_bad(dir, "validity_days = 10;\nrsa = {\n", "bad.conf:");
	expect_bad(dir, "validity_days = \"ten\";\n", "integer");
	/* Escrow is for mail encryption keys: never a signing key. */
	expect_bad(dir, "validity_days = 10;\nec = { curves = [\"P-256\"]; "
	    "key_usage = [\"digitalSignature\", \"nonRepudiation\"]; };\n"
	    "extended_key_usage = [\"emailProtection\"];\nescrow = true;\n",
	    "escrow is for staff e-mail");
	expect_bad(dir, "validity_days = 10;\nec = { curves = [\"P-256\"]; "
	    "key_usage = [\"digitalSignature\", \"keyAgreement\"]; };\n"
	    "extended_key_usage = [\"clientAuth\"];\nescrow = true;\n",
	    "needs emailProtection");
	expect_bad(dir, "validity_days = 10;\nec = { curves = [\"P-256\"]; "
	    "key_usage = [\"digitalSignature\"]; };\nescrow = 1;\n",
	    "true or false");

	/* A directory with a bad profile fails as a whole. */
	if (profile_load_dir(dir, &set, err, sizeof(err)) == 0)
		fail_msg("directory with a bad profile accepted");
	assert_null(set);
	tpki_rmrf(dir);

	/* An empty directory is an error too. */
	dir = tpki_tmpdir();
	assert_int_equal(profile_load_dir(dir, &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no *.conf"));
	tpki_rmrf(dir);
}

static void
test_custom_eku_oid(void **state)
{
	char *dir = tpki_tmpdir(), *path, err[512];
	const char *body = "validity_days = 365;\nemail_san = false;\n"
	    "ec = { curves = [\"secp384r1\"]; key_usage = "
	    "[\"digitalSignature\", \"contentCommitment\"]; };\n"
	    "extended_key_usage = [\"1.3.6.1.4.1.99999.1\"];\n"
	    "policies = [\"1.3.6.1.4.1.99999.2\"];\n";
	struct profile p;

	(void)state;
	path = tpki_path(dir, "custom_1.conf");
	assert_int_equal(tpki_write(path, body, strlen(body), 0644), 0);
	if (profile_load_file(path, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(p.name, "custom_1");
	assert_false(p.email_san);
	assert_false(p.rsa_allowed);
	assert_int_equal(p.ec_ncurves, 1);
	assert_int_equal(p.ec_curves[0], NID_secp384r1);
	assert_int_equal(p.ec_key_usage,
	    KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_string_equal(p.eku[0], "1.3.6.1.4.1.99999.1");
	free(path);
	path = tpki_path(dir, "Bad Name.conf");
	assert_int_equal(tpki_write(path, body, strlen(body), 0644), 0);
	assert_int_equal(profile_load_file(path, &p, err, sizeof(err)), -1);
	free(path);
	tpki_rmrf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_custom_eku_oid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
