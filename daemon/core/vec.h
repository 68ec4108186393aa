/*
 * vec — growing arrays of plain structs (the CRL and OCSP publishers'
 * record lists).
 */
#ifndef PROVD_VEC_H
#define PROVD_VEC_H

#include <stddef.h>

/*
 * v (may be NULL) with room for need elements of size bytes, doubling
 * from 64; *cap is updated.  v may move.  Running out of memory is fatal.
 */
void *vec_grow(void *v, size_t *cap, size_t need, size_t size);

#endif
