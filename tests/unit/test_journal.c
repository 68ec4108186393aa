/* Unit tests for daemon/ctl/journal.c: record format and hash, parsing back,
 * chain verification (changed, deleted, inserted, torn, cut at the end),
 * the chunked reader, and finding the tail to continue from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "journal.h"

#define NREC 10

/* A journal of n records as one string; heads[i] = hash of record i+1. */
static char *
make_journal(int n, char heads[][JOURNAL_HEX])
{
	struct buf b;
	char prev[JOURNAL_HEX], h[JOURNAL_HEX], args[64], *s;
	int i;

	buf_init(&b, 1u << 20);
	journal_genesis(prev);
	for (i = 0; i < n; i++) {
		struct journal_entry e = {
			.time = "2026-11-28T05:00:00Z", .req = (unsigned long)i + 1, .uid = 0,
			.user = "root", .pid = 100 + i, .cmd = "user show", .args = args,
			.note = i == 1 ? "login=annv" : "", .status = 0, .status_name = "ok",
			.ms = 1, .msg = "ok \"quoted\" \\ Nguyễn\tTab",
		};

		snprintf(args, sizeof(args), "user%d", i + 1);
		assert_int_equal(journal_format(&b, &e, (unsigned long long)i + 1, prev, h), 0);
		memcpy(prev, h, JOURNAL_HEX);
		if (heads != NULL)
			memcpy(heads[i], h, JOURNAL_HEX);
	}
	assert_int_equal(buf_append(&b, "", 1), 0);
	s = strdup(buf_head(&b));
	buf_free(&b);
	return s;
}

/* Verify text line by line, with key (NULL: unkeyed) and the writer's head
 * (0/NULL: none); returns the problem, fills *line and *records. */
static enum journal_problem
check_run(const char *text, const struct journal_key *key, unsigned long long head_seq,
          const char *head, unsigned long *line, unsigned long *records)
{
	struct journal_check *c = malloc(sizeof(*c));
	const char *p = text, *nl;
	enum journal_problem pr;

	assert_non_null(c);
	journal_check_init(c);
	if (key != NULL)
		journal_check_key(c, key);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			journal_check_line(c, p, strlen(p), false);
			break;
		}
		if (!journal_check_line(c, p, (size_t)(nl - p), true))
			break;
		p = nl + 1;
	}
	journal_check_end(c, head_seq, head);
	pr = c->problem;
	*line = c->bad_line;
	if (records != NULL)
		*records = c->records;
	free(c);
	return pr;
}

static enum journal_problem
check_text(const char *text, unsigned long long head_seq, const char *head,
           unsigned long *line, unsigned long *records)
{
	return check_run(text, NULL, head_seq, head, line, records);
}

/* Pointer to the start of line n (1-based) of text. */
static char *
line_at(char *text, int n)
{
	char *p = text;

	while (--n > 0)
		p = strchr(p, '\n') + 1;
	return p;
}

static void
test_format_and_parse(void **state)
{
	char *j = make_journal(2, NULL), *nl = strchr(j, '\n');
	struct journal_record *r = malloc(sizeof(*r));
	char gen[JOURNAL_HEX], body_hash[JOURNAL_HEX];
	const char *hk;

	(void)state;
	assert_non_null(r);
	assert_int_equal(journal_parse(j, (size_t)(nl - j), r), 0);
	assert_true(r->hash_ok);
	assert_int_equal(r->seq, 1);
	journal_genesis(gen);
	assert_string_equal(r->prev, gen);
	assert_string_equal(r->time, "2026-11-28T05:00:00Z");
	assert_string_equal(r->user, "root");
	assert_string_equal(r->args, "user1");
	assert_string_equal(r->msg, "ok \"quoted\" \\ Nguyễn\tTab");
	assert_int_equal(r->pid, 100);
	/* hash = SHA-256 of the bytes before ,"hash": */
	hk = strstr(j, ",\"hash\":");
	journal_sha256_hex(j, (size_t)(hk - j), body_hash);
	assert_string_equal(r->hash, body_hash);
	/* One changed byte: still a record, hash no longer matches. */
	j[20] = j[20] == '0' ? '1' : '0';
	assert_int_equal(journal_parse(j, (size_t)(nl - j), r), 0);
	assert_false(r->hash_ok);
	/* Not records. */
	assert_int_equal(journal_parse("", 0, r), -1);
	assert_int_equal(journal_parse("{}", 2, r), -1);
	assert_int_equal(journal_parse("hello", 5, r), -1);
	assert_int_equal(journal_parse(j, 40, r), -1);
	assert_true(journal_is_torn(j, 40));
	assert_false(journal_is_torn(j, (size_t)(nl - j)));
	free(r);
	free(j);
}

