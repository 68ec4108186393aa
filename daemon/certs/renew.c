/* renew — cert renew and the sweep of due supersessions.  See renew.h. */
#include "renew.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "cert.h"
#include "certrec.h"
#include "fieldtype.h"
#include "config.h"
#include "crl.h"
#include "dir.h"
#include "escrow.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "schema.h"
#include "units.h"
#include "xmalloc.h"

#include "ca.h"

/* ---- superseding: one record, and the sweep ------------------------- */

typedef void supersede_done_fn(void *ctx, int status, const char *msg);

/* Revoke rec (borrowed until done) as superseded; the CRL is the caller's. */
static void
supersede(struct provd *pd, struct certrec *rec, supersede_done_fn *done, void *ctx)
{
	certrec_change(pd, rec, CERT_STATE_REVOKED, REASON_SUPERSEDED, 0, NULL, done, ctx);
}

struct sweep {
	struct provd   *pd;
	struct certrec *list, *cur;
	size_t          revoked, failed;
};

static struct timer *sweep_timer;
static bool          sweep_running;

static void sweep_next(struct sweep *sw);
static void sweep_tick(void *arg);

static void
sweep_finish(struct sweep *sw)
{
	struct provd *pd = sw->pd;

	certrec_free(sw->list);
	free(sw);
	sweep_running = false;
	if (!pd->stopping)
		sweep_timer = loop_timer(pd->loop, (uint64_t)pd->cfg.supersede_sweep * 1000,
		                         sweep_tick, pd);
}

static void
sweep_published(void *ctx, int status, const char *msg)
{
	struct sweep *sw = ctx;

	if (status != ST_OK)
		log_warnx("renewal: %zu certificates revoked as superseded, but the CRL was not "
		          "published: %s", sw->revoked, msg);
	else
		log_info("renewal: %zu certificates revoked as superseded%s", sw->revoked,
		         sw->failed ? " (some failed, see above)" : "");
	sweep_finish(sw);
}

static void
sweep_changed(void *ctx, int status, const char *msg)
{
	struct sweep *sw = ctx;

	if (status == ST_OK)
		sw->revoked++;
	else {
		sw->failed++;
		log_warnx("renewal: %s (renewed by %s) not revoked as superseded: %s",
		          sw->cur->serial, sw->cur->renewed_by, msg);
	}
	sw->cur = sw->cur->next;
	sweep_next(sw);
}

static void
sweep_next(struct sweep *sw)
{
	if (sw->cur != NULL) {
		supersede(sw->pd, sw->cur, sweep_changed, sw);
		return;
	}
	if (sw->revoked > 0)
		crl_publish(sw->pd, sweep_published, sw);
	else
		sweep_finish(sw);
}

static void
sweep_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct sweep *sw = ctx;

	if (status != ST_OK)
		log_warnx("renewal: cannot look for due supersessions: %s", msg);
	sw->list = sw->cur = list;
	sweep_next(sw);
}

