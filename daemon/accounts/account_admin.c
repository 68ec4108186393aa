/* account_admin — modify, move, disable, enable, delete and purge accounts.
 * See account_admin.h. */
#include "account_admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dir.h"
#include "fieldtype.h"
#include "fields.h"
#include "ldapesc.h"
#include "log.h"
#include "pkitime.h"
#include "provd.h"
#include "request.h"
#include "text.h"
#include "wire.h"
#include "xmalloc.h"

/* ---- shared: lookup, time, finishing with certificates ---------------- */

struct lookup {
	struct request     *req;
	acct_found_fn      *found;
	acct_drop_fn       *drop;
	void               *ctx;
	bool                check_role;
	int                 nfound;
	struct acct_target  t;
};

void
acct_gentime(char *out, size_t outsz, unsigned days)
{
	char t[PKITIME_LDAP_LEN + 1] = "";

	/* One GeneralizedTime formatter for the whole engine (pkitime.h). */
	pkitime_format_ldap(time(NULL) + (time_t)days * 86400, t);
	snprintf(out, outsz, "%s", t);
}

static void
lookup_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct lookup *l = arg;
	char *dn;

	if (l->nfound++ > 0)
		return;
	dn = dir_entry_dn(ld, e);
	snprintf(l->t.dn, sizeof(l->t.dn), "%s", dn ? dn : "");
	free(dn);
	dir_entry_copy(ld, e, AT_UID, l->t.login, sizeof(l->t.login));
	dir_entry_copy(ld, e, AT_MAIL, l->t.mail, sizeof(l->t.mail));
	dir_entry_copy(ld, e, AT_UNIT, l->t.unit, sizeof(l->t.unit));
	dir_entry_copy(ld, e, AT_DELETE_AFTER, l->t.delete_after, sizeof(l->t.delete_after));
	snprintf(l->t.status, sizeof(l->t.status), "%s", account_state_name(account_state_read(ld, e)));
	l->t.aliases = dir_entry_get_all(ld, e, AT_MAIL_ALIAS);
}

static void
lookup_done(void *arg, const struct dir_result *res)
{
	struct lookup *l = arg;
	struct request *req = l->req;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		goto drop;
	}
	if (l->nfound == 0) {
		request_done(req, ST_NOTFOUND, "login: no account '%s'", req->args.operand[0]);
		goto drop;
	}
	if (l->check_role && !request_may(req, req->spec->roles, l->t.unit)) {
		char what[128];

		snprintf(what, sizeof(what), "account %s (unit %s)", l->t.login,
		         l->t.unit[0] ? l->t.unit : "none");
		request_refuse(req, req->spec->roles, what);
		goto drop;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s", l->t.login);
	l->found(req, l->ctx, &l->t);
	goto out;
drop:
	if (l->drop)
		l->drop(l->ctx);
out:
	dir_strv_free(l->t.aliases);
	free(l);
}

void
acct_lookup(struct request *req, const char *login, acct_found_fn *found,
            acct_drop_fn *drop, void *ctx)
{
	static const char *const attrs[] = {
		AT_UID, AT_MAIL, AT_UNIT, AT_MAIL_ALIAS,
		AT_LOCKED_TIME, AT_DELETE_AFTER, NULL
	};
	struct lookup *l;
	char filter[128];

	if (!names_login_valid(login)) {
		char clean[80];

		text_sanitize(login, strnlen(login, 64), clean, sizeof(clean));
		request_done(req, ST_INVALID, "login: '%s' is not a login "
		             "([a-z][a-z0-9]*, at most %d characters)", clean, NAMES_LOGIN_MAX);
		if (drop)
			drop(ctx);
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->req = req;
	l->found = found;
	l->drop = drop;
	l->ctx = ctx;
	l->check_role = true;
	/* A valid login is [a-z0-9] only: nothing to escape. */
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")(" AT_UID "=%s))", login);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 2, NULL, lookup_entry, lookup_done, l);
}

struct after {
	struct request *req;
	char            login[NAMES_LOGIN_BUFSZ];
	char            status_word[16];
	char            msg[512];
};

