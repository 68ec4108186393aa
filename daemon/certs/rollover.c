/* rollover — CA generations and `ca rollover`.  See rollover.h. */
#include "rollover.h"

#include <errno.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "audit.h"
#include "ca_cmd.h"
#include "cert.h"
#include "certgen.h"
#include "certrec.h"
#include "crlgen.h"
#include "dir.h"
#include "der.h"
#include "dn.h"
#include "fingerprint.h"
#include "keyfile.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "ocsp.h"
#include "p11uri.h"
#include "pem.h"
#include "pkitime.h"
#include "provd.h"
#include "reason.h"
#include "schema.h"
#include "request.h"
#include "serial.h"
#include "signer.h"
#include "vec.h"
#include "workpool.h"
#include "xmalloc.h"

#define PATH_MAX_LEN   4096
#define NAME_MAX_LEN   1024
#define GENS_MAX       64
#define CAS_RETRIES    8

/* ---- names ------------------------------------------------------------ */

/* A DN as cert_issue.c writes provdCertIssuer. */
static void
name_str(const X509_NAME *n, char out[NAME_MAX_LEN])
{
	BIO *b;
	int len = 0;

	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		len = BIO_read(b, out, NAME_MAX_LEN - 1);
		BIO_free(b);
	}
	out[len > 0 ? len : 0] = '\0';
}

/* "(provdCertIssuer=<subject of x>)"; generation 1 also owns records
 * without the attribute.  NULL when the subject does not fit. */
static char *
issuer_clause(X509 *x, unsigned number)
{
	char name[NAME_MAX_LEN], esc[ROLLOVER_CLAUSE_MAX - 64], out[ROLLOVER_CLAUSE_MAX];

	name_str(X509_get_subject_name(x), name);
	if (name[0] == '\0' || ldapesc_filter(name, esc, sizeof(esc)) < 0)
		return NULL;
	if (number == 1)
		snprintf(out, sizeof(out), "(|(" AT_CERT_ISSUER "=%s)(!(" AT_CERT_ISSUER "=*)))", esc);
	else
		snprintf(out, sizeof(out), "(" AT_CERT_ISSUER "=%s)", esc);
	return xstrdup(out);
}

/* The paths of retired generation g (see rollover.h). */
struct gen_paths {
	char dir[PATH_MAX_LEN], key[PATH_MAX_LEN], uri[PATH_MAX_LEN], cert[PATH_MAX_LEN];
	char crl[PATH_MAX_LEN];
	char link[PATH_MAX_LEN];   /* the link certificate from generation g to g + 1 */
};

