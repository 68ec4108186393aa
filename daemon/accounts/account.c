/* account — creating accounts and printing them. See account.h. */
#include "account.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir.h"
#include "fieldtype.h"
#include "fields.h"
#include "initialpw.h"
#include "ldapesc.h"
#include "lockmark.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "template.h"
#include "text.h"
#include "address.h"
#include "strset.h"
#include "units.h"
#include "vec.h"
#include "workpool.h"
#include "xmalloc.h"

#define CREATE_RETRIES 5

/* What creates still in flight have claimed (address_claim, shared with
 * alias add): their logins, so that two creates of the same base (batch
 * rows of two "Nguyễn Văn An") never pick the same suffix; and, under
 * prefixes no login can start with, their employee ids ("#id") and
 * addresses ("@addr"), so that two requests in flight together, which the
 * directory search cannot see, never share them. */
static bool
reserve(const char *key)
{
	return address_claim(key);
}

static void
unreserve(const char *key)
{
	address_unclaim(key);
}

/* "#id" or "@address" (lower case) into buf. */
static const char *
claim_key(char *buf, size_t len, char prefix, const char *s)
{
	size_t i;

	buf[0] = prefix;
	for (i = 0; s[i] != '\0' && i + 2 < len; i++)
		buf[i + 1] = (char)tolower((unsigned char)s[i]);
	buf[i + 1] = '\0';
	return buf;
}

const char *
account_action_name(enum account_action a, bool dry_run)
{
	switch (a) {
	case ACCOUNT_CREATED:   return dry_run ? "create" : "created";
	case ACCOUNT_UPDATED:   return dry_run ? "update" : "updated";
	case ACCOUNT_UNCHANGED: return "unchanged";
	case ACCOUNT_REJECTED:  break;
	}
	return "rejected";
}

/* ---- lifecycle: the certificate office's side, wired by main.c ------- */

static lifecycle_certs_fn *certs_fn, *preview_fn;

void
lifecycle_set_certs(lifecycle_certs_fn *fn, lifecycle_certs_fn *preview)
{
	certs_fn = fn;
	preview_fn = preview;
}

static lifecycle_reissue_fn *reissue_fn;

void
lifecycle_set_reissue(lifecycle_reissue_fn *fn)
{
	reissue_fn = fn;
}

void
lifecycle_move_reissue(struct request *req, const char *login, lifecycle_done_fn *done,
                       void *ctx)
{
	if (reissue_fn == NULL)
		fatalx("lifecycle: the certificate office is not wired");
	reissue_fn(req, login, done, ctx);
}

const char *
lifecycle_event_name(enum lifecycle_event ev)
{
	switch (ev) {
	case LIFECYCLE_DISABLE: return "disable";
	case LIFECYCLE_ENABLE:  return "enable";
	case LIFECYCLE_DELETE:  return "delete";
	case LIFECYCLE_MOVE:    return "move";
	case LIFECYCLE_PURGE:   return "purge";
	}
	return "?";
}

static void
call(lifecycle_certs_fn *fn, struct provd *pd, const char *login, enum lifecycle_event ev,
     lifecycle_done_fn *done, void *ctx)
{
	if (fn == NULL)
		fatalx("lifecycle: no certificate office wired in (bug)");
	fn(pd, login, ev, done, ctx);
}

void
lifecycle_certs(struct provd *pd, const char *login, enum lifecycle_event ev,
                lifecycle_done_fn *done, void *ctx)
{
	/* Every change of the lock state passes here: leave its mark too. */
	if (ev == LIFECYCLE_DISABLE || ev == LIFECYCLE_DELETE || ev == LIFECYCLE_ENABLE)
		lockmark_record(pd, login, ev != LIFECYCLE_ENABLE);
	call(certs_fn, pd, login, ev, done, ctx);
}

void
lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                  lifecycle_done_fn *done, void *ctx)
{
	call(preview_fn, pd, login, ev, done, ctx);
}

/* ---- create ---------------------------------------------------------- */

/* Attributes provd keeps in step with HR data on an update (when the
 * template writes them); identity and credentials are never touched. */
static const char *const fixed_attrs[] = {
	AT_OBJECT_CLASS, AT_UID, AT_MAIL, AT_EMPLOYEE_ID, AT_PASSWORD, AT_PWD_RESET,
	AT_MAIL_ALIAS, NULL
};

/* Attributes the directory search returns for the entries it finds. */
static const char *const search_attrs[] = {
	AT_UID, AT_EMPLOYEE_ID, AT_MAIL, AT_MAIL_ALIAS, AT_CN, AT_SURNAME, AT_GIVEN_NAME,
	AT_DISPLAY_NAME, AT_UNIT, AT_OU, AT_TITLE, AT_PHONE,
	AT_MAIL_QUOTA, AT_NAME_WORDS, NULL
};

#define MAX_EXISTING_ATTRS 16

struct existing {
	bool  found;
	char  login[NAMES_LOGIN_BUFSZ];
	char  mail[ACCOUNT_MAIL_MAX];
	char *attr[MAX_EXISTING_ATTRS];     /* names, from search_attrs */
	char **vals[MAX_EXISTING_ATTRS];    /* their values (NULL = absent) */
	size_t nattr;
};

/* ---- login suffix hints ---------------------------------------------- *
 *
 * Per login base, the lowest suffix not known to be taken: every candidate
 * below it is.  A create starts its candidates there, so a base shared by a
 * thousand people costs each of them one round, not a thousand / CANDIDATES
 * (at 100,000 staff a row searched 12 times on average, at 8,000 1.7).
 * Offline (bootstrap) nothing is ever freed.  Online a hint is learnt only
 * from what the directory itself holds (a round whose candidates the
 * search found all taken, an account this provd created on the hint), and
 * every change under people_dn that can free a login or a local part (a
 * delete, a modify: alias remove) forgets them all; the hints of a base
 * are then learnt again by the next rounds. */
struct hint {
	char     base[NAMES_BASE_MAX + 1];
	unsigned next;
};

struct hints {
	struct hint *v;
	size_t       cap, n;
	size_t       max;          /* 0: no limit; else forget all when full */
};

static size_t
hints_slot(const struct hints *h, const char *base)
{
	uint64_t x = 1469598103934665603ull;
	const char *p;
	size_t i;

	for (p = base; *p != '\0'; p++)
		x = (x ^ (unsigned char)*p) * 1099511628211ull;
	for (i = (size_t)x & (h->cap - 1);
	     h->v[i].base[0] != '\0' && strcmp(h->v[i].base, base) != 0;
	     i = (i + 1) & (h->cap - 1))
		;
	return i;
}

static unsigned
hints_get(const struct hints *h, const char *base)
{
	size_t i;

	if (h->n == 0)
		return 1;
	i = hints_slot(h, base);
	return h->v[i].base[0] != '\0' ? h->v[i].next : 1;
}

static void
hints_clear(struct hints *h)
{
	free(h->v);
	h->v = NULL;
	h->cap = h->n = 0;
}

/* Raise base's hint to next (never lower it); forget them all first when
 * there are max (0: no limit).  Returns 0. */
static int
hints_set(struct hints *h, const char *base, unsigned next, size_t max)
{
	size_t i;

	if (max != 0 && h->n >= max)
		hints_clear(h);
	if ((h->n + 1) * 2 > h->cap) {
		struct hint *old = h->v;
		size_t oldcap = h->cap, k;

		h->cap = oldcap ? oldcap * 2 : 1024;
		h->v = xcalloc(h->cap, sizeof(*h->v));
		for (k = 0; k < oldcap; k++)
			if (old[k].base[0] != '\0')
				h->v[hints_slot(h, old[k].base)] = old[k];
		free(old);
	}
	i = hints_slot(h, base);
	if (h->v[i].base[0] == '\0') {
		snprintf(h->v[i].base, sizeof(h->v[i].base), "%s", base);
		h->v[i].next = 1;
		h->n++;
	}
	if (next > h->v[i].next)
		h->v[i].next = next;
	return 0;
}

/* The online hints (loop thread only). */
#define ONLINE_HINTS_MAX 65536
static struct hints online_hints;

/* A change that may free a login or a local part: forget every hint. */
static void
hints_on_write(void *ctx, enum dir_wrote what, const char *dn, LDAPMod *const *mods)
{
	const struct provd *pd = ctx;
	size_t n = strlen(dn), m = strlen(pd->cfg.people_dn);

	(void)mods;
	if (what != DIR_WROTE_ADD && online_hints.n > 0 && n > m &&
	    strcasecmp(dn + n - m, pd->cfg.people_dn) == 0)
		hints_clear(&online_hints);
}

void
account_start(struct provd *pd)
{
	if (dir_on_write(pd->dir, hints_on_write, pd) < 0)
		fatalx("account: too many directory write observers");
}

void
account_stop(void)
{
	hints_clear(&online_hints);
}

