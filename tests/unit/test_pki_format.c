/*
 * test_pki_format.c — pure helpers of the certificate office: serial
 * numbers, revocation reasons, times, strict PEM, distinguished names and
 * index.txt lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "dn.h"
#include "fieldtype.h"
#include "index.h"
#include "pem.h"
#include "pkitime.h"
#include "reason.h"
#include "serial.h"

static void
test_serial_random(void **state)
{
	struct serial a, b;
	char err[256], hex[SERIAL_HEX_MAX + 1];
	int i;

	static struct serial seen[2048];
	unsigned char set[20] = { 0 }, clear[20] = { 0 };
	int j, k;

	(void)state;
	/* 159 random bits: across 2048 serials every bit but the top one is
	 * seen both set and clear (a bit stuck by mistake fails this with
	 * certainty; a random failure has odds of 2^-2047 per bit), no two
	 * serials share their last 8 bytes, and every one is 20 bytes long (a
	 * leading zero byte, 1 in 128 if allowed, would shorten it: 2048 draws
	 * miss it with odds of 1 in 10^7). */
	for (i = 0; i < 2048; i++) {
		assert_int_equal(serial_random(&seen[i], err, sizeof(err)), 0);
		a = seen[i];
		assert_int_equal(a.len, 20);
		assert_true(a.bytes[0] != 0);
		assert_true((a.bytes[0] & 0x80) == 0);
		for (j = 0; j < 20; j++) {
			set[j] |= a.bytes[j];
			clear[j] |= (unsigned char)~a.bytes[j];
		}
		for (k = 0; k < i; k++)
			assert_memory_not_equal(seen[k].bytes + 12, a.bytes + 12, 8);
	}
	assert_int_equal(set[0], 0x7f);
	assert_int_equal(clear[0], 0xff);
	for (j = 1; j < 20; j++) {
		assert_int_equal(set[j], 0xff);
		assert_int_equal(clear[j], 0xff);
	}
	assert_int_equal(serial_random(&b, err, sizeof(err)), 0);
	assert_int_not_equal(serial_cmp(&a, &b), 0);
	serial_to_hex(&a, 0, hex);
	assert_int_equal(strlen(hex), 40);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 40);
}

