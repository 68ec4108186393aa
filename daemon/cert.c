/* cert — certificate records and their state changes. See cert.h. */
#include "cert.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>

#include "account.h"
#include "address.h"
#include "ca.h"
#include "certgen.h"
#include "crl.h"
#include "csr.h"
#include "dir.h"
#include "fingerprint.h"
#include "index.h"
#include "ldapesc.h"
#include "lifecycle.h"
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

#define CERT_DER_MAX (64 * 1024)
#define CERT_KEY_HASH_LEN 64     /* SHA-256, hex */

static const char *const record_attrs[] = {
	"provdCertSerial", "provdCertStatus", "uid", "employeeNumber", "departmentNumber",
	"provdCertProfile", "provdCertNotBefore", "provdCertNotAfter", "provdCertReason",
	"provdCertRevokedAt", "provdCertInvalidityDate", "provdCertFingerprint",
	"provdCertHoldCause", "provdCertKeyHash", "userCertificate;binary", NULL
};

/* A record as read from the directory. */
struct certrec {
	char           serial[SERIAL_HEX_MAX + 1];
	char           status[16];
	char           login[NAMES_LOGIN_BUFSZ];
	char           employee_id[64];
	char           unit[UNIT_CODE_MAX];
	char           profile[PROFILE_NAME_MAX + 1];
	char           not_before[32], not_after[32];
	char           reason[REASON_NAME_MAX + 1];
	char           revoked_at[32], invalidity[32];
	char           fingerprint[FINGERPRINT_HEX_LEN + 1];
	char           hold_cause[16];   /* "account", "officer" or "" (before 0.2) */
	char           key_hash[CERT_KEY_HASH_LEN + 1];
	unsigned char *der;
	size_t         derlen;
	struct certrec *next;
};

static struct certrec *
certrec_read(LDAP *ld, LDAPMessage *e)
{
	struct certrec *r = calloc(1, sizeof(*r));

	if (r == NULL)
		fatal("cert: out of memory");
	dir_entry_copy(ld, e, "provdCertSerial", r->serial, sizeof(r->serial));
	dir_entry_copy(ld, e, "provdCertStatus", r->status, sizeof(r->status));
	dir_entry_copy(ld, e, "uid", r->login, sizeof(r->login));
	dir_entry_copy(ld, e, "employeeNumber", r->employee_id, sizeof(r->employee_id));
	dir_entry_copy(ld, e, "departmentNumber", r->unit, sizeof(r->unit));
	dir_entry_copy(ld, e, "provdCertProfile", r->profile, sizeof(r->profile));
	dir_entry_copy(ld, e, "provdCertNotBefore", r->not_before, sizeof(r->not_before));
	dir_entry_copy(ld, e, "provdCertNotAfter", r->not_after, sizeof(r->not_after));
	dir_entry_copy(ld, e, "provdCertReason", r->reason, sizeof(r->reason));
	dir_entry_copy(ld, e, "provdCertRevokedAt", r->revoked_at, sizeof(r->revoked_at));
	dir_entry_copy(ld, e, "provdCertInvalidityDate", r->invalidity, sizeof(r->invalidity));
	dir_entry_copy(ld, e, "provdCertFingerprint", r->fingerprint, sizeof(r->fingerprint));
	dir_entry_copy(ld, e, "provdCertHoldCause", r->hold_cause, sizeof(r->hold_cause));
	dir_entry_copy(ld, e, "provdCertKeyHash", r->key_hash, sizeof(r->key_hash));
	r->der = dir_entry_get_bin(ld, e, "userCertificate;binary", &r->derlen);
	return r;
}

static void
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
static const char *
effective_status(const struct certrec *r, const char *now)
{
	if (strcmp(r->status, "valid") == 0 && strcmp(r->not_after, now) < 0)
		return "expired";
	return r->status;
}

static void
now_ldap(char out[32])
{
	pkitime_format_ldap(time(NULL), out);
}

static void
certrec_output(struct request *req, const struct certrec *c, bool pem)
{
	char now[32];
	struct rec r;

	now_ldap(now);
	rec_begin(&r, req);
	rec_kv(&r, "serial", c->serial);
	rec_kv(&r, "login", c->login);
	rec_kv(&r, "employee_id", c->employee_id);
	rec_kv(&r, "unit", c->unit);
	rec_kv(&r, "profile", c->profile);
	rec_kv(&r, "status", effective_status(c, now));
	rec_kv(&r, "not_before", c->not_before);
	rec_kv(&r, "not_after", c->not_after);
	rec_kv(&r, "reason", c->reason);
	rec_kv(&r, "revoked_at", c->revoked_at);
	rec_kv(&r, "invalidity_date", c->invalidity);
	rec_kv(&r, "fingerprint", c->fingerprint);
	if (pem && c->der != NULL) {
		char *p = NULL;
		size_t plen = 0;

		if (pem_encode("CERTIFICATE", c->der, c->derlen, &p, &plen, NULL, 0) == 0)
			rec_kvn(&r, "pem", p, plen);
		free(p);
	}
	rec_end(&r);
}

static int
status_of(int ldap_code)
{
	return account_status_of_ldap(ldap_code);
}

static bool
need_ca(struct request *req)
{
	if (ca_ready(req->pd))
		return true;
	request_done(req, ST_NOTFOUND, "no CA yet: an officer runs 'provctl ca create' first");
	return false;
}

/* ---- record state changes (revoke, hold, release) -------------------- */

typedef void change_done_fn(void *ctx, int status, const char *msg);

struct change {
	struct provd   *pd;
	struct certrec *rec;          /* borrowed */
	char            new_status[16];
	int             reason;
	char            when[32];
	char            invalidity[32];
	change_done_fn *done;
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
	change_finish(ch, status_of(res->code), "record changed, account not updated: %s",
	              dir_result_str(res, why, sizeof(why)));
}

