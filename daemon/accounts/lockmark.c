/* lockmark — lock-state marks outside the account entry. See lockmark.h. */
#include "lockmark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir.h"
#include "log.h"
#include "provd.h"
#include "schema.h"
#include "xmalloc.h"

struct mark {
	struct provd *pd;
	char dn[1200];
	char value[600];
	bool added; /* tried the add: next is a modify */
};

static void
mark_done(void *arg, const struct dir_result *res)
{
	struct mark *m = arg;
	char why[300];

	if (res->code == LDAP_ALREADY_EXISTS && !m->added) {
		struct dir_mods *mods = dir_mods_new();

		m->added = true;
		dir_mods_add1(mods, LDAP_MOD_REPLACE, AT_DESCRIPTION, m->value);
		dir_modify(m->pd->dir, m->dn, dir_mods_get(mods), NULL, mark_done, m);
		dir_mods_free(mods);
		return;
	}
	if (res->code != LDAP_SUCCESS)
		log_warnx("lockmark: %s: %s", m->dn, dir_result_str(res, why, sizeof(why)));
	free(m);
}

static void
other_done(void *arg, const struct dir_result *res)
{
	char *dn = arg, why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		log_warnx("lockmark: removing %s: %s", dn, dir_result_str(res, why, sizeof(why)));
	free(dn);
}

void
lockmark_record(struct provd *pd, const char *login, bool disabled)
{
	size_t pos = dir_uri_index(pd->dir), i;
	struct dir_mods *mods;
	struct mark *m;
	char cn[200];

	if (pd->cfg.nuris <= 1 || !dir_connected(pd->dir))
		return;
	m = xcalloc(1, sizeof(*m));
	m->pd = pd;
	snprintf(cn, sizeof(cn), LOCKMARK_PREFIX "%zu-%s", pos, login);
	snprintf(m->dn, sizeof(m->dn), "cn=%s,cn=provd-writer,%s", cn, pd->cfg.base);
	snprintf(m->value, sizeof(m->value), "%s %lld %s", disabled ? "disabled" : "active",
	         (long long)time(NULL), dir_uri(pd->dir));
	mods = dir_mods_new();
	dir_mods_add1(mods, LDAP_MOD_ADD, AT_OBJECT_CLASS, OC_APP_PROCESS);
	dir_mods_add1(mods, LDAP_MOD_ADD, AT_CN, cn);
	dir_mods_add1(mods, LDAP_MOD_ADD, AT_DESCRIPTION, m->value);
	dir_add(pd->dir, m->dn, dir_mods_get(mods), NULL, mark_done, m);
	dir_mods_free(mods);
	for (i = 0; i < pd->cfg.nuris; i++) {
		char *dn;

		if (i == pos)
			continue;
		dn = xmalloc(1200);
		snprintf(dn, 1200, "cn=" LOCKMARK_PREFIX "%zu-%s,cn=provd-writer,%s", i, login,
		         pd->cfg.base);
		dir_delete(pd->dir, dn, NULL, other_done, dn);
	}
}
