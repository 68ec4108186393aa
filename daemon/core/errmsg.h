/*
 * errmsg — filling the caller's error buffer.  The validators and parsers
 * (csv, names, password, template) report an error as text in a buffer the
 * caller owns (err, errlen); these helpers write it and quote the
 * offending input safely.
 */
#ifndef PROVD_ERRMSG_H
#define PROVD_ERRMSG_H

#include <stddef.h>

/* printf into err[0..errlen), always NUL-terminated and truncated when
 * long.  Does nothing when err is NULL or errlen is 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy untrusted bytes s[0..len) for quoting in an error message: printable
 * ASCII stays, any other byte and the single quote become '?'; when out is
 * too small the copy ends in "...".  out is always NUL-terminated (outsz
 * must be at least 1). */
void errmsg_printable(const char *s, size_t len, char *out, size_t outsz);

#endif
