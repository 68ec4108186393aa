/*
 * template — load, check and expand the account entry template.
 * See template.h for the format and the contract.
 */
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unistr.h>

#include "dir.h"
#include "errmsg.h"
#include "schema.h"
#include "text.h"
#include "xmalloc.h"

enum placeholder {
	PH_LOGIN,
	PH_FULL_NAME,
	PH_GIVEN_NAME,
	PH_SURNAME,
	PH_MIDDLE_NAME,
	PH_UNIT,
	PH_UNIT_NAME,
	PH_MAIL,
	PH_DOMAIN,
	PH_EMPLOYEE_ID,
	PH_TITLE,
	PH_PHONE,
	PH_QUOTA,
	PH_COUNT
};

static const char *const placeholder_names[PH_COUNT] = {
	[PH_LOGIN] = "login",
	[PH_FULL_NAME] = "full_name",
	[PH_GIVEN_NAME] = "given_name",
	[PH_SURNAME] = "surname",
	[PH_MIDDLE_NAME] = "middle_name",
	[PH_UNIT] = "unit",
	[PH_UNIT_NAME] = "unit_name",
	[PH_MAIL] = "mail",
	[PH_DOMAIN] = "domain",
	[PH_EMPLOYEE_ID] = "employee_id",
	[PH_TITLE] = "title",
	[PH_PHONE] = "phone",
	[PH_QUOTA] = "quota",
};

/* Attributes that must appear; `value` NULL = any value, several lines
 * allowed; otherwise exactly one line with exactly that value. */
static const struct required_attr {
	const char *attr;
	const char *value;
} required_attrs[] = {
	{ AT_OBJECT_CLASS, NULL },
	{ AT_CN, NULL },
	{ AT_SURNAME, NULL },
	{ AT_UID, "{login}" },
	{ AT_MAIL, "{mail}" },
	{ AT_EMPLOYEE_ID, "{employee_id}" },
};
#define NREQUIRED (sizeof(required_attrs) / sizeof(required_attrs[0]))

/* Attributes provd writes itself; a template may not set them. */
static const char *const reserved_attrs[] = {
	AT_PASSWORD, AT_PWD_RESET, AT_PWD_END_TIME, AT_LOCKED_TIME, AT_STATE,
	AT_DISABLED_REASON, AT_DISABLED_AT, AT_DELETE_AFTER,
};
#define NRESERVED (sizeof(reserved_attrs) / sizeof(reserved_attrs[0]))

struct template_line {
	unsigned lineno;                      /* first physical line */
	int required;                         /* index in required_attrs, or -1 */
	char attr[TEMPLATE_MAX_ATTR + 1];
	char value[TEMPLATE_MAX_LINE + 1];
};

struct template {
	size_t nlines;
	struct template_line lines[TEMPLATE_MAX_LINES];
};

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive (ASCII) equality of a[0..n) and the string b. */
static int
ascii_eq_n(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return 0;
	return b[n] == '\0';
}

static int
ascii_eq(const char *a, const char *b)
{
	return ascii_eq_n(a, strlen(a), b);
}

static int
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_keychar(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '-';
}

