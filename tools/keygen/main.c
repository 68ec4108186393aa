/*
 * provd-keygen — makes one key pair for a person who cannot make a CSR
 * and packs it, with the certificate provd issued for it, into a PKCS #12
 * file under the passphrase provd hands over; then exits.  Started by the
 * engine for each `cert issue --generate` (see keygen_proto.h and
 * daemon/keygen.h); it is neither the engine nor the CA signer, so neither
 * of those ever holds the person's private key.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keyfile.h"
#include "keygen_proto.h"
#include "p12.h"
#include "signer_wire.h"

#define ERRMSG_MAX 512

static EVP_PKEY *key;

static void leave(int status) __attribute__((noreturn));

static void
leave(int status)
{
	EVP_PKEY_free(key);       /* wipes the private key */
	_exit(status);
}

static void
reply(uint8_t op, uint8_t status, const void *data, size_t len)
{
	struct signer_field f = { .data = data, .len = len };
	char err[ERRMSG_MAX];

	if (signer_wire_send(KEYGEN_FD, op, status, 0, &f, 1, -1, err,
	    sizeof(err)) < 0)
		leave(1);
}

static void fail(uint8_t op, const char *msg) __attribute__((noreturn));

static void
fail(uint8_t op, const char *msg)
{
	reply(op, SIGNER_STATUS_ERROR, msg, strlen(msg));
	leave(1);
}

static void
generate(const struct signer_msg *m)
{
	char type[32], err[ERRMSG_MAX];
	enum keyfile_type t;
	unsigned char *der = NULL;
	int n;

	if (key != NULL || m->nfields != 1 ||
	    signer_msg_string(m, 0, type, sizeof(type)) < 0 ||
	    keyfile_type_parse(type, &t, err, sizeof(err)) < 0 ||
	    (t != KEYFILE_EC_P256 && t != KEYFILE_RSA_3072))
		fail(m->op, "key type: ec-p256 or rsa-3072");
	if (keyfile_generate(t, &key, err, sizeof(err)) < 0)
		fail(m->op, err);
	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		fail(m->op, "cannot encode the public key");
	reply(m->op, SIGNER_STATUS_OK, der, (size_t)n);
	OPENSSL_free(der);
}

static X509 *
field_cert(const struct signer_msg *m, size_t i)
{
	const unsigned char *p = m->field[i].data;
	X509 *x = d2i_X509(NULL, &p, (long)m->field[i].len);

	if (x != NULL && p != m->field[i].data + m->field[i].len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* The key as PKCS #8 DER in CMS EnvelopedData to recovery; *out
 * OPENSSL_malloc'd.  Returns the length, or -1. */
static int
escrow_copy(X509 *recovery, unsigned char **out)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	STACK_OF(X509) *to = sk_X509_new_null();
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	BIO *in = NULL;
	int n = -1, dl;

	*out = NULL;
	if (p8 == NULL || to == NULL || !sk_X509_push(to, recovery) ||
	    (dl = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    (in = BIO_new_mem_buf(der, dl)) == NULL)
		goto out;
	cms = CMS_encrypt(to, in, EVP_aes_256_cbc(), CMS_BINARY);
	if (cms != NULL)
		n = i2d_CMS_ContentInfo(cms, out);
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)dl);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	sk_X509_free(to);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return n;
}

static void
package(const struct signer_msg *m)
{
	char friendly[P12_FRIENDLY_MAX + 1], pass[P12_PASS_MAX + 1];
	char err[ERRMSG_MAX];
	unsigned char *der = NULL, *esc = NULL;
	size_t len = 0;
	int esclen = 0;
	X509 *cert = NULL, *ca = NULL, *recovery = NULL;
	struct signer_field out[2];

	if (key == NULL || m->nfields != 5)
		fail(m->op, "PACKAGE: no key yet, or wrong number of fields");
	if ((cert = field_cert(m, 0)) == NULL ||
	    (ca = field_cert(m, 1)) == NULL ||
	    (m->field[4].len > 0 && (recovery = field_cert(m, 4)) == NULL))
		fail(m->op, "PACKAGE: malformed certificate");
	if (recovery != NULL && (esclen = escrow_copy(recovery, &esc)) <= 0)
		fail(m->op, "cannot encrypt the escrow copy to the recovery "
		    "certificate");
	if (signer_msg_string(m, 2, friendly, sizeof(friendly)) < 0 ||
	    signer_msg_string(m, 3, pass, sizeof(pass)) < 0)
		fail(m->op, "PACKAGE: malformed friendly name or passphrase");
	if (p12_build(key, cert, ca, friendly, pass, &der, &len, err,
	    sizeof(err)) < 0) {
		OPENSSL_cleanse(pass, sizeof(pass));
		fail(m->op, err);
	}
	OPENSSL_cleanse(pass, sizeof(pass));
	out[0].data = der;
	out[0].len = len;
	out[1].data = esc != NULL ? esc : (const unsigned char *)"";
	out[1].len = esclen > 0 ? (size_t)esclen : 0;
	if (signer_wire_send(KEYGEN_FD, m->op, SIGNER_STATUS_OK, 0, out, 2, -1,
	    err, sizeof(err)) < 0)
		leave(1);
	free(der);
	OPENSSL_free(esc);
	X509_free(cert);
	X509_free(ca);
	X509_free(recovery);
	leave(0);
}

int
main(void)
{
	struct rlimit nocore = { 0, 0 };
	struct signer_msg m;
	char err[ERRMSG_MAX];
	int r;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &nocore);
	(void)close_range(KEYGEN_FD + 1, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	alarm(KEYGEN_LIFETIME_S);
	for (;;) {
		r = signer_wire_recv(KEYGEN_FD, &m, KEYGEN_REPLY_MAX, -1, err,
		    sizeof(err));
		if (r != 0)
			leave(r == 1 ? 0 : 1);
		if (m.op == KEYGEN_OP_GENERATE)
			generate(&m);
		else if (m.op == KEYGEN_OP_PACKAGE)
			package(&m);    /* does not return */
		else
			fail(m.op, "unknown request");
		signer_msg_free(&m);
	}
}