static int
gen_paths(const struct config *cfg, unsigned g, struct gen_paths *p)
{
	const char *slash = strrchr(cfg->key_file, '/');
	size_t n = strlen(cfg->crl_file);
	int dl = (int)(slash - cfg->key_file);

	if (n > 4 && strcmp(cfg->crl_file + n - 4, ".crl") == 0)
		n -= 4;
	if (snprintf(p->dir, sizeof(p->dir), "%.*s/gen-%u", dl, cfg->key_file, g) >=
	        (int)sizeof(p->dir) ||
	    snprintf(p->key, sizeof(p->key), "%s/ca.key", p->dir) >= (int)sizeof(p->key) ||
	    snprintf(p->uri, sizeof(p->uri), "%s/ca.key.uri", p->dir) >= (int)sizeof(p->uri) ||
	    snprintf(p->cert, sizeof(p->cert), "%s/ca.pem", p->dir) >= (int)sizeof(p->cert) ||
	    snprintf(p->crl, sizeof(p->crl), "%.*s-gen-%u.crl", (int)n, cfg->crl_file, g) >=
	        (int)sizeof(p->crl))
		return -1;
	n = strlen(cfg->cert_file);
	if (n > 4 && strcmp(cfg->cert_file + n - 4, ".pem") == 0)
		n -= 4;
	if (snprintf(p->link, sizeof(p->link), "%.*s-link-gen-%u.pem", (int)n, cfg->cert_file,
	             g) >= (int)sizeof(p->link))
		return -1;
	return 0;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool
expired(X509 *x)
{
	return X509_cmp_current_time(X509_get0_notAfter(x)) <= 0;
}

/* The one place that decides whether a retired generation is still
 * served: its CRL published (chain_next), its OCSP responses signed
 * (ocsp_retired), role "retired" in ca show.  Not once its certificate has
 * expired (then "expired" until archived, "archived" after), nor without
 * a signer to sign with. */
static bool
gen_served(const struct ca_gen *g)
{
	return !g->archived && g->signer != NULL && !expired(g->cert);
}

/* Start a signer holding generation g's key and check it against cert. */
static int
gen_signer(struct provd *pd, const struct gen_paths *p, X509 *cert, bool drop, uid_t uid,
           gid_t gid, unsigned links, struct signer **out, char *err, size_t errlen)
{
	struct signer_config sc = { .drop_privileges = drop, .uid = uid, .gid = gid,
	                            .pkcs11_module = pd->cfg.pkcs11_module,
	                            .pkcs11_pin_file = pd->cfg.pkcs11_pin_file,
	                            .link_certificates = links };
	char uri[P11URI_MAX + 1];
	EVP_PKEY *pub = NULL;
	int rc = -1;

	*out = NULL;
	if (signer_start(&sc, out, err, errlen) < 0)
		return -1;
	if (exists(p->key)) {
		if (signer_load(*out, p->key, pd->cfg.key_passphrase_file, &pub, err, errlen) < 0)
			goto out;
	} else if (ca_read_key_uri(p->uri, uri, err, errlen) < 0 ||
	           signer_load(*out, uri, NULL, &pub, err, errlen) < 0) {
		goto out;
	}
	rc = certgen_check_ca_pair(cert, pub, 0, err, errlen);
out:
	EVP_PKEY_free(pub);
	if (rc < 0) {
		signer_stop(*out);
		*out = NULL;
	}
	return rc;
}

/* Generation g's filter clause and entry DN.  0, or -1 with err when the
 * subject or the DN does not fit. */
static int
gen_names(struct provd *pd, unsigned g, X509 *cert, char **clause, char dn[PATH_MAX_LEN],
          char *err, size_t errlen)
{
	char rdn[128];

	snprintf(rdn, sizeof(rdn), "%.100s-gen-%u", pd->cfg.ca_name, g);
	if ((*clause = issuer_clause(cert, g)) == NULL ||
	    ldapesc_rdn_dn(AT_CN, rdn, pd->cfg.pki_dn, dn, PATH_MAX_LEN) < 0) {
		free(*clause);
		*clause = NULL;
		snprintf(err, errlen, "generation %u: its subject or DN does not fit", g);
		return -1;
	}
	return 0;
}

/* Append retired generation g (takes cert, signer and clause). */
static void
gen_add(struct provd *pd, unsigned g, const struct gen_paths *p, X509 *cert,
        struct signer *signer, char *clause, const char *dn)
{
	struct pki *pki = pd->pki;
	struct ca_gen *gen;

	pki->gens = xrealloc(pki->gens, (pki->ngens + 1) * sizeof(*pki->gens));
	gen = &pki->gens[pki->ngens++];
	memset(gen, 0, sizeof(*gen));
	gen->number = g;
	gen->cert = cert;
	gen->signer = signer;
	gen->dn = xstrdup(dn);
	gen->crl_file = xstrdup(p->crl);
	gen->clause = clause;
}

/* The current CA's clause, kept in step with pki->cacert. */
static char *cur_clause;
/* The newest union of CRL entries OCSP was given (a publish that finishes
 * late never takes OCSP back to an older state). */
static uint64_t ocsp_version;
/* Chains between chain_start and chain_end: while one runs, a retired
 * generation's signer may be in its hands across an LDAP step. */
static unsigned chains_live;
/* Every chain from rollover_chain to chain_end: what rollover_free frees
 * when provd stops with a publish under way (nothing calls back then). */
static LIST_HEAD(, chain) chains = LIST_HEAD_INITIALIZER(chains);
static void chain_free(struct chain *c);

static int
set_current_clause(struct provd *pd)
{
	char *c = issuer_clause(pd->pki->cacert, (unsigned)pd->pki->ngens + 1);

	if (c == NULL)
		return -1;
	free(cur_clause);
	cur_clause = c;
	return 0;
}

const char *
rollover_current_clause(const struct provd *pd)
{
	return pd->pki != NULL && pd->pki->ngens > 0 && cur_clause != NULL ? cur_clause : "";
}

int
rollover_load(struct provd *pd, bool drop, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct gen_paths p;
	struct signer *signer;
	unsigned g;
	X509 *cert;
	char dn[PATH_MAX_LEN], *clause;

	for (g = 1; g <= GENS_MAX; g++) {
		if (gen_paths(&pd->cfg, g, &p) < 0 || !exists(p.dir))
			break;
		if ((cert = ca_load_cert_file(p.cert, err, errlen)) == NULL)
			return -1;
		if (gen_names(pd, g, cert, &clause, dn, err, errlen) < 0) {
			X509_free(cert);
			return -1;
		}
		signer = NULL;
		if (!expired(cert) &&
		    gen_signer(pd, &p, cert, drop, uid, gid, 0, &signer, err, errlen) < 0) {
			X509_free(cert);
			free(clause);
			return -1;
		}
		gen_add(pd, g, &p, cert, signer, clause, dn);
		log_info("pki: retired CA generation %u loaded (%s)%s", g, p.cert,
		         signer ? "" : "; expired, its CRL is no longer published");
	}
	if (pd->pki->ngens > 0 && set_current_clause(pd) < 0) {
		snprintf(err, errlen, "the current CA's subject does not fit a filter");
		return -1;
	}
	return 0;
}

void
rollover_free(struct pki *pki)
{
	size_t i;

	for (i = 0; i < pki->ngens; i++) {
		signer_stop(pki->gens[i].signer);
		X509_free(pki->gens[i].cert);
		free(pki->gens[i].dn);
		free(pki->gens[i].crl_file);
		free(pki->gens[i].clause);
	}
	free(pki->gens);
	pki->gens = NULL;
	pki->ngens = 0;
	free(cur_clause);
	cur_clause = NULL;
	ocsp_version = 0;
	chains_live = 0;
	while (!LIST_EMPTY(&chains))           /* their signers stopped above */
		chain_free(LIST_FIRST(&chains));
}

/* ---- the retired generations' CRLs ------------------------------------ */

struct chain {
	struct provd     *pd;
	crl_done_fn      *done;
	void             *ctx;
	int               status;
	char              msg[1024];
	size_t            i;          /* the generation being published */
	uint64_t          number;
	bool              has_number;
	int               tries;
	struct crl_entry *e;
	size_t            n, cap;
	char              bad[256];
	unsigned char    *derbuf;      /* the signed CRL's buffer, its one owner */
	const unsigned char *der;      /* the CRL inside derbuf */
	size_t            derlen;
	unsigned char    *tbs;        /* the CRL at the signer (its queue) */
	size_t            tbslen;
	time_t            now;        /* its thisUpdate */
	bool              sign_retried;
	/* every CA's entries, for OCSP; only when every CRL went out */
	struct crl_entry *u;
	size_t            nu, capu;
	bool              ocsp_ok;
	uint64_t          version;    /* the current CA's CRL number it started from */
	LIST_ENTRY(chain) entry;      /* in chains */
};

static void
chain_free(struct chain *c)
{
	LIST_REMOVE(c, entry);
	free(c->e);
	free(c->u);
	free(c->derbuf);
	free(c->tbs);
	free(c);
}


static void chain_next(struct chain *c);

static void
chain_fail(struct chain *c, int status, const char *what, const char *detail)
{
	size_t len = strlen(c->msg);

	c->ocsp_ok = false;
	if (c->status == ST_OK)
		c->status = status;
	snprintf(c->msg + len, sizeof(c->msg) - len, "; generation %u: ",
	         c->pd->pki->gens[c->i].number);
	len = strlen(c->msg);
	snprintf(c->msg + len, sizeof(c->msg) - len, "%s%s", what, detail);
	c->i++;
	chain_next(c);
}

/*
 * A retired generation's CRL file (write, fsync, rename) on a worker
 * thread, as the current CA's (crl.c): the job takes the DER and a copy of
 * the path; the chain waits for it, so nothing else touches c meanwhile.
 */
struct gen_file_job {
	struct chain     *c;
	char             *path;
	unsigned char    *buf;         /* taken from c->derbuf */
	const unsigned char *der;      /* the CRL inside buf */
	size_t            derlen;
	int               rc;
	char              why[300];
};

/* Worker thread: the job's own fields only. */
static void
gen_file_work(void *arg)
{
	struct gen_file_job *job = arg;

	job->rc = crlgen_write_file(job->path, job->der, job->derlen, job->why,
	                            sizeof(job->why));
}

static void
gen_file_done(void *arg)
{
	struct gen_file_job *job = arg;
	struct chain *c = job->c;
	struct ca_gen *g = &c->pd->pki->gens[c->i];
	size_t len;

	free(job->path);
	free(job->buf);
	if (job->rc < 0) {
		chain_fail(c, ST_INTERNAL, "in the directory, not on disk: ", job->why);
		free(job);
		return;
	}
	free(job);
	len = strlen(c->msg);
	snprintf(c->msg + len, sizeof(c->msg) - len, "; generation %u: CRL %llu (%zu entries)",
	         g->number, (unsigned long long)g->crl_last, c->n);
	if (c->n > 0) {
		c->u = vec_grow(c->u, &c->capu, c->nu + c->n, sizeof(*c->u));
		memcpy(c->u + c->nu, c->e, c->n * sizeof(*c->u));
		c->nu += c->n;
	}
	c->i++;
	chain_next(c);
}

static void
on_gen_written(void *arg, const struct dir_result *res)
{
	struct chain *c = arg;
	struct ca_gen *g = &c->pd->pki->gens[c->i];
	struct gen_file_job *job;
	char why[300];

	if (res->code == LDAP_ASSERTION_FAILED && ++c->tries < CAS_RETRIES) {
		chain_next(c);   /* another writer took the number: read it again */
		return;
	}
	if (res->code != LDAP_SUCCESS) {
		chain_fail(c, ST_UNAVAILABLE, "directory: ", dir_result_str(res, why, sizeof(why)));
		return;
	}
	g->crl_last = c->number + 1;
	job = xcalloc(1, sizeof(*job));
	job->c = c;
	job->path = xstrdup(g->crl_file);
	job->buf = c->derbuf;          /* the job is its one owner now */
	job->der = c->der;
	job->derlen = c->derlen;
	c->derbuf = NULL;
	c->der = NULL;
	c->derlen = 0;
	workpool_submit(c->pd->hashers, gen_file_work, gen_file_done, job);
}

static int
cmp_entry(const void *a, const void *b)
{
	return serial_cmp(&((const struct crl_entry *)a)->serial,
	                  &((const struct crl_entry *)b)->serial);
}

/*
 * The retired generation's CRL goes through its signer's queue (the
 * signer's socket an event source, ca_signer_watch_other), like the
 * current CA's: the loop serves while it is signed.  A signer that fails
 * is restarted without waiting and the CRL sent once more behind the
 * restart.
 */
static void on_gen_crl_signed(void *ctx, int rc, const unsigned char *der, size_t derlen,
                              const char *err);

static crl_copied_fn on_gen_copied;

static int
sign_gen_crl(struct chain *c, struct ca_gen *g, char *err, size_t errlen)
{
	if (signer_sign_crl_async(g->signer, c->tbs, c->tbslen, on_gen_crl_signed, c, err,
	                          errlen) < 0)
		return -1;
	ca_signer_watch_other(c->pd, g->signer);
	return 0;
}

static void
on_gen_crl_signed(void *ctx, int rc, const unsigned char *der, size_t derlen, const char *err)
{
	struct chain *c = ctx;
	struct provd *pd = c->pd;
	struct ca_gen *g = &pd->pki->gens[c->i];
	char e2[512];

	if (rc < 0 && !c->sign_retried) {
		c->sign_retried = true;
		log_warnx("pki: generation %u signer failed (%s); restarting it", g->number, err);
		if (signer_restart_async(g->signer, e2, sizeof(e2)) == 0 &&
		    sign_gen_crl(c, g, e2, sizeof(e2)) == 0)
			return;
		err = e2;
	}
	free(c->tbs);
	c->tbs = NULL;
	if (rc < 0) {
		chain_fail(c, ST_INTERNAL, "", err);
		return;
	}
	free(c->derbuf);
	c->derbuf = NULL;
	c->der = NULL;
	c->derlen = 0;
	/* taken, its copy for the directory made on a worker, as the
	 * current CA's (crl.c on_crl_signed) */
	crl_take_signed(pd, g->signer, der, derlen, on_gen_copied, c);
}

/* The CRL back to the chain (for the file job), its copy to the
 * compare-and-swap. */
static void
on_gen_copied(void *ctx, unsigned char *buf, const unsigned char *der, size_t derlen,
              unsigned char *copy)
{
	struct chain *c = ctx;
	struct provd *pd = c->pd;

	c->derbuf = buf;
	c->der = der;
	c->derlen = derlen;
	if (crl_write_cas(pd, pd->pki->gens[c->i].dn, c->number, c->has_number, c->now, copy,
	                  derlen, on_gen_written, c) < 0)
		chain_fail(c, ST_UNAVAILABLE, "", "directory unavailable");
}

/*
 * Sorting and encoding the retired generation's CRL on a worker thread,
 * as the current CA's (crl.c build_work): the job takes the entries and a
 * reference to the CA certificate and gives the entries back; the chain
 * waits for it.
 */
struct gen_build_job {
	struct chain     *c;
	X509             *cert;
	uint64_t          number;
	time_t            now;
	unsigned          days;
	struct crl_entry *e;
	size_t            n;
	unsigned char    *tbs;
	size_t            tbslen;
	int               rc;
	char              err[512];
};

/* Worker thread: the job's own fields only. */
static void
gen_build_work(void *arg)
{
	struct gen_build_job *j = arg;

	if (j->n > 1)
		qsort(j->e, j->n, sizeof(*j->e), cmp_entry);
	j->rc = crlgen_build(j->cert, j->number, j->now, j->days, j->e, j->n, &j->tbs,
	                     &j->tbslen, j->err, sizeof(j->err));
}

static void
gen_build_done(void *arg)
{
	struct gen_build_job *j = arg;
	struct chain *c = j->c;
	struct ca_gen *g = &c->pd->pki->gens[c->i];
	char err[512];

	c->e = j->e;                 /* c->cap is unchanged */
	c->tbs = j->tbs;
	c->tbslen = j->tbslen;
	X509_free(j->cert);
	if (j->rc < 0) {
		snprintf(err, sizeof(err), "%s", j->err);
	} else if (sign_gen_crl(c, g, err, sizeof(err)) == 0) {
		free(j);
		return;
	}
	free(j);
	free(c->tbs);
	c->tbs = NULL;
	chain_fail(c, ST_INTERNAL, "", err);
}

static void
on_gen_records_done(void *arg, const struct dir_result *res)
{
	struct chain *c = arg;
	struct provd *pd = c->pd;
	struct ca_gen *g = &pd->pki->gens[c->i];
	struct gen_build_job *j;
	char err[512];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		chain_fail(c, ST_UNAVAILABLE, "reading revocations: ",
		           dir_result_str(res, err, sizeof(err)));
		return;
	}
	if (c->bad[0] != '\0') {
		chain_fail(c, ST_INTERNAL, "", c->bad);
		return;
	}
	free(c->derbuf);
	c->derbuf = NULL;
	c->der = NULL;
	free(c->tbs);
	c->tbs = NULL;
	c->now = time(NULL);
	c->sign_retried = false;
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	if (X509_up_ref(g->cert) != 1)
		fatalx("rollover: X509_up_ref");
	j->cert = g->cert;
	j->number = c->number + 1;
	j->now = c->now;
	j->days = pd->cfg.crl_days;
	j->e = c->e;
	j->n = c->n;
	c->e = NULL;
	workpool_submit(pd->hashers, gen_build_work, gen_build_done, j);
}

