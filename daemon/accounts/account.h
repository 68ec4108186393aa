/*
 * account — mailbox accounts: the creation core shared by `user add` and
 * batch import, the account record every listing prints, and the
 * lifecycle rule (below) that moves an account's certificates with it.
 *
 * Entries live at uid=<login>,ou=people,<base>; their attributes come from
 * templates/account.ldif plus what provd sets itself (password hash,
 * pwdReset, aliases).  A create is one LDAP add, so it lands wholly or not
 * at all; the employee id (employeeNumber) is the idempotency key.
 */
#ifndef PROVD_ACCOUNT_H
#define PROVD_ACCOUNT_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "names.h"
#include "password.h"
#include "schema.h"

struct strset;

struct provd;
struct request;
struct rec;

/*
 * Lifecycle — the one account<->certificate rule: what an account's
 * certificates do when the account changes unit or state.  Every path that
 * changes them (user move, disable, enable, delete, purge, a batch row that
 * changes an account's unit) calls lifecycle_certs() — after its own write
 * succeeded, except purge and delete --now, which call it before removing
 * the entry so that a retry still finds the account — and adds the summary
 * to its reply:
 *
 *   LIFECYCLE_DISABLE  valid certificates go on hold (certificateHold,
 *                      hold cause "account")
 *   LIFECYCLE_DELETE   the same: held for the retention, so that
 *                      "user enable" within it is a whole undo
 *   LIFECYCLE_ENABLE   the holds the account caused are released; a hold
 *                      an officer placed ("cert revoke --reason
 *                      certificateHold") stays
 *   LIFECYCLE_PURGE    valid and held certificates are revoked, reason
 *                      cessationOfOperation (the entry is going away)
 *   LIFECYCLE_MOVE     valid and held certificates are revoked, reason
 *                      affiliationChanged (their subject names the old unit)
 *
 * A revoked certificate is never touched again (keyCompromise stays
 * keyCompromise).
 * done(ctx, status, summary) is called exactly once, always later from the
 * loop (never inside lifecycle_certs).  status is ST_OK or an ST_* error;
 * summary is a one-line text for the reply's `certificates` field ("no
 * certificates", "2 certificates on hold", ...), valid only during the call.
 * Running the same event twice converges: certificates already in the
 * target state are left alone, so a command retried after a partial failure
 * finishes the job.
 */
enum lifecycle_event {
	LIFECYCLE_DISABLE,
	LIFECYCLE_ENABLE,
	LIFECYCLE_DELETE,
	LIFECYCLE_MOVE,
	LIFECYCLE_PURGE,
};

typedef void lifecycle_done_fn(void *ctx, int status, const char *summary);

/* The certificate office's side (cert_lifecycle, and cert_lifecycle_preview
 * for --dry-run), set by main.c at start-up: this layer cannot name it. */
typedef void lifecycle_certs_fn(struct provd *pd, const char *login, enum lifecycle_event ev,
                                lifecycle_done_fn *done, void *ctx);
void lifecycle_set_certs(lifecycle_certs_fn *fn, lifecycle_certs_fn *preview);

/*
 * LIFECYCLE_MOVE, then the office's keys re-issued in the same run: every
 * certificate revoked here whose key the office made (PKCS #12) is issued
 * again under its profile with a new key of its type, naming the account
 * as it is now (the path of ca rollover --revoke-all --p12-dir,
 * cert_reissue: req gets the WIRE_SECRET records its --p12-dir writes).
 * Certificates from a CSR are only revoked.  done's summary adds
 * "; re-issued: NEWSERIAL,..." (and the failures).  req stays open until
 * done.  Set by main.c like lifecycle_set_certs.
 *
 * Crash-safe: each office key is revoked owing its successor (the mark
 * CERT_SUCCESSOR_OWED in provdCertRenewedBy, written with the revocation);
 * the successor names it (provdCertRenews) and then replaces the mark.
 * Called again for the same login after a crash anywhere in between, it
 * issues what is still owed, links a successor already recorded instead of
 * issuing a second, and does not revoke that successor: exactly one
 * successor per revoked certificate.
 */
typedef void lifecycle_reissue_fn(struct request *req, const char *login,
                                  lifecycle_done_fn *done, void *ctx);
