/*
 * signer.c — the engine side of the signer process (see signer.h).
 */
#include "signer.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certcheck.h"
#include "p11uri.h"
#include "signer_child.h"
#include "signer_wire.h"
#include "text.h"

#define REPLY_CERT_MAX  (64 * 1024)
#define REPLY_MSG_MAX   1024
#define STOP_WAIT_MS    2000

static int drain(struct signer *s, int timeout_ms, char *err, size_t errlen);
static void stop_launcher(struct signer *s);
static void fail_queue(struct signer *s, const char *why);
static int exchange(struct signer *s, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, int timeout_ms,
    size_t reply_max, struct signer_msg *reply, char *err, size_t errlen);

/* A request of the asynchronous interface: its own copy of the message
 * (nothing of the caller's is borrowed) and what to do with the reply. */
enum req_kind { REQ_DER, REQ_KEY, REQ_CERT,
	REQ_HELLO,      /* a restart: the new signer's start-up report */
	REQ_RELOAD      /* a restart: the active key loaded again */
};

struct signer_req {
	TAILQ_ENTRY(signer_req) entry;
	enum req_kind   kind;
	uint8_t         op;
	unsigned char  *buf;           /* the whole message */
	size_t          len, off;      /* off: bytes sent */
	size_t          reply_max;
	int             timeout_ms;    /* counted from reaching the head */
	int64_t         deadline;      /* 0 until then */
	int             keygen;
	signer_der_fn  *der_cb;
	signer_key_fn  *key_cb;
	void           *ctx;
	unsigned char  *tbs;           /* REQ_CERT: what was sent, to check */
	size_t          tbslen;
	char            key_path[KEYFILE_PATH_MAX];   /* REQ_KEY */
	char            pass_path[KEYFILE_PATH_MAX];
	/* answered during a synchronous call, delivered by signer_io */
	int             rc;
	struct signer_msg reply;
	char            err[256];
};
TAILQ_HEAD(signer_reqq, signer_req);

struct signer {
	struct signer_config cfg;
	struct signer_reqq queue;     /* the head is on the wire */
	struct signer_reqq answered;  /* see signer_req.rc */
	unsigned char *rbuf;          /* the reply being received */
	struct signer_req *delivering; /* whose der_cb runs (signer_reply_take) */
	size_t    rtotal, rhave;
	void    (*notify)(void *);
	void    (*closing)(void *, int);
	void     *notify_ctx;
	int       fd;
	pid_t     pid;
	int       lfd;           /* the launcher's socket, or -1 (none) */
	pid_t     lpid;
	int       lforeign;      /* the launcher is the spawner's child, not ours */
	int       broken;        /* stream out of step: restart needed */
	int       launching;     /* a restart waits for the launcher's answer */
	int64_t   launch_deadline;
	int       launcher_lost; /* it died: no signer can be started again */
	int       restart_rc;    /* the last restart: 0 under way or done, -1 failed */
	char      restart_err[256];
	int       have_key;      /* key_path/pass_path name the active key */
	char      key_path[KEYFILE_PATH_MAX];
	char      pass_path[KEYFILE_PATH_MAX];
	char      retired_name[256];  /* the key file's name before RETIRE */
	EVP_PKEY *pub;           /* active key's public half, or NULL */
	EVP_PKEY *seal;          /* throwaway key sealing to-be-signed data */
};

static void fail_all(struct signer *s, const char *why);
static int launch_step(struct signer *s);
static int restart_answer(struct signer *s, struct signer_req *r,
    struct signer_msg *m);

static int
timeout_of(const struct signer *s, bool keygen)
{
	if (keygen)
		return s->cfg.keygen_timeout_ms > 0 ? s->cfg.keygen_timeout_ms :
		    SIGNER_KEYGEN_TIMEOUT_MS;
	return s->cfg.timeout_ms > 0 ? s->cfg.timeout_ms :
	    SIGNER_DEFAULT_TIMEOUT_MS;
}

