/* Unit tests for daemon/core/loop.c: the turns it counts (loop_turns) —
 * the work between two waits, by CPU time, the wait itself not counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "loop.h"

static uint64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct spin {
	struct loop *l;
	uint64_t     us;       /* CPU time to spend in the callback */
	bool         stop;     /* then stop the loop */
};

static void
spin(void *arg)
{
	struct spin *s = arg;
	uint64_t until = cpu_us() + s->us;

	while (cpu_us() < until)
		;
	if (s->stop)
		loop_stop(s->l);
}

static uint64_t
turns_over(const struct loop_turns *t, uint32_t bound_us)
{
	uint64_t n = 0;
	unsigned b;

	for (b = 0; b < LOOP_TURN_BUCKETS; b++)
		if (b == LOOP_TURN_BUCKETS - 1 || loop_turn_bounds_us[b] > bound_us)
			n += t->by_cpu[b];
	return n;
}

static uint64_t
turns_total(const struct loop_turns *t)
{
	uint64_t n = 0;
	unsigned b;

	for (b = 0; b < LOOP_TURN_BUCKETS; b++)
		n += t->by_cpu[b];
	return n;
}

/* A callback that takes 3 ms of CPU: one turn in the "at most 5 ms"
 * bucket, none beyond, the longest turn at least 3 ms; counted whether the
 * loop waits after it (the timer, 20 ms later, stops it) or stops at once
 * (last). */
static void
long_turn(bool last)
{
	struct loop *l = loop_new();
	struct spin s = { .l = l, .us = 3000, .stop = last };
	struct spin end = { .l = l, .us = 0, .stop = true };
	struct loop_turns t;

	assert_non_null(l);
	loop_defer(l, spin, &s);
	if (!last)
		loop_timer(l, 20, spin, &end);
	loop_run(l);
	loop_turns(l, &t);
	assert_int_equal(loop_turn_bounds_us[1], 2000);
	assert_int_equal(loop_turn_bounds_us[2], 5000);
	assert_int_equal(turns_over(&t, 2000), 1);
	assert_int_equal(t.by_cpu[2], 1);
	assert_true(t.max_cpu_us >= 3000);
	assert_true(t.max_cpu_us < 5000);
	/* The two clocks are read a few ns apart and kept in whole µs. */
	assert_true(t.max_wall_us + 50 >= t.max_cpu_us);
	assert_int_equal(turns_total(&t), t.n);
	loop_free(l);
}

static void
test_long_turn_counted(void **state)
{
	(void)state;
	long_turn(false);
}

static void
test_last_turn_counted(void **state)
{
	(void)state;
	long_turn(true);
}

/* Waiting is not holding the loop: a 60 ms timer, then a quick stop, make
 * short turns only.  The 60 ms waited lie outside every turn, however long
 * a loaded machine stretches the turns around them. */
static void
test_wait_not_counted(void **state)
{
	struct loop *l = loop_new();
	struct spin s = { .l = l, .us = 0, .stop = true };
	struct loop_turns t;
	uint64_t t0, elapsed;

	(void)state;
	assert_non_null(l);
	loop_timer(l, 60, spin, &s);
	t0 = loop_now_us();
	loop_run(l);
	elapsed = loop_now_us() - t0;
	loop_turns(l, &t);
	assert_true(t.n >= 1);
	assert_int_equal(turns_over(&t, 1000), 0);
	assert_int_equal(t.by_cpu[0], t.n);
	assert_true(elapsed >= 59000);
	assert_true(t.max_wall_us + 55000 <= elapsed);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_turn_counted),
		cmocka_unit_test(test_last_turn_counted),
		cmocka_unit_test(test_wait_not_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