static void
test_intact(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = make_journal(NREC, heads);
	unsigned long line, records;

	(void)state;
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, &records), JOURNAL_OK);
	assert_int_equal(records, NREC);
	assert_int_equal(check_text("", 0, NULL, &line, &records), JOURNAL_OK);
	assert_int_equal(records, 0);
	free(j);
}

static void
test_changed(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = make_journal(NREC, heads), *p = strstr(line_at(j, 3), "user3");
	unsigned long line;

	(void)state;
	p[0] = 'U';
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, NULL), JOURNAL_CHANGED);
	assert_int_equal(line, 3);
	free(j);
	/* The last line changed: no next line to compare with. */
	j = make_journal(NREC, heads);
	p = strstr(line_at(j, NREC), "user10");
	p[0] = 'U';
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, NULL), JOURNAL_CHANGED);
	assert_int_equal(line, NREC);
	free(j);
}

static void
test_deleted(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = make_journal(NREC, heads), *l5 = line_at(j, 5), *l7 = line_at(j, 7);
	unsigned long line;

	(void)state;
	memmove(l5, l7, strlen(l7) + 1);          /* drop records 5 and 6 */
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, NULL), JOURNAL_DELETED);
	assert_int_equal(line, 5);
	free(j);
	/* The first record removed. */
	j = make_journal(NREC, heads);
	memmove(j, line_at(j, 2), strlen(line_at(j, 2)) + 1);
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, NULL), JOURNAL_DELETED);
	assert_int_equal(line, 1);
	free(j);
	/* The last records removed: only the writer's head tells. */
	j = make_journal(NREC, heads);
	*line_at(j, 9) = '\0';
	assert_int_equal(check_text(j, 0, NULL, &line, NULL), JOURNAL_OK);
	assert_int_equal(check_text(j, NREC, heads[NREC - 1], &line, NULL), JOURNAL_DELETED);
	free(j);
}

static char *
insert_line(const char *j, int after, const char *line)
{
	size_t n = strlen(j) + strlen(line) + 2;
	char *out = malloc(n), *copy = strdup(j), *at = line_at(copy, after + 1);

	assert_non_null(out);
	*at = '\0';
	snprintf(out, n, "%s%s\n%s", copy, line, j + (at - copy));
	free(copy);
	return out;
}

