/*
 * provd-ocsp — serve the OCSP responses provd pre-signed (see
 * docs/man/provd-ocsp.8 and daemon/ocsp.h for the directory it reads).
 *
 *   provd-ocsp -d DIR [-l ADDRESS:PORT] [-p PATH] [-u USER] [-t THREADS]
 *
 * Acquire, then drop: it opens DIR and binds the listening socket, then
 * (when started as root) chroots into DIR and becomes USER; from then on it
 * can read the responses and nothing else, and holds no key.  HTTP comes
 * from libmicrohttpd: POST of a DER request (RFC 6960 appendix A, RFC 5019
 * §5) and GET of PATH/<base64 of the DER request>.
 *
 * Answers (HTTP 200, Content-Type application/ocsp-response):
 *  - the pre-signed response of the serial asked about, as provd wrote it;
 *  - malformedRequest for anything that is not one single-certificate
 *    request;
 *  - "unknown" for a serial provd has no record of, signed on request by
 *    provd's signer (asked over DIR/unknown.sock, daemon/ocsp_unknown.h);
 *    unauthorized while provd does not answer;
 *  - unauthorized for another issuer and a CertID hash other than SHA-1;
 *  - tryLater when DIR cannot be read.
 * The nonce extension is ignored (RFC 8954 §2.1; the response is signed
 * before the request arrives).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "cache.h"
#include "ocspgen.h"
#include "ocspreq.h"
#include "serial.h"

#define RESPONSE_MAX     OCSPGEN_RESP_MAX
#define ISSUER_MAX       (64 * 1024)
#define GET_MAX          (OCSPREQ_MAX * 2)      /* base64 of a request */
#define PATH_LEN_MAX     256
#define CONN_LIMIT       4096
#define PER_IP_LIMIT     256
#define CONN_TIMEOUT_S   15
#define THREADS_MAX      64
/* libmicrohttpd zeroes a connection's memory for every request on a kept
 * connection: 8 KB holds any request line and headers an OCSP client
 * sends (an RFC 5019 GET is short; a longer URL gets 414 from the
 * library); the POST body goes to struct upload, not there. */
#define CONN_MEMORY      (8 * 1024)
#define CACHE_MAX        200000    /* responses kept in memory (~1 KB each) */
#define GENS_MAX         64        /* retired CA generations (DIR/gen-N/) */

enum canned { C_MALFORMED, C_UNAUTHORIZED, C_TRYLATER, C_COUNT };

struct server {
	int                   dirfd;       /* DIR */
	char                  path[PATH_LEN_MAX];   /* URL prefix, no trailing '/' */
	size_t                pathlen;
	pthread_mutex_t       lock;        /* guards the issuer below */
	struct ocspreq_issuer issuer;
	bool                  have_issuer;
	struct timespec       issuer_mtime;
	ino_t                 issuer_ino;
	time_t                issuer_checked;
	/* retired CA generations: DIR/gen-N/issuer.der, gen[N - 1] */
	struct gen_issuer {
		struct ocspreq_issuer issuer;
		bool                  have;
		struct timespec       mtime;
		ino_t                 ino;
	}                     gen[GENS_MAX];
	struct MHD_Response  *canned[C_COUNT];
	struct rcache        *cache;       /* NULL: every answer reads its file */
	char                  unknown_path[108];   /* provd's socket (ocsp_unknown.h) */
	int                   watch_fd;    /* inotify on DIR/responses */
};

/* Per-connection POST body. */
struct upload {
	unsigned char buf[OCSPREQ_MAX];
	size_t        len;
	bool          too_big;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("provd-ocsp: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
usage(void)
{
	fprintf(stderr, "usage: provd-ocsp -d DIR [-l ADDRESS:PORT] [-p PATH] "
	    "[-u USER] [-t THREADS]\n");
	exit(2);
}

/* Read dir/name (at most max bytes) into a malloc'd buffer.  0 or -1
 * (errno set; ENOENT when there is no such file). */
static int
read_at(int dirfd, const char *name, size_t max, unsigned char **out,
    size_t *outlen, struct stat *stp)
{
	struct stat st;
	unsigned char *b;
	size_t got = 0;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > max || (b = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(b);
		errno = EIO;
		return -1;
	}
	if (stp != NULL)
		*stp = st;
	*out = b;
	*outlen = got;
	return 0;
}

/* Re-read the issuer certificate at name into *iss when it changed (its
 * inode or mtime); *have says whether *iss holds one.  Under sv->lock. */
static void
issuer_load(struct server *sv, const char *name, struct ocspreq_issuer *iss, bool *have,
    ino_t *ino, struct timespec *mtime)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	struct stat st;
	size_t len = 0;
	X509 *x;

	if (fstatat(sv->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && iss != &sv->issuer)
			*have = false;     /* a retired generation archived */
		return;
	}
	if (*have && st.st_ino == *ino && st.st_mtim.tv_sec == mtime->tv_sec &&
	    st.st_mtim.tv_nsec == mtime->tv_nsec)
		return;
	if (read_at(sv->dirfd, name, ISSUER_MAX, &der, &len, &st) < 0)
		return;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p == der + len && ocspreq_issuer_of(x, iss) == 0) {
		*have = true;
		*ino = st.st_ino;
		*mtime = st.st_mtim;
	}
	X509_free(x);
	ERR_clear_error();
	free(der);
}

