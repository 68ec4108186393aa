/* writer — the writer lease that keeps one writing provider. See writer.h. */
#include "writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

#define LEASE_VALUE_MAX 600
#define RETRY_MS        1000

struct writer {
	struct provd *pd;
	struct timer *timer;
	unsigned long gen; /* connection generation; stale answers are dropped */
	bool busy;         /* a read or a write of the lease in flight */
	bool exists;
	char value[LEASE_VALUE_MAX]; /* the lease as read */
	char dn[1024];
	char shown[1600]; /* last state, for status and to log changes */
	bool held;        /* this provd held the lease at the last read */
	void (*on_split)(struct provd *pd);
};

struct lease {
	unsigned long pos;
	long long renewed;
	char uri[LEASE_VALUE_MAX];
};

struct step {
	struct writer *w;
	unsigned long gen;
	char value[LEASE_VALUE_MAX]; /* what was written */
};

static void check(struct writer *w);

static bool
lease_parse(const char *v, struct lease *l)
{
	int used = 0;

	l->uri[0] = '\0';
	if (sscanf(v, "%lu %lld %n", &l->pos, &l->renewed, &used) < 2 || used <= 0)
		return false;
	snprintf(l->uri, sizeof(l->uri), "%s", v + used);
	return true;
}

static void
on_timer(void *arg)
{
	struct writer *w = arg;

	w->timer = NULL;
	check(w);
}

static void
schedule(struct writer *w, uint64_t ms)
{
	if (w->timer != NULL)
		loop_timer_cancel(w->pd->loop, w->timer);
	w->timer = loop_timer(w->pd->loop, ms, on_timer, w);
}

/* Set the gate; log when the state shown changes. */
static void
set_gate(struct writer *w, enum dir_gate g, const char *why)
{
	char shown[sizeof(w->shown)];

	dir_set_write_gate(w->pd->dir, g, why);
	snprintf(shown, sizeof(shown), "%s%s%s",
	         g == DIR_GATE_OPEN           ? "open"
	                 : g == DIR_GATE_HOLD ? "pending"
	                                      : "closed",
	         why != NULL && why[0] ? ": " : "", why != NULL ? why : "");
	if (strcmp(shown, w->shown) != 0) {
		if (g == DIR_GATE_CLOSED)
			log_warnx("writer: writes refused: %s", why);
		else if (g == DIR_GATE_OPEN)
			log_info("writer: writes go to %s", dir_uri(w->pd->dir));
	}
	snprintf(w->shown, sizeof(w->shown), "%s", shown);
}

static void
write_done(void *arg, const struct dir_result *res)
{
	struct step *st = arg;
	struct writer *w = st->w;
	char buf[256], why[1536];

	w->busy = false;
	if (st->gen != w->gen) {
		free(st);
		check(w);
		return;
	}
	if (res->code == LDAP_SUCCESS) {
		snprintf(w->value, sizeof(w->value), "%s", st->value);
		w->exists = true;
		w->held = true;
		set_gate(w, DIR_GATE_OPEN, "");
		schedule(w, (uint64_t)w->pd->cfg.writer_lease * 1000u / 3u);
	} else if (res->code == LDAP_ASSERTION_FAILED || res->code == LDAP_ALREADY_EXISTS) {
		schedule(w, 0); /* someone else wrote it: read again */
	} else {
		snprintf(why, sizeof(why), "cannot write the writer lease %s on %s: %s", w->dn,
		         dir_uri(w->pd->dir), dir_result_str(res, buf, sizeof(buf)));
		set_gate(w, DIR_GATE_CLOSED, why);
		schedule(w, RETRY_MS);
	}
	free(st);
}

/* Claim the lease for our position: add it, or replace the value read if
 * it is still that value. */
static void
claim(struct writer *w, long long now)
{
	struct provd *pd = w->pd;
	struct step *st = xcalloc(1, sizeof(*st));
	struct dir_mods *m = dir_mods_new();
	LDAPControl *ctrl = NULL, *ctrls[2] = {NULL, NULL};
	char assertion[LEASE_VALUE_MAX * 3 + 32], esc[LEASE_VALUE_MAX * 3 + 1];
	struct berval bv, out = {0, NULL};

	st->w = w;
	st->gen = w->gen;
	snprintf(st->value, sizeof(st->value), "%zu %lld %s", dir_uri_index(pd->dir), now,
	         dir_uri(pd->dir));
	w->busy = true;
	if (!w->exists) {
		dir_mods_add1(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, OC_APP_PROCESS);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CN, "provd-writer");
		dir_mods_add1(m, LDAP_MOD_ADD, AT_DESCRIPTION, st->value);
		dir_add_ungated(pd->dir, w->dn, dir_mods_get(m), NULL, write_done, st);
		dir_mods_free(m);
		return;
	}
	bv.bv_val = w->value;
	bv.bv_len = strlen(w->value);
	if (ldap_bv2escaped_filter_value(&bv, &out) != 0)
		fatal("writer: out of memory");
	snprintf(esc, sizeof(esc), "%s", out.bv_val);
	ldap_memfree(out.bv_val);
	snprintf(assertion, sizeof(assertion), "(" AT_DESCRIPTION "=%s)", esc);
	if (dir_ldap(pd->dir) == NULL ||
	    ldap_create_assertion_control(dir_ldap(pd->dir), assertion, 1, &ctrl) != LDAP_SUCCESS) {
		w->busy = false;
		free(st);
		dir_mods_free(m);
		set_gate(w, DIR_GATE_CLOSED, "directory unavailable");
		schedule(w, RETRY_MS);
		return;
	}
	ctrls[0] = ctrl;
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_DESCRIPTION, st->value);
	dir_modify_ungated(pd->dir, w->dn, dir_mods_get(m), ctrls, write_done, st);
	dir_mods_free(m);
	ldap_control_free(ctrl);
}

