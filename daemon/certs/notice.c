/* notice — expiry notices by mail.  See notice.h. */
#include "notice.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ca.h"
#include "config.h"
#include "fieldtype.h"
#include "dir.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "pkitime.h"
#include "profile.h"
#include "provd.h"
#include "schema.h"
#include "serial.h"
#include "units.h"
#include "workpool.h"
#include "xmalloc.h"

#define NOTICE_TEMPLATE   "notice/expiry.vi.txt"
#define MOVED_TEMPLATE    "notice/moved.vi.txt"
#define P12_TEMPLATE      "notice/p12.vi.txt"
#define NOTICE_TPL_MAX    (16 * 1024)
#define NOTICE_MSG_MAX    (32 * 1024)
#define NOTICE_RCPTS      8            /* the holder and up to 7 admins */
#define NOTICE_ADDR_MAX   254
#define NOTICE_WAIT_MS    60000        /* one sendmail run, at most */
#define NOTICE_FIRST_MS   3000

struct tpl {
	char *subject;   /* the template's Subject: text */
	char *body;
};

static struct tpl expiry_tpl;

/* The notices a record is owed by a mark on provdCertNotified (written by
 * whoever owes it, with the change that causes it): each sent once, to the
 * account's address now, recorded as "<tag> TIME RCPTS" with the mark
 * removed.  A kind whose template is missing is off. */
struct owed_kind {
	const char *tag;    /* CERT_MOVED_NOTICE: the claim and the record */
	const char *owed;   /* CERT_MOVED_NOTICE_OWED: the mark */
	const char *file;   /* under DAEMON.TEMPLATE_DIR */
	const char *what;   /* for the log */
	struct tpl  tpl;
};

static struct owed_kind owed_kinds[] = {
	{ CERT_MOVED_NOTICE, CERT_MOVED_NOTICE_OWED, MOVED_TEMPLATE,
	  "notice of the revocation (moved)", { NULL, NULL } },
	{ CERT_P12_NOTICE, CERT_P12_NOTICE_OWED, P12_TEMPLATE,
	  "notice of the PKCS#12 awaiting pickup", { NULL, NULL } },
};
#define NOWED_KINDS (sizeof(owed_kinds) / sizeof(owed_kinds[0]))

/* ---- text ----------------------------------------------------------- */

int
notice_expand(const char *tpl, const char *const *vars, char *out, size_t outsz)
{
	size_t off = 0;
	const char *p = tpl;

	while (*p != '\0') {
		const char *val = NULL, *close;
		size_t i, n = 1;

		if (*p == '{' && (close = strchr(p + 1, '}')) != NULL && close - p <= 32) {
			for (i = 0; vars[i] != NULL; i += 2) {
				if (strlen(vars[i]) == (size_t)(close - p - 1) &&
				    memcmp(vars[i], p + 1, (size_t)(close - p - 1)) == 0) {
					val = vars[i + 1];
					n = (size_t)(close - p + 1);
					break;
				}
			}
		}
		if (val != NULL) {
			for (; *val != '\0'; val++) {
				if (off + 1 >= outsz)
					return -1;
				out[off++] = (*val == '\r' || *val == '\n') ? ' ' : *val;
			}
		} else {
			if (off + 1 >= outsz)
				return -1;
			out[off++] = *p;
		}
		p += n;
	}
	if (off >= outsz)
		return -1;
	out[off] = '\0';
	return 0;
}

int
notice_subject(const char *subject, char *out, size_t outsz)
{
	/* 39 bytes -> 52 base64 characters: "=?UTF-8?B?" + 52 + "?=" = 64,
	 * 73 with "Subject: " in front (RFC 2047 2: lines of at most 76). */
	const unsigned char *s = (const unsigned char *)subject;
	size_t len = strlen(subject), off = 0, pos = 0;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	while (pos < len) {
		size_t n = len - pos > 39 ? 39 : len - pos;
		unsigned char b64[64];
		int w;

		/* Never split a UTF-8 sequence between two words (RFC 2047 5). */
		while (n > 0 && pos + n < len && (s[pos + n] & 0xC0) == 0x80)
			n--;
		if (n == 0)
			return -1;
		EVP_EncodeBlock(b64, s + pos, (int)n);
		w = snprintf(out + off, outsz - off, "%s=?UTF-8?B?%s?=", off ? "\r\n " : "",
		             (const char *)b64);
		if (w < 0 || (size_t)w >= outsz - off)
			return -1;
		off += (size_t)w;
		pos += n;
	}
	return 0;
}

