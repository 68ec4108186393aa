/* slicesort — a merge sort in loop slices.  See slicesort.h. */
#include "slicesort.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "xmalloc.h"

#define RUN0  32u /* first runs, sorted by insertion */
#define CHECK 64u /* elements moved between two looks at the clock */

struct sort {
	struct loop *loop;
	unsigned char *base, *tmp; /* the caller's array; as large, ours */
	unsigned char *src, *dst;  /* this pass: from, to */
	size_t n, size;
	slicesort_cmp_fn *cmp;
	slicesort_done_fn *done;
	void *ctx;
	size_t width;     /* 0 while the first runs are sorted */
	size_t lo;        /* the run (pair) this pass is at */
	size_t a, b, out; /* inside the merge of that pair */
	bool merging;
};

#define AT(p, i) ((p) + (i)*s->size)

/* Insertion sort of base[lo..hi): stable, fast on RUN0 elements. */
static void
insertion(struct sort *s, size_t lo, size_t hi)
{
	unsigned char *key = s->tmp; /* free during this phase */
	size_t i, j;

	for (i = lo + 1; i < hi; i++) {
		if (s->cmp(AT(s->base, i - 1), AT(s->base, i)) <= 0)
			continue;
		memcpy(key, AT(s->base, i), s->size);
		for (j = i; j > lo && s->cmp(AT(s->base, j - 1), key) > 0; j--)
			memcpy(AT(s->base, j), AT(s->base, j - 1), s->size);
		memcpy(AT(s->base, j), key, s->size);
	}
}

/* Merge src[lo..mid) and src[mid..hi) into dst, from where it stopped;
 * false when the slice ran out first. */
static bool
merge_step(struct sort *s, uint64_t until)
{
	size_t mid = s->lo + s->width < s->n ? s->lo + s->width : s->n;
	size_t hi = s->lo + 2 * s->width < s->n ? s->lo + 2 * s->width : s->n;
	unsigned k = 0;

	if (!s->merging) {
		s->a = s->lo;
		s->b = mid;
		s->out = s->lo;
		s->merging = true;
	}
	while (s->out < hi) {
		if (++k % CHECK == 0 && loop_now_us() >= until)
			return false;
		if (s->a < mid && (s->b >= hi || s->cmp(AT(s->src, s->a), AT(s->src, s->b)) <= 0))
			memcpy(AT(s->dst, s->out++), AT(s->src, s->a++), s->size);
		else
			memcpy(AT(s->dst, s->out++), AT(s->src, s->b++), s->size);
	}
	s->merging = false;
	return true;
}

static void
sort_run(void *arg)
{
	struct sort *s = arg;
	uint64_t until = loop_now_us() + LOOP_SLICE_US;

	/* The first runs, RUN0 elements each. */
	for (; s->width == 0; s->lo += RUN0) {
		if (s->lo >= s->n) {
			s->width = RUN0;
			s->lo = 0;
			s->src = s->base;
			s->dst = s->tmp;
			break;
		}
		if (s->lo > 0 && loop_now_us() >= until)
			goto later;
		insertion(s, s->lo, s->lo + RUN0 < s->n ? s->lo + RUN0 : s->n);
	}
	/* Passes of merges, each doubling the runs. */
	while (s->width < s->n) {
		unsigned char *t;

		for (; s->lo < s->n; s->lo += 2 * s->width)
			if (!merge_step(s, until))
				goto later;
		t = s->src;
		s->src = s->dst;
		s->dst = t;
		s->width *= 2;
		s->lo = 0;
		if (s->width < s->n && loop_now_us() >= until)
			goto later;
	}
	if (s->src != s->base)
		memcpy(s->base, s->src, s->n * s->size);
	free(s->tmp);
	{
		slicesort_done_fn *done = s->done;
		void *ctx = s->ctx;

		free(s);
		done(ctx);
	}
	return;
later:
	loop_yield(s->loop, sort_run, s);
}

void
slicesort(struct loop *l, void *base, size_t n, size_t size, slicesort_cmp_fn *cmp,
          slicesort_done_fn *done, void *ctx)
{
	struct sort *s;

	if (n < 2 || size == 0) {
		done(ctx);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->loop = l;
	s->base = base;
	s->n = n;
	s->size = size;
	s->cmp = cmp;
	s->done = done;
	s->ctx = ctx;
	s->tmp = xmalloc(n * size > size ? n * size : size);
	sort_run(s);
}
