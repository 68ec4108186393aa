/*
 * escrow — the escrow copies of keys the office made (cert issue
 * --generate under a profile with escrow = true): CMS EnvelopedData of the
 * private key to the recovery certificate (pki.escrow_cert_file), kept on
 * the certificate's record in ESCROW_ATTR.  provd never holds the recovery
 * key: `cert escrow-export SERIAL` (officer; audited like every command)
 * hands the copy out as PEM for `openssl cms -decrypt` offline.  The
 * record, and the copy with it, outlives the account: user delete revokes
 * the certificate and user purge removes only the person's entry.
 */
#ifndef PROVD_ESCROW_H
#define PROVD_ESCROW_H

#define ESCROW_ATTR     "provdKeyEscrow"
#define ESCROW_MAX      (64 * 1024)

struct request;

void cert_escrow_export(struct request *req);

#endif
