/* ca — CA lifecycle in the engine. See ca.h. */
#include "ca.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certgen.h"
#include "crlgen.h"
#include "dir.h"
#include "fingerprint.h"
#include "keyfile.h"
#include "keygen.h"
#include "keyinfo.h"
#include "log.h"
#include "loop.h"
#include "p11uri.h"
#include "pem.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "request.h"
#include "signer.h"
#include "xmalloc.h"

#define CERT_FILE_MAX (256 * 1024)

bool
ca_ready(const struct provd *pd)
{
	return pd->pki != NULL && pd->pki->cacert != NULL;
}

static bool
exists(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0;
}

/* A CA key on a PKCS #11 token is recorded by its URI in <key_file>.uri
 * (public: no PIN); then no key file exists. */
void
ca_key_uri_path(const struct config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s.uri", cfg->key_file);
}

static bool
ca_key_exists(const struct config *cfg)
{
	char up[4096];

	ca_key_uri_path(cfg, up, sizeof(up));
	return exists(cfg->key_file) || exists(up);
}

bool
ca_present(const struct provd *pd)
{
	return ca_ready(pd) || ca_key_exists(&pd->cfg) || exists(pd->cfg.cert_file);
}

int
ca_read_key_uri(const char *up, char *uri, char *err, size_t errlen)
{
	char extra;
	FILE *f;
	size_t n;
	struct p11uri u;

	if ((f = fopen(up, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", up, strerror(errno));
		return -1;
	}
	n = fread(uri, 1, P11URI_MAX, f);
	uri[n] = '\0';
	if (n == P11URI_MAX && fread(&extra, 1, 1, f) == 1)
		n = 0;
	fclose(f);
	while (n > 0 && uri[n - 1] == '\n')
		uri[--n] = '\0';
	if (n == 0 || memchr(uri, '\n', n) != NULL ||
	    p11uri_parse(uri, &u, err, errlen) < 0) {
		snprintf(err, errlen, "%s: not one PKCS#11 URI line", up);
		return -1;
	}
	return 0;
}

/* The CA certificate is public: any mode is fine, but it must parse. */
X509 *
ca_load_cert_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	BIO *b;
	X509 *x = NULL;

	if (stat(path, &st) < 0 || st.st_size > CERT_FILE_MAX) {
		snprintf(err, errlen, "%s: missing or larger than %d bytes", path, CERT_FILE_MAX);
		return NULL;
	}
	if ((b = BIO_new_file(path, "r")) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		snprintf(err, errlen, "%s: not a PEM certificate", path);
	return x;
}

static int
mkdir_for(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
ca_start(struct provd *pd, bool drop, uid_t uid, gid_t gid, uid_t signer_uid,
         char *err, size_t errlen)
{
	bool split = drop && signer_uid != (uid_t)-1;
	struct signer_config sc = { .drop_privileges = drop, .uid = split ? signer_uid : uid,
	                            .gid = gid,
	                            .pkcs11_module = pd->cfg.pkcs11_module,
	                            .pkcs11_pin_file = pd->cfg.pkcs11_pin_file };
	struct config *cfg = &pd->cfg;
	struct pki *pki;
	char dir[4096], uri[P11URI_MAX + 1];
	EVP_PKEY *pub = NULL;
	int rc = -1;

	pki = xcalloc(1, sizeof(*pki));
	LIST_INIT(&pki->signs);
	pki->watch_fd = -1;
	pki->spare_fd = -1;
	pd->pki = pki;
	snprintf(dir, sizeof(dir), "%s/profiles", cfg->template_dir);
	if (profile_load_dir(dir, &pki->profiles, err, errlen) < 0)
		return -1;
	if (keygen_locate(dir, sizeof(dir)) < 0)
		log_info("pki: %s; cert issue --generate is disabled", dir);
	if (cfg->escrow_cert_file != NULL &&
	    (pki->escrow_cert = ca_load_cert_file(cfg->escrow_cert_file, err, errlen)) == NULL)
		return -1;
	if (cfg->key_file == NULL || cfg->cert_file == NULL || cfg->crl_file == NULL) {
		log_info("pki: no key_file/cert_file/crl_file configured; certificate "
		         "commands are disabled");
		return 0;
	}
	if (mkdir_for(cfg->key_file, err, errlen) < 0 ||
	    mkdir_for(cfg->crl_file, err, errlen) < 0)
		return -1;
	snprintf(pki->key_dir, sizeof(pki->key_dir), "%s", cfg->key_file);
	if (strrchr(pki->key_dir, '/') != NULL && strrchr(pki->key_dir, '/') != pki->key_dir) {
		*strrchr(pki->key_dir, '/') = '\0';
		sc.key_dir = pki->key_dir;
	}
	if (drop) {
		snprintf(dir, sizeof(dir), "%s", cfg->key_file);
		*strrchr(dir, '/') = '\0';
		if (split) {
			char other[4096];

			/* The key's directory is the signer's alone: the
			 * engine writes the certificate and the CRL elsewhere. */
			snprintf(other, sizeof(other), "%s", cfg->cert_file);
			*strrchr(other, '/') = '\0';
			if (strcmp(other, dir) == 0) {
				snprintf(err, errlen, "pki: with daemon.signer_user, key_file must "
				         "be in a directory of its own (%s also holds cert_file)", dir);
				return -1;
			}
			snprintf(other, sizeof(other), "%s", cfg->crl_file);
			*strrchr(other, '/') = '\0';
			if (strcmp(other, dir) == 0) {
				snprintf(err, errlen, "pki: with daemon.signer_user, key_file must "
				         "be in a directory of its own (%s also holds crl_file)", dir);
				return -1;
			}
			if (chown(dir, signer_uid, gid) < 0 || chmod(dir, 0700) < 0) {
				snprintf(err, errlen, "pki: %s: %s", dir, strerror(errno));
				return -1;
			}
			/* A key file left by an earlier layout becomes the
			 * signer's too. */
			if (exists(cfg->key_file) && chown(cfg->key_file, signer_uid, gid) < 0) {
				snprintf(err, errlen, "pki: chown %s: %s", cfg->key_file,
				         strerror(errno));
				return -1;
			}
		} else if (chown(dir, uid, gid) < 0) {
			log_warn("pki: chown %s", dir);
		}
		snprintf(dir, sizeof(dir), "%s", cfg->crl_file);
		*strrchr(dir, '/') = '\0';
		if (chown(dir, uid, gid) < 0)
			log_warn("pki: chown %s", dir);
		if (split) {
			/* The engine writes the CA certificate (ca create). */
			if (mkdir_for(cfg->cert_file, err, errlen) < 0)
				return -1;
			snprintf(dir, sizeof(dir), "%s", cfg->cert_file);
			*strrchr(dir, '/') = '\0';
			if (chown(dir, uid, gid) < 0)
				log_warn("pki: chown %s", dir);
		}
	}
	if (signer_start(&sc, &pki->signer, err, errlen) < 0)
		return -1;
	/* The spare becomes a retired generation's signer: it may sign that
	 * rollover's one link certificate. */
	sc.link_certificates = 1;
	if (split && (signer_start(&sc, &pki->spare, err, errlen) < 0 ||
	              signer_spawner_start(&sc, &pki->spawner, err, errlen) < 0))
		return -1;
	sc.link_certificates = 0;
	if (!ca_key_exists(cfg) && !exists(cfg->cert_file))
		return 0;    /* no CA yet: `ca create` or `ca import` makes one */
	if (!ca_key_exists(cfg) || !exists(cfg->cert_file)) {
		snprintf(err, errlen, "pki: only one of %s (or %s.uri) and %s exists; refusing "
		         "to start", cfg->key_file, cfg->key_file, cfg->cert_file);
		return -1;
	}
	if (exists(cfg->key_file)) {
		if (signer_load(pki->signer, cfg->key_file, cfg->key_passphrase_file, &pub,
		                err, errlen) < 0)
			goto out;
	} else {
		ca_key_uri_path(cfg, dir, sizeof(dir));
		if (ca_read_key_uri(dir, uri, err, errlen) < 0 ||
		    signer_load(pki->signer, uri, NULL, &pub, err, errlen) < 0)
			goto out;
		snprintf(pki->key_uri, sizeof(pki->key_uri), "%s", uri);
	}
	if ((pki->cacert = ca_load_cert_file(cfg->cert_file, err, errlen)) == NULL)
		goto out;
	if (certgen_check_ca_pair(pki->cacert, pub, 0, err, errlen) < 0) {
		X509_free(pki->cacert);
		pki->cacert = NULL;
		goto out;
	}
	log_info("pki: CA loaded (%s); the key stays in the signer (pid %d)",
	         cfg->cert_file, (int)signer_pid(pki->signer));
	rc = 0;
out:
	EVP_PKEY_free(pub);
	return rc;
}

/* ---- the signer's socket as an event source ------------------------ */

#define EXPIRY_TICK_MS     500
#define SUPERVISE_MS       1000
#define RESPAWN_BACKOFF_S  30

static void on_signer_io(void *ctx, int fd, uint32_t events);
static void on_expiry(void *ctx);

static void
unwatch(struct pki *pki, struct provd *pd)
{
	if (pki->watch_fd >= 0)
		loop_del_fd(pd->loop, pki->watch_fd);
	pki->watch_fd = -1;
}

/* The signer handle is about to close fd (restart, stop). */
static void
on_signer_closing(void *ctx, int fd)
{
	struct provd *pd = ctx;

	if (pd->pki != NULL && pd->pki->watch_fd == fd)
		unwatch(pd->pki, pd);
}

static void
deliver_deferred(void *ctx)
{
	struct provd *pd = ctx;

	pd->pki->deliver_due = false;
	if (pd->pki->signer != NULL)
		signer_io(pd->pki->signer);
	ca_signer_watch(pd);
}

/* A synchronous call answered queued requests: deliver them next turn. */
static void
on_signer_notify(void *ctx)
{
	struct provd *pd = ctx;

	if (pd->loop == NULL || pd->pki->deliver_due)
		return;
	loop_defer(pd->loop, deliver_deferred, pd);
	pd->pki->deliver_due = true;
}

void
ca_signer_watch(struct provd *pd)
{
	struct pki *pki = pd->pki;
	struct signer *sg = pki != NULL ? pki->signer : NULL;
	uint32_t ev = 0;
	unsigned want;
	int fd;

	if (sg == NULL || pd->loop == NULL)
		return;
	signer_set_hooks(sg, on_signer_notify, on_signer_closing, pd);
	fd = signer_fd(sg);
	want = signer_want(sg);
	if (want & SIGNER_WANT_READ)
		ev |= EPOLLIN;
	if (want & SIGNER_WANT_WRITE)
		ev |= EPOLLOUT;
	if (ev == 0 || fd != pki->watch_fd || signer_pid(sg) != pki->watch_pid)
		unwatch(pki, pd);
	if (ev != 0 && pki->watch_fd < 0) {
		if (loop_add_fd(pd->loop, fd, ev, on_signer_io, pd) < 0) {
			log_warn("pki: watching the signer");
		} else {
			pki->watch_fd = fd;
			pki->watch_pid = signer_pid(sg);
		}
	} else if (ev != 0) {
		(void)loop_mod_fd(pd->loop, fd, ev);
	}
	if ((signer_queued(sg) > 0 || signer_restarting(sg)) && pki->expiry == NULL)
		pki->expiry = loop_timer(pd->loop, EXPIRY_TICK_MS, on_expiry, pd);
}

/* The launcher of the signers is gone (daemon.signer_user, or daemon.user):
 * said once, loudly; `status` says it for as long as it lasts. */
static void
check_launcher(struct provd *pd)
{
	struct pki *pki = pd->pki;

	if (pki->launcher_lost || !signer_launcher_gone(pki->signer))
		return;
	pki->launcher_lost = true;
	log_warnx("pki: the signer launcher has ended: a signer that ends can no longer be "
	          "replaced, and certificates and CRLs will be refused then; restart provd "
	          "to restore it");
}

/* The signer died between requests (or the stream broke): a new one, without
 * waiting for it, so the next request finds it ready (or queues behind it).
 * After a failed restart the next automatic one waits RESPAWN_BACKOFF_S; a
 * request tries at once. */
static void
respawn_if_dead(struct provd *pd)
{
	struct pki *pki = pd->pki;
	char err[256];

	check_launcher(pd);
	if (!signer_broken(pki->signer) || signer_queued(pki->signer) > 0 ||
	    pki->launcher_lost || time(NULL) < pki->respawn_after)
		return;
	log_warnx("pki: the signer ended; starting a new one");
	if (signer_restart_async(pki->signer, err, sizeof(err)) < 0) {
		log_warnx("pki: signer restart: %s", err);
		pki->respawn_after = time(NULL) + RESPAWN_BACKOFF_S;
	}
}

/* A restart begun on the loop has ended badly: say so once. */
static void
note_restart(struct provd *pd)
{
	const char *why = signer_restart_error(pd->pki->signer);

	if (why == NULL || signer_restarting(pd->pki->signer)) {
		pd->pki->restart_noted = false;
		return;
	}
	if (pd->pki->restart_noted)
		return;
	pd->pki->restart_noted = true;
	pd->pki->respawn_after = time(NULL) + RESPAWN_BACKOFF_S;
	log_warnx("pki: %s", why);
}

static void
on_signer_io(void *ctx, int fd, uint32_t events)
{
	struct provd *pd = ctx;

	(void)fd;
	(void)events;
	signer_io(pd->pki->signer);
	note_restart(pd);
	respawn_if_dead(pd);
	ca_signer_watch(pd);
}

static void
on_expiry(void *ctx)
{
	struct provd *pd = ctx;

	pd->pki->expiry = NULL;
	signer_expire(pd->pki->signer);
	note_restart(pd);
	respawn_if_dead(pd);
	ca_signer_watch(pd);
}

/* Now and then: is the launcher there, is the signer (seen even before the
 * first request watches its socket)? */
static void
on_supervise(void *ctx)
{
	struct provd *pd = ctx;

	pd->pki->supervise = loop_timer(pd->loop, SUPERVISE_MS, on_supervise, pd);
	if (pd->pki->signer == NULL)        /* between two handles (ca import) */
		return;
	signer_expire(pd->pki->signer);     /* a launcher that never answers */
	note_restart(pd);
	respawn_if_dead(pd);
	ca_signer_watch(pd);
}

void
ca_supervise_start(struct provd *pd)
{
	if (pd->pki == NULL || pd->pki->signer == NULL || pd->loop == NULL ||
	    pd->pki->supervise != NULL)
		return;
	ca_signer_watch(pd);
	pd->pki->supervise = loop_timer(pd->loop, SUPERVISE_MS, on_supervise, pd);
}

void
ca_signer_health(struct provd *pd, char *buf, size_t len)
{
	struct pki *pki = pd->pki;
	struct signer *sg = pki != NULL ? pki->signer : NULL;
	const char *why;

	if (sg == NULL) {
		snprintf(buf, len, "none (no CA configured)");
		return;
	}
	check_launcher(pd);
	why = signer_restart_error(sg);
	if (signer_restarting(sg))
		snprintf(buf, len, "restarting");
	else if (signer_broken(sg))
		snprintf(buf, len, "not running%s%s", why != NULL ? ": " : "", why != NULL ? why : "");
	else
		snprintf(buf, len, "running (pid %d)", (int)signer_pid(sg));
	if (pki->launcher_lost) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "; launcher gone: a signer that ends cannot be "
		         "replaced until provd restarts");
	}
}

const char *
ca_signer_error(struct provd *pd)
{
	const char *why = signer_restart_error(pd->pki->signer);

	if (why != NULL)
		return why;
	return pd->pki->launcher_lost ? "the signer ended and cannot be replaced: its launcher "
	                                "is gone (restart provd)" : "the signer is not running";
}

/* ---- the retired generations' signers as event sources -------------- */

/* One other signer handle, watched only while it has requests queued (it
 * is restarted by its next user when it died meanwhile). */
struct ca_watch {
	struct ca_watch *next;
	struct provd    *pd;
	struct signer   *sg;
	int              fd;          /* in the loop, or -1 */
	struct timer    *expiry;
	bool             deliver_due;
};

static void other_update(struct ca_watch *w);

static void
other_io(void *ctx, int fd, uint32_t events)
{
	struct ca_watch *w = ctx;

	(void)fd;
	(void)events;
	signer_io(w->sg);
	other_update(w);
}

static void
other_expiry(void *ctx)
{
	struct ca_watch *w = ctx;

	w->expiry = NULL;
	signer_expire(w->sg);
	other_update(w);
}

static void
other_deliver(void *ctx)
{
	struct ca_watch *w = ctx;

	w->deliver_due = false;
	signer_io(w->sg);
	other_update(w);
}

static void
other_notify(void *ctx)
{
	struct ca_watch *w = ctx;

	if (w->deliver_due)
		return;
	loop_defer(w->pd->loop, other_deliver, w);
	w->deliver_due = true;
}

static void
other_closing(void *ctx, int fd)
{
	struct ca_watch *w = ctx;

	if (w->fd == fd) {
		loop_del_fd(w->pd->loop, fd);
		w->fd = -1;
	}
}

static void
other_update(struct ca_watch *w)
{
	unsigned want = signer_queued(w->sg) > 0 ? signer_want(w->sg) : 0;
	uint32_t ev = ((want & SIGNER_WANT_READ) ? EPOLLIN : 0) |
	              ((want & SIGNER_WANT_WRITE) ? EPOLLOUT : 0);
	int fd = signer_fd(w->sg);

	if (w->fd >= 0 && (ev == 0 || fd != w->fd)) {
		loop_del_fd(w->pd->loop, w->fd);
		w->fd = -1;
	}
	if (ev != 0 && w->fd < 0) {
		if (loop_add_fd(w->pd->loop, fd, ev, other_io, w) < 0)
			log_warn("pki: watching a retired generation's signer");
		else
			w->fd = fd;
	} else if (ev != 0) {
		(void)loop_mod_fd(w->pd->loop, fd, ev);
	}
	if (ev != 0 && w->expiry == NULL)
		w->expiry = loop_timer(w->pd->loop, EXPIRY_TICK_MS, other_expiry, w);
}

void
ca_signer_watch_other(struct provd *pd, struct signer *sg)
{
	struct ca_watch *w;

	if (pd->loop == NULL || sg == NULL)
		return;
	for (w = pd->pki->watches; w != NULL && w->sg != sg; w = w->next)
		;
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->pd = pd;
		w->sg = sg;
		w->fd = -1;
		w->next = pd->pki->watches;
		pd->pki->watches = w;
		signer_set_hooks(sg, other_notify, other_closing, w);
	}
	other_update(w);
}

