/* check — conflicts left by replication. See check.h. */
#include "check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "audit.h"
#include "ca.h"
#include "crl.h"
#include "dir.h"
#include "lockmark.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "schema.h"
#include "xmalloc.h"
#include "serial.h"
#include "slicesort.h"

#define CHECK_MAX_KEYS 2000000
#define CHECK_LOG_MAX  50 /* findings logged one by one */

struct key {
	char *key; /* "address:x@y", "employee_id:VP1" */
	char *uid; /* in the same allocation as key */
};

struct check {
	struct provd *pd;
	struct request *req; /* NULL: background */
	bool fix;
	struct key *keys;
	size_t nkeys, capkeys;
	struct key *certs; /* serial hex -> "status uid", revoked/held/pending */
	size_t ncerts, capcerts;
	struct key *states; /* login -> "disabled" / "active", from the entries */
	size_t nstates, capstates;
	struct key *marks; /* login -> "<position> <state> <time> <uri>" (lockmark.h) */
	size_t nmarks, capmarks;
	char **crl; /* serials on the CRL, hex */
	size_t ncrl;
	bool have_crl;
	long found;
	long by_kind[4]; /* address, employee_id, lock_state, crl: for the audit note */
	bool crl_wrong;
	bool failed;
	char first[600];
	char err[400];
	char why[120]; /* background: what started it, for the audit record */
	size_t at;     /* a sorted list's walk, LOOP_SLICE_US at a time */
};

static bool running; /* one check at a time */

/* The lists' strings freed LOOP_SLICE_US at a time (some 130,000 of them
 * at 30,000 accounts), then the check; c->req is not used. */
static void
check_free(void *arg)
{
	struct check *c = arg;
	struct key *lists[] = {c->keys, c->certs, c->states, c->marks};
	size_t *counts[] = {&c->nkeys, &c->ncerts, &c->nstates, &c->nmarks};
	uint64_t until = loop_now_us() + LOOP_SLICE_US;
	unsigned k = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		while (*counts[i] > 0) {
			if (++k % 64 == 0 && loop_now_us() >= until) {
				loop_yield(c->pd->loop, check_free, c);
				return;
			}
			free(lists[i][--*counts[i]].key);
		}
	}
	while (c->ncrl > 0)
		free(c->crl[--c->ncrl]);
	free(c->keys);
	free(c->certs);
	free(c->states);
	free(c->marks);
	free(c->crl);
	free(c);
}

static void
push(struct key **v, size_t *n, size_t *cap, const char *prefix, const char *value, const char *uid)
{
	size_t len, klen;
	char *k;

	if (*n >= CHECK_MAX_KEYS)
		return;
	if (*n == *cap) {
		struct key *nv;

		*cap = *cap ? *cap * 2 : 1024;
		nv = xrealloc(*v, *cap * sizeof(**v));
		*v = nv;
	}
	/* key and uid in one allocation: a check of 30,000 accounts holds
	 * some 100,000 of them, all freed at its end */
	uid = uid ? uid : "?";
	klen = strlen(prefix) + strlen(value) + 1;
	len = klen + strlen(uid) + 1;
	k = xmalloc(len);
	snprintf(k, klen, "%s%s", prefix, value);
	memcpy(k + klen, uid, len - klen);
	(*v)[*n].key = k;
	(*v)[*n].uid = k + klen;
	(*n)++;
}

