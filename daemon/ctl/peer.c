/* peer — credentials to roles. See peer.h. */
#include "peer.h"

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "loop.h"

#define MAX_USER_GROUPS 256
/* User and group lookups go through NSS, which re-reads its files on every
 * call (hundreds of system calls per connection): a burst of connections
 * would stall the event loop.  Answers are kept this long, so a change of
 * group membership takes effect within seconds. */
#define NSS_CACHE_MS     5000
#define USER_CACHE       64
#define GROUP_CACHE      32

struct user_entry {
	uid_t    uid;
	gid_t    pw_gid;
	bool     known;                /* getpwuid found the user */
	char     name[64];
	gid_t    groups[MAX_USER_GROUPS];
	int      ngroups;
	uint64_t fetched;              /* loop_now_ms(); 0 = empty slot */
};

struct group_entry {
	char     name[64];
	gid_t    gid;
	bool     found;
	uint64_t fetched;
};

static struct user_entry  user_cache[USER_CACHE];
static struct group_entry group_cache[GROUP_CACHE];

static bool
fresh(uint64_t fetched, uint64_t now)
{
	return fetched != 0 && now - fetched < NSS_CACHE_MS;
}

static bool
group_gid(const char *name, gid_t *out)
{
	struct group gr, *res = NULL;
	char buf[4096];
	uint64_t now = loop_now_ms();
	struct group_entry *e, *slot = &group_cache[0];
	size_t i;

	if (strlen(name) >= sizeof(slot->name))
		return false;
	for (i = 0; i < GROUP_CACHE; i++) {
		e = &group_cache[i];
		if (e->fetched != 0 && strcmp(e->name, name) == 0) {
			if (fresh(e->fetched, now)) {
				*out = e->gid;
				return e->found;
			}
			slot = e;
			break;
		}
		if (e->fetched < slot->fetched)
			slot = e;      /* the oldest (or an empty) slot */
	}
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->found = getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res != NULL;
	slot->gid = slot->found ? gr.gr_gid : 0;
	slot->fetched = now;
	*out = slot->gid;
	return slot->found;
}

/* The user's name and groups, from the cache or NSS. */
static const struct user_entry *
user_lookup(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uint64_t now = loop_now_ms();
	struct user_entry *e, *slot = &user_cache[0];
	size_t i;

	for (i = 0; i < USER_CACHE; i++) {
		e = &user_cache[i];
		if (e->fetched != 0 && e->uid == uid) {
			if (fresh(e->fetched, now))
				return e;
			slot = e;
			break;
		}
		if (e->fetched < slot->fetched)
			slot = e;
	}
	memset(slot, 0, sizeof(*slot));
	slot->uid = uid;
	slot->fetched = now;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
		slot->known = true;
		slot->pw_gid = pw.pw_gid;
		snprintf(slot->name, sizeof(slot->name), "%s", pw.pw_name);
		slot->ngroups = MAX_USER_GROUPS;
		if (getgrouplist(pw.pw_name, pw.pw_gid, slot->groups, &slot->ngroups) < 0)
			slot->ngroups = 0;   /* more than we track: only the primary below */
	} else {
		snprintf(slot->name, sizeof(slot->name), "%u", (unsigned)uid);
	}
	return slot;
}

void
peer_resolve(struct peer *p, uid_t uid, gid_t gid, pid_t pid,
             const struct config *cfg)
{
	const struct user_entry *u = user_lookup(uid);
	gid_t groups[MAX_USER_GROUPS];
	int ngroups, i;
	size_t k;

	memset(p, 0, sizeof(*p));
	p->uid = uid;
	p->gid = gid;
	p->pid = pid;
	snprintf(p->name, sizeof(p->name), "%s", u->name);
	ngroups = u->ngroups;
	memcpy(groups, u->groups, (size_t)ngroups * sizeof(groups[0]));
	if (ngroups < MAX_USER_GROUPS)
		groups[ngroups++] = gid;     /* the connecting process's gid too */

	if (uid == 0) {
		p->roles = ROLE_ANY;
		return;
	}
	for (k = 0; k < cfg->ngroups; k++) {
		gid_t g;

		if (!group_gid(cfg->groups[k].group, &g))
			continue;
		for (i = 0; i < ngroups; i++) {
			if (groups[i] != g)
				continue;
			if (cfg->groups[k].unit == NULL) {
				p->roles |= cfg->groups[k].role;
			} else if (p->nscopes < PEER_MAX_SCOPES) {
				p->scope[p->nscopes].role = cfg->groups[k].role;
				snprintf(p->scope[p->nscopes].unit,
				         sizeof(p->scope[p->nscopes].unit), "%s",
				         cfg->groups[k].unit);
				p->nscopes++;
			}
			break;
		}
	}
}
