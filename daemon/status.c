/* status — ping, status and shell completion. */
#include "status.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "ca.h"
#include "control.h"
#include "dir.h"
#include "ldapesc.h"
#include "schema.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "strset.h"
#include "text.h"
#include "units.h"
#include "workpool.h"
#include "writer.h"
#include "xmalloc.h"

void
status_ping(struct request *req)
{
	reply_kv(req, "reply", "pong", "version", PROVD_VERSION, NULL);
	request_done(req, ST_OK, "pong");
}

/* ---- counts kept current ----------------------------------------------
 *
 * `status` must not count 100,000 entries each time.  The number of
 * accounts and of certificates is counted once when the directory comes
 * up and every COUNT_REFRESH_MS after that (what other writers did: the
 * other site's provd, ldapadd), and between counts it follows every add
 * and delete the directory confirms to provd (dir_on_write): an entry
 * right below people_dn or certs_dn.  A count that ran while provd itself
 * wrote is not taken over the followed numbers (it may or may not have
 * seen those writes); another count follows shortly.  Disabled accounts
 * (locked for ever) are kept as the set of their DNs, read by the same
 * counts and followed through every confirmed write that sets or clears
 * the lock (disable, enable, expiry, delete, the reorganisation, batches:
 * each writes through dir_modify), so `status` searches nothing. */
#define COUNT_REFRESH_MS  600000u
#define COUNT_RETRY_MS    2000u
#define DISABLED_MAX      2000000u  /* DNs of disabled accounts followed */

static struct counts {
	bool               known;       /* a count has finished */
	bool               running;
	unsigned long      accounts, certs;
	unsigned long      writes;      /* adds and deletes followed, ever */
	unsigned long      writes_at_start;
	unsigned long      n_accounts, n_certs;  /* the running count's */
	struct strset     *disabled, *n_disabled; /* DNs, lower case */
	int                pending, failed;
	struct timer      *timer;
	struct provd      *pd;
} counts;

static void count_schedule(struct provd *pd, unsigned ms);

/* The parent of dn is parent (both as provd writes them). */
static bool
right_below(const char *dn, const char *parent)
{
	const char *comma = strchr(dn, ',');

	/* An escaped comma in the RDN: provd's logins and serials have none. */
	return comma != NULL && comma > dn && comma[-1] != '\\' &&
	       strcasecmp(comma + 1, parent) == 0;
}

/* Does this write leave the entry locked for ever (1), not locked (0), or
 * not touch the lock (-1)?  The last modification of the lock decides. */
static int
lock_after(enum dir_wrote what, LDAPMod *const *mods)
{
	int state = what == DIR_WROTE_ADD ? 0 : -1;
	size_t i, k;

	for (i = 0; mods != NULL && mods[i] != NULL; i++) {
		const LDAPMod *m = mods[i];
		int op = m->mod_op & ~LDAP_MOD_BVALUES;
		bool forever = false, any = false;

		if (strcasecmp(m->mod_type, AT_LOCKED_TIME) != 0)
			continue;
		for (k = 0; m->mod_bvalues != NULL && m->mod_bvalues[k] != NULL; k++) {
			const struct berval *v = m->mod_bvalues[k];

			any = true;
			forever |= v->bv_len == strlen(SCHEMA_LOCKED_FOREVER) &&
			           memcmp(v->bv_val, SCHEMA_LOCKED_FOREVER, v->bv_len) == 0;
		}
		/* The attribute is single-valued: a delete leaves none. */
		if (op == LDAP_MOD_DELETE)
			state = 0;
		else if (op == LDAP_MOD_ADD || op == LDAP_MOD_REPLACE)
			state = any && forever ? 1 : 0;
	}
	return state;
}

