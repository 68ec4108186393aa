/* keygen — server-side key pairs in provd-keygen. See keygen.h. */
#include "keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "keygen_proto.h"
#include "p12.h"
#include "provd.h"
#include "signer_wire.h"
#include "workpool.h"
#include "xmalloc.h"

#define HELPER_NAME "provd-keygen"

static char helper_path[PATH_MAX];

struct keygen {
	int             fd;
	pid_t           pid;
	keygen_done_fn *done;
	void           *ctx;
	/* the step the worker runs */
	uint8_t         op;
	char            type[16];
	unsigned char  *cert, *ca, *recovery;
	size_t          certlen, calen, recoverylen;
	char            friendly[P12_FRIENDLY_MAX + 1];
	char            pass[P12_PASS_MAX + 1];
	/* results */
	char            err[512];
	EVP_PKEY       *pub;
	unsigned char  *p12, *escrow;
	size_t          p12len, escrowlen;
};

int
keygen_locate(char *err, size_t errlen)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(err, errlen, "keygen: /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(helper_path, sizeof(helper_path), "%s/%s", self, HELPER_NAME) >=
	    sizeof(helper_path) || access(helper_path, X_OK) < 0) {
		snprintf(err, errlen, "keygen: no %s next to provd", HELPER_NAME);
		helper_path[0] = '\0';
		return -1;
	}
	return 0;
}

/* Worker: start the helper with its end of a socketpair on KEYGEN_FD. */
static int
spawn_helper(struct keygen *kg)
{
	static char *const argv[] = { (char *)(uintptr_t)HELPER_NAME, NULL };
	static char *const envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], child, rc;

	if (helper_path[0] == '\0') {
		snprintf(kg->err, sizeof(kg->err), "server-side keys are unavailable: no %s "
		         "next to provd", HELPER_NAME);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(kg->err, sizeof(kg->err), "keygen: socketpair: %s", strerror(errno));
		return -1;
	}
	/* dup2 onto itself would keep close-on-exec: move it off KEYGEN_FD. */
	child = sv[1];
	if (child == KEYGEN_FD) {
		child = fcntl(sv[1], F_DUPFD_CLOEXEC, KEYGEN_FD + 1);
		close(sv[1]);
	}
	if (child < 0 || posix_spawn_file_actions_init(&fa) != 0) {
		close(sv[0]);
		if (child >= 0)
			close(child);
		snprintf(kg->err, sizeof(kg->err), "keygen: out of descriptors");
		return -1;
	}
	posix_spawn_file_actions_adddup2(&fa, child, KEYGEN_FD);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&kg->pid, helper_path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(child);
	if (rc != 0) {
		kg->pid = -1;
		close(sv[0]);
		snprintf(kg->err, sizeof(kg->err), "keygen: cannot start %s: %s", HELPER_NAME,
		         strerror(rc));
		return -1;
	}
	kg->fd = sv[0];
	return 0;
}

/* Worker: one request/reply with the helper; the reply's fields (nout,
 * 1 or 2) kept in data[i] (malloc'd; NULL for an empty second one). */
