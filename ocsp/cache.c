/*
 * cache.c — provd-ocsp's ready answers (see cache.h).
 */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS  4096
#define KEY_MAX  64

struct entry {
	char                 key[KEY_MAX + 1];
	struct MHD_Response *r;
	struct entry        *next;
};

struct rcache {
	/* read: the worker threads queueing answers; write: put and forget */
	pthread_rwlock_t lock;
	struct entry    *bucket[BUCKETS];
	size_t           n, max;
	uint64_t         gen;      /* under lock; read with __atomic */
};

static size_t
hash(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return (size_t)(h % BUCKETS);
}

struct rcache *
rcache_new(size_t max)
{
	struct rcache *c = calloc(1, sizeof(*c));
	pthread_rwlockattr_t a;
	int rc;

	if (c == NULL)
		return NULL;
	/* Writers first: the worker threads hold the lock in turn without a
	 * gap under load, and a forget must not wait for the load to end. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&c->lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (rc != 0) {
		free(c);
		return NULL;
	}
	c->max = max;
	return c;
}

static void
drop(struct entry *e)
{
	MHD_destroy_response(e->r);
	free(e);
}

static void
drop_all(struct rcache *c)
{
	struct entry *e, *n;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = c->bucket[i]; e != NULL; e = n) {
			n = e->next;
			drop(e);
		}
		c->bucket[i] = NULL;
	}
	c->n = 0;
}

void
rcache_free(struct rcache *c)
{
	if (c == NULL)
		return;
	drop_all(c);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

int
rcache_queue(struct rcache *c, const char *key, struct MHD_Connection *conn,
    enum MHD_Result *ret)
{
	struct entry *e;
	int found = 0;

	pthread_rwlock_rdlock(&c->lock);
	for (e = c->bucket[hash(key)]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			*ret = MHD_queue_response(conn, MHD_HTTP_OK, e->r);
			found = 1;
			break;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return found;
}

uint64_t
rcache_generation(struct rcache *c)
{
	return __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
}

void
rcache_put(struct rcache *c, const char *key, struct MHD_Response *r, uint64_t gen)
{
	struct entry *e, **p;
	size_t h;

	if (strlen(key) > KEY_MAX || (e = calloc(1, sizeof(*e))) == NULL) {
		MHD_destroy_response(r);
		return;
	}
	e->r = r;
	strcpy(e->key, key);
	h = hash(key);
	pthread_rwlock_wrlock(&c->lock);
	if (gen != c->gen) {
		/* the file may have changed since it was read */
		pthread_rwlock_unlock(&c->lock);
		drop(e);
		return;
	}
	/* two threads may have read the same file: keep the first */
	for (p = &c->bucket[h]; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			pthread_rwlock_unlock(&c->lock);
			drop(e);
			return;
		}
	}
	if (c->n >= c->max)
		drop_all(c);
	e->next = c->bucket[h];
	c->bucket[h] = e;
	c->n++;
	pthread_rwlock_unlock(&c->lock);
}

void
rcache_forget(struct rcache *c, const char *key)
{
	struct entry **p, *e;

	pthread_rwlock_wrlock(&c->lock);
	__atomic_store_n(&c->gen, c->gen + 1, __ATOMIC_RELEASE);
	if (key == NULL) {
		drop_all(c);
	} else {
		for (p = &c->bucket[hash(key)]; (e = *p) != NULL; p = &e->next) {
			if (strcmp(e->key, key) == 0) {
				*p = e->next;
				drop(e);
				c->n--;
				break;
			}
		}
	}
	pthread_rwlock_unlock(&c->lock);
}
