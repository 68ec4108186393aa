/*
 * renew — cert renew: a successor for a certificate, and the predecessor
 * revoked as superseded once the overlap (pki.renew_overlap) has passed.
 *
 * The successor is issued by cert issue's own path (cert_issue_successor:
 * account state, permission, one key one person, signing, recording): same
 * holder, same profile, the subject as the directory has it now.  Its key
 * comes from --csr, --generate (a new key made by the office, as cert issue
 * --generate), or, with neither, is the predecessor's key, certified again
 * when the profile says renew_key_reuse = true and the office did not make
 * and escrow that key.
 *
 * The two records are linked (provdCertRenews on the successor,
 * provdCertRenewedBy on the predecessor) and the predecessor carries
 * provdCertSupersedeAt, the time it is to be revoked (superseded).  With no
 * overlap the revocation happens before the reply; otherwise the sweep
 * (every pki.supersede_sweep seconds, and once at start-up) revokes every
 * record whose time has come: the time is in the directory, so a restart
 * or another instance carries it out.
 *
 * cert renew --expiring-within DURATION [--unit CODE [--recursive]]
 * renews, one after the other, every valid certificate expiring within
 * DURATION that has no successor and whose key may be reused, reporting a
 * row per certificate and progress as it goes; --dry-run lists what it
 * would do.
 */
#ifndef PROVD_RENEW_H
#define PROVD_RENEW_H

struct provd;
struct request;

void cert_renew(struct request *req);

/* Start the sweep of due revocations (main.c, once the CA is loaded). */
void renew_start_timer(struct provd *pd);

#endif
