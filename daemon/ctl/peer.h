/*
 * peer — who is on the other end of a control connection, and their roles.
 *
 * Roles come only from the kernel-reported credentials (SO_PEERCRED) and the
 * config's group → role map; uid 0 holds every role.  Nothing the client
 * sends can change them.
 */
#ifndef PROVD_PEER_H
#define PROVD_PEER_H

#include <stddef.h>
#include <sys/types.h>

struct config;

#define PEER_MAX_SCOPES 8

struct peer {
	uid_t    uid;
	gid_t    gid;
	pid_t    pid;
	char     name[64];       /* user name, or the uid as text */
	unsigned roles;          /* roles held over the whole province */
	struct {
		unsigned role;
		char     unit[64];   /* subtree root */
	} scope[PEER_MAX_SCOPES];
	size_t   nscopes;
};

/* Fill p for uid/gid/pid: user name and roles from cfg->groups. */
void peer_resolve(struct peer *p, uid_t uid, gid_t gid, pid_t pid,
                  const struct config *cfg);

#endif
