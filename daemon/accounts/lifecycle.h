/*
 * lifecycle — what an account's certificates do when the account changes
 * state.  The account commands call lifecycle_certs() AFTER their own write
 * to the directory succeeded, and add the summary to their reply:
 *
 *   LIFECYCLE_DISABLE  valid certificates go on hold (certificateHold)
 *   LIFECYCLE_ENABLE   held certificates are released
 *   LIFECYCLE_DELETE   revoked, reason cessationOfOperation
 *   LIFECYCLE_MOVE     revoked, reason affiliationChanged
 *
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
};

typedef void lifecycle_done_fn(void *ctx, int status, const char *summary);

/* The certificate office's side (cert_lifecycle, and cert_lifecycle_preview
 * for --dry-run), set by main.c at start-up: this layer cannot name it. */
typedef void lifecycle_certs_fn(struct provd *pd, const char *login, enum lifecycle_event ev,
                                lifecycle_done_fn *done, void *ctx);
void lifecycle_set_certs(lifecycle_certs_fn *fn, lifecycle_certs_fn *preview);

/* login must be a valid login (names_login_valid); it is copied.  Fatal
 * when lifecycle_set_certs was never called (a wiring bug). */
void lifecycle_certs(struct provd *pd, const char *login, enum lifecycle_event ev,
                     lifecycle_done_fn *done, void *ctx);

/* The same, nothing written: done gets what would change ("1 certificate
 * would be revoked (affiliationChanged): SERIAL"), for --dry-run. */
void lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                       lifecycle_done_fn *done, void *ctx);

/* "disable", "enable", "delete", "move". */
const char *lifecycle_event_name(enum lifecycle_event ev);

#endif
