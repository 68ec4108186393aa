/*
 * journal — the audit journal's file format: one JSON object a line, each
 * line chained to the one before it by SHA-256.
 *
 * A record line is
 *
 *   {"seq":N,"time":"2026-11-28T05:12:19Z","req":N,"uid":N,"user":"...",
 *    "pid":N,"cmd":"...","args":"...","note":"...","status":N,
 *    "status_name":"...","ms":N,"msg":"...","prev":"<hex>","hash":"<hex>"}\n
 *
 * (on one line, keys in that order).  `seq` counts records from 1 without
 * gaps.  `hash` is the SHA-256, in lower-case hex, of the line's bytes up to
 * (not including) the `,"hash":` that ends it: it covers every field,
 * `prev` included.  `prev` is the previous record's `hash`; the first
 * record's `prev` is the SHA-256 of JOURNAL_GENESIS.  Changing, removing or
 * inserting a line therefore breaks the chain at that point, and the `seq`
 * numbers tell which of the three happened (see journal_check_line).
 *
 * The hash is unkeyed: anyone who can write the file can rewrite records
 * and recompute every hash after them.  So provd also keys each record: a
 * record written with the journal key (struct journal_key, held only by
 * provd) ends in `,"hash":"<hex>","mac":"<hex>"}` where `mac` is the
 * HMAC-SHA256, under the key, of the record's `hash` (in hex).  The chain's
 * head is checkpointed in a seal (journal_seal_format), also keyed, so that
 * records removed from the end show as well (audit.h says where both live).
 *
 * Nothing here does I/O on the event loop's behalf except the reader, which
 * reads a bounded chunk per call so a caller can spread a long file over
 * many loop turns.
 */
#ifndef PROVD_JOURNAL_H
#define PROVD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define JOURNAL_GENESIS   "provd audit journal v1"
#define JOURNAL_HEX       65            /* 64 hex digits + NUL */
#define JOURNAL_MAX_LINE  16384         /* longest record line, newline included */
#define JOURNAL_TIME_LEN  20            /* "YYYY-MM-DDTHH:MM:SSZ" */
#define JOURNAL_KEY_LEN   32            /* HMAC-SHA256 key bytes */
#define JOURNAL_SEAL_MAX  256           /* longest seal line, newline included */

/* The key that makes records and seals unforgeable without it. */
struct journal_key {
	unsigned char bytes[JOURNAL_KEY_LEN];
};

/* What one finished command contributes to a record.  Strings may hold any
 * bytes (they are JSON-escaped); none may be NULL. */
struct journal_entry {
	const char         *time;           /* JOURNAL_TIME_LEN chars, UTC */
	unsigned long       req;            /* request id, for matching the logs */
	unsigned long       uid;
	const char         *user;
	long                pid;
	const char         *cmd;            /* "user add" */
	const char         *args;           /* already redacted */
	const char         *note;           /* audit_note, may be "" */
	int                 status;
	const char         *status_name;
	unsigned long long  ms;
	const char         *msg;
};

/* A record read back.  Strings are decoded, NUL-terminated and cut to
 * their buffers' sizes. */
struct journal_record {
	unsigned long long seq;
	char               time[32];
	unsigned long      req, uid;
	long               pid;
	char               user[128];
	char               cmd[128];
	char               args[4096];
	char               note[768];
	int                status;
	char               status_name[32];
	unsigned long long ms;
	char               msg[4096];
	char               prev[JOURNAL_HEX];
	char               hash[JOURNAL_HEX];
	char               mac[JOURNAL_HEX];  /* "" when the record has none */
	bool               hash_ok;         /* hash matches the line's content */
};

/* The hex SHA-256 of JOURNAL_GENESIS: the first record's prev. */
void journal_genesis(char out[JOURNAL_HEX]);

/* The hex SHA-256 of p[0..n). */
void journal_sha256_hex(const void *p, size_t n, char out[JOURNAL_HEX]);

/* Append record number seq, chained to prev, as one line ending in '\n'
 * to out; its hash goes to hash_out.  0, or -1 when the line would exceed
 * JOURNAL_MAX_LINE or out's cap (out is then left as it was). */
int journal_format(struct buf *out, const struct journal_entry *e,
                   unsigned long long seq, const char *prev,
                   char hash_out[JOURNAL_HEX]);

/* The same, keyed: the record also carries the HMAC of its hash under key
 * (key NULL: exactly journal_format). */
int journal_format_keyed(struct buf *out, const struct journal_entry *e,
                         unsigned long long seq, const char *prev,
                         const struct journal_key *key, char hash_out[JOURNAL_HEX]);

/* The hex HMAC-SHA256 under key of a record's hex hash. */
void journal_mac_hex(const struct journal_key *key, const char *hash, char out[JOURNAL_HEX]);

/* Does r carry a MAC that matches its hash under key? */
bool journal_mac_ok(const struct journal_key *key, const struct journal_record *r);

/*
 * The seal: one line naming the chain's head, keyed,
 *
 *   provd audit seal v1 seq=N hash=<hex> mac=<hex>\n
 *
 * where mac is the HMAC-SHA256 under the key of everything before " mac=".
 * seq 0 (with the genesis hash) seals an empty journal.
 */