static void
after_certs(void *arg, int status, const char *summary)
{
	struct after *a = arg;
	struct request *req = a->req;

	reply_kv(req, "login", a->login,
	         "status", a->status_word[0] ? a->status_word : NULL,
	         "certificates", summary, NULL);
	if (status == ST_OK)
		request_done(req, ST_OK, "%s; certificates: %s", a->msg, summary);
	else
		request_done(req, status, "%s, but the certificates were not updated "
		             "(run the command again): %s", a->msg, summary);
	free(a);
}

void
acct_finish_with_certs(struct request *req, const char *login, enum lifecycle_event ev,
                       const char *status_word, const char *msg)
{
	struct after *a = xcalloc(1, sizeof(*a));

	a->req = req;
	snprintf(a->login, sizeof(a->login), "%s", login);
	snprintf(a->status_word, sizeof(a->status_word), "%s", status_word ? status_word : "");
	snprintf(a->msg, sizeof(a->msg), "%s", msg);
	lifecycle_certs(req->pd, login, ev, after_certs, a);
}

void
acct_name_words_mod(struct dir_mods *m, const char *cn)
{
	char words[NAMES_WORDS_MAX][NAMES_WORD_BUFSZ];
	const char *v[NAMES_WORDS_MAX + 1];
	int i, n = names_fold_words(cn, words, NAMES_WORDS_MAX);

	for (i = 0; i < n; i++)
		v[i] = words[i];
	v[n > 0 ? n : 0] = NULL;
	dir_mods_add(m, LDAP_MOD_REPLACE, AT_NAME_WORDS, n > 0 ? v : NULL);
}

/* What a failed write of login's entry means: the status, and msg. */
static int
write_error(const struct dir_result *res, const char *login, char *msg, size_t msglen)
{
	char why[300];

	dir_result_str(res, why, sizeof(why));
	if (res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT) {
		snprintf(msg, msglen, "%s: outcome unknown (the directory went away); run the "
		         "command again to converge: %s", login, why);
		return ST_UNAVAILABLE;
	}
	if (res->code == LDAP_NO_SUCH_OBJECT) {
		snprintf(msg, msglen, "login: account '%s' disappeared meanwhile", login);
		return ST_NOTFOUND;
	}
	snprintf(msg, msglen, "%s: directory refused the change: %s", login, why);
	return schema_status_of_ldap(res->code);
}

/* A write finished: the common error mapping.  Returns true on success. */
static bool
write_ok(struct request *req, const struct dir_result *res, const char *login)
{
	char msg[600];
	int status;

	if (res->code == LDAP_SUCCESS)
		return true;
	status = write_error(res, login, msg, sizeof(msg));
	request_done(req, status, "%s", msg);
	return false;
}

/* ---- the one deletion (user delete, batch import --sync) --------------- */

struct deletion {
	struct provd        *pd;
	acct_delete_done_fn *done;
	void                *ctx;
	char                 login[NAMES_LOGIN_BUFSZ];
	char                 msg[512];
};

static void
deletion_certs(void *arg, int status, const char *summary)
{
	struct deletion *d = arg;
	char msg[800];

	if (status == ST_OK)
		d->done(d->ctx, d->login, ST_OK, d->msg, summary);
	else {
		snprintf(msg, sizeof(msg), "%s, but the certificates were not updated (run "
		         "the command again): %s", d->msg, summary);
		d->done(d->ctx, d->login, status, msg, summary);
	}
	free(d);
}

static void
deletion_written(void *arg, const struct dir_result *res)
{
	struct deletion *d = arg;
	char msg[600];
	int status;

	if (res->code != LDAP_SUCCESS) {
		status = write_error(res, d->login, msg, sizeof(msg));
		d->done(d->ctx, d->login, status, msg, "");
		free(d);
		return;
	}
	lifecycle_certs(d->pd, d->login, LIFECYCLE_DELETE, deletion_certs, d);
}

