/*
 * csv — streaming RFC 4180 reader. See csv.h for the contract.
 *
 * The reader is a byte-at-a-time state machine. Its only storage is one
 * record buffer (max_record + max_fields + 1 bytes: the unquoted content is
 * never longer than the raw record, plus one NUL per field) and the per-field
 * offset tables, all allocated up front. Once a record passes max_record the
 * reader stops storing and only scans for the record's end, so memory stays
 * fixed whatever the input.
 */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "text.h"
#include "xmalloc.h"

enum csv_state {
	ST_FIELD_START,     /* at the start of a field (or of a record) */
	ST_UNQUOTED,        /* inside an unquoted field */
	ST_QUOTED,          /* inside a quoted field */
	ST_QUOTE_IN_QUOTED, /* saw '"' inside a quoted field: "" or the close */
	ST_CR,              /* saw CR outside quotes: LF must follow */
};

/* Byte order mark progress: 0..2 bytes matched, or BOM_DONE. */
#define BOM_DONE 4
static const unsigned char utf8_bom[3] = { 0xEF, 0xBB, 0xBF };

struct csv_reader {
	struct csv_limits lim;

	/* Storage, allocated once. */
	char *buf;               /* field contents, each NUL-terminated */
	size_t bufcap;
	size_t *starts;          /* offset in buf of each delivered field */
	size_t *lengths;         /* length of each delivered field */
	const char **ptrs;       /* max_fields + 1 pointers for the callback */
	size_t memory;           /* bytes allocated, for csv_reader_memory */

	/* Input position. */
	enum csv_state st;
	unsigned bom;
	int finished;
	int stopped;
	uint64_t line;           /* current physical line */
	uint64_t records;        /* records delivered */

	/* The record being read. */
	int in_record;           /* a byte of it has been seen */
	uint64_t rec_line;       /* line it started on */
	uint64_t raw;            /* raw bytes so far, line end excluded */
	int storing;             /* 0 once the record is over max_record */
	size_t buflen;
	size_t nfields;          /* fields begun, the current one included */
	size_t nstored;          /* fields completed into buf */

	/* The field being read. */
	size_t flen;             /* content bytes, stored or not */
	int fdeliver;            /* it will be delivered (maybe as "") */
	int fskip;               /* its bytes are neither stored nor checked */
	unsigned char u8need;    /* UTF-8 continuation bytes still expected */
	unsigned char u8lo, u8hi;/* range of the next continuation byte */

	/* First error of the record. */
	int error;
	size_t errcol;
	char errmsg[CSV_ERRMSG_MAX];
};

const char *
csv_strerror(int error)
{
	switch (error) {
	case CSV_OK:                  return "no error";
	case CSV_ERR_UTF8:            return "not valid UTF-8";
	case CSV_ERR_NUL:             return "NUL byte in field";
	case CSV_ERR_FIELD_TOO_LONG:  return "field too long";
	case CSV_ERR_TOO_MANY_FIELDS: return "too many fields";
	case CSV_ERR_RECORD_TOO_LONG: return "record too long";
	case CSV_ERR_BARE_QUOTE:      return "quote inside an unquoted field";
	case CSV_ERR_AFTER_QUOTE:     return "text after a closing quote";
	case CSV_ERR_BARE_CR:         return "carriage return without line feed";
	case CSV_ERR_UNTERMINATED:    return "quoted field not closed";
	default:                      return "unknown error";
	}
}

static void
set_error(struct csv_reader *r, int code, size_t column)
{
	char *m = r->errmsg;
	size_t n = sizeof(r->errmsg);

	if (r->error != CSV_OK)
		return;
	r->error = code;
	r->errcol = column;
	switch (code) {
	case CSV_ERR_UTF8:
		snprintf(m, n, "column %zu: not valid UTF-8 (saved in a legacy "
		    "code page such as Windows-1258, TCVN3 or VNI? save as "
		    "CSV UTF-8)", column);
		break;
	case CSV_ERR_FIELD_TOO_LONG:
		snprintf(m, n, "column %zu: field longer than %zu bytes",
		    column, r->lim.max_field);
		break;
	case CSV_ERR_TOO_MANY_FIELDS:
		snprintf(m, n, "column %zu: more than %zu fields in the record",
		    column, r->lim.max_fields);
		break;
	case CSV_ERR_RECORD_TOO_LONG:
		snprintf(m, n, "column %zu: record longer than %zu bytes",
		    column, r->lim.max_record);
		break;
	case CSV_ERR_BARE_QUOTE:
		snprintf(m, n, "column %zu: quote inside an unquoted field "
		    "(quote the whole field and double the quote)", column);
		break;
	case CSV_ERR_AFTER_QUOTE:
		snprintf(m, n, "column %zu: text after the closing quote of a "
		    "quoted field", column);
		break;
	case CSV_ERR_BARE_CR:
		snprintf(m, n, "column %zu: carriage return not followed by "
		    "line feed", column);
		break;
	case CSV_ERR_UNTERMINATED:
		snprintf(m, n, "column %zu: quoted field not closed before the "
		    "end of the input", column);
		break;
	default:
		snprintf(m, n, "column %zu: %s", column, csv_strerror(code));
		break;
	}
}