/* Every record whose supersession time has come and that is not revoked. */
static void
sweep_run(struct provd *pd)
{
	struct sweep *sw;
	char filter[256], now[32];

	if (sweep_running || pd->stopping || !ca_ready(pd))
		return;
	sweep_running = true;
	sw = xcalloc(1, sizeof(*sw));
	sw->pd = pd;
	pkitime_format_ldap(time(NULL), now);
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(|(" AT_CERT_STATUS
	         "=valid)(" AT_CERT_STATUS "=hold))(" AT_CERT_SUPERSEDE "<=%s))", now);
	certrec_find(pd, filter, sweep_found, sw);
}

static void
sweep_tick(void *arg)
{
	struct provd *pd = arg;

	sweep_timer = NULL;
	if (ca_ready(pd)) {
		sweep_run(pd);
		if (sweep_running)
			return;
	}
	if (!pd->stopping)
		sweep_timer = loop_timer(pd->loop, (uint64_t)pd->cfg.supersede_sweep * 1000,
		                         sweep_tick, pd);
}

void
renew_start_timer(struct provd *pd)
{
	if (sweep_timer == NULL && !sweep_running)
		sweep_timer = loop_timer(pd->loop, 1000, sweep_tick, pd);
}

/* ---- cert renew ------------------------------------------------------- */

struct renew {
	struct request *req;
	bool            bulk, dry_run;
	bool            p12_dir;     /* --p12-dir: the office's keys are replaced */
	struct certrec *list, *cur;  /* the predecessors */
	size_t          total, done, renewed, skipped, failed, superseded;
	char            successor[SERIAL_HEX_MAX + 1];
	char            due[32];     /* the predecessor's supersession time */
	char            result[512]; /* one renewal's outcome (single) */
	int             status;
	uint64_t        last_progress;
};

static void renew_next(struct renew *rn);

static void
renew_free(struct renew *rn)
{
	certrec_free(rn->list);
	free(rn);
}

static void
renew_progress(struct renew *rn, bool force)
{
	uint64_t now = loop_now_ms();
	struct rec r;

	if (!rn->bulk || (!force && now - rn->last_progress < 500))
		return;
	rn->last_progress = now;
	rec_begin_type(&r, rn->req, WIRE_PROGRESS);
	rec_kvf(&r, "done", "%zu", rn->done);
	rec_kvf(&r, "total", "%zu", rn->total);
	rec_end(&r);
}

/* One bulk row: the predecessor, what happened, the successor. */
static void
renew_row(struct renew *rn, const char *action, const char *detail)
{
	const struct certrec *c = rn->cur;
	struct rec r;

	rec_begin(&r, rn->req);
	rec_kv(&r, "serial", c->serial);
	rec_kv(&r, "login", c->login);
	rec_kv(&r, "profile", c->profile);
	rec_kv(&r, "not_after", c->not_after);
	rec_kv(&r, "action", action);
	rec_kv(&r, "successor", rn->successor);
	rec_kv(&r, "detail", detail);
	rec_end(&r);
}

/* One certificate is over: the single reply, or the next of the bulk. */
static void
renew_one_done(struct renew *rn, int status, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
renew_one_done(struct renew *rn, int status, const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rn->result, sizeof(rn->result), fmt, ap);
	va_end(ap);
	if (!rn->bulk) {
		snprintf(rn->req->audit_note, sizeof(rn->req->audit_note), "serial=%s successor=%s",
		         rn->cur->serial, rn->successor);
		request_done(rn->req, status, "%s", rn->result);
		renew_free(rn);
		return;
	}
	if (status == ST_OK)
		rn->renewed += strcmp(action, "renewed") == 0 || strcmp(action, "would renew") == 0;
	else if (strcmp(action, "skipped") == 0 || strcmp(action, "resubmit") == 0)
		rn->skipped++;
	else
		rn->failed++;
	renew_row(rn, action, rn->result);
	rn->done++;
	renew_progress(rn, false);
	rn->cur = rn->cur->next;
	renew_next(rn);
}

static void
renew_superseded(void *ctx, int status, const char *msg)
{
	struct renew *rn = ctx;

	if (status != ST_OK) {
		renew_one_done(rn, ST_PARTIAL, "failed", "%s renewed by %s, but not revoked yet (%s): "
		               "the sweep revokes it as superseded", rn->cur->serial, rn->successor,
		               msg);
		return;
	}
	rn->superseded++;
	renew_one_done(rn, ST_OK, "renewed", "%s renewed by %s; %s revoked (superseded)",
	               rn->cur->serial, rn->successor, rn->cur->serial);
}

static void
renew_published(void *ctx, int status, const char *msg)
{
	struct renew *rn = ctx;

	if (status != ST_OK)
		renew_one_done(rn, ST_PARTIAL, "failed", "%s renewed by %s and revoked (superseded), "
		               "but the CRL was not published: %s (run 'provctl crl publish')",
		               rn->cur->serial, rn->successor, msg);
	else
		renew_one_done(rn, ST_OK, "renewed", "%s renewed by %s; %s revoked (superseded)",
		               rn->cur->serial, rn->successor, rn->cur->serial);
}

static void
renew_single_superseded(void *ctx, int status, const char *msg)
{
	struct renew *rn = ctx;

	if (status != ST_OK) {
		renew_superseded(rn, status, msg);
		return;
	}
	crl_publish(rn->req->pd, renew_published, rn);
}

/* The predecessor now names its successor and its supersession time. */
static void
renew_linked(void *arg, const struct dir_result *res)
{
	struct renew *rn = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		renew_one_done(rn, schema_status_of_ldap(res->code), "failed", "successor %s issued, "
		               "but %s does not name it (%s): revoke %s with cert revoke --reason "
		               "superseded", rn->successor, rn->cur->serial,
		               dir_result_str(res, why, sizeof(why)), rn->cur->serial);
		return;
	}
	if (rn->req->pd->cfg.renew_overlap == 0) {
		/* The bulk publishes one CRL at its end. */
		supersede(rn->req->pd, rn->cur, rn->bulk ? renew_superseded :
		          renew_single_superseded, rn);
		return;
	}
	renew_one_done(rn, ST_OK, "renewed", "%s renewed by %s; %s stays valid until %s, then "
	               "is revoked (superseded)", rn->cur->serial, rn->successor, rn->cur->serial,
	               rn->due);
}

