/* ca_cmd — `ca create`, `ca import`, `ca show`.  See ca_cmd.h. */
#include "ca_cmd.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "certgen.h"
#include "crlgen.h"
#include "crl.h"
#include "dir.h"
#include "fingerprint.h"
#include "keyfile.h"
#include "keyinfo.h"
#include "log.h"
#include "p11uri.h"
#include "pem.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "request.h"
#include "signer.h"
#include "workpool.h"
#include "text.h"
#include "xmalloc.h"

static X509 *
read_cert_pem(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

int
ca_write_cert_file(const char *path, X509 *x, char *err, size_t errlen)
{
	unsigned char *der = NULL;
	char *pem = NULL;
	size_t pemlen = 0;
	int derlen, rc = -1;

	if ((derlen = i2d_X509(x, &der)) <= 0 ||
	    pem_encode("CERTIFICATE", der, (size_t)derlen, &pem, &pemlen, err, errlen) < 0) {
		snprintf(err, errlen, "cannot encode the CA certificate");
		goto out;
	}
	rc = crlgen_write_file(path, (unsigned char *)pem, pemlen, err, errlen);
out:
	OPENSSL_free(der);
	free(pem);
	return rc;
}

int
ca_write_key_uri(struct provd *pd, const char *uri, char *err, size_t errlen)
{
	char up[4096];

	ca_key_uri_path(&pd->cfg, up, sizeof(up));
	return signer_key_uri(pd->pki->signer, up, uri, err, errlen);
}

bool
ca_pkcs11_arg_ok(struct request *req, const char *uri)
{
	struct p11uri u;
	char err[256];

	if (req->pd->cfg.pkcs11_module == NULL) {
		request_done(req, ST_UNAVAILABLE, "--pkcs11: pki.pkcs11_module and "
		             "pki.pkcs11_pin_file are not configured");
		return false;
	}
	if (p11uri_parse(uri, &u, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "--pkcs11: %s", err);
		return false;
	}
	return true;
}

bool
ca_key_args(struct request *req, enum keyfile_type *kt, unsigned *days)
{
	const char *type = cmd_arg(&req->args, "key");
	const char *days_s = cmd_arg(&req->args, "days");
	char err[256], *end;
	unsigned long d;

	if (cmd_arg(&req->args, "subject") == NULL || type == NULL || days_s == NULL) {
		request_done(req, ST_USAGE, "ca %s needs --subject DN --key TYPE --days N",
		             req->spec->verb);
		return false;
	}
	d = strtoul(days_s, &end, 10);
	if (*end != '\0' || d < 1 || d > CERTGEN_CA_DAYS_MAX) {
		request_done(req, ST_USAGE, "--days: 1 to %d", CERTGEN_CA_DAYS_MAX);
		return false;
	}
	if (keyfile_type_parse(type, kt, err, sizeof(err)) < 0) {
		char shown[40];

		text_sanitize(type, strnlen(type, 32), shown, sizeof(shown));
		request_done(req, ST_USAGE, "--key '%s': %s", shown, err);
		return false;
	}
	*days = (unsigned)d;
	return true;
}

/* ---- records of the CA ---------------------------------------------- */

void
ca_record(struct request *req, X509 *x, uint64_t next_crl)
{
	char subject[1024] = "", issuer[1024] = "", fp[FINGERPRINT_HEX_LEN + 1] = "";
	char key[64] = "", nb[32] = "", na[32] = "", e[128];
	struct keyinfo ki;
	time_t t;
	struct rec r;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		int n;

		X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		n = BIO_read(b, subject, sizeof(subject) - 1);
		subject[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		int n;

		X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		n = BIO_read(b, issuer, sizeof(issuer) - 1);
		issuer[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	if (keyinfo_get(X509_get0_pubkey(x), &ki, e, sizeof(e)) == 0)
		keyinfo_describe(&ki, key, sizeof(key));
	if (pkitime_from_asn1(X509_get0_notBefore(x), &t) == 0)
		pkitime_format_ldap(t, nb);
	if (pkitime_from_asn1(X509_get0_notAfter(x), &t) == 0)
		pkitime_format_ldap(t, na);
	fingerprint_sha256(x, fp, e, sizeof(e));
	rec_begin(&r, req);
	rec_kv(&r, "subject", subject);
	rec_kv(&r, "issuer", issuer);
	rec_kv(&r, "self_signed", X509_check_issued(x, x) == X509_V_OK ? "yes" : "no");
	rec_kv(&r, "key", key);
	rec_kv(&r, "not_before", nb);
	rec_kv(&r, "not_after", na);
	rec_kv(&r, "sha256", fp);
	rec_kvf(&r, "next_crl_number", "%llu", (unsigned long long)next_crl);
	rec_kvf(&r, "signer_pid", "%d", (int)signer_pid(req->pd->pki->signer));
	rec_kvf(&r, "launcher_pid", "%d", (int)signer_launcher_pid(req->pd->pki->signer));
	if (req->pd->pki->spawner != NULL) {
		/* daemon.signer_user: what the next rollover uses */
		rec_kvf(&r, "spawner_pid", "%d", (int)signer_spawner_pid(req->pd->pki->spawner));
		rec_kvf(&r, "spare_launcher_pid", "%d",
		        (int)signer_launcher_pid(req->pd->pki->spare));
	}
	rec_kvf(&r, "generation", "%zu", req->pd->pki->ngens + 1);
	rec_kv(&r, "role", "current");
	rec_end(&r);
}

/* The CA entry as the directory holds it (the shared truth of all sites). */
struct ca_entry {
	struct request *req;
	bool            found;
	bool            has_number;
	uint64_t        number;      /* provdCrlNumber */
	unsigned char  *cert;        /* cACertificate;binary, DER */
	size_t          certlen;
	void          (*then)(struct ca_entry *ce, const struct dir_result *res);
};

static void
ca_entry_read(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct ca_entry *ce = arg;
	char *num = dir_entry_get(ld, e, AT_CRL_NUMBER);

	ce->found = true;
	ce->has_number = num != NULL;
	ce->number = num ? strtoull(num, NULL, 10) : 0;
	free(num);
	free(ce->cert);
	ce->cert = dir_entry_get_bin(ld, e, AT_CA_CERT, &ce->certlen);
}

static void
ca_entry_done(void *arg, const struct dir_result *res)
{
	struct ca_entry *ce = arg;

	ce->then(ce, res);
	free(ce->cert);
	free(ce);
}

/* Read the CA entry, then call then(ce, res) (ce freed after it returns). */
static void
ca_entry_fetch(struct request *req, void (*then)(struct ca_entry *, const struct dir_result *))
{
	static const char *const attrs[] = { AT_CRL_NUMBER, AT_CA_CERT, NULL };
	struct ca_entry *ce = xcalloc(1, sizeof(*ce));

	ce->req = req;
	ce->then = then;
	dir_search(req->pd->dir, req->pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs,
	           1, NULL, ca_entry_read, ca_entry_done, ce);
}

static ca_show_more_fn *show_more;   /* the retired generations (rollover) */

static void
show_with_entry(struct ca_entry *ce, const struct dir_result *res)
{
	struct request *req = ce->req;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		request_done(req, ST_UNAVAILABLE, "CA entry %s: %s", req->pd->cfg.ca_dn,
		             dir_result_str(res, why, sizeof(why)));
		return;
	}
	/* The next number is the directory's, whoever published last. */
	ca_record(req, req->pd->pki->cacert, ce->has_number ? ce->number + 1 : 1);
	if (show_more != NULL)
		show_more(req);
	request_done(req, ST_OK, "ok");
}

void
ca_show_set_more(ca_show_more_fn *fn)
{
	show_more = fn;
}

void
ca_show(struct request *req)
{
	if (!ca_ready(req->pd)) {
		request_done(req, ST_NOTFOUND, "no CA yet: an officer runs 'provctl ca create' "
		             "or 'provctl ca import'");
		return;
	}
	ca_entry_fetch(req, show_with_entry);
}

/* Does the directory hold a CA certificate other than der (NULL: any)?
 * Then refuse: provd never replaces a CA another site made. */
static bool
refuse_other_ca(struct ca_entry *ce, const struct dir_result *res, const unsigned char *der,
                size_t len)
{
	struct request *req = ce->req;
	char why[300], fp[FINGERPRINT_HEX_LEN + 1] = "", e[128];
	const unsigned char *p = ce->cert;
	X509 *x;

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		request_done(req, ST_UNAVAILABLE, "cannot check the directory for a CA (%s): %s",
		             req->pd->cfg.ca_dn, dir_result_str(res, why, sizeof(why)));
		return true;
	}
	if (ce->cert == NULL || (der != NULL && len == ce->certlen && memcmp(der, ce->cert, len) == 0))
		return false;
	if ((x = d2i_X509(NULL, &p, (long)ce->certlen)) != NULL)
		fingerprint_sha256(x, fp, e, sizeof(e));
	X509_free(x);
	request_done(req, ST_CONFLICT, "the directory already holds a CA certificate (%s, sha256 %s), "
	             "made by another site or instance; provd never replaces it: import that CA "
	             "here with 'provctl ca import --cert FILE --key PATH' (its certificate and key)",
	             req->pd->cfg.ca_dn, fp[0] ? fp : "unreadable");
	return true;
}

/* ---- publishing the CA entry ----------------------------------------- */

struct install {
	struct request *req;
	X509           *cert;
};

static void
installed_crl(void *arg, int status, const char *msg)
{
	struct install *in = arg;
	struct request *req = in->req;

	if (status != ST_OK) {
		request_done(req, status, "CA installed, but the first CRL failed: %s", msg);
	} else {
		ca_record(req, req->pd->pki->cacert, crl_next_number(req->pd));
		request_done(req, ST_OK, "CA ready; %s", msg);
	}
	free(in);
}

static void
on_ca_entry(void *arg, const struct dir_result *res)
{
	struct install *in = arg;
	struct request *req = in->req;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(req, ST_UNAVAILABLE, "CA made, but its directory entry failed: %s "
		             "(run 'provctl crl publish' to retry)", dir_result_str(res, why, sizeof(why)));
		free(in);
		return;
	}
	crl_publish(req->pd, installed_crl, in);
}

