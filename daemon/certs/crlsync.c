/* crlsync — crl_file follows the directory's newest CRL. See crlsync.h. */
#include "crlsync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "crlgen.h"
#include "dir.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "workpool.h"
#include "schema.h"
#include "xmalloc.h"

#define CRL_FILE_MAX (64u * 1024u * 1024u)

static struct {
	struct provd *pd;
	struct timer *timer;
	bool busy;
	uint64_t number; /* provdCrlNumber read */
	bool has_number;
	unsigned char *der;
	size_t len;
} sync_state;

uint64_t
crlsync_der_number(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	ASN1_INTEGER *num;
	uint64_t v = 0;

	if (crl == NULL)
		return 0;
	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) != NULL) {
		if (ASN1_INTEGER_get_uint64(&v, num) != 1)
			v = 0;
		ASN1_INTEGER_free(num);
	}
	X509_CRL_free(crl);
	return v;
}

uint64_t
crlsync_file_number(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;
	uint64_t v = 0;

	if (f == NULL)
		return 0;
	for (;;) {
		if (len == cap) {
			unsigned char *nb;

			if (cap >= CRL_FILE_MAX)
				goto out;
			cap = cap ? cap * 2 : 65536;
			nb = xrealloc(buf, cap);
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (!ferror(f))
		v = crlsync_der_number(buf, len);
out:
	free(buf);
	fclose(f);
	return v;
}

static void schedule(uint64_t ms);

/* pki.crl_sync, in milliseconds. */
static uint64_t
period_ms(void)
{
	return (uint64_t)sync_state.pd->cfg.crl_sync * 1000;
}

/* Signed by cacert and carrying the number the entry says? */
static bool
crl_acceptable(X509 *cacert, const unsigned char *der, size_t len, uint64_t want, char *why,
               size_t whylen)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	EVP_PKEY *pub = X509_get0_pubkey(cacert);
	bool ok = false;

	if (crl == NULL)
		snprintf(why, whylen, "does not parse");
	else if (pub == NULL || X509_CRL_verify(crl, pub) != 1)
		snprintf(why, whylen, "not signed by this instance's CA certificate");
	else if (crlsync_der_number(der, len) != want)
		snprintf(why, whylen, "its number is not provdCrlNumber %llu",
		         (unsigned long long)want);
	else
		ok = true;
	X509_CRL_free(crl);
	return ok;
}

/*
 * The file's side of a check, on a worker thread (reading and parsing a
 * CRL of 100,000 entries takes tens of milliseconds): the job owns every
 * field; the loop only starts it and reads its outcome.
 *   compare: is the directory's number above the file's?
 *   take:    check der (signed by cacert, numbered number) and write it
 *            over the file unless the file is as new already.
 */
struct sync_job {
	bool take;
	char *path;
	uint64_t number;    /* provdCrlNumber read */
	X509 *cacert;       /* take: a reference of its own */
	unsigned char *der; /* take: the directory's CRL */
	size_t len;
	/* outcome */
	uint64_t have, want;
	enum { SYNC_SAME, SYNC_NEWER, SYNC_REFUSED, SYNC_FAILED, SYNC_WRITTEN } out;
	char why[300];
};

static void
sync_job_free(struct sync_job *j)
{
	free(j->path);
	X509_free(j->cacert);
	free(j->der);
	free(j);
}

/* Held by the worker threads that write crl_file. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

int
crlsync_write_file(const char *path, const unsigned char *der, size_t len, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&file_lock);
	rc = crlgen_write_file(path, der, len, err, errlen);
	pthread_mutex_unlock(&file_lock);
	return rc;
}

static void
sync_work(void *arg)
{
	struct sync_job *j = arg;

	if (!j->take) {
		j->have = crlsync_file_number(j->path);
		j->out = j->number <= j->have ? SYNC_SAME : SYNC_NEWER;
		return;
	}
	pthread_mutex_lock(&file_lock);
	j->have = crlsync_file_number(j->path);
	j->want = crlsync_der_number(j->der, j->len);
	if (j->want <= j->have)
		j->out = SYNC_SAME; /* this instance published meanwhile */
	else if (!crl_acceptable(j->cacert, j->der, j->len, j->number, j->why, sizeof(j->why)))
		j->out = SYNC_REFUSED;
	else if (crlgen_write_file(j->path, j->der, j->len, j->why, sizeof(j->why)) < 0)
		j->out = SYNC_FAILED;
	else
		j->out = SYNC_WRITTEN;
	pthread_mutex_unlock(&file_lock);
}

