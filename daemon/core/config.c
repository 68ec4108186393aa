/* config — libconfig reader for provd.conf. See config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <libconfig.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fieldtype.h"
#include "ldapesc.h"
#include "log.h"
#include "xmalloc.h"

#define DEFAULT_SOCKET "/run/provd/provd.sock"

int
config_check_private(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
		         "%s: mode %04o lets group or others read it; "
		         "refusing to start (chmod 600 %s)",
		         path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* config_lookup() that marks the setting as read: settings nobody reads
 * are misspelt or obsolete, and check_unknown() names them. */
static config_setting_t *
lookup(config_t *cf, const char *path)
{
	static char used;
	config_setting_t *s = config_lookup(cf, path);

	if (s != NULL)
		config_setting_set_hook(s, &used);
	return s;
}

/* Every setting in group g was read, or g names the first one that was not
 * ("file:line: unknown setting 'mail.retention_day'").  Groups are walked;
 * lists and arrays count as read with their parent. */
static int
check_unknown(config_setting_t *g, char *err, size_t errlen)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char path[256] = "";
		config_setting_t *p;

		if (s == NULL)
			continue;
		if (config_setting_is_group(s) && config_setting_get_hook(s) == NULL) {
			if (check_unknown(s, err, errlen) < 0)
				return -1;
			continue;
		}
		if (config_setting_get_hook(s) != NULL)
			continue;
		/* The dotted path, for the message: names from the root down. */
		{
			const char *names[8];
			size_t nn = 0, len = 0, k;

			for (p = s; p != NULL && config_setting_name(p) != NULL && nn < 8;
			     p = config_setting_parent(p))
				names[nn++] = config_setting_name(p);
			for (k = nn; k > 0; k--) {
				size_t w = strlen(names[k - 1]);

				if (len + w + 2 > sizeof(path))
					break;
				if (len > 0)
					path[len++] = '.';
				memcpy(path + len, names[k - 1], w);
				len += w;
			}
			path[len] = '\0';
		}
		snprintf(err, errlen, "%s:%d: unknown setting '%s' (misspelt? provd.conf(5) "
		         "lists the settings)",
		         config_setting_source_file(s) ? config_setting_source_file(s) : "config",
		         config_setting_source_line(s), path);
		return -1;
	}
	return 0;
}

/* Copy the string setting at path, or the default (may be NULL). */
static int
get_str(config_t *cf, const char *path, const char *def, char **out,
        char *err, size_t errlen)
{
	config_setting_t *s = lookup(cf, path);
	const char *v = def;

	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			snprintf(err, errlen, "%s:%d: %s must be a string",
			         config_setting_source_file(s) ?
			         config_setting_source_file(s) : "config",
			         config_setting_source_line(s), path);
			return -1;
		}
		v = config_setting_get_string(s);
	}
	*out = NULL;
	if (v != NULL)
		*out = xstrdup(v);
	return 0;
}

static int
get_uint(config_t *cf, const char *path, unsigned def, unsigned min,
         unsigned max, unsigned *out, char *err, size_t errlen)
{
	config_setting_t *s = lookup(cf, path);
	long long v = def;

	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64) {
			snprintf(err, errlen, "%s:%d: %s must be a number",
			         config_setting_source_file(s),
			         config_setting_source_line(s), path);
			return -1;
		}
		v = config_setting_get_int64(s);
		if (v < min || v > max) {
			snprintf(err, errlen, "%s:%d: %s = %lld is outside %u..%u",
			         config_setting_source_file(s),
			         config_setting_source_line(s), path, v, min, max);
			return -1;
		}
	}
	*out = (unsigned)v;
	return 0;
}

static int
read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
	char buf[1024];
	ssize_t n;
	int fd, rc = -1;

	if (config_check_private(path, err, errlen) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "%s: empty password file", path);
		goto out;
	}
	*out = xstrdup(buf);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* mail.reserved: lower-cased local parts no account may take (address.h),
 * besides the built-in ones: 1 to 64 characters, no '@'. */