static void
test_inserted(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = make_journal(NREC, heads), *l2, *t;
	unsigned long line;
	size_t l2len;

	(void)state;
	/* A copy of record 2 after record 6. */
	l2 = line_at(j, 2);
	l2len = (size_t)(strchr(l2, '\n') - l2);
	{
		char copy[JOURNAL_MAX_LINE];

		memcpy(copy, l2, l2len);
		copy[l2len] = '\0';
		t = insert_line(j, 6, copy);
	}
	assert_int_equal(check_text(t, NREC, heads[NREC - 1], &line, NULL), JOURNAL_INSERTED);
	assert_int_equal(line, 7);
	free(t);
	/* A forged line with a made-up hash. */
	t = insert_line(j, 6, "{\"seq\":7,\"time\":\"x\",\"prev\":\""
	                "0000000000000000000000000000000000000000000000000000000000000000"
	                "\",\"hash\":\""
	                "1111111111111111111111111111111111111111111111111111111111111111\"}");
	assert_int_equal(check_text(t, NREC, heads[NREC - 1], &line, NULL), JOURNAL_INSERTED);
	assert_int_equal(line, 7);
	free(t);
	/* Free text. */
	t = insert_line(j, 3, "nothing to see here");
	assert_int_equal(check_text(t, NREC, heads[NREC - 1], &line, NULL), JOURNAL_INSERTED);
	assert_int_equal(line, 4);
	free(t);
	/* A well-formed forgery with a correct hash and seq but a wrong prev. */
	{
		struct buf b;
		char h[JOURNAL_HEX];
		struct journal_entry e = {
			.time = "2026-11-28T05:00:00Z", .user = "root", .cmd = "user delete",
			.args = "annv", .note = "", .status_name = "ok", .msg = "ok",
		};

		buf_init(&b, 1u << 16);
		assert_int_equal(journal_format(&b, &e, 7, heads[0], h), 0);
		b.len--;                          /* no '\n' */
		assert_int_equal(buf_append(&b, "", 1), 0);
		t = insert_line(j, 6, buf_head(&b));
		buf_free(&b);
	}
	assert_int_equal(check_text(t, NREC, heads[NREC - 1], &line, NULL), JOURNAL_INSERTED);
	assert_int_equal(line, 7);
	free(t);
	free(j);
}

static void
test_torn(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = make_journal(NREC, heads), *l8 = line_at(j, 8), *t;
	unsigned long line;

	(void)state;
	l8[40] = '\0';                            /* cut in the middle of record 8 */
	assert_int_equal(check_text(j, 0, NULL, &line, NULL), JOURNAL_TORN);
	assert_int_equal(line, 8);
	/* Ended with a newline by a restart, more records after it. */
	t = malloc(strlen(j) + 2);
	sprintf(t, "%s\n", j);
	assert_int_equal(check_text(t, 0, NULL, &line, NULL), JOURNAL_TORN);
	assert_int_equal(line, 8);
	free(t);
	free(j);
}

struct lines {
	int    n, incomplete;
	size_t longest;
	char   last[64];
};

static bool
count_line(void *ctx, const char *line, size_t len, bool complete)
{
	struct lines *l = ctx;

	l->n++;
	if (!complete)
		l->incomplete++;
	if (len > l->longest)
		l->longest = len;
	snprintf(l->last, sizeof(l->last), "%.*s", (int)(len < 60 ? len : 60), line);
	return true;
}

static void
test_reader(void **state)
{
	char path[] = "/tmp/test_journal.XXXXXX";
	int fd = mkstemp(path), steps = 0, rc;
	struct journal_reader r;
	struct lines l = { 0 };
	char *big = malloc(3 * JOURNAL_MAX_LINE);
	size_t i;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_non_null(big);
	for (i = 0; i < 5000; i++)
		assert_int_equal(dprintf(fd, "line %zu\n", i) > 0, 1);
	memset(big, 'x', 3 * JOURNAL_MAX_LINE);
	assert_int_equal(write(fd, big, 3 * JOURNAL_MAX_LINE), 3 * JOURNAL_MAX_LINE);
	assert_int_equal(write(fd, "\nafter\ntail", 11), 11);
	journal_reader_init(&r, fd, lseek(fd, 0, SEEK_END));
	while ((rc = journal_reader_step(&r, 1000, count_line, &l)) == 0)
		steps++;
	assert_int_equal(rc, 1);
	assert_true(steps > 10);                  /* bounded steps */
	assert_int_equal(l.n, 5000 + 1 + 2);      /* the overlong line is cut once */
	assert_int_equal(l.longest, JOURNAL_MAX_LINE);
	assert_int_equal(l.incomplete, 1);
	assert_string_equal(l.last, "tail");
	journal_reader_free(&r);
	free(big);
	close(fd);
}

