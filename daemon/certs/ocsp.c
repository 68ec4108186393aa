/* ocsp — pre-signed OCSP responses for every certificate.  See ocsp.h. */
#include "ocsp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "ca.h"
#include "certgen.h"
#include "crlgen.h"
#include "dir.h"
#include "fileio.h"
#include "log.h"
#include "loop.h"
#include "ocspgen.h"
#include "ocsp_unknown.h"
#include "pem.h"
#include "pkitime.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "schema.h"
#include "serial.h"
#include "signer.h"
#include "vec.h"
#include "signer_ocsp.h"
#include "workpool.h"
#include "xmalloc.h"

#define TICK_MS        (60u * 1000u)
#define BUSY_RETRY_MS  500u      /* the signer was busy at a tick */
#define FIRST_MS       200u
#define RESPONSES      "responses"
#define PATH_MAX_LEN   4096
#define UNKNOWN_HOURS  1         /* validity of an "unknown" answer */
/* Responses one signer request signs (and one worker task writes): a
 * prompt run waits at most for one batch of the run it overtakes. */
#define RUN_BATCH      1000u
/* A CRL changing at most this many responses answers once they are all
 * written; beyond it, only the ones a stale "good" could be served for
 * (see ocsp.h). */
#define PROMPT_MAX     1000u

/* One CA's delegated responder and where its responses go. */
struct responder {
	unsigned              gen;           /* 0: the current CA */
	X509                 *rcert;
	unsigned char        *rder;
	size_t                rderlen;
	time_t                r_from, r_until;
	unsigned char        *issuer_der;
	size_t                issuer_len;
	int                   rdirfd;        /* .../responses */
	bool                  force;         /* a retired one's: ocsp refresh --new-responder */
};

static const struct ocsp_hooks *hooks;

void
ocsp_set_hooks(const struct ocsp_hooks *h)
{
	hooks = h;
}

struct sign_job;
STAILQ_HEAD(sign_jobs, sign_job);
struct merge_job;
STAILQ_HEAD(merge_jobs, merge_job);

/* A full read's entries, sorted on a worker (scan_sort_work). */
struct scan_sort {
	struct ocsp_state    *s;
	struct ocspgen_entry *e;
	size_t                n, cap;
};

/* A published CRL's entries (sorted), shared by s->crl and the merges
 * that apply them; refs change on the loop only, a worker reads e[] while
 * its merge holds a reference. */
struct crl_copy {
	unsigned          refs;
	struct crl_entry *e;
	size_t            n;
};

/* A CRL to apply to the set (merge_next; see ocsp_crl_published). */
struct merge_job {
	STAILQ_ENTRY(merge_job) entry;
	struct ocsp_state    *s;
	struct crl_copy      *crl;           /* a reference of its own */
	bool                  then_full;     /* a full read's set: sign it all after */
	ocsp_done_fn         *done;
	void                 *ctx;
	/* the worker's: the frozen set (read only), and what it makes */
	const struct ocspgen_entry *v;
	size_t                n;
	struct ocspgen_entry *out;
	size_t                nout, capout;
	bool                  small;         /* at most PROMPT_MAX changed: all prompt */
	struct ocspgen_entry *prompt, *rest;
	size_t                nprompt, nrest;
};

struct ocsp_state {
	struct provd         *pd;
	struct sign_jobs      jobs;          /* signing runs, the head running */
	bool                  rolling;       /* a new responder key is being made */
	bool                  roll_tick;     /* ... for the tick */
	bool                  force_roll;    /* ocsp refresh --new-responder */
	unsigned              old_rolling;   /* a retired generation's responder is being
	                                      * renewed (its number; 0: none) */
	bool                  old_tick;      /* ... for the tick */
	bool                  old_restarted; /* ... and its signer was replaced */
	/* every certificate known, sorted by serial, as last signed.  Frozen
	 * while a merge runs (s->merging: a worker reads it): certificates
	 * issued meanwhile wait in held, a full read's result in scan_wait. */
	struct ocspgen_entry *v;
	size_t                n, cap;
	struct merge_jobs     merges;        /* CRLs to apply, oldest first */
	struct merge_job     *merging;       /* the one a worker applies */
	struct serial        *held;
	size_t                nheld, capheld;
	struct scan_sort     *scan_wait;
	bool                  have_set;      /* a full read of the records done */
	/* a full read in progress */
	bool                  scanning;
	struct ocspgen_entry *scan;
	size_t                nscan, capscan;
	size_t                scan_bad;      /* records skipped as unreadable */
	unsigned long         scan_crl_seq;
	struct serial        *late;          /* issued while reading */
	size_t                nlate, caplate;
	struct request       *waiter;        /* `ocsp refresh` */
	/* the last CRL this instance published */
	struct crl_copy      *crl;
	unsigned long         crl_seq;
	/* the delegated responders: the current CA's, and one per retired
	 * generation with unexpired certificates (old[g - 1], under
	 * ocsp_dir/gen-g/, opened on first use) */
	struct responder      cur;
	struct responder     *old;
	size_t                nold;
	struct sign_job      *inflight;      /* whose batch the signer or a worker has */
	/* history */
	time_t                last_full;
	time_t                last_signed;
	unsigned long         signed_total;
	unsigned long         rolls;
	unsigned long         unknowns;      /* "unknown" answers signed */
	unsigned long         on_demand;     /* answers signed before their file */
	unsigned long         unserved;      /* entries of generations not served, dropped */
	size_t                full_unserved; /* ... by the last full run */
	struct timer         *timer;
	struct ocsp_unknown  *unk;           /* provd-ocsp's questions */
};

struct sign_job {
	STAILQ_ENTRY(sign_job) entry;
	struct ocsp_state    *s;
	struct ocspgen_entry *e;
	size_t                n, done, batch;
	int                   tries;
	unsigned              gen;           /* its responder (0: the current CA's) */
	bool                  last;          /* the last run of its sign_entries */
	bool                  full;
	bool                  prompt;        /* queued ahead of the others */
	struct sign_job      *group;         /* that last run (itself when last) */
	bool                  group_bad;     /* (last run) a run of the group failed */
	ocsp_done_fn         *on_end;        /* whom to tell at the end, or NULL */
	void                 *on_end_ctx;
	/* the batch being written (worker thread: these fields only) */
	int                   dirfd;
	unsigned char        *out;
	size_t                outlen;
	int                   wrc;
	char                  bad[SERIAL_HEX_MAX + 1];
};

static void scan_start(struct ocsp_state *s);
static void job_free(struct sign_job *j);
static void merge_free(struct merge_job *j);
static void crl_copy_put(struct crl_copy *c);

/* ---- helpers ---------------------------------------------------------- */

static int
cmp_entry(const void *a, const void *b)
{
	return serial_cmp(&((const struct ocspgen_entry *)a)->serial,
	                  &((const struct ocspgen_entry *)b)->serial);
}

static bool
same_state(const struct ocspgen_entry *a, const struct ocspgen_entry *b)
{
	if (a->status != b->status)
		return false;
	return a->status == OCSPGEN_GOOD ||
	       (a->reason == b->reason && a->revoked_at == b->revoked_at &&
	        a->invalidity == b->invalidity);
}

static const struct ocspgen_entry *
find(const struct ocspgen_entry *v, size_t n, const struct serial *ser)
{
	struct ocspgen_entry key = { .serial = *ser };

	return n == 0 ? NULL : bsearch(&key, v, n, sizeof(*v), cmp_entry);
}

/* Write data to dir/name atomically (temporary file, rename); 0 or -1. */
static int
write_at(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[128];
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fileio_write_all(fd, data, len) == 0 && fchmod(fd, 0644) == 0)
		rc = 0;
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -1;
	if (rc < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return rc;
}

static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (dfd < 0)
		return -1;
	rc = write_at(dfd, name, data, len);
	close(dfd);
	return rc;
}

static struct ocsp_state *
state(struct provd *pd)
{
	struct pki *pki = pd->pki;

	if (pki->ocsp == NULL) {
		pki->ocsp = xcalloc(1, sizeof(*pki->ocsp));
		pki->ocsp->pd = pd;
		pki->ocsp->cur.rdirfd = -1;
		STAILQ_INIT(&pki->ocsp->jobs);
		STAILQ_INIT(&pki->ocsp->merges);
	}
	return pki->ocsp;
}

static void
responder_clear(struct responder *r)
{
	if (r->rdirfd >= 0)
		close(r->rdirfd);
	X509_free(r->rcert);
	free(r->rder);
	free(r->issuer_der);
	memset(r, 0, sizeof(*r));
	r->rdirfd = -1;
}

