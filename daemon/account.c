/* account — creating accounts and printing them. See account.h. */
#include "account.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir.h"
#include "fields.h"
#include "handlers.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "template.h"
#include "text.h"
#include "units.h"
#include "workpool.h"

#define CREATE_RETRIES 5
#define RESERVED_MAX   1024

const char *const account_attrs[] = {
	"uid", "mail", "cn", "givenName", "sn", "employeeNumber", "departmentNumber",
	"title", "telephoneNumber", "mailLocalAddress", "provdMailQuota",
	"pwdAccountLockedTime", "provdDisabledReason", "provdDeleteAfter",
	"createTimestamp", "modifyTimestamp", NULL
};

/* Logins chosen by creates still in flight, so that two creates of the same
 * base (batch rows of two "Nguyễn Văn An") never pick the same suffix. */
static char *reserved[RESERVED_MAX];
static size_t nreserved;

static bool
reserve(const char *login)
{
	if (nreserved >= RESERVED_MAX || (reserved[nreserved] = strdup(login)) == NULL)
		return false;
	nreserved++;
	return true;
}

static void
unreserve(const char *login)
{
	size_t i;

	for (i = 0; i < nreserved; i++)
		if (strcmp(reserved[i], login) == 0) {
			free(reserved[i]);
			reserved[i] = reserved[--nreserved];
			return;
		}
}

int
account_status_of_ldap(int code)
{
	switch (code) {
	case LDAP_SUCCESS:              return ST_OK;
	case LDAP_NO_SUCH_OBJECT:       return ST_NOTFOUND;
	case LDAP_ALREADY_EXISTS:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_ASSERTION_FAILED:     return ST_CONFLICT;
	case LDAP_INSUFFICIENT_ACCESS:  return ST_PERMISSION;
	case LDAP_SERVER_DOWN:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:        return ST_UNAVAILABLE;
	case LDAP_INVALID_SYNTAX:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_UNDEFINED_TYPE:       return ST_INVALID;
	}
	return ST_INTERNAL;
}

/* ---- create ---------------------------------------------------------- */

struct create {
	struct provd          *pd;
	account_done_fn       *done;
	void                  *ctx;
	struct account_result  res;
	/* validated input */
	char                   cn[NAMES_CN_BUFSZ];
	struct person_name     name;
	const struct unit     *unit;
	char                   unit_code[UNIT_CODE_MAX];
	char                   employee_id[FIELD_EMPLOYEE_ID_MAX + 1];
	char                   title[FIELD_TITLE_MAX + 1];
	char                   phone[FIELD_PHONE_MAX + 1];
	char                   base[NAMES_BASE_MAX + 1];
	bool                   explicit_login;
	unsigned long long     quota;
	char                   aliases[ACCOUNT_MAX_ALIASES][FIELD_MAIL_MAX + 1];
	size_t                 naliases;
	bool                   must_change;
	/* search results */
	char                 **taken;      /* logins and local parts in use */
	size_t                 ntaken, captaken;
	char                   conflict[300];
	char                   hash[PASSWORD_HASH_BUFSZ];
	char                   hash_err[200];
	enum password_scheme   scheme;
	int                    tries;
	bool                   reserved;
};

static void create_search(struct create *c);

static void
create_finish(struct create *c)
{
	size_t i;

	if (c->reserved)
		unreserve(c->res.login);
	c->done(c->ctx, &c->res);
	explicit_bzero(c->res.password, sizeof(c->res.password));
	explicit_bzero(c->hash, sizeof(c->hash));
	for (i = 0; i < c->ntaken; i++)
		free(c->taken[i]);
	free(c->taken);
	free(c);
}

static void
create_finish_deferred(void *arg)
{
	create_finish(arg);
}

