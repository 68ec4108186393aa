/* olddomain — an old mail domain ends at its until date.  See olddomain.h. */
#include "olddomain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "dir.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

#define SWEEP_MS        60000
#define FIRST_SWEEP_MS  2000
#define SWEEP_TARGETS   5000    /* entries one pass changes; the next pass goes on */
#define LIST_MAX        ((CONFIG_MAX_OLD_DOMAINS + 1) * 256)

/* One entry to change: its DN and the addresses to delete. */
struct target {
	char  *dn;
	char **gone;                /* NULL-terminated */
};

struct sweep {
	struct provd  *pd;
	struct timer  *timer;
	bool           running, stopped;
	struct target *t;
	size_t         n, cap, inflight;
	unsigned long  removed, named;   /* this run: accounts changed, mails left */
	bool           full;             /* a pass stopped at SWEEP_TARGETS, or a
	                                  * value read was gone: another pass */
	bool           failed;           /* a write failed: again next time */
	char          *clean[CONFIG_MAX_OLD_DOMAINS]; /* swept domains (names) */
	size_t         nclean;
	time_t         now;
};

static struct sweep *sweep;

static void schedule(struct sweep *s, uint64_t ms);
static void pass(struct sweep *s);

/* ---- the lists for Postfix ------------------------------------------------ */

/* Replace dir/name by `text` unless it holds exactly that already. */
static int
replace_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4096], old[LIST_MAX + 2];
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		n = read(fd, old, sizeof(old) - 1);
		close(fd);
		if (n >= 0 && (size_t)n == len && memcmp(old, text, len) == 0)
			return 0;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return -1;
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0) {
		saved = errno;
		close(fd);
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	if (rename(tmp, path) < 0) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	log_info("mail domains: %s now lists %.*s", path, (int)strcspn(text, "\n"), text);
	return 0;
}

int
olddomain_write_lists(const struct config *cfg, time_t now)
{
	char all[LIST_MAX], units[LIST_MAX];
	size_t i, na, nu;

	if (cfg->domain_lists_dir[0] == '\0')
		return 0;
	na = (size_t)snprintf(all, sizeof(all), "%s\n", cfg->mail_domain);
	nu = (size_t)snprintf(units, sizeof(units), "%s\n", cfg->mail_domain);
	for (i = 0; i < cfg->nold_domains; i++) {
		const struct old_domain *od = &cfg->old_domains[i];

		if (!address_old_domain_live(od, now))
			continue;
		na += (size_t)snprintf(all + na, sizeof(all) - na, "%s\n", od->name);
		if (od->kind == OLD_DOMAIN_PREVIOUS)
			nu += (size_t)snprintf(units + nu, sizeof(units) - nu, "%s\n", od->name);
	}
	if (replace_file(cfg->domain_lists_dir, "domains", all) < 0 ||
	    replace_file(cfg->domain_lists_dir, "unit-domains", units) < 0)
		return -1;
	return 0;
}

/* ---- the sweep of the directory ------------------------------------------ */

/* An old domain that has ended and was not swept clean yet, at s->now. */
static bool
ended_unswept(const struct sweep *s, const char *domain)
{
	const struct old_domain *od = address_old_domain(&s->pd->cfg, domain);
	size_t i;

	if (od == NULL || address_old_domain_live(od, s->now))
		return false;
	for (i = 0; i < s->nclean; i++)
		if (strcmp(s->clean[i], domain) == 0)
			return false;
	return true;
}

static void
targets_clear(struct sweep *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].dn);
		dir_strv_free(s->t[i].gone);
	}
	s->n = 0;
}

static void
sweep_free(struct sweep *s)
{
	targets_clear(s);
	free(s->t);
	for (size_t i = 0; i < s->nclean; i++)
		free(s->clean[i]);
	free(s);
}

static void
on_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct sweep *s = arg;
	char **v, mail[FIELD_MAIL_MAX + 1], *at;
	size_t i, k = 0;

	dir_entry_copy(ld, e, AT_MAIL, mail, sizeof(mail));
	if ((at = strrchr(mail, '@')) != NULL && ended_unswept(s, at + 1))
		s->named++;
	if ((v = dir_entry_get_all(ld, e, AT_MAIL_ALIAS)) == NULL)
		return;
	/* Keep the values to delete at the front of v, free the rest. */
	for (i = 0; v[i] != NULL; i++) {
		if ((at = strrchr(v[i], '@')) != NULL && ended_unswept(s, at + 1)) {
			v[k++] = v[i];
		} else {
			free(v[i]);
		}
	}
	v[k] = NULL;
	if (k == 0 || s->n == SWEEP_TARGETS) {
		s->full |= k != 0;
		dir_strv_free(v);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->t = xrealloc(s->t, s->cap * sizeof(*s->t));
	}
	if ((s->t[s->n].dn = dir_entry_dn(ld, e)) == NULL) {
		dir_strv_free(v);
		return;
	}
	s->t[s->n++].gone = v;
}

