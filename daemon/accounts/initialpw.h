/*
 * initialpw — initial passwords expire.
 *
 * A password provd generates (user add, batch import, user passwd
 * --generate), or one set with --must-change, is an initial password: the
 * entry carries pwdReset: TRUE and, when mail.initial_password_days is not
 * 0, pwdEndTime: the deadline.  slapd's ppolicy refuses every bind with it
 * after the deadline (pwdEndTime holds even while pwdReset is set, which
 * pwdMaxAge does not).  Dovecot in lookup mode does not bind, so the sweep
 * here removes an expired initial password itself (userPassword deleted,
 * pwdEndTime kept as the record of when); until an admin issues a new one
 * nobody logs in with it anywhere.
 *
 * When the person changes the password (the self-service page, with the
 * Password Modify operation), slapd clears pwdReset; the page lifts
 * pwdEndTime, and the sweep lifts any pwdEndTime left on an entry whose
 * pwdReset is gone, so a password of one's own never inherits a deadline.
 *
 * Every sweep modify is guarded by the exact pwdEndTime value it read
 * (deleted and added back in the same modify): a password reissued
 * meanwhile has a new deadline, so the stale modify fails and changes
 * nothing.  Removing an expired password also asserts pwdReset=TRUE (the
 * assertion control, RFC 4528): a password changed by its owner an
 * instant before is never touched.
 */
#ifndef PROVD_INITIALPW_H
#define PROVD_INITIALPW_H

#include <ldap.h>
#include <time.h>

#include "pkitime.h"

struct provd;
struct config;

enum initialpw_state {
	INITIALPW_OWN,         /* no pwdReset: the person's own password */
	INITIALPW_INITIAL,     /* pwdReset, deadline not reached (or none) */
	INITIALPW_EXPIRED,     /* pwdReset, deadline reached */
};

/* The deadline of an initial password made at `now`, as GeneralizedTime in
 * `out`; "" when initial passwords do not expire.  0, or -1 when the clock
 * is out of range. */
int initialpw_deadline(const struct config *cfg, time_t now,
    char out[PKITIME_LDAP_LEN + 1]);

/* The state of an entry read with pwdReset and pwdEndTime; `now` is the
 * current time as GeneralizedTime. */
enum initialpw_state initialpw_state(LDAP *ld, LDAPMessage *e, const char *now);

/* Start the periodic sweep (every mail.initial_password_sweep seconds, and
 * once soon after start-up) and stop it.  initialpw_stop waits for
 * nothing: an operation in flight finishes into a sweep marked stopped. */
void initialpw_start(struct provd *pd);
void initialpw_stop(struct provd *pd);

#endif