static void
create_fail(struct create *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
create_fail(struct create *c, int status, const char *fmt, ...)
{
	va_list ap;

	c->res.status = status;
	va_start(ap, fmt);
	vsnprintf(c->res.msg, sizeof(c->res.msg), fmt, ap);
	va_end(ap);
	create_finish(c);
}

static int
validate(struct create *c, const struct account_input *in)
{
	char *err = c->res.msg;
	size_t errlen = sizeof(c->res.msg), i;
	struct provd *pd = c->pd;

	if (in->full_name == NULL || in->unit == NULL || in->employee_id == NULL) {
		snprintf(err, errlen, "%s: required",
		         in->full_name == NULL ? "name" : in->unit == NULL ? "unit" : "employee_id");
		return ST_USAGE;
	}
	if (names_normalize(in->full_name, strlen(in->full_name), c->cn, sizeof(c->cn),
	                    err, errlen) < 0 ||
	    names_split(c->cn, &c->name, err, errlen) < 0)
		return ST_INVALID;
	if (field_employee_id(in->employee_id, err, errlen) < 0)
		return ST_INVALID;
	snprintf(c->employee_id, sizeof(c->employee_id), "%s", in->employee_id);
	if (!units_loaded(pd->units)) {
		snprintf(err, errlen, "unit list not loaded: directory unavailable");
		return ST_UNAVAILABLE;
	}
	if ((c->unit = units_find(pd->units, in->unit)) == NULL) {
		char clean[70];

		text_sanitize(in->unit, strnlen(in->unit, 64), clean, sizeof(clean));
		snprintf(err, errlen, "unit: unknown unit '%s' (see provctl unit list)", clean);
		return ST_NOTFOUND;
	}
	snprintf(c->unit_code, sizeof(c->unit_code), "%s", c->unit->code);
	if (in->title != NULL && in->title[0] != '\0' &&
	    field_title(in->title, c->title, sizeof(c->title), err, errlen) < 0)
		return ST_INVALID;
	if (in->phone != NULL && in->phone[0] != '\0' &&
	    field_phone(in->phone, c->phone, sizeof(c->phone), err, errlen) < 0)
		return ST_INVALID;
	c->quota = pd->cfg.default_quota;
	if (in->quota != NULL && field_quota(in->quota, &c->quota, err, errlen) < 0)
		return ST_INVALID;
	if (in->login != NULL) {
		if (!names_login_valid(in->login)) {
			snprintf(err, errlen, "login: must match [a-z][a-z0-9]* (at most %d)",
			         NAMES_LOGIN_MAX);
			return ST_INVALID;
		}
		snprintf(c->base, sizeof(c->base), "%s", in->login);
		if (strlen(in->login) > NAMES_BASE_MAX)
			snprintf(c->res.login, sizeof(c->res.login), "%s", in->login);
		c->explicit_login = true;
	} else if (names_login_base(c->cn, c->base, sizeof(c->base), err, errlen) < 0) {
		return ST_INVALID;
	}
	if (in->naliases > ACCOUNT_MAX_ALIASES) {
		snprintf(err, errlen, "alias: at most %d", ACCOUNT_MAX_ALIASES);
		return ST_USAGE;
	}
	for (i = 0; i < in->naliases; i++) {
		if (field_mail("alias", in->aliases[i], c->aliases[i],
		               sizeof(c->aliases[i]), err, errlen) < 0)
			return ST_INVALID;
	}
	c->naliases = in->naliases;
	c->must_change = true;
	if (password_scheme_parse(pd->cfg.generated_hash, &c->scheme) < 0) {
		snprintf(err, errlen, "mail.generated_password_hash: unknown scheme");
		return ST_INTERNAL;
	}
	return ST_OK;
}

void
account_create(struct provd *pd, const struct account_input *in,
               account_done_fn *done, void *ctx)
{
	struct create *c = calloc(1, sizeof(*c));
	int st;

	if (c == NULL)
		fatal("account: out of memory");
	c->pd = pd;
	c->done = done;
	c->ctx = ctx;
	if ((st = validate(c, in)) != ST_OK) {
		c->res.status = st;
		if (loop_defer(pd->loop, create_finish_deferred, c) < 0)
			fatal("account: out of memory");
		return;
	}
	create_search(c);
}

static void
taken_add(struct create *c, const char *s)
{
	if (c->ntaken == c->captaken) {
		size_t cap = c->captaken ? c->captaken * 2 : 16;
		char **v = realloc(c->taken, cap * sizeof(*v));

		if (v == NULL)
			return;
		c->taken = v;
		c->captaken = cap;
	}
	if ((c->taken[c->ntaken] = strdup(s)) != NULL)
		c->ntaken++;
}

/* The local part of addr if it is in our domain, else NULL (into buf). */
static const char *
local_part(const struct create *c, const char *addr, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || strcasecmp(at + 1, c->pd->cfg.mail_domain) != 0 ||
	    (size_t)(at - addr) >= len)
		return NULL;
	memcpy(buf, addr, (size_t)(at - addr));
	buf[at - addr] = '\0';
	return buf;
}

