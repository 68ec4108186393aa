/*
 * ldifread — a streaming reader for LDIF content records (RFC 2849), for
 * absorbing another directory's export (`batch import --from-ldif`).
 *
 * A push parser like csv.h: the caller feeds the input in chunks of any
 * size and gets one callback per record (a blank line ends one).  Lines are
 * unfolded and values decoded (base64 "attr:: ...") by libldap's own LDIF
 * line reader (ldif_getline, ldif_parse_line2); comments are skipped; a
 * "version: 1" line before the first record is accepted.  All memory is
 * allocated in ldifread_new and never grows.
 *
 * The input is hostile.  Refused, as an error on the record (delivered with
 * `error` set and a message; reading goes on with the next record): a
 * record over LDIFREAD_MAX_RECORD raw bytes, more than LDIFREAD_MAX_ATTRS
 * values, a value over LDIFREAD_MAX_VALUE bytes, a NUL byte (raw or
 * decoded), a URL value ("attr:< file:///...": never fetched), a change
 * record (changetype), a first line that is not "dn:", a line without ':'.
 */
#ifndef PROVD_LDIFREAD_H
#define PROVD_LDIFREAD_H

#include <stddef.h>
#include <stdint.h>

#define LDIFREAD_MAX_RECORD (64u * 1024) /* raw bytes of one record */
#define LDIFREAD_MAX_ATTRS  256          /* values in one record */
#define LDIFREAD_MAX_VALUE  8192         /* bytes of one decoded value */

struct ldif_attr {
	const char *name;  /* as written (options kept), NUL-terminated */
	const char *value; /* decoded, NUL-terminated, no NUL inside */
	size_t len;
};

struct ldif_entry {
	uint64_t num;                  /* 1 = the first record */
	uint64_t line;                 /* the line it starts on */
	const char *dn;                /* "" when the record has an error */
	const struct ldif_attr *attrs; /* valid only during the callback */
	size_t nattrs;
	const char *error; /* NULL, or why the record is refused */
};

/* Non-zero stops the reader (ldifread_feed returns it). */
typedef int ldifread_fn(const struct ldif_entry *e, void *ctx);

struct ldifread;

/* Never NULL (out of memory ends the process: xmalloc.h). */
struct ldifread *ldifread_new(void);
void ldifread_free(struct ldifread *r);

/* Feed n bytes; records complete in them are delivered.  0, or the
 * callback's non-zero value (nothing more is delivered after it). */
int ldifread_feed(struct ldifread *r, const char *p, size_t n, ldifread_fn *cb, void *ctx);
/* End of input: the last record (without a blank line after it). */
int ldifread_finish(struct ldifread *r, ldifread_fn *cb, void *ctx);

/* Records delivered so far. */
uint64_t ldifread_records(const struct ldifread *r);

#endif