static int
exchange(struct keygen *kg, const struct signer_field *f, size_t nf, size_t nout,
         unsigned char **data, size_t *len)
{
	struct signer_msg m;
	size_t i, n;

	if (signer_wire_send(kg->fd, kg->op, SIGNER_STATUS_OK, 0, f, nf, KEYGEN_TIMEOUT_MS,
	                     kg->err, sizeof(kg->err)) < 0 ||
	    signer_wire_recv(kg->fd, &m, KEYGEN_REPLY_MAX, KEYGEN_TIMEOUT_MS, kg->err,
	                     sizeof(kg->err)) != 0) {
		if (kg->err[0] == '\0')
			snprintf(kg->err, sizeof(kg->err), "keygen: the helper ended");
		return -1;
	}
	if (m.op != kg->op || (m.status == SIGNER_STATUS_OK ? m.nfields != nout :
	                                                       m.nfields != 1)) {
		snprintf(kg->err, sizeof(kg->err), "keygen: malformed reply");
		signer_msg_free(&m);
		return -1;
	}
	if (m.status != SIGNER_STATUS_OK) {
		n = m.field[0].len < 200 ? m.field[0].len : 200;
		snprintf(kg->err, sizeof(kg->err), "keygen: ");
		for (i = 0; i < n; i++) {
			unsigned char c = m.field[0].data[i];

			kg->err[9 + i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		}
		kg->err[9 + n] = '\0';
		signer_msg_free(&m);
		return -1;
	}
	for (i = 0; i < nout; i++) {
		len[i] = m.field[i].len;
		data[i] = NULL;
		if (len[i] == 0 && i > 0)
			continue;
		data[i] = xmalloc(len[i] ? len[i] : 1);
		memcpy(data[i], m.field[i].data, len[i]);
	}
	signer_msg_free(&m);
	return 0;
}

static void
work_generate(void *arg)
{
	struct keygen *kg = arg;
	struct signer_field f = { (const unsigned char *)kg->type, strlen(kg->type) };
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;

	if (spawn_helper(kg) < 0 || exchange(kg, &f, 1, 1, &der, &len) < 0)
		return;
	p = der;
	kg->pub = d2i_PUBKEY(NULL, &p, (long)len);
	if (kg->pub == NULL || p != der + len) {
		EVP_PKEY_free(kg->pub);
		kg->pub = NULL;
		ERR_clear_error();
		snprintf(kg->err, sizeof(kg->err), "keygen: malformed public key");
	}
	free(der);
}

static void
work_package(void *arg)
{
	struct keygen *kg = arg;
	struct signer_field f[5] = {
		{ kg->cert, kg->certlen }, { kg->ca, kg->calen },
		{ (const unsigned char *)kg->friendly, strlen(kg->friendly) },
		{ (const unsigned char *)kg->pass, strlen(kg->pass) },
		{ kg->recovery != NULL ? kg->recovery : (const unsigned char *)"", kg->recoverylen },
	};
	unsigned char *data[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };

	if (exchange(kg, f, 5, 2, data, len) == 0) {
		kg->p12 = data[0];
		kg->p12len = len[0];
		kg->escrow = data[1];
		kg->escrowlen = data[1] != NULL ? len[1] : 0;
		if (kg->recovery != NULL && kg->escrow == NULL)
			snprintf(kg->err, sizeof(kg->err), "keygen: no escrow copy");
	}
	OPENSSL_cleanse(kg->pass, sizeof(kg->pass));
}

static void
job_done(void *arg)
{
	struct keygen *kg = arg;

	kg->done(kg->ctx);
}

int
keygen_generate(struct provd *pd, enum keyfile_type t, keygen_done_fn *done, void *ctx,
                struct keygen **out)
{
	struct keygen *kg = xcalloc(1, sizeof(*kg));

	*out = NULL;
	kg->fd = -1;
	kg->pid = -1;
	kg->done = done;
	kg->ctx = ctx;
	kg->op = KEYGEN_OP_GENERATE;
	snprintf(kg->type, sizeof(kg->type), "%s", keyfile_type_name(t));
	workpool_submit(pd->hashers, work_generate, job_done, kg);
	*out = kg;
	return 0;
}

int
keygen_package(struct provd *pd, struct keygen *kg, const unsigned char *cert, size_t len,
               X509 *cacert, X509 *recovery, const char *friendly, const char *pass,
               keygen_done_fn *done, void *ctx)
{
	unsigned char *ca = NULL;
	int calen, rl;

	if ((calen = i2d_X509(cacert, &ca)) <= 0) {
		OPENSSL_free(ca);
		return -1;
	}
	kg->cert = xmalloc(len);
	if (recovery != NULL) {
		if ((rl = i2d_X509(recovery, &kg->recovery)) <= 0) {
			OPENSSL_free(ca);
			return -1;
		}
		kg->recoverylen = (size_t)rl;
	}
	memcpy(kg->cert, cert, len);
	kg->certlen = len;
	kg->ca = ca;
	kg->calen = (size_t)calen;
	snprintf(kg->friendly, sizeof(kg->friendly), "%s", friendly);
	snprintf(kg->pass, sizeof(kg->pass), "%s", pass);
	kg->op = KEYGEN_OP_PACKAGE;
	kg->done = done;
	kg->ctx = ctx;
	kg->err[0] = '\0';
	workpool_submit(pd->hashers, work_package, job_done, kg);
	return 0;
}

const char *
keygen_error(const struct keygen *kg)
{
	return kg->err[0] != '\0' ? kg->err : NULL;
}

EVP_PKEY *
keygen_pubkey(const struct keygen *kg)
{
	return kg->pub;
}

const unsigned char *
keygen_escrow(const struct keygen *kg, size_t *len)
{
	*len = kg->escrowlen;
	return kg->escrow;
}

const unsigned char *
keygen_p12(const struct keygen *kg, size_t *len)
{
	*len = kg->p12len;
	return kg->p12;
}

void
keygen_free(struct keygen *kg)
{
	int st;

	if (kg == NULL)
		return;
	if (kg->fd >= 0)
		close(kg->fd);            /* the helper exits on end-of-file */
	if (kg->pid > 0 && waitpid(kg->pid, &st, WNOHANG) == 0) {
		kill(kg->pid, SIGKILL);
		while (waitpid(kg->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	EVP_PKEY_free(kg->pub);
	free(kg->cert);
	OPENSSL_free(kg->ca);
	free(kg->p12);
	free(kg->escrow);
	OPENSSL_free(kg->recovery);
	OPENSSL_cleanse(kg->pass, sizeof(kg->pass));
	free(kg);
}
