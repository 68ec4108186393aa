/* whois — one view of a person.  See whois.h. */
#include "whois.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "ldapesc.h"
#include "log.h"
#include "provd.h"
#include "request.h"
#include "text.h"
#include "wire.h"
#include "xmalloc.h"

#define WHOIS_MAX_MATCHES 8

/* The parts that follow the account record, in the order added
 * (whois_add_part); NULL-terminated. */
static whois_part_fn *parts[WHOIS_MAX_PARTS + 1];

int
whois_add_part(whois_part_fn *fn)
{
	size_t i;

	for (i = 0; i < WHOIS_MAX_PARTS; i++)
		if (parts[i] == NULL || parts[i] == fn) {
			parts[i] = fn;
			return 0;
		}
	return -1;
}

struct whois {
	struct request       *req;
	struct whois_subject  who[WHOIS_MAX_MATCHES];
	size_t                n;        /* accounts found (records sent) */
	size_t                more;     /* matches beyond WHOIS_MAX_MATCHES */
	size_t                subject;  /* parts walk: current subject */
	size_t                part;     /* ... and part */
};

static void
on_account(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct whois *w = arg;
	struct whois_subject *s;
	char path[1024];
	struct rec r;

	if (w->n >= WHOIS_MAX_MATCHES) {
		w->more++;
		return;
	}
	s = &w->who[w->n++];
	dir_entry_copy(ld, e, AT_UID, s->login, sizeof(s->login));
	dir_entry_copy(ld, e, AT_MAIL, s->mail, sizeof(s->mail));
	dir_entry_copy(ld, e, AT_EMPLOYEE_ID, s->employee_id, sizeof(s->employee_id));
	dir_entry_copy(ld, e, AT_UNIT, s->unit, sizeof(s->unit));
	rec_begin(&r, w->req);
	rec_kv(&r, "section", "account");
	account_record(&r, w->req->pd, ld, e, ACCOUNT_FIELDS_ALL);
	rec_kv(&r, "unit_path", s->unit[0] ?
	       units_path(w->req->pd->units, s->unit, path, sizeof(path)) : "");
	rec_end(&r);
}

static void
finish(struct whois *w)
{
	struct request *req = w->req;

	if (w->n == 1)
		request_done(req, ST_OK, "%s", w->who[0].login);
	else
		request_done(req, ST_OK, "%zu accounts match%s", w->n + w->more,
		             w->more ? " (the first ones shown)" : "");
	free(w);
}

/* Walk subjects x parts, one part at a time. */
static void
next_part(void *arg)
{
	struct whois *w = arg;

	while (w->subject < w->n) {
		whois_part_fn *fn = parts[w->part];

		if (fn == NULL) {
			w->subject++;
			w->part = 0;
			continue;
		}
		w->part++;
		fn(w->req, &w->who[w->subject], next_part, w);
		return;
	}
	finish(w);
}

static void
on_done(void *arg, const struct dir_result *res)
{
	struct whois *w = arg;
	struct request *req = w->req;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_SIZELIMIT_EXCEEDED) {
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
		free(w);
		return;
	}
	if (w->n == 0) {
		char clean[80];

		text_sanitize(req->args.operand[0], strnlen(req->args.operand[0], 64),
		              clean, sizeof(clean));
		request_done(req, ST_NOTFOUND, "no account with login, mail, employee id or "
		             "name '%s'", clean);
		free(w);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "login=%s", w->who[0].login);
	next_part(w);
}

void
whois_show(struct request *req)
{
	const char *key = req->args.operand[0];
	char filter[3400], person[2000], byname[1200];
	struct whois *w;

	if (key[0] == '\0' || schema_filter_person(key, true, person, sizeof(person)) < 0) {
		request_done(req, ST_INVALID, "whois: give a login, a mail address, an "
		             "employee id or a name (at most 254 bytes)");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->req = req;
	/* Or a name: every word given is a whole word of the name, with or
	 * without diacritics. */
	if (schema_filter_name_words(key, false, byname, sizeof(byname)) == 0)
		snprintf(filter, sizeof(filter), "(|%s(&(" AT_OBJECT_CLASS "=" OC_PERSON ")%s))", person,
		         byname);
	else
		snprintf(filter, sizeof(filter), "%s", person);
	dir_search(req->pd->dir, req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
	           schema_account_attrs, 0, NULL, on_account, on_done, w);
}
