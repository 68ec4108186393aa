/* cert_issue — "cert issue": a certificate from a CSR (or a key made by
 * provd-keygen) by profile, recorded, then put on the account.  See cert.h. */
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
#include "certrec.h"
#include "csr.h"
#include "dir.h"
#include "escrow.h"
#include "fingerprint.h"
#include "keygen.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "ocsp.h"
#include "p12.h"
#include "password.h"
#include "pem.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "serial.h"
#include "units.h"
#include "whois.h"
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
	/* cert renew: the predecessor recorded on the new record, and where
	 * the outcome goes (NULL: the reply to req is the outcome) */
	char                   renews[SERIAL_HEX_MAX + 1];
	cert_issued_fn        *done;
	void                  *done_ctx;
	bool                   quiet;     /* no reply record (bulk renewal) */
	bool                   reissue;   /* cert_reissue: the file goes out as --p12-dir's */
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

/* The issuance failed: tell the caller (reply or done), free is. */
static void
issue_fail(struct issue *is, int status, const char *fmt, ...)
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
		is->done(is->done_ctx, status, msg, NULL);
	else
		request_done(is->req, status, "%s", msg);
	issue_free(is);
}

/* A re-issue with a key the office made: its PKCS#12 goes to provctl's
 * --p12-dir (the office), not to the holder, who is owed the notice that
 * it awaits pickup. */
static bool
issue_p12_to_office(const struct issue *is)
{
	return is->reissue && is->kg != NULL;
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

	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s serial=%s profile=%s",
	         is->login, is->serial, is->profile->name);
	if (pem_encode("CERTIFICATE", is->der, is->derlen, &pem, &plen, NULL, 0) < 0) {
		issue_fail(is, ST_INTERNAL, "out of memory");
		return;
	}
	if (issue_p12_to_office(is))
		reissue_secrets(is);
	if (is->quiet)
		goto done;
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
done:
	free(pem);
	if (is->done != NULL) {
		char msg[512];

		snprintf(msg, sizeof(msg), "issued %s to %s (%s, until %s)%s%s", is->serial,
		         is->login, is->profile->name, is->not_after,
		         warning ? "; warning: " : "", warning ? warning : "");
		is->done(is->done_ctx, ST_OK, msg, is->serial);
	} else if (warning != NULL)
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
	if (issue_may_retry(is, res->code)) {
		loop_timer(is->req->pd->loop, ISSUE_RETRY_MS, issue_update_account, is);
		return;
	}
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

	if (ldapesc_rdn_dn(AT_UID, is->login, req->pd->cfg.people_dn, dn, sizeof(dn)) < 0) {
		issue_fail(is, ST_INTERNAL, "certificate %s is recorded but the account DN "
		             "cannot be formed", is->serial);
		return;
	}
	m = dir_mods_new();
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_USER_CERT, is->der, is->derlen);
	dir_modify(req->pd->dir, dn, dir_mods_get(m), NULL, on_account_updated, is);
	dir_mods_free(m);
}

static void issue_record(void *arg);

static void
issue_ocsp_done(void *arg)
{
	issue_update_account(arg);
}

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
		/* The account next, once the first OCSP answer is out. */
		ocsp_cert_issued(req->pd, is->serial, issue_ocsp_done, is);
		return;
	}
	if (issue_may_retry(is, res->code)) {
		loop_timer(req->pd->loop, ISSUE_RETRY_MS, issue_record, is);
		return;
	}
	issue_fail(is, schema_status_of_ldap(res->code), "certificate %s signed but NOT recorded, "
	             "so it is not issued: %s", is->serial,
	             dir_result_str(res, why, sizeof(why)));
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

	if (ldapesc_rdn_dn(AT_CERT_SERIAL, is->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0) {
		issue_fail(is, ST_INTERNAL, "cannot form the record DN");
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, OC_CERTIFICATE);
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
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_ISSUER, is->issuer);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_KEY_HASH, is->key_hash);
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_USER_CERT, is->der, is->derlen);
	if (is->kg != NULL) {
		size_t n;
		const unsigned char *esc = keygen_escrow(is->kg, &n);

		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_KEY_SOURCE, CERT_KEY_SOURCE_OFFICE);
		if (esc != NULL)
			dir_mods_add_bin(m, LDAP_MOD_ADD, AT_KEY_ESCROW, esc, n);
	}
	if (is->renews[0] != '\0')
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_RENEWS, is->renews);
	/* The holder's notice that the PKCS#12 awaits pickup, owed durably
	 * with the record (notice.h). */
	if (issue_p12_to_office(is))
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOTIFIED, CERT_P12_NOTICE_OWED);
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
static void issue_signed(void *ctx, int rc, const unsigned char *der, size_t derlen,
                         const char *why);
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
	X509 *tbs = NULL;
	char err[512];

	if (certgen_person(&ca, &person, is->profile, is->pub, 0, &tbs, err, sizeof(err)) < 0) {
		issue_fail(is, ST_INVALID, "%s", err);
		return;
	}
	/* The signer's certificate is checked to be tbs, signed: its fields
	 * are read from tbs rather than decoded again. */
	is->cert = tbs;
	/* The loop serves others meanwhile; is holds all that the rest
	 * needs (the request lives until it is answered). */
	if (ca_sign_cert_async(pd, tbs, 0, issue_signed, is, err, sizeof(err)) < 0)
		issue_fail(is, ST_UNAVAILABLE, "signer: %s", err);
}

