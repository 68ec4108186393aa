/*
 * text — escaping of strings for the formats provd and provctl emit.
 */
#ifndef PROVD_TEXT_H
#define PROVD_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Append s[0..n) as a JSON string (with quotes).  Bytes that are not valid
 * UTF-8 become U+FFFD; control characters are \u-escaped.  0 or -1. */
int json_put_string(struct buf *out, const char *s, size_t n);

/* Append s for a tab-separated line: tab, CR, LF and backslash become \t, \r,
 * \n and \\.  0 or -1. */
int tsv_put_field(struct buf *out, const char *s, size_t n);

/* Number of terminal columns s occupies (UTF-8 code points; combining marks
 * count zero).  Used to align tables of Vietnamese text. */
size_t text_width(const char *s, size_t n);

/* Copy s into out (size outsz), replacing control characters by '?', for
 * quoting client input in log messages. Always NUL-terminates. */
void text_sanitize(const char *s, size_t n, char *out, size_t outsz);

#endif
