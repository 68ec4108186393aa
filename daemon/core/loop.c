/* loop — epoll event loop with timers and deferred calls. See loop.h. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <sys/queue.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

struct watch {
	int         fd;
	loop_fd_fn *cb;
	void       *ctx;
	bool        dead;
};

struct timer {
	uint64_t      due;
	loop_fn      *cb;
	void         *ctx;
	struct timer *next;
};

struct deferred {
	loop_fn               *cb;
	void                  *ctx;
	STAILQ_ENTRY(deferred) entry;
};
STAILQ_HEAD(deferq, deferred);

struct loop {
	int              epfd;
	bool             stop;
	struct watch   **watch;      /* indexed by fd */
	int              nwatch;
	struct timer    *timers;     /* sorted by due */
	struct deferq    deferred;   /* loop_defer, oldest first */
	struct deferq    yielded;    /* loop_yield: after the next poll */
	struct deferq    ready;      /* ... yielded before this turn's poll */
	uint64_t         nyields;    /* yielded calls run */
	struct loop_turns turns;     /* how long the loop was held, per turn */
	uint64_t         turn_wall0; /* start of the turn being timed (µs) */
	uint64_t         turn_cpu0;
	struct watch   **graveyard;  /* freed after each turn */
	size_t           ngrave, capgrave;
};

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
loop_yields(const struct loop *l)
{
	return l->nyields;
}

/* CPU time of the calling thread, µs. */
static uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const uint32_t loop_turn_bounds_us[LOOP_TURN_BUCKETS - 1] = {
	1000, 2000, 5000, 10000, 20000, 50000, 100000
};

/* A turn ends (the loop is about to wait again): count it. */
static void
turn_end(struct loop *l)
{
	/* The CPU interval nests in the wall one: started after it, read
	 * before it. */
	uint64_t cpu = thread_cpu_us() - l->turn_cpu0;
	uint64_t wall = loop_now_us() - l->turn_wall0;
	unsigned b = 0;

	while (b < LOOP_TURN_BUCKETS - 1 && cpu > loop_turn_bounds_us[b])
		b++;
	l->turns.by_cpu[b]++;
	l->turns.n++;
	if (wall > l->turns.max_wall_us)
		l->turns.max_wall_us = wall;
	if (cpu > l->turns.max_cpu_us)
		l->turns.max_cpu_us = cpu;
}

void
loop_turns(const struct loop *l, struct loop_turns *out)
{
	*out = l->turns;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	STAILQ_INIT(&l->deferred);
	STAILQ_INIT(&l->yielded);
	STAILQ_INIT(&l->ready);
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void
bury(struct loop *l, struct watch *w)
{
	struct watch **g;

	if (l->ngrave == l->capgrave) {
		size_t cap = l->capgrave ? l->capgrave * 2 : 16;

		g = xrealloc(l->graveyard, cap * sizeof(*g));
		l->graveyard = g;
		l->capgrave = cap;
	}
	l->graveyard[l->ngrave++] = w;
}

static void
empty_graveyard(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->ngrave; i++)
		free(l->graveyard[i]);
	l->ngrave = 0;
}

static void
free_queue(struct deferq *q)
{
	struct deferred *d;

	while ((d = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, entry);
		free(d);
	}
}

void
loop_free(struct loop *l)
{
	struct timer *t;
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nwatch; i++)
		free(l->watch[i]);
	free(l->watch);
	empty_graveyard(l);
	free(l->graveyard);
	while ((t = l->timers) != NULL) {
		l->timers = t->next;
		free(t);
	}
	free_queue(&l->deferred);
	free_queue(&l->yielded);
	free_queue(&l->ready);
	close(l->epfd);
	free(l);
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *cb, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct watch *w;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fd >= l->nwatch) {
		int n = l->nwatch ? l->nwatch : 64;
		struct watch **nw;

		while (n <= fd)
			n *= 2;
		nw = xrealloc(l->watch, (size_t)n * sizeof(*nw));
		memset(nw + l->nwatch, 0, (size_t)(n - l->nwatch) * sizeof(*nw));
		l->watch = nw;
		l->nwatch = n;
	}
	if (l->watch[fd] != NULL) {
		errno = EEXIST;
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return -1;
	}
	l->watch[fd] = w;
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || fd >= l->nwatch || l->watch[fd] == NULL) {
		errno = ENOENT;
		return -1;
	}
	ev.data.ptr = l->watch[fd];
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void
loop_del_fd(struct loop *l, int fd)
{
	struct watch *w;

	if (fd < 0 || fd >= l->nwatch || (w = l->watch[fd]) == NULL)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->watch[fd] = NULL;
	/* Events for this fd may still be in the batch being dispatched: keep
	 * the watch alive, marked dead, until the turn ends. */
	w->dead = true;
	bury(l, w);
}