/* Write the seal line for (seq, hash) to out[JOURNAL_SEAL_MAX]; its length. */
size_t journal_seal_format(const struct journal_key *key, unsigned long long seq,
                           const char *hash, char out[JOURNAL_SEAL_MAX]);

/* Read a seal line (a trailing '\n' allowed).  0 with *seq and hash set;
 * -1 when it is not a seal line; -2 when its MAC does not match (made
 * without the key, or changed). */
int journal_seal_parse(const struct journal_key *key, const char *line, size_t len,
                       unsigned long long *seq, char hash[JOURNAL_HEX]);

/* Parse one line (without its '\n').  0 when it has the shape of a record
 * (r filled, r->hash_ok tells whether its hash matches), -1 when it is not a
 * record at all.  Any bytes are safe to pass. */
int journal_parse(const char *line, size_t len, struct journal_record *r);

/* Does the line look like the start of a record whose end is missing
 * (a write cut short)? */
bool journal_is_torn(const char *line, size_t len);

/*
 * Chain verification, one line at a time, for a file read in chunks.
 *
 * How the first problem is classified (E = the seq expected next, H = the
 * previous record's hash):
 *   torn      the line starts like a record but its end is missing;
 *   changed   the line's hash does not match its content (or it is not a
 *             record any more), and the next line does not continue from
 *             the previous record as if the line were not there;
 *   inserted  the line's seq is below E (repeated or out of order), or the
 *             line does not match its hash / does not chain while the next
 *             line continues from the previous record with seq E;
 *   deleted   the line's seq is above E: records E..seq-1 are missing; also
 *             when the file ends before the record provd wrote last;
 *   forged    (with a key, journal_check_key) the line chains and matches
 *             its hash but its MAC is missing or wrong: it was written or
 *             rewritten, hash recomputed, by someone without the key.
 */
enum journal_problem {
	JOURNAL_OK,
	JOURNAL_TORN,
	JOURNAL_CHANGED,
	JOURNAL_INSERTED,
	JOURNAL_DELETED,
	JOURNAL_FORGED,
};

struct journal_check {
	/* results */
	enum journal_problem problem;
	unsigned long        bad_line;     /* 1-based line of the first problem */
	unsigned long long   bad_seq;      /* the record number concerned (0: unknown) */
	char                 detail[320];
	unsigned long        records;      /* records that chained correctly */
	unsigned long        lines;
	char                 first_time[32], last_time[32];
	/* state */
	unsigned long long   expect;       /* next seq */
	char                 last[JOURNAL_HEX], before_last[JOURNAL_HEX];
	int                  pending;      /* a problem waiting for the next line */
	unsigned long long   pending_seq;
	struct journal_record rec;         /* scratch */
	bool                 keyed;
	struct journal_key   key;          /* a copy, when keyed */
};

void journal_check_init(struct journal_check *c);

/* From now on every record must carry a valid MAC under key (copied). */
void journal_check_key(struct journal_check *c, const struct journal_key *key);

/* Feed line number c->lines + 1 (without '\n'); complete is false for a
 * last line that has no '\n'.  Returns false once the first problem is
 * classified (then stop feeding), true otherwise — including while a
 * suspect line waits for the next one to tell "changed" from "inserted". */
bool journal_check_line(struct journal_check *c, const char *line, size_t len,
                        bool complete);

/* End of input.  head_seq/head_hash: the record provd wrote last (the
 * chain's head as the writer knows it), or 0/NULL when unknown; a file that
 * ends before it lost records at its end.  Returns true when the journal
 * verified. */
bool journal_check_end(struct journal_check *c, unsigned long long head_seq,
                       const char *head_hash);

/*
 * Reading a journal in bounded chunks.  The reader holds one chunk plus at
 * most one partial line.  Lines longer than JOURNAL_MAX_LINE are cut there
 * and delivered as they are (they cannot be records).
 */
typedef bool journal_line_fn(void *ctx, const char *line, size_t len, bool complete);

struct journal_reader {
	int    fd;
	off_t  off, end;
	char  *buf;
	size_t have;          /* bytes of an unfinished line kept in buf */
	bool   skipping;      /* inside an overlong line: drop up to '\n' */
	bool   stopped;
};

/* Read fd from offset 0 up to end (a size taken when reading starts). */
void journal_reader_init(struct journal_reader *r, int fd, off_t end);
void journal_reader_free(struct journal_reader *r);

/* Read up to `budget` bytes and call fn for every line they finish; fn
 * returns false to stop.  Returns 1 when the reader is done (end reached,
 * or fn stopped it), 0 when more remains, -1 on a read error (errno). */
int journal_reader_step(struct journal_reader *r, size_t budget,
                        journal_line_fn *fn, void *ctx);

/* Find the last record in the tail of fd (size bytes) to continue the
 * chain from.  Sets *seq and head (genesis and 0 for an empty file), mac
 * (the record's MAC, "" when it has none; mac may be NULL) and *torn when
 * the file does not end in '\n'.  Returns 0; 1 when the tail holds no
 * valid record to continue from (seq/head then start afresh); -1 on a read
 * error (errno). */
int journal_tail(int fd, off_t size, unsigned long long *seq,
                 char head[JOURNAL_HEX], char mac[JOURNAL_HEX], bool *torn);

#endif