/* The current field failed a check: deliver it as "" and ignore the rest. */
static void
field_fail(struct csv_reader *r, int code)
{
	set_error(r, code, r->nfields);
	if (r->fdeliver)
		r->buflen = r->starts[r->nstored];
	r->fskip = 1;
}

/* The record passed max_record: stop storing until its end. */
static void
record_too_long(struct csv_reader *r)
{
	if (!r->storing)
		return;
	set_error(r, CSV_ERR_RECORD_TOO_LONG, r->nfields);
	r->storing = 0;
	if (r->fdeliver)
		r->buflen = r->starts[r->nstored];
	r->fdeliver = 0;
	r->fskip = 1;
}

static inline void
count_raw(struct csv_reader *r)
{
	if (++r->raw > r->lim.max_record)
		record_too_long(r);
}

static void
field_begin(struct csv_reader *r)
{
	r->nfields++;
	r->flen = 0;
	r->u8need = 0;
	if (r->nfields > r->lim.max_fields) {
		set_error(r, CSV_ERR_TOO_MANY_FIELDS, r->nfields);
		r->fdeliver = 0;
		r->fskip = 1;
	} else if (!r->storing) {
		r->fdeliver = 0;
		r->fskip = 1;
	} else {
		r->fdeliver = 1;
		r->fskip = 0;
		r->starts[r->nstored] = r->buflen;
	}
}

static void
field_end(struct csv_reader *r)
{
	if (!r->fskip && r->u8need != 0)
		field_fail(r, CSV_ERR_UTF8);
	if (!r->fdeliver)
		return;
	r->buf[r->buflen++] = '\0';
	r->lengths[r->nstored] = r->buflen - 1 - r->starts[r->nstored];
	r->nstored++;
}

/* Check one content byte (NUL, UTF-8, length) and store it. */
static inline void
field_byte(struct csv_reader *r, unsigned char c)
{
	if (r->fskip)
		return;
	if (c == 0) {
		field_fail(r, CSV_ERR_NUL);
		return;
	}
	if (r->u8need != 0) {
		if (c < r->u8lo || c > r->u8hi) {
			field_fail(r, CSV_ERR_UTF8);
			return;
		}
		r->u8need--;
		r->u8lo = 0x80;
		r->u8hi = 0xBF;
	} else if (c >= 0x80) {
		r->u8lo = 0x80;
		r->u8hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			r->u8need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			r->u8need = 2;
			if (c == 0xE0)
				r->u8lo = 0xA0;     /* no overlong forms */
			else if (c == 0xED)
				r->u8hi = 0x9F;     /* no surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			r->u8need = 3;
			if (c == 0xF0)
				r->u8lo = 0x90;
			else if (c == 0xF4)
				r->u8hi = 0x8F;     /* nothing past U+10FFFF */
		} else {
			field_fail(r, CSV_ERR_UTF8);
			return;
		}
	}
	if (++r->flen > r->lim.max_field) {
		field_fail(r, CSV_ERR_FIELD_TOO_LONG);
		return;
	}
	/* Cannot trigger: content never outgrows the raw record. Kept so
	 * that a mistake here can only drop data, never overrun. */
	if (r->buflen + 2 > r->bufcap) {
		record_too_long(r);
		return;
	}
	r->buf[r->buflen++] = (char)c;
}

static void
record_begin(struct csv_reader *r)
{
	r->in_record = 1;
	r->rec_line = r->line;
	r->raw = 0;
	r->storing = 1;
	r->buflen = 0;
	r->nfields = 0;
	r->nstored = 0;
	r->error = CSV_OK;
	r->errcol = 0;
	r->errmsg[0] = '\0';
	field_begin(r);
}

/* End the record and hand it to the callback. Returns the callback's
 * verdict (non-zero: stop). */
static int
record_end(struct csv_reader *r, csv_row_fn *cb, void *ctx)
{
	struct csv_row row;
	size_t i;
	int rc;

	field_end(r);
	for (i = 0; i < r->nstored; i++)
		r->ptrs[i] = r->buf + r->starts[i];
	r->ptrs[r->nstored] = NULL;

	r->records++;
	row.record = r->records;
	row.line = r->rec_line;
	row.nfields = r->nstored;
	row.fields = r->ptrs;
	row.lengths = r->lengths;
	row.error = r->error;
	row.error_column = r->errcol;
	row.error_msg = r->errmsg;

	r->in_record = 0;
	r->st = ST_FIELD_START;
	rc = cb(&row, ctx);
	if (rc != 0)
		r->stopped = 1;
	return rc;
}

