/* strset — open-addressing string set. See strset.h. */
#include "strset.h"

#include "xmalloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Deleted slots keep a tombstone so probe chains stay intact. */
static char tombstone[1];

struct strset {
	char  **slot;
	size_t  cap;      /* power of two */
	size_t  n;        /* live members */
	size_t  used;     /* live + tombstones */
	size_t  max;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct strset *
strset_new(size_t max)
{
	struct strset *s = xcalloc(1, sizeof(*s));

	s->cap = 64;
	s->max = max;
	s->slot = xcalloc(s->cap, sizeof(char *));
	return s;
}

void
strset_free(struct strset *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		if (s->slot[i] != NULL && s->slot[i] != tombstone)
			free(s->slot[i]);
	free(s->slot);
	free(s);
}

bool
strset_free_some(struct strset *s, size_t n)
{
	if (s == NULL)
		return true;
	/* From the top: the slots below cap stay a valid set. */
	for (; s->cap > 0 && n > 0; n--) {
		char *p = s->slot[--s->cap];

		if (p != NULL && p != tombstone)
			free(p);
	}
	if (s->cap > 0)
		return false;
	free(s->slot);
	free(s);
	return true;
}

/* Index of str's slot, or of the first free slot on its probe chain. */
static size_t
find(const struct strset *s, const char *str, bool *found)
{
	size_t i = (size_t)hash(str) & (s->cap - 1), first_free = SIZE_MAX;

	for (;;) {
		char *x = s->slot[i];

		if (x == NULL) {
			*found = false;
			return first_free != SIZE_MAX ? first_free : i;
		}
		if (x == tombstone) {
			if (first_free == SIZE_MAX)
				first_free = i;
		} else if (strcmp(x, str) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & (s->cap - 1);
	}
}

static int
grow(struct strset *s)
{
	char **old = s->slot;
	size_t oldcap = s->cap, i;

	s->cap *= 2;
	s->slot = xcalloc(s->cap, sizeof(char *));
	s->used = s->n;
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL && old[i] != tombstone) {
			bool found;

			s->slot[find(s, old[i], &found)] = old[i];
		}
	free(old);
	return 0;
}

int
strset_add(struct strset *s, const char *str)
{
	bool found;
	size_t i;
	char *copy;

	if (strset_has(s, str))
		return 0;
	if (s->n >= s->max)
		return -1;
	if ((s->used + 1) * 4 > s->cap * 3 && grow(s) < 0)
		return -1;
	i = find(s, str, &found);
	copy = xstrdup(str);
	if (s->slot[i] == NULL)
		s->used++;
	s->slot[i] = copy;
	s->n++;
	return 1;
}

bool
strset_has(const struct strset *s, const char *str)
{
	bool found;

	find(s, str, &found);
	return found;
}

void
strset_del(struct strset *s, const char *str)
{
	bool found;
	size_t i = find(s, str, &found);

	if (!found)
		return;
	free(s->slot[i]);
	s->slot[i] = tombstone;
	s->n--;
}

size_t
strset_count(const struct strset *s)
{
	return s->n;
}

void
strset_each(const struct strset *s, void (*fn)(void *ctx, const char *str), void *ctx)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		if (s->slot[i] != NULL && s->slot[i] != tombstone)
			fn(ctx, s->slot[i]);
}
