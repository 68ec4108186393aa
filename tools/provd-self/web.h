/*
 * web — the self-service page over HTTP (libmicrohttpd).
 *
 *   GET  /           the form, with the rules, in Vietnamese then English
 *   POST /           change the password (fields login, current, new,
 *                    confirm, csrf), answered with the form again and a
 *                    message, or the success page
 *   GET  /style.css  the page's only style sheet (the CSP allows no other)
 *
 * One thread per connection, at most WEB_CONNECTIONS at once and
 * WEB_PER_ADDRESS from one address (no limit per address behind a trusted
 * proxy, where all come from the proxy), each closed after WEB_TIMEOUT idle
 * seconds or when its body takes over WEB_REQUEST_MAX seconds; request
 * bodies over WEB_BODY_MAX bytes are refused.  "Wrong login or password"
 * is answered WEB_WRONG_MIN_MS after the request began, whatever the
 * reason, so its timing does not tell which logins exist.  Every
 * answer carries no-store, a strict Content-Security-Policy and
 * frame-ancestors 'none'.  Passwords never leave the request's memory,
 * which is wiped when the request ends; they are not logged.
 *
 * Each change is audited: a JSON line (time, login, client address,
 * outcome) appended and fsynced to the audit log, and a syslog line at
 * LOG_AUTHPRIV|LOG_NOTICE.  Refusals after a password was checked go to
 * syslog, at most WEB_LOG_PER_SECOND lines a second.
 */
#ifndef PROVD_SELF_WEB_H
#define PROVD_SELF_WEB_H

#include <stddef.h>

#include "guard.h"
#include "pwrules.h"
#include "selfdir.h"

#define WEB_CONNECTIONS    64
#define WEB_PER_ADDRESS    8
#define WEB_TIMEOUT        10
#define WEB_BODY_MAX       4096
#define WEB_LOG_PER_SECOND 10
#define WEB_WRONG_MIN_MS   250    /* "wrong login or password" never sooner */
#define WEB_REQUEST_MAX    20     /* seconds a request body may take */

struct web_conf {
	const struct selfdir_conf *dir;
	const struct pwrules      *rules;
	struct guard              *guard;
	const char *listen;         /* IPv4 or IPv6 address to bind */
	unsigned    port;           /* 0: any free port (see web_port) */
	const char *public_url;     /* where people reach the page */
	const char *trusted_proxy;  /* "" or the one address whose
	                             * X-Forwarded-For is believed */
	int         audit_fd;       /* open for append */
};

struct web;

/* Start serving; NULL with a message in `err` on failure.  `conf` and what
 * it points to must outlive the server. */
struct web *web_start(const struct web_conf *conf, char *err, size_t errlen);
/* The port actually bound. */
unsigned web_port(const struct web *w);
/* Stop serving, wait for the connection threads, free. */
void web_stop(struct web *w);

#endif
