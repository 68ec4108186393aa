/* escrow — handing out escrow copies. See escrow.h. */
#include "escrow.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir.h"
#include "pem.h"
#include "pkitime.h"
#include "provd.h"
#include "request.h"
#include "schema.h"
#include "serial.h"
#include "xmalloc.h"

struct export {
	struct request *req;
	bool            found;
	char            login[128];
	unsigned char  *cms;
	size_t          cmslen;
	char            serial[SERIAL_HEX_MAX + 1];
};

static void
export_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct export *x = arg;

	x->found = true;
	dir_entry_copy(ld, e, AT_UID, x->login, sizeof(x->login));
	free(x->cms);
	x->cms = dir_entry_get_bin(ld, e, AT_KEY_ESCROW, &x->cmslen);
}

static void
export_done(void *arg, const struct dir_result *res)
{
	struct export *x = arg;
	struct request *req = x->req;
	char why[300], *pem = NULL;
	size_t plen = 0;
	struct rec r;

	snprintf(req->audit_note, sizeof(req->audit_note), "serial=%s login=%s", x->serial,
	         x->login);
	if (res->code != LDAP_SUCCESS) {
		request_done(req, ST_UNAVAILABLE, "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	} else if (!x->found) {
		request_done(req, ST_NOTFOUND, "no certificate %s", x->serial);
	} else if (x->cms == NULL || x->cmslen == 0 || x->cmslen > ESCROW_MAX) {
		request_done(req, ST_NOTFOUND, "certificate %s has no escrow copy (its key was "
		             "not made by the office under an escrow profile)", x->serial);
	} else if (pem_encode("CMS", x->cms, x->cmslen, &pem, &plen, why, sizeof(why)) < 0) {
		request_done(req, ST_INTERNAL, "%s", why);
	} else {
		rec_begin(&r, req);
		rec_kv(&r, "serial", x->serial);
		rec_kv(&r, "login", x->login);
		rec_kvn(&r, "pem", pem, plen);
		rec_end(&r);
		request_done(req, ST_OK, "escrow copy of %s (%s); decrypt it offline with the "
		             "recovery key: openssl cms -decrypt -inform PEM -recip recovery.pem "
		             "-inkey recovery.key -binary", x->serial, x->login);
	}
	free(pem);
	free(x->cms);
	free(x);
}

void
cert_escrow_export(struct request *req)
{
	static const char *const attrs[] = { AT_UID, AT_KEY_ESCROW, NULL };
	struct provd *pd = req->pd;
	struct export *x;
	struct serial s;
	char err[200], filter[128];

	if (serial_parse(req->args.operand[0], &s, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "serial: %s", err);
		return;
	}
	x = xcalloc(1, sizeof(*x));
	x->req = req;
	serial_to_hex(&s, 0, x->serial);
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_SERIAL "=%s))",
	         x->serial);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2, NULL,
	           export_entry, export_done, x);
}

/* ---- retention ---------------------------------------------------------- */

struct expire {
	struct provd   *pd;
	escrow_done_fn *done;
	void           *ctx;
	char          **dn;
	size_t          n, cap, pending, dropped, failed;
	bool            oom;
};

static void
expire_finish(struct expire *x)
{
	size_t i;

	x->done(x->ctx, x->dropped, x->failed + (x->oom ? 1 : 0));
	for (i = 0; i < x->n; i++)
		free(x->dn[i]);
	free(x->dn);
	free(x);
}

static void
expire_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct expire *x = arg;
	char *dn, **v;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;

		v = xrealloc(x->dn, cap * sizeof(*v));
		x->dn = v;
		x->cap = cap;
	}
	if ((dn = dir_entry_dn(ld, e)) == NULL) {
		x->oom = true;
		return;
	}
	x->dn[x->n++] = dn;
}

static void
expire_dropped(void *arg, const struct dir_result *res)
{
	struct expire *x = arg;

	/* Gone already (another instance's purge) counts as done. */
	if (res->code == LDAP_SUCCESS || res->code == LDAP_NO_SUCH_ATTRIBUTE)
		x->dropped++;
	else
		x->failed++;
	if (--x->pending == 0)
		expire_finish(x);
}

static void
expire_found(void *arg, const struct dir_result *res)
{
	struct expire *x = arg;
	struct dir_mods *m;
	size_t i;

	if (res->code != LDAP_SUCCESS)
		x->failed++;
	if (x->n == 0) {
		expire_finish(x);
		return;
	}
	x->pending = x->n;
	for (i = 0; i < x->n; i++) {
		m = dir_mods_new();
		dir_mods_add(m, LDAP_MOD_DELETE, AT_KEY_ESCROW, NULL);
		dir_modify(x->pd->dir, x->dn[i], dir_mods_get(m), NULL, expire_dropped, x);
		dir_mods_free(m);
	}
}

void
escrow_expire(struct provd *pd, escrow_done_fn *done, void *ctx)
{
	static const char *const attrs[] = { "1.1", NULL };
	struct expire *x = xcalloc(1, sizeof(*x));
	char cutoff[PKITIME_LDAP_LEN + 1], filter[160];
	time_t t = time(NULL) - (time_t)pd->cfg.escrow_retention_days * 86400;

	if (pkitime_format_ldap(t, cutoff) < 0) {
		free(x);
		done(ctx, 0, 1);
		return;
	}
	x->pd = pd;
	x->done = done;
	x->ctx = ctx;
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(%s=*)"
	         "(" AT_CERT_NOT_AFTER "<=%s))", AT_KEY_ESCROW, cutoff);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL,
	           expire_entry, expire_found, x);
}