static int
load_reserved(config_t *cf, struct config *c, char *err, size_t errlen)
{
	const char *path = "mail.reserved";
	config_setting_t *list = lookup(cf, path);
	int j;

	if (list == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		snprintf(err, errlen, "%s:%d: %s must be a list of local parts",
		         config_setting_source_file(list), config_setting_source_line(list), path);
		return -1;
	}
	for (j = 0; j < config_setting_length(list); j++) {
		const char *v = config_setting_get_string_elem(list, j);
		size_t k;

		if (v == NULL || v[0] == '\0' || strlen(v) > 64 || strchr(v, '@') != NULL ||
		    c->nreserved >= CONFIG_MAX_RESERVED) {
			snprintf(err, errlen, "%s:%d: %s: entry %d is not a local part (1 to 64 "
			         "characters, no '@'), or more than %d entries",
			         config_setting_source_file(list), config_setting_source_line(list),
			         path, j, CONFIG_MAX_RESERVED);
			return -1;
		}
		c->reserved[c->nreserved] = xstrdup(v);
		for (k = 0; v[k] != '\0'; k++)
			c->reserved[c->nreserved][k] = (char)tolower((unsigned char)v[k]);
		c->nreserved++;
	}
	return 0;
}

/* UNTIL as written in mail.old_domains and in a reorganisation file's
 * domain line: YYYY-MM-DD (00:00 UTC that day), or "forever" / "" (0). */
