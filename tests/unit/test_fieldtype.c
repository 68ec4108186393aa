/* Unit tests of reply field types: JSON typing, sizes as typed, one time
 * format out and both forms in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "fieldtype.h"

static char *
rendered(enum fieldtype_mode mode, const char *name, const char *v)
{
	static char out[256];
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(fieldtype_render(&b, mode, name, v, strlen(v)), 0);
	assert_true(b.len < sizeof(out));
	memcpy(out, buf_head(&b), b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

static void
json_types(void **state)
{
	(void)state;
	assert_string_equal(rendered(FIELDTYPE_JSON, "days_left", "729"), "729");
	assert_string_equal(rendered(FIELDTYPE_JSON, "days_left", "-3"), "-3");
	assert_string_equal(rendered(FIELDTYPE_JSON, "row", "7989"), "7989");
	assert_string_equal(rendered(FIELDTYPE_JSON, "row", "unit"), "\"unit\"");
	assert_string_equal(rendered(FIELDTYPE_JSON, "row", "007"), "\"007\"");
	assert_string_equal(rendered(FIELDTYPE_JSON, "quota", "2147483648"), "2147483648");
	assert_string_equal(rendered(FIELDTYPE_JSON, "self_signed", "yes"), "true");
	assert_string_equal(rendered(FIELDTYPE_JSON, "must_change", "no"), "false");
	assert_string_equal(rendered(FIELDTYPE_JSON, "title", ""), "null");
	assert_string_equal(rendered(FIELDTYPE_JSON, "days_left", ""), "null");
	assert_string_equal(rendered(FIELDTYPE_JSON, "login", "123"), "\"123\"");
	assert_string_equal(rendered(FIELDTYPE_JSON, "name", "Văn \"An\""), "\"Văn \\\"An\\\"\"");
}

/* The table is searched with bsearch: every name must be found, first to
 * last (a name out of order would be missed). */
static void
table_sorted(void **state)
{
	static const char *const ints[] = {
		"accounts", "accounts_active", "certs_expiring_30d", "clients", "crl_number",
		"done", "failed", "passwords_expired", "passwords_initial", "passwords_own",
		"records", "rows", "seq", "total", "uid", "units", "uptime_s",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		assert_int_equal(fieldtype_of(ints[i]), FT_INT);
	assert_int_equal(fieldtype_of("not_after"), FT_TIME);
	assert_int_equal(fieldtype_of("time"), FT_TIME);
	assert_int_equal(fieldtype_of("quota"), FT_SIZE);
	assert_int_equal(fieldtype_of("self_signed"), FT_BOOL);
	assert_int_equal(fieldtype_of("login"), FT_STRING);
}

static void
times_out(void **state)
{
	(void)state;
	assert_string_equal(rendered(FIELDTYPE_JSON, "not_after", "20281203212445Z"),
	                    "\"2028-12-03T21:24:45Z\"");
	assert_string_equal(rendered(FIELDTYPE_PLAIN, "not_after", "20281203212445Z"),
	                    "2028-12-03T21:24:45Z");
	/* Already ISO: unchanged. */
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "time", "2026-12-04T18:51:03Z"),
	                    "2026-12-04T18:51:03Z");
	/* "created": a count in a batch summary, a time on an account. */
	assert_string_equal(rendered(FIELDTYPE_JSON, "created", "8000"), "8000");
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "created", "20261204212431Z"),
	                    "2026-12-04T21:24:31Z");
	/* Not a time of a string field: left alone. */
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "login", "20261204212431Z"),
	                    "20261204212431Z");
}

static void
sizes(void **state)
{
	(void)state;
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "quota", "5368709120"), "5G");
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "quota", "524288000"), "500M");
	/* A quota of 0 is no limit (Dovecot's quota_rule bytes=0): people
	 * read "unlimited"; tab and json keep the number. */
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "quota", "0"), "unlimited");
	assert_string_equal(rendered(FIELDTYPE_PLAIN, "quota", "0"), "0");
	assert_string_equal(rendered(FIELDTYPE_JSON, "quota", "0"), "0");
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "quota", "1000"), "1000");
	assert_string_equal(rendered(FIELDTYPE_HUMAN, "quota", "1099511627776"), "1T");
	assert_string_equal(rendered(FIELDTYPE_PLAIN, "quota", "5368709120"), "5368709120");
}

static void
times_in(void **state)
{
	char iso[21], gt[16];

	(void)state;
	assert_int_equal(fieldtype_parse_time("20261204185103Z", iso, gt), 0);
	assert_string_equal(iso, "2026-12-04T18:51:03Z");
	assert_string_equal(gt, "20261204185103Z");
	assert_int_equal(fieldtype_parse_time("2026-12-04T18:51:03Z", iso, gt), 0);
	assert_string_equal(gt, "20261204185103Z");
	assert_int_equal(fieldtype_parse_time("2026-12-04 18:51", iso, gt), 0);
	assert_string_equal(iso, "2026-12-04T18:51:00Z");
	assert_int_equal(fieldtype_parse_time("2026-11-01", iso, gt), 0);
	assert_string_equal(gt, "20261101000000Z");
	assert_int_equal(fieldtype_parse_time("2028-02-29", iso, NULL), 0);
	assert_int_equal(fieldtype_parse_time("2027-02-29", iso, NULL), -1);
	assert_int_equal(fieldtype_parse_time("2026-13-01", iso, NULL), -1);
	assert_int_equal(fieldtype_parse_time("20261204185103", iso, NULL), -1);
	assert_int_equal(fieldtype_parse_time("2026-12-04T25:00:00Z", iso, NULL), -1);
	assert_int_equal(fieldtype_parse_time("yesterday", iso, NULL), -1);
	assert_int_equal(fieldtype_parse_time("", iso, NULL), -1);
}

/* Sizes as people type them, the way provctl and provd read --quota and
 * mail.default_quota. */
static void
sizes_in(void **state)
{
	unsigned long long v = 1;

	(void)state;
	assert_int_equal(fieldtype_parse_size("2G", &v), 0);
	assert_true(v == 2ull << 30);
	assert_int_equal(fieldtype_parse_size("500MB", &v), 0);
	assert_true(v == 500ull << 20);
	assert_int_equal(fieldtype_parse_size("unlimited", &v), 0);
	assert_true(v == 0);
	v = 1;
	assert_int_equal(fieldtype_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(fieldtype_parse_size("lots", &v), -1);
	assert_int_equal(fieldtype_parse_size("5X", &v), -1);
	assert_int_equal(fieldtype_parse_size("-1", &v), -1);
	assert_int_equal(fieldtype_parse_size("99999999999T", &v), -1);
	assert_int_equal(fieldtype_parse_size("", &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_types),
		cmocka_unit_test(table_sorted),
		cmocka_unit_test(times_out),
		cmocka_unit_test(sizes),
		cmocka_unit_test(times_in),
		cmocka_unit_test(sizes_in),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
