/* cert — the certificate commands: issue, list, show, revoke, release,
 * export-index, the certificates' side of account events and of whois.
 * Records are read and changed in certrec.c.  See cert.h. */
#include "cert.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "account.h"
#include "address.h"
#include "ca.h"
#include "certgen.h"
#include "crl.h"
#include "csr.h"
#include "dir.h"
#include "escrow.h"
#include "fieldtype.h"
#include "fingerprint.h"
#include "index.h"
#include "keygen.h"
#include "ldapesc.h"
#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "p12.h"
#include "password.h"
#include "ocsp.h"
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
	char                   key_hash[CERTREC_KEY_HASH_LEN + 1];
	char                   key_claim[CERTREC_KEY_HASH_LEN + 2];  /* "%hash" while held */
	/* --generate: the key is made by provd-keygen, delivered as PKCS#12 */
	bool                   generate;
	enum keyfile_type      keytype;
	struct keygen         *kg;
	bool                   pass_generated;
	char                   pass[P12_PASS_MAX + 1];
	/* a re-issue (cert_reissue): finished through done, not the request */
	cert_reissue_fn       *done;
	void                  *done_ctx;
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
	keygen_free(is->kg);
	OPENSSL_cleanse(is->pass, sizeof(is->pass));
	free(is);
}

/* Finish the issuance with status and message: the request's reply, or a
 * re-issue's callback; then free is. */
static void issue_fail(struct issue *is, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
issue_fail(struct issue *is, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (is->done != NULL)
		is->done(is->done_ctx, status, msg, status == ST_OK ? is->serial : NULL);
	else
		request_done(is->req, status, "%s", msg);
	issue_free(is);
}

/* A re-issue's files: the PKCS#12 as "<login>-<serial>.p12" and its
 * passphrase as a line of passphrases.csv (provctl --p12-dir). */
static void
reissue_secrets(struct issue *is)
{
	struct request *req = is->req;
	char name[NAMES_LOGIN_BUFSZ + SERIAL_HEX_MAX + 8];
	const unsigned char *p12;
	struct rec r;
	size_t n;

	snprintf(name, sizeof(name), "%s-%s.p12", is->login, is->serial);
	p12 = keygen_p12(is->kg, &n);
	rec_begin_type(&r, req, WIRE_SECRET);
	rec_kv(&r, "name", name);
	rec_kvn(&r, "file", (const char *)p12, n);
	rec_end(&r);
	rec_begin_type(&r, req, WIRE_SECRET);
	rec_kv(&r, "login", is->login);
	rec_kv(&r, "serial", is->serial);
	rec_kv(&r, "p12", name);
	rec_kv(&r, "passphrase", is->pass);
	rec_end(&r);
}

static void
issue_reply(struct issue *is, const char *warning)
{
	struct request *req = is->req;
	char *pem = NULL;
	size_t plen = 0;
	struct rec r;

	if (is->done != NULL) {
		reissue_secrets(is);
		issue_fail(is, ST_OK, "issued %s to %s", is->serial, is->login);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s serial=%s profile=%s",
	         is->login, is->serial, is->profile->name);
	if (pem_encode("CERTIFICATE", is->der, is->derlen, &pem, &plen, NULL, 0) < 0) {
		issue_fail(is, ST_INTERNAL, "out of memory");
		return;
	}
	if (is->kg != NULL) {
		size_t n;
		const unsigned char *p12 = keygen_p12(is->kg, &n);

		rec_begin_type(&r, req, WIRE_SECRET);
		rec_kvn(&r, "file", (const char *)p12, n);
		rec_end(&r);
	}
	rec_begin(&r, req);
	rec_kv(&r, "serial", is->serial);
	rec_kv(&r, "login", is->login);
	if (is->pass_generated)
		rec_kv(&r, "passphrase", is->pass);
	if (is->kg != NULL)
		rec_kv(&r, "escrow", is->profile->escrow ? "yes" : "no");
	rec_kv(&r, "profile", is->profile->name);
	rec_kv(&r, "not_before", is->not_before);
	rec_kv(&r, "not_after", is->not_after);
	rec_kv(&r, "fingerprint", is->fp);
	rec_kvn(&r, "pem", pem, plen);
	rec_end(&r);
	free(pem);
	if (warning != NULL)
		issue_fail(is, ST_OK, "issued %s to %s; warning: %s", is->serial, is->login,
		           warning);
	else
		issue_fail(is, ST_OK, "issued %s to %s (%s, until %s)", is->serial, is->login,
		           is->profile->name, is->not_after);
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
	issue_fail(is, schema_status_of_ldap(res->code), "certificate %s is recorded but NOT on "
	             "the account %s (%s); revoke it with cert revoke before issuing again",
	             is->serial, is->login, dir_result_str(res, why, sizeof(why)));
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
		issue_fail(is, ST_INTERNAL, "certificate %s is recorded but the account DN "
		             "cannot be formed", is->serial);
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
		ocsp_cert_issued(req->pd, is->serial);
		issue_update_account(is);
		return;
	}
	if (issue_may_retry(is, res->code) &&
	    loop_timer(req->pd->loop, ISSUE_RETRY_MS, issue_record, is) != NULL)
		return;
	issue_fail(is, schema_status_of_ldap(res->code), "certificate %s signed but NOT recorded, "
	           "so it is not issued: %s", is->serial, dir_result_str(res, why, sizeof(why)));
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
		issue_fail(is, ST_INTERNAL, "cannot form the record DN");
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
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_KEY_HASH, is->key_hash);
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_USER_CERT, is->der, is->derlen);
	if (is->kg != NULL) {
		size_t n;
		const unsigned char *esc = keygen_escrow(is->kg, &n);

		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_KEY_SOURCE, CERT_KEY_SOURCE_OFFICE);
		if (esc != NULL)
			dir_mods_add_bin(m, LDAP_MOD_ADD, ESCROW_ATTR, esc, n);
	}
	dir_add(pd->dir, dn, dir_mods_get(m), NULL, on_recorded, is);
	dir_mods_free(m);
}

