/* Unit tests of the control protocol library: framing, command parsing,
 * escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "commands.h"
#include "text.h"
#include "wire.h"

static void
roundtrip(void **state)
{
	const char *v[] = { "user", "add", "--name=Nguyễn Văn An", "", NULL };
	struct buf b;
	struct wire_msg m;
	char err[128];
	size_t used;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(wire_put_strv(&b, WIRE_REQUEST, v), 0);
	/* Every strict prefix is incomplete, never an error. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(wire_decode(buf_head(&b), n, &m, &used, err, sizeof(err)),
		                 WIRE_NEED_MORE);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)),
	                 WIRE_FRAME);
	assert_int_equal(used, b.len);
	assert_int_equal(m.type, WIRE_REQUEST);
	assert_int_equal(m.nfields, 4);
	assert_string_equal(m.f[2].ptr, "--name=Nguyễn Văn An");
	assert_int_equal(m.f[3].len, 0);
	assert_string_equal(wire_field_str(&m, 3), "");
	assert_null(wire_field_str(&m, 4));
	wire_msg_free(&m);
	buf_free(&b);
}

static void
two_frames_in_one_read(void **state)
{
	struct buf b;
	struct wire_msg m;
	char err[128];
	size_t used;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(wire_put_status(&b, 3, "no account 'x'"), 0);
	assert_int_equal(wire_put_status(&b, 0, "ok"), 0);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_string_equal(m.f[0].ptr, "3");
	wire_msg_free(&m);
	buf_consume(&b, used);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_string_equal(m.f[1].ptr, "ok");
	wire_msg_free(&m);
	buf_free(&b);
}

static void
embedded_nul_is_not_a_string(void **state)
{
	struct buf b;
	struct wire_enc e;
	struct wire_msg m;
	char err[128];
	size_t used;

	(void)state;
	buf_init(&b, 4096);
	wire_begin(&e, &b, WIRE_DATA);
	wire_add(&e, "a\0b", 3);
	assert_int_equal(wire_finish(&e), 0);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_int_equal(m.f[0].len, 3);
	assert_null(wire_field_str(&m, 0));
	wire_msg_free(&m);
	buf_free(&b);
}

static enum wire_decode
decode_bytes(const unsigned char *p, size_t n)
{
	struct wire_msg m;
	char err[128];
	size_t used;
	enum wire_decode rc = wire_decode(p, n, &m, &used, err, sizeof(err));

	if (rc == WIRE_FRAME)
		wire_msg_free(&m);
	return rc;
}

static void
malformed_frames(void **state)
{
	/* length too small, too large, wrong version, unknown type, field past
	 * the end, stray bytes, too many fields */
	const unsigned char small[] = { 0, 0, 0, 2, 1, 1 };
	const unsigned char huge[] = { 0x7f, 0xff, 0xff, 0xff, 1, 1, 0, 0 };
	const unsigned char version[] = { 0, 0, 0, 4, 2, 1, 0, 0 };
	const unsigned char type[] = { 0, 0, 0, 4, 1, 99, 0, 0 };
	const unsigned char past[] = { 0, 0, 0, 9, 1, 1, 0, 1, 0, 0, 0, 9, 'x' };
	const unsigned char stray[] = { 0, 0, 0, 6, 1, 1, 0, 0, 'x', 'y' };
	const unsigned char many[] = { 0, 0, 0, 4, 1, 1, 0xff, 0xff };

	(void)state;
	assert_int_equal(decode_bytes(small, sizeof(small)), WIRE_BAD);
	assert_int_equal(decode_bytes(huge, sizeof(huge)), WIRE_BAD);
	assert_int_equal(decode_bytes(version, sizeof(version)), WIRE_BAD_VERSION);
	/* the version is refused before the rest of the frame arrives */
	assert_int_equal(decode_bytes(version, 5), WIRE_BAD_VERSION);
	assert_int_equal(decode_bytes(type, sizeof(type)), WIRE_BAD);
	assert_int_equal(decode_bytes(past, sizeof(past)), WIRE_BAD);
	assert_int_equal(decode_bytes(stray, sizeof(stray)), WIRE_BAD);
	assert_int_equal(decode_bytes(many, sizeof(many)), WIRE_BAD);
}

