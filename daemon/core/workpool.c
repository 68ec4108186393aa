/* workpool — worker threads with completion on the loop. See workpool.h. */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "xmalloc.h"

#define MAX_THREADS 64

struct job {
	workpool_fn     *work, *done;
	void            *arg;
	STAILQ_ENTRY(job) entry;
};
STAILQ_HEAD(jobq, job);

struct workpool {
	struct loop     *loop;
	pthread_t        threads[MAX_THREADS];
	unsigned         nthreads;
	pthread_mutex_t  mu;
	pthread_cond_t   cv;
	struct jobq      todo;       /* waiting for a worker, oldest first */
	struct jobq      finished;   /* waiting for done(), oldest first */
	size_t           pending;
	bool             quit;
	int              efd;
};

static void *
worker(void *arg)
{
	struct workpool *p = arg;
	struct job *j;
	uint64_t one = 1;
	bool wake;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (STAILQ_EMPTY(&p->todo) && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = STAILQ_FIRST(&p->todo)) == NULL) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		STAILQ_REMOVE_HEAD(&p->todo, entry);
		pthread_mutex_unlock(&p->mu);

		j->work(j->arg);

		pthread_mutex_lock(&p->mu);
		/* Wake the loop only when the list goes from empty to not:
		 * drain() takes the whole list, so one wake-up covers every job
		 * finished before the loop gets to it. */
		wake = STAILQ_EMPTY(&p->finished);
		STAILQ_INSERT_TAIL(&p->finished, j, entry);
		pthread_mutex_unlock(&p->mu);
		if (wake && write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("workpool: eventfd");
	}
}

static void
drain(struct workpool *p)
{
	struct jobq done = STAILQ_HEAD_INITIALIZER(done);
	struct job *j;

	pthread_mutex_lock(&p->mu);
	STAILQ_CONCAT(&done, &p->finished);
	pthread_mutex_unlock(&p->mu);
	while ((j = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, entry);
		p->pending--;
		j->done(j->arg);
		free(j);
	}
}

static void
on_event(void *arg, int fd, uint32_t events)
{
	struct workpool *p = arg;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("workpool: eventfd read");
	drain(p);
}

struct workpool *
workpool_new(struct loop *loop, unsigned nthreads)
{
	struct workpool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;
	unsigned i;

	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (unsigned)n : 1;
	}
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	p->loop = loop;
	STAILQ_INIT(&p->todo);
	STAILQ_INIT(&p->finished);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    loop_add_fd(loop, p->efd, EPOLLIN, on_event, p) < 0) {
		if (p->efd >= 0)
			close(p->efd);
		free(p);
		return NULL;
	}
	/* Workers must not take signals meant for the loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->nthreads = i;
	if (i == 0) {
		workpool_free(p);
		return NULL;
	}
	return p;
}

void
workpool_submit(struct workpool *p, workpool_fn *work, workpool_fn *done, void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	STAILQ_INSERT_TAIL(&p->todo, j, entry);
	p->pending++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

size_t
workpool_pending(const struct workpool *p)
{
	return p->pending;
}

void
workpool_free(struct workpool *p)
{
	struct job *j;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* A done callback may queue more work (a finished OCSP run queues the
	 * removal of stale responses).  The workers are gone: run such jobs
	 * here, until none is left, so no job and no argument is dropped. */
	for (;;) {
		drain(p);
		if ((j = STAILQ_FIRST(&p->todo)) == NULL)
			break;
		STAILQ_REMOVE_HEAD(&p->todo, entry);
		j->work(j->arg);
		STAILQ_INSERT_TAIL(&p->finished, j, entry);
	}
	loop_del_fd(p->loop, p->efd);
	close(p->efd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
