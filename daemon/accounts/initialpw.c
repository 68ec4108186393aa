/* initialpw — initial passwords expire.  See initialpw.h. */
#include "initialpw.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dir.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

#define DAY_SECONDS  86400
#define SWEEP_BATCH  5000    /* entries one pass handles; the next pass goes on */
#define FIRST_SWEEP_MS 2000

/* One entry to change: its DN and the pwdEndTime value read. */
struct target {
	char *dn;
	char  end[PKITIME_LDAP_LEN + 1];
};

struct initialpw {
	struct provd  *pd;
	struct timer  *timer;
	bool           running;     /* a pass is in flight */
	bool           stopped;
	int            pass;        /* 0: expire, 1: lift deadlines */
	struct target *t;
	size_t         n, cap, next, inflight;
	unsigned long  expired, lifted;
};

int
initialpw_deadline(const struct config *cfg, time_t now,
    char out[PKITIME_LDAP_LEN + 1])
{
	out[0] = '\0';
	if (cfg->initial_password_days == 0)
		return 0;
	return pkitime_format_ldap(now + (time_t)cfg->initial_password_days *
	    DAY_SECONDS, out);
}

enum initialpw_state
initialpw_state(LDAP *ld, LDAPMessage *e, const char *now)
{
	char reset[8], end[PKITIME_LDAP_LEN + 1];

	dir_entry_copy(ld, e, AT_PWD_RESET, reset, sizeof(reset));
	if (strcmp(reset, "TRUE") != 0)
		return INITIALPW_OWN;
	dir_entry_copy(ld, e, AT_PWD_END_TIME, end, sizeof(end));
	/* GeneralizedTime YYYYMMDDHHMMSSZ compares as text. */
	if (end[0] != '\0' && strcmp(end, now) <= 0)
		return INITIALPW_EXPIRED;
	return INITIALPW_INITIAL;
}

static void sweep_pass(struct initialpw *s);
static void schedule(struct initialpw *s, uint64_t ms);

static void
targets_clear(struct initialpw *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->t[i].dn);
	s->n = s->next = 0;
}

static void
on_target(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct initialpw *s = arg;
	struct target *t;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct target *nt;

		if (ncap > SWEEP_BATCH)
			return;             /* the next pass takes the rest */
		nt = xrealloc(s->t, ncap * sizeof(*nt));
		s->t = nt;
		s->cap = ncap;
	}
	t = &s->t[s->n];
	dir_entry_copy(ld, e, AT_PWD_END_TIME, t->end, sizeof(t->end));
	if (t->end[0] == '\0' || (t->dn = dir_entry_dn(ld, e)) == NULL)
		return;
	s->n++;
}

static void
on_modified(void *arg, const struct dir_result *res)
{
	struct initialpw *s = arg;

	s->inflight--;
	if (res->code == LDAP_SUCCESS) {
		if (s->pass == 0)
			s->expired++;
		else
			s->lifted++;
	} else if (res->code != LDAP_NO_SUCH_ATTRIBUTE &&
	    res->code != LDAP_NO_SUCH_OBJECT && res->code != LDAP_ASSERTION_FAILED) {
		char why[300];

		log_warnx("initial passwords: %s", dir_result_str(res, why, sizeof(why)));
	}
	if (s->inflight == 0)
		sweep_pass(s);
}

/* Modify every target: expire (pass 0) or lift the deadline (pass 1). */
static void
modify_targets(struct initialpw *s)
{
	const char *guard[] = { NULL, NULL };
	struct dir_mods *m;
	LDAPControl *assert_reset = NULL, *ctrls[] = { NULL, NULL };
	LDAP *ld = dir_ldap(s->pd->dir);

	/* Expiring: the password is removed only while it is still the
	 * initial one (pwdReset=TRUE, asserted in the same operation), so a
	 * person who changed it a moment ago keeps their own. */
	if (s->pass == 0) {
		if (ld == NULL || ldap_create_assertion_control(ld,
		    "(" AT_PWD_RESET "=TRUE)", 1, &assert_reset) != LDAP_SUCCESS) {
			log_debug("initial passwords: directory unavailable");
			sweep_pass(s);          /* this pass again next time */
			return;
		}
		ctrls[0] = assert_reset;
	}
	for (size_t i = 0; i < s->n; i++) {
		guard[0] = s->t[i].end;
		m = dir_mods_new();
		dir_mods_add(m, LDAP_MOD_DELETE, AT_PWD_END_TIME, guard);
		if (s->pass == 0) {
			dir_mods_add(m, LDAP_MOD_ADD, AT_PWD_END_TIME, guard);
			dir_mods_add(m, LDAP_MOD_DELETE, AT_PASSWORD, NULL);
		}
		s->inflight++;
		dir_modify(s->pd->dir, s->t[i].dn, dir_mods_get(m),
		           assert_reset != NULL ? ctrls : NULL, on_modified, s);
		dir_mods_free(m);
	}
	if (assert_reset != NULL)
		ldap_control_free(assert_reset);
}

