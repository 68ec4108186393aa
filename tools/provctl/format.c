/* format — table, tab and JSON output. See format.h. */
#include "format.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fieldtype.h"
#include "text.h"

#define TABLE_CHUNK 1000     /* rows buffered to size the columns */
#define MAX_COLS    64
#define LINE_MAX_BYTES (1u << 26)

struct row {
	struct wire_msg msg;
};

struct formatter {
	enum format_kind kind;
	FILE            *out;
	/* current key set (table and tab print a header when it changes) */
	char            *keys[MAX_COLS];
	size_t           nkeys;
	bool             header_done;
	/* table: buffered rows */
	struct row      *rows;
	size_t           nrows, caprows;
	size_t           width[MAX_COLS];
	bool             widths_fixed;
	size_t           total;       /* records seen */
	bool             listing;     /* table: columns even for one record */
	char            *cols[MAX_COLS]; /* -o: fields to print, in order */
	size_t           ncols;
	bool             cols_checked;
	bool             col_seen[MAX_COLS]; /* -o column k named a field of some record */
	char            *first_keys;  /* the first rendered record's field names */
	size_t           objects;     /* key: value blocks printed */
	/* tab and json: the line being printed, a value being rendered, and
	 * the type of the field at each position of the last record (a
	 * listing sends the same fields record after record). */
	struct buf       line, val;
	char            *type_key[MAX_COLS];
	enum field_type  type[MAX_COLS];
};

int
format_parse(const char *name, enum format_kind *out)
{
	if (strcmp(name, "table") == 0)
		*out = FORMAT_TABLE;
	else if (strcmp(name, "tab") == 0)
		*out = FORMAT_TAB;
	else if (strcmp(name, "json") == 0)
		*out = FORMAT_JSON;
	else
		return -1;
	return 0;
}

struct formatter *
format_new(enum format_kind kind, FILE *out)
{
	struct formatter *f = calloc(1, sizeof(*f));

	if (f != NULL) {
		f->kind = kind;
		f->out = out;
		buf_init(&f->line, LINE_MAX_BYTES);
		buf_init(&f->val, LINE_MAX_BYTES);
	}
	return f;
}

static bool
same_keys(const struct formatter *f, const struct wire_msg *m)
{
	size_t i;

	if (m->nfields / 2 != f->nkeys)
		return false;
	for (i = 0; i < f->nkeys; i++)
		if (strcmp(f->keys[i], m->f[2 * i].ptr) != 0)
			return false;
	return true;
}

