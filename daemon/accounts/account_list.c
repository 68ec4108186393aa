/* account_list — `user list`: every account matching the filters, streamed.
 *
 * One paged search (RFC 2696 simple paged results, LIST_PAGE entries a
 * page).  Records go to the client as entries arrive; the next page is
 * asked for only when the client's output queue is below the high-water
 * mark (request_congested / request_wait_drain), so provd holds at most about one
 * page of output whatever the number of accounts.  A client that goes away
 * stops the listing after the page in flight.
 *
 * Filters: --unit CODE (departmentNumber), with --recursive every unit at
 * or below CODE from the unit cache, OR-ed; --status active | disabled |
 * deleted; --name WORDS: every word given starts a word of the name, with or
 * without diacritics (provdNameWords, names_fold_words), or the name starts
 * with WORDS as given (entries written before provdNameWords existed).
 * With --name, two searches run one after the other: the names that hold
 * every word given as a whole word first, then the rest.
 *
 * slapd keeps paged-results state per connection: a second paged search on
 * the same connection invalidates the first one's cookie.  So each listing
 * opens its own directory connection (a dir of its own, same configuration)
 * and closes it at the end; at most LIST_MAX_CONCURRENT run at once.
 *
 * --fields LIST (provctl sends its -o columns, or a table's default ones):
 * each record carries those fields only, and slapd is asked for only the
 * attributes they are read from (account_fields_attrs): a table of logins
 * and names does not carry every account's fifteen attributes. */
#include <lber.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "dir.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "provd.h"
#include "request.h"
#include "slots.h"
#include "text.h"
#include "units.h"
#include "wire.h"
#include "xmalloc.h"

#define LIST_PAGE 1000
#define LIST_BUNDLE 256     /* records per send() */
#define LIST_MAX_CONCURRENT 16
#define LIST_MAX_PER_UID    4   /* one caller cannot hold every listing */

static struct slots running;   /* listings holding a connection */

struct list {
	struct request *req;
	struct dir     *dir;          /* this listing's own connection */
	char           *filter[2];    /* run in turn (--name: exact words first) */
	unsigned        fields;       /* of each record (account_record) */
	const char     *attrs[SA_N + 1];  /* what they are read from */
	size_t          nfilters, stage;
	struct berval   cookie;       /* from the last page; empty at the start */
	unsigned long   count;
	unsigned long   pages;
	bool            cancelled;    /* the client went away */
	bool            waiting;      /* for the client to drain, no search in flight */
};

static void
list_free(struct list *l)
{
	free(l->filter[0]);
	free(l->filter[1]);
	ber_memfree(l->cookie.bv_val);
	free(l);
}

static void send_page(struct list *l);

static void
on_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct list *l = arg;
	struct rec r;

	l->count++;
	if (l->cancelled)
		return;
	rec_begin(&r, l->req);
	account_record(&r, l->req->pd, ld, e, l->fields);
	/* Sent a bundle at a time (the first at once); the page's end sends
	 * the rest. */
	if (l->count % LIST_BUNDLE == 1)
		rec_end(&r);
	else
		rec_end_held(&r);
}

/* The cookie of a paged-results response control: 0 (cookie may be
 * empty: the last page), or -1 when the control is missing or malformed. */
static int
page_cookie(LDAPControl **ctrls, struct berval *cookie)
{
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	BerElement *ber;
	ber_int_t estimate;
	int rc = -1;

	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	if (c == NULL || (ber = ber_init(&c->ldctl_value)) == NULL)
		return -1;
	if (ber_scanf(ber, "{io}", &estimate, cookie) != LBER_ERROR)
		rc = 0;
	ber_free(ber, 1);
	return rc;
}

static void
dir_free_deferred(void *arg)
{
	dir_free(arg);
}

static void
finish(struct list *l, int code, const char *msg)
{
	struct request *req = l->req;

	/* finish may run inside one of this dir's callbacks: free it later. */
	if (l->dir != NULL) {
		loop_defer(req->pd->loop, dir_free_deferred, l->dir);
		l->dir = NULL;
		slots_put(&running, req->peer.uid);
	}
	request_drain_cancel(req);
	req->on_cancel = NULL;
	req->state = NULL;
	if (msg != NULL)
		request_done(req, code, "%s", msg);
	else
		request_done(req, ST_OK, "%lu account%s", l->count, l->count == 1 ? "" : "s");
	list_free(l);
}

static void
on_drained(struct request *req)
{
	struct list *l = req->state;

	l->waiting = false;
	send_page(l);
}