static void
on_existing(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct create *c = arg;
	char *uid = dir_entry_get(ld, e, "uid");
	char *emp = dir_entry_get(ld, e, "employeeNumber");
	char **mails = dir_entry_get_all(ld, e, "mail");
	char **aliases = dir_entry_get_all(ld, e, "mailLocalAddress");
	char lp[ACCOUNT_MAIL_MAX];
	size_t i, k;

	if (emp != NULL && strcmp(emp, c->employee_id) == 0 && c->conflict[0] == '\0')
		snprintf(c->conflict, sizeof(c->conflict),
		         "employee_id: %s already has the account '%s'", emp,
		         uid ? uid : "?");
	if (uid != NULL)
		taken_add(c, uid);
	for (k = 0; k < 2; k++) {
		char **v = k ? aliases : mails;

		for (i = 0; v != NULL && v[i] != NULL; i++) {
			size_t a;

			if (local_part(c, v[i], lp, sizeof(lp)) != NULL)
				taken_add(c, lp);
			for (a = 0; a < c->naliases; a++)
				if (strcasecmp(v[i], c->aliases[a]) == 0 && c->conflict[0] == '\0')
					snprintf(c->conflict, sizeof(c->conflict),
					         "alias: %s is already used by '%s'",
					         c->aliases[a], uid ? uid : "?");
		}
	}
	free(uid);
	free(emp);
	dir_strv_free(mails);
	dir_strv_free(aliases);
}

static void hash_work(void *arg);
static void hash_done(void *arg);

static void
on_existing_done(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[300];
	unsigned n;
	size_t i;

	if (res->code != LDAP_SUCCESS) {
		create_fail(c, account_status_of_ldap(res->code), "directory: %s",
		            dir_result_str(res, why, sizeof(why)));
		return;
	}
	if (c->conflict[0] != '\0') {
		create_fail(c, ST_CONFLICT, "%s", c->conflict);
		return;
	}
	for (i = 0; i < nreserved; i++)
		taken_add(c, reserved[i]);
	if (c->explicit_login) {
		for (i = 0; i < c->ntaken; i++)
			if (strcasecmp(c->taken[i], c->base) == 0) {
				create_fail(c, ST_CONFLICT, "login: '%s' is already taken", c->base);
				return;
			}
		n = 1;
	} else {
		n = names_lowest_free(c->base, (const char *const *)c->taken, c->ntaken);
	}
	if (n == 0 || names_login_candidate(c->base, n, c->res.login,
	                                    sizeof(c->res.login)) < 0) {
		create_fail(c, ST_CONFLICT, "login: no free login for base '%s'", c->base);
		return;
	}
	if (!reserve(c->res.login)) {
		create_fail(c, ST_UNAVAILABLE, "too many accounts being created at once");
		return;
	}
	c->reserved = true;
	snprintf(c->res.mail, sizeof(c->res.mail), "%s@%s", c->res.login,
	         c->pd->cfg.mail_domain);
	if (ldapesc_rdn_dn("uid", c->res.login, c->pd->cfg.people_dn, c->res.dn,
	                   sizeof(c->res.dn)) < 0) {
		create_fail(c, ST_INTERNAL, "cannot form the DN");
		return;
	}
	if (c->hash[0] != '\0') {       /* a retry: the hash is already made */
		hash_done(c);
		return;
	}
	if (password_generate(c->res.password, sizeof(c->res.password)) < 0) {
		create_fail(c, ST_INTERNAL, "cannot generate a password");
		return;
	}
	if (workpool_submit(c->pd->hashers, hash_work, hash_done, c) < 0)
		create_fail(c, ST_INTERNAL, "out of memory");
}