/* "2026-12-05 07:30 (giờ Việt Nam, UTC+7)" from a GeneralizedTime. */
static void
local_time_text(time_t t, char *out, size_t outsz)
{
	struct tm tm;
	time_t vn = t + 7 * 3600;

	if (gmtime_r(&vn, &tm) == NULL) {
		snprintf(out, outsz, "?");
		return;
	}
	snprintf(out, outsz, "%02d/%02d/%04d %02d:%02d (giờ Việt Nam, UTC+7)", tm.tm_mday,
	         tm.tm_mon + 1, tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

/* RFC 5322 date, in English whatever the locale. */
static void
mail_date(time_t t, char *out, size_t outsz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outsz, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
}

/* "30d", "12h", "90m", "45s": a threshold as the records spell it. */
static void
duration_text(unsigned long secs, char *out, size_t outsz)
{
	if (secs % 86400 == 0)
		snprintf(out, outsz, "%lud", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(out, outsz, "%luh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(out, outsz, "%lum", secs / 60);
	else
		snprintf(out, outsz, "%lus", secs);
}

/* An address safe on sendmail's command line and in a header. */
static bool
address_ok(const char *a)
{
	const char *at = strchr(a, '@');

	return a[0] != '\0' && a[0] != '-' && strlen(a) <= NOTICE_ADDR_MAX && at != NULL &&
	       at != a && at[1] != '\0' && strpbrk(a, " \t\r\n,;<>\"()[]\\") == NULL;
}

/* ---- the template ---------------------------------------------------- */

static int
load_template(const struct config *cfg, const char *name, struct tpl *t, char *err, size_t errlen)
{
	char path[4096], *buf = NULL, *p, *line, *nl;
	size_t n = 0;
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", cfg->template_dir, name);
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	buf = xcalloc(1, NOTICE_TPL_MAX + 1);
	n = fread(buf, 1, NOTICE_TPL_MAX + 1, f);
	fclose(f);
	if (n > NOTICE_TPL_MAX) {
		snprintf(err, errlen, "%.300s: larger than %d bytes", path, NOTICE_TPL_MAX);
		goto out;
	}
	buf[n] = '\0';
	/* Comment lines (#) first, then "Subject: ...", a blank line, the body. */
	for (p = buf; *p == '#';) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		p = nl + 1;
	}
	line = p;
	if (strncmp(line, "Subject: ", 9) != 0 || (nl = strchr(line, '\n')) == NULL ||
	    nl[1] != '\n') {
		snprintf(err, errlen, "%.300s: want a \"Subject: ...\" line, a blank line, then the "
		         "body (after any # comment lines)", path);
		goto out;
	}
	*nl = '\0';
	free(t->subject);
	free(t->body);
	t->subject = xstrdup(line + 9);
	t->body = xstrdup(nl + 2);
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- sending: one sendmail run on the work pool ---------------------- */

struct sweep;

struct send {
	struct provd *pd;
	struct sweep *sw;
	char          sendmail[4096];
	char          from[NOTICE_ADDR_MAX + 1];
	char          rcpt[NOTICE_RCPTS][NOTICE_ADDR_MAX + 1];
	size_t        nrcpt;
	char         *msg;
	size_t        len;
	char          err[256];   /* "" when sendmail took the message */
	/* what to record */
	char          dn[512];
	char          value[1024];
	char          claim[32];  /* "<threshold> sending": written before sendmail runs */
	char          owed[32];   /* a debt the record goes with (owed_kind.owed) */
	const char   *what;       /* "expiry notice", for the log */
	char          serial[SERIAL_HEX_MAX + 1];
};

/* Worker: sendmail -i -f FROM -- RCPT..., the message on its stdin. */
static void
send_work(void *arg)
{
	struct send *s = arg;
	char *argv[6 + NOTICE_RCPTS];
	char *envp[3];
	char mailcfg[4200];
	const char *mc = getenv("MAIL_CONFIG");
	posix_spawn_file_actions_t fa;
	int pfd[2], st = 0, rc;
	size_t i, n = 0, off = 0;
	pid_t pid;
	uint64_t start;

	argv[n++] = s->sendmail;
	argv[n++] = (char *)(uintptr_t)"-i";
	argv[n++] = (char *)(uintptr_t)"-f";
	argv[n++] = s->from;
	argv[n++] = (char *)(uintptr_t)"--";
	for (i = 0; i < s->nrcpt; i++)
		argv[n++] = s->rcpt[i];
	argv[n] = NULL;
	/* A small fixed environment; MAIL_CONFIG passes through (a Postfix
	 * instance of its own). */
	n = 0;
	envp[n++] = (char *)(uintptr_t)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	if (mc != NULL && mc[0] == '/' && strlen(mc) < 4096) {
		snprintf(mailcfg, sizeof(mailcfg), "MAIL_CONFIG=%s", mc);
		envp[n++] = mailcfg;
	}
	envp[n] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(s->err, sizeof(s->err), "pipe: %s", strerror(errno));
		return;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		snprintf(s->err, sizeof(s->err), "out of memory");
		return;
	}
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, s->sendmail, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (rc != 0) {
		close(pfd[1]);
		snprintf(s->err, sizeof(s->err), "cannot start %.150s: %s", s->sendmail, strerror(rc));
		return;
	}
	/* The worker blocks here, not the loop; a sendmail that stops reading
	 * is killed after NOTICE_WAIT_MS. */
	while (off < s->len) {
		ssize_t w = write(pfd[1], s->msg + off, s->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(pfd[1]);
	start = loop_now_ms();
	while ((rc = (int)waitpid(pid, &st, WNOHANG)) == 0 &&
	       loop_now_ms() - start < NOTICE_WAIT_MS) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (rc == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(s->err, sizeof(s->err), "%.150s did not finish within %d s", s->sendmail,
		         NOTICE_WAIT_MS / 1000);
	} else if (rc < 0) {
		snprintf(s->err, sizeof(s->err), "waitpid: %s", strerror(errno));
	} else if (off < s->len) {
		snprintf(s->err, sizeof(s->err), "%.150s stopped reading the message", s->sendmail);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(s->err, sizeof(s->err), "%.150s failed (%s %d)", s->sendmail,
		         WIFEXITED(st) ? "exit" : "signal",
		         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
}

/* ---- the sweep -------------------------------------------------------- */

struct item {
	char          serial[SERIAL_HEX_MAX + 1];
	char          login[64];
	char          mail[NOTICE_ADDR_MAX + 1];
	char          cn[256];
	char          unit[64];
	char          profile[PROFILE_NAME_MAX + 1];
	char          not_after[32];
	unsigned long done[CONFIG_MAX_THRESHOLDS * 2];  /* thresholds recorded */
	size_t        ndone;
	const struct owed_kind *owed;  /* the notice it is owed; NULL: an expiry notice */
	bool          looked_up;  /* owed: mail is the account's address now */
	struct item  *next;
};

struct sweep {
	struct provd *pd;
	struct item  *head, *tail, *cur;
	size_t        sent, failed;
	time_t        now;
	size_t        phase;   /* 0: listing the expiring; k: owed_kinds[k - 1]'s debtors */
};

static struct timer *sweep_timer;
static bool          sweep_running;

static void sweep_tick(void *arg);
static void sweep_next(struct sweep *sw);

static void
sweep_finish(struct sweep *sw)
{
	struct provd *pd = sw->pd;
	struct item *it, *n;

	if (sw->sent || sw->failed)
		log_info("notices: %zu sent, %zu failed (tried again at the next sweep)",
		         sw->sent, sw->failed);
	for (it = sw->head; it != NULL; it = n) {
		n = it->next;
		free(it);
	}
	free(sw);
	sweep_running = false;
	if (!pd->stopping)
		sweep_timer = loop_timer(pd->loop, (uint64_t)pd->cfg.notice_sweep * 1000,
		                         sweep_tick, pd);
}

static void
send_free(struct send *s)
{
	free(s->msg);
	free(s);
}

static void
send_next(struct send *s)
{
	struct sweep *sw = s->sw;

	send_free(s);
	sw->cur = sw->cur->next;
	sweep_next(sw);
}

static void
on_recorded(void *arg, const struct dir_result *res)
{
	struct send *s = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS)
		log_warnx("%s for %s sent, but recorded only as \"%s\": %s", s->what, s->serial,
		          s->claim, dir_result_str(res, why, sizeof(why)));
	send_next(s);
}

static void
on_released(void *arg, const struct dir_result *res)
{
	struct send *s = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS)
		log_warnx("%s for %s not sent, and its claim \"%s\" stays (not sent again): %s",
		          s->what, s->serial, s->claim,
		          dir_result_str(res, why, sizeof(why)));
	send_next(s);
}

/* Loop: sendmail is done.  Sent: the claim becomes the record of the
 * notice.  Not sent: the claim goes, so the next sweep tries again. */
static void
send_done(void *arg)
{
	struct send *s = arg;
	struct sweep *sw = s->sw;
	struct dir_mods *m;

	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_DELETE, AT_CERT_NOTIFIED, s->claim);
	if (s->err[0] != '\0') {
		log_warnx("%s for %s not sent: %s", s->what, s->serial, s->err);
		sw->failed++;
		dir_modify(sw->pd->dir, s->dn, dir_mods_get(m), NULL, on_released, s);
	} else {
		sw->sent++;
		log_info("%s for %s sent: %s", s->what, s->serial, s->value);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOTIFIED, s->value);
		if (s->owed[0] != '\0')
			dir_mods_add1(m, LDAP_MOD_DELETE, AT_CERT_NOTIFIED, s->owed);
		dir_modify(sw->pd->dir, s->dn, dir_mods_get(m), NULL, on_recorded, s);
	}
	dir_mods_free(m);
}

/* The claim is written (or not): only the instance that wrote it sends. */
static void
on_claimed(void *arg, const struct dir_result *res)
{
	struct send *s = arg;
	struct sweep *sw = s->sw;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		/* TYPE_OR_VALUE_EXISTS: another instance is sending it. */
		if (res->code != LDAP_TYPE_OR_VALUE_EXISTS) {
			log_warnx("%s for %s not sent: cannot claim it: %s", s->what, s->serial,
			          dir_result_str(res, why, sizeof(why)));
			sw->failed++;
		}
		send_next(s);
		return;
	}
	workpool_submit(sw->pd->hashers, send_work, send_done, s);
}

/* The recipients of it's notice: the holder, then the admins of its unit
 * or of a unit above it.  Their number. */
static size_t
recipients(const struct provd *pd, const struct item *it, struct send *s)
{
	const struct config *c = &pd->cfg;
	size_t i, k;

	s->nrcpt = 0;
	if (address_ok(it->mail))
		snprintf(s->rcpt[s->nrcpt++], sizeof(s->rcpt[0]), "%s", it->mail);
	for (i = 0; i < c->nunit_admins && s->nrcpt < NOTICE_RCPTS; i++) {
		const struct unit_admin *ua = &c->unit_admins[i];
		bool dup = false;

		if (it->unit[0] == '\0' || !address_ok(ua->address) ||
		    (strcmp(ua->unit, it->unit) != 0 && !units_within(pd->units, it->unit, ua->unit)))
			continue;
		for (k = 0; k < s->nrcpt; k++)
			dup = dup || strcmp(s->rcpt[k], ua->address) == 0;
		if (!dup)
			snprintf(s->rcpt[s->nrcpt++], sizeof(s->rcpt[0]), "%s", ua->address);
	}
	return s->nrcpt;
}

/* The whole message to s's recipients from template t filled from vars;
 * tag names it in the Message-ID ("expiry.SERIAL.7d").  0 or -1. */
static int
compose_from(struct provd *pd, const struct tpl *t, const char *const *vars, const char *tag,
             struct send *s)
{
	char subject[512], subj_enc[1200], date[64];
	char to[NOTICE_RCPTS * (NOTICE_ADDR_MAX + 2)], *body = NULL;
	size_t i, off = 0;
	int n;

	body = xmalloc(NOTICE_MSG_MAX / 2);
	if (notice_expand(t->subject, vars, subject, sizeof(subject)) < 0 ||
	    notice_subject(subject, subj_enc, sizeof(subj_enc)) < 0 ||
	    notice_expand(t->body, vars, body, NOTICE_MSG_MAX / 2) < 0) {
		free(body);
		return -1;
	}
	to[0] = '\0';
	for (i = 0; i < s->nrcpt; i++)
		off += (size_t)snprintf(to + off, sizeof(to) - off, "%s%s", i ? ",\r\n " : "",
		                        s->rcpt[i]);
	mail_date(time(NULL), date, sizeof(date));
	s->msg = xmalloc(NOTICE_MSG_MAX);
	n = snprintf(s->msg, NOTICE_MSG_MAX,
	             "From: %s\r\n"
	             "To: %s\r\n"
	             "Subject: %s\r\n"
	             "Date: %s\r\n"
	             "Message-ID: <%s@%s>\r\n"
	             "Auto-Submitted: auto-generated\r\n"
	             "MIME-Version: 1.0\r\n"
	             "Content-Type: text/plain; charset=UTF-8\r\n"
	             "Content-Transfer-Encoding: 8bit\r\n"
	             "\r\n",
	             s->from, to, subj_enc, date, tag, pd->cfg.mail_domain);
	if (n < 0 || (size_t)n >= NOTICE_MSG_MAX) {
		free(body);
		return -1;
	}
	s->len = (size_t)n;
	/* The body with CRLF line ends (sendmail -i takes either). */
	for (i = 0; body[i] != '\0' && s->len + 2 < NOTICE_MSG_MAX; i++) {
		if (body[i] == '\n')
			s->msg[s->len++] = '\r';
		s->msg[s->len++] = body[i];
	}
	n = body[i] == '\0' ? 0 : -1;
	free(body);
	return n;
}

/* The expiry notice for it at threshold thr.  0 or -1. */
static int
compose(struct provd *pd, const struct item *it, unsigned long thr, struct send *s)
{
	const struct profile *p = profile_find(pd->pki->profiles, it->profile);
	const struct unit *u = units_find(pd->units, it->unit);
	char expiry[96], days[32], thr_text[24], tag[SERIAL_HEX_MAX + 40];
	time_t na;
	char err[128];

	if (pkitime_parse_ldap(it->not_after, &na, err, sizeof(err)) < 0)
		return -1;
	local_time_text(na, expiry, sizeof(expiry));
	snprintf(days, sizeof(days), "%lld", (long long)((na - time(NULL)) / 86400));
	duration_text(thr, thr_text, sizeof(thr_text));
	snprintf(tag, sizeof(tag), "expiry.%s.%s", it->serial, thr_text);
	{
		const char *const vars[] = {
			"name", it->cn[0] ? it->cn : it->login, "login", it->login,
			"mail", it->mail, "serial", it->serial, "profile", it->profile,
			"profile_description", p ? p->description : "",
			"not_after", expiry, "days_left", days, "threshold", thr_text,
			"unit", it->unit, "unit_name", u && u->name ? u->name : it->unit,
			NULL
		};

		return compose_from(pd, &expiry_tpl, vars, tag, s);
	}
}

/* The notice it is owed (it->owed): revoked by a move and not re-issued
 * (the holder sends a new request), or re-issued with a PKCS#12 the
 * office holds for pickup.  0 or -1. */
static int
compose_owed(struct provd *pd, const struct item *it, struct send *s)
{
	const struct profile *p = profile_find(pd->pki->profiles, it->profile);
	const struct unit *u = units_find(pd->units, it->unit);
	char tag[SERIAL_HEX_MAX + 16], expiry[96];
	time_t na;
	char err[128];

	if (pkitime_parse_ldap(it->not_after, &na, err, sizeof(err)) == 0)
		local_time_text(na, expiry, sizeof(expiry));
	else
		snprintf(expiry, sizeof(expiry), "%s", it->not_after);
	snprintf(tag, sizeof(tag), "%s.%s", it->owed->tag, it->serial);
	{
		const char *const vars[] = {
			"name", it->cn[0] ? it->cn : it->login, "login", it->login,
			"mail", it->mail, "serial", it->serial, "profile", it->profile,
			"profile_description", p ? p->description : "", "not_after", expiry,
			"unit", it->unit, "unit_name", u && u->name ? u->name : it->unit,
			NULL
		};

		return compose_from(pd, &it->owed->tpl, vars, tag, s);
	}
}

/* The threshold it is past and has no notice for, or 0: the nearest one
 * it is past, unless a notice for that one or a nearer one is recorded. */
static unsigned long
threshold_due(const struct provd *pd, const struct item *it, time_t now)
{
	const struct config *c = &pd->cfg;
	unsigned long thr = 0;
	time_t na;
	size_t i;
	char err[128];

	if (pkitime_parse_ldap(it->not_after, &na, err, sizeof(err)) < 0 || na <= now)
		return 0;
	for (i = 0; i < c->nthresholds; i++)           /* descending */
		if ((unsigned long)(na - now) <= c->thresholds[i])
			thr = c->thresholds[i];
	for (i = 0; thr != 0 && i < it->ndone; i++)
		if (it->done[i] <= thr)
			return 0;
	return thr;
}

static void
lookup_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct sweep *sw = arg;

	dir_entry_copy(ld, e, AT_MAIL, sw->cur->mail, sizeof(sw->cur->mail));
}

static void
lookup_done(void *arg, const struct dir_result *res)
{
	struct sweep *sw = arg;
	char why[300];

	/* Not found (the account gone since): the address the certificate
	 * names.  The directory failing: tried again at the next sweep. */
	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		log_warnx("%s for %s not sent: cannot look up %s: %s", sw->cur->owed->what,
		          sw->cur->serial, sw->cur->login, dir_result_str(res, why, sizeof(why)));
		sw->failed++;
		sw->cur = sw->cur->next;
	} else {
		sw->cur->looked_up = true;
	}
	sweep_next(sw);
}