static void
on_cancel(struct request *req)
{
	struct list *l = req->state;

	l->cancelled = true;
	if (l->waiting)
		finish(l, ST_OK, "client went away");
}

static void
on_page(void *arg, const struct dir_result *res)
{
	struct list *l = arg;
	char why[300];
	struct berval cookie;

	request_flush(l->req);
	if (res->code != LDAP_SUCCESS) {
		char msg[400];

		snprintf(msg, sizeof(msg), "directory: %s (after %lu accounts)",
		         dir_result_str(res, why, sizeof(why)), l->count);
		finish(l, schema_status_of_ldap(res->code), msg);
		return;
	}
	if (page_cookie(res->ctrls, &cookie) < 0) {
		finish(l, ST_INTERNAL, "directory: no paged-results control in the answer");
		return;
	}
	ber_memfree(l->cookie.bv_val);
	l->cookie = cookie;
	l->pages++;
	if (l->cookie.bv_len == 0 && !l->cancelled && l->stage + 1 < l->nfilters) {
		/* The next search, from its first page. */
		l->stage++;
		ber_memfree(l->cookie.bv_val);
		l->cookie.bv_val = NULL;
	} else if (l->cookie.bv_len == 0 || l->cancelled) {
		finish(l, ST_OK, NULL);
		return;
	}
	if (request_congested(l->req)) {
		l->waiting = true;
		request_wait_drain(l->req, on_drained);
		return;
	}
	send_page(l);
}

static void
send_page(struct list *l)
{
	static char nothing[1];
	struct berval empty = { 0, nothing };
	struct berval *value = NULL;
	LDAPControl *ctrl = NULL, *ctrls[2];
	BerElement *ber;

	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL ||
	    ber_printf(ber, "{iO}", (ber_int_t)LIST_PAGE,
	               l->cookie.bv_len ? &l->cookie : &empty) == -1 ||
	    ber_flatten(ber, &value) == -1 ||
	    ldap_control_create(LDAP_CONTROL_PAGEDRESULTS, 1, value, 1, &ctrl) != LDAP_SUCCESS) {
		if (ber != NULL)
			ber_free(ber, 1);
		ber_bvfree(value);
		finish(l, ST_INTERNAL, "cannot encode the paged-results control");
		return;
	}
	ber_free(ber, 1);
	ber_bvfree(value);
	ctrls[0] = ctrl;
	ctrls[1] = NULL;
	dir_search(l->dir, l->req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           l->filter[l->stage], l->attrs, 0, ctrls, on_entry, on_page, l);
	ldap_control_free(ctrl);
}

/* Append text to a growing string. */
static void
append(char **s, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);

	if (*len + n + 1 > *cap) {
		size_t c = (*cap ? *cap * 2 : 256);
		char *p;

		while (c < *len + n + 1)
			c *= 2;
		p = xrealloc(*s, c);
		*s = p;
		*cap = c;
	}
	memcpy(*s + *len, text, n + 1);
	*len += n;
}

/* Build the search filter from the options, without its closing
 * parenthesis; with --name, *exact and *prefix get the name's two parts
 * (see the top).  On a usage error finish req and return NULL. */
