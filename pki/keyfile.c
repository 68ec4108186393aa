/*
 * keyfile.c — CA private key files (see keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "keyinfo.h"

static const char *const type_names[] = {
	[KEYFILE_EC_P256]  = "ec-p256",
	[KEYFILE_EC_P384]  = "ec-p384",
	[KEYFILE_RSA_3072] = "rsa-3072",
	[KEYFILE_RSA_4096] = "rsa-4096",
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

int
keyfile_type_parse(const char *name, enum keyfile_type *out, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; name != NULL && i < NTYPES; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum keyfile_type)i;
			return 0;
		}
	}
	snprintf(err, errlen, "key type: use ec-p256, ec-p384, rsa-3072 or "
	    "rsa-4096");
	return -1;
}

const char *
keyfile_type_name(enum keyfile_type t)
{
	return (size_t)t < NTYPES ? type_names[t] : NULL;
}

/* The last OpenSSL reason, for messages (never holds secret data). */
static const char *
ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "unknown error";
}

void
keyfile_free_secret(unsigned char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

int
keyfile_read_secret(const char *path, const char *what, size_t max,
    unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	unsigned char *b = NULL;
	struct stat st;
	size_t have = 0;
	int fd = -1, rc = -1;

	*buf = NULL;
	*len = 0;
	if (path == NULL || *path == '\0' ||
	    strnlen(path, KEYFILE_PATH_MAX) >= KEYFILE_PATH_MAX) {
		snprintf(err, errlen, "%s: bad path", what);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s %s is accessible by group or others "
		    "(mode %04o); it must be mode 0600", what, path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size <= 0 || (unsigned long long)st.st_size > max) {
		snprintf(err, errlen, "%s %s: empty or larger than %zu bytes",
		    what, path, max);
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		goto out;
	}
	while (have < (size_t)st.st_size + 1) {
		ssize_t r = read(fd, b + have, (size_t)st.st_size + 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	if (have != (size_t)st.st_size) {
		snprintf(err, errlen, "%s %s: changed while being read", what,
		    path);
		goto out;
	}
	*buf = b;
	*len = have;
	b = NULL;
	rc = 0;
out:
	if (b != NULL)
		keyfile_free_secret(b, (size_t)st.st_size + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* First line of the passphrase file, without its line ending. */
static int
read_passphrase(const char *pass_path, unsigned char **pass, size_t *plen,
    size_t *alloc, char *err, size_t errlen)
{
	unsigned char *nl;

	if (keyfile_read_secret(pass_path, "passphrase file", KEYFILE_PASS_MAX,
	    pass, alloc, err, errlen) < 0)
		return -1;
	nl = memchr(*pass, '\n', *alloc);
	*plen = nl != NULL ? (size_t)(nl - *pass) : *alloc;
	if (*plen > 0 && (*pass)[*plen - 1] == '\r')
		(*plen)--;
	if (*plen == 0) {
		snprintf(err, errlen, "passphrase file %s: empty passphrase",
		    pass_path);
		keyfile_free_secret(*pass, *alloc);
		*pass = NULL;
		return -1;
	}
	return 0;
}

/* Refuse to prompt when a key turns out to be encrypted. */
static int
no_prompt(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
keyfile_load(const char *path, const char *pass_path, EVP_PKEY **out,
    char *err, size_t errlen)
{
	OSSL_DECODER_CTX *dctx = NULL;
	unsigned char *data = NULL, *pass = NULL;
	size_t len = 0, plen = 0, palloc = 0, left;
	const unsigned char *p;
	EVP_PKEY *pk = NULL;
	int rc = -1;

	*out = NULL;
	if (keyfile_read_secret(path, "key file", KEYFILE_MAX, &data, &len,
	    err, errlen) < 0)
		goto out;
	if (pass_path != NULL && read_passphrase(pass_path, &pass, &plen,
	    &palloc, err, errlen) < 0)
		goto out;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, NULL,
	    EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL) {
		snprintf(err, errlen, "key file %s: cannot set up a decoder",
		    path);
		goto out;
	}
	if (pass != NULL) {
		if (!OSSL_DECODER_CTX_set_passphrase(dctx, pass, plen)) {
			snprintf(err, errlen, "key file %s: cannot use the "
			    "passphrase", path);
			goto out;
		}
	} else if (!OSSL_DECODER_CTX_set_pem_password_cb(dctx, no_prompt,
	    NULL)) {
		snprintf(err, errlen, "key file %s: cannot set up a decoder",
		    path);
		goto out;
	}
	p = data;
	left = len;
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || pk == NULL) {
		if (pass == NULL && (memmem(data, len, "ENCRYPTED", 9) != NULL))
			snprintf(err, errlen, "key file %s is encrypted: give "
			    "a passphrase file", path);
		else if (pass != NULL)
			snprintf(err, errlen, "key file %s: cannot decode the "
			    "private key (wrong passphrase?)", path);
		else
			snprintf(err, errlen, "key file %s: no private key "
			    "found (%s)", path, ossl_reason());
		goto out;
	}
	*out = pk;
	pk = NULL;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	OSSL_DECODER_CTX_free(dctx);
	keyfile_free_secret(data, len);
	keyfile_free_secret(pass, palloc);
	return rc;
}

int
keyfile_generate(enum keyfile_type t, EVP_PKEY **out, char *err,
    size_t errlen)
{
	EVP_PKEY *pk = NULL;

	switch (t) {
	case KEYFILE_EC_P256:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case KEYFILE_EC_P384:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case KEYFILE_RSA_3072:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case KEYFILE_RSA_4096:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	default:
		snprintf(err, errlen, "key type: unknown");
		return -1;
	}
	if (pk == NULL) {
		snprintf(err, errlen, "key generation failed (%s)",
		    ossl_reason());
		ERR_clear_error();
		return -1;
	}
	*out = pk;
	return 0;
}

int
keyfile_write(const char *path, EVP_PKEY *key, const char *pass_path,
    char *err, size_t errlen)
{
	unsigned char *pass = NULL;
	size_t plen = 0, palloc = 0;
	BIO *bio = NULL;
	char *pem = NULL, dir[KEYFILE_PATH_MAX];
	long pemlen;
	int fd = -1, rc = -1, created = 0;

	if (path == NULL || *path == '\0' ||
	    strnlen(path, KEYFILE_PATH_MAX) >= KEYFILE_PATH_MAX) {
		snprintf(err, errlen, "key file: bad path");
		goto out;
	}
	if (pass_path != NULL && read_passphrase(pass_path, &pass, &plen,
	    &palloc, err, errlen) < 0)
		goto out;
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL ||
	    !PEM_write_bio_PKCS8PrivateKey(bio, key,
	    pass != NULL ? EVP_aes_256_cbc() : NULL, (const char *)pass,
	    (int)plen, NULL, NULL)) {
		snprintf(err, errlen, "key file %s: cannot encode the key (%s)",
		    path, ossl_reason());
		goto out;
	}
	pemlen = BIO_get_mem_data(bio, &pem);
	if (pemlen <= 0) {
		snprintf(err, errlen, "key file %s: cannot encode the key",
		    path);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "key file %s already exists; "
			    "refusing to overwrite it", path);
		else
			snprintf(err, errlen, "key file %s: %s", path,
			    strerror(errno));
		goto out;
	}
	created = 1;
	if (fileio_write_synced(fd, 0600, pem, (size_t)pemlen) < 0) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (fileio_parent_dir(path, dir, sizeof(dir)) < 0 ||
	    fileio_fsync_dir(dir) < 0) {
		snprintf(err, errlen, "key file %s: fsync of its directory: %s",
		    path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	if (rc < 0 && created)
		unlink(path);
	BIO_free(bio);
	keyfile_free_secret(pass, palloc);
	return rc;
}

int
keyfile_check_ca_key(EVP_PKEY *key, char *err, size_t errlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	struct keyinfo ki;
	char desc[96];
	int rc = -1;

	if (keyinfo_get(key, &ki, err, errlen) < 0)
		return -1;
	keyinfo_describe(&ki, desc, sizeof(desc));
	if (ki.type == KEYINFO_RSA) {
		if (ki.bits < 3072 || ki.bits > 16384) {
			snprintf(err, errlen, "CA key %s: RSA keys must have "
			    "3072 to 16384 bits", desc);
			return -1;
		}
	} else if (ki.type == KEYINFO_EC) {
		if (ki.curve_nid != NID_X9_62_prime256v1 &&
		    ki.curve_nid != NID_secp384r1) {
			snprintf(err, errlen, "CA key %s: EC keys must be on "
			    "P-256 or P-384", desc);
			return -1;
		}
	} else {
		snprintf(err, errlen, "CA key %s: only RSA and EC keys are "
		    "supported", desc);
		return -1;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (ctx == NULL || EVP_PKEY_pairwise_check(ctx) != 1) {
		snprintf(err, errlen, "CA key %s: not a consistent private key",
		    desc);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return rc;
}
