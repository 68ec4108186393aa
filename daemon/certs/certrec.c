/* certrec — certificate records. See certrec.h. */
#include "certrec.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>

#include "account.h"
#include "ca.h"
#include "certgen.h"
#include "crl.h"
#include "csr.h"
#include "dir.h"
#include "fingerprint.h"
#include "index.h"
#include "ldapesc.h"
#include "account_admin.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "pem.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "serial.h"
#include "signer.h"
#include "units.h"
#include "whois.h"
#include "xmalloc.h"

const char *const certrec_attrs[] = {
	AT_CERT_SERIAL, AT_CERT_STATUS, AT_UID, AT_EMPLOYEE_ID, AT_UNIT,
	AT_CERT_PROFILE, AT_CERT_NOT_BEFORE, AT_CERT_NOT_AFTER, AT_CERT_REASON,
	AT_CERT_REVOKED_AT, AT_CERT_INVALIDITY, AT_CERT_FINGERPRINT,
	AT_CERT_HOLD_CAUSE, AT_CERT_KEY_HASH, AT_CERT_KEY_SOURCE, AT_CERT_RENEWS,
	AT_CERT_RENEWED_BY, AT_CERT_SUPERSEDE, AT_CERT_NOTIFIED, AT_USER_CERT, NULL
};

/* The provdCertNotified values joined with "; " (sorted as stored). */
static void
certrec_read_notified(LDAP *ld, LDAPMessage *e, char *out, size_t outsz)
{
	struct berval **v = ldap_get_values_len(ld, e, AT_CERT_NOTIFIED);
	size_t off = 0, i;

	out[0] = '\0';
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		int n = snprintf(out + off, outsz - off, "%s%.*s", off ? "; " : "",
		                 (int)(v[i]->bv_len > 256 ? 256 : v[i]->bv_len), v[i]->bv_val);

		if (n < 0 || (size_t)n >= outsz - off)
			break;
		off += (size_t)n;
	}
	ldap_value_free_len(v);
}

struct certrec *
certrec_read(LDAP *ld, LDAPMessage *e)
{
	struct certrec *r = xcalloc(1, sizeof(*r));
	enum cert_state st;

	dir_entry_copy(ld, e, AT_CERT_SERIAL, r->serial, sizeof(r->serial));
	dir_entry_copy(ld, e, AT_CERT_STATUS, r->status, sizeof(r->status));
	r->state = -1;
	if (cert_state_parse(r->status, &st) == 0) {
		r->state = (int)st;
		snprintf(r->status, sizeof(r->status), "%s", cert_state_name(st));
	}
	dir_entry_copy(ld, e, AT_UID, r->login, sizeof(r->login));
	dir_entry_copy(ld, e, AT_EMPLOYEE_ID, r->employee_id, sizeof(r->employee_id));
	dir_entry_copy(ld, e, AT_UNIT, r->unit, sizeof(r->unit));
	dir_entry_copy(ld, e, AT_CERT_PROFILE, r->profile, sizeof(r->profile));
	dir_entry_copy(ld, e, AT_CERT_NOT_BEFORE, r->not_before, sizeof(r->not_before));
	dir_entry_copy(ld, e, AT_CERT_NOT_AFTER, r->not_after, sizeof(r->not_after));
	dir_entry_copy(ld, e, AT_CERT_REASON, r->reason, sizeof(r->reason));
	dir_entry_copy(ld, e, AT_CERT_REVOKED_AT, r->revoked_at, sizeof(r->revoked_at));
	dir_entry_copy(ld, e, AT_CERT_INVALIDITY, r->invalidity, sizeof(r->invalidity));
	dir_entry_copy(ld, e, AT_CERT_FINGERPRINT, r->fingerprint, sizeof(r->fingerprint));
	dir_entry_copy(ld, e, AT_CERT_HOLD_CAUSE, r->hold_cause, sizeof(r->hold_cause));
	dir_entry_copy(ld, e, AT_CERT_KEY_HASH, r->key_hash, sizeof(r->key_hash));
	dir_entry_copy(ld, e, AT_CERT_KEY_SOURCE, r->key_source, sizeof(r->key_source));
	dir_entry_copy(ld, e, AT_CERT_RENEWS, r->renews, sizeof(r->renews));
	dir_entry_copy(ld, e, AT_CERT_RENEWED_BY, r->renewed_by, sizeof(r->renewed_by));
	dir_entry_copy(ld, e, AT_CERT_SUPERSEDE, r->supersede_at, sizeof(r->supersede_at));
	certrec_read_notified(ld, e, r->notified, sizeof(r->notified));
	r->der = dir_entry_get_bin(ld, e, AT_USER_CERT, &r->derlen);
	return r;
}