/* Describe how the child ended, if it has; reaps it. */
static void
child_status(struct signer *s, char *buf, size_t len)
{
	int st;
	pid_t r;

	buf[0] = '\0';
	if (s->pid <= 0)
		return;
	if (s->lfd >= 0) {      /* the launcher's child, not ours */
		if (kill(s->pid, 0) < 0 && errno == ESRCH) {
			snprintf(buf, len, " (signer process is gone)");
			s->pid = -1;
		}
		return;
	}
	r = waitpid(s->pid, &st, WNOHANG);
	if (r == s->pid) {
		if (WIFEXITED(st))
			snprintf(buf, len, " (signer process exited with "
			    "status %d)", WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			snprintf(buf, len, " (signer process killed by signal "
			    "%d)", WTERMSIG(st));
		s->pid = -1;
	} else if (r < 0 && errno == ECHILD) {
		snprintf(buf, len, " (signer process is gone)");
		s->pid = -1;
	}
}

/* Wait for child *pid to exit (SIGKILL after STOP_WAIT_MS); *pid = -1. */
static void
reap(pid_t *pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited, st;

	for (waited = 0; waited < STOP_WAIT_MS; waited += 10) {
		pid_t r = waitpid(*pid, &st, WNOHANG);

		if (r == *pid || (r < 0 && errno == ECHILD)) {
			*pid = -1;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(*pid, SIGKILL);
	while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

static void
kill_child(struct signer *s)
{
	if (s->fd >= 0) {
		if (s->closing != NULL)
			s->closing(s->notify_ctx, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	if (s->rbuf != NULL) {
		OPENSSL_cleanse(s->rbuf, s->rhave);
		free(s->rbuf);
		s->rbuf = NULL;
	}
	s->rtotal = s->rhave = 0;
	if (s->pid <= 0)
		return;
	if (s->lfd >= 0) {
		/* The launcher's child: it leaves on end-of-file, and the
		 * launcher kills it when asked for the next one. */
		s->pid = -1;
		return;
	}
	reap(&s->pid);
}

/* Copy the signer's error text, shown by text_sanitize's rule. */
static void
copy_message(const struct signer_msg *m, char *err, size_t errlen)
{
	if (errlen == 0)
		return;
	text_sanitize((const char *)m->field[0].data, m->nfields > 0 ? m->field[0].len : 0, err,
	              errlen);
	if (err[0] == '\0')
		snprintf(err, errlen, "signer refused the request");
}

/* Close the launcher's socket (it kills its signer and leaves), reap it
 * (SIGKILL after 2 s). */
static void
stop_launcher(struct signer *s)
{
	if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
	}
	if (s->lpid > 0)
		reap(&s->lpid);
}

/* Wait for the HELLO of a new process on fd; 0 or -1 with a message. */
static int
await_hello(struct signer *s, int fd, const char *who, char *err,
    size_t errlen)
{
	struct signer_msg hello;
	char why[96];
	int r;

	r = signer_wire_recv(fd, &hello, REPLY_MSG_MAX, timeout_of(s, false), err,
	    errlen);
	if (r != 0) {
		if (r == 1) {
			child_status(s, why, sizeof(why));
			snprintf(err, errlen, "%s: process ended during "
			    "start-up%s", who, why);
		}
		return -1;
	}
	if (hello.op != SIGNER_OP_HELLO ||
	    hello.status != SIGNER_STATUS_OK) {
		copy_message(&hello, err, errlen);
		signer_msg_free(&hello);
		return -1;
	}
	signer_msg_free(&hello);
	return 0;
}

/* The launcher died or stopped answering: close our end (it kills its
 * signer and leaves, if it still can), reap it.  No signer can be started
 * as the signer's user any more. */
static void
launcher_lost(struct signer *s)
{
	if (s->lfd >= 0 && s->closing != NULL)
		s->closing(s->notify_ctx, s->lfd);
	if (s->lpid > 0)
		(void)kill(s->lpid, SIGKILL);
	stop_launcher(s);
	s->launcher_lost = 1;
	s->launching = 0;
}

/* Ask the launcher for a new signer, or the spawner for a new launcher
 * (what: SIGNER_LAUNCH_*; the answer comes on s->lfd). */
static int
launcher_ask(struct signer *s, unsigned char what, char *err, size_t errlen)
{
	if (s->lfd < 0 || send(s->lfd, &what, 1, MSG_NOSIGNAL) != 1) {
		snprintf(err, errlen, "the signer launcher is gone (%s): no "
		    "new signer can be started until provd is restarted",
		    s->lfd < 0 ? "it ended earlier" : strerror(errno));
		if (s->lfd >= 0)
			launcher_lost(s);
		return -1;
	}
	return 0;
}

/* The launcher's answer, without waiting: the new signer's socket into
 * *fd, its pid.  0, 1 (nothing yet), or -1 with a message (the launcher is
 * then given up). */
static int
launcher_answer(struct signer *s, int *fd, pid_t *pid, char *err,
    size_t errlen)
{
	union {
		struct cmsghdr h;
		char           buf[CMSG_SPACE(sizeof(int))];
	} u;
	unsigned char p[4];
	struct iovec iov = { .iov_base = p, .iov_len = sizeof(p) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t r;

	*fd = -1;
	*pid = -1;
	memset(&u, 0, sizeof(u));
	do
		r = recvmsg(s->lfd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 1;
	cm = r == 4 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	*pid = (pid_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
	if (r != 4 || *fd < 0 || *pid <= 0 || (mh.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (r == 0 || r < 0) {
			snprintf(err, errlen, "the signer launcher is gone: no "
			    "new signer can be started until provd is "
			    "restarted");
			launcher_lost(s);
		} else {
			snprintf(err, errlen, "signer launcher could not start "
			    "a signer");
		}
		return -1;
	}
	return 0;
}

/* Ask the launcher for a new signer and wait for it (start-up only). */
static int
spawn_via_launcher(struct signer *s, int *fd, pid_t *pid, char *err,
    size_t errlen)
{
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	int r;

	*fd = -1;
	*pid = -1;
	if (launcher_ask(s, SIGNER_LAUNCH_SIGNER, err, errlen) < 0)
		return -1;
	if (poll(&pfd, 1, timeout_of(s, false)) != 1 ||
	    (r = launcher_answer(s, fd, pid, err, errlen)) == 1) {
		snprintf(err, errlen, "signer launcher did not answer");
		return -1;
	}
	return r;
}

/* Fork a process that runs main(its end of a new socketpair, &s->cfg)
 * and never returns; our end into *fd, its pid into *pid.  0 or -1. */
static int
fork_with_socket(struct signer *s,
    void (*main_fn)(int, const struct signer_config *), int *fd, pid_t *pid,
    char *err, size_t errlen)
{
	int sv[2];
	pid_t p;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "signer: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	p = fork();
	if (p < 0) {
		snprintf(err, errlen, "signer: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (p == 0) {
		close(sv[0]);
		main_fn(sv[1], &s->cfg);
		_exit(1);
	}
	close(sv[1]);
	*fd = sv[0];
	*pid = p;
	return 0;
}

static int
fork_child(struct signer *s, char *err, size_t errlen)
{
	if ((s->lfd >= 0 ? spawn_via_launcher(s, &s->fd, &s->pid, err, errlen) :
	    fork_with_socket(s, signer_child_main, &s->fd, &s->pid, err,
	    errlen)) < 0)
		return -1;
	s->broken = 0;
	if (await_hello(s, s->fd, "signer", err, errlen) < 0) {
		kill_child(s);
		return -1;
	}
	return 0;
}

/*
 * With dropped privileges the signers come from a launcher forked now,
 * while the engine may still switch to the signer's uid: a signer that
 * dies later can then be replaced (see signer_launcher_main).
 */
static int
start_launcher(struct signer *s, char *err, size_t errlen)
{
	if (fork_with_socket(s, signer_launcher_main, &s->lfd, &s->lpid, err,
	    errlen) < 0)
		return -1;
	if (await_hello(s, s->lfd, "signer launcher", err, errlen) < 0) {
		stop_launcher(s);
		return -1;
	}
	return 0;
}

/* A handle with no process yet, or NULL with err. */
static struct signer *
handle_new(const struct signer_config *cfg, char *err, size_t errlen)
{
	struct signer *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "signer: out of memory");
		return NULL;
	}
	if (cfg != NULL)
		s->cfg = *cfg;
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->answered);
	s->fd = -1;
	s->pid = -1;
	s->lfd = -1;
	s->lpid = -1;
	return s;
}

int
signer_start(const struct signer_config *cfg, struct signer **out,
    char *err, size_t errlen)
{
	struct signer *s;

	*out = NULL;
	if ((s = handle_new(cfg, err, errlen)) == NULL)
		return -1;
	if ((s->cfg.drop_privileges && start_launcher(s, err, errlen) < 0) ||
	    fork_child(s, err, errlen) < 0) {
		stop_launcher(s);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/*
 * One request/reply exchange.  A transport failure marks the handle broken;
 * an error reply is returned as -1 with the signer's message.
 */
int
signer_call(struct signer *s, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, size_t reply_max,
    struct signer_msg *reply, char *err, size_t errlen)
{
	return exchange(s, op, flags, f, nf, timeout_of(s, false), reply_max, reply,
	    err, errlen);
}

static int
exchange(struct signer *s, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, int timeout_ms,
    size_t reply_max, struct signer_msg *reply, char *err, size_t errlen)
{
	char why[96];
	int r;

	memset(reply, 0, sizeof(*reply));
	if (s != NULL && (!TAILQ_EMPTY(&s->queue) || s->launching)) {
		if (signer_keygen_queued(s)) {
			snprintf(err, errlen, "the signer is generating a key; "
			    "try again shortly");
			return -1;
		}
		if (drain(s, timeout_ms, err, errlen) < 0)
			return -1;
	}
	if (s == NULL || s->fd < 0 || s->broken) {
		snprintf(err, errlen, "%s", s != NULL && s->launcher_lost ?
		    "the signer ended and cannot be replaced: its launcher is "
		    "gone (restart provd)" : "signer is not running (restart it)");
		return -1;
	}
	if (signer_wire_send(s->fd, op, SIGNER_STATUS_OK, flags, f, nf,
	    timeout_ms, err, errlen) < 0)
		goto broken;
	r = signer_wire_recv(s->fd, reply, reply_max, timeout_ms, err, errlen);
	if (r == 1)
		snprintf(err, errlen, "signer closed the connection");
	if (r != 0)
		goto broken;
	if (reply->op != op) {
		snprintf(err, errlen, "signer answered request %u with %u", op,
		    reply->op);
		signer_msg_free(reply);
		goto broken;
	}
	if (reply->status != SIGNER_STATUS_OK) {
		copy_message(reply, err, errlen);
		signer_msg_free(reply);
		return -1;
	}
	return 0;
broken:
	s->broken = 1;
	child_status(s, why, sizeof(why));
	if (why[0] != '\0' && strlen(err) + strlen(why) < errlen)
		strcat(err, why);
	return -1;
}

static int
pubkey_from(const struct signer_msg *m, EVP_PKEY **pk, char *err,
    size_t errlen)
{
	const unsigned char *p;

	*pk = NULL;
	if (m->nfields != 1 || m->field[0].len == 0) {
		snprintf(err, errlen, "signer sent no public key");
		return -1;
	}
	p = m->field[0].data;
	*pk = d2i_PUBKEY(NULL, &p, (long)m->field[0].len);
	if (*pk == NULL || p != m->field[0].data + m->field[0].len) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		ERR_clear_error();
		snprintf(err, errlen, "signer sent a malformed public key");
		return -1;
	}
	return 0;
}

static int
check_path(const char *path, bool optional, const char *what, char *err,
    size_t errlen)
{
	if (path == NULL && optional)
		return 0;
	if (path == NULL || path[0] != '/' ||
	    strnlen(path, KEYFILE_PATH_MAX) >= KEYFILE_PATH_MAX) {
		snprintf(err, errlen, "%s: must be an absolute path shorter "
		    "than %d bytes", what, KEYFILE_PATH_MAX);
		return -1;
	}
	return 0;
}

/* A key is an absolute path (with an optional passphrase file) or a
 * PKCS #11 URI (without one). */
static int
check_key_ref(const char *path, const char *pass_path, char *err,
    size_t errlen)
{
	if (p11uri_is(path)) {
		if (strnlen(path, P11URI_MAX + 1) > P11URI_MAX ||
		    pass_path != NULL) {
			snprintf(err, errlen, "PKCS#11 URI: at most %d bytes, "
			    "and no passphrase file", P11URI_MAX);
			return -1;
		}
		return 0;
	}
	if (check_path(path, false, "key path", err, errlen) < 0 ||
	    check_path(pass_path, true, "passphrase path", err, errlen) < 0)
		return -1;
	return 0;
}

static struct signer_field
text(const char *s)
{
	struct signer_field f = { .data = (const unsigned char *)(s != NULL ?
	    s : ""), .len = s != NULL ? strlen(s) : 0 };

	return f;
}

/* The reply to GENKEY / LOAD / IMPORT: remember the new active key. */
static int
adopt_key(struct signer *s, const struct signer_msg *m, const char *key_path,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen)
{
	EVP_PKEY *pk = NULL, *copy;

	if (pub != NULL)
		*pub = NULL;
	if (pubkey_from(m, &pk, err, errlen) < 0)
		return -1;
	snprintf(s->key_path, sizeof(s->key_path), "%s", key_path);
	snprintf(s->pass_path, sizeof(s->pass_path), "%s",
	    pass_path != NULL ? pass_path : "");
	s->have_key = 1;
	EVP_PKEY_free(s->pub);
	s->pub = pk;
	if (pub != NULL) {
		copy = EVP_PKEY_dup(pk);
		if (copy == NULL) {
			snprintf(err, errlen, "signer: out of memory");
			return -1;
		}
		*pub = copy;
	}
	return 0;
}

/* Common tail of GENKEY / LOAD / IMPORT. */
static int
key_request(struct signer *s, uint8_t op, const struct signer_field *f,
    size_t nf, int timeout_ms, const char *key_path, const char *pass_path,
    EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_msg m;
	int rc;

	if (pub != NULL)
		*pub = NULL;
	if (exchange(s, op, 0, f, nf, timeout_ms, REPLY_CERT_MAX, &m, err,
	    errlen) < 0)
		return -1;
	rc = adopt_key(s, &m, key_path, pass_path, pub, err, errlen);
	signer_msg_free(&m);
	return rc;
}

/* The fields of GENKEY, checked. */
static int
genkey_fields(enum keyfile_type t, const char *path, const char *pass_path,
    struct signer_field f[3], char *err, size_t errlen)
{
	const char *tn = keyfile_type_name(t);

	if (tn == NULL) {
		snprintf(err, errlen, "key type: unknown");
		return -1;
	}
	if (check_key_ref(path, pass_path, err, errlen) < 0)
		return -1;
	f[0] = text(tn);
	f[1] = text(path);
	f[2] = text(pass_path);
	return 0;
}

int
signer_genkey(struct signer *s, enum keyfile_type t, const char *path,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_field f[3];

	if (genkey_fields(t, path, pass_path, f, err, errlen) < 0)
		return -1;
	return key_request(s, SIGNER_OP_GENKEY, f, 3, timeout_of(s, true), path,
	    pass_path, pub, err, errlen);
}

int
signer_load(struct signer *s, const char *path, const char *pass_path,
    EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_field f[2];

	if (check_key_ref(path, pass_path, err, errlen) < 0)
		return -1;
	f[0] = text(path);
	f[1] = text(pass_path);
	return key_request(s, SIGNER_OP_LOAD, f, 2, timeout_of(s, false), path,
	    pass_path, pub, err, errlen);
}

int
signer_import(struct signer *s, const char *src, const char *dst,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_field f[3];

	if (check_path(src, false, "source key path", err, errlen) < 0 ||
	    check_path(dst, false, "destination path", err, errlen) < 0 ||
	    check_path(pass_path, true, "passphrase path", err, errlen) < 0)
		return -1;
	f[0] = text(src);
	f[1] = text(dst);
	f[2] = text(pass_path);
	return key_request(s, SIGNER_OP_IMPORT, f, 3, timeout_of(s, false), dst,
	    pass_path, pub, err, errlen);
}

int
signer_import_undo(struct signer *s, char *err, size_t errlen)
{
	struct signer_msg m;

	if (exchange(s, SIGNER_OP_IMPORT, SIGNER_FLAG_UNDO, NULL, 0, timeout_of(s, false),
	    REPLY_MSG_MAX, &m, err, errlen) < 0)
		return -1;
	signer_msg_free(&m);
	return 0;
}

int
signer_retire(struct signer *s, unsigned gen, const char *pem, size_t pemlen,
    const char *uri_file, int undo, char *err, size_t errlen)
{
	struct signer_field f[3];
	struct signer_msg m;
	char name[16], path[KEYFILE_PATH_MAX];
	const char *slash;
	int token = s != NULL && s->have_key && p11uri_is(s->key_path);

	if (s == NULL || !s->have_key || (token && uri_file == NULL) ||
	    (!token && (slash = strrchr(s->key_path, '/')) == NULL)) {
		snprintf(err, errlen, "signer: no key loaded");
		return -1;
	}
	snprintf(name, sizeof(name), "gen-%u", gen);
	f[0] = text(name);
	f[1].data = (const unsigned char *)pem;
	f[1].len = pemlen;
	if (token)
		f[2] = text(uri_file);
	if (exchange(s, SIGNER_OP_RETIRE, undo ? SIGNER_FLAG_UNDO : 0, f, token ? 3 : 2,
	    timeout_of(s, 0), REPLY_MSG_MAX, &m, err, errlen) < 0)
		return -1;
	signer_msg_free(&m);
	if (token)
		return 0;    /* a restarted child re-loads by the URI, which stays */
	/* The path a restarted child re-loads the key from. */
	if (undo) {
		snprintf(path, sizeof(path), "%s", s->key_path);
		*strrchr(path, '/') = '\0';           /* .../gen-N */
		*strrchr(path, '/') = '\0';           /* the key's directory */
		snprintf(s->key_path, sizeof(s->key_path), "%.*s/%s",
		    (int)(sizeof(s->key_path) / 2), path, s->retired_name);
	} else {
		snprintf(s->retired_name, sizeof(s->retired_name), "%s", slash + 1);
		snprintf(path, sizeof(path), "%.*s/%s/ca.key",
		    (int)(slash - s->key_path), s->key_path, name);
		snprintf(s->key_path, sizeof(s->key_path), "%s", path);
	}
	return 0;
}

int
signer_key_uri(struct signer *s, const char *uri_file, const char *uri, char *err,
    size_t errlen)
{
	struct signer_field f[2];
	struct signer_msg m;

	if (strnlen(uri, P11URI_MAX + 1) > P11URI_MAX) {
		snprintf(err, errlen, "PKCS#11 URI longer than %d bytes", P11URI_MAX);
		return -1;
	}
	f[0] = text(uri_file);
	f[1] = text(uri);
	if (exchange(s, SIGNER_OP_KEY_URI, 0, f, 2, timeout_of(s, 0), REPLY_MSG_MAX, &m,
	    err, errlen) < 0)
		return -1;
	signer_msg_free(&m);
	return 0;
}

int
signer_pubkey(struct signer *s, EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_msg m;
	int rc;

	*pub = NULL;
	if (exchange(s, SIGNER_OP_PUBKEY, 0, NULL, 0, timeout_of(s, false),
	    REPLY_CERT_MAX, &m, err, errlen) < 0)
		return -1;
	rc = pubkey_from(&m, pub, err, errlen);
	signer_msg_free(&m);
	return rc;
}

/*
 * A to-be-signed X509 from OpenSSL has empty signature algorithm fields and
 * does not encode.  Sealing it with a throwaway EC key fills those fields;
 * the signer then replaces algorithm and signature with its own.
 */
static EVP_PKEY *
seal_key(struct signer *s, char *err, size_t errlen)
{
	if (s->seal == NULL)
		s->seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (s->seal == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "signer: cannot make a sealing key");
	}
	return s->seal;
}

int
signer_sign_cert_der(struct signer *s, X509 *cert, unsigned flags,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	struct signer_field f;
	struct signer_msg m;
	unsigned char *der = NULL;
	EVP_PKEY *seal;
	int len, rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&m, 0, sizeof(m));
	if (s == NULL || cert == NULL) {
		snprintf(err, errlen, "signer: no certificate to sign");
		return -1;
	}
	seal = seal_key(s, err, errlen);
	if (seal == NULL)
		return -1;
	if (X509_sign(cert, seal, EVP_sha256()) <= 0 ||
	    (len = i2d_X509(cert, &der)) <= 0) {
		snprintf(err, errlen, "certificate: cannot encode");
		goto out;
	}
	f.data = der;
	f.len = (size_t)len;
	if (exchange(s, SIGNER_OP_SIGN_CERT,
	    (uint8_t)(((flags & SIGNER_SELF_SIGNED) ? SIGNER_FLAG_SELF_SIGNED : 0) |
	    ((flags & SIGNER_LINK) ? SIGNER_FLAG_LINK : 0)), &f, 1,
	    timeout_of(s, false), REPLY_CERT_MAX, &m, err, errlen) < 0)
		goto out;
	/* A restarted signer is not given its link certificate again. */
	if (flags & SIGNER_LINK)
		s->cfg.link_certificates = 0;
	if (m.nfields != 1) {
		snprintf(err, errlen, "signer sent no certificate");
		goto out;
	}
	if (certcheck_signed(s->pub, der, (size_t)len, m.field[0].data,
	    m.field[0].len, err, errlen) < 0)
		goto out;
	*out = malloc(m.field[0].len);
	if (*out == NULL) {
		snprintf(err, errlen, "certificate: out of memory");
		goto out;
	}
	memcpy(*out, m.field[0].data, m.field[0].len);
	*outlen = m.field[0].len;
	rc = 0;
out:
	ERR_clear_error();
	signer_msg_free(&m);
	OPENSSL_free(der);
	return rc;
}

int
signer_sign_cert(struct signer *s, X509 *cert, unsigned flags, X509 **out,
    char *err, size_t errlen)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509 *x;

	*out = NULL;
	if (signer_sign_cert_der(s, cert, flags, &der, &len, err, errlen) < 0)
		return -1;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		ERR_clear_error();
		X509_free(x);
		free(der);
		snprintf(err, errlen, "signer sent a malformed certificate");
		return -1;
	}
	free(der);
	*out = x;
	return 0;
}

int
signer_sign_crl(struct signer *s, const unsigned char *crl, size_t len,
    unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	struct signer_field f = { .data = crl, .len = len };
	struct signer_msg m;
	int rc = -1;

	*der = NULL;
	*derlen = 0;
	if (s == NULL || crl == NULL || len == 0) {
		snprintf(err, errlen, "signer: no CRL to sign");
		return -1;
	}
	if (exchange(s, SIGNER_OP_SIGN_CRL, 0, &f, 1, timeout_of(s, false),
	    SIGNER_WIRE_MAX, &m, err, errlen) < 0)
		return -1;
	if (m.nfields != 1 || m.field[0].len == 0) {
		snprintf(err, errlen, "signer sent no CRL");
		goto out;
	}
	*der = malloc(m.field[0].len);
	if (*der == NULL) {
		snprintf(err, errlen, "CRL: out of memory");
		goto out;
	}
	memcpy(*der, m.field[0].data, m.field[0].len);
	*derlen = m.field[0].len;
	rc = 0;
out:
	signer_msg_free(&m);
	return rc;
}

/* ---- asynchronous requests ------------------------------------------ */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
req_free(struct signer_req *r)
{
	if (r->buf != NULL) {
		OPENSSL_cleanse(r->buf, r->len);
		free(r->buf);
	}
	signer_msg_free(&r->reply);
	free(r->tbs);
	free(r);
}

/* r is answered (m, if any, is taken over); signer_io delivers it. */
static void
finish(struct signer *s, struct signer_req *r, int rc, struct signer_msg *m,
    const char *why)
{
	TAILQ_REMOVE(&s->queue, r, entry);
	r->rc = rc;
	if (m != NULL) {
		r->reply = *m;
		memset(m, 0, sizeof(*m));
	}
	snprintf(r->err, sizeof(r->err), "%s", why != NULL ? why : "");
	TAILQ_INSERT_TAIL(&s->answered, r, entry);
}

static void
fail_queue(struct signer *s, const char *why)
{
	struct signer_req *r;

	while ((r = TAILQ_FIRST(&s->queue)) != NULL)
		finish(s, r, -1, NULL, why);
	if (!TAILQ_EMPTY(&s->answered) && s->notify != NULL)
		s->notify(s->notify_ctx);
}

/* A transport failure: the stream is out of step, every request fails. */
static void
fail_all(struct signer *s, const char *why)
{
	char msg[256], st[96];
	int restart = signer_restarting(s);

	s->broken = 1;
	s->launching = 0;
	child_status(s, st, sizeof(st));
	snprintf(msg, sizeof(msg), "%s%s%s", restart ? "signer restart failed: " :
	    "", why, st);
	if (restart) {
		s->restart_rc = -1;
		snprintf(s->restart_err, sizeof(s->restart_err), "%s", msg);
	}
	if (s->rbuf != NULL) {
		OPENSSL_cleanse(s->rbuf, s->rhave);
		free(s->rbuf);
		s->rbuf = NULL;
	}
	s->rtotal = s->rhave = 0;
	fail_queue(s, msg);
}

/*
 * Send what the socket takes, receive what has come; answered requests go
 * to s->answered.  Never blocks, never calls back.
 */
static void
progress(struct signer *s)
{
	unsigned char first[SIGNER_WIRE_CHUNK];
	struct signer_req *r;
	struct signer_msg m;
	char err[256];
	ssize_t n;

again:
	if (s->launching && launch_step(s) != 0)
		return;
	if (s->fd < 0 || s->broken)
		return;
	while ((r = TAILQ_FIRST(&s->queue)) != NULL && r->off < r->len) {
		size_t k = r->len - r->off > SIGNER_WIRE_CHUNK ?
		    SIGNER_WIRE_CHUNK : r->len - r->off;

		if (r->deadline == 0)
			r->deadline = mono_ms() + r->timeout_ms;
		n = send(s->fd, r->buf + r->off, k, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 || (size_t)n != k) {
			snprintf(err, sizeof(err), "signer socket: send: %s",
			    n < 0 ? strerror(errno) : "short send");
			fail_all(s, err);
			return;
		}
		r->off += k;
	}
	for (;;) {
		struct iovec iov;
		struct msghdr mh;
		unsigned char *b;
		size_t t;

		memset(&mh, 0, sizeof(mh));
		if (s->rbuf == NULL) {
			iov.iov_base = first;
			iov.iov_len = sizeof(first);
		} else {
			iov.iov_base = s->rbuf + s->rhave;
			iov.iov_len = s->rtotal - s->rhave > SIGNER_WIRE_CHUNK ?
			    SIGNER_WIRE_CHUNK : s->rtotal - s->rhave;
		}
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			snprintf(err, sizeof(err), "signer socket: recv: %s",
			    strerror(errno));
			fail_all(s, err);
			return;
		}
		if (n == 0) {
			fail_all(s, s->rbuf != NULL ? "signer socket closed in "
			    "the middle of a message" : "signer closed the "
			    "connection");
			return;
		}
		r = TAILQ_FIRST(&s->queue);
		if ((mh.msg_flags & MSG_TRUNC) || r == NULL || r->off < r->len) {
			OPENSSL_cleanse(first, sizeof(first));
			fail_all(s, r == NULL || r->off < r->len ? "signer sent "
			    "a message nobody asked for" : "signer message: "
			    "packet overruns the announced length");
			return;
		}
		if (s->rbuf == NULL) {
			if (signer_wire_header(first, (size_t)n, r->reply_max,
			    &s->rtotal, err, sizeof(err)) < 0 ||
			    (s->rbuf = malloc(s->rtotal)) == NULL) {
				OPENSSL_cleanse(first, (size_t)n);
				fail_all(s, s->rtotal > 0 ? "signer message: out "
				    "of memory" : err);
				return;
			}
			memcpy(s->rbuf, first, (size_t)n);
			OPENSSL_cleanse(first, (size_t)n);
			s->rhave = (size_t)n;
		} else {
			s->rhave += (size_t)n;
		}
		if (s->rhave < s->rtotal)
			continue;
		b = s->rbuf;
		t = s->rtotal;
		s->rbuf = NULL;
		s->rtotal = s->rhave = 0;
		if (signer_wire_parse(b, t, &m, err, sizeof(err)) < 0) {
			fail_all(s, err);
			return;
		}
		if (m.op != r->op) {
			snprintf(err, sizeof(err), "signer answered request %u "
			    "with %u", r->op, m.op);
			signer_msg_free(&m);
			fail_all(s, err);
			return;
		}
		if (r->kind == REQ_HELLO || r->kind == REQ_RELOAD) {
			if (restart_answer(s, r, &m) < 0)
				return;
		} else {
			finish(s, r, 0, &m, NULL);
		}
		goto again;     /* the next request's turn */
	}
}

int
signer_reply_take(struct signer *s, const unsigned char *der,
    unsigned char **buf)
{
	struct signer_req *r = s != NULL ? s->delivering : NULL;

	*buf = NULL;
	if (r == NULL || r->reply.buf == NULL || r->reply.nfields != 1 ||
	    r->reply.field[0].data != der)
		return -1;
	*buf = r->reply.buf;          /* the message's one owner from now on */
	r->reply.buf = NULL;
	r->reply.buflen = 0;
	s->delivering = NULL;         /* taken once */
	return 0;
}

/* Call back for every answered request, in order. */
static void
deliver(struct signer *s)
{
	struct signer_req *r;
	char err[512];

	while ((r = TAILQ_FIRST(&s->answered)) != NULL) {
		EVP_PKEY *pub = NULL;
		int rc = r->rc;

		TAILQ_REMOVE(&s->answered, r, entry);
		if (r->kind == REQ_HELLO || r->kind == REQ_RELOAD) {
			req_free(r);    /* a restart's own step: nobody waits */
			continue;
		}
		snprintf(err, sizeof(err), "%s", r->err);
		if (rc == 0 && r->reply.status != SIGNER_STATUS_OK) {
			copy_message(&r->reply, err, sizeof(err));
			rc = -1;
		}
		if (r->kind == REQ_DER || r->kind == REQ_CERT) {
			const struct signer_field *f = &r->reply.field[0];

			if (rc == 0 && (r->reply.nfields != 1 || f->len == 0)) {
				snprintf(err, sizeof(err), "signer sent nothing");
				rc = -1;
			}
			if (rc == 0 && r->kind == REQ_CERT &&
			    certcheck_signed(s->pub, r->tbs, r->tbslen, f->data,
			    f->len, err, sizeof(err)) < 0)
				rc = -1;
			ERR_clear_error();
			s->delivering = rc == 0 ? r : NULL;
			r->der_cb(r->ctx, rc, rc == 0 ? f->data : NULL,
			    rc == 0 ? f->len : 0, rc == 0 ? NULL : err);
			s->delivering = NULL;
		} else {
			if (rc == 0 && adopt_key(s, &r->reply, r->key_path,
			    r->pass_path[0] != '\0' ? r->pass_path : NULL, &pub,
			    err, sizeof(err)) < 0)
				rc = -1;
			r->key_cb(r->ctx, rc, pub, rc == 0 ? NULL : err);
		}
		req_free(r);
	}
}

/* Wait (blocking) until every queued request is answered. */
static int
drain(struct signer *s, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;

	while ((s->launching || (!TAILQ_EMPTY(&s->queue) && !s->broken &&
	    s->fd >= 0))) {
		struct pollfd p = { .fd = signer_fd(s), .events = POLLIN };
		int64_t left = deadline - mono_ms();

		if (signer_want(s) & SIGNER_WANT_WRITE)
			p.events |= POLLOUT;
		if (left <= 0) {
			int launching = s->launching;

			fail_all(s, launching ? "signer launcher did not "
			    "answer" : "signer did not answer in time");
			if (launching)
				launcher_lost(s);
			break;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			fail_all(s, "signer socket: poll failed");
			break;
		}
		progress(s);
	}
	if (!TAILQ_EMPTY(&s->answered) && s->notify != NULL)
		s->notify(s->notify_ctx);
	if (s->broken || s->fd < 0) {
		snprintf(err, errlen, "signer is not running (restart it)");
		return -1;
	}
	return 0;
}

static int
submit(struct signer *s, struct signer_req *r, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, char *err, size_t errlen)
{
	if (signer_broken(s)) {
		snprintf(err, errlen, "%s", s != NULL && s->launcher_lost ?
		    "the signer ended and cannot be replaced: its launcher is "
		    "gone (restart provd)" : "signer is not running (restart it)");
		free(r->tbs);
		free(r);
		return -1;
	}
	r->op = op;
	r->buf = signer_wire_encode(op, SIGNER_STATUS_OK, flags, f, nf, &r->len,
	    err, errlen);
	if (r->buf == NULL) {
		free(r->tbs);
		free(r);
		return -1;
	}
	TAILQ_INSERT_TAIL(&s->queue, r, entry);
	return 0;
}

int
signer_call_async(struct signer *s, uint8_t op, const struct signer_field *f,
    size_t nf, size_t reply_max, signer_der_fn *cb, void *ctx, char *err,
    size_t errlen)
{
	struct signer_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "signer: out of memory");
		return -1;
	}
	r->kind = REQ_DER;
	r->reply_max = reply_max;
	r->timeout_ms = s != NULL ? timeout_of(s, false) : 0;
	r->der_cb = cb;
	r->ctx = ctx;
	return submit(s, r, op, 0, f, nf, err, errlen);
}

int
signer_sign_crl_async(struct signer *s, const unsigned char *crl,
    size_t len, signer_der_fn *cb, void *ctx, char *err, size_t errlen)
{
	struct signer_field f = { .data = crl, .len = len };

	if (crl == NULL || len == 0) {
		snprintf(err, errlen, "signer: no CRL to sign");
		return -1;
	}
	return signer_call_async(s, SIGNER_OP_SIGN_CRL, &f, 1, SIGNER_WIRE_MAX,
	    cb, ctx, err, errlen);
}

int
signer_genkey_async(struct signer *s, enum keyfile_type t, const char *path,
    const char *pass_path, signer_key_fn *cb, void *ctx, char *err,
    size_t errlen)
{
	struct signer_field f[3];
	struct signer_req *r;

	if (genkey_fields(t, path, pass_path, f, err, errlen) < 0)
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "signer: out of memory");
		return -1;
	}
	r->kind = REQ_KEY;
	r->keygen = 1;
	r->reply_max = REPLY_CERT_MAX;
	r->timeout_ms = s != NULL ? timeout_of(s, true) : 0;
	r->key_cb = cb;
	r->ctx = ctx;
	snprintf(r->key_path, sizeof(r->key_path), "%s", path);
	snprintf(r->pass_path, sizeof(r->pass_path), "%s",
	    pass_path != NULL ? pass_path : "");
	return submit(s, r, SIGNER_OP_GENKEY, 0, f, 3, err, errlen);
}

