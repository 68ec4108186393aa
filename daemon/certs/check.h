/*
 * check — find what replication merged badly (`provctl check`).
 *
 * Two providers that took writes at the same time (a partition, a stale
 * writer) merge entry by entry: the later change of an entry wins, and
 * uniqueness across entries is nobody's job.  check reads the directory and
 * reports, one record each (kind, key, detail):
 *
 *   address      an address (mail or mailLocalAddress) on two accounts
 *   employee_id  an employee id on two accounts
 *   lock_state   an account whose lock state changed through two providers
 *                (marks of two positions, lockmark.h), or whose newest
 *                mark disagrees with the entry (a disable undone by a later
 *                change of the entry made through the other provider)
 *   crl          a certificate record revoked or held but not on the CRL,
 *                or on the CRL but valid in its record (records with a
 *                pending marker are waiting for the next CRL: not counted)
 *
 * Findings go to the log (warnings) and to the request's reply; the count
 * and time of the last check go to pd->last_check (shown by `status`).  --fix repairs what has one
 * right answer: it republishes a complete CRL rebuilt from the records.
 * Duplicated addresses and employee ids, and lock states, need a person's
 * decision (a disable or enable through the writer settles a lock state).
 * The audit note counts the findings by kind ("found=3 address=1 ...").
 *
 * check_background() runs the same check without a request, after the
 * directory connection comes back (a failover or a healed partition) or
 * when the writer lease shows a split (and, for a split, once more ten
 * seconds later: the lease may replicate before the rest); why ("after the directory
 * connection came back") goes to the log and, as the arguments, to the
 * audit record the check leaves like `provctl check` does (user "provd",
 * the count as the note, status 0 or 4, the first finding).
 */
#ifndef PROVD_CHECK_H
#define PROVD_CHECK_H

#include <stddef.h>
#include <time.h>

struct provd;
struct request;

void check_run(struct request *req);
void check_background(struct provd *pd, const char *why);

#endif
