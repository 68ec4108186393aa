/* Unit tests for daemon/certs/notice.c's text (placeholders, the RFC 2047
 * subject), the shipped Vietnamese template, and fieldtype_parse_duration
 * (renewal overlap, notice thresholds, --expiring-within). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "config.h"
#include "fieldtype.h"
#include "notice.h"

#define SHIPPED "templates/notice/expiry.vi.txt"

static void
test_expand(void **state)
{
	const char *const vars[] = { "name", "Nguyễn Văn An", "serial", "3A0F",
	                             "evil", "a\r\nBcc: x@y", NULL };
	char out[256];

	(void)state;
	assert_int_equal(notice_expand("Kính gửi {name}, {serial}.", vars, out, sizeof(out)), 0);
	assert_string_equal(out, "Kính gửi Nguyễn Văn An, 3A0F.");
	/* Unknown placeholders and lone braces stay as written. */
	assert_int_equal(notice_expand("{nope} { {name", vars, out, sizeof(out)), 0);
	assert_string_equal(out, "{nope} { {name");
	/* A value never starts a new line (no header or line injection). */
	assert_int_equal(notice_expand("[{evil}]", vars, out, sizeof(out)), 0);
	assert_string_equal(out, "[a  Bcc: x@y]");
	/* Too small: -1, never a cut text. */
	assert_int_equal(notice_expand("{name}", vars, out, 5), -1);
	assert_int_equal(notice_expand("abcd", vars, out, 4), -1);
	assert_int_equal(notice_expand("abc", vars, out, 4), 0);
}

/* Decode "=?UTF-8?B?...?=" words separated by CRLF SP into out. */
static void
decode_words(const char *enc, char *out, size_t outsz)
{
	size_t off = 0;
	const char *p = enc;

	while (*p != '\0') {
		const char *end;
		unsigned char buf[128];
		int n, pad = 0;
		size_t len;

		assert_memory_equal(p, "=?UTF-8?B?", 10);
		p += 10;
		end = strstr(p, "?=");
		assert_non_null(end);
		len = (size_t)(end - p);
		assert_true(len <= 64);
		n = EVP_DecodeBlock(buf, (const unsigned char *)p, (int)len);
		assert_true(n >= 0);
		if (len >= 1 && p[len - 1] == '=')
			pad++;
		if (len >= 2 && p[len - 2] == '=')
			pad++;
		n -= pad;
		/* Each word holds whole UTF-8 characters (RFC 2047 section 5). */
		assert_true(n > 0 && (buf[0] & 0xC0) != 0x80);
		assert_true(off + (size_t)n < outsz);
		memcpy(out + off, buf, (size_t)n);
		off += (size_t)n;
		p = end + 2;
		if (*p != '\0') {
			assert_memory_equal(p, "\r\n ", 3);
			p += 3;
		}
	}
	out[off] = '\0';
}

static void
test_subject(void **state)
{
	const char *subjects[] = {
		"Hi",
		("Chứng thư số của Nguyễn Văn An sẽ hết hạn sau 7 ngày (06/12/2026 07:56 (giờ "
		 "Việt Nam, UTC+7))"),
		"ệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệ",
	};
	char enc[2048], dec[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		const char *line = enc;

		assert_int_equal(notice_subject(subjects[i], enc, sizeof(enc)), 0);
		/* "Subject: " + the first word, and every folded line, fit 76. */
		while (line != NULL) {
			const char *nl = strstr(line, "\r\n");
			size_t len = nl ? (size_t)(nl - line) : strlen(line);

			assert_true(len + (line == enc ? 9 : 0) <= 76);
			line = nl ? nl + 2 : NULL;
		}
		decode_words(enc, dec, sizeof(dec));
		assert_string_equal(dec, subjects[i]);
	}
	assert_int_equal(notice_subject(subjects[1], enc, 40), -1);
}

static void
test_shipped_template(void **state)
{
	char buf[16384], *p = buf;
	size_t n;
	FILE *f = fopen(SHIPPED, "r");

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (*p == '#')
		p = strchr(p, '\n') + 1;
	assert_memory_equal(p, "Subject: ", 9);
	p = strchr(p, '\n');
	assert_non_null(p);
	assert_int_equal(p[1], '\n');
	/* What the issue asks the text to carry. */
	assert_non_null(strstr(buf, "{serial}"));
	assert_non_null(strstr(buf, "{profile}"));
	assert_non_null(strstr(buf, "{not_after}"));
	assert_non_null(strstr(buf, "Việc cần làm"));
}

static void
test_duration(void **state)
{
	unsigned long s = 1;

	(void)state;
	assert_int_equal(fieldtype_parse_duration("0", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(fieldtype_parse_duration("30", &s), 0);
	assert_int_equal(s, 30ul * 86400);
	assert_int_equal(fieldtype_parse_duration("30d", &s), 0);
	assert_int_equal(s, 30ul * 86400);
	assert_int_equal(fieldtype_parse_duration("12h", &s), 0);
	assert_int_equal(s, 12ul * 3600);
	assert_int_equal(fieldtype_parse_duration("90m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(fieldtype_parse_duration("45s", &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(fieldtype_parse_duration("36500d", &s), 0);
	assert_int_equal(fieldtype_parse_duration("36501d", &s), -1);
	assert_int_equal(fieldtype_parse_duration("99999999999999999999", &s), -1);
	assert_int_equal(fieldtype_parse_duration("", &s), -1);
	assert_int_equal(fieldtype_parse_duration(NULL, &s), -1);
	assert_int_equal(fieldtype_parse_duration("d", &s), -1);
	assert_int_equal(fieldtype_parse_duration("-1d", &s), -1);
	assert_int_equal(fieldtype_parse_duration("7w", &s), -1);
	assert_int_equal(fieldtype_parse_duration("7dd", &s), -1);
	assert_int_equal(fieldtype_parse_duration(" 7d", &s), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_shipped_template),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