void
ocsp_state_free(struct ocsp_state *s)
{
	struct sign_job *j;
	struct merge_job *m;
	size_t i;

	if (s == NULL)
		return;
	if (s->timer != NULL)
		loop_timer_cancel(s->pd->loop, s->timer);
	while ((j = STAILQ_FIRST(&s->jobs)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->jobs, entry);
		job_free(j);
	}
	/* the pool is freed first (its done callbacks have run): no merge
	 * is with a worker any more */
	while ((m = STAILQ_FIRST(&s->merges)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->merges, entry);
		merge_free(m);
	}
	if (s->scan_wait != NULL) {
		free(s->scan_wait->e);
		free(s->scan_wait);
	}
	free(s->held);
	for (i = 0; i < s->nold; i++)
		responder_clear(&s->old[i]);
	free(s->old);
	responder_clear(&s->cur);
	ocsp_unknown_free(s->unk);
	free(s->v);
	free(s->scan);
	free(s->late);
	crl_copy_put(s->crl);
	free(s);
}

/* ---- the responder certificate ---------------------------------------- */

/* The CA of r and the signer holding its key (NULL: a retired generation
 * whose certificate expired, or unknown). */
static X509 *
ca_of(struct ocsp_state *s, const struct responder *r, struct signer **signer)
{
	struct provd *pd = s->pd;
	X509 *cert = NULL;

	*signer = NULL;
	if (r->gen == 0) {
		*signer = pd->pki->signer;
		return pd->pki->cacert;
	}
	if (hooks == NULL || hooks->retired(pd, r->gen, &cert, signer) < 0 || *signer == NULL)
		return NULL;
	return cert;
}

/* Is generation gen served (its responses signed)?  The current CA's
 * (0, or its number) always; a retired one's as long as rollover.c gives
 * it a signer (its gen_served: not once expired or archived).  Every
 * path that queues or signs a retired generation's entries asks here:
 * entries of a generation not served are dropped, counted, and neither
 * its directory nor its signer is touched. */
static bool
gen_served(const struct ocsp_state *s, unsigned gen)
{
	struct signer *signer = NULL;
	X509 *cert = NULL;

	if (gen == 0 || gen > s->pd->pki->ngens)
		return true;
	return hooks != NULL && hooks->retired(s->pd, gen, &cert, &signer) == 0 && signer != NULL;
}

/*
 * Adopt a responder certificate the signer signed for r (der: valid during
 * the call only; copied): it must be issuer's, is written to dir's
 * responder.pem, and its validity decides when r rolls again.  0, or -1
 * with err (r unchanged).
 */
static int
responder_adopt(struct ocsp_state *s, struct responder *r, X509 *issuer, const char *dir,
                const unsigned char *der, size_t derlen, char *err, size_t errlen)
{
	const unsigned char *p = der;
	char *pem = NULL;
	size_t pemlen = 0;
	time_t from, until;
	X509 *x;

	if ((x = d2i_X509(NULL, &p, (long)derlen)) == NULL ||
	    pkitime_from_asn1(X509_get0_notBefore(x), &from) < 0 ||
	    pkitime_from_asn1(X509_get0_notAfter(x), &until) < 0) {
		X509_free(x);
		snprintf(err, errlen, "responder certificate: unreadable");
		return -1;
	}
	/* A ca rollover between the key and the signature (ocsp_ca_changed):
	 * the certificate is not the current CA's; the run rolls again. */
	if (X509_verify(x, X509_get0_pubkey(issuer)) != 1) {
		X509_free(x);
		snprintf(err, errlen, "responder certificate: the CA changed meanwhile");
		return -1;
	}
	if (pem_encode("CERTIFICATE", der, derlen, &pem, &pemlen, err, errlen) < 0) {
		X509_free(x);
		return -1;
	}
	if (write_file(dir, "responder.pem", pem, pemlen) < 0)
		log_warn("ocsp: writing %s/responder.pem", dir);
	free(pem);
	X509_free(r->rcert);
	free(r->rder);
	r->rcert = x;
	r->rder = xmalloc(derlen);
	memcpy(r->rder, der, derlen);
	r->rderlen = derlen;
	r->r_from = from + CERTGEN_SKEW_SECONDS;
	r->r_until = until;
	s->rolls++;
	if (r->gen == 0)
		log_info("ocsp: new responder certificate, valid until %lld", (long long)until);
	else
		log_info("ocsp: new responder certificate of retired generation %u, valid "
		         "until %lld", r->gen, (long long)until);
	return 0;
}

/* Generation gen's responder, as opened by responder_for (the current
 * one for 0 or an unknown generation). */
static struct responder *
resp(struct ocsp_state *s, unsigned gen)
{
	return gen == 0 || gen > s->nold ? &s->cur : &s->old[gen - 1];
}

/*
 * A retired generation's responder: a new key in that generation's signer
 * and a certificate for it, issued by that generation's CA (never the
 * current CA), both through that signer's queue, one generation at a time
 * (s->old_rolling).  Nothing is held across the queue but the generation's
 * number: each step looks its responder, CA and signer up again.  A dead or
 * stuck signer is replaced once, without waiting (signer_restart_async; the
 * key request queues behind the restart).  old_roll_done then resumes the
 * run at the head, or (the tick's) renews the next generation due.
 */
static void old_roll_done(struct ocsp_state *s, int rc, const char *err);
static void on_old_key(void *ctx, int rc, const unsigned char *der, size_t derlen,
                       const char *why);

/* Ask the rolling generation's signer for a new responder key (restart:
 * replace the signer first).  0 (queued) or -1 with err. */
static int
old_newkey(struct ocsp_state *s, bool restart, char *err, size_t errlen)
{
	struct signer *signer;

	if (ca_of(s, resp(s, s->old_rolling), &signer) == NULL) {
		snprintf(err, errlen, "generation %u: no CA key to sign with", s->old_rolling);
		return -1;
	}
	if (restart || signer_ocsp_newkey_async(signer, on_old_key, s, err, errlen) < 0) {
		if (s->old_restarted)
			return -1;
		/* A dead or stuck signer: replace it once (it re-loads the CA key). */
		s->old_restarted = true;
		log_warnx("ocsp: retired generation %u: restarting its signer", s->old_rolling);
		if (signer_restart_async(signer, err, errlen) < 0 ||
		    signer_ocsp_newkey_async(signer, on_old_key, s, err, errlen) < 0)
			return -1;
	}
	ca_signer_watch_other(s->pd, signer);
	return 0;
}

static void
on_old_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct ocsp_state *s = ctx;
	struct responder *r = resp(s, s->old_rolling);
	struct signer *signer;
	X509 *cacert = ca_of(s, r, &signer);
	char err[512], dir[PATH_MAX_LEN];

	if (rc < 0) {
		old_roll_done(s, -1, why);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/gen-%u", s->pd->cfg.ocsp_dir, r->gen);
	if (cacert == NULL) {
		snprintf(err, sizeof(err), "generation %u: no CA key to sign with", r->gen);
		old_roll_done(s, -1, err);
	} else if (responder_adopt(s, r, cacert, dir, der, derlen, err, sizeof(err)) < 0) {
		old_roll_done(s, -1, err);
	} else {
		old_roll_done(s, 0, NULL);
	}
}

static void
on_old_key(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct ocsp_state *s = ctx;
	struct provd *pd = s->pd;
	struct signer *signer;
	struct certgen_ca ca = {
		.cert = ca_of(s, resp(s, s->old_rolling), &signer), .country = pd->cfg.country,
		.organization = pd->cfg.organization[0] ? pd->cfg.organization : NULL,
	};
	EVP_PKEY *pub = NULL;
	X509 *tbs = NULL;
	char err[512];

	if (rc < 0) {
		snprintf(err, sizeof(err), "%s", why);
		if (old_newkey(s, true, err, sizeof(err)) < 0)
			old_roll_done(s, -1, err);
		return;
	}
	if (ca.cert == NULL) {
		snprintf(err, sizeof(err), "generation %u: no CA key to sign with", s->old_rolling);
		old_roll_done(s, -1, err);
		return;
	}
	if (signer_ocsp_key_parse(der, derlen, &pub, err, sizeof(err)) < 0 ||
	    certgen_ocsp_responder(&ca, pub, pd->cfg.ocsp_responder_hours, 0, &tbs,
	                           err, sizeof(err)) < 0 ||
	    signer_sign_cert_async(signer, tbs, 0, on_old_signed, s, err, sizeof(err)) < 0) {
		EVP_PKEY_free(pub);
		X509_free(tbs);
		old_roll_done(s, -1, err);
		return;
	}
	EVP_PKEY_free(pub);
	X509_free(tbs);
	ca_signer_watch_other(pd, signer);
}

/* Begin renewing generation gen's responder (from_tick: the tick's, which
 * goes on with the next generation due).  Ends in old_roll_done. */
static void
old_roll_start(struct ocsp_state *s, unsigned gen, bool from_tick)
{
	char err[512];

	if (s->old_rolling != 0)
		return;
	s->old_rolling = gen;
	s->old_tick = from_tick;
	s->old_restarted = false;
	if (old_newkey(s, false, err, sizeof(err)) < 0)
		old_roll_done(s, -1, err);
}

/*
 * A new responder key in the current CA's signer and a certificate for it,
 * both through the signer's queue; roll_done then resumes the signing run at the head
 * (or, for the tick, has everything signed again).
 */
