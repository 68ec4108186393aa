/* report — `report units`, `report passwords` and `report expiring`.
 * See report.h. */
#include "report.h"

#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "dir.h"
#include "initialpw.h"
#include "ldapesc.h"
#include "pkitime.h"
#include "provd.h"
#include "request.h"
#include "text.h"
#include "unitcount.h"
#include "units.h"
#include "vec.h"
#include "wire.h"
#include "xmalloc.h"

#define DAY_SECONDS     86400
#define EXPIRING_WINDOW 30          /* days, for certs_expiring_30d */
#define EXPIRING_MAX    200000      /* records `report expiring` holds */

/* ---- a snapshot of the unit table ---------------------------------------
 * The unit cache may be reloaded while the searches run, so the report
 * works on its own copy. */

enum counter {
	C_ACTIVE, C_DISABLED, C_DELETED,
	C_VALID, C_HOLD, C_REVOKED, C_EXPIRED, C_EXPIRING,
	C_PW_INITIAL, C_PW_EXPIRED, C_PW_OWN,
	C__COUNT
};

static const char *const counter_keys[C__COUNT] = {
	[C_ACTIVE]   = "accounts_active",
	[C_DISABLED] = "accounts_disabled",
	[C_DELETED]  = "accounts_deleted",
	[C_VALID]    = "certs_valid",
	[C_HOLD]     = "certs_hold",
	[C_REVOKED]  = "certs_revoked",
	[C_EXPIRED]  = "certs_expired",
	[C_EXPIRING] = "certs_expiring_30d",
	[C_PW_INITIAL] = "passwords_initial",
	[C_PW_EXPIRED] = "passwords_expired",
	[C_PW_OWN]     = "passwords_own",
};

/* The columns of each report. */
static const enum counter units_columns[] = {
	C_ACTIVE, C_DISABLED, C_DELETED,
	C_VALID, C_HOLD, C_REVOKED, C_EXPIRED, C_EXPIRING,
};
static const enum counter passwords_columns[] = {
	C_ACTIVE, C_PW_INITIAL, C_PW_EXPIRED, C_PW_OWN,
};

struct tally {
	unsigned long n[C__COUNT];
};

struct runit {
	char         code[UNIT_CODE_MAX];
	char         parent[UNIT_CODE_MAX];
	char         kind[16];
	char        *name;
	size_t       up;            /* index of the parent, or SIZE_MAX */
	bool         has_children;
	bool         shown;
	struct tally own, sub;      /* sub = own + every unit below */
};

struct usnap {
	struct runit *u;            /* sorted by code, as the cache is */
	size_t        n;
};

static void
usnap_free(struct usnap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->u[i].name);
	free(s->u);
	s->u = NULL;
	s->n = 0;
}

static int
runit_cmp_code(const void *key, const void *elem)
{
	return strcmp(key, ((const struct runit *)elem)->code);
}

/* Index of code in the snapshot, or SIZE_MAX. */
static size_t
usnap_find(const struct usnap *s, const char *code)
{
	const struct runit *r;

	if (code == NULL || s->n == 0)
		return SIZE_MAX;
	r = bsearch(code, s->u, s->n, sizeof(*s->u), runit_cmp_code);
	return r ? (size_t)(r - s->u) : SIZE_MAX;
}

/* Copy the unit cache. */
static void
usnap_take(struct usnap *s, const struct units *us)
{
	size_t i, n = units_count(us);

	s->n = 0;
	s->u = xcalloc(n ? n : 1, sizeof(*s->u));
	for (i = 0; i < n; i++) {
		const struct unit *src = units_at(us, i);
		struct runit *r = &s->u[i];

		snprintf(r->code, sizeof(r->code), "%s", src->code);
		snprintf(r->parent, sizeof(r->parent), "%s", src->parent);
		snprintf(r->kind, sizeof(r->kind), "%s", src->kind);
		r->name = xstrdup(src->name ? src->name : "");
		s->n++;
	}
	for (i = 0; i < s->n; i++) {
		s->u[i].up = s->u[i].parent[0] ? usnap_find(s, s->u[i].parent) : SIZE_MAX;
		if (s->u[i].up == i)
			s->u[i].up = SIZE_MAX;
		if (s->u[i].up != SIZE_MAX)
			s->u[s->u[i].up].has_children = true;
	}
}