void
acct_delete(struct provd *pd, const struct acct_target *t, bool dry_run,
            acct_delete_done_fn *done, void *ctx)
{
	struct deletion *d = xcalloc(1, sizeof(*d));
	struct dir_mods *m;
	char now[32], until[32], iso[21];

	d->pd = pd;
	d->done = done;
	d->ctx = ctx;
	snprintf(d->login, sizeof(d->login), "%s", t->login);
	if (strcmp(t->status, "deleted") == 0) {
		/* Already deleted: keep the original purge date; only make sure
		 * the certificates follow (a retry converges). */
		snprintf(d->msg, sizeof(d->msg), "%s was already deleted; purged after %s",
		         t->login, fieldtype_time_text(t->delete_after, iso));
		(dry_run ? lifecycle_preview : lifecycle_certs)(pd, t->login, LIFECYCLE_DELETE,
		                                                deletion_certs, d);
		return;
	}
	acct_gentime(now, sizeof(now), 0);
	acct_gentime(until, sizeof(until), pd->cfg.retention_days);
	snprintf(d->msg, sizeof(d->msg), "%s %s: disabled now, purged after %s",
	         dry_run ? "delete" : "deleted", t->login, fieldtype_time_text(until, iso));
	if (dry_run) {
		lifecycle_preview(pd, t->login, LIFECYCLE_DELETE, deletion_certs, d);
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_LOCKED_TIME, SCHEMA_LOCKED_FOREVER);
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_DISABLED_AT, now);
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_DELETE_AFTER, until);
	dir_modify(pd->dir, t->dn, dir_mods_get(m), NULL, deletion_written, d);
	dir_mods_free(m);
}

/* ---- one modify, then an optional lifecycle step ----------------------- */

struct change {
	struct request       *req;
	struct dir_mods      *mods;       /* built before the lookup; NULL for delete --now */
	bool                  erase;      /* delete the entry */
	bool                  certs;      /* run lifecycle afterwards */
	enum lifecycle_event  ev;
	char                  login[NAMES_LOGIN_BUFSZ];
	char                  status_word[16];
	char                  msg[512];
	/* move */
	char                  new_unit_code[UNIT_CODE_MAX];
	/* disable/delete */
	bool                  is_delete;
	char                  delete_after[32];
	bool                  dry_run;    /* --dry-run: say what would change */
	char                  dn[ACCOUNT_DN_MAX];   /* delete --now */
};

static void
change_free(void *arg)
{
	struct change *c = arg;

	if (c == NULL)
		return;
	dir_mods_free(c->mods);
	free(c);
}

static struct change *
change_new(struct request *req)
{
	struct change *c = xcalloc(1, sizeof(*c));

	c->mods = dir_mods_new();
	c->req = req;
	/* Not every command that changes an account has --dry-run (user modify,
	 * enable): ask only those that declare it. */
	c->dry_run = cmd_opt(req->args.spec, "dry-run") != NULL && cmd_flag(&req->args, "dry-run");
	return c;
}

/* ---- --dry-run: one record of what would change, certificates included */

struct preview {
	struct request *req;
	char            login[NAMES_LOGIN_BUFSZ];
	char            status[48];      /* "active -> disabled", or "" */
	char            unit[2 * UNIT_CODE_MAX + 8];
	char            plan[512];
};

static void
preview_certs(void *arg, int status, const char *summary)
{
	struct preview *p = arg;
	struct request *req = p->req;

	reply_kv(req, "login", p->login, "status", p->status[0] ? p->status : NULL,
	         "unit", p->unit[0] ? p->unit : NULL, "would", p->plan,
	         "certificates", summary, NULL);
	if (status == ST_OK)
		request_done(req, ST_OK, "dry run, nothing changed");
	else
		request_done(req, status, "dry run: %s; %s", p->plan, summary);
	free(p);
}

/* Instead of c's write (and the certificates that follow it), reply with
 * what they would do to t.  Frees c. */
static void
change_preview(struct change *c, const struct acct_target *t)
{
	struct preview *p = xcalloc(1, sizeof(*p));

	p->req = c->req;
	snprintf(p->login, sizeof(p->login), "%s", t->login);
	if (c->status_word[0] != '\0')
		snprintf(p->status, sizeof(p->status), "%s -> %s", t->status, c->status_word);
	if (c->new_unit_code[0] != '\0')
		snprintf(p->unit, sizeof(p->unit), "%s -> %s", t->unit[0] ? t->unit : "(none)",
		         c->new_unit_code);
	snprintf(p->plan, sizeof(p->plan), "%s", c->msg);
	if (c->certs)
		lifecycle_preview(c->req->pd, t->login, c->ev, preview_certs, p);
	else
		preview_certs(p, ST_OK, "no change to certificates");
	change_free(c);
}