/* One finding: a record to the requester, a warning to the log. */
static void finding(struct check *c, const char *kind, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
finding(struct check *c, const char *kind, const char *key, const char *fmt, ...)
{
	char detail[500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (c->found == 0)
		snprintf(c->first, sizeof(c->first), "%s %s: %s", kind, key, detail);
	if (c->found < CHECK_LOG_MAX)
		log_warnx("check: %s %s: %s", kind, key, detail);
	c->found++;
	c->by_kind[strcmp(kind, "address") == 0               ? 0
	                   : strcmp(kind, "employee_id") == 0 ? 1
	                   : strcmp(kind, "lock_state") == 0  ? 2
	                                                      : 3]++;
	if (c->req != NULL) {
		struct rec r;

		rec_begin(&r, c->req);
		rec_kv(&r, "kind", kind);
		rec_kv(&r, "key", key);
		rec_kv(&r, "detail", detail);
		rec_end(&r);
	}
}

static int
key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	return d ? d : strcmp(x->uid, y->uid);
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- the end --------------------------------------------------------- */

static void
fixed_crl(void *ctx, int status, const char *msg)
{
	struct check *c = ctx;

	if (status == ST_OK)
		log_info("check --fix: %s", msg);
	else
		log_warnx("check --fix: CRL republish failed: %s", msg);
	if (c->req != NULL)
		request_done(c->req, status == ST_OK ? ST_OK : status,
		             "%ld conflicts found; fixed: %s", c->found, msg);
	check_free(c);
}

/* A check provd ran by itself is audited like `provctl check`: one
 * record with what started it and how it ended. */
/* "found=N address=A employee_id=E lock_state=L crl=C": the audit note of
 * a check, so the journal says what kinds of conflict it found. */
static void
audit_note(const struct check *c, char *note, size_t len)
{
	snprintf(note, len, "found=%ld address=%ld employee_id=%ld lock_state=%ld crl=%ld",
	         c->found, c->by_kind[0], c->by_kind[1], c->by_kind[2], c->by_kind[3]);
}

static void
audit_background(const struct check *c, int code, const char *msg)
{
	char note[160];

	if (c->req != NULL) {
		audit_note(c, c->req->audit_note, sizeof(c->req->audit_note));
		return;
	}
	audit_note(c, note, sizeof(note));
	audit_event(c->pd->audit, "check", c->why, note, code, msg);
}

static void
finish(struct check *c)
{
	char msg[800];

	running = false;
	if (c->failed) {
		log_warnx("check: %s", c->err);
		audit_background(c, ST_UNAVAILABLE, c->err);
		if (c->req != NULL)
			request_done(c->req, ST_UNAVAILABLE, "%s", c->err);
		check_free(c);
		return;
	}
	c->pd->last_check.done = true;
	c->pd->last_check.found = c->found;
	c->pd->last_check.when = time(NULL);
	snprintf(c->pd->last_check.first, sizeof(c->pd->last_check.first), "%s", c->first);
	if (c->found == 0)
		log_info("check: no conflicts");
	else
		log_warnx("check: %ld conflicts found%s", c->found,
		          c->fix ? "" : " (provctl check lists them; --fix republishes the CRL)");
	if (c->found == 0)
		snprintf(msg, sizeof(msg), "no conflicts");
	else
		snprintf(msg, sizeof(msg), "%ld conflicts found; first: %s", c->found, c->first);
	audit_background(c, c->found == 0 ? ST_OK : ST_CONFLICT, msg);
	if (c->fix && c->crl_wrong && ca_ready(c->pd)) {
		crl_rebuild(c->pd, fixed_crl, c);
		return;
	}
	if (c->req != NULL) {
		if (c->found == 0)
			request_done(c->req, ST_OK, "no conflicts");
		else
			request_done(c->req, ST_CONFLICT, "%ld conflicts found; first: %s%s",
			             c->found, c->first,
			             c->crl_wrong && !c->fix
			                     ? " (check --fix republishes a complete CRL)"
			                     : "");
	}
	check_free(c);
}

/* ---- step 3: the CRL against the records ------------------------------ */

static bool
on_crl_list(char **crl, size_t n, const char *serial)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(crl[mid], serial);

		if (d == 0)
			return true;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records against the sorted CRL, LOOP_SLICE_US at a time; then the
 * end. */
static void
compare_crl(void *arg)
{
	struct check *c = arg;
	uint64_t until = loop_now_us() + LOOP_SLICE_US;
	size_t i;

	for (i = c->at; i < c->ncerts; i++) {
		if (i > c->at && loop_now_us() >= until) {
			c->at = i;
			loop_yield(c->pd->loop, compare_crl, c);
			return;
		}
		/* uid holds "<status> <pending 0|1> <login>" */
		char status[16] = "", login[200] = "";
		int pending = 0;
		bool listed = on_crl_list(c->crl, c->ncrl, c->certs[i].key);
		enum cert_state st;

		if (sscanf(c->certs[i].uid, "%15s %d %199s", status, &pending, login) < 2 ||
		    pending || cert_state_parse(status, &st) < 0)
			continue;
		if (st != CERT_STATE_VALID && !listed) {
			finding(c, "crl", c->certs[i].key,
			        "certificate of %s is %s in its record but "
			        "not on the CRL",
			        login, cert_state_name(st));
			c->crl_wrong = true;
		} else if (st == CERT_STATE_VALID && listed) {
			finding(c, "crl", c->certs[i].key,
			        "certificate of %s is valid in its record "
			        "but on the CRL",
			        login);
			c->crl_wrong = true;
		}
	}
	finish(c);
}

static void
certs_sorted(void *arg)
{
	struct check *c = arg;

	c->at = 0;
	compare_crl(c);
}

/* Both lists sorted (in slices, slicesort.h), then compared. */
static void
crl_sorted(void *arg)
{
	struct check *c = arg;

	slicesort(c->pd->loop, c->certs, c->ncerts, sizeof(*c->certs), key_cmp, certs_sorted, c);
}

static void
on_cert(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct check *c = arg;
	char serial[64] = "", status[16] = "", uid[200] = "", val[240];
	char *pending = dir_entry_get(ld, e, AT_CERT_PENDING);

	dir_entry_copy(ld, e, AT_CERT_SERIAL, serial, sizeof(serial));
	dir_entry_copy(ld, e, AT_CERT_STATUS, status, sizeof(status));
	dir_entry_copy(ld, e, AT_UID, uid, sizeof(uid));
	lower(serial);
	snprintf(val, sizeof(val), "%s %d %s", status, pending != NULL, uid[0] ? uid : "?");
	free(pending);
	{
		const char *s = serial;

		while (*s == '0' && s[1] != '\0')
			s++;
		push(&c->certs, &c->ncerts, &c->capcerts, "", s, val);
	}
}

static void
on_certs_done(void *arg, const struct dir_result *res)
{
	struct check *c = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		c->failed = true;
		snprintf(c->err, sizeof(c->err), "certificate records: %s",
		         dir_result_str(res, why, sizeof(why)));
	} else if (c->have_crl) {
		slicesort(c->pd->loop, c->crl, c->ncrl, sizeof(*c->crl), str_cmp, crl_sorted, c);
		return;
	}
	finish(c);
}

static void
on_ca(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct check *c = arg;
	size_t len = 0;
	unsigned char *der = dir_entry_get_bin(ld, e, AT_CRL, &len);
	const unsigned char *p = der;
	X509_CRL *crl = der ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	STACK_OF(X509_REVOKED) * revs;
	int i, n;

	free(der);
	if (crl == NULL)
		return;
	c->have_crl = true;
	revs = X509_CRL_get_REVOKED(crl);
	n = revs ? sk_X509_REVOKED_num(revs) : 0;
	if (n > 0)
		c->crl = xcalloc((size_t)n, sizeof(*c->crl));
	for (i = 0; i < n; i++) {
		struct serial s;
		char hex[SERIAL_HEX_MAX + 1], err[64];
		const char *h = hex;

		if (serial_from_asn1(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)),
		                     &s, err, sizeof(err)) < 0)
			continue;
		serial_to_hex(&s, 0, hex);
		while (*h == '0' && h[1] != '\0')
			h++;
		c->crl[c->ncrl++] = xstrdup(h);
	}
	X509_CRL_free(crl);
}

