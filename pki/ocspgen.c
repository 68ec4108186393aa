/*
 * ocspgen.c — pre-signed OCSP responses (see ocspgen.h).
 */
#include "ocspgen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "reason.h"
#include "sigalg.h"

int
ocspgen_format(const struct ocspgen_entry *e, char *out, size_t outlen)
{
	char hex[SERIAL_HEX_MAX + 1];
	int n;

	if (e->serial.len == 0 || e->serial.len > SERIAL_MAX_BYTES)
		return -1;
	serial_to_hex(&e->serial, 1, hex);
	if (e->status == OCSPGEN_GOOD)
		n = snprintf(out, outlen, "%s good", hex);
	else if (e->status == OCSPGEN_UNKNOWN)
		n = snprintf(out, outlen, "%s unknown", hex);
	else if (e->status == OCSPGEN_REVOKED && e->reason >= 0 &&
	    e->reason <= 10 && e->reason != 7 && e->revoked_at > 0 &&
	    e->invalidity >= 0)
		n = snprintf(out, outlen, "%s revoked %d %lld %lld", hex,
		    e->reason, (long long)e->revoked_at,
		    (long long)e->invalidity);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* A decimal number of at most 12 digits, starting at *p. */
static int
parse_num(const char **p, const char *end, long long *out)
{
	long long v = 0;
	int digits = 0;

	while (*p < end && **p >= '0' && **p <= '9' && digits < 12) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || (*p < end && **p >= '0' && **p <= '9'))
		return -1;
	*out = v;
	return 0;
}

int
ocspgen_parse(const char *line, size_t len, struct ocspgen_entry *e,
    char *err, size_t errlen)
{
	char hex[SERIAL_HEX_MAX + 1];
	const char *p = line, *end = line + len, *sp;
	long long reason, at, inv = 0;

	memset(e, 0, sizeof(*e));
	if (len == 0 || len >= OCSPGEN_LINE_MAX ||
	    (sp = memchr(line, ' ', len)) == NULL ||
	    (size_t)(sp - line) > SERIAL_HEX_MAX) {
		snprintf(err, errlen, "OCSP entry: malformed");
		return -1;
	}
	memcpy(hex, line, (size_t)(sp - line));
	hex[sp - line] = '\0';
	if (strspn(hex, "0123456789ABCDEF") != strlen(hex) ||
	    serial_parse(hex, &e->serial, err, errlen) < 0) {
		snprintf(err, errlen, "OCSP entry: bad serial");
		return -1;
	}
	p = sp + 1;
	if ((size_t)(end - p) == 4 && memcmp(p, "good", 4) == 0) {
		e->status = OCSPGEN_GOOD;
		return 0;
	}
	if ((size_t)(end - p) == 7 && memcmp(p, "unknown", 7) == 0) {
		e->status = OCSPGEN_UNKNOWN;
		return 0;
	}
	if ((size_t)(end - p) < 8 || memcmp(p, "revoked ", 8) != 0)
		goto bad;
	p += 8;
	if (parse_num(&p, end, &reason) < 0 || reason > 10 || reason == 7 ||
	    p == end || *p++ != ' ' || parse_num(&p, end, &at) < 0 || at == 0)
		goto bad;
	if (p < end && (*p++ != ' ' || parse_num(&p, end, &inv) < 0))
		goto bad;
	if (p != end)
		goto bad;
	e->status = OCSPGEN_REVOKED;
	e->reason = (int)reason;
	e->revoked_at = (time_t)at;
	e->invalidity = (time_t)inv;
	return 0;
bad:
	snprintf(err, errlen, "OCSP entry: malformed status");
	return -1;
}

