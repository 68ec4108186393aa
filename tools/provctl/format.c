/* format — table, tab and JSON output. See format.h. */
#include "format.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "text.h"

#define TABLE_CHUNK 1000     /* rows buffered to size the columns */
#define MAX_COLS    64

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
	}
	return f;
}

static void
put_buf(struct formatter *f, struct buf *b)
{
	if (b->len > 0)
		fwrite(buf_head(b), 1, b->len, f->out);
	buf_reset(b);
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
print_json(struct formatter *f, const struct wire_msg *m)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1u << 24);
	buf_append(&b, "{", 1);
	for (i = 0; i + 1 < m->nfields; i += 2) {
		if (i)
			buf_append(&b, ",", 1);
		json_put_string(&b, m->f[i].ptr, m->f[i].len);
		buf_append(&b, ":", 1);
		json_put_string(&b, m->f[i + 1].ptr, m->f[i + 1].len);
	}
	buf_append(&b, "}\n", 2);
	put_buf(f, &b);
	buf_free(&b);
}

static void
print_tab(struct formatter *f, const struct wire_msg *m)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1u << 24);
	if (!same_keys(f, m))
		set_keys(f, m);
	if (!f->header_done) {
		for (i = 0; i < f->nkeys; i++) {
			if (i)
				buf_append(&b, "\t", 1);
			tsv_put_field(&b, f->keys[i], strlen(f->keys[i]));
		}
		buf_append(&b, "\n", 1);
		f->header_done = true;
	}
	for (i = 0; i + 1 < m->nfields; i += 2) {
		if (i)
			buf_append(&b, "\t", 1);
		tsv_put_field(&b, m->f[i + 1].ptr, m->f[i + 1].len);
	}
	buf_append(&b, "\n", 1);
	put_buf(f, &b);
	buf_free(&b);
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
	/* A lone record (a whole reply, or a group of one in a reply of
	 * several kinds, like whois) reads best as "key: value" lines. */
	if (f->nrows == 1 && !f->header_done) {
		const struct wire_msg *m = &f->rows[0].msg;
		size_t kw = 0;

		for (i = 0; i + 1 < m->nfields; i += 2)
			if (m->f[i].len > kw)
				kw = m->f[i].len;
		for (i = 0; i + 1 < m->nfields; i += 2) {
			fprintf(f->out, "%s:", m->f[i].ptr);
			pad(f->out, kw - m->f[i].len + 1);
			put_cell(f->out, m->f[i + 1].ptr, m->f[i + 1].len);
			fputc('\n', f->out);
		}
		wire_msg_free(&f->rows[0].msg);
		f->nrows = 0;
		return;
	}
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

void
format_record(struct formatter *f, const struct wire_msg *m)
{
	f->total++;
	if (f->kind == FORMAT_TABLE && print_document(f, m))
		return;
	switch (f->kind) {
	case FORMAT_JSON:
		print_json(f, m);
		break;
	case FORMAT_TAB:
		print_tab(f, m);
		break;
	case FORMAT_TABLE: {
		/* The table keeps the message: hand over a copy. */
		struct wire_msg copy = *m;
		size_t i, len = 0;

		for (i = 0; i < m->nfields; i++)
			len += m->f[i].len + 1;
		copy.f = malloc((m->nfields ? m->nfields : 1) * sizeof(*copy.f));
		copy.store = malloc(len ? len : 1);
		if (copy.f == NULL || copy.store == NULL) {
			free(copy.f);
			free(copy.store);
			return;
		}
		memcpy(copy.store, m->store, len);
		for (i = 0; i < m->nfields; i++) {
			copy.f[i].ptr = copy.store + (m->f[i].ptr - m->store);
			copy.f[i].len = m->f[i].len;
		}
		print_table(f, &copy);
		break;
	}
	}
}

void
format_finish(struct formatter *f)
{
	if (f->kind == FORMAT_TABLE)
		flush_table(f);
	fflush(f->out);
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
	free(f);
}
