/*
 * ca — the certificate office as the engine sees it: the signer process
 * (which alone holds the CA private key), the CA certificate, the issuance
 * profiles, and the CA's directory entry (cACertificate;binary,
 * certificateRevocationList;binary, provdCrlNumber).
 *
 * ca_start() runs at start-up before the engine drops privileges or starts
 * threads; it forks the signer and, when the CA exists, has the signer load
 * its key (refusing a key file others can read).  The engine keeps only the
 * CA certificate and public key.
 */
#ifndef PROVD_CA_H
#define PROVD_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "p11uri.h"

struct provd;
struct signer;
struct signer_spawner;
struct timer;
struct profile_set;
struct crl_state;
struct ca_gen;
struct ocsp_state;
struct ca_watch;

struct ca_sign;
LIST_HEAD(ca_signs, ca_sign);

struct pki {
	struct signer      *signer;
	X509               *cacert;      /* NULL until a CA is created or imported */
	struct profile_set *profiles;
	struct crl_state   *crl;         /* publisher state, see crl.h */
	X509               *escrow_cert; /* pki.escrow_cert_file, or NULL */
	struct ocsp_state  *ocsp;        /* OCSP publisher state, see ocsp.h */
	bool                signer_busy; /* a worker thread is using the signer
	                                    (key generation): the loop keeps off */
	int                 watch_fd;    /* the signer's socket in the loop, or -1 */
	pid_t               watch_pid;
	struct timer       *expiry;      /* while requests are queued */
	struct timer       *supervise;   /* launcher and signer checks (ca_supervise_start) */
	bool                launcher_lost; /* said in the log; status says it */
	bool                restart_noted; /* the last failed restart is logged */
	time_t              respawn_after; /* no automatic restart before */
	/* The current CA key's PKCS#11 URI ("" = a file key): known to the
	 * engine, which with daemon.signer_user cannot read <key_file>.uri. */
	char                key_uri[P11URI_MAX + 1];
	char                key_dir[4096]; /* pki.key_file's directory: the signer
	                                    * writes beneath it only (Landlock) */
	bool                deliver_due; /* a deferred signer_io is pending */
	struct ca_gen      *gens;        /* retired generations, oldest first
	                                  * (rollover.h); none until a rollover */
	size_t              ngens;
	/* With daemon.signer_user: a second signer, started as the signer's
	 * user before privileges are dropped and holding no key, that the next
	 * `ca rollover` makes the retired generation's signer (the engine can
	 * start no process as that user later).  NULL otherwise or once used. */
	struct signer      *spare;
	/* ... and what makes the next one after a rollover (ca_spare_replenish):
	 * a spawner forked before the drop, its answer watched while asked. */
	struct signer_spawner *spawner;
	bool                spare_asked;   /* a new spare is on its way */
	int                 spare_fd;      /* the spawner's socket in the loop */
	struct timer       *spare_timer;
	char                spare_err[256]; /* why the last one did not come */
	struct ca_watch    *watches;     /* ca_signer_watch_other's */
	/* Certificates and CRLs sent to the signer and not yet called back
	 * (ca_sign_*_async): what ca_stop frees when provd stops first. */
	struct ca_signs     signs;
};

/*
 * Fork the signer (dropping it to uid/gid when drop is true), load the
 * profiles from <template_dir>/profiles and, if key_file and cert_file
 * exist, the CA.  signer_uid (-1: none) is daemon.signer_user: the signer
 * then runs as that uid (with the engine's group gid, to reach the state
 * directory), and the key's directory is made its own, mode 0700, so the
 * engine's uid can neither read the key nor trace the signer; the CRL
 * directory stays the engine's.  Returns 0, or -1 with err (provd refuses
 * to start).
 */
int ca_start(struct provd *pd, bool drop, uid_t uid, gid_t gid, uid_t signer_uid,
             char *err, size_t errlen);
void ca_stop(struct pki *pki);

/*
 * daemon.signer_user: the rollover has made the spare signer a retired
 * generation's; ask the spawner for a new spare without waiting (its
 * answer is watched by the loop, then pki->spare is the new handle, its
 * signer starting).  The current and retired signers are not touched.  A
 * spawner that is gone or fails leaves pki->spare NULL and the reason in
 * pki->spare_err (the next rollover is refused with it).
 */
