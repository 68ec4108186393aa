/*
 * test_pki_issue.c — the issuance and revocation flow end to end: a signer
 * with a fresh CA key, the self-signed CA certificate, staff certificates
 * from CSRs of every allowed key type, verification in-process and with
 * the openssl command (before and after a revocation, against the CRL),
 * the CRL's contents as "openssl crl -text" shows them, and an index.txt
 * that "openssl ocsp -index" answers from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <openssl/x509v3.h>

#include "certgen.h"
#include "crlgen.h"
#include "csr.h"
#include "fingerprint.h"
#include "index.h"
#include "pem.h"
#include "pkitime.h"
#include "profile.h"
#include "reason.h"
#include "serial.h"
#include "signer.h"
#include "test_pki_util.h"

#define NCERTS 4

struct fixture {
	char               *dir;
	struct signer      *s;
	struct profile_set *profiles;
	EVP_PKEY           *ca_pub;
	X509               *ca;
	char               *ca_pem, *ca_key;
	EVP_PKEY           *keys[NCERTS];
	X509               *certs[NCERTS];
	char               *cert_pem[NCERTS];
};

static const char *const key_names[NCERTS] = { "P-256", "P-384", "RSA-2048",
    "RSA-3072" };

static const char ORG[] = "UBND tỉnh Vĩnh Phúc";
static const char *const full_names[NCERTS] = { "Nguyễn Văn An",
    "Đặng Thị Thu Hà", "Bùi Ngọc Trọng Mạnh", "Phan Kim Anh" };
static const char *const mails[NCERTS] = { "annv@vinhphuc.gov.vn",
    "hadtt@vinhphuc.gov.vn", "manhbnt@vinhphuc.gov.vn",
    "anhpk@vinhphuc.gov.vn" };

static int
setup(void **state)
{
	struct signer_config cfg = { .timeout_ms = 20000,
	    .keygen_timeout_ms = 600000 };
	struct fixture *f = calloc(1, sizeof(*f));
	char dir[1024], err[512];
	X509 *tbs = NULL;

	if (f == NULL || (f->dir = tpki_tmpdir()) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/templates/profiles", tpki_srcdir());
	if (profile_load_dir(dir, &f->profiles, err, sizeof(err)) < 0 ||
	    signer_start(&cfg, &f->s, err, sizeof(err)) < 0)
		goto fail;
	f->ca_key = tpki_path(f->dir, "ca.key");
	f->ca_pem = tpki_path(f->dir, "ca.pem");
	if (signer_genkey(f->s, KEYFILE_EC_P384, f->ca_key, NULL, &f->ca_pub,
	    err, sizeof(err)) < 0 ||
	    certgen_ca("CN=Vinh Phuc Staff CA,O=UBND tỉnh Vĩnh Phúc,C=VN", 3650,
	    f->ca_pub, 0, &tbs, err, sizeof(err)) < 0 ||
	    signer_sign_cert(f->s, tbs, SIGNER_SELF_SIGNED, &f->ca, err,
	    sizeof(err)) < 0)
		goto fail;
	X509_free(tbs);
	if (tpki_write_cert(f->ca_pem, f->ca) < 0)
		return -1;
	f->keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f->keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	f->keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	f->keys[3] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err);
	return -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < NCERTS; i++) {
		EVP_PKEY_free(f->keys[i]);
		X509_free(f->certs[i]);
		free(f->cert_pem[i]);
	}
	X509_free(f->ca);
	EVP_PKEY_free(f->ca_pub);
	free(f->ca_pem);
	free(f->ca_key);
	signer_stop(f->s);
	profile_set_free(f->profiles);
	tpki_rmrf(f->dir);
	free(f);
	return 0;
}

static void
test_ca_certificate(void **state)
{
	struct fixture *f = *state;
	char out[1024], err[512];
	BASIC_CONSTRAINTS *bc;

	assert_int_equal(X509_verify(f->ca, f->ca_pub), 1);
	assert_int_equal(X509_get_signature_nid(f->ca), NID_ecdsa_with_SHA384);
	assert_int_equal(X509_check_ca(f->ca), 1);
	assert_int_equal(X509_get_key_usage(f->ca),
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	bc = X509_get_ext_d2i(f->ca, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 1);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(certgen_check_ca_pair(f->ca, f->ca_pub, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(certgen_check_ca_pair(f->ca, f->keys[0], 0, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));

	snprintf(out, sizeof(out), "%s/ca.txt", f->dir);
	assert_int_equal(tpki_run(out, "openssl x509 -in %s -noout -text "
	    "-nameopt utf8,sep_comma_plus", f->ca_pem), 0);
	assert_true(tpki_file_has(out, "CA:TRUE, pathlen:1"));
	assert_true(tpki_file_has(out, "Certificate Sign, CRL Sign"));
	assert_true(tpki_file_has(out, "O=UBND tỉnh Vĩnh Phúc"));
	assert_true(tpki_file_has(out, "Subject Key Identifier"));
	assert_true(tpki_file_has(out, "Authority Key Identifier"));
	/* openssl accepts it as a trust anchor */
	assert_int_equal(tpki_run(out, "openssl verify -x509_strict -CAfile %s "
	    "%s", f->ca_pem, f->ca_pem), 0);
}