/* A disabled account comes or goes: the set follows it. */
static void
follow_lock(enum dir_wrote what, const char *dn, LDAPMod *const *mods)
{
	char key[1024];
	int state = what == DIR_WROTE_DELETE ? 0 : lock_after(what, mods);

	if (state < 0 || strlen(dn) >= sizeof(key))
		return;
	text_lower_ascii(key, sizeof(key), dn);
	if (state == 1 && !strset_has(counts.disabled, key)) {
		if (strset_add(counts.disabled, key) < 0)
			log_warnx("status: too many disabled accounts to follow");
		counts.writes++;
	} else if (state == 0 && strset_has(counts.disabled, key)) {
		strset_del(counts.disabled, key);
		counts.writes++;
	}
}

static void
on_write(void *ctx, enum dir_wrote what, const char *dn, LDAPMod *const *mods)
{
	struct provd *pd = ctx;
	unsigned long *n;

	if (right_below(dn, pd->cfg.people_dn))
		follow_lock(what, dn, mods);
	if (what == DIR_WROTE_MODIFY)
		return;
	if (right_below(dn, pd->cfg.people_dn))
		n = &counts.accounts;
	else if (pd->cfg.certs_dn != NULL && right_below(dn, pd->cfg.certs_dn))
		n = &counts.certs;
	else
		return;
	counts.writes++;
	if (what == DIR_WROTE_ADD)
		(*n)++;
	else if (*n > 0)
		(*n)--;
}

static void
recount_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	(void)ld;
	(void)e;
	(*(unsigned long *)arg)++;
}

/* A disabled account, as the count found it. */
static void
recount_disabled(void *arg, LDAP *ld, LDAPMessage *e)
{
	char *dn = dir_entry_dn(ld, e), key[1024];

	(void)arg;
	if (dn != NULL && strlen(dn) < sizeof(key) &&
	    strset_add(counts.n_disabled, text_lower_ascii(key, sizeof(key), dn)) < 0)
		log_warnx("status: too many disabled accounts to follow");
	free(dn);
}

static void
recount_done(void *arg, const struct dir_result *res)
{
	(void)arg;
	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		counts.failed = 1;
	if (--counts.pending > 0)
		return;
	counts.running = false;
	if (counts.failed) {
		count_schedule(counts.pd, COUNT_RETRY_MS);
		return;
	}
	if (!counts.known || counts.writes == counts.writes_at_start) {
		struct strset *old = counts.disabled;

		counts.accounts = counts.n_accounts;
		counts.certs = counts.n_certs;
		counts.disabled = counts.n_disabled;
		counts.n_disabled = old;
		counts.known = true;
	}
	strset_free(counts.n_disabled);
	counts.n_disabled = NULL;
	count_schedule(counts.pd, counts.writes == counts.writes_at_start ?
	               COUNT_REFRESH_MS : COUNT_RETRY_MS);
}

static void
recount(void *arg)
{
	static const char *const noattrs[] = { LDAP_NO_ATTRS, NULL };
	struct provd *pd = arg;

	counts.timer = NULL;
	if (counts.running || !dir_connected(pd->dir))
		return;
	counts.running = true;
	counts.failed = 0;
	counts.pending = 3;
	counts.n_accounts = counts.n_certs = 0;
	strset_free(counts.n_disabled);
	counts.n_disabled = strset_new(DISABLED_MAX);
	counts.writes_at_start = counts.writes;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, SCHEMA_FILTER_LOCKED,
	           noattrs, 0, NULL, recount_disabled, recount_done, NULL);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", noattrs, 0, NULL,
	           recount_entry, recount_done, &counts.n_accounts);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")", noattrs, 0, NULL,
	           recount_entry, recount_done, &counts.n_certs);
}

static void
count_schedule(struct provd *pd, unsigned ms)
{
	if (counts.timer != NULL)
		loop_timer_cancel(pd->loop, counts.timer);
	counts.timer = loop_timer(pd->loop, ms, recount, pd);
}

void
status_counts_start(struct provd *pd)
{
	counts.pd = pd;
	counts.disabled = strset_new(DISABLED_MAX);
	if (dir_on_write(pd->dir, on_write, pd) < 0)
		fatalx("status: too many directory write observers");
}

