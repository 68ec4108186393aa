/*
 * xmalloc — provd's out-of-memory policy, in one place.
 *
 * The engine does not try to survive running out of memory: each of these
 * returns the memory or ends the process with fatalx("out of memory"), and
 * systemd starts it again (Restart=on-failure).  A request in flight then
 * gets no STATUS; its client sees the connection close, and a write the
 * directory had already received is there: the commands are written so
 * that running them again completes the job (certrec.h, account_admin.h).
 * Trying to answer
 * "out of memory" instead would need memory too, and would leave half-done
 * work (an audit record, a CRL marker) to chance.
 *
 * Sizes that come from input are bounded before they are allocated (the
 * limits table in docs/security.md), so hostile input cannot reach these
 * with a huge size.
 *
 * So the engine (daemon/) allocates only through these and never checks an
 * allocation for NULL itself, and a function whose only failure would be
 * out of memory cannot fail (dir_mods_*, loop_defer, loop_timer,
 * workpool_submit, strset_new, dir_new ...): its header says so, and its
 * callers do not test it.  The libraries below (proto/, pki/) and those
 * provd links (libldap, OpenSSL) report a failed allocation as an error
 * like any other; where such an error can only mean memory, the engine
 * treats it with fatal(), otherwise as the library's error.
 */
#ifndef PROVD_XMALLOC_H
#define PROVD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t nmemb, size_t size) __attribute__((malloc, returns_nonnull));
/* As realloc; n == 0 is refused as a bug (fatal). */
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

#endif