static void
change_written(void *arg, const struct dir_result *res)
{
	struct change *c = arg;
	struct request *req = c->req;

	if (write_ok(req, res, c->login)) {
		if (c->certs)
			acct_finish_with_certs(req, c->login, c->ev, c->status_word, c->msg);
		else {
			reply_kv(req, "login", c->login, NULL);
			request_done(req, ST_OK, "%s", c->msg);
		}
	}
	change_free(c);
}

static void
change_send(struct change *c, const char *dn)
{
	if (c->erase)
		dir_delete(c->req->pd->dir, dn, NULL, change_written, c);
	else
		dir_modify(c->req->pd->dir, dn, dir_mods_get(c->mods), NULL, change_written, c);
}

static void
change_fail(struct change *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
change_fail(struct change *c, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	request_done(c->req, status, "%s", msg);
	change_free(c);
}

/* ---- user modify ------------------------------------------------------- */

static void
modify_found(struct request *req, void *ctx, const struct acct_target *t)
{
	struct change *c = ctx;

	(void)req;
	snprintf(c->login, sizeof(c->login), "%s", t->login);
	snprintf(c->msg, sizeof(c->msg), "modified %s", t->login);
	change_send(c, t->dn);
}

void
account_modify(struct request *req)
{
	const struct cmd_args *a = &req->args;
	const char *name = cmd_arg(a, "name"), *title = cmd_arg(a, "title");
	const char *phone = cmd_arg(a, "phone"), *quota = cmd_arg(a, "quota");
	struct change *c;
	char err[300];
	size_t len;

	if (name == NULL && title == NULL && phone == NULL && quota == NULL) {
		request_done(req, ST_USAGE, "user modify needs at least one of --name, "
		             "--title, --phone, --quota");
		return;
	}
	c = change_new(req);
	if (name != NULL) {
		char cn[NAMES_CN_BUFSZ];
		struct person_name pn;

		cmd_arg_len(a, "name", &len);
		if (names_normalize(name, len, cn, sizeof(cn), err, sizeof(err)) < 0 ||
		    names_split(cn, &pn, err, sizeof(err)) < 0) {
			change_fail(c, ST_INVALID, "name: %s", err);
			return;
		}
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_CN, cn);
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_SURNAME, pn.sn);
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_GIVEN_NAME, pn.given_name);
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_DISPLAY_NAME, cn);
		acct_name_words_mod(c->mods, cn);
	}
	if (title != NULL) {
		char v[FIELD_TITLE_MAX + 1];

		if (title[0] == '\0') {
			dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_TITLE, NULL);
		} else if (field_title(title, v, sizeof(v), err, sizeof(err)) < 0) {
			change_fail(c, ST_INVALID, "%s", err);
			return;
		} else if (v[0] == '\0') {
			change_fail(c, ST_INVALID, "title: only spaces (use --title '' to remove it)");
			return;
		} else {
			dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_TITLE, v);
		}
	}
	if (phone != NULL) {
		char v[FIELD_PHONE_MAX + 1];

		if (phone[0] == '\0') {
			dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_PHONE, NULL);
		} else if (field_phone(phone, v, sizeof(v), err, sizeof(err)) < 0) {
			change_fail(c, ST_INVALID, "%s", err);
			return;
		} else {
			dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_PHONE, v);
		}
	}
	if (quota != NULL) {
		unsigned long long q;
		char v[32];

		if (field_quota(quota, &q, err, sizeof(err)) < 0) {
			change_fail(c, ST_INVALID, "%s", err);
			return;
		}
		snprintf(v, sizeof(v), "%llu", q);
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_MAIL_QUOTA, v);
	}
	acct_lookup(req, req->args.operand[0], modify_found, change_free, c);
}

/* ---- user move --------------------------------------------------------- */

