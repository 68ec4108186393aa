/* passwd — `user passwd`: set an account's password.
 *
 * Exactly one source: --generate (provd makes >= 96 bits from the CSPRNG,
 * hashes it with the fast scheme mail.generated_password_hash, sets
 * pwdReset so it must be changed at first login, and returns it once), or
 * --password-file / --password-stdin (a password a person chose: checked
 * against password_check_policy and hashed with the slow scheme
 * mail.chosen_password_hash; pwdReset only with --must-change, otherwise
 * removed).  Hashing runs on the workpool; the change is one LDAP modify.
 * Secrets are wiped as soon as they are hashed and never logged. */
#include "passwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_admin.h"
#include "dir.h"
#include "fieldtype.h"
#include "initialpw.h"
#include "log.h"
#include "password.h"
#include "provd.h"
#include "request.h"
#include "wire.h"
#include "workpool.h"
#include "xmalloc.h"

struct passwd {
	struct request       *req;
	bool                  generated;
	bool                  must_change;
	enum password_scheme  scheme;
	char                  password[PASSWORD_MAX_BYTES + 1];
	char                  hash[PASSWORD_HASH_BUFSZ];
	char                  hash_err[200];
	char                  login[NAMES_LOGIN_BUFSZ];
	char                  dn[ACCOUNT_DN_MAX];
	char                  expires[PKITIME_LDAP_LEN + 1];  /* pwdEndTime set, or "" */
};

static void
passwd_free(void *arg)
{
	struct passwd *p = arg;

	explicit_bzero(p, sizeof(*p));
	free(p);
}

/* On a worker thread: touches only p->password, p->hash, p->hash_err. */
static void
hash_work(void *arg)
{
	struct passwd *p = arg;

	if (password_hash(p->scheme, p->password, p->hash, sizeof(p->hash),
	                  p->hash_err, sizeof(p->hash_err)) < 0)
		p->hash[0] = '\0';
	if (!p->generated)
		explicit_bzero(p->password, sizeof(p->password));
}

static void
written(void *arg, const struct dir_result *res)
{
	struct passwd *p = arg;
	struct request *req = p->req;
	char why[300], iso[21];

	if (res->code != LDAP_SUCCESS) {
		request_done(req, res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT ?
		             ST_UNAVAILABLE : schema_status_of_ldap(res->code),
		             "%s: password not set%s: %s", p->login,
		             res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT ?
		             " (outcome unknown: run the command again)" : "",
		             dir_result_str(res, why, sizeof(why)));
	} else if (p->generated) {
		reply_kv(req, "login", p->login, "password", p->password,
		         "must_change", "yes", "password_expires", p->expires,
		         "password_page", req->pd->cfg.password_page_url, NULL);
		request_done(req, ST_OK, "new password for %s; it is shown once and must "
		             "be changed%s%s%s%s", p->login,
		             req->pd->cfg.password_page_url[0] ? " at " : " at first login",
		             req->pd->cfg.password_page_url,
		             p->expires[0] ? " before " : "", fieldtype_time_text(p->expires, iso));
	} else {
		reply_kv(req, "login", p->login, "must_change",
		         p->must_change ? "yes" : "no", "password_expires", p->expires, NULL);
		request_done(req, ST_OK, "password of %s set%s", p->login,
		             p->must_change ? "; it must be changed at next login" : "");
	}
	passwd_free(p);
}

static void
hash_done(void *arg)
{
	struct passwd *p = arg;
	struct dir_mods *m;
	char *deadline = p->expires;

	if (p->hash[0] == '\0') {
		request_done(p->req, ST_INTERNAL, "password hash failed: %s", p->hash_err);
		passwd_free(p);
		return;
	}
	/* An initial password gets a new deadline; a password of one's own
	 * has none (initialpw.h). */
	if (p->must_change &&
	    initialpw_deadline(&p->req->pd->cfg, time(NULL), deadline) < 0) {
		request_done(p->req, ST_INTERNAL, "clock out of range");
		passwd_free(p);
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_PASSWORD, p->hash);
	if (p->must_change)
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_PWD_RESET, "TRUE");
	else
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_PWD_RESET, NULL);
	if (p->must_change && deadline[0] != '\0')
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_PWD_END_TIME, deadline);
	else
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_PWD_END_TIME, NULL);
	dir_modify(p->req->pd->dir, p->dn, dir_mods_get(m), NULL, written, p);
	explicit_bzero(p->hash, sizeof(p->hash));
	dir_mods_free(m);
}

static void
found(struct request *req, void *ctx, const struct acct_target *t)
{
	struct passwd *p = ctx;

	snprintf(p->login, sizeof(p->login), "%s", t->login);
	snprintf(p->dn, sizeof(p->dn), "%s", t->dn);
	workpool_submit(req->pd->hashers, hash_work, hash_done, p);
}

void
passwd_set(struct request *req)
{
	const struct cmd_args *a = &req->args;
	const char *chosen = NULL, *scheme_name;
	struct passwd *p;
	size_t len = 0;
	char err[300];
	int sources = 0;

	if (cmd_flag(a, "generate"))
		sources++;
	if ((chosen = cmd_arg_len(a, "password-file", &len)) != NULL)
		sources++;
	if (cmd_arg(a, "password-stdin") != NULL) {
		chosen = cmd_arg_len(a, "password-stdin", &len);
		sources++;
	}
	if (sources != 1) {
		request_done(req, ST_USAGE, "user passwd needs exactly one of --generate, "
		             "--password-file FILE, --password-stdin");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->req = req;
	if (chosen == NULL) {
		p->generated = true;
		p->must_change = true;
		scheme_name = req->pd->cfg.generated_hash;
		if (password_generate(p->password, sizeof(p->password)) < 0) {
			request_done(req, ST_INTERNAL, "cannot generate a password");
			passwd_free(p);
			return;
		}
	} else {
		p->must_change = cmd_flag(a, "must-change");
		scheme_name = req->pd->cfg.chosen_hash;
		if (password_check_input(chosen, len, err, sizeof(err)) < 0 ||
		    password_check_policy(chosen, err, sizeof(err)) < 0) {
			request_done(req, ST_INVALID, "%s", err);
			passwd_free(p);
			return;
		}
		memcpy(p->password, chosen, len);
		p->password[len] = '\0';
	}
	if (password_scheme_parse(scheme_name, &p->scheme) < 0) {
		request_done(req, ST_INTERNAL, "mail: unknown password hash scheme '%s'",
		             scheme_name ? scheme_name : "");
		passwd_free(p);
		return;
	}
	acct_lookup(req, a->operand[0], found, passwd_free, p);
}