void lifecycle_set_reissue(lifecycle_reissue_fn *fn);
void lifecycle_move_reissue(struct request *req, const char *login, lifecycle_done_fn *done,
                            void *ctx);

/* login must be a valid login (names_login_valid); it is copied.  Fatal
 * when lifecycle_set_certs was never called (a wiring bug).  A disable,
 * delete or enable also leaves its lock-state mark (lockmark.h). */
void lifecycle_certs(struct provd *pd, const char *login, enum lifecycle_event ev,
                     lifecycle_done_fn *done, void *ctx);

/* The same, nothing written: done gets what would change ("1 certificate
 * would be revoked (affiliationChanged): SERIAL"), for --dry-run. */
void lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                       lifecycle_done_fn *done, void *ctx);

/* "disable", "enable", "delete", "move", "purge". */
const char *lifecycle_event_name(enum lifecycle_event ev);

#define ACCOUNT_MAX_ALIASES 16
#define ACCOUNT_DN_MAX      512
#define ACCOUNT_MAIL_MAX    256

/* Raw input as typed or read from CSV; account_create validates all of it. */
struct account_input {
	const char *full_name;
	const char *unit;
	const char *employee_id;
	const char *title;        /* NULL or "" = none */
	const char *phone;
	const char *login;        /* NULL = generate from the name */
	bool        login_planned; /* login was chosen by a batch's planner (or read
	                              from its plan): up to NAMES_LOGIN_MAX
	                              characters, a suffix included */
	const char *login_fallback; /* with login: NULL refuses a login taken by
	                              the time of the write; else the base whose
	                              lowest free suffix is used instead (another
	                              writer, e.g. the other site's provd, took
	                              it after the batch planned it) */
	const char *quota;        /* NULL = configured default */
	const char *aliases[ACCOUNT_MAX_ALIASES];
	size_t      naliases;
	const char *mail;         /* NULL = <login>@<domain> */
	bool        must_change;  /* pwdReset: TRUE (always for generated passwords) */
	const char *password_hash; /* NULL: generate a password.  Else a userPassword
	                              value kept from an absorbed directory, whose
	                              scheme the caller has checked (slapd and
	                              Dovecot both verify it): written as it is, no
	                              password generated, no pwdReset */
	const char *password;     /* NULL: generate the initial password; else
	                           * this one (batch.c: a row made again, with the
	                           * password its credentials line already gave) */

	/* Batch import: an existing employee id is compared and updated instead
	 * of refused; title/phone/quota NULL means "not given, leave as is",
	 * "" means "remove". */
	bool        upsert;
	bool        allow_update; /* false: an update is refused (onboarder role) */
	bool        dry_run;      /* plan only: write nothing, predict the login */
	struct strset *planned;   /* dry run: logins planned earlier in the batch
	                             (treated as taken; the new one is added) */
	bool        known_free;   /* with login and neither mail nor aliases: the
	                             caller's one search of the whole directory
	                             (batch.c's prefetch) found neither this
	                             employee id nor the login as a login or an
	                             address, so the search before the add is left
	                             out.  In-flight claims are checked as ever; an
	                             add the directory refuses (the login, or a
	                             duplicate the unique overlay sees) goes back
	                             to the search; the check after the add looks
	                             for the employee id and the address, so what
	                             another writer made meanwhile is still found */
};

enum account_action {
	ACCOUNT_REJECTED,
	ACCOUNT_CREATED,
	ACCOUNT_UPDATED,
	ACCOUNT_UNCHANGED,
};

const char *account_action_name(enum account_action a, bool dry_run);

struct account_result {
	int  status;                         /* ST_OK or an ST_* error */
	char msg[512];                       /* error text naming the field */
	char login[NAMES_LOGIN_BUFSZ];
	char mail[ACCOUNT_MAIL_MAX];
	char dn[ACCOUNT_DN_MAX];
	char password[PASSWORD_GENERATED_BUFSZ];  /* the generated password */
	char expires[16];                    /* its pwdEndTime, "" when none */
	bool outcome_unknown;                /* the directory went away mid-write */
	enum account_action action;
	char changes[256];                   /* updated attributes, comma separated */
};

/* done is called exactly once, from the loop (never inside account_create).
 * res is valid only during the call; the callee must wipe nothing — the
 * password is wiped after done returns. */
