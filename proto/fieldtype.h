/*
 * fieldtype — the type of each reply field, for provctl's formatters.
 *
 * provd sends every value as a string; this one table says which field
 * names carry numbers, booleans, byte sizes or times, so `-f json` prints
 * typed values, the table shows sizes as people type them (5G) and every
 * format prints times one way (ISO 8601 UTC).  A value that does not parse
 * as its declared type stays a string (a field name may be shared by two
 * kinds of record, e.g. "created": a count in a batch summary, a time on
 * an account).
 */
#ifndef PROVD_FIELDTYPE_H
#define PROVD_FIELDTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* FT_SIZE: a limit in bytes, 0 meaning none (the mailbox quota). */
enum field_type { FT_STRING, FT_INT, FT_BOOL, FT_SIZE, FT_TIME };

/* The declared type of field name (FT_STRING when not listed). */
enum field_type fieldtype_of(const char *name);

/* Is s[0..n) an LDAP GeneralizedTime "YYYYMMDDHHMMSSZ"? */
bool fieldtype_is_gtime(const char *s, size_t n);

/*
 * Times as people type them: "YYYYMMDDHHMMSSZ", "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM[:SS][Z]" (a space may replace the T), all UTC.
 * Writes the ISO form "YYYY-MM-DDTHH:MM:SSZ" to iso (21 bytes) and the
 * GeneralizedTime form to gtime (16 bytes); either may be NULL.
 * 0, or -1 when s is neither form or names no valid date.
 */
int fieldtype_parse_time(const char *s, char iso[21], char gtime[16]);

/* Parse "2G", "500M", "1024", "0" into bytes (K, M, G, T are powers of
 * 1024; a trailing B is allowed); "unlimited" is 0, the size that means no
 * limit (a mailbox quota of 0: Dovecot's quota_rule bytes=0).  0 or -1. */
int fieldtype_parse_size(const char *s, unsigned long long *out);

/* Parse a duration: a number with a unit s, m, h or d ("90s", "12h",
 * "7d"); a bare number is days ("30").  At most 36500 days.  0 or -1. */
int fieldtype_parse_duration(const char *s, unsigned long *seconds);

/* A time for text people read (status messages): iso filled with the ISO
 * form of s and returned when s is a time, s itself otherwise ("" stays ""). */
const char *fieldtype_time_text(const char *s, char iso[21]);

/*
 * Append the value of field name for output:
 *   json   typed: numbers and booleans bare, empty values null, times ISO;
 *   human  times ISO, sizes as "5G"/"500M" when exact, 0 as "unlimited" (table);
 *   plain  times ISO, everything else as sent (tab).
 * Strings are appended raw (the caller escapes for its format, except in
 * json mode, where this appends the quoted JSON value).  0 or -1.
 */
enum fieldtype_mode { FIELDTYPE_JSON, FIELDTYPE_HUMAN, FIELDTYPE_PLAIN };
int fieldtype_render(struct buf *out, enum fieldtype_mode mode, const char *name,
                     const char *v, size_t n);
/* The same for a value of type t (fieldtype_of(name) looked up once, for a
 * formatter printing many records of the same fields). */
int fieldtype_render_as(struct buf *out, enum fieldtype_mode mode, enum field_type t,
                        const char *v, size_t n);

#endif