/* Has issuer.der changed (a CA rollover) since it was last read? */
static bool
issuer_changed(struct server *sv)
{
	struct stat st;
	bool changed;

	if (fstatat(sv->dirfd, "issuer.der", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	pthread_mutex_lock(&sv->lock);
	changed = st.st_ino != sv->issuer_ino ||
	          st.st_mtim.tv_sec != sv->issuer_mtime.tv_sec ||
	          st.st_mtim.tv_nsec != sv->issuer_mtime.tv_nsec;
	pthread_mutex_unlock(&sv->lock);
	return changed;
}

/* Re-read issuer.der and every gen-N/issuer.der when changed (checked at
 * most once a second, or now when force). */
static void
issuer_refresh(struct server *sv, bool force)
{
	time_t now = time(NULL);
	char name[32];
	unsigned g;

	pthread_mutex_lock(&sv->lock);
	if (!force && sv->have_issuer && now == sv->issuer_checked)
		goto out;
	sv->issuer_checked = now;
	issuer_load(sv, "issuer.der", &sv->issuer, &sv->have_issuer, &sv->issuer_ino,
	    &sv->issuer_mtime);
	for (g = 1; g <= GENS_MAX; g++) {
		struct gen_issuer *gi = &sv->gen[g - 1];

		snprintf(name, sizeof(name), "gen-%u/issuer.der", g);
		issuer_load(sv, name, &gi->issuer, &gi->have, &gi->ino, &gi->mtime);
	}
out:
	pthread_mutex_unlock(&sv->lock);
}

/*
 * A request for a retired CA generation's certificate: its response from
 * DIR/gen-N/responses/ (not cached; the old CA has few askers), or
 * unauthorized when provd has none (no "unknown" is signed for a retired
 * CA).  'M' malformed, 'U' unauthorized, 'T' try later, 'R' *body, 'N' no
 * generation known has this issuer.
 */
static char
answer_retired(struct server *sv, const unsigned char *der, size_t len, unsigned char **body,
    size_t *blen)
{
	char name[32 + SERIAL_HEX_MAX + 1], hex[SERIAL_HEX_MAX + 1];
	struct ocspreq_issuer iss;
	struct serial ser;
	unsigned g;

	for (g = 1; g <= GENS_MAX; g++) {
		pthread_mutex_lock(&sv->lock);
		if (!sv->gen[g - 1].have) {
			pthread_mutex_unlock(&sv->lock);
			continue;
		}
		iss = sv->gen[g - 1].issuer;
		pthread_mutex_unlock(&sv->lock);
		switch (ocspreq_parse(der, len, &iss, &ser)) {
		case OCSPREQ_SERIAL:
			serial_to_hex(&ser, 1, hex);
			snprintf(name, sizeof(name), "gen-%u/responses/%s", g, hex);
			if (read_at(sv->dirfd, name, RESPONSE_MAX, body, blen, NULL) < 0)
				return errno == ENOENT ? 'U' : 'T';
			return 'R';
		case OCSPREQ_MALFORMED:
			return 'M';
		case OCSPREQ_OTHER_ISSUER:
			continue;
		case OCSPREQ_BAD_SERIAL:
		default:
			return 'U';
		}
	}
	return 'N';
}

/* An HTTP answer carrying the OCSP response body[0..len) (freed with the
 * answer when owned; freed at once when none can be made), or NULL. */
static struct MHD_Response *
ocsp_response(unsigned char *body, size_t len, bool owned)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, body, owned ?
	    MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (owned)
			free(body);
		return NULL;
	}
	/* Revocation must show within a second: no shared caching. */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/ocsp-response") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache, no-transform") != MHD_YES) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