/* Is unit i the unit `root` or below it? */
static bool
usnap_within(const struct usnap *s, size_t i, size_t root)
{
	size_t depth;

	for (depth = 0; i != SIZE_MAX && depth <= s->n; depth++, i = s->u[i].up)
		if (i == root)
			return true;
	return false;
}

/* Search filter: objectClass plus, when root is a unit, an OR of every
 * departmentNumber at or below it (malloc'd). */
static char *
unit_filter(const struct usnap *s, const char *objclass, const char *extra, size_t root)
{
	struct vec_str f = { 0 };
	char part[UNIT_CODE_MAX * 3 + 40], esc[UNIT_CODE_MAX * 3 + 1];
	size_t i;

	snprintf(part, sizeof(part), "(&(" AT_OBJECT_CLASS "=%s)", objclass);
	vec_str_add(&f, part);
	vec_str_add(&f, extra);
	if (root != SIZE_MAX) {
		vec_str_add(&f, "(|");
		for (i = 0; i < s->n; i++) {
			if (!usnap_within(s, i, root))
				continue;
			if (ldapesc_filter(s->u[i].code, esc, sizeof(esc)) < 0)
				continue;
			snprintf(part, sizeof(part), "(" AT_UNIT "=%s)", esc);
			vec_str_add(&f, part);
		}
		vec_str_add(&f, ")");
	}
	vec_str_add(&f, ")");
	return f.p;
}

/* Check --unit against the cache; on failure finish req and return -1. */
static int
check_unit_option(struct request *req, const char *unit)
{
	char clean[80];

	if (!units_loaded(req->pd->units)) {
		request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
		return -1;
	}
	if (unit != NULL && units_find(req->pd->units, unit) == NULL) {
		text_sanitize(unit, strnlen(unit, 64), clean, sizeof(clean));
		request_done(req, ST_NOTFOUND, "unit: unknown unit '%s' (see provctl unit list)",
		             clean);
		return -1;
	}
	return 0;
}

/* ---- report units ------------------------------------------------------ */

struct ureport {
	struct request *req;
	bool            passwords;     /* report passwords, not report units */
	const enum counter *columns;
	size_t          ncolumns;
	struct usnap    units;
	size_t          root;          /* --unit, or SIZE_MAX for all */
	struct tally    unknown;       /* no departmentNumber, or an unknown one */
	struct tally    total;
	char            now[PKITIME_LDAP_LEN + 1];
	char            soon[PKITIME_LDAP_LEN + 1];   /* now + 30 days */
	unsigned long   accounts, certs;
};

static void
ureport_free(struct ureport *r)
{
	usnap_free(&r->units);
	free(r);
}

static struct tally *
tally_for(struct ureport *r, LDAP *ld, LDAPMessage *e)
{
	char *unit = dir_entry_get(ld, e, AT_UNIT);
	size_t i = usnap_find(&r->units, unit);

	free(unit);
	return i == SIZE_MAX ? &r->unknown : &r->units.u[i].own;
}

static void
on_account(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct ureport *r = arg;
	struct tally *t = tally_for(r, ld, e);
	enum account_state st = account_state_read(ld, e);

	r->accounts++;
	if (st == ACCOUNT_STATE_DELETED)
		t->n[C_DELETED]++;
	else if (st == ACCOUNT_STATE_DISABLED)
		t->n[C_DISABLED]++;
	else {
		t->n[C_ACTIVE]++;
		if (r->passwords) {
			switch (initialpw_state(ld, e, r->now)) {
			case INITIALPW_INITIAL: t->n[C_PW_INITIAL]++; break;
			case INITIALPW_EXPIRED: t->n[C_PW_EXPIRED]++; break;
			case INITIALPW_OWN:     t->n[C_PW_OWN]++; break;
			}
		}
	}
}