static void
move_found(struct request *req, void *ctx, const struct acct_target *t)
{
	struct change *c = ctx;
	const struct unit *u;

	snprintf(c->login, sizeof(c->login), "%s", t->login);
	/* The unit table may have been reloaded since the request started. */
	if ((u = units_find(req->pd->units, c->new_unit_code)) == NULL) {
		change_fail(c, ST_NOTFOUND, "unit: unknown unit '%s'", c->new_unit_code);
		return;
	}
	if (strcmp(t->unit, u->code) == 0) {
		change_fail(c, ST_CONFLICT, "unit: %s is already in %s", t->login, u->code);
		return;
	}
	if (!request_may(req, req->spec->roles, u->code)) {
		char what[128];

		snprintf(what, sizeof(what), "destination unit %s", u->code);
		request_refuse(req, req->spec->roles, what);
		change_free(c);
		return;
	}
	dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_UNIT, u->code);
	dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_OU, u->name ? u->name : u->code);
	c->certs = true;
	c->ev = LIFECYCLE_MOVE;
	snprintf(c->msg, sizeof(c->msg), "%s %s from %s to %s", c->dry_run ? "move" : "moved",
	         t->login, t->unit[0] ? t->unit : "(none)", u->code);
	if (c->dry_run)
		change_preview(c, t);
	else
		change_send(c, t->dn);
}

void
account_move(struct request *req)
{
	const char *code = cmd_arg(&req->args, "unit");
	struct change *c;

	if (!units_loaded(req->pd->units)) {
		request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
		return;
	}
	if (units_find(req->pd->units, code) == NULL) {
		char clean[80];

		text_sanitize(code, strnlen(code, 64), clean, sizeof(clean));
		request_done(req, ST_NOTFOUND, "unit: unknown unit '%s' (see provctl unit list)",
		             clean);
		return;
	}
	c = change_new(req);
	snprintf(c->new_unit_code, sizeof(c->new_unit_code), "%s", code);
	acct_lookup(req, req->args.operand[0], move_found, change_free, c);
}

/* ---- user disable / enable / delete ------------------------------------ */

/* delete --now: the certificates are revoked; now remove the entry. */
static void
erase_after_certs(void *arg, int status, const char *summary)
{
	struct change *c = arg;

	if (status != ST_OK) {
		change_fail(c, status, "%s: certificates not revoked, so the entry is kept "
		            "(run the command again): %s", c->login, summary);
		return;
	}
	snprintf(c->msg, sizeof(c->msg), "removed the entry of %s; certificates: %s",
	         c->login, summary);
	change_send(c, c->dn);
}

/* user delete (with the retention): the one deletion has finished. */
static void
user_deleted(void *ctx, const char *login, int status, const char *msg, const char *certs)
{
	struct request *req = ctx;

	if (certs[0] != '\0')
		reply_kv(req, "login", login, "status", "deleted", "certificates", certs, NULL);
	if (status == ST_OK)
		request_done(req, ST_OK, "%s; certificates: %s", msg, certs);
	else
		request_done(req, status, "%s", msg);
}