static enum MHD_Result
send_ocsp(struct MHD_Connection *conn, unsigned char *body, size_t len,
    bool owned)
{
	struct MHD_Response *r = ocsp_response(body, len, owned);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The error answers are made once and queued as they are. */
static enum MHD_Result
send_canned(struct server *sv, struct MHD_Connection *conn, enum canned c)
{
	return MHD_queue_response(conn, MHD_HTTP_OK, sv->canned[c]);
}

/* sv->canned: the error answers.  0 or -1. */
static int
canned_make(struct server *sv)
{
	static const int status[C_COUNT] = {
		[C_MALFORMED] = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST,
		[C_UNAUTHORIZED] = OCSP_RESPONSE_STATUS_UNAUTHORIZED,
		[C_TRYLATER] = OCSP_RESPONSE_STATUS_TRYLATER,
	};
	unsigned char *der;
	size_t len;
	int c;

	for (c = 0; c < C_COUNT; c++) {
		if (ocspgen_error(status[c], &der, &len) < 0 ||
		    (sv->canned[c] = ocsp_response(der, len, true)) == NULL)
			return -1;
	}
	return 0;
}

static enum MHD_Result
send_http_error(struct MHD_Connection *conn, unsigned int code)
{
	static char empty[] = "";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * Ask provd for an "unknown" answer about hex (daemon/ocsp_unknown.h),
 * over this thread's own connection.  Returns 'R' with *body (malloc'd),
 * 'K' (provd has a record: read the file), or 'T' (not now, or provd does
 * not answer within a second).
 */
static char
ask_provd(struct server *sv, const char *hex, unsigned char **body, size_t *blen)
{
	static __thread int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	unsigned char *buf;
	ssize_t n;
	int tries;

	if (sv->unknown_path[0] == '\0' || (buf = malloc(RESPONSE_MAX + 1)) == NULL)
		return 'T';
	for (tries = 0; tries < 2; tries++) {
		if (fd < 0) {
			memcpy(sa.sun_path, sv->unknown_path, sizeof(sv->unknown_path));
			fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			if (fd < 0)
				break;
			if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
			    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
			    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				close(fd);
				fd = -1;
				break;
			}
		}
		if (send(fd, hex, strlen(hex), MSG_NOSIGNAL) == (ssize_t)strlen(hex) &&
		    (n = recv(fd, buf, RESPONSE_MAX + 1, 0)) > 0) {
			if (buf[0] == 'R' && n > 1) {
				memmove(buf, buf + 1, (size_t)n - 1);
				*body = buf;
				*blen = (size_t)n - 1;
				return 'R';
			}
			n = buf[0] == 'K' ? 'K' : 'T';
			free(buf);
			return (char)n;
		}
		/* provd restarted (or a stale answer): a new connection, once */
		close(fd);
		fd = -1;
	}
	free(buf);
	return 'T';
}

