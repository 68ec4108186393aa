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
#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cakey.h"
#include "crlsign.h"
#include "fileio.h"
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
	unsigned     links_left;   /* SIGNER_FLAG_LINK requests still allowed */
	char         key_path[KEYFILE_PATH_MAX];     /* the active file key's, or "" */
	char         key_uri[P11URI_MAX + 1];        /* the active token key's, or "" */
	char         retired_from[KEYFILE_PATH_MAX]; /* before the last RETIRE */
	char         retired_to[KEYFILE_PATH_MAX];   /* where it moved the file */
	char         imported[KEYFILE_PATH_MAX];     /* the file the last IMPORT wrote, or "" */
	dev_t        imported_dev;                   /* ... and which file it is */
	ino_t        imported_ino;
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
    const char *err, const char *path)
{
	if (!ok) {
		cakey_clear(k);
		reply_error(c, op, "%s", err);
		return;
	}
	if (op != SIGNER_OP_IMPORT)
		c->imported[0] = '\0';    /* another key is the active one */
	cakey_clear(&c->key);
	c->key = *k;
	snprintf(c->key_path, sizeof(c->key_path), "%s", p11uri_is(path) ? "" : path);
	snprintf(c->key_uri, sizeof(c->key_uri), "%s", p11uri_is(path) ? path : "");
	c->retired_from[0] = '\0';
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
	key_done(c, m->op, &k, ok, err, path);
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
	key_done(c, m->op, &k, ok, err, path);
}

/*
 * IMPORT with SIGNER_FLAG_UNDO (no fields): the engine refused the key the
 * last IMPORT wrote (it does not match the certificate, or names another
 * CA).  Remove that file — only if it is still the very file written (same
 * device and inode; anything put there since is left alone) — and drop the
 * key.  With daemon.signer_user only this process may write the key's
 * directory, so the engine cannot remove it, and the copy (made with
 * O_EXCL) would refuse every later import.
 */