static void
test_tail(void **state)
{
	char heads[NREC][JOURNAL_HEX], head[JOURNAL_HEX], gen[JOURNAL_HEX];
	char path[] = "/tmp/test_journal.XXXXXX";
	char *j = make_journal(NREC, heads);
	int fd = mkstemp(path);
	unsigned long long seq;
	bool torn;
	size_t len = strlen(j);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	journal_genesis(gen);
	assert_int_equal(journal_tail(fd, 0, &seq, head, NULL, &torn), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(head, gen);
	assert_int_equal(write(fd, j, len), (ssize_t)len);
	assert_int_equal(journal_tail(fd, (off_t)len, &seq, head, NULL, &torn), 0);
	assert_int_equal(seq, NREC);
	assert_false(torn);
	assert_string_equal(head, heads[NREC - 1]);
	/* Torn: the last complete record is the head. */
	assert_int_equal(write(fd, "{\"seq\":11,\"ti", 13), 13);
	assert_int_equal(journal_tail(fd, (off_t)len + 13, &seq, head, NULL, &torn), 0);
	assert_true(torn);
	assert_int_equal(seq, NREC);
	assert_string_equal(head, heads[NREC - 1]);
	/* A forged last record that matches its own hash but not the chain
	 * (a repeat of record 3's place, or a new seq chained to an older
	 * record) is not continued from: the genuine record NREC is. */
	{
		struct buf b;
		char h[JOURNAL_HEX];
		struct journal_entry e = {
			.time = "2026-11-28T06:00:00Z", .user = "root", .cmd = "user delete",
			.args = "annv", .note = "", .status_name = "ok", .msg = "ok",
		};
		off_t at = (off_t)len + 13 + 1;

		assert_int_equal(pwrite(fd, "\n", 1, (off_t)len + 13), 1);
		buf_init(&b, 1u << 16);
		assert_int_equal(journal_format(&b, &e, NREC + 1, heads[2], h), 0);
		assert_int_equal(pwrite(fd, buf_head(&b), b.len, at), (ssize_t)b.len);
		assert_int_equal(journal_tail(fd, at + (off_t)b.len, &seq, head, NULL, &torn), 0);
		assert_int_equal(seq, NREC);
		assert_string_equal(head, heads[NREC - 1]);
		/* Chained properly (after the torn line), it is adopted. */
		buf_reset(&b);
		assert_int_equal(journal_format(&b, &e, NREC + 1, heads[NREC - 1], h), 0);
		assert_int_equal(pwrite(fd, buf_head(&b), b.len, at), (ssize_t)b.len);
		assert_int_equal(journal_tail(fd, at + (off_t)b.len, &seq, head, NULL, &torn), 0);
		assert_int_equal(seq, NREC + 1);
		assert_string_equal(head, h);
		buf_free(&b);
	}
	/* A lone record 1 that is not chained to the genesis: start afresh. */
	{
		struct buf b;
		char h[JOURNAL_HEX];
		struct journal_entry e = {
			.time = "2026-11-28T06:00:00Z", .user = "root", .cmd = "ping",
			.args = "", .note = "", .status_name = "ok", .msg = "ok",
		};

		buf_init(&b, 1u << 16);
		assert_int_equal(journal_format(&b, &e, 1, heads[0], h), 0);
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, buf_head(&b), b.len, 0), (ssize_t)b.len);
		assert_int_equal(journal_tail(fd, (off_t)b.len, &seq, head, NULL, &torn), 1);
		assert_int_equal(seq, 0);
		buf_free(&b);
	}
	/* Garbage only: start afresh. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "junk\n", 5, 0), 5);
	assert_int_equal(journal_tail(fd, 5, &seq, head, NULL, &torn), 1);
	assert_int_equal(seq, 0);
	assert_string_equal(head, gen);
	close(fd);
	free(j);
}

static void
test_too_long(void **state)
{
	struct buf b;
	char h[JOURNAL_HEX], gen[JOURNAL_HEX], *huge = malloc(JOURNAL_MAX_LINE);
	struct journal_entry e = {
		.time = "2026-11-28T05:00:00Z", .user = "root", .cmd = "x", .args = "",
		.note = "", .status_name = "ok",
	};

	(void)state;
	assert_non_null(huge);
	memset(huge, 'a', JOURNAL_MAX_LINE - 1);
	huge[JOURNAL_MAX_LINE - 1] = '\0';
	e.msg = huge;
	journal_genesis(gen);
	buf_init(&b, 1u << 20);
	assert_int_equal(journal_format(&b, &e, 1, gen, h), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(huge);
}

/* ---- the key and the seal -------------------------------------------------- */

