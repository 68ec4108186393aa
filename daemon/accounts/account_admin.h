/*
 * account_admin — changing existing accounts: modify, move, disable,
 * enable, delete, purge (account_admin.c), and the lookup every command
 * that changes one account starts with (also used by passwd.c and alias.c).
 *
 * Every change of an account is one LDAP modify (or delete) of
 * uid=<login>,ou=people,<base>; commands that change the account's status
 * or unit then call lifecycle_certs() and report its summary in the
 * reply's `certificates` field.
 */
#ifndef PROVD_ACCOUNT_ADMIN_H
#define PROVD_ACCOUNT_ADMIN_H

#include <stdbool.h>

#include "account.h"
#include "names.h"
#include "units.h"

struct request;

/* What `user purge` then asks of the certificate office (escrow_expire:
 * escrow copies past their retention), set by main.c at start-up.
 * done(ctx, dropped, failed) runs once, later, on the loop.  Unset: no
 * such step. */
typedef void purge_certs_done_fn(void *ctx, size_t dropped, size_t failed);
typedef void purge_certs_fn(struct provd *pd, purge_certs_done_fn *done, void *ctx);
void account_purge_set_certs(purge_certs_fn *fn);

/* What a write command needs to know about the account it changes. */
struct acct_target {
	char          dn[ACCOUNT_DN_MAX];
	char          login[NAMES_LOGIN_BUFSZ];
	char          mail[ACCOUNT_MAIL_MAX];
	char          unit[UNIT_CODE_MAX];
	char          status[16];         /* active, disabled, deleted */
	char          delete_after[32];   /* "" unless deleted */
	char        **aliases;            /* mailLocalAddress values, NULL-terminated
	                                     array or NULL; owned by the lookup */
};

/* Called with the account found; t is valid only during the call. */
typedef void acct_found_fn(struct request *req, void *ctx, const struct acct_target *t);
/* Called instead of acct_found_fn when the lookup failed, to free ctx. */
typedef void acct_drop_fn(void *ctx);

/*
 * Find the account `login` (req's operand, unchecked) for a change by req:
 * refuses a malformed login (ST_INVALID), an unknown one (ST_NOTFOUND,
 * "no account 'x'") and a caller without the admin role over the account's
 * unit (ST_PERMISSION).  In each of those cases, and when the directory
 * fails, req is finished and `found` is not called; otherwise found() is
 * called once, later from the loop, and must finish req itself.  When
 * found is not called, drop(ctx) is (drop may be NULL).  found always runs
 * later from the loop; a malformed login is refused (req finished, ctx
 * dropped) before acct_lookup returns, so call it last.
 */
void acct_lookup(struct request *req, const char *login, acct_found_fn *found,
                 acct_drop_fn *drop, void *ctx);

/*
 * After a successful write: run lifecycle_certs(login, ev), then send one
 * record (login, status, certificates) and finish req with ST_OK and `msg`
 * (or with the lifecycle's error status, saying the account change itself
 * was made).  status_word may be NULL (no status field).
 */
void acct_finish_with_certs(struct request *req, const char *login, enum lifecycle_event ev,
                            const char *status_word, const char *msg);

/*
 * The one deletion of an account (with the retention), for `user delete`
 * and `batch import --sync`: lock it (pwdAccountLockedTime), record when
 * (provdDisabledAt) and until when it is kept (provdDeleteAfter, now +
 * mail.retention_days), then lifecycle_certs(LIFECYCLE_DELETE).  An
 * account already deleted keeps its date; only its certificates are made
 * to follow, so a retry converges.  With dry_run nothing is written and
 * the certificates are previewed.  The caller has checked the permission.
 * done(ctx, login, status, msg, certs) runs once, later, from the loop: status is
 * ST_OK or an ST_* error, msg says what happened ("deleted annv: disabled
 * now, purged after ..."), certs is the certificate summary ("" when the
 * account change itself failed); both valid only during the call.
 */
typedef void acct_delete_done_fn(void *ctx, const char *login, int status, const char *msg,
                                 const char *certs);
void acct_delete(struct provd *pd, const struct acct_target *t, bool dry_run,
                 acct_delete_done_fn *done, void *ctx);

/* Replace provdNameWords with the folded words of cn (names_fold_words)
 * in m; none when cn folds to nothing. */
struct dir_mods;
void acct_name_words_mod(struct dir_mods *m, const char *cn);

/* Entries written before provdNameWords existed get it (cn folded), in the
 * background; the directory's schema must already know the attribute
 * (templates/schema/provd.ldif).  Called when the directory comes up; a
 * second call while one runs does nothing. */
void acct_upgrade_name_words(struct provd *pd);

/* The current time as an LDAP GeneralizedTime "YYYYMMDDHHMMSSZ", plus
 * `days` days.  out must hold 16 bytes. */
void acct_gentime(char *out, size_t outsz, unsigned days);

/* Handlers: `user modify`, `move`, `disable`, `enable`, `delete`, `purge`. */
void account_modify(struct request *req);
void account_move(struct request *req);
void account_disable(struct request *req);
void account_enable(struct request *req);
void account_delete(struct request *req);
void account_purge(struct request *req);

#endif
