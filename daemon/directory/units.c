/* units — cached unit table. See units.h. */
#include "units.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dir.h"
#include "log.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

#define UNITS_MAX 100000

struct units {
	unsigned     refs;
	struct unit *v;
	size_t       n;
	bool         loaded;
};

struct reload {
	struct provd  *pd;
	struct unit   *v;
	size_t         n, cap;
	units_done_fn *done;
	void          *ctx;
};

struct units *
units_new(void)
{
	struct units *u = xcalloc(1, sizeof(struct units));

	u->refs = 1;
	return u;
}

struct units *
units_ref(struct units *u)
{
	u->refs++;
	return u;
}

static void
table_free(struct unit *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		dir_strv_free(v[i].aliases);
	}
	free(v);
}

void
units_unref(struct units *u)
{
	if (u == NULL || --u->refs > 0)
		return;
	table_free(u->v, u->n);
	free(u);
}

bool
units_code_valid(const char *code)
{
	size_t i, n = strlen(code);

	if (n == 0 || n >= UNIT_CODE_MAX || code[0] == '-' || code[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((code[i] >= 'a' && code[i] <= 'z') ||
		      (code[i] >= '0' && code[i] <= '9') || code[i] == '-'))
			return false;
	return true;
}

static void
on_unit(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct reload *r = arg;
	char *code = dir_entry_get(ld, e, AT_OU);
	char *kind = dir_entry_get(ld, e, AT_UNIT_KIND);
	char *parent = dir_entry_get(ld, e, AT_UNIT_PARENT);
	char *name = dir_entry_get(ld, e, AT_DESCRIPTION);
	char **aliases = dir_entry_get_all(ld, e, AT_UNIT_ALIAS);
	struct unit *u;
	size_t i;

	if (code == NULL || !units_code_valid(code) || r->n >= UNITS_MAX) {
		log_warnx("units: skipping a unit entry with a bad code");
		goto out;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct unit *v = xrealloc(r->v, cap * sizeof(*v));

		r->v = v;
		r->cap = cap;
	}
	u = &r->v[r->n++];
	memset(u, 0, sizeof(*u));
	snprintf(u->code, sizeof(u->code), "%s", code);
	snprintf(u->kind, sizeof(u->kind), "%s", kind ? kind : "");
	snprintf(u->parent, sizeof(u->parent), "%s", parent ? parent : "");
	u->name = name;
	name = NULL;
	/* An alias that is not a valid code could never be a local part. */
	for (i = 0; aliases != NULL && aliases[i] != NULL; i++)
		if (!units_code_valid(aliases[i])) {
			log_warnx("units: %s: ignoring the bad alias values", u->code);
			dir_strv_free(aliases);
			aliases = NULL;
			break;
		}
	u->aliases = aliases;
	aliases = NULL;
out:
	dir_strv_free(aliases);
	free(code);
	free(kind);
	free(parent);
	free(name);
}

static int
cmp_unit(const void *a, const void *b)
{
	return strcmp(((const struct unit *)a)->code, ((const struct unit *)b)->code);
}

struct units *
units_from_array(struct unit *v, size_t n)
{
	struct units *u = units_new();

	/* A new snapshot: whoever holds the old one keeps it intact. */
	qsort(v, n, sizeof(*v), cmp_unit);
	u->v = v;
	u->n = n;
	u->loaded = true;
	return u;
}

static void
on_done(void *arg, const struct dir_result *res)
{
	struct reload *r = arg;
	struct units *u = NULL;
	char why[256];
	bool ok = res->code == LDAP_SUCCESS;

	if (ok) {
		u = units_from_array(r->v, r->n);
		units_unref(r->pd->units);
		r->pd->units = u;
		log_debug("units: %zu units loaded", u->n);
	} else if (res->code != LDAP_SUCCESS) {
		log_warnx("units: cannot load %s: %s", r->pd->cfg.units_dn,
		          dir_result_str(res, why, sizeof(why)));
		table_free(r->v, r->n);
	}
	if (r->done)
		r->done(r->ctx, ok);
	free(r);
}

void
units_reload(struct provd *pd, units_done_fn *done, void *ctx)
{
	static const char *const attrs[] = {
		AT_OU, AT_DESCRIPTION, AT_UNIT_KIND, AT_UNIT_PARENT, AT_UNIT_ALIAS, NULL
	};
	struct reload *r = xcalloc(1, sizeof(*r));

	r->pd = pd;
	r->done = done;
	r->ctx = ctx;
	dir_search(pd->dir, pd->cfg.units_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_UNIT ")", attrs, 0, NULL, on_unit, on_done, r);
}

struct units *
units_from(const struct unit *v, size_t n)
{
	struct units *u = units_new();
	size_t i, k;

	u->v = xcalloc(n + 1, sizeof(*u->v));
	for (i = 0; i < n; i++) {
		struct unit *x = &u->v[u->n];

		if (!units_code_valid(v[i].code)) {
			units_unref(u);
			return NULL;
		}
		*x = v[i];
		x->name = v[i].name != NULL ? xstrdup(v[i].name) : NULL;
		x->aliases = NULL;
		u->n++;
		for (k = 0; v[i].aliases != NULL && v[i].aliases[k] != NULL; k++)
			;
		if (k > 0) {
			x->aliases = xcalloc(k + 1, sizeof(*x->aliases));
			for (k = 0; v[i].aliases[k] != NULL; k++)
				x->aliases[k] = xstrdup(v[i].aliases[k]);
		}
	}
	qsort(u->v, u->n, sizeof(*u->v), cmp_unit);
	u->loaded = true;
	return u;
}

bool units_loaded(const struct units *u) { return u->loaded; }
size_t units_count(const struct units *u) { return u->n; }

const struct unit *
units_at(const struct units *u, size_t i)
{
	return i < u->n ? &u->v[i] : NULL;
}

const struct unit *
units_find(const struct units *u, const char *code)
{
	struct unit key;

	if (code == NULL || strlen(code) >= sizeof(key.code) || u->n == 0)
		return NULL;
	snprintf(key.code, sizeof(key.code), "%s", code);
	return bsearch(&key, u->v, u->n, sizeof(*u->v), cmp_unit);
}

bool
units_has_alias(const struct unit *x, const char *code)
{
	size_t i;

	for (i = 0; x->aliases != NULL && x->aliases[i] != NULL; i++)
		if (strcmp(x->aliases[i], code) == 0)
			return true;
	return false;
}

const struct unit *
units_owner(const struct units *u, const char *local)
{
	const struct unit *x = units_find(u, local);
	size_t i;

	if (x != NULL)
		return x;
	/* Merges are rare: a scan of the table is cheap beside an LDAP write. */
	for (i = 0; i < u->n; i++)
		if (units_has_alias(&u->v[i], local))
			return &u->v[i];
	return NULL;
}

bool
units_kind_valid(const char *kind)
{
	return cmd_word_in(cmd_unit_kinds, kind);
}

bool
units_within(const struct units *u, const char *code, const char *ancestor)
{
	const struct unit *x = units_find(u, code);
	int depth = 0;

	/* Depth bound guards against a parent cycle in the directory. */
	while (x != NULL && depth++ < 32) {
		if (strcmp(x->code, ancestor) == 0)
			return true;
		if (x->parent[0] == '\0')
			return false;
		x = units_find(u, x->parent);
	}
	return false;
}

const char *
units_path(const struct units *u, const char *code, char *out, size_t outsz)
{
	const struct unit *chain[32];
	const struct unit *x = units_find(u, code);
	size_t n = 0, off = 0;

	out[0] = '\0';
	while (x != NULL && n < 32) {
		chain[n++] = x;
		x = x->parent[0] ? units_find(u, x->parent) : NULL;
	}
	while (n-- > 0) {
		int k = snprintf(out + off, outsz - off, "%s%s", off ? " / " : "",
		                 chain[n]->name ? chain[n]->name : chain[n]->code);
		if (k < 0 || (size_t)k >= outsz - off)
			break;
		off += (size_t)k;
	}
	return out;
}
