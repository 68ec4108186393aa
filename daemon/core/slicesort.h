/*
 * slicesort — sort a large array on the loop without holding it: a merge
 * sort that does at most LOOP_SLICE_US of work a turn (loop_yield between
 * slices), for jobs that sort every answer of a search (100,000 addresses
 * of `check`: 30 ms of qsort in one turn at 30,000 accounts).
 *
 * Stable (equal elements keep their order), unlike qsort.
 */
#ifndef PROVD_SLICESORT_H
#define PROVD_SLICESORT_H

#include <stddef.h>

struct loop;

typedef int slicesort_cmp_fn(const void *a, const void *b);
typedef void slicesort_done_fn(void *ctx);

/*
 * Sort base[0..n) (elements of size bytes) by cmp, then call done(ctx)
 * once: before slicesort returns when the sort fits in one slice, else
 * from a later turn.  base is borrowed until done runs (it must not be
 * touched or freed before); ctx too.  Out of memory is fatal (xmalloc.h).
 */
void slicesort(struct loop *l, void *base, size_t n, size_t size, slicesort_cmp_fn *cmp,
               slicesort_done_fn *done, void *ctx);

#endif
