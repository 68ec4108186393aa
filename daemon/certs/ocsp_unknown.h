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
 * OCSP_UNKNOWN_CONNS connections, each with one question at a time: the
 * answer is signed through the signer's queue while the loop serves
 * others, and the connection is not read until it is sent.  An answer
 * whose connection has gone meanwhile is dropped.
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

/* The answer to a queued question: rc 0 with der[0..derlen) (the DER
 * OCSPResponse, valid during the call only), or -1 (not now). */
typedef void ocsp_unknown_done_fn(void *ctx, int rc, const unsigned char *der,
    size_t derlen);

/* What answers a question: ocsp_sign_unknown (ocsp.h), same contract. */
typedef int ocsp_unknown_fn(struct provd *pd, const struct serial *ser,
    ocsp_unknown_done_fn *done, void *ctx);

/* Listen in dir, answering with sign; NULL (logged) when the socket
 * cannot be made. */
struct ocsp_unknown *ocsp_unknown_start(struct provd *pd, const char *dir,
    ocsp_unknown_fn *sign);
void ocsp_unknown_free(struct ocsp_unknown *u);

#endif