static void
on_record_changed(void *arg, const struct dir_result *res)
{
	struct change *ch = arg;
	struct provd *pd = ch->pd;
	struct dir_mods *m;
	char why[300], dn[ACCOUNT_DN_MAX];
	bool valid = strcmp(ch->new_status, "valid") == 0;

	if (res->code != LDAP_SUCCESS) {
		change_finish(ch, status_of(res->code), "record %s: %s", ch->rec->serial,
		              dir_result_str(res, why, sizeof(why)));
		return;
	}
	/* The account carries exactly its valid certificates. */
	if (ch->rec->der == NULL || ch->rec->login[0] == '\0' ||
	    ldapesc_rdn_dn("uid", ch->rec->login, pd->cfg.people_dn, dn, sizeof(dn)) < 0) {
		change_finish(ch, ST_OK, "%s", ch->new_status);
		return;
	}
	if ((m = dir_mods_new()) == NULL)
		fatal("cert: out of memory");
	dir_mods_add_bin(m, valid ? LDAP_MOD_ADD : LDAP_MOD_DELETE, "userCertificate;binary",
	                 ch->rec->der, ch->rec->derlen);
	dir_modify(pd->dir, dn, dir_mods_get(m), NULL, on_account_cert, ch);
	dir_mods_free(m);
}

/*
 * Move rec to new_status ("valid", "hold" or "revoked") with reason (for
 * hold/revoked) and invalidity (0 = none); a hold records who caused it
 * (hold_cause "account" or "officer"), any other status clears it.  The record is written with an
 * assertion on its current status, so two officers never both apply a
 * change.  The same modify puts a fresh pending marker on the record
 * (provdCertPending, see crl.c): the change reaches the next CRL whichever
 * instance publishes it, even if this one dies before it publishes.
 * done(ctx, status, msg) runs once (immediately when the directory is not
 * connected).
 */
static void
cert_change(struct provd *pd, struct certrec *rec, const char *new_status, int reason,
            time_t invalidity, const char *hold_cause, change_done_fn *done, void *ctx)
{
	struct change *ch = calloc(1, sizeof(*ch));
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	struct dir_mods *m;
	char dn[512], assertion[64], token[CRL_TOKEN_LEN + 1];
	LDAP *ld = dir_ldap(pd->dir);

	if (ch == NULL || (m = dir_mods_new()) == NULL)
		fatal("cert: out of memory");
	ch->pd = pd;
	ch->rec = rec;
	ch->done = done;
	ch->ctx = ctx;
	ch->reason = reason;
	snprintf(ch->new_status, sizeof(ch->new_status), "%s", new_status);
	now_ldap(ch->when);
	snprintf(assertion, sizeof(assertion), "(provdCertStatus=%s)", rec->status);
	if (ldapesc_rdn_dn("provdCertSerial", rec->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0 ||
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
	dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertStatus", new_status);
	dir_mods_add1(m, LDAP_MOD_REPLACE, CRL_PENDING_ATTR, token);
	if (strcmp(new_status, "hold") == 0 && hold_cause != NULL)
		dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertHoldCause", hold_cause);
	else
		dir_mods_add(m, LDAP_MOD_REPLACE, "provdCertHoldCause", NULL);
	if (strcmp(new_status, "valid") == 0) {
		dir_mods_add(m, LDAP_MOD_REPLACE, "provdCertReason", NULL);
		dir_mods_add(m, LDAP_MOD_REPLACE, "provdCertRevokedAt", NULL);
		dir_mods_add(m, LDAP_MOD_REPLACE, "provdCertInvalidityDate", NULL);
	} else {
		dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertReason", reason_name(reason));
		dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertRevokedAt", ch->when);
		if (invalidity != 0) {
			pkitime_format_ldap(invalidity, ch->invalidity);
			dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertInvalidityDate", ch->invalidity);
		} else {
			dir_mods_add(m, LDAP_MOD_REPLACE, "provdCertInvalidityDate", NULL);
		}
	}
	dir_modify(pd->dir, dn, dir_mods_get(m), ctrls, on_record_changed, ch);
	dir_mods_free(m);
	ldap_control_free(ctrl);
}

/* ---- finding records -------------------------------------------------- */

typedef void find_done_fn(void *ctx, int status, const char *msg, struct certrec *list);

struct find {
	struct certrec *head, *tail;
	size_t          n;
	find_done_fn   *done;
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
		f->done(f->ctx, status_of(res->code), dir_result_str(res, why, sizeof(why)), f->head);
	} else {
		f->done(f->ctx, ST_OK, "", f->head);
	}
	free(f);
}

static void
find_records(struct provd *pd, const char *filter, find_done_fn *done, void *ctx)
{
	struct find *f = calloc(1, sizeof(*f));

	if (f == NULL)
		fatal("cert: out of memory");
	f->done = done;
	f->ctx = ctx;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, record_attrs, 0,
	           NULL, find_entry, find_done, f);
}

/* Parse SERIAL as OpenSSL prints it into the record's filter. */
static int
serial_filter(struct request *req, const char *text, char *filter, size_t len,
              char hex[SERIAL_HEX_MAX + 1])
{
	struct serial s;
	char err[200];

	if (serial_parse(text, &s, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "serial: %s", err);
		return -1;
	}
	serial_to_hex(&s, 0, hex);
	snprintf(filter, len, "(&(objectClass=provdCertificate)(provdCertSerial=%s))", hex);
	return 0;
}

/* ---- cert issue ------------------------------------------------------- */

struct issue {
	struct request        *req;
	const struct profile  *profile;
	EVP_PKEY              *pub;
	X509                  *cert;      /* as built; its fields are der's */
	bool                   found;
	char                   status[16];
	char                   cn[NAMES_CN_BUFSZ];
	char                   unit_name[512];
	char                   unit[UNIT_CODE_MAX];
	char                   mail[ACCOUNT_MAIL_MAX];
	char                   employee_id[64];
	char                   login[NAMES_LOGIN_BUFSZ];
	char                   serial[SERIAL_HEX_MAX + 1];
	char                   not_before[32], not_after[32];
	char                   fp[FINGERPRINT_HEX_LEN + 1];
	unsigned char         *der;       /* signed, malloc'd */
	size_t                 derlen;
	char                   issuer[1024];
	unsigned               tries;     /* directory writes retried so far */
	char                   key_hash[CERT_KEY_HASH_LEN + 1];
	char                   key_claim[CERT_KEY_HASH_LEN + 2];  /* "%hash" while held */
};

/* While the directory is away (slapd restarting), the record and the
 * account are written again every ISSUE_RETRY_MS, up to ISSUE_RETRIES
 * times: a certificate is reported issued only once both have landed. */
