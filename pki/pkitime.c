/*
 * pkitime.c — UTC time conversions (see pkitime.h).
 */
#include "pkitime.h"

#include <stdio.h>
#include <string.h>

static int
tm_of(time_t t, struct tm *tm)
{
	if (gmtime_r(&t, tm) == NULL)
		return -1;
	if (tm->tm_year + 1900 < 1 || tm->tm_year + 1900 > 9999)
		return -1;
	return 0;
}

/* t in one of the two fixed layouts (year, month, day, hour, minute,
 * second), len characters, into out[len + 1]. */
static int
format_fixed(time_t t, const char *layout, char *out, size_t len)
{
	char tmp[80];
	struct tm tm;

	out[0] = '\0';
	if (tm_of(t, &tm) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), layout, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, len);
	out[len] = '\0';
	return 0;
}

int
pkitime_format_ldap(time_t t, char out[PKITIME_LDAP_LEN + 1])
{
	return format_fixed(t, "%04d%02d%02d%02d%02d%02dZ", out, PKITIME_LDAP_LEN);
}

int
pkitime_format_iso(time_t t, char out[PKITIME_ISO_LEN + 1])
{
	return format_fixed(t, "%04d-%02d-%02dT%02d:%02d:%02dZ", out, PKITIME_ISO_LEN);
}

int
pkitime_format_asn1(time_t t, char out[PKITIME_LDAP_LEN + 1])
{
	char tmp[80];
	struct tm tm;
	int year, n;

	if (tm_of(t, &tm) < 0)
		return -1;
	year = tm.tm_year + 1900;
	if (year >= 1950 && year < 2050)
		n = snprintf(tmp, sizeof(tmp), "%02d%02d%02d%02d%02d%02dZ",
		    year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		n = snprintf(tmp, sizeof(tmp), "%04d%02d%02d%02d%02d%02dZ",
		    year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
	if (n < 0 || n > PKITIME_LDAP_LEN)
		return -1;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
pkitime_parse_ldap(const char *s, time_t *out, char *err, size_t errlen)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	struct tm tm;
	int year, mon, day, hour, min, sec;

	if (s == NULL || strnlen(s, PKITIME_LDAP_LEN + 1) != PKITIME_LDAP_LEN ||
	    s[14] != 'Z')
		goto bad;
	year = digits(s, 4);
	mon = digits(s + 4, 2);
	day = digits(s + 6, 2);
	hour = digits(s + 8, 2);
	min = digits(s + 10, 2);
	sec = digits(s + 12, 2);
	if (year < 1 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] || hour < 0 || hour > 23 || min < 0 ||
	    min > 59 || sec < 0 || sec > 59)
		goto bad;
	if (mon == 2 && day == 29 &&
	    !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return 0;
bad:
	snprintf(err, errlen, "time: expected YYYYMMDDHHMMSSZ (UTC)");
	return -1;
}

int
pkitime_from_asn1(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}
