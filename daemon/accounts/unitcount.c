/* unitcount — accounts per unit and state, kept current. See unitcount.h. */
#include "unitcount.h"

#include <ldap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

#define UNITCOUNT_REFRESH_MS 600000u
#define UNITCOUNT_RETRY_MS   2000u
#define CODES_MAX            4096u    /* departmentNumber values told apart */
#define CODE_LEN_MAX         128u     /* longer ones count as "" */
#define F_LOCKED  1u                  /* pwdAccountLockedTime: for ever */
#define F_DELETE  2u                  /* provdDeleteAfter set */
#define H_EMPTY   0u
#define H_GONE    1u                  /* a removed slot */

struct member {
	uint64_t h;                       /* the DN's hash; H_EMPTY, H_GONE */
	uint16_t code;                    /* index into codes */
	uint8_t  flags;
};

struct table {
	struct member *v;
	size_t         cap, n, gone;
	unsigned long (*tally)[UNITCOUNT_STATES];   /* per code */
	size_t         ntally;
};

static struct unitcount {
	struct provd  *pd;
	bool           known, running, failed;
	struct table   live, next;        /* followed; being counted */
	struct timer  *timer;
	char          *codes[CODES_MAX];  /* codes[0] = "" */
	size_t         ncodes;
	uint16_t       code_slot[CODES_MAX * 2];  /* index + 1, open addressing */
} uc;

static void schedule(unsigned ms);

static uint64_t
fnv(const char *s, bool fold)
{
	uint64_t x = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		x = (x ^ c) * 1099511628211ull;
	}
	return x;
}

/* The index of a unit code, added when new (past CODES_MAX: ""). */
static uint16_t
code_of(const char *code)
{
	size_t i, mask = CODES_MAX * 2 - 1;

	if (code == NULL || code[0] == '\0' || strlen(code) > CODE_LEN_MAX)
		return 0;
	for (i = (size_t)fnv(code, false) & mask; uc.code_slot[i] != 0; i = (i + 1) & mask)
		if (strcmp(uc.codes[uc.code_slot[i] - 1], code) == 0)
			return (uint16_t)(uc.code_slot[i] - 1);
	if (uc.ncodes >= CODES_MAX) {
		log_warnx("unitcount: more than %u unit codes; the rest count as none", CODES_MAX);
		return 0;
	}
	uc.codes[uc.ncodes] = xstrdup(code);
	uc.code_slot[i] = (uint16_t)(uc.ncodes + 1);
	return (uint16_t)uc.ncodes++;
}

static int
state_of(unsigned flags)
{
	return flags & F_DELETE ? UNITCOUNT_DELETED : flags & F_LOCKED ? UNITCOUNT_DISABLED :
	       UNITCOUNT_ACTIVE;
}

static void
tally(struct table *t, uint16_t code, unsigned flags, long d)
{
	unsigned long *n;

	if (code >= t->ntally) {
		size_t old = t->ntally;

		t->ntally = CODES_MAX;
		t->tally = xrealloc(t->tally, t->ntally * sizeof(*t->tally));
		memset(t->tally + old, 0, (t->ntally - old) * sizeof(*t->tally));
	}
	n = &t->tally[code][state_of(flags)];
	if (d > 0)
		(*n)++;
	else if (*n > 0)
		(*n)--;
}

static void
table_free(struct table *t)
{
	free(t->v);
	free(t->tally);
	memset(t, 0, sizeof(*t));
}

/* The slot of h, or of the first free slot on its way (cap > 0). */
static size_t
slot_of(const struct table *t, uint64_t h, bool *found)
{
	size_t i, mask = t->cap - 1, free_at = SIZE_MAX;

	for (i = (size_t)h & mask; t->v[i].h != H_EMPTY; i = (i + 1) & mask) {
		if (t->v[i].h == h) {
			*found = true;
			return i;
		}
		if (t->v[i].h == H_GONE && free_at == SIZE_MAX)
			free_at = i;
	}
	*found = false;
	return free_at != SIZE_MAX ? free_at : i;
}

