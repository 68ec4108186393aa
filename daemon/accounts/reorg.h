/*
 * reorg — `reorg plan FILE`, `reorg apply FILE`, `reorg status`: a
 * reorganisation of the province as one plan (docs/operations.md,
 * "Reorganising the province"; the file: reorg_file.h).
 *
 * plan and apply read the file streamed by provctl, validate it whole
 * (every error with its line; nothing is written when there is one), read
 * the accounts and the certificate records, and derive per account its
 * unit and its mail after the reorganisation.  plan prints per unit what
 * would change (accounts moved in, addresses added, unit addresses kept as
 * aliases, certificates to re-issue) and the totals; apply does it, in an
 * order every step of which is idempotent, so a run broken anywhere (provd
 * or slapd killed) converges when the same file is applied again:
 *
 *   1. new units (parents first), then renames, kinds and parents;
 *   2. every unit that stays keeps the codes of the units that go into it
 *      as provdUnitAlias (their addresses keep delivering);
 *   3. each account that changes: one modify (unit, unit name, mail, the
 *      old mail added as an alias) — the address policy (address_check)
 *      and the in-flight claims checked first — then its certificates
 *      follow the account<->certificate rule (lifecycle_certs,
 *      LIFECYCLE_MOVE) when a valid or held one names the old unit or
 *      address; such holders are listed;
 *   4. the units that go are deleted, each once no account is left in it
 *      (one that arrived during the apply keeps it for the next run).
 *
 * An account already in its target state is left alone; a certificate
 * record still naming the old unit or address is caught on the next run
 * even when provd died between the account's write and its certificates.
 * The plan id (the file's `reorg` id and a digest of its bytes) and the
 * progress are kept in <state_dir>/reorg.status (written on every phase
 * and every REORG_STATUS_EVERY accounts) and in the audit journal
 * ("running" records); `reorg status` shows the file's view.  A different
 * file is refused while an apply is unfinished.
 *
 * Each handler finishes its request with request_done() exactly once.
 */
#ifndef PROVD_REORG_H
#define PROVD_REORG_H

struct request;

void reorg_plan(struct request *req);
void reorg_apply(struct request *req);
void reorg_status(struct request *req);

#endif
