/*
 * crl — publishing the CA's certificate revocation list.
 *
 * A publish reads the CA entry's provdCrlNumber (N) and every record on
 * hold or revoked, builds CRL number N+1, has the signer sign it, writes it
 * to the CA entry with an LDAP assertion control (provdCrlNumber=N) — a
 * compare-and-swap, so two provd instances never publish the same number —
 * and then to pki.crl_file atomically (write, fsync, rename).  A lost race
 * rebuilds and retries.  Publishes of one instance are serialised: a request
 * that arrives while one is running is satisfied by the next publish, which
 * then includes its change.  A timer republishes at start-up and well
 * before nextUpdate.
 */
#ifndef PROVD_CRL_H
#define PROVD_CRL_H

#include <stddef.h>
#include <stdint.h>

struct provd;
struct request;
struct crl_state;

/* status is ST_OK or an ST_* error; msg is valid only during the call.
 * Called from the loop, never inside crl_publish(). */
typedef void crl_done_fn(void *ctx, int status, const char *msg);

void crl_publish(struct provd *pd, crl_done_fn *done, void *ctx);

/* The number the next CRL will carry (last known + 1). */
uint64_t crl_next_number(const struct provd *pd);
/* The number of the last CRL this instance published (0 = none yet). */
uint64_t crl_last_number(const struct provd *pd);

/* Start the republish timer (after the CA is loaded or created). */
void crl_start_timer(struct provd *pd);
void crl_state_free(struct crl_state *s);

/* Handlers. */
void crl_show(struct request *req);
void crl_publish_cmd(struct request *req);

#endif
