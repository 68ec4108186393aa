/*
 * serial.h — certificate serial numbers: random generation and the hex
 * forms used in LDAP records, index.txt and by officers on the command line.
 *
 * A serial is held as a big-endian magnitude of 1..20 bytes without leading
 * zero bytes (RFC 5280 §4.1.2.2: positive, at most 20 octets).
 */
#ifndef PROVD_PKI_SERIAL_H
#define PROVD_PKI_SERIAL_H

#include <stddef.h>
#include <openssl/asn1.h>

#define SERIAL_MAX_BYTES   20
#define SERIAL_HEX_MAX     (2 * SERIAL_MAX_BYTES)   /* digits, without NUL */
#define SERIAL_TEXT_MAX    128                      /* longest text parsed */

struct serial {
	size_t        len;                      /* 1..SERIAL_MAX_BYTES */
	unsigned char bytes[SERIAL_MAX_BYTES];  /* big-endian, bytes[0] != 0 */
};

/*
 * Fill *out with 20 bytes from the CSPRNG (RAND_bytes), top bit cleared and
 * first byte non-zero, so every serial is positive and exactly 20 bytes long
 * (159 random bits).  Returns 0, or -1 with a message in err when the
 * generator fails.
 */
int serial_random(struct serial *out, char *err, size_t errlen);

/*
 * Write the serial as hex, two digits per byte, no separators, lower case
 * (upper != 0: upper case, as index.txt wants).  out must hold
 * SERIAL_HEX_MAX + 1 bytes.  Never fails for a valid serial.
 */
void serial_to_hex(const struct serial *s, int upper,
    char out[SERIAL_HEX_MAX + 1]);

/*
 * Parse a serial typed by a person or copied from OpenSSL output: upper or
 * lower case hex, optionally prefixed "serial=" (openssl x509 -serial) or
 * "0x", optionally split by colons into two-digit groups (openssl x509
 * -text), surrounded by blanks.  Leading zero bytes are dropped.  Refuses
 * empty text, non-hex characters, zero, and more than 20 bytes.  Returns 0,
 * or -1 with a message naming the problem.
 */
int serial_parse(const char *text, struct serial *out, char *err,
    size_t errlen);

/*
 * Convert from an ASN1_INTEGER (e.g. X509_get0_serialNumber).  Refuses
 * negative, zero and longer-than-20-byte values.  Returns 0 or -1.
 */
int serial_from_asn1(const ASN1_INTEGER *ai, struct serial *out, char *err,
    size_t errlen);

/* New ASN1_INTEGER holding the serial (caller frees), NULL on no memory. */
ASN1_INTEGER *serial_to_asn1(const struct serial *s);

/* Numeric comparison: <0, 0, >0. */
int serial_cmp(const struct serial *a, const struct serial *b);

#endif