struct timer *
loop_timer(struct loop *l, uint64_t ms, loop_fn *cb, void *ctx)
{
	struct timer *t = xcalloc(1, sizeof(*t)), **pp;

	t->due = loop_now_ms() + ms;
	t->cb = cb;
	t->ctx = ctx;
	for (pp = &l->timers; *pp != NULL && (*pp)->due <= t->due; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t;
}

void
loop_timer_cancel(struct loop *l, struct timer *t)
{
	struct timer **pp;

	for (pp = &l->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
}

static void
queue_call(struct deferq *q, loop_fn *cb, void *ctx)
{
	struct deferred *d = xcalloc(1, sizeof(*d));

	d->cb = cb;
	d->ctx = ctx;
	STAILQ_INSERT_TAIL(q, d, entry);
}

void
loop_defer(struct loop *l, loop_fn *cb, void *ctx)
{
	queue_call(&l->deferred, cb, ctx);
}

void
loop_yield(struct loop *l, loop_fn *cb, void *ctx)
{
	queue_call(&l->yielded, cb, ctx);
}

static void
cancel_in(struct deferq *q, loop_fn *cb, void *ctx)
{
	struct deferq keep = STAILQ_HEAD_INITIALIZER(keep);
	struct deferred *d;

	while ((d = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, entry);
		if (d->cb == cb && d->ctx == ctx)
			free(d);
		else
			STAILQ_INSERT_TAIL(&keep, d, entry);
	}
	STAILQ_CONCAT(q, &keep);
}

void
loop_yield_cancel(struct loop *l, loop_fn *cb, void *ctx)
{
	cancel_in(&l->yielded, cb, ctx);
	cancel_in(&l->ready, cb, ctx);
}

static void
run_deferred(struct loop *l)
{
	struct deferred *d;

	/* Calls deferred while running these run in the same turn. */
	while ((d = STAILQ_FIRST(&l->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&l->deferred, entry);
		d->cb(d->ctx);
		free(d);
	}
}

/* The calls yielded before this turn's poll (l->ready); the ones they
 * yield wait in l->yielded for the next turn. */
static void
run_yielded(struct loop *l)
{
	struct deferred *d;

	if (!STAILQ_EMPTY(&l->ready))
		l->nyields++;
	while (!l->stop && (d = STAILQ_FIRST(&l->ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&l->ready, entry);
		d->cb(d->ctx);
		free(d);
	}
	/* stopping: what is left stays queued (loop_free frees it) */
	STAILQ_CONCAT(&l->ready, &l->yielded);
	STAILQ_CONCAT(&l->yielded, &l->ready);
}

static void
run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	struct timer *t;

	while ((t = l->timers) != NULL && t->due <= now) {
		l->timers = t->next;
		t->cb(t->ctx);
		free(t);
	}
}

void
loop_run(struct loop *l)
{
	struct epoll_event ev[64];
	int n, i, timeout;

	l->stop = false;
	l->turn_wall0 = loop_now_us();
	l->turn_cpu0 = thread_cpu_us();
	while (!l->stop) {
		run_deferred(l);
		if (l->stop)
			break;
		timeout = -1;
		STAILQ_CONCAT(&l->ready, &l->yielded);
		if (!STAILQ_EMPTY(&l->deferred) || !STAILQ_EMPTY(&l->ready)) {
			timeout = 0;
		} else if (l->timers != NULL) {
			uint64_t now = loop_now_ms();
			timeout = l->timers->due <= now ? 0 :
			          (int)(l->timers->due - now > 60000 ? 60000 :
			                l->timers->due - now);
		}
		turn_end(l);
		n = epoll_wait(l->epfd, ev, 64, timeout);
		l->turn_wall0 = loop_now_us();
		l->turn_cpu0 = thread_cpu_us();
		if (n < 0) {
			if (errno != EINTR)
				fatal("epoll_wait");
			n = 0;
		}
		for (i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			if (!w->dead)
				w->cb(w->ctx, w->fd, ev[i].events);
		}
		empty_graveyard(l);
		run_timers(l);
		run_yielded(l);
	}
	turn_end(l);        /* the last one, stopped before waiting */
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}