static void
on_gen_record(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct chain *c = arg;
	struct crl_entry ce;
	bool listed;

	if (c->bad[0] != '\0' || crl_entry_read(ld, e, &ce, &listed, c->bad, sizeof(c->bad)) < 0 ||
	    !listed)
		return;
	c->e = vec_grow(c->e, &c->cap, c->n + 1, sizeof(*c->e));
	c->e[c->n++] = ce;
}

static void
on_gen_number(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct chain *c = arg;
	char *num = dir_entry_get(ld, e, AT_CRL_NUMBER);

	c->has_number = num != NULL;
	c->number = num ? strtoull(num, NULL, 10) : 0;
	free(num);
}

static void
on_gen_number_done(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_CERT_STATUS, AT_CERT_REVOKED_AT, AT_CERT_REASON,
		AT_CERT_INVALIDITY, NULL
	};
	struct chain *c = arg;
	struct provd *pd = c->pd;
	char why[300], filter[ROLLOVER_CLAUSE_MAX + 128];

	if (res->code != LDAP_SUCCESS) {
		chain_fail(c, ST_UNAVAILABLE, "its CA entry: ", dir_result_str(res, why, sizeof(why)));
		return;
	}
	c->n = 0;
	c->bad[0] = '\0';
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")%s"
	         "(|(" AT_CERT_STATUS "=revoked)(" AT_CERT_STATUS "=hold)))", pd->pki->gens[c->i].clause);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL,
	           on_gen_record, on_gen_records_done, c);
}

/* ---- expired generations ------------------------------------------------ */

/* Move path (if it exists) into <its directory>/archive/, made 0755 when
 * missing.  1 moved, 0 nothing to move, -1 with why. */
static int
archive_move(const char *path, char *why, size_t whylen)
{
	char dir[PATH_MAX_LEN], dst[PATH_MAX_LEN + 16];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(why, whylen, "%s: %s", path,
		                                       strerror(errno)), -1);
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir)) {
		snprintf(why, whylen, "%s: not an absolute path", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s/archive", (int)(slash - path), path);
	snprintf(dst, sizeof(dst), "%s/%s", dir, slash + 1);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || rename(path, dst) < 0) {
		snprintf(why, whylen, "%.300s -> %.300s: %s", path, dst, strerror(errno));
		return -1;
	}
	return 1;
}

/*
 * A retired generation whose certificate has expired (and with it every
 * certificate it issued: certgen cuts them at the CA's notAfter) is
 * archived once nothing uses its signer: the signer is stopped (the key
 * leaves memory; the key file stays where it is, the signer's user's, for
 * the operator to destroy or take offline: docs/operations.md), its last
 * CRL file moves to archive/ beside it (no longer published there), and
 * its OCSP directory to <ocsp_dir>/archive/ (provd-ocsp stops answering
 * for that issuer).  Its directory entry stays, the record of the CA and
 * its last CRL.  Journalled when anything changed.  Not before the
 * generation expired; again harmlessly (nothing left to move).
 */
static void
gen_archive(struct provd *pd, struct ca_gen *g)
{
	char why[1024], ocsp[PATH_MAX_LEN], note[128];
	bool changed = false;
	int m;

	if (g->archived || !expired(g->cert))
		return;
	if (g->signer != NULL) {
		if (chains_live > 0 || signer_queued(g->signer) > 0 || signer_restarting(g->signer) ||
		    ca_signer_unwatch_other(pd, g->signer) < 0)
			return;              /* in use: at the end of a later publish */
		signer_stop(g->signer);
		g->signer = NULL;
		changed = true;
	}
	if ((m = archive_move(g->crl_file, why, sizeof(why))) < 0)
		log_warnx("pki: generation %u: its CRL file: %s", g->number, why);
	changed |= m > 0;
	if (pd->cfg.ocsp_dir != NULL) {
		snprintf(ocsp, sizeof(ocsp), "%s/gen-%u", pd->cfg.ocsp_dir, g->number);
		if ((m = archive_move(ocsp, why, sizeof(why))) < 0)
			log_warnx("pki: generation %u: its OCSP directory: %s", g->number, why);
		changed |= m > 0;
	}
	g->archived = true;
	if (!changed)
		return;
	log_info("pki: retired CA generation %u expired: archived (signer stopped, CRL and "
	         "OCSP responses no longer published)", g->number);
	snprintf(note, sizeof(note), "generation=%u", g->number);
	audit_event(pd->audit, "(ca generation archived)", note, note, ST_OK,
	            "expired: its signer stopped, its CRL file and OCSP directory moved to archive/");
}

static void
archive_expired(struct provd *pd)
{
	size_t i;

	for (i = 0; pd->pki != NULL && i < pd->pki->ngens; i++)
		gen_archive(pd, &pd->pki->gens[i]);
}