static void
test_serial_parse(void **state)
{
	struct serial s, t;
	char err[256], hex[SERIAL_HEX_MAX + 1];

	(void)state;
	assert_int_equal(serial_parse("0A1b2C", &s, err, sizeof(err)), 0);
	serial_to_hex(&s, 0, hex);
	assert_string_equal(hex, "0a1b2c");
	serial_to_hex(&s, 1, hex);
	assert_string_equal(hex, "0A1B2C");
	/* openssl x509 -serial */
	assert_int_equal(serial_parse("serial=0A1B2C\n", &t, err, sizeof(err)),
	    0);
	assert_int_equal(serial_cmp(&s, &t), 0);
	/* openssl x509 -text, with a leading 00 sign byte */
	assert_int_equal(serial_parse("  00:0a:1b:2c ", &t, err, sizeof(err)),
	    0);
	assert_int_equal(serial_cmp(&s, &t), 0);
	assert_int_equal(serial_parse("0xa1b2c", &t, err, sizeof(err)), 0);
	assert_int_equal(serial_cmp(&s, &t), 0);
	/* 20 bytes is the maximum; leading zeros do not count */
	assert_int_equal(serial_parse("00007f0102030405060708090a0b0c0d0e0f"
	    "1011121314", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("7f0102030405060708090a0b0c0d0e0f10111213",
	    &t, err, sizeof(err)), 0);
	assert_int_equal(t.len, 20);
	assert_int_equal(serial_parse("00007f0102030405060708090a0b0c0d0e0f"
	    "10111213", &t, err, sizeof(err)), 0);
	assert_int_equal(serial_parse("7f0102030405060708090a0b0c0d0e0f101112"
	    "1314", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "20"));
	/* refusals */
	assert_int_equal(serial_parse("", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("   ", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("00", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "zero"));
	assert_int_equal(serial_parse("12g4", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hex"));
	assert_int_equal(serial_parse("1:23", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("12::34", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("12:34:", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse("-12", &t, err, sizeof(err)), -1);
	assert_int_equal(serial_parse(NULL, &t, err, sizeof(err)), -1);
}

static void
test_serial_asn1(void **state)
{
	struct serial s, t;
	ASN1_INTEGER *ai;
	char err[256];

	(void)state;
	assert_int_equal(serial_random(&s, err, sizeof(err)), 0);
	ai = serial_to_asn1(&s);
	assert_non_null(ai);
	assert_int_equal(serial_from_asn1(ai, &t, err, sizeof(err)), 0);
	assert_int_equal(serial_cmp(&s, &t), 0);
	ASN1_INTEGER_set(ai, -5);
	assert_int_equal(serial_from_asn1(ai, &t, err, sizeof(err)), -1);
	ASN1_INTEGER_set(ai, 0);
	assert_int_equal(serial_from_asn1(ai, &t, err, sizeof(err)), -1);
	ASN1_INTEGER_free(ai);
}

static void
test_reason(void **state)
{
	char err[512];
	int code = -1;

	(void)state;
	assert_string_equal(reason_name(REASON_KEY_COMPROMISE),
	    "keyCompromise");
	assert_string_equal(reason_name(REASON_AA_COMPROMISE), "aACompromise");
	assert_null(reason_name(7));
	assert_null(reason_name(11));
	assert_null(reason_name(-1));
	assert_int_equal(reason_parse("KEYCOMPROMISE", &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 1);
	assert_int_equal(reason_parse("cacompromise", &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 2);
	assert_int_equal(reason_parse("certificateHold", &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 6);
	assert_int_equal(reason_parse("privilegeWithdrawn", &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 9);
	assert_int_equal(reason_parse("aacompromise", &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 10);
	assert_int_equal(reason_parse("removeFromCRL", &code, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "removeFromCRL"));
	assert_int_equal(reason_parse("stolen", &code, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "keyCompromise"));
	assert_int_equal(reason_parse("", &code, err, sizeof(err)), -1);
	assert_true(reason_valid_for_crl(0));
	assert_false(reason_valid_for_crl(7));
	assert_false(reason_valid_for_crl(8));
	assert_true(reason_valid_for_crl(10));
}

static void
test_time(void **state)
{
	char buf[PKITIME_LDAP_LEN + 1], err[256];
	ASN1_TIME *a;
	time_t t;

	(void)state;
	assert_int_equal(pkitime_format_ldap(0, buf), 0);
	assert_string_equal(buf, "19700101000000Z");
	assert_int_equal(pkitime_format_ldap(1700000000, buf), 0);
	assert_string_equal(buf, "20231114221320Z");
	assert_int_equal(pkitime_parse_ldap(buf, &t, err, sizeof(err)), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(pkitime_parse_ldap("20240229120000Z", &t, err,
	    sizeof(err)), 0);
	assert_int_equal(pkitime_parse_ldap("20230229120000Z", &t, err,
	    sizeof(err)), -1);
	assert_int_equal(pkitime_parse_ldap("2023111422132Z", &t, err,
	    sizeof(err)), -1);
	assert_int_equal(pkitime_parse_ldap("20231114221320", &t, err,
	    sizeof(err)), -1);
	assert_int_equal(pkitime_parse_ldap("20231314221320Z", &t, err,
	    sizeof(err)), -1);
	assert_int_equal(pkitime_parse_ldap("2023111422132xZ", &t, err,
	    sizeof(err)), -1);
	assert_int_equal(pkitime_format_asn1(1700000000, buf), 0);
	assert_string_equal(buf, "231114221320Z");
	assert_int_equal(pkitime_format_asn1(2556144000, buf), 0); /* 2051 */
	assert_string_equal(buf, "20510101000000Z");
	/* the output form, and the wire form of the same instant */
	{
		char iso[PKITIME_ISO_LEN + 1], gt[16];

		assert_int_equal(pkitime_format_iso(1700000000, iso), 0);
		assert_string_equal(iso, "2023-11-14T22:13:20Z");
		assert_int_equal(pkitime_format_iso(0, iso), 0);
		assert_string_equal(iso, "1970-01-01T00:00:00Z");
		assert_int_equal(pkitime_format_iso(1700000000, iso), 0);
		assert_int_equal(fieldtype_parse_time(iso, NULL, gt), 0);
		assert_int_equal(pkitime_format_ldap(1700000000, buf), 0);
		assert_string_equal(gt, buf);
		assert_int_equal(pkitime_format_iso((time_t)400000000000LL, iso), -1);
		assert_string_equal(iso, "");
	}
	a = ASN1_TIME_set(NULL, 1700000000);
	assert_int_equal(pkitime_from_asn1(a, &t), 0);
	assert_int_equal(t, 1700000000);
	ASN1_TIME_free(a);
}

static const char *const req_labels[] = { "CERTIFICATE REQUEST" };

static int
decode_text(const char *text, char *err, size_t errlen)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	int rc = pem_decode_one((const unsigned char *)text, strlen(text),
	    req_labels, 1, "CSR", &out, &outlen, err, errlen);

	if (rc == 0)
		assert_int_equal(outlen, 5);
	free(out);
	return rc;
}

static void
test_pem(void **state)
{
	static const unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x05,
	    0xff, 0x00 };
	unsigned char *out = NULL, *bad;
	char *pem = NULL, err[256];
	size_t pemlen, outlen, i;

	(void)state;
	for (i = 1; i <= sizeof(der); i++) {
		assert_int_equal(pem_encode("CERTIFICATE REQUEST", der, i, &pem,
		    &pemlen, err, sizeof(err)), 0);
		assert_true(pem_looks_like((unsigned char *)pem, pemlen));
		assert_int_equal(pem_decode_one((unsigned char *)pem, pemlen,
		    req_labels, 1, "CSR", &out, &outlen, err, sizeof(err)), 0);
		assert_int_equal(outlen, i);
		assert_memory_equal(out, der, i);
		free(out);
		free(pem);
	}
	assert_int_equal(pem_encode("CERTIFICATE REQUEST", der, sizeof(der),
	    &pem, &pemlen, err, sizeof(err)), 0);
	/* trailing junk */
	bad = malloc(pemlen + 16);
	memcpy(bad, pem, pemlen);
	memcpy(bad + pemlen, "junk\n", 5);
	assert_int_equal(pem_decode_one(bad, pemlen + 5, req_labels, 1, "CSR",
	    &out, &outlen, err, sizeof(err)), -1);
	assert_string_equal(err, "trailing data after CSR");
	/* two blocks */
	memcpy(bad, pem, pemlen);
	assert_int_equal(pem_decode_one(bad, pemlen, req_labels, 1, "CSR",
	    &out, &outlen, err, sizeof(err)), 0);
	free(out);
	free(bad);
	bad = malloc(2 * pemlen);
	memcpy(bad, pem, pemlen);
	memcpy(bad + pemlen, pem, pemlen);
	assert_int_equal(pem_decode_one(bad, 2 * pemlen, req_labels, 1, "CSR",
	    &out, &outlen, err, sizeof(err)), -1);
	assert_string_equal(err, "trailing data after CSR");
	/* bad base64 */
	memcpy(bad, pem, pemlen);
	bad[30] = '*';
	assert_int_equal(pem_decode_one(bad, pemlen, req_labels, 1, "CSR",
	    &out, &outlen, err, sizeof(err)), -1);
	free(bad);
	/* wrong label, headers, missing END */
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE-----\nMAMCAQU=\n"
	    "-----END CERTIFICATE-----\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "label"));
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "Proc-Type: 4,ENCRYPTED\n\nMAMCAQU=\n-----END CERTIFICATE "
	    "REQUEST-----\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "headers"));
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MAMCAQU=\n", err, sizeof(err)), -1);
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MAMCAQU=\n-----END CERTIFICATE-----\n", err, sizeof(err)), -1);
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MAMC=AQU\n-----END CERTIFICATE REQUEST-----\n", err,
	    sizeof(err)), -1);
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MAMCAQ\n-----END CERTIFICATE REQUEST-----\n", err, sizeof(err)),
	    -1);
	assert_int_equal(decode_text("-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MA\n MC\tAQ U=\r\n-----END CERTIFICATE REQUEST-----\n", err,
	    sizeof(err)), 0);
	free(pem);
}

static void
check_entry(X509_NAME *n, int i, int nid, int type, const char *value)
{
	X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
	ASN1_STRING *s;

	assert_non_null(e);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), nid);
	s = X509_NAME_ENTRY_get_data(e);
	assert_int_equal(ASN1_STRING_type(s), type);
	assert_int_equal(ASN1_STRING_length(s), (int)strlen(value));
	assert_memory_equal(ASN1_STRING_get0_data(s), value, strlen(value));
}

static void
test_dn(void **state)
{
	const char *org = "UBND tỉnh Vĩnh Phúc";
	X509_NAME *a = NULL, *b = NULL;
	char err[256];

	(void)state;
	assert_int_equal(dn_parse("/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc "
	    "Staff CA", &a, err, sizeof(err)), 0);
	assert_int_equal(X509_NAME_entry_count(a), 3);
	check_entry(a, 0, NID_countryName, V_ASN1_PRINTABLESTRING, "VN");
	check_entry(a, 1, NID_organizationName, V_ASN1_UTF8STRING, org);
	check_entry(a, 2, NID_commonName, V_ASN1_UTF8STRING,
	    "Vinh Phuc Staff CA");
	assert_int_equal(dn_parse("CN=Vinh Phuc Staff CA, O=UBND tỉnh Vĩnh "
	    "Phúc,C=VN", &b, err, sizeof(err)), 0);
	assert_int_equal(X509_NAME_cmp(a, b), 0);
	X509_NAME_free(a);
	X509_NAME_free(b);
	/* escapes */
	assert_int_equal(dn_parse("CN=Sở Nội vụ\\, tỉnh,OU=a\\+b,O=x\\2Cy,C=VN",
	    &a, err, sizeof(err)), 0);
	check_entry(a, 1, NID_organizationName, V_ASN1_UTF8STRING, "x,y");
	check_entry(a, 2, NID_organizationalUnitName, V_ASN1_UTF8STRING,
	    "a+b");
	check_entry(a, 3, NID_commonName, V_ASN1_UTF8STRING, "Sở Nội vụ, tỉnh");
	X509_NAME_free(a);
	assert_int_equal(dn_parse("/O=a\\/b/CN=c/", &a, err, sizeof(err)), 0);
	check_entry(a, 0, NID_organizationName, V_ASN1_UTF8STRING, "a/b");
	X509_NAME_free(a);
	/* refusals */
	assert_int_equal(dn_parse("", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("/C=Vietnam/CN=x", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "country"));
	assert_int_equal(dn_parse("/XX=1/CN=x", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "XX"));
	assert_int_equal(dn_parse("CN=a+OU=b", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("CN=#0403", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("CN=abc,O", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("CN=a\\00b", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("CN=\xc3\x28", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(dn_parse("CN=", &a, err, sizeof(err)), -1);
	assert_int_equal(dn_parse("CN=0123456789012345678901234567890123456789"
	    "01234567890123456789012345", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64"));
	assert_int_equal(dn_parse("CN=tab\there", &a, err, sizeof(err)), -1);
	assert_null(a);
}

static void
test_index_line(void **state)
{
	struct index_record r;
	char line[INDEX_LINE_MAX], err[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.status = 'V';
	r.not_after = 1764000000;    /* 2025-11-24 16:00:00Z */
	assert_int_equal(serial_parse("0a1b", &r.serial, err, sizeof(err)), 0);
	r.subject = "/C=VN/O=UBND t\\xE1\\xBB\\x89nh/CN=An";
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_string_equal(line, "V\t251124160000Z\t\t0A1B\tunknown\t"
	    "/C=VN/O=UBND t\\xE1\\xBB\\x89nh/CN=An\n");
	r.status = 'R';
	r.revoked_at = 1700000000;
	r.reason = REASON_CESSATION_OF_OPERATION;
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_non_null(strstr(line, "\t231114221320Z,cessationOfOperation\t"));
	r.reason = REASON_CA_COMPROMISE;
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_non_null(strstr(line, "\t231114221320Z,CACompromise\t"));
	r.reason = REASON_KEY_COMPROMISE;
	r.invalidity_date = 1699990000;
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_non_null(strstr(line, ",keyTime,20231114192640Z\t"));
	r.invalidity_date = 0;
	r.reason = REASON_UNSPECIFIED;
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_non_null(strstr(line, "\t231114221320Z\t0A1B"));
	r.reason = REASON_PRIVILEGE_WITHDRAWN;
	assert_true(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)) > 0);
	assert_non_null(strstr(line, "\t231114221320Z\t0A1B"));
	/* refusals */
	r.subject = "/CN=a\tb";
	assert_int_equal(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)), -1);
	r.subject = "/CN=a";
	r.status = 'X';
	assert_int_equal(index_format_line(&r, line, sizeof(line), err,
	    sizeof(err)), -1);
	r.status = 'V';
	assert_int_equal(index_format_line(&r, line, 10, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_random),
		cmocka_unit_test(test_serial_parse),
		cmocka_unit_test(test_serial_asn1),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_dn),
		cmocka_unit_test(test_index_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