static void
issue_packaged(void *arg)
{
	struct issue *is = arg;

	if (keygen_error(is->kg) != NULL) {
		issue_fail(is, ST_INTERNAL, "certificate %s signed but NOT recorded, so "
		             "it is not issued: %s", is->serial, keygen_error(is->kg));
		return;
	}
	issue_record(is);
}

/* --generate: the helper packs its key with the certificate before the
 * record is written, so a certificate is recorded only with its file. */
static void
issue_package(struct issue *is)
{
	struct provd *pd = is->req->pd;

	if (keygen_package(pd, is->kg, is->der, is->derlen, pd->pki->cacert,
	                   is->profile->escrow ? pd->pki->escrow_cert : NULL, is->cn, is->pass,
	                   issue_packaged, is) < 0) {
		issue_fail(is, ST_INTERNAL, "out of memory");
	}
}

static void issue_sign_and_record(struct issue *is);
static void issue_key_check(struct issue *is);

static void
issue_generated(void *arg)
{
	struct issue *is = arg;
	char err[300];

	if (keygen_error(is->kg) != NULL) {
		issue_fail(is, ST_UNAVAILABLE, "%s", keygen_error(is->kg));
		return;
	}
	if ((is->pub = EVP_PKEY_dup(keygen_pubkey(is->kg))) == NULL) {
		issue_fail(is, ST_INTERNAL, "out of memory");
		return;
	}
	if (csr_check_key(is->pub, is->profile, err, sizeof(err)) < 0) {
		issue_fail(is, ST_INVALID, "--key: %s", err);
		return;
	}
	/* A fresh key, but its record carries the hash like any other. */
	issue_key_check(is);
}

