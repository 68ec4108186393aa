/* status — ping, status and shell completion. */
#include "status.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "control.h"
#include "dir.h"
#include "ldapesc.h"
#include "schema.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
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

/* status: three counting searches run at once; each has its own counter
 * that points back to the shared context. */
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

static void
status_finish(struct status_ctx *s)
{
	struct request *req = s->req;
	struct provd *pd = req->pd;
	struct rec r;
	time_t up = time(NULL) - pd->started;
	char wbuf[1600];

	rec_begin(&r, req);
	rec_kv(&r, "version", PROVD_VERSION);
	rec_kvf(&r, "uptime_s", "%lld", (long long)up);
	rec_kv(&r, "ldap", dir_connected(pd->dir) ? "connected" : "disconnected");
	rec_kv(&r, "ldap_uri", dir_uri(pd->dir));
	rec_kvf(&r, "ldap_reconnects", "%lu", dir_reconnects(pd->dir));
	rec_kvf(&r, "ldap_outstanding", "%zu", dir_outstanding(pd->dir));
	rec_kv(&r, "ldap_writes", writer_describe(pd->writer, wbuf, sizeof(wbuf)));
	if (!pd->last_check.done)
		rec_kv(&r, "conflicts", "not checked yet");
	else
		rec_kvf(&r, "conflicts", "%ld (checked %lld s ago)%s%s", pd->last_check.found,
		        (long long)(time(NULL) - pd->last_check.when),
		        pd->last_check.found ? "; first: " : "", pd->last_check.first);
	rec_kvf(&r, "units", "%zu", units_count(pd->units));
	rec_kv(&r, "audit_journal", audit_health(pd->audit));
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
	s->pending = 3;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", noattrs, 0, NULL,
	           count_entry, count_done, &s->people);
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           SCHEMA_FILTER_LOCKED, noattrs, 0, NULL,
	           count_entry, count_done, &s->disabled);
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
