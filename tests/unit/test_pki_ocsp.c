/*
 * test_pki_ocsp — pre-signed OCSP responses and the request reader of
 * provd-ocsp: entry lines, the responder certificate's checks, responses
 * as OpenSSL reads and verifies them, the signer's OCSP requests (the
 * responder key stays in the signer), and hostile requests.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certgen.h"
#include "ocspgen.h"
#include "ocspreq.h"
#include "pkitime.h"
#include "serial.h"
#include "signer.h"
#include "signer_ocsp.h"
#include "test_pki_util.h"

struct pair {
	EVP_PKEY *ca_key;
	X509     *ca;
	EVP_PKEY *r_key;
	X509     *r;
};

/* Through DER, as a certificate from the signer or a file is. */
static X509 *
reparse(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_X509(x, &der);
	X509 *y;

	assert_true(n > 0);
	p = der;
	y = d2i_X509(NULL, &p, n);
	assert_non_null(y);
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

static X509 *
make_ca(EVP_PKEY *k, const char *subject)
{
	char err[256];
	X509 *x = NULL;

	assert_int_equal(certgen_ca(subject, 30, k, 0, &x, err, sizeof(err)), 0);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return reparse(x);
}

static void
pair_make(struct pair *p)
{
	struct certgen_ca ca = { .country = "VN", .organization = "UBND" };
	char err[256];
	X509 *tbs = NULL;

	p->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	p->r_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(p->ca_key);
	assert_non_null(p->r_key);
	p->ca = make_ca(p->ca_key, "/C=VN/O=UBND/CN=Test CA");
	ca.cert = p->ca;
	assert_int_equal(certgen_ocsp_responder(&ca, p->r_key, 24, 0, &tbs, err,
	    sizeof(err)), 0);
	assert_true(X509_sign(tbs, p->ca_key, EVP_sha256()) > 0);
	p->r = reparse(tbs);
}

static void
pair_free(struct pair *p)
{
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->r_key);
	X509_free(p->ca);
	X509_free(p->r);
}

static struct ocspgen_entry
entry(const char *hex, int status, int reason, time_t at, time_t inv)
{
	struct ocspgen_entry e;
	char err[128];

	memset(&e, 0, sizeof(e));
	assert_int_equal(serial_parse(hex, &e.serial, err, sizeof(err)), 0);
	e.status = status;
	e.reason = reason;
	e.revoked_at = at;
	e.invalidity = inv;
	return e;
}

