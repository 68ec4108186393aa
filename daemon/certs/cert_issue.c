/* cert_issue — `cert issue`: from a CSR, by profile, for an active
 * account.  See cert_issue.h. */
#include "cert_issue.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#include "certrec.h"
#include "xmalloc.h"

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
	request_done(is->req, schema_status_of_ldap(res->code), "certificate %s is recorded but NOT on "
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

	if (ldapesc_rdn_dn(AT_UID, is->login, req->pd->cfg.people_dn, dn, sizeof(dn)) < 0 ||
	    (m = dir_mods_new()) == NULL) {
		request_done(req, ST_INTERNAL, "certificate %s is recorded but the account DN "
		             "cannot be formed", is->serial);
		issue_free(is);
		return;
	}
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_USER_CERT, is->der, is->derlen);
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
	request_done(req, schema_status_of_ldap(res->code), "certificate %s signed but NOT recorded, "
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

	if (ldapesc_rdn_dn(AT_CERT_SERIAL, is->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0 ||
	    (m = dir_mods_new()) == NULL) {
		request_done(req, ST_INTERNAL, "cannot form the record DN");
		issue_free(is);
		return;
	}
	dir_mods_add1(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, "provdCertificate");
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_SERIAL, is->serial);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_STATUS, cert_state_name(CERT_STATE_VALID));
	dir_mods_add1(m, LDAP_MOD_ADD, AT_UID, is->login);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_EMPLOYEE_ID, is->employee_id);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_MAIL, is->mail);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CN, is->cn);
	if (is->unit[0])
		dir_mods_add1(m, LDAP_MOD_ADD, AT_UNIT, is->unit);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_PROFILE, is->profile->name);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOT_BEFORE, is->not_before);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOT_AFTER, is->not_after);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_FINGERPRINT, is->fp);
	if (is->issuer[0])
		dir_mods_add1(m, LDAP_MOD_ADD, "provdCertIssuer", is->issuer);
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_USER_CERT, is->der, is->derlen);
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
	snprintf(is->status, sizeof(is->status), "%s", account_state_name(account_state_read(ld, e)));
	dir_entry_copy(ld, e, AT_CN, is->cn, sizeof(is->cn));
	dir_entry_copy(ld, e, AT_MAIL, is->mail, sizeof(is->mail));
	dir_entry_copy(ld, e, AT_EMPLOYEE_ID, is->employee_id, sizeof(is->employee_id));
	dir_entry_copy(ld, e, AT_UNIT, is->unit, sizeof(is->unit));
	dir_entry_copy(ld, e, AT_UID, is->login, sizeof(is->login));
	u = units_find(is->req->pd->units, is->unit);
	snprintf(is->unit_name, sizeof(is->unit_name), "%s", u && u->name ? u->name : "");
}

static void
issue_account_done(void *arg, const struct dir_result *res)
{
	struct issue *is = arg;
	struct request *req = is->req;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		issue_free(is);
		return;
	}
	if (!is->found) {
		request_done(req, ST_NOTFOUND, "no account '%s'", req->args.operand[0]);
		issue_free(is);
		return;
	}
	if (strcmp(is->status, "active") != 0) {
		request_done(req, ST_CONFLICT, "account %s is %s: no certificate is issued to it",
		             is->login, is->status);
		issue_free(is);
		return;
	}
	issue_sign_and_record(is);
}

void
cert_issue(struct request *req)
{
	static const char *const attrs[] = {
		AT_UID, AT_CN, AT_MAIL, AT_EMPLOYEE_ID, AT_UNIT,
		AT_LOCKED_TIME, AT_DELETE_AFTER, NULL
	};
	struct provd *pd = req->pd;
	const char *login = req->args.operand[0];
	const char *pname = cmd_arg(&req->args, "profile");
	size_t csrlen = 0;
	const char *csr = cmd_arg_len(&req->args, "csr", &csrlen);
	char err[512], filter[128];
	struct issue *is;

	if (!cert_need_ca(req))
		return;
	if (csr == NULL) {
		request_done(req, ST_USAGE, "cert issue needs --csr FILE");
		return;
	}
	if (!names_login_valid(login)) {
		request_done(req, ST_INVALID, "login: '%.40s' is not a login", login);
		return;
	}
	if (pname == NULL)
		pname = pd->cfg.default_profile;
	is = xcalloc(1, sizeof(*is));
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