typedef void account_done_fn(void *ctx, struct account_result *res);

void account_create(struct provd *pd, const struct account_input *in,
                    account_done_fn *done, void *ctx);

/* Follow the directory's writes for the login hints (account.c), after
 * dir_new; account_stop frees them. */
void account_start(struct provd *pd);
void account_stop(void);

/* Planning with no directory: `provd bootstrap` (bootstrap.h) makes the
 * entries of a first load with every rule account_create applies.
 *
 * account_plan_offline validates in as account_create does (required
 * fields, name, unit, title, phone, quota, login, the address policy) and
 * then decides against `o` instead of a directory search: the accounts
 * planned before this one with the same `o` (their logins, local parts,
 * addresses and employee ids), which it extends by this account.  Login candidates are tried in the same order as online,
 * so a file planned here gets the logins an online import of it into an
 * empty directory would.  Never NULL; the
 * outcome is in account_plan_result (status ST_OK and action CREATED, or
 * an error status and message; login, mail and dn when planned).
 * account_plan_hash generates the password and hashes it (any thread;
 * touches only the plan).  account_plan_entry builds the account's entry
 * as account_create would add it (now: the time the initial password's
 * deadline counts from); the caller frees it with template_entry_free.
 * account_plan_free wipes the password and hash and frees. */
struct account_plan;
struct account_offline;
struct template_entry;
/* What a load has planned so far (room for max_accounts). */
struct account_offline *account_offline_new(size_t max_accounts);
void account_offline_free(struct account_offline *o);
struct account_plan *account_plan_offline(struct provd *pd, const struct account_input *in,
                                          struct account_offline *o);
struct account_result *account_plan_result(struct account_plan *p);
bool account_plan_ok(const struct account_plan *p);
const char *account_plan_employee_id(const struct account_plan *p);
int account_plan_hash(struct account_plan *p);
int account_plan_entry(struct account_plan *p, time_t now, struct template_entry *entry,
                       char *err, size_t errlen);
void account_plan_free(struct account_plan *p);

/* The fields of an account record, in the order account_record writes
 * them: login, mail, name, employee_id, unit, unit_name, status, title,
 * phone, quota, aliases (comma separated), given_name, surname,
 * disabled_reason, delete_after, created, dn. */
enum account_field {
	AF_LOGIN, AF_MAIL, AF_NAME, AF_EMPLOYEE, AF_UNIT, AF_UNIT_NAME, AF_STATUS,
	AF_TITLE, AF_PHONE, AF_QUOTA, AF_ALIASES, AF_GIVEN, AF_SURNAME, AF_REASON,
	AF_DELETE, AF_CREATED, AF_DN,
	AF_N
};
#define ACCOUNT_FIELDS_ALL ((1u << AF_N) - 1)   /* a set: bit 1 << AF_* */
#define ACCOUNT_FIELDS_MAX 64                   /* names in one list */

/* The set of fields named by list[0..len) ("login,name,status": names of
 * account_record's fields, comma separated, repeats allowed, at most
 * ACCOUNT_FIELDS_MAX): 0, or -1 with err naming the first name that is no
 * field (sanitized) and listing the fields. */
int account_fields_parse(const char *list, size_t len, unsigned *fields, char *err,
                         size_t errlen);

/* The attributes of schema_account_attrs (schema.h) the fields in the set
 * fields are made of, into attrs (NULL-terminated, in schema order); "1.1"
 * (no attributes) when they need none (dn alone). */
void account_fields_attrs(unsigned fields, const char *attrs[SA_N + 1]);

/* Append the fields in the set fields (ACCOUNT_FIELDS_ALL: all) of an
 * account entry, read with account_fields_attrs(fields) or
 * schema_account_attrs, to r, in account_field order.  Every record has every
 * field of the set; a value the entry lacks is empty. */
void account_record(struct rec *r, struct provd *pd, LDAP *ld, LDAPMessage *e,
                    unsigned fields);

/* An entry's state and what an LDAP result means: schema.h
 * (account_state_read, schema_status_of_ldap). */

/* Handlers: `user add`, `user show` (account.c), `user list`
 * (account_list.c). */
struct request;
void account_add(struct request *req);
void account_show(struct request *req);
void account_list(struct request *req);

#endif
