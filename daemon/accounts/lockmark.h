/*
 * lockmark — a trace of every lock-state change that replication cannot
 * erase, so that `check` finds a change undone by a partition.
 *
 * Replication merges entry by entry: a `user disable` made through one
 * provider is undone, without a trace in the entry, by any later change of
 * the same entry (a phone number) made through the other during a
 * partition.  So with several ldap.uris, every disable, delete and enable
 * also writes a small entry of its own, one per account and provider
 * position (the position in ldap.uris of the provider written to, as in
 * the writer lease):
 *
 *     cn=lock-<position>-<login>,cn=provd-writer,<base>
 *     description: <disabled|active> <unix time> <uri>
 *
 * and removes the other positions' marks of that account: in normal
 * operation one writer, so one mark per account.  Two providers writing
 * during a partition each keep their own, and the entries never collide.
 * check (check.h) then reports an account with marks from two positions
 * (its lock state changed on both sides), and one whose newest mark
 * disagrees with the entry (a later change made elsewhere replaced it).
 * The next disable or enable through the writer clears both findings.
 *
 * Best effort: a mark that cannot be written is logged, the command's
 * outcome is not changed.  With one URI nothing is written.
 */
#ifndef PROVD_LOCKMARK_H
#define PROVD_LOCKMARK_H

#include <stdbool.h>

struct provd;

#define LOCKMARK_PREFIX "lock-"

/* Record that login (a valid login: [a-z0-9], names_login_valid) is now
 * disabled (locked) or active, through the provider dir writes to. */
void lockmark_record(struct provd *pd, const char *login, bool disabled);

#endif