/* A separating comma: end this field and start the next. */
static void
field_next(struct csv_reader *r)
{
	count_raw(r);
	field_end(r);
	field_begin(r);
	r->st = ST_FIELD_START;
}

/* Process one byte of input (after the BOM check). Returns non-zero when
 * the callback asked to stop. */
static int
process_byte(struct csv_reader *r, unsigned char c, csv_row_fn *cb, void *ctx)
{
	if (c == '\n')
		r->line++;

	for (;;) {
		switch (r->st) {
		case ST_FIELD_START:
			if (!r->in_record) {
				if (c == '\n')
					return 0;           /* empty line */
				if (c == '\r') {
					r->st = ST_CR;
					return 0;
				}
				record_begin(r);
			}
			switch (c) {
			case '"':
				count_raw(r);
				r->st = ST_QUOTED;
				return 0;
			case ',':
				field_next(r);
				return 0;
			case '\n':
				return record_end(r, cb, ctx);
			case '\r':
				r->st = ST_CR;
				return 0;
			default:
				count_raw(r);
				field_byte(r, c);
				r->st = ST_UNQUOTED;
				return 0;
			}

		case ST_UNQUOTED:
			switch (c) {
			case ',':
				field_next(r);
				return 0;
			case '\n':
				return record_end(r, cb, ctx);
			case '\r':
				r->st = ST_CR;
				return 0;
			case '"':
				count_raw(r);
				set_error(r, CSV_ERR_BARE_QUOTE, r->nfields);
				field_byte(r, c);
				return 0;
			default:
				count_raw(r);
				field_byte(r, c);
				return 0;
			}

		case ST_QUOTED:
			count_raw(r);
			if (c == '"')
				r->st = ST_QUOTE_IN_QUOTED;
			else
				field_byte(r, c);
			return 0;

		case ST_QUOTE_IN_QUOTED:
			switch (c) {
			case '"':
				count_raw(r);
				field_byte(r, c);
				r->st = ST_QUOTED;
				return 0;
			case ',':
				field_next(r);
				return 0;
			case '\n':
				return record_end(r, cb, ctx);
			case '\r':
				r->st = ST_CR;
				return 0;
			default:
				count_raw(r);
				set_error(r, CSV_ERR_AFTER_QUOTE, r->nfields);
				field_byte(r, c);
				r->st = ST_UNQUOTED;
				return 0;
			}

		case ST_CR:
			if (c == '\n') {
				if (!r->in_record) {
					r->st = ST_FIELD_START;
					return 0;           /* empty CRLF line */
				}
				return record_end(r, cb, ctx);
			}
			/* A lone CR: an error; the CR is dropped and this
			 * byte read as part of an unquoted field. */
			if (!r->in_record)
				record_begin(r);
			count_raw(r);
			set_error(r, CSV_ERR_BARE_CR, r->nfields);
			r->st = ST_UNQUOTED;
			continue;
		}
		return 0;
	}
}

/* Feed one byte through the byte order mark check. */
static int
feed_byte(struct csv_reader *r, unsigned char c, csv_row_fn *cb, void *ctx)
{
	unsigned i, matched;

	if (r->bom == BOM_DONE)
		return process_byte(r, c, cb, ctx);
	if (c == utf8_bom[r->bom]) {
		if (++r->bom == sizeof(utf8_bom))
			r->bom = BOM_DONE;
		return 0;
	}
	/* Not a BOM after all: the bytes matched so far are data. */
	matched = r->bom;
	r->bom = BOM_DONE;
	for (i = 0; i < matched; i++)
		if (process_byte(r, utf8_bom[i], cb, ctx) != 0)
			return 1;
	return process_byte(r, c, cb, ctx);
}

struct csv_reader *
csv_reader_new(const struct csv_limits *limits)
{
	struct csv_reader *r;
	struct csv_limits lim = { 0, 0, 0 };

	if (limits != NULL)
		lim = *limits;
	if (lim.max_field == 0)
		lim.max_field = CSV_DEFAULT_MAX_FIELD;
	if (lim.max_fields == 0)
		lim.max_fields = CSV_DEFAULT_MAX_FIELDS;
	if (lim.max_record == 0)
		lim.max_record = CSV_DEFAULT_MAX_RECORD;
	if (lim.max_fields > CSV_CEILING_MAX_FIELDS ||
	    lim.max_record > CSV_CEILING_MAX_RECORD) {
		errno = EINVAL;
		return NULL;
	}
	if (lim.max_field > lim.max_record)
		lim.max_field = lim.max_record;

	r = xcalloc(1, sizeof(*r));
	r->lim = lim;
	r->bufcap = lim.max_record + lim.max_fields + 1;
	r->buf = xmalloc(r->bufcap);
	r->starts = xcalloc(lim.max_fields, sizeof(*r->starts));
	r->lengths = xcalloc(lim.max_fields, sizeof(*r->lengths));
	r->ptrs = xcalloc(lim.max_fields + 1, sizeof(*r->ptrs));
	r->memory = sizeof(*r) + r->bufcap +
	    lim.max_fields * (sizeof(*r->starts) + sizeof(*r->lengths)) +
	    (lim.max_fields + 1) * sizeof(*r->ptrs);
	r->st = ST_FIELD_START;
	r->bom = 0;
	r->line = 1;
	return r;
}

