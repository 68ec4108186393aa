/*
 * ca_cmd — the CA commands: `ca create` (the signer makes the key, the CA
 * certificate is self-signed), `ca import` (an existing key and
 * certificate), `ca show`.  After a create or import the CA entry is
 * written and the first CRL published (crl.h).  Each handler finishes its
 * request with request_done() exactly once.
 */
#ifndef PROVD_CA_CMD_H
#define PROVD_CA_CMD_H

struct request;

void ca_create(struct request *req);
void ca_import(struct request *req);
void ca_show(struct request *req);

#endif
