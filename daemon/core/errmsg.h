/*
 * errmsg — filling the caller's error buffer.  The validators and parsers
 * (csv, names, password, template) report an error as text in a buffer the
 * caller owns (err, errlen); errmsg_set writes it.
 */
#ifndef PROVD_ERRMSG_H
#define PROVD_ERRMSG_H

#include <stddef.h>

/* printf into err[0..errlen), always NUL-terminated and truncated when
 * long.  Does nothing when err is NULL or errlen is 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Untrusted input quoted in a message goes through text_sanitize
 * (proto/text.h), the one rule for showing it. */

#endif
