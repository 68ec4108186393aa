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

struct pwrules {
	unsigned min_length;
	char   **list;      /* folded, sorted, unique */
	size_t   n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
pwrules_free(struct pwrules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->list[i]);
	free(r->list);
	free(r);
}

struct pwrules *
pwrules_load(unsigned min_length, const char *list_path, char *err,
    size_t errlen)
{
	struct pwrules *r = NULL;
	FILE *f = NULL;
	char line[512], folded[FOLD_BUFSZ];
	size_t cap = 0, lineno = 0, out;

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
		if (r->n == PWRULES_LIST_MAX) {
			snprintf(err, errlen, "%s: more than %d entries",
			    list_path, PWRULES_LIST_MAX);
			goto fail;
		}
		if (r->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			char **nl = realloc(r->list, ncap * sizeof(*nl));

			if (nl == NULL)
				goto oom;
			r->list = nl;
			cap = ncap;
		}
		if ((r->list[r->n] = strdup(folded)) == NULL)
			goto oom;
		r->n++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", list_path);
		goto fail;
	}
	fclose(f);
	f = NULL;
	if (r->n > 0)
		qsort(r->list, r->n, sizeof(*r->list), cmp_str);
	/* Drop duplicates so the sorted list is a set. */
	out = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (out > 0 && strcmp(r->list[out - 1], r->list[i]) == 0) {
			free(r->list[i]);
			continue;
		}
		r->list[out++] = r->list[i];
	}
	r->n = out;
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
	return r->n;
}

static bool
listed(const struct pwrules *r, const char *folded)
{
	const char *key = folded;

	return r->n > 0 &&
	    bsearch(&key, r->list, r->n, sizeof(*r->list), cmp_str) != NULL;
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
	char folded[FOLD_BUFSZ], stem[FOLD_BUFSZ];
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
	strip_digits(folded, stem, sizeof(stem));
	if (listed(r, folded) || (stem[0] != '\0' && listed(r, stem)))
		return PWR_COMMON;
	/* A password that folds to almost nothing (all symbols, or a
	 * listed word with symbols around it) is judged by what remains. */
	return PWR_OK;
}
