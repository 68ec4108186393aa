/*
 * signer.h — the engine's handle on the signer process, the only process
 * that ever holds the CA private key.
 *
 * signer_start() forks a child connected by a SOCK_SEQPACKET socketpair.
 * The child keeps only that socket (and stderr) open, resets signals,
 * optionally drops to the service user, makes itself non-dumpable, and
 * then answers requests one at a time until the socket closes.  Key files
 * are opened only in the child.  Every call below is synchronous with a
 * timeout; after a timeout or a dead child the handle is unusable until
 * signer_restart().
 *
 * Call signer_start() before the engine starts threads (fork copies only
 * the calling thread).  Paths handed to the signer must be absolute (the
 * child runs in "/").
 */
#ifndef PROVD_PKI_SIGNER_H
#define PROVD_PKI_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keyfile.h"
#include "signer_config.h"

#define SIGNER_DEFAULT_TIMEOUT_MS  10000
#define SIGNER_KEYGEN_TIMEOUT_MS   120000

/* signer_sign_cert flags */
#define SIGNER_SELF_SIGNED 0x01   /* the CA's own certificate */
#define SIGNER_LINK        0x02   /* a link certificate (CA:TRUE for another
                                     key): only as often as the signer's
                                     config link_certificates allows */

struct signer;

/* Completion of an asynchronous request (see "Asynchronous requests"). */
typedef void signer_der_fn(void *ctx, int rc, const unsigned char *der,
    size_t derlen, const char *err);
typedef void signer_key_fn(void *ctx, int rc, EVP_PKEY *pub, const char *err);

/*
 * Fork the signer and wait for it to report ready (or its set-up error,
 * e.g. a failed setuid).  *out is owned by the caller (signer_stop).
 * Returns 0 or -1 with a message.
 */
int signer_start(const struct signer_config *cfg, struct signer **out,
    char *err, size_t errlen);

/*
 * GENKEY: generate a key of type t in the signer, write it to path (new
 * file, mode 0600, O_EXCL, fsync; encrypted when pass_path is not NULL),
 * and make it the active key.  When path is a PKCS #11 URI ("pkcs11:…",
 * see p11uri.h; pass_path must be NULL) the key is generated on the token
 * instead, as a non-extractable object labelled by the URI's object=.  On success *pub (if pub is not NULL) gets
 * the public key (caller frees).  Returns 0 or -1.
 */
int signer_genkey(struct signer *s, enum keyfile_type t, const char *path,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen);

/*
 * LOAD: make the key in path (or on the token, for a PKCS #11 URI) the
 * active key.  The file must be mode 0600
 * (no group/other bits); pass_path (NULL = none) names a 0600 file holding
 * the passphrase of an encrypted key.  The key must pass
 * keyfile_check_ca_key.  *pub as for signer_genkey.  Returns 0 or -1.
 */
int signer_load(struct signer *s, const char *path, const char *pass_path,
    EVP_PKEY **pub, char *err, size_t errlen);

/*
 * IMPORT: read the officer's key file src (mode 0600; decrypted with
 * pass_path if given), check it, write it to dst (new file, mode 0600,
 * encrypted with the same passphrase when pass_path is given) and make it
 * the active key.  *pub as for signer_genkey.  Returns 0 or -1.
 */
int signer_import(struct signer *s, const char *src, const char *dst,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen);

/*
 * IMPORT undone, for an import the engine refused after it (the key does
 * not match the certificate): the signer removes the file the last IMPORT
 * wrote — only if it is still that very file — and drops the key.  With
 * daemon.signer_user only the signer may write the key's directory.  The
 * handle still names the key: signer_forget_key then.  Returns 0 or -1.
 */
int signer_import_undo(struct signer *s, char *err, size_t errlen);

