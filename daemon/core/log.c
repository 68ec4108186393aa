/* log — stderr or syslog. See log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static bool log_foreground = true;
static bool log_verbose;
static const char *log_ident = "provd";

void
log_init(const char *ident, bool foreground, int facility)
{
	log_ident = ident;
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_facility(int facility)
{
	if (!log_foreground) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	}
}

void
log_set_verbose(bool verbose)
{
	log_verbose = verbose;
}

static void
vlog(int pri, const char *tag, const char *fmt, va_list ap, int errnum)
{
	char msg[2048];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	if (log_foreground) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%d]: %s%s\n", tm.tm_hour,
		        tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
		        (int)getpid(), tag, msg);
	} else {
		syslog(pri, "%s%s", tag, msg);
	}
}

#define LOGFN(name, pri, tag, err)                     \
	void name(const char *fmt, ...)                \
	{                                              \
		int saved = errno;                     \
		va_list ap;                            \
		va_start(ap, fmt);                     \
		vlog(pri, tag, fmt, ap, err ? saved : 0); \
		va_end(ap);                            \
		errno = saved;                         \
	}

LOGFN(log_warn, LOG_WARNING, "", 1)
LOGFN(log_warnx, LOG_WARNING, "", 0)
LOGFN(log_info, LOG_INFO, "", 0)
LOGFN(log_audit, LOG_AUTHPRIV | LOG_NOTICE, "audit: ", 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

int
log_facility_parse(const char *name)
{
	static const struct { const char *name; int fac; } map[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].fac;
	return -1;
}

bool
log_rate_allow(struct log_rate *r, unsigned burst, unsigned long *suppressed)
{
	struct timespec ts;
	unsigned long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
	if (now - r->window_ms >= 1000) {
		r->window_ms = now;
		r->n = 0;
	}
	if (r->n >= burst) {
		r->suppressed++;
		return false;
	}
	r->n++;
	if (suppressed != NULL)
		*suppressed = r->suppressed;
	r->suppressed = 0;
	return true;
}
