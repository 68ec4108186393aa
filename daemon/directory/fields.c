/* fields — validation of typed values. See fields.h. */
#include "fields.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

#include "config.h"
#include "fieldtype.h"

int
field_employee_id(const char *s, char *err, size_t errlen)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > FIELD_EMPLOYEE_ID_MAX) {
		snprintf(err, errlen, "employee_id: must be 1 to %d characters",
		         FIELD_EMPLOYEE_ID_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') {
			snprintf(err, errlen, "employee_id: character %zu is not a letter, "
			         "digit, '.', '_' or '-'", i + 1);
			return -1;
		}
	return 0;
}

int
field_phone(const char *s, char *out, size_t outsz, char *err, size_t errlen)
{
	size_t i, o = 0, digits = 0;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (c == ' ' || c == '.' || c == '-')
			continue;
		if (c == '+' && o == 0) {
			if (o + 1 >= outsz)
				goto bad;
			out[o++] = c;
			continue;
		}
		if (c < '0' || c > '9')
			goto bad;
		if (o + 1 >= outsz)
			goto bad;
		out[o++] = c;
		digits++;
	}
	if (digits < 6 || digits > 15)
		goto bad;
	out[o] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "phone: '%.32s' is not a telephone number "
	         "(6 to 15 digits, optional leading +)", s);
	return -1;
}

int
field_title(const char *s, char *out, size_t outsz, char *err, size_t errlen)
{
	size_t n = strlen(s), i, o = 0;
	bool space = false;

	if (n > FIELD_TITLE_MAX || n >= outsz) {
		snprintf(err, errlen, "title: longer than %d bytes", FIELD_TITLE_MAX);
		return -1;
	}
	if (u8_check((const uint8_t *)s, n) != NULL) {
		snprintf(err, errlen, "title: not valid UTF-8");
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		ucs4_t uc;
		int k;

		/* No control (C0, DEL, C1), format (bidi overrides and
		 * isolates, zero-width characters), line or paragraph
		 * separator, surrogate or unassigned code point: such a title
		 * would read differently from what it holds. */
		k = u8_mbtouc_unsafe(&uc, (const uint8_t *)s + i, n - i);
		if (uc != '\t' &&
		    uc_is_general_category_withtable(uc, UC_CATEGORY_MASK_Cc |
		                                     UC_CATEGORY_MASK_Cf | UC_CATEGORY_MASK_Zl |
		                                     UC_CATEGORY_MASK_Zp | UC_CATEGORY_MASK_Cs |
		                                     UC_CATEGORY_MASK_Cn)) {
			snprintf(err, errlen, "title: contains a control or invisible "
			         "formatting character (U+%04X)", (unsigned)uc);
			return -1;
		}
		if (k > 1) {
			if (space)
				out[o++] = ' ';
			memcpy(out + o, s + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k - 1;
			space = false;
			continue;
		}
		if (c == ' ' || c == '\t') {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static bool
label_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		      p[i] == '-'))
			return false;
	return true;
}

int
field_mail(const char *name, const char *s, char *out, size_t outsz,
           char *err, size_t errlen)
{
	size_t n = strlen(s), i, at = n, start;

	if (n == 0 || n > FIELD_MAIL_MAX || n >= outsz)
		goto bad;
	for (i = 0; i < n; i++) {
		out[i] = (char)tolower((unsigned char)s[i]);
		if (s[i] == '@') {
			if (at != n)
				goto bad;
			at = i;
		}
	}
	out[n] = '\0';
	if (at == 0 || at == n || at > 64)
		goto bad;
	for (i = 0; i < at; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '+' || c == '-'))
			goto bad;
		if (c == '.' && (i == 0 || i == at - 1 || out[i - 1] == '.'))
			goto bad;
	}
	start = at + 1;
	for (i = start; i <= n; i++)
		if (i == n || out[i] == '.') {
			if (!label_ok(out + start, i - start))
				goto bad;
			start = i + 1;
		}
	if (strchr(out + at + 1, '.') == NULL)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%.64s' is not a mail address (local@domain)",
	         name, s);
	return -1;
}

int
field_quota(const char *s, unsigned long long *out, char *err, size_t errlen)
{
	if (fieldtype_parse_size(s, out) < 0) {
		snprintf(err, errlen, "quota: '%.32s' is not a size like 2G, 500M, or 0 or unlimited for no limit", s);
		return -1;
	}
	return 0;
}
