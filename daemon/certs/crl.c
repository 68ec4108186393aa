/*
 * crl — CRL publishing: incremental with pending markers, compare-and-swap
 * on the number.  See crl.h.
 *
 * Why an incremental publish misses no change, with any number of provd
 * instances on one directory
 * ------------------------------------------------------------------------
 * A record's state is its status (valid, hold, revoked) with its reason and
 * dates.  CRL m is the CRL whose compare-and-swap moved provdCrlNumber to m;
 * the current CRL is the one whose number the CA entry holds.  A CRL agrees
 * with a record when it lists the record, with its reason and dates, if and
 * only if the record is on hold or revoked.
 *
 * Rules the code keeps:
 *  R1  Every status change replaces the record's marker (provdCertPending)
 *      with a fresh token in the same modify (cert.c); nothing else changes
 *      a status.
 *  R2  A publish reads the CA entry's number N before it reads any record,
 *      and CRL N+1 is written only if the number is still N (assertion).
 *  R3  A full rebuild lists exactly the held and revoked records it read.
 *      An incremental publish starts from the entries of CRL N, which this
 *      process built and published itself and has not changed since, and
 *      applies every marked record it read, as read.
 *  R4  A marker is removed only after the CRL that applied it is written,
 *      and only by deleting the very token that was read: a record changed
 *      since has another token, the delete fails and the marker stays.
 *
 * Lemma.  If the publish that wrote CRL m read record R at time t, and R
 * has not changed since t, then CRL m and every later CRL agree with R.
 *   CRL m does (R3).  A later CRL m' was built after its builder read the
 *   number m'-1 (R2), so after CRL m'-1 was written and after t: a full
 *   rebuild read R unchanged; an incremental publish either read R, marked
 *   and unchanged, and applied it, or kept R's entry from CRL m'-1, which
 *   agrees by induction.
 *
 * Invariant.  Every record without a marker agrees with the current CRL;
 * so a publish that reads only the marked records misses nothing.
 *   A status change leaves its record marked (R1).  A marker is removed (R4)
 *   only from a record unchanged since it was read for a CRL m that is
 *   already written, so m is at most the current CRL, which agrees by the
 *   lemma; and when a later CRL becomes current, the lemma covers it too.
 *   A record that never had a marker is either valid since issuance (no
 *   CRL lists a serial nobody read as held or revoked) or was revoked
 *   before markers existed: each instance's entries in memory start from a
 *   full rebuild, which read it.
 *
 * The cases this is for:
 *  - A and B revoke different certificates at once.  Both records are
 *    marked.  The winner of the CAS for N+1 lists what it read; the loser's
 *    CAS fails, it reads N+1, a number it did not publish, and rebuilds
 *    from every record, so CRL N+2 lists both.  A marker that the winner
 *    did not read stays until a CRL that applied it is out.
 *  - A dies between its record write and its publish.  The record keeps its
 *    marker; the next publish by anyone applies it (incremental: it is
 *    marked; full: it is held or revoked) and only then removes the marker.
 *    A restarted A holds no entries, so its first publish is a full rebuild.
 *  - A release races a publish.  The publish read the record on hold with
 *    token t1 and lists it; the release wrote "valid" with t2.  Deleting t1
 *    fails, the record stays marked, and the publish the release waits for
 *    (it starts after the release's write) reads it valid and drops it.
 *  - Whether a change's own publish includes it: that publish starts after
 *    the record write, so it reads the record marked, or the marker is gone
 *    already, which by the invariant means the CRL current at its removal
 *    agrees; if that CRL is newer than the N the publish read, its CAS on N
 *    fails and it rebuilds (R2).
 *
 * Limits: the argument needs one serialisable directory, as the CAS on the
 * number does (two providers that both accept writes can each win it; see
 * docs/operations.md).  A record changed by hand without a marker is seen
 * by the next full rebuild: `crl publish`, the timer, a restart.
 *
 * Never publish a CRL that silently drops a revocation: a record that
 * cannot be read stops the publish, in both modes.
 *
 * After a CA rollover (rollover.h) "every record" above means every record
 * of the current generation: both searches add rollover_current_clause(),
 * the issuer.  The argument holds on that subset unchanged; the rollover
 * drops the entries in memory (crl_forget_set), so the new CA's first CRL
 * is a full rebuild.  A retired generation's CRL is always rebuilt from its
 * records (rollover.c) and needs no markers; this publisher never reads, so
 * never removes, the markers of a retired generation's records.
 */
#include "crl.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca.h"
#include "crlgen.h"
#include "crlsync.h"
#include "dir.h"
#include "hex.h"
#include "log.h"
#include "ocsp.h"
#include "loop.h"
#include "pem.h"
#include "pkitime.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "schema.h"
#include "serial.h"
#include "signer.h"
#include "vec.h"
#include "workpool.h"
#include "xmalloc.h"

#define CAS_RETRIES      24
#define CAS_BACKOFF_MS   20u     /* up to this many ms times the try, at random */
#define TIMER_MS         (60u * 60u * 1000u)   /* check hourly */
#define FIRST_CHECK_MS   2000u
#define CLEAR_WINDOW     8       /* marker removals in flight at once */