void
certrec_free(struct certrec *r)
{
	struct certrec *n;

	for (; r != NULL; r = n) {
		n = r->next;
		free(r->der);
		free(r);
	}
}

/* valid | hold | revoked | expired (a valid one past notAfter). */
const char *
certrec_status(const struct certrec *r, const char *now)
{
	if (r->state == CERT_STATE_VALID && strcmp(r->not_after, now) < 0)
		return "expired";
	return r->status;
}

void
certrec_output(struct request *req, const struct certrec *c, bool pem, bool chain)
{
	char now[32];
	struct rec r;

	pkitime_format_ldap(time(NULL), now);
	rec_begin(&r, req);
	rec_kv(&r, "serial", c->serial);
	rec_kv(&r, "login", c->login);
	rec_kv(&r, "employee_id", c->employee_id);
	rec_kv(&r, "unit", c->unit);
	rec_kv(&r, "profile", c->profile);
	rec_kv(&r, "status", certrec_status(c, now));
	rec_kv(&r, "not_before", c->not_before);
	rec_kv(&r, "not_after", c->not_after);
	rec_kv(&r, "reason", c->reason);
	rec_kv(&r, "revoked_at", c->revoked_at);
	rec_kv(&r, "invalidity_date", c->invalidity);
	rec_kv(&r, "fingerprint", c->fingerprint);
	if (chain) {
		rec_kv(&r, "renews", c->renews);
		rec_kv(&r, "renewed_by", c->renewed_by);
		rec_kv(&r, "supersede_at", c->supersede_at);
		rec_kv(&r, "notified", c->notified);
	}
	if (pem && c->der != NULL) {
		char *p = NULL;
		size_t plen = 0;

		if (pem_encode("CERTIFICATE", c->der, c->derlen, &p, &plen, NULL, 0) == 0)
			rec_kvn(&r, "pem", p, plen);
		free(p);
	}
	rec_end(&r);
}

bool
cert_need_ca(struct request *req)
{
	if (ca_ready(req->pd))
		return true;
	request_done(req, ST_NOTFOUND, "no CA yet: an officer runs 'provctl ca create' first");
	return false;
}

/* ---- record state changes (revoke, hold, release) -------------------- */

struct change {
	struct provd   *pd;
	struct certrec *rec;          /* borrowed */
	enum cert_state to;
	char            new_status[16];   /* cert_state_name(to) */
	int             reason;
	char            when[32];
	char            invalidity[32];
	certrec_changed_fn *done;
	void           *ctx;
};