static void
on_cert(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct ureport *r = arg;
	struct tally *t = tally_for(r, ld, e);
	char *st = dir_entry_get(ld, e, AT_CERT_STATUS);
	char *na = dir_entry_get(ld, e, AT_CERT_NOT_AFTER);
	enum cert_state cs;
	bool known = cert_state_parse(st, &cs) == 0;

	r->certs++;
	if (known && cs == CERT_STATE_HOLD)
		t->n[C_HOLD]++;
	else if (known && cs == CERT_STATE_REVOKED)
		t->n[C_REVOKED]++;
	else if (known && cs == CERT_STATE_VALID) {
		/* GeneralizedTime YYYYMMDDHHMMSSZ compares as text. */
		if (na == NULL || strcmp(na, r->now) < 0)
			t->n[C_EXPIRED]++;
		else {
			t->n[C_VALID]++;
			if (strcmp(na, r->soon) <= 0)
				t->n[C_EXPIRING]++;
		}
	}
	free(st);
	free(na);
}

static void
tally_add(struct tally *to, const struct tally *from)
{
	size_t k;

	for (k = 0; k < C__COUNT; k++)
		to->n[k] += from->n[k];
}

static void
emit_row(const struct ureport *r, const char *unit, const char *row, const char *kind,
         const char *parent, const char *name, const struct tally *t)
{
	struct rec rec;
	size_t k;

	rec_begin(&rec, r->req);
	rec_kv(&rec, "unit", unit);
	rec_kv(&rec, "row", row);
	rec_kv(&rec, "kind", kind[0] ? kind : "-");
	rec_kv(&rec, "parent", parent[0] ? parent : "-");
	rec_kv(&rec, "name", name);
	for (k = 0; k < r->ncolumns; k++)
		rec_kvf(&rec, counter_keys[r->columns[k]], "%lu", t->n[r->columns[k]]);
	rec_end(&rec);
}

static int
kind_rank(const char *kind)
{
	static const char *const order[] = { "province", "district", "department", "commune" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(kind, order[i]) == 0)
			return i;
	return 4;
}

static const struct usnap *sort_snap;   /* qsort has no context argument */

/* Units in display order among siblings: by kind, then by code. */
static int
cmp_display(const void *a, const void *b)
{
	const struct runit *x = &sort_snap->u[*(const size_t *)a];
	const struct runit *y = &sort_snap->u[*(const size_t *)b];
	int d = kind_rank(x->kind) - kind_rank(y->kind);

	return d ? d : strcmp(x->code, y->code);
}

/* Unit i, its sub-units (depth first, in `order`), then its subtotal. */
static void
emit_subtree(struct ureport *r, const size_t *order, size_t i)
{
	struct runit *u = &r->units.u[i];
	size_t j;

	if (u->shown)
		return;
	u->shown = true;
	emit_row(r, u->code, "unit", u->kind, u->parent, u->name, &u->own);
	if (!u->has_children)
		return;
	for (j = 0; j < r->units.n; j++)
		if (r->units.u[order[j]].up == i)
			emit_subtree(r, order, order[j]);
	emit_row(r, u->code, "subtotal", u->kind, u->parent, u->name, &u->sub);
}