static void
issue_sign_and_record(struct issue *is)
{
	struct request *req = is->req;
	struct provd *pd = req->pd;
	struct certgen_ca ca = {
		.cert = pd->pki->cacert, .country = pd->cfg.country,
		.organization = pd->cfg.organization, .crl_url = pd->cfg.crl_url,
		.organization_identifier = pd->cfg.organization_identifier,
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
		issue_fail(is, ST_INVALID, "%s", err);
		return;
	}
	/* The signer's certificate is checked to be tbs, signed: its fields
	 * are read from tbs rather than decoded again. */
	is->cert = tbs;
	if (ca_sign_cert(pd, tbs, 0, &is->der, &is->derlen, err, sizeof(err)) < 0) {
		issue_fail(is, ST_UNAVAILABLE, "signer: %s", err);
		return;
	}
	if (serial_from_asn1(X509_get0_serialNumber(is->cert), &s, err, sizeof(err)) < 0 ||
	    fingerprint_sha256_der(is->der, is->derlen, is->fp, err, sizeof(err)) < 0 ||
	    pkitime_from_asn1(X509_get0_notBefore(is->cert), &t) < 0 ||
	    pkitime_format_ldap(t, is->not_before) < 0 ||
	    pkitime_from_asn1(X509_get0_notAfter(is->cert), &t) < 0 ||
	    pkitime_format_ldap(t, is->not_after) < 0) {
		issue_fail(is, ST_INTERNAL, "cannot read back the signed certificate");
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
	if (is->kg != NULL)
		issue_package(is);
	else
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
	const struct certrec *r;

	if (status != ST_OK) {
		certrec_free(list);
		issue_fail(is, status, "directory: %s", msg);
		return;
	}
	for (r = list; r != NULL; r = r->next) {
		if (r->state == CERT_STATE_REVOKED &&
		    strcasecmp(r->reason, reason_name(REASON_KEY_COMPROMISE)) == 0) {
			issue_fail(is, ST_CONFLICT, "csr: this key is compromised (certificate "
			           "%s of %s was revoked for keyCompromise); make a new key",
			           r->serial, r->login);
			certrec_free(list);
			return;
		}
		if (strcmp(r->login, is->login) != 0) {
			issue_fail(is, ST_CONFLICT, "csr: this key is already certified for "
			           "another account (%s, certificate %s); one key belongs to one "
			           "person", r->login, r->serial);
			certrec_free(list);
			return;
		}
	}
	certrec_free(list);
	issue_sign_and_record(is);
}

static void
issue_key_check(struct issue *is)
{
	struct request *req = is->req;
	char err[200], filter[160];

	if (fingerprint_spki(is->pub, is->key_hash, err, sizeof(err)) < 0) {
		issue_fail(is, ST_INVALID, "csr: %s", err);
		return;
	}
	snprintf(is->key_claim, sizeof(is->key_claim), "%%%s", is->key_hash);
	if (!address_claim(is->key_claim)) {
		is->key_claim[0] = '\0';
		issue_fail(is, ST_CONFLICT, "csr: this key is being certified by another "
		             "request in flight");
		return;
	}
	/* The hash is hex: nothing to escape. */
	snprintf(filter, sizeof(filter), "(&(objectClass=" OC_CERTIFICATE ")(" AT_CERT_KEY_HASH
	         "=%s))", is->key_hash);
	certrec_find(req->pd, filter, issue_key_found, is);
}

static void
issue_account_done(void *arg, const struct dir_result *res)
{
	struct issue *is = arg;
	struct request *req = is->req;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		issue_fail(is, schema_status_of_ldap(res->code), "directory: %s",
		           dir_result_str(res, why, sizeof(why)));
		return;
	}
	if (!is->found) {
		issue_fail(is, ST_NOTFOUND, "no account '%s'", is->login);
		return;
	}
	if (!request_may(req, req->spec->roles, is->unit)) {
		char what[128];

		snprintf(what, sizeof(what), "account %s (unit %s)", is->login,
		         is->unit[0] ? is->unit : "none");
		if (is->done != NULL) {
			issue_fail(is, ST_PERMISSION, "%s is outside the caller's scope", what);
			return;
		}
		request_refuse(req, req->spec->roles, what);
		issue_free(is);
		return;
	}
	if (strcmp(is->status, "active") != 0) {
		issue_fail(is, ST_CONFLICT, "account %s is %s: no certificate is issued to it",
		             is->login, is->status);
		return;
	}
	if (is->generate) {
		if (keygen_generate(req->pd, is->keytype, issue_generated, is, &is->kg) < 0) {
			issue_fail(is, ST_INTERNAL, "out of memory");
		}
		return;
	}
	issue_key_check(is);
}

