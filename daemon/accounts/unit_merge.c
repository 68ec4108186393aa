/* unit_merge — unit merge and unit remove. See unit_merge.h. */
#include "unit_merge.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "dir.h"
#include "ldapesc.h"
#include "log.h"
#include "provd.h"
#include "request.h"
#include "schema.h"
#include "text.h"
#include "units.h"
#include "vec.h"
#include "xmalloc.h"

/* Accounts moved at a time: each is a modify and then its certificates. */
#define MERGE_WINDOW 16

struct merge_acct {
	char dn[ACCOUNT_DN_MAX];
	char login[NAMES_LOGIN_BUFSZ];
	char unit[UNIT_CODE_MAX];
};

struct merge {
	struct request    *req;
	struct units      *units;      /* snapshot, referenced */
	const struct unit *into;       /* in units */
	const char        *src[CMD_MAX_OPERANDS];   /* existing sources (operands) */
	size_t             nsrc, already;
	bool               dry_run, remove;
	struct merge_acct *acct;
	size_t             nacct, cap;
	size_t             next, inflight, moved, failed, certs;
	size_t             step;       /* children re-parented / sources deleted */
	char               err[300];
};

static void merge_pump(struct merge *m);
static void merge_children(struct merge *m);

static void
merge_free(struct merge *m)
{
	units_unref(m->units);
	free(m->acct);
	free(m);
}

static const char *
quoted(const char *s, char *buf, size_t len)
{
	text_sanitize(s, strnlen(s, 64), buf, len);
	return buf;
}

static bool
is_source(const struct merge *m, const char *code)
{
	size_t i;

	for (i = 0; i < m->nsrc; i++)
		if (strcmp(m->src[i], code) == 0)
			return true;
	return false;
}

static void
merge_error(struct merge *m, const struct dir_result *res, const char *what)
{
	char why[256];

	if (m->err[0] == '\0')
		snprintf(m->err, sizeof(m->err), "%s: %s", what,
		         dir_result_str(res, why, sizeof(why)));
}

/* ---- the accounts of the sources ---------------------------------------- */

static void
acct_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct merge *m = arg;
	struct merge_acct *a;
	char *dn = dir_entry_dn(ld, e);

	if (dn == NULL)
		return;
	m->acct = vec_grow(m->acct, &m->cap, m->nacct + 1, sizeof(*m->acct));
	a = &m->acct[m->nacct++];
	memset(a, 0, sizeof(*a));
	snprintf(a->dn, sizeof(a->dn), "%s", dn);
	dir_entry_copy(ld, e, AT_UID, a->login, sizeof(a->login));
	dir_entry_copy(ld, e, AT_UNIT, a->unit, sizeof(a->unit));
	free(dn);
}

/* The filter for the accounts of the sources: codes are [a-z0-9-]
 * (units_code_valid), escaped all the same. */
static int
sources_filter(const struct merge *m, char *out, size_t outsz)
{
	size_t i, off;
	int k;

	k = snprintf(out, outsz, "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")(|");
	if (k < 0 || (size_t)k >= outsz)
		return -1;
	off = (size_t)k;
	for (i = 0; i < m->nsrc; i++) {
		char esc[3 * UNIT_CODE_MAX + 1];

		if (ldapesc_filter(m->src[i], esc, sizeof(esc)) < 0)
			return -1;
		k = snprintf(out + off, outsz - off, "(" AT_UNIT "=%s)", esc);
		if (k < 0 || (size_t)k >= outsz - off)
			return -1;
		off += (size_t)k;
	}
	k = snprintf(out + off, outsz - off, "))");
	return k < 0 || (size_t)k >= outsz - off ? -1 : 0;
}

static size_t
children_of(const struct merge *m, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < units_count(m->units); i++)
		if (strcmp(units_at(m->units, i)->parent, code) == 0)
			n++;
	return n;
}

static void
merge_preview(struct merge *m)
{
	struct request *req = m->req;
	size_t i, j, total = 0;

	for (i = 0; i < m->nsrc; i++) {
		size_t n = 0;

		for (j = 0; j < m->nacct; j++)
			if (strcmp(m->acct[j].unit, m->src[i]) == 0)
				n++;
		total += n;
		if (m->remove) {
			reply_kv(req, "unit", m->src[i], "would", "be removed", NULL);
			continue;
		}
		{
			char accts[24], kids[24];

			snprintf(accts, sizeof(accts), "%zu", n);
			snprintf(kids, sizeof(kids), "%zu", children_of(m, m->src[i]));
			reply_kv(req, "unit", m->src[i], "into", m->into->code, "accounts", accts,
			         "sub_units", kids, "address_kept", "yes", NULL);
		}
	}
	request_done(req, ST_OK, "dry run, nothing changed: %zu account%s would move; their "
	             "certificates would be revoked (affiliationChanged)", total,
	             total == 1 ? "" : "s");
	merge_free(m);
}