static void
create_search(struct create *c)
{
	static const char *const attrs[] = {
		"uid", "employeeNumber", "mail", "mailLocalAddress", NULL
	};
	char filter[2048], esc[512];
	size_t off, i;
	int n;

	/* One search finds the employee id, every login and address that
	 * starts with the base, and any entry using a requested alias. */
	off = 0;
	n = snprintf(filter, sizeof(filter), "(|");
	off += (size_t)n;
	if (ldapesc_filter(c->employee_id, esc, sizeof(esc)) < 0)
		goto toolong;
	n = snprintf(filter + off, sizeof(filter) - off, "(employeeNumber=%s)", esc);
	off += (size_t)n;
	if (ldapesc_filter(c->base, esc, sizeof(esc)) < 0)
		goto toolong;
	n = snprintf(filter + off, sizeof(filter) - off,
	             "(uid=%s*)(mail=%s*)(mailLocalAddress=%s*)", esc, esc, esc);
	if (n < 0 || (size_t)n >= sizeof(filter) - off)
		goto toolong;
	off += (size_t)n;
	for (i = 0; i < c->naliases; i++) {
		if (ldapesc_filter(c->aliases[i], esc, sizeof(esc)) < 0)
			goto toolong;
		n = snprintf(filter + off, sizeof(filter) - off,
		             "(mail=%s)(mailLocalAddress=%s)", esc, esc);
		if (n < 0 || (size_t)n >= sizeof(filter) - off)
			goto toolong;
		off += (size_t)n;
	}
	if (off + 2 > sizeof(filter))
		goto toolong;
	strcat(filter, ")");
	c->ntaken = 0;
	dir_search(c->pd->dir, c->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, on_existing, on_existing_done, c);
	return;
toolong:
	c->res.status = ST_INVALID;
	snprintf(c->res.msg, sizeof(c->res.msg), "input too long");
	if (loop_defer(c->pd->loop, create_finish_deferred, c) < 0)
		fatal("account: out of memory");
}

/* On a worker thread: touches only c->res.password, c->hash, c->hash_err. */
static void
hash_work(void *arg)
{
	struct create *c = arg;

	if (password_hash(c->scheme, c->res.password, c->hash, sizeof(c->hash),
	                  c->hash_err, sizeof(c->hash_err)) < 0)
		c->hash[0] = '\0';
}

static void on_added(void *arg, const struct dir_result *res);

static void
hash_done(void *arg)
{
	struct create *c = arg;
	struct template_values v = { 0 };
	struct template_entry entry;
	LDAPMod **mods = NULL;
	char err[300];
	size_t i;

	if (c->hash[0] == '\0') {
		create_fail(c, ST_INTERNAL, "password hash failed: %s", c->hash_err);
		return;
	}
	memset(&entry, 0, sizeof(entry));
	v.login = c->res.login;
	v.full_name = c->cn;
	v.given_name = c->name.given_name;
	v.surname = c->name.sn;
	v.middle_name = c->name.middle;
	v.unit = c->unit_code;
	v.unit_name = c->unit->name;
	v.mail = c->res.mail;
	v.domain = c->pd->cfg.mail_domain;
	v.employee_id = c->employee_id;
	v.title = c->title;
	v.phone = c->phone;
	v.quota = c->quota;
	if (template_expand(c->pd->account_tpl, &v, &entry, err, sizeof(err)) < 0 ||
	    template_entry_add(&entry, "userPassword", c->hash, err, sizeof(err)) < 0 ||
	    (c->must_change &&
	     template_entry_add(&entry, "pwdReset", "TRUE", err, sizeof(err)) < 0))
		goto fail;
	for (i = 0; i < c->naliases; i++)
		if (template_entry_add(&entry, "mailLocalAddress", c->aliases[i],
		                       err, sizeof(err)) < 0)
			goto fail;
	if ((mods = template_entry_mods(&entry, err, sizeof(err))) == NULL)
		goto fail;
	dir_add(c->pd->dir, c->res.dn, mods, NULL, on_added, c);
	template_mods_free(mods);
	template_entry_free(&entry);
	return;
fail:
	template_entry_free(&entry);
	create_fail(c, ST_INVALID, "%s", err);
}

