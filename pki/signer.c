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

static int exchange(struct signer *s, uint8_t op, uint8_t flags,
    const struct signer_field *f, size_t nf, int timeout_ms,
    size_t reply_max, struct signer_msg *reply, char *err, size_t errlen);

struct signer {
	struct signer_config cfg;
	int       fd;
	pid_t     pid;
	int       broken;        /* stream out of step: restart needed */
	int       have_key;      /* key_path/pass_path name the active key */
	char      key_path[KEYFILE_PATH_MAX];
	char      pass_path[KEYFILE_PATH_MAX];
	EVP_PKEY *pub;           /* active key's public half, or NULL */
	EVP_PKEY *seal;          /* throwaway key sealing to-be-signed data */
};

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

static void
kill_child(struct signer *s)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited, st;

	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->pid <= 0)
		return;
	for (waited = 0; waited < STOP_WAIT_MS; waited += 10) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);

		if (r == s->pid || (r < 0 && errno == ECHILD)) {
			s->pid = -1;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
		;
	s->pid = -1;
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

static int
fork_child(struct signer *s, char *err, size_t errlen)
{
	struct signer_msg hello;
	char why[96];
	int sv[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "signer: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "signer: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		signer_child_main(sv[1], &s->cfg);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	s->broken = 0;
	r = signer_wire_recv(s->fd, &hello, REPLY_MSG_MAX,
	    timeout_of(s, false), err, errlen);
	if (r != 0) {
		if (r == 1) {
			child_status(s, why, sizeof(why));
			snprintf(err, errlen, "signer: process ended during "
			    "start-up%s", why);
		}
		kill_child(s);
		return -1;
	}
	if (hello.op != SIGNER_OP_HELLO ||
	    hello.status != SIGNER_STATUS_OK) {
		copy_message(&hello, err, errlen);
		signer_msg_free(&hello);
		kill_child(s);
		return -1;
	}
	signer_msg_free(&hello);
	return 0;
}

int
signer_start(const struct signer_config *cfg, struct signer **out,
    char *err, size_t errlen)
{
	struct signer *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "signer: out of memory");
		return -1;
	}
	if (cfg != NULL)
		s->cfg = *cfg;
	s->fd = -1;
	s->pid = -1;
	if (fork_child(s, err, errlen) < 0) {
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
	if (s == NULL || s->fd < 0 || s->broken) {
		snprintf(err, errlen, "signer is not running (restart it)");
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

/* Common tail of GENKEY / LOAD / IMPORT: remember the new active key. */
static int
key_request(struct signer *s, uint8_t op, const struct signer_field *f,
    size_t nf, int timeout_ms, const char *key_path, const char *pass_path,
    EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_msg m;
	EVP_PKEY *pk = NULL, *copy;
	int rc = -1;

	if (pub != NULL)
		*pub = NULL;
	if (exchange(s, op, 0, f, nf, timeout_ms, REPLY_CERT_MAX, &m, err,
	    errlen) < 0)
		return -1;
	if (pubkey_from(&m, &pk, err, errlen) < 0)
		goto out;
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
			goto out;
		}
		*pub = copy;
	}
	rc = 0;
out:
	signer_msg_free(&m);
	return rc;
}

int
signer_genkey(struct signer *s, enum keyfile_type t, const char *path,
    const char *pass_path, EVP_PKEY **pub, char *err, size_t errlen)
{
	struct signer_field f[3];
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
	    (flags & SIGNER_SELF_SIGNED) ? SIGNER_FLAG_SELF_SIGNED : 0, &f, 1,
	    timeout_of(s, false), REPLY_CERT_MAX, &m, err, errlen) < 0)
		goto out;
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

int
signer_restart(struct signer *s, char *err, size_t errlen)
{
	char path[KEYFILE_PATH_MAX], pass[KEYFILE_PATH_MAX];
	int had = s->have_key;

	kill_child(s);
	if (fork_child(s, err, errlen) < 0)
		return -1;
	if (!had)
		return 0;
	snprintf(path, sizeof(path), "%s", s->key_path);
	snprintf(pass, sizeof(pass), "%s", s->pass_path);
	return signer_load(s, path, pass[0] != '\0' ? pass : NULL, NULL, err,
	    errlen);
}

pid_t
signer_pid(const struct signer *s)
{
	return s != NULL ? s->pid : -1;
}

void
signer_stop(struct signer *s)
{
	if (s == NULL)
		return;
	kill_child(s);
	EVP_PKEY_free(s->pub);
	EVP_PKEY_free(s->seal);
	free(s);
}
