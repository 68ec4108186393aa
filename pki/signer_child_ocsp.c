/*
 * signer_child_ocsp.c — responder key and OCSP signing inside the signer
 * process (see signer_child_ocsp.h and signer_ocsp.h).
 */
#include "signer_child_ocsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ocspgen.h"

#define ERRMSG_MAX 512

static EVP_PKEY *responder_key;

void
signer_child_ocsp_wipe(void)
{
	EVP_PKEY_free(responder_key);
	responder_key = NULL;
}

static int
send_reply(int fd, uint8_t op, uint8_t status, const void *data, size_t len)
{
	struct signer_field f = { .data = data, .len = len };
	char err[ERRMSG_MAX];

	return signer_wire_send(fd, op, status, 0, &f, 1, -1, err, sizeof(err));
}

static int send_error(int fd, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
send_error(int fd, uint8_t op, const char *fmt, ...)
{
	char msg[ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return send_reply(fd, op, SIGNER_STATUS_ERROR, msg, strlen(msg));
}

static int
new_key(int fd, uint8_t op)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *der = NULL;
	int len, rc;

	if (k == NULL)
		return send_error(fd, op, "OCSP: cannot make a responder key");
	len = i2d_PUBKEY(k, &der);
	if (len <= 0) {
		EVP_PKEY_free(k);
		return send_error(fd, op, "OCSP: cannot encode the responder key");
	}
	signer_child_ocsp_wipe();
	responder_key = k;
	rc = send_reply(fd, op, SIGNER_STATUS_OK, der, (size_t)len);
	OPENSSL_free(der);
	return rc;
}

static X509 *
cert_of(const struct signer_field *f)
{
	const unsigned char *p = f->data;
	X509 *x;

	if (f->len == 0 || f->len > SIGNER_OCSP_CERT_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)f->len);
	if (x != NULL && p != f->data + f->len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* "THIS NEXT": two decimal times. */
static int
times_of(const struct signer_field *f, time_t *this_update, time_t *next_update)
{
	char buf[64];
	long long a, b;
	int used = 0;

	if (f->len == 0 || f->len >= sizeof(buf) ||
	    memchr(f->data, '\0', f->len) != NULL)
		return -1;
	memcpy(buf, f->data, f->len);
	buf[f->len] = '\0';
	if (sscanf(buf, "%lld %lld%n", &a, &b, &used) != 2 ||
	    (size_t)used != f->len || a <= 0 || b <= a ||
	    b - a > SIGNER_OCSP_VALIDITY_MAX)
		return -1;
	*this_update = (time_t)a;
	*next_update = (time_t)b;
	return 0;
}

static int
sign_batch(int fd, const struct signer_msg *m, EVP_PKEY *ca_key)
{
	char err[ERRMSG_MAX];
	X509 *rcert = NULL, *issuer = NULL;
	unsigned char *out = NULL, *der = NULL;
	size_t outlen = 0, cap = 0, derlen, n = 0;
	const unsigned char *p, *end, *nl;
	time_t this_update, next_update;
	struct ocspgen_entry e;
	int rc;

	if (responder_key == NULL)
		return send_error(fd, m->op, "OCSP: no responder key");
	if (ca_key == NULL)
		return send_error(fd, m->op, "no key loaded");
	if (m->nfields != 4)
		return send_error(fd, m->op, "SIGN_OCSP: wrong number of fields");
	rcert = cert_of(&m->field[0]);
	issuer = cert_of(&m->field[1]);
	if (rcert == NULL || issuer == NULL) {
		rc = send_error(fd, m->op, "SIGN_OCSP: malformed certificate");
		goto out;
	}
	if (ocspgen_check_responder(rcert, responder_key, issuer, ca_key, err,
	    sizeof(err)) < 0) {
		rc = send_error(fd, m->op, "%s", err);
		goto out;
	}
	if (times_of(&m->field[2], &this_update, &next_update) < 0 ||
	    X509_cmp_time(X509_get0_notAfter(rcert), &next_update) < 0) {
		rc = send_error(fd, m->op, "SIGN_OCSP: bad times, or nextUpdate "
		    "after the responder certificate expires");
		goto out;
	}
	p = m->field[3].data;
	end = p + m->field[3].len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (++n > SIGNER_OCSP_BATCH_MAX ||
		    ocspgen_parse((const char *)p, (size_t)(nl - p), &e, err,
		    sizeof(err)) < 0 ||
		    ocspgen_sign(responder_key, rcert, issuer, &e, this_update,
		    next_update, &der, &derlen, err, sizeof(err)) < 0) {
			rc = send_error(fd, m->op, "line %zu: %s", n,
			    n > SIGNER_OCSP_BATCH_MAX ? "too many entries" : err);
			goto out;
		}
		if (outlen + 4 + derlen > cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			unsigned char *t;

			while (ncap < outlen + 4 + derlen)
				ncap *= 2;
			if (ncap > SIGNER_WIRE_MAX || (t = realloc(out, ncap)) == NULL) {
				rc = send_error(fd, m->op, "SIGN_OCSP: batch too large");
				goto out;
			}
			out = t;
			cap = ncap;
		}
		out[outlen] = (unsigned char)(derlen >> 24);
		out[outlen + 1] = (unsigned char)(derlen >> 16);
		out[outlen + 2] = (unsigned char)(derlen >> 8);
		out[outlen + 3] = (unsigned char)derlen;
		memcpy(out + outlen + 4, der, derlen);
		outlen += 4 + derlen;
		free(der);
		der = NULL;
		p = nl + 1;
	}
	rc = send_reply(fd, m->op, SIGNER_STATUS_OK, out, outlen);
out:
	free(der);
	free(out);
	X509_free(rcert);
	X509_free(issuer);
	ERR_clear_error();
	return rc;
}

int
signer_child_ocsp(int fd, const struct signer_msg *m, EVP_PKEY *ca_key)
{
	if (m->op == SIGNER_OP_OCSP_KEY)
		return m->nfields == 0 ? new_key(fd, m->op) :
		    send_error(fd, m->op, "OCSP_KEY: wrong number of fields");
	return sign_batch(fd, m, ca_key);
}
