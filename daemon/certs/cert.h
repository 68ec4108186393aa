/*
 * cert — the certificate commands (issue, list, show, revoke, release,
 * export-index), and the certificates' side of account events and of
 * whois.  The records themselves: certrec.h.
 */
#ifndef PROVD_CERT_H
#define PROVD_CERT_H

#include "lifecycle.h"

struct provd;
struct request;

/* `cert issue LOGIN --profile NAME` with a CSR: the account must be
 * active; the signer signs by the profile; the record is written (retrying
 * a serial collision), then the account's userCertificate;binary. */
void cert_issue(struct request *req);
void cert_list(struct request *req);
void cert_show(struct request *req);
void cert_revoke(struct request *req);
void cert_release(struct request *req);
void cert_export_index(struct request *req);

/* The certificates' side of an account event (see lifecycle.h): every
 * matching record changes, then one CRL is published.  done runs once.
 * main.c hands it to lifecycle_set_certs. */
void cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
                    lifecycle_done_fn *done, void *ctx);

/* The whois part listing a person's certificates (see whois.h); main.c
 * adds it with whois_add_part. */
struct whois_subject;
void cert_whois_part(struct request *req, const struct whois_subject *who,
                     void (*done)(void *ctx), void *ctx);

#endif