static void
on_ca_modified(void *arg, const struct dir_result *res)
{
	on_ca_entry(arg, res);
}

/* The entry exists already (a re-created CA, or another instance's): put
 * the new certificate on it; the CRL number is kept. */
static void
on_ca_added(void *arg, const struct dir_result *res)
{
	struct install *in = arg;
	struct provd *pd = in->req->pd;

	if (res->code != LDAP_ALREADY_EXISTS) {
		on_ca_entry(arg, res);
		return;
	}
	ca_entry_write(pd, pd->cfg.ca_dn, NULL, in->cert, 0, on_ca_modified, in);
}

void
ca_entry_write(struct provd *pd, const char *dn, const char *cn, X509 *cert,
               uint64_t crl_number, void (*done)(void *, const struct dir_result *),
               void *ctx)
{
	static const char *const classes[] = { OC_APP_PROCESS, OC_PKI_CA, OC_CA, NULL };
	struct dir_mods *m;
	unsigned char *der = NULL;
	char num[32];
	int derlen;

	if ((derlen = i2d_X509(cert, &der)) <= 0)
		fatal("ca: out of memory");
	m = dir_mods_new();
	if (cn == NULL) {
		dir_mods_add_bin(m, LDAP_MOD_REPLACE, AT_CA_CERT, der, (size_t)derlen);
		dir_modify(pd->dir, dn, dir_mods_get(m), NULL, done, ctx);
	} else {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)crl_number);
		dir_mods_add(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, classes);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CN, cn);
		dir_mods_add_bin(m, LDAP_MOD_ADD, AT_CA_CERT, der, (size_t)derlen);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CRL_NUMBER, num);
		dir_add(pd->dir, dn, dir_mods_get(m), NULL, done, ctx);
	}
	dir_mods_free(m);
	OPENSSL_free(der);
}