/* A holder owed a notice is told at the account's address now (a
 * reorganisation may have changed the domain): look it up, then
 * sweep_next again.  false when it cannot be looked up. */
static bool
lookup_holder(struct sweep *sw)
{
	static const char *const attrs[] = { AT_MAIL, NULL };
	char filter[200], esc[130];

	if (ldapesc_filter(sw->cur->login, esc, sizeof(esc)) < 0)
		return false;
	snprintf(filter, sizeof(filter), "(" AT_UID "=%s)", esc);
	dir_search(sw->pd->dir, sw->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 2,
	           NULL, lookup_entry, lookup_done, sw);
	return true;
}

static void
sweep_next(struct sweep *sw)
{
	struct provd *pd = sw->pd;

	for (; sw->cur != NULL && !pd->stopping; sw->cur = sw->cur->next) {
		struct item *it = sw->cur;
		unsigned long thr = it->owed ? 0 : threshold_due(pd, it, sw->now);
		struct send *s;
		char when[32], thr_text[24];
		struct dir_mods *m;
		size_t i, off;

		if (it->owed && !it->looked_up && it->login[0] != '\0' && lookup_holder(sw))
			return;
		if (thr == 0 && !it->owed)
			continue;
		s = xcalloc(1, sizeof(*s));
		s->pd = pd;
		s->sw = sw;
		s->what = it->owed ? it->owed->what : "expiry notice";
		snprintf(s->serial, sizeof(s->serial), "%s", it->serial);
		snprintf(s->sendmail, sizeof(s->sendmail), "%s", pd->cfg.sendmail);
		if (pd->cfg.notice_from[0] != '\0')
			snprintf(s->from, sizeof(s->from), "%s", pd->cfg.notice_from);
		else
			snprintf(s->from, sizeof(s->from), "no-reply@%s", pd->cfg.mail_domain);
		if (recipients(pd, it, s) == 0 || !address_ok(s->from) ||
		    ldapesc_rdn_dn(AT_CERT_SERIAL, it->serial, pd->cfg.certs_dn, s->dn,
		                   sizeof(s->dn)) < 0 ||
		    (it->owed ? compose_owed(pd, it, s) : compose(pd, it, thr, s)) < 0) {
			log_warnx("%s for %s: no usable address or the text does not fit; skipped",
			          s->what, it->serial);
			send_free(s);
			sw->failed++;
			continue;
		}
		pkitime_format_ldap(sw->now, when);
		if (it->owed) {
			snprintf(thr_text, sizeof(thr_text), "%s", it->owed->tag);
			snprintf(s->owed, sizeof(s->owed), "%s", it->owed->owed);
		} else {
			duration_text(thr, thr_text, sizeof(thr_text));
		}
		off = (size_t)snprintf(s->value, sizeof(s->value), "%s %s ", thr_text, when);
		for (i = 0; i < s->nrcpt && off < sizeof(s->value); i++)
			off += (size_t)snprintf(s->value + off, sizeof(s->value) - off, "%s%s",
			                        i ? "," : "", s->rcpt[i]);
		snprintf(s->claim, sizeof(s->claim), "%s sending", thr_text);
		m = dir_mods_new();
		dir_mods_add1(m, LDAP_MOD_ADD, AT_CERT_NOTIFIED, s->claim);
		dir_modify(pd->dir, s->dn, dir_mods_get(m), NULL, on_claimed, s);
		dir_mods_free(m);
		return;
	}
	sweep_finish(sw);
}