static void
finish(struct sweep *s, bool clean)
{
	const struct config *cfg = &s->pd->cfg;
	size_t i;

	if (clean) {
		for (i = 0; i < cfg->nold_domains && s->nclean < CONFIG_MAX_OLD_DOMAINS; i++)
			if (ended_unswept(s, cfg->old_domains[i].name)) {
				log_info("mail domains: %s ended on %s: addresses in ended domains "
				         "removed from %lu accounts%s", cfg->old_domains[i].name,
				         cfg->old_domains[i].until_day, s->removed, s->named ?
				         "; some accounts still have their mail there (rename them)" : "");
				s->clean[s->nclean++] = xstrdup(cfg->old_domains[i].name);
			}
	}
	s->running = false;
	schedule(s, SWEEP_MS);
}

static void
on_modified(void *arg, const struct dir_result *res)
{
	struct sweep *s = arg;

	s->inflight--;
	if (res->code == LDAP_SUCCESS) {
		s->removed++;
	} else if (res->code == LDAP_NO_SUCH_ATTRIBUTE) {
		s->full = true;         /* changed meanwhile: read it again */
	} else if (res->code != LDAP_NO_SUCH_OBJECT) {
		char why[300];

		log_warnx("mail domains: removing old addresses: %s",
		          dir_result_str(res, why, sizeof(why)));
		s->failed = true;
	}
	if (s->inflight > 0)
		return;
	if (s->stopped) {
		sweep_free(s);
		return;
	}
	targets_clear(s);
	if (s->failed) {
		finish(s, false);
	} else if (s->full) {
		s->full = false;
		pass(s);
	} else {
		finish(s, true);
	}
}

static void
on_searched(void *arg, const struct dir_result *res)
{
	struct sweep *s = arg;
	size_t i;

	if (s->stopped) {
		sweep_free(s);
		return;
	}
	if (res->code != LDAP_SUCCESS) {
		char why[300];

		log_debug("mail domains: search: %s", dir_result_str(res, why, sizeof(why)));
		targets_clear(s);
		finish(s, false);
		return;
	}
	if (s->n == 0) {
		finish(s, !s->full);
		return;
	}
	for (i = 0; i < s->n; i++) {
		struct dir_mods *m = dir_mods_new();

		dir_mods_add(m, LDAP_MOD_DELETE, AT_MAIL_ALIAS, (const char *const *)s->t[i].gone);
		s->inflight++;
		dir_modify(s->pd->dir, s->t[i].dn, dir_mods_get(m), NULL, on_modified, s);
		dir_mods_free(m);
	}
}

/* One search for the accounts holding addresses in ended domains.
 * mailLocalAddress has equality matching only, so the domain is picked
 * here, not in the filter. */
static void
pass(struct sweep *s)
{
	static const char *const attrs[] = { AT_MAIL, AT_MAIL_ALIAS, NULL };

	dir_search(s->pd->dir, s->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")(" AT_MAIL_ALIAS "=*))", attrs, 0,
	           NULL, on_entry, on_searched, s);
}

static void
on_timer(void *arg)
{
	struct sweep *s = arg;
	const struct config *cfg = &s->pd->cfg;
	bool due = false;
	size_t i;

	s->timer = NULL;
	s->now = time(NULL);
	if (olddomain_write_lists(cfg, s->now) < 0)
		log_warn("mail domains: writing the lists in %s", cfg->domain_lists_dir);
	for (i = 0; i < cfg->nold_domains; i++)
		due |= ended_unswept(s, cfg->old_domains[i].name);
	if (!due || s->running || !dir_connected(s->pd->dir)) {
		schedule(s, SWEEP_MS);
		return;
	}
	s->running = true;
	s->removed = s->named = 0;
	s->full = s->failed = false;
	pass(s);
}

static void
schedule(struct sweep *s, uint64_t ms)
{
	if (s->stopped)
		return;
	if (s->timer != NULL)
		loop_timer_cancel(s->pd->loop, s->timer);
	s->timer = loop_timer(s->pd->loop, ms, on_timer, s);
}

void
olddomain_start(struct provd *pd)
{
	if (sweep != NULL)
		return;
	sweep = xcalloc(1, sizeof(*sweep));
	sweep->pd = pd;
	if (olddomain_write_lists(&pd->cfg, time(NULL)) < 0)
		log_warn("mail domains: writing the lists in %s", pd->cfg.domain_lists_dir);
	schedule(sweep, FIRST_SWEEP_MS);
}

void
olddomain_refresh(struct provd *pd)
{
	(void)pd;
	if (sweep != NULL && !sweep->running)
		schedule(sweep, 0);
}

void
olddomain_stop(void)
{
	struct sweep *s = sweep;

	if (s == NULL)
		return;
	sweep = NULL;
	s->stopped = true;
	if (s->timer != NULL)
		loop_timer_cancel(s->pd->loop, s->timer);
	s->timer = NULL;
	if (!s->running)
		sweep_free(s);
}