/* ^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$ over len bytes. */
static int
attr_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TEMPLATE_MAX_ATTR ||
	    !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] == ';') {
			if (i + 1 == len || s[i + 1] == ';')
				return 0;
		} else if (!is_keychar((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Compare the attribute type (the part before any ';option') to `type`. */
static int
attr_type_is(const char *attr, const char *type)
{
	size_t n = strcspn(attr, ";");

	return ascii_eq_n(attr, n, type);
}

static int
placeholder_lookup(const char *s, size_t len)
{
	int i;

	for (i = 0; i < PH_COUNT; i++)
		if (strlen(placeholder_names[i]) == len &&
		    memcmp(placeholder_names[i], s, len) == 0)
			return i;
	return -1;
}

/* ---- parsing ---- */

enum pending { PEND_NONE, PEND_ATTR, PEND_COMMENT };

struct parser {
	const char *name;
	char *err;
	size_t errlen;
	struct template *t;
	enum pending have;
	unsigned start;                   /* first line of the pending line */
	size_t len;
	char buf[TEMPLATE_MAX_LINE + 1];  /* the pending line, unfolded */
	unsigned seen[NREQUIRED];
};

static int
perr(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errmsg_set(p->err, p->errlen, "%s:%u: %s", p->name, line, msg);
	return -1;
}

/* Braces balanced, placeholders known. */
static int
check_placeholders(struct parser *p, const char *v, size_t len)
{
	char shown[48];
	size_t i, j;

	for (i = 0; i < len; i++) {
		if (v[i] == '}')
			return perr(p, p->start, "unbalanced '}' in value");
		if (v[i] != '{')
			continue;
		for (j = i + 1; j < len && v[j] != '}' && v[j] != '{'; j++)
			;
		if (j == len || v[j] == '{')
			return perr(p, p->start, "unbalanced '{' in value");
		if (placeholder_lookup(v + i + 1, j - i - 1) < 0) {
			text_sanitize(v + i + 1, j - i - 1, shown,
			    sizeof(shown));
			return perr(p, p->start, "unknown placeholder {%s}",
			    shown);
		}
		i = j;
	}
	return 0;
}

/* Check and store one unfolded attribute line. */
static int
process_line(struct parser *p)
{
	struct template_line *tl;
	char shown[TEMPLATE_MAX_ATTR + 8];
	char *s = p->buf, *colon, *v, *end;
	size_t alen, vlen, i;
	int req = -1;

	if (u8_check((const uint8_t *)s, p->len) != NULL)
		return perr(p, p->start, "not valid UTF-8");
	colon = memchr(s, ':', p->len);
	if (colon == NULL)
		return perr(p, p->start, "expected 'attribute: value'");
	alen = (size_t)(colon - s);
	if (!attr_name_ok(s, alen)) {
		text_sanitize(s,
		    alen < TEMPLATE_MAX_ATTR ? alen : TEMPLATE_MAX_ATTR,
		    shown, sizeof(shown));
		return perr(p, p->start, "bad attribute name '%s'", shown);
	}
	*colon = '\0';          /* s is now the attribute name */
	if (attr_type_is(s, "dn"))
		return perr(p, p->start, "no 'dn:' line allowed: provd names "
		    "the entry uid=<login>,ou=people,<base>");
	if (attr_type_is(s, "changetype") || attr_type_is(s, "control"))
		return perr(p, p->start, "'%s:' belongs to LDIF change "
		    "records, not to an entry template", s);

	v = colon + 1;
	end = s + p->len;
	if (v < end && *v == ':')
		return perr(p, p->start, "base64 value ('%s::') not "
		    "supported: write the value as UTF-8 text", s);
	if (v < end && *v == '<')
		return perr(p, p->start, "URL value ('%s:<') not supported", s);
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);
	if (vlen == 0)
		return perr(p, p->start, "empty value for '%s'", s);

	for (i = 0; i < NRESERVED; i++)
		if (attr_type_is(s, reserved_attrs[i]))
			return perr(p, p->start, "'%s' is set by provd itself, "
			    "not by the template", reserved_attrs[i]);
	if (check_placeholders(p, v, vlen) != 0)
		return -1;

	for (i = 0; i < NREQUIRED; i++) {
		if (!attr_type_is(s, required_attrs[i].attr))
			continue;
		if (strchr(s, ';') != NULL) {
			/* cn;lang-vi is another cn; but uid, mail and
			 * employeeNumber hold one value that provd controls */
			if (required_attrs[i].value != NULL)
				return perr(p, p->start, "'%s' may not carry "
				    "options", required_attrs[i].attr);
			break;
		}
		req = (int)i;
		if (required_attrs[i].value == NULL)
			break;
		if (strlen(required_attrs[i].value) != vlen ||
		    memcmp(required_attrs[i].value, v, vlen) != 0)
			return perr(p, p->start, "'%s' must be exactly "
			    "'%s: %s'", required_attrs[i].attr,
			    required_attrs[i].attr, required_attrs[i].value);
		if (p->seen[i] > 0)
			return perr(p, p->start, "'%s' given twice",
			    required_attrs[i].attr);
		break;
	}

	if (p->t->nlines >= TEMPLATE_MAX_LINES)
		return perr(p, p->start, "more than %d attribute lines",
		    TEMPLATE_MAX_LINES);
	if (req >= 0)
		p->seen[req]++;
	tl = &p->t->lines[p->t->nlines++];
	tl->lineno = p->start;
	tl->required = req;
	memcpy(tl->attr, s, alen + 1);
	memcpy(tl->value, v, vlen);
	tl->value[vlen] = '\0';
	return 0;
}

static int
finish_pending(struct parser *p)
{
	enum pending had = p->have;

	p->have = PEND_NONE;
	if (had == PEND_ATTR)
		return process_line(p);
	return 0;
}

/* Checks that hold for every physical line, comments included. */
static int
check_physical(struct parser *p, unsigned lineno, const char *s, size_t len)
{
	size_t i;

	if (len > TEMPLATE_MAX_LINE)
		return perr(p, lineno, "line longer than %d bytes",
		    TEMPLATE_MAX_LINE);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			return perr(p, lineno, "NUL byte");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return perr(p, lineno, "control character 0x%02x", c);
	}
	return 0;
}

int
template_parse(const char *buf, size_t len, const char *name,
    struct template **out, char *err, size_t errlen)
{
	struct parser *p = NULL;
	size_t pos = 0, llen, i;
	unsigned lineno = 0;
	const char *line, *nl;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (name == NULL)
		name = "template";
	if (out == NULL || (buf == NULL && len > 0)) {
		errmsg_set(err, errlen, "%s: no template", name);
		return -1;
	}
	if (len > TEMPLATE_MAX_FILE) {
		errmsg_set(err, errlen, "%s: larger than %d bytes", name,
		    TEMPLATE_MAX_FILE);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->name = name;
	p->err = err;
	p->errlen = errlen;
	p->t = xcalloc(1, sizeof(*p->t));

	while (pos < len) {
		lineno++;
		line = buf + pos;
		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl != NULL ? 1 : 0);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (check_physical(p, lineno, line, llen) != 0)
			goto out;

		if (llen > 0 && line[0] == ' ') {
			/* Continuation: the leading space is dropped. */
			if (p->have == PEND_NONE) {
				perr(p, lineno, "continuation line (leading "
				    "space) with no line to continue");
				goto out;
			}
			if (p->have == PEND_COMMENT)
				continue;
			if (p->len + llen - 1 > TEMPLATE_MAX_LINE) {
				perr(p, p->start, "line longer than %d bytes "
				    "after joining continuation lines",
				    TEMPLATE_MAX_LINE);
				goto out;
			}
			memcpy(p->buf + p->len, line + 1, llen - 1);
			p->len += llen - 1;
			continue;
		}

		if (finish_pending(p) != 0)
			goto out;
		if (llen == 0)
			continue;
		if (line[0] == '#') {
			p->have = PEND_COMMENT;
			continue;
		}
		if (line[0] == '\t') {
			perr(p, lineno, "line starts with a tab (a "
			    "continuation line starts with one space)");
			goto out;
		}
		p->have = PEND_ATTR;
		p->start = lineno;
		memcpy(p->buf, line, llen);
		p->len = llen;
	}
	if (finish_pending(p) != 0)
		goto out;

	if (lineno == 0)
		lineno = 1;
	for (i = 0; i < NREQUIRED; i++) {
		if (p->seen[i] > 0)
			continue;
		if (required_attrs[i].value != NULL)
			perr(p, lineno, "required line '%s: %s' missing",
			    required_attrs[i].attr, required_attrs[i].value);
		else
			perr(p, lineno, "required attribute '%s' missing",
			    required_attrs[i].attr);
		goto out;
	}

	*out = p->t;
	p->t = NULL;
	rc = 0;
out:
	if (p != NULL) {
		free(p->t);
		free(p);
	}
	return rc;
}

int
template_load(const char *path, struct template **out, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL) {
		errmsg_set(err, errlen, "template: no path");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		errmsg_set(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		errmsg_set(err, errlen, "%s: cannot stat: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errmsg_set(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > TEMPLATE_MAX_FILE) {
		errmsg_set(err, errlen, "%s: larger than %d bytes", path,
		    TEMPLATE_MAX_FILE);
		goto out;
	}
	/* One byte more than allowed, to notice a file that grew. */
	buf = xmalloc(TEMPLATE_MAX_FILE + 1);
	while (len < TEMPLATE_MAX_FILE + 1) {
		n = read(fd, buf + len, TEMPLATE_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errmsg_set(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = template_parse(buf, len, path, out, err, errlen);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

void
template_free(struct template *t)
{
	free(t);
}

size_t
template_line_count(const struct template *t)
{
	return t == NULL ? 0 : t->nlines;
}

/* ---- expanded entries ---- */

static struct template_attr *
entry_find(const struct template_entry *e, const char *attr)
{
	size_t i;

	for (i = 0; i < e->nattrs; i++)
		if (ascii_eq(e->attrs[i].name, attr))
			return &e->attrs[i];
	return NULL;
}

const struct template_attr *
template_entry_find(const struct template_entry *e, const char *attr)
{
	if (e == NULL || attr == NULL)
		return NULL;
	return entry_find(e, attr);
}

/* Add a checked value; grouping and de-duplication happen here. On error
 * the entry is unchanged. */
static int
entry_add(struct template_entry *e, const char *attr, const char *value,
    size_t vlen, char *err, size_t errlen)
{
	struct template_attr *a;
	char **values, *copy = NULL, *name = NULL;
	size_t i;

	a = entry_find(e, attr);
	if (a != NULL) {
		for (i = 0; i < a->nvalues; i++)
			if (strlen(a->values[i]) == vlen &&
			    memcmp(a->values[i], value, vlen) == 0)
				return 0;
		if (a->nvalues >= TEMPLATE_ENTRY_MAX_VALUES) {
			errmsg_set(err, errlen, "%s: more than %d values", attr,
			    TEMPLATE_ENTRY_MAX_VALUES);
			return -1;
		}
	} else {
		if (e->nattrs >= TEMPLATE_ENTRY_MAX_ATTRS) {
			errmsg_set(err, errlen, "%s: more than %d attributes",
			    attr, TEMPLATE_ENTRY_MAX_ATTRS);
			return -1;
		}
		if (e->attrs == NULL)
			e->attrs = xcalloc(TEMPLATE_ENTRY_MAX_ATTRS,
			    sizeof(*e->attrs));
		name = xstrdup(attr);
		a = &e->attrs[e->nattrs];
		a->values = NULL;
		a->nvalues = 0;
	}

	copy = xstrndup(value, vlen);
	values = xrealloc(a->values, (a->nvalues + 1) * sizeof(*values));
	a->values = values;
	a->values[a->nvalues++] = copy;
	if (name != NULL) {
		a->name = name;
		e->nattrs++;
	}
	return 0;
}

/* Check a value bound for the directory: length, line breaks, UTF-8. */
static int
value_ok(const char *s, size_t *lenp, const char *what, int is_placeholder,
    char *err, size_t errlen)
{
	const char *fmt_pre = is_placeholder ? "placeholder {" : "";
	const char *fmt_post = is_placeholder ? "}" : "";
	size_t n = strnlen(s, TEMPLATE_MAX_VALUE + 1);

	if (n > TEMPLATE_MAX_VALUE) {
		errmsg_set(err, errlen, "%s%s%s: longer than %d bytes", fmt_pre,
		    what, fmt_post, TEMPLATE_MAX_VALUE);
		return -1;
	}
	if (memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL) {
		errmsg_set(err, errlen,
		    "%s%s%s: contains a line break (CR or LF)",
		    fmt_pre, what, fmt_post);
		return -1;
	}
	if (u8_check((const uint8_t *)s, n) != NULL) {
		errmsg_set(err, errlen,
		    "%s%s%s: not valid UTF-8", fmt_pre, what,
		    fmt_post);
		return -1;
	}
	*lenp = n;
	return 0;
}

static const char *
value_of(const struct template_values *v, int ph, char *num, size_t numsz)
{
	const char *s = NULL;

	switch (ph) {
	case PH_LOGIN:       s = v->login; break;
	case PH_FULL_NAME:   s = v->full_name; break;
	case PH_GIVEN_NAME:  s = v->given_name; break;
	case PH_SURNAME:     s = v->surname; break;
	case PH_MIDDLE_NAME: s = v->middle_name; break;
	case PH_UNIT:        s = v->unit; break;
	case PH_UNIT_NAME:   s = v->unit_name; break;
	case PH_MAIL:        s = v->mail; break;
	case PH_DOMAIN:      s = v->domain; break;
	case PH_EMPLOYEE_ID: s = v->employee_id; break;
	case PH_TITLE:       s = v->title; break;
	case PH_PHONE:       s = v->phone; break;
	case PH_QUOTA:
		snprintf(num, numsz, "%" PRIu64, v->quota);
		s = num;
		break;
	default:
		break;
	}
	return s != NULL ? s : "";
}

/*
 * Expand one line into out (TEMPLATE_MAX_VALUE + 1 bytes). Sets *omit when
 * the line drops out because of an empty placeholder; *empty_ph names the
 * first empty placeholder.
 */
static int
expand_line(const struct template_line *tl, const struct template_values *v,
    char *out, size_t *outlen, int *omit, const char **empty_ph,
    char *err, size_t errlen)
{
	char num[24];
	const char *val = tl->value, *s, *close;
	size_t o = 0, n, nph = 0, nempty = 0;
	int literal = 0, over = 0, ph;

	*empty_ph = NULL;
	while (*val != '\0') {
		if (*val != '{') {
			literal = 1;
			if (o < TEMPLATE_MAX_VALUE)
				out[o++] = *val;
			else
				over = 1;
			val++;
			continue;
		}
		/* Checked at load: a known name and a closing brace. */
		close = strchr(val, '}');
		if (close == NULL)
			break;
		ph = placeholder_lookup(val + 1, (size_t)(close - val - 1));
		val = close + 1;
		if (ph < 0)
			continue;
		s = value_of(v, ph, num, sizeof(num));
		if (value_ok(s, &n, placeholder_names[ph], 1, err, errlen) != 0)
			return -1;
		nph++;
		if (n == 0) {
			nempty++;
			if (*empty_ph == NULL)
				*empty_ph = placeholder_names[ph];
			continue;
		}
		if (n > TEMPLATE_MAX_VALUE - o) {
			over = 1;
			n = TEMPLATE_MAX_VALUE - o;
		}
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	*outlen = o;
	*omit = nph > 0 && (nempty == nph || (literal && nempty > 0));
	if (over && !*omit) {
		errmsg_set(err, errlen, "%s (template line %u): value longer "
		    "than %d bytes", tl->attr, tl->lineno, TEMPLATE_MAX_VALUE);
		return -1;
	}
	return 0;
}

int
template_expand(const struct template *t, const struct template_values *v,
    struct template_entry *out, char *err, size_t errlen)
{
	char value[TEMPLATE_MAX_VALUE + 1];
	const char *empty_ph;
	size_t i, vlen;
	int omit;

	if (out == NULL)
		return -1;
	out->attrs = NULL;
	out->nattrs = 0;
	if (t == NULL || v == NULL) {
		errmsg_set(err, errlen, "template: nothing to expand");
		return -1;
	}
	for (i = 0; i < t->nlines; i++) {
		const struct template_line *tl = &t->lines[i];

		if (expand_line(tl, v, value, &vlen, &omit, &empty_ph, err,
		    errlen) != 0)
			goto fail;
		if (omit) {
			if (tl->required < 0)
				continue;
			errmsg_set(err, errlen, "%s: required value is empty "
			    "(placeholder {%s})", tl->attr,
			    empty_ph != NULL ? empty_ph : "?");
			goto fail;
		}
		if (entry_add(out, tl->attr, value, vlen, err, errlen) != 0)
			goto fail;
	}
	return 0;
fail:
	template_entry_free(out);
	return -1;
}

int
template_entry_add(struct template_entry *e, const char *attr,
    const char *value, char *err, size_t errlen)
{
	char shown[TEMPLATE_MAX_ATTR + 8];
	size_t n;

	if (e == NULL || attr == NULL || value == NULL) {
		errmsg_set(err, errlen, "entry: missing attribute or value");
		return -1;
	}
	if (!attr_name_ok(attr, strnlen(attr, TEMPLATE_MAX_ATTR + 1))) {
		text_sanitize(attr, strnlen(attr, TEMPLATE_MAX_ATTR), shown,
		    sizeof(shown));
		errmsg_set(err, errlen, "bad attribute name '%s'", shown);
		return -1;
	}
	if (value_ok(value, &n, attr, 0, err, errlen) != 0)
		return -1;
	if (n == 0) {
		errmsg_set(err, errlen, "%s: empty value", attr);
		return -1;
	}
	return entry_add(e, attr, value, n, err, errlen);
}

void
template_entry_free(struct template_entry *e)
{
	size_t i, j;

	if (e == NULL)
		return;
	for (i = 0; i < e->nattrs; i++) {
		for (j = 0; j < e->attrs[i].nvalues; j++)
			free(e->attrs[i].values[j]);
		free(e->attrs[i].values);
		free(e->attrs[i].name);
	}
	free(e->attrs);
	e->attrs = NULL;
	e->nattrs = 0;
}

_Static_assert(TEMPLATE_ENTRY_MAX_ATTRS <= DIR_MODS_MAX, "an entry fits the LDAPMod builder");

int
template_entry_mods(const struct template_entry *e, struct dir_mods *m, char *err, size_t errlen)
{
	size_t i;

	if (e == NULL || e->nattrs == 0) {
		errmsg_set(err, errlen, "entry: no attributes");
		return -1;
	}
	for (i = 0; i < e->nattrs; i++)
		dir_mods_addn(m, LDAP_MOD_ADD, e->attrs[i].name,
		              (const char *const *)e->attrs[i].values, e->attrs[i].nvalues);
	return 0;
}
