/* unit — unit list and show, from the cached unit table; unit add and
 * modify, written to the directory. */
#include "unit.h"

#include <ldap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include "account.h"
#include "address.h"
#include "dir.h"
#include "fields.h"
#include "ldapesc.h"
#include "log.h"
#include "provd.h"
#include "request.h"
#include "text.h"
#include "units.h"
#include "xmalloc.h"

static void
unit_record(struct request *req, const struct unit *u)
{
	const struct unit *p = u->parent[0] ? units_find(req->pd->units, u->parent) : NULL;
	char path[1024];
	struct rec r;

	rec_begin(&r, req);
	rec_kv(&r, "code", u->code);
	rec_kv(&r, "name", u->name ? u->name : "");
	rec_kv(&r, "kind", u->kind);
	rec_kv(&r, "parent", u->parent);
	rec_kv(&r, "parent_name", p && p->name ? p->name : "");
	rec_kv(&r, "path", units_path(req->pd->units, u->code, path, sizeof(path)));
	rec_end(&r);
}

static bool
need_units(struct request *req)
{
	if (units_loaded(req->pd->units))
		return true;
	request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
	return false;
}

/* Client input quoted in a message: at most 64 bytes, no control bytes. */
static const char *
quoted(const char *s, char *buf, size_t len)
{
	text_sanitize(s, strnlen(s, 64), buf, len);
	return buf;
}

void
unit_list(struct request *req)
{
	const struct units *us = req->pd->units;
	const char *kind = cmd_arg(&req->args, "kind");   /* checked by cmd_parse */
	size_t i, n = 0;

	if (!need_units(req))
		return;
	for (i = 0; i < units_count(us); i++) {
		const struct unit *u = units_at(us, i);

		if (kind != NULL && strcmp(u->kind, kind) != 0)
			continue;
		unit_record(req, u);
		n++;
	}
	request_done(req, ST_OK, "%zu unit%s", n, n == 1 ? "" : "s");
}

void
unit_show(struct request *req)
{
	const struct unit *u;

	if (!need_units(req))
		return;
	if ((u = units_find(req->pd->units, req->args.operand[0])) == NULL) {
		char q[80];

		request_done(req, ST_NOTFOUND, "unit: no unit '%s'",
		             quoted(req->args.operand[0], q, sizeof(q)));
		return;
	}
	unit_record(req, u);
	request_done(req, ST_OK, "ok");
}

/* ---- unit add / unit modify -------------------------------------------- *
 * Units live at ou=<code>,ou=units,<base> (objectClass organizationalUnit +
 * provdUnit; description = the name, provdUnitKind, provdUnitParent).  Each
 * change is one LDAP write, then the unit cache is reloaded before the
 * reply, so the next command sees the change.  A rename also rewrites the
 * unit name kept in each of the unit's accounts (`ou`, see account.ldif). */

struct unit_change {
	struct request  *req;
	char             code[UNIT_CODE_MAX];
	char             name[FIELD_TITLE_MAX + 1];   /* "" = unchanged */
	char             dn[512];
	bool             renamed;
	unsigned long    accounts, account_errors;
	size_t           pending;
	/* unit add: the entry to write once its address is known to be free */
	struct dir_mods *mods;
	char             claim[UNIT_CODE_MAX + FIELD_MAIL_MAX + 2];   /* "@code@domain" */
	char             holder[NAMES_LOGIN_BUFSZ];
};

static void
unit_change_free(struct unit_change *c)
{
	if (c->claim[0] != '\0')
		address_unclaim(c->claim);
	dir_mods_free(c->mods);
	free(c);
}

static void
unit_change_reply(struct unit_change *c)
{
	struct request *req = c->req;
	const struct unit *u = units_find(req->pd->units, c->code);

	if (u != NULL)
		unit_record(req, u);
	if (c->account_errors > 0)
		request_done(req, ST_PARTIAL, "unit %s %s; %lu of its accounts still carry "
		             "the old unit name (run the command again)", c->code,
		             req->spec->id == CMD_UNIT_ADD ? "added" : "changed",
		             c->account_errors);
	else if (c->renamed)
		request_done(req, ST_OK, "unit %s changed; %lu account%s updated", c->code,
		             c->accounts, c->accounts == 1 ? "" : "s");
	else
		request_done(req, ST_OK, "unit %s %s", c->code,
		             req->spec->id == CMD_UNIT_ADD ? "added" : "changed");
	unit_change_free(c);
}