/* Write cert to cert_file, adopt it, and publish the CA entry
 * (cn=<ca_name>,ou=pki,<base>: applicationProcess + pkiCA + provdCA). */
static void
install_ca(struct request *req, X509 *cert)
{
	struct provd *pd = req->pd;
	struct install *in;
	char err[512];

	if (ca_write_cert_file(pd->cfg.cert_file, cert, err, sizeof(err)) < 0) {
		X509_free(cert);
		request_done(req, ST_INTERNAL, "%s", err);
		return;
	}
	X509_free(pd->pki->cacert);
	pd->pki->cacert = cert;
	in = xcalloc(1, sizeof(*in));
	in->req = req;
	in->cert = cert;
	ca_entry_write(pd, pd->cfg.ca_dn, pd->cfg.ca_name, cert, 0, on_ca_added, in);
	crl_start_timer(pd);
}

/* A CA key being generated in the signer. */
struct genkey_job {
	struct request    *req;
	enum keyfile_type  type;
	unsigned           days;
	char               subject[1024];
	char               type_name[32];
	char               key_file[4096];    /* a file, or a PKCS#11 URI */
	char               pass_file[4096];   /* "" = none */
	bool               token;             /* key_file is a PKCS#11 URI */
	EVP_PKEY          *pub;
	int                rc;
	char               err[512];
};