static void roll_done(struct ocsp_state *s, int rc, const char *err);

static void
on_responder_signed(void *ctx, int rc, const unsigned char *der, size_t derlen,
                    const char *why)
{
	struct ocsp_state *s = ctx;
	struct provd *pd = s->pd;
	char err[512];

	if (rc < 0)
		roll_done(s, -1, why);
	else if (responder_adopt(s, &s->cur, pd->pki->cacert, pd->cfg.ocsp_dir, der, derlen,
	                         err, sizeof(err)) < 0)
		roll_done(s, -1, err);
	else
		roll_done(s, 0, NULL);
}

static void
on_responder_key(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct ocsp_state *s = ctx;
	struct provd *pd = s->pd;
	struct certgen_ca ca = {
		.cert = pd->pki->cacert, .country = pd->cfg.country,
		.organization = pd->cfg.organization[0] ? pd->cfg.organization : NULL,
	};
	EVP_PKEY *pub = NULL;
	X509 *tbs = NULL;
	char err[512];

	if (rc < 0) {
		roll_done(s, -1, why);
		return;
	}
	if (signer_ocsp_key_parse(der, derlen, &pub, err, sizeof(err)) < 0 ||
	    certgen_ocsp_responder(&ca, pub, pd->cfg.ocsp_responder_hours, 0, &tbs,
	                           err, sizeof(err)) < 0 ||
	    signer_sign_cert_async(pd->pki->signer, tbs, 0, on_responder_signed, s, err,
	                           sizeof(err)) < 0) {
		EVP_PKEY_free(pub);
		X509_free(tbs);
		roll_done(s, -1, err);
		return;
	}
	EVP_PKEY_free(pub);
	X509_free(tbs);
	ca_signer_watch(pd);
}

static void
roll_start(struct ocsp_state *s, bool from_tick)
{
	struct provd *pd = s->pd;
	char err[512];

	if (s->rolling)
		return;
	s->rolling = true;
	s->roll_tick = from_tick;
	if (!ca_signer_ready(pd) ||
	    signer_ocsp_newkey_async(pd->pki->signer, on_responder_key, s, err,
	                             sizeof(err)) < 0) {
		if (!ca_signer_ready(pd))
			snprintf(err, sizeof(err), "the signer is not running");
		roll_done(s, -1, err);
		return;
	}
	ca_signer_watch(pd);
}

static bool
need_roll(const struct responder *r, time_t now)
{
	return r->rcert == NULL || r->force || now >= r->r_from + (r->r_until - r->r_from) / 2;
}

/* The current CA's responder: due, or forced (ocsp refresh --new-responder)? */
static bool
cur_needs_roll(const struct ocsp_state *s, time_t now)
{
	return s->force_roll || need_roll(&s->cur, now);
}

/* ---- signing and writing responses ------------------------------------ */

/* nextUpdate of a response signed at now valid for secs: before the
 * responder certificate ends (the signer refuses a nextUpdate at or after
 * its notAfter).  That cut matters in a CA's last ocsp_hours, when the
 * responder certificate, cut at the CA's notAfter, cannot roll further. */
static time_t
next_update(const struct responder *r, time_t now, time_t secs)
{
	return now + secs >= r->r_until ? r->r_until - 1 : now + secs;
}

/*
 * Signing runs.  Each holds its own copy of the entries; runs go one after
 * the other, batch by batch: the signer signs a batch through its queue
 * (the loop keeps serving), a worker thread writes its files, then the
 * next batch.  A run made by a full read (on_scan_done) ends by removing
 * stale files and answering `ocsp refresh`.
 */

static void job_next(struct ocsp_state *s);
static void batch_submit(struct sign_job *j);
static void remove_stale(struct ocsp_state *s);
static void refresh_reply(struct ocsp_state *s, int status, const char *msg);

static void
job_free(struct sign_job *j)
{
	free(j->e);
	free(j->out);
	free(j);
}

/* Write the responses in j->out (4-byte length + DER each) for the batch.
 * Worker thread. */
static void
write_work(void *arg)
{
	struct sign_job *j = arg;
	const struct ocspgen_entry *e = j->e + j->done;
	const unsigned char *buf = j->out;
	size_t i, off = 0, rl, len = j->outlen;
	char hex[SERIAL_HEX_MAX + 1];

	j->wrc = -1;
	for (i = 0; i < j->batch; i++) {
		if (len - off < 4)
			return;
		rl = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
		     (size_t)buf[off + 2] << 8 | buf[off + 3];
		off += 4;
		if (rl > len - off)
			return;
		serial_to_hex(&e[i].serial, 1, hex);
		if (write_at(j->dirfd, hex, buf + off, rl) < 0) {
			memcpy(j->bad, hex, sizeof(hex));
			return;
		}
		off += rl;
	}
	j->wrc = off == len ? 0 : -1;
}

static void
job_end(struct sign_job *j, bool ok)
{
	struct ocsp_state *s = j->s;
	char msg[400];

	/* a run overtaken by a prompt one may end while not at the head */
	STAILQ_REMOVE(&s->jobs, j, sign_job, entry);
	if (s->inflight == j)
		s->inflight = NULL;
	if (ok)
		s->last_signed = time(NULL);
	if (!ok && !j->last)
		log_warnx("ocsp: generation %u: %zu responses not signed", j->gen, j->n - j->done);
	/* one sign_entries, one answer: at its last run, for all its runs */
	if (!ok)
		j->group->group_bad = true;
	if (!j->last) {
		job_free(j);
		job_next(s);
		return;
	}
	ok = !j->group_bad;
	if (j->full && ok) {
		s->last_full = time(NULL);
		remove_stale(s);
		snprintf(msg, sizeof(msg), "%zu responses signed%s", s->n,
		         s->scan_bad ? " (unreadable records skipped)" : "");
		log_info("ocsp: %s", msg);
		refresh_reply(s, ST_OK, msg);
	} else if (j->full) {
		refresh_reply(s, ST_INTERNAL, "signing the responses failed (see the log)");
	} else if (!ok) {
		log_warnx("ocsp: %zu changed responses not signed; the next refresh retries",
		          j->n - j->done);
	}
	if (j->on_end != NULL)
		j->on_end(j->on_end_ctx);
	job_free(j);
	job_next(s);
}

static void
write_done(void *arg)
{
	struct sign_job *j = arg;

	free(j->out);
	j->out = NULL;
	j->s->inflight = NULL;
	if (j->wrc < 0) {
		if (j->bad[0] != '\0')
			log_warnx("ocsp: writing the response for %s failed", j->bad);
		else
			log_warnx("ocsp: the signer's responses do not match the request");
		job_end(j, false);
		return;
	}
	j->done += j->batch;
	j->s->signed_total += j->batch;
	j->batch = 0;
	j->tries = 0;
	if (j->done >= j->n)
		job_end(j, true);
	else if (STAILQ_FIRST(&j->s->jobs) != j)
		job_next(j->s);         /* a prompt run overtook this one */
	else
		batch_submit(j);
}

static void
on_batch_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct sign_job *j = ctx;
	struct ocsp_state *s = j->s;

	if (rc < 0) {
		s->inflight = NULL;
		log_warnx("ocsp: signing responses: %s", why);
		/* once more with a new responder key (a restarted signer has
		 * none) */
		if (++j->tries > 1) {
			job_end(j, false);
		} else if (j->gen != 0) {
			old_roll_start(s, j->gen, false);
		} else {
			roll_start(s, false);
		}
		return;
	}
	j->out = xmalloc(derlen);
	memcpy(j->out, der, derlen);
	j->outlen = derlen;
	j->dirfd = resp(s, j->gen)->rdirfd;
	workpool_submit(s->pd->hashers, write_work, write_done, j);
}

static void
batch_submit(struct sign_job *j)
{
	struct ocsp_state *s = j->s;
	struct provd *pd = s->pd;
	char err[512], line[OCSPGEN_LINE_MAX];
	char *lines = NULL;
	size_t k, len = 0, cap = 0;
	time_t now = time(NULL);
	int l;

	if (!gen_served(s, j->gen)) {
		/* archived while the run waited: nothing left to sign it with */
		s->unserved += j->n - j->done;
		job_end(j, true);
		return;
	}
	j->batch = j->n - j->done < RUN_BATCH ? j->n - j->done : RUN_BATCH;
	s->inflight = j;
	for (k = 0; k < j->batch; k++) {
		if ((l = ocspgen_format(&j->e[j->done + k], line, sizeof(line))) < 0)
			fatalx("ocsp: an entry does not format");
		lines = vec_grow(lines, &cap, len + (size_t)l + 2, 1);
		memcpy(lines + len, line, (size_t)l);
		len += (size_t)l;
		if (k + 1 < j->batch)
			lines[len++] = '\n';
	}
	if (j->gen != 0) {
		/* A retired generation's signer, through its own queue. */
		struct responder *r = resp(s, j->gen);
		struct signer *signer;

		if (ca_of(s, r, &signer) == NULL) {
			snprintf(err, sizeof(err), "generation %u: no CA key to sign with", j->gen);
		} else if (signer_ocsp_sign_async(signer, r->rder, r->rderlen, r->issuer_der,
		                                  r->issuer_len, now,
		                                  next_update(r, now,
		                                              (time_t)pd->cfg.ocsp_hours * 3600),
		                                  lines, len, on_batch_signed, j, err,
		                                  sizeof(err)) == 0) {
			free(lines);
			ca_signer_watch_other(pd, signer);
			return;
		}
		free(lines);
		/* a broken handle: on_batch_signed restarts it (old_roll_start) */
		on_batch_signed(j, -1, NULL, 0, err);
		return;
	}
	if (signer_ocsp_sign_async(pd->pki->signer, s->cur.rder, s->cur.rderlen,
	                           s->cur.issuer_der, s->cur.issuer_len, now,
	                           next_update(&s->cur, now, (time_t)pd->cfg.ocsp_hours * 3600),
	                           lines, len, on_batch_signed, j, err, sizeof(err)) < 0) {
		free(lines);
		s->inflight = NULL;
		log_warnx("ocsp: signing responses: %s", err);
		job_end(j, false);
		return;
	}
	free(lines);
	ca_signer_watch(pd);
}

