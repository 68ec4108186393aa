/*
 * cache.c — provd-ocsp's response copies (see cache.h).
 */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS  4096
#define KEY_MAX  64

struct entry {
	char           key[KEY_MAX + 1];
	unsigned char *data;
	size_t         len;
	struct entry  *next;
};

struct rcache {
	pthread_mutex_t lock;
	struct entry   *bucket[BUCKETS];
	size_t          n, max;
	uint64_t        gen;
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

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max = max;
	return c;
}

static void
drop_all(struct rcache *c)
{
	struct entry *e, *n;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = c->bucket[i]; e != NULL; e = n) {
			n = e->next;
			free(e->data);
			free(e);
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
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
rcache_get(struct rcache *c, const char *key, unsigned char **out, size_t *len)
{
	struct entry *e;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	for (e = c->bucket[hash(key)]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) != 0)
			continue;
		if ((*out = malloc(e->len)) != NULL) {
			memcpy(*out, e->data, e->len);
			*len = e->len;
			found = 1;
		}
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

uint64_t
rcache_generation(struct rcache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

void
rcache_put(struct rcache *c, const char *key, const unsigned char *data,
    size_t len, uint64_t gen)
{
	struct entry *e;
	size_t h;

	if (strlen(key) > KEY_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return;
	if ((e->data = malloc(len)) == NULL) {
		free(e);
		return;
	}
	memcpy(e->data, data, len);
	e->len = len;
	strcpy(e->key, key);
	h = hash(key);
	pthread_mutex_lock(&c->lock);
	if (gen != c->gen) {
		/* the file may have changed since it was read */
		pthread_mutex_unlock(&c->lock);
		free(e->data);
		free(e);
		return;
	}
	if (c->n >= c->max)
		drop_all(c);
	e->next = c->bucket[h];
	c->bucket[h] = e;
	c->n++;
	pthread_mutex_unlock(&c->lock);
}

void
rcache_forget(struct rcache *c, const char *key)
{
	struct entry **p, *e;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	if (key == NULL) {
		drop_all(c);
	} else {
		for (p = &c->bucket[hash(key)]; (e = *p) != NULL; p = &e->next) {
			if (strcmp(e->key, key) == 0) {
				*p = e->next;
				free(e->data);
				free(e);
				c->n--;
				break;
			}
		}
	}
	pthread_mutex_unlock(&c->lock);
}
