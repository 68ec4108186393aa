/* Unit tests for daemon/accounts/password.c: schemes, generation, policy, hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "password.h"

static const char gen_alphabet[] =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";

static void
test_scheme_names(void **state)
{
	enum password_scheme s;

	(void)state;
	assert_int_equal(password_scheme_parse("ssha512", &s), 0);
	assert_int_equal(s, PASSWORD_SSHA512);
	assert_int_equal(password_scheme_parse("sha512crypt", &s), 0);
	assert_int_equal(s, PASSWORD_SHA512CRYPT);
	assert_int_equal(password_scheme_parse("yescrypt", &s), 0);
	assert_int_equal(s, PASSWORD_YESCRYPT);
	assert_int_equal(password_scheme_parse("bcrypt", &s), 0);
	assert_int_equal(s, PASSWORD_BCRYPT);
	assert_int_equal(password_scheme_parse("YesCrypt", &s), 0);
	assert_int_equal(s, PASSWORD_YESCRYPT);

	s = PASSWORD_BCRYPT;
	assert_int_equal(password_scheme_parse("argon2", &s), -1);
	assert_int_equal(password_scheme_parse("", &s), -1);
	assert_int_equal(password_scheme_parse("ssha", &s), -1);
	assert_int_equal(password_scheme_parse("ssha5120", &s), -1);
	assert_int_equal(password_scheme_parse("yescrypt ", &s), -1);
	assert_int_equal(password_scheme_parse(NULL, &s), -1);
	assert_int_equal(password_scheme_parse("ssha512", NULL), -1);
	assert_int_equal(s, PASSWORD_BCRYPT);

	assert_string_equal(password_scheme_name(PASSWORD_SSHA512), "ssha512");
	assert_string_equal(password_scheme_name(PASSWORD_SHA512CRYPT),
	    "sha512crypt");
	assert_string_equal(password_scheme_name(PASSWORD_YESCRYPT),
	    "yescrypt");
	assert_string_equal(password_scheme_name(PASSWORD_BCRYPT), "bcrypt");
	assert_null(password_scheme_name((enum password_scheme)99));
}

static void
test_cost_check(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(password_cost_check(PASSWORD_SSHA512, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(password_cost_check(PASSWORD_SSHA512, 1, err,
	    sizeof(err)), -1);
	assert_int_equal(password_cost_check(PASSWORD_SHA512CRYPT, 999, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "1000..999999999"));
	assert_int_equal(password_cost_check(PASSWORD_SHA512CRYPT, 1000, err,
	    sizeof(err)), 0);
	assert_int_equal(password_cost_check(PASSWORD_YESCRYPT, 11, err,
	    sizeof(err)), 0);
	assert_int_equal(password_cost_check(PASSWORD_YESCRYPT, 12, err,
	    sizeof(err)), -1);
	assert_int_equal(password_cost_check(PASSWORD_BCRYPT, 3, err,
	    sizeof(err)), -1);
	assert_int_equal(password_cost_check(PASSWORD_BCRYPT, 32, err,
	    sizeof(err)), -1);
	assert_int_equal(password_cost_check((enum password_scheme)7, 0, err,
	    sizeof(err)), -1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_generate(void **state)
{
	enum { N = 10000 };
	char *pw[N];
	char small[PASSWORD_GENERATED_BUFSZ - 1];
	unsigned long count[128] = { 0 };
	size_t i, j;

	(void)state;
	assert_int_equal(strlen(gen_alphabet), 56);
	for (i = 0; i < N; i++) {
		pw[i] = malloc(PASSWORD_GENERATED_BUFSZ);
		assert_non_null(pw[i]);
		assert_int_equal(password_generate(pw[i],
		    PASSWORD_GENERATED_BUFSZ), 0);
		assert_int_equal(strlen(pw[i]), PASSWORD_GENERATED_LEN);
		for (j = 0; j < PASSWORD_GENERATED_LEN; j++) {
			unsigned char c = (unsigned char)pw[i][j];

			assert_non_null(strchr(gen_alphabet, c));
			count[c & 0x7f]++;
		}
	}
	/* All distinct. */
	qsort(pw, N, sizeof(pw[0]), cmp_str);
	for (i = 1; i < N; i++)
		assert_string_not_equal(pw[i - 1], pw[i]);
	for (i = 0; i < N; i++)
		free(pw[i]);
	/* 200,000 symbols: each of the 56 is expected ~3,571 times (sigma
	 * ~59). Plain modulo without rejection would make the last 24
	 * symbols 12.5% rarer; +-10% (6 sigma) never flakes yet catches it. */
	for (i = 0; i < 56; i++) {
		unsigned long c = count[(unsigned char)gen_alphabet[i]];

		assert_true(c > 3571 * 9 / 10 && c < 3571 * 11 / 10);
	}
	/* Too small a buffer. */
	assert_int_equal(password_generate(small, sizeof(small)), -1);
	assert_string_equal(small, "");
	assert_int_equal(password_generate(NULL, 0), -1);
}

