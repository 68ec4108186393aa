/*
 * signer_child.c — the signer process: holds the CA private key and signs
 * what the engine hands it (see signer_child.h and signer.h).
 */
#include "signer_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cakey.h"
#include "crlsign.h"
#include "keyfile.h"
#include "p11.h"
#include "p11uri.h"
#include "sigalg.h"
#include "signer_child_ocsp.h"
#include "signer_wire.h"

#define CHILD_FD          3
#define CERT_DER_MAX      (64 * 1024)
#define ERRMSG_MAX        512

struct child {
	int          fd;
	struct cakey key;    /* active CA key (key.pkey NULL: none) */
	const struct signer_config *cfg;
};

static void child_exit(struct child *c, int status)
    __attribute__((noreturn));

static void
child_exit(struct child *c, int status)
{
	cakey_clear(&c->key);      /* wipes the private key */
	p11_module_close();
	signer_child_ocsp_wipe();
	_exit(status);
}

static void
reply(struct child *c, uint8_t op, uint8_t status, const void *data,
    size_t len)
{
	struct signer_field f = { .data = data, .len = len };
	char err[ERRMSG_MAX];

	if (signer_wire_send(c->fd, op, status, 0, &f, 1, -1, err,
	    sizeof(err)) < 0)
		child_exit(c, 1);
}

