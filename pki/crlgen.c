/*
 * crlgen.c — CRL building and publishing (see crlgen.h).
 */
#include "crlgen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "der.h"
#include "fileio.h"
#include "reason.h"
#include "sigalg.h"

#define KEYID_LEN   20
#define ENTRY_MAX   128     /* bytes of one encoded entry, generously */

static int
cmp_entry_ptr(const void *a, const void *b)
{
	const struct crl_entry *x = *(const struct crl_entry *const *)a;
	const struct crl_entry *y = *(const struct crl_entry *const *)b;

	return serial_cmp(&x->serial, &y->serial);
}

/*
 * UTC calendar fields of t without gmtime_r (which takes a lock): days to
 * civil date after H. Hinnant's "chrono-compatible low-level date
 * algorithms".  Returns -1 outside years 1950..9999.
 */
static int
civil(time_t t, int f[6])
{
	long long days = t / 86400, secs = t % 86400, z, era, doe, yoe, doy,
	    mp, y;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	f[2] = (int)(doy - (153 * mp + 2) / 5 + 1);
	f[1] = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += f[1] <= 2;
	if (y < 1950 || y > 9999)
		return -1;
	f[0] = (int)y;
	f[3] = (int)(secs / 3600);
	f[4] = (int)(secs / 60 % 60);
	f[5] = (int)(secs % 60);
	return 0;
}

static unsigned char *
put2(unsigned char *p, int v)
{
	*p++ = (unsigned char)('0' + v / 10 % 10);
	*p++ = (unsigned char)('0' + v % 10);
	return p;
}

/*
 * Encode t as a Time (UTCTime through 2049, GeneralizedTime after, per
 * RFC 5280) or, with general set, always as GeneralizedTime.  out needs
 * 17 bytes.  Returns the length, or 0 for a time out of range.
 */
static size_t
put_time(unsigned char *out, time_t t, int general)
{
	unsigned char *p = out;
	int f[6], i;

	if (civil(t, f) < 0)
		return 0;
	if (!general && f[0] < 2050) {
		*p++ = DER_UTCTIME;
		*p++ = 13;
		p = put2(p, f[0] % 100);
	} else {
		*p++ = DER_GENERALIZEDTIME;
		*p++ = 15;
		p = put2(p, f[0] / 100);
		p = put2(p, f[0] % 100);
	}
	for (i = 1; i < 6; i++)
		p = put2(p, f[i]);
	*p++ = 'Z';
	return (size_t)(p - out);
}

/* One revokedCertificates entry into out (ENTRY_MAX); returns length. */
static size_t
put_entry(unsigned char *out, const struct crl_entry *e)
{
	unsigned char body[ENTRY_MAX], ext[64], *p = body;
	size_t blen, elen = 0, n, hdr;
	int pad = (e->serial.bytes[0] & 0x80) != 0;

	*p++ = DER_INTEGER;
	*p++ = (unsigned char)(e->serial.len + (size_t)pad);
	if (pad)
		*p++ = 0;
	memcpy(p, e->serial.bytes, e->serial.len);
	p += e->serial.len;
	n = put_time(p, e->revoked_at, 0);
	if (n == 0)
		return 0;
	p += n;
	if (e->reason != REASON_UNSPECIFIED) {
		/* Extension { id-ce-cRLReasons, OCTET STRING { ENUMERATED } } */
		static const unsigned char reason_hdr[] = { DER_SEQUENCE, 0x0a,
		    DER_OID, 0x03, 0x55, 0x1d, 0x15, DER_OCTET_STRING, 0x03,
		    DER_ENUMERATED, 0x01 };

		memcpy(ext + elen, reason_hdr, sizeof(reason_hdr));
		elen += sizeof(reason_hdr);
		ext[elen++] = (unsigned char)e->reason;
	}
	if (e->invalidity_date != 0) {
		/* Extension { id-ce-invalidityDate, OCTET STRING { GenTime } } */
		static const unsigned char inv_hdr[] = { DER_SEQUENCE, 0x18,
		    DER_OID, 0x03, 0x55, 0x1d, 0x18, DER_OCTET_STRING, 0x11 };

		memcpy(ext + elen, inv_hdr, sizeof(inv_hdr));
		elen += sizeof(inv_hdr);
		if (put_time(ext + elen, e->invalidity_date, 1) != 17)
			return 0;
		elen += 17;
	}
	if (elen > 0) {
		*p++ = DER_SEQUENCE;
		*p++ = (unsigned char)elen;
		memcpy(p, ext, elen);
		p += elen;
	}
	blen = (size_t)(p - body);
	hdr = 0;
	out[hdr++] = DER_SEQUENCE;
	out[hdr++] = (unsigned char)blen;     /* always < 128 */
	memcpy(out + hdr, body, blen);
	return hdr + blen;
}

