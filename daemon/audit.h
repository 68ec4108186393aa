/*
 * audit — every control command, with who ran it and how it ended.
 *
 * Each finished request becomes one line in syslog (LOG_AUTHPRIV) and one
 * record in the local journal: time, peer uid and name, command, arguments
 * with secrets redacted (OPT_SECRET_* values and file contents are never
 * written), status code and message.
 */
#ifndef PROVD_AUDIT_H
#define PROVD_AUDIT_H

#include <stddef.h>

struct audit;
struct request;

/* Open the journal under state_dir (NULL: syslog only).  0 or -1 + err. */
int audit_open(struct audit **out, const char *state_dir, char *err, size_t errlen);
void audit_close(struct audit *a);

/* Record the outcome of req.  Never fails the request: a journal write
 * error is logged loudly. */
void audit_request(struct audit *a, const struct request *req, int code,
                   const char *msg);

/* The redacted argument string of req, as audited ("--unit so-noi-vu ..."). */
void audit_format_args(const struct request *req, char *out, size_t outsz);

#endif
