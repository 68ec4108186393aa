/* text — escaping for JSON, TSV and logs. See text.h. */
#include "text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2; c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3; c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4; c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int
json_put_string(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, start = 0;
	uint32_t cp;
	int rc = buf_append(out, "\"", 1);

	/* Runs of characters that stand for themselves go in whole. */
	while (rc == 0 && i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i, &cp);
		if (k > 1) {
			i += k;
			continue;
		}
		rc = buf_append(out, p + start, i - start);
		if (rc != 0)
			break;
		if (k == 0) {
			rc = buf_append(out, "\xef\xbf\xbd", 3);
			start = ++i;
			continue;
		}
		if (cp == '"' || cp == '\\')
			rc = buf_printf(out, "\\%c", (int)cp);
		else if (cp == '\n')
			rc = buf_append(out, "\\n", 2);
		else if (cp == '\t')
			rc = buf_append(out, "\\t", 2);
		else if (cp == '\r')
			rc = buf_append(out, "\\r", 2);
		else
			rc = buf_printf(out, "\\u%04x", (unsigned)cp);
		start = ++i;
	}
	if (rc == 0)
		rc = buf_append(out, p + start, i - start);
	return rc == 0 ? buf_append(out, "\"", 1) : -1;
}

/* The bytes tsv_put_field escapes (all below 0x5d). */
static const bool tsv_special['\\' + 1] = {
	['\t'] = true, ['\n'] = true, ['\r'] = true, ['\\'] = true,
};

int
tsv_put_field(struct buf *out, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *esc;
	int rc = 0;

	/* Runs of plain bytes go in whole: a listing of 100,000 records is
	 * millions of bytes, nearly all of them plain. */
	for (i = 0; rc == 0 && i < n; i++) {
		if ((unsigned char)s[i] > '\\' || !tsv_special[(unsigned char)s[i]])
			continue;
		switch (s[i]) {
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\\': esc = "\\\\"; break;
		default:   continue;
		}
		rc = buf_append(out, s + start, i - start);
		if (rc == 0)
			rc = buf_append(out, esc, 2);
		start = i + 1;
	}
	if (rc == 0)
		rc = buf_append(out, s + start, n - start);
	return rc;
}

static bool
combining(uint32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
	       (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
	       (cp >= 0xfe20 && cp <= 0xfe2f);
}

size_t
text_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0, k;
	uint32_t cp;

	while (i < n) {
		k = utf8_seq(p + i, n - i, &cp);
		if (k == 0) {
			w++;
			i++;
			continue;
		}
		if (!combining(cp))
			w++;
		i += k;
	}
	return w;
}

/* Code points that are not shown as themselves (see text.h): controls,
 * and the marks that reorder or break a line on a terminal. */
static bool
hidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
text_sanitize(const char *s, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k, w, cut = 0;
	uint32_t cp;

	if (outsz == 0)
		return;
	while (i < n) {
		k = utf8_seq(p + i, n - i, &cp);
		w = (k == 0 || hidden(cp)) ? 1 : k;
		if (o + w + 1 > outsz)
			break;
		/* The last boundary "..." still fits after, should the rest not. */
		if (o + 3 + 1 <= outsz)
			cut = o;
		if (w == 1 && (k != 1 || hidden(cp)))
			out[o] = '?';
		else
			memcpy(out + o, p + i, w);
		o += w;
		i += k == 0 ? 1 : k;
	}
	if (i < n) {
		o = o + 3 + 1 <= outsz ? o : cut;
		if (o + 3 + 1 <= outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
		}
	}
	out[o] = '\0';
}

const char *
text_lower_ascii(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}