void
csv_reader_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->starts);
	free(r->lengths);
	free(r->ptrs);
	free(r);
}

int
csv_feed(struct csv_reader *r, const char *buf, size_t len, csv_row_fn *cb,
    void *ctx)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i;

	if (r == NULL || cb == NULL || (buf == NULL && len > 0) || r->finished)
		return -1;
	if (r->stopped)
		return CSV_STOPPED;
	for (i = 0; i < len; i++)
		if (feed_byte(r, p[i], cb, ctx) != 0)
			return CSV_STOPPED;
	return 0;
}

int
csv_finish(struct csv_reader *r, csv_row_fn *cb, void *ctx)
{
	unsigned i, matched;
	int unterminated = 0;

	if (r == NULL || cb == NULL || r->finished)
		return -1;
	if (r->stopped) {
		r->finished = 1;
		return CSV_STOPPED;
	}
	r->finished = 1;

	if (r->bom != BOM_DONE) {
		matched = r->bom;
		r->bom = BOM_DONE;
		for (i = 0; i < matched; i++)
			if (process_byte(r, utf8_bom[i], cb, ctx) != 0)
				return CSV_STOPPED;
	}

	if (!r->in_record)
		return 0;       /* ended on a line end, or on a lone CR */
	if (r->st == ST_QUOTED) {
		/* The open field is incomplete: deliver it as "". */
		unterminated = 1;
		if (r->fdeliver && !r->fskip)
			r->buflen = r->starts[r->nstored];
		r->fskip = 1;
		r->error = CSV_OK;
		set_error(r, CSV_ERR_UNTERMINATED, r->nfields);
	}
	if (record_end(r, cb, ctx) != 0 && !unterminated)
		return CSV_STOPPED;
	return unterminated ? -1 : 0;
}

size_t
csv_reader_memory(const struct csv_reader *r)
{
	return r == NULL ? 0 : r->memory;
}

uint64_t
csv_reader_records(const struct csv_reader *r)
{
	return r == NULL ? 0 : r->records;
}

/* ---- header binding ---- */

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int
name_matches(const char *p, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (name[i] == '\0' ||
		    ascii_lower((unsigned char)p[i]) !=
		    ascii_lower((unsigned char)name[i]))
			return 0;
	}
	return name[len] == '\0';
}

int
csv_header_bind(const char *const *fields, size_t n,
    const struct csv_column *cols, size_t ncols, int *index_out,
    char *err, size_t errlen)
{
	char shown[48];
	size_t i, j, len;
	const char *p;

	if (fields == NULL || cols == NULL || index_out == NULL) {
		errmsg_set(err, errlen, "no header row");
		return -1;
	}
	if (n > CSV_CEILING_MAX_FIELDS) {
		errmsg_set(err, errlen, "more than %u columns",
		    (unsigned)CSV_CEILING_MAX_FIELDS);
		return -1;
	}
	for (i = 0; i < ncols; i++)
		index_out[i] = -1;

	for (j = 0; j < n; j++) {
		p = fields[j] != NULL ? fields[j] : "";
		len = strlen(p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			errmsg_set(err, errlen,
			    "column %zu: empty column "
			    "name", j + 1);
			return -1;
		}
		for (i = 0; i < ncols; i++)
			if (name_matches(p, len, cols[i].name))
				break;
		text_sanitize(p, len, shown, sizeof(shown));
		if (i == ncols) {
			errmsg_set(err, errlen, "column %zu: unknown "
			    "column '%s'", j + 1, shown);
			return -1;
		}
		if (index_out[i] >= 0) {
			errmsg_set(err, errlen,
			    "column %zu: '%s' "
			    "given twice (also column %d)", j + 1,
			    cols[i].name, index_out[i] + 1);
			return -1;
		}
		index_out[i] = (int)j;
	}

	for (i = 0; i < ncols; i++) {
		if (cols[i].required && index_out[i] < 0) {
			errmsg_set(err, errlen, "required column '%s' "
			    "missing", cols[i].name);
			return -1;
		}
	}
	return 0;
}
