/*
 * certcheck.h — is the certificate the signer returned the one it was
 * asked to sign, signed with the CA key?
 *
 * The engine sends the signer a certificate it built (sealed with a
 * throwaway key so that it encodes) and gets the signed certificate back.
 * Checking the answer on its bytes spares decoding it again (OpenSSL 3.0
 * builds a decoder chain for every SubjectPublicKeyInfo it decodes) while
 * still catching a faulty signer before anything is released.
 */
#ifndef PROVD_PKI_CERTCHECK_H
#define PROVD_PKI_CERTCHECK_H

#include <stddef.h>
#include <openssl/evp.h>

/*
 * Check got[0..gotlen), the signer's answer to the DER certificate
 * sent[0..sentlen): got must be exactly one DER certificate whose
 * TBSCertificate is byte for byte the one of sent except for its signature
 * field, whose signature field and outer AlgorithmIdentifier are both the
 * algorithm of the CA key pub (sigalg.h), and whose signature verifies with
 * pub over that TBSCertificate.  Returns 0, or -1 with a message.
 */
int certcheck_signed(EVP_PKEY *pub, const unsigned char *sent,
    size_t sentlen, const unsigned char *got, size_t gotlen, char *err,
    size_t errlen);

#endif