#define ISSUE_RETRY_MS 500
#define ISSUE_RETRIES  20

static bool
issue_may_retry(struct issue *is, int code)
{
	if (code != LDAP_SERVER_DOWN && code != LDAP_UNAVAILABLE &&
	    code != LDAP_CONNECT_ERROR && code != LDAP_TIMEOUT)
		return false;
	return is->tries++ < ISSUE_RETRIES;
}

static void
issue_free(struct issue *is)
{
	if (is->key_claim[0] != '\0')
		address_unclaim(is->key_claim);
	EVP_PKEY_free(is->pub);
	X509_free(is->cert);
	free(is->der);
	free(is);
}

static void
issue_reply(struct issue *is, const char *warning)
{
	struct request *req = is->req;
	char *pem = NULL;
	size_t plen = 0;
	struct rec r;

	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s serial=%s profile=%s",
	         is->login, is->serial, is->profile->name);
	if (pem_encode("CERTIFICATE", is->der, is->derlen, &pem, &plen, NULL, 0) < 0) {
		request_done(req, ST_INTERNAL, "out of memory");
		issue_free(is);
		return;
	}
	rec_begin(&r, req);
	rec_kv(&r, "serial", is->serial);
	rec_kv(&r, "login", is->login);
	rec_kv(&r, "profile", is->profile->name);
	rec_kv(&r, "not_before", is->not_before);
	rec_kv(&r, "not_after", is->not_after);
	rec_kv(&r, "fingerprint", is->fp);
	rec_kvn(&r, "pem", pem, plen);
	rec_end(&r);
	free(pem);
	if (warning != NULL)
		request_done(req, ST_OK, "issued %s to %s; warning: %s", is->serial, is->login,
		             warning);
	else
		request_done(req, ST_OK, "issued %s to %s (%s, until %s)", is->serial, is->login,
		             is->profile->name, is->not_after);
	issue_free(is);
}

static void issue_update_account(void *arg);

static void
on_account_updated(void *arg, const struct dir_result *res)
{
	struct issue *is = arg;
	char why[300];

	/* After a lost connection the first attempt may have landed. */
	if (res->code == LDAP_SUCCESS ||
	    (res->code == LDAP_TYPE_OR_VALUE_EXISTS && is->tries > 0)) {
		issue_reply(is, NULL);
		return;
	}
	if (issue_may_retry(is, res->code) &&
	    loop_timer(is->req->pd->loop, ISSUE_RETRY_MS, issue_update_account, is) != NULL)
		return;
	snprintf(is->req->audit_note, sizeof(is->req->audit_note), "login=%s serial=%s",
	         is->login, is->serial);
	request_done(is->req, status_of(res->code), "certificate %s is recorded but NOT on "
	             "the account %s (%s); revoke it with cert revoke before issuing again",
	             is->serial, is->login, dir_result_str(res, why, sizeof(why)));
	issue_free(is);
}

static void
issue_update_account(void *arg)
{
	struct issue *is = arg;
	struct request *req = is->req;
	struct dir_mods *m;
	char dn[ACCOUNT_DN_MAX];

	if (ldapesc_rdn_dn("uid", is->login, req->pd->cfg.people_dn, dn, sizeof(dn)) < 0 ||
	    (m = dir_mods_new()) == NULL) {
		request_done(req, ST_INTERNAL, "certificate %s is recorded but the account DN "
		             "cannot be formed", is->serial);
		issue_free(is);
		return;
	}
	dir_mods_add_bin(m, LDAP_MOD_ADD, "userCertificate;binary", is->der, is->derlen);
	dir_modify(req->pd->dir, dn, dir_mods_get(m), NULL, on_account_updated, is);
	dir_mods_free(m);
}

static void issue_record(void *arg);

static void
on_recorded(void *arg, const struct dir_result *res)
{
	struct issue *is = arg;
	struct request *req = is->req;
	char why[300];

	/* Serials are random: an existing record with ours is the one an
	 * attempt cut off by a lost connection did write. */
	if (res->code == LDAP_SUCCESS ||
	    (res->code == LDAP_ALREADY_EXISTS && is->tries > 0)) {
		is->tries = 0;
		issue_update_account(is);
		return;
	}
	if (issue_may_retry(is, res->code) &&
	    loop_timer(req->pd->loop, ISSUE_RETRY_MS, issue_record, is) != NULL)
		return;
	request_done(req, status_of(res->code), "certificate %s signed but NOT recorded, "
	             "so it is not issued: %s", is->serial,
	             dir_result_str(res, why, sizeof(why)));
	issue_free(is);
}

/* Write the record (the source of truth); then the account. */
static void
issue_record(void *arg)
{
	struct issue *is = arg;
	struct request *req = is->req;
	struct provd *pd = req->pd;
	struct dir_mods *m;
	char dn[512];

	if (ldapesc_rdn_dn("provdCertSerial", is->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0 ||
	    (m = dir_mods_new()) == NULL) {
		request_done(req, ST_INTERNAL, "cannot form the record DN");
		issue_free(is);
		return;
	}
	dir_mods_add1(m, LDAP_MOD_ADD, "objectClass", "provdCertificate");
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertSerial", is->serial);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertStatus", "valid");
	dir_mods_add1(m, LDAP_MOD_ADD, "uid", is->login);
	dir_mods_add1(m, LDAP_MOD_ADD, "employeeNumber", is->employee_id);
	dir_mods_add1(m, LDAP_MOD_ADD, "mail", is->mail);
	dir_mods_add1(m, LDAP_MOD_ADD, "cn", is->cn);
	if (is->unit[0])
		dir_mods_add1(m, LDAP_MOD_ADD, "departmentNumber", is->unit);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertProfile", is->profile->name);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertNotBefore", is->not_before);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertNotAfter", is->not_after);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertFingerprint", is->fp);
	dir_mods_add1(m, LDAP_MOD_ADD, "provdCertKeyHash", is->key_hash);
	if (is->issuer[0])
		dir_mods_add1(m, LDAP_MOD_ADD, "provdCertIssuer", is->issuer);
	dir_mods_add_bin(m, LDAP_MOD_ADD, "userCertificate;binary", is->der, is->derlen);
	dir_add(pd->dir, dn, dir_mods_get(m), NULL, on_recorded, is);
	dir_mods_free(m);
}