static int open_dirs(struct ocsp_state *s, char *err, size_t errlen);
static struct responder *responder_for(struct ocsp_state *s, unsigned gen);

/* Has the CA certificate changed (ca rollover) since issuer.der was
 * written?  The responses then name the new CA, from a new responder.
 * (ocsp_ca_changed, called by the rollover, has normally done this
 * already; this catches a run queued across it.) */
static bool
issuer_stale(const struct ocsp_state *s)
{
	unsigned char *der = NULL;
	int len = i2d_X509(s->pd->pki->cacert, &der);
	bool stale = len <= 0 || s->cur.issuer_der == NULL || (size_t)len != s->cur.issuer_len ||
	             memcmp(der, s->cur.issuer_der, (size_t)len) != 0;

	OPENSSL_free(der);
	return stale;
}

/* Start the run at the head, if none is running. */
static void
job_next(struct ocsp_state *s)
{
	struct sign_job *j = STAILQ_FIRST(&s->jobs);
	char err[512];

	if (j == NULL || s->rolling || s->old_rolling != 0 || s->inflight != NULL)
		return;         /* roll_done, old_roll_done, write_done resume the head */
	if (j->gen != 0) {
		struct responder *r;

		if (!gen_served(s, j->gen)) {
			s->unserved += j->n - j->done;
			job_end(j, true);
			return;
		}
		r = responder_for(s, j->gen);
		if (j->n == 0 || r == NULL || r->rdirfd < 0) {
			job_end(j, r != NULL);
			return;
		}
		if (need_roll(r, time(NULL)))
			old_roll_start(s, j->gen, false);
		else
			batch_submit(j);
		return;
	}
	/* A CA made since the start: its directories now, not at the first
	 * tick (a certificate issued before it would get no response). */
	if (j->n > 0 && s->cur.issuer_der == NULL && ca_ready(s->pd) &&
	    open_dirs(s, err, sizeof(err)) < 0)
		log_warnx("ocsp: %s", err);
	if (j->n == 0 || s->cur.rdirfd < 0) {
		job_end(j, true);
		return;
	}
	if (issuer_stale(s)) {
		if (open_dirs(s, err, sizeof(err)) < 0) {
			log_warnx("ocsp: %s", err);
			job_end(j, false);
			return;
		}
		s->force_roll = true;
	}
	if (cur_needs_roll(s, time(NULL)))
		roll_start(s, false);
	else
		batch_submit(j);
}

static void
roll_done(struct ocsp_state *s, int rc, const char *err)
{
	struct sign_job *j = STAILQ_FIRST(&s->jobs);
	bool tick = s->roll_tick, forced = s->force_roll;

	s->rolling = false;
	s->roll_tick = false;
	s->force_roll = false;
	if (rc < 0)
		log_warnx("ocsp: new responder certificate: %s", err);
	/* the tick's, or the first since a ca rollover (ocsp_ca_changed; a
	 * run queued meanwhile, such as a certificate issued, may have asked
	 * for it): everything again with the new certificate */
	if ((tick || !s->have_set) && rc == 0 && dir_connected(s->pd->dir)) {
		s->last_full = 0;
		scan_start(s);
	}
	if (j == NULL)
		return;
	if (rc < 0 && (j->tries > 0 || s->cur.rcert == NULL || forced))
		job_end(j, false);
	else
		batch_submit(j);
}

/* The next retired generation after gen whose responder is due (0: none). */
static unsigned
old_due(struct ocsp_state *s, unsigned gen, time_t now)
{
	struct signer *signer;
	size_t i;

	for (i = gen; i < s->nold; i++)
		if (s->old[i].rcert != NULL && need_roll(&s->old[i], now) &&
		    ca_of(s, &s->old[i], &signer) != NULL)
			return s->old[i].gen;
	return 0;
}

static void
old_roll_done(struct ocsp_state *s, int rc, const char *err)
{
	struct sign_job *j = STAILQ_FIRST(&s->jobs);
	unsigned gen = s->old_rolling, next;
	bool tick = s->old_tick;
	struct responder *r = resp(s, gen);
	bool forced = r->force;

	r->force = false;
	s->old_rolling = 0;
	s->old_tick = false;
	s->old_restarted = false;
	if (rc < 0)
		log_warnx("ocsp: retired generation %u: new responder certificate: %s", gen, err);
	else if (tick)
		s->last_full = 0;       /* everything again with the new certificate */
	if (tick && (next = old_due(s, gen, time(NULL))) != 0) {
		old_roll_start(s, next, true);
		return;
	}
	if (j == NULL || j->gen != gen || s->inflight != NULL) {
		job_next(s);
		return;
	}
	if (rc < 0 && (j->tries > 0 || r->rcert == NULL || forced))
		job_end(j, false);
	else
		batch_submit(j);
}

/* A run of e[0..n): owned (e itself, or NULL) is taken, else e copied. */
static struct sign_job *
job_new(struct ocsp_state *s, unsigned gen, const struct ocspgen_entry *e, size_t n,
        struct ocspgen_entry *owned)
{
	struct sign_job *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->gen = gen;
	j->n = n;
	if (owned != NULL) {
		j->e = owned;
	} else if (n > 0) {
		j->e = xmalloc(n * sizeof(*j->e));
		memcpy(j->e, e, n * sizeof(*j->e));
	}
	return j;
}

/* Queue j: at the tail, or (prompt) after the prompt runs already at the
 * head, before every other run. */
static void
job_queue(struct ocsp_state *s, struct sign_job *j, struct sign_job **after, bool prompt)
{
	struct sign_job *q;

	if (!prompt) {
		STAILQ_INSERT_TAIL(&s->jobs, j, entry);
		return;
	}
	if (*after == NULL) {
		/* behind the prompt runs queued before, ahead of the rest */
		STAILQ_FOREACH(q, &s->jobs, entry) {
			if (!q->prompt)
				break;
			*after = q;
		}
	}
	if (*after == NULL)
		STAILQ_INSERT_HEAD(&s->jobs, j, entry);
	else
		STAILQ_INSERT_AFTER(&s->jobs, *after, j, entry);
	*after = j;
}

/* Sign and write e[0..n) (copied, or owned: e itself, taken), each entry with the responder of its
 * generation (one run per generation, the last one answering for all):
 * after the runs before, or (prompt) before every run not yet begun and
 * the rest of the one under way (after its batch in flight); full: the
 * run of a full read (see above).  done comes after every run it is
 * queued behind, also when there is nothing to sign (so that "done" means
 * every response asked for before, prompt ones or all, is written). */
static void
sign_entries_own(struct ocsp_state *s, const struct ocspgen_entry *e, size_t n,
                 struct ocspgen_entry *owned, bool full, bool prompt, ocsp_done_fn *done,
                 void *ctx)
{
	struct ocspgen_entry *part;
	struct sign_job *j = NULL, *first = NULL, *after = NULL;
	size_t g, i, k, ngen = s->pd->pki->ngens;
	bool idle;

	/* Nothing to sign and nothing to wait behind: done at once. */
	idle = STAILQ_EMPTY(&s->jobs) || (prompt && !STAILQ_FIRST(&s->jobs)->prompt);
	if (n == 0 && !full && idle) {
		free(owned);
		if (done != NULL)
			done(ctx);
		return;
	}
	if (ngen == 0) {
		j = first = job_new(s, 0, e, n, owned);
		j->prompt = prompt;
		job_queue(s, j, &after, prompt);
	} else {
		part = xmalloc((n > 0 ? n : 1) * sizeof(*part));
		if (full)
			s->full_unserved = 0;
		/* g = 0: the current CA (its number, or 0); then each retired
		 * one still served (gen_served: an expired or archived one's
		 * entries are dropped here, not queued) */
		for (g = 0; g <= ngen; g++) {
			for (i = k = 0; i < n; i++) {
				unsigned eg = e[i].gen == 0 || e[i].gen > ngen ? 0 : e[i].gen;

				if (eg == g)
					part[k++] = e[i];
			}
			if (k > 0 && !gen_served(s, (unsigned)g)) {
				s->unserved += k;
				if (full)
					s->full_unserved += k;
				continue;
			}
			if (k == 0 && !(g == 0 && n == 0))
				continue;
			j = job_new(s, (unsigned)g, part, k, NULL);
			j->prompt = prompt;
			job_queue(s, j, &after, prompt);
			if (first == NULL)
				first = j;
		}
		free(part);
		free(owned);
		if (j == NULL) {
			/* every entry dropped: an empty run, so that done still
			 * comes after the runs queued before */
			j = first = job_new(s, 0, NULL, 0, NULL);
			j->prompt = prompt;
			job_queue(s, j, &after, prompt);
		}
	}
	j->last = true;
	j->full = full;
	j->on_end = done;
	j->on_end_ctx = ctx;
	for (; first != NULL; first = first == j ? NULL : STAILQ_NEXT(first, entry))
		first->group = j;
	job_next(s);      /* unless a batch is in flight or a key is rolling */
}