static void
renew_issued(void *ctx, int status, const char *msg, const char *serial)
{
	struct renew *rn = ctx;
	struct provd *pd = rn->req->pd;
	struct dir_mods *m;
	char dn[512];

	if (status != ST_OK) {
		renew_one_done(rn, status, "failed", "%s not renewed: %s", rn->cur->serial, msg);
		return;
	}
	snprintf(rn->successor, sizeof(rn->successor), "%s", serial);
	pkitime_format_ldap(time(NULL) + (time_t)pd->cfg.renew_overlap, rn->due);
	if (ldapesc_rdn_dn(AT_CERT_SERIAL, rn->cur->serial, pd->cfg.certs_dn, dn, sizeof(dn)) < 0) {
		renew_one_done(rn, ST_INTERNAL, "failed", "successor %s issued, but %s cannot be "
		               "named: revoke it with cert revoke --reason superseded", serial,
		               rn->cur->serial);
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_RENEWED_BY, serial);
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_SUPERSEDE, rn->due);
	dir_modify(pd->dir, dn, dir_mods_get(m), NULL, renew_linked, rn);
	dir_mods_free(m);
}

/* The predecessor's own key, certified again. */
static void
renew_reuse_key(struct renew *rn)
{
	const struct certrec *c = rn->cur;
	const unsigned char *p = c->der;
	X509 *x = c->der ? d2i_X509(NULL, &p, (long)c->derlen) : NULL;
	EVP_PKEY *pub = x ? X509_get_pubkey(x) : NULL;

	X509_free(x);
	if (pub == NULL) {
		renew_one_done(rn, ST_INTERNAL, "failed", "%s: the recorded certificate is "
		               "unreadable", c->serial);
		return;
	}
	if (rn->dry_run) {
		EVP_PKEY_free(pub);
		renew_one_done(rn, ST_OK, "would renew", "same key, profile %s", c->profile);
		return;
	}
	cert_issue_successor(rn->req, c->login, c->profile, c->serial, pub, !rn->bulk,
	                     renew_issued, rn);
}

/* A key the office made and escrowed is never certified again. */
static void
renew_escrow_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct renew *rn = arg;

	(void)ld;
	(void)e;
	rn->status = ST_CONFLICT;
}

static void
renew_escrow_checked(void *arg, const struct dir_result *res)
{
	struct renew *rn = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		renew_one_done(rn, schema_status_of_ldap(res->code), "failed", "directory: %s",
		               dir_result_str(res, why, sizeof(why)));
		return;
	}
	if (rn->status == ST_CONFLICT) {
		renew_one_done(rn, ST_CONFLICT, "skipped", "%s: the office made this key and keeps "
		               "an escrow copy; renew with a new key (--generate --p12 FILE, or "
		               "in bulk --p12-dir DIR)", rn->cur->serial);
		return;
	}
	renew_reuse_key(rn);
}

