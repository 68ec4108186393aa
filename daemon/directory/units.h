/*
 * units — an in-memory copy of ou=units (166 entries here; a country has a
 * few thousand), reloaded whenever the directory connection comes up and
 * after every unit change.  Handlers validate unit codes, walk parents and
 * expand subtrees from it without a directory round trip.
 *
 * A table is an immutable, reference-counted snapshot: a reload builds a
 * new one and puts it in pd->units, and the old one lives on until the
 * last request holding it lets go.  Code that uses units only within one
 * callback reads pd->units; code that keeps a `const struct unit *` (or
 * the table) across an asynchronous step (a directory operation, a worker
 * job) takes units_ref(pd->units) first and units_unref() when done.
 */
#ifndef PROVD_UNITS_H
#define PROVD_UNITS_H

#include <stdbool.h>
#include <stddef.h>

struct provd;
struct units;

#define UNIT_CODE_MAX 64

struct unit {
	char  code[UNIT_CODE_MAX];
	char *name;                 /* Vietnamese name, UTF-8 */
	char  kind[16];             /* province, department, district, ward, commune */
	char  parent[UNIT_CODE_MAX];/* "" for top-level units */
	char **aliases;             /* codes of units merged into this one
	                               (provdUnitAlias), NULL-terminated; NULL
	                               when none.  <alias>@<domain> still reaches
	                               this unit (etc/postfix/ldap-units-aliases.cf) */
};

/* An empty, not yet loaded table with one reference (the caller's). */
struct units *units_new(void);
/* Another reference to u; returns u. */
struct units *units_ref(struct units *u);
/* Drop a reference; the last one frees the table and its units. NULL ok. */
void units_unref(struct units *u);

/* Reload from the directory (async).  done(ctx, ok) is called when the new
 * table is in pd->units (ok; the old one was unref'd) or the search failed
 * (old table kept). */
typedef void units_done_fn(void *ctx, bool ok);
void units_reload(struct provd *pd, units_done_fn *done, void *ctx);

/* A loaded table holding copies of v[0..n) (names and aliases copied; the
 * caller keeps v), with one reference; NULL when a code is invalid.  For tools and tests that have a unit list without a
 * directory; provd itself loads with units_reload. */
struct units *units_from(const struct unit *v, size_t n);
/* A loaded table of the n units of v (taking v and the names in it), with
 * one reference: what units_reload builds
 * from the directory, and `provd bootstrap` from a units file. */
struct units *units_from_array(struct unit *v, size_t n);

bool units_loaded(const struct units *u);
size_t units_count(const struct units *u);
const struct unit *units_at(const struct units *u, size_t i);   /* sorted by code */
const struct unit *units_find(const struct units *u, const char *code);

/* The unit whose address local@<domain> is: the unit with that code, or
 * the unit that keeps it as the alias of a unit merged into it.  NULL when
 * neither. */
const struct unit *units_owner(const struct units *u, const char *local);

/* Is code one of x's aliases? */
bool units_has_alias(const struct unit *x, const char *code);

/* A valid unit kind: province, department, district, ward or commune. */
bool units_kind_valid(const char *kind);

/* Is code the unit `ancestor` or below it? */
bool units_within(const struct units *u, const char *code, const char *ancestor);

/* "Huyện Tam Đảo / Xã Hợp Châu" — names from the top down.  Returns out. */
const char *units_path(const struct units *u, const char *code, char *out, size_t outsz);

/* A valid unit code: [a-z0-9-], 1..63 chars, no leading/trailing '-'. */
bool units_code_valid(const char *code);

#endif
