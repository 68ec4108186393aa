/* Unit tests for daemon/directory/names.c: cn normalisation, name parts, logins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>
#include <uninorm.h>

#include "names.h"

/*
 * One row: raw input, the expected cn (NULL: names_normalize must refuse
 * it), the expected login base (NULL: names_login_base must refuse it), and
 * a fragment of the expected error message.
 */
struct name_case {
	const char *in;
	const char *cn;
	const char *login;
	const char *err;
};

static const struct name_case cases[] = {
	/* Ordinary names, and the examples of the design. */
	{ "Nguyễn Văn An", "Nguyễn Văn An", "annv", NULL },
	{ "Đặng Thị Thu Hà", "Đặng Thị Thu Hà", "hadtt", NULL },
	{ "Trần Hưng Đạo", "Trần Hưng Đạo", "daoth", NULL },
	{ "Lê Thị Bích Ngọc", "Lê Thị Bích Ngọc", "ngocltb", NULL },
	{ "Phạm Minh Chính", "Phạm Minh Chính", "chinhpm", NULL },
	{ "Võ Nguyên Giáp", "Võ Nguyên Giáp", "giapvn", NULL },
	{ "Bùi Ngọc Trọng Mạnh", "Bùi Ngọc Trọng Mạnh", "manhbnt", NULL },
	{ "Nguyễn Phương Ngọc Mai", "Nguyễn Phương Ngọc Mai", "mainpn", NULL },
	{ "Ưng Hoàng Phúc", "Ưng Hoàng Phúc", "phucuh", NULL },
	{ "Ứng Văn Ước", "Ứng Văn Ước", "uocuv", NULL },
	{ "Huỳnh Tấn Phát", "Huỳnh Tấn Phát", "phatht", NULL },
	{ "Lương Thế Vinh", "Lương Thế Vinh", "vinhlt", NULL },
	{ "Tôn Thất Thuyết", "Tôn Thất Thuyết", "thuyettt", NULL },
	/* Two and three middle names, and more. */
	{ "Nguyễn Thị Thanh Thủy", "Nguyễn Thị Thanh Thủy", "thuyntt", NULL },
	{ "Trương Nguyễn Thành Trung", "Trương Nguyễn Thành Trung",
	  "trungtnt", NULL },
	{ "Nguyễn Hữu Minh Quân", "Nguyễn Hữu Minh Quân", "quannhm", NULL },
	{ "Tôn Nữ Thị Ninh", "Tôn Nữ Thị Ninh", "ninhtnt", NULL },
	{ "Nguyễn Thị Ngọc Bảo Trân", "Nguyễn Thị Ngọc Bảo Trân",
	  "tranntnb", NULL },
	{ "Công Tằng Tôn Nữ Thị Phương Thảo",
	  "Công Tằng Tôn Nữ Thị Phương Thảo", "thaocttntp", NULL },
	/* Ethnic-minority names. */
	{ "Giàng A Páo", "Giàng A Páo", "paoga", NULL },
	{ "Lò Văn Pâng", "Lò Văn Pâng", "panglv", NULL },
	{ "Hà Thị Hờ", "Hà Thị Hờ", "hoht", NULL },
	{ "Sùng Seo Dìn", "Sùng Seo Dìn", "dinss", NULL },
	{ "Vàng Thị Mỷ", "Vàng Thị Mỷ", "myvt", NULL },
	{ "Hoàng Thị Nhung", "Hoàng Thị Nhung", "nhunght", NULL },
	{ "Mùa A Dính", "Mùa A Dính", "dinhma", NULL },
	{ "Thào Mí Sính", "Thào Mí Sính", "sinhtm", NULL },
	{ "Ly Seo Chải", "Ly Seo Chải", "chails", NULL },
	{ "Hầu A Lềnh", "Hầu A Lềnh", "lenhha", NULL },
	{ "Lầu Thị Mai", "Lầu Thị Mai", "mailt", NULL },
	{ "Y Moan Ênuôl", "Y Moan Ênuôl", "enuolym", NULL },
	{ "H'Hen Niê", "H'Hen Niê", "nieh", NULL },
	{ "Rơ Mah Phi", "Rơ Mah Phi", "phirm", NULL },
	{ "Kpă Y Ngọc", "Kpă Y Ngọc", "ngocky", NULL },
	/* Đ and đ as first letter of family, middle and given names. */
	{ "Đỗ Đức Đạt", "Đỗ Đức Đạt", "datdd", NULL },
	{ "Đinh Văn Đông", "Đinh Văn Đông", "dongdv", NULL },
	{ "Lê Đình Đức", "Lê Đình Đức", "ducld", NULL },
	{ "Nguyễn Đăng Khoa", "Nguyễn Đăng Khoa", "khoand", NULL },
	{ "Đàm Thị Đào", "Đàm Thị Đào", "daodt", NULL },
	{ "Hồ Đắc Điềm", "Hồ Đắc Điềm", "diemhd", NULL },
	{ "đoàn đức đại", "Đoàn Đức Đại", "daidd", NULL },
	{ "ĐOÀN ĐỨC ĐẠI", "Đoàn Đức Đại", "daidd", NULL },
	{ "Lê Văn Ađđa", "Lê Văn Ađđa", "addalv", NULL },
	/* Collisions: different people, same base. */
	{ "Ngô Văn An", "Ngô Văn An", "annv", NULL },
	{ "Nông Vĩnh Ân", "Nông Vĩnh Ân", "annv", NULL },
	/* Capitals and lower case. */
	{ "NGUYỄN VĂN AN", "Nguyễn Văn An", "annv", NULL },
	{ "TRẦN THỊ ÁNH TUYẾT", "Trần Thị Ánh Tuyết", "tuyettta", NULL },
	{ "nguyễn thị minh khai", "Nguyễn Thị Minh Khai", "khaintm", NULL },
	{ "LÒ VĂN PÂNG", "Lò Văn Pâng", "panglv", NULL },
	{ "GIÀNG A PÁO", "Giàng A Páo", "paoga", NULL },
	{ "ƯNG THỊ ỚT", "Ưng Thị Ớt", "otut", NULL },
	{ "HỒ", "Hồ", "ho", NULL },
	{ "Nguyễn văn an", "Nguyễn văn an", "annv", NULL },
	{ "nGUYỄN", "nGUYỄN", "nguyen", NULL },
	{ "TRẦN-LÊ MINH", "Trần-Lê Minh", "minht", NULL },
	/* Spaces: leading, trailing, doubled, tabs, NBSP and other spaces. */
	{ "  Nguyễn Văn An  ", "Nguyễn Văn An", "annv", NULL },
	{ "Nguyễn  Văn   An", "Nguyễn Văn An", "annv", NULL },
	{ "\tNguyễn\tVăn\t\tAn\t", "Nguyễn Văn An", "annv", NULL },
	{ "Nguyễn\u00a0Văn\u00a0An", "Nguyễn Văn An", "annv", NULL },
	{ "\u00a0Nguyễn Văn An\u00a0", "Nguyễn Văn An", "annv", NULL },
	{ "Nguyễn\u3000Văn\u2003An", "Nguyễn Văn An", "annv", NULL },
	{ "Nguyễn \u202f\u00a0\t Văn An", "Nguyễn Văn An", "annv", NULL },
	{ " Páo ", "Páo", "pao", NULL },
	/* One-word names. */
	{ "Páo", "Páo", "pao", NULL },
	{ "páo", "Páo", "pao", NULL },
	{ "Đức", "Đức", "duc", NULL },
	/* Decomposed (NFD) and oddly composed input. */
	{ "Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An", "annv", NULL },
	{ "Nguyê\u0303n Văn An", "Nguyễn Văn An", "annv", NULL },
	{ "Lê Thị Kie\u0323\u0302n", "Lê Thị Kiện", "kienlt", NULL },
	{ "Lê Thị Kie\u0302\u0323n", "Lê Thị Kiện", "kienlt", NULL },
	{ "\u0110a\u0306\u0323ng Thi\u0323 Thu Ha\u0300", "Đặng Thị Thu Hà",
	  "hadtt", NULL },
	/* Digits and punctuation. */
	{ "O'Brien Smith", "O'Brien Smith", "smitho", NULL },
	{ "O\u2019Brien Smith", "O\u2019Brien Smith", "smitho", NULL },
	{ "Anne-Marie Dupont", "Anne-Marie Dupont", "duponta", NULL },
	/* A name has no digits and no full stops (every path normalises
	 * through here: user add and modify, batch rows, LDIF imports). */
	{ "Lý Thị Mai2", NULL, NULL, "'2' (U+0032) at character 11 is not allowed in a name: names have no digits" },
	{ "Nguyễn Văn 2", NULL, NULL, "names have no digits" },
	{ "Nguyễn Văn 2An", NULL, NULL, "names have no digits" },
	{ "Nguyễn Văn An٣", NULL, NULL, "U+0663 at character 14 is not allowed in a name: names have no digits" },
	{ "Nguyễn Văn Ⅻ", NULL, NULL, "names have no digits" },
	{ "J. R. Smith", NULL, NULL, "'.' (U+002E) at character 2 is not allowed in a name: letters, spaces" },
	{ "Nguyễn Văn An, Jr", NULL, NULL, "U+002C" },
	{ "Nguyễn <An>", NULL, NULL, "not allowed" },
	{ "Nguyễn - An", NULL, NULL, "word 2 has no letter" },
	{ "Nguyễn @n", NULL, NULL, "not allowed" },
	/* Letters that do not fold to ASCII are dropped, not guessed. */
	{ "Søren Kierkegaard", "Søren Kierkegaard", "kierkegaards", NULL },
	{ "Straße Müller", "Straße Müller", "mullers", NULL },
	{ "Nguyễn Văn Ø", "Nguyễn Văn Ø", "nv", NULL },
	{ "Иван Петров", "Иван Петров", NULL, "no letters a-z" },
	{ "ΣΩΚΡΆΤΗΣ", "Σωκράτης", NULL, "no letters a-z" },
	/* Title-casing this is not idempotent (U+0345 title-cases to Ι and
	 * the next letter is upper-cased), so it is kept as given. */
	{ "-\u0345\u1f00", "-\u0345\u1f00", NULL, "no letters a-z" },
	/* Invalid bytes and characters. */
	{ "Nguy\xc3\x28n", NULL, NULL, "invalid UTF-8" },
	{ "\xc0\xaf", NULL, NULL, "invalid UTF-8" },
	{ "Nguy\xed\xa0\x80n", NULL, NULL, "invalid UTF-8" },
	{ "An\xff", NULL, NULL, "invalid UTF-8 at byte 3" },
	{ "Nguyễn Văn \xe1\xbb", NULL, NULL, "invalid UTF-8" },
	{ "Nguyễn\nVăn An", NULL, NULL, "control character U+000A" },
	{ "Nguyễn\rVăn An", NULL, NULL, "control character" },
	{ "Nguyễn\x7fVăn", NULL, NULL, "control character U+007F" },
	{ "Nguyễn\xc2\x85Văn", NULL, NULL, "control character" },
	{ "Nguyễn\u200bVăn", NULL, NULL, "format character U+200B" },
	{ "Nguyễn\u202eVăn", NULL, NULL, "format character U+202E" },
	{ "\ufeffNguyễn Văn An", NULL, NULL, "format character U+FEFF" },
	{ "Nguyễn \ue000", NULL, NULL, "not allowed" },
	{ "Nguyễn \u0301An", NULL, NULL, "combining mark U+0301" },
	{ "\u0303", NULL, NULL, "combining mark" },
	/* Empty input. */
	{ "", NULL, NULL, "empty" },
	{ "   ", NULL, NULL, "empty" },
	{ " \t\u00a0\u3000 ", NULL, NULL, "empty" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int
normalize_str(const char *in, char *out, size_t outsz, char *err,
    size_t errlen)
{
	return names_normalize(in, strlen(in), out, outsz, err, errlen);
}

static void
check_case(const struct name_case *c, const char *in, const char *what)
{
	char cn[NAMES_CN_BUFSZ], again[NAMES_CN_BUFSZ];
	char base[NAMES_LOGIN_BUFSZ], err[256];
	int rc;

	err[0] = '\0';
	rc = normalize_str(in, cn, sizeof(cn), err, sizeof(err));
	if (c->cn == NULL) {
		if (rc != -1)
			fail_msg("%s \"%s\": normalised to \"%s\", expected "
			    "an error", what, c->in, cn);
		if (strncmp(err, "full_name: ", 11) != 0 ||
		    strstr(err, c->err) == NULL)
			fail_msg("%s \"%s\": error \"%s\" lacks \"%s\"", what,
			    c->in, err, c->err);
		assert_string_equal(cn, "");
		assert_int_equal(names_login_base(in, base, sizeof(base),
		    err, sizeof(err)), -1);
		return;
	}
	if (rc != 0)
		fail_msg("%s \"%s\": %s", what, c->in, err);
	if (strcmp(cn, c->cn) != 0)
		fail_msg("%s \"%s\": cn \"%s\", expected \"%s\"", what, c->in,
		    cn, c->cn);
	/* Idempotent. */
	assert_int_equal(normalize_str(cn, again, sizeof(again), err,
	    sizeof(err)), 0);
	assert_string_equal(again, cn);

	err[0] = '\0';
	rc = names_login_base(in, base, sizeof(base), err, sizeof(err));
	if (c->login == NULL) {
		if (rc != -1)
			fail_msg("%s \"%s\": login \"%s\", expected an error",
			    what, c->in, base);
		if (strncmp(err, "full_name: ", 11) != 0 ||
		    strstr(err, c->err) == NULL)
			fail_msg("%s \"%s\": error \"%s\" lacks \"%s\"", what,
			    c->in, err, c->err);
		return;
	}
	if (rc != 0)
		fail_msg("%s \"%s\": %s", what, c->in, err);
	if (strcmp(base, c->login) != 0)
		fail_msg("%s \"%s\": login \"%s\", expected \"%s\"", what,
		    c->in, base, c->login);
	assert_true(names_login_valid(base));
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	assert_true(NCASES >= 70);
	for (i = 0; i < NCASES; i++)
		check_case(&cases[i], cases[i].in, "input");
}

/* The NFD form of every valid input gives the same cn and login. */
static void
test_table_nfd(void **state)
{
	uint8_t buf[4 * NAMES_INPUT_MAX];
	char in[4 * NAMES_INPUT_MAX + 1];
	size_t i, len;
	uint8_t *nfd;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		const uint8_t *s = (const uint8_t *)cases[i].in;

		if (cases[i].cn == NULL)
			continue;       /* invalid UTF-8 cannot be normalised */
		len = sizeof(buf);
		nfd = u8_normalize(UNINORM_NFD, s, strlen(cases[i].in), buf,
		    &len);
		assert_non_null(nfd);
		assert_ptr_equal(nfd, buf);
		assert_true(len < sizeof(in));
		memcpy(in, buf, len);
		in[len] = '\0';
		check_case(&cases[i], in, "NFD of");
	}
}

static void
test_embedded_nul(void **state)
{
	static const char in[] = "Nguyễn\0Văn An";
	char cn[NAMES_CN_BUFSZ], err[128];

	(void)state;
	assert_int_equal(names_normalize(in, sizeof(in) - 1, cn, sizeof(cn),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	/* A trailing NUL counted in len is refused too. */
	assert_int_equal(names_normalize("An", 3, cn, sizeof(cn), err,
	    sizeof(err)), -1);
	/* NULL input, NULL output, NULL err are all survivable. */
	assert_int_equal(names_normalize(NULL, 0, cn, sizeof(cn), NULL, 0),
	    -1);
	assert_int_equal(names_normalize("An", 2, NULL, 0, NULL, 0), -1);
	assert_int_equal(names_login_base(NULL, cn, sizeof(cn), NULL, 0), -1);
}

static void
test_limits(void **state)
{
	char in[NAMES_INPUT_MAX + 64], cn[NAMES_CN_BUFSZ], err[128];
	char small[8];
	size_t i, len;

	(void)state;
	/* 128 characters is the limit: "Ấ" + 127 "a" (Ấ is one code point
	 * in NFC, two bytes-heavier than ASCII). */
	len = 0;
	memcpy(in, "Ấ", strlen("Ấ"));
	len += strlen("Ấ");
	for (i = 0; i < 127; i++)
		in[len++] = 'a';
	assert_int_equal(names_normalize(in, len, cn, sizeof(cn), err,
	    sizeof(err)), 0);
	in[len++] = 'a';
	assert_int_equal(names_normalize(in, len, cn, sizeof(cn), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "128 characters"));

	/* Decomposed input counts after composition: 128 "ễ" as e + two
	 * marks each (640 bytes, 384 code points) is 128 characters. */
	len = 0;
	for (i = 0; i < 128; i++) {
		memcpy(in + len, "e\u0302\u0303", 5);
		len += 5;
	}
	assert_int_equal(names_normalize(in, len, cn, sizeof(cn), err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(cn), 128 * 3);

	/* Raw input past NAMES_INPUT_MAX is refused even if it is mostly
	 * white space. */
	memset(in, ' ', sizeof(in));
	memcpy(in + 100, "An", 2);
	assert_int_equal(names_normalize(in, NAMES_INPUT_MAX, cn, sizeof(cn),
	    err, sizeof(err)), 0);
	assert_string_equal(cn, "An");
	assert_int_equal(names_normalize(in, NAMES_INPUT_MAX + 1, cn,
	    sizeof(cn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "input longer"));

	/* Output buffer too small. */
	assert_int_equal(names_normalize("Nguyễn Văn An",
	    strlen("Nguyễn Văn An"), small,
	    sizeof(small), err, sizeof(err)), -1);
	assert_string_equal(small, "");
	assert_non_null(strstr(err, "too small"));

	/* A very long given name: the base is cut to NAMES_BASE_MAX. */
	{
		char base[NAMES_LOGIN_BUFSZ];
		char name[128] = "Nguyễn Văn ";

		for (i = 0; i < 40; i++)
			strcat(name, "a");
		assert_int_equal(names_login_base(name, base, sizeof(base),
		    err, sizeof(err)), 0);
		assert_int_equal(strlen(base), NAMES_BASE_MAX);
		assert_true(names_login_valid(base));
	}
	/* Many middle names: the initials are cut as well. */
	{
		char base[NAMES_LOGIN_BUFSZ];
		char name[256] = "";

		for (i = 0; i < 40; i++)
			strcat(name, "Bé ");
		strcat(name, "Lan");
		assert_int_equal(names_login_base(name, base, sizeof(base),
		    err, sizeof(err)), 0);
		assert_int_equal(strlen(base), NAMES_BASE_MAX);
		assert_memory_equal(base, "lanbbbb", 7);
		/* Too small an output buffer for the base. */
		assert_int_equal(names_login_base(name, base, 8, err,
		    sizeof(err)), -1);
	}
}

static void
test_split(void **state)
{
	struct person_name pn;
	char err[128];

	(void)state;
	assert_int_equal(names_split("Nguyễn Văn An", &pn, err, sizeof(err)),
	    0);
	assert_string_equal(pn.family, "Nguyễn");
	assert_string_equal(pn.middle, "Văn");
	assert_string_equal(pn.given, "An");
	assert_string_equal(pn.sn, "Nguyễn");
	assert_string_equal(pn.given_name, "Văn An");

	assert_int_equal(names_split("Công Tằng Tôn Nữ Thị Phương Thảo", &pn,
	    err, sizeof(err)), 0);
	assert_string_equal(pn.family, "Công");
	assert_string_equal(pn.middle, "Tằng Tôn Nữ Thị Phương");
	assert_string_equal(pn.given, "Thảo");
	assert_string_equal(pn.given_name, "Tằng Tôn Nữ Thị Phương Thảo");

	assert_int_equal(names_split("H'Hen Niê", &pn, err, sizeof(err)), 0);
	assert_string_equal(pn.family, "H'Hen");
	assert_string_equal(pn.middle, "");
	assert_string_equal(pn.given, "Niê");
	assert_string_equal(pn.sn, "H'Hen");
	assert_string_equal(pn.given_name, "Niê");

	assert_int_equal(names_split("Páo", &pn, err, sizeof(err)), 0);
	assert_string_equal(pn.family, "");
	assert_string_equal(pn.middle, "");
	assert_string_equal(pn.given, "Páo");
	assert_string_equal(pn.sn, "Páo");
	assert_string_equal(pn.given_name, "Páo");

	assert_int_equal(names_split("", &pn, err, sizeof(err)), -1);
	assert_int_equal(names_split("   ", &pn, err, sizeof(err)), -1);
	assert_int_equal(names_split(NULL, &pn, err, sizeof(err)), -1);
	assert_int_equal(names_split("An", NULL, err, sizeof(err)), -1);
	{
		char longname[NAMES_CN_MAX_BYTES + 2];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(names_split(longname, &pn, err, sizeof(err)),
		    -1);
		longname[NAMES_CN_MAX_BYTES] = '\0';
		assert_int_equal(names_split(longname, &pn, err, sizeof(err)),
		    0);
	}
}

static void
test_fold(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(names_fold_ascii("Đặng", out, sizeof(out)), 0);
	assert_string_equal(out, "dang");
	assert_int_equal(names_fold_ascii("ĐĐđđ", out, sizeof(out)), 0);
	assert_string_equal(out, "dddd");
	assert_int_equal(names_fold_ascii("Nguyễn Văn An", out, sizeof(out)),
	    0);
	assert_string_equal(out, "nguyenvanan");
	assert_int_equal(names_fold_ascii("Ư Ơ Ă Â Ê Ô ư ơ ă â ê ô", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "uoaaeouoaaeo");
	assert_int_equal(names_fold_ascii("O'Brien-Smith 42", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "obriensmith42");
	assert_int_equal(names_fold_ascii("Ø ß Жук ł æ", out, sizeof(out)),
	    0);
	assert_string_equal(out, "");
	assert_int_equal(names_fold_ascii("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* NFD in, same result. */
	assert_int_equal(names_fold_ascii("Nguye\u0302\u0303n", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "nguyen");
	/* Errors. */
	assert_int_equal(names_fold_ascii("An\xff", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(names_fold_ascii(NULL, out, sizeof(out)), -1);
	assert_int_equal(names_fold_ascii("abc", NULL, 0), -1);
	assert_int_equal(names_fold_ascii("abcd", out, 4), -1);
	assert_string_equal(out, "");
	assert_int_equal(names_fold_ascii("Ấbc", out, 4), 0);
	assert_string_equal(out, "abc");
}

static void
test_candidate(void **state)
{
	char out[NAMES_LOGIN_BUFSZ], base[NAMES_BASE_MAX + 1];

	(void)state;
	assert_int_equal(names_login_candidate("annv", 1, out, sizeof(out)),
	    0);
	assert_string_equal(out, "annv");
	assert_int_equal(names_login_candidate("annv", 2, out, sizeof(out)),
	    0);
	assert_string_equal(out, "annv2");
	assert_int_equal(names_login_candidate("annv", 117, out, sizeof(out)),
	    0);
	assert_string_equal(out, "annv117");
	assert_int_equal(names_login_candidate("annv", 0, out, sizeof(out)),
	    -1);
	assert_int_equal(names_login_candidate("Annv", 2, out, sizeof(out)),
	    -1);
	assert_int_equal(names_login_candidate("2nv", 2, out, sizeof(out)),
	    -1);
	assert_int_equal(names_login_candidate(NULL, 2, out, sizeof(out)),
	    -1);
	assert_int_equal(names_login_candidate("annv", 2, out, 5), -1);
	assert_int_equal(names_login_candidate("annv", 2, out, 6), 0);

	/* A full-length base leaves room for 8 digits: 40 in all. */
	memset(base, 'a', NAMES_BASE_MAX);
	base[NAMES_BASE_MAX] = '\0';
	assert_int_equal(names_login_candidate(base, 99999999, out,
	    sizeof(out)), 0);
	assert_int_equal(strlen(out), NAMES_LOGIN_MAX);
	assert_true(names_login_valid(out));
	assert_int_equal(names_login_candidate(base, 100000000, out,
	    sizeof(out)), -1);
	assert_int_equal(names_login_candidate("annv", 4294967295u, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "annv4294967295");
	/* Longer than a base may be. */
	{
		char longbase[NAMES_BASE_MAX + 2];

		memset(longbase, 'a', NAMES_BASE_MAX + 1);
		longbase[NAMES_BASE_MAX + 1] = '\0';
		assert_int_equal(names_login_candidate(longbase, 1, out,
		    sizeof(out)), -1);
	}
}

static void
test_lowest_free(void **state)
{
	static const char *const t1[] = { "annv" };
	static const char *const t2[] = { "annv", "annv2" };
	static const char *const t3[] = { "annv2" };
	static const char *const t4[] = { "annv", "annv3" };
	static const char *const t5[] = {
		"annvx", "annv02", "annv1", "annv", "annv2", "annv2x",
		"annv 3", "annv-3", "ann", "annv99999999999999999999",
	};
	static const char *const t6[] = { "ANNV", "AnnV2" };
	static const char *const t7[] = { NULL, "annv", NULL };
	static const char *const t8[] = { "annv3", "annv2", "annv" };
	/* Upper case compares as lower case at both ends of the alphabet. */
	static const char *const t9[] = { "AZ", "az2", "Az3", "aZ4" };
	char **many;
	size_t i;

	(void)state;
	assert_int_equal(names_lowest_free("annv", NULL, 0), 1);
	assert_int_equal(names_lowest_free("annv", t1, 1), 2);
	assert_int_equal(names_lowest_free("annv", t2, 2), 3);
	assert_int_equal(names_lowest_free("annv", t3, 1), 1);
	assert_int_equal(names_lowest_free("annv", t4, 2), 2);
	assert_int_equal(names_lowest_free("annv", t5,
	    sizeof(t5) / sizeof(t5[0])), 3);
	assert_int_equal(names_lowest_free("annv", t6, 2), 3);
	assert_int_equal(names_lowest_free("annv", t7, 3), 2);
	assert_int_equal(names_lowest_free("annv", t8, 3), 4);
	assert_int_equal(names_lowest_free("az", t9, 4), 5);
	/* Invalid bases. */
	assert_int_equal(names_lowest_free("", t1, 1), 0);
	assert_int_equal(names_lowest_free("Annv", t1, 1), 0);
	assert_int_equal(names_lowest_free(NULL, t1, 1), 0);
	assert_int_equal(names_lowest_free("annv", NULL, 3), 0);

	/* 1000 taken in reverse order: annv, annv2..annv1000. */
	many = calloc(1000, sizeof(*many));
	assert_non_null(many);
	for (i = 0; i < 1000; i++) {
		many[i] = malloc(NAMES_LOGIN_BUFSZ);
		assert_non_null(many[i]);
		assert_int_equal(names_login_candidate("annv",
		    (unsigned)(1000 - i), many[i], NAMES_LOGIN_BUFSZ), 0);
	}
	assert_int_equal(names_lowest_free("annv",
	    (const char *const *)many, 1000), 1001);
	/* Free one in the middle. */
	strcpy(many[500], "annvx");
	assert_int_equal(names_lowest_free("annv",
	    (const char *const *)many, 1000), 500);
	for (i = 0; i < 1000; i++)
		free(many[i]);
	free(many);
}

static void
test_login_valid(void **state)
{
	char s[NAMES_LOGIN_MAX + 2];

	(void)state;
	assert_true(names_login_valid("a"));
	assert_true(names_login_valid("annv"));
	assert_true(names_login_valid("annv2"));
	assert_true(names_login_valid("a0123456789"));
	assert_false(names_login_valid(""));
	assert_false(names_login_valid(NULL));
	assert_false(names_login_valid("1annv"));
	assert_false(names_login_valid("Annv"));
	assert_false(names_login_valid("an-nv"));
	assert_false(names_login_valid("an.nv"));
	assert_false(names_login_valid("an nv"));
	assert_false(names_login_valid("annv\n"));
	assert_false(names_login_valid("ann\xc3\xa1"));
	memset(s, 'a', NAMES_LOGIN_MAX);
	s[NAMES_LOGIN_MAX] = '\0';
	assert_true(names_login_valid(s));
	s[NAMES_LOGIN_MAX] = 'a';
	s[NAMES_LOGIN_MAX + 1] = '\0';
	assert_false(names_login_valid(s));
}

/* Field 2 (full_name) of a simple CSV line, quotes allowed. */
static int
csv_second_field(const char *line, char *out, size_t outsz)
{
	const char *p = strchr(line, ',');
	size_t o = 0;
	int quoted;

	if (p == NULL)
		return -1;
	p++;
	quoted = *p == '"';
	if (quoted)
		p++;
	for (; *p != '\0'; p++) {
		if (quoted && *p == '"') {
			if (p[1] != '"')
				break;
			p++;
		} else if (!quoted && (*p == ',' || *p == '\n' ||
		    *p == '\r')) {
			break;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

/* 300 real names from HR: every login is [a-z][a-z0-9]*, and giving each
 * the lowest free suffix makes them all distinct. */
static void
test_staff_csv(void **state)
{
	const char *path = getenv("PROVD_STAFF_CSV");
	char line[1024], name[600], err[256];
	char (*logins)[NAMES_LOGIN_BUFSZ];
	const char **taken;
	size_t n = 0, i, j, ntaken, suffixed = 0;
	FILE *fp;

	(void)state;
	if (path == NULL || *path == '\0')
		fail_msg("PROVD_STAFF_CSV is not set (tests/run-unit sets it)");
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	logins = calloc(300, sizeof(*logins));
	taken = calloc(300, sizeof(*taken));
	assert_non_null(logins);
	assert_non_null(taken);
	assert_non_null(fgets(line, sizeof(line), fp));   /* header */
	while (n < 300 && fgets(line, sizeof(line), fp) != NULL) {
		char base[NAMES_LOGIN_BUFSZ];
		unsigned k;

		assert_int_equal(csv_second_field(line, name, sizeof(name)), 0);
		if (names_login_base(name, base, sizeof(base), err,
		    sizeof(err)) != 0)
			fail_msg("staff \"%s\": %s", name, err);
		assert_true(names_login_valid(base));
		/* What an LDAP search (uid=base*) would return. */
		ntaken = 0;
		for (j = 0; j < n; j++)
			if (strncmp(logins[j], base, strlen(base)) == 0)
				taken[ntaken++] = logins[j];
		k = names_lowest_free(base, taken, ntaken);
		assert_true(k >= 1);
		assert_int_equal(names_login_candidate(base, k, logins[n],
		    NAMES_LOGIN_BUFSZ), 0);
		if (k > 1)
			suffixed++;
		for (i = 0; logins[n][i] != '\0'; i++)
			assert_true((logins[n][i] >= 'a' &&
			    logins[n][i] <= 'z') || (i > 0 &&
			    logins[n][i] >= '0' && logins[n][i] <= '9'));
		n++;
	}
	fclose(fp);
	assert_int_equal(n, 300);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(logins[i], logins[j]) == 0)
				fail_msg("duplicate login %s", logins[i]);
	print_message("staff CSV: %zu names, %zu needed a suffix\n", n,
	    suffixed);
	free(logins);
	free(taken);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_nfd),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_candidate),
		cmocka_unit_test(test_lowest_free),
		cmocka_unit_test(test_login_valid),
		cmocka_unit_test(test_staff_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