static void
on_ca_done(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = {AT_CERT_SERIAL, AT_CERT_STATUS, AT_UID, AT_CERT_PENDING,
	                                    NULL};
	struct check *c = arg;

	(void)res; /* no CA entry: nothing to compare */
	dir_search(c->pd->dir, c->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")", attrs, 0, NULL, on_cert,
	           on_certs_done, c);
}

/* ---- step 2b: lock-state marks (lockmark.h) ----------------------------- */

static void
ca_entry_start(struct check *c)
{
	static const char *const attrs[] = {AT_CRL, NULL};

	dir_search(c->pd->dir, c->pd->cfg.ca_dn, LDAP_SCOPE_BASE, "(" AT_OBJECT_CLASS "=*)", attrs,
	           1, NULL, on_ca, on_ca_done, c);
}

static void
on_mark(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct check *c = arg;
	char cn[300] = "", desc[700] = "", val[800], *dash;
	unsigned long pos;

	dir_entry_copy(ld, e, AT_CN, cn, sizeof(cn));
	dir_entry_copy(ld, e, AT_DESCRIPTION, desc, sizeof(desc));
	if (strncmp(cn, LOCKMARK_PREFIX, strlen(LOCKMARK_PREFIX)) != 0)
		return;
	pos = strtoul(cn + strlen(LOCKMARK_PREFIX), &dash, 10);
	if (*dash != '-' || dash[1] == '\0' || desc[0] == '\0')
		return;
	snprintf(val, sizeof(val), "%lu %s", pos, desc);
	push(&c->marks, &c->nmarks, &c->capmarks, "", dash + 1, val);
}