struct create {
	struct provd          *pd;
	account_done_fn       *done;
	void                  *ctx;
	struct account_result  res;
	/* validated input */
	char                   cn[NAMES_CN_BUFSZ];
	struct person_name     name;
	struct units          *units;     /* a reference to the snapshot unit is in */
	const struct unit     *unit;      /* lives across the create's async steps */
	char                   unit_code[UNIT_CODE_MAX];
	char                   employee_id[FIELD_EMPLOYEE_ID_MAX + 1];
	char                   title[FIELD_TITLE_MAX + 1];
	char                   phone[FIELD_PHONE_MAX + 1];
	bool                   has_title, has_phone, has_quota;
	char                   base[NAMES_LOGIN_BUFSZ]; /* a base, or the explicit login */
	char                   explicit_mail[FIELD_MAIL_MAX + 1];
	bool                   explicit_login;
	char                   fallback[NAMES_BASE_MAX + 1]; /* "" or login_fallback */
	unsigned long long     quota;
	char                   aliases[ACCOUNT_MAX_ALIASES][FIELD_MAIL_MAX + 1];
	size_t                 naliases;
	bool                   must_change, upsert, allow_update, dry_run;
	bool                   preset_password; /* res.password given, not generated */
	struct strset         *planned;
	/* search results */
	struct strset         *taken;      /* logins and local parts in use */
	struct existing        old;
	int                    nmatches;
	char                   conflict[300];
	char                   hash[PASSWORD_HASH_BUFSZ];
	char                   hash_err[200];
	enum password_scheme   scheme;
	int                    tries;
	bool                   reserved;   /* res.login is claimed */
	char                   claims[ACCOUNT_MAX_ALIASES + 2][FIELD_MAIL_MAX + 2];
	size_t                 nclaims;    /* further claims: "#id", "@addr" */
	unsigned               cand_from;  /* first login suffix searched */
	unsigned               chosen;     /* the suffix choose_login chose */
	unsigned               width;      /* candidates of this round */
	bool                   unit_changed; /* an update moves the account */
	bool                   unsearched; /* known_free: no search before the add */
};

#define CANDIDATES 4       /* login suffixes looked up by the first search */
#define CANDIDATES_MAX 64  /* ... doubling each round up to this many */
#define CANDIDATE_FILTER_MAX 16384  /* bytes of filter for candidates */
#define MAX_SUFFIX 10000

static void create_search(struct create *c);

static void
existing_clear(struct existing *x)
{
	size_t i;

	for (i = 0; i < x->nattr; i++) {
		free(x->attr[i]);
		dir_strv_free(x->vals[i]);
	}
	memset(x, 0, sizeof(*x));
}

/* Claim the employee id and the explicit addresses for this create; on a
 * clash, the claim that failed is named in why and nothing stays claimed. */
static int
claim_all(struct create *c, char *why, size_t whylen)
{
	char key[FIELD_MAIL_MAX + 2];
	size_t i;
	for (i = 0; i < c->naliases + 2; i++) {
		const char *what = i == 0 ? c->employee_id : i == 1 ? c->explicit_mail
		                                                    : c->aliases[i - 2];

		if (what[0] == '\0')
			continue;
		claim_key(key, sizeof(key), i == 0 ? '#' : '@', what);
		if (!reserve(key)) {
			snprintf(why, whylen, "%s: %s is being created by another request or row",
			         i == 0 ? "employee_id" : i == 1 ? "mail" : "alias", what);
			return -1;
		}
		snprintf(c->claims[c->nclaims++], sizeof(c->claims[0]), "%s", key);
	}
	return 0;
}

static void
unclaim_all(struct create *c)
{
	while (c->nclaims > 0)
		unreserve(c->claims[--c->nclaims]);
}

/* Creates not finished, and those of them waiting for or in a batched
 * check after their add (see "the checks after adds, batched"). */
static unsigned long creates_alive, creates_held;
static void verify_maybe_flush(struct provd *pd);

static void
create_finish(struct create *c)
{
	struct provd *pd = c->pd;

	creates_alive--;
	unclaim_all(c);
	if (c->reserved)
		unreserve(c->res.login);
	c->done(c->ctx, &c->res);
	explicit_bzero(c->res.password, sizeof(c->res.password));
	explicit_bzero(c->hash, sizeof(c->hash));
	strset_free(c->taken);
	existing_clear(&c->old);
	units_unref(c->units);
	free(c);
	verify_maybe_flush(pd);
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
	c->res.action = ACCOUNT_REJECTED;
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
	/* The create lives across directory searches and a hashing job, while
	 * "unit modify" may reload the table: hold this snapshot. */
	c->units = units_ref(pd->units);
	if ((c->unit = units_find(c->units, in->unit)) == NULL) {
		char clean[70];

		text_sanitize(in->unit, strnlen(in->unit, 64), clean, sizeof(clean));
		snprintf(err, errlen, "unit: unknown unit '%s' (see provctl unit list)", clean);
		return ST_NOTFOUND;
	}
	snprintf(c->unit_code, sizeof(c->unit_code), "%s", c->unit->code);
	c->has_title = in->title != NULL;
	if (in->title != NULL && in->title[0] != '\0' &&
	    field_title(in->title, c->title, sizeof(c->title), err, errlen) < 0)
		return ST_INVALID;
	c->has_phone = in->phone != NULL;
	if (in->phone != NULL && in->phone[0] != '\0' &&
	    field_phone(in->phone, c->phone, sizeof(c->phone), err, errlen) < 0)
		return ST_INVALID;
	c->quota = pd->cfg.default_quota;
	c->has_quota = in->quota != NULL && in->quota[0] != '\0';
	if (c->has_quota && field_quota(in->quota, &c->quota, err, errlen) < 0)
		return ST_INVALID;
	if (in->login != NULL && in->login[0] != '\0') {
		if (!names_login_valid(in->login)) {
			snprintf(err, errlen, "login: must match [a-z][a-z0-9]* (at most %d)",
			         NAMES_LOGIN_MAX);
			return ST_INVALID;
		}
		if (strlen(in->login) > (in->login_planned ? NAMES_LOGIN_MAX : NAMES_BASE_MAX)) {
			snprintf(err, errlen, "login: at most %d characters",
			         in->login_planned ? NAMES_LOGIN_MAX : NAMES_BASE_MAX);
			return ST_INVALID;
		}
		snprintf(c->base, sizeof(c->base), "%s", in->login);
		if (in->login_fallback != NULL && names_login_valid(in->login_fallback) &&
		    strlen(in->login_fallback) <= NAMES_BASE_MAX)
			snprintf(c->fallback, sizeof(c->fallback), "%s", in->login_fallback);
		c->explicit_login = true;
	} else if (names_login_base(c->cn, c->base, sizeof(c->base), err, errlen) < 0) {
		return ST_INVALID;
	}
	if (c->explicit_login) {
		char addr[ACCOUNT_MAIL_MAX], norm[ADDRESS_MAX];

		snprintf(addr, sizeof(addr), "%s@%s", c->base, pd->cfg.mail_domain);
		if (address_check(&pd->cfg, pd->units, "login", addr, norm, sizeof(norm),
		                  err, errlen) != 0)
			return ST_INVALID;
	}
	if (in->mail != NULL && in->mail[0] != '\0' &&
	    address_check(&pd->cfg, pd->units, "mail", in->mail, c->explicit_mail,
	                  sizeof(c->explicit_mail), err, errlen) != 0)
		return ST_INVALID;
	if (in->naliases > ACCOUNT_MAX_ALIASES) {
		snprintf(err, errlen, "alias: at most %d", ACCOUNT_MAX_ALIASES);
		return ST_USAGE;
	}
	for (i = 0; i < in->naliases; i++) {
		if (address_check(&pd->cfg, pd->units, "alias", in->aliases[i], c->aliases[i],
		                  sizeof(c->aliases[i]), err, errlen) != 0)
			return ST_INVALID;
	}
	c->naliases = in->naliases;
	if (in->password != NULL) {
		if (strlen(in->password) >= sizeof(c->res.password)) {
			snprintf(err, errlen, "initial password too long");
			return ST_INTERNAL;
		}
		snprintf(c->res.password, sizeof(c->res.password), "%s", in->password);
		c->preset_password = true;
	}
	c->must_change = true;
	if (in->password_hash != NULL && in->password_hash[0] != '\0') {
		/* Kept from another directory: the person's own password. */
		if (strlen(in->password_hash) >= sizeof(c->hash)) {
			snprintf(err, errlen, "password hash: longer than %zu", sizeof(c->hash) - 1);
			return ST_INVALID;
		}
		snprintf(c->hash, sizeof(c->hash), "%s", in->password_hash);
		c->must_change = false;
	}
	c->upsert = in->upsert;
	c->allow_update = in->allow_update;
	c->dry_run = in->dry_run;
	c->planned = in->planned;
	if (password_scheme_parse(pd->cfg.generated_hash, &c->scheme) < 0) {
		snprintf(err, errlen, "mail.generated_password_hash: unknown scheme");
		return ST_INTERNAL;
	}
	return ST_OK;
}