static void
grow(struct table *t)
{
	struct member *old = t->v;
	size_t oldcap = t->cap, k;
	bool found;

	if (t->cap != 0 && (t->n + t->gone + 1) * 2 <= t->cap)
		return;
	t->cap = oldcap == 0 ? 1024 : (t->n + 1) * 2 > oldcap / 2 ? oldcap * 2 : oldcap;
	t->v = xcalloc(t->cap, sizeof(*t->v));
	t->gone = 0;
	for (k = 0; k < oldcap; k++)
		if (old[k].h > H_GONE)
			t->v[slot_of(t, old[k].h, &found)] = old[k];
	free(old);
}

static uint64_t
dn_hash(const char *dn)
{
	uint64_t h = fnv(dn, true);

	return h > H_GONE ? h : h + 2;
}

/* The account h is in code with flags (added or changed). */
static void
put(struct table *t, uint64_t h, uint16_t code, unsigned flags)
{
	size_t i;
	bool found;

	grow(t);
	i = slot_of(t, h, &found);
	if (found)
		tally(t, t->v[i].code, t->v[i].flags, -1);
	else {
		if (t->v[i].h == H_GONE)
			t->gone--;
		t->n++;
	}
	t->v[i] = (struct member){ h, code, (uint8_t)flags };
	tally(t, code, flags, +1);
}

static void
del(struct table *t, uint64_t h)
{
	size_t i;
	bool found = false;

	if (t->cap == 0)
		return;
	i = slot_of(t, h, &found);
	if (!found)
		return;
	tally(t, t->v[i].code, t->v[i].flags, -1);
	t->v[i].h = H_GONE;
	t->n--;
	t->gone++;
}

/* ---- following writes -------------------------------------------------- */

static bool
is_account(const char *dn, const char *people)
{
	size_t n = strlen(dn), m = strlen(people);
	const char *comma = strchr(dn, ',');

	/* Right below people_dn (provd's logins have no escaped comma). */
	return comma != NULL && comma > dn && comma[-1] != '\\' && (size_t)(comma - dn) + 1 + m == n &&
	       strcasecmp(comma + 1, people) == 0;
}

static bool
bv_is(const struct berval *v, const char *s)
{
	return v->bv_len == strlen(s) && memcmp(v->bv_val, s, v->bv_len) == 0;
}

/* Apply the modifications (an add's attributes) to code and flags; true
 * when one of them touches the unit, the lock or the retention mark. */
static bool
apply_mods(LDAPMod *const *mods, uint16_t *code, unsigned *flags)
{
	char buf[CODE_LEN_MAX + 1];
	bool touched = false;
	size_t i;

	for (i = 0; mods != NULL && mods[i] != NULL; i++) {
		const LDAPMod *m = mods[i];
		int op = m->mod_op & ~LDAP_MOD_BVALUES;
		const struct berval *v0 = m->mod_bvalues != NULL ? m->mod_bvalues[0] : NULL;
		bool set = op != LDAP_MOD_DELETE && v0 != NULL;

		if (strcasecmp(m->mod_type, AT_UNIT) == 0) {
			touched = true;
			if (op == LDAP_MOD_DELETE || (op == LDAP_MOD_REPLACE && v0 == NULL))
				*code = 0;
			else if (v0 != NULL && v0->bv_len <= CODE_LEN_MAX) {
				memcpy(buf, v0->bv_val, v0->bv_len);
				buf[v0->bv_len] = '\0';
				*code = code_of(buf);
			} else if (v0 != NULL)
				*code = 0;
		} else if (strcasecmp(m->mod_type, AT_LOCKED_TIME) == 0) {
			touched = true;
			*flags = (*flags & ~F_LOCKED) | (set && bv_is(v0, SCHEMA_LOCKED_FOREVER) ? F_LOCKED : 0);
		} else if (strcasecmp(m->mod_type, AT_DELETE_AFTER) == 0) {
			touched = true;
			*flags = (*flags & ~F_DELETE) | (set ? F_DELETE : 0);
		}
	}
	return touched;
}

/* Follow one write in t; false: a modify of an account t does not hold. */
static bool
follow(struct table *t, enum dir_wrote what, uint64_t h, LDAPMod *const *mods)
{
	uint16_t code = 0;
	unsigned flags = 0;
	size_t i;
	bool found = false;

	switch (what) {
	case DIR_WROTE_ADD:
		(void)apply_mods(mods, &code, &flags);
		put(t, h, code, flags);
		break;
	case DIR_WROTE_DELETE:
		del(t, h);
		break;
	case DIR_WROTE_MODIFY:
		i = t->cap != 0 ? slot_of(t, h, &found) : 0;
		if (!found)
			return false;
		code = t->v[i].code;
		flags = t->v[i].flags;
		if (apply_mods(mods, &code, &flags))
			put(t, h, code, flags);
		break;
	}
	return true;
}