static void
undo_import(struct child *c, const struct signer_msg *m)
{
	struct stat st;

	if (m->nfields != 0 || c->imported[0] == '\0') {
		reply_error(c, m->op, "IMPORT: nothing to undo");
		return;
	}
	if (lstat(c->imported, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != c->imported_dev || st.st_ino != c->imported_ino) {
		reply_error(c, m->op, "IMPORT: %s is no longer the file imported; "
		    "left alone", c->imported);
		return;
	}
	if (unlink(c->imported) < 0) {
		reply_error(c, m->op, "IMPORT: %s: %s", c->imported, strerror(errno));
		return;
	}
	{
		char dir[KEYFILE_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", c->imported);
		*strrchr(dir, '/') = '\0';
		(void)fileio_fsync_dir(dir[0] != '\0' ? dir : "/");
	}
	c->imported[0] = '\0';
	cakey_clear(&c->key);
	c->key_path[0] = '\0';
	c->key_uri[0] = '\0';
	reply(c, m->op, SIGNER_STATUS_OK, NULL, 0);
}

static void
do_import(struct child *c, const struct signer_msg *m)
{
	char src[KEYFILE_PATH_MAX], dst[KEYFILE_PATH_MAX];
	char pass[KEYFILE_PATH_MAX], err[ERRMSG_MAX];
	const char *pp;
	struct cakey k = { NULL, NULL };
	struct stat st;
	bool ok;

	if (m->flags & SIGNER_FLAG_UNDO) {
		undo_import(c, m);
		return;
	}
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
	c->imported[0] = '\0';
	if (ok && lstat(dst, &st) == 0) {
		snprintf(c->imported, sizeof(c->imported), "%s", dst);
		c->imported_dev = st.st_dev;
		c->imported_ino = st.st_ino;
	}
	key_done(c, m->op, &k, ok, err, dst);
}

/*
 * A token key's URI file (<key file>.uri), named by field i: an absolute
 * path ending in ".uri", in the key directory when one is configured.
 */
static int
uri_file_path(struct child *c, const struct signer_msg *m, size_t i, char *out,
    size_t outsize)
{
	const char *slash;
	size_t n;

	if (field_path(c, m, i, false, out, outsize, "URI file") < 0)
		return -1;
	n = strlen(out);
	slash = strrchr(out, '/');
	if (n < 5 || strcmp(out + n - 4, ".uri") != 0 || slash[1] == '.' ||
	    (c->cfg->key_dir != NULL &&
	    ((size_t)(slash - out) != strlen(c->cfg->key_dir) ||
	    strncmp(out, c->cfg->key_dir, (size_t)(slash - out)) != 0))) {
		reply_error(c, m->op, "URI file: not a .uri file in the key directory");
		return -1;
	}
	return 0;
}

/* Does the file at path hold exactly one line, the active key's URI? */
static bool
uri_file_is_ours(struct child *c, const char *path)
{
	char buf[P11URI_MAX + 3];
	ssize_t n;
	size_t len = strlen(c->key_uri);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && (size_t)n == len + 1 && memcmp(buf, c->key_uri, len) == 0 &&
	    buf[len] == '\n';
}

/*
 * KEY_URI: record the active token key by its URI in a new file (mode
 * 0600, never over an existing one, written whole or not at all): the
 * key's directory is this process's user's alone with daemon.signer_user.
 * The URI sent must be one RFC 7512 URI (p11uri_parse), and the very one
 * the active key was generated or loaded by.
 */
static void
do_key_uri(struct child *c, const struct signer_msg *m)
{
	char path[KEYFILE_PATH_MAX], uri[P11URI_MAX + 2], err[ERRMSG_MAX];
	struct p11uri u;
	size_t n;

	if (m->nfields != 2) {
		reply_error(c, m->op, "KEY_URI: wrong number of fields");
		return;
	}
	if (uri_file_path(c, m, 0, path, sizeof(path)) < 0)
		return;
	if (signer_msg_string(m, 1, uri, sizeof(uri) - 1) < 0 ||
	    p11uri_parse(uri, &u, err, sizeof(err)) < 0) {
		reply_error(c, m->op, "KEY_URI: not a PKCS#11 URI");
		return;
	}
	if (c->key_uri[0] == '\0' || strcmp(uri, c->key_uri) != 0) {
		reply_error(c, m->op, "KEY_URI: not the active token key's URI");
		return;
	}
	n = strlen(uri);
	uri[n] = '\n';
	if (fileio_create_new(path, 0600, uri, n + 1) < 0) {
		reply_error(c, m->op, "%s: %s", path, errno == EEXIST ?
		    "exists already; refusing to overwrite it" : strerror(errno));
		return;
	}
	reply(c, m->op, SIGNER_STATUS_OK, NULL, 0);
}

/*
 * RETIRE (ca rollover, with daemon.signer_user: the key's directory is
 * this process's user's alone): make DIR/gen-N (0700) beside the active
 * key file, write the CA certificate there as ca.pem (0644) and move the
 * key file to gen-N/ca.key; this process keeps the key and signs with it.
 * A token key's URI file instead (a third field naming it; it must hold
 * the active key's URI) moves to gen-N/ca.key.uri.
 * With SIGNER_FLAG_UNDO, the last RETIRE is undone (the file moves back,
 * over whatever is there; ca.pem and gen-N go).  Only a name "gen-N" is
 * accepted, so nothing but that one directory is ever made.
 */
static void
do_retire(struct child *c, const struct signer_msg *m)
{
	char name[16], dir[KEYFILE_PATH_MAX], pem[KEYFILE_PATH_MAX + 8];
	char src[KEYFILE_PATH_MAX], key[KEYFILE_PATH_MAX + 16];
	const char *slash;
	bool token = c->key_path[0] == '\0' && c->key_uri[0] != '\0';
	size_t i;
	int fd;

	if (m->nfields != (token ? 3u : 2u) ||
	    signer_msg_string(m, 0, name, sizeof(name)) < 0 ||
	    strncmp(name, "gen-", 4) != 0 || name[4] == '\0' || name[4] == '0' ||
	    strspn(name + 4, "0123456789") != strlen(name + 4) || strlen(name + 4) > 3 ||
	    m->field[1].len == 0 || m->field[1].len > SIGNER_RETIRE_CERT_MAX) {
		reply_error(c, m->op, "RETIRE: want gen-N and a certificate%s",
		    token ? " and the key's URI file" : "");
		return;
	}
	if (token) {
		if (uri_file_path(c, m, 2, src, sizeof(src)) < 0)
			return;
	} else if (c->key_path[0] != '\0') {
		snprintf(src, sizeof(src), "%s", c->key_path);
	} else {
		reply_error(c, m->op, "RETIRE: no key is loaded");
		return;
	}
	slash = strrchr(src, '/');
	if (m->flags & SIGNER_FLAG_UNDO) {
		if (c->retired_from[0] == '\0') {
			reply_error(c, m->op, "RETIRE: nothing to undo");
			return;
		}
		snprintf(dir, sizeof(dir), "%s", c->retired_to);
		*strrchr(dir, '/') = '\0';
		if (strcmp(strrchr(dir, '/') + 1, name) != 0 ||
		    rename(c->retired_to, c->retired_from) < 0) {
			reply_error(c, m->op, "RETIRE: cannot put the key back: %s",
			    strerror(errno));
			return;
		}
		snprintf(pem, sizeof(pem), "%s/ca.pem", dir);
		(void)unlink(pem);
		(void)rmdir(dir);
		if (!token)
			snprintf(c->key_path, sizeof(c->key_path), "%s", c->retired_from);
		c->retired_from[0] = '\0';
		c->retired_to[0] = '\0';
		reply(c, m->op, SIGNER_STATUS_OK, NULL, 0);
		return;
	}
	if (token && !uri_file_is_ours(c, src)) {
		reply_error(c, m->op, "RETIRE: %s does not record the active key", src);
		return;
	}
	if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)(slash - src), src,
	    name) >= (int)sizeof(dir)) {
		reply_error(c, m->op, "RETIRE: path too long");
		return;
	}
	if (strlen(dir) + 12 > sizeof(c->key_path)) {
		reply_error(c, m->op, "RETIRE: path too long");
		return;
	}
	snprintf(pem, sizeof(pem), "%s/ca.pem", dir);
	snprintf(key, sizeof(key), "%s/%s", dir, token ? "ca.key.uri" : "ca.key");
	if (mkdir(dir, 0700) < 0) {
		reply_error(c, m->op, "RETIRE: %s: %s", dir, strerror(errno));
		return;
	}
	fd = open(pem, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	for (i = 0; fd >= 0 && i < m->field[1].len;) {
		ssize_t n = write(fd, m->field[1].data + i, m->field[1].len - i);

		if (n <= 0)
			break;
		i += (size_t)n;
	}
	if (fd < 0 || i != m->field[1].len || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(src, key) < 0) {
		reply_error(c, m->op, "RETIRE: %s: %s", dir, strerror(errno));
		(void)unlink(pem);
		(void)rmdir(dir);
		return;
	}
	(void)fileio_fsync_dir(dir);
	*strrchr(dir, '/') = '\0';
	(void)fileio_fsync_dir(dir);
	snprintf(c->retired_from, sizeof(c->retired_from), "%s", src);
	memcpy(c->retired_to, key, strlen(key) + 1);     /* fits: checked above */
	if (!token)
		memcpy(c->key_path, key, strlen(key) + 1);
	reply(c, m->op, SIGNER_STATUS_OK, NULL, 0);
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
	} else if (m->flags & SIGNER_FLAG_LINK) {
		if (c->links_left == 0) {
			reply_error(c, m->op, "this signer signs no link "
			    "certificate (or has signed its one)");
			goto out;
		}
		if (same || X509_check_ca(x) != 1 ||
		    X509_NAME_cmp(X509_get_subject_name(x),
		    X509_get_issuer_name(x)) == 0) {
			reply_error(c, m->op, "a link certificate is a CA "
			    "certificate for another key and another name");
			goto out;
		}
		c->links_left--;
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
		case SIGNER_OP_RETIRE:
			do_retire(c, &m);
			break;
		case SIGNER_OP_KEY_URI:
			do_key_uri(c, &m);
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

/*
 * What the signer and the launcher do first: fd becomes descriptor 3,
 * nothing else stays open but stderr, signals reset, no core, privileges
 * dropped when drop says so, non-dumpable, no new privileges.  The first
 * error is left in err ("" when none).
 */
static void
child_setup(int fd, const struct signer_config *cfg, int drop, char *err,
    size_t errlen)
{
	struct rlimit nocore = { 0, 0 };
	int null;

	err[0] = '\0';
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
		snprintf(err, errlen, "signer: chdir /: %s", strerror(errno));
	if (err[0] == '\0' && drop)
		(void)drop_privileges(cfg, err, errlen);
	/* A change of credentials resets the dumpable flag: set it again. */
	if (err[0] == '\0' && (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0))
		snprintf(err, errlen, "signer: prctl: %s", strerror(errno));
}

/*
 * The seccomp filter of the signer: what a process that only reads keys
 * and signs never needs fails with EPERM — running a program, making a
 * process (clone without CLONE_THREAD; clone3, whose flags a filter cannot
 * read, fails with ENOSYS so that libc falls back to clone), network
 * sockets (AF_UNIX stays, for PKCS #11 modules that talk to a local
 * daemon), tracing or reading other processes, changing identity,
 * namespaces, mounts, kernel modules, BPF and keyrings.  Everything else is
 * allowed: a PKCS #11 module may need any ordinary call.  0 or -1.
 */
static int
confine(char *err, size_t errlen)
{
	static const int denied[] = {
		SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
		SCMP_SYS(accept4), SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
		SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
		SCMP_SYS(setgroups), SCMP_SYS(setfsuid), SCMP_SYS(setfsgid), SCMP_SYS(unshare),
		SCMP_SYS(setns), SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(chroot),
		SCMP_SYS(pivot_root), SCMP_SYS(init_module), SCMP_SYS(finit_module),
		SCMP_SYS(delete_module), SCMP_SYS(kexec_load), SCMP_SYS(bpf),
		SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key),
		SCMP_SYS(request_key), SCMP_SYS(userfaultfd),
	};
	/* clone without CLONE_THREAD; socket of another family than AF_UNIX */
	const struct scmp_arg_cmp no_thread = { .arg = 0, .op = SCMP_CMP_MASKED_EQ,
	    .datum_a = CLONE_THREAD, .datum_b = 0 };
	const struct scmp_arg_cmp not_unix = { .arg = 0, .op = SCMP_CMP_NE,
	    .datum_a = AF_UNIX, .datum_b = 0 };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int rc = -1;

	if (ctx == NULL) {
		snprintf(err, errlen, "signer: seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) < 0)
			goto out;
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
	    &no_thread) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
	    &not_unix) < 0 ||
	    seccomp_load(ctx) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "signer: the seccomp filter could not be installed");
	seccomp_release(ctx);
	return rc;
}