/* The signer's answer: the fields of the record, then record it. */
static void
issue_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct issue *is = ctx;
	struct serial s;
	char err[256];
	time_t t;
	BIO *b;
	int n;

	if (rc < 0) {
		issue_fail(is, ST_UNAVAILABLE, "signer: %s", why);
		return;
	}
	is->der = xmalloc(derlen);
	memcpy(is->der, der, derlen);
	is->derlen = derlen;
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
		issue_fail(is, status, "directory: %s", msg);
		goto out;
	}
	for (r = list; r != NULL; r = r->next) {
		if (r->state == CERT_STATE_REVOKED &&
		    strcasecmp(r->reason, reason_name(REASON_KEY_COMPROMISE)) == 0) {
			issue_fail(is, ST_CONFLICT, "csr: this key is compromised (certificate "
			           "%s of %s was revoked for keyCompromise); make a new key",
			           r->serial, r->login);
			goto out;
		}
		if (strcmp(r->login, is->login) != 0) {
			issue_fail(is, ST_CONFLICT, "csr: this key is already certified for "
			           "another account (%s, certificate %s); one key belongs to one "
			           "person", r->login, r->serial);
			goto out;
		}
	}
	issue_sign_and_record(is);
out:
	certrec_free(list);
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
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_KEY_HASH
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
		if (is->done != NULL)
			issue_fail(is, ST_PERMISSION, "not allowed for %s", what);
		else {
			request_refuse(req, req->spec->roles, what);
			issue_free(is);
		}
		return;
	}
	if (strcmp(is->status, "active") != 0) {
		issue_fail(is, ST_CONFLICT, "account %s is %s: no certificate is issued to it",
		             is->login, is->status);
		return;
	}
	if (is->generate) {
		keygen_generate(req->pd, is->keytype, issue_generated, is, &is->kg);
		return;
	}
	issue_key_check(is);
}

/* --generate mode: a key of type kt made by provd-keygen, the profile's
 * escrow possible.  0, or -1 with err. */
static int
issue_generate_mode(struct issue *is, enum keyfile_type kt, char *err, size_t errlen)
{
	is->generate = true;
	is->keytype = kt;
	if (is->profile->escrow && is->req->pd->pki->escrow_cert == NULL) {
		snprintf(err, errlen, "profile %s escrows the keys it is given: set "
		         "pki.escrow_cert_file (the recovery certificate) first", is->profile->name);
		return -1;
	}
	return 0;
}

/* A new passphrase for the PKCS #12 file.  0, or -1 with err. */
static int
issue_new_passphrase(struct issue *is, char *err, size_t errlen)
{
	if (password_generate(is->pass, sizeof(is->pass)) < 0) {
		snprintf(err, errlen, "cannot generate a passphrase");
		return -1;
	}
	is->pass_generated = true;
	return 0;
}

/* The options of --generate: key type, output file, passphrase. */
static int
issue_generate_args(struct issue *is, char *err, size_t errlen)
{
	const struct cmd_args *a = &is->req->args;
	const char *type = cmd_arg(a, "key"), *pass;
	size_t len = 0;

	if (!cmd_flag(a, "p12")) {
		snprintf(err, errlen, "--generate needs --p12 FILE (the key, certificate and "
		         "chain are delivered in it)");
		return -1;
	}
	if (issue_generate_mode(is, KEYFILE_EC_P256, err, errlen) < 0)
		return -1;
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
	return issue_new_passphrase(is, err, errlen);
}

/* The account, then the key, then signing and recording (above). */
static void
issue_start(struct issue *is, const char *login)
{
	static const char *const attrs[] = {
		AT_UID, AT_CN, AT_MAIL, AT_EMPLOYEE_ID, AT_UNIT,
		AT_LOCKED_TIME, AT_DELETE_AFTER, NULL
	};
	struct provd *pd = is->req->pd;
	char filter[128];

	if (!names_login_valid(login)) {
		issue_fail(is, ST_INVALID, "login: '%.40s' is not a login", login);
		return;
	}
	snprintf(is->login, sizeof(is->login), "%s", login);
	/* A valid login is [a-z0-9]: nothing to escape. */
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")(" AT_UID "=%s))",
	         login);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2, NULL,
	           issue_account, issue_account_done, is);
}

