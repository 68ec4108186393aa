/*
 * provd — the engine's shared context: what every handler can reach.
 */
#ifndef PROVD_PROVD_H
#define PROVD_PROVD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

struct loop;
struct dir;
struct control;
struct units;
struct workpool;
struct template;
struct pki;
struct audit;
struct initialpw;

struct provd {
	struct config    cfg;
	struct loop     *loop;
	struct dir      *dir;
	struct control  *control;
	struct units    *units;      /* cache of ou=units */
	struct workpool *hashers;    /* password hashing off the loop */
	struct template *account_tpl;
	struct pki      *pki;        /* CA, signer, profiles (NULL if not set up) */
	struct audit    *audit;
	struct initialpw *initialpw; /* the initial-password sweep */
	time_t           started;
	bool             stopping;   /* SIGTERM: finish in-flight, accept nothing new */
	unsigned long    requests;   /* served since start */
};

#endif
