/*
 * signer_ocsp.c — the engine side of the signer's OCSP requests (see
 * signer_ocsp.h).
 */
#include "signer_ocsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "signer_wire.h"

#define REPLY_KEY_MAX (64 * 1024)

int
signer_ocsp_key_parse(const unsigned char *der, size_t len, EVP_PKEY **pub,
    char *err, size_t errlen)
{
	const unsigned char *p = der;

	*pub = NULL;
	if (len > 0) {
		*pub = d2i_PUBKEY(NULL, &p, (long)len);
		if (*pub != NULL && p != der + len) {
			EVP_PKEY_free(*pub);
			*pub = NULL;
		}
	}
	ERR_clear_error();
	if (*pub == NULL) {
		snprintf(err, errlen, "signer sent a malformed responder key");
		return -1;
	}
	return 0;
}

int
signer_ocsp_newkey(struct signer *s, EVP_PKEY **pub, char *err,
    size_t errlen)
{
	struct signer_msg m;
	int rc;

	*pub = NULL;
	if (signer_call(s, SIGNER_OP_OCSP_KEY, 0, NULL, 0, REPLY_KEY_MAX, &m,
	    err, errlen) < 0)
		return -1;
	rc = signer_ocsp_key_parse(m.nfields == 1 ? m.field[0].data : NULL,
	    m.nfields == 1 ? m.field[0].len : 0, pub, err, errlen);
	signer_msg_free(&m);
	return rc;
}

int
signer_ocsp_newkey_async(struct signer *s, signer_der_fn *cb, void *ctx,
    char *err, size_t errlen)
{
	return signer_call_async(s, SIGNER_OP_OCSP_KEY, NULL, 0, REPLY_KEY_MAX,
	    cb, ctx, err, errlen);
}

/* The fields of SIGN_OCSP; times[64] holds the validity text. */
static void
sign_fields(struct signer_field f[4], char times[64],
    const unsigned char *rcert, size_t rcertlen, const unsigned char *issuer,
    size_t issuerlen, time_t this_update, time_t next_update,
    const char *lines, size_t len)
{
	snprintf(times, 64, "%lld %lld", (long long)this_update,
	    (long long)next_update);
	f[0] = (struct signer_field){ .data = rcert, .len = rcertlen };
	f[1] = (struct signer_field){ .data = issuer, .len = issuerlen };
	f[2] = (struct signer_field){ .data = (const unsigned char *)times,
	    .len = strlen(times) };
	f[3] = (struct signer_field){ .data = (const unsigned char *)lines,
	    .len = len };
}

int
signer_ocsp_sign_async(struct signer *s, const unsigned char *rcert,
    size_t rcertlen, const unsigned char *issuer, size_t issuerlen,
    time_t this_update, time_t next_update, const char *lines, size_t len,
    signer_der_fn *cb, void *ctx, char *err, size_t errlen)
{
	struct signer_field f[4];
	char times[64];

	sign_fields(f, times, rcert, rcertlen, issuer, issuerlen, this_update,
	    next_update, lines, len);
	return signer_call_async(s, SIGNER_OP_SIGN_OCSP, f, 4, SIGNER_WIRE_MAX,
	    cb, ctx, err, errlen);
}

int
signer_ocsp_sign(struct signer *s, const unsigned char *rcert,
    size_t rcertlen, const unsigned char *issuer, size_t issuerlen,
    time_t this_update, time_t next_update, const char *lines, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	struct signer_field f[4];
	struct signer_msg m;
	char times[64];
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	sign_fields(f, times, rcert, rcertlen, issuer, issuerlen, this_update,
	    next_update, lines, len);
	if (signer_call(s, SIGNER_OP_SIGN_OCSP, 0, f, 4, SIGNER_WIRE_MAX, &m,
	    err, errlen) < 0)
		return -1;
	if (m.nfields != 1) {
		snprintf(err, errlen, "signer sent no OCSP responses");
		goto out;
	}
	if (m.field[0].len > 0 && (*out = malloc(m.field[0].len)) == NULL) {
		snprintf(err, errlen, "OCSP: out of memory");
		goto out;
	}
	if (m.field[0].len > 0)
		memcpy(*out, m.field[0].data, m.field[0].len);
	*outlen = m.field[0].len;
	rc = 0;
out:
	signer_msg_free(&m);
	return rc;
}