static void
issue_sign_and_record(struct issue *is)
{
	struct request *req = is->req;
	struct provd *pd = req->pd;
	struct certgen_ca ca = {
		.cert = pd->pki->cacert, .country = pd->cfg.country,
		.organization = pd->cfg.organization, .crl_url = pd->cfg.crl_url,
		.ocsp_url = pd->cfg.ocsp_url, .ca_issuers_url = pd->cfg.ca_issuers_url,
	};
	struct certgen_person person = {
		.full_name = is->cn, .unit_name = is->unit_name, .mail = is->mail,
		.employee_id = NULL,
	};
	struct serial s;
	X509 *tbs = NULL;
	char err[512];
	time_t t;
	BIO *b;
	int n;

	if (certgen_person(&ca, &person, is->profile, is->pub, 0, &tbs, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "%s", err);
		issue_free(is);
		return;
	}
	/* The signer's certificate is checked to be tbs, signed: its fields
	 * are read from tbs rather than decoded again. */
	is->cert = tbs;
	if (ca_sign_cert(pd, tbs, 0, &is->der, &is->derlen, err, sizeof(err)) < 0) {
		request_done(req, ST_UNAVAILABLE, "signer: %s", err);
		issue_free(is);
		return;
	}
	if (serial_from_asn1(X509_get0_serialNumber(is->cert), &s, err, sizeof(err)) < 0 ||
	    fingerprint_sha256_der(is->der, is->derlen, is->fp, err, sizeof(err)) < 0 ||
	    pkitime_from_asn1(X509_get0_notBefore(is->cert), &t) < 0 ||
	    pkitime_format_ldap(t, is->not_before) < 0 ||
	    pkitime_from_asn1(X509_get0_notAfter(is->cert), &t) < 0 ||
	    pkitime_format_ldap(t, is->not_after) < 0) {
		request_done(req, ST_INTERNAL, "cannot read back the signed certificate");
		issue_free(is);
		return;
	}
	serial_to_hex(&s, 0, is->serial);
	is->issuer[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(b, X509_get_issuer_name(is->cert), 0,
		                   XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		n = BIO_read(b, is->issuer, sizeof(is->issuer) - 1);
		is->issuer[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	issue_record(is);
}

static void
issue_account(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct issue *is = arg;
	const struct unit *u;

	is->found = true;
	snprintf(is->status, sizeof(is->status), "%s", account_status(ld, e));
	dir_entry_copy(ld, e, "cn", is->cn, sizeof(is->cn));
	dir_entry_copy(ld, e, "mail", is->mail, sizeof(is->mail));
	dir_entry_copy(ld, e, "employeeNumber", is->employee_id, sizeof(is->employee_id));
	dir_entry_copy(ld, e, "departmentNumber", is->unit, sizeof(is->unit));
	dir_entry_copy(ld, e, "uid", is->login, sizeof(is->login));
	u = units_find(is->req->pd->units, is->unit);
	snprintf(is->unit_name, sizeof(is->unit_name), "%s", u && u->name ? u->name : "");
}

/*
 * One key, one person: the key's records (by provdCertKeyHash) decide.  A
 * key certified for another account is refused, and so is a key any
 * certificate was revoked for as compromised (for anyone, its holder
 * included).  The key is claimed from the search until the record is
 * written, so two requests in flight never certify one key twice.
 */
static void
issue_key_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct issue *is = ctx;
	struct request *req = is->req;
	const struct certrec *r;

	if (status != ST_OK) {
		request_done(req, status, "directory: %s", msg);
		goto fail;
	}
	for (r = list; r != NULL; r = r->next) {
		if (strcmp(r->status, "revoked") == 0 &&
		    strcasecmp(r->reason, reason_name(REASON_KEY_COMPROMISE)) == 0) {
			request_done(req, ST_CONFLICT, "csr: this key is compromised (certificate "
			             "%s of %s was revoked for keyCompromise); make a new key",
			             r->serial, r->login);
			goto fail;
		}
		if (strcmp(r->login, is->login) != 0) {
			request_done(req, ST_CONFLICT, "csr: this key is already certified for "
			             "another account (%s, certificate %s); one key belongs to one "
			             "person", r->login, r->serial);
			goto fail;
		}
	}
	certrec_free(list);
	issue_sign_and_record(is);
	return;
fail:
	certrec_free(list);
	issue_free(is);
}

static void
issue_key_check(struct issue *is)
{
	struct request *req = is->req;
	char err[200], filter[128];

	if (fingerprint_spki(is->pub, is->key_hash, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "csr: %s", err);
		issue_free(is);
		return;
	}
	snprintf(is->key_claim, sizeof(is->key_claim), "%%%s", is->key_hash);
	if (!address_claim(is->key_claim)) {
		is->key_claim[0] = '\0';
		request_done(req, ST_CONFLICT, "csr: this key is being certified by another "
		             "request in flight");
		issue_free(is);
		return;
	}
	/* The hash is hex: nothing to escape. */
	snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)(provdCertKeyHash=%s))",
	         is->key_hash);
	find_records(req->pd, filter, issue_key_found, is);
}

