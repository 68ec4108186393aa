/*
 * vec — growing arrays of plain structs (the CRL and OCSP publishers'
 * record lists), and growing strings (search filters, reports).
 */
#ifndef PROVD_VEC_H
#define PROVD_VEC_H

#include <stddef.h>

/*
 * v (may be NULL) with room for need elements of size bytes, doubling
 * from 64; *cap is updated.  v may move.  Running out of memory is fatal.
 */
void *vec_grow(void *v, size_t *cap, size_t need, size_t size);

/* A growing NUL-terminated string; { 0 } is empty (p NULL until the first
 * vec_str_add), freed with free(s.p). */
struct vec_str {
	char  *p;
	size_t len, cap;
};

/* Append text to s (out of memory is fatal). */
void vec_str_add(struct vec_str *s, const char *text);

#endif