/* ---- 2. move the accounts ------------------------------------------------ */

struct moved {
	struct merge *m;
	char          login[NAMES_LOGIN_BUFSZ];
};

static void
moved_certs(void *arg, int status, const char *summary)
{
	struct moved *mv = arg;
	struct merge *m = mv->m;

	if (status != ST_OK) {
		m->failed++;
		if (m->err[0] == '\0')
			snprintf(m->err, sizeof(m->err), "certificates of %s: %s", mv->login,
			         summary);
	} else if (strncmp(summary, "no certificate", 14) != 0) {
		/* The holders: their certificates named the old unit. */
		m->certs++;
		reply_kv(m->req, "login", mv->login, "unit", m->into->code,
		         "certificates", summary, NULL);
	}
	free(mv);
	m->inflight--;
	merge_pump(m);
}

static void
acct_written(void *arg, const struct dir_result *res)
{
	struct moved *mv = arg;
	struct merge *m = mv->m;

	if (res->code != LDAP_SUCCESS) {
		m->failed++;
		merge_error(m, res, mv->login);
		free(mv);
		m->inflight--;
		merge_pump(m);
		return;
	}
	m->moved++;
	lifecycle_certs(m->req->pd, mv->login, LIFECYCLE_MOVE, moved_certs, mv);
}

static void
merge_pump(struct merge *m)
{
	const struct unit *c = m->into;

	while (m->inflight < MERGE_WINDOW && m->next < m->nacct) {
		struct merge_acct *a = &m->acct[m->next++];
		struct dir_mods *mods;
		struct moved *mv;

		if (!names_login_valid(a->login)) {
			m->failed++;
			continue;
		}
		mv = xcalloc(1, sizeof(*mv));
		mv->m = m;
		snprintf(mv->login, sizeof(mv->login), "%s", a->login);
		mods = dir_mods_new();
		dir_mods_add1(mods, LDAP_MOD_REPLACE, AT_UNIT, c->code);
		dir_mods_add1(mods, LDAP_MOD_REPLACE, AT_OU, c->name ? c->name : c->code);
		m->inflight++;
		dir_modify(m->req->pd->dir, a->dn, dir_mods_get(mods), NULL, acct_written, mv);
		dir_mods_free(mods);
	}
	if (m->inflight > 0 || m->next < m->nacct)
		return;
	if (m->failed > 0) {
		request_done(m->req, ST_PARTIAL, "unit merge into %s: %zu of %zu accounts "
		             "moved, %zu failed (%s); the merged units stay until every account "
		             "has moved: run the command again", m->into->code, m->moved,
		             m->nacct, m->failed, m->err);
		merge_free(m);
		return;
	}
	m->step = 0;
	merge_children(m);
}

static void
accounts_found(void *arg, const struct dir_result *res)
{
	struct merge *m = arg;
	char why[256];

	if (res->code != LDAP_SUCCESS) {
		request_done(m->req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		merge_free(m);
		return;
	}
	if (m->remove && m->nacct > 0) {
			request_done(m->req, ST_CONFLICT, "unit remove: %s still has %zu "
			             "account%s (any status; move them first, or merge the unit "
			             "into another)", m->src[0], m->nacct, m->nacct == 1 ? "" : "s");
			merge_free(m);
			return;
	}
	if (m->dry_run) {
		merge_preview(m);
		return;
	}
	if (m->remove) {
		m->step = 0;
		merge_children(m);   /* none: straight to the delete */
		return;
	}
	merge_pump(m);
}

static void
find_accounts(struct merge *m)
{
	static const char *const attrs[] = { AT_UID, AT_UNIT, NULL };
	char filter[64 + CMD_MAX_OPERANDS * (3 * UNIT_CODE_MAX + 24)];

	if (sources_filter(m, filter, sizeof(filter)) < 0) {
		request_done(m->req, ST_INTERNAL, "unit merge: cannot form the filter");
		merge_free(m);
		return;
	}
	dir_search(m->req->pd->dir, m->req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, acct_entry, accounts_found, m);
}

/* ---- 1. the aliases on C --------------------------------------------------- */

static void
aliases_written(void *arg, const struct dir_result *res)
{
	struct merge *m = arg;
	char why[256];

	if (res->code != LDAP_SUCCESS) {
		request_done(m->req, schema_status_of_ldap(res->code), "unit merge: keeping "
		             "the addresses on %s: %s", m->into->code,
		             dir_result_str(res, why, sizeof(why)));
		merge_free(m);
		return;
	}
	find_accounts(m);
}

static void
add_alias(const char **v, size_t *n, size_t cap, const char *code)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], code) == 0)
			return;
	if (*n < cap)
		v[(*n)++] = code;
}

