/* Unit tests for tools/provd-self: the password rules (pwrules) and the
 * guards (form tokens, rate limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard.h"
#include "pwrules.h"

static char list_path[64];

static int
setup_list(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "password\n"
	    "P@ssw0rd\n"
	    "Mật khẩu\n"
	    "123456789\n"
	    "password\n";             /* duplicate: counted once */
	int fd;

	(void)state;
	snprintf(list_path, sizeof(list_path), "/tmp/provd-test-self.XXXXXX");
	fd = mkstemp(list_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	return 0;
}

static int
teardown_list(void **state)
{
	(void)state;
	unlink(list_path);
	return 0;
}

static struct pwrules *
rules(void)
{
	char err[256];
	struct pwrules *r = pwrules_load(10, list_path, err, sizeof(err));

	if (r == NULL)
		fail_msg("pwrules_load: %s", err);
	return r;
}

static void
test_rules_load(void **state)
{
	struct pwrules *r;
	char err[256];

	(void)state;
	r = rules();
	assert_int_equal(pwrules_min_length(r), 10);
	assert_int_equal(pwrules_list_size(r), 4);
	pwrules_free(r);
	assert_null(pwrules_load(7, list_path, err, sizeof(err)));
	assert_non_null(strstr(err, "min_length"));
	assert_null(pwrules_load(10, "/nonexistent/list", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/list"));
}

static void
test_rules_length(void **state)
{
	struct pwrules *r = rules();
	char longpw[PWRULES_MAX_BYTES + 2];

	(void)state;
	assert_int_equal(pwrules_check(r, "Song-Lo-9", NULL, NULL, NULL), PWR_TOO_SHORT);
	assert_int_equal(pwrules_check(r, "Song-Lo-99", NULL, NULL, NULL), PWR_OK);
	/* Length is counted in characters, not bytes: 9 characters, 14 bytes. */
	assert_int_equal(pwrules_check(r, "Đổi-mật-k", NULL, NULL, NULL), PWR_TOO_SHORT);
	assert_int_equal(pwrules_check(r, "Đổi-mật-kh", NULL, NULL, NULL), PWR_OK);
	memset(longpw, 'x', PWRULES_MAX_BYTES);
	longpw[PWRULES_MAX_BYTES] = '\0';
	assert_int_equal(pwrules_check(r, longpw, NULL, NULL, NULL), PWR_OK);
	longpw[PWRULES_MAX_BYTES] = 'x';
	longpw[PWRULES_MAX_BYTES + 1] = '\0';
	assert_int_equal(pwrules_check(r, longpw, NULL, NULL, NULL), PWR_TOO_LONG);
	pwrules_free(r);
}

static void
test_rules_text(void **state)
{
	struct pwrules *r = rules();

	(void)state;
	assert_int_equal(pwrules_check(r, "Song-Lo-99\t1", NULL, NULL, NULL), PWR_BAD_TEXT);
	assert_int_equal(pwrules_check(r, "Song-Lo-99\x7f", NULL, NULL, NULL), PWR_BAD_TEXT);
	assert_int_equal(pwrules_check(r, "Song-Lo-99\xff\xfe", NULL, NULL, NULL), PWR_BAD_TEXT);
	pwrules_free(r);
}

static void
test_rules_same(void **state)
{
	struct pwrules *r = rules();

	(void)state;
	assert_int_equal(pwrules_check(r, "Song-Lo-2025", "Song-Lo-2025", NULL, NULL), PWR_SAME);
	assert_int_equal(pwrules_check(r, "Song-Lo-2025", "Song-Lo-2024", NULL, NULL), PWR_OK);
	pwrules_free(r);
}

static void
test_rules_login_and_name(void **state)
{
	struct pwrules *r = rules();

	(void)state;
	assert_int_equal(pwrules_check(r, "xxANNVxx-2025", NULL, "annv", NULL), PWR_HAS_LOGIN);
	/* A mail address counts by its local part. */
	assert_int_equal(pwrules_check(r, "hello-annv-2025", NULL, "annv@vinhphuc.gov.vn", NULL),
	    PWR_HAS_LOGIN);
	assert_int_equal(pwrules_check(r, "hello-anv-2025", NULL, "annv", NULL), PWR_OK);
	/* Name words compare folded: "Nguyễn" is "nguyen". */
	assert_int_equal(pwrules_check(r, "NguyenLove2025", NULL, "annv", "Nguyễn Văn An"),
	    PWR_HAS_NAME);
	assert_int_equal(pwrules_check(r, "i-love-van-2025", NULL, "annv", "Nguyễn Văn An"),
	    PWR_HAS_NAME);
	/* Words under three letters are not compared ("An"). */
	assert_int_equal(pwrules_check(r, "Banana-split-99", NULL, "annv", "Nguyễn Văn An"),
	    PWR_OK);
	assert_int_equal(pwrules_check(r, "Tre-xanh-2025", NULL, "", ""), PWR_OK);
	pwrules_free(r);
}

static void
test_rules_common(void **state)
{
	struct pwrules *r = rules();

	(void)state;
	assert_int_equal(pwrules_check(r, "password2025", NULL, NULL, NULL), PWR_COMMON);
	assert_int_equal(pwrules_check(r, "PASSWORD-123", NULL, NULL, NULL), PWR_COMMON);
	assert_int_equal(pwrules_check(r, "p.a.s.s.w.0.r.d", NULL, NULL, NULL), PWR_COMMON);
	assert_int_equal(pwrules_check(r, "Mat-khau-2024", NULL, NULL, NULL), PWR_COMMON);
	assert_int_equal(pwrules_check(r, "123456789!", NULL, NULL, NULL), PWR_COMMON);
	assert_int_equal(pwrules_check(r, "password-of-mine", NULL, NULL, NULL), PWR_OK);
	pwrules_free(r);
}

/* ---- guard ---- */

static struct guard *
new_guard(unsigned burst, unsigned window)
{
	struct guard_limit l = { burst, window };
	struct guard *g = guard_new(l, l);

	assert_non_null(g);
	return g;
}

static void
test_token_roundtrip(void **state)
{
	struct guard *g = new_guard(5, 60), *other = new_guard(5, 60);
	char token[GUARD_TOKEN_BUFSZ], nonce[GUARD_NONCE_HEX + 1], bad[GUARD_TOKEN_BUFSZ];
	char token2[GUARD_TOKEN_BUFSZ], nonce2[GUARD_NONCE_HEX + 1];
	time_t now = 1800000000;

	(void)state;
	assert_int_equal(guard_token_new(g, now, token, nonce), 0);
	assert_int_equal(strlen(nonce), GUARD_NONCE_HEX);
	assert_int_equal(strncmp(token, nonce, GUARD_NONCE_HEX), 0);
	assert_true(guard_token_ok(g, token, nonce, now));
	assert_true(guard_token_ok(g, token, nonce, now + GUARD_TOKEN_TTL));
	assert_false(guard_token_ok(g, token, nonce, now + GUARD_TOKEN_TTL + 1));
	assert_false(guard_token_ok(g, token, nonce, now - 1));          /* from the future */
	assert_false(guard_token_ok(other, token, nonce, now));          /* another key */
	assert_false(guard_token_ok(g, token, NULL, now));               /* no cookie */
	assert_false(guard_token_ok(g, NULL, nonce, now));
	assert_int_equal(guard_token_new(g, now, token2, nonce2), 0);
	assert_string_not_equal(nonce, nonce2);
	assert_false(guard_token_ok(g, token, nonce2, now));            /* cookie of another form */
	assert_true(guard_token_ok(g, token2, nonce2, now));
	/* Any one character changed anywhere breaks it. */
	for (size_t i = 0; token[i] != '\0'; i++) {
		memcpy(bad, token, sizeof(bad));
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		if (strcmp(bad, token) == 0)
			continue;
		assert_false(guard_token_ok(g, bad, nonce, now));
	}
	memcpy(bad, token, sizeof(bad));
	bad[strlen(bad) - 1] = '\0';
	assert_false(guard_token_ok(g, bad, nonce, now));
	guard_free(g);
	guard_free(other);
}

static void
test_rate_limits(void **state)
{
	struct guard *g = new_guard(3, 30);
	time_t now = 1800000000;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(guard_take_address(g, "192.0.2.1", now));
	assert_false(guard_take_address(g, "192.0.2.1", now));
	assert_true(guard_take_address(g, "192.0.2.2", now));    /* another address */
	/* One attempt comes back every window/burst = 10 s. */
	assert_false(guard_take_address(g, "192.0.2.1", now + 9));
	assert_true(guard_take_address(g, "192.0.2.1", now + 10));
	assert_false(guard_take_address(g, "192.0.2.1", now + 10));
	/* IPv6: a /64 is one client, whichever of its addresses it uses;
	 * another /64 is another client. */
	for (int i = 0; i < 3; i++)
		assert_true(guard_take_address(g, "2001:db8:1:2::1", now));
	assert_false(guard_take_address(g, "2001:db8:1:2::1", now));
	assert_false(guard_take_address(g, "2001:db8:1:2:abcd:ef01:2345:6789", now));
	assert_false(guard_take_address(g, "2001:DB8:1:2:0:0:0:ffff", now));
	assert_true(guard_take_address(g, "2001:db8:1:3::1", now));
	/* Accounts are their own table, compared without case. */
	for (int i = 0; i < 3; i++)
		assert_true(guard_take_account(g, i % 2 ? "ANNV" : "annv", now));
	assert_false(guard_take_account(g, "AnNv", now));
	assert_true(guard_take_address(g, "annv", now));
	/* A full window refills the burst, never more. */
	for (int i = 0; i < 3; i++)
		assert_true(guard_take_account(g, "annv", now + 1000));
	assert_false(guard_take_account(g, "annv", now + 1000));
	guard_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_load),
		cmocka_unit_test(test_rules_length),
		cmocka_unit_test(test_rules_text),
		cmocka_unit_test(test_rules_same),
		cmocka_unit_test(test_rules_login_and_name),
		cmocka_unit_test(test_rules_common),
		cmocka_unit_test(test_token_roundtrip),
		cmocka_unit_test(test_rate_limits),
	};

	return cmocka_run_group_tests(tests, setup_list, teardown_list);
}
