/*
 * libFuzzer target: arbitrary bytes as an audit journal (a file anyone with
 * the service user's rights could have edited) through journal_parse and the
 * chain checker, and as a message through journal_format, checking their
 * promises: a parsed record's hash_ok agrees with the hash recomputed over
 * its line, the checker names a line it was given, and whatever is
 * formatted parses back whole, with a matching hash and the same seq.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct journal_record rec;
static struct journal_check chk;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char msg[2048], gen[JOURNAL_HEX], h[JOURNAL_HEX];
	size_t lines = 0, n;
	struct buf b;

	journal_check_init(&chk);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lines++;
		if (journal_parse(p, n, &rec) == 0) {
			const char *hk = NULL, *q;

			CHECK(rec.seq >= 1);
			CHECK(strlen(rec.hash) == 64 && strlen(rec.prev) == 64);
			/* The last ,"hash": of the line starts the hash member. */
			for (q = p; q + 8 <= p + n; q++)
				if (memcmp(q, ",\"hash\":", 8) == 0)
					hk = q;
			CHECK(hk != NULL);
			journal_sha256_hex(p, (size_t)(hk - p), h);
			CHECK(rec.hash_ok == (strcmp(h, rec.hash) == 0));
		}
		if (!journal_check_line(&chk, p, n, nl != NULL))
			break;
		p = nl ? nl + 1 : end;
	}
	journal_check_end(&chk, 0, NULL);
	CHECK(chk.records <= lines);
	if (chk.problem != JOURNAL_OK) {
		CHECK(chk.bad_line >= 1 && chk.bad_line <= lines);
		CHECK(chk.detail[0] != '\0');
	}

	/* Round trip of the input as a message. */
	n = strnlen((const char *)data, size < sizeof(msg) - 1 ? size : sizeof(msg) - 1);
	memcpy(msg, data, n);
	msg[n] = '\0';
	{
		struct journal_entry e = {
			.time = "2026-11-28T05:00:00Z", .req = 1, .uid = 0, .user = msg,
			.pid = 1, .cmd = "ping", .args = msg, .note = "", .status = 0,
			.status_name = "ok", .ms = 0, .msg = msg,
		};

		journal_genesis(gen);
		buf_init(&b, JOURNAL_MAX_LINE + 1);
		if (journal_format(&b, &e, 42, gen, h) == 0) {
			CHECK(b.len > 0 && buf_head(&b)[b.len - 1] == '\n');
			CHECK(memchr(buf_head(&b), '\n', b.len - 1) == NULL);
			CHECK(journal_parse(buf_head(&b), b.len - 1, &rec) == 0);
			CHECK(rec.hash_ok && rec.seq == 42);
			CHECK(strcmp(rec.hash, h) == 0 && strcmp(rec.prev, gen) == 0);
		}
		buf_free(&b);
	}
	return 0;
}