static void
write_aliases(struct merge *m)
{
	/* C's own, each source and what each source kept. */
	size_t cap = 1, n = 0, i, j;
	const char **v;
	struct dir_mods *mods;
	char dn[512];

	for (i = 0; m->into->aliases != NULL && m->into->aliases[i] != NULL; i++)
		cap++;
	for (i = 0; i < m->nsrc; i++) {
		const struct unit *s = units_find(m->units, m->src[i]);

		cap++;
		for (j = 0; s->aliases != NULL && s->aliases[j] != NULL; j++)
			cap++;
	}
	v = xcalloc(cap + 1, sizeof(*v));
	for (i = 0; m->into->aliases != NULL && m->into->aliases[i] != NULL; i++)
		add_alias(v, &n, cap, m->into->aliases[i]);
	for (i = 0; i < m->nsrc; i++) {
		const struct unit *s = units_find(m->units, m->src[i]);

		add_alias(v, &n, cap, s->code);
		for (j = 0; s->aliases != NULL && s->aliases[j] != NULL; j++)
			add_alias(v, &n, cap, s->aliases[j]);
	}
	v[n] = NULL;
	if (ldapesc_rdn_dn(AT_OU, m->into->code, m->req->pd->cfg.units_dn, dn, sizeof(dn)) < 0) {
		free(v);
		request_done(m->req, ST_INTERNAL, "unit merge: cannot form the DN");
		merge_free(m);
		return;
	}
	mods = dir_mods_new();
	dir_mods_add(mods, LDAP_MOD_REPLACE, AT_UNIT_ALIAS, v);
	free(v);
	dir_modify(m->req->pd->dir, dn, dir_mods_get(mods), NULL, aliases_written, m);
	dir_mods_free(mods);
}

/* ---- 3. sub-units, 4. the sources' entries -------------------------------- */

static void merge_delete(struct merge *m);

static void
child_written(void *arg, const struct dir_result *res)
{
	struct merge *m = arg;

	if (res->code != LDAP_SUCCESS) {
		m->failed++;
		merge_error(m, res, "re-parenting a sub-unit");
	}
	m->step++;
	merge_children(m);
}

static void
merge_children(struct merge *m)
{
	for (; m->step < units_count(m->units); m->step++) {
		const struct unit *u = units_at(m->units, m->step);
		struct dir_mods *mods;
		char dn[512];

		if (m->remove || u->parent[0] == '\0' || !is_source(m, u->parent) ||
		    is_source(m, u->code))
			continue;
		if (ldapesc_rdn_dn(AT_OU, u->code, m->req->pd->cfg.units_dn, dn, sizeof(dn)) < 0) {
			m->failed++;
			continue;
		}
		mods = dir_mods_new();
		dir_mods_add1(mods, LDAP_MOD_REPLACE, AT_UNIT_PARENT, m->into->code);
		dir_modify(m->req->pd->dir, dn, dir_mods_get(mods), NULL, child_written, m);
		dir_mods_free(mods);
		return;
	}
	if (m->failed > 0) {
		request_done(m->req, ST_PARTIAL, "unit merge into %s: accounts moved, but %zu "
		             "sub-unit%s kept the old parent (%s): run the command again",
		             m->into->code, m->failed, m->failed == 1 ? "" : "s", m->err);
		merge_free(m);
		return;
	}
	m->step = 0;
	merge_delete(m);
}

static void
reloaded(void *arg, bool ok)
{
	struct merge *m = arg;
	struct request *req = m->req;

	if (!ok)
		log_warnx("unit: written, but the unit cache could not be reloaded");
	if (m->failed > 0)
		request_done(req, ST_PARTIAL, "unit %s: %zu unit entr%s not removed (%s): run "
		             "the command again", m->remove ? "remove" : "merge", m->failed,
		             m->failed == 1 ? "y" : "ies", m->err);
	else if (m->remove)
		request_done(req, ST_OK, "unit %s removed", m->src[0]);
	else
		request_done(req, ST_OK, "%zu unit%s merged into %s%s: %zu account%s moved, %zu "
		             "with certificates revoked (affiliationChanged); the old unit "
		             "addresses reach %s", m->nsrc, m->nsrc == 1 ? "" : "s",
		             m->into->code, m->already ? " (some by an earlier run)" : "",
		             m->moved, m->moved == 1 ? "" : "s", m->certs, m->into->code);
	merge_free(m);
}

static void
source_deleted(void *arg, const struct dir_result *res)
{
	struct merge *m = arg;

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		m->failed++;
		merge_error(m, res, m->src[m->step]);
	}
	m->step++;
	merge_delete(m);
}

