/*
 * cert — certificate records: issue from a CSR by profile (cert_issue.c),
 * list, show, revoke, release, export to OpenSSL's index.txt, and the
 * certificate side of account lifecycle events and of whois (cert.c).
 * Reading and changing one record is certrec.c's.
 *
 * A record lives at provdCertSerial=<hex>,ou=certificates,ou=pki,<base>
 * (object class provdCertificate): serial, status (valid | hold | revoked),
 * login, employee id, unit, profile, validity, fingerprint, revocation
 * reason and times, and the certificate itself.  The record is the source
 * of truth; the account's userCertificate;binary (what S/MIME address books
 * read) carries exactly its valid certificates, and the CRL its held and
 * revoked ones.  Every change writes the record first, so a retry after a
 * failure finds the record in its new state and completes the rest.
 */
#ifndef PROVD_CERT_H
#define PROVD_CERT_H

#include <stdbool.h>

#include "account.h"
#include "keyfile.h"

struct provd;
struct request;

void cert_issue(struct request *req);

#include <openssl/evp.h>

/* The outcome of one issuance: status ST_OK with the new serial, or an
 * error (serial NULL); msg is valid only during the call. */
typedef void cert_issued_fn(void *ctx, int status, const char *msg, const char *serial);

/*
 * Issue the successor of certificate `renews` (cert renew, renew.c) along
 * the one path of cert issue: the account as the directory has it now
 * (active, subject from its entry), the permission over its unit, one key
 * one person, signing, the record (carrying provdCertRenews) and the
 * account.  The key is pub when not NULL (taken, even on failure), else
 * req's --csr, else req's --generate (+ --p12, --key, --passphrase-stdin:
 * req's command must declare them).  With reply_record the new
 * certificate's record (and PKCS #12 file) goes to req as cert issue
 * sends it; done(ctx, ...) runs once, and req stays open for it.
 */
void cert_issue_successor(struct request *req, const char *login, const char *profile,
                          const char *renews, EVP_PKEY *pub, bool reply_record,
                          cert_issued_fn *done, void *ctx);

/*
 * Issue to login, under profile, a certificate for a new key pair of type
 * kt made by provd-keygen (the path of cert_issue_successor in its
 * --generate mode, without options from req: every check of an issuance,
 * the record marked as the office's key), with a generated passphrase.
 * Sends req two WIRE_SECRET records: {name "<login>-<serial>.p12", file}
 * and {login, serial, p12, passphrase} (provctl --p12-dir writes them), and
 * no other record; req stays open.  done runs once, from the loop or
 * before the call returns.
 */
void cert_reissue(struct request *req, const char *login, const char *profile,
                  enum keyfile_type kt, cert_issued_fn *done, void *ctx);

/* cert_reissue for the successor of certificate renews (cert renew
 * --expiring-within --p12-dir): the record carries provdCertRenews. */
void cert_reissue_successor(struct request *req, const char *login, const char *profile,
                            const char *renews, enum keyfile_type kt, cert_issued_fn *done,
                            void *ctx);
/*
 * Settle c's debt (c revoked owing its successor, certrec_revoke_owing):
 * a record that already renews c (recorded by a run that died before the
 * mark was replaced) settles it; otherwise cert_reissue_successor issues
 * one to req.  Then c's mark is replaced by the successor's serial.  One
 * successor per revoked certificate, whatever the crashes and re-runs.
 * c is borrowed until done runs; done(ctx, status, msg, serial, earlier)
 * runs once: ST_OK with the successor's serial (earlier: found, not
 * issued; msg non-empty when the link could not be written, the mark then
 * stays for a re-run), or the failure with no serial.
 */
struct certrec;
typedef void cert_settled_fn(void *ctx, int status, const char *msg, const char *serial,
                             bool earlier);
void cert_settle_owed(struct provd *pd, struct request *req, const struct certrec *c,
                      cert_settled_fn *done, void *ctx);
void cert_list(struct request *req);
void cert_show(struct request *req);
void cert_revoke(struct request *req);
void cert_release(struct request *req);
void cert_export_index(struct request *req);

/* The certificates' side of an account event (see account_admin.h): every
 * matching record changes, then one CRL is published.  done runs once.
 * main.c hands it to lifecycle_set_certs. */
void cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
                    lifecycle_done_fn *done, void *ctx);
/* lifecycle_move_reissue (account.h); main.c hands it to
 * lifecycle_set_reissue. */
void cert_lifecycle_move_reissue(struct request *req, const char *login,
                                 lifecycle_done_fn *done, void *ctx);
/* What cert_lifecycle would do, nothing written: done gets a summary such
 * as "2 certificates would be put on hold: SERIAL,SERIAL" (for --dry-run). */
void cert_lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                            lifecycle_done_fn *done, void *ctx);

/* The whois part listing a person's certificates (see whois.h); main.c
 * adds it with whois_add_part. */
struct whois_subject;
void cert_whois_part(struct request *req, const struct whois_subject *who,
                     void (*done)(void *ctx), void *ctx);

void cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
                    lifecycle_done_fn *done, void *ctx);

/*
 * Upgrade: give every certificate record without provdCertKeyHash (made by
 * an older provd) the hash of its certificate's key, so that "one key, one
 * person" and keyCompromise see them.  Runs in the background each time the
 * directory connects; logs what it did.  Idempotent.
 */
void cert_upgrade_records(struct provd *pd);

#endif
