/*
 * ca_cmd — the CA commands: `ca create` (the signer makes the key, the CA
 * certificate is self-signed), `ca import` (an existing key and
 * certificate), `ca show`.  After a create or import the CA entry is
 * written and the first CRL published (crl.h).  Each handler finishes its
 * request with request_done() exactly once.
 */
#ifndef PROVD_CA_CMD_H
#define PROVD_CA_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "keyfile.h"

struct request;
struct config;

void ca_create(struct request *req);
void ca_import(struct request *req);
void ca_show(struct request *req);

/* Shared with rollover.c. */
/* One reply record for the current CA certificate x. */
void ca_record(struct request *req, X509 *x, uint64_t next_crl);

/* What `ca show` adds after the current CA's record (the retired
 * generations), wired by main.c: this module cannot name rollover. */
typedef void ca_show_more_fn(struct request *req);
void ca_show_set_more(ca_show_more_fn *fn);
/* Write x to path as PEM, atomically.  0 or -1 with err. */
int ca_write_cert_file(const char *path, X509 *x, char *err, size_t errlen);
/* Record a token key's URI in <pki.key_file>.uri.  0 or -1 with err. */
int ca_write_key_uri(const struct config *cfg, const char *uri, char *err, size_t errlen);
/* The --pkcs11 URI of ca create/import/rollover: a module must be
 * configured, the URI parse, and daemon.signer_user be unset (see
 * operations.md); otherwise finishes req and returns false. */
bool ca_pkcs11_arg_ok(struct request *req, const char *uri);
/* The CA entry dn: with cn, add it (applicationProcess + pkiCA + provdCA,
 * cACertificate cert, provdCrlNumber crl_number); without, replace its
 * cACertificate only.  done(ctx, result) as dir_add/dir_modify. */
struct provd;
struct dir_result;
void ca_entry_write(struct provd *pd, const char *dn, const char *cn, X509 *cert,
                    uint64_t crl_number, void (*done)(void *, const struct dir_result *),
                    void *ctx);
/* --subject (present), --key TYPE and --days N of ca create/rollover into
 * *kt and *days; otherwise finishes req and returns false. */
bool ca_key_args(struct request *req, enum keyfile_type *kt, unsigned *days);

#endif