/* The answer to the DER request der[0..len). */
static enum MHD_Result
answer(struct server *sv, struct MHD_Connection *conn, const unsigned char *der,
    size_t len)
{
	char name[16 + SERIAL_HEX_MAX + 1], hex[SERIAL_HEX_MAX + 1];
	struct serial ser;
	unsigned char *body = NULL;
	size_t blen = 0;
	struct rcache *cache;
	struct MHD_Response *r;
	enum MHD_Result ret;
	uint64_t gen;
	bool forced = false;

	/* The issuers are looked at once a second; a request they do not
	 * answer (an issuer not seen yet, or no response for the current
	 * one while issuer.der has changed) makes a look now, and is
	 * answered again: a CA rollover within the last second is seen. */
again:
	issuer_refresh(sv, forced);
	pthread_mutex_lock(&sv->lock);
	if (!sv->have_issuer) {
		pthread_mutex_unlock(&sv->lock);
		return send_canned(sv, conn, C_TRYLATER);
	}
	{
		struct ocspreq_issuer iss = sv->issuer;

		pthread_mutex_unlock(&sv->lock);
		switch (ocspreq_parse(der, len, &iss, &ser)) {
		case OCSPREQ_SERIAL:
			break;
		case OCSPREQ_MALFORMED:
			return send_canned(sv, conn, C_MALFORMED);
		case OCSPREQ_OTHER_ISSUER:
			switch (answer_retired(sv, der, len, &body, &blen)) {
			case 'R':
				return send_ocsp(conn, body, blen, true);
			case 'M':
				return send_canned(sv, conn, C_MALFORMED);
			case 'T':
				return send_canned(sv, conn, C_TRYLATER);
			case 'N':
				if (!forced) {
					forced = true;
					goto again;
				}
				return send_canned(sv, conn, C_UNAUTHORIZED);
			default:
				return send_canned(sv, conn, C_UNAUTHORIZED);
			}
		case OCSPREQ_BAD_SERIAL:
		default:
			return send_canned(sv, conn, C_UNAUTHORIZED);
		}
	}
	serial_to_hex(&ser, 1, hex);
	cache = __atomic_load_n(&sv->cache, __ATOMIC_SEQ_CST);
	if (cache != NULL && rcache_queue(cache, hex, conn, &ret))
		return ret;
	gen = cache != NULL ? rcache_generation(cache) : 0;
	snprintf(name, sizeof(name), "responses/%s", hex);
	if (read_at(sv->dirfd, name, RESPONSE_MAX, &body, &blen, NULL) < 0) {
		if (errno != ENOENT)
			return send_canned(sv, conn, C_TRYLATER);
		if (!forced && issuer_changed(sv)) {
			forced = true;
			goto again;
		}
		/* No record: provd signs "unknown" (never cached: it expires in
		 * an hour and provd may issue the serial meanwhile). */
		switch (ask_provd(sv, hex, &body, &blen)) {
		case 'R':
			return send_ocsp(conn, body, blen, true);
		case 'K':
			if (read_at(sv->dirfd, name, RESPONSE_MAX, &body, &blen,
			    NULL) == 0)
				break;
			/* fall through */
		default:
			return send_canned(sv, conn, C_UNAUTHORIZED);
		}
	}
	if (cache == NULL)
		return send_ocsp(conn, body, blen, true);
	/* queued before the cache takes it: a forget may destroy it at once */
	if ((r = ocsp_response(body, blen, true)) == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	rcache_put(cache, hex, r, gen);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct server *sv = cls;
	struct upload *up = *con_cls;
	unsigned char der[OCSPREQ_MAX];
	const char *b64;
	long n;

	(void)version;
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
		if (up == NULL) {
			/* POST to PATH or PATH/ */
			if (strncmp(url, sv->path, sv->pathlen) != 0 ||
			    (url[sv->pathlen] != '\0' && strcmp(url + sv->pathlen, "/") != 0))
				return send_http_error(conn, MHD_HTTP_NOT_FOUND);
			/* not zeroed: len counts what buf holds */
			if ((up = malloc(sizeof(*up))) == NULL)
				return MHD_NO;
			up->len = 0;
			up->too_big = false;
			*con_cls = up;
			return MHD_YES;
		}
		if (*upload_size > 0) {
			if (*upload_size > sizeof(up->buf) - up->len)
				up->too_big = true;
			else
				memcpy(up->buf + up->len, upload_data, *upload_size);
			if (!up->too_big)
				up->len += *upload_size;
			*upload_size = 0;
			return MHD_YES;
		}
		if (up->too_big)
			return send_http_error(conn, MHD_HTTP_CONTENT_TOO_LARGE);
		return answer(sv, conn, up->buf, up->len);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return send_http_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED);
	/* GET PATH/<base64>: the base64 may itself hold '/'. */
	if (strncmp(url, sv->path, sv->pathlen) != 0 || url[sv->pathlen] != '/')
		return send_http_error(conn, MHD_HTTP_NOT_FOUND);
	b64 = url + sv->pathlen + 1;
	if (strlen(b64) > GET_MAX)
		return send_http_error(conn, MHD_HTTP_URI_TOO_LONG);
	n = ocspreq_base64(b64, strlen(b64), der, sizeof(der));
	if (n <= 0)
		return send_canned(sv, conn, C_MALFORMED);
	return answer(sv, conn, der, (size_t)n);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

/*
 * The cache's invalidation: every file provd renames into (or removes
 * from) DIR/responses drops that serial's copy before the rename is seen
 * by a reader that stats nothing.  A lost event (queue overflow) or a
 * removed directory drops everything; a failed read stops caching.
 */
static void *
watch(void *arg)
{
	struct server *sv = arg;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(sv->watch_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			say("inotify: %s; answering from the files from now on",
			    n < 0 ? strerror(errno) : "end of file");
			rcache_forget(sv->cache, NULL);
			/* stop using the copies: every answer reads its file */
			__atomic_store_n(&sv->cache, NULL, __ATOMIC_SEQ_CST);
			return NULL;
		}
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF))
				rcache_forget(sv->cache, NULL);
			else if (ev->len > 0 && ev->name[0] != '.')
				rcache_forget(sv->cache, ev->name);
		}
	}
}

