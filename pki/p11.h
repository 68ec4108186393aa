/*
 * p11.h — a CA key held on a PKCS #11 token, used only inside the signer
 * process.  The signer dlopens the module named by pki.pkcs11_module
 * (once per process: p11_module_open), logs in as the user with the PIN
 * read from pki.pkcs11_pin_file (mode 0600, checked on the descriptor),
 * finds or generates the key named by an RFC 7512 URI (p11uri.h), and
 * signs with C_Sign: CKM_RSA_PKCS over a SHA-256 DigestInfo for RSA,
 * CKM_ECDSA over the digest for EC (the token's r||s is returned as a DER
 * ECDSA-Sig-Value).  Keys generated here are token objects, private,
 * sensitive and not extractable.  The PIN is wiped as soon as C_Login has
 * it; it never leaves this process and never appears in a message.
 */
#ifndef PROVD_PKI_P11_H
#define PROVD_PKI_P11_H

#include <stddef.h>
#include <openssl/evp.h>

#include "keyfile.h"

struct p11key;

/*
 * Load module (an absolute path) and initialise it; a second call with
 * the same path is a no-op, with another path an error.  Returns 0 or -1.
 */
int p11_module_open(const char *module, char *err, size_t errlen);

/* Finalise the module and unload it (at the signer's exit). */
void p11_module_close(void);

/*
 * Find the private key named by uri on the token it names (exactly one
 * token and exactly one private key must match), log in with the PIN in
 * pin_path, read its public half, and check the pair by signing a test
 * digest and verifying it.  *key (p11_key_free) and *pub (caller frees)
 * on success.  Returns 0 or -1.
 */
int p11_key_load(const char *uri, const char *pin_path, struct p11key **key,
    EVP_PKEY **pub, char *err, size_t errlen);

/*
 * Generate a key pair of type t on the token named by uri, labelled with
 * its object= and given its id= (a random 16-byte CKA_ID when the URI has
 * none).  Refuses when a private key matching uri exists already.  Then as
 * p11_key_load.  Returns 0 or -1.
 */
int p11_key_generate(const char *uri, const char *pin_path,
    enum keyfile_type t, struct p11key **key, EVP_PKEY **pub, char *err,
    size_t errlen);

/*
 * Sign tbs[0..tbslen) with digest md: *sig (malloc'd, caller frees) is
 * the X.509 signature value — PKCS #1 v1.5 bytes for RSA, a DER
 * ECDSA-Sig-Value for EC.  Returns 0 or -1.
 */
int p11_sign(struct p11key *key, const EVP_MD *md, const unsigned char *tbs,
    size_t tbslen, unsigned char **sig, size_t *siglen, char *err,
    size_t errlen);

/* Close key's session (the login ends with the last one), free key.  NULL is a no-op. */
void p11_key_free(struct p11key *key);

#endif