static void
issue_account_done(void *arg, const struct dir_result *res)
{
	struct issue *is = arg;
	struct request *req = is->req;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(req, status_of(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		issue_free(is);
		return;
	}
	if (!is->found) {
		request_done(req, ST_NOTFOUND, "no account '%s'", req->args.operand[0]);
		issue_free(is);
		return;
	}
	if (!request_may(req, req->spec->roles, is->unit)) {
		char what[128];

		snprintf(what, sizeof(what), "account %s (unit %s)", is->login,
		         is->unit[0] ? is->unit : "none");
		request_refuse(req, req->spec->roles, what);
		issue_free(is);
		return;
	}
	if (strcmp(is->status, "active") != 0) {
		request_done(req, ST_CONFLICT, "account %s is %s: no certificate is issued to it",
		             is->login, is->status);
		issue_free(is);
		return;
	}
	issue_key_check(is);
}

void
cert_issue(struct request *req)
{
	static const char *const attrs[] = {
		"uid", "cn", "mail", "employeeNumber", "departmentNumber",
		"pwdAccountLockedTime", "provdDeleteAfter", NULL
	};
	struct provd *pd = req->pd;
	const char *login = req->args.operand[0];
	const char *pname = cmd_arg(&req->args, "profile");
	size_t csrlen = 0;
	const char *csr = cmd_arg_len(&req->args, "csr", &csrlen);
	char err[512], filter[128];
	struct issue *is;

	if (!need_ca(req))
		return;
	if (!names_login_valid(login)) {
		request_done(req, ST_INVALID, "login: '%.40s' is not a login", login);
		return;
	}
	if (pname == NULL)
		pname = pd->cfg.default_profile;
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		request_done(req, ST_INTERNAL, "out of memory");
		return;
	}
	is->req = req;
	if ((is->profile = profile_find(pd->pki->profiles, pname)) == NULL) {
		request_done(req, ST_NOTFOUND, "profile: no profile '%.64s'", pname);
		issue_free(is);
		return;
	}
	if (csr_intake((const unsigned char *)csr, csrlen, is->profile, &is->pub,
	               err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "csr: %s", err);
		issue_free(is);
		return;
	}
	snprintf(filter, sizeof(filter), "(&(objectClass=inetOrgPerson)(uid=%s))", login);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2, NULL,
	           issue_account, issue_account_done, is);
}

/* ---- cert list / show ------------------------------------------------- */

static void
list_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct request *req = arg;
	struct certrec *r = certrec_read(ld, e);

	certrec_output(req, r, false);
	certrec_free(r);
}

static void
list_done(void *arg, const struct dir_result *res)
{
	struct request *req = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		request_done(req, status_of(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	else
		request_done(req, ST_OK, "ok");
}

void
cert_list(struct request *req)
{
	static const char *const attrs[] = {
		"provdCertSerial", "provdCertStatus", "uid", "employeeNumber", "departmentNumber",
		"provdCertProfile", "provdCertNotBefore", "provdCertNotAfter", "provdCertReason",
		"provdCertRevokedAt", "provdCertInvalidityDate", "provdCertFingerprint", NULL
	};
	const struct cmd_args *a = &req->args;
	const char *login = cmd_arg(a, "login"), *unit = cmd_arg(a, "unit");
	const char *st = cmd_arg(a, "status"), *within = cmd_arg(a, "expiring-within");
	struct units *us = req->pd->units;
	char filter[16384], now[32], until[32], esc[256];
	size_t off = 0, i;
	int n;

	now_ldap(now);
	n = snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)");
	off = (size_t)n;
	if (login != NULL) {
		if (ldapesc_filter(login, esc, sizeof(esc)) < 0) {
			request_done(req, ST_INVALID, "--login too long");
			return;
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, "(uid=%s)", esc);
	}
	if (unit != NULL) {
		if (units_find(us, unit) == NULL) {
			request_done(req, ST_NOTFOUND, "unit: no unit '%.64s'", unit);
			return;
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, "(|(departmentNumber=%s)", unit);
		for (i = 0; cmd_flag(a, "recursive") && i < units_count(us); i++) {
			const struct unit *u = units_at(us, i);

			if (strcmp(u->code, unit) != 0 && units_within(us, u->code, unit) &&
			    off + 100 < sizeof(filter))
				off += (size_t)snprintf(filter + off, sizeof(filter) - off,
				                        "(departmentNumber=%s)", u->code);
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, ")");
	}
	if (st != NULL) {
		const char *f = NULL;
		char buf[160];

		if (strcmp(st, "valid") == 0)
			snprintf(buf, sizeof(buf), "(provdCertStatus=valid)(provdCertNotAfter>=%s)", now), f = buf;
		else if (strcmp(st, "expired") == 0)
			snprintf(buf, sizeof(buf), "(provdCertStatus=valid)(!(provdCertNotAfter>=%s))", now), f = buf;
		else if (strcmp(st, "hold") == 0 || strcmp(st, "revoked") == 0)
			snprintf(buf, sizeof(buf), "(provdCertStatus=%s)", st), f = buf;
		if (f == NULL) {
			request_done(req, ST_USAGE, "--status: valid, hold, revoked or expired");
			return;
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, "%s", f);
	}
	if (within != NULL) {
		char *end;
		unsigned long days = strtoul(within, &end, 10);

		if (*end != '\0' || days > 36500) {
			request_done(req, ST_USAGE, "--expiring-within: a number of days");
			return;
		}
		pkitime_format_ldap(time(NULL) + (time_t)days * 86400, until);
		off += (size_t)snprintf(filter + off, sizeof(filter) - off,
		                        "(provdCertStatus=valid)(provdCertNotAfter>=%s)"
		                        "(provdCertNotAfter<=%s)", now, until);
	}
	if (off + 2 >= sizeof(filter)) {
		request_done(req, ST_USAGE, "filter too long");
		return;
	}
	strcat(filter, ")");
	dir_search(req->pd->dir, req->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0,
	           NULL, list_entry, list_done, req);
}

static void
show_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct request *req = ctx;

	if (status != ST_OK)
		request_done(req, status, "directory: %s", msg);
	else if (list == NULL)
		request_done(req, ST_NOTFOUND, "no certificate with serial %.64s",
		             req->args.operand[0]);
	else {
		certrec_output(req, list, true);
		request_done(req, ST_OK, "ok");
	}
	certrec_free(list);
}

void
cert_show(struct request *req)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1];

	if (serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0)
		return;
	find_records(req->pd, filter, show_found, req);
}

/* ---- cert revoke / release ------------------------------------------- */

struct revoke {
	struct request *req;
	struct certrec *rec;
	int             reason;
	time_t          invalidity;
	bool            release;
	char            result[1024];
	/* keyCompromise: the other certificates that carry the same key */
	struct certrec *others, *cur;
	size_t          others_done, others_failed;
};

