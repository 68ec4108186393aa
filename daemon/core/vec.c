/* vec — growing arrays.  See vec.h. */
#include "vec.h"

#include "xmalloc.h"

void *
vec_grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;

	if (need <= *cap)
		return v;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	v = xrealloc(v, ncap * size);
	*cap = ncap;
	return v;
}
