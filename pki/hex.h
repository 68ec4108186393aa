/*
 * hex — hexadecimal digits: the parsers of DN escapes (\4A) and serial
 * numbers, and the lower-case hex of digests and tokens.
 */

#include <stddef.h>
#ifndef PROVD_HEX_H
#define PROVD_HEX_H

/* The value 0..15 of the hex digit c (either case), or -1 when c is not
 * one.  c is an unsigned char value or EOF. */
int hex_value(int c);

/* in[0..n) as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