static void
ureport_finish(struct ureport *r)
{
	struct request *req = r->req;
	struct usnap *s = &r->units;
	size_t *order, i, j, depth;

	/* Roll each unit's own counts into itself and every ancestor. */
	for (i = 0; i < s->n; i++) {
		for (j = i, depth = 0; j != SIZE_MAX && depth <= s->n; j = s->u[j].up, depth++)
			tally_add(&s->u[j].sub, &s->u[i].own);
		tally_add(&r->total, &s->u[i].own);
	}
	tally_add(&r->total, &r->unknown);

	order = xmalloc((s->n ? s->n : 1) * sizeof(*order));
	for (i = 0; i < s->n; i++)
		order[i] = i;
	sort_snap = s;
	if (s->n > 1)
		qsort(order, s->n, sizeof(*order), cmp_display);
	sort_snap = NULL;

	if (r->passwords) {
		if (r->root != SIZE_MAX)
			emit_subtree(r, order, r->root);
		else {
			for (i = 0; i < s->n; i++)
				if (s->u[order[i]].up == SIZE_MAX)
					emit_subtree(r, order, order[i]);
			for (i = 0; i < s->n; i++)
				emit_subtree(r, order, order[i]);
			emit_row(r, "*", "total", "province", "", "all units", &r->total);
		}
		request_done(req, ST_OK, "%lu active account%s: %lu with the initial "
		             "password, %lu of them expired", r->total.n[C_ACTIVE],
		             r->total.n[C_ACTIVE] == 1 ? "" : "s",
		             r->total.n[C_PW_INITIAL] + r->total.n[C_PW_EXPIRED],
		             r->total.n[C_PW_EXPIRED]);
		free(order);
		ureport_free(r);
		return;
	}
	if (r->root != SIZE_MAX) {
		emit_subtree(r, order, r->root);
		request_done(req, ST_OK, "%s: %lu account%s, %lu certificate%s",
		             s->u[r->root].code, r->accounts, r->accounts == 1 ? "" : "s",
		             r->certs, r->certs == 1 ? "" : "s");
		free(order);
		ureport_free(r);
		return;
	}
	for (i = 0; i < s->n; i++)
		if (s->u[order[i]].up == SIZE_MAX)
			emit_subtree(r, order, order[i]);
	/* A parent loop (A under B under A) leaves units unreached. */
	for (i = 0; i < s->n; i++)
		emit_subtree(r, order, order[i]);
	for (i = 0; i < C__COUNT; i++)
		if (r->unknown.n[i] != 0)
			break;
	if (i < C__COUNT)
		emit_row(r, "-", "unit", "", "", "(no unit or an unknown unit)", &r->unknown);
	emit_row(r, "*", "total", "province", "", "all units", &r->total);
	request_done(req, ST_OK, "%zu units, %lu account%s, %lu certificate%s", s->n,
	             r->accounts, r->accounts == 1 ? "" : "s",
	             r->certs, r->certs == 1 ? "" : "s");
	free(order);
	ureport_free(r);
}

static bool
ureport_failed(struct ureport *r, const struct dir_result *res, const char *what)
{
	char why[300];

	if (res->code == LDAP_SUCCESS)
		return false;
	request_done(r->req, schema_status_of_ldap(res->code), "directory: %s: %s", what,
	             dir_result_str(res, why, sizeof(why)));
	ureport_free(r);
	return true;
}

static void
on_certs_done(void *arg, const struct dir_result *res)
{
	struct ureport *r = arg;

	if (ureport_failed(r, res, "certificate records"))
		return;
	ureport_finish(r);
}

static void
ureport_certs(struct ureport *r)
{
	static const char *const attrs[] = {
		AT_UNIT, AT_CERT_STATUS, AT_CERT_NOT_AFTER, NULL
	};
	char *filter;

	filter = unit_filter(&r->units, OC_CERTIFICATE, "", r->root);
	dir_search(r->req->pd->dir, r->req->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, on_cert, on_certs_done, r);
	free(filter);
}

static void
on_accounts_done(void *arg, const struct dir_result *res)
{
	struct ureport *r = arg;

	if (ureport_failed(r, res, "accounts"))
		return;
	if (r->passwords) {
		ureport_finish(r);
		return;
	}
	ureport_certs(r);
}

/* One unit's accounts from the counts kept current (unitcount.h), as
 * on_account counts them; with --unit, only the units it covers. */
static void
on_unit_count(void *ctx, const char *unit, const unsigned long n[UNITCOUNT_STATES])
{
	struct ureport *r = ctx;
	size_t i = usnap_find(&r->units, unit);
	struct tally *t = i == SIZE_MAX ? &r->unknown : &r->units.u[i].own;

	if (r->root != SIZE_MAX && (i == SIZE_MAX || !usnap_within(&r->units, i, r->root)))
		return;
	t->n[C_ACTIVE] += n[UNITCOUNT_ACTIVE];
	t->n[C_DISABLED] += n[UNITCOUNT_DISABLED];
	t->n[C_DELETED] += n[UNITCOUNT_DELETED];
	r->accounts += n[UNITCOUNT_ACTIVE] + n[UNITCOUNT_DISABLED] + n[UNITCOUNT_DELETED];
}

/* report units and report passwords: one pass over the accounts (and, for
 * units, the certificate records), counted per unit and rolled up. */
