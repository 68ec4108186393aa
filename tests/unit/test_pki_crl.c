/*
 * test_pki_crl.c — a CRL with 100,000 revoked certificates: built, signed
 * by the signer process, encoded and published atomically, well inside the
 * 500 ms budget for "revoke -> CRL on disk".  Prints the time of each step.
 *
 * The budget is for the code's own cost, not for a loaded machine's: the
 * time this process or the signer (the larger) spent runnable but waiting
 * for a CPU (the run-queue wait in /proc/PID/schedstat) is taken off the
 * wall-clock total, and the best of up to ATTEMPTS publications must be inside the
 * budget.  Work, sleeps and I/O waits all still count, so a slower build,
 * signature or write fails every attempt.  Sanitizer builds, valgrind and
 * PROVD_TEST_SLOW=1 keep the size but lift the time limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "certgen.h"
#include "crlgen.h"
#include "crlsign.h"
#include "reason.h"
#include "serial.h"
#include "signer.h"
#include "test_pki_util.h"

#define NREVOKED 100000
#define BUDGET_MS 500.0
#define ATTEMPTS 3

/* Milliseconds process pid (0: this one) has waited on a run queue; 0 when
 * the kernel does not say (no schedstat: nothing is taken off). */
static double
runq_wait_ms(pid_t pid)
{
	char path[64];
	unsigned long long on_cpu, waited;
	FILE *f;
	int n;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/schedstat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &on_cpu, &waited);
	fclose(f);
	return n == 2 ? waited / 1e6 : 0;
}

