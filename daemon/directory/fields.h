/*
 * fields — validation of the values people type: employee ids, phones,
 * titles, mail addresses, quotas.  Each check returns 0, or -1 with a
 * message in err that names the field ("phone: ...").  Shared by the
 * single-account commands and batch import so both refuse the same things.
 */
#ifndef PROVD_FIELDS_H
#define PROVD_FIELDS_H

#include <stddef.h>

#define FIELD_EMPLOYEE_ID_MAX 32
#define FIELD_TITLE_MAX       256   /* bytes */
#define FIELD_PHONE_MAX       24
#define FIELD_MAIL_MAX        254

/* [A-Za-z0-9._-], 1..32 characters. */
int field_employee_id(const char *s, char *err, size_t errlen);
/* Digits with an optional leading '+', spaces, dots, dashes; 6..15 digits.
 * Writes the normalised form (spaces/dots/dashes removed) to out. */
int field_phone(const char *s, char *out, size_t outsz, char *err, size_t errlen);
/* Valid UTF-8, no control characters, at most FIELD_TITLE_MAX bytes; trims
 * and collapses spaces into out. */
int field_title(const char *s, char *out, size_t outsz, char *err, size_t errlen);
/* local@domain, lower-cased into out: local part [a-z0-9._+-] (no leading,
 * trailing or double dot), domain labels [a-z0-9-].  name: field name used
 * in the message ("alias"). */
int field_mail(const char *name, const char *s, char *out, size_t outsz,
               char *err, size_t errlen);
/* "2G", "500M", "0" -> bytes. */
int field_quota(const char *s, unsigned long long *out, char *err, size_t errlen);

#endif
