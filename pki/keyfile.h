/*
 * keyfile.h — CA private key files: reading (mode 0600 enforced on the
 * opened descriptor, optional passphrase file), generating, writing
 * (O_EXCL, mode 0600, fsync).  Called only inside the signer process
 * (signer_child.c): the engine never opens a key file itself.
 */
#ifndef PROVD_PKI_KEYFILE_H
#define PROVD_PKI_KEYFILE_H

#include <stddef.h>
#include <openssl/evp.h>

#define KEYFILE_MAX       (64 * 1024)   /* largest key file read */
#define KEYFILE_PASS_MAX  1024          /* longest passphrase */
#define KEYFILE_PATH_MAX  4096

enum keyfile_type {
	KEYFILE_EC_P256 = 0,
	KEYFILE_EC_P384,
	KEYFILE_RSA_3072,
	KEYFILE_RSA_4096
};

/*
 * Name <-> type: "ec-p256", "ec-p384", "rsa-3072", "rsa-4096".  Parse
 * returns 0 or -1 with a message listing the names; name returns static
 * storage (NULL for an unknown value).
 */
int keyfile_type_parse(const char *name, enum keyfile_type *out, char *err,
    size_t errlen);
const char *keyfile_type_name(enum keyfile_type t);

/*
 * Read a secret file (key or passphrase) of at most max bytes.  The file
 * must be a regular file without any group or other permission bits,
 * checked with fstat on the opened descriptor.  *buf is malloc'd; release
 * it with keyfile_free_secret (wipes it).  what names the file in messages
 * ("key file", "passphrase file").  Returns 0 or -1.
 */
int keyfile_read_secret(const char *path, const char *what, size_t max,
    unsigned char **buf, size_t *len, char *err, size_t errlen);
void keyfile_free_secret(unsigned char *buf, size_t len);

/*
 * Load a private key (PEM or DER, PKCS#8 or traditional, encrypted or not)
 * from path; pass_path (NULL = none) names a 0600 file whose first line is
 * the passphrase.  Never prompts.  *out is a new key (caller frees).
 * Messages name the file, never the passphrase.  Returns 0 or -1.
 */
int keyfile_load(const char *path, const char *pass_path, EVP_PKEY **out,
    char *err, size_t errlen);

/*
 * Generate a key of the given type.  Returns 0 with *out (caller frees),
 * or -1.
 */
int keyfile_generate(enum keyfile_type t, EVP_PKEY **out, char *err,
    size_t errlen);

/*
 * Write key to a new file at path as PKCS#8 PEM, encrypted with AES-256
 * under the passphrase in pass_path when that is not NULL.  The file is
 * created with O_EXCL (an existing file is never overwritten), mode 0600,
 * fsynced, and its directory fsynced.  On failure nothing is left at
 * path.  Returns 0 or -1.
 */
int keyfile_write(const char *path, EVP_PKEY *key, const char *pass_path,
    char *err, size_t errlen);

/*
 * Check key is acceptable as a CA key: a private key whose public half
 * matches (pairwise check), RSA of 3072..16384 bits or EC P-256/P-384.
 * Returns 0 or -1 with the reason.
 */
int keyfile_check_ca_key(EVP_PKEY *key, char *err, size_t errlen);

#endif
