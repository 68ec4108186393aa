/*
 * keygen_proto.h — the two requests provd sends provd-keygen, the
 * short-lived process that makes a server-side key pair (cert issue
 * --generate).  Messages are signer_wire.h frames over a SOCK_SEQPACKET
 * socketpair, the helper's end on descriptor 3:
 *
 *   GENERATE  type ("ec-p256" | "rsa-3072")  -> SubjectPublicKeyInfo DER
 *   PACKAGE   certificate DER, CA certificate DER, friendly name,
 *             passphrase, recovery certificate DER or ""
 *                                            -> PKCS #12 DER (p12.h),
 *                                               escrow copy or ""
 *
 * The escrow copy is a CMS EnvelopedData (AES-256-CBC) of the private key
 * as PKCS #8 DER, to the recovery certificate alone: provd never holds the
 * recovery key, so only the officer who does can open it.
 *
 * After PACKAGE (or any error, or end-of-file) the helper wipes the key
 * and exits; the private key never leaves it unencrypted.
 */
#ifndef PROVD_PKI_KEYGEN_PROTO_H
#define PROVD_PKI_KEYGEN_PROTO_H

#define KEYGEN_FD            3
#define KEYGEN_OP_GENERATE   0x41
#define KEYGEN_OP_PACKAGE    0x42
#define KEYGEN_LIFETIME_S    120     /* the helper ends itself after this */
#define KEYGEN_REPLY_MAX     (256 * 1024)

#endif