static char *
build_filter(struct request *req, char **exact, char **prefix)
{
	const struct cmd_args *a = &req->args;
	const char *unit = cmd_arg(a, "unit"), *status = cmd_arg(a, "status");
	const char *name = cmd_arg(a, "name");
	const struct units *us = req->pd->units;
	char *f = NULL, part[1600], esc[3 * NAMES_CN_BUFSZ + 1];
	size_t len = 0, cap = 0, i, nunits = 0;

	if (cmd_flag(a, "recursive") && unit == NULL) {
		request_done(req, ST_USAGE, "--recursive needs --unit CODE");
		return NULL;
	}
	append(&f, &len, &cap, "(&(" AT_OBJECT_CLASS "=" OC_PERSON ")");
	if (unit != NULL) {
		if (!units_loaded(us)) {
			request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
			goto fail;
		}
		if (units_find(us, unit) == NULL) {
			char clean[80];

			text_sanitize(unit, strnlen(unit, 64), clean, sizeof(clean));
			request_done(req, ST_NOTFOUND, "unit: unknown unit '%s' (see provctl unit list)",
			             clean);
			goto fail;
		}
		append(&f, &len, &cap, "(|");
		for (i = 0; i < units_count(us); i++) {
			const struct unit *u = units_at(us, i);

			if (strcmp(u->code, unit) != 0 &&
			    (!cmd_flag(a, "recursive") || !units_within(us, u->code, unit)))
				continue;
			/* Unit codes are [a-z0-9-]: escaping is for form's sake. */
			if (ldapesc_filter(u->code, esc, sizeof(esc)) < 0)
				continue;
			snprintf(part, sizeof(part), "(" AT_UNIT "=%s)", esc);
			append(&f, &len, &cap, part);
			nunits++;
		}
		append(&f, &len, &cap, ")");
	}
	if (status != NULL) {
		enum account_state st;
		const char *s;

		if (account_state_parse(status, &st) < 0) {
			request_done(req, ST_USAGE, "status: want active, disabled or deleted");
			goto fail;
		}
		s = account_state_filter(st);
		append(&f, &len, &cap, s);
	}
	if (name != NULL) {
		char cn[NAMES_CN_BUFSZ], err[300], ex[1200], px[1200];
		size_t nlen, elen = 0, ecap = 0, plen = 0, pcap = 0;

		cmd_arg_len(a, "name", &nlen);
		if (names_normalize(name, nlen, cn, sizeof(cn), err, sizeof(err)) < 0) {
			request_done(req, ST_INVALID, "name: %s", err);
			goto fail;
		}
		if (schema_filter_name_words(cn, false, ex, sizeof(ex)) < 0 ||
		    schema_filter_name_words(cn, true, px, sizeof(px)) < 0) {
			request_done(req, ST_INVALID, "name: no letters or digits to search for");
			goto fail;
		}
		if (ldapesc_filter(cn, esc, sizeof(esc)) < 0) {
			request_done(req, ST_INVALID, "name: too long");
			goto fail;
		}
		append(exact, &elen, &ecap, ex);
		append(prefix, &plen, &pcap, "(|(" AT_CN "=");
		append(prefix, &plen, &pcap, esc);
		append(prefix, &plen, &pcap, "*)");
		append(prefix, &plen, &pcap, px);
		append(prefix, &plen, &pcap, ")");
	}
	(void)nunits;
	return f;
fail:
	free(f);
	free(*exact);
	free(*prefix);
	*exact = *prefix = NULL;
	return NULL;
}

/* The strings given, up to a NULL, then ")": one complete filter (malloc'd). */
static char *
filter_join(const char *first, ...)
{
	char *f = NULL;
	size_t len = 0, cap = 0;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *))
		append(&f, &len, &cap, s);
	va_end(ap);
	append(&f, &len, &cap, ")");
	return f;
}

void
account_list(struct request *req)
{
	struct list *l;
	char *filter, *exact = NULL, *prefix = NULL, err[400];
	const char *fields;
	unsigned set = ACCOUNT_FIELDS_ALL;
	size_t len;

	if ((fields = cmd_arg_len(&req->args, "fields", &len)) != NULL &&
	    account_fields_parse(fields, len, &set, err, sizeof(err)) < 0) {
		request_done(req, ST_USAGE, "%s", err);
		return;
	}
	if ((filter = build_filter(req, &exact, &prefix)) == NULL)
		return;
	l = xcalloc(1, sizeof(*l));
	l->req = req;
	l->fields = set;
	account_fields_attrs(set, l->attrs);
	if (exact == NULL) {
		l->filter[0] = filter_join(filter, (char *)NULL);
		l->nfilters = 1;
	} else {
		/* Whole words first, then the rest: (&BASE PREFIX (!EXACT)). */
		l->filter[0] = filter_join(filter, exact, (char *)NULL);
		l->filter[1] = filter_join(filter, prefix, "(!", exact, ")", (char *)NULL);
		l->nfilters = 2;
	}
	free(filter);
	free(exact);
	free(prefix);
	switch (slots_take(&running, req->peer.uid, LIST_MAX_CONCURRENT, LIST_MAX_PER_UID)) {
	case SLOTS_OK:
		break;
	case SLOTS_FULL:
		list_free(l);
		request_done(req, ST_UNAVAILABLE, "%u listings are running; try again shortly",
		             running.used);
		return;
	case SLOTS_UID_FULL:
		list_free(l);
		request_done(req, ST_UNAVAILABLE, "you already run %u listings; try again "
		             "when one has finished", LIST_MAX_PER_UID);
		return;
	}
	/* The connection is made (and bound) at once, as dir does it. */
	l->dir = dir_new(req->pd->loop, &req->pd->cfg);
	dir_start(l->dir);
	if (!dir_connected(l->dir)) {
		dir_free(l->dir);
		l->dir = NULL;
		slots_put(&running, req->peer.uid);
		list_free(l);
		request_done(req, ST_UNAVAILABLE, "directory unavailable: cannot open a "
		             "connection for the listing");
		return;
	}
	req->state = l;
	req->on_cancel = on_cancel;
	send_page(l);
}