static void on_existing_done(void *arg, const struct dir_result *res);

/* A create whose caller knows the directory holds none of its keys
 * (account_input.known_free): as if the search had found nothing. */
static void
create_known_free(void *arg)
{
	static const struct dir_result none = { LDAP_SUCCESS, "", "", NULL };

	on_existing_done(arg, &none);
}

void
account_create(struct provd *pd, const struct account_input *in,
               account_done_fn *done, void *ctx)
{
	struct create *c = xcalloc(1, sizeof(*c));
	int st;

	creates_alive++;
	c->pd = pd;
	c->done = done;
	c->ctx = ctx;
	c->res.action = ACCOUNT_REJECTED;
	c->cand_from = 1;
	c->width = CANDIDATES;
	if ((st = validate(c, in)) != ST_OK) {
		c->res.status = st;
		loop_defer(pd->loop, create_finish_deferred, c);
		return;
	}
	if (!c->explicit_login)
		c->cand_from = hints_get(&online_hints, c->base);
	if (in->known_free && c->explicit_login && c->naliases == 0 &&
	    c->explicit_mail[0] == '\0' && !c->dry_run) {
		/* Nothing in the directory to look at: straight to choosing. */
		c->taken = strset_new(16);
		c->unsearched = true;
		loop_defer(pd->loop, create_known_free, c);
		return;
	}
	create_search(c);
}