int
signer_sign_cert_async(struct signer *s, X509 *cert, unsigned flags,
    signer_der_fn *cb, void *ctx, char *err, size_t errlen)
{
	struct signer_field f;
	struct signer_req *r;
	unsigned char *der = NULL;
	EVP_PKEY *seal;
	int len;

	if (s == NULL || cert == NULL) {
		snprintf(err, errlen, "signer: no certificate to sign");
		return -1;
	}
	if ((seal = seal_key(s, err, errlen)) == NULL)
		return -1;
	if (X509_sign(cert, seal, EVP_sha256()) <= 0 ||
	    (len = i2d_X509(cert, &der)) <= 0) {
		ERR_clear_error();
		snprintf(err, errlen, "certificate: cannot encode");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->tbs = malloc((size_t)len)) == NULL) {
		free(r);
		OPENSSL_free(der);
		snprintf(err, errlen, "signer: out of memory");
		return -1;
	}
	memcpy(r->tbs, der, (size_t)len);
	r->tbslen = (size_t)len;
	OPENSSL_free(der);
	r->kind = REQ_CERT;
	r->reply_max = REPLY_CERT_MAX;
	r->timeout_ms = timeout_of(s, false);
	r->der_cb = cb;
	r->ctx = ctx;
	f.data = r->tbs;
	f.len = r->tbslen;
	return submit(s, r, SIGNER_OP_SIGN_CERT, (flags & SIGNER_SELF_SIGNED) ?
	    SIGNER_FLAG_SELF_SIGNED : 0, &f, 1, err, errlen);
}

