/* vec — growing arrays.  See vec.h. */
#include "vec.h"

#include <stdlib.h>

#include "log.h"

void *
vec_grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;

	if (need <= *cap)
		return v;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	if ((v = realloc(v, ncap * size)) == NULL)
		fatal("out of memory (%zu elements of %zu bytes)", ncap, size);
	*cap = ncap;
	return v;
}