static void
taken_add(struct create *c, const char *s)
{
	char low[ACCOUNT_MAIL_MAX];
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	if (strset_add(c->taken, low) < 0)
		log_warnx("account: too many similar logins for base %s", c->base);
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
remember_existing(struct create *c, LDAP *ld, LDAPMessage *e, const char *uid)
{
	struct existing *x = &c->old;
	char *mail = dir_entry_get(ld, e, AT_MAIL);
	size_t i;

	x->found = true;
	snprintf(x->login, sizeof(x->login), "%s", uid ? uid : "");
	snprintf(x->mail, sizeof(x->mail), "%s", mail ? mail : "");
	free(mail);
	for (i = 0; search_attrs[i] != NULL && x->nattr < MAX_EXISTING_ATTRS; i++) {
		x->attr[x->nattr] = xstrdup(search_attrs[i]);
		x->vals[x->nattr] = dir_entry_get_all(ld, e, search_attrs[i]);
		x->nattr++;
	}
}

static void
on_existing(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct create *c = arg;
	char *uid = dir_entry_get(ld, e, AT_UID);
	char *emp = dir_entry_get(ld, e, AT_EMPLOYEE_ID);
	char **mails = dir_entry_get_all(ld, e, AT_MAIL);
	char **aliases = dir_entry_get_all(ld, e, AT_MAIL_ALIAS);
	char lp[ACCOUNT_MAIL_MAX];
	/* Without case, as the directory matches employeeNumber (caseIgnoreMatch)
	 * and as in-flight claims do: NV0001 and nv0001 are one person. */
	bool same_person = emp != NULL && strcasecmp(emp, c->employee_id) == 0;
	size_t i, k;

	if (same_person) {
		if (c->nmatches++ == 0 && c->upsert)
			remember_existing(c, ld, e, uid);
		else if (c->conflict[0] == '\0')
			snprintf(c->conflict, sizeof(c->conflict),
			         "employee_id: %s already has the account '%s'", emp,
			         uid ? uid : "?");
	}
	if (uid != NULL)
		taken_add(c, uid);
	for (k = 0; k < 2; k++) {
		char **v = k ? aliases : mails;

		for (i = 0; v != NULL && v[i] != NULL; i++) {
			size_t a;

			if (local_part(c, v[i], lp, sizeof(lp)) != NULL)
				taken_add(c, lp);
			if (same_person)
				continue;
			for (a = 0; a < c->naliases; a++)
				if (strcasecmp(v[i], c->aliases[a]) == 0 && c->conflict[0] == '\0')
					snprintf(c->conflict, sizeof(c->conflict),
					         "alias: %s is already used by '%s'",
					         c->aliases[a], uid ? uid : "?");
			if (c->explicit_mail[0] && strcasecmp(v[i], c->explicit_mail) == 0 &&
			    c->conflict[0] == '\0')
				snprintf(c->conflict, sizeof(c->conflict),
				         "mail: %s is already used by '%s'", c->explicit_mail,
				         uid ? uid : "?");
		}
	}
	free(uid);
	free(emp);
	dir_strv_free(mails);
	dir_strv_free(aliases);
}

static void hash_work(void *arg);
static void hash_done(void *arg);
static void update_existing(struct create *c);

/* Is this login in use: in the directory (as a login or a local part of an
 * address), chosen by a create still in flight, or planned earlier in a dry
 * run? */
static bool
login_taken(const struct create *c, const char *login)
{
	char addr[ACCOUNT_MAIL_MAX], key[ACCOUNT_MAIL_MAX + 1];

	snprintf(addr, sizeof(addr), "%s@%s", login, c->pd->cfg.mail_domain);
	return strset_has(c->taken, login) || address_claimed(login) ||
	       address_claimed(address_key(key, sizeof(key), addr)) ||
	       (c->planned != NULL && strset_has(c->planned, login));
}

/* A planned login was taken meanwhile: search from its base's suffixes. */
static void
login_fall_back(struct create *c)
{
	log_info("account: %s: login '%s' was taken after it was planned; using the next "
	         "free one", c->employee_id, c->base);
	snprintf(c->base, sizeof(c->base), "%s", c->fallback);
	c->fallback[0] = '\0';
	c->explicit_login = false;
	c->cand_from = 1;
	c->conflict[0] = '\0';
	c->nmatches = 0;
	existing_clear(&c->old);
}

/* Choose the login among the candidates from c->cand_from up to (not
 * including) `upto`, as login_taken sees them, then the mail address and
 * the DN into c->res.  0 when chosen; 1 when every candidate of the range
 * is taken (the caller looks further); -1 with c->res.status and msg set
 * when there is no login or address to give. */
static int
choose_login(struct create *c, unsigned upto)
{
	char cand[NAMES_LOGIN_BUFSZ];
	unsigned n;

	if (c->explicit_login) {
		if (login_taken(c, c->base)) {
			c->res.status = ST_CONFLICT;
			snprintf(c->res.msg, sizeof(c->res.msg), "login: '%s' is already taken",
			         c->base);
			return -1;
		}
		n = 1;
	} else {
		for (n = c->cand_from; n < upto; n++) {
			if (names_login_candidate(c->base, n, cand, sizeof(cand)) < 0) {
				n = 0;
				break;
			}
			if (!login_taken(c, cand))
				break;
		}
		if (n == upto)
			return 1;
	}
	c->chosen = n;
	if (c->explicit_login) {
		/* As given or planned: a planned login (base plus suffix) may be
		 * longer than the bases names_login_candidate takes. */
		snprintf(c->res.login, sizeof(c->res.login), "%s", c->base);
	} else if (n == 0 || names_login_candidate(c->base, n, c->res.login,
	                                           sizeof(c->res.login)) < 0) {
		c->res.status = ST_CONFLICT;
		snprintf(c->res.msg, sizeof(c->res.msg), "login: no free login for base '%s'",
		         c->base);
		return -1;
	}
	if (c->explicit_mail[0]) {
		snprintf(c->res.mail, sizeof(c->res.mail), "%s", c->explicit_mail);
	} else {
		char addr[ACCOUNT_MAIL_MAX], err[300];

		snprintf(addr, sizeof(addr), "%s@%s", c->res.login, c->pd->cfg.mail_domain);
		if (address_check(&c->pd->cfg, c->pd->units, "mail", addr, c->res.mail,
		                  sizeof(c->res.mail), err, sizeof(err)) != 0) {
			c->res.status = ST_INVALID;
			snprintf(c->res.msg, sizeof(c->res.msg), "%s (give --login or --mail)", err);
			return -1;
		}
	}
	if (ldapesc_rdn_dn(AT_UID, c->res.login, c->pd->cfg.people_dn, c->res.dn,
	                   sizeof(c->res.dn)) < 0) {
		c->res.status = ST_INTERNAL;
		snprintf(c->res.msg, sizeof(c->res.msg), "cannot form the DN");
		return -1;
	}
	return 0;
}

static void
on_existing_done(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[sizeof(c->res.msg)], clash[FIELD_MAIL_MAX + 80];

	if (res->code != LDAP_SUCCESS) {
		create_fail(c, schema_status_of_ldap(res->code), "directory: %s",
		            dir_result_str(res, why, sizeof(why)));
		return;
	}
	if (c->conflict[0] != '\0') {
		create_fail(c, ST_CONFLICT, "%s", c->conflict);
		return;
	}
	if (c->old.found) {
		update_existing(c);
		return;
	}
	if (c->explicit_login && login_taken(c, c->base) && c->fallback[0] != '\0') {
		/* Planned, then taken by another writer: the next free one. */
		login_fall_back(c);
		create_search(c);
		return;
	}
	if (!c->explicit_login) {
		/* What the directory holds of this round's candidates. */
		char cand[NAMES_LOGIN_BUFSZ];
		unsigned n;

		for (n = c->cand_from; n < c->cand_from + c->width; n++)
			if (names_login_candidate(c->base, n, cand, sizeof(cand)) < 0 ||
			    !strset_has(c->taken, cand))
				break;
		if (n > c->cand_from)
			(void)hints_set(&online_hints, c->base, n, ONLINE_HINTS_MAX);
	}
	switch (choose_login(c, c->cand_from + c->width)) {
	case 0:
		break;
	case 1:
		/* Every candidate of this round is in use: look further. */
		c->cand_from += c->width;
		if (c->width < CANDIDATES_MAX)
			c->width *= 2;
		if (c->cand_from > MAX_SUFFIX) {
			create_fail(c, ST_CONFLICT, "login: no free login for base '%s'",
			            c->base);
			return;
		}
		existing_clear(&c->old);
		c->nmatches = 0;
		create_search(c);
		return;
	default:
		snprintf(why, sizeof(why), "%s", c->res.msg);
		create_fail(c, c->res.status, "%s", why);
		return;
	}
	if (c->dry_run) {
		if (c->planned != NULL && strset_add(c->planned, c->res.login) < 0) {
			create_fail(c, ST_INTERNAL, "too many rows to plan");
			return;
		}
		c->res.status = ST_OK;
		c->res.action = ACCOUNT_CREATED;
		snprintf(c->res.msg, sizeof(c->res.msg), "would create %s", c->res.login);
		create_finish(c);
		return;
	}
	if (!reserve(c->res.login)) {
		create_fail(c, ST_UNAVAILABLE, "too many accounts being created at once");
		return;
	}
	c->reserved = true;
	if (c->nclaims == 0 && claim_all(c, clash, sizeof(clash)) < 0) {
		unclaim_all(c);
		create_fail(c, ST_CONFLICT, "%s", clash);
		return;
	}
	if (c->hash[0] != '\0') {       /* a retry, or a kept hash: no new password */
		hash_done(c);
		return;
	}
	if (!c->preset_password &&
	    password_generate(c->res.password, sizeof(c->res.password)) < 0) {
		create_fail(c, ST_INTERNAL, "cannot generate a password");
		return;
	}
	workpool_submit(c->pd->hashers, hash_work, hash_done, c);
}

static int
filter_append(char *filter, size_t size, size_t *off, const char *fmt, const char *value)
{
	char esc[800];
	int n;

	if (ldapesc_filter(value, esc, sizeof(esc)) < 0)
		return -1;
	n = snprintf(filter + *off, size - *off, fmt, esc, esc, esc);
	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

static void
create_search(struct create *c)
{
	char filter[CANDIDATE_FILTER_MAX + 8192], cand[NAMES_LOGIN_BUFSZ], addr[ACCOUNT_MAIL_MAX];
	size_t off = 0, i;
	unsigned n, last = c->explicit_login ? 1 : c->cand_from + c->width - 1;

	/* One search, on equality indexes only: the employee id, each login
	 * candidate of this round (annv .. annv4, then annv5 .. annv12 if all
	 * are taken, the rounds doubling up to CANDIDATES_MAX and what fits in
	 * CANDIDATE_FILTER_MAX) as a uid and as an address, and every address
	 * the account asks for. */
	filter[0] = '\0';
	if (filter_append(filter, sizeof(filter), &off, "(|(" AT_EMPLOYEE_ID "=%s)", c->employee_id) < 0)
		goto toolong;
	for (n = c->explicit_login ? 1 : c->cand_from; n <= last; n++) {
		if (c->explicit_login) {
			snprintf(cand, sizeof(cand), "%s", c->base);
		} else {
			if (off > CANDIDATE_FILTER_MAX && n > c->cand_from) {
				c->width = n - c->cand_from;
				break;
			}
			if (names_login_candidate(c->base, n, cand, sizeof(cand)) < 0)
				break;
		}
		snprintf(addr, sizeof(addr), "%s@%s", cand, c->pd->cfg.mail_domain);
		if (filter_append(filter, sizeof(filter), &off, "(" AT_UID "=%s)", cand) < 0 ||
		    filter_append(filter, sizeof(filter), &off,
		                  "(" AT_MAIL "=%s)(" AT_MAIL_ALIAS "=%s)", addr) < 0)
			goto toolong;
	}
	for (i = 0; i < c->naliases; i++)
		if (filter_append(filter, sizeof(filter), &off,
		                  "(" AT_MAIL "=%s)(" AT_MAIL_ALIAS "=%s)", c->aliases[i]) < 0)
			goto toolong;
	if (c->explicit_mail[0] &&
	    filter_append(filter, sizeof(filter), &off, "(" AT_MAIL "=%s)(" AT_MAIL_ALIAS "=%s)",
	                  c->explicit_mail) < 0)
		goto toolong;
	if (off + 2 > sizeof(filter))
		goto toolong;
	strcat(filter, ")");
	strset_free(c->taken);
	c->taken = strset_new(1u << 20);
	dir_search(c->pd->dir, c->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           search_attrs, 0, NULL, on_existing, on_existing_done, c);
	return;
toolong:
	c->res.status = ST_INVALID;
	snprintf(c->res.msg, sizeof(c->res.msg), "input too long");
	loop_defer(c->pd->loop, create_finish_deferred, c);
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

/* Expand the template for this person (login/mail given). */
static int account_add_name_words(struct template_entry *entry, const char *cn, char *err,
                                  size_t errlen);

static int
expand(struct create *c, const char *login, const char *mail,
       struct template_entry *entry, char *err, size_t errlen)
{
	struct template_values v = { 0 };

	memset(entry, 0, sizeof(*entry));
	v.login = login;
	v.full_name = c->cn;
	v.given_name = c->name.given_name;
	v.surname = c->name.sn;
	v.middle_name = c->name.middle;
	v.unit = c->unit_code;
	v.unit_name = c->unit->name;
	v.mail = mail;
	v.domain = c->pd->cfg.mail_domain;
	v.employee_id = c->employee_id;
	v.title = c->title;
	v.phone = c->phone;
	v.quota = c->quota;
	if (template_expand(c->pd->account_tpl, &v, entry, err, errlen) < 0)
		return -1;
	return account_add_name_words(entry, c->cn, err, errlen);
}

/* The folded words of cn as provdNameWords values (names_fold_words). */
static int
account_add_name_words(struct template_entry *entry, const char *cn, char *err,
                       size_t errlen)
{
	char words[NAMES_WORDS_MAX][NAMES_WORD_BUFSZ];
	int i, n = names_fold_words(cn, words, NAMES_WORDS_MAX);

	for (i = 0; i < n; i++)
		if (template_entry_add(entry, AT_NAME_WORDS, words[i], err, errlen) < 0)
			return -1;
	return 0;
}

static void on_added(void *arg, const struct dir_result *res);



/* The whole entry of a new account: the template for this person, the
 * password hash, pwdReset and the initial password's deadline (made at
 * `now`, into c->res.expires), and the aliases.  0, or -1 with err. */
static int
build_entry(struct create *c, time_t now, struct template_entry *entry, char *err,
            size_t errlen)
{
	char deadline[PKITIME_LDAP_LEN + 1];
	size_t i;

	if (expand(c, c->res.login, c->res.mail, entry, err, errlen) < 0 ||
	    template_entry_add(entry, AT_PASSWORD, c->hash, err, errlen) < 0 ||
	    (c->must_change &&
	     template_entry_add(entry, AT_PWD_RESET, "TRUE", err, errlen) < 0))
		return -1;
	/* An initial password stops working at its deadline (initialpw.h). */
	if (c->must_change) {
		if (initialpw_deadline(&c->pd->cfg, now, deadline) < 0) {
			snprintf(err, errlen, "clock out of range");
			return -1;
		}
		if (deadline[0] != '\0' &&
		    template_entry_add(entry, AT_PWD_END_TIME, deadline, err, errlen) < 0)
			return -1;
		snprintf(c->res.expires, sizeof(c->res.expires), "%s", deadline);
	}
	for (i = 0; i < c->naliases; i++)
		if (template_entry_add(entry, AT_MAIL_ALIAS, c->aliases[i], err, errlen) < 0)
			return -1;
	return 0;
}

static void
hash_done(void *arg)
{
	struct create *c = arg;
	struct template_entry entry;
	struct dir_mods *mods;
	char err[300];

	if (c->hash[0] == '\0') {
		create_fail(c, ST_INTERNAL, "password hash failed: %s", c->hash_err);
		return;
	}
	if (build_entry(c, time(NULL), &entry, err, sizeof(err)) < 0)
		goto fail;
	mods = dir_mods_new();
	if (template_entry_mods(&entry, mods, err, sizeof(err)) < 0) {
		dir_mods_free(mods);
		goto fail;
	}
	dir_add(c->pd->dir, c->res.dn, dir_mods_get(mods), NULL, on_added, c);
	dir_mods_free(mods);
	template_entry_free(&entry);
	return;
fail:
	template_entry_free(&entry);
	create_fail(c, ST_INVALID, "%s", err);
}

/* Search again from the start, keeping the hash: another writer took the
 * login, the address or the employee id; the employee id found then makes
 * this an update (or unchanged). */
static void
create_again(struct create *c)
{
	unreserve(c->res.login);
	c->reserved = false;
	c->unsearched = false;
	c->conflict[0] = '\0';
	c->nmatches = 0;
	existing_clear(&c->old);
	if (c->explicit_login && c->fallback[0] != '\0')
		login_fall_back(c);
	create_search(c);
}

static void
on_own_deleted(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS && ++c->tries < CREATE_RETRIES) {
		create_again(c);
		return;
	}
	create_fail(c, ST_CONFLICT, "employee id %s is on two accounts, %s among them (%s); "
	            "'provctl check' lists them", c->employee_id, c->res.login,
	            res->code == LDAP_SUCCESS ? "too many tries" : dir_result_str(res, why, sizeof(why)));
}

static void
verify_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct create *c = arg;
	char uid[NAMES_LOGIN_BUFSZ];

	dir_entry_copy(ld, e, AT_UID, uid, sizeof(uid));
	if (strcmp(uid, c->res.login) != 0)
		c->nmatches++;
}

/* After an add: is ours the only account with this employee id and this
 * address?  Two writers that searched before either added can both add
 * (slapd's unique overlay checks before it writes, so two adds in flight
 * both pass), and a create that left its search out (known_free) trusts a
 * search made when its batch began.  The
 * later of the two checks sees both accounts and deletes its own, then
 * searches again and finds the other: never two, and "created" is said only
 * of an account that was alone when checked. */
static void
verify_done(void *arg, const struct dir_result *res)
{
	struct create *c = arg;

	if (res->code == LDAP_SUCCESS && c->nmatches > 0) {
		log_info("account: %s: employee id %s or address %s was taken by another "
		         "writer at the same time; removing this one", c->res.login,
		         c->employee_id, c->res.mail);
		dir_delete(c->pd->dir, c->res.dn, NULL, on_own_deleted, c);
		return;
	}
	c->res.status = ST_OK;
	c->res.action = ACCOUNT_CREATED;
	snprintf(c->res.msg, sizeof(c->res.msg), "created %s", c->res.login);
	/* Every candidate below it was in the directory: so is this one now. */
	if (!c->explicit_login &&
	    hints_get(&online_hints, c->base) == c->chosen)
		(void)hints_set(&online_hints, c->base, c->chosen + 1, ONLINE_HINTS_MAX);
	create_finish(c);
}

/* The filter terms that find every account holding c's employee id or
 * address, appended to s; -1 when a value cannot be escaped. */
static int
verify_terms(const struct create *c, struct vec_str *s)
{
	char esc[3 * FIELD_EMPLOYEE_ID_MAX + 1], mesc[3 * ACCOUNT_MAIL_MAX + 1];
	char term[sizeof(esc) + 2 * sizeof(mesc) + 64];

	if (ldapesc_filter(c->employee_id, esc, sizeof(esc)) != 0 ||
	    ldapesc_filter(c->res.mail, mesc, sizeof(mesc)) != 0)
		return -1;
	snprintf(term, sizeof(term), "(" AT_EMPLOYEE_ID "=%s)(" AT_MAIL "=%s)(" AT_MAIL_ALIAS
	         "=%s)", esc, mesc, mesc);
	vec_str_add(s, term);
	return 0;
}

/* One create's own check (a search of its own). */
static void
verify_one(struct create *c)
{
	static const char *const attrs[] = { AT_UID, NULL };
	struct vec_str f = { 0 };

	vec_str_add(&f, "(|");
	if (verify_terms(c, &f) < 0) {
		free(f.p);
		verify_done(c, &(struct dir_result){ .code = LDAP_OTHER });
		return;
	}
	vec_str_add(&f, ")");
	c->nmatches = 0;
	dir_search(c->pd->dir, c->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, f.p, attrs,
	           0, NULL, verify_entry, verify_done, c);
	free(f.p);
}

/* ---- the checks after adds, batched ---------------------------------
 *
 * A batch keeps many adds in flight; the check of each (verify_done) is
 * made for up to VERIFY_BATCH added creates by one search of all their
 * employee ids and addresses, sent when that many are waiting or when
 * every create not finished is waiting for or in such a check (no other
 * add can join: a lone `user add` is checked at once).
 * Each returned entry counts against the creates whose employee id or
 * address it holds; an entry that matches none of them by the values
 * (the directory's matching rules are wider than a byte comparison)
 * sends every create of the search to its own check instead.  Every
 * check still runs after its own add was answered, which is what the
 * argument above needs. */
#define VERIFY_BATCH 64

static struct verify_queue {
	struct create *c[VERIFY_BATCH];
	size_t         n;
} verifyq;

struct verify_group {
	struct provd  *pd;
	struct create *c[VERIFY_BATCH];
	size_t         n;
	bool           unmatched;      /* an entry no create's values match */
	size_t         next;           /* answered: the creates finished so far */
	int            code;           /* ... and the search's result code */
};

static void
verify_group_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct verify_group *g = arg;
	char uid[NAMES_LOGIN_BUFSZ];
	char **emp = dir_entry_get_all(ld, e, AT_EMPLOYEE_ID);
	char **mail = dir_entry_get_all(ld, e, AT_MAIL);
	char **alias = dir_entry_get_all(ld, e, AT_MAIL_ALIAS);
	bool matched = false;
	size_t i;

	dir_entry_copy(ld, e, AT_UID, uid, sizeof(uid));
	for (i = 0; i < g->n; i++) {
		struct create *c = g->c[i];

		if (!dir_strv_has(emp, c->employee_id) && !dir_strv_has(mail, c->res.mail) &&
		    !dir_strv_has(alias, c->res.mail))
			continue;
		matched = true;
		if (strcmp(uid, c->res.login) != 0)
			c->nmatches++;
	}
	g->unmatched |= !matched;
	dir_strv_free(emp);
	dir_strv_free(mail);
	dir_strv_free(alias);
}

