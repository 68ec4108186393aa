/*
 * log — the one logging module.
 *
 * In the foreground (-d) messages go to stderr, otherwise to syslog with the
 * configured facility.  log_warn() appends strerror(errno); log_warnx() does
 * not.  fatal()/fatalx() log and exit(1): only at start-up or on a broken
 * internal invariant (and out of memory, see xmalloc.h), never because of
 * client input.  Never pass secrets.
 */
#ifndef PROVD_LOG_H
#define PROVD_LOG_H

#include <stdbool.h>
#include <stdnoreturn.h>

void log_init(const char *ident, bool foreground, int facility);
void log_set_facility(int facility);
void log_set_verbose(bool verbose);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An audit line: LOG_AUTHPRIV|LOG_NOTICE in syslog, "audit:" on stderr. */
void log_audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A rate limit for messages a client can provoke (refusals, protocol
 * errors, closed connections): at most `burst` messages per second pass;
 * the rest are counted, and the first message let through after them says
 * how many were suppressed.  Zero-initialise; loop thread only.
 */
struct log_rate {
	unsigned long long window_ms;   /* start of the current second */
	unsigned           n;           /* messages let through in it */
	unsigned long      suppressed;  /* since the last one let through */
};

/* True when a message may be logged now; then *suppressed (may be NULL)
 * gets the count held back before it, for the caller to mention. */
bool log_rate_allow(struct log_rate *r, unsigned burst, unsigned long *suppressed);

/* Map "daemon", "local0".."local7", "user" to a facility; -1 if unknown. */
int log_facility_parse(const char *name);

#endif