static void
revoke_published(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;
	struct request *req = rv->req;
	const struct certrec *c;
	struct rec r;

	rec_begin(&r, req);
	rec_kv(&r, "serial", rv->rec->serial);
	rec_kv(&r, "login", rv->rec->login);
	rec_kv(&r, "status", rv->release ? "valid" :
	       rv->reason == REASON_CERTIFICATE_HOLD ? "hold" : "revoked");
	rec_kv(&r, "reason", rv->release ? "" : reason_name(rv->reason));
	rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
	rec_end(&r);
	for (c = rv->others; c != NULL; c = c->next) {
		if (strcmp(c->serial, rv->rec->serial) == 0)
			continue;
		rec_begin(&r, req);
		rec_kv(&r, "serial", c->serial);
		rec_kv(&r, "login", c->login);
		rec_kv(&r, "status", strcmp(c->status, "revoked") == 0 ? "revoked" : c->status);
		rec_kv(&r, "reason", c->reason);
		rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
		rec_end(&r);
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "serial=%s login=%s",
	         rv->rec->serial, rv->rec->login);
	if (status != ST_OK)
		request_done(req, status, "%s; but the CRL was not published: %s "
		             "(run 'provctl crl publish')", rv->result, msg);
	else
		request_done(req, rv->others_failed ? ST_PARTIAL : ST_OK, "%s; %s", rv->result, msg);
	certrec_free(rv->rec);
	certrec_free(rv->others);
	free(rv);
}

static void revoke_others_next(struct revoke *rv);

static void
revoke_other_changed(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;
	size_t n = strlen(rv->result);

	if (status == ST_OK) {
		snprintf(rv->cur->status, sizeof(rv->cur->status), "revoked");
		snprintf(rv->cur->reason, sizeof(rv->cur->reason), "%s",
		         reason_name(REASON_KEY_COMPROMISE));
		snprintf(rv->result + n, sizeof(rv->result) - n, "%s%s (%s)",
		         rv->others_done++ ? ", " : "; the same key, revoked too: ",
		         rv->cur->serial, rv->cur->login);
	} else {
		rv->others_failed++;
		snprintf(rv->result + n, sizeof(rv->result) - n, "; %s NOT revoked: %s",
		         rv->cur->serial, msg);
	}
	rv->cur = rv->cur->next;
	revoke_others_next(rv);
}

/* Revoke, one after the other, every other certificate with the key; then
 * one CRL lists them all. */
static void
revoke_others_next(struct revoke *rv)
{
	for (; rv->cur != NULL; rv->cur = rv->cur->next) {
		if (strcmp(rv->cur->serial, rv->rec->serial) == 0 ||
		    strcmp(rv->cur->status, "revoked") == 0)
			continue;
		cert_change(rv->req->pd, rv->cur, "revoked", REASON_KEY_COMPROMISE, rv->invalidity,
		            NULL, revoke_other_changed, rv);
		return;
	}
	crl_publish(rv->req->pd, revoke_published, rv);
}

static void
revoke_others_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct revoke *rv = ctx;

	rv->others = list;
	rv->cur = list;
	if (status != ST_OK) {
		size_t n = strlen(rv->result);

		rv->others_failed++;
		snprintf(rv->result + n, sizeof(rv->result) - n, "; the other certificates "
		         "with this key were not found: %s", msg);
	}
	revoke_others_next(rv);
}

static void
revoke_changed(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;

	if (status != ST_OK) {
		request_done(rv->req, status, "%s", msg);
		certrec_free(rv->rec);
		free(rv);
		return;
	}
	snprintf(rv->result, sizeof(rv->result), "%s %s", rv->rec->serial,
	         rv->release ? "released" : rv->reason == REASON_CERTIFICATE_HOLD ?
	         "on hold" : "revoked");
	if (!rv->release && rv->reason == REASON_KEY_COMPROMISE && rv->rec->key_hash[0]) {
		char filter[400], esc[3 * CERT_KEY_HASH_LEN + 1];

		if (ldapesc_filter(rv->rec->key_hash, esc, sizeof(esc)) < 0)
			esc[0] = '\0';
		snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)"
		         "(provdCertKeyHash=%s))", esc);
		find_records(rv->req->pd, filter, revoke_others_found, rv);
		return;
	}
	crl_publish(rv->req->pd, revoke_published, rv);
}

static void
revoke_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct revoke *rv = ctx;
	struct request *req = rv->req;

	if (status != ST_OK || list == NULL) {
		if (status != ST_OK)
			request_done(req, status, "directory: %s", msg);
		else
			request_done(req, ST_NOTFOUND, "no certificate with serial %.64s",
			             req->args.operand[0]);
		certrec_free(list);
		free(rv);
		return;
	}
	rv->rec = list;
	if (!request_may(req, req->spec->roles, list->unit)) {
		char what[256];

		snprintf(what, sizeof(what), "certificate %s of %s (unit %s)", list->serial,
		         list->login, list->unit[0] ? list->unit : "none");
		request_refuse(req, req->spec->roles, what);
		goto fail;
	}
	if (rv->release) {
		if (strcmp(list->status, "hold") != 0) {
			request_done(req, ST_CONFLICT, "%s is %s, not on hold: only a "
			             "certificateHold can be released", list->serial, list->status);
			goto fail;
		}
		cert_change(req->pd, list, "valid", 0, 0, NULL, revoke_changed, rv);
		return;
	}
	if (strcmp(list->status, "revoked") == 0) {
		request_done(req, ST_CONFLICT, "%s is already revoked (%s, %s)", list->serial,
		             list->reason, list->revoked_at);
		goto fail;
	}
	if (strcmp(list->status, "hold") == 0 && rv->reason == REASON_CERTIFICATE_HOLD) {
		request_done(req, ST_CONFLICT, "%s is already on hold", list->serial);
		goto fail;
	}
	cert_change(req->pd, list, rv->reason == REASON_CERTIFICATE_HOLD ? "hold" : "revoked",
	            rv->reason, rv->invalidity, "officer", revoke_changed, rv);
	return;
fail:
	certrec_free(list);
	free(rv);
}

static void
revoke_or_release(struct request *req, bool release)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1], err[200];
	struct revoke *rv;

	if (!need_ca(req))
		return;
	if ((rv = calloc(1, sizeof(*rv))) == NULL) {
		request_done(req, ST_INTERNAL, "out of memory");
		return;
	}
	rv->req = req;
	rv->release = release;
	if (!release) {
		const char *why = cmd_arg(&req->args, "reason");   /* required */
		const char *inv = cmd_arg(&req->args, "invalidity-date");

		if (reason_parse(why, &rv->reason, err, sizeof(err)) < 0 ||
		    !reason_valid_for_crl(rv->reason)) {
			free(rv);
			request_done(req, ST_INVALID, "--reason: %s", err[0] ? err : "not allowed");
			return;
		}
		if (inv != NULL && pkitime_parse_ldap(inv, &rv->invalidity, err, sizeof(err)) < 0) {
			free(rv);
			request_done(req, ST_INVALID, "--invalidity-date: %s (YYYYMMDDHHMMSSZ)", err);
			return;
		}
	}
	if (serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0) {
		free(rv);
		return;
	}
	find_records(req->pd, filter, revoke_found, rv);
}

