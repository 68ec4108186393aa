/*
 * escrow — the escrow copies of keys the office made (cert issue
 * --generate under a profile with escrow = true): CMS EnvelopedData of the
 * private key to the recovery certificate (pki.escrow_cert_file), kept on
 * the certificate's record in ESCROW_ATTR.  provd never holds the recovery
 * key: `cert escrow-export SERIAL` (officer; audited like every command)
 * hands the copy out as PEM for `openssl cms -decrypt` offline.  The
 * record, and the copy with it, outlives the account: user delete revokes
 * the certificate and user purge removes only the person's entry.  A
 * copy is kept until pki.escrow_retention_days after its certificate
 * expired; `user purge` then drops it (escrow_expire).
 */
#ifndef PROVD_ESCROW_H
#define PROVD_ESCROW_H

#include <stddef.h>

#define ESCROW_MAX      (64 * 1024)

struct provd;
struct request;

void cert_escrow_export(struct request *req);

/* done(ctx, dropped, failed) runs once, later, on the loop. */
typedef void escrow_done_fn(void *ctx, size_t dropped, size_t failed);

/*
 * Drop the escrow copies of certificates that expired more than
 * pki.escrow_retention_days ago (whatever became of their accounts).
 */
void escrow_expire(struct provd *pd, escrow_done_fn *done, void *ctx);

#endif