/* Landlock ABI 3 (Linux 6.2); older headers lack it. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/*
 * The signer's Landlock ruleset (Linux 5.13+): with cfg->key_dir, it may
 * write, truncate, create, rename, link and remove files only beneath the
 * key directory, and execute nothing.  Reading stays open: `ca import`
 * reads a key file the officer names at run time, and passphrase files may
 * be anywhere.  Not applied with a PKCS #11 module (its token store is the
 * module's business) nor on a kernel without Landlock.  0 or -1.
 */
static int
confine_writes(const struct signer_config *cfg, char *err, size_t errlen)
{
	struct landlock_ruleset_attr ra = { 0 };
	struct landlock_path_beneath_attr pb = { 0 };
	long abi;
	int rfd = -1, rc = -1;

	if (cfg->key_dir == NULL || cfg->pkcs11_module != NULL)
		return 0;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	pb.allowed_access = ra.handled_access_fs & ~(__u64)LANDLOCK_ACCESS_FS_EXECUTE;
	/* A key directory this signer cannot reach: it may write nowhere (it
	 * could not use the directory anyway; a key request says why). */
	pb.parent_fd = open(cfg->key_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rfd < 0 || (pb.parent_fd >= 0 && syscall(SYS_landlock_add_rule, rfd,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) < 0) {
		snprintf(err, errlen, "signer: Landlock: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rfd >= 0)
		close(rfd);
	if (pb.parent_fd >= 0)
		close(pb.parent_fd);
	return rc;
}

void
signer_child_main(int fd, const struct signer_config *cfg)
{
	struct child c = { .fd = CHILD_FD, .key = { NULL, NULL }, .cfg = cfg,
	    .links_left = cfg->link_certificates };
	char err[ERRMSG_MAX];

	child_setup(fd, cfg, cfg->drop_privileges, err, sizeof(err));
	if (err[0] == '\0')
		(void)confine_writes(cfg, err, sizeof(err));
	if (err[0] == '\0')
		(void)confine(err, sizeof(err));
	if (err[0] != '\0') {
		reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_ERROR, err,
		    strlen(err));
		child_exit(&c, 1);
	}
	reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_OK, "", 0);
	serve(&c);
}

/* The launcher's answer to a spawn request: the new signer's pid (0 when
 * the fork failed) and, with a pid, its socket as SCM_RIGHTS. */
static void
send_spawned(int lfd, pid_t pid, int sock)
{
	union {
		struct cmsghdr h;
		char           buf[CMSG_SPACE(sizeof(int))];
	} u;
	unsigned char p[4] = { (unsigned char)((uint32_t)pid >> 24),
	    (unsigned char)((uint32_t)pid >> 16), (unsigned char)((uint32_t)pid >> 8),
	    (unsigned char)pid };
	struct iovec iov = { .iov_base = p, .iov_len = sizeof(p) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (pid > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sock, sizeof(int));
	}
	while (sendmsg(lfd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/*
 * The request on the launcher's socket: exactly one byte, the one this
 * launcher serves (SIGNER_LAUNCH_SIGNER for a launcher, _LAUNCHER for a
 * spawner).  0 for that, 1 for anything else (another byte, another
 * length, a descriptor), -1 at end-of-file or on an error.
 */
static int
launcher_request(unsigned char want)
{
	unsigned char b[2];
	union {
		struct cmsghdr h;
		char           buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = b, .iov_len = sizeof(b) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t r;

	do
		r = recvmsg(CHILD_FD, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i + sizeof(int) <= cm->cmsg_len - CMSG_LEN(0);
			    i += sizeof(int)) {
				int dfd;

				memcpy(&dfd, CMSG_DATA(cm) + i, sizeof(int));
				close(dfd);
			}
	if (r != 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    mh.msg_controllen != 0 || b[0] != want)
		return 1;
	return 0;
}

/*
 * The launcher's loop (see signer_child.h).  A spawner answers
 * SIGNER_LAUNCH_LAUNCHER with a new launcher (its child, already set up:
 * it only takes over the new socket) and kills nothing; a launcher answers
 * SIGNER_LAUNCH_SIGNER with a new signer, killing the one before.  Any
 * other request is answered as a failed fork and changes nothing.
 */
static void __attribute__((noreturn))
launcher_loop(const struct signer_config *child_cfg, int spawner)
{
	pid_t last = -1;

	for (;;) {
		int sv[2], r = launcher_request(spawner ? SIGNER_LAUNCH_LAUNCHER :
		    SIGNER_LAUNCH_SIGNER);
		pid_t pid;

		if (r == 1) {
			send_spawned(CHILD_FD, 0, -1);
			continue;
		}
		/* One signer at a time: the one before goes, stuck or not. */
		if (last > 0)
			(void)kill(last, SIGKILL);
		last = -1;
		if (r < 0)
			_exit(0);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			send_spawned(CHILD_FD, 0, -1);
			continue;
		}
		pid = fork();
		if (pid == 0 && spawner) {
			/* The new launcher: the new socket becomes its descriptor
			 * 3 (dup2 leaves it open across nothing: no exec). */
			close(sv[0]);
			if (dup2(sv[1], CHILD_FD) < 0)
				_exit(1);
			close(sv[1]);
			launcher_loop(child_cfg, 0);
		}
		if (pid == 0) {
			close(sv[0]);
			signer_child_main(sv[1], child_cfg);
		}
		close(sv[1]);
		send_spawned(CHILD_FD, pid > 0 ? pid : 0, sv[0]);
		close(sv[0]);
		if (!spawner)
			last = pid;
	}
}

static void __attribute__((noreturn))
launcher_main(int fd, const struct signer_config *cfg, int spawner)
{
	struct signer_config child_cfg = *cfg;
	struct child c = { .fd = CHILD_FD, .key = { NULL, NULL }, .cfg = cfg };
	struct sigaction sa;
	char err[ERRMSG_MAX];

	child_setup(fd, cfg, cfg->drop_privileges, err, sizeof(err));
	if (err[0] != '\0') {
		reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_ERROR, err,
		    strlen(err));
		_exit(1);
	}
	/* Signers are reaped by the kernel: the launcher never waits. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGCHLD, &sa, NULL);
	child_cfg.drop_privileges = 0;     /* the launcher has dropped them */
	reply(&c, SIGNER_OP_HELLO, SIGNER_STATUS_OK, "", 0);
	launcher_loop(&child_cfg, spawner);
}

void
signer_launcher_main(int fd, const struct signer_config *cfg)
{
	launcher_main(fd, cfg, 0);
}

void
signer_spawner_main(int fd, const struct signer_config *cfg)
{
	launcher_main(fd, cfg, 1);
}