static void
check_subject(X509 *x, int nid, const char *want, int type)
{
	X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	ASN1_STRING *s;

	assert_true(i >= 0);
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	assert_int_equal(ASN1_STRING_type(s), type);
	assert_int_equal(ASN1_STRING_length(s), (int)strlen(want));
	assert_memory_equal(ASN1_STRING_get0_data(s), want, strlen(want));
}

static void
test_issue_from_csrs(void **state)
{
	struct fixture *f = *state;
	const struct profile *email = profile_find(f->profiles, "staff-email");
	struct certgen_ca ca = {
		.cert = f->ca, .country = "VN", .organization = ORG,
		.organization_identifier = "GOVVN+70-000.00.00.H62",
		.crl_url = "http://pki.vinhphuc.gov.vn/crl/ca.crl",
		.ocsp_url = "http://pki.vinhphuc.gov.vn/ocsp",
		.ca_issuers_url = "http://pki.vinhphuc.gov.vn/ca.crt",
	};
	char err[512], out[1024], fp[FINGERPRINT_HEX_LEN + 1];
	int i;

	for (i = 0; i < NCERTS; i++) {
		struct certgen_person p = { .full_name = full_names[i],
		    .unit_name = "Sở Nội vụ", .mail = mails[i],
		    .employee_id = i == 0 ? "VP19000001" : NULL };
		X509_REQ *req = tpki_req(f->keys[i]);
		size_t pemlen = 0;
		char *pem = tpki_req_pem(req, &pemlen), name[32];
		EVP_PKEY *pub = NULL;
		X509 *tbs = NULL;
		time_t na, ca_na, now = time(NULL);
		unsigned ku;
		double t0;

		if (csr_intake((unsigned char *)pem, pemlen, email, &pub, err,
		    sizeof(err)) < 0)
			fail_msg("%s CSR: %s", key_names[i], err);
		if (certgen_person(&ca, &p, email, pub, 0, &tbs, err,
		    sizeof(err)) < 0)
			fail_msg("%s: %s", key_names[i], err);
		t0 = tpki_ms();
		if (signer_sign_cert(f->s, tbs, 0, &f->certs[i], err,
		    sizeof(err)) < 0)
			fail_msg("%s sign: %s", key_names[i], err);
		print_message("%-8s signed in %.2f ms\n", key_names[i],
		    tpki_ms() - t0);
		assert_int_equal(X509_verify(f->certs[i], f->ca_pub), 1);
		/* the subject key is the CSR's, whichever way it went in */
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(f->certs[i]), pub), 1);

		/* subject from the account, UTF-8 intact */
		check_subject(f->certs[i], NID_countryName, "VN",
		    V_ASN1_PRINTABLESTRING);
		check_subject(f->certs[i], NID_organizationName, ORG,
		    V_ASN1_UTF8STRING);
		check_subject(f->certs[i], NID_organizationalUnitName,
		    "Sở Nội vụ", V_ASN1_UTF8STRING);
		check_subject(f->certs[i], NID_commonName, full_names[i],
		    V_ASN1_UTF8STRING);
		if (i == 0)
			check_subject(f->certs[i], NID_serialNumber,
			    "VP19000001", V_ASN1_PRINTABLESTRING);
		assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(
		    f->certs[i]), X509_get_subject_name(f->ca)), 0);
		/* serial: 20 bytes, positive */
		assert_int_equal(ASN1_STRING_length(X509_get0_serialNumber(
		    f->certs[i])), 20);
		/* validity: 730 days, 5 minutes of skew */
		pkitime_from_asn1(X509_get0_notAfter(f->certs[i]), &na);
		pkitime_from_asn1(X509_get0_notAfter(f->ca), &ca_na);
		assert_true(na >= now + 730 * 86400 - 5 &&
		    na <= now + 730 * 86400 + 5);
		assert_true(X509_cmp_time(X509_get0_notBefore(f->certs[i]),
		    &(time_t){ now - 290 }) < 0);
		/* extensions */
		assert_int_equal(X509_check_ca(f->certs[i]), 0);
		assert_int_equal(profile_key_usage(email, pub, &ku, err,
		    sizeof(err)), 0);
		assert_int_equal(X509_get_key_usage(f->certs[i]), ku);
		assert_true(X509_get_extended_key_usage(f->certs[i]) &
		    XKU_SMIME);
		assert_true(X509_get_extended_key_usage(f->certs[i]) &
		    XKU_SSL_CLIENT);
		assert_int_equal(X509_check_email(f->certs[i], mails[i], 0, 0),
		    1);
		assert_int_equal(X509_check_purpose(f->certs[i],
		    X509_PURPOSE_SMIME_SIGN, 0), 1);
		assert_int_equal(ASN1_OCTET_STRING_cmp(
		    X509_get0_authority_key_id(f->certs[i]),
		    X509_get0_subject_key_id(f->ca)), 0);
		assert_non_null(X509_get0_subject_key_id(f->certs[i]));
		assert_int_equal(fingerprint_sha256(f->certs[i], fp, err,
		    sizeof(err)), 0);
		assert_int_equal(strlen(fp), 64);

		snprintf(name, sizeof(name), "cert%d.pem", i);
		f->cert_pem[i] = tpki_path(f->dir, name);
		assert_int_equal(tpki_write_cert(f->cert_pem[i], f->certs[i]),
		    0);
		EVP_PKEY_free(pub);
		X509_free(tbs);
		X509_REQ_free(req);
		free(pem);
	}
	/* how openssl shows one */
	snprintf(out, sizeof(out), "%s/cert0.txt", f->dir);
	assert_int_equal(tpki_run(out, "openssl x509 -in %s -noout -text "
	    "-nameopt utf8,sep_comma_plus", f->cert_pem[0]), 0);
	assert_true(tpki_file_has(out, "CN=Nguyễn Văn An"));
	assert_true(tpki_file_has(out, "OU=Sở Nội vụ"));
	assert_true(tpki_file_has(out, "email:annv@vinhphuc.gov.vn"));
	assert_true(tpki_file_has(out, "URI:http://pki.vinhphuc.gov.vn/crl/"
	    "ca.crl"));
	assert_true(tpki_file_has(out, "OCSP - URI:http://pki.vinhphuc.gov.vn/"
	    "ocsp"));
	assert_true(tpki_file_has(out, "CA Issuers - URI:http://"));
	assert_true(tpki_file_has(out, "E-mail Protection, TLS Web Client "
	    "Authentication"));
	assert_true(tpki_file_has(out, "Digital Signature, Key Agreement"));
	assert_true(tpki_file_has(out, "CA:FALSE"));
}

