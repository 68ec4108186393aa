/*
 * cache.h — provd-ocsp's copies of the responses it served, so that an
 * answer costs no file access.  A copy is dropped the moment provd
 * replaces the file (inotify on the responses directory, see
 * provd-ocsp.c); a reader that read a file before such a change can never
 * put the old bytes back (generation check).
 */
#ifndef PROVD_OCSP_CACHE_H
#define PROVD_OCSP_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct rcache;

/* At most max entries (all are dropped when it is reached).  NULL on no
 * memory. */
struct rcache *rcache_new(size_t max);
void rcache_free(struct rcache *c);

/* A malloc'd copy of key's response into *out and *len: 1, or 0 when absent
 * (or no memory). */
int rcache_get(struct rcache *c, const char *key, unsigned char **out,
    size_t *len);

/* The generation to pass to rcache_put: read it before reading the file. */
uint64_t rcache_generation(struct rcache *c);

/* Keep a copy of data for key, unless anything was forgotten since gen. */
void rcache_put(struct rcache *c, const char *key, const unsigned char *data,
    size_t len, uint64_t gen);

/* Drop key's copy (its file changed); NULL drops every copy. */
void rcache_forget(struct rcache *c, const char *key);

#endif