static const struct journal_key key_a = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 } };
static const struct journal_key key_b = { { 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 } };

/* n records written with key (NULL: unkeyed).  Records from `forge` on
 * (0: none) are what someone without the key makes: record `forge` gets
 * uid 7, and it and every later one are re-chained with recomputed hashes
 * and a MAC under the wrong key (forge_mac) or none.  until: records after
 * it (0: none) are the originals again, not re-chained. */
static char *
build_journal(int n, const struct journal_key *key, int forge, int until, bool forge_mac,
              char heads[][JOURNAL_HEX])
{
	struct buf b, orig;
	char prev[JOURNAL_HEX], oprev[JOURNAL_HEX], h[JOURNAL_HEX], args[64], *s;
	int i;

	buf_init(&b, 1u << 20);
	buf_init(&orig, 1u << 20);
	journal_genesis(prev);
	journal_genesis(oprev);
	for (i = 1; i <= n; i++) {
		struct journal_entry e = {
			.time = "2026-11-28T05:00:00Z", .req = (unsigned long)i, .uid = 0,
			.user = "root", .pid = 100 + i, .cmd = "cert revoke", .args = args,
			.note = "", .status = 0, .status_name = "ok", .ms = 1, .msg = "ok",
		};
		bool forged = forge > 0 && i >= forge && (until == 0 || i <= until);
		size_t at = orig.len;

		snprintf(args, sizeof(args), "serial%d", i);
		assert_int_equal(journal_format_keyed(&orig, &e, (unsigned long long)i, oprev,
		                                      key, h), 0);
		memcpy(oprev, h, JOURNAL_HEX);
		if (!forged) {
			assert_int_equal(buf_append(&b, buf_head(&orig) + at, orig.len - at), 0);
			memcpy(prev, h, JOURNAL_HEX);
		} else {
			if (i == forge)
				e.uid = 7;
			assert_int_equal(journal_format_keyed(&b, &e, (unsigned long long)i, prev,
			                                      forge_mac ? &key_b : NULL, prev), 0);
		}
		if (heads != NULL)
			memcpy(heads[i - 1], forged ? prev : h, JOURNAL_HEX);
	}
	assert_int_equal(buf_append(&b, "", 1), 0);
	s = strdup(buf_head(&b));
	buf_free(&b);
	buf_free(&orig);
	return s;
}

static enum journal_problem
check_keyed(const char *text, const struct journal_key *key, unsigned long long head_seq,
            const char *head, unsigned long *line)
{
	return check_run(text, key, head_seq, head, line, NULL);
}

