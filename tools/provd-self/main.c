/*
 * provd-self — the page where staff change their own mail password.
 *
 *   provd-self [-d] [-n] [-c FILE] [-p PORTFILE]
 *
 *   -c FILE      configuration (default PROVD_SYSCONFDIR/provd/self.conf)
 *   -d           stay in the foreground, log to stderr
 *   -n           check the configuration and exit
 *   -p PORTFILE  write the port bound (useful with port = 0)
 *
 * Start-up order (acquire, then drop): read the configuration, the
 * service identity's password and the common-password list, open the
 * audit log and the listening socket; then, when started as root, drop
 * to the configured user and check the drop.  The process has no access
 * to provd's socket, journal or CA: it talks only to slapd, as the page's
 * service identity and as the person.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/crypto.h>

#include "guard.h"
#include "pwrules.h"
#include "selfdir.h"
#include "web.h"

#ifndef PROVD_SYSCONFDIR
#define PROVD_SYSCONFDIR "/etc"
#endif
#ifndef PROVD_DATADIR
#define PROVD_DATADIR "/usr/local/share/provd"
#endif

#define SECRET_MAX 256

struct settings {
	char  listen[64];
	int   port;
	char  public_url[512];
	char  user[64];
	char  audit_log[PATH_MAX];
	char  trusted_proxy[64];
	int   min_length;
	char  common_passwords[PATH_MAX];
	struct guard_limit per_address;
	struct guard_limit per_account;
	char  ldap_uri[1024];
	char  ldap_base[512];
	char  bind_dn[512];
	char  bind_password_file[PATH_MAX];
	int   timeout;
};

static void
usage(void)
{
	fprintf(stderr, "usage: provd-self [-d] [-n] [-c FILE] [-p PORTFILE]\n");
	exit(2);
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "provd-self: %s\n", msg);
	syslog(LOG_ERR, "%s", msg);
	exit(1);
}

/* The keys each group may hold; anything else is an error naming its line
 * (a misspelt key must not silently fall back to a default). */
static const char *const keys_self[] = { "listen", "port", "public_url",
	"user", "audit_log", "trusted_proxy", "min_length", "common_passwords",
	"per_address", "per_account", NULL };
static const char *const keys_limit[] = { "burst", "window", NULL };
static const char *const keys_ldap[] = { "uri", "base", "bind_dn",
	"bind_password_file", "timeout", NULL };
static const char *const keys_top[] = { "self", "ldap", NULL };

static void
check_keys(const config_setting_t *group, const char *const *allowed,
    const char *file)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group,
		    (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;

		for (size_t k = 0; name != NULL && allowed[k] != NULL; k++)
			ok = ok || strcmp(allowed[k], name) == 0;
		if (!ok)
			die("%s:%d: unknown key \"%s\"", file,
			    config_setting_source_line(s),
			    name != NULL ? name : "(unnamed)");
	}
}

static void
get_str(const config_setting_t *g, const char *key, char *out, size_t outsz,
    const char *def, const char *file)
{
	const char *v = def;
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			die("%s:%d: %s must be a string", file,
			    config_setting_source_line(s), key);
		v = config_setting_get_string(s);
	}
	if (v == NULL)
		die("%s: %s.%s is required", file, config_setting_name(g), key);
	if (strlen(v) >= outsz)
		die("%s: %s.%s is too long", file, config_setting_name(g), key);
	memcpy(out, v, strlen(v) + 1);
}

static int
get_int(const config_setting_t *g, const char *key, int def, int lo, int hi,
    const char *file)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT)
		die("%s:%d: %s must be a whole number", file,
		    config_setting_source_line(s), key);
	v = config_setting_get_int(s);
	if (v < lo || v > hi)
		die("%s:%d: %s = %d: want %d to %d", file,
		    config_setting_source_line(s), key, v, lo, hi);
	return v;
}

static struct guard_limit
get_limit(const config_setting_t *self, const char *key, unsigned burst,
    unsigned window, const char *file)
{
	const config_setting_t *g = config_setting_get_member(self, key);
	struct guard_limit l = { burst, window };

	if (g == NULL)
		return l;
	if (!config_setting_is_group(g))
		die("%s:%d: %s must be a group { burst; window; }", file,
		    config_setting_source_line(g), key);
	check_keys(g, keys_limit, file);
	l.burst = (unsigned)get_int(g, "burst", (int)burst, 1, 100000, file);
	l.window = (unsigned)get_int(g, "window", (int)window, 1, 86400, file);
	return l;
}

