/*
 * peer — who is on the other end of a control connection, and their roles.
 *
 * Roles come only from the kernel-reported credentials (SO_PEERCRED) and the
 * config's group → role map; uid 0 holds every role.  Nothing the client
 * sends can change them.
 */
#ifndef PROVD_PEER_H
#define PROVD_PEER_H

#include <sys/types.h>

#include "request.h"

struct config;

/* Fill p for uid/gid/pid: user name and roles from cfg->groups. */
void peer_resolve(struct peer *p, uid_t uid, gid_t gid, pid_t pid,
                  const struct config *cfg);

#endif