/* The options of --generate: key type, output file, passphrase. */
static int
issue_generate_args(struct issue *is, char *err, size_t errlen)
{
	const struct cmd_args *a = &is->req->args;
	const char *type = cmd_arg(a, "key"), *pass;
	size_t len = 0;

	is->generate = true;
	is->keytype = KEYFILE_EC_P256;
	if (!cmd_flag(a, "p12")) {
		snprintf(err, errlen, "--generate needs --p12 FILE (the key, certificate and "
		         "chain are delivered in it)");
		return -1;
	}
	if (is->profile->escrow && is->req->pd->pki->escrow_cert == NULL) {
		snprintf(err, errlen, "profile %s escrows the keys it is given: set "
		         "pki.escrow_cert_file (the recovery certificate) first", is->profile->name);
		return -1;
	}
	if (type != NULL && (keyfile_type_parse(type, &is->keytype, err, errlen) < 0 ||
	                     (is->keytype != KEYFILE_EC_P256 && is->keytype != KEYFILE_RSA_3072))) {
		snprintf(err, errlen, "--key: ec-p256 or rsa-3072");
		return -1;
	}
	if ((pass = cmd_arg_len(a, "passphrase-stdin", &len)) != NULL) {
		if (len < P12_PASS_MIN || len > P12_PASS_MAX) {
			snprintf(err, errlen, "--passphrase-stdin: %d to %d bytes", P12_PASS_MIN,
			         P12_PASS_MAX);
			return -1;
		}
		memcpy(is->pass, pass, len);
		is->pass[len] = '\0';
		return 0;
	}
	if (password_generate(is->pass, sizeof(is->pass)) < 0) {
		snprintf(err, errlen, "cannot generate a passphrase");
		return -1;
	}
	is->pass_generated = true;
	return 0;
}

/* Read the account (login checked by the caller), then on as is says. */
static void
issue_start(struct issue *is, const char *login)
{
	static const char *const attrs[] = {
		AT_UID, AT_CN, AT_MAIL, AT_EMPLOYEE_ID, AT_UNIT,
		AT_LOCKED_TIME, AT_DELETE_AFTER, NULL
	};
	struct provd *pd = is->req->pd;
	char filter[128];

	if (login != is->login)
		snprintf(is->login, sizeof(is->login), "%s", login);
	snprintf(filter, sizeof(filter), "(&(objectClass=inetOrgPerson)(uid=%s))", login);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2, NULL,
	           issue_account, issue_account_done, is);
}

void
cert_reissue(struct request *req, const char *login, const char *profile,
             enum keyfile_type kt, cert_reissue_fn *done, void *ctx)
{
	struct provd *pd = req->pd;
	struct issue *is = xcalloc(1, sizeof(*is));

	is->req = req;
	is->done = done;
	is->done_ctx = ctx;
	is->generate = true;
	is->keytype = kt;
	snprintf(is->login, sizeof(is->login), "%s", names_login_valid(login) ? login : "");
	if (is->login[0] == '\0') {
		issue_fail(is, ST_INVALID, "login: '%.40s' is not a login", login);
		return;
	}
	if ((is->profile = profile_find(pd->pki->profiles, profile)) == NULL) {
		issue_fail(is, ST_NOTFOUND, "profile: no profile '%.64s'", profile);
		return;
	}
	if (is->profile->escrow && pd->pki->escrow_cert == NULL) {
		issue_fail(is, ST_CONFLICT, "profile %s escrows the keys it is given: set "
		           "pki.escrow_cert_file first", is->profile->name);
		return;
	}
	if (password_generate(is->pass, sizeof(is->pass)) < 0) {
		issue_fail(is, ST_INTERNAL, "cannot generate a passphrase");
		return;
	}
	is->pass_generated = true;
	issue_start(is, is->login);
}