static void
set_keys(struct formatter *f, const struct wire_msg *m)
{
	size_t i;

	for (i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	f->nkeys = 0;
	for (i = 0; i + 1 < m->nfields && f->nkeys < MAX_COLS; i += 2)
		f->keys[f->nkeys++] = strdup(m->f[i].ptr);
	f->header_done = false;
	f->widths_fixed = false;
}

static void
pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* Printable form of a value for the table: newlines and tabs shown escaped. */
static void
put_cell(FILE *out, const char *s, size_t n)
{
	struct buf b;

	buf_init(&b, 1u << 24);
	tsv_put_field(&b, s, n);
	if (b.len > 0)
		fwrite(buf_head(&b), 1, b.len, out);
	buf_free(&b);
}

static void
flush_table(struct formatter *f)
{
	size_t r, i;

	if (f->nrows == 0)
		return;
	if (!f->widths_fixed) {
		for (i = 0; i < f->nkeys; i++)
			f->width[i] = text_width(f->keys[i], strlen(f->keys[i]));
		for (r = 0; r < f->nrows; r++)
			for (i = 0; i < f->nkeys && 2 * i + 1 < f->rows[r].msg.nfields; i++) {
				const struct wire_field *v = &f->rows[r].msg.f[2 * i + 1];
				size_t w = text_width(v->ptr, v->len);

				if (w > f->width[i])
					f->width[i] = w > 60 ? 60 : w;
			}
		f->widths_fixed = true;
	}
	if (!f->header_done) {
		for (i = 0; i < f->nkeys; i++) {
			size_t w = text_width(f->keys[i], strlen(f->keys[i]));
			size_t j;

			for (j = 0; f->keys[i][j]; j++)
				fputc(f->keys[i][j] >= 'a' && f->keys[i][j] <= 'z' ?
				      f->keys[i][j] - 32 : f->keys[i][j], f->out);
			if (i + 1 < f->nkeys)
				pad(f->out, f->width[i] - w + 2);
		}
		fputc('\n', f->out);
		f->header_done = true;
	}
	for (r = 0; r < f->nrows; r++) {
		const struct wire_msg *m = &f->rows[r].msg;

		for (i = 0; i < f->nkeys && 2 * i + 1 < m->nfields; i++) {
			const struct wire_field *v = &m->f[2 * i + 1];
			size_t w = text_width(v->ptr, v->len);

			put_cell(f->out, v->ptr, v->len);
			if (i + 1 < f->nkeys)
				pad(f->out, w < f->width[i] ? f->width[i] - w + 2 : 2);
		}
		fputc('\n', f->out);
		wire_msg_free(&f->rows[r].msg);
	}
	f->nrows = 0;
}

static void
print_table(struct formatter *f, const struct wire_msg *m)
{
	if (!same_keys(f, m)) {
		flush_table(f);
		if (f->nkeys > 0)
			fputc('\n', f->out);
		set_keys(f, m);
	}
	if (f->nrows == f->caprows) {
		size_t cap = f->caprows ? f->caprows * 2 : 64;
		struct row *r = realloc(f->rows, cap * sizeof(*r));

		if (r == NULL)
			return;
		f->rows = r;
		f->caprows = cap;
	}
	f->rows[f->nrows++].msg = *m;
	if (f->nrows >= TABLE_CHUNK)
		flush_table(f);
}

/* A record carrying a "pem" or "text" field (cert issue, cert show, crl
 * show) prints that field raw in table mode, so `provctl cert issue ... >
 * x.pem` yields a PEM file; the other fields go to stderr on a terminal —
 * but a generated "passphrase" (cert issue --generate), shown only this
 * once, goes to stderr always. */
static bool
print_document(struct formatter *f, const struct wire_msg *m)
{
	size_t i, doc = m->nfields;
	bool tty = isatty(STDERR_FILENO);

	for (i = 0; i + 1 < m->nfields; i += 2)
		if (strcmp(m->f[i].ptr, "pem") == 0 || strcmp(m->f[i].ptr, "text") == 0)
			doc = i;
	if (doc == m->nfields)
		return false;
	for (i = 0; i + 1 < m->nfields; i += 2)
		if (i != doc && m->f[i + 1].len > 0 &&
		    (tty || strcmp(m->f[i].ptr, "passphrase") == 0))
			fprintf(stderr, "%s: %s\n", m->f[i].ptr, m->f[i + 1].ptr);
	fwrite(m->f[doc + 1].ptr, 1, m->f[doc + 1].len, f->out);
	if (m->f[doc + 1].len > 0 && m->f[doc + 1].ptr[m->f[doc + 1].len - 1] != '\n')
		fputc('\n', f->out);
	return true;
}

/* One object as "key: value" lines; a blank line before all but the first. */
static void
print_object(struct formatter *f, const struct wire_msg *m)
{
	size_t i, kw = 0;

	if (f->objects++ > 0)
		fputc('\n', f->out);
	for (i = 0; i + 1 < m->nfields; i += 2)
		if (m->f[i].len > kw)
			kw = m->f[i].len;
	for (i = 0; i + 1 < m->nfields; i += 2) {
		fprintf(f->out, "%s:", m->f[i].ptr);
		pad(f->out, kw - m->f[i].len + 1);
		put_cell(f->out, m->f[i + 1].ptr, m->f[i + 1].len);
		fputc('\n', f->out);
	}
}

int
format_set_columns(struct formatter *f, const char *list)
{
	const char *p = list;

	for (; f->ncols > 0; f->ncols--)
		free(f->cols[f->ncols - 1]);
	if (list == NULL || strcmp(list, "all") == 0)
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == 0 || f->ncols == MAX_COLS ||
		    (f->cols[f->ncols] = strndup(p, n)) == NULL)
			return -1;
		f->ncols++;
		p += n;
		if (*p == ',')
			p++;
	}
	return f->ncols > 0 ? 0 : -1;
}