/*
 * SIGN_CERT: have the signer sign cert (built by certgen; its signature
 * fields are overwritten here with a throwaway seal so that it encodes).
 * The signer refuses a certificate carrying the CA's own public key unless
 * flags has SIGNER_SELF_SIGNED (and then it must be a self-issued CA
 * certificate for exactly that key), and refuses CA:TRUE certificates
 * otherwise.  Digest: SHA-384 for a P-384 CA key, SHA-256 otherwise.  The
 * result is checked as by signer_sign_cert_der below, then decoded.  On
 * success *out is a new signed X509 (caller frees).  Returns 0 or -1.
 */
int signer_sign_cert(struct signer *s, X509 *cert, unsigned flags,
    X509 **out, char *err, size_t errlen);

/*
 * SIGN_CERT as above, without decoding the result: *der (malloc'd, caller
 * frees) and *derlen are the signed certificate.  Before it is returned
 * the engine checks, on the bytes, that it is one DER certificate whose
 * TBSCertificate is exactly the one sent but for the signature algorithm
 * field, that both algorithm fields are the CA key's, and that the
 * signature verifies with the CA public key over that TBSCertificate.  So
 * the fields of cert (serial, validity, issuer, ...) are those of *der.
 * Returns 0 or -1.
 */
int signer_sign_cert_der(struct signer *s, X509 *cert, unsigned flags,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/*
 * SIGN_CRL: have the signer sign the unsigned CRL crl[0..len) made by
 * crlgen_build (the signer checks its shape first: see crlsign.h).  On
 * success *der is the signed CRL in DER (malloc'd, caller frees) and
 * *derlen its length — what goes to the CRL file and to LDAP.  Returns 0
 * or -1.
 */
int signer_sign_crl(struct signer *s, const unsigned char *crl, size_t len,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/*
 * PUBKEY: the active key's public half (*pub, caller frees), or -1 with
 * "no key loaded".
 */
int signer_pubkey(struct signer *s, EVP_PKEY **pub, char *err,
    size_t errlen);

/*
 * RETIRE (ca rollover with daemon.signer_user, where only the signer's user
 * may write the key's directory): the child makes gen-<gen> (0700) beside
 * its loaded key file, writes pem[0..pemlen) (the CA certificate) there as
 * ca.pem and moves the key file to gen-<gen>/ca.key, keeping the key; with
 * undo, it puts the last retired key back.  The handle's key path follows
 * (signer_restart re-loads from there).  A token key (loaded by its URI)
 * has its URI file moved instead: uri_file (<key file>.uri, which must
 * record that very key) goes to gen-<gen>/ca.key.uri, and back on undo;
 * uri_file is ignored for a file key.  Returns 0 or -1.
 */
int signer_retire(struct signer *s, unsigned gen, const char *pem, size_t pemlen,
    const char *uri_file, int undo, char *err, size_t errlen);

/*
 * KEY_URI: the child records its active token key by uri (the URI it was
 * generated or loaded by; checked with p11uri_parse, at most P11URI_MAX
 * bytes) in uri_file, a new "*.uri" file in the key's directory (mode
 * 0600, never over an existing file or symbolic link, appearing whole or
 * not at all, fsynced).  The engine need not be able to write there
 * (daemon.signer_user).  Returns 0 or -1.
 */
int signer_key_uri(struct signer *s, const char *uri_file, const char *uri, char *err,
    size_t errlen);

/*
 * Replace a dead, timed-out or live child by a new one and re-load the
 * last key that was loaded, generated or imported (by path; the engine
 * never held the key).  Requests still queued fail ("the signer was
 * restarted").  Waits for the new signer: returns 0 or -1.
 */
int signer_restart(struct signer *s, char *err, size_t errlen);

/*
 * Forget the active key: the handle no longer names one, so the next
 * restart (signer_restart, signer_restart_async) starts a keyless signer
 * and re-loads nothing.  The running child keeps what it holds until
 * then.  For an import that failed its checks.
 */
void signer_forget_key(struct signer *s);

/*
 * The same without waiting, for an engine that runs an event loop (see
 * "Asynchronous requests"): the old child goes at once (SIGKILL), the new
 * one is forked (or asked of the launcher, whose answer comes on
 * signer_fd()), and its start-up report and the key's LOAD go at the head
 * of the queue.  Requests already queued and those submitted meanwhile
 * wait behind them and run once the key is loaded; only the one the old
 * child had been sent fails.  If the new signer does not start, every
 * waiting request fails with "signer restart failed: ..."; if the key does
 * not load, they fail likewise and the new signer stays, keyless.  A
 * restart under way is not started again.  Returns 0 (under way), or -1
 * with err (failed at once, e.g. the launcher is gone; waiting requests
 * were failed).
 */
int signer_restart_async(struct signer *s, char *err, size_t errlen);
/* Is a restart under way (the new signer not yet started or keyed)? */
int signer_restarting(const struct signer *s);
/* Why the last restart failed, or NULL (none failed since the last one
 * began).  Valid until the next restart. */
const char *signer_restart_error(const struct signer *s);
/*
 * With dropped privileges (a launcher): has the launcher died (checked now,
 * without blocking; the launcher is reaped)?  Then no signer can be
 * started again until provd restarts, and the live one, if any, goes on
 * signing.  0 without a launcher.
 */
int signer_launcher_gone(struct signer *s);
/* The launcher's pid, or -1 (none, or gone). */
pid_t signer_launcher_pid(const struct signer *s);

/*
 * One request/reply exchange for the modules that add requests of their
 * own (signer_ocsp.c): fields f[0..nf), a reply of at most reply_max body
 * bytes into *reply (release with signer_msg_free).  A transport failure
 * marks the handle broken (signer_restart); an error reply is -1 with the
 * signer's message.  Returns 0 or -1.
 */
struct signer_field;
struct signer_msg;
int signer_call(struct signer *s, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, size_t reply_max,
    struct signer_msg *reply, char *err, size_t errlen);

/*
 * Asynchronous requests, for an engine that runs an event loop.
 *
 * The signer's socket is then an event source: the caller watches
 * signer_fd() for signer_want() (SIGNER_WANT_READ / _WRITE, the values of
 * EPOLLIN / EPOLLOUT) and calls signer_io() when it is ready, and
 * signer_expire() now and then while signer_queued() is not zero.  Requests
 * queue in order; only the head is on the wire.  Each request holds its own
 * copy of what it sends, so the caller's buffers may go as soon as the
 * submit returns.  Every submitted request is answered exactly once, from
 * signer_io() or signer_expire() (never from inside the submit): rc 0 with
 * the result, or -1 with a message.  der is valid during the callback only;
 * pub belongs to the callback.  A callback may submit or restart, but never
 * stop the handle.
 *
 * A synchronous call (the functions above) made while requests are queued
 * waits for them first (their answers are kept and delivered by the next
 * signer_io(); signer_set_notify names who to tell), except behind a key
 * generation: it then fails at once with "the signer is generating a key".
 *
 * signer_sign_crl_async: as signer_sign_crl.
 * signer_genkey_async: as signer_genkey, with the key generation timeout.
 * Both return 0 (queued), or -1 with err (nothing queued: the handle is
 * broken or out of memory; the callback is not called).
 */
#define SIGNER_WANT_READ  0x001u
#define SIGNER_WANT_WRITE 0x004u

/* signer_call_async: any request op with fields f[0..nf) whose answer is
 * one field (at most reply_max bytes), handed to cb as der. */
struct signer_field;
int signer_call_async(struct signer *s, uint8_t op,
    const struct signer_field *f, size_t nf, size_t reply_max,
    signer_der_fn *cb, void *ctx, char *err, size_t errlen);
/* signer_sign_cert_async: as signer_sign_cert_der (the same checks). */
int signer_sign_cert_async(struct signer *s, X509 *cert, unsigned flags,
    signer_der_fn *cb, void *ctx, char *err, size_t errlen);
int signer_sign_crl_async(struct signer *s, const unsigned char *crl,
    size_t len, signer_der_fn *cb, void *ctx, char *err, size_t errlen);
/*
 * signer_reply_take: from inside a successful der callback of s, take the
 * received message that der (the callback's argument) lies in, instead of
 * copying der: *buf is the caller's from then on (free() it; der stays
 * valid inside it until then) and the signer no longer wipes or frees it.
 * For public answers only (a CRL, a certificate): the buffer is not wiped.
 * 0, or -1 (*buf NULL: not inside such a callback, another der, or taken
 * already) when the caller must copy der as usual.
 */
int signer_reply_take(struct signer *s, const unsigned char *der,
    unsigned char **buf);
int signer_genkey_async(struct signer *s, enum keyfile_type t,
    const char *path, const char *pass_path, signer_key_fn *cb, void *ctx,
    char *err, size_t errlen);
int signer_fd(const struct signer *s);
unsigned signer_want(const struct signer *s);
void signer_io(struct signer *s);
void signer_expire(struct signer *s);
size_t signer_queued(const struct signer *s);
/* Is a key being generated (queued)?  The engine refuses a second one. */
int signer_keygen_queued(const struct signer *s);
/* Has a transport failure (or no child) left the handle unusable until a
 * restart?  Not while a restart is under way: requests queue then. */
int signer_broken(const struct signer *s);
/*
 * Hooks for the caller that watches signer_fd(): notify(ctx) when answers
 * wait for signer_io() without the socket being readable (a synchronous
 * call answered them); closing(ctx, fd) just before the handle closes its
 * socket (a restart or stop), so the watch goes before the fd number can
 * be reused.  Either may be NULL.
 */
void signer_set_hooks(struct signer *s, void (*notify)(void *),
    void (*closing)(void *, int), void *ctx);

/*
 * Spare signers, for daemon.signer_user: once the engine has dropped its
 * privileges it can fork nothing as the signer's user, and a rollover uses
 * up a signer (it becomes the retired generation's).  The spawner, forked
 * before the drop (signer_spawner_start, cfg as for signer_start with
 * drop_privileges), answers one request only: a new launcher of its own
 * (signer_spawner_main), which then starts signers for a new handle as
 * signer_start's launcher does.  Nothing running is touched.
 *
 * signer_spawner_ask sends the request (a second while one waits is a
 * no-op): 0, or -1 with err when the spawner is gone (for good).  Its
 * answer comes on signer_spawner_fd (-1 while none is asked for: nothing
 * to watch); then signer_spawner_take: 0 with *out a new handle (caller
 * owns it, signer_stop) whose signer is being started as by
 * signer_restart_async (no key: signer_load it; a synchronous call waits
 * for the start), 1 (no answer yet), or -1 with err (the spawner failed
 * or, past the timeout, is given up).
 */
struct signer_spawner;
int signer_spawner_start(const struct signer_config *cfg,
    struct signer_spawner **out, char *err, size_t errlen);
int signer_spawner_ask(struct signer_spawner *sp, char *err, size_t errlen);
int signer_spawner_fd(const struct signer_spawner *sp);
int signer_spawner_take(struct signer_spawner *sp, struct signer **out,
    char *err, size_t errlen);
/* Has the spawner failed for good (NULL: there is none)? */
int signer_spawner_gone(const struct signer_spawner *sp);
pid_t signer_spawner_pid(const struct signer_spawner *sp);
/* Close its socket (it leaves; the launchers it made stay), reap it. */
void signer_spawner_stop(struct signer_spawner *sp);

/* The child's pid (for supervision and tests); -1 when none. */
pid_t signer_pid(const struct signer *s);

/*
 * Close the socket (the child exits on end-of-file), reap the child
 * (SIGKILL after 2 s), free s.  NULL is a no-op.
 */
void signer_stop(struct signer *s);

#endif
