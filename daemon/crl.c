/* crl — CRL publishing with compare-and-swap. See crl.h. */
#include "crl.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "crlgen.h"
#include "dir.h"
#include "log.h"
#include "loop.h"
#include "pem.h"
#include "pkitime.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "serial.h"
#include "signer.h"

#define CAS_RETRIES      8
#define TIMER_MS         (60u * 60u * 1000u)   /* check hourly */
#define FIRST_CHECK_MS   2000u

struct waiter {
	crl_done_fn   *done;
	void          *ctx;
	struct waiter *next;
};

struct crl_state {
	struct provd     *pd;
	bool              running;
	struct waiter    *current;     /* satisfied by the publish running now */
	struct waiter    *next;        /* arrived meanwhile: need another one */
	bool              again;
	/* the publish in progress */
	uint64_t          number;      /* N read from the CA entry */
	bool              has_number;
	struct crl_entry *entries;
	size_t            n, cap;
	int               tries;
	char              bad[256];    /* a record that could not be read */
	unsigned char    *der;         /* the signed CRL being published */
	size_t            derlen;
	/* history */
	uint64_t          last;        /* last number published here */
	time_t            last_time;
	struct timer     *timer;
};

static void publish_start(struct crl_state *s);

static struct crl_state *
state(struct provd *pd)
{
	struct pki *pki = pd->pki;

	if (pki->crl == NULL) {
		if ((pki->crl = calloc(1, sizeof(*pki->crl))) == NULL)
			fatal("crl: out of memory");
		pki->crl->pd = pd;
	}
	return pki->crl;
}

void
crl_state_free(struct crl_state *s)
{
	struct waiter *w;

	if (s == NULL)
		return;
	while ((w = s->current) != NULL) {
		s->current = w->next;
		free(w);
	}
	while ((w = s->next) != NULL) {
		s->next = w->next;
		free(w);
	}
	if (s->timer)
		loop_timer_cancel(s->pd->loop, s->timer);
	free(s->entries);
	free(s->der);
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

/* Finish the running publish: tell its waiters, start the next if asked. */
static void
publish_end(struct crl_state *s, int status, const char *msg)
{
	struct waiter *w = s->current, *nw;

	s->current = NULL;
	s->running = false;
	if (status != ST_OK)
		log_warnx("crl: publish failed: %s", msg);
	while (w != NULL) {
		nw = w->next;
		w->done(w->ctx, status, msg);
		free(w);
		w = nw;
	}
	if (s->again) {
		s->again = false;
		s->current = s->next;
		s->next = NULL;
		publish_start(s);
	}
}

static void
publish_end_deferred(void *arg)
{
	struct crl_state *s = arg;

	publish_end(s, ST_UNAVAILABLE, "no CA, or the directory is unavailable");
}

void
crl_publish(struct provd *pd, crl_done_fn *done, void *ctx)
{
	struct crl_state *s;
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		fatal("crl: out of memory");
	w->done = done;
	w->ctx = ctx;
	s = state(pd);
	if (s->running) {
		w->next = s->next;
		s->next = w;
		s->again = true;
		return;
	}
	w->next = s->current;
	s->current = w;
	publish_start(s);
}

/* ---- step 3: CAS write, then the file ------------------------------- */

static void
on_written(void *arg, const struct dir_result *res)
{
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	char why[300], msg[700];

	if (res->code == LDAP_ASSERTION_FAILED && ++s->tries < CAS_RETRIES) {
		/* Another instance published meanwhile: rebuild on its number. */
		log_info("crl: CRL number %llu was taken by another writer; retrying",
		         (unsigned long long)(s->number + 1));
		publish_start(s);
		return;
	}
	if (res->code != LDAP_SUCCESS) {
		snprintf(msg, sizeof(msg), "directory: %s", dir_result_str(res, why, sizeof(why)));
		publish_end(s, res->code == LDAP_ASSERTION_FAILED ? ST_CONFLICT : ST_UNAVAILABLE, msg);
		return;
	}
	s->last = s->number + 1;
	s->last_time = time(NULL);
	if (crlgen_write_file(pd->cfg.crl_file, s->der, s->derlen, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "CRL %llu is in the directory but not on disk: %s",
		         (unsigned long long)s->last, why);
		publish_end(s, ST_INTERNAL, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "CRL %llu published (%zu entries)",
	         (unsigned long long)s->last, s->n);
	publish_end(s, ST_OK, msg);
}

static void
build_and_write(struct crl_state *s)
{
	struct provd *pd = s->pd;
	unsigned char *tbs = NULL, *der = NULL;
	size_t tbslen = 0, derlen = 0;
	char err[512], num[32], next[32], assertion[64];
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	struct dir_mods *m;
	LDAP *ld = dir_ldap(pd->dir);
	time_t now = time(NULL);

	if (crlgen_build(pd->pki->cacert, s->number + 1, now, pd->cfg.crl_days,
	                 s->entries, s->n, &tbs, &tbslen, err, sizeof(err)) < 0 ||
	    ca_sign_crl(pd, tbs, tbslen, &der, &derlen, err, sizeof(err)) < 0) {
		free(tbs);
		publish_end(s, ST_INTERNAL, err);
		return;
	}
	free(tbs);
	/* The directory first: the compare-and-swap claims the number, so no
	 * two different CRLs ever carry one number.  The file follows; a crash
	 * in between leaves the previous CRL on disk until the next publish. */
	free(s->der);
	s->der = der;
	s->derlen = derlen;
	der = NULL;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)(s->number + 1));
	pkitime_format_ldap(now + (time_t)pd->cfg.crl_days * 86400, next);
	if (s->has_number)
		snprintf(assertion, sizeof(assertion), "(provdCrlNumber=%llu)",
		         (unsigned long long)s->number);
	else
		snprintf(assertion, sizeof(assertion), "(!(provdCrlNumber=*))");
	if (ld == NULL || ldap_create_assertion_control(ld, assertion, 1, &ctrl) != LDAP_SUCCESS) {
		publish_end(s, ST_UNAVAILABLE, "directory unavailable");
		return;
	}
	ctrls[0] = ctrl;
	if ((m = dir_mods_new()) == NULL)
		fatal("crl: out of memory");
	dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCrlNumber", num);
	dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCrlNextUpdate", next);
	dir_mods_add_bin(m, LDAP_MOD_REPLACE, "certificateRevocationList;binary", s->der, s->derlen);
	dir_modify(pd->dir, pd->cfg.ca_dn, dir_mods_get(m), ctrls, on_written, s);
	dir_mods_free(m);
	ldap_control_free(ctrl);
}