/* The group's creates finished, LOOP_SLICE_US at a time: each finish
 * runs its caller's next step (a batch's next row), and 64 of them in one
 * turn held the loop for tens of milliseconds during an import.  A create
 * waiting for its slice still counts as held (in its check). */
static void
verify_group_finish(void *arg)
{
	struct verify_group *g = arg;
	uint64_t until = loop_now_us() + LOOP_SLICE_US;

	while (g->next < g->n) {
		struct create *c = g->c[g->next];

		if (g->next > 0 && loop_now_us() >= until) {
			loop_yield(g->pd->loop, verify_group_finish, g);
			return;
		}
		g->next++;
		creates_held--;
		if (g->code == LDAP_SUCCESS && g->unmatched)
			verify_one(c);
		else
			verify_done(c, &(struct dir_result){ .code = g->code });
	}
	free(g);
}

static void
verify_group_done(void *arg, const struct dir_result *res)
{
	struct verify_group *g = arg;

	g->code = res->code;
	g->next = 0;
	verify_group_finish(g);
}

static void
verify_flush(struct provd *pd)
{
	static const char *const attrs[] = { AT_UID, AT_EMPLOYEE_ID, AT_MAIL, AT_MAIL_ALIAS, NULL };
	struct verify_group *g = xcalloc(1, sizeof(*g));
	struct vec_str f = { 0 };
	struct create *c;
	size_t i, n = verifyq.n;

	g->pd = pd;

	/* The queue is empty before any create finishes here (a finish
	 * may start another check). */
	memcpy(g->c, verifyq.c, n * sizeof(g->c[0]));
	verifyq.n = 0;
	vec_str_add(&f, "(|");
	for (i = 0; i < n; i++) {
		c = g->c[i];
		c->nmatches = 0;
		if (verify_terms(c, &f) < 0) {  /* cannot be searched: as before, unchecked */
			creates_held--;
			verify_done(c, &(struct dir_result){ .code = LDAP_OTHER });
		} else
			g->c[g->n++] = c;
	}
	if (g->n == 0) {
		free(f.p);
		free(g);
		return;
	}
	vec_str_add(&f, ")");
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, f.p, attrs, 0, NULL,
	           verify_group_entry, verify_group_done, g);
	free(f.p);
}

static void
verify_maybe_flush(struct provd *pd)
{
	if (verifyq.n > 0 && (verifyq.n == VERIFY_BATCH || creates_alive == creates_held))
		verify_flush(pd);
}

