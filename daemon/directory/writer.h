/*
 * writer — one writing provider for all sites at a time.
 *
 * With several `ldap.uris` (the same ordered list on every site), every
 * provd writes to the first provider it can reach (dir moves back to an
 * earlier URI as soon as it answers).  A lease entry in the directory,
 * cn=provd-writer,<base>, says which position of that list the writers use
 * and when a provd last renewed it:
 *
 *     description: <position> <unix time> <uri>
 *
 * Every provd reads the lease from the provider it is connected to, and
 * opens its write gate (dir_set_write_gate) only when the lease names its
 * own position and is fresh, renewing it every writer_lease/3 seconds with
 * a compare-and-swap (assertion control on the old value).  It takes the
 * lease over only once the lease has not been renewed for writer_lease
 * seconds.  A provd whose provider's lease names another, still fresh
 * position refuses writes (status 7, the reason in the message): it has a
 * stale view, or cannot reach the writer.  With one URI the gate stays open.
 */
#ifndef PROVD_WRITER_H
#define PROVD_WRITER_H

#include <stdbool.h>
#include <stddef.h>

struct provd;
struct writer;

/* on_split (may be NULL) is called when the lease shows that another
 * provider took writes while this provd held it (a healed partition). */
struct writer *writer_new(struct provd *pd, void (*on_split)(struct provd *pd));
void writer_free(struct writer *w);
/* Call on every directory connection change (from dir's state callback). */
void writer_on_state(struct writer *w, bool up);
/* One line for `status`: "open", "closed: <why>", "pending: ..." or "single provider". */
const char *writer_describe(const struct writer *w, char *buf, size_t len);

#endif
