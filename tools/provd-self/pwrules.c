#include "pwrules.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <unistr.h>

#include "names.h"

#define FOLD_BUFSZ (PWRULES_MAX_BYTES * 2 + 1)
#define WORD_MIN   3

/* A sorted set of folded words. */
struct wordset {
	char  **v;
	size_t  n, cap;
};

struct pwrules {
	unsigned       min_length;
	struct wordset plain;   /* each entry folded */
	struct wordset leet;    /* each entry de-leeted, then folded */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
wordset_free(struct wordset *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
}

static int
wordset_add(struct wordset *w, const char *word)
{
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		char **nv = realloc(w->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		w->v = nv;
		w->cap = ncap;
	}
	if ((w->v[w->n] = strdup(word)) == NULL)
		return -1;
	w->n++;
	return 0;
}

/* Sort and drop duplicates, so the set can be searched. */
static void
wordset_seal(struct wordset *w)
{
	size_t out = 0;

	if (w->n > 0)
		qsort(w->v, w->n, sizeof(*w->v), cmp_str);
	for (size_t i = 0; i < w->n; i++) {
		if (out > 0 && strcmp(w->v[out - 1], w->v[i]) == 0) {
			free(w->v[i]);
			continue;
		}
		w->v[out++] = w->v[i];
	}
	w->n = out;
}

static bool
wordset_has(const struct wordset *w, const char *word)
{
	const char *key = word;

	return word[0] != '\0' && w->n > 0 &&
	    bsearch(&key, w->v, w->n, sizeof(*w->v), cmp_str) != NULL;
}

/*
 * The "de-leeted" form: symbols that stand for letters become them
 * (@ a, $ s, ! i, | l) before folding, then digits that stand for letters
 * become them (0 o, 1 i, 3 e, 4 a, 5 s, 7 t), so "P@ssw0rd" and
 * "p.a.s.s.w.0.r.d" both read "password".  -1 when the text does not fold.
 */
static int
deleet(const char *in, char *out, size_t outsz)
{
	char pre[FOLD_BUFSZ];
	size_t i, n = strlen(in);

	if (n >= sizeof(pre))
		return -1;
	for (i = 0; i < n; i++) {
		switch (in[i]) {
		case '@': pre[i] = 'a'; break;
		case '$': pre[i] = 's'; break;
		case '!': pre[i] = 'i'; break;
		case '|': pre[i] = 'l'; break;
		default: pre[i] = in[i]; break;
		}
	}
	pre[n] = '\0';
	if (names_fold_ascii(pre, out, outsz) < 0)
		return -1;
	for (i = 0; out[i] != '\0'; i++) {
		switch (out[i]) {
		case '0': out[i] = 'o'; break;
		case '1': out[i] = 'i'; break;
		case '3': out[i] = 'e'; break;
		case '4': out[i] = 'a'; break;
		case '5': out[i] = 's'; break;
		case '7': out[i] = 't'; break;
		default: break;
		}
	}
	return 0;
}

void
pwrules_free(struct pwrules *r)
{
	if (r == NULL)
		return;
	wordset_free(&r->plain);
	wordset_free(&r->leet);
	free(r);
}

struct pwrules *
pwrules_load(unsigned min_length, const char *list_path, char *err,
    size_t errlen)
{
	struct pwrules *r = NULL;
	FILE *f = NULL;
	char line[512], folded[FOLD_BUFSZ], leet[FOLD_BUFSZ];
	size_t lineno = 0, entries = 0;

	if (min_length < 8 || min_length > 64) {
		snprintf(err, errlen, "min_length %u: want 8 to 64", min_length);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto oom;
	r->min_length = min_length;
	if ((f = fopen(list_path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", list_path, strerror(errno));
		goto fail;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");

		lineno++;
		if (line[len] == '\0' && !feof(f)) {
			snprintf(err, errlen, "%s:%zu: line too long", list_path,
			    lineno);
			goto fail;
		}
		line[len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (names_fold_ascii(line, folded, sizeof(folded)) < 0) {
			snprintf(err, errlen, "%s:%zu: not UTF-8 text",
			    list_path, lineno);
			goto fail;
		}
		if (folded[0] == '\0')
			continue;
		if (entries++ == PWRULES_LIST_MAX) {
			snprintf(err, errlen, "%s: more than %d entries",
			    list_path, PWRULES_LIST_MAX);
			goto fail;
		}
		if (wordset_add(&r->plain, folded) < 0 ||
		    (deleet(line, leet, sizeof(leet)) == 0 && leet[0] != '\0' &&
		     wordset_add(&r->leet, leet) < 0))
			goto oom;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", list_path);
		goto fail;
	}
	fclose(f);
	f = NULL;
	wordset_seal(&r->plain);
	wordset_seal(&r->leet);
	return r;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (f != NULL)
		fclose(f);
	pwrules_free(r);
	return NULL;
}

unsigned
pwrules_min_length(const struct pwrules *r)
{
	return r->min_length;
}

size_t
pwrules_list_size(const struct pwrules *r)
{
	return r->plain.n;
}

/* The folded text with its trailing digits removed ("matkhau2024"). */
static void
strip_digits(const char *in, char *out, size_t outsz)
{
	size_t len = strlen(in);

	while (len > 0 && in[len - 1] >= '0' && in[len - 1] <= '9')
		len--;
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

/* Does `folded` contain any folded word of `text` of WORD_MIN+ letters?
 * Words are split on anything that folds to nothing. */
static bool
contains_words(const char *folded, const char *text)
{
	char word[FOLD_BUFSZ], w[FOLD_BUFSZ];
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, " \t-.'@_");

		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (names_fold_ascii(word, w, sizeof(w)) == 0 &&
			    strlen(w) >= WORD_MIN && strstr(folded, w) != NULL)
				return true;
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	return false;
}

enum pwrule
pwrules_check(const struct pwrules *r, const char *password,
    const char *current, const char *login, const char *full_name)
{
	char folded[FOLD_BUFSZ], stem[FOLD_BUFSZ], leet[FOLD_BUFSZ];
	size_t len = strlen(password), chars;

	if (len > PWRULES_MAX_BYTES)
		return PWR_TOO_LONG;
	if (u8_check((const uint8_t *)password, len) != NULL)
		return PWR_BAD_TEXT;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)password[i];

		if (c < 0x20 || c == 0x7f)
			return PWR_BAD_TEXT;
	}
	chars = u8_mbsnlen((const uint8_t *)password, len);
	if (chars < r->min_length)
		return PWR_TOO_SHORT;
	if (current != NULL && strlen(current) == len &&
	    CRYPTO_memcmp(current, password, len) == 0)
		return PWR_SAME;
	if (names_fold_ascii(password, folded, sizeof(folded)) < 0)
		return PWR_BAD_TEXT;
	if (login != NULL && login[0] != '\0') {
		char lp[FOLD_BUFSZ], fl[FOLD_BUFSZ];
		size_t n = strcspn(login, "@");

		if (n < sizeof(lp)) {
			memcpy(lp, login, n);
			lp[n] = '\0';
			if (names_fold_ascii(lp, fl, sizeof(fl)) == 0 &&
			    strlen(fl) >= WORD_MIN && strstr(folded, fl) != NULL)
				return PWR_HAS_LOGIN;
		}
	}
	if (full_name != NULL && contains_words(folded, full_name))
		return PWR_HAS_NAME;
	/* Common as typed, as typed less trailing digits ("matkhau2024"),
	 * and the same read without leetspeak ("P@ssw0rd"). */
	strip_digits(folded, stem, sizeof(stem));
	if (wordset_has(&r->plain, folded) || wordset_has(&r->plain, stem))
		return PWR_COMMON;
	if (deleet(password, leet, sizeof(leet)) == 0) {
		if (wordset_has(&r->leet, leet))
			return PWR_COMMON;
		strip_digits(folded, stem, sizeof(stem));
		if (deleet(stem, leet, sizeof(leet)) == 0 &&
		    wordset_has(&r->leet, leet))
			return PWR_COMMON;
	}
	return PWR_OK;
}