int
signer_fd(const struct signer *s)
{
	if (s == NULL)
		return -1;
	return s->launching ? s->lfd : s->fd;
}

unsigned
signer_want(const struct signer *s)
{
	const struct signer_req *r;

	if (s != NULL && s->launching)
		return SIGNER_WANT_READ;
	if (s == NULL || s->fd < 0 || s->broken)
		return 0;
	r = TAILQ_FIRST(&s->queue);
	return SIGNER_WANT_READ | (r != NULL && r->off < r->len ?
	    SIGNER_WANT_WRITE : 0);
}

void
signer_io(struct signer *s)
{
	progress(s);
	deliver(s);
}

void
signer_expire(struct signer *s)
{
	struct signer_req *r = TAILQ_FIRST(&s->queue);

	if (s->launching && mono_ms() > s->launch_deadline) {
		/* A launcher that does not answer is given up: its answer, if it
		 * ever came, would be out of step with the next request. */
		fail_all(s, "signer launcher did not answer");
		launcher_lost(s);
	} else if (r != NULL && r->deadline != 0 && mono_ms() > r->deadline) {
		fail_all(s, "signer did not answer in time");
	}
	deliver(s);
}

size_t
signer_queued(const struct signer *s)
{
	const struct signer_req *r;
	size_t n = 0;

	TAILQ_FOREACH(r, &s->queue, entry)
		n++;
	TAILQ_FOREACH(r, &s->answered, entry)
		n++;
	return n;
}

