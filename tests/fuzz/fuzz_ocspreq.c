/*
 * libFuzzer target: arbitrary bytes through what provd-ocsp does with a
 * request from the network — ocspreq_base64 (the GET form) and
 * ocspreq_parse (both forms) — checking their promises: the decoded length
 * never exceeds the buffer, a serial comes back only for OCSPREQ_SERIAL and
 * is a valid one (1..20 bytes, no leading zero byte), a request accepted
 * once is accepted again with the same serial (no hidden state), the
 * issuer check never lets another issuer's request through, and the fast
 * path answers as OpenSSL does (ocspreq_parse_openssl), serial included.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ocspreq.h"
#include "serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The issuer hashes of a fixed test CA: the SHA-1 of nothing, twice (any
 * fixed value serves; seeds in the corpus were made for it). */
static const struct ocspreq_issuer *
issuer(void)
{
	static struct ocspreq_issuer iss;
	static int ready;
	unsigned int n;

	if (!ready) {
		EVP_Digest("", 0, iss.name_hash, &n, EVP_sha1(), NULL);
		EVP_Digest("", 0, iss.key_hash, &n, EVP_sha1(), NULL);
		ready = 1;
	}
	return &iss;
}

static void
check_parse(const unsigned char *der, size_t len)
{
	struct ocspreq_issuer other;
	struct serial s, again, ref;
	enum ocspreq_result r;

	memset(&s, 0xAA, sizeof(s));
	r = ocspreq_parse(der, len, issuer(), &s);
	CHECK(r == OCSPREQ_SERIAL || r == OCSPREQ_MALFORMED ||
	    r == OCSPREQ_OTHER_ISSUER || r == OCSPREQ_BAD_SERIAL);
	CHECK(ocspreq_parse_openssl(der, len, issuer(), &ref) == r);
	CHECK(r != OCSPREQ_SERIAL || serial_cmp(&s, &ref) == 0);
	if (r != OCSPREQ_SERIAL)
		return;
	CHECK(s.len >= 1 && s.len <= SERIAL_MAX_BYTES && s.bytes[0] != 0);
	CHECK(ocspreq_parse(der, len, issuer(), &again) == OCSPREQ_SERIAL);
	CHECK(serial_cmp(&s, &again) == 0);
	/* the same request is another issuer's to a responder of another CA */
	memcpy(&other, issuer(), sizeof(other));
	other.key_hash[0] ^= 1;
	CHECK(ocspreq_parse(der, len, &other, &again) == OCSPREQ_OTHER_ISSUER);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[OCSPREQ_MAX];
	long n;

	check_parse(data, size);
	n = ocspreq_base64((const char *)data, size, out, sizeof(out));
	CHECK(n >= -1 && n <= (long)sizeof(out));
	if (n > 0) {
		CHECK((size_t)n <= size);
		check_parse(out, (size_t)n);
	}
	return 0;
}