static void genkey_installed(struct genkey_job *job);

/* The signer's answer (on the loop): self-sign the CA certificate and
 * install it. */
static void
genkey_done(void *arg, int rc, EVP_PKEY *pub, const char *why)
{
	struct genkey_job *job = arg;

	job->rc = rc;
	job->pub = pub;
	if (why != NULL)
		snprintf(job->err, sizeof(job->err), "%s", why);
	genkey_installed(job);
}

/* The end of ca create, with err (a failure) or cert (taken). */
static void
genkey_end(struct genkey_job *job, X509 *cert, const char *err)
{
	struct request *req = job->req;
	struct provd *pd = req->pd;
	char e2[512];

	pd->pki->signer_busy = false;
	if (cert == NULL || (job->token && ca_write_key_uri(pd, job->key_file, e2,
	                                                    sizeof(e2)) < 0)) {
		if (cert != NULL)
			err = e2;
		X509_free(cert);
		if (!job->token)
			unlink(job->key_file);
		request_done(req, ST_INVALID, "%s%s", err, job->token ? " (the new key stays "
		             "on the token: remove it there, or name another object)" : "");
		goto out;
	}
	if (job->token)
		snprintf(pd->pki->key_uri, sizeof(pd->pki->key_uri), "%.*s", P11URI_MAX,
		         job->key_file);
	log_info("pki: new CA key %s (%s) in the signer", job->key_file, job->type_name);
	install_ca(req, cert);
out:
	EVP_PKEY_free(job->pub);
	free(job);
}

/* The self-signed CA certificate, from the signer's queue. */
static void
on_ca_self_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *why)
{
	struct genkey_job *job = ctx;
	const unsigned char *p = der;
	X509 *cert = NULL;

	if (rc == 0 && (cert = d2i_X509(NULL, &p, (long)derlen)) == NULL)
		why = "the signer's CA certificate is unreadable";
	genkey_end(job, cert, why);
}

