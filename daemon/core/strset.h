/*
 * strset — a set of short strings (open addressing, FNV-1a), for the
 * employee ids seen in a batch and the logins reserved by creates in flight.
 */
#ifndef PROVD_STRSET_H
#define PROVD_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset;

/* max: hard cap on members (inserts beyond it fail).  Never NULL. */
struct strset *strset_new(size_t max);
void strset_free(struct strset *s);
/* Free up to n of s's slots (a large set freed over several loop turns):
 * true when s is gone (NULL is), false when there is more; s is then only
 * for strset_free_some (or strset_free). */
bool strset_free_some(struct strset *s, size_t n);

/* 1 added, 0 already present, -1 full.  The string is
 * copied.  Comparison is exact (callers fold case first if they need to). */
int strset_add(struct strset *s, const char *str);
bool strset_has(const struct strset *s, const char *str);
/* Remove str if present. */
void strset_del(struct strset *s, const char *str);
size_t strset_count(const struct strset *s);

/* Call fn for each member (order unspecified). */
void strset_each(const struct strset *s, void (*fn)(void *ctx, const char *str), void *ctx);

#endif