static void
sweep_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct sweep *sw = arg;
	struct item *it = xcalloc(1, sizeof(*it));
	struct berval **v = ldap_get_values_len(ld, e, AT_CERT_NOTIFIED);
	size_t i;

	dir_entry_copy(ld, e, AT_CERT_SERIAL, it->serial, sizeof(it->serial));
	dir_entry_copy(ld, e, AT_UID, it->login, sizeof(it->login));
	dir_entry_copy(ld, e, AT_MAIL, it->mail, sizeof(it->mail));
	dir_entry_copy(ld, e, AT_CN, it->cn, sizeof(it->cn));
	dir_entry_copy(ld, e, AT_UNIT, it->unit, sizeof(it->unit));
	dir_entry_copy(ld, e, AT_CERT_PROFILE, it->profile, sizeof(it->profile));
	dir_entry_copy(ld, e, AT_CERT_NOT_AFTER, it->not_after, sizeof(it->not_after));
	it->owed = sw->phase > 0 ? &owed_kinds[sw->phase - 1] : NULL;
	/* "THRESHOLD TIME RECIPIENTS": the threshold is what counts. */
	for (i = 0; v != NULL && v[i] != NULL && it->ndone < sizeof(it->done) / sizeof(it->done[0]);
	     i++) {
		char thr[32];
		size_t n = strcspn(v[i]->bv_val, " ");

		if (n == 0 || n >= sizeof(thr) || n > v[i]->bv_len)
			continue;
		memcpy(thr, v[i]->bv_val, n);
		thr[n] = '\0';
		if (fieldtype_parse_duration(thr, &it->done[it->ndone]) == 0)
			it->ndone++;
	}
	ldap_value_free_len(v);
	if (sw->tail != NULL)
		sw->tail->next = it;
	else
		sw->head = it;
	sw->tail = it;
}

