/*
 * signer_child.h — the signer process's main loop (internal to
 * signer.c).
 */
#ifndef PROVD_PKI_SIGNER_CHILD_H
#define PROVD_PKI_SIGNER_CHILD_H

#include "signer_config.h"

/*
 * Run in the freshly forked child: keep fd (moved to descriptor 3) and
 * stderr, point stdin/stdout at /dev/null, close everything else, reset
 * signals, drop privileges when cfg says so, become non-dumpable, install
 * the seccomp filter (see confine() in signer_child.c), send HELLO (or the
 * set-up error) and serve requests until end-of-file.
 * Never returns: the child leaves with _exit.
 */
void signer_child_main(int fd, const struct signer_config *cfg)
    __attribute__((noreturn));

/* The launcher's requests: one byte, one packet, no descriptor. */
#define SIGNER_LAUNCH_SIGNER   0x01   /* to a launcher: a new signer */
#define SIGNER_LAUNCH_LAUNCHER 0x02   /* to a spawner: a new launcher */

/*
 * The launcher, for an engine that drops its privileges: forked while the
 * engine is still root, it sets itself up as above (dropping to cfg's
 * uid/gid, the signer's), says HELLO, and then forks a new signer, already
 * dropped, for every SIGNER_LAUNCH_SIGNER the engine sends: the answer is
 * the signer's pid (4 bytes, big-endian; 0 = fork failed) with its socket
 * as SCM_RIGHTS.  The signer before is killed first (one at a time).  So a
 * signer can be replaced after the engine has dropped to a uid that could
 * not become the signer's.  Any other request (another byte or length, a
 * descriptor) is answered with pid 0 and changes nothing.  Ends (killing
 * its signer) on end-of-file.  Never returns.
 */
void signer_launcher_main(int fd, const struct signer_config *cfg)
    __attribute__((noreturn));

/*
 * The spawner (daemon.signer_user: spare signers after the drop): set up
 * as the launcher, it answers SIGNER_LAUNCH_LAUNCHER with a new launcher
 * (its child, with cfg, which says no HELLO: it is set up already), pid
 * and socket as above; it starts no signer itself and kills nothing (its
 * launchers live on when it ends).  Any other request gets pid 0.
 */
void signer_spawner_main(int fd, const struct signer_config *cfg)
    __attribute__((noreturn));

#endif
