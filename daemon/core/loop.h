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
 * the order they were deferred (out of memory is fatal, xmalloc.h). */
void loop_defer(struct loop *l, loop_fn *cb, void *ctx);

/* Run until loop_stop(). */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Monotonic milliseconds. */
uint64_t loop_now_ms(void);

#endif
