/* fieldtype — reply field types. See fieldtype.h. */
#include "fieldtype.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct field_decl {
	const char     *name;
	enum field_type type;
};

/* Sorted by name (bsearch). */
static const struct field_decl fields[] = {
	{ "accounts",            FT_INT },
	{ "accounts_active",     FT_INT },
	{ "accounts_deleted",    FT_INT },
	{ "accounts_disabled",   FT_INT },
	{ "accounts_moved",      FT_INT },
	{ "addresses_added",     FT_INT },
	{ "certificates",        FT_INT },
	{ "certificates_notify", FT_INT },
	{ "certificates_reissue", FT_INT },
	{ "certs_expired",       FT_INT },
	{ "certs_expiring_30d",  FT_INT },
	{ "certs_hold",          FT_INT },
	{ "certs_revoked",       FT_INT },
	{ "certs_valid",         FT_INT },
	{ "clients",             FT_INT },
	{ "created",             FT_INT },   /* a count; on an account, a time */
	{ "crl_number",          FT_INT },
	{ "days_left",           FT_INT },
	{ "delete_after",        FT_TIME },
	{ "deleted",             FT_INT },   /* batch import --sync: a count */
	{ "done",                FT_INT },
	{ "escrow_copies_dropped", FT_INT },
	{ "escrow_copies_failed", FT_INT },
	{ "expires",             FT_TIME },  /* batch credentials */
	{ "failed",              FT_INT },
	{ "first",               FT_TIME },
	{ "generation",          FT_INT },
	{ "hash_jobs",           FT_INT },
	{ "invalidity_date",     FT_TIME },
	{ "last",                FT_TIME },
	{ "last_full_refresh",   FT_TIME },
	{ "launcher_pid",        FT_INT },
	{ "ldap_outstanding",    FT_INT },
	{ "ldap_read_slices",    FT_INT },
	{ "ldap_reconnects",     FT_INT },
	{ "lines",               FT_INT },
	{ "loop_turns",          FT_INT },
	{ "loop_yields",         FT_INT },
	{ "lost_in_failover",    FT_INT },
	{ "must_change",         FT_BOOL },
	{ "next_crl_number",     FT_INT },
	{ "next_update",         FT_TIME },
	{ "not_after",           FT_TIME },
	{ "not_before",          FT_TIME },
	{ "not_served",          FT_INT },
	{ "not_served_since_start", FT_INT },
	{ "ocsp_pending",        FT_INT },
	{ "on_demand_answers_since_start", FT_INT },
	{ "password_expires",    FT_TIME },
	{ "password_reset",      FT_INT },   /* batch import --from-ldif */
	{ "passwords_expired",   FT_INT },
	{ "passwords_initial",   FT_INT },
	{ "passwords_own",       FT_INT },
	{ "pending",             FT_INT },
	{ "quota",               FT_SIZE },
	{ "records",             FT_INT },
	{ "rejected",            FT_INT },
	{ "renamed",             FT_INT },   /* batch import --from-ldif */
	{ "requests",            FT_INT },
	{ "responder_certificates_since_start", FT_INT },
	{ "responder_not_after", FT_TIME },
	{ "responses",           FT_INT },
	{ "revoked_at",          FT_TIME },
	{ "row",                 FT_INT },   /* a CSV row; in report units, a kind */
	{ "rows",                FT_INT },
	{ "self_signed",         FT_BOOL },
	{ "seq",                 FT_INT },
	{ "signed_since_start",  FT_INT },
	{ "signer_pid",          FT_INT },
	{ "skipped",             FT_INT },
	{ "spare_launcher_pid",  FT_INT },
	{ "spawner_pid",         FT_INT },
	{ "sub_units",           FT_INT },
	{ "supersede_at",        FT_TIME },
	{ "this_update",         FT_TIME },
	{ "time",                FT_TIME },
	{ "total",               FT_INT },
	{ "uid",                 FT_INT },
	{ "unchanged",           FT_INT },
	{ "units",               FT_INT },
	{ "unknown_answers_since_start", FT_INT },
	{ "updated",             FT_INT },
	{ "uptime_s",            FT_INT },
};

static int
cmp_decl(const void *key, const void *elem)
{
	return strcmp(key, ((const struct field_decl *)elem)->name);
}

enum field_type
fieldtype_of(const char *name)
{
	const struct field_decl *d = bsearch(name, fields, sizeof(fields) / sizeof(fields[0]),
	                                     sizeof(fields[0]), cmp_decl);

	return d != NULL ? d->type : FT_STRING;
}

static bool
digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool
is_int(const char *s, size_t n)
{
	if (n > 0 && s[0] == '-')
		s++, n--;
	/* No leading zeros (JSON), at most 18 digits (fits any reader). */
	return digits(s, n) && n <= 18 && (n == 1 || s[0] != '0');
}

bool
fieldtype_is_gtime(const char *s, size_t n)
{
	return n == 15 && s[14] == 'Z' && digits(s, 14);
}