void
status_counts_refresh(struct provd *pd)
{
	count_schedule(pd, 0);
}

void
status_counts_stop(struct provd *pd)
{
	if (counts.timer != NULL)
		loop_timer_cancel(pd->loop, counts.timer);
	counts.timer = NULL;
	strset_free(counts.disabled);
	strset_free(counts.n_disabled);
	counts.disabled = counts.n_disabled = NULL;
}

/* status: counting searches run at once until the first count has
 * finished (none after it); each has its own counter that points back to
 * the shared context. */
struct status_ctx;
struct counter {
	struct status_ctx *s;
	unsigned long      n;
};

struct status_ctx {
	struct request *req;
	struct counter  people, disabled, certs;
	int             pending;
	int             failed;
};

static void
count_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct counter *c = arg;

	(void)ld;
	(void)e;
	c->n++;
}

/* The loop's turns since start: the longest (wall and CPU time) and how
 * many took at most 1, 2, 5 ... ms of CPU ("more": longer than the last
 * bound), so a caller comparing two answers sees the turns in between. */
static void
status_loop_turns(struct rec *r, const struct loop *l)
{
	struct loop_turns t;
	char buf[256];
	size_t off = 0;
	unsigned b;

	loop_turns(l, &t);
	rec_kvf(r, "loop_turns", "%llu", (unsigned long long)t.n);
	rec_kvf(r, "loop_turn_max_ms", "%.1f", (double)t.max_wall_us / 1000.0);
	rec_kvf(r, "loop_turn_max_cpu_ms", "%.1f", (double)t.max_cpu_us / 1000.0);
	for (b = 0; b < LOOP_TURN_BUCKETS; b++) {
		int n;

		if (b < LOOP_TURN_BUCKETS - 1)
			n = snprintf(buf + off, sizeof(buf) - off, "%s%ums:%llu", b ? " " : "",
			             (unsigned)(loop_turn_bounds_us[b] / 1000u),
			             (unsigned long long)t.by_cpu[b]);
		else
			n = snprintf(buf + off, sizeof(buf) - off, " more:%llu",
			             (unsigned long long)t.by_cpu[b]);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	rec_kv(r, "loop_turns_cpu", buf);
}

static void
status_finish(struct status_ctx *s)
{
	struct request *req = s->req;
	struct provd *pd = req->pd;
	struct rec r;
	time_t up = time(NULL) - pd->started;
	char wbuf[1600], sbuf[512];

	rec_begin(&r, req);
	rec_kv(&r, "version", PROVD_VERSION);
	rec_kvf(&r, "uptime_s", "%lld", (long long)up);
	rec_kv(&r, "ldap", dir_connected(pd->dir) ? "connected" : "disconnected");
	rec_kv(&r, "ldap_uri", dir_uri(pd->dir));
	rec_kvf(&r, "ldap_reconnects", "%lu", dir_reconnects(pd->dir));
	rec_kvf(&r, "ldap_outstanding", "%zu", dir_outstanding(pd->dir));
	/* how often reading answers stopped at LOOP_SLICE_US, and how often a
	 * long job gave the loop back (loop_yield) */
	rec_kvf(&r, "ldap_read_slices", "%lu", dir_read_slices(pd->dir));
	rec_kvf(&r, "loop_yields", "%llu", (unsigned long long)loop_yields(pd->loop));
	status_loop_turns(&r, pd->loop);
	rec_kv(&r, "ldap_writes", writer_describe(pd->writer, wbuf, sizeof(wbuf)));
	if (!pd->last_check.done)
		rec_kv(&r, "conflicts", "not checked yet");
	else
		rec_kvf(&r, "conflicts", "%ld (checked %lld s ago)%s%s", pd->last_check.found,
		        (long long)(time(NULL) - pd->last_check.when),
		        pd->last_check.found ? "; first: " : "", pd->last_check.first);
	rec_kvf(&r, "units", "%zu", units_count(pd->units));
	rec_kv(&r, "audit_journal", audit_health(pd->audit));
	ca_signer_health(pd, sbuf, sizeof(sbuf));
	rec_kv(&r, "signer", sbuf);
	if (counts.known) {
		s->people.n = counts.accounts;
		s->disabled.n = strset_count(counts.disabled);
		s->certs.n = counts.certs;
	}
	if (!s->failed) {
		rec_kvf(&r, "accounts", "%lu", s->people.n);
		rec_kvf(&r, "accounts_disabled", "%lu", s->disabled.n);
		rec_kvf(&r, "certificates", "%lu", s->certs.n);
	}
	rec_kvf(&r, "clients", "%zu", control_clients(pd->control));
	rec_kvf(&r, "requests", "%lu", pd->requests);
	rec_kvf(&r, "hash_jobs", "%zu", workpool_pending(pd->hashers));
	rec_end(&r);
	request_done(req, ST_OK, "%s",
	             s->failed ? "directory unavailable; counts omitted" : "ok");
	free(s);
}

static void
count_done(void *arg, const struct dir_result *res)
{
	struct counter *c = arg;
	struct status_ctx *s = c->s;

	/* noSuchObject (no PKI subtree yet) counts as zero. */
	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		s->failed = 1;
	if (--s->pending == 0)
		status_finish(s);
}

void
status_show(struct request *req)
{
	static const char *const noattrs[] = { LDAP_NO_ATTRS, NULL };
	struct provd *pd = req->pd;
	struct status_ctx *s = xcalloc(1, sizeof(*s));

	s->req = req;
	s->people.s = s->disabled.s = s->certs.s = s;
	if (counts.known) {
		status_finish(s);
		return;
	}
	s->pending = 3;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           SCHEMA_FILTER_LOCKED, noattrs, 0, NULL,
	           count_entry, count_done, &s->disabled);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", noattrs, 0, NULL,
	           count_entry, count_done, &s->people);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")", noattrs, 0, NULL,
	           count_entry, count_done, &s->certs);
}

