/*
 * rollover — CA generations: `ca rollover` replaces the CA key and
 * certificate, and the CA it replaces stays as a retired generation that
 * keeps signing its own CRL until its certificate (and so every
 * certificate it issued: certgen cuts them at the CA's notAfter) expires.
 *
 * Naming.  Generations are numbered from 1 (the first CA).  The current
 * CA stays where it always is (pki.key_file or its .uri, pki.cert_file,
 * pki.crl_file, cn=<ca_name>,ou=pki,<base>); without a rollover nothing
 * else exists and nothing here runs.  Retired generation N lives in
 *   <dir of pki.key_file>/gen-N/ca.key (or ca.key.uri) and ca.pem,
 *   <pki.crl_file without .crl>-gen-N.crl,
 *   cn=<ca_name>-gen-N,ou=pki,<base> (cACertificate, its CRL, its own
 *   provdCrlNumber compare-and-swap counter),
 * and the current CA is generation (number of retired ones) + 1.
 *
 * A record's generation is its issuer: provdCertIssuer, the issuer DN as
 * cert_issue.c writes it (RFC 2253).  A rollover therefore needs a subject that
 * differs from every earlier generation's; records of generation 1 with
 * no provdCertIssuer (none are written so today) count as generation 1.
 *
 * Each retired generation has its own signer process (signer.h: one key
 * per signer), started at start-up with the main one or by the rollover.
 * Once its certificate has expired, the end of a CRL publish archives it
 * (no publish running): its signer stops, its CRL file and its OCSP
 * directory move to archive/ beside them; its key file, gen-N/ and its
 * directory entry stay (docs/operations.md).
 */
#ifndef PROVD_ROLLOVER_H
#define PROVD_ROLLOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "crl.h"
#include "ocsp.h"

struct provd;
struct pki;
struct request;
struct signer;

/* An LDAP filter clause naming one generation's records. */
#define ROLLOVER_CLAUSE_MAX CRL_CLAUSE_MAX

/* What crl.c calls (main.c: crl_set_hooks(&rollover_crl_hooks)). */
extern const struct crl_hooks rollover_crl_hooks;
/* What ocsp.c calls (main.c: ocsp_set_hooks(&rollover_ocsp_hooks)). */
extern const struct ocsp_hooks rollover_ocsp_hooks;

struct ca_gen {
	unsigned       number;       /* 1 = the first CA */
	X509          *cert;
	struct signer *signer;       /* NULL once expired (none started, or archived) */
	char          *dn;           /* cn=<ca_name>-gen-N,ou=pki,<base> */
	char          *crl_file;
	char          *clause;       /* (provdCertIssuer=<subject>) or wider */
	uint64_t       crl_last;     /* last CRL number published here */
	bool           archived;     /* expired: signer stopped, CRL file and
	                                OCSP directory moved to archive/ */
};

/* At start-up (main.c), after the current CA is loaded and before
 * privileges are dropped: load gen-1, gen-2, ... as long as their
 * directories exist; signers run as uid:gid when drop.  0, or -1 with err (provd refuses to
 * start: a generation that cannot sign its CRL is not silently dropped). */
int rollover_load(struct provd *pd, bool drop, uid_t uid, gid_t gid, char *err,
                  size_t errlen);
/* Before ca_stop: the retired generations and their signers. */
void rollover_free(struct pki *pki);

/* The filter clause the current CA's CRL adds to its record searches:
 * "" without a rollover, else (provdCertIssuer=<current subject>). */
const char *rollover_current_clause(const struct provd *pd);

/* Called by crl_publish/crl_rebuild: with retired generations, replace
 * (*done, *ctx) by a step that, after the current CRL, publishes each
 * unexpired retired generation's CRL (always rebuilt from its records,
 * compare-and-swap on its own number, then its file) and then calls the
 * original done once with the combined result. */
void rollover_chain(struct provd *pd, crl_done_fn **done, void **ctx);

/* `crl show --ca N`: the DN whose CRL to show (the current CA's without
 * --ca, or for --ca current / its number), or NULL after finishing req. */
const char *rollover_crl_dn(struct request *req);

/* ca show's second part: one record per retired generation (wired with
 * ca_show_set_more by main.c). */
void rollover_show(struct request *req);

/* `ca rollover --subject DN --key TYPE --days N [--pkcs11 URI]
 * [--revoke-all]`: see docs/operations.md for the order of steps. */
void ca_rollover(struct request *req);

#endif