struct waiter {
	crl_done_fn           *done;
	void                  *ctx;
	STAILQ_ENTRY(waiter)   entry;
};
STAILQ_HEAD(waiters, waiter);

/* A marked record as a publish read it. */
struct mark {
	char *dn;
	char *token;
};

/* A marked record's state, for an incremental publish. */
struct change {
	struct crl_entry e;
	bool             listed;       /* on hold or revoked */
};

struct crl_state {
	struct provd     *pd;
	bool              running;
	struct waiters    current;     /* satisfied by the publish running now */
	struct waiters    next;        /* arrived meanwhile: need another one */
	bool              again;
	bool              rebuild_next; /* a waiter in `next` asked for a rebuild */
	/* the publish in progress */
	bool              rebuild;     /* asked to read every record */
	bool              full;        /* reading every record (asked, or no set) */
	uint64_t          number;      /* N read from the CA entry */
	bool              has_number;
	struct change    *changes;     /* incremental: marked records read */
	size_t            nchanges, capchanges;
	struct mark      *marks;       /* markers to remove once this CRL is out */
	size_t            nmarks, capmarks;
	int               tries;
	char              bad[256];    /* a record that could not be read */
	unsigned char    *derbuf;      /* the signed CRL being published: the
	                                  buffer that holds it, its one owner */
	const unsigned char *der;      /* the CRL inside derbuf */
	size_t            derlen;
	struct crl_entry *ocsp_copy;   /* its entries, for OCSP to take */
	time_t            now;         /* its thisUpdate */
	char              endmsg[700]; /* the reply, once OCSP has caught up */
	/* The entries, sorted by serial.  While set_valid they are exactly
	 * those of CRL set_number, which this process published. */
	struct crl_entry *entries;
	size_t            n, cap;
	bool              set_valid;
	uint64_t          set_number;
	/* marker removals: the markers of the last CRL published, sent
	 * CLEAR_WINDOW at a time */
	struct mark      *clears;
	size_t            nclears, clear_next;
	size_t            clearing;    /* sent, not answered */
	/* history */
	uint64_t          last;        /* last number published here */
	time_t            last_time;
	struct timer     *timer;
};

static void publish_start(struct crl_state *s);

static struct crl_hooks hooks;

void
crl_set_hooks(const struct crl_hooks *h)
{
	hooks = *h;
}

static struct crl_state *
state(struct provd *pd)
{
	struct pki *pki = pd->pki;

	if (pki->crl == NULL) {
		pki->crl = xcalloc(1, sizeof(*pki->crl));
		pki->crl->pd = pd;
		STAILQ_INIT(&pki->crl->current);
		STAILQ_INIT(&pki->crl->next);
	}
	return pki->crl;
}

static void
marks_free(struct mark *v, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < n; i++) {
		free(v[i].dn);
		free(v[i].token);
	}
	free(v);
}

void
crl_state_free(struct crl_state *s)
{
	struct waiter *w;

	if (s == NULL)
		return;
	STAILQ_CONCAT(&s->current, &s->next);
	while ((w = STAILQ_FIRST(&s->current)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->current, entry);
		free(w);
	}
	if (s->timer)
		loop_timer_cancel(s->pd->loop, s->timer);
	/* Removals in flight were answered when the directory closed. */
	marks_free(s->marks, 0, s->nmarks);
	marks_free(s->clears, s->clear_next, s->nclears);
	free(s->ocsp_copy);
	free(s->changes);
	free(s->entries);
	free(s->derbuf);
	free(s);
}

uint64_t
crl_last_number(const struct provd *pd)
{
	return pd->pki && pd->pki->crl ? pd->pki->crl->last : 0;
}

uint64_t
crl_next_number(const struct provd *pd)
{
	return crl_last_number(pd) + 1;
}

size_t
crl_clears_in_flight(const struct provd *pd)
{
	return pd->pki && pd->pki->crl ? pd->pki->crl->clearing : 0;
}

int
crl_pending_token(char out[CRL_TOKEN_LEN + 1])
{
	unsigned char b[CRL_TOKEN_LEN / 2];

	if (RAND_bytes(b, (int)sizeof(b)) != 1)
		return -1;
	hex_encode(b, sizeof(b), out);
	return 0;
}

/* ---- removing the markers of a published CRL ----------------------- */

static void clear_pump(struct crl_state *s);

static void
on_cleared(void *arg, const struct dir_result *res)
{
	struct crl_state *s = arg;
	char why[300];

	s->clearing--;
	switch (res->code) {
	case LDAP_SUCCESS:
	case LDAP_NO_SUCH_ATTRIBUTE:   /* changed since: its new marker stays */
	case LDAP_NO_SUCH_OBJECT:
		clear_pump(s);
		return;
	case LDAP_SERVER_DOWN:
	case LDAP_UNAVAILABLE:
	case LDAP_TIMEOUT:
		/* No directory now (or provd is stopping): the markers left are
		 * applied again, harmlessly, by the next publish. */
		marks_free(s->clears, s->clear_next, s->nclears);
		s->clears = NULL;
		s->nclears = s->clear_next = 0;
		return;
	default:
		log_warnx("crl: removing a pending marker: %s",
		          dir_result_str(res, why, sizeof(why)));
		clear_pump(s);
	}
}