static void
unit_reloaded(void *arg, bool ok)
{
	struct unit_change *c = arg;

	if (!ok)
		log_warnx("unit %s: written, but the unit cache could not be reloaded",
		          c->code);
	unit_change_reply(c);
}

static void
account_ou_written(void *arg, const struct dir_result *res)
{
	struct unit_change *c = arg;

	if (res->code == LDAP_SUCCESS)
		c->accounts++;
	else if (res->code != LDAP_NO_SUCH_OBJECT)
		c->account_errors++;
	if (--c->pending == 0)
		units_reload(c->req->pd, unit_reloaded, c);
}

static void
account_of_unit(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct unit_change *c = arg;
	char *dn = dir_entry_dn(ld, e);
	struct dir_mods *m;

	if (dn == NULL) {
		c->account_errors++;
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_OU, c->name);
	c->pending++;
	dir_modify(c->req->pd->dir, dn, dir_mods_get(m), NULL, account_ou_written, c);
	dir_mods_free(m);
	free(dn);
}

static void
accounts_listed(void *arg, const struct dir_result *res)
{
	struct unit_change *c = arg;

	if (res->code != LDAP_SUCCESS)
		c->account_errors++;
	/* pending counts the modifies in flight plus this search. */
	if (--c->pending == 0)
		units_reload(c->req->pd, unit_reloaded, c);
}

static void
unit_written(void *arg, const struct dir_result *res)
{
	static const char *const noattrs[] = { LDAP_NO_ATTRS, NULL };
	struct unit_change *c = arg;
	struct request *req = c->req;
	char why[300], filter[128];

	if (res->code != LDAP_SUCCESS) {
		if (res->code == LDAP_ALREADY_EXISTS)
			request_done(req, ST_CONFLICT, "unit: '%s' already exists", c->code);
		else if (res->code == LDAP_NO_SUCH_OBJECT)
			request_done(req, ST_NOTFOUND, "unit: no unit '%s'", c->code);
		else
			request_done(req, schema_status_of_ldap(res->code), "unit %s: %s",
			             c->code, dir_result_str(res, why, sizeof(why)));
		unit_change_free(c);
		return;
	}
	if (!c->renamed || req->spec->id == CMD_UNIT_ADD) {
		units_reload(req->pd, unit_reloaded, c);
		return;
	}
	/* Unit codes are [a-z0-9-]: nothing to escape. */
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")(" AT_UNIT "=%s))",
	         c->code);
	c->pending = 1;
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           noattrs, 0, NULL, account_of_unit, accounts_listed, c);
}

