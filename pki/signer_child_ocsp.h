/*
 * signer_child_ocsp.h — the OCSP half of the signer process (internal to
 * signer_child.c): it holds the delegated responder's private key, which
 * is made in the signer's memory and never written anywhere.
 */
#ifndef PROVD_PKI_SIGNER_CHILD_OCSP_H
#define PROVD_PKI_SIGNER_CHILD_OCSP_H

#include <openssl/evp.h>

#include "signer_wire.h"

/*
 * Answer an OCSP_KEY or SIGN_OCSP request m on fd.  ca_key is the CA key
 * (NULL: none loaded); a responder certificate must be one the CA key
 * signed.  Returns 0, or -1 when the reply could not be sent (the child
 * then exits).
 */
int signer_child_ocsp(int fd, const struct signer_msg *m, EVP_PKEY *ca_key);

/* Free (and so wipe) the responder key. */
void signer_child_ocsp_wipe(void);

#endif
