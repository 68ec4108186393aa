/*
 * lifecycle — the one account<->certificate rule: what an account's
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
#ifndef PROVD_LIFECYCLE_H
#define PROVD_LIFECYCLE_H

struct provd;

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

#endif