int
ca_signer_unwatch_other(struct provd *pd, struct signer *sg)
{
	struct ca_watch **pw, *w;

	for (pw = &pd->pki->watches; *pw != NULL && (*pw)->sg != sg; pw = &(*pw)->next)
		;
	if ((w = *pw) == NULL)
		return 0;
	if (w->deliver_due)
		return -1;
	if (w->fd >= 0)
		loop_del_fd(pd->loop, w->fd);
	if (w->expiry != NULL)
		loop_timer_cancel(pd->loop, w->expiry);
	signer_set_hooks(sg, NULL, NULL, NULL);
	*pw = w->next;
	free(w);
	return 0;
}

/* A dead or stuck signer is replaced (it re-loads the key from its file
 * itself) without waiting: requests queue behind the restart.  true when
 * one is under way (begun here or before), false when it failed at once. */
static bool
recover(struct provd *pd, const char *what, const char *why)
{
	char err[256];

	if (signer_restarting(pd->pki->signer))
		return true;    /* requests queue behind the restart under way */
	log_warnx("pki: signer failed on %s (%s); restarting it", what, why);
	if (signer_restart_async(pd->pki->signer, err, sizeof(err)) < 0) {
		log_warnx("pki: signer restart: %s", err);
		return false;
	}
	ca_signer_watch(pd);
	return true;
}