void
format_set_rows(struct formatter *f, bool rows)
{
	f->listing = rows;
}

/* "a,b,c": the field names of m (malloc'd; NULL when out of memory). */
static char *
key_list(const struct wire_msg *m)
{
	struct buf b;
	char *s = NULL;
	size_t i;
	int rc = 0;

	buf_init(&b, 1u << 20);
	for (i = 0; i + 1 < m->nfields; i += 2)
		rc |= buf_append(&b, i ? "," : "", i ? 1 : 0) |
		      buf_append(&b, m->f[i].ptr, m->f[i].len);
	if (rc == 0 && (s = malloc(b.len + 1)) != NULL) {
		memcpy(s, buf_head(&b), b.len);
		s[b.len] = '\0';
	}
	buf_free(&b);
	return s;
}

static int
field_index(const struct wire_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < m->nfields; i += 2)
		if (strcmp(m->f[i].ptr, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Where the fields to print are in m: the -o columns (all fields without
 * -o) in order, as indexes of their keys, into sel (MAX_COLS); returns how
 * many.  With -o, the first record of a listing must have every column
 * named: otherwise say which exist and exit.
 */
static size_t
select_fields(struct formatter *f, const struct wire_msg *m, size_t *sel)
{
	size_t nsel = 0, i, k;

	/* A listing's closing summary is printed whole: -o picks row fields. */
	bool summary = f->listing && m->nfields > 0 && strcmp(m->f[0].ptr, "summary") == 0;

	if (f->ncols > 0 && !summary) {
		if (!f->cols_checked && f->listing) {
			for (k = 0; k < f->ncols; k++)
				if (field_index(m, f->cols[k]) < 0) {
					fprintf(stderr, "provctl: -o: no column '%s'; columns:", f->cols[k]);
					for (i = 0; i + 1 < m->nfields; i += 2)
						fprintf(stderr, "%s%s", i ? "," : " ", m->f[i].ptr);
					fputc('\n', stderr);
					exit(2);
				}
			f->cols_checked = true;
		}
		for (k = 0; k < f->ncols; k++) {
			int at = field_index(m, f->cols[k]);

			if (at >= 0) {
				sel[nsel++] = (size_t)at;
				f->col_seen[k] = true;
			}
		}
		if (f->first_keys == NULL)
			f->first_keys = key_list(m);
	} else {
		for (i = 0; i + 1 < m->nfields && nsel < MAX_COLS; i += 2)
			sel[nsel++] = i;
	}
	return nsel;
}

/*
 * The record as the table will print it: the selected fields
 * (select_fields), each value rendered for people (fieldtype.h).  The
 * result owns its storage.
 */
static int
render(struct formatter *f, const struct wire_msg *m, struct wire_msg *out)
{
	enum fieldtype_mode mode = f->kind == FORMAT_JSON ? FIELDTYPE_JSON :
	                           f->kind == FORMAT_TABLE ? FIELDTYPE_HUMAN : FIELDTYPE_PLAIN;
	size_t sel[MAX_COLS], nsel, k;
	struct buf b;
	size_t *off;
	int rc = 0;

	nsel = select_fields(f, m, sel);
	memset(out, 0, sizeof(*out));
	out->type = m->type;
	if ((out->f = calloc(2 * nsel + 1, sizeof(*out->f))) == NULL ||
	    (off = calloc(2 * nsel + 1, sizeof(*off))) == NULL) {
		free(out->f);
		return -1;
	}
	buf_init(&b, 1u << 26);
	for (k = 0; k < nsel && rc == 0; k++) {
		const struct wire_field *key = &m->f[sel[k]], *v = &m->f[sel[k] + 1];

		off[2 * k] = b.len;
		rc |= buf_append(&b, key->ptr, key->len) | buf_append(&b, "", 1);
		off[2 * k + 1] = b.len;
		rc |= fieldtype_render(&b, mode, key->ptr, v->ptr, v->len);
		out->f[2 * k + 1].len = b.len - off[2 * k + 1];
		out->f[2 * k].len = key->len;
		rc |= buf_append(&b, "", 1);
	}
	if (rc == 0 && (out->store = malloc(b.len ? b.len : 1)) != NULL) {
		memcpy(out->store, buf_head(&b), b.len);
		out->nfields = (uint16_t)(2 * nsel);
		for (k = 0; k < 2 * nsel; k++)
			out->f[k].ptr = out->store + off[k];
	} else {
		rc = -1;
		free(out->f);
		out->f = NULL;
	}
	buf_free(&b);
	free(off);
	return rc;
}

/* The type of the field named key at position i of a record. */
static enum field_type
type_at(struct formatter *f, size_t i, const char *key)
{
	if (f->type_key[i] == NULL || strcmp(f->type_key[i], key) != 0) {
		free(f->type_key[i]);
		f->type_key[i] = strdup(key);
		f->type[i] = fieldtype_of(key);
	}
	return f->type[i];
}

/* Does the header printed last name the fields sel picks from m? */
static bool
same_selected_keys(const struct formatter *f, const struct wire_msg *m,
                   const size_t *sel, size_t nsel)
{
	size_t k;

	if (nsel != f->nkeys)
		return false;
	for (k = 0; k < nsel; k++)
		if (strcmp(f->keys[k], m->f[sel[k]].ptr) != 0)
			return false;
	return true;
}

/* One record as a tab-separated line (after a header line when its fields
 * are not those of the line before) or a JSON object, rendered straight
 * into the formatter's line: no copy of the record is made. */
static void
print_line(struct formatter *f, const struct wire_msg *m)
{
	size_t sel[MAX_COLS], nsel, k;
	bool json = f->kind == FORMAT_JSON;
	int rc = 0;

	nsel = select_fields(f, m, sel);
	if (!json && !same_selected_keys(f, m, sel, nsel)) {
		for (k = 0; k < f->nkeys; k++)
			free(f->keys[k]);
		f->nkeys = 0;
		for (k = 0; k < nsel; k++)
			f->keys[f->nkeys++] = strdup(m->f[sel[k]].ptr);
		for (k = 0; k < nsel; k++)
			rc |= (k ? buf_append(&f->line, "\t", 1) : 0) |
			      tsv_put_field(&f->line, m->f[sel[k]].ptr, m->f[sel[k]].len);
		rc |= buf_append(&f->line, "\n", 1);
	}
	if (json)
		rc |= buf_append(&f->line, "{", 1);
	for (k = 0; k < nsel && rc == 0; k++) {
		const struct wire_field *key = &m->f[sel[k]], *v = &m->f[sel[k] + 1];
		enum field_type t = type_at(f, k, key->ptr);

		if (json) {
			rc |= (k ? buf_append(&f->line, ",", 1) : 0) |
			      json_put_string(&f->line, key->ptr, key->len) |
			      buf_append(&f->line, ":", 1) |
			      fieldtype_render_as(&f->line, FIELDTYPE_JSON, t, v->ptr, v->len);
		} else {
			buf_reset(&f->val);
			rc |= (k ? buf_append(&f->line, "\t", 1) : 0) |
			      fieldtype_render_as(&f->val, FIELDTYPE_PLAIN, t, v->ptr, v->len) |
			      tsv_put_field(&f->line, buf_head(&f->val), f->val.len);
		}
	}
	rc |= json ? buf_append(&f->line, "}\n", 2) : buf_append(&f->line, "\n", 1);
	if (rc == 0)
		fwrite(buf_head(&f->line), 1, f->line.len, f->out);
	buf_reset(&f->line);
}

void
format_record(struct formatter *f, const struct wire_msg *m)
{
	struct wire_msg r;

	f->total++;
	if (f->kind == FORMAT_TABLE && print_document(f, m))
		return;
	if (f->kind != FORMAT_TABLE) {
		print_line(f, m);
		return;
	}
	if (render(f, m, &r) < 0)
		return;
	switch (f->kind) {
	case FORMAT_JSON:
	case FORMAT_TAB:
		break;
	case FORMAT_TABLE:
		/* A listing's closing "summary" record reads as key: value lines
		 * after the table. */
		if (f->listing && r.nfields > 0 && strcmp(r.f[0].ptr, "summary") == 0) {
			flush_table(f);
			if (f->header_done)
				f->objects++;
			print_object(f, &r);
			break;
		}
		if (!f->listing) {
			print_object(f, &r);
			break;
		}
		print_table(f, &r);   /* keeps r */
		return;
	}
	wire_msg_free(&r);
}

/* Is name one of the comma-separated fields? */
static bool
in_list(const char *fields, const char *name)
{
	size_t n = strlen(name);
	const char *p = fields;

	while (*p != '\0') {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, name, n) == 0)
			return true;
		p += k;
		if (*p == ',')
			p++;
	}
	return false;
}