/* ---- step 2: the revoked and held records --------------------------- */

static void
on_revoked(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct crl_state *s = arg;
	char *ser = dir_entry_get(ld, e, "provdCertSerial");
	char *at = dir_entry_get(ld, e, "provdCertRevokedAt");
	char *why = dir_entry_get(ld, e, "provdCertReason");
	char *inv = dir_entry_get(ld, e, "provdCertInvalidityDate");
	struct crl_entry ce;
	char err[200];

	memset(&ce, 0, sizeof(ce));
	if (ser == NULL || at == NULL || why == NULL ||
	    serial_parse(ser, &ce.serial, err, sizeof(err)) < 0 ||
	    pkitime_parse_ldap(at, &ce.revoked_at, err, sizeof(err)) < 0 ||
	    reason_parse(why, &ce.reason, err, sizeof(err)) < 0 ||
	    (inv != NULL && pkitime_parse_ldap(inv, &ce.invalidity_date, err, sizeof(err)) < 0)) {
		snprintf(s->bad, sizeof(s->bad), "record %s is malformed", ser ? ser : "?");
		goto out;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct crl_entry *v = realloc(s->entries, cap * sizeof(*v));

		if (v == NULL)
			fatal("crl: out of memory");
		s->entries = v;
		s->cap = cap;
	}
	s->entries[s->n++] = ce;
out:
	free(ser);
	free(at);
	free(why);
	free(inv);
}

static void
on_revoked_done(void *arg, const struct dir_result *res)
{
	struct crl_state *s = arg;
	char why[300], msg[400];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		snprintf(msg, sizeof(msg), "reading revocations: %s",
		         dir_result_str(res, why, sizeof(why)));
		publish_end(s, ST_UNAVAILABLE, msg);
		return;
	}
	if (s->bad[0] != '\0') {
		/* Never publish a CRL that silently drops a revocation. */
		publish_end(s, ST_INTERNAL, s->bad);
		return;
	}
	build_and_write(s);
}

/* ---- step 1: the current number ------------------------------------- */

static void
on_ca_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct crl_state *s = arg;
	char *num = dir_entry_get(ld, e, "provdCrlNumber");

	s->has_number = num != NULL;
	s->number = num ? strtoull(num, NULL, 10) : 0;
	free(num);
}

static void
on_ca_entry_done(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = {
		"provdCertSerial", "provdCertRevokedAt", "provdCertReason",
		"provdCertInvalidityDate", NULL
	};
	struct crl_state *s = arg;
	struct provd *pd = s->pd;
	char why[300], msg[400];

	if (res->code != LDAP_SUCCESS) {
		snprintf(msg, sizeof(msg), "CA entry %s: %s", pd->cfg.ca_dn,
		         dir_result_str(res, why, sizeof(why)));
		publish_end(s, res->code == LDAP_NO_SUCH_OBJECT ? ST_NOTFOUND : ST_UNAVAILABLE, msg);
		return;
	}
	s->n = 0;
	s->bad[0] = '\0';
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(objectClass=provdCertificate)(|(provdCertStatus=revoked)(provdCertStatus=hold)))",
	           attrs, 0, NULL, on_revoked, on_revoked_done, s);
}

static void
publish_start(struct crl_state *s)
{
	static const char *const attrs[] = { "provdCrlNumber", NULL };
	struct provd *pd = s->pd;

	s->running = true;
	if (!ca_ready(pd) || !dir_connected(pd->dir)) {
		if (loop_defer(pd->loop, publish_end_deferred, s) < 0)
			fatal("crl: out of memory");
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

	s->timer = loop_timer(pd->loop, TIMER_MS, tick, s);
	/* Republish at start-up (so a crash between a revocation and its CRL
	 * heals) and when half the CRL's validity has passed. */
	if (ca_ready(pd) && dir_connected(pd->dir) && !s->running &&
	    (s->last_time == 0 || now - s->last_time > (time_t)pd->cfg.crl_days * 43200))
		crl_publish(pd, timer_done, NULL);
}

void
crl_start_timer(struct provd *pd)
{
	struct crl_state *s = state(pd);

	if (s->timer == NULL)
		s->timer = loop_timer(pd->loop, FIRST_CHECK_MS, tick, s);
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
	crl_publish(req->pd, publish_cmd_done, req);
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
	sh->der = dir_entry_get_bin(ld, e, "certificateRevocationList;binary", &sh->len);
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
	static const char *const attrs[] = { "certificateRevocationList;binary", NULL };
	struct show *sh = calloc(1, sizeof(*sh));

	if (sh == NULL) {
		request_done(req, ST_INTERNAL, "out of memory");
		return;
	}
	sh->req = req;
	dir_search(req->pd->dir, req->pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	           attrs, 1, NULL, show_entry, show_done, sh);
}
