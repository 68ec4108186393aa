/* Unit tests for daemon/core/slicesort.c: the order (stable, as a merge
 * sort), the slices (a large sort gives the loop back between them), and
 * the small cases that finish before the call returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loop.h"
#include "slicesort.h"

struct item {
	int key;
	int pos; /* where it was: equal keys keep this order */
};

struct run {
	struct loop *loop;
	unsigned done;
	unsigned turns; /* timer ticks seen while the sort ran */
	bool sorting;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

static void
sorted(void *ctx)
{
	struct run *r = ctx;

	r->done++;
	r->sorting = false;
	loop_stop(r->loop);
}

/* A timer every millisecond: it fires only when the sort gives the loop back. */
static void
tick(void *ctx)
{
	struct run *r = ctx;

	if (r->sorting) {
		r->turns++;
		loop_timer(r->loop, 1, tick, r);
	}
}

static void
check_sorted(const struct item *v, size_t n, size_t keys)
{
	size_t i;
	size_t *count = calloc(keys, sizeof(*count));

	assert_non_null(count);
	for (i = 0; i < n; i++)
		count[v[i].key]++;
	for (i = 1; i < n; i++) {
		assert_true(v[i - 1].key <= v[i].key);
		if (v[i - 1].key == v[i].key)
			assert_true(v[i - 1].pos < v[i].pos);
	}
	for (i = 0; i < keys; i++)
		assert_true(count[i] == n / keys || count[i] == n / keys + 1 || n < keys);
	free(count);
}

static void
sort_items(size_t n, size_t keys, struct run *r, struct item **out)
{
	struct item *v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i].key = (int)((i * 2654435761u) % keys);
		v[i].pos = (int)i;
	}
	memset(r, 0, sizeof(*r));
	r->loop = loop_new();
	r->sorting = true;
	slicesort(r->loop, v, n, sizeof(*v), item_cmp, sorted, r);
	if (r->done == 0) {
		loop_timer(r->loop, 1, tick, r);
		loop_run(r->loop);
	}
	loop_free(r->loop);
	*out = v;
}

static void
test_large_in_slices(void **state)
{
	struct run r;
	struct item *v;

	(void)state;
	sort_items(300000, 1000, &r, &v);
	assert_int_equal(r.done, 1);
	check_sorted(v, 300000, 1000);
	/* 300,000 elements are far more than one slice's work: the loop ran
	 * its timers between slices. */
	assert_true(r.turns > 0);
	free(v);
}

static void
test_sizes(void **state)
{
	static const size_t sizes[] = {2, 3, 31, 32, 33, 64, 65, 1000, 4097};
	struct run r;
	struct item *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sort_items(sizes[i], 7, &r, &v);
		assert_int_equal(r.done, 1);
		check_sorted(v, sizes[i], 7);
		free(v);
	}
}

static void
test_trivial_now(void **state)
{
	struct run r;
	struct item *v;

	(void)state;
	sort_items(0, 1, &r, &v);
	assert_int_equal(r.done, 1);
	free(v);
	sort_items(1, 1, &r, &v);
	assert_int_equal(r.done, 1);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_in_slices),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_trivial_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
