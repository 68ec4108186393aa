/*
 * audit — every control command, with who ran it and how it ended.
 *
 * Each finished request becomes one line in syslog (LOG_AUTHPRIV) and one
 * record in the local journal <state_dir>/audit.journal: time (UTC), request
 * id, peer uid, user name and pid, command, arguments with secrets redacted
 * (OPT_SECRET_* values and file contents are never written), audit note,
 * status code and name, message.  The journal's format and hash chain are
 * described in journal.h; the syslog line carries the record's seq and hash
 * so a copy kept elsewhere anchors the chain.
 *
 * The journal is opened at start-up (O_APPEND, mode 0600) while provd may
 * still be root, and the descriptor is kept: the engine writes through it
 * after dropping privileges.  When opened as root the file is also given
 * to the owner of state_dir (the service user), so a restarted engine, and
 * `audit verify` / `audit show`, can read it.  Each record goes out with one
 * write() before audit_request returns, that is before the request's STATUS
 * is queued (request_done calls audit_request first).  A syncer thread
 * makes records durable with fdatasync, one call covering every record
 * written before it: for commands marked CMD_WRITES the STATUS waits for
 * that (group commit — eight officers issuing at once share flushes, and
 * the event loop never blocks on the disk); records of read-only commands
 * and of refused requests are synced within a second without anyone
 * waiting (a flood of pings costs one flush a second).
 *
 * The journal key <state_dir>/audit.key (32 random bytes, mode 0600, made
 * at the first start with an empty journal and left with the user who
 * started provd) keys every record (a MAC of its hash, journal.h), and the
 * seal <state_dir>/audit.seal checkpoints the chain's head, keyed: written
 * at start-up, at shutdown, and by the syncer thread once every SEAL_EVERY
 * records are durable (always for a record already on disk, never on the
 * event loop while provd runs), and logged to syslog as "audit seal: ...".
 * Whoever can write the state directory while provd is stopped can still
 * rewrite records and recompute their hashes, but not their MACs: `audit
 * verify` names the first such record ("forged").
 *
 * At start-up only the tail is read.  provd continues the chain only from
 * a head it can vouch for, and otherwise refuses to start, naming what it
 * found (the last record's MAC is missing or wrong; the seal is missing,
 * forged, or names a later record than the file ends with or a different
 * last record; the journal has records but no key).  It refuses rather
 * than opening a new segment because a new segment would give whoever
 * forged the tail a daemon that looks healthy and a journal that verifies
 * from the break on; refusing leaves the evidence as it was and the
 * decision to an operator, who moves audit.journal and audit.seal aside
 * to start a new journal.  A torn last line (a crash mid-write) after a
 * record that vouches for itself is ended with a newline and left in
 * place for `audit verify` to report.  A seal older than the tail (provd
 * killed) is accepted: every record after it carries its own MAC.
 *
 * What the seal cannot tell: records written after the last seal can be
 * cut from the end unseen by the file alone (the syslog line of each
 * record carries its seq and hash), and the key, seal and journal can be
 * replaced together by an older copy of all three.
 */
#ifndef PROVD_AUDIT_H
#define PROVD_AUDIT_H

#include <stddef.h>

struct audit;
struct request;

/* Open (create) the journal under state_dir (NULL: syslog only) and read
 * its tail.  0, or -1 with a message in err (the file cannot be opened or
 * is not a regular file). */
int audit_open(struct audit **out, const char *state_dir, char *err, size_t errlen);
void audit_close(struct audit *a);

typedef void audit_durable_fn(void *ctx);

/* Record the outcome of req in syslog and the journal.  Never fails the
 * request: a journal write error is logged loudly, and a later record
 * starts on a fresh line and chains to the last one written whole.
 * Returns 0 when the STATUS may go out now; 1 when req is a writing
 * command whose record is not on disk yet: cb(ctx) is then called from the
 * loop once it is (or from audit_close at shutdown), exactly once.  cb NULL:
 * never wait (the record is synced moments later). */
int audit_request(struct audit *a, const struct request *req, int code, const char *msg,
                  audit_durable_fn *cb, void *ctx);

/* Fail closed: may a command that changes the directory or the CA run
 * now?  0 when its record can be made durable: the journal has not failed
 * and space for records is reserved past its end (reserved here when
 * needed, which is also how a journal that failed recovers once space
 * returns).  -1 with the reason in why ("audit journal unavailable ...")
 * otherwise; the caller refuses the command (status 7) before it changes
 * anything.  Journal off (no state_dir): always 0. */
int audit_writable(struct audit *a, char *why, size_t whylen);

/* "ok", "off", or what failed ("write: No space left on device"). */
const char *audit_health(const struct audit *a);

/* A record of a long command still running (status 0, status_name
 * "running", the note and message given), e.g. the rows a batch has done
 * so far: a provd killed mid-batch leaves the last one behind.  Written at
 * once, synced within a second; never waits. */
void audit_progress(struct audit *a, const struct request *req, const char *note,
                    const char *msg);

/* A record of something provd did or noticed by itself, with no request:
 * e.g. the conflict check it runs after a failover or a healed partition,
 * or at start-up a batch a killed provd left unfinished.  cmd is the
 * command it stands for ("check"; in parentheses when no command matches,
 * "(batch interrupted)"), args say why it ran, user is "provd" with provd's
 * own uid and pid.  Written at once, synced within a second; never waits,
 * never fails (a journal error is logged); a NULL journal records nothing. */
void audit_event(struct audit *a, const char *cmd, const char *args, const char *note, int code,
                 const char *msg);

/* A record made by provd itself outside any request (`provd bootstrap`,
 * run while the daemon is stopped): the same journal, chain and syslog
 * line, with the caller's uid, user and pid.  cmd and args must hold no
 * secret.  Written before returning; audit_close makes it durable and
 * seals.  0, or -1 when the journal did not take it. */
int audit_record_local(struct audit *a, const char *cmd, const char *args, int code,
                       const char *status_name, unsigned long long ms, const char *msg);

/* The redacted argument string of req, as audited ("--unit so-noi-vu ..."). */
void audit_format_args(const struct request *req, char *out, size_t outsz);

/* Verify the journal under state_dir with its key and seal, without a
 * running provd (provd -J; what an operator runs after a refused start).
 * 0 when intact, 1 when broken, -1 when it cannot be checked; msg says
 * which, naming the first broken line. */
int audit_verify_offline(const char *state_dir, char *msg, size_t msglen);

/* Handlers: `audit show`, `audit verify`. */
void audit_show(struct request *req);
void audit_verify(struct request *req);

#endif
