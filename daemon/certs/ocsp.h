/*
 * ocsp — the engine's OCSP publisher: pre-signed responses for every
 * certificate record, written where provd-ocsp serves them.
 *
 * Layout of pki.ocsp_dir (mode 0755; files 0644, written whole and renamed
 * into place, so a reader sees the old response or the new one):
 *   issuer.der              the CA certificate the responses are for
 *   responder.pem           the current delegated responder certificate
 *   responses/SERIALHEX     one DER OCSPResponse per certificate (upper case)
 *   gen-N/                  the same three for retired CA generation N (a
 *                           responder certificate issued by that CA, its
 *                           key in that generation's signer), while its
 *                           certificate has not expired
 *
 * The responder key lives in the signer (signer_ocsp.h); its certificate
 * (certgen_ocsp_responder, pki.ocsp_responder_hours) is replaced when half
 * its validity has passed, or at once when the signer lost the key, and
 * every response is signed again before the old one could expire: the
 * responses on disk are valid at every moment (no gap).
 *
 * When responses are signed:
 *  - all of them: at start-up (after one read of every record), when half
 *    of pki.ocsp_hours has passed since the last time, after a new
 *    responder certificate, and on `ocsp refresh`;
 *  - the changed ones: right after every CRL this instance publishes (the
 *    commit path of revoke, hold, release and the account lifecycle), from
 *    the CRL's own entries (ocsp_crl_published, contract below);
 *  - a new certificate's "good": when its record is written;
 *  - "unknown" for a serial without a record, and the current state of a
 *    record whose file is not written yet: when provd-ocsp asks
 *    (ocsp_unknown.h), never written to disk.
 *
 * Runs and batches.  Responses are signed in runs, each a copy of its
 * entries, RUN_BATCH (1,000) a signer request and a worker task, so the
 * loop does bounded work per batch.  A "prompt" run (a CRL's changes that
 * someone waits for, a new certificate) goes ahead of every run not yet
 * begun and of the rest of the run under way, after that run's batch in
 * flight; the others (a full refresh, a large CRL's background part) go
 * to the tail.
 *
 * What a published CRL guarantees (ocsp_crl_published):
 *  - when it changes at most PROMPT_MAX (1,000) responses, done() is
 *    called once all of them are written: a `cert revoke`, hold or release
 *    answers after its OCSP answer changed, as before;
 *  - beyond that (`crl publish` after records were added or changed
 *    outside provd, tens of thousands at once) done() is called once the
 *    responses of the certificates that were "good" are written revoked
 *    (usually none or few); the others (certificates provd-ocsp had no
 *    file for, releases) are signed in the background and
 *    ocsp_pending() counts them.  Meanwhile provd-ocsp finds no file for
 *    a newly listed serial and asks: provd signs its current state on
 *    request (ocsp_sign_unknown), so it is never answered "good";
 *  - in both cases the entries of queued runs are given the CRL's state
 *    first (a run queued earlier never writes an older "good" afterwards).
 * So a "good" is never served, from a file or a run, for a certificate the
 * last CRL lists, once the command that listed it has answered; a release
 * beyond PROMPT_MAX may show "revoked" until its run is written (the safe
 * side).
 * A record changed by another provd instance is seen at the next full
 * refresh (or at once when that instance shares the directory: each
 * instance publishes its own CRL through the same path).
 */
#ifndef PROVD_OCSP_H
#define PROVD_OCSP_H

#include <stddef.h>

#include <openssl/x509.h>

#include "ocsp_unknown.h"

struct provd;
struct request;
struct ocsp_state;
struct crl_entry;

/* Start publishing (after the CA is loaded or created); no-op without
 * pki.ocsp_dir or when started already. */
void ocsp_start(struct provd *pd);

/* Called once the responses asked for below are written (or could not
 * be: logged); from the loop, possibly before the call returns. */
typedef void ocsp_done_fn(void *ctx);

/* The CRL with these entries (sorted by serial: every certificate on hold
 * or revoked) is out: sign the responses whose state it changes, through
 * the signer's queue; then done(ctx) (NULL: nobody waits), so that a
 * command answers after its OCSP answers changed.  entries (malloc'd, or
 * NULL when n is 0) are taken: the merge into the set of responses runs on
 * a worker thread, never on the loop. */
void ocsp_crl_published(struct provd *pd, struct crl_entry *entries,
    size_t n, ocsp_done_fn *done, void *ctx);

/* Responses queued or being signed, not yet written (`ocsp show`:
 * pending; `crl publish`: ocsp_pending). */
size_t ocsp_pending(const struct provd *pd);

/* A certificate was recorded as valid: sign its first response, then
 * done(ctx) as above.  serial_hex as in provdCertSerial. */
void ocsp_cert_issued(struct provd *pd, const char *serial_hex, ocsp_done_fn *done,
    void *ctx);

/*
 * An "unknown" answer for a serial with no record (asked by provd-ocsp,
 * see ocsp_unknown.h), or the current state of a record of the current CA
 * whose file provd-ocsp did not find (not written yet), signed through the
 * signer's queue: 0 when queued (done(ctx, 0, der, derlen) with the DER
 * OCSPResponse, valid one hour, or done(ctx, -1, NULL, 0) when the signer
 * failed, exactly once from the loop), 1 when the serial is a retired CA
 * generation's (its responder's file), -1 when provd cannot answer now (no
 * full read of the records yet, no responder certificate, the signer
 * generating a key or not running); done is then not called.
 */
int ocsp_sign_unknown(struct provd *pd, const struct serial *ser,
    ocsp_unknown_done_fn *done, void *ctx);

void ocsp_state_free(struct ocsp_state *s);

/* ca rollover made a new current CA: its issuer.der, a new responder
 * certificate, and the retired CA's certificates moved to its own
 * responder (ocsp_dir/gen-N/, made before this returns): every known
 * response signed again, queued before any later ocsp_crl_published or
 * ocsp_cert_issued, so their done comes after it; a read of every record
 * follows at once when not every record is known yet. */
void ocsp_ca_changed(struct provd *pd);

/* What the retired CA generations (rollover.c, wired by main.c) tell the
 * publisher.  Without hooks there is one CA. */
struct signer;
struct ocsp_hooks {
	/* The generation whose subject is issuer (provdCertIssuer; "" counts
	 * as generation 1), or 0 when none is. */
	unsigned (*generation_of)(const struct provd *pd, const char *issuer);
	/* Retired generation gen's certificate and signer (*signer NULL once
	 * the generation is no longer served: expired or archived; its
	 * records are then neither queued nor signed).  0, or -1 when there
	 * is no such generation. */
	int      (*retired)(struct provd *pd, unsigned gen, X509 **cert,
	                    struct signer **signer);
};
void ocsp_set_hooks(const struct ocsp_hooks *h);

/* Handlers. */
void ocsp_show(struct request *req);
void ocsp_refresh_cmd(struct request *req);

#endif