/* The chain is over (and OCSP has caught up): answer. */
static void
chain_end(void *arg)
{
	struct chain *c = arg;
	struct provd *pd = c->pd;

	if (--chains_live == 0)
		archive_expired(pd);
	c->done(c->ctx, c->status, c->msg);
	chain_free(c);
}

static void
chain_next(struct chain *c)
{
	static const char *const attrs[] = { AT_CRL_NUMBER, NULL };
	struct pki *pki = c->pd->pki;
	struct crl_entry *u;
	size_t nu;

	while (c->i < pki->ngens && !gen_served(&pki->gens[c->i])) {
		c->i++;
		c->tries = 0;
	}
	if (c->i == pki->ngens || !dir_connected(c->pd->dir)) {
		if (c->i < pki->ngens && c->status == ST_OK) {
			c->status = ST_UNAVAILABLE;
			snprintf(c->msg + strlen(c->msg), sizeof(c->msg) - strlen(c->msg),
			         "; retired generations: directory unavailable");
		}
		/* OCSP learns every CA's revocations at once, or nothing (a
		 * serial missing from the union would be answered good); the
		 * next full refresh reads the records themselves. */
		if (c->ocsp_ok && c->i == pki->ngens && c->version >= ocsp_version) {
			if (c->nu > 1)
				qsort(c->u, c->nu, sizeof(*c->u), cmp_entry);
			ocsp_version = c->version;
			u = c->u;             /* OCSP takes it */
			nu = c->nu;
			c->u = NULL;
			c->nu = c->capu = 0;
			ocsp_crl_published(c->pd, u, nu, chain_end, c);
			return;
		} else if (!c->ocsp_ok || c->i < pki->ngens) {
			log_warnx("crl: OCSP responses not updated from this publish");
		}
		chain_end(c);
		return;
	}
	c->has_number = false;
	c->number = 0;
	dir_search(c->pd->dir, pki->gens[c->i].dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs, 1,
	           NULL, on_gen_number, on_gen_number_done, c);
}

/* The current CA's publish is out: go on with the retired generations. */
static void
chain_start(void *ctx, int status, const char *msg)
{
	struct chain *c = ctx;
	const struct crl_entry *cur = NULL;
	size_t n = 0;

	chains_live++;
	c->status = status;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	c->version = crl_last_number(c->pd);
	c->ocsp_ok = status == ST_OK && crl_entries(c->pd, &cur, &n);
	if (c->ocsp_ok && n > 0) {
		c->u = vec_grow(c->u, &c->capu, n, sizeof(*c->u));
		memcpy(c->u, cur, n * sizeof(*c->u));
		c->nu = n;
	}
	chain_next(c);
}

void
rollover_chain(struct provd *pd, crl_done_fn **done, void **ctx)
{
	struct chain *c;

	if (pd->pki == NULL || pd->pki->ngens == 0)
		return;
	c = xcalloc(1, sizeof(*c));
	LIST_INSERT_HEAD(&chains, c, entry);
	c->pd = pd;
	c->done = *done;
	c->ctx = *ctx;
	*done = chain_start;
	*ctx = c;
}

/* ---- showing ------------------------------------------------------------ */

const char *
rollover_crl_dn(struct request *req)
{
	struct provd *pd = req->pd;
	const char *ca = cmd_arg(&req->args, "ca");
	char *end;
	unsigned long g;

	if (ca == NULL || strcmp(ca, "current") == 0)
		return pd->cfg.ca_dn;
	g = strtoul(ca, &end, 10);
	if (*end == '\0' && ca[0] != '\0' && pd->pki != NULL) {
		if (g == pd->pki->ngens + 1)
			return pd->cfg.ca_dn;
		if (g >= 1 && g <= pd->pki->ngens)
			return pd->pki->gens[g - 1].dn;
	}
	request_done(req, ST_NOTFOUND, "--ca: no CA generation %.32s ('provctl ca show' "
	             "lists them)", ca);
	return NULL;
}

void
rollover_show(struct request *req)
{
	struct pki *pki = req->pd->pki;
	char name[NAME_MAX_LEN], fp[FINGERPRINT_HEX_LEN + 1] = "", na[32] = "", e[128];
	struct rec r;
	time_t t;
	size_t i;

	for (i = 0; i < pki->ngens; i++) {
		struct ca_gen *g = &pki->gens[i];

		name_str(X509_get_subject_name(g->cert), name);
		fingerprint_sha256(g->cert, fp, e, sizeof(e));
		na[0] = '\0';
		if (pkitime_from_asn1(X509_get0_notAfter(g->cert), &t) == 0)
			pkitime_format_ldap(t, na);
		rec_begin(&r, req);
		rec_kv(&r, "subject", name);
		rec_kv(&r, "not_after", na);
		rec_kv(&r, "sha256", fp);
		rec_kvf(&r, "generation", "%u", g->number);
		rec_kv(&r, "role", g->archived ? "archived" : gen_served(g) ? "retired" : "expired");
		rec_kv(&r, "crl_file", g->crl_file);
		rec_kv(&r, "entry", g->dn);
		rec_kvf(&r, "last_crl_number", "%llu", (unsigned long long)g->crl_last);
		rec_kvf(&r, "signer_pid", "%d", g->signer ? (int)signer_pid(g->signer) : 0);
		rec_end(&r);
	}
}


/* ---- OCSP for the retired generations ------------------------------------ */

static unsigned
ocsp_generation_of(const struct provd *pd, const char *issuer)
{
	char name[NAME_MAX_LEN];
	size_t i;

	if (pd->pki == NULL)
		return 0;
	if (issuer[0] == '\0')
		return 1;
	for (i = 0; i < pd->pki->ngens; i++) {
		name_str(X509_get_subject_name(pd->pki->gens[i].cert), name);
		if (strcasecmp(name, issuer) == 0)
			return pd->pki->gens[i].number;
	}
	return (unsigned)pd->pki->ngens + 1;
}

static int
ocsp_retired(struct provd *pd, unsigned gen, X509 **cert, struct signer **signer)
{
	struct ca_gen *g;

	if (pd->pki == NULL || gen < 1 || gen > pd->pki->ngens)
		return -1;
	g = &pd->pki->gens[gen - 1];
	*cert = g->cert;
	*signer = gen_served(g) ? g->signer : NULL;
	return 0;
}

const struct ocsp_hooks rollover_ocsp_hooks = {
	.generation_of = ocsp_generation_of,
	.retired = ocsp_retired,
};

const struct crl_hooks rollover_crl_hooks = {
	.records_clause = rollover_current_clause,
	.chain = rollover_chain,
	.show_dn = rollover_crl_dn,
};

/* ---- ca rollover ---------------------------------------------------------- */

#define PROGRESS_MS        250
#define AUDIT_PROGRESS_MS  1000

struct roll {
	struct request *req;
	char           *subject;
	char           *uri;       /* --pkcs11, or NULL */
	enum keyfile_type kt;
	unsigned        days;
	bool            revoke_all;
	bool            link;      /* --link: the old key signs the new CA's key */
	unsigned char  *link_der;  /* ... that certificate, for the directory */
	size_t          link_len;
	bool            dry_run;
	bool            p12_dir;   /* --p12-dir: office keys are re-issued */
	bool            resume;    /* --resume: the last rollover's revoke-all step again */
	size_t          gi;        /* index of the generation retired here */
	struct certrec *list, *cur;
	unsigned        total, done, revoked, failed, reissued, resubmit, not_reissued, owed;
	uint64_t        last_progress, last_audit;
	char            note[384];
	/* the swap, while the signer makes the new key (swap_start) */
	unsigned        g;
	struct gen_paths p;
	struct signer  *gs;        /* the retired generation's signer */
	char            up[PATH_MAX_LEN], dn[PATH_MAX_LEN];
	char           *clause;
	bool            file_key;
	bool            split;     /* swap_split: ro->gs was the spare */
	char           *pem;       /* ... the old CA certificate, for signer_retire */
	size_t          pemlen;
};

static void
roll_free(struct roll *ro)
{
	certrec_free(ro->list);
	free(ro->clause);
	free(ro->pem);
	free(ro->link_der);
	free(ro->subject);
	free(ro->uri);
	free(ro);
}

