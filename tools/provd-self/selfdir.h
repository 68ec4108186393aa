/*
 * selfdir — the self-service page's conversations with slapd.
 *
 * Two identities: the page's own service identity (read-only search of a
 * few attributes of ou=people, and removal of pwdEndTime), and the person,
 * who binds with the current password and changes it with the LDAP
 * Password Modify extended operation (RFC 3062).  slapd's ppolicy overlay
 * then hashes the new password (olcPasswordHash), applies the policy's
 * quality and history checks and clears pwdReset itself.
 *
 * Each call opens its own connection and closes it before returning:
 * nothing is shared between requests or threads.  Blocking, with the
 * configured timeout; called from the HTTP server's per-connection threads.
 */
#ifndef PROVD_SELF_SELFDIR_H
#define PROVD_SELF_SELFDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SELFDIR_LOGIN_MAX 254
#define SELFDIR_URIS_MAX  2048    /* ldap.uri, the whole list */

struct selfdir_conf {
	const char *uri;          /* one or more LDAP URIs, space separated: the
	                           * same ordered list as provd's ldap.uris */
	const char *base;         /* directory base; people are ou=people,<base> */
	const char *bind_dn;      /* the page's service identity */
	const char *bind_pw;      /* its password (read from a file at start) */
	int         timeout;      /* seconds, for every operation */
};

/* What the page knows of a person before the password is checked. */
struct selfdir_person {
	char   dn[1024];
	char   login[64];
	char   mail[256];
	char   cn[520];
	bool   disabled;          /* pwdAccountLockedTime: SCHEMA_LOCKED_FOREVER */
	bool   initial;           /* pwdReset: TRUE (a password from provd) */
	time_t end_time;          /* pwdEndTime, 0 when none */
	char   end_value[24];     /* ... as the directory holds it */
};

enum selfdir_rc {
	SELFDIR_OK = 0,
	SELFDIR_NOT_FOUND,        /* no such login or address (or several) */
	SELFDIR_BAD_PASSWORD,     /* the bind with the current password failed */
	SELFDIR_POLICY,           /* slapd's policy refused the new password */
	SELFDIR_UNAVAILABLE,      /* slapd unreachable, timeout, other errors */
	SELFDIR_NOT_WRITER,       /* the provider that answers is not the one the
	                           * writer lease names: no change made */
};

/*
 * Find the person whose uid (no '@') or mail (with '@') is `login`
 * (ASCII, at most SELFDIR_LOGIN_MAX bytes; compared as slapd compares).
 * SELFDIR_OK fills *p; SELFDIR_NOT_FOUND for none or several.
 */
enum selfdir_rc selfdir_lookup(const struct selfdir_conf *c,
    const char *login, struct selfdir_person *p, char *err, size_t errlen);

/*
 * Bind as p->dn with `current`, then change the password to `next` with
 * the Password Modify operation on that connection — on the writing
 * provider: with several URIs, the first that answers must be the one the
 * writer lease cn=provd-writer,<base> names, as for provd; otherwise
 * SELFDIR_NOT_WRITER and nothing is changed (err says who writes).
 * On success remove the initial password's pwdEndTime with the service identity (best effort:
 * *end_time_left is set when that failed, so the caller can log it).
 * On SELFDIR_POLICY, `err` holds slapd's reason.  With `next` NULL only
 * the bind is made, on any provider: SELFDIR_OK means the current
 * password is right.
 */
enum selfdir_rc selfdir_change(const struct selfdir_conf *c,
    const struct selfdir_person *p, const char *current, const char *next,
    bool *end_time_left, char *err, size_t errlen);

#endif