void
cert_issue(struct request *req)
{
	struct provd *pd = req->pd;
	const char *login = req->args.operand[0];
	const char *pname = cmd_arg(&req->args, "profile");
	size_t csrlen = 0;
	const char *csr = cmd_arg_len(&req->args, "csr", &csrlen);
	char err[512];
	struct issue *is;

	if (!cert_need_ca(req))
		return;
	if ((csr == NULL) == !cmd_flag(&req->args, "generate")) {
		request_done(req, ST_USAGE, "cert issue needs --csr FILE, or --generate with "
		             "--p12 FILE");
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
		issue_fail(is, ST_NOTFOUND, "profile: no profile '%.64s'", pname);
		return;
	}
	if (csr == NULL) {
		if (issue_generate_args(is, err, sizeof(err)) < 0) {
			issue_fail(is, ST_USAGE, "%s", err);
			return;
		}
	} else if (csr_intake((const unsigned char *)csr, csrlen, is->profile, &is->pub,
	                      err, sizeof(err)) < 0) {
		issue_fail(is, ST_INVALID, "csr: %s", err);
		return;
	}
	issue_start(is, login);
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
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	else
		request_done(req, ST_OK, "ok");
}

void
cert_list(struct request *req)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_CERT_STATUS, AT_UID, AT_EMPLOYEE_ID, AT_UNIT,
		AT_CERT_PROFILE, AT_CERT_NOT_BEFORE, AT_CERT_NOT_AFTER, AT_CERT_REASON,
		AT_CERT_REVOKED_AT, AT_CERT_INVALIDITY, AT_CERT_FINGERPRINT, NULL
	};
	const struct cmd_args *a = &req->args;
	const char *login = cmd_arg(a, "login"), *unit = cmd_arg(a, "unit");
	const char *st = cmd_arg(a, "status"), *within = cmd_arg(a, "expiring-within");
	struct units *us = req->pd->units;
	char filter[16384], now[32], until[32], esc[256];
	size_t off = 0, i;
	int n;

	pkitime_format_ldap(time(NULL), now);
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
		certrec_output(req, list, cmd_flag(&req->args, "pem"));
		request_done(req, ST_OK, "ok");
	}
	certrec_free(list);
}

void
cert_show(struct request *req)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1];

	if (certrec_serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0)
		return;
	certrec_find(req->pd, filter, show_found, req);
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
	rec_kv(&r, "status", cert_state_name(rv->release ? CERT_STATE_VALID :
	       rv->reason == REASON_CERTIFICATE_HOLD ? CERT_STATE_HOLD : CERT_STATE_REVOKED));
	rec_kv(&r, "reason", rv->release ? "" : reason_name(rv->reason));
	rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
	rec_end(&r);
	for (c = rv->others; c != NULL; c = c->next) {
		if (strcmp(c->serial, rv->rec->serial) == 0)
			continue;
		rec_begin(&r, req);
		rec_kv(&r, "serial", c->serial);
		rec_kv(&r, "login", c->login);
		rec_kv(&r, "status", c->status);
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
		rv->cur->state = CERT_STATE_REVOKED;
		snprintf(rv->cur->status, sizeof(rv->cur->status), "%s",
		         cert_state_name(CERT_STATE_REVOKED));
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
		    rv->cur->state == CERT_STATE_REVOKED)
			continue;
		certrec_change(rv->req->pd, rv->cur, CERT_STATE_REVOKED, REASON_KEY_COMPROMISE,
		               rv->invalidity, NULL, revoke_other_changed, rv);
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
		char filter[400], esc[3 * CERTREC_KEY_HASH_LEN + 1];

		if (ldapesc_filter(rv->rec->key_hash, esc, sizeof(esc)) < 0)
			esc[0] = '\0';
		snprintf(filter, sizeof(filter), "(&(objectClass=" OC_CERTIFICATE ")("
		         AT_CERT_KEY_HASH "=%s))", esc);
		certrec_find(rv->req->pd, filter, revoke_others_found, rv);
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
		if (list->state != CERT_STATE_HOLD) {
			request_done(req, ST_CONFLICT, "%s is %s, not on hold: only a "
			             "certificateHold can be released", list->serial, list->status);
			goto fail;
		}
		certrec_change(req->pd, list, CERT_STATE_VALID, 0, 0, NULL, revoke_changed, rv);
		return;
	}
	if (list->state == CERT_STATE_REVOKED) {
		request_done(req, ST_CONFLICT, "%s is already revoked (%s, %s)", list->serial,
		             list->reason, list->revoked_at);
		goto fail;
	}
	if (list->state == CERT_STATE_HOLD && rv->reason == REASON_CERTIFICATE_HOLD) {
		request_done(req, ST_CONFLICT, "%s is already on hold", list->serial);
		goto fail;
	}
	certrec_change(req->pd, list,
	               rv->reason == REASON_CERTIFICATE_HOLD ? CERT_STATE_HOLD : CERT_STATE_REVOKED,
	               rv->reason, rv->invalidity, "officer", revoke_changed, rv);
	return;
