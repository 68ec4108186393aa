/* audit — syslog lines and the hash-chained journal for every command,
 * and the `audit show` / `audit verify` commands.  See audit.h, journal.h. */
#include "audit.h"
#include "fieldtype.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <pwd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "commands.h"
#include "fileio.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "pkitime.h"
#include "provd.h"
#include "request.h"
#include "slots.h"
#include "text.h"
#include "wire.h"
#include "xmalloc.h"

#define JOURNAL_FILE       "audit.journal"
#define KEY_FILE           "audit.key"
#define SEAL_FILE          "audit.seal"
#define SEAL_EVERY         64                /* records between checkpoints */
#define AUDIT_MAX_READERS  8                 /* show/verify running at once */
#define AUDIT_READERS_UID  2                 /* ... for one uid */
#define VERIFY_STEP_BYTES  (128u * 1024)     /* read per loop turn (~2 ms) */
#define SHOW_STEP_BYTES    (128u * 1024)
#define LAZY_SYNC_MS       1000     /* records nobody waits for */
/* Refusals (no role, unknown command, bad arguments) are recorded one by
 * one up to REFUSALS_PER_SEC a second for each uid; beyond that they are
 * counted, and one summary record per uid and second says how many were
 * left out.  A flood costs a bounded number of records and log lines. */
#define REFUSALS_PER_SEC   10
#define REFUSAL_UIDS       64      /* uids tracked at once */
#define REFUSAL_FLUSH_MS   1000
/* Space kept allocated past the journal's end (fallocate, KEEP_SIZE), so
 * that the record of a writing command never meets a full disk: a writing
 * command runs only once at least JOURNAL_RESERVE_MIN is reserved. */
#define JOURNAL_RESERVE      (256u * 1024)
#define JOURNAL_RESERVE_MIN  (2u * JOURNAL_MAX_LINE + 4096)

struct refusals {
	bool               used;
	uid_t              uid;
	char               user[64];
	unsigned long long window_ms;  /* start of its current second */
	unsigned           recorded;   /* records written in it */
	unsigned long      suppressed; /* counted, not yet summarised */
	char               first[32];  /* time of the first one suppressed */
};

/* A STATUS waiting for its record to reach the disk. */
struct durable {
	unsigned long long seq;
	audit_durable_fn  *cb;
	void              *ctx;
	STAILQ_ENTRY(durable) entry;
};

struct audit {
	char              *path;
	char              *dir;          /* state_dir */
	int                fd;           /* -1: syslog only */
	struct journal_key key;          /* keys records and seals (fd >= 0) */
	unsigned long long sealed;       /* seq of the last seal written (the syncer's
	                                    while it runs) */
	bool               vouched;      /* the head was checked: seals may be written */
	unsigned long long seq;          /* last record written */
	char               head[JOURNAL_HEX];   /* its hash (genesis at first) */
	bool               fresh_line;   /* a failed write may have left half a line */
	struct slots       readers;
	struct buf         line;
	/* The syncer thread: one fdatasync covers every record written before
	 * it.  Records of writing commands wait for it (group commit); the rest
	 * just get synced moments later. */
	pthread_mutex_t    mu;
	pthread_cond_t     cv;
	pthread_t          syncer;
	bool               syncer_started, sync_now, sync_lazy, sync_stop;
	int                sync_errno;   /* last failure, reported by the loop */
	unsigned long long sync_target;  /* under mu: seq the next sync covers */
	char               sync_head[JOURNAL_HEX];  /* under mu: that record's hash */
	unsigned long long synced;       /* under mu: seq known to be on disk */
	/* The loop side of the group commit (loop thread only). */
	struct loop       *loop;
	int                efd;          /* eventfd: the syncer finished a sync */
	STAILQ_HEAD(, durable) waiting; /* STATUSes by seq, until synced */
	/* Refusal rate limit (loop thread only). */
	struct refusals    refused[REFUSAL_UIDS];
	/* Fail closed (loop thread only): writing commands are refused while
	 * the journal cannot take their record. */
	off_t              reserved_to;  /* allocated up to here */
	bool               failed;       /* a write or sync failed, or no space */
	char               failure[160];
	struct log_rate    lr_fail;
	struct timer      *refusal_timer;
	unsigned long long refusals_summarised;
};


static void refusals_summarise(struct audit *a, struct refusals *r);
static void journal_failed(struct audit *a, const char *what, int err);
static void seal_store(struct audit *a, unsigned long long seq, const char *head);