static void
clear_pump(struct crl_state *s)
{
	struct provd *pd = s->pd;
	struct dir_mods *m;
	struct mark *c;

	while (s->clearing < CLEAR_WINDOW && s->clear_next < s->nclears &&
	       !pd->stopping && dir_connected(pd->dir)) {
		c = &s->clears[s->clear_next++];
		if ((m = dir_mods_new()) == NULL)
			fatal("crl: out of memory");
		/* Deletes this value only: a record changed since has another. */
		dir_mods_add1(m, LDAP_MOD_DELETE, CRL_PENDING_ATTR, c->token);
		s->clearing++;
		dir_modify(pd->dir, c->dn, dir_mods_get(m), NULL, on_cleared, s);
		dir_mods_free(m);
		free(c->dn);
		free(c->token);
		c->dn = c->token = NULL;
	}
	if (s->clear_next == s->nclears || pd->stopping) {
		marks_free(s->clears, s->clear_next, s->nclears);
		s->clears = NULL;
		s->nclears = s->clear_next = 0;
	}
}

/* The CRL that applied s->marks is out: remove them.  Markers still queued
 * from an earlier CRL are dropped: this publish read every marked record,
 * so those still marked are in s->marks again. */
static void
clear_marks(struct crl_state *s)
{
	marks_free(s->clears, s->clear_next, s->nclears);
	s->clears = s->marks;
	s->nclears = s->nmarks;
	s->clear_next = 0;
	s->marks = NULL;
	s->nmarks = s->capmarks = 0;
	clear_pump(s);
}

/* ---- serialising publishes ------------------------------------------ */

/* Finish the running publish: tell its waiters, start the next if asked. */
static void
publish_end(struct crl_state *s, int status, const char *msg)
{
	struct waiters done = STAILQ_HEAD_INITIALIZER(done);
	struct waiter *w;

	STAILQ_CONCAT(&done, &s->current);
	s->running = false;
	free(s->ocsp_copy);
	s->ocsp_copy = NULL;
	marks_free(s->marks, 0, s->nmarks);
	s->marks = NULL;
	s->nmarks = s->capmarks = 0;
	s->nchanges = 0;
	if (status != ST_OK)
		log_warnx("crl: publish failed: %s", msg);
	while ((w = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, entry);
		w->done(w->ctx, status, msg);
		free(w);
	}
	if (s->again) {
		s->again = false;
		STAILQ_CONCAT(&s->current, &s->next);
		s->rebuild = s->rebuild_next;
		s->rebuild_next = false;
		s->tries = 0;
		publish_start(s);
	}
}

static void
publish_end_deferred(void *arg)
{
	struct crl_state *s = arg;

	publish_end(s, ST_UNAVAILABLE, "no CA, or the directory is unavailable");
}

static void
enqueue(struct provd *pd, bool rebuild, crl_done_fn *done, void *ctx)
{
	struct crl_state *s;
	struct waiter *w = xcalloc(1, sizeof(*w));

	w->done = done;
	w->ctx = ctx;
	s = state(pd);
	if (s->running) {
		STAILQ_INSERT_TAIL(&s->next, w, entry);
		s->again = true;
		s->rebuild_next |= rebuild;
		return;
	}
	STAILQ_INSERT_TAIL(&s->current, w, entry);
	s->rebuild = rebuild;
	s->tries = 0;
	publish_start(s);
}

/* After a rollover the retired generations' CRLs follow the current one
 * (rollover.h): rollover_chain wraps done. */
void
crl_publish(struct provd *pd, crl_done_fn *done, void *ctx)
{
	if (hooks.chain)
		hooks.chain(pd, &done, &ctx);
	enqueue(pd, false, done, ctx);
}

void
crl_rebuild(struct provd *pd, crl_done_fn *done, void *ctx)
{
	if (hooks.chain)
		hooks.chain(pd, &done, &ctx);
	enqueue(pd, true, done, ctx);
}

bool
crl_entries(const struct provd *pd, const struct crl_entry **entries, size_t *n)
{
	struct crl_state *s = pd->pki ? pd->pki->crl : NULL;

	if (s == NULL || !s->set_valid)
		return false;
	*entries = s->entries;
	*n = s->n;
	return true;
}

void
crl_forget_set(struct provd *pd)
{
	state(pd)->set_valid = false;
}

/* ---- step 4: CAS write, then the file ------------------------------- */

/* Writing the CRL file off the loop. */
struct file_job {
	struct crl_state *s;
	char             *path;
	unsigned char    *buf;         /* taken from s->derbuf */
	const unsigned char *der;      /* the CRL inside buf */
	size_t            derlen;
	int               rc;
	char              why[300];
};

/* Worker thread: the job's own fields only. */
static void
file_work(void *arg)
{
	struct file_job *job = arg;

	job->rc = crlsync_write_file(job->path, job->der, job->derlen, job->why,
	                             sizeof(job->why));
}