bool
ca_signer_ready(struct provd *pd)
{
	return !signer_broken(pd->pki->signer) || recover(pd, "a request", "not running");
}

/* One signature in the signer's queue: what is sent again to a restarted
 * signer, held by the request itself (a CRL's bytes, or a reference of its
 * own to the certificate), and whom to tell. */
struct ca_sign {
	struct provd  *pd;
	unsigned char *tbs;       /* a CRL, or NULL */
	size_t         len;
	X509          *cert;      /* a certificate, or NULL */
	unsigned       flags;
	bool           retried;
	ca_der_fn     *cb;
	void          *ctx;
	LIST_ENTRY(ca_sign) entry;  /* in pki->signs until freed */
};

static void on_signed(void *ctx, int rc, const unsigned char *der, size_t derlen,
                      const char *err);

static int
sign_submit(struct ca_sign *cs, char *err, size_t errlen)
{
	struct signer *sg = cs->pd->pki->signer;

	if (cs->cert != NULL)
		return signer_sign_cert_async(sg, cs->cert, cs->flags, on_signed, cs, err, errlen);
	return signer_sign_crl_async(sg, cs->tbs, cs->len, on_signed, cs, err, errlen);
}

static void
sign_free(struct ca_sign *cs)
{
	LIST_REMOVE(cs, entry);
	X509_free(cs->cert);
	free(cs->tbs);
	free(cs);
}