/* Put the retired key back where it was (the new one, if any, is gone). */
static void
undo_move(struct provd *pd, const struct gen_paths *p, bool file_key)
{
	char up[PATH_MAX_LEN];
	EVP_PKEY *pub = NULL;
	char err[256];

	ca_key_uri_path(&pd->cfg, up, sizeof(up));
	if (file_key) {
		unlink(pd->cfg.key_file);
		if (rename(p->key, pd->cfg.key_file) < 0)
			log_warn("pki: rollover undo: %s", p->key);
		if (signer_load(pd->pki->signer, pd->cfg.key_file, pd->cfg.key_passphrase_file,
		                &pub, err, sizeof(err)) < 0)
			log_warnx("pki: rollover undo: %s", err);
	} else {
		char uri[P11URI_MAX + 1];

		unlink(pd->cfg.key_file);     /* a new file key, if one was made */
		if (rename(p->uri, up) < 0)
			log_warn("pki: rollover undo: %s", p->uri);
		if (ca_read_key_uri(up, uri, err, sizeof(err)) < 0 ||
		    signer_load(pd->pki->signer, uri, NULL, &pub, err, sizeof(err)) < 0)
			log_warnx("pki: rollover undo: %s", err);
	}
	EVP_PKEY_free(pub);
	unlink(p->cert);
	rmdir(p->dir);
}

/* --link: the retired key signs the new CA's subject and key (certgen_link),
 * written next to pki.cert_file as p->link (PEM) and kept in ro for the
 * directory.  0, or -1 with err. */
static int
make_link(struct roll *ro, const struct gen_paths *p, struct signer *old_signer, X509 *old_ca,
          X509 *new_ca, char *err, size_t errlen)
{
	X509 *tbs = NULL, *link = NULL;
	unsigned char *der = NULL;
	int len, rc = -1;

	if (certgen_link(old_ca, new_ca, 0, &tbs, err, errlen) < 0 ||
	    signer_sign_cert(old_signer, tbs, SIGNER_LINK, &link, err, errlen) < 0 ||
	    ca_write_cert_file(p->link, link, err, errlen) < 0)
		goto out;
	if ((len = i2d_X509(link, &der)) <= 0) {
		snprintf(err, errlen, "link certificate: cannot encode");
		goto out;
	}
	ro->link_der = xmalloc((size_t)len);
	memcpy(ro->link_der, der, (size_t)len);
	ro->link_len = (size_t)len;
	rc = 0;
out:
	OPENSSL_free(der);
	X509_free(tbs);
	X509_free(link);
	return rc;
}

/* Can this process write the key's directory (else it is the signer's:
 * daemon.signer_user)? */
static bool
owns_key_dir(const struct config *cfg)
{
	char dir[PATH_MAX_LEN];

	snprintf(dir, sizeof(dir), "%s", cfg->key_file);
	*strrchr(dir, '/') = '\0';
	return access(dir, W_OK | X_OK) == 0;
}

static void swap_finish(void *ctx, int rc, EVP_PKEY *pub, const char *why);
static void add_gen_entry(struct roll *ro);

/* Why no spare signer is at hand (daemon.signer_user), into err. */
static void
no_spare(const struct pki *pki, char *err, size_t errlen)
{
	if (pki->spare_asked)
		snprintf(err, errlen, "with daemon.signer_user, a new spare signer is "
		         "starting (the last rollover used the one before); try again shortly");
	else
		snprintf(err, errlen, "with daemon.signer_user, no spare signer: %s; restart "
		         "provd to roll over", pki->spare_err[0] != '\0' ? pki->spare_err :
		         "none was started");
}

/* The current key as the signer loads it: its URI, or the file and its
 * passphrase file. */
static const char *
pki_key(const struct provd *pd)
{
	return pd->pki->key_uri[0] != '\0' ? pd->pki->key_uri : pd->cfg.key_file;
}

static const char *
pki_pass(const struct provd *pd)
{
	return pd->pki->key_uri[0] != '\0' ? NULL : pd->cfg.key_passphrase_file;
}

/*
 * swap_start with daemon.signer_user: the key's directory is the signer's
 * user's alone, and the engine can start no process as that user.  The
 * spare signer (struct pki) loads the current key, moves it (a token
 * key: its URI file) to gen-N/ itself (signer_retire, with the old CA
 * certificate) and becomes the retired generation's signer; the main
 * signer makes the new key in place or on the token while the loop keeps
 * serving (swap_finish, where it also writes a token key's URI file), and
 * a new spare is asked of the spawner once the rollover is done.  On
 * failure the key is put back and the spare stays the spare.  0 (swap_finish will
 * run) or -1 with err, nothing changed.
 */
static int
swap_split(struct roll *ro, char *err, size_t errlen)
{
	struct provd *pd = ro->req->pd;
	struct config *cfg = &pd->cfg;
	struct pki *pki = pd->pki;
	struct signer *gs = pki->spare;
	EVP_PKEY *old = NULL;
	unsigned char *der = NULL;
	int derlen, rc;

	if (gs == NULL) {
		no_spare(pki, err, errlen);
		return -1;
	}
	if ((derlen = i2d_X509(pki->cacert, &der)) <= 0 ||
	    pem_encode("CERTIFICATE", der, (size_t)derlen, &ro->pem, &ro->pemlen, err,
	               errlen) < 0) {
		OPENSSL_free(der);
		snprintf(err, errlen, "cannot encode the CA certificate");
		return -1;
	}
	OPENSSL_free(der);
	rc = signer_load(gs, pki_key(pd), pki_pass(pd), &old, err, errlen);
	/* The spare's signer ended since it started: its launcher starts
	 * another (signer_load waits for it). */
	if (rc < 0 && signer_broken(gs) && signer_restart_async(gs, err, errlen) == 0)
		rc = signer_load(gs, pki_key(pd), pki_pass(pd), &old, err, errlen);
	if (rc < 0 ||
	    certgen_check_ca_pair(pki->cacert, old, 0, err, errlen) < 0 ||
	    signer_retire(gs, ro->g, ro->pem, ro->pemlen, ro->up, 0, err, errlen) < 0) {
		EVP_PKEY_free(old);
		return -1;
	}
	EVP_PKEY_free(old);
	/* The new key: a file the main signer writes, or made on the token
	 * (its URI file written by the main signer in swap_finish). */
	if (signer_genkey_async(pki->signer, ro->kt, ro->uri != NULL ? ro->uri : cfg->key_file,
	                        ro->uri != NULL ? NULL : cfg->key_passphrase_file,
	                        swap_finish, ro, err, errlen) < 0) {
		char why[256];

		if (signer_retire(gs, ro->g, ro->pem, ro->pemlen, ro->up, 1, why,
		                  sizeof(why)) < 0)
			log_warnx("pki: rollover undo: %s (the old key is in %s)", why, ro->p.key);
		return -1;
	}
	/* The spare is taken (a second rollover finds none) until the end. */
	pki->spare = NULL;
	ro->gs = gs;
	ro->split = true;
	pki->signer_busy = true;
	ca_signer_watch(pd);
	return 0;
}

/* swap_finish failed after swap_split: the old key back in place (the
 * spare puts it there and is the spare again), the main signer keyed
 * with it. */
static void
undo_split(struct roll *ro)
{
	struct provd *pd = ro->req->pd;
	EVP_PKEY *back = NULL;
	char why[256];

	unlink(ro->p.link);
	if (signer_retire(ro->gs, ro->g, ro->pem, ro->pemlen, ro->up, 1, why, sizeof(why)) < 0 ||
	    signer_load(pd->pki->signer, pki_key(pd), pki_pass(pd), &back, why,
	                sizeof(why)) < 0)
		log_warnx("pki: rollover undo: %s (the old key is in %s)", why, ro->p.key);
	EVP_PKEY_free(back);
	pd->pki->spare = ro->gs;
	ro->gs = NULL;
}

/*
 * The files and the signers: the retired key moves to gen-N/ (its signer
 * re-loads it from there), the main signer makes the new key at
 * pki.key_file (or on the token) while the loop keeps serving, then
 * swap_finish self-signs the new CA certificate, which replaces
 * pki.cert_file.  On failure everything is put back as it was.
 * swap_start returns 0 (swap_finish will run) or -1 with err.
 */
static void swap_done(struct provd *pd, struct roll *ro, unsigned g, const struct gen_paths *p,
                      struct signer *gs, X509 *cert, char *clause, const char *dn);

