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
 *    the CRL's own entries, so OCSP and CRL never disagree for longer than
 *    the signing of a few responses;
 *  - a new certificate's "good": when its record is written;
 *  - "unknown" for a serial without a record: when provd-ocsp asks
 *    (ocsp_unknown.h), never written to disk.
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
 * command answers after its OCSP answers changed.  entries are copied. */
void ocsp_crl_published(struct provd *pd, const struct crl_entry *entries,
    size_t n, ocsp_done_fn *done, void *ctx);

/* A certificate was recorded as valid: sign its first response, then
 * done(ctx) as above.  serial_hex as in provdCertSerial. */
void ocsp_cert_issued(struct provd *pd, const char *serial_hex, ocsp_done_fn *done,
    void *ctx);

/*
 * An "unknown" answer for a serial with no record (asked by provd-ocsp,
 * see ocsp_unknown.h), signed through the signer's queue: 0 when queued
 * (done(ctx, 0, der, derlen) with the DER OCSPResponse, or done(ctx, -1,
 * NULL, 0) when the signer failed, exactly once from the loop), 1 when the
 * serial has a record (its response is on disk), -1 when provd cannot
 * answer now (no full read of the records yet, no responder certificate,
 * the signer generating a key or not running); done is then not called.
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
	 * it expired).  0, or -1 when there is no such generation. */
	int      (*retired)(struct provd *pd, unsigned gen, X509 **cert,
	                    struct signer **signer);
};
void ocsp_set_hooks(const struct ocsp_hooks *h);

/* Handlers. */
void ocsp_show(struct request *req);
void ocsp_refresh_cmd(struct request *req);

#endif