/*
 * The signer died or stuck with cs sent or queued (every request it had
 * fails then, or only the one on the wire when a restart took it): cs is
 * sent once more, queued behind the one asynchronous restart (begun here
 * by the first of them, or already under way).  Not when the restart
 * itself failed: its reason (ca_signer_error) is the answer.
 */
static void
on_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *err)
{
	struct ca_sign *cs = ctx;
	struct signer *sg = cs->pd->pki->signer;
	char e2[256];

	if (rc < 0 && !cs->retried && signer_restart_error(sg) == NULL &&
	    (signer_broken(sg) || signer_restarting(sg))) {
		cs->retried = true;
		if (!recover(cs->pd, cs->cert != NULL ? "a certificate" : "a CRL", err)) {
			err = ca_signer_error(cs->pd);
		} else if (sign_submit(cs, e2, sizeof(e2)) == 0) {
			ca_signer_watch(cs->pd);
			return;
		} else {
			err = e2;
		}
	}
	cs->cb(cs->ctx, rc, der, derlen, err);
	sign_free(cs);
}

/* Queue cs (taken: freed here on failure). */
static int
sign_async(struct ca_sign *cs, char *err, size_t errlen)
{
	struct provd *pd = cs->pd;

	if (pd->pki->signer_busy || signer_keygen_queued(pd->pki->signer)) {
		snprintf(err, errlen, "the signer is generating a CA key; try again shortly");
		goto fail;
	}
	if (!ca_signer_ready(pd)) {
		snprintf(err, errlen, "%s", ca_signer_error(pd));
		goto fail;
	}
	if (sign_submit(cs, err, errlen) < 0)
		goto fail;
	ca_signer_watch(pd);
	return 0;
fail:
	sign_free(cs);
	return -1;
}