/* DER of one X509_EXTENSION made by OpenSSL from its internal form. */
static int
put_ext(struct der_buf *b, int nid, void *value)
{
	X509_EXTENSION *ext = X509V3_EXT_i2d(nid, 0, value);
	unsigned char *d = NULL;
	int n = ext != NULL ? i2d_X509_EXTENSION(ext, &d) : -1;

	X509_EXTENSION_free(ext);
	if (n <= 0)
		return -1;
	der_put(b, d, (size_t)n);
	OPENSSL_free(d);
	return 0;
}

/* [0] EXPLICIT Extensions { authorityKeyIdentifier, cRLNumber } */
static int
put_crl_extensions(struct der_buf *out, X509 *ca, uint64_t number)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	const ASN1_BIT_STRING *bits;
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	unsigned char md[KEYID_LEN];
	unsigned int mdlen = 0;
	struct der_buf exts;
	int rc = -1;

	der_buf_init(&exts);
	if (akid == NULL || num == NULL)
		goto out;
	if (ski != NULL) {
		akid->keyid = ASN1_OCTET_STRING_dup(ski);
	} else {
		bits = X509_get0_pubkey_bitstr(ca);
		akid->keyid = ASN1_OCTET_STRING_new();
		if (bits == NULL || akid->keyid == NULL ||
		    EVP_Digest(ASN1_STRING_get0_data(bits),
		    (size_t)ASN1_STRING_length(bits), md, &mdlen, EVP_sha1(),
		    NULL) != 1 ||
		    !ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen))
			goto out;
	}
	if (akid->keyid == NULL || !ASN1_INTEGER_set_uint64(num, number) ||
	    put_ext(&exts, NID_authority_key_identifier, akid) < 0 ||
	    put_ext(&exts, NID_crl_number, num) < 0 || exts.failed)
		goto out;
	der_put_header(out, DER_CONTEXT0_CONS, der_header_len(exts.len) +
	    exts.len);
	der_put_header(out, DER_SEQUENCE, exts.len);
	der_put(out, exts.p, exts.len);
	rc = out->failed ? -1 : 0;
out:
	der_buf_free(&exts);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	return rc;
}