static void
load_settings(const char *file, struct settings *st)
{
	config_t cfg;
	config_setting_t *self, *ldap;

	config_init(&cfg);
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			die("%s: cannot read: %s", file, strerror(errno));
		die("%s:%d: %s", file, config_error_line(&cfg),
		    config_error_text(&cfg));
	}
	check_keys(config_root_setting(&cfg), keys_top, file);
	self = config_lookup(&cfg, "self");
	ldap = config_lookup(&cfg, "ldap");
	if (self == NULL || !config_setting_is_group(self))
		die("%s: the group self = { ... } is required", file);
	if (ldap == NULL || !config_setting_is_group(ldap))
		die("%s: the group ldap = { ... } is required", file);
	check_keys(self, keys_self, file);
	check_keys(ldap, keys_ldap, file);
	get_str(self, "listen", st->listen, sizeof(st->listen), "127.0.0.1", file);
	st->port = get_int(self, "port", 8080, 0, 65535, file);
	get_str(self, "public_url", st->public_url, sizeof(st->public_url), NULL, file);
	get_str(self, "user", st->user, sizeof(st->user), "", file);
	get_str(self, "audit_log", st->audit_log, sizeof(st->audit_log), NULL, file);
	get_str(self, "trusted_proxy", st->trusted_proxy,
	    sizeof(st->trusted_proxy), "", file);
	st->min_length = get_int(self, "min_length", PWRULES_MIN_DEFAULT, 8, 64, file);
	get_str(self, "common_passwords", st->common_passwords,
	    sizeof(st->common_passwords),
	    PROVD_DATADIR "/common-passwords.txt", file);
	st->per_address = get_limit(self, "per_address", 10, 300, file);
	st->per_account = get_limit(self, "per_account", 20, 1800, file);
	get_str(ldap, "uri", st->ldap_uri, sizeof(st->ldap_uri), NULL, file);
	get_str(ldap, "base", st->ldap_base, sizeof(st->ldap_base), NULL, file);
	get_str(ldap, "bind_dn", st->bind_dn, sizeof(st->bind_dn), NULL, file);
	get_str(ldap, "bind_password_file", st->bind_password_file,
	    sizeof(st->bind_password_file), NULL, file);
	st->timeout = get_int(ldap, "timeout", 5, 1, 60, file);
	config_destroy(&cfg);
}

/* The service identity's password: the first line of a file that only
 * its owner may read. */
static void
read_secret(const char *path, char *out, size_t outsz)
{
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		die("%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		die("%s: not a regular file", path);
	if ((sb.st_mode & 077) != 0)
		die("%s: mode %03o: a password file must be 0600 or stricter",
		    path, (unsigned)(sb.st_mode & 0777));
	n = read(fd, out, outsz - 1);
	close(fd);
	if (n <= 0)
		die("%s: empty or unreadable", path);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0')
		die("%s: empty first line", path);
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		die("user \"%s\" does not exist (create it: see "
		    "docs/selfservice.md)", user);
	if (pw->pw_uid == 0)
		die("user \"%s\" is root: give the page a user of its own", user);
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		die("cannot drop privileges to %s: %s", user, strerror(errno));
	if (setuid(0) == 0 || geteuid() != pw->pw_uid || getegid() != pw->pw_gid)
		die("privilege drop to %s did not stick", user);
}

int
main(int argc, char **argv)
{
	const char *file = PROVD_SYSCONFDIR "/provd/self.conf", *portfile = NULL;
	bool foreground = false, check_only = false;
	struct settings st;
	struct selfdir_conf dir;
	struct web_conf wc;
	struct pwrules *rules;
	struct guard *guard;
	struct web *web;
	struct rlimit nocore = { 0, 0 };
	char secret[SECRET_MAX], err[512];
	sigset_t set;
	int c, sig, audit_fd;

	/* No core dump may ever hold a password typed into the page. */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	while ((c = getopt(argc, argv, "c:dnp:")) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 'd': foreground = true; break;
		case 'n': check_only = true; break;
		case 'p': portfile = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	openlog("provd-self", LOG_PID | (foreground ? LOG_PERROR : 0),
	    LOG_DAEMON);
	memset(&st, 0, sizeof(st));
	load_settings(file, &st);
	if ((rules = pwrules_load((unsigned)st.min_length, st.common_passwords,
	    err, sizeof(err))) == NULL)
		die("%s", err);
	read_secret(st.bind_password_file, secret, sizeof(secret));
	if (check_only) {
		printf("provd-self: %s is valid (%zu common passwords)\n", file,
		    pwrules_list_size(rules));
		OPENSSL_cleanse(secret, sizeof(secret));
		pwrules_free(rules);
		return 0;
	}
	audit_fd = open(st.audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (audit_fd < 0)
		die("%s: %s", st.audit_log, strerror(errno));
	if ((guard = guard_new(st.per_address, st.per_account)) == NULL)
		die("cannot draw random keys");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so only sigwait sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	dir = (struct selfdir_conf){ .uri = st.ldap_uri, .base = st.ldap_base,
	    .bind_dn = st.bind_dn, .bind_pw = secret, .timeout = st.timeout };
	wc = (struct web_conf){ .dir = &dir, .rules = rules, .guard = guard,
	    .listen = st.listen, .port = (unsigned)st.port,
	    .public_url = st.public_url, .trusted_proxy = st.trusted_proxy,
	    .audit_fd = audit_fd };
	if ((web = web_start(&wc, err, sizeof(err))) == NULL)
		die("%s", err);
	if (portfile != NULL) {
		FILE *f = fopen(portfile, "w");

		if (f == NULL || fprintf(f, "%u\n", web_port(web)) < 0 ||
		    fclose(f) != 0)
			die("%s: cannot write the port", portfile);
	}
	drop_privileges(st.user);
	syslog(LOG_INFO, "serving %s on %s port %u", st.public_url, st.listen,
	    web_port(web));
	do {
		if (sigwait(&set, &sig) != 0)
			sig = SIGTERM;
	} while (sig == SIGHUP);        /* nothing to reload: keep serving */
	syslog(LOG_INFO, "stopping on signal %d", sig);
	web_stop(web);
	guard_free(guard);
	pwrules_free(rules);
	close(audit_fd);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}