static void
change_finish(struct change *ch, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
change_finish(struct change *ch, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ch->done(ch->ctx, status, msg);
	free(ch);
}

static void
on_account_cert(void *arg, const struct dir_result *res)
{
	struct change *ch = arg;
	char why[300];

	/* The value already gone (or already there) is the state we want;
	 * so is an account that no longer exists. */
	if (res->code == LDAP_SUCCESS || res->code == LDAP_NO_SUCH_ATTRIBUTE ||
	    res->code == LDAP_TYPE_OR_VALUE_EXISTS || res->code == LDAP_NO_SUCH_OBJECT) {
		change_finish(ch, ST_OK, "%s", ch->new_status);
		return;
	}
	change_finish(ch, schema_status_of_ldap(res->code), "record changed, account not updated: %s",
	              dir_result_str(res, why, sizeof(why)));
}

static void
on_record_changed(void *arg, const struct dir_result *res)
{
	struct change *ch = arg;
	struct provd *pd = ch->pd;
	struct dir_mods *m;
	char why[300], dn[ACCOUNT_DN_MAX];
	bool valid = ch->to == CERT_STATE_VALID;

	if (res->code != LDAP_SUCCESS) {
		change_finish(ch, schema_status_of_ldap(res->code), "record %s: %s", ch->rec->serial,
		              dir_result_str(res, why, sizeof(why)));
		return;
	}
	/* The account carries exactly its valid certificates. */
	if (ch->rec->der == NULL || ch->rec->login[0] == '\0' ||
	    ldapesc_rdn_dn(AT_UID, ch->rec->login, pd->cfg.people_dn, dn, sizeof(dn)) < 0) {
		change_finish(ch, ST_OK, "%s", ch->new_status);
		return;
	}
	m = dir_mods_new();
	dir_mods_add_bin(m, valid ? LDAP_MOD_ADD : LDAP_MOD_DELETE, AT_USER_CERT,
	                 ch->rec->der, ch->rec->derlen);
	dir_modify(pd->dir, dn, dir_mods_get(m), NULL, on_account_cert, ch);
	dir_mods_free(m);
}

/*
 * Move rec to state `to` (valid, hold or revoked) with reason (for
 * hold/revoked) and invalidity (0 = none), and for a hold who caused it
 * (hold_cause; other states clear it).  The record is written with an
 * assertion on its current status, so two officers never both apply a
 * change.  The same modify puts a fresh pending marker on the record
 * (provdCertPending, see crl.c): the change reaches the next CRL whichever
 * instance publishes it, even if this one dies before it publishes.
 * done(ctx, status, msg) runs once (immediately when the directory is not
 * connected).
 */
static void
change_start(struct provd *pd, struct certrec *rec, enum cert_state to, int reason,
             time_t invalidity, const char *hold_cause, enum certrec_mark mark,
             certrec_changed_fn *done, void *ctx)
{
	struct change *ch = xcalloc(1, sizeof(*ch));
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	struct dir_mods *m;
	char dn[512], assertion[64], token[CRL_TOKEN_LEN + 1];
	LDAP *ld = dir_ldap(pd->dir);

	m = dir_mods_new();
	ch->pd = pd;
	ch->rec = rec;
	ch->done = done;
	ch->ctx = ctx;
	ch->reason = reason;
	ch->to = to;
	snprintf(ch->new_status, sizeof(ch->new_status), "%s", cert_state_name(to));
	pkitime_format_ldap(time(NULL), ch->when);
	snprintf(assertion, sizeof(assertion), "(" AT_CERT_STATUS "=%s)", rec->status);
	if (ldapesc_rdn_dn(AT_CERT_SERIAL, rec->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0 ||
	    ld == NULL || ldap_create_assertion_control(ld, assertion, 1, &ctrl) != LDAP_SUCCESS) {
		dir_mods_free(m);
		/* Report from the loop, as promised. */
		ch->done = done;
		change_finish(ch, ST_UNAVAILABLE, "directory unavailable");
		return;
	}
	if (crl_pending_token(token) < 0) {
		/* A change without its marker could stay off the CRL. */
		dir_mods_free(m);
		ldap_control_free(ctrl);
		change_finish(ch, ST_INTERNAL, "no random bytes for the pending marker");
		return;
	}
	ctrls[0] = ctrl;
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_STATUS, cert_state_name(to));
	dir_mods_add1(m, LDAP_MOD_REPLACE, CRL_PENDING_ATTR, token);
	if (to == CERT_STATE_HOLD && hold_cause != NULL)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_HOLD_CAUSE, hold_cause);
	else
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_CERT_HOLD_CAUSE, NULL);
	if (to == CERT_STATE_VALID) {
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_CERT_REASON, NULL);
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_CERT_REVOKED_AT, NULL);
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_CERT_INVALIDITY, NULL);
	} else {
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_REASON, reason_name(reason));
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_REVOKED_AT, ch->when);
		if (invalidity != 0) {
			pkitime_format_ldap(invalidity, ch->invalidity);
			dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_INVALIDITY, ch->invalidity);
		} else {
			dir_mods_add(m, LDAP_MOD_REPLACE, AT_CERT_INVALIDITY, NULL);
		}
	}
	if (mark == CERTREC_OWE_SUCCESSOR)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_RENEWED_BY, CERT_SUCCESSOR_OWED);
	else if (mark == CERTREC_OWE_NOTICE)
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOTIFIED, CERT_MOVED_NOTICE_OWED);
	dir_modify(pd->dir, dn, dir_mods_get(m), ctrls, on_record_changed, ch);
	dir_mods_free(m);
	ldap_control_free(ctrl);
}