int
signer_keygen_queued(const struct signer *s)
{
	const struct signer_req *r;

	TAILQ_FOREACH(r, &s->queue, entry)
		if (r->keygen)
			return 1;
	return 0;
}

int
signer_broken(const struct signer *s)
{
	return s == NULL || (!s->launching && (s->fd < 0 || s->broken));
}

void
signer_set_hooks(struct signer *s, void (*notify)(void *),
    void (*closing)(void *, int), void *ctx)
{
	s->notify = notify;
	s->closing = closing;
	s->notify_ctx = ctx;
}

/* A restart failed before its new signer answered: every waiting request
 * fails with the reason, and the handle is broken until the next one. */
static void
restart_failed(struct signer *s, const char *why)
{
	s->broken = 1;
	s->restart_rc = -1;
	snprintf(s->restart_err, sizeof(s->restart_err), "signer restart failed: "
	    "%s", why);
	fail_queue(s, s->restart_err);
}

/*
 * A restart's steps go at the head of the queue, ahead of the requests that
 * wait for the new signer: its HELLO (nothing to send), then the LOAD of the
 * active key.
 */
static void
queue_restart_steps(struct signer *s)
{
	struct signer_field f[2];
	struct signer_req *hello, *load = NULL;
	char err[256];

	s->broken = 0;
	if (s->have_key && (load = calloc(1, sizeof(*load))) != NULL) {
		load->kind = REQ_RELOAD;
		load->op = SIGNER_OP_LOAD;
		load->reply_max = REPLY_CERT_MAX;
		load->timeout_ms = timeout_of(s, false);
		snprintf(load->key_path, sizeof(load->key_path), "%s", s->key_path);
		snprintf(load->pass_path, sizeof(load->pass_path), "%s", s->pass_path);
		f[0] = text(load->key_path);
		f[1] = text(load->pass_path[0] != '\0' ? load->pass_path : NULL);
		load->buf = signer_wire_encode(SIGNER_OP_LOAD, SIGNER_STATUS_OK, 0,
		    f, 2, &load->len, err, sizeof(err));
		if (load->buf == NULL) {
			free(load);
			load = NULL;
		}
	}
	hello = calloc(1, sizeof(*hello));
	if (hello == NULL || (s->have_key && load == NULL)) {
		free(hello);
		if (load != NULL)
			req_free(load);
		restart_failed(s, "out of memory");
		return;
	}
	hello->kind = REQ_HELLO;
	hello->op = SIGNER_OP_HELLO;
	hello->reply_max = REPLY_MSG_MAX;
	hello->timeout_ms = timeout_of(s, false);
	hello->deadline = mono_ms() + hello->timeout_ms;
	if (load != NULL)
		TAILQ_INSERT_HEAD(&s->queue, load, entry);
	TAILQ_INSERT_HEAD(&s->queue, hello, entry);
}