static void
test_staff_sign_profile(void **state)
{
	struct fixture *f = *state;
	const struct profile *sign = profile_find(f->profiles, "staff-sign");
	struct certgen_ca ca = { .cert = f->ca, .country = "VN",
	    .organization = ORG, .organization_identifier = "GOVVN+70-000.00.00.H62" };
	struct certgen_person p = { .full_name = "Phan Kim Anh",
	    .unit_name = "Sở Y tế", .mail = "anhpk@vinhphuc.gov.vn" };
	X509 *tbs = NULL, *x = NULL;
	char err[512], *path, out[1024];

	assert_non_null(sign);
	if (certgen_person(&ca, &p, sign, f->keys[2], 0, &tbs, err,
	    sizeof(err)) < 0 || signer_sign_cert(f->s, tbs, 0, &x, err,
	    sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_int_equal(X509_get_ext_by_NID(x, NID_crl_distribution_points,
	    -1), -1);
	assert_int_equal(X509_get_ext_by_NID(x, NID_info_access, -1), -1);
	path = tpki_path(f->dir, "sign.pem");
	tpki_write_cert(path, x);
	snprintf(out, sizeof(out), "%s/sign.txt", f->dir);
	assert_int_equal(tpki_run(out, "openssl x509 -in %s -noout -text",
	    path), 0);
	assert_true(tpki_file_has(out, "Digital Signature, Non Repudiation"));
	assert_true(tpki_file_has(out, "1.3.6.1.5.5.7.3.36"));
	assert_true(tpki_file_has(out, "1.3.6.1.4.1.311.10.3.12"));
	free(path);
	X509_free(tbs);
	X509_free(x);

	/* bad inputs name the field */
	p.mail = "not an address";
	assert_int_equal(certgen_person(&ca, &p, sign, f->keys[2], 0, &tbs,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mail"));
	p.mail = "anhpk@vinhphuc.gov.vn";
	p.full_name = "Bad\x01Name";
	assert_int_equal(certgen_person(&ca, &p, sign, f->keys[2], 0, &tbs,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "full name"));
	p.full_name = "Phan Kim Anh";
	ca.crl_url = "ftp://x";
	assert_int_equal(certgen_person(&ca, &p, sign, f->keys[2], 0, &tbs,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "crl_url"));
	ca.crl_url = NULL;
	/* an expired CA cannot issue: validity is cut at the CA's end */
	assert_int_equal(certgen_person(&ca, &p, sign, f->keys[2],
	    time(NULL) + 4000L * 86400, &tbs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expire"));
	assert_int_equal(certgen_person(&ca, &p, sign, f->keys[2],
	    time(NULL) + 3649L * 86400, &tbs, err, sizeof(err)), 0);
	assert_int_equal(X509_cmp(tbs, tbs), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(tbs),
	    X509_get0_notAfter(f->ca)), 0);
	X509_free(tbs);
}

/* Build, sign and publish a CRL; returns the DER path. */
static char *
publish_crl(struct fixture *f, uint64_t number, const struct crl_entry *e,
    size_t n, X509_CRL **parsed)
{
	unsigned char *der = NULL, *unsigned_crl = NULL;
	const unsigned char *p;
	size_t derlen = 0, ulen = 0;
	char err[512], name[32], *path;

	snprintf(name, sizeof(name), "crl-%llu.crl",
	    (unsigned long long)number);
	path = tpki_path(f->dir, name);
	if (crlgen_build(f->ca, number, 0, 7, e, n, &unsigned_crl, &ulen, err,
	    sizeof(err)) < 0 ||
	    signer_sign_crl(f->s, unsigned_crl, ulen, &der, &derlen, err,
	    sizeof(err)) < 0 ||
	    crlgen_write_file(path, der, derlen, err, sizeof(err)) < 0)
		fail_msg("CRL %llu: %s", (unsigned long long)number, err);
	p = der;
	*parsed = d2i_X509_CRL(NULL, &p, (long)derlen);
	assert_non_null(*parsed);
	assert_int_equal(X509_CRL_verify(*parsed, f->ca_pub), 1);
	free(unsigned_crl);
	free(der);
	return path;
}

/* In-process chain check with CRL checking; returns the verify error. */
static int
verify_in_process(struct fixture *f, X509 *cert, X509_CRL *crl)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc;

	X509_STORE_add_cert(store, f->ca);
	X509_STORE_add_crl(store, crl);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_init(ctx, store, cert, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN);
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static int
openssl_verify(struct fixture *f, const char *crl, const char *cert,
    const char *out)
{
	return tpki_run(out, "openssl verify -x509_strict -purpose smimesign "
	    "-CAfile %s -crl_check -CRLfile %s %s", f->ca_pem, crl, cert);
}

static void
test_revoke_and_crl(void **state)
{
	struct fixture *f = *state;
	struct crl_entry e[2];
	X509_CRL *crl1 = NULL, *crl2 = NULL;
	char *path1, *path2, out[1024], err[512], *pem = NULL, *pempath;
	size_t pemlen = 0, len = 0, ulen = 0;
	unsigned char *der, *u = NULL;
	int i;

	assert_non_null(f->certs[0]);
	path1 = publish_crl(f, 1, NULL, 0, &crl1);
	snprintf(out, sizeof(out), "%s/verify.txt", f->dir);
	for (i = 0; i < NCERTS; i++) {
		assert_int_equal(verify_in_process(f, f->certs[i], crl1),
		    X509_V_OK);
		if (openssl_verify(f, path1, f->cert_pem[i], out) != 0) {
			tpki_show_file(out);
			fail_msg("openssl verify %s", key_names[i]);
		}
	}

	/* revoke cert 0 (key compromise) and hold cert 2 */
	memset(e, 0, sizeof(e));
	assert_int_equal(serial_from_asn1(X509_get0_serialNumber(f->certs[0]),
	    &e[0].serial, err, sizeof(err)), 0);
	e[0].revoked_at = time(NULL);
	e[0].reason = REASON_KEY_COMPROMISE;
	e[0].invalidity_date = e[0].revoked_at - 86400;
	assert_int_equal(serial_from_asn1(X509_get0_serialNumber(f->certs[2]),
	    &e[1].serial, err, sizeof(err)), 0);
	e[1].revoked_at = time(NULL);
	e[1].reason = REASON_CERTIFICATE_HOLD;
	path2 = publish_crl(f, 2, e, 2, &crl2);

	assert_int_equal(verify_in_process(f, f->certs[0], crl2),
	    X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_in_process(f, f->certs[2], crl2),
	    X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_in_process(f, f->certs[1], crl2), X509_V_OK);
	assert_int_equal(openssl_verify(f, path2, f->cert_pem[0], out), 2);
	assert_true(tpki_file_has(out, "certificate revoked"));
	assert_int_equal(openssl_verify(f, path2, f->cert_pem[2], out), 2);
	if (openssl_verify(f, path2, f->cert_pem[1], out) != 0 ||
	    openssl_verify(f, path2, f->cert_pem[3], out) != 0) {
		tpki_show_file(out);
		fail_msg("openssl verify after revocation");
	}

	/* as a PEM file too */
	der = tpki_slurp(path2, &len);
	assert_int_equal(pem_encode("X509 CRL", der, len, &pem, &pemlen, err,
	    sizeof(err)), 0);
	pempath = tpki_path(f->dir, "crl.pem");
	assert_int_equal(crlgen_write_file(pempath, (unsigned char *)pem,
	    pemlen, err, sizeof(err)), 0);
	assert_int_equal(openssl_verify(f, pempath, f->cert_pem[0], out), 2);

	/* openssl crl -text shows number, reasons, AKI, dates */
	snprintf(out, sizeof(out), "%s/crl.txt", f->dir);
	assert_int_equal(tpki_run(out, "openssl crl -inform DER -in %s -noout "
	    "-text", path2), 0);
	assert_true(tpki_file_has(out, "X509v3 CRL Number: \n                2"));
	assert_true(tpki_file_has(out, "X509v3 Authority Key Identifier"));
	assert_true(tpki_file_has(out, "Key Compromise"));
	assert_true(tpki_file_has(out, "Certificate Hold"));
	assert_true(tpki_file_has(out, "Invalidity Date"));
	assert_true(tpki_file_has(out, "Next Update"));
	assert_true(tpki_file_has(out, "Version 2 (0x1)"));
	assert_true(tpki_file_has(out, "ecdsa-with-SHA384"));
	assert_int_equal(tpki_run(out, "openssl crl -inform DER -in %s -noout "
	    "-CAfile %s", path2, f->ca_pem), 0);
	assert_true(tpki_file_has(out, "verify OK"));

	/* unspecified: no reasonCode extension at all */
	e[1].reason = REASON_UNSPECIFIED;
	X509_CRL_free(crl2);
	free(path2);
	path2 = publish_crl(f, 3, e, 2, &crl2);
	{
		X509_REVOKED *r = NULL;
		ASN1_INTEGER *ser = serial_to_asn1(&e[1].serial);

		assert_int_equal(X509_CRL_get0_by_serial(crl2, &r, ser), 1);
		assert_int_equal(X509_REVOKED_get_ext_by_NID(r, NID_crl_reason,
		    -1), -1);
		ASN1_INTEGER_free(ser);
	}

	/* refusals */
	X509_CRL_free(crl1);
	e[1].reason = REASON_REMOVE_FROM_CRL;
	assert_int_equal(crlgen_build(f->ca, 4, 0, 7, e, 2, &u, &ulen, err,
	    sizeof(err)), -1);
	assert_null(u);
	assert_non_null(strstr(err, "cannot appear"));
	e[1] = e[0];
	assert_int_equal(crlgen_build(f->ca, 4, 0, 7, e, 2, &u, &ulen, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(crlgen_build(f->ca, 4, 0, 0, e, 1, &u, &ulen, err,
	    sizeof(err)), -1);
	e[0].revoked_at = -86400L * 365 * 30;   /* 1940 */
	assert_int_equal(crlgen_build(f->ca, 4, 0, 7, e, 1, &u, &ulen, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(crlgen_write_file("/nonexistent/dir/x.crl",
	    (const unsigned char *)"x", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.crl"));

	X509_CRL_free(crl2);
	free(path1);
	free(path2);
	free(pempath);
	free(pem);
	free(der);
}

static void
index_line(struct fixture *f, FILE *fp, X509 *x, char status, int reason)
{
	struct index_record r;
	char subject[1024], line[INDEX_LINE_MAX], err[512];

	memset(&r, 0, sizeof(r));
	r.status = status;
	assert_int_equal(pkitime_from_asn1(X509_get0_notAfter(x),
	    &r.not_after), 0);
	assert_int_equal(serial_from_asn1(X509_get0_serialNumber(x), &r.serial,
	    err, sizeof(err)), 0);
	assert_int_equal(index_subject(x, subject, sizeof(subject)), 0);
	r.subject = subject;
	r.revoked_at = time(NULL) - 60;
	r.reason = reason;
	if (index_format_line(&r, line, sizeof(line), err, sizeof(err)) < 0)
		fail_msg("%s", err);
	fputs(line, fp);
	(void)f;
}

static void
test_ocsp_from_index(void **state)
{
	struct fixture *f = *state;
	char *idx = tpki_path(f->dir, "index.txt"), out[1024];
	static const char *const want[NCERTS] = { "revoked", "good", "revoked",
	    "good" };
	FILE *fp;
	int i;

	assert_non_null(f->certs[0]);
	fp = fopen(idx, "w");
	assert_non_null(fp);
	index_line(f, fp, f->certs[0], 'R', REASON_KEY_COMPROMISE);
	index_line(f, fp, f->certs[1], 'V', 0);
	index_line(f, fp, f->certs[2], 'R', REASON_CERTIFICATE_HOLD);
	index_line(f, fp, f->certs[3], 'V', 0);
	fclose(fp);
	tpki_show_file(idx);

	for (i = 0; i < NCERTS; i++) {
		snprintf(out, sizeof(out), "%s/ocsp%d.txt", f->dir, i);
		if (tpki_run(out, "cd %s && openssl ocsp -no_nonce -issuer "
		    "ca.pem -cert %s -reqout req%d.der && openssl ocsp "
		    "-index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem "
		    "-reqin req%d.der -respout resp%d.der && openssl ocsp "
		    "-respin resp%d.der -CAfile ca.pem -issuer ca.pem -cert %s",
		    f->dir, f->cert_pem[i], i, i, i, i, f->cert_pem[i]) != 0) {
			tpki_show_file(out);
			fail_msg("openssl ocsp for %s", key_names[i]);
		}
		if (!tpki_file_has(out, want[i])) {
			tpki_show_file(out);
			fail_msg("%s: expected %s", key_names[i], want[i]);
		}
	}
	snprintf(out, sizeof(out), "%s/ocsp0.txt", f->dir);
	assert_true(tpki_file_has(out, "Reason: keyCompromise"));
	snprintf(out, sizeof(out), "%s/ocsp2.txt", f->dir);
	assert_true(tpki_file_has(out, "Reason: certificateHold"));
	free(idx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_certificate),
		cmocka_unit_test(test_issue_from_csrs),
		cmocka_unit_test(test_staff_sign_profile),
		cmocka_unit_test(test_revoke_and_crl),
		cmocka_unit_test(test_ocsp_from_index),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