static int
days_in(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

const char *
fieldtype_time_text(const char *s, char iso[21])
{
	return s[0] != '\0' && fieldtype_parse_time(s, iso, NULL) == 0 ? iso : s;
}

/* The decimal value of n digits. */
static int
num(const char *s, size_t n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

int
fieldtype_parse_time(const char *s, char iso[21], char gtime[16])
{
	char d[15];            /* YYYYMMDDHHMMSS */
	size_t n = strlen(s), i, k = 0;
	int y, mo, dd, h, mi, sec;

	if (fieldtype_is_gtime(s, n)) {
		memcpy(d, s, 14);
	} else {
		/* dddd-dd-dd[Tdd:dd[:dd]][Z] */
		static const char shape[] = "dddd-dd-ddTdd:dd:dd";

		if (n > 0 && s[n - 1] == 'Z')
			n--;
		if (n != 10 && n != 16 && n != 19)
			return -1;
		for (i = 0; i < n; i++) {
			char want = shape[i], ch = s[i];

			if (want == 'd' ? (ch < '0' || ch > '9') :
			    want == 'T' ? (ch != 'T' && ch != ' ') : ch != want)
				return -1;
			if (want == 'd')
				d[k++] = ch;
		}
		while (k < 14)
			d[k++] = '0';
	}
	d[14] = '\0';
	/* Fourteen digits by now (a listing converts one time a record: no
	 * sscanf). */
	y = num(d, 4);
	mo = num(d + 4, 2);
	dd = num(d + 6, 2);
	h = num(d + 8, 2);
	mi = num(d + 10, 2);
	sec = num(d + 12, 2);
	if (y < 1 || mo < 1 || mo > 12 || dd < 1 || dd > days_in(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (iso != NULL) {
		static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

		for (i = 0, k = 0; i < 20; i++)
			iso[i] = shape[i] == 'd' ? d[k++] : shape[i];
		iso[20] = '\0';
	}
	if (gtime != NULL) {
		memcpy(gtime, d, 14);
		gtime[14] = 'Z';
		gtime[15] = '\0';
	}
	return 0;
}

/* "5G" for 5 GiB, "500M", "unlimited" for 0 (a quota of 0 is no limit:
 * Dovecot's quota_rule bytes=0); other byte counts as they are. */
static int
put_size(struct buf *out, const char *v, size_t n)
{
	static const char unit[] = "KMGTP";
	unsigned long long bytes;
	char tmp[24];
	int u = -1;

	if (!digits(v, n) || n > 18)
		return buf_append(out, v, n);
	if (strspn(v, "0") == n)
		return buf_append(out, "unlimited", 9);
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	bytes = strtoull(tmp, NULL, 10);
	while (bytes != 0 && bytes % 1024 == 0 && u + 1 < (int)sizeof(unit) - 1) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		return buf_append(out, v, n);
	return buf_printf(out, "%llu%c", bytes, unit[u]);
}

int
fieldtype_render(struct buf *out, enum fieldtype_mode mode, const char *name,
                 const char *v, size_t n)
{
	return fieldtype_render_as(out, mode, fieldtype_of(name), v, n);
}

int
fieldtype_render_as(struct buf *out, enum fieldtype_mode mode, enum field_type t,
                    const char *v, size_t n)
{
	char iso[21], tmp[32];

	if (mode == FIELDTYPE_JSON && n == 0)
		return buf_append(out, "null", 4);
	if ((t == FT_TIME || t == FT_INT) && n < sizeof(tmp) && !is_int(v, n)) {
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if (fieldtype_parse_time(tmp, iso, NULL) == 0 &&
		    (fieldtype_is_gtime(v, n) || t == FT_TIME))
			return mode == FIELDTYPE_JSON ? json_put_string(out, iso, 20) :
			       buf_append(out, iso, 20);
	}
	if (mode == FIELDTYPE_JSON) {
		if ((t == FT_INT || t == FT_SIZE) && is_int(v, n))
			return buf_append(out, v, n);
		if (t == FT_BOOL) {
			if ((n == 3 && memcmp(v, "yes", 3) == 0) || (n == 4 && memcmp(v, "true", 4) == 0))
				return buf_append(out, "true", 4);
			if ((n == 2 && memcmp(v, "no", 2) == 0) || (n == 5 && memcmp(v, "false", 5) == 0))
				return buf_append(out, "false", 5);
		}
		return json_put_string(out, v, n);
	}
	if (mode == FIELDTYPE_HUMAN && t == FT_SIZE)
		return put_size(out, v, n);
	return buf_append(out, v, n);
}

int
fieldtype_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (s != NULL && strcmp(s, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':            break;
	case 'K': case 'k':   mul = 1ull << 10; end++; break;
	case 'M': case 'm':   mul = 1ull << 20; end++; break;
	case 'G': case 'g':   mul = 1ull << 30; end++; break;
	case 'T': case 't':   mul = 1ull << 40; end++; break;
	default:              return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || (v != 0 && mul > ~0ull / v))
		return -1;
	*out = v * mul;
	return 0;
}

int
fieldtype_parse_duration(const char *s, unsigned long *seconds)
{
	unsigned long n = 0, unit = 86400;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 36500ul * 86400)
			return -1;
	}
	switch (*p) {
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	case '\0': break;
	default: return -1;
	}
	if (*p != '\0' || n > 36500ul * 86400 / unit)
		return -1;
	*seconds = n * unit;
	return 0;
}