int
ocspgen_check_responder(X509 *rcert, EVP_PKEY *rkey, X509 *issuer,
    EVP_PKEY *ca_pub, char *err, size_t errlen)
{
	EVP_PKEY *pk = X509_get0_pubkey(rcert);
	int rc = -1;

	if (pk == NULL || rkey == NULL || EVP_PKEY_eq(pk, rkey) != 1) {
		snprintf(err, errlen, "responder certificate does not carry the "
		    "responder key");
		goto out;
	}
	if (ca_pub == NULL || X509_get0_pubkey(issuer) == NULL ||
	    EVP_PKEY_eq(X509_get0_pubkey(issuer), ca_pub) != 1) {
		snprintf(err, errlen, "issuer certificate does not carry the CA "
		    "key");
		goto out;
	}
	if (X509_check_issued(issuer, rcert) != X509_V_OK ||
	    X509_verify(rcert, ca_pub) != 1) {
		snprintf(err, errlen, "responder certificate is not signed by "
		    "the CA");
		goto out;
	}
	if (X509_check_ca(rcert) != 0 ||
	    !(X509_get_extension_flags(rcert) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(rcert) & XKU_OCSP_SIGN)) {
		snprintf(err, errlen, "responder certificate is not a delegated "
		    "OCSP signing certificate");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}

static int
response_der(OCSP_RESPONSE *r, unsigned char **der, size_t *derlen)
{
	unsigned char *p = NULL;
	int n = i2d_OCSP_RESPONSE(r, &p);

	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	if (*der == NULL) {
		OPENSSL_free(p);
		return -1;
	}
	memcpy(*der, p, (size_t)n);
	*derlen = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

int
ocspgen_sign(EVP_PKEY *rkey, X509 *rcert, X509 *issuer,
    const struct ocspgen_entry *e, time_t this_update, time_t next_update,
    unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_CERTID *cid = NULL;
	OCSP_SINGLERESP *single;
	ASN1_INTEGER *ser = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *rev = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	EVP_MD_CTX *ctx = NULL;
	struct sigalg alg;
	int rc = -1;

	*der = NULL;
	*derlen = 0;
	if (next_update <= this_update) {
		snprintf(err, errlen, "OCSP: nextUpdate before thisUpdate");
		return -1;
	}
	if (sigalg_for_key(rkey, &alg, err, errlen) < 0)
		return -1;
	ser = serial_to_asn1(&e->serial);
	thisupd = ASN1_GENERALIZEDTIME_set(NULL, this_update);
	nextupd = ASN1_GENERALIZEDTIME_set(NULL, next_update);
	bs = OCSP_BASICRESP_new();
	ctx = EVP_MD_CTX_new();
	if (ser == NULL || thisupd == NULL || nextupd == NULL || bs == NULL ||
	    ctx == NULL)
		goto nomem;
	cid = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), ser);
	if (cid == NULL)
		goto nomem;
	if (e->status == OCSPGEN_REVOKED) {
		rev = ASN1_GENERALIZEDTIME_set(NULL, e->revoked_at);
		if (rev == NULL)
			goto nomem;
		/* unspecified is sent as no reason, as in the CRL */
		single = OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_REVOKED,
		    e->reason == REASON_UNSPECIFIED ? -1 : e->reason, rev,
		    thisupd, nextupd);
		if (single != NULL && e->invalidity > 0) {
			inv = ASN1_GENERALIZEDTIME_set(NULL, e->invalidity);
			if (inv == NULL || !OCSP_SINGLERESP_add1_ext_i2d(single,
			    NID_invalidity_date, inv, 0, 0))
				goto nomem;
		}
	} else {
		single = OCSP_basic_add1_status(bs, cid, e->status == OCSPGEN_UNKNOWN ?
		    V_OCSP_CERTSTATUS_UNKNOWN : V_OCSP_CERTSTATUS_GOOD, 0, NULL,
		    thisupd, nextupd);
	}
	if (single == NULL)
		goto nomem;
	if (EVP_DigestSignInit(ctx, NULL, alg.md, NULL, rkey) != 1 ||
	    OCSP_basic_sign_ctx(bs, rcert, ctx, NULL, OCSP_RESPID_KEY) != 1) {
		snprintf(err, errlen, "OCSP: signing failed");
		goto out;
	}
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	if (resp == NULL || response_der(resp, der, derlen) < 0)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "OCSP: out of memory");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(cid);
	ASN1_INTEGER_free(ser);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
	ASN1_GENERALIZEDTIME_free(inv);
	return rc;
}

int
ocspgen_error(int status, unsigned char **der, size_t *derlen)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	int rc = r != NULL && response_der(r, der, derlen) == 0 ? 0 : -1;

	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return rc;
}