static void ocsp_caught_up(void *arg);

/* Loop thread: finish the publish. */
static void
file_done(void *arg)
{
	struct file_job *job = arg;
	struct crl_state *s = job->s;
	char msg[700];

	if (job->rc < 0) {
		snprintf(msg, sizeof(msg), "CRL %llu is in the directory but not on disk: %s",
		         (unsigned long long)s->last, job->why);
		free(job->path);
		free(job->buf);
		free(job);
		publish_end(s, ST_INTERNAL, msg);
		return;
	}
	if (s->full)
		snprintf(msg, sizeof(msg), "CRL %llu published (%zu entries)",
		         (unsigned long long)s->last, s->n);
	else
		snprintf(msg, sizeof(msg), "CRL %llu published (%zu entries, %zu changed)",
		         (unsigned long long)s->last, s->n, s->nchanges);
	free(job->path);
	free(job->buf);
	free(job);
	snprintf(s->endmsg, sizeof(s->endmsg), "%s", msg);
	/* After a rollover this CRL lists the current CA's certificates only:
	 * rollover.c tells OCSP once the retired CAs' CRLs are out too.  The
	 * publish answers once the OCSP responses a waiter needs are written
	 * (ocsp.h: all of a small change, the formerly good of a large one). */
	if (s->pd->pki->ngens == 0) {
		struct crl_entry *copy = s->ocsp_copy;

		s->ocsp_copy = NULL;
		ocsp_crl_published(s->pd, copy, s->n, ocsp_caught_up, s);
	} else {
		ocsp_caught_up(s);
	}
}

static void
ocsp_caught_up(void *arg)
{
	struct crl_state *s = arg;

	clear_marks(s);
	publish_end(s, ST_OK, s->endmsg);
}

static void
retry_publish(void *arg)
{
	publish_start(arg);
}

static void
on_written(void *arg, const struct dir_result *res)
{
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	struct file_job *job;
	char why[300], msg[700];

	if (res->code == LDAP_ASSERTION_FAILED && ++s->tries < CAS_RETRIES) {
		/* Another instance published meanwhile: rebuild on its number. */
		log_info("crl: CRL number %llu was taken by another writer; retrying",
		         (unsigned long long)(s->number + 1));
		marks_free(s->marks, 0, s->nmarks);
		s->marks = NULL;
		s->nmarks = s->capmarks = 0;
		/* Instances that keep meeting on one number take turns: wait a
		 * random while, longer after each lost round. */
		{
			unsigned char r = 0;

			if (RAND_bytes(&r, 1) != 1)
				r = 128;
			if (loop_timer(pd->loop, 1u + (uint64_t)r * CAS_BACKOFF_MS * (unsigned)s->tries / 255u,
			               retry_publish, s) == NULL)
				fatal("crl: out of memory");
		}
		return;
	}
	if (res->code != LDAP_SUCCESS) {
		snprintf(msg, sizeof(msg), "directory: %s", dir_result_str(res, why, sizeof(why)));
		publish_end(s, res->code == LDAP_ASSERTION_FAILED ? ST_CONFLICT : ST_UNAVAILABLE, msg);
		return;
	}
	s->last = s->number + 1;
	s->last_time = time(NULL);
	/* The CA entry now holds our CRL: its entries are the set to build on. */
	s->set_valid = true;
	s->set_number = s->last;
	/* The file (write, fsync, rename) on a worker thread: the job takes
	 * the DER and a copy of the path; the publish stays running, so
	 * nothing else touches s meanwhile. */
	job = xcalloc(1, sizeof(*job));
	job->path = xstrdup(pd->cfg.crl_file);
	job->s = s;
	job->buf = s->derbuf;          /* the job is its one owner now */
	job->der = s->der;
	job->derlen = s->derlen;
	s->derbuf = NULL;
	s->der = NULL;
	s->derlen = 0;
	workpool_submit(pd->hashers, file_work, file_done, job);
}

static void on_crl_signed(void *ctx, int rc, const unsigned char *der, size_t derlen,
                          const char *err);
static void on_copied(void *ctx, unsigned char *buf, const unsigned char *der,
                      size_t derlen, unsigned char *copy);

/* Hand the built CRL (tbs, taken) to the signer; the loop keeps serving
 * while a CRL of many entries is signed.  The publish stays running
 * meanwhile, so nothing else touches s. */
static void
sign_built(struct crl_state *s, unsigned char *tbs, size_t tbslen)
{
	struct provd *pd = s->pd;
	char err[512];

	if (ca_sign_crl_async(pd, tbs, tbslen, on_crl_signed, s, err, sizeof(err)) < 0) {
		free(tbs);
		publish_end(s, ST_UNAVAILABLE, err);    /* no signer to take it */
		return;
	}
	free(tbs);
}