static void
sync_submit(bool take, workpool_fn *done)
{
	struct provd *pd = sync_state.pd;
	struct sync_job *j = xcalloc(1, sizeof(*j));

	j->take = take;
	j->path = xstrdup(pd->cfg.crl_file);
	j->number = sync_state.number;
	if (take) {
		j->der = sync_state.der;
		j->len = sync_state.len;
		sync_state.der = NULL;
		if (X509_up_ref(pd->pki->cacert) != 1)
			fatalx("crl: X509_up_ref");
		j->cacert = pd->pki->cacert;
	}
	workpool_submit(pd->hashers, sync_work, done, j);
}

static void
on_crl_written(void *arg)
{
	struct sync_job *j = arg;
	struct provd *pd = sync_state.pd;

	if (j->out == SYNC_REFUSED)
		log_warnx("crl: the directory's CRL %llu is not taken: %s",
		          (unsigned long long)j->number, j->why);
	else if (j->out == SYNC_FAILED)
		log_warnx("crl: %s: %s", pd->cfg.crl_file, j->why);
	else if (j->out == SYNC_WRITTEN)
		log_info("crl: %s follows the directory: CRL %llu (was %llu)", pd->cfg.crl_file,
		         (unsigned long long)j->want, (unsigned long long)j->have);
	sync_job_free(j);
	sync_state.busy = false;
	schedule(period_ms());
}

static void
on_crl(void *arg, LDAP *ld, LDAPMessage *e)
{
	(void)arg;
	free(sync_state.der);
	sync_state.der = dir_entry_get_bin(ld, e, AT_CRL, &sync_state.len);
}

static void
on_crl_done(void *arg, const struct dir_result *res)
{
	(void)arg;
	if (res->code == LDAP_SUCCESS && sync_state.der != NULL && ca_ready(sync_state.pd)) {
		sync_submit(true, on_crl_written);
		return;
	}
	free(sync_state.der);
	sync_state.der = NULL;
	sync_state.busy = false;
	schedule(period_ms());
}

static void
on_number(void *arg, LDAP *ld, LDAPMessage *e)
{
	char *num = dir_entry_get(ld, e, AT_CRL_NUMBER);

	(void)arg;
	sync_state.has_number = num != NULL;
	sync_state.number = num ? strtoull(num, NULL, 10) : 0;
	free(num);
}

static void
on_compared(void *arg)
{
	static const char *const attrs[] = {AT_CRL, NULL};
	struct sync_job *j = arg;
	struct provd *pd = sync_state.pd;
	bool newer = j->out == SYNC_NEWER;

	sync_job_free(j);
	if (!newer || !dir_connected(pd->dir)) {
		sync_state.busy = false;
		schedule(period_ms());
		return;
	}
	dir_search(pd->dir, pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs, 1,
	           NULL, on_crl, on_crl_done, NULL);
}

static void
on_number_done(void *arg, const struct dir_result *res)
{
	(void)arg;
	if (res->code != LDAP_SUCCESS || !sync_state.has_number || sync_state.number == 0) {
		sync_state.busy = false;
		schedule(period_ms());
		return;
	}
	sync_submit(false, on_compared);
}

static void
tick(void *arg)
{
	static const char *const attrs[] = {AT_CRL_NUMBER, NULL};
	struct provd *pd = sync_state.pd;

	(void)arg;
	sync_state.timer = NULL;
	if (sync_state.busy)
		return;
	if (!ca_ready(pd) || !dir_connected(pd->dir) || pd->cfg.crl_file == NULL) {
		schedule(period_ms());
		return;
	}
	sync_state.busy = true;
	sync_state.has_number = false;
	dir_search(pd->dir, pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs, 1,
	           NULL, on_number, on_number_done, NULL);
}

static void
schedule(uint64_t ms)
{
	if (sync_state.timer != NULL)
		return;
	sync_state.timer = loop_timer(sync_state.pd->loop, ms, tick, NULL);
}

void
crlsync_start(struct provd *pd)
{
	sync_state.pd = pd;
	schedule(period_ms());
}

void
crlsync_stop(void)
{
	if (sync_state.timer != NULL && sync_state.pd != NULL)
		loop_timer_cancel(sync_state.pd->loop, sync_state.timer);
	sync_state.timer = NULL;
	free(sync_state.der);
	sync_state.der = NULL;
}