static void
state_found(struct request *req, void *ctx, const struct acct_target *t)
{
	struct change *c = ctx;
	char now[32], iso[21];

	if (c->is_delete && !c->dry_run) {
		change_free(c);
		acct_delete(req->pd, t, false, user_deleted, req);
		return;
	}
	snprintf(c->login, sizeof(c->login), "%s", t->login);
	c->certs = true;
	if (c->erase) {                                 /* delete --now */
		/* Revoke first, remove after: a failure leaves the account there,
		 * and the command run again finishes the job. */
		c->certs = false;
		snprintf(c->status_word, sizeof(c->status_word), "removed");
		if (c->dry_run) {
			snprintf(c->msg, sizeof(c->msg), "remove the entry of %s (no retention)",
			         t->login);
			c->certs = true;
			c->ev = LIFECYCLE_PURGE;
			change_preview(c, t);
			return;
		}
		snprintf(c->dn, sizeof(c->dn), "%s", t->dn);
		lifecycle_certs(req->pd, t->login, LIFECYCLE_PURGE, erase_after_certs, c);
		return;
	}
	if (c->is_delete && strcmp(t->status, "deleted") == 0) {       /* --dry-run */
		snprintf(c->msg, sizeof(c->msg), "%s was already deleted; purged after %s",
		         t->login, fieldtype_time_text(t->delete_after, iso));
		snprintf(c->status_word, sizeof(c->status_word), "deleted");
		change_preview(c, t);
		return;
	}
	if (c->ev == LIFECYCLE_DISABLE && strcmp(t->status, "deleted") == 0) {
		change_fail(c, ST_CONFLICT, "%s is deleted (purged after %s); "
		            "use 'user enable' to restore it", t->login,
		            fieldtype_time_text(t->delete_after, iso));
		return;
	}
	acct_gentime(now, sizeof(now), 0);
	if (c->ev == LIFECYCLE_DISABLE || c->ev == LIFECYCLE_DELETE) {
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_LOCKED_TIME, SCHEMA_LOCKED_FOREVER);
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_DISABLED_AT, now);
	}
	if (c->is_delete) {
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_DELETE_AFTER, c->delete_after);
		snprintf(c->status_word, sizeof(c->status_word), "deleted");
		snprintf(c->msg, sizeof(c->msg), "%s %s: disabled now, purged after %s",
		         c->dry_run ? "delete" : "deleted", t->login,
		         fieldtype_time_text(c->delete_after, iso));
	} else if (c->ev == LIFECYCLE_DISABLE) {
		snprintf(c->status_word, sizeof(c->status_word), "disabled");
		if (strcmp(t->status, "disabled") == 0)
			snprintf(c->msg, sizeof(c->msg), "%s was already disabled; reason "
			         "and time updated", t->login);
		else
			snprintf(c->msg, sizeof(c->msg), "%s %s", c->dry_run ? "disable" : "disabled",
			         t->login);
	} else {
		snprintf(c->status_word, sizeof(c->status_word), "active");
		if (strcmp(t->status, "active") == 0)
			snprintf(c->msg, sizeof(c->msg), "%s was already active", t->login);
		else if (strcmp(t->status, "deleted") == 0)
			snprintf(c->msg, sizeof(c->msg), "restored and enabled %s (the "
			         "deletion is cancelled)", t->login);
		else
			snprintf(c->msg, sizeof(c->msg), "enabled %s", t->login);
	}
	if (c->dry_run)
		change_preview(c, t);
	else
		change_send(c, t->dn);
}

void
account_disable(struct request *req)
{
	const char *reason = cmd_arg(&req->args, "reason");
	struct change *c = change_new(req);

	c->ev = LIFECYCLE_DISABLE;
	if (reason != NULL && reason[0] != '\0') {
		char v[FIELD_TITLE_MAX + 1], err[300];

		if (field_title(reason, v, sizeof(v), err, sizeof(err)) < 0) {
			/* field_title names its field "title": say "reason". */
			const char *colon = strchr(err, ':');

			change_fail(c, ST_INVALID, "reason%s", colon ? colon : ": invalid");
			return;
		}
		dir_mods_add1(c->mods, LDAP_MOD_REPLACE, AT_DISABLED_REASON, v);
	} else {
		dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_DISABLED_REASON, NULL);
	}
	acct_lookup(req, req->args.operand[0], state_found, change_free, c);
}

void
account_enable(struct request *req)
{
	struct change *c = change_new(req);

	c->ev = LIFECYCLE_ENABLE;
	dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_LOCKED_TIME, NULL);
	dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_DISABLED_REASON, NULL);
	dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_DISABLED_AT, NULL);
	dir_mods_add(c->mods, LDAP_MOD_REPLACE, AT_DELETE_AFTER, NULL);
	acct_lookup(req, req->args.operand[0], state_found, change_free, c);
}

void
account_delete(struct request *req)
{
	struct change *c = change_new(req);

	c->ev = LIFECYCLE_DELETE;
	if (cmd_flag(&req->args, "now"))
		c->erase = true;
	else {
		c->is_delete = true;
		acct_gentime(c->delete_after, sizeof(c->delete_after),
		             req->pd->cfg.retention_days);
	}
	acct_lookup(req, req->args.operand[0], state_found, change_free, c);
}

/* ---- user purge -------------------------------------------------------- */

struct purge_item {
	char dn[ACCOUNT_DN_MAX];
	char login[NAMES_LOGIN_BUFSZ];
	char delete_after[32];
};

struct purge {
	struct request    *req;
	struct purge_item *v;
	size_t             n, cap;
	size_t             next, purged, failed, skipped;
	bool               dry_run;
	char               certs[512];   /* the current item's certificate summary */
};