static void
test_lines(void **state)
{
	static const char *const bad[] = {
		"", "ABCD", "ABCD ", "ABCD goodx", "ABCD Good", "abcd good",
		"00 good", "ABCD revoked", "ABCD revoked 1", "ABCD revoked 7 100",
		"ABCD revoked 11 100", "ABCD revoked 1 0", "ABCD revoked 1 100 ",
		"ABCD revoked 1 100 x", "ABCD revoked 1 1234567890123",
		"ABCD revoked -1 100", "ABCD  good", " ABCD good",
		"ABCD good\n", "ABCD revoked 1 100 200 300",
		"000102030405060708090A0B0C0D0E0F1011121314 good",
	};
	struct ocspgen_entry e, back;
	char line[OCSPGEN_LINE_MAX], err[128];
	size_t i;
	int n;

	(void)state;
	e = entry("7A01", OCSPGEN_GOOD, 0, 0, 0);
	n = ocspgen_format(&e, line, sizeof(line));
	assert_string_equal(line, "7A01 good");
	assert_int_equal(ocspgen_parse(line, (size_t)n, &back, err, sizeof(err)), 0);
	assert_int_equal(serial_cmp(&back.serial, &e.serial), 0);
	assert_int_equal(back.status, OCSPGEN_GOOD);
	e = entry("7A01", OCSPGEN_REVOKED, 6, 1790000000, 1780000000);
	n = ocspgen_format(&e, line, sizeof(line));
	assert_string_equal(line, "7A01 revoked 6 1790000000 1780000000");
	assert_int_equal(ocspgen_parse(line, (size_t)n, &back, err, sizeof(err)), 0);
	assert_int_equal(back.reason, 6);
	assert_int_equal(back.revoked_at, 1790000000);
	assert_int_equal(back.invalidity, 1780000000);
	assert_int_equal(ocspgen_parse("7A01 revoked 1 5", 16, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.invalidity, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ocspgen_parse(bad[i], strlen(bad[i]), &back, err,
		    sizeof(err)) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	e = entry("7A01", OCSPGEN_REVOKED, 7, 100, 0);   /* 7 is not a reason */
	assert_int_equal(ocspgen_format(&e, line, sizeof(line)), -1);
	e = entry("7A01", OCSPGEN_GOOD, 0, 0, 0);
	assert_int_equal(ocspgen_format(&e, line, 5), -1);
}

static void
test_responder_certificate(void **state)
{
	struct pair p, q;
	char err[256];

	(void)state;
	pair_make(&p);
	pair_make(&q);
	if (ocspgen_check_responder(p.r, p.r_key, p.ca, p.ca_key, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(X509_check_purpose(p.r, X509_PURPOSE_OCSP_HELPER, 0), 1);
	assert_true(X509_get_extended_key_usage(p.r) == XKU_OCSP_SIGN);
	assert_int_equal(X509_check_ca(p.r), 0);
	assert_true(X509_get_ext_by_NID(p.r, NID_id_pkix_OCSP_noCheck, -1) >= 0);
	/* another key, another CA, the CA certificate itself */
	assert_int_equal(ocspgen_check_responder(p.r, q.r_key, p.ca, p.ca_key,
	    err, sizeof(err)), -1);
	assert_int_equal(ocspgen_check_responder(q.r, q.r_key, p.ca, p.ca_key,
	    err, sizeof(err)), -1);
	assert_int_equal(ocspgen_check_responder(p.r, p.r_key, q.ca, q.ca_key,
	    err, sizeof(err)), -1);
	assert_int_equal(ocspgen_check_responder(p.ca, p.ca_key, p.ca, p.ca_key,
	    err, sizeof(err)), -1);
	pair_free(&p);
	pair_free(&q);
}

/* Decode der as OpenSSL does, verify it against ca, and find serial. */
static void
check_response(const unsigned char *der, size_t len, X509 *ca,
    const char *hex, int want_status, int want_reason, time_t want_at)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs;
	OCSP_CERTID *cid;
	ASN1_INTEGER *ser;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	X509_STORE *store = X509_STORE_new();
	struct serial s;
	char err[128];
	int status, reason;
	time_t t;

	assert_non_null(r);
	assert_ptr_equal(p, der + len);
	assert_int_equal(OCSP_response_status(r), OCSP_RESPONSE_STATUS_SUCCESSFUL);
	bs = OCSP_response_get1_basic(r);
	assert_non_null(bs);
	X509_STORE_add_cert(store, ca);
	assert_int_equal(OCSP_basic_verify(bs, NULL, store, 0), 1);
	assert_int_equal(serial_parse(hex, &s, err, sizeof(err)), 0);
	ser = serial_to_asn1(&s);
	cid = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
	    X509_get0_pubkey_bitstr(ca), ser);
	assert_int_equal(OCSP_resp_find_status(bs, cid, &status, &reason, &rev,
	    &thisupd, &nextupd), 1);
	assert_int_equal(status, want_status);
	assert_int_equal(OCSP_check_validity(thisupd, nextupd, 60, -1), 1);
	if (want_status == V_OCSP_CERTSTATUS_REVOKED) {
		assert_int_equal(reason, want_reason);
		assert_int_equal(pkitime_from_asn1(rev, &t), 0);
		assert_int_equal(t, want_at);
	}
	OCSP_CERTID_free(cid);
	ASN1_INTEGER_free(ser);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	X509_STORE_free(store);
}

static void
test_sign(void **state)
{
	struct pair p;
	struct ocspgen_entry e;
	unsigned char *der = NULL;
	size_t len = 0;
	char err[256];
	time_t now = time(NULL);

	(void)state;
	pair_make(&p);
	e = entry("1F2E3D", OCSPGEN_GOOD, 0, 0, 0);
	assert_int_equal(ocspgen_sign(p.r_key, p.r, p.ca, &e, now, now + 3600,
	    &der, &len, err, sizeof(err)), 0);
	check_response(der, len, p.ca, "1F2E3D", V_OCSP_CERTSTATUS_GOOD, 0, 0);
	free(der);
	e = entry("1F2E3D", OCSPGEN_REVOKED, 6, now - 10, 0);
	assert_int_equal(ocspgen_sign(p.r_key, p.r, p.ca, &e, now, now + 3600,
	    &der, &len, err, sizeof(err)), 0);
	check_response(der, len, p.ca, "1F2E3D", V_OCSP_CERTSTATUS_REVOKED, 6,
	    now - 10);
	free(der);
	e = entry("1F2E3D", OCSPGEN_REVOKED, 1, now - 10, now - 100);
	assert_int_equal(ocspgen_sign(p.r_key, p.r, p.ca, &e, now, now + 3600,
	    &der, &len, err, sizeof(err)), 0);
	check_response(der, len, p.ca, "1F2E3D", V_OCSP_CERTSTATUS_REVOKED, 1,
	    now - 10);
	free(der);
	assert_int_equal(ocspgen_sign(p.r_key, p.r, p.ca, &e, now, now,
	    &der, &len, err, sizeof(err)), -1);
	pair_free(&p);
}

static unsigned char *
request_der_n(X509 *ca, const EVP_MD *md, const char *hex, int count, int nonce,
    size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	struct serial s;
	ASN1_INTEGER *ser;
	unsigned char *der = NULL;
	char err[64];
	int i, n;

	assert_int_equal(serial_parse(hex, &s, err, sizeof(err)), 0);
	ser = serial_to_asn1(&s);
	for (i = 0; i < count; i++)
		assert_non_null(OCSP_request_add0_id(req, OCSP_cert_id_new(md,
		    X509_get_subject_name(ca), X509_get0_pubkey_bitstr(ca), ser)));
	if (nonce)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
	n = i2d_OCSP_REQUEST(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	ASN1_INTEGER_free(ser);
	OCSP_REQUEST_free(req);
	return der;
}

static unsigned char *
request_der(X509 *ca, const EVP_MD *md, const char *hex, int count,
    size_t *len)
{
	return request_der_n(ca, md, hex, count, 1, len);
}

/* ocspreq_parse and the OpenSSL path agree on der[0..len), serial included. */
static void
agree(const unsigned char *der, size_t len, const struct ocspreq_issuer *iss)
{
	struct serial a, b;
	enum ocspreq_result ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ra = ocspreq_parse(der, len, iss, &a);
	rb = ocspreq_parse_openssl(der, len, iss, &b);
	assert_int_equal(ra, rb);
	if (ra == OCSPREQ_SERIAL)
		assert_int_equal(serial_cmp(&a, &b), 0);
}

/* The fast path (the common request without a nonce) answers as OpenSSL
 * does: on the request, every truncation, a byte too many, and every
 * byte changed by several masks. */
static void
test_requests_fast(void **state)
{
	static const char *const serials[] = {
		"7F00AA", "80", "01", "FF", "7F0102030405060708090A0B0C0D0E0F10111213",
		"8F0102030405060708090A0B0C0D0E0F10111213",
	};
	static const unsigned char masks[] = { 0x01, 0x02, 0x04, 0x20, 0x41, 0x80, 0xff };
	struct pair p;
	struct ocspreq_issuer iss;
	unsigned char *der, junk[300];
	size_t len, i, k, m;

	(void)state;
	pair_make(&p);
	assert_int_equal(ocspreq_issuer_of(p.ca, &iss), 0);
	for (k = 0; k < sizeof(serials) / sizeof(serials[0]); k++) {
		der = request_der_n(p.ca, EVP_sha1(), serials[k], 1, 0, &len);
		assert_true(len + 1 <= sizeof(junk));
		agree(der, len, &iss);
		for (i = 0; i < len; i++)
			agree(der, i, &iss);
		memcpy(junk, der, len);
		junk[len] = 0;
		agree(junk, len + 1, &iss);
		for (i = 0; i < len; i++) {
			for (m = 0; m < sizeof(masks); m++) {
				memcpy(junk, der, len);
				junk[i] ^= masks[m];
				agree(junk, len, &iss);
			}
		}
		OPENSSL_free(der);
	}
	pair_free(&p);
}

static void
test_requests(void **state)
{
	struct pair p, q;
	struct ocspreq_issuer iss;
	struct serial s, want;
	unsigned char *der, junk[300];
	size_t len, i, cut;
	char err[64];
	int accepted = 0;

	(void)state;
	pair_make(&p);
	pair_make(&q);
	assert_int_equal(ocspreq_issuer_of(p.ca, &iss), 0);
	assert_int_equal(serial_parse("7F00AA", &want, err, sizeof(err)), 0);
	der = request_der(p.ca, EVP_sha1(), "7F00AA", 1, &len);
	assert_int_equal(ocspreq_parse(der, len, &iss, &s), OCSPREQ_SERIAL);
	assert_int_equal(serial_cmp(&s, &want), 0);
	/* every truncation, and a byte too many */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(ocspreq_parse(der, cut, &iss, &s), OCSPREQ_MALFORMED);
	memcpy(junk, der, len);
	junk[len] = 0;
	assert_int_equal(ocspreq_parse(junk, len + 1, &iss, &s), OCSPREQ_MALFORMED);
	/* one byte changed anywhere: never a crash (nor a sanitizer report) */
	for (i = 0; i < len; i++) {
		memcpy(junk, der, len);
		junk[i] ^= 0x41;
		if (ocspreq_parse(junk, len, &iss, &s) == OCSPREQ_SERIAL) {
			accepted++;
			(void)s;
		}
	}
	print_message("%d of %zu one-byte changes still read as a request\n",
	    accepted, len);
	OPENSSL_free(der);
	der = request_der(p.ca, EVP_sha256(), "7F00AA", 1, &len);
	assert_int_equal(ocspreq_parse(der, len, &iss, &s), OCSPREQ_OTHER_ISSUER);
	OPENSSL_free(der);
	der = request_der(q.ca, EVP_sha1(), "7F00AA", 1, &len);
	assert_int_equal(ocspreq_parse(der, len, &iss, &s), OCSPREQ_OTHER_ISSUER);
	OPENSSL_free(der);
	der = request_der(p.ca, EVP_sha1(), "7F00AA", 2, &len);
	assert_int_equal(ocspreq_parse(der, len, &iss, &s), OCSPREQ_MALFORMED);
	OPENSSL_free(der);
	der = request_der(p.ca, EVP_sha1(),
	    "7F0102030405060708090A0B0C0D0E0F10111213", 1, &len);
	assert_int_equal(ocspreq_parse(der, len, &iss, &s), OCSPREQ_SERIAL);
	OPENSSL_free(der);
	assert_int_equal(ocspreq_parse(NULL, 0, &iss, &s), OCSPREQ_MALFORMED);
	pair_free(&p);
	pair_free(&q);
}

static void
test_base64(void **state)
{
	unsigned char in[200], out[300];
	char enc[400];
	int i, n;
	long got;

	(void)state;
	for (i = 1; i < 100; i++) {
		assert_int_equal(RAND_bytes(in, i), 1);
		n = EVP_EncodeBlock((unsigned char *)enc, in, i);
		got = ocspreq_base64(enc, (size_t)n, out, sizeof(out));
		assert_int_equal(got, i);
		assert_memory_equal(in, out, (size_t)i);
		/* without padding, and URL-safe */
		while (n > 0 && enc[n - 1] == '=')
			n--;
		for (int k = 0; k < n; k++)
			enc[k] = enc[k] == '+' ? '-' : enc[k] == '/' ? '_' : enc[k];
		got = ocspreq_base64(enc, (size_t)n, out, sizeof(out));
		assert_int_equal(got, i);
		assert_memory_equal(in, out, (size_t)i);
	}
	assert_int_equal(ocspreq_base64("", 0, out, sizeof(out)), -1);
	assert_int_equal(ocspreq_base64("A", 1, out, sizeof(out)), -1);
	assert_int_equal(ocspreq_base64("AB!D", 4, out, sizeof(out)), -1);
	assert_int_equal(ocspreq_base64("AB=D", 4, out, sizeof(out)), -1);
	assert_int_equal(ocspreq_base64("AAAAAAAA", 8, out, 5), -1);
	assert_int_equal(ocspreq_base64("AB==", 4, out, sizeof(out)), -1); /* bits left */
	assert_int_equal(ocspreq_base64("AA==", 4, out, sizeof(out)), 1);
}

/* The real signer process: it makes the responder key, refuses a responder
 * certificate the CA did not sign, and signs batches. */
static void
test_signer(void **state)
{
	struct signer_config cfg = { 0 };
	struct signer *s = NULL;
	struct certgen_ca ca = { .country = "VN" };
	EVP_PKEY *ca_pub = NULL, *r_pub = NULL, *other = NULL;
	X509 *cacert = NULL, *tbs = NULL, *r = NULL, *forged = NULL;
	unsigned char *rder = NULL, *cader = NULL, *out = NULL, *fder = NULL;
	size_t rlen = 0, outlen = 0, off;
	int calen, flen;
	char err[512], *dir = tpki_tmpdir(), *key = tpki_path(dir, "ca.key");
	const char *lines = "0A good\n0B revoked 1 1790000000\n0C revoked 6 1790000000 1780000000";
	time_t now = time(NULL);
	int n;

	(void)state;
	assert_int_equal(signer_start(&cfg, &s, err, sizeof(err)), 0);
	assert_int_equal(signer_ocsp_newkey(s, &r_pub, err, sizeof(err)), 0);
	EVP_PKEY_free(r_pub);
	r_pub = NULL;
	assert_int_equal(signer_genkey(s, KEYFILE_EC_P256, key, NULL, &ca_pub, err,
	    sizeof(err)), 0);
	assert_int_equal(certgen_ca("/CN=Signer CA", 10, ca_pub, 0, &tbs, err,
	    sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(s, tbs, SIGNER_SELF_SIGNED, &cacert, err,
	    sizeof(err)), 0);
	X509_free(tbs);
	assert_int_equal(signer_ocsp_newkey(s, &r_pub, err, sizeof(err)), 0);
	assert_int_not_equal(EVP_PKEY_eq(r_pub, ca_pub), 1);
	ca.cert = cacert;
	assert_int_equal(certgen_ocsp_responder(&ca, r_pub, 48, 0, &tbs, err,
	    sizeof(err)), 0);
	assert_int_equal(signer_sign_cert(s, tbs, 0, &r, err, sizeof(err)), 0);
	X509_free(tbs);
	n = i2d_X509(r, &rder);
	rlen = (size_t)n;
	calen = i2d_X509(cacert, &cader);
	assert_int_equal(signer_ocsp_sign(s, rder, rlen, cader, (size_t)calen, now,
	    now + 3600, lines, strlen(lines), &out, &outlen, err, sizeof(err)), 0);
	off = 0;
	for (n = 0; n < 3; n++) {
		size_t l = (size_t)out[off] << 24 | (size_t)out[off + 1] << 16 |
		    (size_t)out[off + 2] << 8 | out[off + 3];
		static const char *const hex[] = { "0A", "0B", "0C" };
		static const int st[] = { V_OCSP_CERTSTATUS_GOOD,
		    V_OCSP_CERTSTATUS_REVOKED, V_OCSP_CERTSTATUS_REVOKED };
		static const int why[] = { 0, 1, 6 };

		check_response(out + off + 4, l, cacert, hex[n], st[n], why[n],
		    1790000000);
		off += 4 + l;
	}
	assert_int_equal(off, outlen);
	free(out);
	out = NULL;
	/* nextUpdate after the responder certificate ends */
	assert_int_equal(signer_ocsp_sign(s, rder, rlen, cader, (size_t)calen, now,
	    now + 72 * 3600, lines, strlen(lines), &out, &outlen, err,
	    sizeof(err)), -1);
	/* a responder certificate for the right key, not signed by the CA */
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	forged = X509_dup(r);
	assert_true(X509_sign(forged, other, EVP_sha256()) > 0);
	flen = i2d_X509(forged, &fder);
	assert_int_equal(signer_ocsp_sign(s, fder, (size_t)flen, cader,
	    (size_t)calen, now, now + 3600, lines, strlen(lines), &out, &outlen,
	    err, sizeof(err)), -1);
	/* a malformed line stops the batch */
	assert_int_equal(signer_ocsp_sign(s, rder, rlen, cader, (size_t)calen, now,
	    now + 3600, "0A good\n0B bad", 14, &out, &outlen, err, sizeof(err)), -1);
	/* a new responder key: the old certificate is refused */
	EVP_PKEY_free(r_pub);
	assert_int_equal(signer_ocsp_newkey(s, &r_pub, err, sizeof(err)), 0);
	assert_int_equal(signer_ocsp_sign(s, rder, rlen, cader, (size_t)calen, now,
	    now + 3600, lines, strlen(lines), &out, &outlen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "responder key"));
	signer_stop(s);
	OPENSSL_free(rder);
	OPENSSL_free(cader);
	OPENSSL_free(fder);
	X509_free(cacert);
	X509_free(r);
	X509_free(forged);
	EVP_PKEY_free(ca_pub);
	EVP_PKEY_free(r_pub);
	EVP_PKEY_free(other);
	free(key);
	tpki_rmrf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_responder_certificate),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_requests_fast),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_signer),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