static void
test_crl_100k(void **state)
{
	struct signer_config cfg = { .timeout_ms = 60000 };
	struct signer *s = NULL;
	struct crl_entry *e;
	EVP_PKEY *pub = NULL;
	X509 *tbs = NULL, *ca = NULL;
	X509_CRL *back;
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *ser;
	unsigned char *der = NULL, *unsigned_crl = NULL;
	const unsigned char *p;
	size_t derlen = 0, i, len = 0, ulen = 0;
	char *dir = tpki_tmpdir(), *key, *path, err[512];
	double t0, t1, t2, t3, total, best, w0, ws0, waited;
	int attempt;
	unsigned char *disk;
	struct stat st;
	time_t now = time(NULL);

	(void)state;
	assert_non_null(dir);
	key = tpki_path(dir, "ca.key");
	path = tpki_path(dir, "ca.crl");
	if (signer_start(&cfg, &s, err, sizeof(err)) < 0 ||
	    signer_genkey(s, KEYFILE_EC_P256, key, NULL, &pub, err,
	    sizeof(err)) < 0 ||
	    certgen_ca("/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA",
	    3650, pub, 0, &tbs, err, sizeof(err)) < 0 ||
	    signer_sign_cert(s, tbs, SIGNER_SELF_SIGNED, &ca, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);

	e = calloc(NREVOKED, sizeof(*e));
	assert_non_null(e);
	for (i = 0; i < NREVOKED; i++) {
		assert_int_equal(serial_random(&e[i].serial, err, sizeof(err)),
		    0);
		e[i].revoked_at = now - (time_t)(i % 86400);
		e[i].reason = (int)(i % 7);   /* 0..6, all valid */
		if (i % 10 == 1)
			e[i].invalidity_date = e[i].revoked_at - 3600;
	}

	best = -1;
	for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
		free(unsigned_crl);
		free(der);
		unsigned_crl = NULL;
		der = NULL;
		w0 = runq_wait_ms(0);
		ws0 = runq_wait_ms(signer_pid(s));
		t0 = tpki_ms();
		if (crlgen_build(ca, 123456789012ULL, now, 7, e, NREVOKED,
		    &unsigned_crl, &ulen, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		t1 = tpki_ms();
		if (signer_sign_crl(s, unsigned_crl, ulen, &der, &derlen, err,
		    sizeof(err)) < 0)
			fail_msg("%s", err);
		t2 = tpki_ms();
		if (crlgen_write_file(path, der, derlen, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		t3 = tpki_ms();
		/* The larger of the two waits: the two processes can wait at
		 * the same time (the CRL streams to the signer), so their sum
		 * could take off more than the load cost. */
		waited = runq_wait_ms(0) - w0;
		if (runq_wait_ms(signer_pid(s)) - ws0 > waited)
			waited = runq_wait_ms(signer_pid(s)) - ws0;
		total = t3 - t0;
		print_message("CRL of %d entries, %zu bytes: build %.1f ms, sign "
		    "(signer round trip) %.1f ms, write+fsync %.1f ms, total "
		    "%.1f ms, of which %.1f ms waiting for a CPU (attempt %d)\n",
		    NREVOKED, derlen, t1 - t0, t2 - t1, t3 - t2, total, waited,
		    attempt);
		if (best < 0 || total - waited < best)
			best = total - waited;
		if (!tpki_timing_applies() || best < BUDGET_MS)
			break;
	}
	print_message("best: %.1f ms of the code's own time (budget %.0f ms)\n",
	    best, BUDGET_MS);
	if (tpki_timing_applies())
		assert_true(best < BUDGET_MS);

	/* What is on disk is a valid CRL holding every entry. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	disk = tpki_slurp(path, &len);
	assert_int_equal(len, derlen);
	assert_memory_equal(disk, der, len);
	p = disk;
	back = d2i_X509_CRL(NULL, &p, (long)len);
	assert_non_null(back);
	assert_int_equal(X509_CRL_verify(back, pub), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(back)),
	    NREVOKED);
	for (i = 0; i < NREVOKED; i += 9973) {
		ser = serial_to_asn1(&e[i].serial);
		assert_int_equal(X509_CRL_get0_by_serial(back, &rev, ser), 1);
		ASN1_INTEGER_free(ser);
	}
	/* entries come out in serial order */
	for (i = 1; i < 1000; i++)
		assert_true(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(X509_CRL_get_REVOKED(back),
		    (int)i - 1)), X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(X509_CRL_get_REVOKED(back),
		    (int)i))) < 0);
	{
		ASN1_INTEGER *num = X509_CRL_get_ext_d2i(back, NID_crl_number,
		    NULL, NULL);
		uint64_t v = 0;

		assert_non_null(num);
		assert_int_equal(ASN1_INTEGER_get_uint64(&v, num), 1);
		assert_true(v == 123456789012ULL);
		ASN1_INTEGER_free(num);
	}

	/* A second publication replaces the file atomically. */
	assert_int_equal(crlgen_write_file(path, (const unsigned char *)"x", 1,
	    err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1);

	X509_CRL_free(back);
	free(disk);
	free(der);
	free(unsigned_crl);
	free(e);
	X509_free(tbs);
	X509_free(ca);
	EVP_PKEY_free(pub);
	signer_stop(s);
	free(key);
	free(path);
	tpki_rmrf(dir);
}

static X509 *
self_signed_ca(EVP_PKEY *k)
{
	X509 *x = NULL;
	char err[512];

	if (certgen_ca("CN=Local CA", 30, k, 0, &x, err, sizeof(err)) < 0 ||
	    X509_sign(x, k, EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_get_bits(k) ==
	    256 ? EVP_sha256() : EVP_sha384()) <= 0)
		fail_msg("%s", err);
	return x;
}

/* The signer signs CRLs only: anything else is refused, and it lives on. */
static void
test_signer_refuses_non_crl(void **state)
{
	struct signer_config cfg = { 0 };
	struct signer *s = NULL;
	struct crl_entry e[3];
	EVP_PKEY *pub = NULL, *p384, *k;
	X509 *ca = NULL, *ca384, *cert;
	unsigned char *u = NULL, *u384 = NULL, *der = NULL, *certder = NULL;
	size_t ulen = 0, u384len = 0, derlen = 0, i;
	char *dir = tpki_tmpdir(), *key, err[512];
	int certlen;

	(void)state;
	key = tpki_path(dir, "ca.key");
	if (signer_start(&cfg, &s, err, sizeof(err)) < 0 ||
	    signer_genkey(s, KEYFILE_EC_P256, key, NULL, &pub, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	{
		X509 *tbs = NULL;

		if (certgen_ca("CN=Signer CA", 30, pub, 0, &tbs, err,
		    sizeof(err)) < 0 || signer_sign_cert(s, tbs,
		    SIGNER_SELF_SIGNED, &ca, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		X509_free(tbs);
	}
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		serial_random(&e[i].serial, err, sizeof(err));
		e[i].revoked_at = time(NULL);
		e[i].reason = (int)i;
	}
	assert_int_equal(crlgen_build(ca, 9, 0, 7, e, 3, &u, &ulen, err,
	    sizeof(err)), 0);
	if (signer_sign_crl(s, u, ulen, &der, &derlen, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(der);
	der = NULL;

	/* a certificate (TBSCertificate) is not a CRL */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cert = self_signed_ca(k);
	certlen = i2d_X509(cert, &certder);
	assert_true(certlen > 0);
	assert_int_equal(signer_sign_crl(s, certder, (size_t)certlen, &der,
	    &derlen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a well-formed"));

	/* a CRL for a P-384 CA: wrong algorithm for this key */
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	ca384 = self_signed_ca(p384);
	assert_int_equal(crlgen_build(ca384, 9, 0, 7, e, 3, &u384, &u384len,
	    err, sizeof(err)), 0);
	assert_int_equal(signer_sign_crl(s, u384, u384len, &der, &derlen, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));

	/* every truncation, and bytes appended */
	for (i = 1; i < ulen; i++)
		assert_int_equal(signer_sign_crl(s, u, i, &der, &derlen, err,
		    sizeof(err)), -1);
	{
		unsigned char *longer = malloc(ulen + 1);

		memcpy(longer, u, ulen);
		longer[ulen] = 0;
		assert_int_equal(signer_sign_crl(s, longer, ulen + 1, &der,
		    &derlen, err, sizeof(err)), -1);
		free(longer);
	}
	/* and the signer is still there */
	EVP_PKEY_free(pub);
	pub = NULL;
	assert_int_equal(signer_pubkey(s, &pub, err, sizeof(err)), 0);

	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(pub);
	X509_free(ca);
	X509_free(ca384);
	X509_free(cert);
	OPENSSL_free(certder);
	free(u);
	free(u384);
	free(key);
	signer_stop(s);
	tpki_rmrf(dir);
}

/* In-process: mutated CRLs never crash the check; good ones verify. */
static void
test_crlsign_mutations(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = self_signed_ca(k);
	struct crl_entry e[4];
	unsigned char *u = NULL, *m, *out = NULL;
	const unsigned char *p;
	size_t ulen = 0, outlen = 0, i, accepted = 0;
	X509_CRL *crl;
	char err[512];

	(void)state;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 4; i++) {
		serial_random(&e[i].serial, err, sizeof(err));
		e[i].revoked_at = time(NULL);
		e[i].reason = (int)i;
		e[i].invalidity_date = i == 1 ? time(NULL) - 60 : 0;
	}
	assert_int_equal(crlgen_build(ca, 1, 0, 7, e, 4, &u, &ulen, err,
	    sizeof(err)), 0);
	assert_int_equal(crlsign_sign(k, u, ulen, &out, &outlen, err,
	    sizeof(err)), 0);
	p = out;
	crl = d2i_X509_CRL(NULL, &p, (long)outlen);
	assert_non_null(crl);
	assert_true(p == out + outlen);
	assert_int_equal(X509_CRL_verify(crl, k), 1);
	X509_CRL_free(crl);
	free(out);

	m = malloc(ulen);
	for (i = 0; i < 20000; i++) {
		size_t at = (i * 7919) % ulen;

		memcpy(m, u, ulen);
		m[at] ^= (unsigned char)(1u << (i % 8));
		if (i % 3 == 0)
			m[(at * 31) % ulen] = (unsigned char)i;
		out = NULL;
		if (crlsign_sign(k, m, ulen, &out, &outlen, err,
		    sizeof(err)) == 0) {
			accepted++;
			free(out);
		}
	}
	print_message("%zu of 20000 mutations still had the shape of a CRL\n",
	    accepted);
	free(m);
	free(u);
	X509_free(ca);
	EVP_PKEY_free(k);
}

/* What crlgen_build puts in a CRL, decoded: thisUpdate is `now`,
 * nextUpdate exactly `days` later, entries in serial order whatever the
 * input order, each reason by its RFC 5280 code (none for unspecified),
 * the number; and what it refuses: a serial twice (even far apart),
 * removeFromCRL and codes RFC 5280 does not define. */
static void
test_crl_contents(void **state)
{
	static const int reasons[] = { 0, 1, 2, 3, 4, 5, 6, 9, 10, 1 };
	enum { N = sizeof(reasons) / sizeof(reasons[0]) };
	struct crl_entry e[N], bad[N];
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = self_signed_ca(k);
	X509_CRL *crl;
	const STACK_OF(X509_REVOKED) *revs;
	unsigned char *u = NULL;
	const unsigned char *p;
	size_t ulen = 0, i;
	char err[512];
	time_t now = 1764000000;            /* a fixed instant */
	int day, sec, j;

	(void)state;
	memset(e, 0, sizeof(e));
	for (i = 0; i < N; i++) {
		/* serials 0x10NN, N..1: every pair out of order */
		char hex[8];

		snprintf(hex, sizeof(hex), "10%02x", (unsigned)(N - i));
		assert_int_equal(serial_parse(hex, &e[i].serial, err, sizeof(err)), 0);
		e[i].revoked_at = now - 60;
		e[i].reason = reasons[i];
	}
	assert_int_equal(crlgen_build(ca, 77, now, 7, e, N, &u, &ulen, err, sizeof(err)), 0);
	p = u;
	crl = d2i_X509_CRL(NULL, &p, (long)ulen);
	assert_non_null(crl);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), now), 0);
	assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(crl),
	                                X509_CRL_get0_nextUpdate(crl)), 1);
	assert_int_equal(day, 7);
	assert_int_equal(sec, 0);
	revs = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(revs), N);
	/* in serial order as encoded (read before any lookup: OpenSSL sorts
	 * the stack on its first lookup) */
	for (j = 0; j < N; j++) {
		const X509_REVOKED *r = sk_X509_REVOKED_value(revs, j);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
		ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		int want = reasons[N - 1 - j];  /* serial j+1 came from entry N-1-j */
		uint64_t v = 0;

		assert_int_equal(ASN1_INTEGER_get_uint64(&v, sn), 1);
		assert_true(v == (uint64_t)(0x1000 + j + 1));
		if (want == 0) {
			assert_null(code);
		} else {
			assert_non_null(code);
			assert_int_equal(ASN1_ENUMERATED_get(code), want);
		}
		ASN1_ENUMERATED_free(code);
	}
	{
		ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);

		assert_non_null(num);
		assert_int_equal(ASN1_INTEGER_get(num), 77);
		ASN1_INTEGER_free(num);
	}
	X509_CRL_free(crl);
	free(u);
	u = NULL;

	/* a serial listed twice, first and last of an unsorted list */
	memcpy(bad, e, sizeof(e));
	bad[N - 1].serial = bad[0].serial;
	assert_int_equal(crlgen_build(ca, 78, now, 7, bad, N, &u, &ulen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	/* removeFromCRL (8) and undefined codes (7, 11) */
	for (j = 0; j < 3; j++) {
		static const int no[] = { 8, 7, 11 };

		memcpy(bad, e, sizeof(e));
		bad[3].reason = no[j];
		assert_int_equal(crlgen_build(ca, 78, now, 7, bad, N, &u, &ulen, err,
		                              sizeof(err)), -1);
		assert_null(u);
	}
	/* nextUpdate for 1 day and for 30 */
	for (j = 1; j <= 30; j += 29) {
		assert_int_equal(crlgen_build(ca, 79, now, (unsigned)j, e, 1, &u, &ulen, err,
		                              sizeof(err)), 0);
		p = u;
		crl = d2i_X509_CRL(NULL, &p, (long)ulen);
		assert_non_null(crl);
		assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(crl),
		                                X509_CRL_get0_nextUpdate(crl)), 1);
		assert_int_equal(day, j);
		assert_int_equal(sec, 0);
		X509_CRL_free(crl);
		free(u);
		u = NULL;
	}
	X509_free(ca);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crl_100k),
		cmocka_unit_test(test_signer_refuses_non_crl),
		cmocka_unit_test(test_crlsign_mutations),
		cmocka_unit_test(test_crl_contents),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