static void purge_next(struct purge *p);

static void
purge_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct purge *p = arg;
	struct purge_item *it;
	char unit[UNIT_CODE_MAX];
	char *dn;

	dir_entry_copy(ld, e, AT_UNIT, unit, sizeof(unit));
	if (!request_may(p->req, ROLE_ADMIN, unit)) {
		p->skipped++;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct purge_item *v = xrealloc(p->v, cap * sizeof(*v));

		p->v = v;
		p->cap = cap;
	}
	it = &p->v[p->n++];
	dn = dir_entry_dn(ld, e);
	snprintf(it->dn, sizeof(it->dn), "%s", dn ? dn : "");
	free(dn);
	dir_entry_copy(ld, e, AT_UID, it->login, sizeof(it->login));
	dir_entry_copy(ld, e, AT_DELETE_AFTER, it->delete_after, sizeof(it->delete_after));
}

/* After the accounts, escrow copies past their retention (purge_certs). */
static void
purge_escrow_done(void *ctx, size_t dropped, size_t failed)
{
	struct purge *p = ctx;
	struct request *req = p->req;
	struct rec r;

	if (dropped > 0 || failed > 0) {
		rec_begin(&r, req);
		rec_kvf(&r, "escrow_copies_dropped", "%zu", dropped);
		rec_kvf(&r, "escrow_copies_failed", "%zu", failed);
		rec_end(&r);
	}
	p->failed += failed;
	if (p->failed > 0)
		request_done(req, ST_PARTIAL, "purged %zu account%s, %zu failed%s", p->purged,
		             p->purged == 1 ? "" : "s", p->failed,
		             p->skipped ? " (others outside your units were left)" : "");
	else
		request_done(req, ST_OK, "purged %zu account%s%s", p->purged,
		             p->purged == 1 ? "" : "s",
		             p->skipped ? " (others outside your units were left)" : "");
	free(p->v);
	free(p);
}

static purge_certs_fn *purge_certs;

void
account_purge_set_certs(purge_certs_fn *fn)
{
	purge_certs = fn;
}

/* The escrow sweep covers the whole province: only an admin of all of it
 * runs it. */
static void
purge_finish(struct purge *p)
{
	if (purge_certs != NULL && request_may(p->req, ROLE_ADMIN, NULL))
		purge_certs(p->req->pd, purge_escrow_done, p);
	else
		purge_escrow_done(p, 0, 0);
}

static void
purge_record(struct purge *p, const struct purge_item *it, const char *result,
             const char *error)
{
	struct rec r;

	rec_begin(&r, p->req);
	rec_kv(&r, "login", it->login);
	rec_kv(&r, "delete_after", it->delete_after);
	rec_kv(&r, "result", result);
	rec_kv(&r, "certificates", p->certs);
	rec_kv(&r, "error", error);
	rec_end(&r);
}

static void
purge_deleted(void *arg, const struct dir_result *res)
{
	struct purge *p = arg;
	struct purge_item *it = &p->v[p->next - 1];
	char why[300];

	if (res->code == LDAP_SUCCESS || res->code == LDAP_NO_SUCH_OBJECT) {
		purge_record(p, it, "purged", NULL);
		p->purged++;
	} else {
		purge_record(p, it, "failed", dir_result_str(res, why, sizeof(why)));
		p->failed++;
	}
	purge_next(p);
}

/* The account's certificates are revoked (cessationOfOperation): remove
 * the entry.  Revoking first means a failure leaves the account deleted
 * but present, and the next purge finishes the job. */
static void
purge_certs_done(void *arg, int status, const char *summary)
{
	struct purge *p = arg;
	struct purge_item *it = &p->v[p->next - 1];

	snprintf(p->certs, sizeof(p->certs), "%s", summary);
	if (status != ST_OK) {
		purge_record(p, it, "failed", "certificates not revoked; the entry is kept");
		p->failed++;
		purge_next(p);
		return;
	}
	dir_delete(p->req->pd->dir, it->dn, NULL, purge_deleted, p);
}

