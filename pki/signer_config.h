/*
 * signer_config.h — how the signer process is started: shared by the
 * engine side (signer.c, signer_start) and the child (signer_child.c),
 * so neither includes the other.
 */
#ifndef PROVD_PKI_SIGNER_CONFIG_H
#define PROVD_PKI_SIGNER_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

struct signer_config {
	bool drop_privileges; /* the child switches to uid/gid */
	uid_t uid;
	gid_t gid;
	int timeout_ms;        /* per request; 0 = SIGNER_DEFAULT_TIMEOUT_MS */
	int keygen_timeout_ms; /* GENKEY; 0 = SIGNER_KEYGEN_TIMEOUT_MS */
	/* PKCS #11 (NULL = none; borrowed, must outlive the handle): the
	 * module only the child loads, and the 0600 file only the child
	 * reads the token PIN from. */
	const char *pkcs11_module;
	const char *pkcs11_pin_file;
	/* How many link certificates (CA:TRUE, for a key other than its own:
	 * SIGNER_LINK) this signer may sign in its life: 1 for the retired
	 * key a `ca rollover --link` starts, 0 (refused) otherwise. */
	unsigned link_certificates;
	/* The CA key's directory (NULL = no Landlock; borrowed, must outlive
	 * the handle): the signer may write only beneath it. */
	const char *key_dir;
};

#endif