/* Renew rn->cur: the checks every renewal makes, then the key. */
static void
renew_one(struct renew *rn)
{
	struct request *req = rn->req;
	struct provd *pd = req->pd;
	const struct certrec *c = rn->cur;
	const struct profile *p = profile_find(pd->pki->profiles, c->profile);
	static const char *const noattrs[] = { "1.1", NULL };
	char filter[256];

	rn->successor[0] = '\0';
	rn->status = ST_OK;
	if (c->state != CERT_STATE_VALID) {
		renew_one_done(rn, ST_CONFLICT, "skipped", "%s is %s: only a valid certificate is "
		               "renewed", c->serial, c->status);
		return;
	}
	if (c->renewed_by[0] != '\0') {
		renew_one_done(rn, ST_CONFLICT, "skipped", "%s is already renewed by %s", c->serial,
		               c->renewed_by);
		return;
	}
	if (p == NULL) {
		renew_one_done(rn, ST_NOTFOUND, "skipped", "%s: its profile '%s' is no longer "
		               "configured", c->serial, c->profile);
		return;
	}
	if (rn->p12_dir && certrec_office_key(c)) {
		/* a new key from the office, its PKCS#12 to provctl's --p12-dir */
		if (rn->dry_run) {
			renew_one_done(rn, ST_OK, "would renew", "new key, PKCS#12 in --p12-dir, "
			               "profile %s", c->profile);
			return;
		}
		cert_reissue_successor(req, c->login, c->profile, c->serial, certrec_new_key_type(c),
		                       renew_issued, rn);
		return;
	}
	if (cmd_arg(&req->args, "csr") != NULL || cmd_flag(&req->args, "generate")) {
		if (rn->dry_run) {
			renew_one_done(rn, ST_OK, "would renew", "new key, profile %s", c->profile);
			return;
		}
		cert_issue_successor(req, c->login, c->profile, c->serial, NULL, true,
		                     renew_issued, rn);
		return;
	}
	if (!p->renew_key_reuse) {
		if (rn->bulk && !certrec_office_key(c))
			renew_one_done(rn, ST_CONFLICT, "resubmit", "%s: profile %s does not certify a "
			               "key again: the holder sends a new CSR (cert renew %s --csr "
			               "FILE)", c->serial, c->profile, c->serial);
		else
			renew_one_done(rn, ST_CONFLICT, "skipped", "%s: profile %s does not certify a "
			               "key again (renew_key_reuse); renew with --csr FILE or "
			               "--generate%s", c->serial, c->profile,
			               rn->bulk ? " (or in bulk with --p12-dir DIR)" : "");
		return;
	}
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_SERIAL
	         "=%s)(" AT_KEY_ESCROW "=*))", c->serial);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, noattrs, 1, NULL,
	           renew_escrow_entry, renew_escrow_checked, rn);
}

static void
renew_bulk_published(void *ctx, int status, const char *msg)
{
	struct renew *rn = ctx;
	struct request *req = rn->req;

	renew_progress(rn, true);
	snprintf(req->audit_note, sizeof(req->audit_note), "renewed=%zu skipped=%zu failed=%zu",
	         rn->renewed, rn->skipped, rn->failed);
	if (status != ST_OK)
		request_done(req, status, "%zu renewed, %zu skipped, %zu failed; the CRL was not "
		             "published: %s (run 'provctl crl publish')", rn->renewed, rn->skipped,
		             rn->failed, msg);
	else
		request_done(req, rn->failed ? ST_PARTIAL : ST_OK, "%zu %s, %zu skipped, %zu failed",
		             rn->renewed, rn->dry_run ? "would be renewed" : "renewed", rn->skipped,
		             rn->failed);
	renew_free(rn);
}

static void
renew_next(struct renew *rn)
{
	struct request *req = rn->req;

	for (; rn->cur != NULL; rn->cur = rn->cur->next) {
		if (request_may(req, req->spec->roles, rn->cur->unit)) {
			renew_one(rn);
			return;
		}
		/* Outside the caller's units: left as it is, not listed. */
		rn->total--;
	}
	if (rn->superseded > 0)
		crl_publish(req->pd, renew_bulk_published, rn);
	else
		renew_bulk_published(rn, ST_OK, "");
}