static void
genkey_installed(struct genkey_job *job)
{
	struct request *req = job->req;
	struct provd *pd = req->pd;
	X509 *tbs = NULL;
	char err[512];

	pd->pki->signer_busy = false;
	if (job->rc < 0) {
		request_done(req, ST_INTERNAL, "signer: %s", job->err);
		EVP_PKEY_free(job->pub);
		free(job);
		return;
	}
	/* The self-signature goes through the signer's queue like any
	 * certificate (ca_sign_cert_async: a dead signer is restarted with
	 * the new key); a second ca create stays refused meanwhile. */
	if (certgen_ca(job->subject, job->days, job->pub, 0, &tbs, err, sizeof(err)) < 0 ||
	    ca_sign_cert_async(pd, tbs, SIGNER_SELF_SIGNED, on_ca_self_signed, job, err,
	                       sizeof(err)) < 0) {
		X509_free(tbs);
		genkey_end(job, NULL, err);
		return;
	}
	X509_free(tbs);
	pd->pki->signer_busy = true;
}

static void create_checked(struct ca_entry *ce, const struct dir_result *res);

void
ca_create(struct request *req)
{
	ca_entry_fetch(req, create_checked);
}

static void
create_checked(struct ca_entry *ce, const struct dir_result *res)
{
	struct request *req = ce->req;
	struct provd *pd = req->pd;
	const char *subject = cmd_arg(&req->args, "subject");
	const char *type = cmd_arg(&req->args, "key");
	const char *uri = cmd_arg(&req->args, "pkcs11");
	enum keyfile_type kt;
	struct genkey_job *job;
	X509 *tbs = NULL;
	char err[512];
	unsigned days;

	if (pd->pki == NULL || pd->pki->signer == NULL) {
		request_done(req, ST_UNAVAILABLE, "pki.key_file, cert_file and crl_file are not configured");
		return;
	}
	if (pd->pki->signer_busy) {
		request_done(req, ST_CONFLICT, "a CA key is being generated already");
		return;
	}
	if (!ca_key_args(req, &kt, &days))
		return;
	if (ca_present(pd)) {
		request_done(req, ST_CONFLICT, "a CA already exists (%s); 'provctl ca rollover' replaces it",
		             pd->cfg.cert_file);
		return;
	}
	if (refuse_other_ca(ce, res, NULL, 0))
		return;
	if (uri != NULL && !ca_pkcs11_arg_ok(req, uri))
		return;
	/* Validate the subject before generating a key for it. */
	if (certgen_ca(subject, (unsigned)days, NULL, 0, &tbs, err, sizeof(err)) < 0 &&
	    strstr(err, "subject") != NULL) {
		request_done(req, ST_INVALID, "--subject: %s", err);
		return;
	}
	X509_free(tbs);
	job = xcalloc(1, sizeof(*job));
	job->req = req;
	job->type = kt;
	job->days = (unsigned)days;
	snprintf(job->subject, sizeof(job->subject), "%s", subject);
	snprintf(job->type_name, sizeof(job->type_name), "%s", type);
	job->token = uri != NULL;
	snprintf(job->key_file, sizeof(job->key_file), "%s", uri != NULL ? uri : pd->cfg.key_file);
	if (uri == NULL && pd->cfg.key_passphrase_file != NULL)
		snprintf(job->pass_file, sizeof(job->pass_file), "%s", pd->cfg.key_passphrase_file);
	/* Key generation takes seconds (RSA-4096): the signer does it while
	 * the loop keeps serving, and answers through the signer's socket. */
	if (signer_genkey_async(pd->pki->signer, kt, job->key_file,
	                        job->pass_file[0] ? job->pass_file : NULL, genkey_done, job,
	                        err, sizeof(err)) < 0) {
		free(job);
		request_done(req, ST_INTERNAL, "signer: %s", err);
		return;
	}
	pd->pki->signer_busy = true;
	ca_signer_watch(pd);
}

static void import_checked(struct ca_entry *ce, const struct dir_result *res);

void
ca_import(struct request *req)
{
	ca_entry_fetch(req, import_checked);
}