static void
on_added(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS) {
		c->res.status = ST_OK;
		snprintf(c->res.msg, sizeof(c->res.msg), "created %s", c->res.login);
		create_finish(c);
		return;
	}
	if (res->code == LDAP_ALREADY_EXISTS && !c->explicit_login &&
	    ++c->tries < CREATE_RETRIES) {
		/* Another writer took the login between our search and our add
		 * (another provd instance): search again, keep the hash. */
		unreserve(c->res.login);
		c->reserved = false;
		c->conflict[0] = '\0';
		for (size_t i = 0; i < c->ntaken; i++)
			free(c->taken[i]);
		c->ntaken = 0;
		create_search(c);
		return;
	}
	if (res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT)
		c->res.outcome_unknown = true;
	if (res->code == LDAP_CONSTRAINT_VIOLATION) {
		create_fail(c, ST_CONFLICT, "directory refused a duplicate (%s)",
		            dir_result_str(res, why, sizeof(why)));
		return;
	}
	create_fail(c, account_status_of_ldap(res->code), "%s%s",
	            c->res.outcome_unknown ? "outcome unknown, run again to converge: " : "",
	            dir_result_str(res, why, sizeof(why)));
}

/* ---- records --------------------------------------------------------- */

const char *
account_status(LDAP *ld, LDAPMessage *e)
{
	char *locked = dir_entry_get(ld, e, "pwdAccountLockedTime");
	char *del = dir_entry_get(ld, e, "provdDeleteAfter");
	const char *st = "active";

	if (del != NULL)
		st = "deleted";
	else if (locked != NULL && strcmp(locked, "000001010000Z") == 0)
		st = "disabled";
	free(locked);
	free(del);
	return st;
}

static void
kv_attr(struct rec *r, LDAP *ld, LDAPMessage *e, const char *key, const char *attr)
{
	char *v = dir_entry_get(ld, e, attr);

	if (v != NULL)
		rec_kv(r, key, v);
	free(v);
}

void
account_record(struct rec *r, struct provd *pd, LDAP *ld, LDAPMessage *e)
{
	char *dn = dir_entry_dn(ld, e);
	char *unit = dir_entry_get(ld, e, "departmentNumber");
	char **aliases = dir_entry_get_all(ld, e, "mailLocalAddress");
	const struct unit *u = unit ? units_find(pd->units, unit) : NULL;
	char list[4096];
	size_t i, off = 0;

	kv_attr(r, ld, e, "login", "uid");
	kv_attr(r, ld, e, "mail", "mail");
	kv_attr(r, ld, e, "name", "cn");
	kv_attr(r, ld, e, "employee_id", "employeeNumber");
	rec_kv(r, "unit", unit ? unit : "");
	rec_kv(r, "unit_name", u && u->name ? u->name : "");
	rec_kv(r, "status", account_status(ld, e));
	kv_attr(r, ld, e, "title", "title");
	kv_attr(r, ld, e, "phone", "telephoneNumber");
	kv_attr(r, ld, e, "quota", "provdMailQuota");
	list[0] = '\0';
	for (i = 0; aliases != NULL && aliases[i] != NULL; i++) {
		int n = snprintf(list + off, sizeof(list) - off, "%s%s",
		                 off ? "," : "", aliases[i]);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
	}
	rec_kv(r, "aliases", list);
	kv_attr(r, ld, e, "given_name", "givenName");
	kv_attr(r, ld, e, "surname", "sn");
	kv_attr(r, ld, e, "disabled_reason", "provdDisabledReason");
	kv_attr(r, ld, e, "delete_after", "provdDeleteAfter");
	kv_attr(r, ld, e, "created", "createTimestamp");
	rec_kv(r, "dn", dn ? dn : "");
	free(dn);
	free(unit);
	dir_strv_free(aliases);
}