static void
test_keyed_records(void **state)
{
	char heads[NREC][JOURNAL_HEX], mac[JOURNAL_HEX];
	char *j = build_journal(NREC, &key_a, 0, 0, false, heads), *nl = strchr(j, '\n');
	struct journal_record *r = malloc(sizeof(*r));
	unsigned long line;

	(void)state;
	assert_non_null(r);
	assert_int_equal(journal_parse(j, (size_t)(nl - j), r), 0);
	assert_true(r->hash_ok);
	journal_mac_hex(&key_a, r->hash, mac);
	assert_string_equal(r->mac, mac);
	assert_true(journal_mac_ok(&key_a, r));
	assert_false(journal_mac_ok(&key_b, r));
	/* the line ends ,"hash":"<h>","mac":"<m>"} */
	assert_int_equal(strncmp(nl - 2 - 64 - 8 - 1 - 64 - 9, ",\"hash\":\"", 9), 0);
	assert_int_equal(strncmp(nl - 2 - 64 - 9, "\",\"mac\":\"", 9), 0);
	assert_int_equal(check_keyed(j, &key_a, NREC, heads[NREC - 1], &line), JOURNAL_OK);
	/* under another key every record is forged, the first one first */
	assert_int_equal(check_keyed(j, &key_b, 0, NULL, &line), JOURNAL_FORGED);
	assert_int_equal(line, 1);
	free(j);
	/* unkeyed records: parse, no MAC, and forged for a keyed check */
	j = build_journal(3, NULL, 0, 0, false, NULL);
	nl = strchr(j, '\n');
	assert_int_equal(journal_parse(j, (size_t)(nl - j), r), 0);
	assert_string_equal(r->mac, "");
	assert_false(journal_mac_ok(&key_a, r));
	assert_int_equal(check_keyed(j, NULL, 0, NULL, &line), JOURNAL_OK);
	assert_int_equal(check_keyed(j, &key_a, 0, NULL, &line), JOURNAL_FORGED);
	assert_int_equal(line, 1);
	free(j);
	/* "mac" only right after "hash", once, and last */
	{
		static const char *const bad[] = {
			"{\"seq\":1,\"prev\":\"%s\",\"mac\":\"%s\",\"hash\":\"%s\"}",
			"{\"seq\":1,\"prev\":\"%s\",\"hash\":\"%s\",\"mac\":\"%s\",\"mac\":\"%s\"}",
			"{\"seq\":1,\"prev\":\"%s\",\"hash\":\"%s\",\"mac\":\"%s\",\"x\":1}",
		};
		char z[JOURNAL_HEX], line_buf[512];
		size_t i;

		memset(z, 'a', 64);
		z[64] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(line_buf, sizeof(line_buf), bad[i], z, z, z, z);
			assert_int_equal(journal_parse(line_buf, strlen(line_buf), r), -1);
		}
		snprintf(line_buf, sizeof(line_buf),
		         "{\"seq\":1,\"prev\":\"%s\",\"hash\":\"%s\",\"mac\":\"%s\"}", z, z, z);
		assert_int_equal(journal_parse(line_buf, strlen(line_buf), r), 0);
		assert_string_equal(r->mac, z);
	}
	free(r);
}

/* The rewrite an unkeyed chain cannot see: record 3 changed and every hash
 * from it to the end recomputed.  Only the key tells, naming record 3. */
static void
test_rewrite_recomputed(void **state)
{
	char heads[NREC][JOURNAL_HEX];
	char *j = build_journal(NREC, &key_a, 3, 0, true, heads);
	unsigned long line;

	(void)state;
	assert_int_equal(check_keyed(j, NULL, 0, NULL, &line), JOURNAL_OK);
	assert_int_equal(check_keyed(j, &key_a, 0, NULL, &line), JOURNAL_FORGED);
	assert_int_equal(line, 3);
	assert_int_equal(check_keyed(j, &key_a, NREC, heads[NREC - 1], &line), JOURNAL_FORGED);
	assert_int_equal(line, 3);
	free(j);
	/* the same without any MAC on the forged records */
	j = build_journal(NREC, &key_a, 3, 0, false, NULL);
	assert_int_equal(check_keyed(j, &key_a, 0, NULL, &line), JOURNAL_FORGED);
	assert_int_equal(line, 3);
	free(j);
	/* only the last record forged */
	j = build_journal(NREC, &key_a, NREC, 0, true, NULL);
	assert_int_equal(check_keyed(j, NULL, 0, NULL, &line), JOURNAL_OK);
	assert_int_equal(check_keyed(j, &key_a, 0, NULL, &line), JOURNAL_FORGED);
	assert_int_equal(line, NREC);
	free(j);
}

