/* escrow — handing out escrow copies. See escrow.h. */
#include "escrow.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "pem.h"
#include "provd.h"
#include "request.h"
#include "serial.h"

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
	dir_entry_copy(ld, e, "uid", x->login, sizeof(x->login));
	free(x->cms);
	x->cms = dir_entry_get_bin(ld, e, ESCROW_ATTR, &x->cmslen);
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
	static const char *const attrs[] = { "uid", ESCROW_ATTR, NULL };
	struct provd *pd = req->pd;
	struct export *x;
	struct serial s;
	char err[200], filter[128];

	if (serial_parse(req->args.operand[0], &s, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "serial: %s", err);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		request_done(req, ST_INTERNAL, "out of memory");
		return;
	}
	x->req = req;
	serial_to_hex(&s, 0, x->serial);
	snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)(provdCertSerial=%s))",
	         x->serial);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2, NULL,
	           export_entry, export_done, x);
}
