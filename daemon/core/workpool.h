/*
 * workpool — CPU-heavy work (password hashing) on worker threads, so the
 * event loop never stalls.
 *
 * work(arg) runs on a worker thread and must touch only its argument;
 * done(arg) then runs on the loop thread.  Jobs complete in any order.
 */
#ifndef PROVD_WORKPOOL_H
#define PROVD_WORKPOOL_H

#include <stddef.h>

struct loop;
struct workpool;

typedef void workpool_fn(void *arg);

/* nthreads 0 = one per online CPU.  NULL on failure. */
struct workpool *workpool_new(struct loop *loop, unsigned nthreads);

/* Queue a job (out of memory is fatal, xmalloc.h). */
void workpool_submit(struct workpool *p, workpool_fn *work, workpool_fn *done, void *arg);

/* Jobs queued or running. */
size_t workpool_pending(const struct workpool *p);

/* Wait for queued jobs, run their done callbacks, join the threads; jobs a
 * done callback queues meanwhile run on the calling thread, to the end. */
void workpool_free(struct workpool *p);

#endif
