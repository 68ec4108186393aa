/*
 * slots — a bounded number of long-running jobs (listings, journal reads),
 * with a share per uid, so that one caller cannot hold them all.
 *
 * Zero-initialise a struct slots; loop thread only.  The per-uid share is
 * counted over the uids currently holding slots (at most SLOTS_MAX of them,
 * as there are at most SLOTS_MAX slots).
 */
#ifndef PROVD_SLOTS_H
#define PROVD_SLOTS_H

#include <sys/types.h>

#define SLOTS_MAX 64

struct slots {
	unsigned used;
	struct {
		uid_t    uid;
		unsigned n;
	} held[SLOTS_MAX];
};

enum slots_take {
	SLOTS_OK = 0,
	SLOTS_FULL = -1,      /* all `total` slots in use */
	SLOTS_UID_FULL = -2,  /* uid holds its `per_uid` share already */
};

/* Take one slot for uid (total <= SLOTS_MAX).  SLOTS_OK, or why not. */
enum slots_take slots_take(struct slots *s, uid_t uid, unsigned total, unsigned per_uid);

/* Give back a slot uid took. */
void slots_put(struct slots *s, uid_t uid);

#endif