/* Watch DIR/responses (before any chroot: inotify takes a path). */
static void
watch_start(struct server *sv, const char *dir)
{
	char path[PATH_MAX];

	sv->watch_fd = -1;
	snprintf(path, sizeof(path), "%s/responses", dir);
	if ((sv->watch_fd = inotify_init1(IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(sv->watch_fd, path, IN_MOVED_TO | IN_MOVED_FROM |
	    IN_CLOSE_WRITE | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR) < 0 ||
	    (sv->cache = rcache_new(CACHE_MAX)) == NULL) {
		say("%s: cannot watch it (%s); answering from the files",
		    path, strerror(errno));
		if (sv->watch_fd >= 0)
			close(sv->watch_fd);
		sv->watch_fd = -1;
	}
}

static int
listen_on(const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sin;
	unsigned long port;
	char *end;
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 512) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* chroot into the responses directory and become user.  0 or -1. */
static int
drop_to(const char *user, const char *dir)
{
	struct passwd *pw = getpwnam(user);
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (pw == NULL || pw->pw_uid == 0) {
		say("user %s: unknown, or root", user);
		return -1;
	}
	if (chroot(dir) < 0 || chdir("/") < 0) {
		say("chroot %s: %s", dir, strerror(errno));
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		say("becoming %s: %s", user, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid ||
	    rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid ||
	    setuid(0) != -1) {
		say("privileges were not dropped to %s", user);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *listen_spec = "127.0.0.1:8080", *path = "";
	const char *user = NULL;
	struct server sv;
	struct MHD_Daemon *d;
	struct sigaction sa;
	pthread_t watcher;
	unsigned long threads = 2;
	sigset_t set;
	char *end;
	int c, lfd, sig;

	memset(&sv, 0, sizeof(sv));
	while ((c = getopt(argc, argv, "d:l:p:u:t:")) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l': listen_spec = optarg; break;
		case 'p': path = optarg; break;
		case 'u': user = optarg; break;
		case 't':
			threads = strtoul(optarg, &end, 10);
			if (*end != '\0' || threads < 1 || threads > THREADS_MAX)
				usage();
			break;
		default: usage();
		}
	}
	if (dir == NULL || optind != argc)
		usage();
	if ((path[0] != '\0' && path[0] != '/') || strlen(path) >= sizeof(sv.path)) {
		say("-p: a path such as /ocsp (shorter than %d bytes)", PATH_LEN_MAX);
		return 2;
	}
	snprintf(sv.path, sizeof(sv.path), "%s", path);
	sv.pathlen = strlen(sv.path);
	while (sv.pathlen > 0 && sv.path[sv.pathlen - 1] == '/')
		sv.path[--sv.pathlen] = '\0';
	if (geteuid() == 0 && user == NULL) {
		say("started as root: name the user to run as with -u");
		return 2;
	}
	pthread_mutex_init(&sv.lock, NULL);
	if (canned_make(&sv) < 0) {
		say("out of memory");
		return 1;
	}
	sv.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv.dirfd < 0) {
		say("%s: %s", dir, strerror(errno));
		return 1;
	}
	if ((lfd = listen_on(listen_spec)) < 0) {
		say("cannot listen on %s (ADDRESS:PORT, IPv4): %s", listen_spec,
		    strerror(errno));
		return 1;
	}
	watch_start(&sv, dir);
	if (user != NULL && geteuid() == 0) {
		if (drop_to(user, dir) < 0)
			return 1;
		snprintf(sv.unknown_path, sizeof(sv.unknown_path), "/unknown.sock");
	} else if ((size_t)snprintf(sv.unknown_path, sizeof(sv.unknown_path),
	    "%s/unknown.sock", dir) >= sizeof(sv.unknown_path)) {
		say("%s: path too long for provd's socket; serials without a "
		    "response are answered unauthorized", dir);
		sv.unknown_path[0] = '\0';
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		say("prctl: %s", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Signals go to this thread only (sigwait below). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	issuer_refresh(&sv, true);
	if (sv.cache != NULL && pthread_create(&watcher, NULL, watch, &sv) != 0) {
		rcache_free(sv.cache);
		sv.cache = NULL;
	}
	/* TURBO: optimistic reads and writes on a ready connection, fewer
	 * epoll round trips per request */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &sv,
	    MHD_OPTION_LISTEN_SOCKET, lfd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PER_IP_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		say("cannot start the HTTP server on %s", listen_spec);
		return 1;
	}
	say("serving %s on http://%s%s/ (%lu threads)%s", dir, listen_spec,
	    sv.path, threads, sv.have_issuer ? "" : "; no issuer.der yet");
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	say("stopped");
	return 0;
}