int
unit_name_norm(const char *name, char *out, size_t outsz, char *err, size_t errlen)
{
	char v[FIELD_TITLE_MAX + 1];
	size_t n = outsz;
	uint8_t *nfc;

	if (field_title(name, v, sizeof(v), err, errlen) < 0) {
		/* field_title names its field "title": say "name". */
		const char *colon = strchr(err, ':');
		char msg[300];

		snprintf(msg, sizeof(msg), "name%s", colon ? colon : ": invalid");
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	if (v[0] == '\0') {
		snprintf(err, errlen, "name: empty");
		return -1;
	}
	nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)v, strlen(v), (uint8_t *)out, &n);
	if (nfc == NULL || nfc != (uint8_t *)out || n >= outsz) {
		if (nfc != NULL && nfc != (uint8_t *)out)
			free(nfc);
		snprintf(err, errlen, "name: longer than %zu bytes", outsz - 1);
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* Validate --name into out (trimmed, NFC).  0, or -1 with req finished. */
static int
unit_name_check(struct request *req, const char *name, char *out, size_t outsz)
{
	char err[300];

	if (unit_name_norm(name, out, outsz, err, sizeof(err)) < 0) {
		request_done(req, ST_INVALID, "%s", err);
		return -1;
	}
	return 0;
}

/* Checks shared by add and modify.  0, or -1 with req finished. */
static int
unit_check_common(struct request *req, const char *kind, const char *parent)
{
	if (!need_units(req))
		return -1;
	if (kind != NULL && !units_kind_valid(kind)) {
		char q[80];

		request_done(req, ST_INVALID, "kind: want province, department, district, "
		             "ward or commune, got '%s'", quoted(kind, q, sizeof(q)));
		return -1;
	}
	if (parent != NULL && parent[0] != '\0' &&
	    units_find(req->pd->units, parent) == NULL) {
		char q[80];

		request_done(req, ST_NOTFOUND, "parent: no unit '%s' (see provctl unit list)",
		             quoted(parent, q, sizeof(q)));
		return -1;
	}
	/* Adding a top-level unit, or moving one to the top, needs the
	 * province-wide admin role; below a parent, a grant over it does. */
	if (parent != NULL &&
	    !request_may(req, req->spec->roles, parent[0] != '\0' ? parent : NULL)) {
		char what[128];

		snprintf(what, sizeof(what), "%s%s", parent[0] ? "parent unit " :
		         "the top level (no parent)", parent);
		request_refuse(req, req->spec->roles, what);
		return -1;
	}
	return 0;
}

/* unit add, continued: code@domain is the unit's address (Postfix's unit
 * maps).  An account holding it as mail or alias would take the unit's
 * mail (aliases are looked up first): refuse the code (4).  The address is
 * claimed until the entry is written, as alias add and user add claim
 * theirs. */
static void
unit_holder(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct unit_change *c = arg;

	if (c->holder[0] == '\0')
		dir_entry_copy(ld, e, AT_UID, c->holder, sizeof(c->holder));
}

static void
unit_holders_done(void *arg, const struct dir_result *res)
{
	struct unit_change *c = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(c->req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		unit_change_free(c);
		return;
	}
	if (c->holder[0] != '\0') {
		request_done(c->req, ST_CONFLICT, "code: %s@%s, the unit's address, is already "
		             "an address of '%s'; choose another code", c->code,
		             c->req->pd->cfg.mail_domain, c->holder);
		unit_change_free(c);
		return;
	}
	dir_add(c->req->pd->dir, c->dn, dir_mods_get(c->mods), NULL, unit_written, c);
}

static void
unit_address_check(struct unit_change *c)
{
	static const char *const attrs[] = { AT_UID, NULL };
	struct request *req = c->req;
	char addr[UNIT_CODE_MAX + FIELD_MAIL_MAX + 1], filter[8 * sizeof(addr)];

	/* A valid code is [a-z0-9-] and the domain came from the
	 * configuration: still, escape both for the filter. */
	snprintf(addr, sizeof(addr), "%s@%s", c->code, req->pd->cfg.mail_domain);
	if (!address_claim(address_key(c->claim, sizeof(c->claim), addr))) {
		c->claim[0] = '\0';
		request_done(req, ST_CONFLICT, "code: %s is being given to an account by a "
		             "request in flight", addr);
		unit_change_free(c);
		return;
	}
	{
		char esc[3 * sizeof(addr) + 1];

		if (ldapesc_filter(addr, esc, sizeof(esc)) < 0) {
			request_done(req, ST_INVALID, "code: too long");
			unit_change_free(c);
			return;
		}
		snprintf(filter, sizeof(filter), "(|(" AT_MAIL "=%s)(" AT_MAIL_ALIAS "=%s))", esc, esc);
	}
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter, attrs,
	           0, NULL, unit_holder, unit_holders_done, c);
}

void
unit_add(struct request *req)
{
	const struct cmd_args *a = &req->args;
	const char *code = a->operand[0], *name = cmd_arg(a, "name");
	const char *kind = cmd_arg(a, "kind"), *parent = cmd_arg(a, "parent");
	const struct unit *u;
	struct unit_change *c;
	struct dir_mods *m;
	static const char *const classes[] = { OC_ORG_UNIT, OC_UNIT, NULL };

	if (!units_code_valid(code)) {
		char q[80];

		request_done(req, ST_INVALID, "code: '%s' is not a unit code ([a-z0-9-], "
		             "1 to %d characters, no leading or trailing '-')",
		             quoted(code, q, sizeof(q)), UNIT_CODE_MAX - 1);
		return;
	}
	if (parent != NULL && parent[0] == '\0')
		parent = NULL;
	if (unit_check_common(req, kind, parent != NULL ? parent : "") < 0)
		return;
	if ((u = units_find(req->pd->units, code)) != NULL) {
		request_done(req, ST_CONFLICT, "unit: '%s' already exists (%s)", code,
		             u->name ? u->name : "");
		return;
	}
	if ((u = units_owner(req->pd->units, code)) != NULL) {
		request_done(req, ST_CONFLICT, "unit: %s@%s still reaches %s (a unit merged "
		             "into it); choose another code", code, req->pd->cfg.mail_domain,
		             u->code);
		return;
	}
	if (parent != NULL && strcmp(parent, code) == 0) {
		request_done(req, ST_CONFLICT, "parent: a unit cannot be its own parent");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	snprintf(c->code, sizeof(c->code), "%s", code);
	if (unit_name_check(req, name, c->name, sizeof(c->name)) < 0) {
		unit_change_free(c);
		return;
	}
	if (ldapesc_rdn_dn(AT_OU, code, req->pd->cfg.units_dn, c->dn, sizeof(c->dn)) < 0) {
		request_done(req, ST_INTERNAL, "unit: cannot form the DN");
		unit_change_free(c);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "unit=%s", code);
	m = dir_mods_new();
	dir_mods_add(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, classes);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_OU, code);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_DESCRIPTION, c->name);
	dir_mods_add1(m, LDAP_MOD_ADD, AT_UNIT_KIND, kind);
	if (parent != NULL)
		dir_mods_add1(m, LDAP_MOD_ADD, AT_UNIT_PARENT, parent);
	c->mods = m;
	unit_address_check(c);
}