int
ca_sign_crl_async(struct provd *pd, const unsigned char *tbs, size_t len, ca_der_fn *cb,
                  void *ctx, char *err, size_t errlen)
{
	struct ca_sign *cs = xcalloc(1, sizeof(*cs));

	cs->pd = pd;
	LIST_INSERT_HEAD(&pd->pki->signs, cs, entry);
	cs->tbs = xmalloc(len > 0 ? len : 1);
	memcpy(cs->tbs, tbs, len);
	cs->len = len;
	cs->cb = cb;
	cs->ctx = ctx;
	return sign_async(cs, err, errlen);
}

int
ca_sign_cert_async(struct provd *pd, X509 *tbs, unsigned flags, ca_der_fn *cb, void *ctx,
                   char *err, size_t errlen)
{
	struct ca_sign *cs = xcalloc(1, sizeof(*cs));

	if (X509_up_ref(tbs) != 1) {
		free(cs);
		snprintf(err, errlen, "certificate: cannot hold it");
		return -1;
	}
	cs->pd = pd;
	LIST_INSERT_HEAD(&pd->pki->signs, cs, entry);
	cs->cert = tbs;
	cs->flags = flags;
	cs->cb = cb;
	cs->ctx = ctx;
	return sign_async(cs, err, errlen);
}

