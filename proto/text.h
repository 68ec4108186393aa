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

/*
 * The one rule for showing untrusted text (client input, CSV, templates,
 * the signer's messages) in a log line, an audit record or an error
 * message: s[0..n) is copied to out with every character that is not
 * shown as itself replaced by one '?': a byte that is not part of valid
 * UTF-8, a control character (C0, DEL, C1) and a mark that reorders or
 * breaks a line (U+200E, U+200F, U+2028..U+202E, U+2066..U+2069).
 * Printable UTF-8 (Vietnamese names) and quotes are kept.  When out is too
 * small the copy stops at a character boundary and ends in "...".  out is
 * always NUL-terminated (nothing is written when outsz is 0).
 */
void text_sanitize(const char *s, size_t n, char *out, size_t outsz);

/* s in ASCII lower case into buf (len > 0), cut to fit; returns buf.  For
 * the keys compared without case: logins, addresses, employee ids, DNs. */
const char *text_lower_ascii(char *buf, size_t len, const char *s);

#endif
