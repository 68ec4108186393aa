/* Unit tests of the control protocol library: framing, command parsing,
 * escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* text_sanitize: the one rule for showing untrusted text. */
static void
sanitize_rule(void **state)
{
	char out[64];
	const char *in;

	(void)state;
	/* printable UTF-8 and quotes stay */
	in = "\xc4\x90\xe1\xba\xb7ng 'x'";
	text_sanitize(in, strlen(in), out, sizeof(out));
	assert_string_equal(out, in);
	/* C0, DEL, C1 (U+0085), invalid bytes, bidi and line marks: one '?' each */
	in = "a\x1b[2J\x7f\xc2\x85\xff\xc3(\xe2\x80\xae\xe2\x80\xa8\xe2\x81\xa6z";
	text_sanitize(in, strlen(in), out, sizeof(out));
	assert_string_equal(out, "a?[2J????" "(???z");
	/* a NUL inside the bytes is a control character too */
	text_sanitize("a\0b", 3, out, sizeof(out));
	assert_string_equal(out, "a?b");
	/* too long: cut at a character boundary, then "..." */
	in = "abcdef";
	text_sanitize(in, 6, out, 7);
	assert_string_equal(out, "abcdef");
	text_sanitize(in, 6, out, 6);
	assert_string_equal(out, "ab...");
	in = "\xc4\x90\xc4\x90\xc4\x90";  /* 3 x U+0110, 2 bytes each */
	text_sanitize(in, 6, out, 7);
	assert_string_equal(out, in);
	text_sanitize(in, 6, out, 6);
	assert_string_equal(out, "\xc4\x90...");
	text_sanitize(in, 6, out, 4);
	assert_string_equal(out, "...");
	text_sanitize(in, 6, out, 1);
	assert_string_equal(out, "");
	out[0] = 'x';
	text_sanitize(in, 6, out, 0);
	assert_int_equal(out[0], 'x');
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A complete request frame with body length blen: one field filling it
 * (blen >= 8), or nf empty fields (blen = 4 + 4 * nf).  Caller frees. */
static unsigned char *
frame_one_field(uint32_t blen, size_t *n)
{
	unsigned char *f = calloc(1, 4 + (size_t)blen);

	assert_non_null(f);
	put_be32(f, blen);
	f[4] = WIRE_VERSION;
	f[5] = WIRE_REQUEST;
	f[6] = 0;
	f[7] = 1;
	put_be32(f + 8, blen - 8);
	memset(f + 12, 'x', blen - 8);
	*n = 4 + (size_t)blen;
	return f;
}

static unsigned char *
frame_empty_fields(unsigned nf, size_t *n)
{
	uint32_t blen = 4 + 4 * nf;
	unsigned char *f = calloc(1, 4 + (size_t)blen);

	assert_non_null(f);
	put_be32(f, blen);
	f[4] = WIRE_VERSION;
	f[5] = WIRE_REQUEST;
	f[6] = (unsigned char)(nf >> 8);
	f[7] = (unsigned char)nf;
	*n = 4 + (size_t)blen;
	return f;
}

/* The limits at MAX and MAX + 1, with complete frames (so "too big" cannot
 * hide behind "need more"), decoding and encoding. */
static void
frame_limits(void **state)
{
	struct wire_msg m;
	struct wire_enc e;
	struct buf b;
	char err[128], *big;
	size_t n, used;
	unsigned char *f;

	(void)state;
	f = frame_one_field(WIRE_MAX_FRAME, &n);
	assert_int_equal(wire_decode(f, n, &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_int_equal(used, n);
	assert_int_equal(m.f[0].len, WIRE_MAX_FRAME - 8);
	wire_msg_free(&m);
	free(f);
	f = frame_one_field(WIRE_MAX_FRAME + 1, &n);
	assert_int_equal(wire_decode(f, n, &m, &used, err, sizeof(err)), WIRE_BAD);
	free(f);
	f = frame_one_field(WIRE_MAX_FRAME + WIRE_HEADER, &n);
	assert_int_equal(wire_decode(f, n, &m, &used, err, sizeof(err)), WIRE_BAD);
	free(f);

	f = frame_empty_fields(WIRE_MAX_FIELDS, &n);
	assert_int_equal(wire_decode(f, n, &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_int_equal(m.nfields, WIRE_MAX_FIELDS);
	wire_msg_free(&m);
	free(f);
	f = frame_empty_fields(WIRE_MAX_FIELDS + 1, &n);
	assert_int_equal(wire_decode(f, n, &m, &used, err, sizeof(err)), WIRE_BAD);
	free(f);

	/* The encoder: a body of exactly MAX goes out and decodes; one byte
	 * more is refused.  MAX fields go out; one more is refused. */
	big = calloc(1, WIRE_MAX_FRAME);
	assert_non_null(big);
	buf_init(&b, 4u << 20);
	wire_begin(&e, &b, WIRE_REQUEST);
	wire_add(&e, big, WIRE_MAX_FRAME - 8);
	assert_int_equal(wire_finish(&e), 0);
	assert_int_equal(b.len, WIRE_HEADER + WIRE_MAX_FRAME);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)),
	                 WIRE_FRAME);
	wire_msg_free(&m);
	buf_reset(&b);
	wire_begin(&e, &b, WIRE_REQUEST);
	wire_add(&e, big, WIRE_MAX_FRAME - 7);
	assert_int_equal(wire_finish(&e), -1);
	assert_int_equal(b.len, 0);
	wire_begin(&e, &b, WIRE_REQUEST);
	for (n = 0; n < WIRE_MAX_FIELDS; n++)
		wire_add(&e, "", 0);
	assert_int_equal(wire_finish(&e), 0);
	assert_int_equal(wire_decode(buf_head(&b), b.len, &m, &used, err, sizeof(err)),
	                 WIRE_FRAME);
	assert_int_equal(m.nfields, WIRE_MAX_FIELDS);
	wire_msg_free(&m);
	free(big);
	buf_free(&b);
}

/* A field length one past the frame's end, in a frame that ends where
 * readable memory ends: refused, and nothing past the frame is read (a
 * read would fault on the guard page). */
static void
field_past_end(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *map, *f;
	struct wire_msg m;
	char err[128];
	size_t used;
	static const unsigned char frame[] = {
		0, 0, 0, 16,  1, WIRE_REQUEST, 0, 2,
		0, 0, 0, 9,   'a', 'b', 'c', 'd',     /* 8 bytes left, claims 9 */
		0, 0, 0, 0,
	};

	(void)state;
	map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	           -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
	f = map + pg - sizeof(frame);
	memcpy(f, frame, sizeof(frame));
	assert_int_equal(wire_decode(f, sizeof(frame), &m, &used, err, sizeof(err)), WIRE_BAD);
	/* the same frame with the length that fits decodes */
	f[11] = 4;
	f[3] = 16;
	assert_int_equal(wire_decode(f, sizeof(frame), &m, &used, err, sizeof(err)), WIRE_FRAME);
	assert_int_equal(m.nfields, 2);
	wire_msg_free(&m);
	munmap(map, (size_t)pg * 2);
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
		cmocka_unit_test(frame_limits),
		cmocka_unit_test(field_past_end),
		cmocka_unit_test(buf_cap),
		cmocka_unit_test(parse_args),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(table_is_consistent),
		cmocka_unit_test(json_escaping),
		cmocka_unit_test(sanitize_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
