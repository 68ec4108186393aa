/* alias — `alias add` / `alias remove`: a person's extra mail addresses,
 * kept in mailLocalAddress (the canonical address stays in `mail`).
 *
 * An added address must pass the address policy (address.h: the mail
 * domain only, no reserved name, no unit address); it is claimed from
 * before the search for its holders until the write is done, so that two
 * requests in flight never both take it.  An address already used by
 * anyone, as `mail` or as an alias, is refused (4), naming who holds it.
 * Each change is one LDAP modify that adds or deletes that one value. */
#include "alias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account_admin.h"
#include "address.h"
#include "dir.h"
#include "fields.h"
#include "ldapesc.h"
#include "log.h"
#include "provd.h"
#include "request.h"
#include "wire.h"
#include "xmalloc.h"

struct alias {
	struct request *req;
	bool            add;
	char            addr[FIELD_MAIL_MAX + 1];
	char            login[NAMES_LOGIN_BUFSZ];
	char            dn[ACCOUNT_DN_MAX];
	char            holder[NAMES_LOGIN_BUFSZ];  /* another account using addr */
	bool            holder_mail;                /* ... as its canonical address */
	char            claim[ADDRESS_MAX + 1];     /* "@addr" while claimed, else "" */
};

static void
alias_free(void *arg)
{
	struct alias *al = arg;

	if (al->claim[0] != '\0')
		address_unclaim(al->claim);
	free(al);
}

static void
written(void *arg, const struct dir_result *res)
{
	struct alias *al = arg;
	struct request *req = al->req;
	char why[300];

	if (res->code == LDAP_SUCCESS) {
		reply_kv(req, "login", al->login, "alias", al->addr, NULL);
		request_done(req, ST_OK, "%s %s %s %s", al->add ? "added" : "removed", al->addr,
		             al->add ? "to" : "from", al->login);
	} else if (res->code == LDAP_TYPE_OR_VALUE_EXISTS) {
		request_done(req, ST_CONFLICT, "alias: %s is already an alias of %s",
		             al->addr, al->login);
	} else if (res->code == LDAP_NO_SUCH_ATTRIBUTE) {
		request_done(req, ST_NOTFOUND, "alias: %s is not an alias of %s",
		             al->addr, al->login);
	} else {
		request_done(req, schema_status_of_ldap(res->code), "alias: %s: %s",
		             al->login, dir_result_str(res, why, sizeof(why)));
	}
	alias_free(al);
}

static void
send_change(struct alias *al)
{
	struct dir_mods *m = dir_mods_new();

	dir_mods_add1(m, al->add ? LDAP_MOD_ADD : LDAP_MOD_DELETE, AT_MAIL_ALIAS, al->addr);
	dir_modify(al->req->pd->dir, al->dn, dir_mods_get(m), NULL, written, al);
	dir_mods_free(m);
}

static void
on_holder(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct alias *al = arg;
	char *uid = dir_entry_get(ld, e, AT_UID);
	char **mails = dir_entry_get_all(ld, e, AT_MAIL);

	if (uid != NULL && strcasecmp(uid, al->login) != 0 && al->holder[0] == '\0') {
		snprintf(al->holder, sizeof(al->holder), "%s", uid);
		al->holder_mail = dir_strv_has(mails, al->addr);
	}
	free(uid);
	dir_strv_free(mails);
}

static void
holders_done(void *arg, const struct dir_result *res)
{
	struct alias *al = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		request_done(al->req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		alias_free(al);
		return;
	}
	if (al->holder[0] != '\0') {
		request_done(al->req, ST_CONFLICT, "alias: %s is already used by '%s' (as %s)",
		             al->addr, al->holder, al->holder_mail ? "its mail" : "an alias");
		alias_free(al);
		return;
	}
	send_change(al);
}

static void
found(struct request *req, void *ctx, const struct acct_target *t)
{
	static const char *const attrs[] = { AT_UID, AT_MAIL, NULL };
	struct alias *al = ctx;
	char esc[3 * FIELD_MAIL_MAX + 1], filter[8 * FIELD_MAIL_MAX];

	snprintf(al->login, sizeof(al->login), "%s", t->login);
	snprintf(al->dn, sizeof(al->dn), "%s", t->dn);
	if (strcasecmp(t->mail, al->addr) == 0) {
		request_done(req, ST_CONFLICT, "alias: %s is the canonical address (mail) "
		             "of %s, not an alias", al->addr, t->login);
		alias_free(al);
		return;
	}
	if (!al->add) {
		if (!dir_strv_has(t->aliases, al->addr)) {
			request_done(req, ST_NOTFOUND, "alias: %s is not an alias of %s",
			             al->addr, t->login);
			alias_free(al);
			return;
		}
		send_change(al);
		return;
	}
	if (dir_strv_has(t->aliases, al->addr)) {
		request_done(req, ST_CONFLICT, "alias: %s is already an alias of %s",
		             al->addr, t->login);
		alias_free(al);
		return;
	}
	if (ldapesc_filter(al->addr, esc, sizeof(esc)) < 0) {
		request_done(req, ST_INVALID, "alias: address too long");
		alias_free(al);
		return;
	}
	snprintf(filter, sizeof(filter), "(|(" AT_MAIL "=%s)(" AT_MAIL_ALIAS "=%s))", esc, esc);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           attrs, 0, NULL, on_holder, holders_done, al);
}

static void
alias_change(struct request *req, bool add)
{
	struct alias *al = xcalloc(1, sizeof(*al));
	char err[300];

	al->req = req;
	al->add = add;
	if (!add) {
		/* Removing needs only the syntax: an address the policy refuses
		 * today may have been given before it did. */
		if (field_mail("alias", req->args.operand[1], al->addr, sizeof(al->addr),
		               err, sizeof(err)) < 0) {
			request_done(req, ST_INVALID, "%s", err);
			alias_free(al);
			return;
		}
	} else {
		char key[ADDRESS_MAX + 1], local[ADDRESS_MAX];

		if (address_check(&req->pd->cfg, req->pd->units, "alias", req->args.operand[1],
		                  al->addr, sizeof(al->addr), err, sizeof(err)) != 0) {
			request_done(req, ST_INVALID, "%s", err);
			alias_free(al);
			return;
		}
		/* A login being created makes login@domain its mail. */
		snprintf(local, sizeof(local), "%.*s", (int)strcspn(al->addr, "@"), al->addr);
		if (address_claimed(local) ||
		    !address_claim(address_key(key, sizeof(key), al->addr))) {
			request_done(req, ST_CONFLICT, "alias: %s is being given to another "
			             "account by a request in flight", al->addr);
			alias_free(al);
			return;
		}
		snprintf(al->claim, sizeof(al->claim), "%s", key);
	}
	acct_lookup(req, req->args.operand[0], found, alias_free, al);
}

void
alias_add(struct request *req)
{
	alias_change(req, true);
}

void
alias_remove(struct request *req)
{
	alias_change(req, false);
}