static const char *const sweep_attrs[] = {
	AT_CERT_SERIAL, AT_UID, AT_MAIL, AT_CN, AT_UNIT, AT_CERT_PROFILE,
	AT_CERT_NOT_AFTER, AT_CERT_NOTIFIED, NULL
};

static void
sweep_found(void *arg, const struct dir_result *res)
{
	struct sweep *sw = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		log_warnx("notices: cannot list the certificates %s%s: %s", sw->phase > 0 ?
		          "owed a " : "expiring", sw->phase > 0 ? owed_kinds[sw->phase - 1].what :
		          "", dir_result_str(res, why, sizeof(why)));
	/* Then the certificates owed a notice of each kind that is on. */
	while (sw->phase < NOWED_KINDS && owed_kinds[sw->phase].tpl.body == NULL)
		sw->phase++;
	if (sw->phase < NOWED_KINDS) {
		char filter[200];

		snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")("
		         AT_CERT_NOTIFIED "=%s))", owed_kinds[sw->phase].owed);
		sw->phase++;
		dir_search(sw->pd->dir, sw->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter,
		           sweep_attrs, 0, NULL, sweep_entry, sweep_found, sw);
		return;
	}
	sw->cur = sw->head;
	sweep_next(sw);
}

static void
sweep_tick(void *arg)
{
	const char *const *attrs = sweep_attrs;
	struct provd *pd = arg;
	struct sweep *sw;
	char filter[256], now[32], until[32];

	sweep_timer = NULL;
	if (pd->stopping)
		return;
	if (sweep_running || !ca_ready(pd) || pd->pki == NULL || pd->pki->profiles == NULL) {
		sweep_timer = loop_timer(pd->loop, (uint64_t)pd->cfg.notice_sweep * 1000,
		                         sweep_tick, pd);
		return;
	}
	sweep_running = true;
	sw = xcalloc(1, sizeof(*sw));
	sw->pd = pd;
	sw->now = time(NULL);
	pkitime_format_ldap(sw->now, now);
	pkitime_format_ldap(sw->now + (time_t)pd->cfg.thresholds[0], until);
	/* A renewed certificate's holder has its successor: no notice. */
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_CERT_STATUS
	         "=valid)(" AT_CERT_NOT_AFTER ">=%s)(" AT_CERT_NOT_AFTER "<=%s)(!("
	         AT_CERT_RENEWED_BY "=*)))", now, until);
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL,
	           sweep_entry, sweep_found, sw);
}

int
notice_start(struct provd *pd)
{
	char err[512];
	size_t k;
	int rc;

	if (pd->cfg.sendmail[0] == '\0' || pd->cfg.nthresholds == 0) {
		log_info("expiry notices are off (notice.sendmail or notice.thresholds empty)");
		return 0;
	}
	if ((rc = load_template(&pd->cfg, NOTICE_TEMPLATE, &expiry_tpl, err, sizeof(err))) != 0) {
		if (rc > 0) {
			log_warnx("expiry notices are off: no template (%s)", err);
			return 0;
		}
		log_warnx("expiry notices: %s", err);
		return -1;
	}
	for (k = 0; k < NOWED_KINDS; k++) {
		struct owed_kind *ok = &owed_kinds[k];

		if ((rc = load_template(&pd->cfg, ok->file, &ok->tpl, err, sizeof(err))) > 0) {
			log_warnx("%ss are off: no template (%s)", ok->what, err);
		} else if (rc < 0) {
			log_warnx("%ss: %s", ok->what, err);
			return -1;
		}
	}
	if (sweep_timer == NULL && !sweep_running)
		sweep_timer = loop_timer(pd->loop, NOTICE_FIRST_MS, sweep_tick, pd);
	return 0;
}

