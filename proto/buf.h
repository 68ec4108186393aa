/*
 * buf — a growable byte buffer with a hard size cap.
 *
 * Used for socket input/output queues on both sides of the control protocol.
 * A buffer never grows past its cap: appends that would exceed it fail and
 * leave the buffer unchanged, so a hostile peer cannot make us allocate
 * without bound.
 */
#ifndef PROVD_BUF_H
#define PROVD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char   *data;
	size_t  len;   /* bytes in use, starting at data[off] */
	size_t  off;   /* bytes already consumed at the front */
	size_t  cap;   /* bytes allocated */
	size_t  max;   /* hard limit on len */
};

/* Initialise an empty buffer that may hold at most `max` bytes. */
void buf_init(struct buf *b, size_t max);

/* Release memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

/* Pointer to the first unconsumed byte (never NULL, even when empty). */
char *buf_head(const struct buf *b);

/* Append n bytes. Returns 0, or -1 when the cap would be exceeded or memory
 * is exhausted (buffer unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);

/* Append a big-endian integer. Same errors as buf_append. */
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);

/* printf-style append; -1 on overflow of the cap. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make room for n more bytes and return where to write them (or NULL);
 * commit what was written with buf_commit. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

/* Drop n bytes from the front (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Overwrite the whole allocation with zeros (for buffers that held secrets). */
void buf_wipe(struct buf *b);

/* Big-endian readers; p must point at 2 / 4 readable bytes. */
uint16_t get_u16(const void *p);
uint32_t get_u32(const void *p);

#endif
