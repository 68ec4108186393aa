/*
 * loop — a tiny epoll event loop: fd events, one-shot timers, deferred calls.
 *
 * Single-threaded: every callback runs on the loop's thread.  Other threads
 * hand work back with loop_wake_fd() + their own eventfd (see workpool).
 */
#ifndef PROVD_LOOP_H
#define PROVD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct timer;

/* events is a mask of EPOLLIN / EPOLLOUT; EPOLLERR/EPOLLHUP are reported in
 * `events` too. */
typedef void loop_fd_fn(void *ctx, int fd, uint32_t events);
typedef void loop_fn(void *ctx);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd.  0 or -1 (errno set).  One registration per fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *cb, void *ctx);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);

/* Call cb(ctx) once after ms milliseconds.  The returned handle (never
 * NULL) is valid until the timer fires or is cancelled. */
struct timer *loop_timer(struct loop *l, uint64_t ms, loop_fn *cb, void *ctx);
void loop_timer_cancel(struct loop *l, struct timer *t);

/* Call cb(ctx) on the next turn of the loop, before waiting.  Calls run in
 * the order they were deferred (out of memory is fatal, xmalloc.h).  A
 * call deferred from a deferred call runs in the same turn, before any fd
 * event: to let the loop serve others between two pieces of a long job,
 * use loop_yield. */
void loop_defer(struct loop *l, loop_fn *cb, void *ctx);

/* Call cb(ctx) once, after the loop has polled its fds (without waiting)
 * and served the events and timers that were ready: the way a job over
 * many items (a search of 100,000 entries, a large CRL's responses) does
 * one bounded slice per turn.  Calls run in the order they were yielded;
 * one yielded from a yielded call runs a turn later.  ctx must stay valid
 * until cb runs (out of memory is fatal, xmalloc.h). */
void loop_yield(struct loop *l, loop_fn *cb, void *ctx);
/* Drop the yielded calls of cb(ctx) not run yet (before freeing ctx). */
void loop_yield_cancel(struct loop *l, loop_fn *cb, void *ctx);

/* A long job's slice: at most LOOP_SLICE_US of work, then loop_yield. */
#define LOOP_SLICE_US 1000u

/* Run until loop_stop(). */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Monotonic milliseconds; microseconds (for slice budgets). */
uint64_t loop_now_ms(void);
uint64_t loop_now_us(void);

/* Turns on which some yielded call ran (status: how often long jobs gave
 * the loop back). */
uint64_t loop_yields(const struct loop *l);

/*
 * How long the loop was held: a turn is the work between two waits for
 * events (the fd callbacks, timers, yielded and deferred calls run in
 * between).  Its CPU time (CLOCK_THREAD_CPUTIME_ID) does not grow when
 * other processes take the machine, its wall time does; by_cpu[b] counts
 * the turns whose CPU time was at most loop_turn_bounds_us[b] (the last
 * bucket: longer than every bound).  Counted since loop_new: a caller
 * compares two copies to see the turns of an interval.
 */
#define LOOP_TURN_BUCKETS 8
extern const uint32_t loop_turn_bounds_us[LOOP_TURN_BUCKETS - 1];
struct loop_turns {
	uint64_t n;
	uint64_t max_wall_us;
	uint64_t max_cpu_us;
	uint64_t by_cpu[LOOP_TURN_BUCKETS];
};
void loop_turns(const struct loop *l, struct loop_turns *out);

#endif
