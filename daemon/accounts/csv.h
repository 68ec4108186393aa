/*
 * csv — a streaming RFC 4180 reader for batch onboarding files.
 *
 * A push parser: the caller feeds the file in chunks of any size (a chunk
 * may end anywhere: inside a quoted field, between the CR and LF of a line
 * end, in the middle of a UTF-8 sequence) and gets one callback per record.
 * The reader allocates all of its memory in csv_reader_new and never grows,
 * so a file of any size is read in memory bounded by the limits.
 *
 * Syntax accepted (RFC 4180 with the usual relaxations):
 *   - fields separated by ',', records ended by CRLF or LF; the last record
 *     may lack a line end;
 *   - a field in double quotes may hold ',', CR, LF and '""' (one quote);
 *   - a UTF-8 byte order mark at the very start of the input is skipped;
 *   - empty lines (nothing between two line ends) are skipped anywhere,
 *     including a trailing one; they still count as physical lines.
 *
 * Every field must be UTF-8 without NUL. A record that breaks a rule is
 * still delivered, with `error` set to the first problem found and a
 * message naming its column; parsing goes on with the next record, so one
 * bad row never hides the rest of the file. In a row with an error, a field
 * that failed the UTF-8, NUL or length check is delivered as "", fields past
 * max_fields are dropped and, once the record passes max_record bytes, no
 * further field is delivered. Every delivered field is therefore valid UTF-8,
 * NUL-free and at most max_field bytes, whether or not the row has an error.
 *
 * A quote that is opened and never closed makes the rest of the input one
 * record (RFC 4180 allows line ends inside quotes); it is reported by
 * csv_finish as CSV_ERR_UNTERMINATED on the record where the quote opened.
 */
#ifndef PROVD_CSV_H
#define PROVD_CSV_H

#include <stddef.h>
#include <stdint.h>

/* Defaults applied for a zero member of struct csv_limits. */
#define CSV_DEFAULT_MAX_FIELD   1024
#define CSV_DEFAULT_MAX_FIELDS  32
#define CSV_DEFAULT_MAX_RECORD  8192
/* Hard ceilings: csv_reader_new refuses larger limits. */
#define CSV_CEILING_MAX_FIELDS  4096
#define CSV_CEILING_MAX_RECORD  (16u * 1024 * 1024)

struct csv_limits {
	size_t max_field;   /* bytes in one field, after unquoting */
	size_t max_fields;  /* fields in one record */
	size_t max_record;  /* raw bytes of one record, without its line end */
};

/* Row error codes (struct csv_row.error). 0 means the row is good. */
enum csv_error {
	CSV_OK = 0,
	CSV_ERR_UTF8,             /* a field is not valid UTF-8 */
	CSV_ERR_NUL,              /* a field holds a NUL byte */
	CSV_ERR_FIELD_TOO_LONG,   /* a field is over max_field bytes */
	CSV_ERR_TOO_MANY_FIELDS,  /* the record has more than max_fields */
	CSV_ERR_RECORD_TOO_LONG,  /* the record is over max_record bytes */
	CSV_ERR_BARE_QUOTE,       /* '"' inside an unquoted field */
	CSV_ERR_AFTER_QUOTE,      /* text between a closing quote and ',' */
	CSV_ERR_BARE_CR,          /* CR outside quotes not followed by LF */
	CSV_ERR_UNTERMINATED,     /* input ended inside a quoted field */
};

/* Size of the message buffer behind struct csv_row.error_msg. */
#define CSV_ERRMSG_MAX 160

/* One record, as passed to the callback. Everything it points to belongs to
 * the reader and is valid only during the callback. */
struct csv_row {
	uint64_t record;             /* 1 = first record (the header row) */
	uint64_t line;               /* physical line (1-based) it starts on */
	size_t nfields;              /* fields in `fields` */
	const char *const *fields;   /* NUL-terminated; fields[nfields] == NULL */
	const size_t *lengths;       /* strlen of each field */
	int error;                   /* enum csv_error; 0 if the row is good */
	size_t error_column;         /* 1-based column of the error, 0 if none */
	const char *error_msg;       /* "" or e.g. "column 3: not valid UTF-8 …" */
};

/* Row callback: return 0 to go on, non-zero to stop the parse. */
typedef int csv_row_fn(const struct csv_row *row, void *ctx);

struct csv_reader;

/* Return values of csv_feed and csv_finish besides 0 and -1. */
#define CSV_STOPPED 1

/*
 * Create a reader. `limits` may be NULL for the defaults; a zero member takes
 * its default. max_field is capped at max_record. Returns NULL when a limit
 * is over its ceiling (errno EINVAL); out of memory is fatal (xmalloc.h).
 * Free with csv_reader_free.
 */
struct csv_reader *csv_reader_new(const struct csv_limits *limits);

/* Free a reader (NULL is accepted). */
void csv_reader_free(struct csv_reader *r);

/*
 * Feed `len` bytes of input. `cb` is called once per complete record in this
 * chunk (row errors included). Returns 0 when all bytes were consumed,
 * CSV_STOPPED when the callback returned non-zero (this call and every later
 * one then do nothing), -1 on misuse (NULL reader, NULL buf with len > 0,
 * NULL cb, or a call after csv_finish).
 */
int csv_feed(struct csv_reader *r, const char *buf, size_t len,
    csv_row_fn *cb, void *ctx);

/*
 * Signal the end of input: delivers the last record if it had no line end.
 * Returns 0; -1 if the input ended inside a quoted field (that record is
 * delivered first, with CSV_ERR_UNTERMINATED) or on misuse (second call);
 * CSV_STOPPED as for csv_feed. No csv_feed may follow.
 */
int csv_finish(struct csv_reader *r, csv_row_fn *cb, void *ctx);

/* Bytes allocated by the reader. Constant from csv_reader_new on. */
size_t csv_reader_memory(const struct csv_reader *r);

/* Records delivered so far (the header included). */
uint64_t csv_reader_records(const struct csv_reader *r);

/* Short English name of an error code ("not valid UTF-8", …). */
const char *csv_strerror(int error);

/* A column the caller expects in the header row. */
struct csv_column {
	const char *name;  /* lower case, no surrounding white space */
	int required;      /* non-zero: the header must have it */
};

/*
 * Map the header row to the caller's columns. Header names match
 * case-insensitively (ASCII) after trimming spaces and tabs.
 *
 * On success fills index_out[i] (ncols entries) with the 0-based position of
 * cols[i] in the header, or -1 for an optional column that is absent, and
 * returns 0. Returns -1 with a message in `err` (may be NULL) naming the
 * column for: an empty or unknown header name, a name given twice, a missing
 * required column, or more than CSV_CEILING_MAX_FIELDS header fields.
 */
int csv_header_bind(const char *const *fields, size_t n,
    const struct csv_column *cols, size_t ncols, int *index_out,
    char *err, size_t errlen);

#endif