static void reply_error(struct child *c, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(struct child *c, uint8_t op, const char *fmt, ...)
{
	char msg[ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	reply(c, op, SIGNER_STATUS_ERROR, msg, strlen(msg));
}

static void
reply_pubkey(struct child *c, uint8_t op)
{
	unsigned char *der = NULL;
	int len;

	len = i2d_PUBKEY(c->key.pkey, &der);
	if (len <= 0) {
		reply_error(c, op, "cannot encode the public key");
		return;
	}
	reply(c, op, SIGNER_STATUS_OK, der, (size_t)len);
	OPENSSL_free(der);
}

/* The end of GENKEY, LOAD and IMPORT: when ok, k becomes the signing key
 * and the reply is its public half; otherwise k is cleared and err is the
 * reply. */
static void
key_done(struct child *c, uint8_t op, struct cakey *k, bool ok,
    const char *err)
{
	if (!ok) {
		cakey_clear(k);
		reply_error(c, op, "%s", err);
		return;
	}
	cakey_clear(&c->key);
	c->key = *k;
	reply_pubkey(c, op);
}

/* Text field i of a request as a path ("" = absent when optional). */
static int
field_path(struct child *c, const struct signer_msg *m, size_t i,
    bool optional, char *out, size_t outsize, const char *what)
{
	if (signer_msg_string(m, i, out, outsize) < 0) {
		reply_error(c, m->op, "%s: missing or malformed", what);
		return -1;
	}
	if (out[0] == '\0' && optional)
		return 0;
	if (out[0] != '/') {
		reply_error(c, m->op, "%s: must be an absolute path", what);
		return -1;
	}
	return 0;
}

/* Text field i naming a key: an absolute path, or a PKCS #11 URI when a
 * module is configured. */
static int
key_ref(struct child *c, const struct signer_msg *m, size_t i, char *out,
    size_t outsize)
{
	if (signer_msg_string(m, i, out, outsize) < 0) {
		reply_error(c, m->op, "key: missing or malformed");
		return -1;
	}
	if (p11uri_is(out))
		return 0;
	return field_path(c, m, i, false, out, outsize, "key path");
}

/* Load the configured PKCS #11 module (first use only). */
static int
token_ready(struct child *c, char *err, size_t errlen)
{
	if (c->cfg->pkcs11_module == NULL) {
		snprintf(err, errlen, "PKCS#11: pki.pkcs11_module is not "
		    "configured");
		return -1;
	}
	return p11_module_open(c->cfg->pkcs11_module, err, errlen);
}

static void
do_genkey(struct child *c, const struct signer_msg *m)
{
	char type[32], path[KEYFILE_PATH_MAX], pass[KEYFILE_PATH_MAX];
	char err[ERRMSG_MAX];
	enum keyfile_type t;
	struct cakey k = { NULL, NULL };
	bool ok;

	if (m->nfields != 3) {
		reply_error(c, m->op, "GENKEY: wrong number of fields");
		return;
	}
	if (signer_msg_string(m, 0, type, sizeof(type)) < 0 ||
	    keyfile_type_parse(type, &t, err, sizeof(err)) < 0) {
		reply_error(c, m->op, "key type: use ec-p256, ec-p384, "
		    "rsa-3072 or rsa-4096");
		return;
	}
	if (key_ref(c, m, 1, path, sizeof(path)) < 0 ||
	    field_path(c, m, 2, true, pass, sizeof(pass), "passphrase path") < 0)
		return;
	if (p11uri_is(path))
		ok = token_ready(c, err, sizeof(err)) >= 0 &&
		    p11_key_generate(path, c->cfg->pkcs11_pin_file, t, &k.p11,
		    &k.pkey, err, sizeof(err)) >= 0;
	else
		ok = keyfile_generate(t, &k.pkey, err, sizeof(err)) >= 0 &&
		    keyfile_write(path, k.pkey, pass[0] != '\0' ? pass : NULL,
		    err, sizeof(err)) >= 0;
	key_done(c, m->op, &k, ok, err);
}

static void
do_load(struct child *c, const struct signer_msg *m)
{
	char path[KEYFILE_PATH_MAX], pass[KEYFILE_PATH_MAX], err[ERRMSG_MAX];
	struct cakey k = { NULL, NULL };
	bool ok;

	if (m->nfields != 2) {
		reply_error(c, m->op, "LOAD: wrong number of fields");
		return;
	}
	if (key_ref(c, m, 0, path, sizeof(path)) < 0 ||
	    field_path(c, m, 1, true, pass, sizeof(pass), "passphrase path") < 0)
		return;
	if (p11uri_is(path))
		ok = token_ready(c, err, sizeof(err)) >= 0 &&
		    p11_key_load(path, c->cfg->pkcs11_pin_file, &k.p11, &k.pkey,
		    err, sizeof(err)) >= 0;
	else
		ok = keyfile_load(path, pass[0] != '\0' ? pass : NULL,
		    &k.pkey, err, sizeof(err)) >= 0 &&
		    keyfile_check_ca_key(k.pkey, err, sizeof(err)) >= 0;
	key_done(c, m->op, &k, ok, err);
}

static void
do_import(struct child *c, const struct signer_msg *m)
{
	char src[KEYFILE_PATH_MAX], dst[KEYFILE_PATH_MAX];
	char pass[KEYFILE_PATH_MAX], err[ERRMSG_MAX];
	const char *pp;
	struct cakey k = { NULL, NULL };
	bool ok;

	if (m->nfields != 3) {
		reply_error(c, m->op, "IMPORT: wrong number of fields");
		return;
	}
	if (field_path(c, m, 0, false, src, sizeof(src), "source key path") < 0 ||
	    field_path(c, m, 1, false, dst, sizeof(dst), "destination path") < 0 ||
	    field_path(c, m, 2, true, pass, sizeof(pass), "passphrase path") < 0)
		return;
	pp = pass[0] != '\0' ? pass : NULL;
	ok = keyfile_load(src, pp, &k.pkey, err, sizeof(err)) >= 0 &&
	    keyfile_check_ca_key(k.pkey, err, sizeof(err)) >= 0 &&
	    keyfile_write(dst, k.pkey, pp, err, sizeof(err)) >= 0;
	key_done(c, m->op, &k, ok, err);
}

static void
do_sign_cert(struct child *c, const struct signer_msg *m)
{
	const unsigned char *p;
	unsigned char *der = NULL;
	char err[ERRMSG_MAX];
	size_t len = 0;
	X509 *x = NULL;
	EVP_PKEY *pub;
	int same;

	if (c->key.pkey == NULL) {
		reply_error(c, m->op, "no key loaded");
		return;
	}
	if (m->nfields != 1 || m->field[0].len == 0 ||
	    m->field[0].len > CERT_DER_MAX) {
		reply_error(c, m->op, "certificate: missing or larger than %d "
		    "bytes", CERT_DER_MAX);
		return;
	}
	p = m->field[0].data;
	x = d2i_X509(NULL, &p, (long)m->field[0].len);
	if (x == NULL || p != m->field[0].data + m->field[0].len) {
		reply_error(c, m->op, "certificate: not a single DER "
		    "certificate");
		goto out;
	}
	pub = X509_get0_pubkey(x);
	if (pub == NULL) {
		reply_error(c, m->op, "certificate: public key unreadable");
		goto out;
	}
	same = EVP_PKEY_eq(pub, c->key.pkey) == 1;
	if (m->flags & SIGNER_FLAG_SELF_SIGNED) {
		if (!same) {
			reply_error(c, m->op, "self-signed request for a key "
			    "other than the CA key");
			goto out;
		}
		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_get_issuer_name(x)) != 0 || X509_check_ca(x) != 1) {
			reply_error(c, m->op, "self-signed request is not a "
			    "self-issued CA certificate");
			goto out;
		}
	} else {
		if (same) {
			reply_error(c, m->op, "certificate carries the CA's own "
			    "public key but is not flagged self-signed");
			goto out;
		}
		if (X509_check_ca(x) != 0) {
			reply_error(c, m->op, "the signer issues end-entity "
			    "certificates only (CA:TRUE refused)");
			goto out;
		}
	}
	if (cakey_sign_cert(&c->key, m->field[0].data, m->field[0].len, &der,
	    &len, err, sizeof(err)) < 0) {
		reply_error(c, m->op, "signing the certificate failed: %s", err);
		goto out;
	}
	reply(c, m->op, SIGNER_STATUS_OK, der, len);
out:
	ERR_clear_error();
	free(der);
	X509_free(x);
}

