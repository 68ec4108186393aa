/* ldifread — streaming LDIF content records. See ldifread.h. */
#include "ldifread.h"

#include <stdbool.h>
#include <stdio.h> /* before ldif.h, which uses FILE */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lber.h>
#include <ldif.h>

#include "xmalloc.h"

struct ldifread {
	char *buf; /* the record's raw bytes, NUL-terminated */
	size_t len;
	size_t line_len; /* bytes in the current line so far */
	bool too_long, has_nul, stopped;
	uint64_t line;  /* lines read so far */
	uint64_t start; /* the line the record starts on */
	uint64_t records;
	bool seen_record;
	struct ldif_attr attrs[LDIFREAD_MAX_ATTRS];
	char *arena; /* names and values, copied */
	size_t arena_len;
};

struct ldifread *
ldifread_new(void)
{
	struct ldifread *r = xcalloc(1, sizeof(*r));

	r->buf = xmalloc(LDIFREAD_MAX_RECORD + 1);
	r->arena = xmalloc(2 * LDIFREAD_MAX_RECORD + 2 * LDIFREAD_MAX_ATTRS + 16);
	return r;
}

void
ldifread_free(struct ldifread *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->arena);
	free(r);
}

uint64_t
ldifread_records(const struct ldifread *r)
{
	return r->records;
}

static const char *
arena_copy(struct ldifread *r, const char *s, size_t n)
{
	char *d = r->arena + r->arena_len;

	/* The arena holds twice a record: every name and value is shorter
	 * than the raw line it came from. */
	memcpy(d, s, n);
	d[n] = '\0';
	r->arena_len += n + 1;
	return d;
}

/* Parse the buffered record into e; NULL or why it is refused. */
static const char *
parse_record(struct ldifread *r, struct ldif_entry *e)
{
	char *next = r->buf, *line;
	bool first = true;

	r->arena_len = 0;
	if (r->too_long)
		return "record longer than the limit";
	if (r->has_nul)
		return "NUL byte";
	r->buf[r->len] = '\0';
	while ((line = ldif_getline(&next)) != NULL) {
		struct berval type = {0, NULL}, value = {0, NULL};
		int freeval = 0;
		char *colon = strchr(line, ':');

		if (colon == NULL)
			return "a line without ':'";
		if (colon[1] == '<')
			return "a URL value (refused: never fetched)";
		if (ldif_parse_line2(line, &type, &value, &freeval) < 0)
			return "malformed line (bad base64?)";
		if (freeval) { /* never, without URLs; be safe */
			ber_memfree(type.bv_val);
			ber_memfree(value.bv_val);
			return "unexpected value form";
		}
		if (value.bv_val == NULL) { /* "attr:" with no value */
			static char empty[1];

			value.bv_val = empty;
			value.bv_len = 0;
		}
		if (value.bv_len > LDIFREAD_MAX_VALUE)
			return "value longer than the limit";
		if (memchr(value.bv_val, '\0', value.bv_len) != NULL)
			return "NUL byte in a decoded value";
		if (first) {
			if (!r->seen_record && type.bv_len == 7 &&
			    strncasecmp(type.bv_val, "version", 7) == 0)
				continue;
			if (type.bv_len != 2 || strncasecmp(type.bv_val, "dn", 2) != 0)
				return "the record does not start with dn:";
			e->dn = arena_copy(r, value.bv_val, value.bv_len);
			first = false;
			continue;
		}
		if ((type.bv_len == 10 && strncasecmp(type.bv_val, "changetype", 10) == 0) ||
		    (type.bv_len == 7 && strncasecmp(type.bv_val, "control", 7) == 0))
			return "a change record (an export holds content records only)";
		if (e->nattrs >= LDIFREAD_MAX_ATTRS)
			return "more values than the limit";
		r->attrs[e->nattrs].name = arena_copy(r, type.bv_val, type.bv_len);
		r->attrs[e->nattrs].value = arena_copy(r, value.bv_val, value.bv_len);
		r->attrs[e->nattrs].len = value.bv_len;
		e->nattrs++;
	}
	return NULL; /* first: comments or "version: 1" only */
}

/* The buffered record (if any) to the callback. */
static int
deliver(struct ldifread *r, ldifread_fn *cb, void *ctx)
{
	struct ldif_entry e;
	const char *err;
	int rc = 0;

	if (r->len == 0 && !r->too_long)
		return 0;
	memset(&e, 0, sizeof(e));
	e.dn = "";
	err = parse_record(r, &e);
	if (err == NULL && e.dn[0] == '\0' && e.nattrs == 0) {
		/* Only comments, or the version line. */
		r->seen_record = true;
		goto out;
	}
	r->seen_record = true;
	r->records++;
	e.num = r->records;
	e.line = r->start;
	e.attrs = r->attrs;
	if (err != NULL) {
		e.error = err;
		e.dn = "";
		e.nattrs = 0;
	}
	rc = cb(&e, ctx);
out:
	r->len = 0;
	r->too_long = r->has_nul = false;
	return rc;
}

int
ldifread_feed(struct ldifread *r, const char *p, size_t n, ldifread_fn *cb, void *ctx)
{
	size_t i;
	int rc;

	if (r->stopped)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\r')
			continue;
		if (c == '\n') {
			r->line++;
			if (r->line_len == 0) { /* a blank line ends a record */
				if ((rc = deliver(r, cb, ctx)) != 0) {
					r->stopped = true;
					return rc;
				}
				continue;
			}
			r->line_len = 0;
		} else {
			if (r->line_len == 0 && r->len == 0 && !r->too_long)
				r->start = r->line + 1;
			r->line_len++;
			if (c == '\0')
				r->has_nul = true;
		}
		if (r->len < LDIFREAD_MAX_RECORD)
			r->buf[r->len++] = c;
		else
			r->too_long = true;
	}
	return 0;
}

int
ldifread_finish(struct ldifread *r, ldifread_fn *cb, void *ctx)
{
	int rc;

	if (r->stopped)
		return 0;
	rc = deliver(r, cb, ctx);
	r->stopped = true;
	return rc;
}