static void
on_crl_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *err)
{
	struct crl_state *s = ctx;
	struct provd *pd = s->pd;

	if (rc < 0) {
		/* A signer that is gone is unavailable; one that refused, not. */
		publish_end(s, signer_broken(pd->pki->signer) ? ST_UNAVAILABLE : ST_INTERNAL, err);
		return;
	}
	/* The directory first: the compare-and-swap claims the number, so no
	 * two different CRLs ever carry one number.  The file follows; a crash
	 * in between leaves the previous CRL on disk until the next publish. */
	free(s->derbuf);              /* a failed publish's, if any */
	s->derbuf = NULL;
	s->der = NULL;
	s->derlen = 0;
	/* taken, and its copy for the directory made on a worker; on_copied
	 * gives it to s, for the file job */
	crl_take_signed(pd, pd->pki->signer, der, derlen, on_copied, s);
}

/* See crl.h: the job holds the CRL while the worker copies it. */
struct dup_job {
	unsigned char       *buf;        /* the signer's message, or a copy */
	const unsigned char *der;        /* the CRL inside buf */
	size_t               derlen;
	unsigned char       *copy;       /* made by the worker */
	crl_copied_fn       *done;
	void                *ctx;
};

/* Worker thread: the job's own fields only. */
static void
dup_work(void *arg)
{
	struct dup_job *j = arg;

	j->copy = xmalloc(j->derlen);
	memcpy(j->copy, j->der, j->derlen);
}

/* Loop thread: both buffers back, to their next owners. */
static void
dup_done(void *arg)
{
	struct dup_job j = *(struct dup_job *)arg;

	free(arg);
	j.done(j.ctx, j.buf, j.der, j.derlen, j.copy);
}

void
crl_take_signed(struct provd *pd, struct signer *sg, const unsigned char *der, size_t derlen,
                crl_copied_fn *done, void *ctx)
{
	struct dup_job *j = xcalloc(1, sizeof(*j));

	/* the signer's received message, or a copy when it cannot be taken */
	if (signer_reply_take(sg, der, &j->buf) < 0) {
		j->buf = xmalloc(derlen);
		memcpy(j->buf, der, derlen);
		der = j->buf;
	}
	j->der = der;
	j->derlen = derlen;
	j->done = done;
	j->ctx = ctx;
	workpool_submit(pd->hashers, dup_work, dup_done, j);
}

/* The CRL back to s (for the file job), its copy to the compare-and-swap. */
static void
on_copied(void *ctx, unsigned char *buf, const unsigned char *der, size_t derlen,
          unsigned char *copy)
{
	struct crl_state *s = ctx;
	struct provd *pd = s->pd;

	s->derbuf = buf;
	s->der = der;
	s->derlen = derlen;
	if (crl_write_cas(pd, pd->cfg.ca_dn, s->number, s->has_number, s->now, copy, derlen,
	                  on_written, s) < 0)
		publish_end(s, ST_UNAVAILABLE, "directory unavailable");
}

int
crl_write_cas(struct provd *pd, const char *dn, uint64_t number, bool has_number, time_t now,
              unsigned char *der, size_t derlen,
              void (*done)(void *, const struct dir_result *), void *ctx)
{
	char num[32], next[32], assertion[64];
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	struct dir_mods *m;
	LDAP *ld = dir_ldap(pd->dir);

	snprintf(num, sizeof(num), "%llu", (unsigned long long)(number + 1));
	pkitime_format_ldap(now + (time_t)pd->cfg.crl_days * 86400, next);
	if (has_number)
		snprintf(assertion, sizeof(assertion), "(" AT_CRL_NUMBER "=%llu)",
		         (unsigned long long)number);
	else
		snprintf(assertion, sizeof(assertion), "(!(" AT_CRL_NUMBER "=*))");
	if (ld == NULL || ldap_create_assertion_control(ld, assertion, 1, &ctrl) != LDAP_SUCCESS) {
		free(der);
		return -1;
	}
	ctrls[0] = ctrl;
	if ((m = dir_mods_new()) == NULL)
		fatal("crl: out of memory");
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CRL_NUMBER, num);
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CRL_NEXT_UPDATE, next);
	dir_mods_add_bin_take(m, LDAP_MOD_REPLACE, AT_CRL, der, derlen);
	dir_modify_take(pd->dir, dn, m, ctrls, done, ctx);      /* m, der: the op's */
	ldap_control_free(ctrl);
	return 0;
}

/* ---- step 3: the entries of the new CRL ------------------------------ */

static int
cmp_entry(const void *a, const void *b)
{
	return serial_cmp(&((const struct crl_entry *)a)->serial,
	                  &((const struct crl_entry *)b)->serial);
}

static int
cmp_change(const void *a, const void *b)
{
	return cmp_entry(&((const struct change *)a)->e, &((const struct change *)b)->e);
}

/* Incremental: CRL N's entries (*entries, *n of them) with the marked
 * records c[0..nc) applied, in one merge of two sorted lists.  -1 (bad
 * set) on a serial read twice.  Worker thread (build_work). */