static void
ureport_start(struct request *req, bool passwords)
{
	/* Only what is counted: an account's unit and state (and, for
	 * passwords, the initial password's marks); at 1,000,000 accounts
	 * every attribute more is a megabyte more to send and read. */
	static const char *const units_attrs[] = {
		AT_UNIT, AT_LOCKED_TIME, AT_DELETE_AFTER, NULL
	};
	static const char *const passwords_attrs[] = {
		AT_UNIT, AT_LOCKED_TIME, AT_DELETE_AFTER, AT_PWD_RESET, AT_PWD_END_TIME, NULL
	};
	const char *unit = cmd_arg(&req->args, "unit");
	struct ureport *r;
	char *filter;
	time_t now = time(NULL);

	if (check_unit_option(req, unit) < 0)
		return;
	r = xcalloc(1, sizeof(*r));
	r->req = req;
	r->passwords = passwords;
	r->columns = passwords ? passwords_columns : units_columns;
	r->ncolumns = passwords ? sizeof(passwords_columns) / sizeof(passwords_columns[0]) :
	              sizeof(units_columns) / sizeof(units_columns[0]);
	usnap_take(&r->units, req->pd->units);
	r->root = unit ? usnap_find(&r->units, unit) : SIZE_MAX;
	if (pkitime_format_ldap(now, r->now) < 0 ||
	    pkitime_format_ldap(now + (time_t)EXPIRING_WINDOW * DAY_SECONDS, r->soon) < 0) {
		request_done(req, ST_INTERNAL, "clock out of range");
		ureport_free(r);
		return;
	}
	/* report units: the accounts from the counts kept current, when
	 * known; else (and for passwords, which depend on the time) one pass. */
	if (!passwords && unitcount_each(on_unit_count, r)) {
		ureport_certs(r);
		return;
	}
	filter = unit_filter(&r->units, OC_PERSON, "", r->root);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           passwords ? passwords_attrs : units_attrs, 0, NULL, on_account,
	           on_accounts_done, r);
	free(filter);
}

void
report_units(struct request *req)
{
	ureport_start(req, false);
}

void
report_passwords(struct request *req)
{
	ureport_start(req, true);
}

/* ---- report expiring ---------------------------------------------------- */

struct expiring {
	char   unit[UNIT_CODE_MAX];
	char   not_after[PKITIME_LDAP_LEN + 1];
	char   login[64];
	char   serial[48];
	char  *name;
	char  *notified;   /* expiry notices sent: "DAYS TIME RCPTS; ..." */
	time_t when;
};

struct ereport {
	struct request  *req;
	struct expiring *v;
	size_t           n, cap;
	time_t           now;
	bool             too_many;
};

static void
ereport_free(struct ereport *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].notified);
	}
	free(r->v);
	free(r);
}

/* The notices sent for a record, as stored: "30d 2026...Z annv@...;
 * 7d ..." ("" for none); the caller frees it. */
static char *
expiring_notified(LDAP *ld, LDAPMessage *e)
{
	struct berval **v = ldap_get_values_len(ld, e, AT_CERT_NOTIFIED);
	size_t len = 1, off = 0, i;
	char *out;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		len += v[i]->bv_len + 2;
	out = xmalloc(len);
	out[0] = '\0';
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (off > 0) {
			memcpy(out + off, "; ", 2);
			off += 2;
		}
		memcpy(out + off, v[i]->bv_val, v[i]->bv_len);
		off += v[i]->bv_len;
		out[off] = '\0';
	}
	ldap_value_free_len(v);
	return out;
}

static void
on_expiring(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct ereport *r = arg;
	struct expiring *x;
	char err[128];

	if (r->too_many)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct expiring *v;

		if (r->n >= EXPIRING_MAX) {
			r->too_many = true;
			return;
		}
		v = xrealloc(r->v, cap * sizeof(*v));
		r->v = v;
		r->cap = cap;
	}
	x = &r->v[r->n];
	memset(x, 0, sizeof(*x));
	dir_entry_copy(ld, e, AT_CERT_NOT_AFTER, x->not_after, sizeof(x->not_after));
	if (pkitime_parse_ldap(x->not_after, &x->when, err, sizeof(err)) < 0)
		return;   /* not a record provd wrote; the filter let it through */
	dir_entry_copy(ld, e, AT_UNIT, x->unit, sizeof(x->unit));
	dir_entry_copy(ld, e, AT_UID, x->login, sizeof(x->login));
	dir_entry_copy(ld, e, AT_CERT_SERIAL, x->serial, sizeof(x->serial));
	if ((x->name = dir_entry_get(ld, e, AT_CN)) == NULL)
		x->name = xstrdup("");
	x->notified = expiring_notified(ld, e);
	r->n++;
}

