/*
 * cache.h — provd-ocsp's ready HTTP answers for the responses it served,
 * so that an answer costs no file access and no allocation: one
 * libmicrohttpd response object per serial, made once from the file's
 * bytes and queued on every connection that asks (libmicrohttpd counts its
 * references; the bytes live until the last connection sending them is
 * done).  An entry is dropped the moment provd replaces the file (inotify
 * on the responses directory, see provd-ocsp.c); a reader that read a
 * file before such a change can never put the old bytes back (generation
 * check).
 */
#ifndef PROVD_OCSP_CACHE_H
#define PROVD_OCSP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct rcache;

/* At most max entries (all are dropped when it is reached).  NULL on no
 * memory. */
struct rcache *rcache_new(size_t max);
void rcache_free(struct rcache *c);

/* Queue key's response on conn with HTTP status 200: 1 (with
 * MHD_queue_response's result in *ret), or 0 when absent.  The queueing
 * happens under the cache's lock, so a concurrent rcache_forget cannot
 * destroy the response before conn holds its own reference. */
int rcache_queue(struct rcache *c, const char *key, struct MHD_Connection *conn,
    enum MHD_Result *ret);

/* The generation to pass to rcache_put: read it before reading the file. */
uint64_t rcache_generation(struct rcache *c);

/* Keep r as key's response, unless anything was forgotten since gen.
 * Takes the caller's reference to r in either case (destroyed at once when
 * not kept); queue r on the caller's connection before, not after. */
void rcache_put(struct rcache *c, const char *key, struct MHD_Response *r,
    uint64_t gen);

/* Drop key's entry (its file changed); NULL drops every entry. */
void rcache_forget(struct rcache *c, const char *key);

#endif
