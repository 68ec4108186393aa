/* reorg_file — the reorganisation file. See reorg_file.h. */
#include "reorg_file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "csv.h"
#include "unit.h"
#include "vec.h"
#include "xmalloc.h"

struct reader {
	struct reorg      *r;
	const struct units *now;
	size_t             cap;
	unsigned           id_line, org_line, domain_line;
};

static void reorg_err(struct reorg *r, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
reorg_err(struct reorg *r, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (r->nerrors < REORG_ERRORS_MAX) {
		struct reorg_error *e = &r->errors[r->nerrors];

		e->line = line;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	r->nerrors++;
}

static int
cmp_code(const void *a, const void *b)
{
	return strcmp(((const struct reorg_unit *)a)->code, ((const struct reorg_unit *)b)->code);
}

/* Linear while reading (units are appended), sorted lookups afterwards. */
static struct reorg_unit *
find_any(struct reorg *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->nu; i++)
		if (strcmp(r->u[i].code, code) == 0)
			return &r->u[i];
	return NULL;
}

const struct reorg_unit *
reorg_unit(const struct reorg *r, const char *code)
{
	struct reorg_unit key;

	if (strlen(code) >= sizeof(key.code))
		return NULL;
	snprintf(key.code, sizeof(key.code), "%s", code);
	return bsearch(&key, r->u, r->nu, sizeof(*r->u), cmp_code);
}

const char *
reorg_staff_unit(const struct reorg *r, const char *code)
{
	const struct reorg_unit *x = reorg_unit(r, code);

	if (x == NULL)
		return NULL;
	return x->goes ? x->staff_to : x->code;
}

static bool
valid_date(const char *s)
{
	int y, m, d;
	char tail;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	return y >= 2000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool
valid_domain(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > REORG_DOMAIN_MAX || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' ||
	    strchr(s, '.') == NULL || strstr(s, "..") != NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* A code field: valid syntax, else an error.  true when usable. */
static bool
code_ok(struct reorg *r, unsigned line, const char *what, const char *code)
{
	if (code[0] == '\0') {
		reorg_err(r, line, "%s: empty (every unit needs a target)", what);
		return false;
	}
	if (!units_code_valid(code)) {
		reorg_err(r, line, "%s: '%.64s' is not a unit code ([a-z0-9-], 1 to %d "
		          "characters)", what, code, UNIT_CODE_MAX - 1);
		return false;
	}
	return true;
}

static bool
kind_ok(struct reorg *r, unsigned line, const char *kind)
{
	if (units_kind_valid(kind))
		return true;
	reorg_err(r, line, "kind: want province, department, district, ward or commune, "
	          "got '%.32s'", kind);
	return false;
}

static bool
name_ok(struct reorg *r, unsigned line, const char *in, char *out, size_t outsz)
{
	char err[300];

	if (unit_name_norm(in, out, outsz, err, sizeof(err)) == 0)
		return true;
	reorg_err(r, line, "%.190s", err);
	return false;
}

/* The unit `code` named on `line`: from the file or the current table.  A
 * unit that goes and was removed by an earlier run, or that the file does
 * not know at all, is refused when must_exist. */
static struct reorg_unit *
known(struct reader *rd, unsigned line, const char *what, const char *code)
{
	struct reorg_unit *x = find_any(rd->r, code);

	if (x == NULL)
		reorg_err(rd->r, line, "%s: no unit '%.64s' (neither in the directory nor a "
		          "`unit` line of this file)", what, code);
	return x;
}

static int
on_row(const struct csv_row *row, void *ctx)
{
	struct reader *rd = ctx;
	struct reorg *r = rd->r;
	unsigned line = (unsigned)row->line;
	const char *verb = row->nfields > 0 ? row->fields[0] : "";
	size_t nf = row->nfields;
	const char *f1 = nf > 1 ? row->fields[1] : "", *f2 = nf > 2 ? row->fields[2] : "";
	const char *f3 = nf > 3 ? row->fields[3] : "", *f4 = nf > 4 ? row->fields[4] : "";
	struct reorg_unit *x;

	r->lines = line;
	if (row->error) {
		reorg_err(r, line, "%.190s", row->error_msg);
		return 0;
	}
	if (verb[0] == '#' || (nf == 1 && verb[0] == '\0'))
		return 0;
#define ARITY(lo, hi) do { \
		if (nf < (lo) || nf > (hi)) { \
			reorg_err(r, line, "%s: want %d to %d fields, got %zu", verb, (lo), (hi), nf); \
			return 0; \
		} \
	} while (0)
	if (strcmp(verb, "reorg") == 0) {
		ARITY(2, 2);
		if (rd->id_line != 0)
			reorg_err(r, line, "reorg: given twice (first on line %u)", rd->id_line);
		else if (!units_code_valid(f1))
			reorg_err(r, line, "reorg: the id '%.64s' must be [a-z0-9-], 1 to %d "
			          "characters", f1, REORG_ID_MAX - 1);
		else {
			snprintf(r->id, sizeof(r->id), "%s", f1);
			rd->id_line = line;
		}
	} else if (strcmp(verb, "organization") == 0) {
		ARITY(2, 2);
		if (rd->org_line != 0)
			reorg_err(r, line, "organization: given twice (first on line %u)",
			          rd->org_line);
		else if (name_ok(r, line, f1, r->organization, sizeof(r->organization)))
			rd->org_line = line;
	} else if (strcmp(verb, "domain") == 0) {
		ARITY(4, 4);
		if (rd->domain_line != 0)
			reorg_err(r, line, "domain: given twice (first on line %u)", rd->domain_line);
		else if (!valid_domain(f1) || !valid_domain(f2))
			reorg_err(r, line, "domain: OLD and NEW must be lower-case ASCII domains");
		else if (strcmp(f1, f2) == 0)
			reorg_err(r, line, "domain: OLD and NEW are the same");
		else if (strcmp(f3, "forever") != 0 && !valid_date(f3))
			reorg_err(r, line, "domain: UNTIL must be YYYY-MM-DD or forever, got '%.32s'",
			          f3);
		else {
			snprintf(r->old_domain, sizeof(r->old_domain), "%s", f1);
			snprintf(r->new_domain, sizeof(r->new_domain), "%s", f2);
			snprintf(r->keep_until, sizeof(r->keep_until), "%s", f3);
			rd->domain_line = line;
		}
	} else if (strcmp(verb, "unit") == 0) {
		char name[FIELD_TITLE_MAX + 1];

		ARITY(5, 5);
		if (!code_ok(r, line, "unit", f1) || !name_ok(r, line, f2, name, sizeof(name)) ||
		    !kind_ok(r, line, f3) || (f4[0] != '\0' && !code_ok(r, line, "parent", f4)))
			return 0;
		if ((x = find_any(r, f1)) != NULL) {
			if (x->is_new)
				reorg_err(r, line, "unit: %s is added twice (first on line %u)", f1,
				          x->line);
			else if (strcmp(x->kind, f3) != 0)
				reorg_err(r, line, "unit: %s exists already, as a %s", f1, x->kind);
			else {
				x->is_new = true;   /* made by an earlier run */
				snprintf(x->name, sizeof(x->name), "%s", name);
				snprintf(x->parent, sizeof(x->parent), "%s", f4);
			}
			x->line = line;
			return 0;
		}
		if (units_owner(rd->now, f1) != NULL) {
			reorg_err(r, line, "unit: %s is kept as the address of %s (a unit merged "
			          "into it); choose another code", f1, units_owner(rd->now, f1)->code);
			return 0;
		}
		r->u = vec_grow(r->u, &rd->cap, r->nu + 1, sizeof(*r->u));
		x = &r->u[r->nu++];
		memset(x, 0, sizeof(*x));
		snprintf(x->code, sizeof(x->code), "%s", f1);
		snprintf(x->name, sizeof(x->name), "%s", name);
		snprintf(x->kind, sizeof(x->kind), "%s", f3);
		snprintf(x->parent, sizeof(x->parent), "%s", f4);
		x->is_new = true;
		x->line = line;
	} else if (strcmp(verb, "merge") == 0 || strcmp(verb, "abolish") == 0) {
		bool merge = verb[0] == 'm';
		const char *to = f2, *kids = merge || f3[0] == '\0' ? f2 : f3;

		if (merge)
			ARITY(3, 3);
		else
			ARITY(3, 4);
		if (!code_ok(r, line, verb, f1) ||
		    !code_ok(r, line, merge ? "into" : "staff_to", to) ||
		    (!merge && f3[0] != '\0' && !code_ok(r, line, "children_to", f3)))
			return 0;
		if ((x = find_any(r, f1)) == NULL) {
			/* Gone already?  Then an earlier run merged it into `to`. */
			const struct unit *t = units_find(rd->now, to);

			if (t == NULL || !units_has_alias(t, f1)) {
				reorg_err(r, line, "%s: no unit '%.64s'", verb, f1);
				return 0;
			}
			r->u = vec_grow(r->u, &rd->cap, r->nu + 1, sizeof(*r->u));
			x = &r->u[r->nu++];
			memset(x, 0, sizeof(*x));
			snprintf(x->code, sizeof(x->code), "%s", f1);
			x->done = true;
		} else if (x->goes) {
			reorg_err(r, line, "%s: %s already goes on line %u", verb, f1, x->line);
			return 0;
		} else if (x->is_new) {
			reorg_err(r, line, "%s: %s is added by this file (line %u) and cannot go",
			          verb, f1, x->line);
			return 0;
		} else if (x->changed) {
			reorg_err(r, line, "%s: %s is changed on line %u: it is both merged and "
			          "kept", verb, f1, x->line);
			return 0;
		}
		x->goes = true;
		x->abolished = !merge;
		x->line = line;
		snprintf(x->staff_to, sizeof(x->staff_to), "%s", to);
		snprintf(x->children_to, sizeof(x->children_to), "%s", kids);
	} else if (strcmp(verb, "rename") == 0 || strcmp(verb, "kind") == 0 ||
	           strcmp(verb, "parent") == 0) {
		char name[FIELD_TITLE_MAX + 1];

		if (verb[0] == 'p')
			ARITY(2, 3);
		else
			ARITY(3, 3);
		if (!code_ok(r, line, verb, f1) || (x = known(rd, line, verb, f1)) == NULL)
			return 0;
		if (verb[0] == 'r') {
			if (name_ok(r, line, f2, name, sizeof(name)))
				snprintf(x->name, sizeof(x->name), "%s", name);
		} else if (verb[0] == 'k') {
			if (kind_ok(r, line, f2))
				snprintf(x->kind, sizeof(x->kind), "%s", f2);
		} else if (f2[0] == '\0' || code_ok(r, line, "parent", f2)) {
			snprintf(x->parent, sizeof(x->parent), "%s", f2);
		}
		if (x->goes)
			reorg_err(r, line, "%s: %s goes on line %u: it is both merged and kept",
			          verb, f1, x->line);
		x->changed = true;
		x->line = x->line ? x->line : line;
	} else {
		reorg_err(r, line, "unknown statement '%.32s' (want reorg, organization, domain, "
		          "unit, merge, abolish, rename, kind or parent)", verb);
	}
#undef ARITY
	return 0;
}

/* Targets must stay; parents must exist afterwards; no cycles. */
static void
check_tree(struct reorg *r)
{
	size_t i;

	for (i = 0; i < r->nu; i++) {
		struct reorg_unit *x = &r->u[i];
		const struct reorg_unit *t;

		if (x->goes) {
			const char *to[2] = { x->staff_to, x->children_to };
			size_t k;

			for (k = 0; k < 2; k++) {
				if (k == 1 && strcmp(to[0], to[1]) == 0)
					break;
				if ((t = reorg_unit(r, to[k])) == NULL)
					reorg_err(r, x->line, "%s: target '%s' is no unit", x->code, to[k]);
				else if (t->goes)
					reorg_err(r, x->line, "%s: target %s goes too (line %u): name the "
					          "unit that stays", x->code, to[k], t->line);
				else if (strcmp(t->code, x->code) == 0)
					reorg_err(r, x->line, "%s: merged into itself", x->code);
			}
			continue;
		}
		if (x->parent[0] == '\0')
			continue;
		if ((t = reorg_unit(r, x->parent)) == NULL) {
			reorg_err(r, x->line, "%s: parent '%s' is no unit", x->code, x->parent);
			continue;
		}
		if (t->goes) {
			/* The parent goes: the sub-unit follows it unless the file
			 * re-parents it explicitly. */
			if (x->changed && strcmp(x->parent, x->old_parent) != 0)
				reorg_err(r, x->line, "%s: parent %s goes (line %u)", x->code, t->code,
				          t->line);
			else
				snprintf(x->parent, sizeof(x->parent), "%s", t->children_to);
		}
	}
	for (i = 0; i < r->nu; i++) {
		const struct reorg_unit *x = &r->u[i], *p = x;
		size_t depth = 0;

		if (x->goes)
			continue;
		while (p != NULL && p->parent[0] != '\0' && depth++ <= r->nu)
			p = reorg_unit(r, p->parent);
		if (depth > r->nu)
			reorg_err(r, x->line, "%s: its parents form a cycle", x->code);
	}
}

struct reorg *
reorg_read(const char *buf, size_t len, const struct units *now)
{
	struct reorg *r = xcalloc(1, sizeof(*r));
	struct reader rd = { .r = r, .now = now };
	struct csv_limits lim = { .max_field = FIELD_TITLE_MAX * 2, .max_fields = 8,
	                          .max_record = 4096 };
	struct csv_reader *csv;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t i;

	/* Today's units first: the file names them. */
	for (i = 0; i < units_count(now); i++) {
		const struct unit *u = units_at(now, i);
		struct reorg_unit *x;

		r->u = vec_grow(r->u, &rd.cap, r->nu + 1, sizeof(*r->u));
		x = &r->u[r->nu++];
		memset(x, 0, sizeof(*x));
		snprintf(x->code, sizeof(x->code), "%s", u->code);
		snprintf(x->name, sizeof(x->name), "%s", u->name ? u->name : "");
		snprintf(x->kind, sizeof(x->kind), "%s", u->kind);
		snprintf(x->parent, sizeof(x->parent), "%s", u->parent);
		snprintf(x->old_name, sizeof(x->old_name), "%s", x->name);
		snprintf(x->old_kind, sizeof(x->old_kind), "%s", x->kind);
		snprintf(x->old_parent, sizeof(x->old_parent), "%s", x->parent);
		x->exists = true;
	}
	if (len > REORG_FILE_MAX) {
		reorg_err(r, 0, "the file is over %u bytes", REORG_FILE_MAX);
		return r;
	}
	if ((csv = csv_reader_new(&lim)) == NULL) {
		reorg_free(r);
		return NULL;
	}
	csv_feed(csv, buf, len, on_row, &rd);
	csv_finish(csv, on_row, &rd);
	csv_reader_free(csv);
	r->domain_line = rd.domain_line;
	r->organization_line = rd.org_line;
	if (rd.id_line == 0)
		reorg_err(r, 0, "no `reorg,ID` line: a plan needs a name");
	qsort(r->u, r->nu, sizeof(*r->u), cmp_code);
	for (i = 0; i < r->nu; i++) {
		struct reorg_unit *x = &r->u[i];

		if (x->exists && !x->goes && (strcmp(x->name, x->old_name) != 0 ||
		    strcmp(x->kind, x->old_kind) != 0 || strcmp(x->parent, x->old_parent) != 0))
			x->changed = true;
		else if (x->exists)
			x->changed = false;
	}
	check_tree(r);
	for (i = 0; i < r->nu; i++) {
		struct reorg_unit *x = &r->u[i];

		if (x->exists && !x->goes)
			x->changed = strcmp(x->name, x->old_name) != 0 ||
			             strcmp(x->kind, x->old_kind) != 0 ||
			             strcmp(x->parent, x->old_parent) != 0;
	}
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	snprintf(r->plan_id, sizeof(r->plan_id), "%s-", r->id[0] ? r->id : "unnamed");
	for (i = 0; i < 6 && i < mdlen; i++) {
		size_t n = strlen(r->plan_id);

		snprintf(r->plan_id + n, sizeof(r->plan_id) - n, "%02x", md[i]);
	}
	return r;
}

void
reorg_free(struct reorg *r)
{
	if (r == NULL)
		return;
	free(r->u);
	free(r);
}