static void
import_checked(struct ca_entry *ce, const struct dir_result *res)
{
	struct request *req = ce->req;
	struct provd *pd = req->pd;
	size_t certlen = 0;
	const char *certpem = cmd_arg_len(&req->args, "cert", &certlen);
	const char *key = cmd_arg(&req->args, "key");
	const char *uri = cmd_arg(&req->args, "pkcs11");
	EVP_PKEY *pub = NULL;
	X509 *cert;
	char err[512];
	int rc;
	bool mismatch, other = false;

	if (pd->pki == NULL || pd->pki->signer == NULL) {
		request_done(req, ST_UNAVAILABLE, "pki.key_file, cert_file and crl_file are not configured");
		return;
	}
	if ((key == NULL) == (uri == NULL)) {
		request_done(req, ST_USAGE, "ca import needs --cert FILE and one of --key PATH "
		             "and --pkcs11 URI");
		return;
	}
	if (pd->pki->signer_busy) {
		request_done(req, ST_CONFLICT, "a CA key is being generated");
		return;
	}
	if (uri != NULL && !ca_pkcs11_arg_ok(req, uri))
		return;
	if (key != NULL && key[0] != '/') {
		request_done(req, ST_USAGE, "--key: an absolute path on the provd host (the "
		             "signer reads it; the key never crosses the control socket)");
		return;
	}
	if (ca_present(pd)) {
		request_done(req, ST_CONFLICT, "a CA already exists (%s)", pd->cfg.cert_file);
		return;
	}
	if ((cert = read_cert_pem(certpem, certlen)) == NULL) {
		request_done(req, ST_INVALID, "--cert: not a PEM certificate");
		return;
	}
	if (uri != NULL)
		rc = signer_load(pd->pki->signer, uri, NULL, &pub, err, sizeof(err));
	else
		rc = signer_import(pd->pki->signer, key, pd->cfg.key_file,
		                   pd->cfg.key_passphrase_file, &pub, err, sizeof(err));
	if (rc < 0) {
		X509_free(cert);
		request_done(req, ST_INVALID, "--%s: %s", uri != NULL ? "pkcs11" : "key", err);
		return;
	}
	mismatch = certgen_check_ca_pair(cert, pub, 0, err, sizeof(err)) < 0;
	if (!mismatch) {
		/* A matching pair: is it the CA the directory holds (or none)? */
		unsigned char *der = NULL;
		int derlen = i2d_X509(cert, &der);

		if (derlen <= 0)
			fatal("ca: out of memory");
		other = refuse_other_ca(ce, res, der, (size_t)derlen);
		OPENSSL_free(der);
	}
	if (mismatch || other || (uri != NULL && ca_write_key_uri(pd, uri, err, sizeof(err)) < 0)) {
		char rerr[256];

		EVP_PKEY_free(pub);
		X509_free(cert);
		/* Forget the imported key: the signer removes the copy it wrote
		 * (with daemon.signer_user only it may write the key's directory;
		 * a copy left behind would refuse the next import), and is
		 * replaced by a keyless one started as the first was (through
		 * its launcher with daemon.signer_user: the signer's user, not
		 * the engine's). */
		if (uri == NULL && signer_import_undo(pd->pki->signer, rerr, sizeof(rerr)) < 0) {
			log_warnx("pki: removing the refused key copy: %s", rerr);
			(void)unlink(pd->cfg.key_file);   /* a dead signer: the engine's own directory */
		}
		signer_forget_key(pd->pki->signer);
		if (signer_restart_async(pd->pki->signer, rerr, sizeof(rerr)) < 0)
			log_warnx("pki: signer restart: %s", rerr);
		ca_signer_watch(pd);
		if (!other)          /* refuse_other_ca answered already */
			request_done(req, ST_INVALID, "key and certificate do not match: %s", err);
		return;
	}
	EVP_PKEY_free(pub);
	if (uri != NULL)
		snprintf(pd->pki->key_uri, sizeof(pd->pki->key_uri), "%s", uri);
	log_info("pki: CA imported from %s", uri != NULL ? uri : key);
	install_ca(req, cert);
}
