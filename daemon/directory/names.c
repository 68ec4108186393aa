/* names — cn normalisation, name parts and logins. See names.h. */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "errmsg.h"
#include "xmalloc.h"

#define FIELD "full_name"

/* Digits of the largest unsigned suffix (4294967295). */
#define SUFFIX_MAX_DIGITS 10

static uint32_t
category_mask(ucs4_t c)
{
	return uc_general_category(c).bitmask;
}

/* Tab and every Unicode White_Space character except the other controls
 * (LF, CR, VT, FF, NEL are refused as control characters). */
static bool
is_space(ucs4_t c)
{
	if (c == '\t')
		return true;
	return uc_is_property_white_space(c) &&
	    (category_mask(c) & UC_CATEGORY_MASK_Cc) == 0;
}

/* Punctuation that occurs in real names: apostrophes and hyphens (O'Brien,
 * Nguyễn-Trần) and the full stop of an abbreviation. */
static bool
is_name_punct(ucs4_t c)
{
	switch (c) {
	case 0x0027:    /* APOSTROPHE */
	case 0x2019:    /* RIGHT SINGLE QUOTATION MARK */
	case 0x002D:    /* HYPHEN-MINUS */
	case 0x2010:    /* HYPHEN */
	case 0x2011:    /* NON-BREAKING HYPHEN */
		return true;
	default:
		return false;
	}
}

static bool
is_mark(ucs4_t c)
{
	return (category_mask(c) & UC_CATEGORY_MASK_M) != 0;
}

static bool
is_letter(ucs4_t c)
{
	return (category_mask(c) & UC_CATEGORY_MASK_L) != 0;
}

/*
 * Check one non-space code point of a name. Returns 0 or -1 with a message;
 * `pos` is its 1-based character position, for the message.
 */
static int
check_char(ucs4_t c, size_t pos, char *err, size_t errlen)
{
	uint32_t m = category_mask(c);
	const char *why;

	if (c == 0) {
		errmsg_set(err, errlen,
		    FIELD ": NUL byte at character %zu", pos);
		return -1;
	}
	if (m & UC_CATEGORY_MASK_Cc) {
		errmsg_set(err, errlen, FIELD ": control character U+%04X at "
		    "character %zu", (unsigned)c, pos);
		return -1;
	}
	if (m & UC_CATEGORY_MASK_Cf) {
		errmsg_set(err, errlen, FIELD ": invisible format character "
		    "U+%04X at character %zu", (unsigned)c, pos);
		return -1;
	}
	if (m & (UC_CATEGORY_MASK_L | UC_CATEGORY_MASK_M))
		return 0;
	if (is_name_punct(c))
		return 0;
	/* A person's name is words of letters: no digits (HR's "Mai2" is a
	 * typo or a login, not a name), no full stops or other signs. */
	why = (m & UC_CATEGORY_MASK_N) ? "names have no digits" :
	    "letters, spaces, hyphens and apostrophes only";
	if (c > 0x20 && c < 0x7F)
		errmsg_set(err, errlen, FIELD ": '%c' (U+%04X) at character %zu "
		    "is not allowed in a name: %s", (int)c, (unsigned)c, pos, why);
	else
		errmsg_set(err, errlen, FIELD ": character U+%04X at character "
		    "%zu is not allowed in a name: %s", (unsigned)c, pos, why);
	return -1;
}

/*
 * Check a normalised candidate: allowed characters only, single spaces
 * between words, no combining mark starting a word, a letter in
 * every word, and the cn length limits.
 */
static int
check_result(const uint8_t *s, size_t n, char *err, size_t errlen)
{
	size_t i = 0, pos = 0, word = 1;
	bool word_start = true, word_has_letter = false;
	ucs4_t c;
	int len;

	if (n > NAMES_CN_MAX_BYTES) {
		errmsg_set(err, errlen, FIELD ": longer than %d bytes",
		    NAMES_CN_MAX_BYTES);
		return -1;
	}
	if (u8_mbsnlen(s, n) > NAMES_CN_MAX_CHARS) {
		errmsg_set(err, errlen, FIELD ": longer than %d characters",
		    NAMES_CN_MAX_CHARS);
		return -1;
	}
	while (i < n) {
		len = u8_mbtouc(&c, s + i, n - i);
		pos++;
		if (c == ' ') {
			if (!word_has_letter)
				goto noletter;
			word++;
			word_start = true;
			word_has_letter = false;
			i += (size_t)len;
			continue;
		}
		if (check_char(c, pos, err, errlen) < 0)
			return -1;
		if (word_start && is_mark(c)) {
			errmsg_set(err, errlen,
			    FIELD ": combining mark U+%04X at "
			    "character %zu has no letter before it",
			    (unsigned)c, pos);
			return -1;
		}
		if (is_letter(c))
			word_has_letter = true;
		word_start = false;
		i += (size_t)len;
	}
	if (!word_has_letter)
		goto noletter;
	return 0;
noletter:
	errmsg_set(err, errlen,
	    FIELD ": word %zu has no letter", word);
	return -1;
}

