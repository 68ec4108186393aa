/* vec — growing arrays.  See vec.h. */
#include "vec.h"

#include <string.h>

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

void
vec_str_add(struct vec_str *s, const char *text)
{
	size_t n = strlen(text);

	s->p = vec_grow(s->p, &s->cap, s->len + n + 1, 1);
	memcpy(s->p + s->len, text, n + 1);
	s->len += n;
}
