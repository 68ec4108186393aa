/*
 * unitcount — the accounts of each unit, by state (active, disabled,
 * deleted), kept current for `report units` so that it counts nothing.
 *
 * Counted once when the directory comes up and every UNITCOUNT_REFRESH_MS
 * after that (what other writers did: the other site's provd, ldapadd),
 * with one search of every account's DN, departmentNumber,
 * pwdAccountLockedTime and provdDeleteAfter; between counts every write
 * to an account that the directory confirms to provd (dir_on_write) is
 * followed: an add, a delete, a modify of the unit, the lock or the
 * retention mark (move, disable, enable, delete, purge, batches,
 * reorganisations).  Each account is kept as the 64-bit hash of its DN
 * (lower case), its unit and two flags: 16 bytes, two slots an account.
 * While a count runs, its own table follows the writes too, and replaces
 * the kept one when it ends: an account the count has not read yet it
 * reads as it is.  (A modify confirmed before the count's read of the same
 * account is sent, but after that read, leaves the old state until the
 * next count.)  A modify by provd of an account not counted makes the
 * counts unknown until a count UNITCOUNT_RETRY_MS later; until a count has
 * ended the counts are not known.
 */
#ifndef PROVD_UNITCOUNT_H
#define PROVD_UNITCOUNT_H

#include <stdbool.h>

struct provd;

/* Follow the directory's writes (before dir_start), count again now (the
 * directory came up), stop (free everything). */
void unitcount_start(struct provd *pd);
void unitcount_refresh(struct provd *pd);
void unitcount_stop(struct provd *pd);

enum { UNITCOUNT_ACTIVE, UNITCOUNT_DISABLED, UNITCOUNT_DELETED, UNITCOUNT_STATES };

typedef void unitcount_fn(void *ctx, const char *unit, const unsigned long n[UNITCOUNT_STATES]);

/* false when the counts are not known; else true after fn was called
 * once for every departmentNumber that has accounts ("" for accounts
 * without one), with its accounts by state. */
bool unitcount_each(unitcount_fn *fn, void *ctx);

#endif