/* One account at a time: each revocation publishes the CRL. */
static void
purge_next(struct purge *p)
{
	if (p->next == p->n) {
		purge_finish(p);
		return;
	}
	p->certs[0] = '\0';
	lifecycle_certs(p->req->pd, p->v[p->next++].login, LIFECYCLE_PURGE,
	                purge_certs_done, p);
}

static void
purge_found(void *arg, const struct dir_result *res)
{
	struct purge *p = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(p->req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		free(p->v);
		free(p);
		return;
	}
	if (p->dry_run) {
		size_t i;

		for (i = 0; i < p->n; i++)
			reply_kv(p->req, "login", p->v[i].login, "delete_after",
			         p->v[i].delete_after, "result", "would be purged", NULL);
		request_done(p->req, ST_OK, "dry run, nothing changed: %zu account%s would be "
		             "purged%s", p->n, p->n == 1 ? "" : "s",
		             p->skipped ? " (others outside your units would be left)" : "");
		free(p->v);
		free(p);
		return;
	}
	purge_next(p);
}

void
account_purge(struct request *req)
{
	static const char *const attrs[] = {
		AT_UID, AT_UNIT, AT_DELETE_AFTER, NULL
	};
	struct purge *p = xcalloc(1, sizeof(*p));
	char now[32], filter[128];

	p->req = req;
	p->dry_run = cmd_flag(&req->args, "dry-run");
	acct_gentime(now, sizeof(now), 0);
	snprintf(filter, sizeof(filter),
	         "(&(" AT_OBJECT_CLASS "=" OC_ACCOUNT ")(" AT_DELETE_AFTER "<=%s))", now);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, purge_entry, purge_found, p);
}

/* ---- provdNameWords for entries written before it existed --------------- */

struct words_item {
	char  dn[ACCOUNT_DN_MAX];
	char *cn;
};

struct words_upgrade {
	struct provd      *pd;
	struct words_item *v;
	size_t             n, cap, pending, done, failed;
};

static bool words_upgrade_running;

static void
words_finish(struct words_upgrade *u)
{
	size_t i;

	if (u->n > 0)
		log_info("name search: provdNameWords written on %zu account%s written before it "
		         "existed%s", u->done, u->done == 1 ? "" : "s",
		         u->failed ? " (some failed; the next start retries them)" : "");
	for (i = 0; i < u->n; i++)
		free(u->v[i].cn);
	free(u->v);
	free(u);
	words_upgrade_running = false;
}

static void
words_written(void *arg, const struct dir_result *res)
{
	struct words_upgrade *u = arg;

	if (res->code == LDAP_SUCCESS)
		u->done++;
	else
		u->failed++;
	if (--u->pending == 0)
		words_finish(u);
}

static void
words_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct words_upgrade *u = arg;
	struct words_item *it;
	char *dn;

	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 256;
		u->v = xrealloc(u->v, u->cap * sizeof(*u->v));
	}
	it = &u->v[u->n];
	if ((it->cn = dir_entry_get(ld, e, AT_CN)) == NULL)
		return;
	dn = dir_entry_dn(ld, e);
	snprintf(it->dn, sizeof(it->dn), "%s", dn ? dn : "");
	free(dn);
	u->n++;
}

static void
words_found(void *arg, const struct dir_result *res)
{
	struct words_upgrade *u = arg;
	size_t i;

	(void)res;   /* a size limit or an error: do what came, the next start the rest */
	if (u->n == 0) {
		words_finish(u);
		return;
	}
	u->pending = u->n;
	for (i = 0; i < u->n; i++) {
		struct dir_mods *m = dir_mods_new();

		acct_name_words_mod(m, u->v[i].cn);
		dir_modify(u->pd->dir, u->v[i].dn, dir_mods_get(m), NULL, words_written, u);
		dir_mods_free(m);
	}
}

void
acct_upgrade_name_words(struct provd *pd)
{
	static const char *const attrs[] = { AT_CN, NULL };
	struct words_upgrade *u;

	if (words_upgrade_running)
		return;
	u = xcalloc(1, sizeof(*u));
	u->pd = pd;
	words_upgrade_running = true;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(" AT_OBJECT_CLASS "=" OC_ACCOUNT ")(" AT_CN "=*)(!(" AT_NAME_WORDS "=*)))", attrs, 0, NULL,
	           words_entry, words_found, u);
}
