/*
 * hex — hexadecimal digits, for the parsers of DN escapes (\4A) and
 * serial numbers.
 */
#ifndef PROVD_HEX_H
#define PROVD_HEX_H

/* The value 0..15 of the hex digit c (either case), or -1 when c is not
 * one.  c is an unsigned char value or EOF. */
int hex_value(int c);

#endif