/* sign_entries_own with e copied. */
static void
sign_entries(struct ocsp_state *s, const struct ocspgen_entry *e, size_t n, bool full,
             bool prompt, ocsp_done_fn *done, void *ctx)
{
	sign_entries_own(s, e, n, NULL, full, prompt, done, ctx);
}

/*
 * Removing the responses for serials no record has any more reads a
 * directory of one file per certificate (100,000 and more): a worker
 * thread does it, on a copy of the set and its own descriptors.  A file
 * written after the copy was taken (a certificate issued meanwhile, whose
 * serial the copy lacks) is newer than the copy and left alone.
 */
struct stale_job {
	struct ocspgen_entry *v;        /* the set, as known at since */
	size_t                n, ngen;
	struct timespec       since;
	int                   fd[1 + 64];
	unsigned              gen[1 + 64];
	size_t                ndirs;
	unsigned long         removed;
};

static bool
older_than(int dirfd, const char *name, const struct timespec *t)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return st.st_mtim.tv_sec < t->tv_sec ||
	       (st.st_mtim.tv_sec == t->tv_sec && st.st_mtim.tv_nsec < t->tv_nsec);
}

/* Worker thread: the job's fields only. */
static void
stale_work(void *arg)
{
	struct stale_job *j = arg;
	const struct ocspgen_entry *e;
	struct serial ser;
	struct dirent *d;
	char err[128];
	size_t i;
	DIR *dp;

	for (i = 0; i < j->ndirs; i++) {
		int fd = fcntl(j->fd[i], F_DUPFD_CLOEXEC, 0);

		if (fd < 0 || (dp = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		rewinddir(dp);
		while ((d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			if ((strspn(d->d_name, "0123456789ABCDEF") != strlen(d->d_name) ||
			     serial_parse(d->d_name, &ser, err, sizeof(err)) < 0 ||
			     (e = find(j->v, j->n, &ser)) == NULL ||
			     (e->gen == 0 || e->gen > j->ngen ? 0 : e->gen) != j->gen[i]) &&
			    older_than(j->fd[i], d->d_name, &j->since) &&
			    unlinkat(j->fd[i], d->d_name, 0) == 0)
				j->removed++;
		}
		closedir(dp);
	}
}

static void
stale_done(void *arg)
{
	struct stale_job *j = arg;
	size_t i;

	if (j->removed > 0)
		log_info("ocsp: %lu stale responses removed", j->removed);
	for (i = 0; i < j->ndirs; i++)
		close(j->fd[i]);
	free(j->v);
	free(j);
}

static void
stale_add(struct stale_job *j, const struct responder *r)
{
	int fd;

	if (r->rdirfd < 0 || j->ndirs == sizeof(j->fd) / sizeof(j->fd[0]) ||
	    (fd = fcntl(r->rdirfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	j->fd[j->ndirs] = fd;
	j->gen[j->ndirs++] = r->gen;
}

/* Remove each responder's responses for serials no record of its CA has
 * any more (off the loop, see above). */
static void
remove_stale(struct ocsp_state *s)
{
	struct stale_job *j = xcalloc(1, sizeof(*j));
	size_t i;

	/* the clock file times come from (a write after this is not older) */
	clock_gettime(CLOCK_REALTIME_COARSE, &j->since);
	stale_add(j, &s->cur);
	for (i = 0; i < s->nold; i++)
		if (gen_served(s, s->old[i].gen))
			stale_add(j, &s->old[i]);
	if (j->ndirs == 0) {
		free(j);
		return;
	}
	j->ngen = s->pd->pki->ngens;
	j->n = s->n;
	if (s->n > 0) {
		j->v = xmalloc(s->n * sizeof(*j->v));
		memcpy(j->v, s->v, s->n * sizeof(*j->v));
	}
	workpool_submit(s->pd->hashers, stale_work, stale_done, j);
}

/* ---- applying a CRL ----------------------------------------------------- */

static struct ocspgen_entry
entry_of_crl(const struct crl_entry *c)
{
	struct ocspgen_entry e = {
		.serial = c->serial, .status = OCSPGEN_REVOKED,
		.reason = c->reason, .revoked_at = c->revoked_at,
		.invalidity = c->invalidity_date,
	};

	return e;
}

/*
 * Merge the CRL's entries c[0..nc) into the set v[0..n) (both sorted):
 * listed = revoked as listed, known and not listed = good.  The new set is
 * put in *out (malloc'd, *nout entries, room for *capout); the entries whose
 * state changed in *changed (malloc'd; *nchanged of them, sorted by
 * serial); *was_good (malloc'd, one per changed entry) says which of them
 * were known as good before.  Touches nothing else: a worker thread runs
 * it (merge_work).
 */
static void
merge_set(const struct ocspgen_entry *v, size_t n, const struct crl_entry *c, size_t nc,
          struct ocspgen_entry **out_p, size_t *nout, size_t *capout,
          struct ocspgen_entry **changed, size_t *nchanged, bool **was_good)
{
	struct ocspgen_entry *out, *ch = NULL, e;
	size_t i = 0, j = 0, k = 0, nch = 0, capch = 0, capg = 0;
	bool *wg = NULL;
	int d;

	out = xmalloc((n + nc + 1) * sizeof(*out));
	while (i < n || j < nc) {
		d = i == n ? 1 : j == nc ? -1 : serial_cmp(&v[i].serial, &c[j].serial);
		if (d < 0) {
			e = v[i++];
			if (e.status != OCSPGEN_GOOD) {
				memset(&e, 0, sizeof(e));
				e.serial = v[i - 1].serial;
				e.status = OCSPGEN_GOOD;      /* released */
				ch = vec_grow(ch, &capch, nch + 1, sizeof(*ch));
				wg = vec_grow(wg, &capg, nch + 1, sizeof(*wg));
				wg[nch] = false;
				ch[nch++] = e;
			}
			out[k++] = e;
			continue;
		}
		e = entry_of_crl(&c[j++]);
		if (d == 0)
			e.gen = v[i].gen;
		if (d > 0 || !same_state(&v[i], &e)) {
			ch = vec_grow(ch, &capch, nch + 1, sizeof(*ch));
			wg = vec_grow(wg, &capg, nch + 1, sizeof(*wg));
			wg[nch] = d == 0 && v[i].status == OCSPGEN_GOOD;
			ch[nch++] = e;
		}
		if (d == 0)
			i++;
		/* a CRL may list one serial once only; skip a repeat */
		if (k > 0 && serial_cmp(&out[k - 1].serial, &e.serial) == 0)
			continue;
		out[k++] = e;
	}
	*out_p = out;
	*nout = k;
	*capout = n + nc + 1;
	*changed = ch;
	*nchanged = nch;
	*was_good = wg;
}

/* Give the entries of the queued runs that are in p[0..np) (sorted) p's
 * state, so that no run signs an older one after p's run; the batch in
 * flight is left alone (its worker reads those entries). */
static void
patch_queued(struct ocsp_state *s, const struct ocspgen_entry *p, size_t np)
{
	struct sign_job *j;
	const struct ocspgen_entry *f;
	size_t i;
	unsigned gen;

	if (np == 0)
		return;
	STAILQ_FOREACH(j, &s->jobs, entry) {
		for (i = j->done + (j == s->inflight ? j->batch : 0); i < j->n; i++) {
			if ((f = find(p, np, &j->e[i].serial)) == NULL)
				continue;
			gen = j->e[i].gen;
			j->e[i] = *f;
			j->e[i].gen = gen;
		}
	}
}

size_t
ocsp_pending(const struct provd *pd)
{
	const struct ocsp_state *s = pd->pki != NULL ? pd->pki->ocsp : NULL;
	const struct sign_job *j;
	size_t n = 0;

	if (s == NULL)
		return 0;
	STAILQ_FOREACH(j, &s->jobs, entry)
		n += j->n - j->done;
	return n;
}

/*
 * Applying a CRL to the set.  Merging 100,000 entries into a set as large
 * takes milliseconds, so a worker does it on the set as it stands (frozen:
 * nothing on the loop changes s->v while s->merging is set) and gives
 * back a new set, swapped in on the loop, with the changed entries split
 * as ocsp_crl_published signs them.  Merges run one at a time, in the
 * order the CRLs came.  A full read that ends meanwhile (scan_wait) and
 * certificates issued meanwhile (held) are taken in between merges.
 */

static void scan_adopt(struct ocsp_state *s, struct scan_sort *j);

static struct crl_copy *
crl_copy_new(struct crl_entry *e, size_t n)
{
	struct crl_copy *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	c->e = e;
	c->n = n;
	return c;
}

static void
crl_copy_put(struct crl_copy *c)
{
	if (c != NULL && --c->refs == 0) {
		free(c->e);
		free(c);
	}
}

static void
merge_free(struct merge_job *j)
{
	crl_copy_put(j->crl);
	free(j->out);
	free(j->prompt);
	free(j->rest);
	free(j);
}

/* Worker thread: j's fields only (j->v and j->crl are not changed while
 * it runs). */
static void
merge_work(void *arg)
{
	struct merge_job *j = arg;
	struct ocspgen_entry *changed;
	size_t nchanged, i;
	bool *was_good;

	merge_set(j->v, j->n, j->crl->e, j->crl->n, &j->out, &j->nout, &j->capout, &changed,
	          &nchanged, &was_good);
	j->small = nchanged <= PROMPT_MAX;
	if (j->then_full || j->small) {
		j->prompt = changed;
		j->nprompt = nchanged;
		free(was_good);
		return;
	}
	/* the ones that were good first (see ocsp_crl_published) */
	j->prompt = xmalloc(nchanged * sizeof(*j->prompt));
	j->rest = xmalloc(nchanged * sizeof(*j->rest));
	for (i = 0; i < nchanged; i++) {
		if (was_good[i])
			j->prompt[j->nprompt++] = changed[i];
		else
			j->rest[j->nrest++] = changed[i];
	}
	free(changed);
	free(was_good);
}

static void merge_done(void *arg);

/* Start the next merge, unless one runs; a full read's set waiting is
 * taken first (it replaces the set). */
static void
merge_next(struct ocsp_state *s)
{
	struct merge_job *j;
	struct scan_sort *w;

	if (s->merging != NULL)
		return;
	if ((w = s->scan_wait) != NULL) {
		s->scan_wait = NULL;
		scan_adopt(s, w);
	}
	if ((j = STAILQ_FIRST(&s->merges)) == NULL)
		return;
	STAILQ_REMOVE_HEAD(&s->merges, entry);
	j->v = s->v;
	j->n = s->n;
	s->merging = j;
	workpool_submit(s->pd->hashers, merge_work, merge_done, j);
}

/* Certificates issued while the set was frozen, not in it yet: good. */
static void
held_insert(struct ocsp_state *s)
{
	struct ocspgen_entry e;
	size_t i, k;

	for (k = 0; k < s->nheld; k++) {
		if (find(s->v, s->n, &s->held[k]) != NULL)
			continue;
		memset(&e, 0, sizeof(e));
		e.serial = s->held[k];
		e.status = OCSPGEN_GOOD;
		s->v = vec_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		for (i = s->n; i > 0 && serial_cmp(&s->v[i - 1].serial, &e.serial) > 0; i--)
			s->v[i] = s->v[i - 1];
		s->v[i] = e;
		s->n++;
	}
	s->nheld = 0;
}

/* Loop thread: the new set in, in O(1); then its changes signed. */
static void
merge_done(void *arg)
{
	struct merge_job *j = arg;
	struct ocsp_state *s = j->s;

	s->merging = NULL;
	free(s->v);
	s->v = j->out;
	s->n = j->nout;
	s->cap = j->capout;
	j->out = NULL;
	held_insert(s);
	if (j->then_full) {
		s->have_set = true;
		sign_entries(s, s->v, s->n, true, false, NULL, NULL);
	} else if (j->small) {
		/* all of them before the caller hears back */
		patch_queued(s, j->prompt, j->nprompt);
		sign_entries_own(s, j->prompt, j->nprompt, j->prompt, false, true, j->done, j->ctx);
		j->prompt = NULL;
	} else {
		/* the ones that were good first (a "good" of theirs may be on
		 * disk or in a queued run), the caller hearing back after them;
		 * the rest in the background, at the tail */
		patch_queued(s, j->prompt, j->nprompt);
		/* the background part first: done() may run at once */
		sign_entries_own(s, j->rest, j->nrest, j->rest, false, false, NULL, NULL);
		j->rest = NULL;
		sign_entries_own(s, j->prompt, j->nprompt, j->prompt, false, true, j->done, j->ctx);
		j->prompt = NULL;
	}
	merge_free(j);
	merge_next(s);
}

/* Queue the merge of s->crl (at the head: a full read's, then_full). */
static void
merge_queue(struct ocsp_state *s, bool then_full, ocsp_done_fn *done, void *ctx)
{
	struct merge_job *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->crl = s->crl;
	s->crl->refs++;
	j->then_full = then_full;
	j->done = done;
	j->ctx = ctx;
	if (then_full)
		STAILQ_INSERT_HEAD(&s->merges, j, entry);
	else
		STAILQ_INSERT_TAIL(&s->merges, j, entry);
}

void
ocsp_crl_published(struct provd *pd, struct crl_entry *entries, size_t n,
                   ocsp_done_fn *done, void *ctx)
{
	struct ocsp_state *s;

	if (pd->cfg.ocsp_dir == NULL || pd->pki == NULL || pd->pki->ocsp == NULL) {
		free(entries);
		if (done != NULL)
			done(ctx);
		return;
	}
	s = pd->pki->ocsp;
	crl_copy_put(s->crl);
	s->crl = crl_copy_new(entries, n);
	s->crl_seq++;
	merge_queue(s, false, done, ctx);
	merge_next(s);
}

void
ocsp_cert_issued(struct provd *pd, const char *serial_hex, ocsp_done_fn *done, void *ctx)
{
	struct ocsp_state *s;
	struct ocspgen_entry e;
	char err[128];
	size_t i;

	memset(&e, 0, sizeof(e));
	if (pd->cfg.ocsp_dir == NULL || pd->pki == NULL || pd->pki->ocsp == NULL ||
	    serial_parse(serial_hex, &e.serial, err, sizeof(err)) < 0) {
		if (done != NULL)
			done(ctx);
		return;
	}
	s = pd->pki->ocsp;
	e.status = OCSPGEN_GOOD;
	e.gen = (unsigned)pd->pki->ngens + 1;
	if (s->scanning) {
		s->late = vec_grow(s->late, &s->caplate, s->nlate + 1, sizeof(*s->late));
		s->late[s->nlate++] = e.serial;
	}
	if (find(s->v, s->n, &e.serial) != NULL) {
		if (done != NULL)
			done(ctx);
		return;
	}
	if (s->merging != NULL) {
		/* the set is frozen: in after the merge (held_insert) */
		s->held = vec_grow(s->held, &s->capheld, s->nheld + 1, sizeof(*s->held));
		s->held[s->nheld++] = e.serial;
	} else {
		s->v = vec_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		for (i = s->n; i > 0 && serial_cmp(&s->v[i - 1].serial, &e.serial) > 0; i--)
			s->v[i] = s->v[i - 1];
		s->v[i] = e;
		s->n++;
	}
	sign_entries(s, &e, 1, false, true, done, ctx);
}

/* One "unknown" answer (or a pending record's state) in the signer's
 * queue: whom to tell. */
struct unknown_job {
	struct provd         *pd;
	bool                  known;     /* a record's state, not "unknown" */
	ocsp_unknown_done_fn *done;
	void                 *ctx;
};

static void
on_unknown_signed(void *ctx, int rc, const unsigned char *out, size_t outlen, const char *why)
{
	struct unknown_job *uj = ctx;
	struct ocsp_state *s = uj->pd->pki->ocsp;
	size_t rl = outlen >= 4 ? (size_t)out[0] << 24 | (size_t)out[1] << 16 |
	                          (size_t)out[2] << 8 | out[3] : 0;

	if (rc == 0 && (outlen < 4 || rl != outlen - 4)) {
		rc = -1;
		why = "the signer's response does not match the request";
	}
	if (rc < 0) {
		log_debug("ocsp: an unknown answer: %s", why);
		uj->done(uj->ctx, -1, NULL, 0);
	} else {
		if (s != NULL && uj->known)
			s->on_demand++;
		else if (s != NULL)
			s->unknowns++;
		uj->done(uj->ctx, 0, out + 4, rl);
	}
	free(uj);
}

int
ocsp_sign_unknown(struct provd *pd, const struct serial *ser, ocsp_unknown_done_fn *done,
                  void *ctx)
{
	struct ocsp_state *s = pd->pki != NULL ? pd->pki->ocsp : NULL;
	struct ocspgen_entry e = { .serial = *ser, .status = OCSPGEN_UNKNOWN };
	const struct ocspgen_entry *known;
	char line[OCSPGEN_LINE_MAX], err[256];
	struct unknown_job *uj;
	time_t now = time(NULL);
	int l;

	if (s == NULL || !s->have_set || s->cur.rcert == NULL || cur_needs_roll(s, now))
		return -1;
	if ((known = find(s->v, s->n, ser)) != NULL) {
		/* A record of a retired CA: its own responder's file.  One of
		 * the current CA whose file is not written yet (a run in the
		 * background, see ocsp.h): its state as known now. */
		if (known->gen != 0 && known->gen <= pd->pki->ngens)
			return 1;
		e = *known;
	}
	if (pd->pki->signer_busy || signer_keygen_queued(pd->pki->signer) ||
	    !ca_signer_ready(pd) || (l = ocspgen_format(&e, line, sizeof(line))) < 0)
		return -1;
	uj = xcalloc(1, sizeof(*uj));
	uj->pd = pd;
	uj->known = known != NULL;
	uj->done = done;
	uj->ctx = ctx;
	if (signer_ocsp_sign_async(pd->pki->signer, s->cur.rder, s->cur.rderlen,
	                           s->cur.issuer_der, s->cur.issuer_len, now,
	                           next_update(&s->cur, now, UNKNOWN_HOURS * 3600), line,
	                           (size_t)l, on_unknown_signed, uj, err, sizeof(err)) < 0) {
		log_debug("ocsp: an unknown answer: %s", err);
		free(uj);
		return -1;
	}
	ca_signer_watch(pd);
	return 0;
}

/* ---- reading every record ---------------------------------------------- */

static void
on_scan_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct ocsp_state *s = arg;
	char ser[SERIAL_TEXT_MAX], st[16], at[32], why[REASON_NAME_MAX + 1], inv[32];
	char err[128], issuer[1024];
	struct ocspgen_entry oe;
	bool listed;

	dir_entry_copy(ld, e, AT_CERT_SERIAL, ser, sizeof(ser));
	dir_entry_copy(ld, e, AT_CERT_STATUS, st, sizeof(st));
	dir_entry_copy(ld, e, AT_CERT_REVOKED_AT, at, sizeof(at));
	dir_entry_copy(ld, e, AT_CERT_REASON, why, sizeof(why));
	dir_entry_copy(ld, e, AT_CERT_INVALIDITY, inv, sizeof(inv));
	dir_entry_copy(ld, e, AT_CERT_ISSUER, issuer, sizeof(issuer));
	memset(&oe, 0, sizeof(oe));
	oe.gen = hooks != NULL ? hooks->generation_of(s->pd, issuer) : 0;
	listed = strcasecmp(st, "revoked") == 0 || strcasecmp(st, "hold") == 0;
	if (serial_parse(ser, &oe.serial, err, sizeof(err)) < 0 ||
	    (!listed && strcasecmp(st, "valid") != 0) ||
	    (listed && (pkitime_parse_ldap(at, &oe.revoked_at, err, sizeof(err)) < 0 ||
	                reason_parse(why, &oe.reason, err, sizeof(err)) < 0 ||
	                (inv[0] && pkitime_parse_ldap(inv, &oe.invalidity, err,
	                                              sizeof(err)) < 0)))) {
		/* No response for a record that does not read: no "good" for it. */
		s->scan_bad++;
		return;
	}
	oe.status = listed ? OCSPGEN_REVOKED : OCSPGEN_GOOD;
	if (listed && oe.reason == REASON_REMOVE_FROM_CRL)
		oe.reason = REASON_UNSPECIFIED;
	s->scan = vec_grow(s->scan, &s->capscan, s->nscan + 1, sizeof(*s->scan));
	s->scan[s->nscan++] = oe;
}

static void
refresh_reply(struct ocsp_state *s, int status, const char *msg)
{
	struct request *req = s->waiter;

	if (req == NULL)
		return;
	s->waiter = NULL;
	if (status == ST_OK) {
		struct rec r;

		rec_begin(&r, req);
		rec_kvf(&r, "responses", "%zu", s->n);
		rec_kvf(&r, "skipped", "%zu", s->scan_bad);
		rec_kvf(&r, "not_served", "%zu", s->full_unserved);
		rec_end(&r);
	}
	request_done(req, status, "%s", msg);
}

/*
 * A full read's entries are sorted (and made one per serial) on a worker
 * thread: 100,000 of them take tens of milliseconds.  The job holds the
 * array meanwhile; s->scanning stays set, so certificates issued in the
 * while go to s->late as during the read.
 */
static void
scan_sort_work(void *arg)
{
	struct scan_sort *j = arg;
	size_t i, k;

	if (j->n > 1)
		qsort(j->e, j->n, sizeof(*j->e), cmp_entry);
	for (i = 1, k = j->n ? 1 : 0; i < j->n; i++)   /* one per serial */
		if (cmp_entry(&j->e[k - 1], &j->e[i]) != 0)
			j->e[k++] = j->e[i];
	j->n = k;
}

/* The sorted set of a full read waits for the merge running (the set is
 * frozen meanwhile), then replaces the set. */
static void
scan_sort_done(void *arg)
{
	struct scan_sort *j = arg;
	struct ocsp_state *s = j->s;

	s->scan_wait = j;
	merge_next(s);
}

static void
scan_adopt(struct ocsp_state *s, struct scan_sort *j)
{
	struct ocspgen_entry e;
	size_t i, n0;

	s->scanning = false;
	free(s->v);
	s->v = j->e;
	s->n = j->n;
	s->cap = j->cap;
	free(j);
	/* certificates recorded while the read ran may be missing from it */
	n0 = s->n;
	for (i = 0; i < s->nlate; i++) {
		if (find(s->v, n0, &s->late[i]) != NULL)
			continue;
		memset(&e, 0, sizeof(e));
		e.serial = s->late[i];
		e.status = OCSPGEN_GOOD;
		s->v = vec_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		s->v[s->n++] = e;
	}
	if (s->n > n0) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_entry);
		for (i = 1, n0 = 1; i < s->n; i++)     /* a serial recorded twice */
			if (cmp_entry(&s->v[n0 - 1], &s->v[i]) != 0)
				s->v[n0++] = s->v[i];
		s->n = n0;
	}
	s->nlate = 0;
	/* A CRL published while the read ran is newer than what it read: the
	 * set is signed once it is applied (merge_done), before the merges
	 * queued. */
	if (s->crl_seq != s->scan_crl_seq && s->crl != NULL) {
		merge_queue(s, true, NULL, NULL);
		return;
	}
	s->have_set = true;
	sign_entries(s, s->v, s->n, true, false, NULL, NULL);
}

static void
on_scan_done(void *arg, const struct dir_result *res)
{
	struct ocsp_state *s = arg;
	struct scan_sort *j;
	char why[300], msg[400];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		s->scanning = false;
		snprintf(msg, sizeof(msg), "reading the certificate records: %s",
		         dir_result_str(res, why, sizeof(why)));
		log_warnx("ocsp: %s", msg);
		s->nlate = 0;
		refresh_reply(s, ST_UNAVAILABLE, msg);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->e = s->scan;
	j->n = s->nscan;
	j->cap = s->capscan;
	s->scan = NULL;
	s->nscan = s->capscan = 0;
	workpool_submit(s->pd->hashers, scan_sort_work, scan_sort_done, j);
}

static void
scan_start(struct ocsp_state *s)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_CERT_STATUS, AT_CERT_REVOKED_AT,
		AT_CERT_REASON, AT_CERT_INVALIDITY, AT_CERT_ISSUER, NULL
	};
	struct provd *pd = s->pd;

	if (s->scanning)
		return;
	s->scanning = true;
	s->scan_bad = 0;
	s->nscan = 0;
	s->scan_crl_seq = s->crl_seq;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")", attrs, 0, NULL, on_scan_entry,
	           on_scan_done, s);
}