static void
encoder_limits(void **state)
{
	struct buf b;
	struct wire_enc e;
	char *big = calloc(1, WIRE_MAX_FRAME);
	size_t i;

	(void)state;
	buf_init(&b, 4u << 20);
	wire_begin(&e, &b, WIRE_RECORD);
	wire_add(&e, big, WIRE_MAX_FRAME);   /* field alone exceeds the frame */
	assert_int_equal(wire_finish(&e), -1);
	assert_int_equal(b.len, 0);          /* partial frame removed */
	wire_begin(&e, &b, WIRE_RECORD);
	for (i = 0; i <= WIRE_MAX_FIELDS; i++)
		wire_add(&e, "k", 1);
	assert_int_equal(wire_finish(&e), -1);
	assert_int_equal(b.len, 0);
	free(big);
	buf_free(&b);
}

static void
buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), 0);
	assert_int_equal(buf_append(&b, "9", 1), -1);
	buf_consume(&b, 4);
	assert_int_equal(buf_append(&b, "9", 1), 0);
	assert_memory_equal(buf_head(&b), "56789", 5);
	buf_free(&b);
}

static void
parse_args(void **state)
{
	const struct cmd_spec *s = cmd_lookup("user", "add");
	const char *argv[] = { "--name", "Lò Văn Pâng", "--unit=so-y-te", "--alias", "a@x.vn",
	                       "--alias=b@x.vn", "--employee-id", "E1" };
	struct cmd_args a;
	char err[256];

	(void)state;
	assert_non_null(s);
	assert_int_equal(cmd_parse(s, 8, argv, NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(cmd_arg(&a, "name"), "Lò Văn Pâng");
	assert_string_equal(cmd_arg(&a, "unit"), "so-y-te");
	assert_string_equal(cmd_arg_nth(&a, "alias", 1), "b@x.vn");
	assert_null(cmd_arg_nth(&a, "alias", 2));
	assert_null(cmd_arg(&a, "title"));
}

static void
parse_errors(void **state)
{
	const struct cmd_spec *add = cmd_lookup("user", "add");
	const struct cmd_spec *show = cmd_lookup("user", "show");
	const struct cmd_spec *pw = cmd_lookup("user", "passwd");
	const char *unknown[] = { "--colour", "x" };
	const char *twice[] = { "--unit=a", "--unit=b" };
	const char *missing[] = { "--unit" };
	const char *flagval[] = { "x", "--generate=yes" };
	const char *bare_stdin[] = { "x", "--password-stdin" };
	const char *extra[] = { "a", "b" };
	struct cmd_args a;
	char err[256];

	(void)state;
	assert_int_equal(cmd_parse(add, 2, unknown, NULL, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--colour"));
	assert_int_equal(cmd_parse(add, 2, twice, NULL, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(cmd_parse(add, 1, missing, NULL, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CODE"));
	assert_int_equal(cmd_parse(show, 0, NULL, NULL, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "LOGIN"));
	assert_int_equal(cmd_parse(show, 2, extra, NULL, &a, err, sizeof(err)), -1);
	assert_int_equal(cmd_parse(pw, 2, flagval, NULL, &a, err, sizeof(err)), -1);
	/* a secret never travels as a separate argv word: a bare flag is an
	 * empty value */
	assert_int_equal(cmd_parse(pw, 2, bare_stdin, NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(cmd_arg(&a, "password-stdin"), "");
}

static void
table_is_consistent(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < cmd_table_len; i++) {
		assert_int_equal((size_t)cmd_table[i].id, i);
		assert_non_null(cmd_table[i].summary);
		assert_non_null(cmd_table[i].example);
		assert_true(cmd_table[i].roles != 0);
		assert_ptr_equal(cmd_lookup(cmd_table[i].noun, cmd_table[i].verb), &cmd_table[i]);
	}
	assert_null(cmd_lookup("user", "frobnicate"));
	assert_null(cmd_lookup("user", NULL));
}

static void
json_escaping(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	json_put_string(&b, "a\"b\\c\n\x01 Đặng\xff", 16);
	buf_append(&b, "", 1);
	assert_string_equal(buf_head(&b), "\"a\\\"b\\\\c\\n\\u0001 Đặng\xef\xbf\xbd\"");
	buf_free(&b);
	buf_init(&b, 4096);
	tsv_put_field(&b, "a\tb\\", 4);
	buf_append(&b, "", 1);
	assert_string_equal(buf_head(&b), "a\\tb\\\\");
	buf_free(&b);
	/* "Nguyễn" in NFD is 6 columns wide, like NFC */
	assert_int_equal(text_width("Nguye\xcc\x82\xcc\x83n", 10), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(two_frames_in_one_read),
		cmocka_unit_test(embedded_nul_is_not_a_string),
		cmocka_unit_test(malformed_frames),
		cmocka_unit_test(encoder_limits),
		cmocka_unit_test(buf_cap),
		cmocka_unit_test(parse_args),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(table_is_consistent),
		cmocka_unit_test(json_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
