/*
 * libFuzzer target: arbitrary bytes through names_normalize, names_split,
 * names_fold_ascii and names_login_base, checking their promises:
 * a normalised name is a fixed point, its parts rebuild it, and every
 * login made from it is a valid login.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[NAMES_INPUT_MAX + 2];
	char cn[NAMES_CN_BUFSZ], again[NAMES_CN_BUFSZ], rebuilt[2 * NAMES_CN_BUFSZ];
	char fold[NAMES_CN_BUFSZ], base[NAMES_LOGIN_BUFSZ], cand[NAMES_LOGIN_BUFSZ];
	char err[256];
	struct person_name pn;
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	const char *taken[2];

	/* The raw bytes, exactly as a protocol field would deliver them. */
	if (names_normalize((const char *)data, size, cn, sizeof(cn), err,
	    sizeof(err)) != 0) {
		CHECK(cn[0] == '\0');
		CHECK(strncmp(err, "full_name: ", 11) == 0);
	} else {
		CHECK(cn[0] != '\0' && strlen(cn) <= NAMES_CN_MAX_BYTES);
		CHECK(names_normalize(cn, strlen(cn), again, sizeof(again),
		    err, sizeof(err)) == 0);
		CHECK(strcmp(cn, again) == 0);

		CHECK(names_split(cn, &pn, err, sizeof(err)) == 0);
		CHECK(pn.given[0] != '\0' && pn.sn[0] != '\0');
		if (pn.family[0] == '\0') {
			CHECK(pn.middle[0] == '\0');
			CHECK(strcmp(pn.given, cn) == 0);
		} else {
			strcpy(rebuilt, pn.sn);
			strcat(rebuilt, " ");
			strcat(rebuilt, pn.given_name);
			CHECK(strcmp(rebuilt, cn) == 0);
		}
		CHECK(names_fold_ascii(cn, fold, sizeof(fold)) == 0);
	}

	/* The same bytes as a C string. */
	memcpy(in, data, n);
	in[n] = '\0';
	if (names_fold_ascii(in, fold, sizeof(fold)) == 0) {
		for (size_t i = 0; fold[i] != '\0'; i++)
			CHECK((fold[i] >= 'a' && fold[i] <= 'z') ||
			    (fold[i] >= '0' && fold[i] <= '9'));
	}
	if (names_login_base(in, base, sizeof(base), err, sizeof(err)) == 0) {
		CHECK(names_login_valid(base));
		CHECK(strlen(base) <= NAMES_BASE_MAX);
		CHECK(names_login_candidate(base, 2, cand, sizeof(cand)) == 0);
		CHECK(names_login_valid(cand));
		taken[0] = base;
		taken[1] = cand;
		CHECK(names_lowest_free(base, taken, 2) == 3);
	} else {
		CHECK(base[0] == '\0');
	}
	(void)names_login_valid(in);
	return 0;
}