/* Decoder written here so that the {SSHA512} check does not trust
 * OpenSSL's base64 code used by the module. */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static size_t
b64_decode(const char *in, unsigned char *out, size_t outsz)
{
	size_t len = strlen(in), i, o = 0;
	unsigned acc = 0;
	int bits = 0, v;

	for (i = 0; i < len && in[i] != '='; i++) {
		v = b64_value(in[i]);
		assert_true(v >= 0);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_true(o < outsz);
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

static void
b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
sha512_of(const char *pw, const unsigned char *salt, size_t saltlen,
    unsigned char *md)
{
	unsigned char buf[512];
	unsigned int mdlen;
	size_t pwlen = strlen(pw);

	assert_true(pwlen + saltlen <= sizeof(buf));
	memcpy(buf, pw, pwlen);
	memcpy(buf + pwlen, salt, saltlen);
	assert_int_equal(EVP_Digest(buf, pwlen + saltlen, md, &mdlen,
	    EVP_sha512(), NULL), 1);
	assert_int_equal(mdlen, 64);
}

static void
test_ssha512(void **state)
{
	const char *pw = "Mật khẩu thử 2024";
	char h1[PASSWORD_HASH_BUFSZ], h2[PASSWORD_HASH_BUFSZ], err[128];
	unsigned char raw[128], md[64];
	size_t n;

	(void)state;
	assert_int_equal(password_hash(PASSWORD_SSHA512, pw, h1, sizeof(h1),
	    err, sizeof(err)), 0);
	assert_memory_equal(h1, "{SSHA512}", 9);
	assert_int_equal(strlen(h1), 9 + 108);
	/* Independent check: decode, recompute SHA-512(pw + salt). */
	n = b64_decode(h1 + 9, raw, sizeof(raw));
	assert_int_equal(n, 64 + 16);
	sha512_of(pw, raw + 64, 16, md);
	assert_memory_equal(md, raw, 64);
	/* Fresh salt every time. */
	assert_int_equal(password_hash(PASSWORD_SSHA512, pw, h2, sizeof(h2),
	    err, sizeof(err)), 0);
	assert_string_not_equal(h1, h2);

	assert_true(password_verify(h1, pw));
	assert_true(password_verify(h2, pw));
	assert_false(password_verify(h1, "Mật khẩu thử 2025"));
	assert_false(password_verify(h1, ""));

	/* A value made here from a known salt of another length (as other
	 * tools make them) verifies; the tag is case-insensitive. */
	{
		static const unsigned char salt[8] = "saltsalt";
		char b64[200], value[220];

		sha512_of("secret", salt, sizeof(salt), raw);
		memcpy(raw + 64, salt, sizeof(salt));
		b64_encode(raw, 64 + sizeof(salt), b64);
		snprintf(value, sizeof(value), "{SSHA512}%s", b64);
		assert_true(password_verify(value, "secret"));
		assert_false(password_verify(value, "Secret"));
		snprintf(value, sizeof(value), "{ssha512}%s", b64);
		assert_true(password_verify(value, "secret"));
		/* Digest without salt, or truncated: refused. */
		b64_encode(raw, 64, b64);
		snprintf(value, sizeof(value), "{SSHA512}%s", b64);
		assert_false(password_verify(value, "secret"));
	}
}

static void
roundtrip(enum password_scheme scheme, unsigned long cost,
    const char *prefix)
{
	const char *pw = "correct horse battery staple";
	char h[PASSWORD_HASH_BUFSZ], h2[PASSWORD_HASH_BUFSZ], err[128];

	err[0] = '\0';
	if (password_hash_cost(scheme, cost, pw, h, sizeof(h), err,
	    sizeof(err)) != 0)
		fail_msg("%s: %s", password_scheme_name(scheme), err);
	if (strncmp(h, prefix, strlen(prefix)) != 0)
		fail_msg("%s: \"%s\" does not start with \"%s\"",
		    password_scheme_name(scheme), h, prefix);
	assert_true(password_verify(h, pw));
	assert_false(password_verify(h, "correct horse battery stapl"));
	assert_false(password_verify(h, "Correct horse battery staple"));
	assert_int_equal(password_hash_cost(scheme, cost, pw, h2, sizeof(h2),
	    err, sizeof(err)), 0);
	assert_string_not_equal(h, h2);
}

static void
test_crypt_schemes(void **state)
{
	(void)state;
	roundtrip(PASSWORD_SSHA512, 0, "{SSHA512}");
	roundtrip(PASSWORD_SHA512CRYPT, 0, "{CRYPT}$6$");
	roundtrip(PASSWORD_SHA512CRYPT, 10000, "{CRYPT}$6$rounds=10000$");
	roundtrip(PASSWORD_YESCRYPT, 0, "{CRYPT}$y$j9T$");
	roundtrip(PASSWORD_BCRYPT, 0, "{CRYPT}$2b$12$");
	roundtrip(PASSWORD_BCRYPT, 4, "{CRYPT}$2b$04$");
}

/* Published vectors, verified without password_hash. */
static void
test_known_vectors(void **state)
{
	(void)state;
	/* Test vectors of the SHA-crypt specification. */
	assert_true(password_verify("{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS"
	    "4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	    "Hello world!"));
	assert_true(password_verify("{CRYPT}$6$rounds=10000$saltstringsaltst$"
	    "OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
	    "YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"));
	assert_false(password_verify("{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS"
	    "4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	    "Hello world"));
	/* Tag case does not matter. */
	assert_true(password_verify("{crypt}$6$saltstring$svn8UoSVapNtMuq1ukKS"
	    "4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	    "Hello world!"));
}

static void
test_bad_input(void **state)
{
	char h[PASSWORD_HASH_BUFSZ], err[128], pw[PASSWORD_MAX_BYTES + 2];
	const char *secret = "Topsecret\nvalue";

	(void)state;
	assert_int_equal(password_hash(PASSWORD_SSHA512, "", h, sizeof(h),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "password: empty"));
	assert_int_equal(password_hash(PASSWORD_SSHA512, NULL, h, sizeof(h),
	    err, sizeof(err)), -1);
	assert_int_equal(password_hash(PASSWORD_YESCRYPT, secret, h,
	    sizeof(h), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line break"));
	assert_null(strstr(err, "Topsecret"));
	assert_string_equal(h, "");
	assert_int_equal(password_hash(PASSWORD_SSHA512, "abc\rdef", h,
	    sizeof(h), err, sizeof(err)), -1);

	/* 256 bytes is the limit. */
	memset(pw, 'x', sizeof(pw));
	pw[PASSWORD_MAX_BYTES] = '\0';
	assert_int_equal(password_hash(PASSWORD_SSHA512, pw, h, sizeof(h),
	    err, sizeof(err)), 0);
	assert_true(password_verify(h, pw));
	pw[PASSWORD_MAX_BYTES] = 'x';
	pw[PASSWORD_MAX_BYTES + 1] = '\0';
	assert_int_equal(password_hash(PASSWORD_SSHA512, pw, h, sizeof(h),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 256"));
	assert_false(password_verify("{SSHA512}AAAA", pw));

	/* bcrypt would silently ignore bytes past 72: refused. */
	memset(pw, 'x', sizeof(pw));
	pw[PASSWORD_BCRYPT_MAX] = '\0';
	assert_int_equal(password_hash_cost(PASSWORD_BCRYPT, 4, pw, h,
	    sizeof(h), err, sizeof(err)), 0);
	pw[PASSWORD_BCRYPT_MAX] = 'x';
	pw[PASSWORD_BCRYPT_MAX + 1] = '\0';
	assert_int_equal(password_hash_cost(PASSWORD_BCRYPT, 4, pw, h,
	    sizeof(h), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bcrypt"));

	/* Unknown scheme, bad cost, small or missing output buffer. */
	assert_int_equal(password_hash((enum password_scheme)42, "abcdefghijk",
	    h, sizeof(h), err, sizeof(err)), -1);
	assert_int_equal(password_hash_cost(PASSWORD_SSHA512, 5, "abcdefghijk",
	    h, sizeof(h), err, sizeof(err)), -1);
	assert_int_equal(password_hash_cost(PASSWORD_BCRYPT, 40, "abcdefghijk",
	    h, sizeof(h), err, sizeof(err)), -1);
	assert_int_equal(password_hash(PASSWORD_SSHA512, "abcdefghijk", h, 100,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too small"));
	assert_string_equal(h, "");
	assert_int_equal(password_hash(PASSWORD_YESCRYPT, "abcdefghijk", h, 20,
	    err, sizeof(err)), -1);
	assert_int_equal(password_hash(PASSWORD_SSHA512, "abcdefghijk", NULL,
	    0, err, sizeof(err)), -1);
	/* A NULL error buffer is fine. */
	assert_int_equal(password_hash(PASSWORD_SSHA512, "", h, sizeof(h),
	    NULL, 0), -1);
}

static void
test_check_input(void **state)
{
	static const char withnul[] = "abcdef\0ghijkl";
	char err[128];

	(void)state;
	assert_int_equal(password_check_input(withnul, sizeof(withnul) - 1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(password_check_input(withnul, 6, err, sizeof(err)),
	    0);
	assert_int_equal(password_check_input("abc\n", 4, err, sizeof(err)),
	    -1);
	assert_int_equal(password_check_input("", 0, err, sizeof(err)), -1);
	assert_int_equal(password_check_input(NULL, 3, err, sizeof(err)), -1);
	assert_int_equal(password_check_input("x", PASSWORD_MAX_BYTES + 1,
	    err, sizeof(err)), -1);
}

static void
test_policy(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(password_check_policy("abcdefghi", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "shorter than 10"));
	assert_int_equal(password_check_policy("abcdefghij", err,
	    sizeof(err)), 0);
	/* Characters, not bytes: 7 characters in 12 bytes is too short,
	 * 10 Vietnamese letters are enough. */
	assert_int_equal(password_check_policy("mậtkhẩu", err, sizeof(err)),
	    -1);
	assert_int_equal(password_check_policy("mậtkhẩuđẹp", err,
	    sizeof(err)), 0);
	assert_int_equal(password_check_policy("abcdefghij\xff", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(password_check_policy("abcde\tfghij", err,
	    sizeof(err)), -1);
	assert_int_equal(password_check_policy("abcdefghij\n", err,
	    sizeof(err)), -1);
	assert_int_equal(password_check_policy("abcde\xc2\x85" "fghij", err,
	    sizeof(err)), -1);
	assert_int_equal(password_check_policy("", err, sizeof(err)), -1);
	assert_int_equal(password_check_policy(NULL, err, sizeof(err)), -1);
	assert_null(strstr(err, "abcde"));
}

static void
test_verify_malformed(void **state)
{
	(void)state;
	assert_false(password_verify(NULL, "x"));
	assert_false(password_verify("{SSHA512}", NULL));
	assert_false(password_verify("", "x"));
	assert_false(password_verify("{SSHA512}", "x"));
	assert_false(password_verify("{SSHA512}abc", "x"));
	assert_false(password_verify("{SSHA512}!!!!", "x"));
	assert_false(password_verify("{SSHA512}====", "x"));
	assert_false(password_verify("{CRYPT}", "x"));
	assert_false(password_verify("{CRYPT}*", "x"));
	assert_false(password_verify("{CRYPT}*0", "x"));
	assert_false(password_verify("{CRYPT}$y$", "x"));
	assert_false(password_verify("{CRYPT}$6$", "x"));
	assert_false(password_verify("{ARGON2}$argon2id$v=19$m=65536,t=2,p=1$"
	    "c29tZXNhbHQ$aGFzaA", "x"));
	assert_false(password_verify("plaintext", "plaintext"));
	assert_false(password_verify("{SSHA512", "x"));
}

struct thread_arg {
	enum password_scheme scheme;
	int ok;
};

static void *
hash_thread(void *p)
{
	struct thread_arg *a = p;
	char pw[PASSWORD_GENERATED_BUFSZ], h[PASSWORD_HASH_BUFSZ], err[128];
	int i;

	a->ok = 1;
	for (i = 0; i < 4; i++) {
		if (password_generate(pw, sizeof(pw)) != 0 ||
		    password_hash_cost(a->scheme,
		    a->scheme == PASSWORD_BCRYPT ? 4 : 0, pw, h, sizeof(h),
		    err, sizeof(err)) != 0 || !password_verify(h, pw))
			a->ok = 0;
	}
	return NULL;
}

/* Hashing from several threads at once gives correct results. */
static void
test_threads(void **state)
{
	enum { NT = 8 };
	pthread_t t[NT];
	struct thread_arg a[NT];
	int i;

	(void)state;
	for (i = 0; i < NT; i++) {
		a[i].scheme = (enum password_scheme)(i % 4);
		assert_int_equal(pthread_create(&t[i], NULL, hash_thread,
		    &a[i]), 0);
	}
	for (i = 0; i < NT; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].ok, 1);
	}
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Timing for the record, not an assertion. */
static void
test_timing(void **state)
{
	static const enum password_scheme all[] = {
		PASSWORD_SSHA512, PASSWORD_SHA512CRYPT, PASSWORD_YESCRYPT,
		PASSWORD_BCRYPT,
	};
	char h[PASSWORD_HASH_BUFSZ], err[128];
	double t0, t1;
	size_t i;
	int k, reps;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		reps = all[i] == PASSWORD_SSHA512 ? 1000 : 3;
		t0 = now_us();
		for (k = 0; k < reps; k++)
			assert_int_equal(password_hash(all[i], "Xk7pQ2mZr9Tt4",
			    h, sizeof(h), err, sizeof(err)), 0);
		t1 = now_us();
		print_message("hash %-12s %10.1f us per hash (%d runs)\n",
		    password_scheme_name(all[i]), (t1 - t0) / reps, reps);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme_names),
		cmocka_unit_test(test_cost_check),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_ssha512),
		cmocka_unit_test(test_crypt_schemes),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_check_input),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