static int
apply_changes(struct crl_entry **entries, size_t *n_io, size_t *cap, struct change *c,
              size_t nc, char *bad, size_t badlen)
{
	struct crl_entry *out, *in = *entries;
	size_t i = 0, j = 0, k = 0, n = *n_io;
	char hex[SERIAL_HEX_MAX + 1];
	int d;

	if (nc == 0)
		return 0;
	qsort(c, nc, sizeof(*c), cmp_change);
	for (j = 1; j < nc; j++) {
		if (cmp_change(&c[j - 1], &c[j]) == 0) {
			serial_to_hex(&c[j].e.serial, 0, hex);
			snprintf(bad, badlen, "serial %s has two records", hex);
			return -1;
		}
	}
	out = xmalloc((n + nc) * sizeof(*out));
	j = 0;
	while (i < n || j < nc) {
		d = i == n ? 1 : j == nc ? -1 : cmp_entry(&in[i], &c[j].e);
		if (d < 0) {
			out[k++] = in[i++];
			continue;
		}
		if (c[j].listed)
			out[k++] = c[j].e;     /* added, or its reason or dates changed */
		if (d == 0)
			i++;                   /* replaced, or released */
		j++;
	}
	free(in);
	*entries = out;
	*n_io = k;
	*cap = n + nc;
	return 0;
}

/*
 * Sorting (or merging) the entries and encoding the CRL take tens of
 * milliseconds at 100,000 entries: a worker thread does both.  The job
 * takes the entries and the changes from s and gives them back in
 * build_done; the publish stays running meanwhile, so nothing else
 * touches them (crl_entries answers false: the set is not valid).
 */
struct build_job {
	struct crl_state *s;
	X509             *cacert;      /* a reference of its own */
	uint64_t          number;
	time_t            now;
	unsigned          days;
	bool              full;
	struct crl_entry *entries;
	size_t            n, cap;
	struct change    *changes;
	size_t            nchanges, capchanges;
	unsigned char    *tbs;         /* the CRL to sign */
	size_t            tbslen;
	struct crl_entry *ocsp_copy;   /* a copy of the entries for OCSP (ocsp.h) */
	int               rc;          /* -1: bad (a record) or err */
	char              bad[256];
	char              err[512];
};

static void
build_work(void *arg)
{
	struct build_job *j = arg;

	j->rc = -1;
	if (j->full) {
		if (j->n > 1)
			qsort(j->entries, j->n, sizeof(*j->entries), cmp_entry);
	} else if (apply_changes(&j->entries, &j->n, &j->cap, j->changes, j->nchanges,
	                         j->bad, sizeof(j->bad)) < 0) {
		j->n = 0;
		return;
	}
	if (crlgen_build(j->cacert, j->number, j->now, j->days, j->entries, j->n, &j->tbs,
	                 &j->tbslen, j->err, sizeof(j->err)) < 0)
		return;
	if (j->n > 0) {
		j->ocsp_copy = xmalloc(j->n * sizeof(*j->ocsp_copy));
		memcpy(j->ocsp_copy, j->entries, j->n * sizeof(*j->ocsp_copy));
	}
	j->rc = 0;
}

static void sign_built(struct crl_state *s, unsigned char *tbs, size_t tbslen);

static void
build_done(void *arg)
{
	struct build_job *j = arg;
	struct crl_state *s = j->s;
	unsigned char *tbs = j->tbs;
	size_t tbslen = j->tbslen;

	s->entries = j->entries;
	s->n = j->n;
	s->cap = j->cap;
	s->changes = j->changes;
	s->capchanges = j->capchanges;
	free(s->ocsp_copy);
	s->ocsp_copy = j->ocsp_copy;
	X509_free(j->cacert);
	if (j->rc < 0) {
		char msg[sizeof(j->err)];

		free(j->tbs);
		snprintf(msg, sizeof(msg), "%s", j->bad[0] != '\0' ? j->bad : j->err);
		free(j);
		publish_end(s, ST_INTERNAL, msg);
		return;
	}
	free(j);
	sign_built(s, tbs, tbslen);
}

static void
on_records_done(void *arg, const struct dir_result *res)
{
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	struct build_job *j;
	char why[300], msg[400];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		snprintf(msg, sizeof(msg), "reading revocations: %s",
		         dir_result_str(res, why, sizeof(why)));
		if (s->full)
			s->n = 0;
		publish_end(s, ST_UNAVAILABLE, msg);
		return;
	}
	if (s->bad[0] != '\0') {
		/* Never publish a CRL that silently drops a revocation. */
		if (s->full)
			s->n = 0;
		publish_end(s, ST_INTERNAL, s->bad);
		return;
	}
	/* From here the entries are those of the CRL being built, not of
	 * CRL N, until the CAS writes them as CRL N+1. */
	s->set_valid = false;
	if (!ca_ready(pd)) {
		s->n = 0;
		publish_end(s, ST_UNAVAILABLE, "no CA");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	if (X509_up_ref(pd->pki->cacert) != 1)
		fatalx("crl: X509_up_ref");
	j->cacert = pd->pki->cacert;
	s->now = time(NULL);
	j->number = s->number + 1;
	j->now = s->now;
	j->days = pd->cfg.crl_days;
	j->full = s->full;
	j->entries = s->entries;
	j->n = s->n;
	j->cap = s->cap;
	j->changes = s->changes;
	j->nchanges = s->nchanges;
	j->capchanges = s->capchanges;
	s->entries = NULL;
	s->n = s->cap = 0;
	s->changes = NULL;
	s->capchanges = 0;
	workpool_submit(pd->hashers, build_work, build_done, j);
}