/* ---- user add -------------------------------------------------------- */

static void
add_done(void *arg, struct account_result *res)
{
	struct request *req = arg;

	if (res->status != ST_OK) {
		request_done(req, res->status, "%s", res->msg);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s", res->login);
	reply_kv(req, "login", res->login, "mail", res->mail, "dn", res->dn,
	         "employee_id", cmd_arg(&req->args, "employee-id"),
	         "unit", cmd_arg(&req->args, "unit"),
	         "password", res->password, NULL);
	request_done(req, ST_OK, "created %s (%s); the password is shown once and "
	             "must be changed at first login", res->login, res->mail);
}

void
account_add(struct request *req)
{
	const struct cmd_args *a = &req->args;
	struct account_input in = { 0 };
	const char *v;
	size_t i;

	in.full_name = cmd_arg(a, "name");
	in.unit = cmd_arg(a, "unit");
	in.employee_id = cmd_arg(a, "employee-id");
	if (in.full_name == NULL || in.unit == NULL || in.employee_id == NULL) {
		request_done(req, ST_USAGE, "user add needs --%s",
		             in.full_name == NULL ? "name NAME" :
		             in.unit == NULL ? "unit CODE" : "employee-id ID");
		return;
	}
	if (!request_may(req, ROLE_ADMIN, in.unit)) {
		request_done(req, ST_PERMISSION, "permission denied: no admin role over unit %s",
		             in.unit);
		return;
	}
	in.title = cmd_arg(a, "title");
	in.phone = cmd_arg(a, "phone");
	in.login = cmd_arg(a, "login");
	in.quota = cmd_arg(a, "quota");
	for (i = 0; (v = cmd_arg_nth(a, "alias", i)) != NULL; i++) {
		if (i >= ACCOUNT_MAX_ALIASES) {
			request_done(req, ST_USAGE, "at most %d --alias", ACCOUNT_MAX_ALIASES);
			return;
		}
		in.aliases[in.naliases++] = v;
	}
	account_create(req->pd, &in, add_done, req);
}

/* ---- user show ------------------------------------------------------- */

struct show {
	struct request *req;
	int             found;
};

static void
show_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct show *s = arg;
	struct rec r;

	if (s->found++ > 0)
		return;
	rec_begin(&r, s->req);
	account_record(&r, s->req->pd, ld, e);
	rec_end(&r);
}

static void
show_done(void *arg, const struct dir_result *res)
{
	struct show *s = arg;
	struct request *req = s->req;
	char why[300];
	int found = s->found;

	free(s);
	if (res->code != LDAP_SUCCESS)
		request_done(req, account_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	else if (found == 0)
		request_done(req, ST_NOTFOUND, "no account '%s'", req->args.operand[0]);
	else
		request_done(req, ST_OK, "ok");
}

void
account_show(struct request *req)
{
	const char *key = req->args.operand[0];
	char esc[800], filter[2600];
	struct show *s;

	if (strlen(key) > 254 || ldapesc_filter(key, esc, sizeof(esc)) < 0) {
		request_done(req, ST_INVALID, "login or mail too long");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		request_done(req, ST_INTERNAL, "out of memory");
		return;
	}
	s->req = req;
	snprintf(filter, sizeof(filter),
	         "(&(objectClass=inetOrgPerson)(|(uid=%s)(mail=%s)(mailLocalAddress=%s)))",
	         esc, esc, esc);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           account_attrs, 2, NULL, show_entry, show_done, s);
}
