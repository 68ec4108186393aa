/*
 * ocsp_unknown — provd-ocsp asks the engine about serials it has no
 * response for, so that a serial provd never issued is answered "unknown"
 * (RFC 6960 §2.2) by the delegated responder, not "unauthorized".
 *
 * Socket: <pki.ocsp_dir>/unknown.sock, AF_UNIX SOCK_SEQPACKET, mode 0666
 * (inside provd-ocsp's chroot; what it answers is public).  One packet
 * each way:
 *   question  the serial in upper-case hex (2..40 digits)
 *   answer    'R' + DER OCSPResponse ("unknown", valid one hour)
 *             'K'  the serial is a retired CA's: read its file (a record of
 *                  the current CA without a file gets 'R', its state)
 *             'T'  not now (rate limit, no full read yet, signer failed)
 * At most OCSP_UNKNOWN_RATE answers a second are signed (a client asking
 * for random serials costs the signer no more); at most
 * OCSP_UNKNOWN_CONNS connections.
 */
#ifndef PROVD_OCSP_UNKNOWN_H
#define PROVD_OCSP_UNKNOWN_H

#define OCSP_UNKNOWN_SOCK  "unknown.sock"
#define OCSP_UNKNOWN_RATE  100
#define OCSP_UNKNOWN_CONNS 64

#include <stddef.h>

struct provd;
struct serial;
struct ocsp_unknown;

/* What answers a question: ocsp_sign_unknown (ocsp.h), same contract. */
typedef int ocsp_unknown_fn(struct provd *pd, const struct serial *ser,
    unsigned char **der, size_t *derlen, char *err, size_t errlen);

/* Listen in dir, answering with sign; NULL (logged) when the socket
 * cannot be made. */
struct ocsp_unknown *ocsp_unknown_start(struct provd *pd, const char *dir,
    ocsp_unknown_fn *sign);
void ocsp_unknown_free(struct ocsp_unknown *u);

#endif
