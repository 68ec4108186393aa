/*
 * test_pki_util.h — helpers shared by the test_pki_* programs: temporary
 * directories, files, keys and CSRs made in-process, running the openssl
 * command.  Header-only (static inline) so that each test program stays
 * one file.
 */
#ifndef PROVD_TEST_PKI_UTIL_H
#define PROVD_TEST_PKI_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#if defined(__SANITIZE_ADDRESS__)
#define TPKI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define TPKI_SANITIZED 1
#endif
#endif
#ifndef TPKI_SANITIZED
#define TPKI_SANITIZED 0
#endif

/* Running under valgrind (its preload library is in LD_PRELOAD)? */
static inline int
tpki_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/*
 * Timing limits hold only for a plain build run natively; sanitizers,
 * valgrind or PROVD_TEST_SLOW=1 lift them.
 */
static inline int
tpki_timing_applies(void)
{
	const char *slow = getenv("PROVD_TEST_SLOW");

	return !TPKI_SANITIZED && !tpki_under_valgrind() &&
	    !(slow != NULL && *slow == '1');
}

/* Directory holding templates/ (the source tree), from PROVD_SRCDIR. */
static inline const char *
tpki_srcdir(void)
{
	const char *d = getenv("PROVD_SRCDIR");

	return d != NULL && *d != '\0' ? d : ".";
}

static inline char *
tpki_tmpdir(void)
{
	char *d = strdup("/tmp/provd-pki-test-XXXXXX");

	if (d == NULL || mkdtemp(d) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

static inline int
tpki_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
tpki_rmrf(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, tpki_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline char *
tpki_path(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static inline int
tpki_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, data, len);
	if (fchmod(fd, mode) < 0 || w < 0 || (size_t)w != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static inline unsigned char *
tpki_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			unsigned char *nb;

			cap = cap * 2 + 8192;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static inline double
tpki_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A CSR for k with a throwaway subject, signed with SHA-256 (or Ed25519). */
static inline X509_REQ *
tpki_req(EVP_PKEY *k)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n;

	if (r == NULL)
		return NULL;
	n = X509_REQ_get_subject_name(r);
	if (!X509_REQ_set_version(r, X509_REQ_VERSION_1) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"ignored subject", -1, -1, 0) ||
	    !X509_REQ_set_pubkey(r, k) || X509_REQ_sign(r, k,
	    EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256()) <= 0) {
		X509_REQ_free(r);
		return NULL;
	}
	return r;
}

static inline unsigned char *
tpki_req_der(X509_REQ *r, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(r, &der);

	if (n <= 0)
		return NULL;
	*len = (size_t)n;
	return der;   /* OPENSSL_free */
}

/* PEM text of r, malloc'd. */
static inline char *
tpki_req_pem(X509_REQ *r, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL || !PEM_write_bio_X509_REQ(b, r)) {
		BIO_free(b);
		return NULL;
	}
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	if (out != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(b);
	return out;
}

static inline int
tpki_write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * Run a shell command (fixed test strings only), output to outfile (or
 * /dev/null).  Returns the exit status, or -1.
 */
static inline int tpki_run(const char *outfile, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline int
tpki_run(const char *outfile, const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL;
	va_list ap;
	int r, n;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (asprintf(&full, "%s >%s 2>&1 </dev/null", cmd,
	    outfile != NULL ? outfile : "/dev/null") < 0) {
		free(cmd);
		return -1;
	}
	r = system(full);
	free(cmd);
	free(full);
	if (r < 0 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

/* Non-zero when file contains needle. */
static inline int
tpki_file_has(const char *path, const char *needle)
{
	size_t len;
	unsigned char *b = tpki_slurp(path, &len);
	int found;

	if (b == NULL)
		return 0;
	found = strstr((char *)b, needle) != NULL;
	free(b);
	return found;
}

static inline void
tpki_show_file(const char *path)
{
	size_t len;
	unsigned char *b = tpki_slurp(path, &len);

	if (b != NULL) {
		fprintf(stderr, "---- %s ----\n%s\n----\n", path, (char *)b);
		free(b);
	}
}

#endif