static int
swap_start(struct roll *ro, char *err, size_t errlen)
{
	struct provd *pd = ro->req->pd;
	struct config *cfg = &pd->cfg;
	struct pki *pki = pd->pki;
	struct gen_paths *p = &ro->p;

	ro->g = (unsigned)pki->ngens + 1;
	ro->file_key = exists(cfg->key_file);
	ca_key_uri_path(cfg, ro->up, sizeof(ro->up));
	if (ro->g > GENS_MAX || gen_paths(cfg, ro->g, p) < 0) {
		snprintf(err, errlen, "no room for generation %u", ro->g);
		return -1;
	}
	if (gen_names(pd, ro->g, pki->cacert, &ro->clause, ro->dn, err, errlen) < 0)
		return -1;
	if (pki->spare != NULL || (cfg->signer_user != NULL && !owns_key_dir(cfg)))
		return swap_split(ro, err, errlen);
	if (mkdir(p->dir, 0700) < 0) {
		snprintf(err, errlen, "%.300s: %s", p->dir, strerror(errno));
		return -1;
	}
	if (ca_write_cert_file(p->cert, pki->cacert, err, errlen) < 0 ||
	    rename(ro->file_key ? cfg->key_file : ro->up, ro->file_key ? p->key : p->uri) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "moving the key: %s", strerror(errno));
		unlink(p->cert);
		rmdir(p->dir);
		return -1;
	}
	err[0] = '\0';
	if (gen_signer(pd, p, pki->cacert, false, 0, 0, ro->link ? 1 : 0, &ro->gs, err,
	               errlen) < 0 ||
	    signer_genkey_async(pki->signer, ro->kt, ro->uri != NULL ? ro->uri : cfg->key_file,
	                        ro->uri != NULL ? NULL : cfg->key_passphrase_file, swap_finish,
	                        ro, err, errlen) < 0) {
		signer_stop(ro->gs);
		ro->gs = NULL;
		undo_move(pd, p, ro->file_key);
		return -1;
	}
	/* Other signatures wait (refused with "try again") until the new
	 * key is there. */
	pki->signer_busy = true;
	ca_signer_watch(pd);
	return 0;
}

static void
swap_finish(void *ctx, int rc, EVP_PKEY *pub, const char *why)
{
	struct roll *ro = ctx;
	struct provd *pd = ro->req->pd;
	struct config *cfg = &pd->cfg;
	struct pki *pki = pd->pki;
	X509 *tbs = NULL, *cert = NULL;
	char err[512] = "";

	pki->signer_busy = false;
	if (rc < 0)
		snprintf(err, sizeof(err), "signer: %s", why);
	if (rc < 0 ||
	    certgen_ca(ro->subject, ro->days, pub, 0, &tbs, err, sizeof(err)) < 0 ||
	    signer_sign_cert(pki->signer, tbs, SIGNER_SELF_SIGNED, &cert, err, sizeof(err)) < 0 ||
	    (ro->uri != NULL && ca_write_key_uri(pd, ro->uri, err, sizeof(err)) < 0) ||
	    (ro->link && make_link(ro, &ro->p, ro->gs, pki->cacert, cert, err, sizeof(err)) < 0) ||
	    ca_write_cert_file(cfg->cert_file, cert, err, sizeof(err)) < 0) {
		EVP_PKEY_free(pub);
		X509_free(tbs);
		X509_free(cert);
		if (ro->split) {
			undo_split(ro);
			request_done(ro->req, ST_INTERNAL, "nothing changed: %s", err);
			roll_free(ro);
			return;
		}
		unlink(ro->p.link);
		signer_stop(ro->gs);
		ro->gs = NULL;
		if (ro->uri != NULL)
			unlink(ro->up);
		undo_move(pd, &ro->p, ro->file_key);
		/* cert_file is written last: it still holds the old certificate. */
		request_done(ro->req, ST_INTERNAL, "nothing changed: %s", err);
		roll_free(ro);
		return;
	}
	EVP_PKEY_free(pub);
	X509_free(tbs);
	snprintf(pki->key_uri, sizeof(pki->key_uri), "%s", ro->uri != NULL ? ro->uri : "");
	swap_done(pd, ro, ro->g, &ro->p, ro->gs, cert, ro->clause, ro->dn);
	ro->clause = NULL;
	ro->gs = NULL;
	if (ro->split)
		ca_spare_replenish(pd);    /* the next rollover's, without waiting */
	add_gen_entry(ro);
}

/* The rollover's files and signers are in place: generation g (its
 * signer gs, clause and dn taken) is retired and cert is the current CA. */
static void
swap_done(struct provd *pd, struct roll *ro, unsigned g, const struct gen_paths *p,
          struct signer *gs, X509 *cert, char *clause, const char *dn)
{
	struct pki *pki = pd->pki;

	gen_add(pd, g, p, pki->cacert, gs, clause, dn);
	ro->gi = pki->ngens - 1;
	pki->cacert = cert;
	if (set_current_clause(pd) < 0)
		log_warnx("pki: rollover: the new subject does not fit a filter");
	crl_forget_set(pd);
	ocsp_ca_changed(pd);
	log_info("pki: CA rolled over: generation %u retired to %s, new key %s", g, p->dir,
	         ro->uri != NULL ? ro->uri : pd->cfg.key_file);
}

static void
roll_published(void *ctx, int status, const char *msg)
{
	struct roll *ro = ctx;
	struct request *req = ro->req;
	const char *what = ro->resume ? "rollover resumed" : "CA rolled over";

	ca_record(req, req->pd->pki->cacert, crl_next_number(req->pd));
	rollover_show(req);
	if (ro->link_der != NULL) {
		struct gen_paths p;
		struct rec r;

		if (gen_paths(&req->pd->cfg, req->pd->pki->gens[ro->gi].number, &p) == 0) {
			rec_begin(&r, req);
			rec_kv(&r, "link_file", p.link);
			rec_kvf(&r, "link_from_generation", "%u", req->pd->pki->gens[ro->gi].number);
			rec_end(&r);
		}
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "generation=%zu revoked=%u "
	         "failed=%u reissued=%u resubmit=%u not_reissued=%u owed=%u%s",
	         req->pd->pki->ngens + 1, ro->revoked, ro->failed, ro->reissued, ro->resubmit,
	         ro->not_reissued, ro->owed, ro->resume ? " resumed" : "");
	if (status != ST_OK)
		request_done(req, status, "%s%s, but publishing failed: %s "
		             "(run 'provctl crl publish')", what, ro->note, msg);
	else
		request_done(req, ro->failed > 0 ? ST_PARTIAL : ST_OK, "%s%s; %s", what,
		             ro->note, msg);
	roll_free(ro);
}

/* One reply record for the certificate being handled. */
static void
roll_row(struct roll *ro, const char *status, const char *action, const char *new_serial,
         const char *detail)
{
	struct rec r;

	rec_begin(&r, ro->req);
	rec_kv(&r, "serial", ro->cur->serial);
	rec_kv(&r, "login", ro->cur->login);
	rec_kv(&r, "profile", ro->cur->profile);
	rec_kv(&r, "key", certrec_office_key(ro->cur) ? "office" : "csr");
	rec_kv(&r, "status", status);
	rec_kv(&r, "reason", reason_name(REASON_CA_COMPROMISE));
	rec_kv(&r, "action", action);
	rec_kv(&r, "new_serial", new_serial != NULL ? new_serial : "");
	rec_kv(&r, "detail", detail != NULL ? detail : "");
	rec_end(&r);
}

/* Progress on a terminal (provctl), and in the journal about once a
 * second, so a provd stopped halfway leaves how far it got. */
static void
roll_progress(struct roll *ro, bool force)
{
	uint64_t now = loop_now_ms();
	struct rec r;

	if (!ro->dry_run && (force || now - ro->last_audit >= AUDIT_PROGRESS_MS)) {
		char note[256];

		ro->last_audit = now;
		snprintf(note, sizeof(note), "done=%u total=%u revoked=%u failed=%u reissued=%u "
		         "resubmit=%u", ro->done, ro->total, ro->revoked, ro->failed, ro->reissued,
		         ro->resubmit);
		audit_progress(ro->req->pd->audit, ro->req, note,
		               "in progress: the certificates counted in the note are done");
	}
	if (!force && now - ro->last_progress < PROGRESS_MS)
		return;
	ro->last_progress = now;
	rec_begin_type(&r, ro->req, WIRE_PROGRESS);
	rec_kvf(&r, "done", "%u", ro->done);
	rec_kvf(&r, "total", "%u", ro->total);
	rec_end(&r);
}