int
crlgen_build(X509 *cacert, uint64_t number, time_t now,
    unsigned next_update_days, const struct crl_entry *entries, size_t n,
    unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	const struct crl_entry **order = NULL;
	unsigned char *issuer = NULL, tm[2][20];
	char hex[SERIAL_HEX_MAX + 1];
	struct der_buf list, tbs, out;
	struct sigalg alg;
	size_t i, tmlen[2];
	int ilen, rc = -1;

	*der = NULL;
	*derlen = 0;
	der_buf_init(&list);
	der_buf_init(&tbs);
	der_buf_init(&out);
	if (cacert == NULL) {
		snprintf(err, errlen, "CRL: no CA certificate");
		goto out;
	}
	if (n > CRLGEN_MAX_ENTRIES || (n > 0 && entries == NULL)) {
		snprintf(err, errlen, "CRL: more than %u entries",
		    CRLGEN_MAX_ENTRIES);
		goto out;
	}
	if (next_update_days < 1 || next_update_days > CRLGEN_NEXT_DAYS_MAX) {
		snprintf(err, errlen, "crl_days: must be between 1 and %d",
		    CRLGEN_NEXT_DAYS_MAX);
		goto out;
	}
	if (sigalg_for_key(X509_get0_pubkey(cacert), &alg, err, errlen) < 0)
		goto out;
	if (now == 0)
		now = time(NULL);
	tmlen[0] = put_time(tm[0], now, 0);
	tmlen[1] = put_time(tm[1], now + (time_t)next_update_days * 86400, 0);
	if (tmlen[0] == 0 || tmlen[1] == 0) {
		snprintf(err, errlen, "CRL: current time out of range");
		goto out;
	}

	/* Sort pointers, not the caller's array; then catch duplicates. */
	if (n > 0) {
		order = malloc(n * sizeof(*order));
		if (order == NULL)
			goto nomem;
		for (i = 0; i < n; i++)
			order[i] = &entries[i];
		/* Callers that keep their entries sorted skip the sort. */
		for (i = 1; i < n; i++)
			if (cmp_entry_ptr(&order[i - 1], &order[i]) > 0)
				break;
		if (i < n)
			qsort(order, n, sizeof(*order), cmp_entry_ptr);
		if (der_reserve(&list, n * 48) < 0)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		const struct crl_entry *e = order[i];
		size_t len;

		if (e->serial.len == 0 || e->serial.len > SERIAL_MAX_BYTES ||
		    (e->serial.len > 1 && e->serial.bytes[0] == 0)) {
			snprintf(err, errlen, "CRL entry %zu: bad serial", i);
			goto out;
		}
		if (!reason_valid_for_crl(e->reason)) {
			serial_to_hex(&e->serial, 0, hex);
			snprintf(err, errlen, "CRL entry %s: reason %d cannot "
			    "appear in a CRL", hex, e->reason);
			goto out;
		}
		if (i > 0 && serial_cmp(&order[i - 1]->serial,
		    &e->serial) == 0) {
			serial_to_hex(&e->serial, 0, hex);
			snprintf(err, errlen, "CRL entry %s: serial listed "
			    "twice", hex);
			goto out;
		}
		if (der_reserve(&list, ENTRY_MAX) < 0)
			goto nomem;
		len = put_entry(list.p + list.len, e);
		if (len == 0) {
			serial_to_hex(&e->serial, 0, hex);
			snprintf(err, errlen, "CRL entry %s: revocation or "
			    "invalidity time out of range", hex);
			goto out;
		}
		list.len += len;
	}

	ilen = i2d_X509_NAME(X509_get_subject_name(cacert), &issuer);
	if (ilen <= 0)
		goto nomem;
	/* TBSCertList */
	der_put(&tbs, "\x02\x01\x01", 3);               /* version v2 */
	der_put(&tbs, alg.algid, alg.algid_len);
	der_put(&tbs, issuer, (size_t)ilen);
	der_put(&tbs, tm[0], tmlen[0]);
	der_put(&tbs, tm[1], tmlen[1]);
	if (n > 0) {
		der_put_header(&tbs, DER_SEQUENCE, list.len);
		der_put(&tbs, list.p, list.len);
	}
	if (put_crl_extensions(&tbs, cacert, number) < 0 || tbs.failed)
		goto nomem;
	/* CertificateList with an empty signature */
	der_put_header(&out, DER_SEQUENCE, der_header_len(tbs.len) + tbs.len +
	    alg.algid_len + 3);
	der_put_header(&out, DER_SEQUENCE, tbs.len);
	der_put(&out, tbs.p, tbs.len);
	der_put(&out, alg.algid, alg.algid_len);
	der_put(&out, "\x03\x01\x00", 3);
	if (out.failed)
		goto nomem;
	*der = out.p;
	*derlen = out.len;
	der_buf_init(&out);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "CRL: out of memory");
out:
	ERR_clear_error();
	OPENSSL_free(issuer);
	der_buf_free(&list);
	der_buf_free(&tbs);
	der_buf_free(&out);
	free(order);
	return rc;
}

int
crlgen_write_file(const char *path, const unsigned char *data, size_t len,
    char *err, size_t errlen)
{
	char tmp[CRLGEN_PATH_MAX + 16], dir[CRLGEN_PATH_MAX];
	int fd = -1, rc = -1, created = 0;

	if (path == NULL || *path == '\0' ||
	    strnlen(path, CRLGEN_PATH_MAX) >= CRLGEN_PATH_MAX ||
	    fileio_parent_dir(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "CRL file: bad path");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create temporary file: %s",
		    path, strerror(errno));
		goto out;
	}
	created = 1;
	if (fileio_write_synced(fd, 0644, data, len) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	created = 0;
	if (fileio_fsync_dir(dir) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return rc;
}