/* What the lease read means for this provd. */
static void
decide(struct writer *w)
{
	struct provd *pd = w->pd;
	long long now = (long long)time(NULL), lease = pd->cfg.writer_lease, age, left;
	size_t mine = dir_uri_index(pd->dir);
	struct lease l;
	char why[1536];

	if (!w->exists || !lease_parse(w->value, &l)) {
		claim(w, now);
		return;
	}
	age = now - l.renewed;
	if (age < 0)
		age = 0; /* a clock ahead of ours: count it fresh */
	if (l.pos == mine) {
		w->held = true;
		if (age * 3 < lease) {
			set_gate(w, DIR_GATE_OPEN, "");
			schedule(w, (uint64_t)(lease * 1000 / 3 - age * 1000));
		} else {
			claim(w, now);
		}
		return;
	}
	if (age >= lease) {
		w->held = false;
		log_info("writer: the lease of %s (position %lu) ended %lld s ago; taking over on "
		         "%s",
		         l.uri, l.pos, age - lease, dir_uri(pd->dir));
		claim(w, now);
		return;
	}
	left = lease - age;
	if (w->held) {
		/* We held the lease and another position renewed it meanwhile:
		 * two providers took writes (a partition that has healed). */
		log_warnx("writer: %s (position %lu) took writes while this provd held the lease "
		          "on %s; looking for conflicts",
		          l.uri, l.pos, dir_uri(pd->dir));
		w->held = false;
		if (w->on_split != NULL)
			w->on_split(pd);
	}
	if (l.pos < mine)
		snprintf(why, sizeof(why),
		         "not the writer: the sites write to %s (position %lu of "
		         "ldap.uris, lease renewed %lld s ago as seen on %s), which this provd "
		         "cannot "
		         "reach; writes are refused until that lease ends in %lld s",
		         l.uri, l.pos, age, dir_uri(pd->dir), left);
	else
		snprintf(why, sizeof(why),
		         "not the writer yet: provds still write to %s (position "
		         "%lu of ldap.uris, lease renewed %lld s ago); %s takes over when that "
		         "lease "
		         "ends in %lld s",
		         l.uri, l.pos, age, dir_uri(pd->dir), left);
	set_gate(w, DIR_GATE_CLOSED, why);
	schedule(w, (uint64_t)(left < lease / 3 ? left : lease / 3) * 1000u + 100u);
}

static void
read_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct step *st = arg;

	st->w->exists = true;
	dir_entry_copy(ld, e, AT_DESCRIPTION, st->w->value, sizeof(st->w->value));
}

static void
read_done(void *arg, const struct dir_result *res)
{
	struct step *st = arg;
	struct writer *w = st->w;
	char buf[256], why[1536];
	bool stale = st->gen != w->gen;

	free(st);
	w->busy = false;
	if (stale) {
		check(w);
		return;
	}
	if (res->code == LDAP_NO_SUCH_OBJECT)
		w->exists = false;
	else if (res->code != LDAP_SUCCESS) {
		snprintf(why, sizeof(why), "cannot read the writer lease %s on %s: %s", w->dn,
		         dir_uri(w->pd->dir), dir_result_str(res, buf, sizeof(buf)));
		set_gate(w, DIR_GATE_CLOSED, why);
		schedule(w, RETRY_MS);
		return;
	}
	decide(w);
}

static void
check(struct writer *w)
{
	static const char *const attrs[] = {AT_DESCRIPTION, NULL};
	struct step *st;

	if (w->busy || !dir_connected(w->pd->dir))
		return;
	if (w->pd->cfg.nuris <= 1) {
		set_gate(w, DIR_GATE_OPEN, "");
		return;
	}
	st = xcalloc(1, sizeof(*st));
	st->w = w;
	st->gen = w->gen;
	w->busy = true;
	w->exists = false;
	w->value[0] = '\0';
	snprintf(w->dn, sizeof(w->dn), "cn=provd-writer,%s", w->pd->cfg.base);
	dir_search(w->pd->dir, w->dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs, 1, NULL,
	           read_entry, read_done, st);
}

struct writer *
writer_new(struct provd *pd, void (*on_split)(struct provd *pd))
{
	struct writer *w = xcalloc(1, sizeof(*w));

	w->pd = pd;
	w->on_split = on_split;
	return w;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	if (w->timer != NULL)
		loop_timer_cancel(w->pd->loop, w->timer);
	free(w);
}

void
writer_on_state(struct writer *w, bool up)
{
	w->gen++;
	w->held = false;
	if (w->pd->cfg.nuris <= 1) {
		set_gate(w, DIR_GATE_OPEN, "");
		return;
	}
	if (w->timer != NULL) {
		loop_timer_cancel(w->pd->loop, w->timer);
		w->timer = NULL;
	}
	set_gate(w, DIR_GATE_HOLD,
	         up ? "checking which provider takes writes" : "reconnecting to the directory");
	if (up && !w->busy)
		check(w);
	/* busy: the answer in flight belongs to the old generation; its
	 * callback starts the check. */
}

const char *
writer_describe(const struct writer *w, char *buf, size_t len)
{
	if (w->pd->cfg.nuris <= 1)
		snprintf(buf, len, "single provider");
	else
		snprintf(buf, len, "%s", w->shown[0] ? w->shown : "pending");
	return buf;
}