static void
on_write(void *ctx, enum dir_wrote what, const char *dn, LDAPMod *const *mods)
{
	struct provd *pd = ctx;
	uint16_t code = 0;
	unsigned flags = 0;
	uint64_t h;

	if (!is_account(dn, pd->cfg.people_dn))
		return;
	h = dn_hash(dn);
	/* A count running: its table follows too (an account it has not
	 * read yet, it reads as it is now). */
	if (uc.running)
		(void)follow(&uc.next, what, h, mods);
	if (!follow(&uc.live, what, h, mods) && apply_mods(mods, &code, &flags)) {
		/* An account not counted (another writer made it since): not
		 * known until it is counted again, soon. */
		uc.known = false;
		schedule(UNITCOUNT_RETRY_MS);
	}
}

/* ---- counting ------------------------------------------------------------ */

static void
count_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	char *dn = dir_entry_dn(ld, e);
	char *unit = dir_entry_get(ld, e, AT_UNIT);
	char *locked = dir_entry_get(ld, e, AT_LOCKED_TIME);
	char *del_after = dir_entry_get(ld, e, AT_DELETE_AFTER);

	(void)arg;
	if (dn != NULL)
		put(&uc.next, dn_hash(dn), code_of(unit),
		    (locked != NULL && strcmp(locked, SCHEMA_LOCKED_FOREVER) == 0 ? F_LOCKED : 0) |
		    (del_after != NULL ? F_DELETE : 0));
	free(dn);
	free(unit);
	free(locked);
	free(del_after);
}

static void
count_done(void *arg, const struct dir_result *res)
{
	(void)arg;
	uc.running = false;
	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		table_free(&uc.next);
		schedule(UNITCOUNT_RETRY_MS);
		return;
	}
	table_free(&uc.live);
	uc.live = uc.next;
	memset(&uc.next, 0, sizeof(uc.next));
	uc.known = true;
	schedule(UNITCOUNT_REFRESH_MS);
}

static void
count(void *arg)
{
	static const char *const attrs[] = { AT_UNIT, AT_LOCKED_TIME, AT_DELETE_AFTER, NULL };

	(void)arg;
	uc.timer = NULL;
	if (uc.running || !dir_connected(uc.pd->dir))
		return;
	uc.running = true;
	table_free(&uc.next);
	dir_search(uc.pd->dir, uc.pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", attrs, 0, NULL, count_entry,
	           count_done, NULL);
}

static void
schedule(unsigned ms)
{
	if (uc.pd == NULL)
		return;
	if (uc.timer != NULL)
		loop_timer_cancel(uc.pd->loop, uc.timer);
	uc.timer = loop_timer(uc.pd->loop, ms, count, NULL);
}

void
unitcount_start(struct provd *pd)
{
	uc.pd = pd;
	uc.codes[0] = xstrdup("");
	uc.ncodes = 1;
	if (dir_on_write(pd->dir, on_write, pd) < 0)
		fatalx("unitcount: too many directory write observers");
}

void
unitcount_refresh(struct provd *pd)
{
	(void)pd;
	schedule(0);
}

void
unitcount_stop(struct provd *pd)
{
	size_t i;

	if (uc.timer != NULL)
		loop_timer_cancel(pd->loop, uc.timer);
	uc.timer = NULL;
	table_free(&uc.live);
	table_free(&uc.next);
	for (i = 0; i < uc.ncodes; i++)
		free(uc.codes[i]);
	memset(&uc, 0, sizeof(uc));
}

bool
unitcount_each(unitcount_fn *fn, void *ctx)
{
	size_t i;

	if (!uc.known)
		return false;
	for (i = 0; i < uc.live.ntally && i < uc.ncodes; i++)
		if (uc.live.tally[i][0] + uc.live.tally[i][1] + uc.live.tally[i][2] > 0)
			fn(ctx, uc.codes[i], uc.live.tally[i]);
	return true;
}
