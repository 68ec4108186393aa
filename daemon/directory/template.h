/*
 * template — the account entry template (templates/account.ldif).
 *
 * The LDAP entry provd writes for a new account is described by a small
 * LDIF-like file, so that a site can add attributes or object classes
 * without rebuilding provd:
 *
 *   # comment
 *   objectClass: inetOrgPerson
 *   cn: {full_name}
 *   description: Staff of {unit_name}
 *    continued (a line starting with one space continues the previous one)
 *
 * Values may hold placeholders, replaced at expansion time:
 *   {login} {full_name} {given_name} {surname} {middle_name} {unit}
 *   {unit_name} {mail} {domain} {employee_id} {title} {phone} {quota}
 * A line in which a placeholder expands to "" is left out when it has
 * literal text besides, or when all its placeholders are empty (so optional
 * data such as title or phone simply drops its line). A line without
 * placeholders is always kept.
 *
 * Rules checked when the template is loaded (errors read "name:line: …"):
 *   - at most TEMPLATE_MAX_LINES attribute lines, TEMPLATE_MAX_LINE bytes
 *     per line (physical, and logical after unfolding), TEMPLATE_MAX_FILE
 *     bytes in all; UTF-8 text without control characters other than tab;
 *   - attribute names match ^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$;
 *   - no "dn:" line (provd names the entry uid=<login>,ou=people,<base>),
 *     no "attr::" base64 or "attr:<" URL values, no LDIF change records,
 *     none of the attributes provd sets itself (userPassword, pwdReset,
 *     pwdAccountLockedTime, provdState, provdDisabledReason,
 *     provdDisabledAt, provdDeleteAfter);
 *   - braces balanced, only the placeholders above, no empty value;
 *   - required: at least one objectClass line, one cn and one sn line, and
 *     exactly one each of "uid: {login}", "mail: {mail}" and
 *     "employeeNumber: {employee_id}" (these three without options).
 * Leading and trailing spaces of a value are not part of it.
 */
#ifndef PROVD_TEMPLATE_H
#define PROVD_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include <ldap.h>

#define TEMPLATE_MAX_LINES        64            /* attribute lines */
#define TEMPLATE_MAX_LINE         1024          /* bytes per line */
#define TEMPLATE_MAX_FILE         (64 * 1024)   /* bytes per file */
#define TEMPLATE_MAX_ATTR         64            /* bytes per attribute name */
#define TEMPLATE_MAX_VALUE        1024          /* bytes per expanded value */
/* Limits of an expanded entry (template lines plus template_entry_add). */
#define TEMPLATE_ENTRY_MAX_ATTRS  96
#define TEMPLATE_ENTRY_MAX_VALUES 64            /* values per attribute */

struct template;

/*
 * What the placeholders expand to. A NULL pointer is the same as "".
 * Strings are NUL-terminated, so none can carry a NUL byte into a value;
 * a value holding CR or LF, not valid UTF-8, or longer than
 * TEMPLATE_MAX_VALUE bytes makes template_expand fail. Only the
 * placeholders the template uses are looked at.
 */
struct template_values {
	const char *login;        /* uid, e.g. "annv" */
	const char *full_name;    /* cn, NFC, e.g. "Nguyễn Văn An" */
	const char *given_name;   /* givenName, e.g. "Văn An" */
	const char *surname;      /* sn (family name), e.g. "Nguyễn" */
	const char *middle_name;  /* e.g. "Văn"; often "" */
	const char *unit;         /* unit code, e.g. "so-noi-vu" */
	const char *unit_name;    /* unit name, e.g. "Sở Nội vụ" */
	const char *mail;         /* canonical address */
	const char *domain;       /* mail domain */
	const char *employee_id;  /* HR staff ID */
	const char *title;
	const char *phone;
	uint64_t quota;           /* bytes, 0 = unlimited; always expands */
};

/* One attribute of an expanded entry. */
struct template_attr {
	char *name;          /* as spelled in the template */
	char **values;       /* nvalues NUL-terminated strings, no duplicates */
	size_t nvalues;
};

/* An expanded entry: attributes grouped case-insensitively, values in
 * template order. Zero-initialise, or let template_expand do it. */
struct template_entry {
	struct template_attr *attrs;
	size_t nattrs;
};

/*
 * Parse a template held in memory (`len` bytes, no terminator needed).
 * `name` is used in error messages ("name:line: message"). On success
 * stores a new template in *out (free with template_free) and returns 0;
 * otherwise returns -1 with a message in `err` (may be NULL) and *out NULL.
 */
int template_parse(const char *buf, size_t len, const char *name,
    struct template **out, char *err, size_t errlen);

/* Read and parse the template file at `path` (a regular file of at most
 * TEMPLATE_MAX_FILE bytes). Same results as template_parse. */
int template_load(const char *path, struct template **out,
    char *err, size_t errlen);

/* Free a template (NULL is accepted). */
void template_free(struct template *t);

/* Number of attribute lines in a template. */
size_t template_line_count(const struct template *t);

/*
 * Expand the template for one account. `out` is overwritten (not freed
 * first). On success returns 0 and `out` owns the entry: free it with
 * template_entry_free. On error returns -1, `out` is left empty, and `err`
 * names the placeholder or attribute at fault ("placeholder {title}:
 * contains a line break", "sn: required value is empty", …); the message
 * never quotes the value.
 */
int template_expand(const struct template *t,
    const struct template_values *v, struct template_entry *out,
    char *err, size_t errlen);

/*
 * Add one value to an entry, grouped with the attribute of the same name
 * (case-insensitive); a value already present is not added twice. For the
 * attributes provd sets itself (password hash, pwdReset, …). `attr` must be
 * a valid attribute name; `value` non-empty, without CR or LF, at most
 * TEMPLATE_MAX_VALUE bytes. The value is copied. Returns 0, or -1 with a
 * message in `err` (the entry is unchanged).
 */
int template_entry_add(struct template_entry *e, const char *attr,
    const char *value, char *err, size_t errlen);

/* The attribute named `attr` (case-insensitive), or NULL. */
const struct template_attr *template_entry_find(const struct template_entry *e,
    const char *attr);

/* Free what an entry holds and leave it empty (NULL is accepted). */
void template_entry_free(struct template_entry *e);

/*
 * Add the entry to m (dir.h's LDAPMod builder) for dir_add: one
 * LDAP_MOD_ADD per attribute, values copied.  Returns 0, or -1 (with a
 * message in `err`) when the entry is empty.
 */
struct dir_mods;
int template_entry_mods(const struct template_entry *e, struct dir_mods *m,
    char *err, size_t errlen);

#endif
