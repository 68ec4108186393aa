/*
 * crl — publishing the CA's certificate revocation list.
 *
 * A publish reads the CA entry's provdCrlNumber (N), builds CRL number N+1,
 * has the signer sign it, writes it to the CA entry with an LDAP assertion
 * control (provdCrlNumber=N) — a compare-and-swap, so two provd instances
 * never publish the same number — and then to pki.crl_file atomically
 * (write, fsync, rename).  A lost race rebuilds and retries.  Publishes of
 * one instance are serialised: a request that arrives while one is running
 * is satisfied by the next publish, which then includes its change.  A
 * timer republishes at start-up and well before nextUpdate.
 *
 * Every status change of a record carries a pending marker
 * (provdCertPending, a fresh random token; see crl_pending_token).  When
 * this instance published CRL N itself, CRL N+1 is CRL N's entries (kept in
 * memory) with the marked records applied: no need to read every record.
 * Otherwise (at start-up, after another instance published, after a failed
 * publish) it is rebuilt from every held, revoked or marked record.  After
 * the CRL is out, the markers it applied are removed, each only if its
 * record has not changed since.  crl.c states the invariant that makes this
 * safe with several writers.
 */
#ifndef PROVD_CRL_H
#define PROVD_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldap.h>

#include "schema.h"

struct provd;
struct request;
struct crl_state;

/* status is ST_OK or an ST_* error; msg is valid only during the call.
 * Called from the loop, never inside crl_publish(). */
typedef void crl_done_fn(void *ctx, int status, const char *msg);

/* Publish a new CRL, incrementally when this instance can (see above). */
void crl_publish(struct provd *pd, crl_done_fn *done, void *ctx);
/* The same, always rebuilt from every record (the `crl publish` command,
 * the timer): it also picks up records changed by hand without a marker. */
void crl_rebuild(struct provd *pd, crl_done_fn *done, void *ctx);

/* The pending marker a record status change writes in the same modify. */
#define CRL_PENDING_ATTR  AT_CERT_PENDING
#define CRL_TOKEN_LEN     16
/* A fresh marker: CRL_TOKEN_LEN lower-case hex digits from RAND_bytes.
 * Returns 0, or -1 when the generator fails (then make no change). */
int crl_pending_token(char out[CRL_TOKEN_LEN + 1]);

/* Marker removals sent and not answered yet (shutdown waits for them;
 * once provd is stopping it sends no new ones). */
size_t crl_clears_in_flight(const struct provd *pd);

/* The number the next CRL will carry (last known + 1). */
uint64_t crl_next_number(const struct provd *pd);
/* The number of the last CRL this instance published (0 = none yet). */
uint64_t crl_last_number(const struct provd *pd);

/* Read one record entry's CRL entry; *listed when it is on hold or
 * revoked.  -1 with bad set when the record is malformed. */
struct crl_entry;
int crl_entry_read(LDAP *ld, LDAPMessage *e, struct crl_entry *ce, bool *listed,
                   char *bad, size_t badlen);
/* The compare-and-swap every CRL goes out by: write der (signed, number
 * number + 1) to entry dn with its provdCrlNumber and nextUpdate, asserting
 * the entry still holds number (no number when !has_number).  der
 * (malloc'd, derlen bytes) is taken, also on failure: the modify owns it
 * until the directory answers (no copy of it on the loop).  done gets
 * the result (LDAP_ASSERTION_FAILED: another writer took the number).
 * 0, or -1 when the directory is unavailable (then done is not called). */
struct dir_result;
int crl_write_cas(struct provd *pd, const char *dn, uint64_t number, bool has_number,
                  time_t now, unsigned char *der, size_t derlen,
                  void (*done)(void *, const struct dir_result *), void *ctx);

/* A signed CRL for its two owners in turn, the directory's modify
 * (crl_write_cas takes its value) and the file job.  Called from inside
 * sg's der callback with its der: the signer's received message is taken
 * (signer_reply_take; copied only when it cannot be), and the modify's copy
 * is made on a worker thread, not on the loop (4 MB at 100,000 entries).
 * The job holds the CRL meanwhile; done(ctx, buf, der, derlen, copy) on the
 * loop hands back both: buf (malloc'd, der inside it) and copy (malloc'd,
 * derlen bytes), the callee's. */
struct signer;
typedef void crl_copied_fn(void *ctx, unsigned char *buf, const unsigned char *der,
                           size_t derlen, unsigned char *copy);
void crl_take_signed(struct provd *pd, struct signer *sg, const unsigned char *der,
                     size_t derlen, crl_copied_fn *done, void *ctx);

/* The entries of the last CRL this instance published, sorted by serial
 * (borrowed), or false when it has none or they are being rebuilt. */
bool crl_entries(const struct provd *pd, const struct crl_entry **entries, size_t *n);

/* The entries in memory no longer match the CA entry's CRL (a rollover
 * changed the issuer): the next publish rebuilds from every record. */
void crl_forget_set(struct provd *pd);

/* After a CA rollover (rollover.h, wired by main.c): the current CA's
 * records are those matching records_clause (an LDAP filter clause of at
 * most CRL_CLAUSE_MAX bytes, "" for all); chain wraps the done of every
 * publish so that the retired CAs' CRLs follow; show_dn gives the entry
 * whose CRL `crl show` prints (NULL after finishing the request).  Unset
 * hooks: one CA. */
#define CRL_CLAUSE_MAX 3400
struct crl_hooks {
	const char *(*records_clause)(const struct provd *pd);
	void        (*chain)(struct provd *pd, crl_done_fn **done, void **ctx);
	const char *(*show_dn)(struct request *req);
};
void crl_set_hooks(const struct crl_hooks *h);

/* Start the republish timer (after the CA is loaded or created). */
void crl_start_timer(struct provd *pd);
void crl_state_free(struct crl_state *s);

/* Handlers. */
void crl_show(struct request *req);
void crl_publish_cmd(struct request *req);

#endif
