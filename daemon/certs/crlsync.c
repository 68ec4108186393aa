/* crlsync — crl_file follows the directory's newest CRL. See crlsync.h. */
#include "crlsync.h"

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

/* Signed by our CA and carrying the number the entry says? */
static bool
crl_acceptable(const unsigned char *der, size_t len, uint64_t want, char *why, size_t whylen)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	EVP_PKEY *pub = X509_get0_pubkey(sync_state.pd->pki->cacert);
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
	struct provd *pd = sync_state.pd;
	char why[300];

	(void)arg;
	sync_state.busy = false;
	if (res->code == LDAP_SUCCESS && sync_state.der != NULL) {
		uint64_t have = crlsync_file_number(pd->cfg.crl_file);
		uint64_t want = crlsync_der_number(sync_state.der, sync_state.len);

		if (want <= have)
			; /* this instance published meanwhile */
		else if (!crl_acceptable(sync_state.der, sync_state.len, sync_state.number, why,
		                         sizeof(why)))
			log_warnx("crl: the directory's CRL %llu is not taken: %s",
			          (unsigned long long)sync_state.number, why);
		else if (crlgen_write_file(pd->cfg.crl_file, sync_state.der, sync_state.len, why,
		                           sizeof(why)) < 0)
			log_warnx("crl: %s: %s", pd->cfg.crl_file, why);
		else
			log_info("crl: %s follows the directory: CRL %llu (was %llu)",
			         pd->cfg.crl_file, (unsigned long long)want,
			         (unsigned long long)have);
	}
	free(sync_state.der);
	sync_state.der = NULL;
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
on_number_done(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = {AT_CRL, NULL};
	struct provd *pd = sync_state.pd;

	(void)arg;
	if (res->code != LDAP_SUCCESS || !sync_state.has_number || sync_state.number == 0 ||
	    sync_state.number <= crlsync_file_number(pd->cfg.crl_file)) {
		sync_state.busy = false;
		schedule(period_ms());
		return;
	}
	dir_search(pd->dir, pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs, 1,
	           NULL, on_crl, on_crl_done, NULL);
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
