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
 * signals, drop privileges when cfg says so, become non-dumpable, send
 * HELLO (or the set-up error) and serve requests until end-of-file.
 * Never returns: the child leaves with _exit.
 */
void signer_child_main(int fd, const struct signer_config *cfg)
    __attribute__((noreturn));

#endif
