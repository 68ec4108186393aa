/*
 * dn.h — distinguished names typed by an officer (ca create --subject).
 */
#ifndef PROVD_PKI_DN_H
#define PROVD_PKI_DN_H

#include <stddef.h>
#include <openssl/x509.h>

#define DN_TEXT_MAX   1024   /* longest DN text accepted */
#define DN_MAX_RDNS   16
#define DN_VALUE_MAX  64     /* characters per value (RFC 5280 upper bounds) */

/*
 * Parse a DN in either of the two forms officers copy from OpenSSL:
 *   "/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA"   (openssl -subj:
 *      most significant first, "\/" escapes a slash)
 *   "CN=Vinh Phuc Staff CA,O=UBND tỉnh Vĩnh Phúc,C=VN"   (RFC 4514: most
 *      specific first; "\," "\+" "\\" "\"" and \XX hex escapes)
 * Values are UTF-8 (checked); types: C, ST, L, O, OU, CN, DC, serialNumber,
 * street, title (case-insensitive).  C must be two letters and is encoded as
 * PrintableString, serialNumber as PrintableString, DC as IA5String, all
 * others as UTF8String.  Multi-valued RDNs ('+') and #hex values are
 * refused.  On success *out is a new X509_NAME (caller frees) and 0 is
 * returned; else -1 with a message naming the bad attribute.
 */
int dn_parse(const char *text, X509_NAME **out, char *err, size_t errlen);

/*
 * Add one attribute to name with the encoding rules above (C, serialNumber:
 * PrintableString; DC: IA5String; others: UTF8String).  value must be valid
 * UTF-8 without control characters, 1..DN_VALUE_MAX characters.  field names
 * the value in messages.  Returns 0 or -1.
 */
int dn_add(X509_NAME *name, int nid, const char *value, const char *field,
    char *err, size_t errlen);

#endif