static int
cmp_expiring(const void *a, const void *b)
{
	const struct expiring *x = a, *y = b;
	int d = strcmp(x->unit, y->unit);

	if (d == 0)
		d = strcmp(x->not_after, y->not_after);
	if (d == 0)
		d = strcmp(x->login, y->login);
	return d ? d : strcmp(x->serial, y->serial);
}

static void
on_expiring_done(void *arg, const struct dir_result *res)
{
	struct ereport *r = arg;
	struct request *req = r->req;
	char why[300];
	size_t i;

	if (res->code != LDAP_SUCCESS) {
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		ereport_free(r);
		return;
	}
	if (r->too_many) {
		request_done(req, ST_INTERNAL, "more than %d expiring certificates: ask for fewer days",
		             EXPIRING_MAX);
		ereport_free(r);
		return;
	}
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), cmp_expiring);
	for (i = 0; i < r->n; i++) {
		const struct expiring *x = &r->v[i];
		const struct unit *u = x->unit[0] ? units_find(req->pd->units, x->unit) : NULL;
		struct rec rec;

		rec_begin(&rec, req);
		rec_kv(&rec, "unit", x->unit[0] ? x->unit : "-");
		rec_kv(&rec, "unit_name", u && u->name && u->name[0] ? u->name : "-");
		rec_kv(&rec, "login", x->login[0] ? x->login : "-");
		rec_kv(&rec, "name", x->name[0] ? x->name : "-");
		rec_kv(&rec, "serial", x->serial);
		rec_kv(&rec, "not_after", x->not_after);
		rec_kvf(&rec, "days_left", "%lld",
		        (long long)((x->when - r->now) / DAY_SECONDS));
		rec_kv(&rec, "notified", x->notified[0] ? x->notified : "-");
		rec_end(&rec);
	}
	request_done(req, ST_OK, "%zu certificate%s to renew", r->n, r->n == 1 ? "" : "s");
	ereport_free(r);
}

void
report_expiring(struct request *req)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_UID, AT_CN, AT_UNIT, AT_CERT_NOT_AFTER, AT_CERT_NOTIFIED, NULL
	};
	const char *days_arg = cmd_arg(&req->args, "days");
	unsigned long days = REPORT_EXPIRING_DEFAULT_DAYS;
	char now_s[PKITIME_LDAP_LEN + 1], until_s[PKITIME_LDAP_LEN + 1], filter[200];
	struct ereport *r;

	if (days_arg != NULL) {
		size_t i, len = strlen(days_arg);

		for (i = 0; i < len; i++)
			if (days_arg[i] < '0' || days_arg[i] > '9')
				break;
		if (len == 0 || len > 6 || i < len ||
		    (days = strtoul(days_arg, NULL, 10)) > REPORT_EXPIRING_MAX_DAYS) {
			request_done(req, ST_USAGE, "days: want a whole number of days from 0 to %d",
			             REPORT_EXPIRING_MAX_DAYS);
			return;
		}
	}
	r = xcalloc(1, sizeof(*r));
	r->req = req;
	r->now = time(NULL);
	if (pkitime_format_ldap(r->now, now_s) < 0 ||
	    pkitime_format_ldap(r->now + (time_t)days * DAY_SECONDS, until_s) < 0) {
		request_done(req, ST_INTERNAL, "clock out of range");
		ereport_free(r);
		return;
	}
	snprintf(filter, sizeof(filter),
	         "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_STATUS "=valid)"
	         "(" AT_CERT_NOT_AFTER ">=%s)(" AT_CERT_NOT_AFTER "<=%s))", now_s, until_s);
	dir_search(req->pd->dir, req->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0,
	           NULL, on_expiring, on_expiring_done, r);
}
