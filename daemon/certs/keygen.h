/*
 * keygen — server-side key pairs for people who cannot make a CSR
 * (cert issue --generate).  Each key is made in its own provd-keygen
 * process (keygen_proto.h), started next to the provd binary: neither the
 * engine nor the CA signer ever holds it.  The engine gets the public key,
 * issues the certificate as for a CSR, and gets back a PKCS #12 file
 * encrypted under the passphrase (p12.h); the helper then exits.
 *
 * The exchanges with the helper run on the work pool (pd->hashers), never
 * on the loop; done callbacks run on the loop.  A struct keygen is owned
 * by its caller from keygen_generate's callback until keygen_free, and
 * must not be freed while a job on it runs (i.e. before its callback).
 */
#ifndef PROVD_KEYGEN_H
#define PROVD_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keyfile.h"

struct provd;
struct keygen;

#define KEYGEN_TIMEOUT_MS 60000   /* per exchange (RSA-3072 generation) */

/*
 * Find provd-keygen in the directory of the running provd.  Call at
 * start-up, before privileges are dropped (a non-dumpable process cannot
 * read /proc/self/exe).  Returns 0, or -1 (server-side keys then refused).
 */
int keygen_locate(char *err, size_t errlen);

typedef void keygen_done_fn(void *ctx);

/*
 * Start a helper and have it generate a key of type t (KEYFILE_EC_P256 or
 * KEYFILE_RSA_3072).  done(ctx) runs on the loop when that is over: then
 * keygen_error(*out) is NULL and keygen_pubkey(*out) the public key, or
 * keygen_error says why.  *out is set before this returns.  Returns 0 (out
 * of memory is fatal, xmalloc.h).
 */
int keygen_generate(struct provd *pd, enum keyfile_type t, keygen_done_fn *done,
                    void *ctx, struct keygen **out);

/*
 * Have the helper pack its key with cert[0..len) (issued for the public
 * key) and the CA certificate cacert, under friendly and pass, into a
 * PKCS #12 file, and, when recovery is not NULL, make the escrow copy
 * (keygen_proto.h).  done(ctx) as above; then keygen_p12() is the file and
 * keygen_escrow() the copy.  Returns 0, or -1 when a certificate cannot be
 * encoded (done is then not called).
 */
int keygen_package(struct provd *pd, struct keygen *kg, const unsigned char *cert,
                   size_t len, X509 *cacert, X509 *recovery, const char *friendly,
                   const char *pass, keygen_done_fn *done, void *ctx);

/* NULL when the last step worked, else why it did not. */
const char *keygen_error(const struct keygen *kg);
/* The generated key's public half (owned by kg). */
EVP_PKEY *keygen_pubkey(const struct keygen *kg);
/* The PKCS #12 file (owned by kg); *len its length. */
const unsigned char *keygen_p12(const struct keygen *kg, size_t *len);
/* The escrow copy, CMS EnvelopedData DER (owned by kg); NULL when none. */
const unsigned char *keygen_escrow(const struct keygen *kg, size_t *len);

/* End the helper (killed if still running), wipe, free.  NULL is a no-op. */
void keygen_free(struct keygen *kg);

#endif