/* ---- spare signers (daemon.signer_user) ---------------------------------- */

static void
spare_settle(struct provd *pd)
{
	struct pki *pki = pd->pki;
	struct signer *n;
	char err[256];
	int r = signer_spawner_take(pki->spawner, &n, err, sizeof(err));

	if (r == 1)
		return;
	loop_del_fd(pd->loop, pki->spare_fd);
	pki->spare_fd = -1;
	if (pki->spare_timer != NULL)
		loop_timer_cancel(pd->loop, pki->spare_timer);
	pki->spare_timer = NULL;
	pki->spare_asked = false;
	if (r < 0) {
		snprintf(pki->spare_err, sizeof(pki->spare_err), "%s", err);
		log_warnx("pki: no new spare signer: %s", err);
		return;
	}
	pki->spare = n;
	pki->spare_err[0] = '\0';
	log_info("pki: a new spare signer is starting (launcher pid %ld)",
	         (long)signer_launcher_pid(n));
}

static void
on_spare_answer(void *ctx, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	spare_settle(ctx);
}

static void
on_spare_timer(void *ctx)
{
	struct provd *pd = ctx;

	pd->pki->spare_timer = NULL;
	spare_settle(pd);
	if (pd->pki->spare_asked)
		pd->pki->spare_timer = loop_timer(pd->loop, EXPIRY_TICK_MS, on_spare_timer, pd);
}