static void
do_sign_crl(struct child *c, const struct signer_msg *m)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char err[ERRMSG_MAX];

	if (c->key.pkey == NULL) {
		reply_error(c, m->op, "no key loaded");
		return;
	}
	if (m->nfields != 1 || m->field[0].len == 0) {
		reply_error(c, m->op, "CRL: missing");
		return;
	}
	if (crlsign_sign_key(&c->key, m->field[0].data, m->field[0].len, &der, &len,
	    err, sizeof(err)) < 0) {
		reply_error(c, m->op, "%s", err);
		return;
	}
	reply(c, m->op, SIGNER_STATUS_OK, der, len);
	free(der);
}

static void serve(struct child *c) __attribute__((noreturn));

static void
serve(struct child *c)
{
	struct signer_msg m;
	char err[ERRMSG_MAX];
	int r;

	for (;;) {
		r = signer_wire_recv(c->fd, &m, SIGNER_WIRE_MAX, -1, err,
		    sizeof(err));
		if (r == 1)
			child_exit(c, 0);
		if (r < 0)
			child_exit(c, 1);   /* the stream cannot be trusted */
		switch (m.op) {
		case SIGNER_OP_GENKEY:
			do_genkey(c, &m);
			break;
		case SIGNER_OP_LOAD:
			do_load(c, &m);
			break;
		case SIGNER_OP_IMPORT:
			do_import(c, &m);
			break;
		case SIGNER_OP_SIGN_CERT:
			do_sign_cert(c, &m);
			break;
		case SIGNER_OP_SIGN_CRL:
			do_sign_crl(c, &m);
			break;
		case SIGNER_OP_OCSP_KEY:
		case SIGNER_OP_SIGN_OCSP:
			if (signer_child_ocsp(c->fd, &m, c->key.pkey) < 0)
				child_exit(c, 1);
			break;
		case SIGNER_OP_PUBKEY:
			if (c->key.pkey == NULL)
				reply_error(c, m.op, "no key loaded");
			else
				reply_pubkey(c, m.op);
			break;
		default:
			reply_error(c, m.op, "unknown request %u", m.op);
			break;
		}
		signer_msg_free(&m);
	}
}

static void
close_other_fds(void)
{
	struct rlimit rl;
	unsigned int fd, max = 65536;

	if (close_range(CHILD_FD + 1, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < max)
		max = (unsigned int)rl.rlim_cur;
	for (fd = CHILD_FD + 1; fd < max; fd++)
		close((int)fd);
}

static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		(void)sigaction(sig, &sa, NULL);
	}
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
}

static int
drop_privileges(const struct signer_config *cfg, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t g = cfg->gid;

	if (setgroups(1, &g) < 0) {
		snprintf(err, errlen, "signer: setgroups(%u): %s",
		    (unsigned)g, strerror(errno));
		return -1;
	}
	if (setresgid(g, g, g) < 0) {
		snprintf(err, errlen, "signer: setresgid(%u): %s",
		    (unsigned)g, strerror(errno));
		return -1;
	}
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0) {
		snprintf(err, errlen, "signer: setresuid(%u): %s",
		    (unsigned)cfg->uid, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != cfg->uid || eu != cfg->uid || su != cfg->uid ||
	    rg != g || eg != g || sg != g) {
		snprintf(err, errlen, "signer: privileges were not dropped to "
		    "%u:%u", (unsigned)cfg->uid, (unsigned)g);
		return -1;
	}
	if (cfg->uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "signer: could regain root after "
		    "dropping privileges");
		return -1;
	}
	return 0;
}

void
signer_child_main(int fd, const struct signer_config *cfg)
{
	struct child c = { .fd = CHILD_FD, .key = { NULL, NULL }, .cfg = cfg };
	struct rlimit nocore = { 0, 0 };
	char err[ERRMSG_MAX] = "";
	int null;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	reset_signals();
	if (fd != CHILD_FD) {
		if (dup2(fd, CHILD_FD) < 0)
			_exit(1);
		close(fd);
	}
	close_other_fds();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		if (null > 2)
			close(null);
	}
	(void)setrlimit(RLIMIT_CORE, &nocore);
	if (chdir("/") < 0)
		snprintf(err, sizeof(err), "signer: chdir /: %s",
		    strerror(errno));
	if (err[0] == '\0' && cfg->drop_privileges)
		(void)drop_privileges(cfg, err, sizeof(err));
	/* A change of credentials resets the dumpable flag: set it again. */
	if (err[0] == '\0' && (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0))
		snprintf(err, sizeof(err), "signer: prctl: %s",
		    strerror(errno));
	if (err[0] != '\0') {
		reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_ERROR, err,
		    strlen(err));
		child_exit(&c, 1);
	}
	reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_OK, "", 0);
	serve(&c);
}