static void
merge_delete(struct merge *m)
{
	char dn[512];

	while (m->step < m->nsrc) {
		if (ldapesc_rdn_dn(AT_OU, m->src[m->step], m->req->pd->cfg.units_dn, dn,
		                   sizeof(dn)) == 0) {
			dir_delete(m->req->pd->dir, dn, NULL, source_deleted, m);
			return;
		}
		m->failed++;
		m->step++;
	}
	units_reload(m->req->pd, reloaded, m);
}

/* ---- the commands ---------------------------------------------------------- */

static struct merge *
merge_new(struct request *req)
{
	struct merge *m;

	if (!units_loaded(req->pd->units)) {
		request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->req = req;
	m->units = units_ref(req->pd->units);
	m->dry_run = cmd_flag(&req->args, "dry-run");
	return m;
}

void
unit_merge(struct request *req)
{
	const char *into = cmd_arg(&req->args, "into");
	struct merge *m;
	size_t i, j, off = 0;
	char q[80];

	if ((m = merge_new(req)) == NULL)
		return;
	if ((m->into = units_find(m->units, into)) == NULL) {
		request_done(req, ST_NOTFOUND, "into: no unit '%s'", quoted(into, q, sizeof(q)));
		merge_free(m);
		return;
	}
	for (i = 0; i < req->args.noperands; i++) {
		const char *code = req->args.operand[i];
		const struct unit *s = units_find(m->units, code);

		for (j = 0; j < i; j++)
			if (strcmp(req->args.operand[j], code) == 0)
				break;
		if (j < i)
			continue;
		if (strcmp(code, m->into->code) == 0) {
			request_done(req, ST_CONFLICT, "unit merge: %s is both merged and kept "
			             "(the --into unit)", code);
			merge_free(m);
			return;
		}
		if (s == NULL) {
			if (units_has_alias(m->into, code)) {
				m->already++;      /* merged by an earlier run */
				continue;
			}
			request_done(req, ST_NOTFOUND, "unit merge: no unit '%s'",
			             quoted(code, q, sizeof(q)));
			merge_free(m);
			return;
		}
		if (units_within(m->units, m->into->code, s->code)) {
			request_done(req, ST_CONFLICT, "unit merge: %s is below %s; merge it "
			             "into a unit outside it", m->into->code, s->code);
			merge_free(m);
			return;
		}
		if (!request_may(req, req->spec->roles, s->code)) {
			char what[96];

			snprintf(what, sizeof(what), "unit %s", s->code);
			request_refuse(req, req->spec->roles, what);
			merge_free(m);
			return;
		}
		m->src[m->nsrc++] = s->code;
	}
	for (i = 0; i < m->nsrc; i++) {
		int k = snprintf(req->audit_note + off, sizeof(req->audit_note) - off, "%s%s",
		                 i ? "," : "unit=", m->src[i]);

		if (k > 0 && (size_t)k < sizeof(req->audit_note) - off)
			off += (size_t)k;
	}
	if (off + 1 < sizeof(req->audit_note))
		snprintf(req->audit_note + off, sizeof(req->audit_note) - off, " into=%s",
		         m->into->code);
	if (m->nsrc == 0) {
		request_done(req, ST_OK, "nothing to merge: every unit named is already merged "
		             "into %s", m->into->code);
		merge_free(m);
		return;
	}
	if (m->dry_run)
		find_accounts(m);
	else
		write_aliases(m);
}

void
unit_remove(struct request *req)
{
	const struct unit *u;
	struct merge *m;
	size_t kids;
	char q[80];

	if ((m = merge_new(req)) == NULL)
		return;
	if ((u = units_find(m->units, req->args.operand[0])) == NULL) {
		request_done(req, ST_NOTFOUND, "unit: no unit '%s'",
		             quoted(req->args.operand[0], q, sizeof(q)));
		merge_free(m);
		return;
	}
	m->remove = true;
	m->src[m->nsrc++] = u->code;
	snprintf(req->audit_note, sizeof(req->audit_note), "unit=%s", u->code);
	if ((kids = children_of(m, u->code)) > 0) {
		request_done(req, ST_CONFLICT, "unit remove: %s still has %zu sub-unit%s "
		             "(re-parent them with unit modify --parent, or merge the unit)",
		             u->code, kids, kids == 1 ? "" : "s");
		merge_free(m);
		return;
	}
	if (u->aliases != NULL && u->aliases[0] != NULL) {
		request_done(req, ST_CONFLICT, "unit remove: %s keeps the addresses of units "
		             "merged into it (%s...); merge it into another unit instead", u->code,
		             u->aliases[0]);
		merge_free(m);
		return;
	}
	find_accounts(m);
}