void
ca_spare_replenish(struct provd *pd)
{
	struct pki *pki = pd->pki;
	char err[256];
	int fd;

	if (pki->spare != NULL || pki->spare_asked || pd->loop == NULL)
		return;
	if (signer_spawner_ask(pki->spawner, err, sizeof(err)) < 0 ||
	    (fd = signer_spawner_fd(pki->spawner)) < 0 ||
	    loop_add_fd(pd->loop, fd, EPOLLIN, on_spare_answer, pd) < 0) {
		if (pki->spawner != NULL && signer_spawner_fd(pki->spawner) >= 0)
			snprintf(err, sizeof(err), "cannot watch the signer spawner");
		snprintf(pki->spare_err, sizeof(pki->spare_err), "%s", err);
		log_warnx("pki: no new spare signer: %s", err);
		return;
	}
	pki->spare_fd = fd;
	pki->spare_asked = true;
	pki->spare_timer = loop_timer(pd->loop, EXPIRY_TICK_MS, on_spare_timer, pd);
}

void
ca_stop(struct pki *pki)
{
	if (pki == NULL)
		return;
	if (pki->signer != NULL)
		signer_set_hooks(pki->signer, NULL, NULL, NULL);
	/* (pki->supervise and pki->expiry belong to the loop, freed with it.) */
	signer_stop(pki->signer);       /* drops its requests uncalled: */
	while (!LIST_EMPTY(&pki->signs))
		sign_free(LIST_FIRST(&pki->signs));
	signer_stop(pki->spare);
	signer_spawner_stop(pki->spawner);
	/* The retired generations' signers are stopped by now (rollover_free). */
	while (pki->watches != NULL) {
		struct ca_watch *w = pki->watches;

		pki->watches = w->next;
		if (w->expiry != NULL && w->pd->loop != NULL)
			loop_timer_cancel(w->pd->loop, w->expiry);
		free(w);
	}
	X509_free(pki->cacert);
	X509_free(pki->escrow_cert);
	profile_set_free(pki->profiles);
	free(pki);
}