/* The launcher's answer to a restart, if it has come: 0 (the new signer's
 * steps are queued), 1 (not yet), -1 (the restart failed). */
static int
launch_step(struct signer *s)
{
	char err[200];
	int fd, r;
	pid_t pid;

	r = launcher_answer(s, &fd, &pid, err, sizeof(err));
	if (r == 1)
		return 1;
	s->launching = 0;
	if (r < 0) {
		restart_failed(s, err);
		return -1;
	}
	s->fd = fd;
	s->pid = pid;
	queue_restart_steps(s);
	return 0;
}

/* The answer to a restart's HELLO or LOAD (m is taken over).  A failed
 * start-up fails every waiting request (-1); so does a key that will not
 * load, but the new signer stays (0). */
static int
restart_answer(struct signer *s, struct signer_req *r, struct signer_msg *m)
{
	char why[200];
	int ok = m->status == SIGNER_STATUS_OK;

	if (ok && r->kind == REQ_RELOAD &&
	    adopt_key(s, m, r->key_path, r->pass_path[0] != '\0' ? r->pass_path :
	    NULL, NULL, why, sizeof(why)) < 0)
		ok = 0;
	else if (!ok)
		copy_message(m, why, sizeof(why));
	if (!ok && r->kind == REQ_HELLO) {
		/* It could not set itself up (and exits): nothing to talk to. */
		signer_msg_free(m);
		fail_all(s, why);
		return -1;
	}
	finish(s, r, ok ? 0 : -1, m, NULL);
	if (ok)
		return 0;
	s->restart_rc = -1;
	snprintf(s->restart_err, sizeof(s->restart_err), "signer restart failed: "
	    "the CA key did not load: %s", why);
	fail_queue(s, s->restart_err);
	return 0;
}