static const char *
state_of(const struct check *c, const char *login)
{
	size_t lo = 0, hi = c->nstates;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(c->states[mid].key, login);

		if (d == 0)
			return c->states[mid].uid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One account's marks, c->marks[i..j): "<pos> <state> <time> <uri>". */
static void
judge_marks(struct check *c, size_t i, size_t j)
{
	const char *login = c->marks[i].key, *now = state_of(c, login);
	char seen[600] = "", newest_state[16] = "";
	long long newest = -1;
	unsigned long first_pos = 0;
	bool two = false;
	size_t k, used = 0;

	for (k = i; k < j; k++) {
		unsigned long pos;
		char state[16], uri[500] = "";
		long long t;

		if (sscanf(c->marks[k].uid, "%lu %15s %lld %499s", &pos, state, &t, uri) < 3)
			continue;
		if (k == i)
			first_pos = pos;
		else if (pos != first_pos)
			two = true;
		if (t > newest) {
			newest = t;
			snprintf(newest_state, sizeof(newest_state), "%s", state);
		}
		if (used < sizeof(seen))
			used += (size_t)snprintf(seen + used, sizeof(seen) - used,
			                         "%s%s at %lld "
			                         "through %s (position %lu)",
			                         k > i ? ", " : "", state, t, uri, pos);
	}
	if (now == NULL || newest < 0)
		return; /* purged, or nothing readable */
	if (two)
		finding(c, "lock_state", login,
		        "lock state changed through two providers "
		        "(a partition): %s; the entry is %s now",
		        seen, now);
	else if (strcmp(newest_state, now) != 0)
		finding(c, "lock_state", login,
		        "%s, but the entry is %s: a later change of the "
		        "entry made through another provider replaced it",
		        seen, now);
}

/* Each account's marks judged, LOOP_SLICE_US at a time; then the CA. */
static void
judge_all(void *arg)
{
	struct check *c = arg;
	uint64_t until = loop_now_us() + LOOP_SLICE_US;
	size_t i, j;

	for (i = c->at; i < c->nmarks; i = j) {
		if (i > c->at && loop_now_us() >= until) {
			c->at = i;
			loop_yield(c->pd->loop, judge_all, c);
			return;
		}
		for (j = i; j < c->nmarks && strcmp(c->marks[j].key, c->marks[i].key) == 0; j++)
			;
		judge_marks(c, i, j);
	}
	ca_entry_start(c);
}

static void
marks_sorted(void *arg)
{
	struct check *c = arg;

	c->at = 0;
	judge_all(c);
}

static void
states_sorted(void *arg)
{
	struct check *c = arg;

	slicesort(c->pd->loop, c->marks, c->nmarks, sizeof(*c->marks), key_cmp, marks_sorted, c);
}

static void
on_marks_done(void *arg, const struct dir_result *res)
{
	struct check *c = arg;

	/* No marks (one provider, or none written yet): nothing to judge. */
	if (res->code == LDAP_SUCCESS && c->nmarks > 0) {
		slicesort(c->pd->loop, c->states, c->nstates, sizeof(*c->states), key_cmp,
		          states_sorted, c);
		return;
	}
	ca_entry_start(c);
}

static void
marks_start(struct check *c)
{
	static const char *const attrs[] = {AT_CN, AT_DESCRIPTION, NULL};
	char base[1200];

	snprintf(base, sizeof(base), "cn=provd-writer,%s", c->pd->cfg.base);
	dir_search(c->pd->dir, base, LDAP_SCOPE_ONELEVEL, "(" AT_CN "=" LOCKMARK_PREFIX "*)", attrs,
	           0, NULL, on_mark, on_marks_done, c);
}

/* ---- step 1-2: addresses and employee ids ------------------------------ */

static void
on_person(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct check *c = arg;
	char uid[200] = "";
	char **mails = dir_entry_get_all(ld, e, AT_MAIL);
	char **aliases = dir_entry_get_all(ld, e, AT_MAIL_ALIAS);
	char **emps = dir_entry_get_all(ld, e, AT_EMPLOYEE_ID);
	size_t i;

	dir_entry_copy(ld, e, AT_UID, uid, sizeof(uid));
	{
		char locked[32] = "";

		dir_entry_copy(ld, e, AT_LOCKED_TIME, locked, sizeof(locked));
		if (uid[0] != '\0')
			push(&c->states, &c->nstates, &c->capstates, "", uid,
			     strcmp(locked, SCHEMA_LOCKED_FOREVER) == 0 ? "disabled" : "active");
	}
	for (i = 0; mails && mails[i]; i++) {
		lower(mails[i]);
		push(&c->keys, &c->nkeys, &c->capkeys, "address:", mails[i], uid);
	}
	for (i = 0; aliases && aliases[i]; i++) {
		lower(aliases[i]);
		push(&c->keys, &c->nkeys, &c->capkeys, "address:", aliases[i], uid);
	}
	for (i = 0; emps && emps[i]; i++)
		push(&c->keys, &c->nkeys, &c->capkeys, "employee_id:", emps[i], uid);
	dir_strv_free(mails);
	dir_strv_free(aliases);
	dir_strv_free(emps);
}

/* The sorted addresses and employee ids, a run of equal keys at a time,
 * LOOP_SLICE_US a turn; then the lock marks. */
static void
people_scan(void *arg)
{
	struct check *c = arg;
	uint64_t until = loop_now_us() + LOOP_SLICE_US;
	size_t i, j;

	for (i = c->at; i < c->nkeys; i = j) {
		if (i > c->at && loop_now_us() >= until) {
			c->at = i;
			loop_yield(c->pd->loop, people_scan, c);
			return;
		}
		char holders[400] = "";
		size_t n = 0, used = 0;

		for (j = i; j < c->nkeys && strcmp(c->keys[j].key, c->keys[i].key) == 0; j++) {
			/* one account may hold an address as mail and as alias */
			if (j > i && strcmp(c->keys[j].uid, c->keys[j - 1].uid) == 0)
				continue;
			n++;
			if (used < sizeof(holders))
				used += (size_t)snprintf(holders + used, sizeof(holders) - used,
				                         "%s%s", n > 1 ? ", " : "", c->keys[j].uid);
		}
		if (n > 1) {
			const char *colon = strchr(c->keys[i].key, ':');
			char kind[16];

			snprintf(kind, sizeof(kind), "%.*s", (int)(colon - c->keys[i].key),
			         c->keys[i].key);
			finding(c, kind, colon + 1, "held by %zu accounts: %s", n, holders);
		}
	}
	marks_start(c);
}

static void
people_sorted(void *arg)
{
	struct check *c = arg;

	c->at = 0;
	people_scan(c);
}

static void
on_people_done(void *arg, const struct dir_result *res)
{
	struct check *c = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		c->failed = true;
		snprintf(c->err, sizeof(c->err), "accounts: %s",
		         dir_result_str(res, why, sizeof(why)));
		finish(c);
		return;
	}
	/* 100,000 keys at 30,000 accounts: sorted in slices, not in one turn */
	slicesort(c->pd->loop, c->keys, c->nkeys, sizeof(*c->keys), key_cmp, people_sorted, c);
}

static void
check_start(struct provd *pd, struct request *req, bool fix, const char *why)
{
	static const char *const attrs[] = {AT_UID,         AT_MAIL,        AT_MAIL_ALIAS,
	                                    AT_EMPLOYEE_ID, AT_LOCKED_TIME, NULL};
	struct check *c = xcalloc(1, sizeof(*c));

	c->pd = pd;
	c->req = req;
	c->fix = fix;
	snprintf(c->why, sizeof(c->why), "%s", why);
	running = true;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", attrs, 0, NULL, on_person, on_people_done,
	           c);
}

void
check_run(struct request *req)
{
	bool fix = cmd_flag(&req->args, "fix");

	if (fix && !request_may(req, ROLE_OFFICER, NULL)) {
		request_done(req, ST_PERMISSION,
		             "check --fix republishes the CRL: officer role needed");
		return;
	}
	check_start(req->pd, req, fix, "");
}

void
check_background(struct provd *pd, const char *why)
{
	if (running || !dir_connected(pd->dir))
		return;
	log_info("check: looking for conflicts %s", why);
	check_start(pd, NULL, false, why);
}
