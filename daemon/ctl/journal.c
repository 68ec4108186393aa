/* journal — hash-chained JSON lines: format, parse, verify, read. See journal.h. */
#include "journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hex.h"
#include "text.h"
#include "xmalloc.h"

#define READ_CHUNK  (256u * 1024)
#define HASH_KEY    ",\"hash\":"
#define MAC_KEY     ",\"mac\":"
#define SEAL_TAG    "provd audit seal v1 seq="

void
journal_sha256_hex(const void *p, size_t n, char out[JOURNAL_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		/* Cannot happen with a working libcrypto; an all-zero hash never
		 * matches, so a failure shows up as a broken chain, not a pass. */
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

void
journal_genesis(char out[JOURNAL_HEX])
{
	journal_sha256_hex(JOURNAL_GENESIS, strlen(JOURNAL_GENESIS), out);
}

/* The hex HMAC-SHA256 under key of p[0..n). */
static void
hmac_hex(const struct journal_key *key, const void *p, size_t n, char out[JOURNAL_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key->bytes, JOURNAL_KEY_LEN, p, n, md, &mdlen) == NULL ||
	    mdlen != 32) {
		/* As for the hash: all zeroes never matches a real MAC. */
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

void
journal_mac_hex(const struct journal_key *key, const char *hash, char out[JOURNAL_HEX])
{
	hmac_hex(key, hash, strlen(hash), out);
}

bool
journal_mac_ok(const struct journal_key *key, const struct journal_record *r)
{
	char want[JOURNAL_HEX];

	if (r->mac[0] == '\0')
		return false;
	journal_mac_hex(key, r->hash, want);
	return CRYPTO_memcmp(want, r->mac, 64) == 0;
}

size_t
journal_seal_format(const struct journal_key *key, unsigned long long seq, const char *hash,
                    char out[JOURNAL_SEAL_MAX])
{
	char mac[JOURNAL_HEX];
	int n = snprintf(out, JOURNAL_SEAL_MAX, SEAL_TAG "%llu hash=%s", seq, hash);

	hmac_hex(key, out, (size_t)n, mac);
	n += snprintf(out + n, JOURNAL_SEAL_MAX - (size_t)n, " mac=%s\n", mac);
	return (size_t)n;
}

static bool is_hex64(const char *s);

int
journal_seal_parse(const struct journal_key *key, const char *line, size_t len,
                   unsigned long long *seq, char hash[JOURNAL_HEX])
{
	char copy[JOURNAL_SEAL_MAX], h[JOURNAL_HEX], m[JOURNAL_HEX], want[JOURNAL_HEX];
	const char *mac_at;
	unsigned long long v = 0;
	size_t i, tag = strlen(SEAL_TAG), digits = 0;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= sizeof(copy) || len < tag || memcmp(line, SEAL_TAG, tag) != 0)
		return -1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	for (i = tag; copy[i] >= '0' && copy[i] <= '9'; i++) {
		if (++digits > 18)
			return -1;
		v = v * 10 + (unsigned long long)(copy[i] - '0');
	}
	if (digits == 0 || strncmp(copy + i, " hash=", 6) != 0 || len - i - 6 < 64 + 5 + 64)
		return -1;
	memcpy(h, copy + i + 6, 64);
	h[64] = '\0';
	mac_at = copy + i + 6 + 64;
	if (strncmp(mac_at, " mac=", 5) != 0 || strlen(mac_at + 5) != 64)
		return -1;
	memcpy(m, mac_at + 5, JOURNAL_HEX);
	if (!is_hex64(h) || !is_hex64(m))
		return -1;
	hmac_hex(key, copy, (size_t)(mac_at - copy), want);
	if (CRYPTO_memcmp(want, m, 64) != 0)
		return -2;
	*seq = v;
	memcpy(hash, h, JOURNAL_HEX);
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

static int
put_str(struct buf *b, const char *key, const char *s)
{
	if (buf_printf(b, ",\"%s\":", key) < 0)
		return -1;
	return json_put_string(b, s, strlen(s));
}

int
journal_format(struct buf *out, const struct journal_entry *e,
               unsigned long long seq, const char *prev, char hash_out[JOURNAL_HEX])
{
	return journal_format_keyed(out, e, seq, prev, NULL, hash_out);
}

int
journal_format_keyed(struct buf *out, const struct journal_entry *e,
                     unsigned long long seq, const char *prev,
                     const struct journal_key *key, char hash_out[JOURNAL_HEX])
{
	size_t start = out->len, body;
	char mac[JOURNAL_HEX];

	if (buf_printf(out, "{\"seq\":%llu,\"time\":", seq) < 0 ||
	    json_put_string(out, e->time, strlen(e->time)) < 0 ||
	    buf_printf(out, ",\"req\":%lu,\"uid\":%lu", e->req, e->uid) < 0 ||
	    put_str(out, "user", e->user) < 0 ||
	    buf_printf(out, ",\"pid\":%ld", e->pid) < 0 ||
	    put_str(out, "cmd", e->cmd) < 0 ||
	    put_str(out, "args", e->args) < 0 ||
	    put_str(out, "note", e->note) < 0 ||
	    buf_printf(out, ",\"status\":%d", e->status) < 0 ||
	    put_str(out, "status_name", e->status_name) < 0 ||
	    buf_printf(out, ",\"ms\":%llu", e->ms) < 0 ||
	    put_str(out, "msg", e->msg) < 0 ||
	    buf_printf(out, ",\"prev\":\"%s\"", prev) < 0)
		goto fail;
	body = out->len - start;
	/* body + ,"hash":"<64>","mac":"<64>"}\n */
	if (body + strlen(HASH_KEY) + 64 + 2 + strlen(MAC_KEY) + 64 + 4 > JOURNAL_MAX_LINE)
		goto fail;
	journal_sha256_hex(buf_head(out) + start, body, hash_out);
	if (buf_printf(out, HASH_KEY "\"%s\"", hash_out) < 0)
		goto fail;
	if (key != NULL) {
		journal_mac_hex(key, hash_out, mac);
		if (buf_printf(out, MAC_KEY "\"%s\"", mac) < 0)
			goto fail;
	}
	if (buf_printf(out, "}\n") < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return -1;
}

/* ---- parsing -------------------------------------------------------------- */

struct cursor {
	const char *p, *end;
};

static bool
take(struct cursor *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool
hex4(struct cursor *c, uint32_t *v)
{
	int i, h;

	if (c->end - c->p < 4)
		return false;
	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(c->p[i])) < 0)
			return false;
		*v = *v << 4 | (uint32_t)h;
	}
	c->p += 4;
	return true;
}

/* Append one byte / code point to out, dropping what does not fit. */
static void
out_byte(char *out, size_t outsz, size_t *n, char ch)
{
	if (out != NULL && *n + 1 < outsz)
		out[*n] = ch;
	(*n)++;
}

static void
out_utf8(char *out, size_t outsz, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out_byte(out, outsz, n, (char)cp);
	} else if (cp < 0x800) {
		out_byte(out, outsz, n, (char)(0xc0 | cp >> 6));
		out_byte(out, outsz, n, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		out_byte(out, outsz, n, (char)(0xe0 | cp >> 12));
		out_byte(out, outsz, n, (char)(0x80 | ((cp >> 6) & 0x3f)));
		out_byte(out, outsz, n, (char)(0x80 | (cp & 0x3f)));
	} else {
		out_byte(out, outsz, n, (char)(0xf0 | cp >> 18));
		out_byte(out, outsz, n, (char)(0x80 | ((cp >> 12) & 0x3f)));
		out_byte(out, outsz, n, (char)(0x80 | ((cp >> 6) & 0x3f)));
		out_byte(out, outsz, n, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A JSON string into out (NUL-terminated, cut at outsz; out may be NULL to
 * skip it).  False when malformed. */
static bool
parse_string(struct cursor *c, char *out, size_t outsz)
{
	size_t n = 0;
	uint32_t cp, lo;

	if (!take(c, '"'))
		return false;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p++;

		if (ch < 0x20)
			return false;
		if (ch != '\\') {
			out_byte(out, outsz, &n, (char)ch);
			continue;
		}
		if (c->p >= c->end)
			return false;
		switch (*c->p++) {
		case '"':  out_byte(out, outsz, &n, '"'); break;
		case '\\': out_byte(out, outsz, &n, '\\'); break;
		case '/':  out_byte(out, outsz, &n, '/'); break;
		case 'b':  out_byte(out, outsz, &n, '\b'); break;
		case 'f':  out_byte(out, outsz, &n, '\f'); break;
		case 'n':  out_byte(out, outsz, &n, '\n'); break;
		case 'r':  out_byte(out, outsz, &n, '\r'); break;
		case 't':  out_byte(out, outsz, &n, '\t'); break;
		case 'u':
			if (!hex4(c, &cp))
				return false;
			if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 &&
			    c->p[0] == '\\' && c->p[1] == 'u') {
				struct cursor save = *c;

				c->p += 2;
				if (hex4(c, &lo) && lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				else
					*c = save;
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			out_utf8(out, outsz, &n, cp);
			break;
		default:
			return false;
		}
	}
	if (!take(c, '"'))
		return false;
	if (out != NULL && outsz > 0)
		out[n < outsz ? n : outsz - 1] = '\0';
	return true;
}

static bool
parse_number(struct cursor *c, long long *v)
{
	bool neg = take(c, '-');
	unsigned long long u = 0;
	int digits = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (++digits > 18)
			return false;
		u = u * 10 + (unsigned long long)(*c->p++ - '0');
	}
	if (digits == 0)
		return false;
	*v = neg ? -(long long)u : (long long)u;
	return true;
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

int
journal_parse(const char *line, size_t len, struct journal_record *r)
{
	struct cursor c = { line, line + len };
	const char *hash_at = NULL;
	char key[32], scratch[JOURNAL_HEX + 8], computed[JOURNAL_HEX];
	bool first = true, have_seq = false, have_prev = false;
	long long v;

	/* Not memset: this runs for every line of a long journal. */
	r->seq = 0;
	r->req = r->uid = 0;
	r->pid = 0;
	r->status = 0;
	r->ms = 0;
	r->time[0] = r->user[0] = r->cmd[0] = r->args[0] = r->note[0] = '\0';
	r->status_name[0] = r->msg[0] = r->prev[0] = r->hash[0] = r->mac[0] = '\0';
	r->hash_ok = false;
	if (!take(&c, '{'))
		return -1;
	for (;;) {
		const char *member = c.p;

		if (take(&c, '}'))
			break;
		/* "hash" is the last member, or followed by "mac" alone. */
		if (hash_at != NULL && (r->mac[0] != '\0' ||
		    (size_t)(c.end - c.p) < strlen(MAC_KEY) ||
		    memcmp(c.p, MAC_KEY, strlen(MAC_KEY)) != 0))
			return -1;
		if (!first && !take(&c, ','))
			return -1;
		first = false;
		if (!parse_string(&c, key, sizeof(key)) || !take(&c, ':'))
			return -1;
		if (c.p < c.end && *c.p == '"') {
			char *dst = NULL;
			size_t dstsz = 0;

			if (strcmp(key, "time") == 0)             dst = r->time, dstsz = sizeof(r->time);
			else if (strcmp(key, "user") == 0)        dst = r->user, dstsz = sizeof(r->user);
			else if (strcmp(key, "cmd") == 0)         dst = r->cmd, dstsz = sizeof(r->cmd);
			else if (strcmp(key, "args") == 0)        dst = r->args, dstsz = sizeof(r->args);
			else if (strcmp(key, "note") == 0)        dst = r->note, dstsz = sizeof(r->note);
			else if (strcmp(key, "status_name") == 0) dst = r->status_name, dstsz = sizeof(r->status_name);
			else if (strcmp(key, "msg") == 0)         dst = r->msg, dstsz = sizeof(r->msg);
			else if (strcmp(key, "prev") == 0 || strcmp(key, "hash") == 0 ||
			         strcmp(key, "mac") == 0)
				dst = scratch, dstsz = sizeof(scratch);
			if (!parse_string(&c, dst, dstsz))
				return -1;
			if (dst == scratch) {
				if (strlen(scratch) != 64 || !is_hex64(scratch))
					return -1;
				if (key[0] == 'p') {
					memcpy(r->prev, scratch, JOURNAL_HEX);
					have_prev = true;
				} else if (key[0] == 'm') {
					if (hash_at == NULL)
						return -1;
					memcpy(r->mac, scratch, JOURNAL_HEX);
				} else {
					memcpy(r->hash, scratch, JOURNAL_HEX);
					hash_at = member;
				}
			}
			continue;
		}
		if (!parse_number(&c, &v))
			return -1;
		if (strcmp(key, "seq") == 0) {
			if (v < 1)
				return -1;
			r->seq = (unsigned long long)v;
			have_seq = true;
		} else if (strcmp(key, "req") == 0) {
			r->req = (unsigned long)v;
		} else if (strcmp(key, "uid") == 0) {
			r->uid = (unsigned long)v;
		} else if (strcmp(key, "pid") == 0) {
			r->pid = (long)v;
		} else if (strcmp(key, "status") == 0) {
			r->status = (int)v;
		} else if (strcmp(key, "ms") == 0) {
			r->ms = (unsigned long long)v;
		}
	}
	if (c.p != c.end || !have_seq || !have_prev || hash_at == NULL)
		return -1;
	journal_sha256_hex(line, (size_t)(hash_at - line), computed);
	r->hash_ok = strcmp(computed, r->hash) == 0;
	return 0;
}

bool
journal_is_torn(const char *line, size_t len)
{
	static const char start[] = "{\"seq\":";

	return len >= sizeof(start) - 1 && memcmp(line, start, sizeof(start) - 1) == 0 &&
	       !(len >= 2 && line[len - 2] == '"' && line[len - 1] == '}');
}

/* ---- verification --------------------------------------------------------- */

enum { PEND_NONE, PEND_NOT_RECORD, PEND_BAD_HASH, PEND_BREAK };

void
journal_check_init(struct journal_check *c)
{
	memset(c, 0, sizeof(*c));
	c->expect = 1;
	journal_genesis(c->last);
}

void
journal_check_key(struct journal_check *c, const struct journal_key *key)
{
	c->keyed = true;
	memcpy(&c->key, key, sizeof(c->key));
}

static bool
fail(struct journal_check *c, enum journal_problem p, unsigned long line,
     unsigned long long seq, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static bool
fail(struct journal_check *c, enum journal_problem p, unsigned long line,
     unsigned long long seq, const char *fmt, ...)
{
	va_list ap;

	c->problem = p;
	c->bad_line = line;
	c->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return false;
}

static void
chain_accept(struct journal_check *c, const struct journal_record *r)
{
	memcpy(c->before_last, c->last, JOURNAL_HEX);
	memcpy(c->last, r->hash, JOURNAL_HEX);
	if (c->records == 0)
		snprintf(c->first_time, sizeof(c->first_time), "%s", r->time);
	snprintf(c->last_time, sizeof(c->last_time), "%s", r->time);
	c->expect = r->seq + 1;
	c->records++;
}

/* Classify the problem held back at line c->lines - (have_next ? 1 : 0),
 * using the line after it when there is one. */
static bool
resolve(struct journal_check *c, const char *line, size_t len, bool complete,
        bool have_next)
{
	struct journal_record *r = &c->rec;
	unsigned long at = have_next ? c->lines - 1 : c->lines;
	unsigned long long e = c->expect;
	bool next_continues;

	next_continues = have_next && complete && !journal_is_torn(line, len) &&
	                 journal_parse(line, len, r) == 0 && r->hash_ok &&
	                 r->seq == e && strcmp(r->prev, c->last) == 0;
	switch (c->pending) {
	case PEND_NOT_RECORD:
		if (next_continues)
			return fail(c, JOURNAL_INSERTED, at, 0,
			            "line %lu is not a journal record and the next line continues "
			            "the chain without it: it was inserted", at);
		return fail(c, JOURNAL_CHANGED, at, e,
		            "line %lu (record %llu) is not a valid record any more: it was changed",
		            at, e);
	case PEND_BAD_HASH:
		if (next_continues)
			return fail(c, JOURNAL_INSERTED, at, c->pending_seq,
			            "line %lu does not match its hash and the next line continues the "
			            "chain without it: it was inserted", at);
		return fail(c, JOURNAL_CHANGED, at, e,
		            "line %lu (record %llu) was changed: its content does not match its hash",
		            at, e);
	default:
		if (next_continues)
			return fail(c, JOURNAL_INSERTED, at, e,
			            "line %lu claims record %llu but does not follow line %lu; the "
			            "next line does: line %lu was inserted", at, e, at - 1, at);
		if (at == 1)
			return fail(c, JOURNAL_CHANGED, 1, 1,
			            "line 1 does not start from the genesis hash: the start of the "
			            "journal was rewritten");
		return fail(c, JOURNAL_CHANGED, at - 1, e - 1,
		            "line %lu's prev does not match the hash of line %lu (record %llu): "
		            "line %lu was rewritten with a recomputed hash (or line %lu's prev was)",
		            at, at - 1, e - 1, at - 1, at);
	}
}

bool
journal_check_line(struct journal_check *c, const char *line, size_t len, bool complete)
{
	struct journal_record *r = &c->rec;
	unsigned long at;

	if (c->problem != JOURNAL_OK)
		return false;
	at = ++c->lines;
	if (c->pending != PEND_NONE)
		return resolve(c, line, len, complete, true);
	if (!complete || journal_is_torn(line, len))
		return fail(c, JOURNAL_TORN, at, c->expect,
		            "line %lu is an incomplete record (a write cut short, e.g. by a "
		            "crash or a full disk)", at);
	if (journal_parse(line, len, r) < 0) {
		c->pending = PEND_NOT_RECORD;
		return true;
	}
	if (!r->hash_ok) {
		c->pending = PEND_BAD_HASH;
		c->pending_seq = r->seq;
		return true;
	}
	if (r->seq == c->expect && strcmp(r->prev, c->last) == 0) {
		if (c->keyed && !journal_mac_ok(&c->key, r))
			return fail(c, JOURNAL_FORGED, at, r->seq,
			            "line %lu (record %llu) chains and matches its hash but %s: "
			            "it was written, or rewritten with a recomputed hash, without "
			            "provd's journal key", at, r->seq,
			            r->mac[0] ? "its MAC is wrong" : "carries no MAC");
		chain_accept(c, r);
		return true;
	}
	if (r->seq < c->expect) {
		if (r->seq + 1 == c->expect && c->records > 0 &&
		    strcmp(r->prev, c->before_last) == 0)
			return fail(c, JOURNAL_INSERTED, at - 1, r->seq,
			            "lines %lu and %lu both carry record %llu after the same "
			            "predecessor: one of them was inserted", at - 1, at, r->seq);
		return fail(c, JOURNAL_INSERTED, at, r->seq,
		            "line %lu carries record %llu, expected %llu: it was inserted "
		            "(a repeated or out-of-order record)", at, r->seq, c->expect);
	}
	if (r->seq > c->expect) {
		if (r->seq == c->expect + 1)
			return fail(c, JOURNAL_DELETED, at, c->expect,
			            "record %llu is missing before line %lu: it was deleted",
			            c->expect, at);
		return fail(c, JOURNAL_DELETED, at, c->expect,
		            "records %llu to %llu are missing before line %lu: they were deleted",
		            c->expect, r->seq - 1, at);
	}
	c->pending = PEND_BREAK;
	return true;
}

bool
journal_check_end(struct journal_check *c, unsigned long long head_seq, const char *head_hash)
{
	if (c->problem != JOURNAL_OK)
		return false;
	if (c->pending != PEND_NONE)
		return resolve(c, NULL, 0, false, false);
	if (head_seq == 0 || head_hash == NULL)
		return true;
	if (c->expect - 1 < head_seq)
		return fail(c, JOURNAL_DELETED, c->lines + 1, c->expect,
		            "the journal ends at record %llu (line %lu) but provd last wrote "
		            "record %llu: records were removed from its end",
		            c->expect - 1, c->lines, head_seq);
	if (c->expect - 1 != head_seq || strcmp(c->last, head_hash) != 0)
		return fail(c, JOURNAL_CHANGED, c->lines, c->expect - 1,
		            "the journal's last record (line %lu) is not the record %llu "
		            "provd wrote last: the file was replaced or rewritten",
		            c->lines, head_seq);
	return true;
}

/* ---- reading ---------------------------------------------------------------- */

void
journal_reader_init(struct journal_reader *r, int fd, off_t end)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->end = end;
	r->buf = xmalloc(READ_CHUNK + JOURNAL_MAX_LINE);
}

void
journal_reader_free(struct journal_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

int
journal_reader_step(struct journal_reader *r, size_t budget, journal_line_fn *fn, void *ctx)
{
	size_t done = 0;

	while (!r->stopped && done < budget) {
		size_t want = READ_CHUNK, start = 0, total, i, left;
		ssize_t n;

		if (r->off >= r->end) {
			if (r->have > 0 && !r->skipping)
				(void)fn(ctx, r->buf, r->have, false);
			r->have = 0;
			r->stopped = true;
			break;
		}
		if (want > budget - done)
			want = budget - done;
		if ((off_t)want > r->end - r->off)
			want = (size_t)(r->end - r->off);
		n = pread(r->fd, r->buf + r->have, want, r->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {            /* the file shrank under us */
			r->end = r->off;
			continue;
		}
		r->off += n;
		done += (size_t)n;
		total = r->have + (size_t)n;
		for (i = r->have; i < total; i++) {
			if (r->buf[i] != '\n')
				continue;
			if (r->skipping)
				r->skipping = false;
			else if (!fn(ctx, r->buf + start, i - start, true)) {
				r->stopped = true;
				break;
			}
			start = i + 1;
		}
		if (r->stopped)
			break;
		left = total - start;
		if (r->skipping) {
			left = 0;
		} else if (left >= JOURNAL_MAX_LINE) {
			if (!fn(ctx, r->buf + start, JOURNAL_MAX_LINE, true))
				r->stopped = true;
			r->skipping = true;
			left = 0;
		}
		memmove(r->buf, r->buf + start, left);
		r->have = left;
	}
	return r->stopped ? 1 : 0;
}

/* Does record r, whose line starts at buf[begin] (the window starts at
 * file offset from), continue the chain?  It does when the nearest whole
 * record before it in the window is its predecessor (seq - 1, whose hash
 * is its prev), or, with nothing before it in the file, when it is record
 * 1 chained to the genesis; with no whole record before it in the window
 * it cannot be checked and is taken as it is.  tmp: scratch. */
static bool
tail_chains(const char *buf, size_t begin, off_t from, const struct journal_record *r,
            struct journal_record *tmp)
{
	char gen[JOURNAL_HEX];
	size_t end = begin;

	while (end > 0) {
		size_t stop = end - 1, b = stop;

		while (b > 0 && buf[b - 1] != '\n')
			b--;
		if (b == 0 && from > 0)
			return true;                    /* cut by the window */
		if (journal_parse(buf + b, stop - b, tmp) == 0 && tmp->hash_ok)
			return tmp->seq + 1 == r->seq &&
			       strcmp(tmp->hash, r->prev) == 0;
		end = b;
	}
	if (from > 0)
		return true;
	journal_genesis(gen);
	return r->seq == 1 && strcmp(gen, r->prev) == 0;
}

int
journal_tail(int fd, off_t size, unsigned long long *seq, char head[JOURNAL_HEX],
             char mac[JOURNAL_HEX], bool *torn)
{
	size_t want = 2 * JOURNAL_MAX_LINE, got = 0, end;
	off_t from;
	char *buf;
	struct journal_record *r, *prev;
	int rc = 1;

	*seq = 0;
	journal_genesis(head);
	if (mac != NULL)
		mac[0] = '\0';
	*torn = false;
	if (size <= 0)
		return 0;
	if ((off_t)want > size)
		want = (size_t)size;
	from = size - (off_t)want;
	buf = xmalloc(want);
	r = xmalloc(sizeof(*r));
	prev = xmalloc(sizeof(*prev));
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			rc = -1;
			goto out;
		}
		got += (size_t)n;
	}
	*torn = buf[want - 1] != '\n';
	/* end: one past the last complete line's '\n'. */
	end = want;
	if (*torn) {
		while (end > 0 && buf[end - 1] != '\n')
			end--;
	}
	/* Walk complete lines from the last one backwards.  A record is
	 * adopted only if it chains: to the whole record before it (lines that
	 * are not records, such as a torn one, are passed over), or to the
	 * genesis as record 1 at the start of the file.  A line someone added
	 * that matches its own hash but not the chain is not continued from:
	 * the chain goes on from the genuine record, and verify names the
	 * added line. */
	while (end > 0) {
		size_t stop = end - 1, begin = stop;   /* buf[stop] == '\n' */

		while (begin > 0 && buf[begin - 1] != '\n')
			begin--;
		if (begin == 0 && from > 0)
			break;                          /* may be cut by the window */
		if (journal_parse(buf + begin, stop - begin, r) == 0 && r->hash_ok &&
		    tail_chains(buf, begin, from, r, prev)) {
			*seq = r->seq;
			memcpy(head, r->hash, JOURNAL_HEX);
			if (mac != NULL)
				memcpy(mac, r->mac, JOURNAL_HEX);
			rc = 0;
			goto out;
		}
		end = begin;
	}
	rc = 1;
out:
	free(buf);
	free(r);
	free(prev);
	return rc;
}
