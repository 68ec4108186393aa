/*
 * signer_wire.h — the message format between the engine and the signer
 * process, over a SOCK_SEQPACKET socketpair.
 *
 * A message is a 12-byte header followed by a body, sent as one or more
 * packets of at most SIGNER_WIRE_CHUNK bytes (a CRL of 100,000 entries is
 * several MB, far above what one AF_UNIX packet may carry):
 *
 *   byte 0     version (SIGNER_WIRE_VERSION)
 *   byte 1     op (enum signer_op)
 *   byte 2     status (replies: 0 ok, 1 error)
 *   byte 3     flags (SIGN_CERT: SIGNER_FLAG_SELF_SIGNED)
 *   byte 4     number of fields (0..SIGNER_WIRE_MAX_FIELDS)
 *   bytes 5-7  zero
 *   bytes 8-11 body length, big-endian (<= the receiver's cap)
 *   body       per field: 4-byte big-endian length, then the bytes
 *
 * Every length is checked against the body and the receiver's cap before
 * use; a packet that overruns the announced length is a protocol error.
 */
#ifndef PROVD_PKI_SIGNER_WIRE_H
#define PROVD_PKI_SIGNER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SIGNER_WIRE_VERSION    1
#define SIGNER_WIRE_HEADER     12
#define SIGNER_WIRE_CHUNK      (32 * 1024)
#define SIGNER_WIRE_MAX        (64u * 1024 * 1024)   /* body cap */
#define SIGNER_WIRE_MAX_FIELDS 6

enum signer_op {
	SIGNER_OP_HELLO = 1,     /* child -> engine once, after set-up */
	SIGNER_OP_GENKEY,        /* type, path, passphrase path | "" */
	SIGNER_OP_LOAD,          /* path, passphrase path | "" */
	SIGNER_OP_IMPORT,        /* source path, destination path, pass | "" (UNDO: none) */
	SIGNER_OP_SIGN_CERT,     /* DER certificate */
	SIGNER_OP_SIGN_CRL,      /* unsigned DER CRL from crlgen_build */
	SIGNER_OP_PUBKEY,        /* no fields */
	SIGNER_OP_OCSP_KEY,      /* no fields: new OCSP responder key (signer_ocsp.h) */
	SIGNER_OP_SIGN_OCSP,     /* responder cert, CA cert, times, entry lines */
	SIGNER_OP_RETIRE,        /* "gen-N", CA certificate PEM[, URI file] (flags: UNDO) */
	SIGNER_OP_KEY_URI        /* URI file path, the active token key's URI */
};

#define SIGNER_STATUS_OK       0
#define SIGNER_STATUS_ERROR    1

#define SIGNER_FLAG_SELF_SIGNED 0x01
#define SIGNER_FLAG_LINK        0x02
#define SIGNER_FLAG_UNDO        0x04   /* RETIRE: put the key back; IMPORT: remove it */
#define SIGNER_RETIRE_CERT_MAX  (64 * 1024)

/* SIGN_OCSP limits (signer_ocsp.h) */
#define SIGNER_OCSP_CERT_MAX      (64 * 1024)
#define SIGNER_OCSP_BATCH_MAX     20000          /* entries in one request */
#define SIGNER_OCSP_VALIDITY_MAX  (14 * 86400)   /* nextUpdate - thisUpdate */

struct signer_field {
	const unsigned char *data;
	size_t               len;
};

struct signer_msg {
	uint8_t             op;
	uint8_t             status;
	uint8_t             flags;
	size_t              nfields;
	struct signer_field field[SIGNER_WIRE_MAX_FIELDS];
	unsigned char      *buf;      /* whole message; fields point into it */
	size_t              buflen;
};

/*
 * Send one message.  timeout_ms < 0 blocks; otherwise the whole send must
 * finish within it.  Uses MSG_NOSIGNAL (a dead peer gives EPIPE, not
 * SIGPIPE).  Returns 0, or -1 with a message.
 */
int signer_wire_send(int fd, uint8_t op, uint8_t status, uint8_t flags,
    const struct signer_field *fields, size_t nfields, int timeout_ms,
    char *err, size_t errlen);

/*
 * Receive one message with a body of at most max_body bytes into *m
 * (release with signer_msg_free).  timeout_ms as for send.  Returns 0,
 * 1 when the peer closed the socket before a message began, or -1 with a
 * message (timeout, oversize, malformed, peer closed mid-message).
 */
int signer_wire_recv(int fd, struct signer_msg *m, size_t max_body,
    int timeout_ms, char *err, size_t errlen);

/*
 * The pieces of send and receive for a caller that drives the socket
 * itself (the engine's event loop, signer.h):
 *
 * signer_wire_encode: the whole message (header and fields) in one
 * malloc'd buffer of *total bytes (caller wipes and frees), or NULL with a
 * message.  Send it in packets of at most SIGNER_WIRE_CHUNK bytes.
 *
 * signer_wire_header: check the first packet p[0..len) of a message
 * against max_body; *total is the whole message's length.  0 or -1.
 *
 * signer_wire_parse: split the complete message buf[0..total) into *m,
 * which takes buf over (also on failure: it is then wiped and freed).
 * 0 or -1 with a message.
 */
unsigned char *signer_wire_encode(uint8_t op, uint8_t status, uint8_t flags,
    const struct signer_field *fields, size_t nfields, size_t *total,
    char *err, size_t errlen);
int signer_wire_header(const unsigned char *p, size_t len, size_t max_body,
    size_t *total, char *err, size_t errlen);
int signer_wire_parse(unsigned char *buf, size_t total, struct signer_msg *m,
    char *err, size_t errlen);

/* Wipe and free a received message; safe on a zeroed or freed one. */
void signer_msg_free(struct signer_msg *m);

/*
 * Copy text field i of m into out (outsize bytes, NUL-terminated).
 * Refuses a missing field, an embedded NUL or a field that does not fit.
 * Returns 0 or -1.
 */
int signer_msg_string(const struct signer_msg *m, size_t i, char *out,
    size_t outsize);

#endif