void
cert_revoke(struct request *req)
{
	revoke_or_release(req, false);
}

void
cert_release(struct request *req)
{
	revoke_or_release(req, true);
}

/* ---- cert export-index ------------------------------------------------ */

static void
index_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct request *req = ctx;
	struct certrec *c;
	size_t n = 0;
	char now[32];

	if (status != ST_OK) {
		request_done(req, status, "directory: %s", msg);
		certrec_free(list);
		return;
	}
	now_ldap(now);
	for (c = list; c != NULL; c = c->next) {
		const unsigned char *p = c->der;
		X509 *x = c->der ? d2i_X509(NULL, &p, (long)c->derlen) : NULL;
		struct index_record ir = { 0 };
		char subject[2048], line[INDEX_LINE_MAX], err[200];
		struct rec r;

		if (x == NULL || index_subject(x, subject, sizeof(subject)) < 0 ||
		    serial_parse(c->serial, &ir.serial, err, sizeof(err)) < 0 ||
		    pkitime_parse_ldap(c->not_after, &ir.not_after, err, sizeof(err)) < 0) {
			X509_free(x);
			log_warnx("cert export-index: record %s skipped (unreadable)", c->serial);
			continue;
		}
		X509_free(x);
		ir.subject = subject;
		ir.status = strcmp(effective_status(c, now), "expired") == 0 ? 'E' :
		            strcmp(c->status, "valid") == 0 ? 'V' : 'R';
		if (ir.status == 'R') {
			pkitime_parse_ldap(c->revoked_at, &ir.revoked_at, err, sizeof(err));
			reason_parse(c->reason, &ir.reason, err, sizeof(err));
			if (c->invalidity[0])
				pkitime_parse_ldap(c->invalidity, &ir.invalidity_date, err, sizeof(err));
		}
		if (index_format_line(&ir, line, sizeof(line), err, sizeof(err)) < 0)
			continue;
		line[strcspn(line, "\n")] = '\0';    /* one record = one line */
		rec_begin(&r, req);
		rec_kv(&r, "line", line);
		rec_end(&r);
		n++;
	}
	certrec_free(list);
	request_done(req, ST_OK, "%zu records written", n);
}

void
cert_export_index(struct request *req)
{
	find_records(req->pd, "(objectClass=provdCertificate)", index_found, req);
}

/* ---- account lifecycle ------------------------------------------------ */

struct life {
	struct provd      *pd;
	enum lifecycle_event ev;
	lifecycle_done_fn *done;
	void              *ctx;
	struct certrec    *list;
	struct certrec    *cur;
	size_t             changed, failed;
	char               summary[1024];
	char               err[256];
};

static void life_next(struct life *lf);

static void
life_finish(struct life *lf, int status)
{
	lf->done(lf->ctx, status, lf->summary);
	certrec_free(lf->list);
	free(lf);
}

static void
life_published(void *ctx, int status, const char *msg)
{
	struct life *lf = ctx;
	size_t n = strlen(lf->summary);

	if (status != ST_OK)
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "; CRL not published: %s", msg);
	life_finish(lf, status == ST_OK && lf->failed == 0 ? ST_OK :
	            status != ST_OK ? status : ST_PARTIAL);
}

static void
life_changed(void *ctx, int status, const char *msg)
{
	struct life *lf = ctx;

	if (status == ST_OK)
		lf->changed++;
	else {
		lf->failed++;
		snprintf(lf->err, sizeof(lf->err), "%s", msg);
	}
	lf->cur = lf->cur->next;
	life_next(lf);
}

/* What ev does to a record in this state: NULL = nothing. */
static const char *
life_target(enum lifecycle_event ev, const struct certrec *c, int *reason)
{
	bool valid = strcmp(c->status, "valid") == 0, hold = strcmp(c->status, "hold") == 0;

	switch (ev) {
	case LIFECYCLE_DISABLE:
	case LIFECYCLE_DELETE:
		*reason = REASON_CERTIFICATE_HOLD;
		return valid ? "hold" : NULL;
	case LIFECYCLE_ENABLE:
		/* Only the holds the account caused; a record held before hold
		 * causes were recorded counts as the account's, as it did then. */
		*reason = 0;
		return hold && strcmp(c->hold_cause, "officer") != 0 ? "valid" : NULL;
	case LIFECYCLE_PURGE:
		*reason = REASON_CESSATION_OF_OPERATION;
		return valid || hold ? "revoked" : NULL;
	case LIFECYCLE_MOVE:
		*reason = REASON_AFFILIATION_CHANGED;
		return valid || hold ? "revoked" : NULL;
	}
	return NULL;
}

static void
life_next(struct life *lf)
{
	static const char *const done_word[] = {
		[LIFECYCLE_DISABLE] = "put on hold", [LIFECYCLE_ENABLE] = "released",
		[LIFECYCLE_DELETE] = "put on hold for the retention",
		[LIFECYCLE_MOVE] = "revoked (affiliationChanged)",
		[LIFECYCLE_PURGE] = "revoked (cessationOfOperation)",
	};
	const char *target;
	int reason = 0;
	size_t n;

	for (; lf->cur != NULL; lf->cur = lf->cur->next) {
		if ((target = life_target(lf->ev, lf->cur, &reason)) == NULL)
			continue;
		n = strlen(lf->summary);
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "%s%s", n ? "," : "",
		         lf->cur->serial);
		cert_change(lf->pd, lf->cur, target, reason, 0, "account", life_changed, lf);
		return;
	}
	if (lf->changed == 0 && lf->failed == 0) {
		snprintf(lf->summary, sizeof(lf->summary), "%s", lf->list == NULL ?
		         "no certificates" : "no certificate needed a change");
		life_finish(lf, ST_OK);
		return;
	}
	{
		char serials[600];

		snprintf(serials, sizeof(serials), "%.590s", lf->summary);
		snprintf(lf->summary, sizeof(lf->summary), "%zu certificate%s %s: %s%s%s",
		         lf->changed, lf->changed == 1 ? "" : "s", done_word[lf->ev], serials,
		         lf->failed ? "; failed: " : "", lf->failed ? lf->err : "");
	}
	crl_publish(lf->pd, life_published, lf);
}