/* ---- start-up and timer ------------------------------------------------ */

/* r's directory (ocsp_dir, or ocsp_dir/gen-N for a retired generation),
 * its responses/ and its issuer.der.  0 or -1. */
static int
open_responder(struct ocsp_state *s, struct responder *r, char *err, size_t errlen)
{
	struct provd *pd = s->pd;
	char dir[PATH_MAX_LEN], path[PATH_MAX_LEN + 16];
	unsigned char *der = NULL;
	struct signer *signer;
	X509 *ca = ca_of(s, r, &signer);
	int len;

	if (ca == NULL) {
		snprintf(err, errlen, "generation %u: no CA", r->gen);
		return -1;
	}
	if (mkdir(pd->cfg.ocsp_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", pd->cfg.ocsp_dir, strerror(errno));
		return -1;
	}
	if (r->gen == 0)
		snprintf(dir, sizeof(dir), "%s", pd->cfg.ocsp_dir);
	else
		snprintf(dir, sizeof(dir), "%s/gen-%u", pd->cfg.ocsp_dir, r->gen);
	snprintf(path, sizeof(path), "%s/" RESPONSES, dir);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(path, 0755) < 0 && errno != EEXIST) || (r->rdirfd < 0 &&
	    (r->rdirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)) {
		snprintf(err, errlen, "%.200s/" RESPONSES ": %s", dir, strerror(errno));
		return -1;
	}
	if ((len = i2d_X509(ca, &der)) <= 0) {
		snprintf(err, errlen, "CA certificate: cannot encode");
		return -1;
	}
	if (r->gen == 0 && s->unk == NULL)
		s->unk = ocsp_unknown_start(pd, pd->cfg.ocsp_dir, ocsp_sign_unknown);
	free(r->issuer_der);
	r->issuer_der = xmalloc((size_t)len);
	memcpy(r->issuer_der, der, (size_t)len);
	r->issuer_len = (size_t)len;
	OPENSSL_free(der);
	if (write_file(dir, "issuer.der", r->issuer_der, r->issuer_len) < 0) {
		snprintf(err, errlen, "%.300s/issuer.der: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
open_dirs(struct ocsp_state *s, char *err, size_t errlen)
{
	return open_responder(s, &s->cur, err, errlen);
}

/* The responder that signs for generation gen (0, or the current CA's
 * number: the current one), opened on first use; NULL for a retired
 * generation without a signer (its certificate, and so all it issued, has
 * expired) or whose directory cannot be made. */
static struct responder *
responder_for(struct ocsp_state *s, unsigned gen)
{
	size_t nret = s->pd->pki->ngens;
	struct responder *r;
	char err[512];

	if (gen == 0 || gen > nret)
		return &s->cur;
	if (s->nold < nret) {
		s->old = xrealloc(s->old, nret * sizeof(*s->old));
		for (; s->nold < nret; s->nold++) {
			memset(&s->old[s->nold], 0, sizeof(*s->old));
			s->old[s->nold].gen = (unsigned)s->nold + 1;
			s->old[s->nold].rdirfd = -1;
		}
	}
	r = &s->old[gen - 1];
	if (!gen_served(s, gen))
		return NULL;           /* its directory is archived, or soon */
	if (r->issuer_der == NULL && open_responder(s, r, err, sizeof(err)) < 0) {
		log_warnx("ocsp: retired generation %u: %s", gen, err);
		return NULL;
	}
	return r;
}

void
ocsp_ca_changed(struct provd *pd)
{
	struct ocsp_state *s;
	char err[512];

	if (pd->cfg.ocsp_dir == NULL || pd->pki == NULL || pd->pki->ocsp == NULL)
		return;
	s = pd->pki->ocsp;
	/* the new CA's issuer.der and a responder certificate of its own; its
	 * responses/ stays (stale ones go at the full refresh) */
	X509_free(s->cur.rcert);
	s->cur.rcert = NULL;
	free(s->cur.rder);
	s->cur.rder = NULL;
	s->cur.rderlen = 0;
	if (open_dirs(s, err, sizeof(err)) < 0)
		log_warnx("ocsp: %s", err);
	/*
	 * The retired CA's certificates move to its own responder now, not at
	 * the next tick (up to a minute away): its gen-N/ and issuer.der exist
	 * before the rollover answers, and every response known is signed
	 * again in a prompt run, queued before the rollover's CRL publish (a
	 * prompt run too), whose done (the rollover's reply) comes after it
	 * (sign_entries).  Background runs queued before this call still write
	 * the retired CA's serials into responses/, where no request for the
	 * retired issuer looks; the next full refresh removes them.  When
	 * every record is known, it is the full refresh (stale files go);
	 * otherwise a read of every record follows at once.
	 */
	(void)responder_for(s, (unsigned)pd->pki->ngens);
	if (s->have_set && !s->scanning) {
		sign_entries(s, s->v, s->n, true, true, NULL, NULL);
		return;
	}
	sign_entries(s, s->v, s->n, false, true, NULL, NULL);
	s->last_full = 0;
	s->have_set = false;
	if (dir_connected(pd->dir))
		scan_start(s);
}

static void
tick(void *arg)
{
	struct ocsp_state *s = arg;
	struct provd *pd = s->pd;
	time_t now = time(NULL);
	char err[512];
	unsigned gen;

	s->timer = loop_timer(pd->loop, TICK_MS, tick, s);
	/* The signer is busy (a CRL, a CA key): the next tick, rather than
	 * waiting for it on the loop. */
	if (!ca_ready(pd) || s->scanning)
		return;
	if (s->rolling || s->old_rolling != 0 || signer_queued(pd->pki->signer) > 0 ||
	    !STAILQ_EMPTY(&s->jobs)) {
		/* busy: look again shortly, not a whole tick later */
		loop_timer_cancel(pd->loop, s->timer);
		s->timer = loop_timer(pd->loop, BUSY_RETRY_MS, tick, s);
		return;
	}
	if (s->cur.issuer_der == NULL && open_dirs(s, err, sizeof(err)) < 0) {
		log_warnx("ocsp: %s", err);
		return;
	}
	if (cur_needs_roll(s, now)) {
		roll_start(s, true);   /* then everything with the new one */
		return;
	}
	/* the retired generations' responders, one after the other through
	 * their signers' queues (old_roll_start); the full read after them */
	if ((gen = old_due(s, 0, now)) != 0) {
		old_roll_start(s, gen, true);
		return;
	}
	if (!dir_connected(pd->dir))
		return;
	if (!s->have_set || now - s->last_full >= (time_t)pd->cfg.ocsp_hours * 1800)
		scan_start(s);
}

void
ocsp_start(struct provd *pd)
{
	struct ocsp_state *s;

	if (pd->cfg.ocsp_dir == NULL || pd->pki == NULL)
		return;
	s = state(pd);
	if (s->timer == NULL)
		s->timer = loop_timer(pd->loop, FIRST_MS, tick, s);
}

/* ---- handlers ------------------------------------------------------------ */

static bool
need_ocsp(struct request *req)
{
	struct provd *pd = req->pd;

	if (pd->cfg.ocsp_dir == NULL) {
		request_done(req, ST_UNAVAILABLE, "pki.ocsp_dir is not configured");
		return false;
	}
	if (!ca_ready(pd) || pd->pki->ocsp == NULL) {
		request_done(req, ST_NOTFOUND, "no CA yet");
		return false;
	}
	return true;
}

void
ocsp_show(struct request *req)
{
	struct ocsp_state *s;
	char t[PKITIME_LDAP_LEN + 1], hex[SERIAL_HEX_MAX + 1];
	struct serial ser;
	struct rec r;
	char err[128];

	if (!need_ocsp(req))
		return;
	s = req->pd->pki->ocsp;
	rec_begin(&r, req);
	rec_kv(&r, "dir", req->pd->cfg.ocsp_dir);
	if (s->cur.rcert != NULL &&
	    serial_from_asn1(X509_get0_serialNumber(s->cur.rcert), &ser, err, sizeof(err)) == 0) {
		serial_to_hex(&ser, 0, hex);
		rec_kv(&r, "responder_serial", hex);
		pkitime_format_ldap(s->cur.r_until, t);
		rec_kv(&r, "responder_not_after", t);
	}
	rec_kvf(&r, "responses", "%zu", s->n);
	if (s->last_full) {
		pkitime_format_ldap(s->last_full, t);
		rec_kv(&r, "last_full_refresh", t);
	}
	rec_kvf(&r, "signed_since_start", "%lu", s->signed_total);
	rec_kvf(&r, "responder_certificates_since_start", "%lu", s->rolls);
	rec_kvf(&r, "unknown_answers_since_start", "%lu", s->unknowns);
	rec_kvf(&r, "on_demand_answers_since_start", "%lu", s->on_demand);
	rec_kvf(&r, "not_served_since_start", "%lu", s->unserved);
	rec_kvf(&r, "pending", "%zu", ocsp_pending(req->pd));
	rec_end(&r);
	request_done(req, ST_OK, "ok");
}

void
ocsp_refresh_cmd(struct request *req)
{
	struct ocsp_state *s;
	char err[512];
	size_t i;

	if (!need_ocsp(req))
		return;
	s = req->pd->pki->ocsp;
	if (s->waiter != NULL || s->scanning) {
		request_done(req, ST_CONFLICT, "a refresh is running; try again");
		return;
	}
	if (s->cur.issuer_der == NULL && open_dirs(s, err, sizeof(err)) < 0) {
		request_done(req, ST_INTERNAL, "%s", err);
		return;
	}
	/* --new-responder: the refresh's run makes one first (the current
	 * CA's, and each retired generation's before its responses), and
	 * fails if it cannot. */
	s->force_roll = cmd_flag(&req->args, "new-responder");
	for (i = 0; i < s->nold; i++)
		s->old[i].force = s->force_roll;
	if (!dir_connected(req->pd->dir)) {
		request_done(req, ST_UNAVAILABLE, "the directory is unavailable");
		return;
	}
	s->waiter = req;
	scan_start(s);
}