/* One header cell: the table's in capitals, padded; tab's as is. */
static void
header_cell(struct formatter *f, const char *name, size_t n, bool last)
{
	size_t j;

	if (f->kind == FORMAT_TAB) {
		fwrite(name, 1, n, f->out);
		fputc(last ? '\n' : '\t', f->out);
		return;
	}
	for (j = 0; j < n; j++)
		fputc(name[j] >= 'a' && name[j] <= 'z' ? name[j] - 32 : name[j], f->out);
	if (last)
		fputc('\n', f->out);
	else
		pad(f->out, 2);
}

void
format_empty_listing(struct formatter *f, const char *fields)
{
	size_t k;

	if (!f->listing || f->total > 0 || fields == NULL || f->kind == FORMAT_JSON)
		return;
	if (f->ncols == 0) {
		const char *p = fields;

		while (*p != '\0') {
			size_t n = strcspn(p, ",");

			header_cell(f, p, n, p[n] == '\0');
			p += n;
			if (*p == ',')
				p++;
		}
		return;
	}
	for (k = 0; k < f->ncols; k++)
		if (!in_list(fields, f->cols[k])) {
			fprintf(stderr, "provctl: -o: no column '%s'; columns: %s\n",
			        f->cols[k], fields);
			exit(2);
		}
	for (k = 0; k < f->ncols; k++)
		header_cell(f, f->cols[k], strlen(f->cols[k]), k + 1 == f->ncols);
}

void
format_finish(struct formatter *f)
{
	if (f->kind == FORMAT_TABLE)
		flush_table(f);
	fflush(f->out);
}

int
format_check_columns(const struct formatter *f, char *msg, size_t n)
{
	size_t k;

	for (k = 0; k < f->ncols && f->first_keys != NULL; k++)
		if (!f->col_seen[k]) {
			snprintf(msg, n, "-o: no field '%s'; fields: %s", f->cols[k],
			         f->first_keys);
			return -1;
		}
	return 0;
}

void
format_free(struct formatter *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nrows; i++)
		wire_msg_free(&f->rows[i].msg);
	free(f->rows);
	for (i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	for (i = 0; i < f->ncols; i++)
		free(f->cols[i]);
	free(f->first_keys);
	for (i = 0; i < MAX_COLS; i++)
		free(f->type_key[i]);
	buf_free(&f->line);
	buf_free(&f->val);
	free(f);
}