int
signer_restart_async(struct signer *s, char *err, size_t errlen)
{
	struct signer_req *r = TAILQ_FIRST(&s->queue);

	if (s->launching || (r != NULL && r->kind == REQ_HELLO))
		return 0;               /* one is under way */
	/* What the old signer was given is lost with it; the rest waits. */
	if (r != NULL && r->off > 0) {
		finish(s, r, -1, NULL, "the signer was restarted");
		if (s->notify != NULL)
			s->notify(s->notify_ctx);
	}
	if (s->pid > 0 && s->lfd < 0)
		(void)kill(s->pid, SIGKILL);   /* stuck or not, it goes now */
	kill_child(s);
	s->restart_rc = 0;
	s->restart_err[0] = '\0';
	if (s->cfg.drop_privileges) {
		if (launcher_ask(s, SIGNER_LAUNCH_SIGNER, err, errlen) < 0)
			goto failed;
		s->launching = 1;
		s->launch_deadline = mono_ms() + timeout_of(s, false);
		return 0;
	}
	if (fork_with_socket(s, signer_child_main, &s->fd, &s->pid, err,
	    errlen) < 0)
		goto failed;
	queue_restart_steps(s);
	return s->restart_rc;
failed:
	restart_failed(s, err);
	return -1;
}

void
signer_forget_key(struct signer *s)
{
	if (s == NULL)
		return;
	s->have_key = 0;
	s->key_path[0] = '\0';
	s->pass_path[0] = '\0';
	EVP_PKEY_free(s->pub);
	s->pub = NULL;
}

