/*
 * cert — the certificate commands on records (list, show, revoke, release,
 * export-index), and the certificates' side of account events and of
 * whois.  Records themselves: certrec.h; `cert issue`: cert_issue.h.
 */
#ifndef PROVD_CERT_H
#define PROVD_CERT_H

#include "account_admin.h"

struct provd;
struct request;

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

/* The whois part listing a person's certificates (see whois.h); main.c
 * adds it with whois_add_part. */
struct whois_subject;
void cert_whois_part(struct request *req, const struct whois_subject *who,
                     void (*done)(void *ctx), void *ctx);

#endif
