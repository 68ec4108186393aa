/*
 * test_pki_p11uri.c — RFC 7512 URIs naming a CA key on a token: the
 * attributes understood, percent-decoding, and everything refused (PINs,
 * module choices, unknown attributes, over-long values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "p11uri.h"

static void
test_parse_ok(void **state)
{
	struct p11uri u;
	char err[256];

	(void)state;
	assert_int_equal(p11uri_parse("pkcs11:token=provd-ca;object=ca%20key;"
	    "type=private", &u, err, sizeof(err)), 0);
	assert_string_equal(u.token, "provd-ca");
	assert_true(u.has_token);
	assert_string_equal(u.object, "ca key");
	assert_int_equal(u.idlen, 0);
	assert_false(u.has_serial);

	assert_int_equal(p11uri_parse("PKCS11:serial=0123abcd;id=%01%02%ff;"
	    "manufacturer=SoftHSM%20project;model=SoftHSM%20v2", &u, err,
	    sizeof(err)), 0);
	assert_string_equal(u.serial, "0123abcd");
	assert_int_equal(u.idlen, 3);
	assert_memory_equal(u.id, "\x01\x02\xff", 3);
	assert_string_equal(u.manufacturer, "SoftHSM project");
	assert_string_equal(u.model, "SoftHSM v2");
	assert_false(u.has_object);
}

static void
test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"pkcs12:token=a;object=b",
		"pkcs11:",
		"pkcs11:object=k",                        /* no token */
		"pkcs11:token=t",                         /* no key */
		"pkcs11:token=t;object=k?pin-value=1234", /* a PIN */
		"pkcs11:token=t;object=k?pin-source=/etc/pin",
		"pkcs11:token=t;object=k?module-path=/tmp/evil.so",
		"pkcs11:token=t;slot-id=1;object=k",      /* unknown attribute */
		"pkcs11:token=t;object=k;type=public",
		"pkcs11:token=t;token=u;object=k",        /* twice */
		"pkcs11:token=t;object=k;",               /* trailing ';' */
		"pkcs11:token=t;;object=k",
		"pkcs11:token=t;object",                  /* no '=' */
		"pkcs11:token=t;object=a%2",              /* short escape */
		"pkcs11:token=t;object=a%zz",
		"pkcs11:token=t;object=a%00b",            /* NUL */
		"pkcs11:token=t;object=a b",              /* unescaped space */
		"pkcs11:token=t;object=k#frag",
		"pkcs11:token=t;id=",                     /* empty id */
		"pkcs11:token=123456789012345678901234567890123;object=k",
		"pkcs11:serial=12345678901234567;object=k",
	};
	struct p11uri u;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (p11uri_parse(bad[i], &u, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_null(strstr(err, "1234"));     /* never echoes a PIN */
	}
}

static void
test_lengths(void **state)
{
	char uri[P11URI_MAX + 64], err[256];
	struct p11uri u;
	size_t n;

	(void)state;
	/* A 32-byte token label fits exactly; the URI cap holds. */
	assert_int_equal(p11uri_parse("pkcs11:token=12345678901234567890123456789012;"
	    "object=k", &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.token), 32);
	n = (size_t)snprintf(uri, sizeof(uri), "pkcs11:token=t;object=");
	memset(uri + n, 'a', sizeof(uri) - n - 1);
	uri[sizeof(uri) - 1] = '\0';
	assert_int_equal(p11uri_parse(uri, &u, err, sizeof(err)), -1);
}

static void
test_match_padded(void **state)
{
	const unsigned char label[8] = { 'p', 'r', 'o', 'v', 'd', ' ', ' ', ' ' };

	(void)state;
	assert_true(p11uri_match_padded(1, "provd", label, sizeof(label)));
	assert_false(p11uri_match_padded(1, "prov", label, sizeof(label)));
	assert_false(p11uri_match_padded(1, "provd-ca", label, sizeof(label)));
	assert_true(p11uri_match_padded(0, "anything", label, sizeof(label)));
	assert_true(p11uri_is("pkcs11:x"));
	assert_false(p11uri_is("/etc/provd/ca.key"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_match_padded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