static void revoke_next(struct roll *ro);

static void
step_done(struct roll *ro)
{
	ro->done++;
	roll_progress(ro, false);
	ro->cur = ro->cur->next;
	revoke_next(ro);
}

/* The revoked record's debt settled (cert_settle_owed): its successor
 * issued now, or found issued by a run that died before linking it. */
static void
reissued_one(void *ctx, int status, const char *msg, const char *serial, bool earlier)
{
	struct roll *ro = ctx;

	if (status == ST_OK) {
		ro->reissued++;
		roll_row(ro, "revoked", "re-issued", serial, earlier ? "issued by an earlier run, "
		         "its PKCS#12 then" : msg[0] != '\0' ? msg : "new key, PKCS#12 in --p12-dir");
	} else {
		ro->not_reissued++;
		log_warnx("pki: rollover: re-issuing %s to %s: %s", ro->cur->serial,
		          ro->cur->login, msg);
		roll_row(ro, "revoked", "re-issue failed", NULL, msg);
	}
	step_done(ro);
}

/* Revoked: re-issue the office's keys (with --p12-dir), list the rest. */
static void
revoked_one(void *ctx, int status, const char *msg)
{
	struct roll *ro = ctx;

	if (status != ST_OK) {
		ro->failed++;
		log_warnx("pki: rollover: revoking %s: %s", ro->cur->serial, msg);
		roll_row(ro, ro->cur->status, "revoke failed", NULL, msg);
		step_done(ro);
		return;
	}
	ro->revoked++;
	if (certrec_office_key(ro->cur) && ro->p12_dir) {
		cert_settle_owed(ro->req->pd, ro->req, ro->cur, reissued_one, ro);
		return;
	}
	if (certrec_office_key(ro->cur)) {
		ro->not_reissued++;
		roll_row(ro, "revoked", "re-issue", NULL, "the office's key: cert issue --generate");
	} else {
		ro->resubmit++;
		roll_row(ro, "revoked", "resubmit", NULL, "the holder sends a new CSR");
	}
	step_done(ro);
}

/*
 * Each certificate of the retired generation revoked (cACompromise) and
 * then, for the office's keys with --p12-dir, re-issued: revoked owing
 * its successor in the same modify, the debt settled by cert_settle_owed,
 * so that a run killed in between leaves the debt for --resume to find.
 */
static void
revoke_next(struct roll *ro)
{
	struct provd *pd = ro->req->pd;

	if (ro->cur != NULL && certrec_owes_successor(ro->cur)) {
		ro->owed++;
		if (ro->p12_dir) {
			cert_settle_owed(pd, ro->req, ro->cur, reissued_one, ro);
			return;
		}
		ro->not_reissued++;
		roll_row(ro, "revoked", "re-issue", NULL, "owed a successor: --resume --p12-dir");
		step_done(ro);
		return;
	}
	if (ro->cur != NULL && certrec_office_key(ro->cur) && ro->p12_dir) {
		certrec_revoke_owing(pd, ro->cur, REASON_CA_COMPROMISE, CERTREC_OWE_SUCCESSOR,
		                     revoked_one, ro);
		return;
	}
	if (ro->cur != NULL) {
		certrec_change(pd, ro->cur, CERT_STATE_REVOKED, REASON_CA_COMPROMISE, 0, NULL,
		               revoked_one, ro);
		return;
	}
	roll_progress(ro, true);
	snprintf(ro->note, sizeof(ro->note), "; %u certificates of generation %u revoked "
	         "(cACompromise), %u failed, %u revoked before and owed a successor; %u "
	         "re-issued with a new key, %u to re-issue by hand, %u to resubmit a CSR",
	         ro->revoked, ro->req->pd->pki->gens[ro->gi].number, ro->failed, ro->owed,
	         ro->reissued, ro->not_reissued, ro->resubmit);
	crl_rebuild(ro->req->pd, roll_published, ro);
}

static unsigned
list_len(const struct certrec *c)
{
	unsigned n = 0;

	for (; c != NULL; c = c->next)
		n++;
	return n;
}

static void
revoke_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct roll *ro = ctx;

	if (status != ST_OK) {
		certrec_free(list);
		snprintf(ro->note, sizeof(ro->note), ", but its certificates could not be read "
		         "for --revoke-all: %.100s (run the rollover's revocations by hand: "
		         "cert list, cert revoke --reason cACompromise)", msg);
		ro->failed++;
		crl_rebuild(ro->req->pd, roll_published, ro);
		return;
	}
	ro->list = ro->cur = list;
	ro->total = list_len(list);
	roll_progress(ro, true);
	revoke_next(ro);
}

/* The valid and held records of the CA with this filter clause; with
 * owed, also those revoked owing a successor. */
static void
find_live(struct provd *pd, const char *clause, bool with_owed, certrec_found_fn *done,
          void *ctx)
{
	char filter[ROLLOVER_CLAUSE_MAX + 240];

	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")%s"
	         "(|(" AT_CERT_STATUS "=valid)(" AT_CERT_STATUS "=hold)%s))", clause,
	         with_owed ? CERT_OWED_CLAUSE : "");
	certrec_find(pd, filter, done, ctx);
}

static void
after_entries(struct roll *ro)
{
	struct provd *pd = ro->req->pd;

	if (!ro->revoke_all) {
		crl_rebuild(pd, roll_published, ro);
		return;
	}
	find_live(pd, pd->pki->gens[ro->gi].clause, true, revoke_found, ro);
}

/* --dry-run: what the rollover would do to each certificate; nothing
 * changes (no key is made, nothing is revoked). */
static void
preview_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct roll *ro = ctx;
	struct request *req = ro->req;

	if (status != ST_OK) {
		certrec_free(list);
		request_done(req, status, "dry run: the certificates could not be read: %s", msg);
		roll_free(ro);
		return;
	}
	ro->list = list;
	for (ro->cur = list; ro->cur != NULL; ro->cur = ro->cur->next) {
		const char *action;

		ro->total++;
		if (certrec_owes_successor(ro->cur)) {
			action = ro->p12_dir ? "re-issue (owed)" : "re-issue by hand (owed)";
			if (ro->p12_dir)
				ro->reissued++;
			else
				ro->not_reissued++;
		} else if (certrec_office_key(ro->cur) && ro->p12_dir) {
			action = "revoke, re-issue";
			ro->reissued++;
		} else if (certrec_office_key(ro->cur)) {
			action = "revoke, re-issue by hand";
			ro->not_reissued++;
		} else {
			action = "revoke, resubmit";
			ro->resubmit++;
		}
		roll_row(ro, ro->cur->status, action, NULL, NULL);
	}
	if (ro->resume)
		request_done(req, ST_OK, "dry run, nothing changed: no new CA; %u certificates of "
		             "generation %u to revoke (cACompromise) or re-issue: %u re-issued with "
		             "a new key, %u to re-issue by hand, %u to resubmit a CSR", ro->total,
		             req->pd->pki->gens[ro->gi].number, ro->reissued, ro->not_reissued,
		             ro->resubmit);
	else if (!ro->revoke_all)
		request_done(req, ST_OK, "dry run, nothing changed: a new CA %s would be made and "
		             "the current one retired as generation %zu; its certificates stay "
		             "valid", ro->subject, req->pd->pki->ngens + 1);
	else
		request_done(req, ST_OK, "dry run, nothing changed: a new CA %s would be made and the "
	             "current one retired as generation %zu; %u certificates of it revoked "
	             "(cACompromise): %u re-issued with a new key, %u to re-issue by hand, "
		             "%u to resubmit a CSR", ro->subject, req->pd->pki->ngens + 1,
		             ro->total, ro->reissued, ro->not_reissued, ro->resubmit);
	roll_free(ro);
}

static void
on_link_published(void *arg, const struct dir_result *res)
{
	struct roll *ro = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS)
		log_warnx("pki: rollover: the link certificate is not in the directory "
		          "(it is in its file): %s", dir_result_str(res, why, sizeof(why)));
	after_entries(ro);
}