/* ---- step 2: the records (every listed or marked one, or the marked) - */

int
crl_entry_read(LDAP *ld, LDAPMessage *e, struct crl_entry *ce, bool *listed,
               char *bad, size_t badlen)
{
	char *ser = dir_entry_get(ld, e, AT_CERT_SERIAL);
	char *st = dir_entry_get(ld, e, AT_CERT_STATUS);
	char *at = dir_entry_get(ld, e, AT_CERT_REVOKED_AT);
	char *why = dir_entry_get(ld, e, AT_CERT_REASON);
	char *inv = dir_entry_get(ld, e, AT_CERT_INVALIDITY);
	enum cert_state cs;
	bool known;
	char err[200];
	int rc = 0;

	memset(ce, 0, sizeof(*ce));
	known = cert_state_parse(st, &cs) == 0;
	*listed = known && (cs == CERT_STATE_REVOKED || cs == CERT_STATE_HOLD);
	if (ser == NULL || !known || serial_parse(ser, &ce->serial, err, sizeof(err)) < 0 ||
	    (*listed && (at == NULL || why == NULL ||
	     pkitime_parse_ldap(at, &ce->revoked_at, err, sizeof(err)) < 0 ||
	     reason_parse(why, &ce->reason, err, sizeof(err)) < 0 ||
	     (inv != NULL && pkitime_parse_ldap(inv, &ce->invalidity_date, err, sizeof(err)) < 0)))) {
		snprintf(bad, badlen, "record %s is malformed", ser ? ser : "?");
		rc = -1;
	}
	free(ser);
	free(st);
	free(at);
	free(why);
	free(inv);
	return rc;
}

static void
on_record(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct crl_state *s = arg;
	char *token = NULL;
	struct crl_entry ce;
	bool listed;

	if (s->bad[0] != '\0' ||
	    crl_entry_read(ld, e, &ce, &listed, s->bad, sizeof(s->bad)) < 0)
		return;
	token = dir_entry_get(ld, e, CRL_PENDING_ATTR);
	if (s->full) {
		if (listed) {
			s->entries = vec_grow(s->entries, &s->cap, s->n + 1, sizeof(*s->entries));
			s->entries[s->n++] = ce;
		}
	} else {
		s->changes = vec_grow(s->changes, &s->capchanges, s->nchanges + 1,
		                  sizeof(*s->changes));
		s->changes[s->nchanges].e = ce;
		s->changes[s->nchanges].listed = listed;
		s->nchanges++;
	}
	if (token != NULL) {
		char *dn = dir_entry_dn(ld, e);

		if (dn == NULL)
			fatal("crl: out of memory");
		s->marks = vec_grow(s->marks, &s->capmarks, s->nmarks + 1, sizeof(*s->marks));
		s->marks[s->nmarks].dn = dn;
		s->marks[s->nmarks].token = token;
		s->nmarks++;
	}
}

/* ---- step 1: the current number ------------------------------------- */

static void
on_ca_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct crl_state *s = arg;
	char *num = dir_entry_get(ld, e, AT_CRL_NUMBER);

	s->has_number = num != NULL;
	s->number = num ? strtoull(num, NULL, 10) : 0;
	free(num);
}

static void
on_ca_entry_done(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_CERT_STATUS, AT_CERT_REVOKED_AT, AT_CERT_REASON,
		AT_CERT_INVALIDITY, CRL_PENDING_ATTR, NULL
	};
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	char why[300], msg[400], filter[CRL_CLAUSE_MAX + 160];
	const char *mine = hooks.records_clause ? hooks.records_clause(pd) : "";

	if (res->code != LDAP_SUCCESS) {
		snprintf(msg, sizeof(msg), "CA entry %s: %s", pd->cfg.ca_dn,
		         dir_result_str(res, why, sizeof(why)));
		publish_end(s, res->code == LDAP_NO_SUCH_OBJECT ? ST_NOTFOUND : ST_UNAVAILABLE, msg);
		return;
	}
	s->bad[0] = '\0';
	s->nchanges = 0;
	/* Incremental only on top of the CRL the CA entry holds now, and only
	 * if this process built it (see the invariant above). */
	s->full = s->rebuild || !s->set_valid || !s->has_number || s->number != s->set_number;
	if (s->full) {
		s->set_valid = false;
		s->n = 0;
		snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")%s"
		         "(|(" AT_CERT_STATUS "=%s)(" AT_CERT_STATUS "=%s)(" CRL_PENDING_ATTR
		         "=*)))", mine, cert_state_name(CERT_STATE_REVOKED),
		         cert_state_name(CERT_STATE_HOLD));
		dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter,
		           attrs, 0, NULL, on_record, on_records_done, s);
		return;
	}
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")%s("
	         CRL_PENDING_ATTR "=*))", mine);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, on_record, on_records_done, s);
}

