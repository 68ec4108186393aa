/*
 * pem.h — strict PEM for hostile input: exactly one block, nothing but
 * whitespace around it, no encapsulated headers; and PEM output.
 */
#ifndef PROVD_PKI_PEM_H
#define PROVD_PKI_PEM_H

#include <stdbool.h>
#include <stddef.h>

#define PEM_MAX_INPUT (1024 * 1024)   /* pem_decode_one refuses more */

/*
 * Non-zero when the first non-whitespace bytes of in are "-----BEGIN ".
 */
bool pem_looks_like(const unsigned char *in, size_t len);

/*
 * Decode the single PEM block in in[0..len).  Its label must be one of
 * labels[0..nlabels).  Refuses: anything but whitespace before or after the
 * block ("trailing data after ..."), a second block, encapsulated headers
 * (e.g. Proc-Type of encrypted PEM), bad base64, an END label that differs
 * from BEGIN.  what names the object in messages ("CSR").  On success
 * returns 0 and *der (malloc'd, caller frees) / *derlen; else -1.
 */
int pem_decode_one(const unsigned char *in, size_t len,
    const char *const *labels, size_t nlabels, const char *what,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/*
 * Encode der as a PEM block with the given label, 64 characters a line,
 * NUL-terminated.  *out is malloc'd (caller frees); *outlen excludes the
 * NUL.  Returns 0, or -1 (no memory, or der larger than 256 MiB).
 */
int pem_encode(const char *label, const unsigned char *der, size_t derlen,
    char **out, size_t *outlen, char *err, size_t errlen);

#endif