/* Free a libunistring result unless it is the caller's own buffer. */
static void
free_result(uint8_t *p, const uint8_t *stackbuf)
{
	if (p != NULL && p != stackbuf)
		free(p);
}

/* True if the cased letters of s are all upper case or all lower case. */
static bool
uniform_case(const uint8_t *s, size_t n)
{
	bool has_upper = false, has_lower = false;
	size_t i;
	ucs4_t c;
	int len;

	for (i = 0; i < n; i += (size_t)len) {
		len = u8_mbtouc(&c, s + i, n - i);
		if (uc_is_property_uppercase(c))
			has_upper = true;
		else if (uc_is_property_lowercase(c))
			has_lower = true;
	}
	return has_upper != has_lower;
}

/*
 * Whether a title-cased name t may be used: normalising it again must not
 * change it (normalisation is idempotent). That holds when t has mixed case
 * (it is then kept as given), or when title-casing it again is a no-op.
 * Unicode title-casing is not idempotent for a few odd sequences (a
 * combining iota subscript after punctuation, for one); such a name is
 * kept as given. Returns 1 (use t), 0 (keep the name as given), -1 on
 * allocation failure.
 */
static int
title_is_stable(const uint8_t *t, size_t tlen)
{
	uint8_t buf[NAMES_CN_MAX_BYTES * 2];
	uint8_t *again;
	size_t alen = sizeof(buf);
	int stable;

	if (!uniform_case(t, tlen))
		return 1;
	again = u8_totitle(t, tlen, NULL, UNINORM_NFC, buf, &alen);
	if (again == NULL)
		return -1;
	stable = alen == tlen && memcmp(again, t, tlen) == 0;
	free_result(again, buf);
	return stable;
}

int
names_normalize(const char *in, size_t len, char *out, size_t outsz,
    char *err, size_t errlen)
{
	uint8_t collapsed[NAMES_INPUT_MAX];
	uint8_t nfcbuf[NAMES_INPUT_MAX * 2];
	uint8_t titlebuf[NAMES_CN_MAX_BYTES * 2];
	const uint8_t *s = (const uint8_t *)in;
	uint8_t *nfc = NULL, *titled = NULL;
	const uint8_t *res;
	size_t i, pos, clen, nfclen, tlen, reslen;
	bool pending_space = false;
	const uint8_t *bad;
	ucs4_t c;
	int n, rc = -1;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (out == NULL || outsz == 0) {
		errmsg_set(err, errlen, FIELD ": no output buffer");
		goto out;
	}
	if (len == 0 || in == NULL) {
		errmsg_set(err, errlen, FIELD ": empty");
		goto out;
	}
	if (len > NAMES_INPUT_MAX) {
		errmsg_set(err, errlen, FIELD ": input longer than %d bytes",
		    NAMES_INPUT_MAX);
		goto out;
	}
	if ((bad = u8_check(s, len)) != NULL) {
		errmsg_set(err, errlen, FIELD ": invalid UTF-8 at byte %zu",
		    (size_t)(bad - s) + 1);
		goto out;
	}

	/* Trim and collapse white space; check every other character.
	 * Each space run becomes one byte, so clen <= len. */
	clen = 0;
	pos = 0;
	for (i = 0; i < len; i += (size_t)n) {
		n = u8_mbtouc(&c, s + i, len - i);
		pos++;
		if (is_space(c)) {
			pending_space = clen > 0;
			continue;
		}
		if (check_char(c, pos, err, errlen) < 0)
			goto out;
		if (pending_space) {
			collapsed[clen++] = ' ';
			pending_space = false;
		}
		memcpy(collapsed + clen, s + i, (size_t)n);
		clen += (size_t)n;
	}
	if (clen == 0) {
		errmsg_set(err, errlen, FIELD ": empty");
		goto out;
	}

	nfclen = sizeof(nfcbuf);
	nfc = u8_normalize(UNINORM_NFC, collapsed, clen, nfcbuf, &nfclen);
	if (nfc == NULL) {
		errmsg_set(err, errlen, FIELD ": cannot normalise: %s",
		    strerror(errno));
		goto out;
	}
	if (check_result(nfc, nfclen, err, errlen) < 0)
		goto out;
	res = nfc;
	reslen = nfclen;

	/* Title-case a name written all in capitals or all in lower case. */
	if (uniform_case(nfc, nfclen)) {
		tlen = sizeof(titlebuf);
		titled = u8_totitle(nfc, nfclen, NULL, UNINORM_NFC, titlebuf,
		    &tlen);
		if (titled == NULL) {
			errmsg_set(err, errlen,
			    FIELD ": cannot change case: %s",
			    strerror(errno));
			goto out;
		}
		switch (title_is_stable(titled, tlen)) {
		case -1:
			errmsg_set(err, errlen,
			    FIELD ": cannot change case: %s",
			    strerror(errno));
			goto out;
		case 0:
			break;  /* keep the name as given */
		default:
			if (check_result(titled, tlen, err, errlen) < 0)
				goto out;
			res = titled;
			reslen = tlen;
			break;
		}
	}

	if (reslen >= outsz) {
		errmsg_set(err, errlen, FIELD ": output buffer too small");
		goto out;
	}
	memcpy(out, res, reslen);
	out[reslen] = '\0';
	rc = 0;
out:
	free_result(nfc, nfcbuf);
	free_result(titled, titlebuf);
	return rc;
}