static void
on_added(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS && c->employee_id[0] != '\0') {
		/* Its check, with others' (below). */
		verifyq.c[verifyq.n++] = c;
		creates_held++;
		verify_maybe_flush(c->pd);
		return;
	}
	if (res->code == LDAP_SUCCESS) {
		c->res.status = ST_OK;
		c->res.action = ACCOUNT_CREATED;
		snprintf(c->res.msg, sizeof(c->res.msg), "created %s", c->res.login);
		create_finish(c);
		return;
	}
	if ((res->code == LDAP_ALREADY_EXISTS || res->code == LDAP_CONSTRAINT_VIOLATION) &&
	    (!c->explicit_login || c->fallback[0] != '\0' || c->unsearched) &&
	    ++c->tries < CREATE_RETRIES) {
		/* Another writer took the login, the address or the employee id
		 * between our search (or the batch's) and our add (another provd
		 * instance; the provider's unique overlay refuses the duplicate):
		 * a search says which, and what to do. */
		create_again(c);
		return;
	}
	if (res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT)
		c->res.outcome_unknown = true;
	if (res->code == LDAP_CONSTRAINT_VIOLATION) {
		create_fail(c, ST_CONFLICT, "directory refused a duplicate (%s)",
		            dir_result_str(res, why, sizeof(why)));
		return;
	}
	create_fail(c, schema_status_of_ldap(res->code), "%s%s",
	            c->res.outcome_unknown ? "outcome unknown, run again to converge: " : "",
	            dir_result_str(res, why, sizeof(why)));
}

/* ---- update of an existing employee (batch import) ------------------- */

static bool
is_fixed(const char *attr)
{
	size_t i;

	for (i = 0; fixed_attrs[i] != NULL; i++)
		if (strcasecmp(fixed_attrs[i], attr) == 0)
			return true;
	return false;
}

static char **
old_values(struct create *c, const char *attr, bool *known)
{
	size_t i;

	for (i = 0; i < c->old.nattr; i++)
		if (strcasecmp(c->old.attr[i], attr) == 0) {
			*known = true;
			return c->old.vals[i];
		}
	*known = false;
	return NULL;
}

/* Same set of values (order ignored; exact bytes). */
static bool
same_values(char **old, const struct template_attr *a)
{
	size_t n = 0, i, j;

	while (old != NULL && old[n] != NULL)
		n++;
	if (a == NULL)
		return n == 0;
	if (n != a->nvalues)
		return false;
	for (i = 0; i < a->nvalues; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(old[j], a->values[i]) == 0)
				break;
		if (j == n)
			return false;
	}
	return true;
}

static void on_updated(void *arg, const struct dir_result *res);

static void
note_change(struct create *c, const char *attr)
{
	size_t n = strlen(c->res.changes);

	snprintf(c->res.changes + n, sizeof(c->res.changes) - n, "%s%s",
	         n ? "," : "", attr);
}

static void
update_existing(struct create *c)
{
	struct template_entry entry;
	struct dir_mods *m = NULL;
	char err[300];
	const char *optional[] = { AT_TITLE, AT_PHONE, AT_MAIL_QUOTA };
	bool given[] = { c->has_title, c->has_phone, c->has_quota };
	size_t i, k;

	snprintf(c->res.login, sizeof(c->res.login), "%s", c->old.login);
	snprintf(c->res.mail, sizeof(c->res.mail), "%s", c->old.mail);
	if (ldapesc_rdn_dn(AT_UID, c->res.login, c->pd->cfg.people_dn, c->res.dn,
	                   sizeof(c->res.dn)) < 0) {
		create_fail(c, ST_INTERNAL, "cannot form the DN");
		return;
	}
	/* A login the batch planned is no request of the person's: when
	 * another writer made the account meanwhile, its login stands. */
	if (c->explicit_login && c->fallback[0] == '\0' && strcmp(c->base, c->old.login) != 0) {
		create_fail(c, ST_CONFLICT, "login: employee %s already has the login '%s'; "
		            "logins never change", c->employee_id, c->old.login);
		return;
	}
	if (expand(c, c->old.login, c->old.mail, &entry, err, sizeof(err)) < 0) {
		create_fail(c, ST_INVALID, "%s", err);
		return;
	}
	m = dir_mods_new();
	/* Attributes the template writes from HR data. */
	for (i = 0; i < entry.nattrs; i++) {
		const struct template_attr *a = &entry.attrs[i];
		bool known, skip = false;
		char **old;

		if (is_fixed(a->name))
			continue;
		for (k = 0; k < 3; k++)
			if (strcasecmp(a->name, optional[k]) == 0 && !given[k])
				skip = true;
		old = old_values(c, a->name, &known);
		if (skip || !known || same_values(old, a))
			continue;
		{
			const char *vals[TEMPLATE_ENTRY_MAX_VALUES + 1];
			size_t j;

			for (j = 0; j < a->nvalues && j < TEMPLATE_ENTRY_MAX_VALUES; j++)
				vals[j] = a->values[j];
			vals[j] = NULL;
			dir_mods_add(m, LDAP_MOD_REPLACE, a->name, vals);
		}
		note_change(c, a->name);
		if (strcasecmp(a->name, AT_UNIT) == 0)
			c->unit_changed = true;
	}
	/* Optional attributes given empty: remove what is there. */
	for (k = 0; k < 3; k++) {
		bool known;
		char **old;

		if (!given[k] || template_entry_find(&entry, optional[k]) != NULL)
			continue;
		old = old_values(c, optional[k], &known);
		if (old != NULL) {
			dir_mods_add(m, LDAP_MOD_DELETE, optional[k], NULL);
			note_change(c, optional[k]);
		}
	}
	template_entry_free(&entry);
	if (dir_mods_count(m) == 0) {
		dir_mods_free(m);
		c->res.status = ST_OK;
		c->res.action = ACCOUNT_UNCHANGED;
		snprintf(c->res.msg, sizeof(c->res.msg), "unchanged");
		create_finish(c);
		return;
	}
	if (!c->allow_update) {
		dir_mods_free(m);
		create_fail(c, ST_PERMISSION, "update of %s (%s) needs the admin role",
		            c->old.login, c->res.changes);
		return;
	}
	if (c->dry_run) {
		dir_mods_free(m);
		c->res.status = ST_OK;
		c->res.action = ACCOUNT_UPDATED;
		snprintf(c->res.msg, sizeof(c->res.msg), "would update %s", c->res.changes);
		create_finish(c);
		return;
	}
	dir_modify(c->pd->dir, c->res.dn, dir_mods_get(m), NULL, on_updated, c);
	dir_mods_free(m);
}

/* An update that changed the unit: the certificates follow (the lifecycle rule, account.h). */
static void
on_moved_certs(void *arg, int status, const char *summary)
{
	struct create *c = arg;

	c->res.status = status;
	c->res.action = ACCOUNT_UPDATED;
	if (status == ST_OK)
		snprintf(c->res.msg, sizeof(c->res.msg), "updated %.120s; certificates: %.240s",
		         c->res.changes, summary);
	else
		snprintf(c->res.msg, sizeof(c->res.msg), "updated %.120s, but the certificates "
		         "were not updated (import the row again): %.200s", c->res.changes,
		         summary);
	create_finish(c);
}

static void
on_updated(void *arg, const struct dir_result *res)
{
	struct create *c = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS && c->unit_changed) {
		lifecycle_certs(c->pd, c->old.login, LIFECYCLE_MOVE, on_moved_certs, c);
		return;
	}
	if (res->code == LDAP_SUCCESS) {
		c->res.status = ST_OK;
		c->res.action = ACCOUNT_UPDATED;
		snprintf(c->res.msg, sizeof(c->res.msg), "updated %s", c->res.changes);
		create_finish(c);
		return;
	}
	if (res->code == LDAP_SERVER_DOWN || res->code == LDAP_TIMEOUT)
		c->res.outcome_unknown = true;
	create_fail(c, schema_status_of_ldap(res->code), "%s%s",
	            c->res.outcome_unknown ? "outcome unknown, run again to converge: " : "",
	            dir_result_str(res, why, sizeof(why)));
}

/* ---- records --------------------------------------------------------- */

/* schema_account_attrs of one entry, read in one pass (ldap_get_values_len
 * scans the whole entry for each attribute asked for: 16 scans an entry
 * made listing 100,000 accounts cost three times the search itself).
 * Values point into the entry's BER; valid until view_free. */
struct entry_view {
	BerElement    *ber;
	struct berval  dn;
	BerVarray      v[SA_N];
};

/* The index of attribute name[0..len) in schema_account_attrs (any case),
 * or SA_N.  First letters first: most names are told apart without a
 * call. */
static size_t
view_slot(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return SA_N;
	for (i = 0; i < SA_N; i++) {
		const char *a = schema_account_attrs[i];

		if ((a[0] | 0x20) == (name[0] | 0x20) && strncasecmp(a, name, len) == 0 &&
		    a[len] == '\0')
			return i;
	}
	return SA_N;
}