fail:
	certrec_free(list);
	free(rv);
}

static void
revoke_or_release(struct request *req, bool release)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1], err[200] = "";
	struct revoke *rv;

	if (!cert_need_ca(req))
		return;
	rv = xcalloc(1, sizeof(*rv));
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
		if (inv != NULL) {
			char gt[16];

			if (fieldtype_parse_time(inv, NULL, gt) < 0)
				snprintf(err, sizeof(err), "not a time");
			if (err[0] != '\0' || pkitime_parse_ldap(gt, &rv->invalidity, err,
			                                          sizeof(err)) < 0) {
				free(rv);
				request_done(req, ST_INVALID, "--invalidity-date: %s (want "
				             "YYYY-MM-DDTHH:MM:SSZ or YYYYMMDDHHMMSSZ, UTC)", err);
				return;
			}
		}
		/* The date the key is known or suspected to have been
		 * compromised (RFC 5280 5.3.2): it cannot lie ahead. */
		if (inv != NULL && rv->invalidity > time(NULL)) {
			free(rv);
			request_done(req, ST_INVALID, "--invalidity-date: %s is in the future", inv);
			return;
		}
	}
	if (certrec_serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0) {
		free(rv);
		return;
	}
	certrec_find(req->pd, filter, revoke_found, rv);
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
	pkitime_format_ldap(time(NULL), now);
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
		ir.status = strcmp(certrec_status(c, now), "expired") == 0 ? 'E' :
		            c->state == CERT_STATE_VALID ? 'V' : 'R';
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
	/* index.txt.attr: one person may hold several valid certificates with
	 * one subject (staff-email and staff-sign), which openssl ca and
	 * openssl ocsp -index refuse without this. */
	{
		struct rec r;

		rec_begin(&r, req);
		rec_kv(&r, "attr_line", "unique_subject = no");
		rec_end(&r);
	}
	certrec_free(list);
	request_done(req, ST_OK, "%zu records written (and FILE.attr)", n);
}

