/*
 * libFuzzer target for the streaming CSV reader.
 *
 * Input: two control bytes, then CSV. Control byte 0 picks the limits
 * (defaults, or small ones so that every limit is reached); byte 1 seeds
 * the chunk sizes. The input is parsed twice, in one piece and in chunks,
 * and both parses must deliver exactly the same rows. Every row is checked
 * against the reader's guarantees: consecutive record numbers, increasing
 * lines, bounded NUL-free valid UTF-8 fields, a message iff an error, and
 * memory that never changes.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iproto -Idaemon/core -Idaemon/accounts \
 *       daemon/accounts/csv.c daemon/core/errmsg.c tests/fuzz/fuzz_csv.c -lunistring \
 *       -o fuzz_csv
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <unistr.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

struct run {
	struct csv_limits lim;
	uint64_t hash;
	uint64_t rows;
	uint64_t last_line;
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
row_cb(const struct csv_row *row, void *ctx)
{
	struct run *r = ctx;
	size_t i;

	CHECK(row->record == r->rows + 1);
	CHECK(row->line > r->last_line);
	CHECK(row->nfields <= r->lim.max_fields);
	CHECK(row->fields != NULL && row->fields[row->nfields] == NULL);
	CHECK(row->error >= CSV_OK && row->error <= CSV_ERR_UNTERMINATED);
	CHECK((row->error == CSV_OK) == (row->error_column == 0));
	CHECK((row->error == CSV_OK) == (row->error_msg[0] == '\0'));
	CHECK(strlen(row->error_msg) < CSV_ERRMSG_MAX);
	/* A good row has every field it read. */
	CHECK(row->error != CSV_OK || row->nfields >= 1);
	r->rows++;
	r->last_line = row->line;

	mix(r, &row->record, sizeof(row->record));
	mix(r, &row->line, sizeof(row->line));
	mix(r, &row->nfields, sizeof(row->nfields));
	mix(r, &row->error, sizeof(row->error));
	mix(r, &row->error_column, sizeof(row->error_column));
	for (i = 0; i < row->nfields; i++) {
		size_t n = strlen(row->fields[i]);
		CHECK(n == row->lengths[i]);
		CHECK(n <= r->lim.max_field);
		CHECK(u8_check((const uint8_t *)row->fields[i], n) == NULL);
		mix(r, row->fields[i], n + 1);
	}
	return 0;
}

/* Parse data in chunks whose sizes come from `seed` (0: one piece). */
static int
parse(struct run *r, const uint8_t *data, size_t size, uint32_t seed)
{
	struct csv_reader *rd = csv_reader_new(&r->lim);
	size_t off = 0, mem;
	int rc;

	CHECK(rd != NULL);
	mem = csv_reader_memory(rd);
	r->hash = 0xcbf29ce484222325ULL;
	r->rows = 0;
	r->last_line = 0;
	while (off < size) {
		size_t n = size - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 17;
			if (n > size - off)
				n = size - off;
		}
		CHECK(csv_feed(rd, (const char *)data + off, n, row_cb, r) == 0);
		CHECK(csv_reader_memory(rd) == mem);
		off += n;
	}
	rc = csv_finish(rd, row_cb, r);
	CHECK(rc == 0 || rc == -1);
	CHECK(csv_reader_memory(rd) == mem);
	CHECK(csv_reader_records(rd) == r->rows);
	csv_reader_free(rd);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	struct csv_limits lim = { 0, 0, 0 };
	int rca, rcb;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		lim.max_field = 1 + ((data[0] >> 1) & 7) * 3;
		lim.max_fields = 1 + ((data[0] >> 4) & 3) * 2;
		lim.max_record = 4 + ((data[0] >> 6) & 3) * 10;
	} else {
		lim.max_field = CSV_DEFAULT_MAX_FIELD;
		lim.max_fields = CSV_DEFAULT_MAX_FIELDS;
		lim.max_record = CSV_DEFAULT_MAX_RECORD;
	}
	if (lim.max_field > lim.max_record)
		lim.max_field = lim.max_record;
	a.lim = lim;
	b.lim = lim;
	rca = parse(&a, data + 2, size - 2, 0);
	rcb = parse(&b, data + 2, size - 2, (uint32_t)data[1] + 1);
	CHECK(rca == rcb);
	CHECK(a.rows == b.rows);
	CHECK(a.hash == b.hash);
	return 0;
}