/* --link: crossCertificatePair;binary on the new CA's entry, with the link
 * as its forward (issuedToThisCA) element: SEQUENCE { [0] Certificate }
 * (RFC 4523, X.509 §11.2.3). */
static void
publish_link(struct roll *ro)
{
	struct provd *pd = ro->req->pd;
	struct der_buf b;
	struct dir_mods *m;

	der_buf_init(&b);
	der_put_header(&b, DER_SEQUENCE, der_header_len(ro->link_len) + ro->link_len);
	der_put_header(&b, DER_CONTEXT0_CONS, ro->link_len);
	der_put(&b, ro->link_der, ro->link_len);
	if (b.failed)
		fatalx("rollover: out of memory");
	m = dir_mods_new();
	dir_mods_add_bin(m, LDAP_MOD_ADD, AT_CROSS_CERT_PAIR, b.p, b.len);
	dir_modify(pd->dir, pd->cfg.ca_dn, dir_mods_get(m), NULL, on_link_published, ro);
	dir_mods_free(m);
	der_buf_free(&b);
}

static void
on_main_entry(void *arg, const struct dir_result *res)
{
	struct roll *ro = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS)
		log_warnx("pki: rollover: the CA entry keeps the old certificate: %s",
		          dir_result_str(res, why, sizeof(why)));
	if (ro->link_der != NULL)
		publish_link(ro);
	else
		after_entries(ro);
}

static void
set_main_cert(struct roll *ro)
{
	struct provd *pd = ro->req->pd;

	ca_entry_write(pd, pd->cfg.ca_dn, NULL, pd->pki->cacert, 0, on_main_entry, ro);
}

static void
on_gen_entry(void *arg, const struct dir_result *res)
{
	struct roll *ro = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS)
		log_warnx("pki: rollover: the retired CA's entry: %s",
		          dir_result_str(res, why, sizeof(why)));
	set_main_cert(ro);
}

/* An entry of that name exists (a directory restored from before an
 * earlier rollover): it gets this certificate; its CRL number is kept. */
static void
on_gen_added(void *arg, const struct dir_result *res)
{
	struct roll *ro = arg;
	struct provd *pd = ro->req->pd;
	struct ca_gen *g = &pd->pki->gens[ro->gi];

	if (res->code != LDAP_ALREADY_EXISTS) {
		on_gen_entry(arg, res);
		return;
	}
	ca_entry_write(pd, g->dn, NULL, g->cert, 0, on_gen_entry, ro);
}

/* cn=<ca_name>-gen-N: the retired certificate, and its CRL counter taken
 * over from the last CRL the old key signed on the CA entry. */
static void
add_gen_entry(struct roll *ro)
{
	struct provd *pd = ro->req->pd;
	struct ca_gen *g = &pd->pki->gens[ro->gi];
	char rdn[128];

	snprintf(rdn, sizeof(rdn), "%.100s-gen-%u", pd->cfg.ca_name, g->number);
	g->crl_last = crl_last_number(pd);
	ca_entry_write(pd, g->dn, rdn, g->cert, g->crl_last, on_gen_added, ro);
}

/* The old key's last CRL on the CA entry is out (so crl_last_number is
 * the number its own counter continues from): swap. */
static void
old_crl_done(void *ctx, int status, const char *msg)
{
	struct roll *ro = ctx;
	struct request *req = ro->req;
	char err[512] = "";

	if (status != ST_OK) {
		request_done(req, status, "nothing changed: the old CA's CRL could not be "
		             "published first: %s", msg);
		roll_free(ro);
		return;
	}
	if (swap_start(ro, err, sizeof(err)) < 0) {
		request_done(req, ST_INTERNAL, "nothing changed: %s", err);
		roll_free(ro);
		return;
	}
}

/*
 * --resume --revoke-all: the revoke-all step of the last rollover again,
 * no new CA: what a killed run left valid or held is revoked, what it
 * revoked owing a successor is settled (cert_settle_owed).  As often as
 * needed; a run with nothing left to do issues nothing.  With --dry-run,
 * what it would do.
 */
static void
rollover_resume(struct request *req)
{
	struct provd *pd = req->pd;
	struct roll *ro;

	if (!cmd_flag(&req->args, "revoke-all") || cmd_arg(&req->args, "subject") != NULL ||
	    cmd_arg(&req->args, "key") != NULL || cmd_arg(&req->args, "days") != NULL ||
	    cmd_arg(&req->args, "pkcs11") != NULL || cmd_flag(&req->args, "link")) {
		request_done(req, ST_USAGE, "--resume goes with --revoke-all [--p12-dir DIR] "
		             "only: it makes no new CA");
		return;
	}
	if (pd->pki->ngens == 0) {
		request_done(req, ST_NOTFOUND, "--resume: no CA has been rolled over");
		return;
	}
	ro = xcalloc(1, sizeof(*ro));
	ro->req = req;
	ro->resume = ro->revoke_all = true;
	ro->p12_dir = cmd_flag(&req->args, "p12-dir");
	ro->gi = pd->pki->ngens - 1;
	ro->dry_run = cmd_flag(&req->args, "dry-run");
	if (ro->dry_run)
		find_live(pd, pd->pki->gens[ro->gi].clause, true, preview_found, ro);
	else
		after_entries(ro);
}

void
ca_rollover(struct request *req)
{
	struct provd *pd = req->pd;
	const char *subject = cmd_arg(&req->args, "subject");
	const char *uri = cmd_arg(&req->args, "pkcs11");
	char err[512], name[NAME_MAX_LEN], other[NAME_MAX_LEN];
	enum keyfile_type kt;
	unsigned days;
	X509_NAME *n = NULL;
	struct roll *ro;
	size_t i;

	if (!ca_ready(pd)) {
		request_done(req, ST_NOTFOUND, "no CA yet: 'provctl ca create' makes the first");
		return;
	}
	if (pd->pki->signer_busy) {
		request_done(req, ST_CONFLICT, "a CA key is being generated already");
		return;
	}
	if (cmd_flag(&req->args, "resume")) {
		rollover_resume(req);
		return;
	}
	if (!ca_key_args(req, &kt, &days))
		return;
	if (uri != NULL && !ca_pkcs11_arg_ok(req, uri))
		return;
	/* A record's generation is its issuer name: names never repeat.  The
	 * subject is parsed before any key is made. */
	if (dn_parse(subject, &n, err, sizeof(err)) < 0 ||
	    X509_NAME_get_index_by_NID(n, NID_commonName, -1) < 0) {
		X509_NAME_free(n);
		request_done(req, ST_INVALID, "--subject: %s", n ? "a CN is required" : err);
		return;
	}
	name_str(n, name);
	X509_NAME_free(n);
	name_str(X509_get_subject_name(pd->pki->cacert), other);
	for (i = 0; strcasecmp(name, other) != 0 && i < pd->pki->ngens; i++)
		name_str(X509_get_subject_name(pd->pki->gens[i].cert), other);
	if (strcasecmp(name, other) == 0) {
		request_done(req, ST_CONFLICT, "--subject: %s is already a CA generation's "
		             "name; the new CA needs its own (e.g. add 'G2' to the CN)", name);
		return;
	}
	ro = xcalloc(1, sizeof(*ro));
	ro->req = req;
	ro->subject = xstrdup(subject);
	ro->uri = uri != NULL ? xstrdup(uri) : NULL;
	ro->kt = kt;
	ro->days = days;
	ro->revoke_all = cmd_flag(&req->args, "revoke-all");
	ro->dry_run = cmd_flag(&req->args, "dry-run");
	ro->link = cmd_flag(&req->args, "link");
	ro->p12_dir = cmd_flag(&req->args, "p12-dir");
	if (ro->p12_dir && !ro->revoke_all) {
		request_done(req, ST_USAGE, "--p12-dir goes with --revoke-all");
		roll_free(ro);
		return;
	}
	if (ro->dry_run) {
		char *clause = issuer_clause(pd->pki->cacert, (unsigned)pd->pki->ngens + 1);

		if (clause == NULL) {
			request_done(req, ST_INTERNAL, "the current CA's subject does not fit a filter");
			roll_free(ro);
			return;
		}
		if (ro->revoke_all)
			find_live(pd, clause, false, preview_found, ro);
		else
			preview_found(ro, ST_OK, "", NULL);
		free(clause);
		return;
	}
	crl_rebuild(pd, old_crl_done, ro);
}