static void
on_searched(void *arg, const struct dir_result *res)
{
	struct initialpw *s = arg;

	if (s->stopped) {
		targets_clear(s);
		free(s->t);
		free(s);
		return;
	}
	if (res->code != LDAP_SUCCESS && res->code != LDAP_SIZELIMIT_EXCEEDED) {
		char why[300];

		log_debug("initial passwords: search: %s", dir_result_str(res, why, sizeof(why)));
		targets_clear(s);
		s->running = false;
		schedule(s, (uint64_t)s->pd->cfg.initial_password_sweep * 1000);
		return;
	}
	if (s->n == 0) {
		sweep_pass(s);
		return;
	}
	modify_targets(s);
}

/* Run the next pass, or finish the sweep. */
static void
sweep_pass(struct initialpw *s)
{
	static const char *const attrs[] = { AT_PWD_END_TIME, NULL };
	char now[PKITIME_LDAP_LEN + 1], filter[160];

	if (s->stopped) {
		targets_clear(s);
		free(s->t);
		free(s);
		return;
	}
	if (s->running)
		s->pass++;
	targets_clear(s);
	s->running = true;
	if (s->pass > 1) {
		if (s->expired || s->lifted)
			log_info("initial passwords: %lu expired and removed, %lu "
			    "deadlines lifted from passwords of their own",
			    s->expired, s->lifted);
		s->running = false;
		schedule(s, (uint64_t)s->pd->cfg.initial_password_sweep * 1000);
		return;
	}
	if (pkitime_format_ldap(time(NULL), now) < 0) {
		s->running = false;
		schedule(s, (uint64_t)s->pd->cfg.initial_password_sweep * 1000);
		return;
	}
	if (s->pass == 0)
		snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")"
		    "(" AT_PWD_RESET "=TRUE)(" AT_PWD_END_TIME "<=%s)(" AT_PASSWORD "=*))", now);
	else
		snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")"
		    "(" AT_PWD_END_TIME "=*)(!(" AT_PWD_RESET "=TRUE)))");
	dir_search(s->pd->dir, s->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	    attrs, SWEEP_BATCH, NULL, on_target, on_searched, s);
}

static void
on_timer(void *arg)
{
	struct initialpw *s = arg;

	s->timer = NULL;
	if (s->running || !dir_connected(s->pd->dir)) {
		schedule(s, (uint64_t)s->pd->cfg.initial_password_sweep * 1000);
		return;
	}
	s->pass = 0;
	s->expired = s->lifted = 0;
	sweep_pass(s);
}

static void
schedule(struct initialpw *s, uint64_t ms)
{
	if (s->stopped)
		return;
	s->timer = loop_timer(s->pd->loop, ms, on_timer, s);
}

void
initialpw_start(struct provd *pd)
{
	struct initialpw *s;

	if (pd->initialpw != NULL)
		return;
	s = xcalloc(1, sizeof(*s));
	s->pd = pd;
	pd->initialpw = s;
	schedule(s, FIRST_SWEEP_MS);
}

void
initialpw_stop(struct provd *pd)
{
	struct initialpw *s = pd->initialpw;

	if (s == NULL)
		return;
	pd->initialpw = NULL;
	s->stopped = true;
	if (s->timer != NULL)
		loop_timer_cancel(pd->loop, s->timer);
	s->timer = NULL;
	if (!s->running) {
		targets_clear(s);
		free(s->t);
		free(s);
	}
}