static void
life_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct life *lf = ctx;

	lf->list = list;
	if (status != ST_OK) {
		snprintf(lf->summary, sizeof(lf->summary), "certificates not changed: %s", msg);
		life_finish(lf, status);
		return;
	}
	if (list != NULL && !ca_ready(lf->pd)) {
		snprintf(lf->summary, sizeof(lf->summary),
		         "certificates not changed: the CA is not loaded");
		life_finish(lf, ST_UNAVAILABLE);
		return;
	}
	lf->cur = list;
	life_next(lf);
}

void
cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
               lifecycle_done_fn *done, void *ctx)
{
	struct life *lf = calloc(1, sizeof(*lf));
	char filter[400];

	if (lf == NULL)
		fatal("cert: out of memory");
	lf->pd = pd;
	lf->ev = ev;
	lf->done = done;
	lf->ctx = ctx;
	/* login was checked by the caller (names_login_valid): no escaping needed,
	 * but escape anyway so this never depends on the caller. */
	{
		char esc[128];

		if (ldapesc_filter(login, esc, sizeof(esc)) < 0)
			esc[0] = '\0';
		snprintf(filter, sizeof(filter),
		         "(&(objectClass=provdCertificate)(uid=%s)(|(provdCertStatus=valid)"
		         "(provdCertStatus=hold)))", esc);
	}
	find_records(pd, filter, life_found, lf);
}

/* ---- whois: the person's certificates ------------------------------- */

struct whois_certs {
	struct request     *req;
	whois_part_done_fn *done;
	void               *ctx;
	char                login[NAMES_LOGIN_BUFSZ];
};

static void
whois_found(void *arg, int status, const char *msg, struct certrec *list)
{
	struct whois_certs *wc = arg;
	struct certrec *c;
	char now[32];
	struct rec r;

	now_ldap(now);
	if (status != ST_OK) {
		rec_begin(&r, wc->req);
		rec_kv(&r, "section", "certificate");
		rec_kv(&r, "login", wc->login);
		rec_kv(&r, "error", msg);
		rec_end(&r);
	}
	for (c = list; c != NULL; c = c->next) {
		rec_begin(&r, wc->req);
		rec_kv(&r, "section", "certificate");
		rec_kv(&r, "login", c->login);
		rec_kv(&r, "serial", c->serial);
		rec_kv(&r, "status", effective_status(c, now));
		rec_kv(&r, "profile", c->profile);
		rec_kv(&r, "not_after", c->not_after);
		rec_kv(&r, "reason", c->reason);
		rec_end(&r);
	}
	certrec_free(list);
	wc->done(wc->ctx);
	free(wc);
}

void
cert_whois_part(struct request *req, const struct whois_subject *who,
                whois_part_done_fn *done, void *ctx)
{
	struct whois_certs *wc = calloc(1, sizeof(*wc));
	char filter[256], esc[128];

	if (wc == NULL)
		fatal("cert: out of memory");
	wc->req = req;
	wc->done = done;
	wc->ctx = ctx;
	snprintf(wc->login, sizeof(wc->login), "%s", who->login);
	if (ldapesc_filter(who->login, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)(uid=%s))", esc);
	find_records(req->pd, filter, whois_found, wc);
}

/* ---- upgrade: records made before provdCertKeyHash ---------------------- */

struct upgrade {
	struct provd *pd;
	size_t        pending, done, failed;
	char          first_error[300];
	bool          searched;
};

static void
upgrade_maybe_finish(struct upgrade *u)
{
	if (!u->searched || u->pending > 0)
		return;
	if (u->done > 0 || u->failed > 0)
		log_info("certificate records: key hash added to %zu%s%s", u->done,
		         u->failed ? ", failed for others: " : "", u->failed ? u->first_error : "");
	free(u);
}

static void
upgrade_written(void *arg, const struct dir_result *res)
{
	struct upgrade *u = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS) {
		u->done++;
	} else if (u->failed++ == 0) {
		snprintf(u->first_error, sizeof(u->first_error), "%s",
		         dir_result_str(res, why, sizeof(why)));
	}
	u->pending--;
	upgrade_maybe_finish(u);
}

static void
upgrade_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct upgrade *u = arg;
	struct dir_mods *m;
	unsigned char *der;
	size_t derlen = 0;
	char hash[CERT_KEY_HASH_LEN + 1], err[200], *dn;

	der = dir_entry_get_bin(ld, e, "userCertificate;binary", &derlen);
	dn = dir_entry_dn(ld, e);
	if (der != NULL && dn != NULL &&
	    fingerprint_spki_cert_der(der, derlen, hash, err, sizeof(err)) == 0) {
		if ((m = dir_mods_new()) == NULL)
			fatal("cert: out of memory");
		dir_mods_add1(m, LDAP_MOD_REPLACE, "provdCertKeyHash", hash);
		u->pending++;
		dir_modify(u->pd->dir, dn, dir_mods_get(m), NULL, upgrade_written, u);
		dir_mods_free(m);
	}
	free(der);
	free(dn);
}

static void
upgrade_searched(void *arg, const struct dir_result *res)
{
	struct upgrade *u = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		log_warnx("certificate records: cannot look for records without a key hash: %s",
		          dir_result_str(res, why, sizeof(why)));
	u->searched = true;
	upgrade_maybe_finish(u);
}

void
cert_upgrade_records(struct provd *pd)
{
	static const char *const attrs[] = { "userCertificate;binary", NULL };
	struct upgrade *u = calloc(1, sizeof(*u));

	if (u == NULL)
		fatal("cert: out of memory");
	u->pd = pd;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(objectClass=provdCertificate)(!(provdCertKeyHash=*)))", attrs, 0, NULL,
	           upgrade_entry, upgrade_searched, u);
}