void
unit_modify(struct request *req)
{
	const struct cmd_args *a = &req->args;
	const char *code = a->operand[0], *name = cmd_arg(a, "name");
	const char *kind = cmd_arg(a, "kind"), *parent = cmd_arg(a, "parent");
	const struct unit *u;
	struct unit_change *c;
	struct dir_mods *m;

	if (name == NULL && kind == NULL && parent == NULL) {
		request_done(req, ST_USAGE, "unit modify needs at least one of --name, "
		             "--kind, --parent ('' makes it a top-level unit)");
		return;
	}
	if (!need_units(req))
		return;
	if ((u = units_find(req->pd->units, code)) == NULL) {
		char q[80];

		request_done(req, ST_NOTFOUND, "unit: no unit '%s'", quoted(code, q, sizeof(q)));
		return;
	}
	/* The grant over the unit itself was checked by dispatch (SCOPE_UNIT);
	 * unit_check_common checks the one over a new parent. */
	if (unit_check_common(req, kind, parent) < 0)
		return;
	if (parent != NULL && parent[0] != '\0') {
		if (strcmp(parent, u->code) == 0) {
			request_done(req, ST_CONFLICT, "parent: a unit cannot be its own parent");
			return;
		}
		if (units_within(req->pd->units, parent, u->code)) {
			request_done(req, ST_CONFLICT, "parent: %s is below %s; making it the "
			             "parent would close a cycle", parent, u->code);
			return;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	snprintf(c->code, sizeof(c->code), "%s", u->code);
	if (name != NULL && unit_name_check(req, name, c->name, sizeof(c->name)) < 0) {
		unit_change_free(c);
		return;
	}
	if (ldapesc_rdn_dn(AT_OU, u->code, req->pd->cfg.units_dn, c->dn, sizeof(c->dn)) < 0) {
		request_done(req, ST_INTERNAL, "unit: cannot form the DN");
		unit_change_free(c);
		return;
	}
	c->renamed = name != NULL;
	snprintf(req->audit_note, sizeof(req->audit_note), "unit=%s", u->code);
	if (cmd_flag(a, "dry-run")) {
		/* One record per field that would change; nothing written. */
		if (name != NULL)
			reply_kv(req, "unit", u->code, "field", "name", "from", u->name ? u->name : "",
			         "to", c->name, NULL);
		if (kind != NULL)
			reply_kv(req, "unit", u->code, "field", "kind", "from", u->kind, "to", kind,
			         NULL);
		if (parent != NULL)
			reply_kv(req, "unit", u->code, "field", "parent", "from", u->parent,
			         "to", parent, NULL);
		request_done(req, ST_OK, "dry run, nothing changed%s", name != NULL ?
		             "; the unit name on its accounts (ou) would follow" : "");
		unit_change_free(c);
		return;
	}
	m = dir_mods_new();
	if (name != NULL)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_DESCRIPTION, c->name);
	if (kind != NULL)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_UNIT_KIND, kind);
	if (parent != NULL)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_UNIT_PARENT, parent[0] != '\0' ? parent : NULL);
	dir_modify(req->pd->dir, c->dn, dir_mods_get(m), NULL, unit_written, c);
	dir_mods_free(m);
}