int
config_parse_until(const char *s, time_t *until)
{
	struct tm tm = { 0 };
	int y, m, d;
	char tail;

	*until = 0;
	if (s == NULL || s[0] == '\0' || strcmp(s, "forever") == 0)
		return 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
	    y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*until = timegm(&tm);
	/* 2025-02-30 normalises to March: not a date. */
	if (gmtime_r(until, &tm) == NULL || tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	return 0;
}

/* One entry of the old-domain list, checked: a domain (no '@', a '.'),
 * not mail.domain, not listed twice; `until` as config_parse_until. */
static int
old_domain_add(struct config *c, config_setting_t *at, const char *path, const char *name,
               enum old_domain_kind kind, const char *until, char *err, size_t errlen)
{
	struct old_domain *od;
	time_t t;
	size_t i, k;

	if (name == NULL || name[0] == '\0' || strlen(name) > 253 || strchr(name, '@') != NULL ||
	    strchr(name, '.') == NULL || c->nold_domains >= CONFIG_MAX_OLD_DOMAINS) {
		snprintf(err, errlen, "%s:%d: %s: not a domain, or more than %d old domains in "
		         "all", config_setting_source_file(at), config_setting_source_line(at),
		         path, CONFIG_MAX_OLD_DOMAINS);
		return -1;
	}
	if (config_parse_until(until, &t) < 0) {
		snprintf(err, errlen, "%s:%d: %s: until must be YYYY-MM-DD or \"forever\"",
		         config_setting_source_file(at), config_setting_source_line(at), path);
		return -1;
	}
	od = &c->old_domains[c->nold_domains];
	od->name = xstrdup(name);
	for (k = 0; name[k] != '\0'; k++)
		od->name[k] = (char)tolower((unsigned char)name[k]);
	od->kind = kind;
	od->until = t;
	snprintf(od->until_day, sizeof(od->until_day), "%s", t != 0 ? until : "");
	for (i = 0; i <= c->nold_domains; i++)
		if (strcasecmp(c->old_domains[i].name, i < c->nold_domains ? od->name :
		                c->mail_domain) == 0) {
			snprintf(err, errlen, "%s:%d: %s: %s is %s", config_setting_source_file(at),
			         config_setting_source_line(at), path, od->name,
			         i < c->nold_domains ? "listed twice" : "mail.domain itself");
			free(od->name);
			od->name = NULL;
			return -1;
		}
	c->nold_domains++;
	return 0;
}

/* The domains still delivered besides mail.domain, into one list
 * (config.h): mail.old_domains, a list of groups
 *   ( { domain = "vinhphuc.gov.vn"; kind = "previous"; until = "2026-07-01"; } )
 * and the older lists of names, each entry for good:
 * mail.previous_domains (kind previous) and mail.alias_domains (absorbed). */
static int
load_old_domains(config_t *cf, struct config *c, char *err, size_t errlen)
{
	static const struct { const char *path; enum old_domain_kind kind; } names[] = {
		{ "mail.previous_domains", OLD_DOMAIN_PREVIOUS },
		{ "mail.alias_domains", OLD_DOMAIN_ABSORBED },
	};
	config_setting_t *list, *e;
	size_t i;
	int j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((list = lookup(cf, names[i].path)) == NULL)
			continue;
		if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
			snprintf(err, errlen, "%s:%d: %s must be a list of domains",
			         config_setting_source_file(list), config_setting_source_line(list),
			         names[i].path);
			return -1;
		}
		for (j = 0; j < config_setting_length(list); j++)
			if (old_domain_add(c, list, names[i].path,
			                   config_setting_get_string_elem(list, j), names[i].kind,
			                   NULL, err, errlen) < 0)
				return -1;
	}
	if ((list = lookup(cf, "mail.old_domains")) == NULL)
		return 0;
	if (!config_setting_is_list(list)) {
		snprintf(err, errlen, "%s:%d: mail.old_domains must be a list of groups ( { "
		         "domain = \"...\"; kind = \"previous\"; until = \"YYYY-MM-DD\"; } )",
		         config_setting_source_file(list), config_setting_source_line(list));
		return -1;
	}
	for (j = 0; j < config_setting_length(list); j++) {
		const char *name = NULL, *kind = "previous", *until = NULL;
		enum old_domain_kind k;

		e = config_setting_get_elem(list, (unsigned)j);
		if (e == NULL || !config_setting_is_group(e) ||
		    !config_setting_lookup_string(e, "domain", &name)) {
			snprintf(err, errlen, "%s:%d: mail.old_domains entry %d needs domain",
			         config_setting_source_file(list),
			         config_setting_source_line(e ? e : list), j + 1);
			return -1;
		}
		(void)config_setting_lookup_string(e, "kind", &kind);
		(void)config_setting_lookup_string(e, "until", &until);
		if (strcmp(kind, "previous") == 0) {
			k = OLD_DOMAIN_PREVIOUS;
		} else if (strcmp(kind, "absorbed") == 0) {
			k = OLD_DOMAIN_ABSORBED;
		} else {
			snprintf(err, errlen, "%s:%d: mail.old_domains entry %d: kind must be "
			         "previous or absorbed", config_setting_source_file(e),
			         config_setting_source_line(e), j + 1);
			return -1;
		}
		if (config_setting_length(e) > 1 + (config_setting_get_member(e, "kind") != NULL) +
		    (config_setting_get_member(e, "until") != NULL)) {
			snprintf(err, errlen, "%s:%d: mail.old_domains entry %d: unknown setting "
			         "(domain, kind, until)", config_setting_source_file(e),
			         config_setting_source_line(e), j + 1);
			return -1;
		}
		if (old_domain_add(c, e, "mail.old_domains", name, k, until, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* A duration setting (fieldtype_parse_duration) at path, or def. */
static int
get_duration(config_t *cf, const char *path, const char *def, unsigned long *out,
             char *err, size_t errlen)
{
	config_setting_t *s = lookup(cf, path);
	const char *v = def;

	if (s != NULL && (v = config_setting_get_string(s)) == NULL) {
		snprintf(err, errlen, "%s:%d: %s must be a string such as \"7d\" or \"12h\"",
		         config_setting_source_file(s), config_setting_source_line(s), path);
		return -1;
	}
	if (fieldtype_parse_duration(v, out) < 0) {
		snprintf(err, errlen, "%s: %s = \"%.32s\" is not a duration (90s, 30m, 12h, 7d)",
		         s ? config_setting_source_file(s) : "config", path, v);
		return -1;
	}
	return 0;
}

static int
cmp_desc(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* notice.thresholds (durations before expiry, default 30, 7 and 1 days)
 * and notice.unit_admins ("UNIT ADDRESS" strings). */
static int
load_notice(config_t *cf, struct config *c, char *err, size_t errlen)
{
	config_setting_t *list = lookup(cf, "notice.thresholds");
	int j;

	if (list == NULL) {
		c->thresholds[0] = 30 * 86400ul;
		c->thresholds[1] = 7 * 86400ul;
		c->thresholds[2] = 86400ul;
		c->nthresholds = 3;
	} else if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		snprintf(err, errlen, "%s:%d: notice.thresholds must be a list of durations",
		         config_setting_source_file(list), config_setting_source_line(list));
		return -1;
	}
	for (j = 0; list != NULL && j < config_setting_length(list); j++) {
		const char *v = config_setting_get_string_elem(list, j);
		unsigned long d;
		size_t k;

		if (v == NULL || fieldtype_parse_duration(v, &d) < 0 || d == 0 ||
		    c->nthresholds >= CONFIG_MAX_THRESHOLDS) {
			snprintf(err, errlen, "%s:%d: notice.thresholds: entry %d is not a duration "
			         "(\"30d\", \"12h\"), or more than %d entries",
			         config_setting_source_file(list), config_setting_source_line(list),
			         j, CONFIG_MAX_THRESHOLDS);
			return -1;
		}
		for (k = 0; k < c->nthresholds; k++) {
			if (c->thresholds[k] == d) {
				snprintf(err, errlen, "%s:%d: notice.thresholds: %s is listed twice",
				         config_setting_source_file(list),
				         config_setting_source_line(list), v);
				return -1;
			}
		}
		c->thresholds[c->nthresholds++] = d;
	}
	qsort(c->thresholds, c->nthresholds, sizeof(c->thresholds[0]), cmp_desc);

	if ((list = lookup(cf, "notice.unit_admins")) == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		snprintf(err, errlen, "%s:%d: notice.unit_admins must be a list of \"UNIT ADDRESS\"",
		         config_setting_source_file(list), config_setting_source_line(list));
		return -1;
	}
	for (j = 0; j < config_setting_length(list); j++) {
		const char *v = config_setting_get_string_elem(list, j);
		const char *sp = v ? strchr(v, ' ') : NULL;
		struct unit_admin *ua;

		if (sp == NULL || sp == v || strlen(v) > 300 || strchr(sp + 1, '@') == NULL ||
		    strpbrk(sp + 1, " \t\r\n,<>\"") != NULL ||
		    c->nunit_admins >= CONFIG_MAX_UNIT_ADMINS) {
			snprintf(err, errlen, "%s:%d: notice.unit_admins: entry %d is not "
			         "\"UNIT ADDRESS\", or more than %d entries",
			         config_setting_source_file(list), config_setting_source_line(list),
			         j, CONFIG_MAX_UNIT_ADMINS);
			return -1;
		}
		ua = &c->unit_admins[c->nunit_admins++];
		ua->unit = xstrdup(v);
		ua->unit[sp - v] = '\0';
		ua->address = xstrdup(sp + 1);
	}
	return 0;
}

static int
load_roles(config_t *cf, struct config *c, char *err, size_t errlen)
{
	static const char *const names[] = { "admin", "officer", "onboarder", "auditor" };
	config_setting_t *list, *e;
	size_t i;
	int j;

	for (i = 0; i < 4; i++) {
		char path[32];

		snprintf(path, sizeof(path), "roles.%s", names[i]);
		if ((list = lookup(cf, path)) == NULL)
			continue;
		if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
			snprintf(err, errlen, "%s:%d: %s must be a list of group names",
			         config_setting_source_file(list),
			         config_setting_source_line(list), path);
			return -1;
		}
		for (j = 0; j < config_setting_length(list); j++) {
			const char *g = config_setting_get_string_elem(list, j);

			if (g == NULL || c->ngroups >= CONFIG_MAX_GROUPS) {
				snprintf(err, errlen, "%s:%d: %s: bad group name or more than %d groups",
				         config_setting_source_file(list),
				         config_setting_source_line(list), path,
				         CONFIG_MAX_GROUPS);
				return -1;
			}
			c->groups[c->ngroups].group = xstrdup(g);
			c->groups[c->ngroups].role = role_parse(names[i]);
			c->ngroups++;
		}
	}
	/* Scoped grants: ( { group = "..."; role = "admin"; unit = "code"; } ) */
	if ((list = lookup(cf, "roles.scoped")) == NULL)
		return 0;
	for (j = 0; j < config_setting_length(list); j++) {
		const char *g = NULL, *r = NULL, *u = NULL;

		e = config_setting_get_elem(list, (unsigned)j);
		if (e == NULL || !config_setting_lookup_string(e, "group", &g) ||
		    !config_setting_lookup_string(e, "role", &r) ||
		    !config_setting_lookup_string(e, "unit", &u) ||
		    role_parse(r) == 0 || c->ngroups >= CONFIG_MAX_GROUPS) {
			snprintf(err, errlen, "%s:%d: roles.scoped entry %d needs "
			         "group, role (admin|officer|onboarder|auditor) and unit",
			         config_setting_source_file(list),
			         config_setting_source_line(e ? e : list), j + 1);
			return -1;
		}
		c->groups[c->ngroups].group = xstrdup(g);
		c->groups[c->ngroups].role = role_parse(r);
		c->groups[c->ngroups].unit = xstrdup(u);
		c->ngroups++;
	}
	return 0;
}

static int
derive_dns(struct config *c, char *err, size_t errlen)
{
	char dn[1024];

	if (asprintf(&c->units_dn, "ou=units,%s", c->base) < 0 ||
	    asprintf(&c->people_dn, "ou=people,%s", c->base) < 0 ||
	    asprintf(&c->pki_dn, "ou=pki,%s", c->base) < 0 ||
	    asprintf(&c->certs_dn, "ou=certificates,ou=pki,%s", c->base) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ldapesc_rdn_dn("cn", c->ca_name, c->pki_dn, dn, sizeof(dn)) < 0) {
		snprintf(err, errlen, "%s: pki.ca_name cannot form a DN", c->path);
		return -1;
	}
	c->ca_dn = xstrdup(dn);
	return 0;
}

int
config_load(const char *path, bool check_perms, struct config *c,
            char *err, size_t errlen)
{
	config_t cf;
	config_setting_t *s;
	char *fac = NULL, *quota = NULL, *bind = NULL;
	int rc = -1, i;

	memset(c, 0, sizeof(*c));
	config_init(&cf);
	c->path = xstrdup(path);
	if (check_perms && config_check_private(path, err, errlen) < 0)
		goto out;
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", path,
			         config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	config_set_auto_convert(&cf, 0);

	if (get_str(&cf, "daemon.socket", DEFAULT_SOCKET, &c->socket_path, err, errlen) ||
	    get_str(&cf, "daemon.socket_group", NULL, &c->socket_group, err, errlen) ||
	    get_str(&cf, "daemon.user", NULL, &c->user, err, errlen) ||
	    get_str(&cf, "daemon.signer_user", NULL, &c->signer_user, err, errlen) ||
	    get_str(&cf, "daemon.state_dir", "/var/lib/provd", &c->state_dir, err, errlen) ||
	    get_str(&cf, "daemon.template_dir", PROVD_DATADIR, &c->template_dir, err, errlen) ||
	    get_str(&cf, "daemon.syslog_facility", "daemon", &fac, err, errlen) ||
	    get_uint(&cf, "daemon.max_clients_per_uid", 32, 1, 10000, &c->max_clients_per_uid, err, errlen) ||
	    get_uint(&cf, "daemon.client_timeout", 30, 1, 3600, &c->client_timeout, err, errlen) ||
	    get_uint(&cf, "daemon.hash_threads", 0, 0, 256, &c->hash_threads, err, errlen) ||
	    get_str(&cf, "ldap.bind", "external", &bind, err, errlen) ||
	    get_str(&cf, "ldap.bind_dn", NULL, &c->bind_dn, err, errlen) ||
	    get_str(&cf, "ldap.bind_password_file", NULL, &c->bind_password_file, err, errlen) ||
	    get_str(&cf, "ldap.base", NULL, &c->base, err, errlen) ||
	    get_uint(&cf, "ldap.timeout", 10, 1, 600, &c->ldap_timeout, err, errlen) ||
	    get_uint(&cf, "ldap.window", 256, 1, 900, &c->ldap_window, err, errlen) ||
	    get_uint(&cf, "ldap.writer_lease", 30, 3, 3600, &c->writer_lease, err, errlen) ||
	    get_uint(&cf, "ldap.failback_probe", 5, 1, 3600, &c->failback_probe, err, errlen) ||
	    get_str(&cf, "mail.domain", NULL, &c->mail_domain, err, errlen) ||
	    get_str(&cf, "mail.default_quota", "2G", &quota, err, errlen) ||
	    get_str(&cf, "mail.generated_password_hash", "ssha512", &c->generated_hash, err, errlen) ||
	    get_str(&cf, "mail.chosen_password_hash", "yescrypt", &c->chosen_hash, err, errlen) ||
	    get_uint(&cf, "mail.retention_days", 30, 0, 3650, &c->retention_days, err, errlen) ||
	    get_uint(&cf, "mail.sync_max_delete_percent", 10, 0, 100, &c->sync_max_delete_percent,
	             err, errlen) ||
	    get_uint(&cf, "mail.initial_password_days", 14, 0, 365, &c->initial_password_days, err, errlen) ||
	    get_uint(&cf, "mail.initial_password_sweep", 60, 1, 3600, &c->initial_password_sweep, err, errlen) ||
	    get_str(&cf, "mail.password_page_url", "", &c->password_page_url, err, errlen) ||
	    get_str(&cf, "mail.domain_lists_dir", "", &c->domain_lists_dir, err, errlen) ||
	    get_str(&cf, "pki.ca_name", "Staff CA", &c->ca_name, err, errlen) ||
	    get_str(&cf, "pki.organization", "", &c->organization, err, errlen) ||
	    get_str(&cf, "pki.organization_identifier", "", &c->organization_identifier, err,
	            errlen) ||
	    get_str(&cf, "pki.country", "VN", &c->country, err, errlen) ||
	    get_str(&cf, "pki.key_file", NULL, &c->key_file, err, errlen) ||
	    get_str(&cf, "pki.key_passphrase_file", NULL, &c->key_passphrase_file, err, errlen) ||
	    get_str(&cf, "pki.pkcs11_module", NULL, &c->pkcs11_module, err, errlen) ||
	    get_str(&cf, "pki.pkcs11_pin_file", NULL, &c->pkcs11_pin_file, err, errlen) ||
	    get_str(&cf, "pki.escrow_cert_file", NULL, &c->escrow_cert_file, err, errlen) ||
	    get_uint(&cf, "pki.escrow_retention_days", 3650, 0, 36500,
	             &c->escrow_retention_days, err, errlen) ||
	    get_str(&cf, "pki.cert_file", NULL, &c->cert_file, err, errlen) ||
	    get_str(&cf, "pki.crl_file", NULL, &c->crl_file, err, errlen) ||
	    get_uint(&cf, "pki.crl_days", 7, 1, 7, &c->crl_days, err, errlen) ||
	    get_uint(&cf, "pki.crl_sync", 20, 1, 3600, &c->crl_sync, err, errlen) ||
	    get_str(&cf, "pki.crl_url", NULL, &c->crl_url, err, errlen) ||
	    get_str(&cf, "pki.ocsp_url", NULL, &c->ocsp_url, err, errlen) ||
	    get_str(&cf, "pki.ocsp_dir", NULL, &c->ocsp_dir, err, errlen) ||
	    get_uint(&cf, "pki.ocsp_hours", 48, 1, 336, &c->ocsp_hours, err, errlen) ||
	    get_uint(&cf, "pki.ocsp_responder_hours", 168, 2, 2160,
	             &c->ocsp_responder_hours, err, errlen) ||
	    get_str(&cf, "pki.ca_issuers_url", NULL, &c->ca_issuers_url, err, errlen) ||
	    get_str(&cf, "pki.default_profile", "staff-email", &c->default_profile, err, errlen) ||
	    get_duration(&cf, "pki.renew_overlap", "0", &c->renew_overlap, err, errlen) ||
	    get_uint(&cf, "pki.supersede_sweep", 60, 1, 3600, &c->supersede_sweep, err, errlen) ||
	    get_str(&cf, "notice.sendmail", "/usr/sbin/sendmail", &c->sendmail, err, errlen) ||
	    get_str(&cf, "notice.from", "", &c->notice_from, err, errlen) ||
	    get_uint(&cf, "notice.sweep", 3600, 1, 86400, &c->notice_sweep, err, errlen) ||
	    load_notice(&cf, c, err, errlen) < 0)
		goto out;
	if (c->domain_lists_dir[0] != '\0' && c->domain_lists_dir[0] != '/') {
		snprintf(err, errlen, "%s: mail.domain_lists_dir must be an absolute path (or "
		         "\"\" for none)", path);
		goto out;
	}
	if (c->sendmail[0] != '\0' && c->sendmail[0] != '/') {
		snprintf(err, errlen, "%s: notice.sendmail must be an absolute path (or \"\" for "
		         "no notices)", path);
		goto out;
	}

	if ((c->pkcs11_module == NULL) != (c->pkcs11_pin_file == NULL) ||
	    (c->pkcs11_module != NULL && (c->pkcs11_module[0] != '/' ||
	                                  c->pkcs11_pin_file[0] != '/'))) {
		snprintf(err, errlen, "%s: pki.pkcs11_module and pki.pkcs11_pin_file go "
		         "together, as absolute paths", path);
		goto out;
	}
	if (c->ocsp_responder_hours < 2 * c->ocsp_hours) {
		snprintf(err, errlen, "%s: pki.ocsp_responder_hours (%u) must be at least "
		         "twice pki.ocsp_hours (%u)", path, c->ocsp_responder_hours, c->ocsp_hours);
		goto out;
	}
	if ((c->syslog_facility = log_facility_parse(fac)) < 0) {
		snprintf(err, errlen, "%s: daemon.syslog_facility '%s' is not "
		         "daemon, user or local0..local7", path, fac);
		goto out;
	}
	if (fieldtype_parse_size(quota, &c->default_quota) < 0) {
		snprintf(err, errlen, "%s: mail.default_quota '%s' is not a size "
		         "like 2G or 500M", path, quota);
		goto out;
	}
	if (strcmp(bind, "simple") == 0) {
		c->bind_simple = true;
		if (c->bind_dn == NULL || c->bind_password_file == NULL) {
			snprintf(err, errlen, "%s: ldap.bind = \"simple\" needs "
			         "ldap.bind_dn and ldap.bind_password_file", path);
			goto out;
		}
		if (read_secret_file(c->bind_password_file, &c->bind_password,
		                     err, errlen) < 0)
			goto out;
	} else if (strcmp(bind, "external") != 0) {
		snprintf(err, errlen, "%s: ldap.bind must be \"external\" or "
		         "\"simple\", not \"%s\"", path, bind);
		goto out;
	}
	if ((s = lookup(&cf, "ldap.uris")) == NULL ||
	    config_setting_length(s) == 0) {
		snprintf(err, errlen, "%s: ldap.uris: at least one URI is required", path);
		goto out;
	}
	for (i = 0; i < config_setting_length(s); i++) {
		const char *u = config_setting_get_string_elem(s, i);

		if (u == NULL || c->nuris >= CONFIG_MAX_URIS ||
		    (strncmp(u, "ldap://", 7) && strncmp(u, "ldaps://", 8) &&
		     strncmp(u, "ldapi://", 8))) {
			snprintf(err, errlen, "%s:%d: ldap.uris[%d]: not an ldap://, "
			         "ldaps:// or ldapi:// URI (at most %d)", path,
			         config_setting_source_line(s), i, CONFIG_MAX_URIS);
			goto out;
		}
		c->uris[c->nuris++] = xstrdup(u);
	}
	if (c->base == NULL || c->mail_domain == NULL) {
		snprintf(err, errlen, "%s: %s is required", path,
		         c->base == NULL ? "ldap.base" : "mail.domain");
		goto out;
	}
	{
		LDAPDN dn = NULL;

		if (ldap_str2dn(c->base, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
		    dn == NULL) {
			ldap_dnfree(dn);
			snprintf(err, errlen, "%s: ldap.base '%.200s' is not a DN "
			         "(e.g. dc=vinhphuc,dc=gov,dc=vn)", path, c->base);
			goto out;
		}
		ldap_dnfree(dn);
	}
	if (load_roles(&cf, c, err, errlen) < 0 ||
	    load_reserved(&cf, c, err, errlen) < 0 ||
	    load_old_domains(&cf, c, err, errlen) < 0 ||
	    derive_dns(c, err, errlen) < 0 || check_unknown(config_root_setting(&cf), err, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(fac);
	free(quota);
	free(bind);
	config_destroy(&cf);
	if (rc != 0)
		config_free(c);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c->bind_password != NULL)
		explicit_bzero(c->bind_password, strlen(c->bind_password));
	free(c->bind_password);
	for (i = 0; i < c->nuris; i++)
		free(c->uris[i]);
	for (i = 0; i < c->nreserved; i++)
		free(c->reserved[i]);
	for (i = 0; i < c->nold_domains; i++)
		free(c->old_domains[i].name);
	for (i = 0; i < c->nunit_admins; i++) {
		free(c->unit_admins[i].unit);
		free(c->unit_admins[i].address);
	}
	free(c->sendmail); free(c->notice_from);
	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].group);
		free(c->groups[i].unit);
	}
	free(c->path); free(c->socket_path); free(c->socket_group); free(c->user); free(c->signer_user);
	free(c->state_dir); free(c->template_dir); free(c->bind_dn);
	free(c->bind_password_file); free(c->base); free(c->mail_domain);
	free(c->generated_hash); free(c->chosen_hash); free(c->password_page_url); free(c->domain_lists_dir); free(c->ca_name);
	free(c->organization); free(c->organization_identifier); free(c->country); free(c->key_file);
	free(c->key_passphrase_file); free(c->pkcs11_module); free(c->pkcs11_pin_file);
	free(c->escrow_cert_file);
	free(c->cert_file); free(c->crl_file);
	free(c->crl_url); free(c->ocsp_url); free(c->ocsp_dir); free(c->ca_issuers_url);
	free(c->default_profile); free(c->units_dn); free(c->people_dn);
	free(c->pki_dn); free(c->certs_dn); free(c->ca_dn);
	memset(c, 0, sizeof(*c));
}