static void
view_read(struct entry_view *w, LDAP *ld, LDAPMessage *e)
{
	struct berval attr;
	BerVarray vals;
	size_t i;

	memset(w, 0, sizeof(*w));
	if (ldap_get_dn_ber(ld, e, &w->ber, &w->dn) != LDAP_SUCCESS)
		return;
	while (ldap_get_attribute_ber(ld, e, w->ber, &attr, &vals) == LDAP_SUCCESS &&
	       attr.bv_val != NULL) {
		i = view_slot(attr.bv_val, attr.bv_len);
		if (i < SA_N && w->v[i] == NULL)
			w->v[i] = vals;
		else
			ber_memfree(vals);
	}
}

static void
view_free(struct entry_view *w)
{
	size_t i;

	for (i = 0; i < SA_N; i++)
		ber_memfree(w->v[i]);
	if (w->ber != NULL)
		ber_free(w->ber, 0);
}

/* Value k of attribute i as text up to any NUL (as dir_entry_get has it);
 * NULL when absent. */
static const char *
view_get(const struct entry_view *w, size_t i, size_t k, size_t *len)
{
	size_t j;

	for (j = 0; j <= k; j++)
		if (w->v[i] == NULL || w->v[i][j].bv_val == NULL)
			return NULL;
	*len = strnlen(w->v[i][k].bv_val, w->v[i][k].bv_len);
	return w->v[i][k].bv_val;
}

/* Each field of account_record: its key, and the attributes
 * (1 << SA_*) it is read from: what a listing of some fields asks slapd. */
static const struct {
	const char *key;
	unsigned    attrs;
} account_fields[AF_N] = {
	[AF_LOGIN]     = { "login",           1u << SA_UID },
	[AF_MAIL]      = { "mail",            1u << SA_MAIL },
	[AF_NAME]      = { "name",            1u << SA_CN },
	[AF_EMPLOYEE]  = { "employee_id",     1u << SA_EMPLOYEE },
	[AF_UNIT]      = { "unit",            1u << SA_UNIT },
	[AF_UNIT_NAME] = { "unit_name",       1u << SA_UNIT },
	/* As account_state_read decides it. */
	[AF_STATUS]    = { "status",          1u << SA_DELETE | 1u << SA_LOCKED },
	[AF_TITLE]     = { "title",           1u << SA_TITLE },
	[AF_PHONE]     = { "phone",           1u << SA_PHONE },
	[AF_QUOTA]     = { "quota",           1u << SA_QUOTA },
	[AF_ALIASES]   = { "aliases",         1u << SA_ALIAS },
	[AF_GIVEN]     = { "given_name",      1u << SA_GIVEN },
	[AF_SURNAME]   = { "surname",         1u << SA_SN },
	[AF_REASON]    = { "disabled_reason", 1u << SA_REASON },
	[AF_DELETE]    = { "delete_after",    1u << SA_DELETE },
	[AF_CREATED]   = { "created",         1u << SA_CREATED },
	[AF_DN]        = { "dn",              0 },   /* every entry has its DN */
};

int
account_fields_parse(const char *list, size_t len, unsigned *fields, char *err,
                     size_t errlen)
{
	size_t at = 0, n, names = 0, f;

	*fields = 0;
	while (at <= len) {
		const char *name = list + at;
		const char *comma = memchr(name, ',', len - at);

		n = comma != NULL ? (size_t)(comma - name) : len - at;
		for (f = 0; f < AF_N; f++)
			if (strlen(account_fields[f].key) == n &&
			    memcmp(account_fields[f].key, name, n) == 0)
				break;
		if (f == AF_N || ++names > ACCOUNT_FIELDS_MAX) {
			char clean[80];
			int off;

			text_sanitize(name, n < 64 ? n : 64, clean, sizeof(clean));
			off = f == AF_N ? snprintf(err, errlen, "no column '%s'; columns:", clean)
			                : snprintf(err, errlen, "more than %d columns",
			                           ACCOUNT_FIELDS_MAX);
			for (f = 0; f < AF_N && names <= ACCOUNT_FIELDS_MAX && off > 0 &&
			            (size_t)off < errlen; f++)
				off += snprintf(err + off, errlen - (size_t)off, "%s%s",
				                f ? "," : " ", account_fields[f].key);
			return -1;
		}
		*fields |= 1u << f;
		at += n + 1;
	}
	return 0;
}

void
account_fields_attrs(unsigned fields, const char *attrs[SA_N + 1])
{
	unsigned want = 0;
	size_t f, i, n = 0;

	for (f = 0; f < AF_N; f++)
		if (fields & 1u << f)
			want |= account_fields[f].attrs;
	for (i = 0; i < SA_N; i++)
		if (want & 1u << i)
			attrs[n++] = schema_account_attrs[i];
	if (n == 0)
		attrs[n++] = LDAP_NO_ATTRS;
	attrs[n] = NULL;
}

/* Field f (a key of the set fields?), empty when the entry lacks attribute
 * i: every account record carries the same keys, so a listing in tab
 * format keeps one header and provctl -o can name any field of any
 * account. */
static void
kv_view(struct rec *r, unsigned fields, enum account_field f, const struct entry_view *w,
        size_t i)
{
	size_t len;
	const char *v;

	if (!(fields & 1u << f))
		return;
	v = view_get(w, i, 0, &len);
	rec_kvn(r, account_fields[f].key, v != NULL ? v : "", v != NULL ? len : 0);
}

/* Field f with the value s, when f is in the set fields. */
static void
kv_text(struct rec *r, unsigned fields, enum account_field f, const char *s, size_t len)
{
	if (fields & 1u << f)
		rec_kvn(r, account_fields[f].key, s, len);
}

static bool
view_is(const struct entry_view *w, size_t i, const char *s)
{
	size_t len;
	const char *v = view_get(w, i, 0, &len);

	return v != NULL && len == strlen(s) && memcmp(v, s, len) == 0;
}

void
account_record(struct rec *r, struct provd *pd, LDAP *ld, LDAPMessage *e, unsigned fields)
{
	struct entry_view w;
	char unit[UNIT_CODE_MAX], list[4096];
	const struct unit *u = NULL;
	const char *v, *s;
	size_t i, off = 0, len = 0;

	view_read(&w, ld, e);
	unit[0] = '\0';
	v = view_get(&w, SA_UNIT, 0, &len);
	if (v != NULL && (fields & 1u << AF_UNIT_NAME) && len < sizeof(unit)) {
		memcpy(unit, v, len);
		unit[len] = '\0';
		u = units_find(pd->units, unit);
	}
	kv_view(r, fields, AF_LOGIN, &w, SA_UID);
	kv_view(r, fields, AF_MAIL, &w, SA_MAIL);
	kv_view(r, fields, AF_NAME, &w, SA_CN);
	kv_view(r, fields, AF_EMPLOYEE, &w, SA_EMPLOYEE);
	kv_text(r, fields, AF_UNIT, v != NULL ? v : "", v != NULL ? len : 0);
	s = u && u->name ? u->name : "";
	kv_text(r, fields, AF_UNIT_NAME, s, strlen(s));
	s = account_state_name(
	       view_get(&w, SA_DELETE, 0, &len) != NULL ? ACCOUNT_STATE_DELETED :
	       view_is(&w, SA_LOCKED, SCHEMA_LOCKED_FOREVER) ? ACCOUNT_STATE_DISABLED :
	       ACCOUNT_STATE_ACTIVE);
	kv_text(r, fields, AF_STATUS, s, strlen(s));
	kv_view(r, fields, AF_TITLE, &w, SA_TITLE);
	kv_view(r, fields, AF_PHONE, &w, SA_PHONE);
	kv_view(r, fields, AF_QUOTA, &w, SA_QUOTA);
	list[0] = '\0';
	for (i = 0; (fields & 1u << AF_ALIASES) && (v = view_get(&w, SA_ALIAS, i, &len)) != NULL;
	     i++) {
		int n = snprintf(list + off, sizeof(list) - off, "%s%.*s",
		                 off ? "," : "", (int)len, v);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
	}
	kv_text(r, fields, AF_ALIASES, list, off);
	kv_view(r, fields, AF_GIVEN, &w, SA_GIVEN);
	kv_view(r, fields, AF_SURNAME, &w, SA_SN);
	kv_view(r, fields, AF_REASON, &w, SA_REASON);
	kv_view(r, fields, AF_DELETE, &w, SA_DELETE);
	kv_view(r, fields, AF_CREATED, &w, SA_CREATED);
	kv_text(r, fields, AF_DN, w.dn.bv_val != NULL ? w.dn.bv_val : "",
	        w.dn.bv_val != NULL ? strnlen(w.dn.bv_val, w.dn.bv_len) : 0);
	view_free(&w);
}

/* ---- user add -------------------------------------------------------- */