/* Copy n bytes of src into dst (dstsz bytes) with a terminator. */
static int
copy_part(char *dst, size_t dstsz, const char *src, size_t n)
{
	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int
names_split(const char *normalized, struct person_name *out, char *err,
    size_t errlen)
{
	const char *p, *first_end, *last_start, *mid_start, *mid_end, *end;
	size_t len;

	if (out == NULL) {
		errmsg_set(err, errlen, FIELD ": no output");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (normalized == NULL) {
		errmsg_set(err, errlen, FIELD ": empty");
		return -1;
	}
	len = strnlen(normalized, NAMES_CN_MAX_BYTES + 1);
	if (len > NAMES_CN_MAX_BYTES) {
		errmsg_set(err, errlen, FIELD ": longer than %d bytes",
		    NAMES_CN_MAX_BYTES);
		return -1;
	}
	/* Tolerate stray spaces at the ends even though normalised names
	 * have none; words inside are split on runs of spaces. */
	p = normalized;
	end = normalized + len;
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	if (p == end) {
		errmsg_set(err, errlen, FIELD ": empty");
		return -1;
	}

	first_end = memchr(p, ' ', (size_t)(end - p));
	if (first_end == NULL) {
		/* One word: it is the given name and also stands as sn. */
		(void)copy_part(out->given, sizeof(out->given), p,
		    (size_t)(end - p));
		memcpy(out->sn, out->given, sizeof(out->sn));
		memcpy(out->given_name, out->given, sizeof(out->given_name));
		return 0;
	}
	last_start = end;
	while (last_start[-1] != ' ')
		last_start--;

	(void)copy_part(out->family, sizeof(out->family), p,
	    (size_t)(first_end - p));
	(void)copy_part(out->given, sizeof(out->given), last_start,
	    (size_t)(end - last_start));

	mid_start = first_end;
	while (mid_start < last_start && *mid_start == ' ')
		mid_start++;
	mid_end = last_start;
	while (mid_end > mid_start && mid_end[-1] == ' ')
		mid_end--;
	(void)copy_part(out->middle, sizeof(out->middle), mid_start,
	    (size_t)(mid_end - mid_start));

	memcpy(out->sn, out->family, sizeof(out->sn));
	/* givenName is everything but the family name: sn + " " + givenName
	 * gives back the cn. The total fits: it is a suffix of the input. */
	(void)copy_part(out->given_name, sizeof(out->given_name),
	    mid_end > mid_start ? mid_start : last_start,
	    (size_t)(end - (mid_end > mid_start ? mid_start : last_start)));
	return 0;
}

int
names_fold_ascii(const char *utf8, char *out, size_t outsz)
{
	uint8_t nfdbuf[NAMES_INPUT_MAX * 3];
	uint8_t *nfd = NULL;
	size_t len, nfdlen, i, o = 0;
	ucs4_t c;
	int n, rc = -1;

	if (out == NULL || outsz == 0)
		return -1;
	out[0] = '\0';
	if (utf8 == NULL)
		goto out;
	len = strnlen(utf8, NAMES_INPUT_MAX + 1);
	if (len > NAMES_INPUT_MAX)
		goto out;
	if (u8_check((const uint8_t *)utf8, len) != NULL)
		goto out;
	if (len == 0) {
		rc = 0;
		goto out;
	}
	nfdlen = sizeof(nfdbuf);
	nfd = u8_normalize(UNINORM_NFD, (const uint8_t *)utf8, len, nfdbuf,
	    &nfdlen);
	if (nfd == NULL)
		goto out;
	for (i = 0; i < nfdlen; i += (size_t)n) {
		char a;

		n = u8_mbtouc(&c, nfd + i, nfdlen - i);
		if (c >= 'a' && c <= 'z')
			a = (char)c;
		else if (c >= 'A' && c <= 'Z')
			a = (char)(c - 'A' + 'a');
		else if (c >= '0' && c <= '9')
			a = (char)c;
		else if (c == 0x0111 || c == 0x0110)    /* đ, Đ */
			a = 'd';
		else
			continue;       /* marks, spaces, everything else */
		if (o + 1 >= outsz) {
			out[0] = '\0';
			goto out;
		}
		out[o++] = a;
	}
	out[o] = '\0';
	rc = 0;
out:
	free_result(nfd, nfdbuf);
	return rc;
}

/* Append the first character of fold(word) to base, if it folds to any. */
static int
append_initial(const char *word, size_t wlen, char *base, size_t *blen)
{
	char w[NAMES_CN_BUFSZ], f[NAMES_CN_BUFSZ];

	if (copy_part(w, sizeof(w), word, wlen) < 0)
		return -1;
	if (names_fold_ascii(w, f, sizeof(f)) < 0)
		return -1;
	if (f[0] != '\0' && *blen < NAMES_BASE_MAX)
		base[(*blen)++] = f[0];
	base[*blen] = '\0';
	return 0;
}

int
names_login_base(const char *full_name, char *out, size_t outsz,
    char *err, size_t errlen)
{
	char cn[NAMES_CN_BUFSZ], base[NAMES_CN_BUFSZ];
	struct person_name pn;
	const char *w, *sp;
	size_t blen;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (out == NULL || outsz == 0) {
		errmsg_set(err, errlen, FIELD ": no output buffer");
		return -1;
	}
	if (full_name == NULL) {
		errmsg_set(err, errlen, FIELD ": empty");
		return -1;
	}
	if (names_normalize(full_name,
	    strnlen(full_name, NAMES_INPUT_MAX + 1), cn, sizeof(cn),
	    err, errlen) < 0)
		return -1;
	if (names_split(cn, &pn, err, errlen) < 0)
		return -1;

	if (names_fold_ascii(pn.given, base, sizeof(base)) < 0) {
		errmsg_set(err, errlen, FIELD ": cannot fold the given name");
		return -1;
	}
	blen = strlen(base);
	if (blen > NAMES_BASE_MAX)
		blen = NAMES_BASE_MAX;
	base[blen] = '\0';

	if (pn.family[0] != '\0' && append_initial(pn.family,
	    strlen(pn.family), base, &blen) < 0)
		goto fold_error;
	for (w = pn.middle; *w != '\0'; w = *sp ? sp + 1 : sp) {
		sp = strchr(w, ' ');
		if (sp == NULL)
			sp = w + strlen(w);
		if (append_initial(w, (size_t)(sp - w), base, &blen) < 0)
			goto fold_error;
	}

	if (blen == 0) {
		errmsg_set(err, errlen,
		    FIELD ": no letters a-z to make a login "
		    "from; give an explicit login");
		return -1;
	}
	if (base[0] >= '0' && base[0] <= '9') {
		errmsg_set(err, errlen,
		    FIELD ": login \"%s\" would start with a "
		    "digit; give an explicit login", base);
		return -1;
	}
	if (blen >= outsz) {
		errmsg_set(err, errlen, FIELD ": output buffer too small");
		return -1;
	}
	memcpy(out, base, blen + 1);
	return 0;
fold_error:
	errmsg_set(err, errlen, FIELD ": cannot fold a family or middle name");
	return -1;
}

bool
names_login_valid(const char *login)
{
	size_t i;

	if (login == NULL || !(login[0] >= 'a' && login[0] <= 'z'))
		return false;
	for (i = 1; login[i] != '\0'; i++) {
		if (i >= NAMES_LOGIN_MAX)
			return false;
		if (!((login[i] >= 'a' && login[i] <= 'z') ||
		    (login[i] >= '0' && login[i] <= '9')))
			return false;
	}
	return true;
}

/* A valid generated base: a valid login of at most NAMES_BASE_MAX chars. */
static bool
base_valid(const char *base)
{
	return names_login_valid(base) &&
	    strnlen(base, NAMES_BASE_MAX + 1) <= NAMES_BASE_MAX;
}

/* Number of decimal digits a suffix may have after `baselen` (<=
 * NAMES_BASE_MAX) characters so that the login stays within
 * NAMES_LOGIN_MAX; at most 9, so that every such number fits an unsigned. */
static size_t
suffix_digits_room(size_t baselen)
{
	size_t room = NAMES_LOGIN_MAX - baselen;

	return room > SUFFIX_MAX_DIGITS - 1 ? SUFFIX_MAX_DIGITS - 1 : room;
}

int
names_login_candidate(const char *base, unsigned n, char *out, size_t outsz)
{
	char buf[NAMES_LOGIN_BUFSZ + SUFFIX_MAX_DIGITS + 1];
	int len;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (out == NULL || outsz == 0 || n == 0 || !base_valid(base))
		return -1;
	if (n == 1)
		len = snprintf(buf, sizeof(buf), "%s", base);
	else
		len = snprintf(buf, sizeof(buf), "%s%u", base, n);
	if (len < 0 || (size_t)len >= sizeof(buf) || len > NAMES_LOGIN_MAX ||
	    (size_t)len >= outsz)
		return -1;
	memcpy(out, buf, (size_t)len + 1);
	return 0;
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * If `login` is base or base + N (N >= 2, no leading zero, at most
 * `maxdigits` digits), return N (1 for the base itself); otherwise 0.
 */
static unsigned long
taken_number(const char *base, size_t baselen, const char *login,
    size_t maxdigits)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < baselen; i++)
		if (ascii_lower(login[i]) != base[i])
			return 0;       /* also stops at login's NUL */
	login += baselen;
	if (*login == '\0')
		return 1;
	if (*login < '1' || *login > '9')
		return 0;
	for (i = 0; login[i] != '\0'; i++) {
		if (i >= maxdigits || login[i] < '0' || login[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(login[i] - '0');
	}
	return v >= 2 ? v : 0;
}

unsigned
names_lowest_free(const char *base, const char *const *taken, size_t ntaken)
{
	unsigned char *seen = NULL;
	unsigned long limit, v, cand;
	size_t baselen, digits, i, nbits;
	unsigned result = 0;

	if (!base_valid(base) || (taken == NULL && ntaken > 0))
		return 0;
	baselen = strlen(base);
	digits = suffix_digits_room(baselen);
	/* Largest suffix that still fits in a login. */
	for (limit = 1, i = 0; i < digits; i++)
		limit *= 10;
	limit -= 1;
	/* ntaken values occupy at most ntaken numbers, so the answer is at
	 * most ntaken + 1: only numbers up to there need remembering. */
	if (ntaken >= limit)
		nbits = (size_t)limit + 1;
	else
		nbits = ntaken + 2;
	seen = xcalloc((nbits + 7) / 8, 1);
	for (i = 0; i < ntaken; i++) {
		if (taken[i] == NULL)
			continue;
		v = taken_number(base, baselen, taken[i], digits);
		if (v != 0 && v < nbits)
			seen[v / 8] |= (unsigned char)(1u << (v % 8));
	}
	for (cand = 1; cand < nbits && cand <= limit; cand++) {
		if (!(seen[cand / 8] & (1u << (cand % 8)))) {
			result = (unsigned)cand;
			break;
		}
	}
	free(seen);
	return result;
}

int
names_fold_words(const char *utf8, char out[][NAMES_WORD_BUFSZ], size_t max)
{
	char word[NAMES_INPUT_MAX + 1];
	const char *p = utf8;
	size_t n = 0, i;

	if (strlen(utf8) > NAMES_INPUT_MAX)
		return -1;
	while (*p != '\0') {
		size_t len;
		char folded[NAMES_WORD_BUFSZ];
		bool seen = false;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		memcpy(word, p, len);
		word[len] = '\0';
		p += len;
		if (names_fold_ascii(word, folded, sizeof(folded)) < 0)
			return -1;
		if (folded[0] == '\0')
			continue;
		for (i = 0; i < n; i++)
			seen = seen || strcmp(out[i], folded) == 0;
		if (seen || n == max)
			continue;
		memcpy(out[n++], folded, sizeof(folded));
	}
	return (int)n;
}
