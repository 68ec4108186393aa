/*
 * names — Vietnamese full names: the cn we store, its parts, and the login
 * made from it.
 *
 * Full names are "Family Middle… Given". The stored cn is the name in NFC
 * with whitespace trimmed and collapsed; the default login is the given name
 * plus the initials of the family and middle names, folded to [a-z0-9]
 * ("Nguyễn Văn An" -> "annv", "Đặng Thị Thu Hà" -> "hadtt"). Collisions are
 * resolved by the caller with a numeric suffix ("annv2"): see
 * names_login_candidate and names_lowest_free.
 *
 * Everything here is locale-independent (libunistring tables, no iconv, no
 * <ctype.h>), reentrant and free of global state, so it may run on any thread.
 * Input is treated as hostile: every function bounds its work by the limits
 * below and never aborts on bad input.
 */
#ifndef PROVD_NAMES_H
#define PROVD_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Raw input accepted by names_normalize / names_fold_ascii, in bytes. Larger
 * than the cn limit so that NFD input and stray spaces still fit. */
#define NAMES_INPUT_MAX      2048
/* Limits on a normalised name (the cn). */
#define NAMES_CN_MAX_CHARS   128
#define NAMES_CN_MAX_BYTES   512
/* Buffer size that always holds a normalised name or any part of it. */
#define NAMES_CN_BUFSZ       (NAMES_CN_MAX_BYTES + 1)
/* A generated login base is at most this long, leaving room for a suffix. */
#define NAMES_BASE_MAX       32
/* Any login (generated or explicit) is at most this long. */
#define NAMES_LOGIN_MAX      40
/* Buffer size that always holds a login. */
#define NAMES_LOGIN_BUFSZ    (NAMES_LOGIN_MAX + 1)

/* The parts of a normalised name, each NUL-terminated NFC UTF-8. */
struct person_name {
	char family[NAMES_CN_BUFSZ];     /* first word; "" for a one-word name */
	char middle[NAMES_CN_BUFSZ];     /* words between, space separated; may be "" */
	char given[NAMES_CN_BUFSZ];      /* last word */
	char sn[NAMES_CN_BUFSZ];         /* sn: family, or the only word */
	char given_name[NAMES_CN_BUFSZ]; /* givenName: middle and given ("Văn An") */
};

/*
 * Turn a full name as typed or exported by HR into the cn value.
 *
 * `in` holds `len` bytes (no terminator needed). The input must be valid
 * UTF-8 of at most NAMES_INPUT_MAX bytes. Accepted characters: letters,
 * combining marks (not at the start of a word), the apostrophes ' and
 * U+2019, the hyphens - U+2010 U+2011, and white space: a person's name has
 * no digits ("Lý Thị Mai2" is refused, naming the digit) and no full stop. Tab and every Unicode space (NBSP, U+2000..U+200A, U+3000, …)
 * count as white space; NUL, other control characters, format characters
 * (zero-width and bidi controls), private-use and unassigned code points and
 * any other symbol are refused, and so is a word without any letter.
 *
 * Leading and trailing white space is removed and each internal run becomes
 * one U+0020; the result is NFC. Case is kept as given, except that a name
 * whose cased letters are all upper case, or all lower case, is title-cased
 * word by word ("NGUYỄN VĂN AN" -> "Nguyễn Văn An"; unless title-casing the
 * result again would change it, which happens only for odd non-Vietnamese
 * sequences: those are kept as given). The result is at most
 * NAMES_CN_MAX_CHARS code points and NAMES_CN_MAX_BYTES bytes, otherwise the
 * name is refused.
 *
 * On success writes the NUL-terminated cn to `out` (`outsz` bytes;
 * NAMES_CN_BUFSZ is always enough) and returns 0. On error returns -1 and
 * writes a message naming the field "full_name" to `err` (may be NULL).
 * The function is idempotent: normalising its own output returns it unchanged.
 */
int names_normalize(const char *in, size_t len, char *out, size_t outsz,
    char *err, size_t errlen);

