/*
 * libFuzzer target for the streaming LDIF reader (batch import --from-ldif).
 *
 * Input: one control byte (seeds the chunk sizes), then LDIF.  The input is
 * parsed twice, in one piece and in chunks, and both parses must deliver
 * exactly the same records.  Every record is checked against the reader's
 * guarantees: consecutive numbers, a message iff refused (then no dn and no
 * values), at most LDIFREAD_MAX_ATTRS values of at most LDIFREAD_MAX_VALUE
 * bytes, NUL-terminated with no NUL inside.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ldifread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

struct run {
	uint64_t hash;
	uint64_t records;
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		r->hash ^= b[i];
		r->hash *= 0x100000001b3ULL;
	}
}

static int
on_record(const struct ldif_entry *e, void *ctx)
{
	struct run *r = ctx;
	size_t i;

	CHECK(e->num == r->records + 1);
	r->records++;
	CHECK(e->dn != NULL);
	if (e->error != NULL) {
		CHECK(e->dn[0] == '\0' && e->nattrs == 0);
		mix(r, e->error, strlen(e->error));
	}
	CHECK(e->nattrs <= LDIFREAD_MAX_ATTRS);
	mix(r, e->dn, strlen(e->dn) + 1);
	mix(r, &e->line, sizeof(e->line));
	for (i = 0; i < e->nattrs; i++) {
		const struct ldif_attr *a = &e->attrs[i];

		CHECK(a->len <= LDIFREAD_MAX_VALUE);
		CHECK(a->value[a->len] == '\0' && strlen(a->value) == a->len);
		mix(r, a->name, strlen(a->name) + 1);
		mix(r, a->value, a->len + 1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole = { 0xcbf29ce484222325ULL, 0 }, chunked = whole;
	struct ldifread *r;
	const char *p;
	size_t n, off, step;
	unsigned seed;

	if (size < 1)
		return 0;
	seed = data[0];
	p = (const char *)data + 1;
	n = size - 1;

	CHECK((r = ldifread_new()) != NULL);
	ldifread_feed(r, p, n, on_record, &whole);
	ldifread_finish(r, on_record, &whole);
	ldifread_free(r);

	CHECK((r = ldifread_new()) != NULL);
	for (off = 0; off < n; off += step) {
		step = 1 + (seed = seed * 1103515245u + 12345u) % 97;
		if (step > n - off)
			step = n - off;
		ldifread_feed(r, p + off, step, on_record, &chunked);
	}
	ldifread_finish(r, on_record, &chunked);
	CHECK(ldifread_records(r) == chunked.records);
	ldifread_free(r);

	CHECK(whole.records == chunked.records && whole.hash == chunked.hash);
	return 0;
}
