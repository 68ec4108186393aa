/*
 * wire — the framed control protocol between provctl and provd.
 *
 * Every message is one frame:
 *
 *   u32  body length L (big-endian), WIRE_MIN_BODY <= L <= WIRE_MAX_FRAME
 *   u8   protocol version (WIRE_VERSION)
 *   u8   frame type (enum wire_type)
 *   u16  field count N <= WIRE_MAX_FIELDS
 *   N x { u32 length, bytes }      the lengths must add up to exactly L
 *
 * Fields are opaque bytes; the decoder hands them out NUL-terminated, and
 * wire_field_str() refuses fields with an embedded NUL.  A conversation is
 * request -> [DATA ... END] -> RECORD/SECRET/PROGRESS ... -> STATUS; STATUS
 * always ends a reply.  See docs/protocol.md.
 */
#ifndef PROVD_WIRE_H
#define PROVD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WIRE_VERSION     1
#define WIRE_HEADER      4            /* the length prefix */
#define WIRE_MIN_BODY    4            /* version, type, field count */
#define WIRE_MAX_FRAME   (1u << 20)   /* 1 MiB body */
#define WIRE_MAX_FIELDS  512

enum wire_type {
	/* client -> server */
	WIRE_REQUEST  = 1,   /* fields: noun, verb ("" if none), arguments... */
	WIRE_DATA     = 2,   /* one field: a chunk of streamed input */
	WIRE_END      = 3,   /* no fields: end of streamed input */
	/* server -> client */
	WIRE_RECORD   = 16,  /* fields: key, value, key, value, ... */
	WIRE_SECRET   = 17,  /* like RECORD, for the client's secret output file only */
	WIRE_PROGRESS = 18,  /* like RECORD: done, total */
	WIRE_STATUS   = 19,  /* fields: code (decimal), message */
	WIRE_PLAN     = 20,  /* like RECORD, for the client's plan file only (batch --plan-out) */
};

/* Stable status codes; provctl exits with the same numbers. */
enum wire_status {
	ST_OK          = 0,
	ST_INTERNAL    = 1,  /* server-side failure */
	ST_USAGE       = 2,  /* unknown command, missing or bad argument */
	ST_NOTFOUND    = 3,
	ST_CONFLICT    = 4,  /* already exists / taken / state forbids */
	ST_PERMISSION  = 5,  /* caller lacks the role */
	ST_INVALID     = 6,  /* a value is malformed (CSR, CSV row, address) */
	ST_UNAVAILABLE = 7,  /* provd, the directory or the signer unreachable */
	ST_PARTIAL     = 8,  /* a batch finished with rejected or failed rows */
	ST_PROTOCOL    = 9,  /* malformed frame or wrong protocol version */
};

const char *wire_status_name(int code);

struct wire_field {
	const char *ptr;   /* NUL-terminated copy */
	uint32_t    len;
};

/* A decoded frame.  Owns its memory: free with wire_msg_free(). */
struct wire_msg {
	uint8_t           type;
	uint16_t          nfields;
	struct wire_field *f;
	char             *store;  /* backing storage for the fields */
};

enum wire_decode {
	WIRE_NEED_MORE = 0,   /* not a whole frame yet */
	WIRE_FRAME     = 1,   /* *msg filled, *used bytes consumed */
	WIRE_BAD       = -1,  /* malformed: close the connection */
	WIRE_BAD_VERSION = -2,
};

/*
 * Try to decode one frame from p[0..n).  On WIRE_FRAME, *msg is filled (the
 * caller frees it) and *used is the frame's total size.  On WIRE_BAD or
 * WIRE_BAD_VERSION, err explains why.  Never reads past n.
 */
enum wire_decode wire_decode(const void *p, size_t n, struct wire_msg *msg,
                             size_t *used, char *err, size_t errlen);

void wire_msg_free(struct wire_msg *msg);

/* Field i as a C string, or NULL when absent or containing a NUL byte. */
const char *wire_field_str(const struct wire_msg *msg, size_t i);

/*
 * Frame encoder: wire_begin() starts a frame in `out`, wire_add() appends
 * fields, wire_finish() fills in the length.  Returns 0 or -1 when a limit
 * (frame size, field count, buffer cap) would be exceeded; after an error the
 * partial frame has been removed from `out`.
 */
struct wire_enc {
	struct buf *out;
	size_t      start;    /* offset of the frame in out */
	uint16_t    nfields;
	bool        failed;
};

void wire_begin(struct wire_enc *e, struct buf *out, enum wire_type type);
void wire_add(struct wire_enc *e, const void *p, size_t n);
void wire_add_str(struct wire_enc *e, const char *s);
int  wire_finish(struct wire_enc *e);

/* Convenience: a whole frame of C strings (NULL-terminated list). */
int wire_put_strv(struct buf *out, enum wire_type type, const char *const *v);

/* A STATUS frame. */
int wire_put_status(struct buf *out, int code, const char *msg);

#endif
