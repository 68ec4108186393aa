/* Unit tests for daemon/core/ldapesc.c: RFC 4515 filter values and RFC 4514
 * DNs, checked by parsing the result back with libldap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldap.h>

#include "ldapesc.h"

#define PARENT "ou=people,dc=vinhphuc,dc=gov,dc=vn"

/* ---- filters ---- */

static void
expect_filter(const char *in, const char *want)
{
	char out[256];

	assert_int_equal(ldapesc_filter(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_filter_specials(void **state)
{
	(void)state;
	expect_filter("annv", "annv");
	expect_filter("", "");
	expect_filter("*", "\\2A");
	expect_filter("(", "\\28");
	expect_filter(")", "\\29");
	expect_filter("\\", "\\5C");
	expect_filter("*)(uid=*))(|(uid=*", "\\2A\\29\\28uid=\\2A\\29\\29\\28|"
	    "\\28uid=\\2A");
	/* the DN specials mean nothing in a filter value */
	expect_filter(",+\"<>;=# ", ",+\"<>;=# ");
	/* control characters and UTF-8 come out as hex */
	expect_filter("a\x01z", "a\\01z");
	expect_filter("Nguyễn", "Nguy\\E1\\BB\\85n");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Every byte: the result is printable ASCII without a bare '*', '(' or
 * ')', and undoing the \XX escapes gives the input back. */
static void
test_filter_every_byte(void **state)
{
	char in[4], out[16], back[8];
	size_t i, o;
	int c;

	(void)state;
	for (c = 1; c < 256; c++) {
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'b';
		in[3] = '\0';
		assert_int_equal(ldapesc_filter(in, out, sizeof(out)), 0);
		for (i = 0, o = 0; out[i] != '\0'; o++) {
			unsigned char u = (unsigned char)out[i];
			assert_true(u >= 0x20 && u < 0x7f);
			assert_true(u != '*' && u != '(' && u != ')');
			if (u == '\\') {
				int hi = hexval(out[i + 1]);
				int lo = hexval(out[i + 2]);
				assert_true(hi >= 0 && lo >= 0);
				back[o] = (char)(hi * 16 + lo);
				i += 3;
			} else {
				back[o] = out[i++];
			}
			assert_true(o < sizeof(back) - 1);
		}
		back[o] = '\0';
		assert_string_equal(back, in);
	}
}

static void
test_filter_refusals(void **state)
{
	char out[16], big[LDAPESC_VALUE_MAX + 2];

	(void)state;
	/* exactly fitting, then one byte short: never truncated */
	assert_int_equal(ldapesc_filter("(a)", out, 10), 0);
	assert_string_equal(out, "\\28a\\29");
	assert_int_equal(ldapesc_filter("(a)", out, 8), 0);
	assert_int_equal(ldapesc_filter("(a)", out, 7), -1);
	assert_string_equal(out, "");
	assert_int_equal(ldapesc_filter("x", out, 0), -1);
	assert_int_equal(ldapesc_filter(NULL, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(ldapesc_filter("x", NULL, 10), -1);
	/* NUL inside a counted value */
	assert_int_equal(ldapesc_filter_n("a\0b", 3, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(ldapesc_filter_n("a\0b", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "a");
	/* length limit */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char *o = malloc(3 * sizeof(big));
		assert_non_null(o);
		assert_int_equal(ldapesc_filter(big, o, 3 * sizeof(big)), -1);
		big[LDAPESC_VALUE_MAX] = '\0';
		assert_int_equal(ldapesc_filter(big, o, 3 * sizeof(big)), 0);
		assert_int_equal(strlen(o), LDAPESC_VALUE_MAX);
		free(o);
	}
}

/* ---- DNs ---- */

/* Build the DN, parse it back, and check attribute, value (byte for byte)
 * and parent. Returns the DN text in dn. */
static void
round_trip(const char *attr, const char *value, size_t vlen,
    const char *parent, char *dn, size_t dnsz)
{
	LDAPDN parsed = NULL, pparsed = NULL;
	size_t i, np = 0;

	if (ldapesc_rdn_dn_n(attr, value, vlen, parent, dn, dnsz) != 0)
		fail_msg("refused: %s=%.*s", attr, (int)vlen, value);
	assert_int_equal(ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3),
	    LDAP_SUCCESS);
	assert_non_null(parsed);
	assert_non_null(parsed[0]);
	assert_non_null(parsed[0][0]);
	assert_null(parsed[0][1]);               /* a single-valued RDN */
	assert_int_equal(parsed[0][0]->la_attr.bv_len, strlen(attr));
	assert_memory_equal(parsed[0][0]->la_attr.bv_val, attr, strlen(attr));
	if (parsed[0][0]->la_value.bv_len != vlen ||
	    memcmp(parsed[0][0]->la_value.bv_val, value, vlen) != 0)
		fail_msg("value changed: '%.*s' -> '%s' -> '%.*s'", (int)vlen,
		    value, dn, (int)parsed[0][0]->la_value.bv_len,
		    parsed[0][0]->la_value.bv_val);

	if (parent != NULL && parent[0] != '\0') {
		assert_int_equal(ldap_str2dn(parent, &pparsed,
		    LDAP_DN_FORMAT_LDAPV3), LDAP_SUCCESS);
		for (np = 0; pparsed[np] != NULL; np++) {
			const LDAPAVA *a = parsed[np + 1][0];
			const LDAPAVA *b = pparsed[np][0];
			assert_non_null(parsed[np + 1]);
			assert_int_equal(a->la_value.bv_len, b->la_value.bv_len);
			assert_memory_equal(a->la_value.bv_val,
			    b->la_value.bv_val, b->la_value.bv_len);
		}
		ldap_dnfree(pparsed);
	}
	for (i = 0; parsed[i] != NULL; i++)
		;
	assert_int_equal(i, np + 1);
	ldap_dnfree(parsed);
}

static void
expect_dn(const char *attr, const char *value, const char *parent,
    const char *want)
{
	char dn[1024];

	round_trip(attr, value, strlen(value), parent, dn, sizeof(dn));
	assert_string_equal(dn, want);
}

static void
test_dn_specials(void **state)
{
	static const char *const values[] = {
		",", "+", "\"", "\\", "<", ">", ";", "=", "#",
		"a,b", "a+b", "a\"b", "a\\b", "a<b", "a>b", "a;b", "a=b",
		"uid=x,ou=admins", "x\\2C", "a\\", "\\\\",
		"#", "#lead", "##", "a#b", "a#",
		" lead", "trail ", " both ", " ", "   ", " # ", "# ",
		"*()", ",+\"\\<>;=# ",
	};
	char dn[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		round_trip("uid", values[i], strlen(values[i]), PARENT, dn,
		    sizeof(dn));
		round_trip("cn", values[i], strlen(values[i]), NULL, dn,
		    sizeof(dn));
	}
	expect_dn("uid", "annv", PARENT, "uid=annv," PARENT);
	expect_dn("uid", "a,b", PARENT, "uid=a\\2Cb," PARENT);
	expect_dn("uid", "a+b", "", "uid=a\\2Bb");
	expect_dn("cn", "#lead", NULL, "cn=\\23lead");
	expect_dn("cn", "a#", NULL, "cn=a#");
	expect_dn("cn", " lead", NULL, "cn=\\20lead");
	expect_dn("cn", "trail ", NULL, "cn=trail\\20");
	expect_dn("cn", "a b", NULL, "cn=a b");
	expect_dn("cn", "\"<>;=\\", NULL, "cn=\\22\\3C\\3E\\3B\\3D\\5C");
}

static void
test_dn_utf8(void **state)
{
	static const char *const values[] = {
		"Nguyễn Văn An", "Đặng Thị Thu Hà", "Sở Nội vụ, tỉnh Vĩnh Phúc",
		"Nguyễn Văn An", /* NFD */
		"\xF0\x9F\x98\x80", " Đ ", "#Đ", ("\xEF\xBB\xBF" "bom"),
	};
	char dn[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		round_trip("cn", values[i], strlen(values[i]),
		    "ou=units,dc=vinhphuc,dc=gov,dc=vn", dn, sizeof(dn));
	/* UTF-8 stays readable */
	expect_dn("cn", "Vinh Phuc Staff CA", "ou=pki,dc=vinhphuc,dc=gov,dc=vn",
	    "cn=Vinh Phuc Staff CA,ou=pki,dc=vinhphuc,dc=gov,dc=vn");
	expect_dn("ou", "Sở Nội vụ", NULL, "ou=Sở Nội vụ");
	/* the parent is parsed and re-rendered, its values unchanged */
	expect_dn("uid", "x", "OU=People , dc=a\\2cb", "uid=x,OU=People,dc=a\\2Cb");
	expect_dn("uid", "x", "o=Sở\\20", "uid=x,o=Sở\\20");
}

static void
test_dn_refusals(void **state)
{
	char dn[64], big[LDAPESC_VALUE_MAX + 2];

	(void)state;
	/* NUL, empty, control characters, bad UTF-8 */
	assert_int_equal(ldapesc_rdn_dn_n("uid", "a\0b", 3, PARENT, dn,
	    sizeof(dn)), -1);
	assert_string_equal(dn, "");
	assert_int_equal(ldapesc_rdn_dn("uid", "", PARENT, dn, sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", NULL, PARENT, dn, sizeof(dn)),
	    -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "a\nb", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "a\x7f", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "Nguy\xEA\xDEn", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "\xC0\xAF", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "\xED\xA0\x80", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "\xE1\xBB", PARENT, dn,
	    sizeof(dn)), -1);
	/* attribute names */
	assert_int_equal(ldapesc_rdn_dn("", "x", PARENT, dn, sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn(NULL, "x", PARENT, dn, sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("1uid", "x", PARENT, dn, sizeof(dn)),
	    -1);
	assert_int_equal(ldapesc_rdn_dn("u id", "x", PARENT, dn, sizeof(dn)),
	    -1);
	assert_int_equal(ldapesc_rdn_dn("uid=y,cn", "x", PARENT, dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid;binary", "x", PARENT, dn,
	    sizeof(dn)), -1);
	/* bad parents */
	assert_int_equal(ldapesc_rdn_dn("uid", "x", "dc=a,,dc=b", dn,
	    sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "x", "=a", dn, sizeof(dn)), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "x", "dc=a\\", dn, sizeof(dn)),
	    -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "x", "nonsense", dn,
	    sizeof(dn)), -1);
	/* too small: never truncated */
	assert_int_equal(ldapesc_rdn_dn("uid", "annv", "dc=x", dn, 14), 0);
	assert_string_equal(dn, "uid=annv,dc=x");
	assert_int_equal(ldapesc_rdn_dn("uid", "annv", "dc=x", dn, 13), -1);
	assert_string_equal(dn, "");
	assert_int_equal(ldapesc_rdn_dn("uid", "annv", "dc=x", NULL, 64), -1);
	assert_int_equal(ldapesc_rdn_dn("uid", "annv", "dc=x", dn, 0), -1);
	/* value length */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char *o = malloc(2 * sizeof(big));
		assert_non_null(o);
		assert_int_equal(ldapesc_rdn_dn("cn", big, NULL, o,
		    2 * sizeof(big)), -1);
		big[LDAPESC_VALUE_MAX] = '\0';
		assert_int_equal(ldapesc_rdn_dn("cn", big, NULL, o,
		    2 * sizeof(big)), 0);
		free(o);
	}
	/* too many parent RDNs */
	{
		char parent[512];
		size_t i, o = 0;
		for (i = 0; i <= LDAPESC_PARENT_RDNS_MAX; i++)
			o += (size_t)sprintf(parent + o, "%sdc=a", i ? "," : "");
		{
			char *out = malloc(1024);
			assert_non_null(out);
			assert_int_equal(ldapesc_rdn_dn("uid", "x", parent, out,
			    1024), -1);
			/* one fewer is fine */
			parent[o - 5] = '\0';
			assert_int_equal(ldapesc_rdn_dn("uid", "x", parent, out,
			    1024), 0);
			free(out);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_specials),
		cmocka_unit_test(test_filter_every_byte),
		cmocka_unit_test(test_filter_refusals),
		cmocka_unit_test(test_dn_specials),
		cmocka_unit_test(test_dn_utf8),
		cmocka_unit_test(test_dn_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