/* complete WHAT [PREFIX]: candidates for shell completion.  WHAT is
 * "units" (from the cache) or "logins" (a bounded directory search). */
struct complete_ctx {
	struct request *req;
};

static void
complete_login(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct request *req = arg;
	char *uid = dir_entry_get(ld, e, AT_UID);

	if (uid != NULL)
		reply_kv(req, "value", uid, NULL);
	free(uid);
}

static void
complete_login_done(void *arg, const struct dir_result *res)
{
	struct request *req = arg;

	/* Hitting the size limit still gives useful candidates. */
	if (res->code == LDAP_SUCCESS || res->code == LDAP_SIZELIMIT_EXCEEDED)
		request_done(req, ST_OK, "ok");
	else
		request_done(req, ST_UNAVAILABLE, "directory unavailable");
}

void
status_complete(struct request *req)
{
	static const char *const attrs[] = { AT_UID, NULL };
	const char *what = req->args.operand[0];
	const char *prefix = req->args.noperands > 1 ? req->args.operand[1] : "";
	struct provd *pd = req->pd;
	char esc[256], filter[300];
	size_t i, n = strlen(prefix);

	if (strcmp(what, "units") == 0) {
		for (i = 0; i < units_count(pd->units); i++) {
			const struct unit *u = units_at(pd->units, i);

			if (strncmp(u->code, prefix, n) == 0)
				reply_kv(req, "value", u->code, NULL);
		}
		request_done(req, ST_OK, "ok");
		return;
	}
	if (strcmp(what, "logins") == 0) {
		if (n > 64 || ldapesc_filter(prefix, esc, sizeof(esc)) < 0) {
			request_done(req, ST_USAGE, "prefix too long");
			return;
		}
		snprintf(filter, sizeof(filter), "(" AT_UID "=%s*)", esc);
		dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
		           attrs, 100, NULL, complete_login, complete_login_done, req);
		return;
	}
	request_done(req, ST_USAGE, "complete: WHAT is 'units' or 'logins'");
}
