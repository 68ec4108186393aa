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
 *             'K'  the serial has a record: read its file
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

struct provd;
struct ocsp_unknown;

/* Listen in dir; NULL (logged) when the socket cannot be made. */
struct ocsp_unknown *ocsp_unknown_start(struct provd *pd, const char *dir);
void ocsp_unknown_free(struct ocsp_unknown *u);

#endif
