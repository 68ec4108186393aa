/* Unit tests for daemon/core/workpool.c: every queued job's work and done
 * run once, also a job a done callback queues while the pool is freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "loop.h"
#include "workpool.h"

struct count {
	struct workpool *pool;
	int work, done, chained_work, chained_done;
};

static struct count *running; /* the counts the chained job adds to */

static void
chained_work(void *arg)
{
	(void)arg;
	running->chained_work++;
}

static void
chained_done(void *arg)
{
	free(arg);
	running->chained_done++;
}

static void
first_work(void *arg)
{
	struct count *c = arg;

	c->work++;
}

/* Like a finished OCSP run, which queues the removal of stale responses. */
static void
first_done(void *arg)
{
	struct count *c = arg;

	c->done++;
	workpool_submit(c->pool, chained_work, chained_done, malloc(16));
}

static void
test_free_runs_jobs_queued_by_done(void **state)
{
	struct loop *l = loop_new();
	struct count c = {0};

	(void)state;
	assert_non_null(l);
	c.pool = workpool_new(l, 2);
	assert_non_null(c.pool);
	running = &c;
	workpool_submit(c.pool, first_work, first_done, &c);
	workpool_submit(c.pool, first_work, first_done, &c);
	workpool_free(c.pool);
	assert_int_equal(c.work, 2);
	assert_int_equal(c.done, 2);
	assert_int_equal(c.chained_work, 2);
	assert_int_equal(c.chained_done, 2);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_runs_jobs_queued_by_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