/*
 * Split a name produced by names_normalize into its parts (see struct
 * person_name): family = first word, given = last word, middle = the words
 * between. For a one-word name, given, sn and given_name are that word and
 * family and middle are empty. `normalized` must be NUL-terminated, non-empty
 * and at most NAMES_CN_MAX_BYTES bytes; it is not normalised again.
 * Returns 0, or -1 with a message in `err` (may be NULL).
 */
int names_split(const char *normalized, struct person_name *out,
    char *err, size_t errlen);

/*
 * Fold UTF-8 text to the login alphabet: NFD, drop combining marks, map
 * đ/Đ to d, lower-case ASCII letters, keep only [a-z0-9]. Everything else —
 * spaces, punctuation, and letters that do not decompose to ASCII (ø, ß,
 * Cyrillic, …) — is dropped, not guessed. The result may be empty.
 *
 * `utf8` is NUL-terminated, at most NAMES_INPUT_MAX bytes. Writes the
 * NUL-terminated result to `out` and returns 0; returns -1 (with `out` set
 * to "" when outsz > 0) for invalid UTF-8, over-long input, or a result that
 * does not fit in `outsz` bytes.
 */
int names_fold_ascii(const char *utf8, char *out, size_t outsz);

/*
 * The words of a name folded for searching, as provdNameWords holds them:
 * each space-separated word of utf8 through names_fold_ascii ("Nguyễn Văn
 * An" -> "nguyen", "van", "an"); words that fold to nothing are dropped,
 * repeats kept once.  Writes up to max words of NAMES_WORD_BUFSZ bytes to
 * out and returns how many, or -1 for invalid UTF-8 or over-long input.
 * The one folding that names are written and searched with.
 */
#define NAMES_WORD_BUFSZ 64
#define NAMES_WORDS_MAX  16
int names_fold_words(const char *utf8, char out[][NAMES_WORD_BUFSZ], size_t max);

/*
 * The default login base of a full name: fold(given) followed by the first
 * letter of fold(family) and of each fold(middle) word ("Nguyễn Văn An" ->
 * "annv"). `full_name` is NUL-terminated and is normalised first, so raw HR
 * input (NFD, capitals, stray spaces) is fine. A word that folds to nothing
 * contributes nothing. The base is cut to NAMES_BASE_MAX characters.
 *
 * Writes the base to `out` (NAMES_BASE_MAX + 1 bytes is enough) and returns
 * 0. Returns -1 with a message naming "full_name" if the name is refused by
 * names_normalize, if nothing foldable remains, or if the base would start
 * with a digit; the caller should then ask for an explicit login.
 */
int names_login_base(const char *full_name, char *out, size_t outsz,
    char *err, size_t errlen);

/*
 * The n-th login candidate for `base`: n = 1 gives the base itself, n >= 2
 * gives base followed by n in decimal ("annv", "annv2", "annv3", …).
 * The caller picks the lowest n that is free in the directory: search
 * (uid=<base>*) and pass the values found to names_lowest_free.
 *
 * `base` must satisfy names_login_valid and be at most NAMES_BASE_MAX
 * characters. Returns 0, or -1 if n is 0, the base is invalid, the result
 * would exceed NAMES_LOGIN_MAX characters or does not fit in `outsz` bytes.
 */
int names_login_candidate(const char *base, unsigned n, char *out,
    size_t outsz);

/*
 * Given every existing login that starts with `base` (`taken`, `ntaken`
 * NUL-terminated strings, e.g. the uid values of an LDAP search
 * (uid=<base>*)), return the lowest n >= 1 for which
 * names_login_candidate(base, n) is not taken. Comparison is ASCII
 * case-insensitive, as uid matching is in the directory. Values that are
 * not exactly base or base followed by a number >= 2 without leading zero
 * ("annvx", "annv02", "annv1") are ignored. NULL entries are ignored.
 *
 * Returns 0 only on error: invalid base, out of memory, or no candidate
 * within NAMES_LOGIN_MAX characters.
 */
unsigned names_lowest_free(const char *base, const char *const *taken,
    size_t ntaken);

/* True if `login` matches ^[a-z][a-z0-9]{0,39}$ (explicit --login values).
 * NULL is not valid. */
bool names_login_valid(const char *login);

#endif
