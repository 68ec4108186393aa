/*
 * pwrules — the rules a new password must meet on the self-service page,
 * the same ones the page shows before the person types.
 *
 * Following NIST SP 800-63B §5.1.1.2: a minimum length, no composition
 * rules, and a refusal of passwords that are common or derived from the
 * person's own login or name.  Comparisons are made on the text folded to
 * [a-z0-9] (names_fold_ascii), so "NguyenVanAn2024" contains the name
 * word "nguyen" and "Mật khẩu" is the common "matkhau".
 */
#ifndef PROVD_SELF_PWRULES_H
#define PROVD_SELF_PWRULES_H

#include <stddef.h>

#define PWRULES_MAX_BYTES   128    /* longest password accepted, in bytes */
#define PWRULES_MIN_DEFAULT 10     /* default minimum length, code points */
#define PWRULES_LIST_MAX    100000 /* entries read from the common list */

/* Why a password was refused; PWR_OK when it was not. */
enum pwrule {
	PWR_OK = 0,
	PWR_TOO_SHORT,     /* fewer than min_length code points */
	PWR_TOO_LONG,      /* more than PWRULES_MAX_BYTES bytes */
	PWR_BAD_TEXT,      /* not UTF-8, or holds control characters */
	PWR_SAME,          /* equal to the current password */
	PWR_HAS_LOGIN,     /* contains the login (or the address's local part) */
	PWR_HAS_NAME,      /* contains a word of the person's name */
	PWR_COMMON,        /* one of the common passwords */
};

struct pwrules;

/*
 * Load the rules: `min_length` code points (>= 8), and the common-password
 * list at `list_path` (one password per line, '#' comments; folded on
 * load; at most PWRULES_LIST_MAX entries).  Returns a new object, or NULL
 * with a message naming the file and line in `err`.
 */
struct pwrules *pwrules_load(unsigned min_length, const char *list_path,
    char *err, size_t errlen);
void pwrules_free(struct pwrules *r);
unsigned pwrules_min_length(const struct pwrules *r);
size_t pwrules_list_size(const struct pwrules *r);

/*
 * Check `password` (NUL-terminated) for a person.  `current` may be NULL
 * (not compared); `login` and `full_name` may be NULL or "" (those rules
 * are then skipped: the page checks them once it knows the person).
 * Name words shorter than three letters after folding are not compared.
 * Never logs and never keeps the password.
 */
enum pwrule pwrules_check(const struct pwrules *r, const char *password,
    const char *current, const char *login, const char *full_name);

#endif