void
certrec_change(struct provd *pd, struct certrec *rec, enum cert_state to, int reason,
               time_t invalidity, const char *hold_cause, certrec_changed_fn *done,
               void *ctx)
{
	change_start(pd, rec, to, reason, invalidity, hold_cause, CERTREC_MARK_NONE, done, ctx);
}

void
certrec_revoke_owing(struct provd *pd, struct certrec *rec, int reason, enum certrec_mark mark,
                     certrec_changed_fn *done, void *ctx)
{
	change_start(pd, rec, CERT_STATE_REVOKED, reason, 0, NULL, mark, done, ctx);
}

/* ---- finding records -------------------------------------------------- */

struct find {
	struct certrec *head, *tail;
	size_t          n;
	certrec_found_fn   *done;
	void           *ctx;
};

static void
find_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct find *f = arg;
	struct certrec *r = certrec_read(ld, e);

	if (f->tail)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
	f->n++;
}

static void
find_done(void *arg, const struct dir_result *res)
{
	struct find *f = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		f->done(f->ctx, schema_status_of_ldap(res->code), dir_result_str(res, why, sizeof(why)), f->head);
	} else {
		f->done(f->ctx, ST_OK, "", f->head);
	}
	free(f);
}

void
certrec_find(struct provd *pd, const char *filter, certrec_found_fn *done, void *ctx)
{
	struct find *f = xcalloc(1, sizeof(*f));

	f->done = done;
	f->ctx = ctx;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, certrec_attrs, 0,
	           NULL, find_entry, find_done, f);
}

/* Parse SERIAL as OpenSSL prints it into the record's filter. */
int
certrec_serial_filter(struct request *req, const char *text, char *filter, size_t len,
              char hex[SERIAL_HEX_MAX + 1])
{
	struct serial s;
	char err[200];

	if (serial_parse(text, &s, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "serial: %s", err);
		return -1;
	}
	serial_to_hex(&s, 0, hex);
	snprintf(filter, len, "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_SERIAL "=%s))", hex);
	return 0;
}

size_t
certrec_unit_filter(const struct units *us, const char *unit, bool recursive, char *out,
                    size_t len)
{
	size_t off = 0, i;

	if (len < 100)
		return 0;
	off += (size_t)snprintf(out + off, len - off, "(|(" AT_UNIT "=%s)", unit);
	for (i = 0; recursive && i < units_count(us); i++) {
		const struct unit *u = units_at(us, i);

		if (strcmp(u->code, unit) != 0 && units_within(us, u->code, unit) &&
		    off + 100 < len)
			off += (size_t)snprintf(out + off, len - off, "(" AT_UNIT "=%s)", u->code);
	}
	off += (size_t)snprintf(out + off, len - off, ")");
	return off;
}

bool
certrec_owes_successor(const struct certrec *c)
{
	return c->state == CERT_STATE_REVOKED && strcmp(c->renewed_by, CERT_SUCCESSOR_OWED) == 0;
}

bool
certrec_office_key(const struct certrec *c)
{
	return strcasecmp(c->key_source, CERT_KEY_SOURCE_OFFICE) == 0;
}

enum keyfile_type
certrec_new_key_type(const struct certrec *c)
{
	const unsigned char *p = c->der;
	X509 *x = p != NULL ? d2i_X509(NULL, &p, (long)c->derlen) : NULL;
	enum keyfile_type kt = KEYFILE_EC_P256;

	if (x != NULL && EVP_PKEY_get_base_id(X509_get0_pubkey(x)) == EVP_PKEY_RSA)
		kt = KEYFILE_RSA_3072;
	X509_free(x);
	return kt;
}