static void *
syncer_main(void *arg)
{
	struct audit *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		unsigned long long target;
		char head[JOURNAL_HEX];
		int rc, err;

		while (!a->sync_now && !a->sync_lazy && !a->sync_stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->sync_now && a->sync_lazy && !a->sync_stop) {
			/* Nobody waits: gather records for a while, so a flood
			 * of read-only commands costs one flush a second. */
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += LAZY_SYNC_MS / 1000;
			until.tv_nsec += (long)(LAZY_SYNC_MS % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!a->sync_now && !a->sync_stop &&
			       pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
				;
		}
		if (!a->sync_now && !a->sync_lazy)
			break;          /* stopping, nothing left to sync */
		a->sync_now = a->sync_lazy = false;
		target = a->sync_target;
		memcpy(head, a->sync_head, JOURNAL_HEX);
		pthread_mutex_unlock(&a->mu);
		rc = fdatasync(a->fd);
		err = errno;
		/* Checkpoint a head known to be on disk, off the loop. */
		if (rc == 0 && target - a->sealed >= SEAL_EVERY)
			seal_store(a, target, head);
		pthread_mutex_lock(&a->mu);
		if (rc < 0)
			a->sync_errno = err;
		/* Even a failed sync releases its waiters: the failure is logged
		 * loudly by the loop, and a reply is never held back forever. */
		a->synced = target;
		if (a->efd >= 0) {
			uint64_t one = 1;

			if (write(a->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				a->sync_errno = errno;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Make what was written durable off the loop: at once when urgent (a
 * reply waits for it), else within LAZY_SYNC_MS.  Started on first use,
 * so the thread exists only once the signer has been forked.  False when
 * no thread can run (the caller then syncs itself). */
static bool
sync_soon(struct audit *a, bool urgent)
{
	int err = 0;

	if (!a->syncer_started) {
		if (pthread_create(&a->syncer, NULL, syncer_main, a) != 0)
			return false;
		a->syncer_started = true;
	}
	pthread_mutex_lock(&a->mu);
	if (urgent)
		a->sync_now = true;
	else
		a->sync_lazy = true;
	a->sync_target = a->seq;
	memcpy(a->sync_head, a->head, JOURNAL_HEX);
	err = a->sync_errno;
	a->sync_errno = 0;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (err != 0)
		journal_failed(a, "fdatasync", err);
	return true;
}

/* Note that the journal cannot take records (loop thread). */
static void
journal_failed(struct audit *a, const char *what, int err)
{
	if (!a->failed)
		log_warnx("AUDIT JOURNAL: %s %s: %s; commands that change anything are "
		          "refused until it recovers", what, a->path, strerror(err));
	a->failed = true;
	snprintf(a->failure, sizeof(a->failure), "%s: %s", what, strerror(err));
}

int
audit_writable(struct audit *a, char *why, size_t whylen)
{
	struct stat st;
	off_t want;

	if (a == NULL || a->fd < 0)
		return 0;               /* syslog only: nothing to keep */
	if (fstat(a->fd, &st) < 0) {
		journal_failed(a, "fstat", errno);
		goto refused;
	}
	if (!a->failed && st.st_size + (off_t)JOURNAL_RESERVE_MIN <= a->reserved_to)
		return 0;
	/* Reserve room past the end.  Records are appended into it, so a disk
	 * that fills up later cannot cut the record of a change. */
	want = st.st_size + (off_t)JOURNAL_RESERVE;
	if (fallocate(a->fd, FALLOC_FL_KEEP_SIZE, st.st_size, JOURNAL_RESERVE) < 0) {
		struct statvfs vfs;

		if (errno != EOPNOTSUPP) {
			journal_failed(a, "reserving space for", errno);
			goto refused;
		}
		/* No fallocate here: at least see that the space is there. */
		if (fstatvfs(a->fd, &vfs) < 0 ||
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize < JOURNAL_RESERVE) {
			journal_failed(a, "no space for", ENOSPC);
			goto refused;
		}
	}
	a->reserved_to = want;
	if (a->failed) {
		pthread_mutex_lock(&a->mu);
		a->sync_errno = 0;
		pthread_mutex_unlock(&a->mu);
		log_warnx("AUDIT JOURNAL: %s is writable again; commands that change "
		          "anything are accepted", a->path);
		a->failed = false;
		a->failure[0] = '\0';
	}
	return 0;
refused:
	snprintf(why, whylen, "audit journal unavailable (%s); nothing was changed",
	         a->failure);
	return -1;
}

const char *
audit_health(const struct audit *a)
{
	if (a == NULL || a->fd < 0)
		return "off";
	return a->failed ? a->failure : "ok";
}

/* One write(), retried only for EINTR: 0, or -1 (errno; partial writes
 * leave *partial set). */
static int
write_once(int fd, const char *p, size_t n, bool *partial)
{
	ssize_t w;

	*partial = false;
	do
		w = write(fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w != n) {
		*partial = w > 0;
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* "<dir>/<name>" into out, or -1 when it does not fit. */
static int
state_path(const struct audit *a, const char *name, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", a->dir, name);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Read the journal key, or make it when there is no journal to vouch for
 * yet (empty).  A key file that exists must be a regular 0600 file of
 * exactly JOURNAL_KEY_LEN bytes; it stays with the user who made it (root
 * when provd starts as root: the service user never needs to read it, the
 * engine keeps the key in memory). */
static int
key_open(struct audit *a, bool journal_empty, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if (state_path(a, KEY_FILE, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "state_dir too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (!journal_empty) {
			snprintf(err, errlen, "the journal %s has records but its key %s is "
			         "missing: provd cannot vouch for them and does not continue the "
			         "chain; keep both as evidence, move %s and %s aside, and start "
			         "again for a new journal", a->path, path, JOURNAL_FILE, SEAL_FILE);
			return -1;
		}
		if (RAND_priv_bytes(a->key.bytes, JOURNAL_KEY_LEN) != 1) {
			snprintf(err, errlen, "no random bytes for the journal key");
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || fileio_write_synced(fd, 0600, a->key.bytes, JOURNAL_KEY_LEN) < 0 ||
		    fileio_fsync_dir(a->dir) < 0) {
			snprintf(err, errlen, "cannot create the journal key %s: %s", path,
			         strerror(errno));
			goto out;
		}
		log_info("audit: created the journal key %s", path);
		rc = 0;
		goto out;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the journal key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != JOURNAL_KEY_LEN ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "the journal key %s must be a regular file of %d bytes, "
		         "mode 0600", path, JOURNAL_KEY_LEN);
		goto out;
	}
	do
		n = pread(fd, a->key.bytes, JOURNAL_KEY_LEN, 0);
	while (n < 0 && errno == EINTR);
	if (n != JOURNAL_KEY_LEN) {
		snprintf(err, errlen, "cannot read the journal key %s", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write the keyed seal for (seq, head) to a temporary file and rename it
 * over the last one, and log the same line (syslog: a copy out of reach of
 * whoever can write the state directory).  The caller knows the journal is
 * durable up to seq.  Runs on the syncer thread, or on the loop thread
 * when the syncer does not run; failures are logged, not returned. */
static void
seal_store(struct audit *a, unsigned long long seq, const char *head)
{
	char path[4096], tmp[4096], line[JOURNAL_SEAL_MAX];
	size_t len;
	int fd;

	if (!a->vouched)
		return;
	if (state_path(a, SEAL_FILE, path, sizeof(path)) < 0 ||
	    state_path(a, SEAL_FILE ".new", tmp, sizeof(tmp)) < 0)
		return;
	len = journal_seal_format(&a->key, seq, head, line);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fileio_write_synced(fd, 0600, line, len) < 0 ||
	    rename(tmp, path) < 0 || fileio_fsync_dir(a->dir) < 0) {
		log_warn("AUDIT JOURNAL: cannot write the seal %s", path);
		if (fd >= 0)
			close(fd);
		(void)unlink(tmp);
		return;
	}
	close(fd);
	a->sealed = seq;
	log_info("audit seal: %.*s", (int)len - 1, line);
}

/* Checkpoint the current head (start-up and shutdown, no syncer running):
 * the journal made durable first, then the seal. */
static void
seal_write(struct audit *a)
{
	if (a->fd < 0 || !a->vouched)
		return;
	if (fdatasync(a->fd) < 0) {
		log_warn("AUDIT JOURNAL: fdatasync %s before sealing record %llu", a->path, a->seq);
		return;
	}
	seal_store(a, a->seq, a->head);
}

/* Does the seal vouch for the tail just read (a->seq, a->head)?  The seal
 * may lag behind the tail (provd stopped without sealing: each record
 * after it carries its own MAC), never run ahead of it or disagree. */
static int
seal_check(struct audit *a, char *err, size_t errlen)
{
	char path[4096], line[JOURNAL_SEAL_MAX], hash[JOURNAL_HEX];
	unsigned long long seq;
	ssize_t n;
	int fd, rc;

	if (state_path(a, SEAL_FILE, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "state_dir too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && a->seq == 0)
		return 0;               /* a new journal */
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the journal seal %s: %s", path,
		         strerror(errno));
		return -1;
	}
	do
		n = pread(fd, line, sizeof(line) - 1, 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	rc = n < 0 ? -1 : journal_seal_parse(&a->key, line, (size_t)n, &seq, hash);
	if (rc == -2) {
		snprintf(err, errlen, "the journal seal %s does not match provd's journal key: "
		         "it was forged or changed", path);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "the journal seal %s is unreadable or not a seal", path);
		return -1;
	}
	if (seq > a->seq) {
		snprintf(err, errlen, "the journal %s ends at record %llu but provd sealed "
		         "record %llu: records %llu to %llu were removed from its end",
		         a->path, a->seq, seq, a->seq + 1, seq);
		return -1;
	}
	if (seq == a->seq && strcmp(hash, a->head) != 0) {
		snprintf(err, errlen, "the last record (%llu) of the journal %s is not the one "
		         "provd sealed: it was replaced", seq, a->path);
		return -1;
	}
	if (seq < a->seq)
		log_warnx("audit: records %llu to %llu of %s were written after the last seal "
		          "(provd did not stop cleanly); each carries its own MAC",
		          seq + 1, a->seq, a->path);
	a->sealed = seq;
	return 0;
}

int
audit_open(struct audit **out, const char *state_dir, char *err, size_t errlen)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	struct stat st, dst;
	char mac[JOURNAL_HEX];
	bool torn = false, partial;
	int rc;

	STAILQ_INIT(&a->waiting);
	a->fd = -1;
	a->efd = -1;
	buf_init(&a->line, JOURNAL_MAX_LINE + 1);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	journal_genesis(a->head);
	if (state_dir == NULL) {
		*out = a;
		return 0;
	}
	a->dir = xstrdup(state_dir);
	if (asprintf(&a->path, "%s/%s", state_dir, JOURNAL_FILE) < 0) {
		a->path = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0) {
		snprintf(err, errlen, "cannot open the journal %s: %s", a->path, strerror(errno));
		goto fail;
	}
	if (fstat(a->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the journal %s is not a regular file", a->path);
		goto fail;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(a->fd, 0600) < 0)
		log_warn("audit: chmod 0600 %s", a->path);
	/* Opened as root: hand the file to the service user who owns the state
	 * directory, so the engine can read it (and reopen it next time). */
	if (geteuid() == 0 && stat(state_dir, &dst) == 0 &&
	    (st.st_uid != dst.st_uid || st.st_gid != dst.st_gid) &&
	    fchown(a->fd, dst.st_uid, dst.st_gid) < 0)
		log_warn("audit: chown %s", a->path);

	if (key_open(a, st.st_size == 0, err, errlen) < 0)
		goto fail;
	/* The chain continues only from a head provd can vouch for: the last
	 * record's MAC, and the seal.  Anything else is refused here rather
	 * than papered over by a new chain: an operator keeps the evidence
	 * and decides (audit.h). */
	rc = journal_tail(a->fd, st.st_size, &a->seq, a->head, mac, &torn);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the journal %s: %s", a->path, strerror(errno));
		goto fail;
	}
	if (rc > 0 && !(torn && st.st_size <= JOURNAL_MAX_LINE)) {
		snprintf(err, errlen, "no valid record at the end of the journal %s: provd "
		         "cannot vouch for the chain's head and does not continue it "
		         "(provctl audit verify on a copy, or move it aside with %s)",
		         a->path, SEAL_FILE);
		goto fail;
	}
	if (a->seq > 0) {
		char want[JOURNAL_HEX];

		journal_mac_hex(&a->key, a->head, want);
		if (CRYPTO_memcmp(want, mac, 64) != 0) {
			snprintf(err, errlen, "record %llu, the last of the journal %s, %s: it was "
			         "not written by provd with its journal key (forged, or rewritten "
			         "while provd was stopped); provd does not continue the chain",
			         a->seq, a->path, mac[0] ? "carries a wrong MAC" : "carries no MAC");
			goto fail;
		}
	}
	if (seal_check(a, err, errlen) < 0)
		goto fail;
	if (torn) {
		log_warnx("audit: the last line of %s is incomplete (a crash during a write?); "
		          "it stays in place and provctl audit verify reports it", a->path);
		if (write_once(a->fd, "\n", 1, &partial) < 0 || fdatasync(a->fd) < 0)
			log_warn("audit: cannot end the incomplete line of %s", a->path);
	}
	a->vouched = true;
	seal_write(a);
	log_info("audit journal %s: %llu records, continuing the chain", a->path, a->seq);
	*out = a;
	return 0;
fail:
	audit_close(a);
	return -1;
}

void
audit_close(struct audit *a)
{
	struct durable *w;
	size_t i;

	if (a == NULL)
		return;
	/* The loop (and with it the flush timer) is gone by now. */
	for (i = 0; i < REFUSAL_UIDS; i++)
		if (a->refused[i].used)
			refusals_summarise(a, &a->refused[i]);
	if (a->syncer_started) {
		pthread_mutex_lock(&a->mu);
		a->sync_stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->syncer, NULL);
	}
	if (a->fd >= 0) {
		if (a->sealed != a->seq)
			seal_write(a);          /* syncs the journal first */
		else if (fdatasync(a->fd) < 0)
			log_warn("audit: fdatasync %s", a->path);
		close(a->fd);
	}
	OPENSSL_cleanse(&a->key, sizeof(a->key));
	/* Everything is on disk now: release the replies still waiting (their
	 * clients are gone by now; the callbacks free the requests). */
	while ((w = STAILQ_FIRST(&a->waiting)) != NULL) {
		STAILQ_REMOVE_HEAD(&a->waiting, entry);
		w->cb(w->ctx);
		free(w);
	}
	if (a->efd >= 0)
		close(a->efd);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	buf_free(&a->line);
	free(a->path);
	free(a->dir);
	free(a);
}

static void
append(char *out, size_t outsz, size_t *off, const char *s, size_t n)
{
	char clean[160];

	if (n > 120)
		n = 120;
	text_sanitize(s, n, clean, sizeof(clean));
	if (*off < outsz) {
		int k = snprintf(out + *off, outsz - *off, "%s%s", *off ? " " : "", clean);
		if (k > 0)
			*off += (size_t)k;
	}
}

/* The kind of option `name` in spec; with spec NULL (an unknown command),
 * the most secret kind any command gives it.  -1 when no command has it. */
static int
option_kind(const struct cmd_spec *spec, const char *name)
{
	const struct opt_spec *o;
	int kind = -1;
	size_t i;

	if (spec != NULL)
		return (o = cmd_opt(spec, name)) != NULL ? (int)o->kind : -1;
	for (i = 0; i < cmd_table_len; i++)
		if ((o = cmd_opt(&cmd_table[i], name)) != NULL &&
		    (kind < 0 || o->kind == OPT_SECRET_FILE || o->kind == OPT_SECRET_STDIN ||
		     (o->kind == OPT_FILE && kind != OPT_SECRET_FILE &&
		      kind != OPT_SECRET_STDIN)))
			kind = (int)o->kind;
	return kind;
}

/* The words of a request that was not parsed (refused by role, unknown
 * command, bad arguments), redacted with the command table as a parsed one
 * would be: secret option values are "[redacted]", file contents "[N
 * bytes]", the value of an option the command does not know is dropped,
 * and so is every word that is not an option after a secret-bearing one
 * (a password typed as an extra argument). */
static void
format_raw_args(const struct request *req, char *out, size_t outsz)
{
	const struct wire_msg *m = &req->msg;
	const struct cmd_spec *spec = NULL;
	bool after_secret = false, options_done = false;
	size_t i, off = 0, dropped = 0;
	char tmp[96];

	if (m->nfields >= 2 && wire_field_str(m, 0) != NULL && wire_field_str(m, 1) != NULL)
		spec = cmd_lookup(wire_field_str(m, 0), wire_field_str(m, 1));
	for (i = 2; i < m->nfields && i < 2 + CMD_MAX_GIVEN; i++) {
		const char *w = m->f[i].ptr, *eq;
		size_t len = m->f[i].len, k;
		char name[64];
		int kind;

		if (options_done || len < 3 || w[0] != '-' || w[1] != '-') {
			if (len == 2 && w[0] == '-' && w[1] == '-') {
				options_done = true;
				continue;
			}
			if (after_secret)
				dropped++;
			else
				append(out, outsz, &off, w, len);
			continue;
		}
		eq = memchr(w + 2, '=', len - 2);
		k = eq != NULL ? (size_t)(eq - w - 2) : len - 2;
		if (k >= sizeof(name) || memchr(w + 2, '\0', k) != NULL) {
			dropped++;
			continue;
		}
		memcpy(name, w + 2, k);
		name[k] = '\0';
		snprintf(tmp, sizeof(tmp), "--%s", name);
		append(out, outsz, &off, tmp, strlen(tmp));
		kind = option_kind(spec, name);
		switch (kind) {
		case OPT_SECRET_FILE:
		case OPT_SECRET_STDIN:
			append(out, outsz, &off, "[redacted]", 10);
			after_secret = true;
			/* "--password-file VALUE": the value is the next word. */
			if (eq == NULL && kind == OPT_SECRET_FILE && i + 1 < m->nfields)
				i++;
			break;
		case OPT_FILE:
			if (eq != NULL) {
				snprintf(tmp, sizeof(tmp), "[%zu bytes]", len - k - 3);
				append(out, outsz, &off, tmp, strlen(tmp));
			} else if (i + 1 < m->nfields) {
				i++;
				snprintf(tmp, sizeof(tmp), "[%zu bytes]", (size_t)m->f[i].len);
				append(out, outsz, &off, tmp, strlen(tmp));
			}
			break;
		case OPT_VALUE:
		case OPT_MULTI:
		case OPT_OUTPUT:
			if (eq != NULL && !after_secret)
				append(out, outsz, &off, eq + 1, len - k - 3);
			else if (eq != NULL)
				dropped++;
			break;
		case OPT_FLAG:
			break;
		default:
			/* Unknown to the command: its value is not shown. */
			if (eq != NULL)
				dropped++;
			break;
		}
	}
	if (i < m->nfields)
		dropped += m->nfields - i;
	if (dropped > 0) {
		snprintf(tmp, sizeof(tmp), "[%zu words not shown]", dropped);
		append(out, outsz, &off, tmp, strlen(tmp));
	}
}

void
audit_format_args(const struct request *req, char *out, size_t outsz)
{
	const struct cmd_args *a = &req->args;
	size_t i, off = 0;
	char tmp[64];

	out[0] = '\0';
	if (req->spec == NULL) {
		format_raw_args(req, out, outsz);
		return;
	}
	for (i = 0; i < a->noperands; i++)
		append(out, outsz, &off, a->operand[i], strlen(a->operand[i]));
	for (i = 0; i < a->ngiven; i++) {
		const struct cmd_given *g = &a->given[i];

		snprintf(tmp, sizeof(tmp), "--%s", g->opt->name);
		append(out, outsz, &off, tmp, strlen(tmp));
		switch (g->opt->kind) {
		case OPT_FLAG:
			break;
		case OPT_SECRET_FILE:
		case OPT_SECRET_STDIN:
			append(out, outsz, &off, "[redacted]", 10);
			break;
		case OPT_FILE:
			snprintf(tmp, sizeof(tmp), "[%zu bytes]", g->len);
			append(out, outsz, &off, tmp, strlen(tmp));
			break;
		default:
			append(out, outsz, &off, g->value, g->len);
			break;
		}
	}
}

/* Append one record; its seq and hash go to seq/hash (empty hash when the
 * journal is off or the write failed).  Returns 1 when the syncer thread
 * will make it durable (and, after that, wake the loop through efd), 0 when
 * it is already durable or nothing was written. */
static int
journal_append(struct audit *a, const struct journal_entry *e, bool durable,
               unsigned long long *seq, char hash[JOURNAL_HEX])
{
	char h[JOURNAL_HEX];
	bool partial = false;

	*seq = 0;
	hash[0] = '\0';
	if (a == NULL || a->fd < 0)
		return 0;
	buf_reset(&a->line);
	if (a->fresh_line) {
		/* After a half-written line: start on a new one. */
		if (buf_append(&a->line, "\n", 1) < 0)
			return 0;
	}
	if (journal_format_keyed(&a->line, e, a->seq + 1, a->head, &a->key, h) < 0) {
		log_warnx("AUDIT JOURNAL: record of request %lu too long; not written", e->req);
		return 0;
	}
	if (write_once(a->fd, buf_head(&a->line), a->line.len, &partial) < 0) {
		unsigned long held;

		journal_failed(a, "write", errno);
		if (log_rate_allow(&a->lr_fail, 5, &held))
			log_warn("AUDIT JOURNAL: write to %s failed for request %lu%s "
			         "(%lu more such lines suppressed)", a->path, e->req,
			         partial ? " (a partial line was left)" : "", held);
		a->fresh_line = a->fresh_line || partial;
		return 0;
	}
	a->fresh_line = false;
	a->seq++;
	memcpy(a->head, h, JOURNAL_HEX);
	*seq = a->seq;
	memcpy(hash, h, JOURNAL_HEX);
	if (sync_soon(a, durable) && (!durable || a->efd >= 0))
		return 1;               /* the syncer covers it (and tells us) */
	if (fdatasync(a->fd) < 0)
		log_warn("AUDIT JOURNAL: fdatasync %s after record %llu", a->path, a->seq);
	return 0;
}

/* A record's time: ISO 8601, the form the journal keeps (pkitime.h). */
static void
utc_now(char out[32])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	pkitime_format_iso(ts.tv_sec, out);
}

/* A journal time (ISO 8601) for a reply field: GeneralizedTime, the one
 * format times have on the wire (pkitime.h); a time that does not parse
 * is sent as it is. */
static void
rec_time(struct rec *r, const char *key, const char *iso)
{
	char gt[PKITIME_LDAP_LEN + 1];

	rec_kv(r, key, fieldtype_parse_time(iso, NULL, gt) == 0 ? gt : iso);
}

/* The syncer finished a sync: release the replies it covered. */
static void
on_synced(void *arg, int fd, uint32_t events)
{
	struct audit *a = arg;
	struct durable *w;
	unsigned long long synced;
	uint64_t n;
	int err;

	(void)events;
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	pthread_mutex_lock(&a->mu);
	synced = a->synced;
	err = a->sync_errno;
	a->sync_errno = 0;
	pthread_mutex_unlock(&a->mu);
	if (err != 0)
		journal_failed(a, "fdatasync", err);
	while ((w = STAILQ_FIRST(&a->waiting)) != NULL && w->seq <= synced) {
		STAILQ_REMOVE_HEAD(&a->waiting, entry);
		w->cb(w->ctx);
		free(w);
	}
}

/* The eventfd through which the syncer wakes the loop; false when there
 * is none (the caller then syncs itself). */
static bool
have_wakeup(struct audit *a, struct loop *loop)
{
	if (a->efd >= 0)
		return true;
	if (loop == NULL)
		return false;
	if ((a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return false;
	if (loop_add_fd(loop, a->efd, EPOLLIN, on_synced, a) < 0) {
		close(a->efd);
		a->efd = -1;
		return false;
	}
	a->loop = loop;
	return true;
}

/* Write the summary record of r's suppressed refusals, and forget them. */
static void
refusals_summarise(struct audit *a, struct refusals *r)
{
	char when[32], msg[200], note[64], hash[JOURNAL_HEX];
	struct journal_entry e;
	unsigned long long seq;

	if (r->suppressed == 0)
		return;
	utc_now(when);
	snprintf(note, sizeof(note), "suppressed=%lu", r->suppressed);
	snprintf(msg, sizeof(msg), "%lu more refused requests since %s were counted, "
	         "not recorded one by one", r->suppressed, r->first);
	memset(&e, 0, sizeof(e));
	e.time = when;
	e.uid = (unsigned long)r->uid;
	e.user = r->user;
	e.pid = 0;
	e.cmd = "(refusals)";
	e.args = "";
	e.note = note;
	e.status = ST_PERMISSION;
	e.status_name = wire_status_name(ST_PERMISSION);
	e.msg = msg;
	(void)journal_append(a, &e, false, &seq, hash);
	log_audit("uid=%u user=%s cmd=\"(refusals)\" %s msg=\"%s\" seq=%llu hash=%s",
	          (unsigned)r->uid, r->user, note, msg, seq, hash[0] ? hash : "-");
	a->refusals_summarised += r->suppressed;
	r->suppressed = 0;
}

static void
refusals_flush(void *arg)
{
	struct audit *a = arg;
	unsigned long long now = loop_now_ms();
	bool pending = false;
	size_t i;

	a->refusal_timer = NULL;
	for (i = 0; i < REFUSAL_UIDS; i++) {
		struct refusals *r = &a->refused[i];

		if (!r->used)
			continue;
		if (now - r->window_ms >= 1000)
			refusals_summarise(a, r);
		if (r->suppressed > 0)
			pending = true;
		else if (now - r->window_ms >= 1000)
			r->used = false;
	}
	if (pending && a->loop != NULL)
		a->refusal_timer = loop_timer(a->loop, REFUSAL_FLUSH_MS, refusals_flush, a);
}

/* Should this refusal get its own record?  False: it was counted for the
 * uid's summary record instead. */
static bool
refusal_recorded(struct audit *a, const struct request *req)
{
	unsigned long long now = loop_now_ms();
	struct refusals *r = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < REFUSAL_UIDS; i++) {
		struct refusals *x = &a->refused[i];

		if (x->used && x->uid == req->peer.uid) {
			r = x;
			break;
		}
		if (!x->used) {
			if (r == NULL)
				r = x;
		} else if (oldest == NULL || x->window_ms < oldest->window_ms) {
			oldest = x;
		}
	}
	if (r == NULL) {
		/* Every slot taken by another uid: summarise the stalest. */
		refusals_summarise(a, oldest);
		r = oldest;
		r->used = false;
	}
	if (!r->used || r->uid != req->peer.uid) {
		memset(r, 0, sizeof(*r));
		r->used = true;
		r->uid = req->peer.uid;
		snprintf(r->user, sizeof(r->user), "%s", req->peer.name);
		r->window_ms = now;
	}
	if (now - r->window_ms >= 1000) {
		refusals_summarise(a, r);
		r->window_ms = now;
		r->recorded = 0;
	}
	if (r->recorded < REFUSALS_PER_SEC) {
		r->recorded++;
		return true;
	}
	if (r->suppressed++ == 0)
		utc_now(r->first);
	if (a->refusal_timer == NULL && (a->loop = req->pd->loop) != NULL)
		a->refusal_timer = loop_timer(a->loop, REFUSAL_FLUSH_MS, refusals_flush, a);
	return false;
}

/* Write the record of req (syslog line and journal) with this status, note
 * and message.  Returns what journal_append returns; *seq the record's. */
static int
record(struct audit *a, const struct request *req, int code, const char *status_name,
       const char *note, const char *msg, bool durable, unsigned long long *seq)
{
	char args[1024], cmd[64], clean[300], when[32], hash[JOURNAL_HEX];
	const char *noun = req->msg.nfields > 0 ? req->msg.f[0].ptr : "?";
	const char *verb = req->msg.nfields > 1 ? req->msg.f[1].ptr : "";
	unsigned long long ms = loop_now_ms() - req->started_ms;
	struct journal_entry e;
	int pending;

	text_sanitize(noun, strnlen(noun, 24), cmd, 30);
	if (verb[0] != '\0') {
		size_t n = strlen(cmd);
		cmd[n] = ' ';
		text_sanitize(verb, strnlen(verb, 24), cmd + n + 1, sizeof(cmd) - n - 1);
	}
	audit_format_args(req, args, sizeof(args));
	text_sanitize(msg, strlen(msg), clean, sizeof(clean));
	utc_now(when);

	memset(&e, 0, sizeof(e));
	e.time = when;
	e.req = req->id;
	e.uid = (unsigned long)req->peer.uid;
	e.user = req->peer.name;
	e.pid = (long)req->peer.pid;
	e.cmd = cmd;
	e.args = args;
	e.note = note;
	e.status = code;
	e.status_name = status_name;
	e.ms = ms;
	e.msg = clean;
	pending = journal_append(a, &e, durable, seq, hash);

	log_audit("uid=%u user=%s pid=%d cmd=\"%s\" args=\"%s\"%s%s result=%s(%d) "
	          "ms=%llu msg=\"%s\" seq=%llu hash=%s",
	          (unsigned)req->peer.uid, req->peer.name, (int)req->peer.pid, cmd,
	          args, note[0] ? " " : "", note, status_name, code, ms, clean, *seq,
	          hash[0] ? hash : "-");
	return pending;
}

int
audit_record_local(struct audit *a, const char *cmd, const char *args, int code,
                   const char *status_name, unsigned long long ms, const char *msg)
{
	char when[32], hash[JOURNAL_HEX], clean[1024], user[64];
	struct passwd pwbuf, *pw = NULL;
	char pwstrs[1024];
	struct journal_entry e;
	unsigned long long seq;

	if (getpwuid_r(getuid(), &pwbuf, pwstrs, sizeof(pwstrs), &pw) != 0 || pw == NULL)
		snprintf(user, sizeof(user), "%lu", (unsigned long)getuid());
	else
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	text_sanitize(msg, strlen(msg), clean, sizeof(clean));
	utc_now(when);
	memset(&e, 0, sizeof(e));
	e.time = when;
	e.uid = (unsigned long)getuid();
	e.user = user;
	e.pid = (long)getpid();
	e.cmd = cmd;
	e.args = args;
	e.note = "";
	e.status = code;
	e.status_name = status_name;
	e.ms = ms;
	e.msg = clean;
	(void)journal_append(a, &e, true, &seq, hash);
	log_audit("uid=%lu user=%s pid=%ld cmd=\"%s\" args=\"%s\" result=%s(%d) ms=%llu "
	          "msg=\"%s\" seq=%llu hash=%s", e.uid, user, e.pid, cmd, args, status_name,
	          code, ms, clean, seq, hash[0] ? hash : "-");
	return hash[0] != '\0' ? 0 : -1;
}

void
audit_progress(struct audit *a, const struct request *req, const char *note,
               const char *msg)
{
	unsigned long long seq;

	(void)record(a, req, ST_OK, "running", note, msg, false, &seq);
}

void
audit_event(struct audit *a, const char *cmd, const char *args, const char *note, int code,
            const char *msg)
{
	char when[32], clean[300], hash[JOURNAL_HEX];
	unsigned long long seq;
	struct journal_entry e;

	if (a == NULL)
		return;
	text_sanitize(msg, strlen(msg), clean, sizeof(clean));
	utc_now(when);
	memset(&e, 0, sizeof(e));
	e.time = when;
	e.uid = (unsigned long)getuid();
	e.user = "provd";
	e.pid = (long)getpid();
	e.cmd = cmd;
	e.args = args;
	e.note = note;
	e.status = code;
	e.status_name = wire_status_name(code);
	e.msg = clean;
	(void)journal_append(a, &e, false, &seq, hash);
	log_audit("uid=%u user=provd pid=%d cmd=\"%s\" args=\"%s\"%s%s result=%s(%d) "
	          "msg=\"%s\" seq=%llu hash=%s",
	          (unsigned)getuid(), (int)getpid(), cmd, args, note[0] ? " " : "", note,
	          e.status_name, code, clean, seq, hash[0] ? hash : "-");
}

int
audit_request(struct audit *a, const struct request *req, int code, const char *msg,
              audit_durable_fn *cb, void *ctx)
{
	unsigned long long seq;
	struct durable *w;
	bool durable;
	int pending;

	/* A refusal beyond the uid's rate is counted, not recorded. */
	if (a != NULL && (req->spec == NULL || code == ST_PERMISSION) &&
	    !refusal_recorded(a, req))
		return 0;
	/* Commands that change the directory or the CA are durable before
	 * their STATUS goes out (fdatasync also covers every record before
	 * them); the rest are written at once and synced by the syncer. */
	durable = req->spec != NULL && (req->spec->flags & CMD_WRITES) && cb != NULL;
	if (durable && a != NULL && a->fd >= 0)
		(void)have_wakeup(a, req->pd->loop);
	pending = record(a, req, code, wire_status_name(code), req->audit_note, msg,
	                 durable, &seq);
	if (!durable || pending == 0)
		return 0;
	w = xcalloc(1, sizeof(*w));
	w->seq = seq;
	w->cb = cb;
	w->ctx = ctx;
	STAILQ_INSERT_TAIL(&a->waiting, w, entry);
	return 1;
}

/* ---- audit show / audit verify ------------------------------------------ */

/*
 * Both read the journal through the kept descriptor (pread), from the start
 * up to its size when the command began, VERIFY_STEP_BYTES or
 * SHOW_STEP_BYTES per loop turn.  A step scheduled from a timer continues
 * through loop_defer and one scheduled from a deferred call through a 0 ms
 * timer, so every step passes through epoll_wait and other clients are
 * served between them.  `show` also waits for the client to drain its
 * output (request_wait_drain) before reading on.
 */
struct scan {
	struct request       *req;
	struct audit         *a;
	struct journal_reader rd;
	bool                  verify;
	struct journal_check *chk;
	unsigned long long    head_seq;
	char                  head[JOURNAL_HEX];
	char                  login[64];
	char                  since[24];           /* "YYYY-MM-DDTHH:MM:SS" or "" */
	struct journal_record rec;
	unsigned long         matched, skipped;
	bool                  cancelled, waiting, in_timer;
	struct timer         *timer;
};

static void scan_step(struct scan *s);

static void
scan_finish(struct scan *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
scan_finish(struct scan *s, int code, const char *fmt, ...)
{
	struct request *req = s->req;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->timer != NULL)
		loop_timer_cancel(req->pd->loop, s->timer);
	request_drain_cancel(req);
	req->on_cancel = NULL;
	req->state = NULL;
	slots_put(&s->a->readers, req->peer.uid);
	journal_reader_free(&s->rd);
	free(s->chk);
	free(s);
	request_done(req, code, "%s", msg);
}

static void
step_from_timer(void *arg)
{
	struct scan *s = arg;

	s->timer = NULL;
	s->in_timer = true;
	scan_step(s);
}

static void
step_from_defer(void *arg)
{
	struct scan *s = arg;

	s->in_timer = false;
	scan_step(s);
}

static void
scan_schedule(struct scan *s)
{
	struct loop *l = s->req->pd->loop;

	if (s->in_timer)
		loop_defer(l, step_from_defer, s);
	else
		s->timer = loop_timer(l, 0, step_from_timer, s);
}

static void
on_drained(struct request *req)
{
	struct scan *s = req->state;

	s->waiting = false;
	s->in_timer = false;
	scan_schedule(s);
}

static void
on_cancel(struct request *req)
{
	struct scan *s = req->state;

	s->cancelled = true;
	if (s->waiting)
		scan_finish(s, ST_OK, "client went away");
}

static bool
verify_line(void *ctx, const char *line, size_t len, bool complete)
{
	struct scan *s = ctx;

	return journal_check_line(s->chk, line, len, complete);
}

/* Is `word` one of the space-separated words of text, or word@domain? */
static bool
has_word(const char *text, const char *word, const char *prefix)
{
	size_t plen = strlen(prefix), wlen = strlen(word);
	const char *p = text;

	while (*p != '\0') {
		const char *end;

		while (*p == ' ')
			p++;
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) >= plen + wlen && strncmp(p, prefix, plen) == 0 &&
		    strncmp(p + plen, word, wlen) == 0 &&
		    ((size_t)(end - p) == plen + wlen || p[plen + wlen] == '@'))
			return true;
		p = end;
	}
	return false;
}

static bool
show_matches(const struct scan *s, const struct journal_record *r)
{
	if (s->since[0] != '\0' && strncmp(r->time, s->since, strlen(s->since)) < 0)
		return false;
	if (s->login[0] != '\0' && !has_word(r->note, s->login, "login=") &&
	    !has_word(r->args, s->login, ""))
		return false;
	return true;
}

static bool
show_line(void *ctx, const char *line, size_t len, bool complete)
{
	struct scan *s = ctx;
	struct journal_record *r = &s->rec;
	struct rec out;

	if (!complete || journal_parse(line, len, r) < 0) {
		s->skipped++;
		return true;
	}
	if (!show_matches(s, r))
		return true;
	s->matched++;
	rec_begin(&out, s->req);
	rec_kvf(&out, "seq", "%llu", r->seq);
	rec_time(&out, "time", r->time);
	rec_kv(&out, "user", r->user);
	rec_kvf(&out, "uid", "%lu", r->uid);
	rec_kv(&out, "command", r->cmd);
	rec_kv(&out, "args", r->args);
	rec_kv(&out, "note", r->note);
	rec_kv(&out, "status", r->status_name);
	rec_kv(&out, "message", r->msg);
	rec_end(&out);
	return true;
}

static void
verify_report(struct scan *s)
{
	static const char *const names[] = {
		[JOURNAL_OK] = "ok", [JOURNAL_TORN] = "torn", [JOURNAL_CHANGED] = "changed",
		[JOURNAL_INSERTED] = "inserted", [JOURNAL_DELETED] = "deleted",
		[JOURNAL_FORGED] = "forged",
	};
	struct journal_check *c = s->chk;
	bool good = journal_check_end(c, s->head_seq, s->head);
	struct rec r;

	rec_begin(&r, s->req);
	rec_kv(&r, "journal", s->a->path);
	rec_kv(&r, "result", good ? "intact" : "broken");
	rec_kvf(&r, "records", "%lu", c->records);
	rec_kvf(&r, "lines", "%lu", c->lines);
	if (good) {
		rec_time(&r, "first", c->first_time);
		rec_time(&r, "last", c->last_time);
		rec_kv(&r, "head", c->records ? c->last : "");
	} else {
		rec_kv(&r, "problem", names[c->problem]);
		rec_kvf(&r, "line", "%lu", c->bad_line);
		if (c->bad_seq)
			rec_kvf(&r, "seq", "%llu", c->bad_seq);
		rec_kv(&r, "detail", c->detail);
	}
	rec_end(&r);
	if (good)
		scan_finish(s, ST_OK, "journal intact: %lu record%s, chain verified", c->records,
		            c->records == 1 ? "" : "s");
	else
		scan_finish(s, ST_INVALID, "journal broken at line %lu (%s): %s", c->bad_line,
		            names[c->problem], c->detail);
}

static void
scan_step(struct scan *s)
{
	int rc;

	if (s->cancelled) {
		scan_finish(s, ST_OK, "client went away");
		return;
	}
	rc = journal_reader_step(&s->rd, s->verify ? VERIFY_STEP_BYTES : SHOW_STEP_BYTES,
	                         s->verify ? verify_line : show_line, s);
	if (rc < 0) {
		scan_finish(s, ST_INTERNAL, "cannot read the journal %s: %s", s->a->path,
		            strerror(errno));
		return;
	}
	if (rc > 0) {
		if (s->verify)
			verify_report(s);
		else
			scan_finish(s, ST_OK, "%lu record%s%s", s->matched,
			            s->matched == 1 ? "" : "s",
			            s->skipped ? "; lines that are not records were skipped "
			                         "(see provctl audit verify)" : "");
		return;
	}
	if (!s->verify && request_congested(s->req)) {
		s->waiting = true;
		request_wait_drain(s->req, on_drained);
		return;
	}
	scan_schedule(s);
}

/* A time as fieldtype_parse_time() takes it (ISO 8601 or GeneralizedTime,
 * UTC) into the journal's "YYYY-MM-DDTHH:MM:SS" form.  0 or -1. */
static int
parse_since(const char *in, char out[24])
{
	char iso[21];

	if (fieldtype_parse_time(in, iso, NULL) < 0)
		return -1;
	memcpy(out, iso, 19);
	out[19] = '\0';
	return 0;
}

static struct scan *
scan_new(struct request *req, bool verify)
{
	struct audit *a = req->pd->audit;
	struct scan *s;
	struct stat st;

	/* The journal covers the whole province: its commands are SCOPE_NONE,
	 * so dispatch let only province-wide grants through. */
	if (a == NULL || a->fd < 0) {
		request_done(req, ST_UNAVAILABLE, "no audit journal: daemon.state_dir is not set");
		return NULL;
	}
	if (fstat(a->fd, &st) < 0) {
		request_done(req, ST_INTERNAL, "cannot stat the journal %s: %s", a->path,
		             strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if (verify)
		s->chk = xmalloc(sizeof(*s->chk));
	journal_reader_init(&s->rd, a->fd, st.st_size);
	s->req = req;
	s->a = a;
	s->verify = verify;
	/* The writer's head now matches the size just taken: records are
	 * written whole, on this thread. */
	s->head_seq = a->seq;
	memcpy(s->head, a->head, JOURNAL_HEX);
	switch (slots_take(&a->readers, req->peer.uid, AUDIT_MAX_READERS, AUDIT_READERS_UID)) {
	case SLOTS_OK:
		break;
	case SLOTS_FULL:
		journal_reader_free(&s->rd);
		free(s->chk);
		free(s);
		request_done(req, ST_UNAVAILABLE, "%u journal readers are running; try again "
		             "shortly", a->readers.used);
		return NULL;
	case SLOTS_UID_FULL:
		journal_reader_free(&s->rd);
		free(s->chk);
		free(s);
		request_done(req, ST_UNAVAILABLE, "you already run %u journal readers; try "
		             "again when one has finished", AUDIT_READERS_UID);
		return NULL;
	}
	if (verify) {
		journal_check_init(s->chk);
		journal_check_key(s->chk, &a->key);
	}
	req->state = s;
	req->on_cancel = on_cancel;
	return s;
}

void
audit_verify(struct request *req)
{
	struct scan *s = scan_new(req, true);

	if (s != NULL)
		scan_schedule(s);
}

void
audit_show(struct request *req)
{
	const char *login = cmd_arg(&req->args, "login");
	const char *since = cmd_arg(&req->args, "since");
	char when[24] = "";
	struct scan *s;

	if (login != NULL && !names_login_valid(login)) {
		char clean[80];

		text_sanitize(login, strnlen(login, 64), clean, sizeof(clean));
		request_done(req, ST_USAGE, "login: '%s' is not a login (lower-case letters "
		             "and digits)", clean);
		return;
	}
	if (since != NULL && parse_since(since, when) < 0) {
		char clean[80];

		text_sanitize(since, strnlen(since, 64), clean, sizeof(clean));
		request_done(req, ST_USAGE, "since: want YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or YYYYMMDDHHMMSSZ "
		             "(UTC), got '%s'", clean);
		return;
	}
	if ((s = scan_new(req, false)) == NULL)
		return;
	if (login != NULL)
		snprintf(s->login, sizeof(s->login), "%s", login);
	memcpy(s->since, when, sizeof(s->since));
	scan_schedule(s);
}

/* ---- provd -J: the journal verified while provd is stopped ------------------ */

static bool
offline_line(void *ctx, const char *line, size_t len, bool complete)
{
	return journal_check_line(ctx, line, len, complete);
}

int
audit_verify_offline(const char *state_dir, char *msg, size_t msglen)
{
	static const char *const names[] = {
		[JOURNAL_OK] = "ok", [JOURNAL_TORN] = "torn", [JOURNAL_CHANGED] = "changed",
		[JOURNAL_INSERTED] = "inserted", [JOURNAL_DELETED] = "deleted",
		[JOURNAL_FORGED] = "forged",
	};
	struct audit a = { .fd = -1 };
	struct journal_check *c = NULL;
	struct journal_reader rd;
	unsigned long long sealed = 0;
	char path[4096], line[JOURNAL_SEAL_MAX], hash[JOURNAL_HEX];
	struct stat st;
	bool have_reader = false, good;
	ssize_t n;
	int fd = -1, rc = -1, step;

	a.dir = xstrdup(state_dir);
	if (state_path(&a, JOURNAL_FILE, path, sizeof(path)) < 0) {
		free(a.dir);
		snprintf(msg, msglen, "state_dir too long");
		return -1;
	}
	a.path = path;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		snprintf(msg, msglen, "cannot open the journal %s: %s", path, strerror(errno));
		goto out;
	}
	if (key_open(&a, false, msg, msglen) < 0)
		goto out;
	c = xmalloc(sizeof(*c));
	journal_reader_init(&rd, fd, st.st_size);
	have_reader = true;
	journal_check_init(c);
	journal_check_key(c, &a.key);
	while ((step = journal_reader_step(&rd, VERIFY_STEP_BYTES, offline_line, c)) == 0)
		;
	if (step < 0) {
		snprintf(msg, msglen, "cannot read the journal %s: %s", path, strerror(errno));
		goto out;
	}
	/* The seal names a head the file must reach (and match, when it is
	 * the last record); one older than the end says nothing more. */
	if (state_path(&a, SEAL_FILE, line, sizeof(line)) == 0) {
		int sfd = open(line, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		if (sfd >= 0) {
			do
				n = pread(sfd, line, sizeof(line) - 1, 0);
			while (n < 0 && errno == EINTR);
			close(sfd);
			if (n < 0 || journal_seal_parse(&a.key, line, (size_t)n, &sealed, hash) < 0) {
				snprintf(msg, msglen, "the journal seal is unreadable, or does not "
				         "match provd's journal key (forged or changed)");
				rc = 1;
				goto out;
			}
		}
	}
	if (c->problem == JOURNAL_OK && sealed < c->expect - 1)
		sealed = 0;
	good = journal_check_end(c, sealed, sealed ? hash : NULL);
	if (good)
		snprintf(msg, msglen, "journal %s intact: %lu record%s, chain and MACs verified",
		         path, c->records, c->records == 1 ? "" : "s");
	else
		snprintf(msg, msglen, "journal %s broken at line %lu (%s): %s", path,
		         c->bad_line, names[c->problem], c->detail);
	rc = good ? 0 : 1;
out:
	if (have_reader)
		journal_reader_free(&rd);
	free(c);
	if (fd >= 0)
		close(fd);
	free(a.dir);
	OPENSSL_cleanse(&a.key, sizeof(a.key));
	return rc;
}
