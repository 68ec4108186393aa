/* peer — credentials to roles. See peer.h. */
#include "peer.h"

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"

#define MAX_USER_GROUPS 256

static bool
group_gid(const char *name, gid_t *out)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	*out = gr.gr_gid;
	return true;
}

void
peer_resolve(struct peer *p, uid_t uid, gid_t gid, pid_t pid,
             const struct config *cfg)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[MAX_USER_GROUPS];
	int ngroups = MAX_USER_GROUPS, i;
	size_t k;

	memset(p, 0, sizeof(*p));
	p->uid = uid;
	p->gid = gid;
	p->pid = pid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
		snprintf(p->name, sizeof(p->name), "%s", pw.pw_name);
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
			ngroups = 0;   /* more than we track: only the primary below */
	} else {
		snprintf(p->name, sizeof(p->name), "%u", (unsigned)uid);
		ngroups = 0;
	}
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
