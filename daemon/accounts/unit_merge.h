/*
 * unit_merge — the unit primitives a reorganisation is made of, also as
 * commands: `unit merge A B ... --into C` and `unit remove CODE`.
 *
 * unit merge, in an order that a run broken anywhere converges on when run
 * again:
 *   1. C keeps A, B, ... (and the codes they kept themselves) as
 *      provdUnitAlias, so A@domain still reaches C (Postfix:
 *      etc/postfix/ldap-units-aliases.cf) and the address policy refuses A
 *      as anyone's address from now on;
 *   2. every account of A, B, ... moves to C, and its certificates follow
 *      the one account<->certificate rule (lifecycle_certs, LIFECYCLE_MOVE);
 *   3. the sub-units of A, B, ... get C as their parent;
 *   4. the entries of A, B, ... are deleted; the unit cache is reloaded.
 * A source that no longer exists but is already an alias of C was merged
 * by an earlier run and is skipped.  The caller needs the admin role over
 * C (dispatch, SCOPE_UNIT on --into) and over every source (asked here).
 * --dry-run lists per source the accounts and sub-units that would move.
 *
 * unit remove deletes a unit entry that has no accounts (of any status)
 * and no sub-units: it is refused (ST_CONFLICT) otherwise, naming how
 * many.  A unit that keeps aliases cannot be removed either (its old
 * addresses would stop delivering): merge it into another instead.
 *
 * Both finish their request with request_done() exactly once.
 */
#ifndef PROVD_UNIT_MERGE_H
#define PROVD_UNIT_MERGE_H

struct request;

void unit_merge(struct request *req);
void unit_remove(struct request *req);

#endif