static void
add_done(void *arg, struct account_result *res)
{
	struct request *req = arg;
	char iso[21];

	if (res->status != ST_OK) {
		request_done(req, res->status, "%s", res->msg);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s", res->login);
	reply_kv(req, "login", res->login, "mail", res->mail, "dn", res->dn,
	         "employee_id", cmd_arg(&req->args, "employee-id"),
	         "unit", cmd_arg(&req->args, "unit"),
	         "password", res->password,
	         "password_expires", res->expires,
	         "password_page", req->pd->cfg.password_page_url, NULL);
	request_done(req, ST_OK, "created %s (%s); the password is shown once and "
	             "must be changed%s%s%s%s", res->login, res->mail,
	             req->pd->cfg.password_page_url[0] ? " at " : " at first login",
	             req->pd->cfg.password_page_url,
	             res->expires[0] ? " before " : "", fieldtype_time_text(res->expires, iso));
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
	/* --name, --unit and --employee-id are required by the table; the
	 * grant over --unit was checked by dispatch (SCOPE_UNIT). */
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

/* First who holds the key (login, address or alias): two holders (left by
 * replication merging two sites' writes) are an error naming both, never
 * "the first one".  Then the one holder's entry. */
struct show {
	struct request *req;
	int             found;
	char            uid[2][NAMES_LOGIN_BUFSZ];
	char            dn[ACCOUNT_DN_MAX];
};

static void
show_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct show *s = arg;
	struct rec r;

	if (s->found++ > 0)
		return;
	rec_begin(&r, s->req);
	account_record(&r, s->req->pd, ld, e, ACCOUNT_FIELDS_ALL);
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
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	else if (found == 0)
		request_done(req, ST_NOTFOUND, "no account '%s'", req->args.operand[0]);
	else
		request_done(req, ST_OK, "ok");
}

static void
holder_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct show *s = arg;
	char *dn;

	if (s->found < 2)
		dir_entry_copy(ld, e, AT_UID, s->uid[s->found], sizeof(s->uid[0]));
	if (s->found == 0 && (dn = dir_entry_dn(ld, e)) != NULL) {
		snprintf(s->dn, sizeof(s->dn), "%s", dn);
		free(dn);
	}
	s->found++;
}

static void
holders_done(void *arg, const struct dir_result *res)
{
	struct show *s = arg;
	struct request *req = s->req;

	if (s->found >= 2) {
		request_done(req, ST_CONFLICT, "'%s' is held by more than one account (%s and %s): "
		             "a conflict left by replication; 'provctl check' lists such conflicts",
		             req->args.operand[0], s->uid[0], s->uid[1]);
		free(s);
		return;
	}
	if (res->code != LDAP_SUCCESS || s->found == 0) {
		show_done(s, res);
		return;
	}
	s->found = 0;
	dir_search(req->pd->dir, s->dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", schema_account_attrs, 1,
	           NULL, show_entry, show_done, s);
}

void
account_show(struct request *req)
{
	static const char *const uid_attr[] = { AT_UID, NULL };
	const char *key = req->args.operand[0];
	char filter[2600];
	struct show *s;

	if (schema_filter_person(key, false, filter, sizeof(filter)) < 0) {
		request_done(req, ST_INVALID, "login or mail too long");
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->req = req;
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           uid_attr, 3, NULL, holder_entry, holders_done, s);
}

/* ---- planning with no directory (provd bootstrap) ------------------- */

struct account_plan {
	struct create c;
};

struct account_offline {
	struct strset *used;
	struct hints   hints;
};

struct account_offline *
account_offline_new(size_t max_accounts)
{
	struct account_offline *o = xcalloc(1, sizeof(*o));

	/* A login, an address and an employee id each, plus aliases. */
	o->used = strset_new(4 * max_accounts);
	return o;
}

void
account_offline_free(struct account_offline *o)
{
	if (o == NULL)
		return;
	strset_free(o->used);
	hints_clear(&o->hints);
	free(o);
}

/* prefix + lower-case s into key (FIELD_MAIL_MAX + 2 bytes). */
static const char *
used_key(char key[FIELD_MAIL_MAX + 2], char prefix, const char *s)
{
	size_t i = 0, k;

	if (prefix != '\0')
		key[i++] = prefix;
	for (k = 0; s[k] != '\0' && i + 1 < FIELD_MAIL_MAX + 2; k++)
		key[i++] = (char)tolower((unsigned char)s[k]);
	key[i] = '\0';
	return key;
}

/* Add prefix + lower-case s to used; -1 when the set is full. */
static int
used_add(struct strset *used, char prefix, const char *s)
{
	char key[FIELD_MAIL_MAX + 2];

	return strset_add(used, used_key(key, prefix, s)) < 0 ? -1 : 0;
}

static bool
used_has(const struct strset *used, char prefix, const char *s)
{
	char key[FIELD_MAIL_MAX + 2];

	return strset_has(used, used_key(key, prefix, s));
}

/* What an existing account holds, as the directory search of an online
 * create would find it: its login and the local parts of its addresses in
 * our domain (taken for logins), its addresses and employee id. */
static int
plan_remember(struct create *c, struct strset *used)
{
	char lp[ACCOUNT_MAIL_MAX];
	size_t i;

	if (used_add(used, '\0', c->res.login) < 0 || used_add(used, '#', c->employee_id) < 0 ||
	    used_add(used, '@', c->res.mail) < 0 ||
	    (local_part(c, c->res.mail, lp, sizeof(lp)) != NULL && used_add(used, '\0', lp) < 0))
		return -1;
	for (i = 0; i < c->naliases; i++)
		if (used_add(used, '@', c->aliases[i]) < 0 ||
		    (local_part(c, c->aliases[i], lp, sizeof(lp)) != NULL &&
		     used_add(used, '\0', lp) < 0))
			return -1;
	return 0;
}

struct account_plan *
account_plan_offline(struct provd *pd, const struct account_input *in,
                     struct account_offline *o)
{
	struct account_plan *p = xcalloc(1, sizeof(*p));
	struct strset *used = o->used;
	struct create *c;
	size_t i;
	int rc;

	c = &p->c;
	c->pd = pd;
	c->res.action = ACCOUNT_REJECTED;
	c->cand_from = 1;
	if ((c->res.status = validate(c, in)) != ST_OK)
		return p;
	c->res.status = ST_CONFLICT;
	if (used_has(used, '#', c->employee_id)) {
		snprintf(c->res.msg, sizeof(c->res.msg), "employee_id: %s already has an account",
		         c->employee_id);
		return p;
	}
	if (c->explicit_mail[0] && used_has(used, '@', c->explicit_mail)) {
		snprintf(c->res.msg, sizeof(c->res.msg), "mail: %s is already used",
		         c->explicit_mail);
		return p;
	}
	for (i = 0; i < c->naliases; i++)
		if (used_has(used, '@', c->aliases[i])) {
			snprintf(c->res.msg, sizeof(c->res.msg), "alias: %s is already used",
			         c->aliases[i]);
			return p;
		}
	/* Every account planned so far is what the directory would hold. */
	if (!c->explicit_login)
		c->cand_from = hints_get(&o->hints, c->base);
	c->taken = used;
	rc = choose_login(c, MAX_SUFFIX + 1);
	c->taken = NULL;
	if (rc == 1)
		snprintf(c->res.msg, sizeof(c->res.msg), "login: no free login for base '%s'",
		         c->base);
	if (rc != 0)
		return p;
	if (plan_remember(c, used) < 0 ||
	    (!c->explicit_login && hints_set(&o->hints, c->base, c->chosen + 1, 0) < 0)) {
		c->res.status = ST_INTERNAL;
		snprintf(c->res.msg, sizeof(c->res.msg), "too many accounts in one load");
		return p;
	}
	c->res.status = ST_OK;
	c->res.action = ACCOUNT_CREATED;
	snprintf(c->res.msg, sizeof(c->res.msg), "created %s", c->res.login);
	return p;
}

struct account_result *
account_plan_result(struct account_plan *p)
{
	return &p->c.res;
}

bool
account_plan_ok(const struct account_plan *p)
{
	return p->c.res.status == ST_OK;
}

const char *
account_plan_employee_id(const struct account_plan *p)
{
	return p->c.employee_id;
}

int
account_plan_hash(struct account_plan *p)
{
	struct create *c = &p->c;

	if (password_generate(c->res.password, sizeof(c->res.password)) < 0) {
		snprintf(c->hash_err, sizeof(c->hash_err), "cannot generate a password");
		return -1;
	}
	hash_work(c);
	return c->hash[0] != '\0' ? 0 : -1;
}

int
account_plan_entry(struct account_plan *p, time_t now, struct template_entry *entry,
                   char *err, size_t errlen)
{
	struct create *c = &p->c;

	if (c->hash[0] == '\0') {
		memset(entry, 0, sizeof(*entry));
		snprintf(err, errlen, "password hash failed: %s", c->hash_err);
		return -1;
	}
	return build_entry(c, now, entry, err, errlen);
}

void
account_plan_free(struct account_plan *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p->c.res.password, sizeof(p->c.res.password));
	explicit_bzero(p->c.hash, sizeof(p->c.hash));
	existing_clear(&p->c.old);
	units_unref(p->c.units);
	free(p);
}