void ca_spare_replenish(struct provd *pd);

/* Is a CA loaded?  Handlers answer "no CA yet" otherwise. */
bool ca_ready(const struct provd *pd);

/*
 * CRL signing off the loop: the signer's socket is an event source of
 * pd->loop; the request carries its own copy of tbs, and cb(ctx, ...) runs
 * on the loop when the signer answers (der valid during the call only).  A
 * signer that dies or sticks with the request queued is restarted without
 * waiting and the CRL sent once more, behind the restart; a restart that
 * fails answers with its reason (ca_signer_error).  Refused (-1) while the
 * signer generates a CA key, or when it cannot be restarted.  Returns 0 (cb
 * will be called exactly once) or -1 with err (it will not).
 */
typedef void ca_der_fn(void *ctx, int rc, const unsigned char *der, size_t derlen,
                       const char *err);
int ca_sign_crl_async(struct provd *pd, const unsigned char *tbs, size_t len,
                      ca_der_fn *cb, void *ctx, char *err, size_t errlen);

/*
 * Certificate signing off the loop, the same way (every issuance goes
 * through it: cert issue, renew, re-issue): the request holds a reference
 * of its own to tbs (built by certgen; its signature fields are sealed as
 * by signer_sign_cert_async) and sends it again to a restarted signer; der
 * is checked as by signer_sign_cert_der, so tbs's fields are der's.
 * Refused while the signer generates a CA key.  Returns 0 (cb will be
 * called exactly once, from the loop) or -1 with err (it will not).
 */
int ca_sign_cert_async(struct provd *pd, X509 *tbs, unsigned flags, ca_der_fn *cb,
                       void *ctx, char *err, size_t errlen);

/* The signer can take a request: a broken one is restarted first, without
 * waiting (requests queue behind the restart).  false when even that fails
 * (ca_signer_error says why). */
bool ca_signer_ready(struct provd *pd);
/* Why signing is refused now, for a client: the last failed restart, or a
 * launcher that is gone.  Static or the signer's; valid until the next call. */
const char *ca_signer_error(struct provd *pd);

/*
 * Supervise the signer from the loop (once the loop exists): every second,
 * a signer that died between requests is replaced (off the loop), and the
 * death of its launcher (daemon.user set: the launcher cannot be forked
 * again after the privilege drop) is logged once; from then on a signer
 * that ends stays down and certificate commands fail with "its launcher is
 * gone (restart provd)", everything else serving.
 */
void ca_supervise_start(struct provd *pd);
/* One line for `status`: running (pid), restarting, not running: why;
 * plus "launcher gone" when it is. */
void ca_signer_health(struct provd *pd, char *buf, size_t len);

/*
 * Watch the signer's socket for what the signer handle wants now (after
 * a submit, a restart or a replaced handle).  Idempotent.
 */
void ca_signer_watch(struct provd *pd);

/*
 * Another signer handle (a retired generation's) as an event source of
 * pd->loop, after a submit to it: its socket is watched while requests are
 * queued and its answers are delivered from the loop.  The handle must
 * outlive pd->loop's run (rollover_free stops it, before ca_stop).
 */
void ca_signer_watch_other(struct provd *pd, struct signer *sg);
/*
 * Stop watching sg (before it is stopped for good: a retired generation
 * archived once expired).  0, or -1 when an answer of sg waits to be
 * delivered from the loop (try again later; nothing changed).  No watch
 * is 0.
 */
int ca_signer_unwatch_other(struct provd *pd, struct signer *sg);

/* A CA is loaded, or its key or certificate file is there already (a CA
 * is never created or imported over one). */
bool ca_present(const struct provd *pd);

/* Where a CA key on a PKCS #11 token is recorded by its URI:
 * "<pki.key_file>.uri" into buf. */
struct config;
void ca_key_uri_path(const struct config *cfg, char *buf, size_t len);
/* Read the one PKCS #11 URI line of file path into uri[P11URI_MAX + 1]. */
int ca_read_key_uri(const char *path, char *uri, char *err, size_t errlen);
/* Read a PEM certificate file (public: any mode).  NULL with err. */
X509 *ca_load_cert_file(const char *path, char *err, size_t errlen);

#endif
