/*
 * test_pki_signer.c — the signer process: key generation of every type,
 * loading (mode and passphrase rules), import, signing refusals, the
 * engine never opening the key, death and restart, privilege drop, and
 * the wire format's limits.
 *
 * The RSA-4096 key generation is skipped under valgrind (minutes there)
 * and with PROVD_TEST_QUICK=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "certcheck.h"
#include "certgen.h"
#include "keyfile.h"
#include "keyinfo.h"
#include "p11uri.h"
#include "signer.h"
#include "signer_child.h"
#include "signer_wire.h"
#include "test_pki_util.h"

struct fixture {
	char          *dir;
	struct signer *s;
};

static int
setup(void **state)
{
	struct signer_config cfg = { .timeout_ms = 20000,
	    .keygen_timeout_ms = 600000 };
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	if (f == NULL)
		return -1;
	f->dir = tpki_tmpdir();
	if (f->dir == NULL)
		return -1;
	if (signer_start(&cfg, &f->s, err, sizeof(err)) < 0) {
		fprintf(stderr, "signer_start: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	signer_stop(f->s);
	tpki_rmrf(f->dir);
	free(f);
	return 0;
}

/* Write k (unencrypted PKCS#8 PEM, or encrypted under pass) with mode. */
static void
write_key(const char *path, EVP_PKEY *k, const char *pass, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	assert_non_null(b);
	assert_true(PEM_write_bio_PKCS8PrivateKey(b, k,
	    pass != NULL ? EVP_aes_256_cbc() : NULL, pass,
	    pass != NULL ? (int)strlen(pass) : 0, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	unlink(path);
	assert_int_equal(tpki_write(path, data, (size_t)n, mode), 0);
	BIO_free(b);
}

static X509 *
make_ca(struct signer *s, EVP_PKEY *pub, char *err, size_t errlen)
{
	X509 *tbs = NULL, *ca = NULL;

	if (certgen_ca("/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Test CA", 365, pub, 0,
	    &tbs, err, errlen) < 0)
		return NULL;
	if (signer_sign_cert(s, tbs, SIGNER_SELF_SIGNED, &ca, err,
	    errlen) < 0)
		ca = NULL;
	X509_free(tbs);
	return ca;
}

static void
test_genkey_each_type(void **state)
{
	static const struct {
		enum keyfile_type t;
		int base_id, bits, sig_nid;
	} types[] = {
		{ KEYFILE_EC_P256, EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256 },
		{ KEYFILE_EC_P384, EVP_PKEY_EC, 384, NID_ecdsa_with_SHA384 },
		{ KEYFILE_RSA_3072, EVP_PKEY_RSA, 3072,
		    NID_sha256WithRSAEncryption },
		{ KEYFILE_RSA_4096, EVP_PKEY_RSA, 4096,
		    NID_sha256WithRSAEncryption },
	};
	struct fixture *f = *state;
	const char *quick = getenv("PROVD_TEST_QUICK");
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY *pub = NULL, *pub2 = NULL;
		char *path, name[64];
		struct stat st;
		double t0;
		X509 *ca;

		if (types[i].t == KEYFILE_RSA_4096 && ((quick != NULL &&
		    *quick == '1') || tpki_under_valgrind())) {
			print_message("skipping rsa-4096 generation\n");
			continue;
		}
		snprintf(name, sizeof(name), "%s.key",
		    keyfile_type_name(types[i].t));
		path = tpki_path(f->dir, name);
		t0 = tpki_ms();
		if (signer_genkey(f->s, types[i].t, path, NULL, &pub, err,
		    sizeof(err)) < 0)
			fail_msg("genkey %s: %s", name, err);
		print_message("genkey %-8s %7.1f ms\n",
		    keyfile_type_name(types[i].t), tpki_ms() - t0);
		assert_int_equal(EVP_PKEY_get_base_id(pub), types[i].base_id);
		assert_int_equal(EVP_PKEY_get_bits(pub), types[i].bits);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_true(S_ISREG(st.st_mode));
		assert_true(tpki_file_has(path, "-----BEGIN PRIVATE KEY-----"));

		if (signer_pubkey(f->s, &pub2, err, sizeof(err)) < 0)
			fail_msg("pubkey: %s", err);
		assert_int_equal(EVP_PKEY_eq(pub, pub2), 1);

		/* The new key signs its own CA certificate. */
		ca = make_ca(f->s, pub, err, sizeof(err));
		if (ca == NULL)
			fail_msg("CA with %s: %s", name, err);
		assert_int_equal(X509_verify(ca, pub), 1);
		assert_int_equal(X509_get_signature_nid(ca), types[i].sig_nid);
		assert_int_equal(certgen_check_ca_pair(ca, pub, 0, err,
		    sizeof(err)), 0);
		assert_int_equal(certgen_check_ca_pair(ca, NULL, 0, err,
		    sizeof(err)), -1);

		/* Never overwrite. */
		assert_int_equal(signer_genkey(f->s, types[i].t, path, NULL,
		    NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "already exists"));
		/* The failed GENKEY left the active key alone. */
		EVP_PKEY_free(pub2);
		assert_int_equal(signer_pubkey(f->s, &pub2, err, sizeof(err)),
		    0);
		assert_int_equal(EVP_PKEY_eq(pub, pub2), 1);

		X509_free(ca);
		EVP_PKEY_free(pub);
		EVP_PKEY_free(pub2);
		free(path);
	}
	assert_int_equal(signer_genkey(f->s, KEYFILE_EC_P256, "relative.key",
	    NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
}

static void
test_no_key_loaded(void **state)
{
	struct signer_config cfg = { 0 };
	struct fixture *f = *state;
	struct signer *s = NULL;
	EVP_PKEY *pub = NULL, *k;
	X509 *tbs = NULL, *out = NULL;
	char err[512];

	(void)f;
	assert_int_equal(signer_start(&cfg, &s, err, sizeof(err)), 0);
	assert_int_equal(signer_pubkey(s, &pub, err, sizeof(err)), -1);
	assert_string_equal(err, "no key loaded");
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_int_equal(certgen_ca("CN=x", 1, k, 0, &tbs, err, sizeof(err)),
	    0);
	assert_int_equal(signer_sign_cert(s, tbs, SIGNER_SELF_SIGNED, &out,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "no key loaded");
	assert_null(out);
	X509_free(tbs);
	EVP_PKEY_free(k);
	signer_stop(s);
}

static void
test_key_mode_refused(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub = NULL;
	char *path = tpki_path(f->dir, "loose.key"), err[512];
	static const mode_t bad[] = { 0644, 0640, 0604, 0660 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_key(path, k, NULL, bad[i]);
		assert_int_equal(signer_load(f->s, path, NULL, &pub, err,
		    sizeof(err)), -1);
		assert_null(pub);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "0600"));
	}
	write_key(path, k, NULL, 0600);
	if (signer_load(f->s, path, NULL, &pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	EVP_PKEY_free(pub);
	/* 0400 is fine too */
	chmod(path, 0400);
	assert_int_equal(signer_load(f->s, path, NULL, NULL, err, sizeof(err)),
	    0);
	/* not a regular file, missing */
	assert_int_equal(signer_load(f->s, "/dev/null", NULL, NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(signer_load(f->s, "/nonexistent/ca.key", NULL, NULL,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/ca.key"));
	EVP_PKEY_free(k);
	free(path);
}

static void
test_weak_ca_key_refused(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *e = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-192");
	char *path = tpki_path(f->dir, "weak.key"), err[512];
	char *pubpath = tpki_path(f->dir, "pub.pem");
	FILE *fp;

	write_key(path, k, NULL, 0600);
	assert_int_equal(signer_load(f->s, path, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "3072"));
	write_key(path, e, NULL, 0600);
	assert_int_equal(signer_load(f->s, path, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "P-256 or P-384"));
	/* A public key alone is not a CA key. */
	fp = fopen(pubpath, "w");
	assert_non_null(fp);
	PEM_write_PUBKEY(fp, k);
	fclose(fp);
	chmod(pubpath, 0600);
	assert_int_equal(signer_load(f->s, pubpath, NULL, NULL, err,
	    sizeof(err)), -1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(e);
	free(path);
	free(pubpath);
}

static void
test_passphrase(void **state)
{
	struct fixture *f = *state;
	static const char secret[] = "correct horse battery staple";
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), *pub = NULL;
	char *key = tpki_path(f->dir, "enc.key");
	char *pass = tpki_path(f->dir, "ca.pass");
	char *wrong = tpki_path(f->dir, "wrong.pass");
	char *gen = tpki_path(f->dir, "gen-enc.key");
	char line[128], err[512];

	write_key(key, k, secret, 0600);
	assert_true(tpki_file_has(key, "ENCRYPTED PRIVATE KEY"));
	snprintf(line, sizeof(line), "%s\n", secret);
	assert_int_equal(tpki_write(pass, line, strlen(line), 0600), 0);
	assert_int_equal(tpki_write(wrong, "nope\r\n", 6, 0600), 0);

	if (signer_load(f->s, key, pass, &pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	EVP_PKEY_free(pub);
	pub = NULL;

	assert_int_equal(signer_load(f->s, key, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "encrypted"));
	assert_int_equal(signer_load(f->s, key, wrong, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "passphrase"));
	assert_null(strstr(err, "nope"));
	assert_null(strstr(err, secret));
	chmod(pass, 0644);
	assert_int_equal(signer_load(f->s, key, pass, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, pass));
	assert_null(strstr(err, secret));
	chmod(pass, 0600);

	/* GENKEY with a passphrase writes an encrypted key that loads back. */
	if (signer_genkey(f->s, KEYFILE_EC_P256, gen, pass, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(tpki_file_has(gen, "ENCRYPTED PRIVATE KEY"));
	assert_false(tpki_file_has(gen, secret));
	EVP_PKEY_free(pub);
	assert_int_equal(signer_load(f->s, gen, pass, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(signer_load(f->s, gen, NULL, NULL, err, sizeof(err)),
	    -1);

	EVP_PKEY_free(k);
	free(key);
	free(pass);
	free(wrong);
	free(gen);
}

static void
test_import(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub = NULL;
	char *src = tpki_path(f->dir, "officer.key");
	char *dst = tpki_path(f->dir, "imported.key");
	char *small = tpki_path(f->dir, "small.key");
	EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct stat st;
	char err[512];

	write_key(src, k, NULL, 0600);
	if (signer_import(f->s, src, dst, NULL, &pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	EVP_PKEY_free(pub);
	pub = NULL;
	/* the destination is never overwritten */
	assert_int_equal(signer_import(f->s, src, dst, NULL, &pub, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "already exists"));
	/* a key too weak for a CA is refused and not copied */
	write_key(small, r, NULL, 0600);
	unlink(dst);
	assert_int_equal(signer_import(f->s, small, dst, NULL, &pub, err,
	    sizeof(err)), -1);
	assert_int_equal(stat(dst, &st), -1);
	/* a loose source is refused */
	chmod(src, 0644);
	assert_int_equal(signer_import(f->s, src, dst, NULL, &pub, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "0600"));
	EVP_PKEY_free(k);
	EVP_PKEY_free(r);
	free(src);
	free(dst);
	free(small);
}

/* A link certificate (rollover --link): signed only by a signer started
 * to sign one, once; it chains the old CA to the new CA's certificates. */
static void
test_link_certificate(void **state)
{
	struct fixture *f = *state;
	struct signer_config cfg = { .timeout_ms = 20000, .link_certificates = 1 };
	char *path = tpki_path(f->dir, "old.key"), err[512];
	struct signer *old_signer = NULL;
	EVP_PKEY *old_pub = NULL, *new_key;
	X509 *old_ca, *new_tbs = NULL, *new_ca = NULL, *tbs = NULL, *link = NULL;

	/* the default signer (link_certificates 0) refuses */
	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &old_pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	old_ca = make_ca(f->s, old_pub, err, sizeof(err));
	assert_non_null(old_ca);
	new_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_int_equal(certgen_ca("CN=Test CA G2", 365, new_key, 0, &new_tbs, err,
	    sizeof(err)), 0);
	assert_int_equal(X509_sign(new_tbs, new_key, EVP_sha256()) > 0, 1);
	new_ca = new_tbs;
	assert_int_equal(certgen_link(old_ca, new_ca, 0, &tbs, err, sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(f->s, tbs, SIGNER_LINK, &link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no link certificate"));

	/* a signer allowed one signs one, then refuses */
	assert_int_equal(signer_start(&cfg, &old_signer, err, sizeof(err)), 0);
	EVP_PKEY_free(old_pub);
	old_pub = NULL;
	if (signer_load(old_signer, path, NULL, &old_pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (signer_sign_cert(old_signer, tbs, SIGNER_LINK, &link, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(X509_verify(link, old_pub), 1);
	assert_int_equal(X509_check_ca(link), 1);
	assert_int_equal(signer_sign_cert(old_signer, tbs, SIGNER_LINK, &new_tbs, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no link certificate"));
	/* and not again after a restart */
	assert_int_equal(signer_restart(old_signer, err, sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(old_signer, tbs, SIGNER_LINK, &new_tbs, err,
	    sizeof(err)), -1);

	signer_stop(old_signer);
	X509_free(tbs);
	X509_free(link);
	X509_free(new_ca);
	X509_free(old_ca);
	EVP_PKEY_free(old_pub);
	EVP_PKEY_free(new_key);
	free(path);
}

static void
test_sign_refusals(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "refusals.key"), err[512];
	EVP_PKEY *pub = NULL, *other;
	X509 *tbs = NULL, *out = NULL, *ca;
	BASIC_CONSTRAINTS *bc;

	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	/* the CA's own key, not flagged as self-signed */
	assert_int_equal(certgen_ca("CN=Test CA", 30, pub, 0, &tbs, err,
	    sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(f->s, tbs, 0, &out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "CA's own public key"));
	X509_free(tbs);

	/* flagged self-signed, but another key */
	assert_int_equal(certgen_ca("CN=Rogue CA", 30, other, 0, &tbs, err,
	    sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(f->s, tbs, SIGNER_SELF_SIGNED, &out,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "other than the CA key"));
	/* and as a subordinate CA certificate: CA:TRUE is refused */
	assert_int_equal(signer_sign_cert(f->s, tbs, 0, &out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "end-entity"));
	X509_free(tbs);

	/* a plain end-entity certificate is fine */
	ca = make_ca(f->s, pub, err, sizeof(err));
	assert_non_null(ca);
	tbs = X509_new();
	X509_set_version(tbs, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(tbs), 7);
	X509_set_issuer_name(tbs, X509_get_subject_name(ca));
	X509_set_subject_name(tbs, X509_get_subject_name(ca));
	X509_gmtime_adj(X509_getm_notBefore(tbs), 0);
	X509_gmtime_adj(X509_getm_notAfter(tbs), 3600);
	X509_set_pubkey(tbs, other);
	bc = BASIC_CONSTRAINTS_new();
	X509_add1_ext_i2d(tbs, NID_basic_constraints, bc, 1, 0);
	BASIC_CONSTRAINTS_free(bc);
	if (signer_sign_cert(f->s, tbs, 0, &out, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(X509_verify(out, pub), 1);
	X509_free(out);
	X509_free(tbs);
	X509_free(ca);
	EVP_PKEY_free(other);
	EVP_PKEY_free(pub);
	free(path);
}

/* An end-entity to-be-signed certificate for key, issued by "CN=Test CA". */
static X509 *
make_tbs(EVP_PKEY *key, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(n);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Test CA", -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_set_issuer_name(x, n);
	X509_set_subject_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_free(n);
	return x;
}

/* x signed with key and md, in DER (*der malloc'd by OpenSSL). */
static size_t
signed_der(X509 *x, EVP_PKEY *key, const EVP_MD *md, unsigned char **der)
{
	int len;

	*der = NULL;
	assert_true(X509_sign(x, key, md) > 0);
	len = i2d_X509(x, der);
	assert_true(len > 0);
	return (size_t)len;
}

/* x (freed here) signed with key and md: the check of that answer to sent
 * fails, with a message containing why. */
static void
refused_answer(EVP_PKEY *ca, const unsigned char *sent, size_t sentlen, X509 *x,
    EVP_PKEY *key, const EVP_MD *md, const char *why)
{
	unsigned char *bad = NULL;
	size_t badlen = signed_der(x, key, md, &bad);
	char err[256];

	X509_free(x);
	assert_int_equal(certcheck_signed(ca, sent, sentlen, bad, badlen, err,
	    sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("refused for \"%s\", expected \"%s\"", err, why);
	OPENSSL_free(bad);
}

/*
 * The engine's check of the signer's answer (certcheck_signed), against
 * answers a faulty signer could give.  A P-384 CA signs with
 * ecdsa-with-SHA384 while the engine seals with SHA-256: the signature
 * field of the TBSCertificate is the one element allowed to differ.
 */
static void
test_signed_answer_checked(void **state)
{
	EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *subj = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *sent, *got, *copy;
	size_t sentlen, gotlen;
	char err[512];
	X509 *x, *y;

	(void)state;
	assert_non_null(ca);
	assert_non_null(other);
	assert_non_null(subj);
	assert_non_null(seal);
	x = make_tbs(subj, 7);
	sentlen = signed_der(x, seal, EVP_sha256(), &sent);

	/* the right answer */
	y = X509_dup(x);
	gotlen = signed_der(y, ca, EVP_sha384(), &got);
	X509_free(y);
	assert_int_equal(certcheck_signed(ca, sent, sentlen, got, gotlen, err,
	    sizeof(err)), 0);

	/* signed by another key */
	refused_answer(ca, sent, sentlen, X509_dup(x), other, EVP_sha384(),
	    "does not verify");
	/* with the CA key, but the wrong digest for it */
	refused_answer(ca, sent, sentlen, X509_dup(x), ca, EVP_sha256(),
	    "signature algorithm");
	/* a validly signed certificate, but not the one sent */
	refused_answer(ca, sent, sentlen, make_tbs(subj, 8), ca, EVP_sha384(),
	    "other than the one");
	refused_answer(ca, sent, sentlen, make_tbs(other, 7), ca, EVP_sha384(),
	    "other than the one");

	/* a damaged signature, a trailing byte, a truncated answer */
	copy = malloc(gotlen + 1);
	assert_non_null(copy);
	memcpy(copy, got, gotlen);
	copy[gotlen - 3] ^= 0x01;
	assert_int_equal(certcheck_signed(ca, sent, sentlen, copy, gotlen,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not verify"));
	memcpy(copy, got, gotlen);
	copy[gotlen] = 0;
	assert_int_equal(certcheck_signed(ca, sent, sentlen, copy, gotlen + 1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	assert_int_equal(certcheck_signed(ca, sent, sentlen, copy, gotlen - 1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	free(copy);

	OPENSSL_free(got);
	OPENSSL_free(sent);
	X509_free(x);
	EVP_PKEY_free(seal);
	EVP_PKEY_free(subj);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ca);
}

/* signer_sign_cert_der returns the same certificate signer_sign_cert
 * decodes, signed by the CA key. */
static void
test_sign_cert_der(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "der.key"), err[512];
	EVP_PKEY *pub = NULL, *subj = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256");
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509 *tbs, *x;

	assert_non_null(subj);
	if (signer_genkey(f->s, KEYFILE_EC_P384, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	tbs = make_tbs(subj, 9);
	if (signer_sign_cert_der(f->s, tbs, 0, &der, &len, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_get0_serialNumber(tbs)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_subject_name(tbs)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), subj), 1);
	X509_free(x);
	free(der);
	X509_free(tbs);
	EVP_PKEY_free(subj);
	EVP_PKEY_free(pub);
	free(path);
}

/* Does a /proc/self entry mention path? */
static int
proc_mentions(const char *path)
{
	char link[300], target[4096];
	struct dirent *de;
	DIR *d;
	int found = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strstr(target, path) != NULL)
			found = 1;
	}
	closedir(d);
	return found || tpki_file_has("/proc/self/maps", path);
}

static void
test_engine_never_opens_key(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "hidden-ca.key"), err[512];
	char procfd[64];
	EVP_PKEY *pub = NULL;
	struct dirent *de;
	struct rlimit rl;
	X509 *ca;
	DIR *d;
	int nfds = 0;

	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	EVP_PKEY_free(pub);
	pub = NULL;
	if (signer_load(f->s, path, NULL, &pub, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	ca = make_ca(f->s, pub, err, sizeof(err));
	assert_non_null(ca);
	/* The key file was made, read and used — never in this process. */
	assert_false(proc_mentions(path));
	assert_false(proc_mentions("hidden-ca.key"));

	/*
	 * The signer keeps only 0, 1, 2 and its socket.  (valgrind keeps
	 * descriptors of its own above the limit it shows the program.)
	 */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	snprintf(procfd, sizeof(procfd), "/proc/%d/fd", (int)signer_pid(f->s));
	d = opendir(procfd);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || (tpki_under_valgrind() &&
		    (rlim_t)fd >= rl.rlim_cur))
			continue;
		if (fd > 3)
			nfds = -100;
		nfds++;
	}
	closedir(d);
	assert_int_equal(nfds, 4);
	X509_free(ca);
	EVP_PKEY_free(pub);
	free(path);
}

static void
test_dead_signer_and_restart(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "restart.key"), err[512];
	EVP_PKEY *pub = NULL, *pub2 = NULL;

	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(kill(signer_pid(f->s), SIGKILL), 0);
	assert_int_equal(signer_pubkey(f->s, &pub2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signer"));
	print_message("after SIGKILL: %s\n", err);
	assert_int_equal(signer_pubkey(f->s, &pub2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not running"));
	if (signer_restart(f->s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (signer_pubkey(f->s, &pub2, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(EVP_PKEY_eq(pub, pub2), 1);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	free(path);
}

/* An asynchronous answer, kept for the test. */
struct answer {
	int  done, rc;
	EVP_PKEY *pub;
	char err[512];
};

static void
on_pubkey(void *ctx, int rc, const unsigned char *der, size_t derlen,
    const char *err)
{
	struct answer *a = ctx;
	const unsigned char *p = der;

	a->done = 1;
	a->rc = rc;
	if (rc == 0)
		a->pub = d2i_PUBKEY(NULL, &p, (long)derlen);
	snprintf(a->err, sizeof(a->err), "%s", err != NULL ? err : "");
}

/* Run the handle as an event loop would until a is answered (10 s). */
static void
run_until(struct signer *s, struct answer *a)
{
	int i;

	for (i = 0; i < 1000 && !a->done; i++) {
		struct pollfd p = { .fd = signer_fd(s), .events = 0 };

		if (signer_want(s) & SIGNER_WANT_READ)
			p.events |= POLLIN;
		if (signer_want(s) & SIGNER_WANT_WRITE)
			p.events |= POLLOUT;
		if (p.fd >= 0 && p.events != 0)
			(void)poll(&p, 1, 10);
		signer_io(s);
		signer_expire(s);
	}
	assert_true(a->done);
}

/*
 * A restart that does not wait: a request submitted while the new signer
 * starts runs after it has loaded the key; if the key does not load, the
 * request fails with the reason.
 */
static void
test_restart_async(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "async-restart.key"), *moved, err[512];
	struct answer a = { 0 }, b = { 0 };
	EVP_PKEY *pub = NULL;
	pid_t old;

	moved = tpki_path(f->dir, "async-restart.moved");
	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	old = signer_pid(f->s);
	assert_int_equal(kill(old, SIGKILL), 0);
	if (signer_restart_async(f->s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(signer_restarting(f->s));
	assert_false(signer_broken(f->s));
	assert_int_equal(signer_call_async(f->s, SIGNER_OP_PUBKEY, NULL, 0,
	    4096, on_pubkey, &a, err, sizeof(err)), 0);
	assert_false(a.done);           /* never from inside the submit */
	run_until(f->s, &a);
	if (a.rc != 0)
		fail_msg("%s", a.err);
	assert_int_equal(EVP_PKEY_eq(pub, a.pub), 1);
	assert_false(signer_restarting(f->s));
	assert_true(signer_pid(f->s) != old);
	assert_null(signer_restart_error(f->s));

	/* The key gone from its path: the restart says so to the waiting. */
	assert_int_equal(rename(path, moved), 0);
	if (signer_restart_async(f->s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(signer_call_async(f->s, SIGNER_OP_PUBKEY, NULL, 0,
	    4096, on_pubkey, &b, err, sizeof(err)), 0);
	run_until(f->s, &b);
	assert_int_equal(b.rc, -1);
	print_message("key gone: %s\n", b.err);
	assert_non_null(strstr(b.err, "signer restart failed: the CA key did not load"));
	assert_non_null(signer_restart_error(f->s));
	assert_int_equal(rename(moved, path), 0);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(a.pub);
	free(path);
	free(moved);
}

/* A callback that takes the received message instead of copying der. */
struct taken {
	int                  done, rc, take_rc, again_rc, wrong_rc;
	unsigned char       *buf;
	const unsigned char *der;
	size_t               derlen;
	struct signer       *s;
};

static void
on_pubkey_take(void *ctx, int rc, const unsigned char *der, size_t derlen,
    const char *err)
{
	struct taken *t = ctx;
	unsigned char *other = NULL;

	(void)err;
	t->done = 1;
	t->rc = rc;
	if (rc != 0)
		return;
	/* another pointer than the answer's is refused, the answer taken once */
	t->wrong_rc = signer_reply_take(t->s, der + 1, &other);
	assert_null(other);
	t->take_rc = signer_reply_take(t->s, der, &t->buf);
	t->again_rc = signer_reply_take(t->s, der, &other);
	assert_null(other);
	t->der = der;
	t->derlen = derlen;
}

/*
 * signer_reply_take: inside the callback, the message der lies in becomes
 * the caller's (one owner: the signer neither wipes nor frees it after the
 * callback), so der is still the answer afterwards; outside a callback
 * nothing is taken.
 */
static void
test_reply_take(void **state)
{
	struct fixture *f = *state;
	char *path = tpki_path(f->dir, "take.key"), err[512];
	struct taken t = { .s = f->s, .take_rc = -2, .again_rc = -2, .wrong_rc = -2 };
	struct answer a = { 0 };
	unsigned char *buf = (unsigned char *)"x";
	EVP_PKEY *pub = NULL, *got;
	const unsigned char *p;

	if (signer_genkey(f->s, KEYFILE_EC_P256, path, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(signer_reply_take(f->s, (const unsigned char *)"x", &buf), -1);
	assert_null(buf);
	assert_int_equal(signer_call_async(f->s, SIGNER_OP_PUBKEY, NULL, 0,
	    4096, on_pubkey_take, &t, err, sizeof(err)), 0);
	/* run_until's loop, with t's flag */
	while (!a.done) {
		struct pollfd pf = { .fd = signer_fd(f->s), .events = POLLIN };

		(void)poll(&pf, 1, 10);
		signer_io(f->s);
		a.done = t.done || ++a.rc > 1000;
	}
	assert_int_equal(t.done, 1);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.wrong_rc, -1);
	assert_int_equal(t.take_rc, 0);
	assert_int_equal(t.again_rc, -1);
	assert_non_null(t.buf);
	assert_true(t.der > t.buf);
	/* after the callback and the request freed: still the answer */
	p = t.der;
	got = d2i_PUBKEY(NULL, &p, (long)t.derlen);
	assert_non_null(got);
	assert_int_equal(EVP_PKEY_eq(pub, got), 1);
	free(t.buf);
	EVP_PKEY_free(got);
	EVP_PKEY_free(pub);
	free(path);
}

static void
test_drop_privileges(void **state)
{
	struct fixture *f = *state;
	struct signer_config cfg = { .drop_privileges = true, .uid = 65534,
	    .gid = 65534 };
	struct signer *s = NULL;
	char status[64], *keydir, *key, *rootkey, err[512];
	EVP_PKEY *pub = NULL, *k;
	size_t len;
	unsigned char *st;

	if (geteuid() != 0) {
		print_message("not root: privilege drop not tested\n");
		return;
	}
	keydir = tpki_path(f->dir, "nobody");
	assert_int_equal(mkdir(keydir, 0700), 0);
	assert_int_equal(chown(keydir, 65534, 65534), 0);
	assert_int_equal(chmod(f->dir, 0711), 0);
	if (signer_start(&cfg, &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	snprintf(status, sizeof(status), "/proc/%d/status",
	    (int)signer_pid(s));
	st = tpki_slurp(status, &len);
	assert_non_null(st);
	assert_non_null(strstr((char *)st, "Uid:\t65534\t65534\t65534\t65534"));
	assert_non_null(strstr((char *)st, "Gid:\t65534\t65534\t65534\t65534"));
	assert_non_null(strstr((char *)st, "Groups:\t65534"));
	assert_non_null(strstr((char *)st, "NoNewPrivs:\t1"));
	free(st);

	key = tpki_path(keydir, "ca.key");
	if (signer_genkey(s, KEYFILE_EC_P256, key, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	EVP_PKEY_free(pub);
	/* A root-only key is out of reach once privileges are dropped. */
	rootkey = tpki_path(f->dir, "root-only.key");
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	write_key(rootkey, k, NULL, 0600);
	assert_int_equal(signer_load(s, rootkey, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "Permission denied"));
	signer_stop(s);

	/* A drop that cannot work is reported by signer_start. */
	cfg.uid = 65534;
	cfg.gid = (gid_t)-1;
	assert_int_equal(signer_start(&cfg, &s, err, sizeof(err)), -1);
	print_message("bad drop: %s\n", err);
	assert_non_null(strstr(err, "signer"));
	chmod(f->dir, 0700);
	EVP_PKEY_free(k);
	free(rootkey);
	free(key);
	free(keydir);
}

/* Raw wire: oversize, malformed and truncated messages are refused. */
static void
test_wire_limits(void **state)
{
	int sv[2];
	unsigned char pkt[64];
	struct signer_msg m;
	struct signer_field fl[2] = { { (const unsigned char *)"abc", 3 },
	    { (const unsigned char *)"", 0 } };
	char err[256], s[8];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* a good message */
	assert_int_equal(signer_wire_send(sv[0], SIGNER_OP_LOAD, 0, 0, fl, 2,
	    1000, err, sizeof(err)), 0);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), 0);
	assert_int_equal(m.op, SIGNER_OP_LOAD);
	assert_int_equal(m.nfields, 2);
	assert_int_equal(signer_msg_string(&m, 0, s, sizeof(s)), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(signer_msg_string(&m, 0, s, 3), -1);
	assert_int_equal(signer_msg_string(&m, 2, s, sizeof(s)), -1);
	signer_msg_free(&m);

	/* body over the receiver's cap */
	assert_int_equal(signer_wire_send(sv[0], SIGNER_OP_LOAD, 0, 0, fl, 1,
	    1000, err, sizeof(err)), 0);
	assert_int_equal(signer_wire_recv(sv[1], &m, 4, 1000, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));

	/* wrong version */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 9;
	assert_int_equal(send(sv[0], pkt, 12, 0), 12);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "version"));

	/* field length overruns the body */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = SIGNER_WIRE_VERSION;
	pkt[1] = SIGNER_OP_LOAD;
	pkt[4] = 1;
	pkt[11] = 8;            /* body 8 */
	pkt[15] = 200;          /* field of 200 bytes */
	assert_int_equal(send(sv[0], pkt, 20, 0), 20);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "overruns"));

	/* a packet longer than announced */
	pkt[11] = 4;
	pkt[15] = 0;
	assert_int_equal(send(sv[0], pkt, 30, 0), 30);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);

	/* short header, too many fields */
	assert_int_equal(send(sv[0], pkt, 5, 0), 5);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);
	pkt[4] = SIGNER_WIRE_MAX_FIELDS + 1;
	assert_int_equal(send(sv[0], pkt, 16, 0), 16);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);

	/* nothing arrives: timeout */
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 50, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "in time"));

	/* peer closes mid-message */
	pkt[4] = 1;
	pkt[11] = 100;
	assert_int_equal(send(sv[0], pkt, 16, 0), 16);
	close(sv[0]);
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), -1);
	/* and then: end of file */
	assert_int_equal(signer_wire_recv(sv[1], &m, 1024, 1000, err,
	    sizeof(err)), 1);
	close(sv[1]);
}

/* ---- the launcher protocol (spawner and launcher processes) -------------- */

/* Send one packet of len bytes, with fd (>= 0) as SCM_RIGHTS. */
static void
launch_send(int sock, const void *b, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char           buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)b, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* The answer: the pid (0 = refused), the socket (-1 with none). */
static pid_t
launch_answer(int sock, int *fd)
{
	union {
		struct cmsghdr h;
		char           buf[CMSG_SPACE(sizeof(int))];
	} u;
	unsigned char p[4];
	struct iovec iov = { .iov_base = p, .iov_len = sizeof(p) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct pollfd pf = { .fd = sock, .events = POLLIN };
	struct cmsghdr *cm;

	*fd = -1;
	assert_int_equal(poll(&pf, 1, 5000), 1);
	assert_int_equal(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC), 4);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return (pid_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
expect_hello(int fd)
{
	struct signer_msg m;
	char err[256];

	assert_int_equal(signer_wire_recv(fd, &m, 1024, 5000, err, sizeof(err)), 0);
	assert_int_equal(m.op, SIGNER_OP_HELLO);
	assert_int_equal(m.status, SIGNER_STATUS_OK);
	signer_msg_free(&m);
}

static bool
gone_within(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (kill(pid, 0) < 0)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The spawner makes launchers only, a launcher signers only, one byte per
 * request; anything else is answered with pid 0 and changes nothing: no
 * process is started, the signers that run stay.  A launcher's new signer
 * replaces its own last one, not another launcher's.
 */
static void
test_launcher_protocol(void **state)
{
	struct signer_config cfg = { .timeout_ms = 5000 };
	static const unsigned char sig = SIGNER_LAUNCH_SIGNER, lau = SIGNER_LAUNCH_LAUNCHER;
	static const unsigned char two[2] = { SIGNER_LAUNCH_LAUNCHER, SIGNER_LAUNCH_LAUNCHER };
	static const unsigned char junk = 0xff;
	int sv[2], l1, l2, s1, s2, s3, fd, st, null;
	pid_t sp, p, p1, p2, p3;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	sp = fork();
	assert_true(sp >= 0);
	if (sp == 0) {
		close(sv[0]);
		signer_spawner_main(sv[1], &cfg);
	}
	close(sv[1]);
	expect_hello(sv[0]);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null >= 0);
	/* What a spawner refuses. */
	launch_send(sv[0], &sig, 1, -1);
	assert_int_equal(launch_answer(sv[0], &fd), 0);
	assert_int_equal(fd, -1);
	launch_send(sv[0], two, 2, -1);
	assert_int_equal(launch_answer(sv[0], &fd), 0);
	launch_send(sv[0], &lau, 1, null);
	assert_int_equal(launch_answer(sv[0], &fd), 0);
	launch_send(sv[0], &junk, 1, -1);
	assert_int_equal(launch_answer(sv[0], &fd), 0);
	/* A launcher: it says no HELLO (the spawner set it up). */
	launch_send(sv[0], &lau, 1, -1);
	p = launch_answer(sv[0], &l1);
	assert_true(p > 0);
	assert_true(l1 >= 0);
	launch_send(l1, &lau, 1, -1);            /* a launcher makes no launcher */
	assert_int_equal(launch_answer(l1, &fd), 0);
	launch_send(l1, &sig, 1, -1);
	p1 = launch_answer(l1, &s1);
	assert_true(p1 > 0);
	expect_hello(s1);
	launch_send(l1, &junk, 1, -1);           /* refused: its signer stays */
	assert_int_equal(launch_answer(l1, &fd), 0);
	launch_send(l1, two, 2, -1);
	assert_int_equal(launch_answer(l1, &fd), 0);
	assert_int_equal(kill(p1, 0), 0);
	/* A second launcher's signer leaves the first one's alone. */
	launch_send(sv[0], &lau, 1, -1);
	assert_true(launch_answer(sv[0], &l2) > 0);
	launch_send(l2, &sig, 1, -1);
	p2 = launch_answer(l2, &s2);
	assert_true(p2 > 0);
	expect_hello(s2);
	assert_int_equal(kill(p1, 0), 0);
	/* The spawner's end takes no launcher with it. */
	close(sv[0]);
	assert_int_equal(waitpid(sp, &st, 0), sp);
	assert_int_equal(kill(p1, 0), 0);
	assert_int_equal(kill(p2, 0), 0);
	/* A launcher's next signer replaces its own last one. */
	launch_send(l1, &sig, 1, -1);
	p3 = launch_answer(l1, &s3);
	assert_true(p3 > 0);
	expect_hello(s3);
	assert_true(gone_within(p1, 2000));
	assert_int_equal(kill(p2, 0), 0);
	close(s1);
	close(s2);
	close(s3);
	close(l1);
	close(l2);
	close(null);
	assert_true(gone_within(p2, 2000));
	assert_true(gone_within(p3, 2000));
}

/* ---- KEY_URI: the token key's URI file, written by the signer ------------ */

static const char *
softhsm_module(void)
{
	static const char *const m[] = { "/usr/lib/softhsm/libsofthsm2.so",
	    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so" };

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (access(m[i], R_OK) == 0)
			return m[i];
	fail_msg("libsofthsm2.so not found (tools/install-deps installs softhsm2)");
	return NULL;
}

/* KEY_URI as the wire carries it, past the engine's own length check. */
static int
key_uri_raw(struct signer *s, const char *file, const char *uri, char *err,
    size_t errlen)
{
	struct signer_field f[2] = {
		{ (const unsigned char *)file, strlen(file) },
		{ (const unsigned char *)uri, strlen(uri) },
	};
	struct signer_msg m;

	if (signer_call(s, SIGNER_OP_KEY_URI, 0, f, 2, 4096, &m, err, errlen) < 0)
		return -1;
	signer_msg_free(&m);
	return 0;
}

/* The names in dir, sorted, joined by spaces. */
static void
dir_names(const char *dir, char *out, size_t outsize)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t used = 0;

	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0)
			used += (size_t)snprintf(out + used, outsize - used, "%s%s",
			    used > 0 ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	assert_true(used < outsize);
}

static void
expect_refused(struct signer *s, const char *file, const char *uri, const char *why)
{
	char err[512];

	assert_int_equal(key_uri_raw(s, file, uri, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("KEY_URI %s %s: \"%s\", not \"%s\"", file, uri, err, why);
}

/*
 * What KEY_URI refuses: a URI that does not parse or is too long, one that
 * is not the loaded key's, a file that is not a "*.uri" directly in the key
 * directory (relative, elsewhere, another name, through a symbolic link),
 * and a name that exists (file or symbolic link).  Nothing is written and
 * what exists is left as it was; the key's own URI, at a new name, is.
 */
static void
test_key_uri_refusals(void **state)
{
	struct fixture *f = *state;
	const char *uri = "pkcs11:token=provd-unit;object=ca";
	char *hsm = tpki_path(f->dir, "hsm"), *kd = tpki_path(f->dir, "kd");
	char *other = tpki_path(f->dir, "other"), *conf = tpki_path(hsm, "softhsm2.conf");
	char *pin = tpki_path(hsm, "token.pin"), *p, *q, err[512], names[512];
	char longuri[P11URI_MAX + 64];
	struct signer_config cfg = { .timeout_ms = 20000, .keygen_timeout_ms = 600000 };
	static const char outside[] = "not a .uri file in the key directory";
	static const struct {
		bool        in_kd;      /* under the key directory, or its parent */
		const char *name;
		const char *why;
	} files[] = {
		{ true, "../other/x.uri", outside },
		{ false, "other/x.uri", outside },
		{ false, "x.uri", outside },             /* the directory above */
		{ true, "sub/x.uri", outside },          /* sub: a link to other/ */
		{ true, "ca.key", outside },
		{ true, "ca.uri.tmp", outside },
		{ true, ".uri", outside },
		{ true, "old.uri", "exists already" },
		{ true, "link.uri", "exists already" },  /* a link to other/ */
	};
	struct signer *s = NULL;
	EVP_PKEY *pub = NULL;
	unsigned char *got;
	struct stat st;
	size_t len;

	assert_int_equal(mkdir(hsm, 0700), 0);
	assert_int_equal(mkdir(kd, 0700), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	p = tpki_path(hsm, "tokens");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(tpki_run(conf, "printf 'directories.tokendir = %s\\n"
	    "objectstore.backend = file\\nlog.level = ERROR\\n'", p), 0);
	free(p);
	assert_int_equal(tpki_write(pin, "1234\n", 5, 0600), 0);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	assert_int_equal(tpki_run(NULL, "softhsm2-util --init-token --free --label "
	    "provd-unit --so-pin 5678 --pin 1234"), 0);
	cfg.pkcs11_module = softhsm_module();
	cfg.pkcs11_pin_file = pin;
	cfg.key_dir = kd;
	assert_int_equal(signer_start(&cfg, &s, err, sizeof(err)), 0);

	/* Before any key: nothing is the active key's URI. */
	p = tpki_path(kd, "ca.key.uri");
	expect_refused(s, p, uri, "not the active token key's URI");
	assert_int_equal(signer_genkey(s, KEYFILE_EC_P256, uri, NULL, &pub, err,
	    sizeof(err)), 0);

	/* What is there already, to stay as it is. */
	q = tpki_path(kd, "old.uri");
	assert_int_equal(tpki_write(q, "old\n", 4, 0600), 0);
	free(q);
	q = tpki_path(kd, "link.uri");
	assert_int_equal(symlink("../other/target.uri", q), 0);
	free(q);
	q = tpki_path(kd, "sub");
	assert_int_equal(symlink(other, q), 0);
	free(q);

	/* The URI. */
	expect_refused(s, p, "pkcs11:object=ca", "not a PKCS#11 URI");
	expect_refused(s, p, "file:///etc/passwd", "not a PKCS#11 URI");
	snprintf(longuri, sizeof(longuri), "%s;id=%%%0*d", uri,
	    (int)(P11URI_MAX - strlen(uri) - 4), 0);
	assert_true(strlen(longuri) > P11URI_MAX);
	expect_refused(s, p, longuri, "not a PKCS#11 URI");
	assert_int_equal(signer_key_uri(s, p, longuri, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	expect_refused(s, p, "pkcs11:token=provd-unit;object=other", "not the active token key's URI");
	expect_refused(s, p, "pkcs11:token=provd-unit;object=ca;id=%01",
	    "not the active token key's URI");

	/* The file. */
	expect_refused(s, "../x.uri", uri, "must be an absolute path");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		q = tpki_path(files[i].in_kd ? kd : f->dir, files[i].name);
		expect_refused(s, q, uri, files[i].why);
		free(q);
	}

	dir_names(kd, names, sizeof(names));
	assert_string_equal(names, "link.uri old.uri sub");
	dir_names(other, names, sizeof(names));
	assert_string_equal(names, "");
	q = tpki_path(f->dir, "x.uri");
	assert_int_equal(access(q, F_OK), -1);
	free(q);
	q = tpki_path(kd, "old.uri");
	got = tpki_slurp(q, &len);
	assert_non_null(got);
	assert_int_equal(len, 4);
	assert_memory_equal(got, "old\n", 4);
	free(got);
	free(q);

	/* The active key's URI at a new name in the key directory: written. */
	assert_int_equal(signer_key_uri(s, p, uri, err, sizeof(err)), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	got = tpki_slurp(p, &len);
	assert_non_null(got);
	assert_int_equal(len, strlen(uri) + 1);
	assert_memory_equal(got, uri, strlen(uri));
	free(got);
	dir_names(kd, names, sizeof(names));
	assert_string_equal(names, "ca.key.uri link.uri old.uri sub");
	expect_refused(s, p, uri, "exists already");

	EVP_PKEY_free(pub);
	signer_stop(s);
	unsetenv("SOFTHSM2_CONF");
	free(p);
	free(hsm);
	free(kd);
	free(other);
	free(conf);
	free(pin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genkey_each_type),
		cmocka_unit_test(test_no_key_loaded),
		cmocka_unit_test(test_key_mode_refused),
		cmocka_unit_test(test_weak_ca_key_refused),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_link_certificate),
		cmocka_unit_test(test_signed_answer_checked),
		cmocka_unit_test(test_sign_cert_der),
		cmocka_unit_test(test_engine_never_opens_key),
		cmocka_unit_test(test_dead_signer_and_restart),
		cmocka_unit_test(test_restart_async),
		cmocka_unit_test(test_reply_take),
		cmocka_unit_test(test_drop_privileges),
		cmocka_unit_test(test_launcher_protocol),
		cmocka_unit_test(test_wire_limits),
		cmocka_unit_test(test_key_uri_refusals),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