/* Without the key, the chain still catches a rewrite that stops short of
 * the end (the next record's prev), and a rewrite to the end against the
 * writer's own head: prev and the head hash are both checked. */
static void
test_prev_and_head(void **state)
{
	char heads[NREC][JOURNAL_HEX], orig[NREC][JOURNAL_HEX];
	char *j = build_journal(NREC, NULL, 5, 5, false, heads);
	char *o = build_journal(NREC, NULL, 0, 0, false, orig);
	unsigned long line;

	(void)state;
	/* record 5 rewritten, hash recomputed, records 6.. the originals */
	assert_int_equal(check_keyed(j, NULL, 0, NULL, &line), JOURNAL_CHANGED);
	assert_int_equal(line, 5);
	free(j);
	/* rewritten to the end: intact alone, changed against the head */
	j = build_journal(NREC, NULL, 5, 0, false, heads);
	assert_int_equal(check_keyed(j, NULL, 0, NULL, &line), JOURNAL_OK);
	assert_int_equal(check_keyed(j, NULL, NREC, orig[NREC - 1], &line), JOURNAL_CHANGED);
	assert_int_equal(line, NREC);
	assert_int_equal(check_keyed(j, NULL, NREC, heads[NREC - 1], &line), JOURNAL_OK);
	/* a head beyond the end: deleted; before it: changed */
	assert_int_equal(check_keyed(o, NULL, NREC + 1, orig[NREC - 1], &line), JOURNAL_DELETED);
	assert_int_equal(check_keyed(o, NULL, NREC - 1, orig[NREC - 2], &line), JOURNAL_CHANGED);
	free(j);
	free(o);
}

static void
test_seal(void **state)
{
	char line[JOURNAL_SEAL_MAX], hash[JOURNAL_HEX], gen[JOURNAL_HEX], mac[JOURNAL_HEX];
	char *edit;
	unsigned long long seq = 0;
	size_t n;

	(void)state;
	journal_genesis(gen);
	n = journal_seal_format(&key_a, 1234567, gen, line);
	assert_int_equal(n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(strncmp(line, "provd audit seal v1 seq=1234567 hash=", 37), 0);
	/* mac = HMAC of everything before " mac=" */
	edit = strstr(line, " mac=");
	assert_non_null(edit);
	*edit = '\0';
	journal_mac_hex(&key_a, line, mac);
	*edit = ' ';
	assert_int_equal(strncmp(edit + 5, mac, 64), 0);
	assert_int_equal(journal_seal_parse(&key_a, line, n, &seq, hash), 0);
	assert_int_equal(seq, 1234567);
	assert_string_equal(hash, gen);
	assert_int_equal(journal_seal_parse(&key_a, line, n - 1, &seq, hash), 0);
	assert_int_equal(journal_seal_parse(&key_b, line, n, &seq, hash), -2);
	line[30] = '8';                         /* seq=1234587 */
	assert_int_equal(journal_seal_parse(&key_a, line, n, &seq, hash), -2);
	line[30] = '5';
	line[40] = line[40] == 'a' ? 'b' : 'a'; /* a hash digit */
	assert_int_equal(journal_seal_parse(&key_a, line, n, &seq, hash), -2);
	assert_int_equal(journal_seal_parse(&key_a, "", 0, &seq, hash), -1);
	assert_int_equal(journal_seal_parse(&key_a, "provd audit seal v1 seq=1 hash=x mac=y", 38,
	                                    &seq, hash), -1);
	n = journal_seal_format(&key_a, 0, gen, line);
	assert_int_equal(journal_seal_parse(&key_a, line, n, &seq, hash), 0);
	assert_int_equal(seq, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_parse),
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_inserted),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_keyed_records),
		cmocka_unit_test(test_rewrite_recomputed),
		cmocka_unit_test(test_prev_and_head),
		cmocka_unit_test(test_seal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