/* A new struct issue for profile pname, its key from pub (taken), else a
 * new key of type *fresh with a new passphrase (fresh not NULL; req's
 * options are not read), else the request's --csr, else --generate.  NULL
 * after issue_fail. */
static struct issue *
issue_new(struct request *req, const char *pname, EVP_PKEY *pub,
          const enum keyfile_type *fresh, cert_issued_fn *done, void *ctx)
{
	struct provd *pd = req->pd;
	size_t csrlen = 0;
	const char *csr;
	char err[512];
	struct issue *is;

	is = xcalloc(1, sizeof(*is));
	is->req = req;
	is->done = done;
	is->done_ctx = ctx;
	is->pub = pub;
	if ((is->profile = profile_find(pd->pki->profiles, pname)) == NULL) {
		/* Name the ones there are: the officer has no other list. */
		size_t i, n = profile_count(pd->pki->profiles), off = 0;
		char names[256] = "";

		for (i = 0; i < n && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
			                        i ? ", " : "", profile_at(pd->pki->profiles, i)->name);
		issue_fail(is, ST_NOTFOUND, "profile: no profile '%.64s' (profiles: %s)", pname,
		           names);
		return NULL;
	}
	if (pub != NULL) {
		if (csr_check_key(is->pub, is->profile, err, sizeof(err)) < 0) {
			issue_fail(is, ST_INVALID, "key: %s", err);
			return NULL;
		}
	} else if (fresh != NULL) {
		if (issue_generate_mode(is, *fresh, err, sizeof(err)) < 0) {
			issue_fail(is, ST_CONFLICT, "%s", err);
			return NULL;
		}
		if (issue_new_passphrase(is, err, sizeof(err)) < 0) {
			issue_fail(is, ST_INTERNAL, "%s", err);
			return NULL;
		}
	} else if ((csr = cmd_arg_len(&req->args, "csr", &csrlen)) == NULL) {
		if (issue_generate_args(is, err, sizeof(err)) < 0) {
			issue_fail(is, ST_USAGE, "%s", err);
			return NULL;
		}
	} else if (csr_intake((const unsigned char *)csr, csrlen, is->profile, &is->pub,
	                      err, sizeof(err)) < 0) {
		issue_fail(is, ST_INVALID, "csr: %s", err);
		return NULL;
	}
	return is;
}

void
cert_issue(struct request *req)
{
	const char *pname = cmd_arg(&req->args, "profile");
	struct issue *is;

	if (!cert_need_ca(req))
		return;
	if ((cmd_arg(&req->args, "csr") == NULL) == !cmd_flag(&req->args, "generate")) {
		request_done(req, ST_USAGE, cmd_flag(&req->args, "generate") ?
		             "cert issue takes --csr FILE or --generate, not both" :
		             "cert issue needs --csr FILE, or --generate with --p12 FILE");
		return;
	}
	if ((is = issue_new(req, pname ? pname : req->pd->cfg.default_profile, NULL, NULL, NULL,
	                    NULL)) != NULL)
		issue_start(is, req->args.operand[0]);
}

/* cert_issue_successor, and with fresh not NULL its --generate mode
 * without request options (cert_reissue). */
static void
issue_successor(struct request *req, const char *login, const char *profile,
                const char *renews, EVP_PKEY *pub, const enum keyfile_type *fresh,
                bool reply_record, cert_issued_fn *done, void *ctx)
{
	struct issue *is = issue_new(req, profile, pub, fresh, done, ctx);

	if (is == NULL)
		return;
	is->quiet = !reply_record;
	is->reissue = fresh != NULL;
	snprintf(is->renews, sizeof(is->renews), "%s", renews != NULL ? renews : "");
	issue_start(is, login);
}

void
cert_issue_successor(struct request *req, const char *login, const char *profile,
                     const char *renews, EVP_PKEY *pub, bool reply_record,
                     cert_issued_fn *done, void *ctx)
{
	issue_successor(req, login, profile, renews, pub, NULL, reply_record, done, ctx);
}

void
cert_reissue(struct request *req, const char *login, const char *profile,
             enum keyfile_type kt, cert_issued_fn *done, void *ctx)
{
	issue_successor(req, login, profile, NULL, NULL, &kt, false, done, ctx);
}

void
cert_reissue_successor(struct request *req, const char *login, const char *profile,
                       const char *renews, enum keyfile_type kt, cert_issued_fn *done,
                       void *ctx)
{
	issue_successor(req, login, profile, renews, NULL, &kt, false, done, ctx);
}