static void
renew_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct renew *rn = ctx;
	struct request *req = rn->req;
	const struct certrec *c;

	rn->list = rn->cur = list;
	if (status != ST_OK) {
		request_done(req, status, "directory: %s", msg);
		renew_free(rn);
		return;
	}
	if (rn->bulk) {
		for (c = list; c != NULL; c = c->next)
			rn->total++;
		renew_progress(rn, true);
		renew_next(rn);
		return;
	}
	if (list == NULL) {
		request_done(req, ST_NOTFOUND, "no certificate with serial %.64s",
		             req->args.operand[0]);
		renew_free(rn);
		return;
	}
	if (!request_may(req, req->spec->roles, list->unit)) {
		char what[256];

		snprintf(what, sizeof(what), "certificate %s of %s (unit %s)", list->serial,
		         list->login, list->unit[0] ? list->unit : "none");
		request_refuse(req, req->spec->roles, what);
		renew_free(rn);
		return;
	}
	renew_one(rn);
}

/* --expiring-within DURATION [--unit CODE [--recursive]]: the filter. */
static int
renew_bulk_filter(struct request *req, char *filter, size_t len)
{
	const struct cmd_args *a = &req->args;
	const char *within = cmd_arg(a, "expiring-within"), *unit = cmd_arg(a, "unit");
	unsigned long secs;
	char now[32], until[32];
	size_t off;

	if (fieldtype_parse_duration(within, &secs) < 0) {
		request_done(req, ST_USAGE, "--expiring-within: a duration such as 30d (or 30), "
		             "12h");
		return -1;
	}
	if (unit != NULL && units_find(req->pd->units, unit) == NULL) {
		request_done(req, ST_NOTFOUND, "unit: no unit '%.64s'", unit);
		return -1;
	}
	pkitime_format_ldap(time(NULL), now);
	pkitime_format_ldap(time(NULL) + (time_t)secs, until);
	off = (size_t)snprintf(filter, len, "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_STATUS
	                       "=valid)(" AT_CERT_NOT_AFTER ">=%s)(" AT_CERT_NOT_AFTER "<=%s)"
	                       "(!(" AT_CERT_RENEWED_BY "=*))", now, until);
	if (unit != NULL)
		off += certrec_unit_filter(req->pd->units, unit, cmd_flag(a, "recursive"),
		                           filter + off, len - off);
	if (off + 2 >= len) {
		request_done(req, ST_USAGE, "filter too long");
		return -1;
	}
	strcat(filter, ")");
	return 0;
}

void
cert_renew(struct request *req)
{
	const struct cmd_args *a = &req->args;
	bool bulk = cmd_arg(a, "expiring-within") != NULL;
	char filter[16384], hex[SERIAL_HEX_MAX + 1];
	struct renew *rn;

	if (!cert_need_ca(req))
		return;
	if (bulk == (a->operand[0] != NULL)) {
		request_done(req, ST_USAGE, "cert renew needs a SERIAL, or --expiring-within "
		             "DURATION for every certificate expiring that soon");
		return;
	}
	if (bulk && (cmd_arg(a, "csr") != NULL || cmd_flag(a, "generate"))) {
		request_done(req, ST_USAGE, "--csr and --generate renew one certificate (a SERIAL); "
		             "--expiring-within certifies each key again");
		return;
	}
	if (!bulk && (cmd_arg(a, "unit") != NULL || cmd_flag(a, "recursive") ||
	              cmd_flag(a, "p12-dir"))) {
		request_done(req, ST_USAGE, "--unit, --recursive and --p12-dir go with "
		             "--expiring-within");
		return;
	}
	if (cmd_arg(a, "csr") != NULL && cmd_flag(a, "generate")) {
		request_done(req, ST_USAGE, "--csr FILE or --generate, not both");
		return;
	}
	if (bulk) {
		if (renew_bulk_filter(req, filter, sizeof(filter)) < 0)
			return;
	} else if (certrec_serial_filter(req, a->operand[0], filter, sizeof(filter), hex) < 0) {
		return;
	}
	rn = xcalloc(1, sizeof(*rn));
	rn->req = req;
	rn->bulk = bulk;
	rn->dry_run = cmd_flag(a, "dry-run");
	rn->p12_dir = cmd_flag(a, "p12-dir");
	certrec_find(req->pd, filter, renew_found, rn);
}