int
signer_restart(struct signer *s, char *err, size_t errlen)
{
	fail_queue(s, "the signer was restarted");
	if (signer_restart_async(s, err, errlen) < 0)
		return -1;
	(void)drain(s, timeout_of(s, false) * 3, err, errlen);
	if (s->restart_rc < 0) {
		snprintf(err, errlen, "%s", s->restart_err);
		return -1;
	}
	if (signer_broken(s)) {
		snprintf(err, errlen, "signer restart failed: the new signer did "
		    "not start");
		return -1;
	}
	return 0;
}

int
signer_restarting(const struct signer *s)
{
	const struct signer_req *r;

	if (s == NULL)
		return 0;
	if (s->launching)
		return 1;
	TAILQ_FOREACH(r, &s->queue, entry)
		if (r->kind == REQ_HELLO || r->kind == REQ_RELOAD)
			return 1;
	return 0;
}

const char *
signer_restart_error(const struct signer *s)
{
	return s != NULL && s->restart_rc < 0 ? s->restart_err : NULL;
}

pid_t
signer_launcher_pid(const struct signer *s)
{
	return s != NULL ? s->lpid : -1;
}

int
signer_launcher_gone(struct signer *s)
{
	int st;
	pid_t r;

	if (s == NULL || !s->cfg.drop_privileges)
		return 0;
	if (s->launcher_lost)
		return 1;
	if (s->lforeign && s->lfd >= 0 && !s->launching) {
		/* Not our child: its socket says when it ends. */
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		unsigned char b;

		if (poll(&p, 1, 0) == 1 && ((p.revents & (POLLHUP | POLLERR)) ||
		    recv(s->lfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)) {
			launcher_lost(s);
			return 1;
		}
		return 0;
	}
	if (s->lpid > 0 && !s->launching) {
		r = waitpid(s->lpid, &st, WNOHANG);
		if (r == s->lpid || (r < 0 && errno == ECHILD)) {
			s->lpid = -1;
			launcher_lost(s);
			return 1;
		}
	}
	return 0;
}

pid_t
signer_pid(const struct signer *s)
{
	return s != NULL ? s->pid : -1;
}

void
signer_stop(struct signer *s)
{
	struct signer_req *r;

	if (s == NULL)
		return;
	kill_child(s);
	stop_launcher(s);
	TAILQ_CONCAT(&s->answered, &s->queue, entry);
	while ((r = TAILQ_FIRST(&s->answered)) != NULL) {
		TAILQ_REMOVE(&s->answered, r, entry);
		req_free(r);
	}
	EVP_PKEY_free(s->pub);
	EVP_PKEY_free(s->seal);
	free(s);
}

/* ---- spare signers (signer.h) ----------------------------------------- */

struct signer_spawner {
	struct signer *s;        /* its lfd/lpid only: no signer of its own */
	int            asked;    /* a request waits for its answer */
	int64_t        deadline;
};

int
signer_spawner_start(const struct signer_config *cfg,
    struct signer_spawner **out, char *err, size_t errlen)
{
	struct signer_spawner *sp;

	*out = NULL;
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->s = handle_new(cfg, err, errlen)) == NULL) {
		free(sp);
		snprintf(err, errlen, "signer: out of memory");
		return -1;
	}
	if (fork_with_socket(sp->s, signer_spawner_main, &sp->s->lfd,
	    &sp->s->lpid, err, errlen) < 0 ||
	    await_hello(sp->s, sp->s->lfd, "signer spawner", err, errlen) < 0) {
		signer_spawner_stop(sp);
		return -1;
	}
	*out = sp;
	return 0;
}

int
signer_spawner_ask(struct signer_spawner *sp, char *err, size_t errlen)
{
	if (sp != NULL && sp->asked)
		return 0;
	if (sp == NULL || sp->s->launcher_lost ||
	    launcher_ask(sp->s, SIGNER_LAUNCH_LAUNCHER, err, errlen) < 0) {
		snprintf(err, errlen, "the signer spawner is gone: no spare signer "
		    "can be started until provd is restarted");
		return -1;
	}
	sp->asked = 1;
	sp->deadline = mono_ms() + timeout_of(sp->s, false);
	return 0;
}

int
signer_spawner_fd(const struct signer_spawner *sp)
{
	return sp != NULL && sp->asked ? sp->s->lfd : -1;
}

int
signer_spawner_take(struct signer_spawner *sp, struct signer **out,
    char *err, size_t errlen)
{
	struct signer *n;
	int fd, r;
	pid_t pid;

	*out = NULL;
	if (!sp->asked) {
		snprintf(err, errlen, "no spare signer was asked for");
		return -1;
	}
	r = launcher_answer(sp->s, &fd, &pid, err, errlen);
	if (r == 1 && mono_ms() <= sp->deadline)
		return 1;
	sp->asked = 0;
	if (r == 1) {
		/* Its answer, if it ever came, would be out of step. */
		snprintf(err, errlen, "the signer spawner did not answer");
		launcher_lost(sp->s);
		return -1;
	}
	if (r < 0)
		return -1;
	if ((n = handle_new(&sp->s->cfg, err, errlen)) == NULL) {
		close(fd);
		return -1;
	}
	n->lfd = fd;
	n->lpid = pid;
	n->lforeign = 1;
	if (signer_restart_async(n, err, errlen) < 0) {
		signer_stop(n);
		return -1;
	}
	*out = n;
	return 0;
}

int
signer_spawner_gone(const struct signer_spawner *sp)
{
	return sp == NULL || sp->s->launcher_lost;
}

pid_t
signer_spawner_pid(const struct signer_spawner *sp)
{
	return sp != NULL ? sp->s->lpid : -1;
}

void
signer_spawner_stop(struct signer_spawner *sp)
{
	if (sp == NULL)
		return;
	signer_stop(sp->s);
	free(sp);
}