static void
publish_start(struct crl_state *s)
{
	static const char *const attrs[] = { AT_CRL_NUMBER, NULL };
	struct provd *pd = s->pd;

	s->running = true;
	if (!ca_ready(pd) || !dir_connected(pd->dir)) {
		loop_defer(pd->loop, publish_end_deferred, s);
		return;
	}
	s->has_number = false;
	s->number = 0;
	dir_search(pd->dir, pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1,
	           NULL, on_ca_entry, on_ca_entry_done, s);
}

/* ---- timer ----------------------------------------------------------- */

static void
timer_done(void *ctx, int status, const char *msg)
{
	(void)ctx;
	if (status == ST_OK)
		log_info("crl: %s", msg);
}

static void
tick(void *arg)
{
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	time_t now = time(NULL);

	bool due = ca_ready(pd) && (s->last_time == 0 ||
	                            now - s->last_time > (time_t)pd->cfg.crl_days * 43200);
	bool away = !dir_connected(pd->dir);

	/* Republish at start-up (so a crash between a revocation and its CRL
	 * heals) and when half the CRL's validity has passed.  A start-up
	 * publish the directory was not there for yet (slapd slower to come
	 * up than provd) is looked at again soon, not in an hour. */
	s->timer = loop_timer(pd->loop, due && away && s->last_time == 0 ? FIRST_CHECK_MS : TIMER_MS,
	                      tick, s);
	if (due && !away && !s->running)
		crl_rebuild(pd, timer_done, NULL);
}

void
crl_start_timer(struct provd *pd)
{
	struct crl_state *s = state(pd);

	if (s->timer == NULL)
		s->timer = loop_timer(pd->loop, FIRST_CHECK_MS, tick, s);
	ocsp_start(pd);
}

/* ---- handlers -------------------------------------------------------- */

static void
publish_cmd_done(void *ctx, int status, const char *msg)
{
	struct request *req = ctx;

	if (status == ST_OK) {
		struct rec r;

		rec_begin(&r, req);
		rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
		/* still to be signed in the background (ocsp.h) */
		rec_kvf(&r, "ocsp_pending", "%zu", ocsp_pending(req->pd));
		rec_end(&r);
	}
	request_done(req, status, "%s", msg);
}

void
crl_publish_cmd(struct request *req)
{
	if (!ca_ready(req->pd)) {
		request_done(req, ST_NOTFOUND, "no CA yet");
		return;
	}
	crl_rebuild(req->pd, publish_cmd_done, req);
}

struct show {
	struct request *req;
	unsigned char  *der;
	size_t          len;
};

static void
show_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct show *sh = arg;

	free(sh->der);
	sh->der = dir_entry_get_bin(ld, e, AT_CRL, &sh->len);
}

static void
show_done(void *arg, const struct dir_result *res)
{
	struct show *sh = arg;
	struct request *req = sh->req;
	char why[300];
	char *out = NULL;
	size_t outlen = 0;

	if (res->code != LDAP_SUCCESS) {
		request_done(req, res->code == LDAP_NO_SUCH_OBJECT ? ST_NOTFOUND : ST_UNAVAILABLE,
		             "CA entry: %s", dir_result_str(res, why, sizeof(why)));
		goto out;
	}
	if (sh->der == NULL) {
		request_done(req, ST_NOTFOUND, "no CRL published yet");
		goto out;
	}
	if (cmd_flag(&req->args, "text")) {
		const unsigned char *p = sh->der;
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)sh->len);
		BIO *b = BIO_new(BIO_s_mem());
		BUF_MEM *bm;

		if (crl == NULL || b == NULL || X509_CRL_print_ex(b, crl, XN_FLAG_RFC2253) != 1) {
			X509_CRL_free(crl);
			BIO_free(b);
			request_done(req, ST_INTERNAL, "the published CRL does not parse");
			goto out;
		}
		BIO_get_mem_ptr(b, &bm);
		{
			struct rec r;

			rec_begin(&r, req);
			rec_kvn(&r, "text", bm->data, bm->length);
			rec_end(&r);
		}
		X509_CRL_free(crl);
		BIO_free(b);
	} else {
		if (pem_encode("X509 CRL", sh->der, sh->len, &out, &outlen, why, sizeof(why)) < 0) {
			request_done(req, ST_INTERNAL, "out of memory");
			goto out;
		}
		{
			struct rec r;

			rec_begin(&r, req);
			rec_kvn(&r, "pem", out, outlen);
			rec_end(&r);
		}
	}
	request_done(req, ST_OK, "ok");
out:
	free(out);
	free(sh->der);
	free(sh);
}

void
crl_show(struct request *req)
{
	static const char *const attrs[] = { AT_CRL, NULL };
	struct show *sh;
	const char *dn;

	if ((dn = hooks.show_dn ? hooks.show_dn(req) : req->pd->cfg.ca_dn) == NULL)
		return;
	sh = xcalloc(1, sizeof(*sh));
	sh->req = req;
	dir_search(req->pd->dir, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	           attrs, 1, NULL, show_entry, show_done, sh);
}