void
cert_export_index(struct request *req)
{
	certrec_find(req->pd, "(objectClass=provdCertificate)", index_found, req);
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

/* What ev does to a record in this state: the state to move it to, or -1
 * for nothing. */
static int
life_target(enum lifecycle_event ev, const struct certrec *c, int *reason)
{
	bool valid = c->state == CERT_STATE_VALID, hold = c->state == CERT_STATE_HOLD;

	switch (ev) {
	case LIFECYCLE_DISABLE:
	case LIFECYCLE_DELETE:
		*reason = REASON_CERTIFICATE_HOLD;
		return valid ? CERT_STATE_HOLD : -1;
	case LIFECYCLE_ENABLE:
		/* Only the holds the account caused; a record held before hold
		 * causes were recorded counts as the account's, as it did then. */
		*reason = 0;
		return hold && strcmp(c->hold_cause, "officer") != 0 ? CERT_STATE_VALID : -1;
	case LIFECYCLE_PURGE:
		*reason = REASON_CESSATION_OF_OPERATION;
		return valid || hold ? CERT_STATE_REVOKED : -1;
	case LIFECYCLE_MOVE:
		*reason = REASON_AFFILIATION_CHANGED;
		return valid || hold ? CERT_STATE_REVOKED : -1;
	}
	return -1;
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
	int target, reason = 0;
	size_t n;

	for (; lf->cur != NULL; lf->cur = lf->cur->next) {
		if ((target = life_target(lf->ev, lf->cur, &reason)) < 0)
			continue;
		n = strlen(lf->summary);
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "%s%s", n ? "," : "",
		         lf->cur->serial);
		certrec_change(lf->pd, lf->cur, (enum cert_state)target, reason, 0, "account",
		               life_changed, lf);
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

/* The records an account's lifecycle may touch: valid or on hold. */
static void
life_filter(const char *login, char *filter, size_t len)
{
	char esc[128];

	/* login was checked by the caller (names_login_valid): no escaping needed,
	 * but escape anyway so this never depends on the caller. */
	if (ldapesc_filter(login, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, len, "(&(objectClass=provdCertificate)(uid=%s)(|(provdCertStatus=valid)"
	         "(provdCertStatus=hold)))", esc);
}

/* Find login's records that ev may touch; found(lf) then acts or previews. */
static void
life_start(struct provd *pd, const char *login, enum lifecycle_event ev,
           lifecycle_done_fn *done, void *ctx, certrec_found_fn *found)
{
	struct life *lf = xcalloc(1, sizeof(*lf));
	char filter[400];

	lf->pd = pd;
	lf->ev = ev;
	lf->done = done;
	lf->ctx = ctx;
	life_filter(login, filter, sizeof(filter));
	certrec_find(pd, filter, found, lf);
}

void
cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
               lifecycle_done_fn *done, void *ctx)
{
	life_start(pd, login, ev, done, ctx, life_found);
}

/* ---- lifecycle preview: what the event would do, nothing written ----- */

static void
preview_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	static const char *const would[] = {
		[LIFECYCLE_DISABLE] = "would be put on hold", [LIFECYCLE_ENABLE] = "would be released",
		[LIFECYCLE_DELETE] = "would be put on hold for the retention",
		[LIFECYCLE_MOVE] = "would be revoked (affiliationChanged)",
		[LIFECYCLE_PURGE] = "would be revoked (cessationOfOperation)",
	};
	struct life *lf = ctx;
	struct certrec *c;
	char serials[900] = "";
	int reason;

	lf->list = list;
	if (status != ST_OK) {
		snprintf(lf->summary, sizeof(lf->summary), "certificates not known: %s", msg);
		life_finish(lf, status);
		return;
	}
	for (c = list; c != NULL; c = c->next) {
		size_t n = strlen(serials);

		if (life_target(lf->ev, c, &reason) < 0)
			continue;
		lf->changed++;
		snprintf(serials + n, sizeof(serials) - n, "%s%s", n ? "," : "", c->serial);
	}
	if (lf->changed == 0)
		snprintf(lf->summary, sizeof(lf->summary), "%s", list == NULL ?
		         "no certificates" : "no certificate would change");
	else
		snprintf(lf->summary, sizeof(lf->summary), "%zu certificate%s %s: %s",
		         lf->changed, lf->changed == 1 ? "" : "s", would[lf->ev], serials);
	life_finish(lf, ST_OK);
}

void
cert_lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                       lifecycle_done_fn *done, void *ctx)
{
	life_start(pd, login, ev, done, ctx, preview_found);
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

	pkitime_format_ldap(time(NULL), now);
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
		rec_kv(&r, "status", certrec_status(c, now));
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
	struct whois_certs *wc = xcalloc(1, sizeof(*wc));
	char filter[256], esc[128];

	wc->req = req;
	wc->done = done;
	wc->ctx = ctx;
	snprintf(wc->login, sizeof(wc->login), "%s", who->login);
	if (ldapesc_filter(who->login, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, sizeof(filter), "(&(objectClass=provdCertificate)(uid=%s))", esc);
	certrec_find(req->pd, filter, whois_found, wc);
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
	char hash[CERTREC_KEY_HASH_LEN + 1], err[200], *dn;

	der = dir_entry_get_bin(ld, e, AT_USER_CERT, &derlen);
	dn = dir_entry_dn(ld, e);
	if (der != NULL && dn != NULL &&
	    fingerprint_spki_cert_der(der, derlen, hash, err, sizeof(err)) == 0) {
		if ((m = dir_mods_new()) == NULL)
			fatal("cert: out of memory");
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_KEY_HASH, hash);
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
	static const char *const attrs[] = { AT_USER_CERT, NULL };
	struct upgrade *u = xcalloc(1, sizeof(*u));

	u->pd = pd;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(objectClass=" OC_CERTIFICATE ")(!(" AT_CERT_KEY_HASH "=*)))", attrs, 0, NULL,
	           upgrade_entry, upgrade_searched, u);
}
