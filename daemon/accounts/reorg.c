/* reorg — plan, apply and status of a reorganisation. See reorg.h. */
#include "reorg.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "audit.h"
#include "dir.h"
#include "ldapesc.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "reorg_file.h"
#include "request.h"
#include "schema.h"
#include "strset.h"
#include "units.h"
#include "vec.h"
#include "xmalloc.h"

#define REORG_WINDOW        64      /* accounts in flight */
#define REORG_STATUS_EVERY  500     /* accounts between status/journal records */
#define REORG_PROGRESS_MS   200
#define REORG_MAX_ACCOUNTS  2000000

enum phase { PH_UNITS, PH_ALIASES, PH_ACCOUNTS, PH_REMOVE, PH_DONE };
static const char *const phase_name[] = {
	[PH_UNITS] = "units", [PH_ALIASES] = "aliases", [PH_ACCOUNTS] = "accounts",
	[PH_REMOVE] = "remove", [PH_DONE] = "done",
};

struct racct {
	char   dn[ACCOUNT_DN_MAX];
	char   login[NAMES_LOGIN_BUFSZ];
	char   unit[UNIT_CODE_MAX];
	char   ou[FIELD_TITLE_MAX + 1];
	char   mail[ADDRESS_MAX];
	char **aliases;                  /* mailLocalAddress, or NULL */
	/* derived */
	const struct reorg_unit *to;     /* target unit, or NULL (unit unknown) */
	char   new_mail[ADDRESS_MAX];
	bool   add_alias;                /* the old mail becomes an alias */
	bool   change;                   /* the entry needs a write */
	bool   certs;                    /* a valid/held certificate names the old */
	bool   notify;                   /* ... one from a request: its holder is told */
};

/* Per unit of the plan: for a unit that stays, the accounts moving in
 * (and the addresses and certificates they bring); for one that goes, the
 * accounts moving out. */
struct ustat {
	size_t moved_in, addresses, certs, notify;
};

struct reorg_job {
	struct request *req;
	bool            apply;
	bool            p12_dir;         /* apply --p12-dir: re-issue the office's keys */
	char           *buf;
	size_t          len;
	bool            too_big;
	struct units   *units;           /* snapshot, referenced */
	struct reorg   *r;
	struct racct   *a;
	size_t          na, cap;
	struct ustat   *st;              /* parallel to r->u */
	struct strset  *held;            /* every address held now */
	size_t          changes, certs, notify, addresses, errors;
	/* apply */
	enum phase      phase;
	size_t          next, inflight, done, failed, holders, stragglers;
	size_t         *order;           /* units phase: indexes of r->u to write */
	size_t          norder;
	uint64_t        last_progress;
	size_t          last_status;
	char            err[300];
};

static void job_free(struct reorg_job *j);
static void apply_phase(struct reorg_job *j);

/* ---- the status file -------------------------------------------------------- */

static int
status_path(const struct provd *pd, char *out, size_t outsz)
{
	int k = snprintf(out, outsz, "%s/reorg.status", pd->cfg.state_dir);

	return k < 0 || (size_t)k >= outsz ? -1 : 0;
}

/* Rewrite the status file (a temporary file renamed over it). */
static void
status_write(struct reorg_job *j, const char *result)
{
	char path[1024], tmp[1100], body[1024];
	int fd, n;

	if (status_path(j->req->pd, path, sizeof(path)) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(body, sizeof(body),
	             "plan_id=%s\nphase=%s\naccounts_done=%zu\naccounts_total=%zu\n"
	             "failed=%zu\nresult=%s\nupdated=%lld\n",
	             j->r->plan_id, phase_name[j->phase], j->done, j->changes, j->failed,
	             result, (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(body))
		return;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		log_warn("reorg: %s", tmp);
		return;
	}
	if (write(fd, body, (size_t)n) != n || close(fd) != 0) {
		log_warn("reorg: %s", tmp);
		unlink(tmp);
		return;
	}
	if (rename(tmp, path) != 0)
		log_warn("reorg: %s", path);
}

/* One value of the status file ("" when absent or no file).  0 or -1. */
static int
status_read(const struct provd *pd, const char *key, char *out, size_t outsz)
{
	char path[1024], body[1024], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	out[0] = '\0';
	if (status_path(pd, path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, body, sizeof(body) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	body[n] = '\0';
	for (p = body; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(out, outsz, "%.*s", (int)strcspn(p + klen + 1, "\n"), p + klen + 1);
			return 0;
		}
	return 0;
}

/* ---- reading the directory ---------------------------------------------------- */

static void
acct_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct reorg_job *j = arg;
	struct racct *a;
	char *dn;

	if (j->na >= REORG_MAX_ACCOUNTS || (dn = dir_entry_dn(ld, e)) == NULL)
		return;
	j->a = vec_grow(j->a, &j->cap, j->na + 1, sizeof(*j->a));
	a = &j->a[j->na++];
	memset(a, 0, sizeof(*a));
	snprintf(a->dn, sizeof(a->dn), "%s", dn);
	free(dn);
	dir_entry_copy(ld, e, AT_UID, a->login, sizeof(a->login));
	dir_entry_copy(ld, e, AT_UNIT, a->unit, sizeof(a->unit));
	dir_entry_copy(ld, e, AT_OU, a->ou, sizeof(a->ou));
	dir_entry_copy(ld, e, AT_MAIL, a->mail, sizeof(a->mail));
	a->aliases = dir_entry_get_all(ld, e, AT_MAIL_ALIAS);
}

static int
cmp_login(const void *x, const void *y)
{
	return strcmp(((const struct racct *)x)->login, ((const struct racct *)y)->login);
}

static struct racct *
acct_by_login(struct reorg_job *j, const char *login)
{
	struct racct key;

	snprintf(key.login, sizeof(key.login), "%s", login);
	return bsearch(&key, j->a, j->na, sizeof(*j->a), cmp_login);
}

static bool
holds(const struct racct *a, const char *addr)
{
	size_t i;

	if (strcmp(a->mail, addr) == 0)
		return true;
	for (i = 0; a->aliases != NULL && a->aliases[i] != NULL; i++)
		if (strcmp(a->aliases[i], addr) == 0)
			return true;
	return false;
}

static size_t
unit_index(const struct reorg *r, const struct reorg_unit *u)
{
	return (size_t)(u - r->u);
}

static void
plan_error(struct reorg_job *j, const char *login, const char *msg)
{
	j->errors++;
	if (j->errors <= REORG_ERRORS_MAX)
		reply_kv(j->req, "login", login, "error", msg, NULL);
}

/* Targets of every account, the addresses they gain, checked against the
 * address policy and the addresses held today. */
static void
derive(struct reorg_job *j)
{
	const struct config *cfg = &j->req->pd->cfg;
	struct strset *planned = strset_new(REORG_MAX_ACCOUNTS);
	size_t i, k;

	if (planned == NULL)
		fatal("reorg: out of memory");
	for (i = 0; i < j->na; i++) {
		struct racct *a = &j->a[i];
		const char *to = reorg_staff_unit(j->r, a->unit), *at = strrchr(a->mail, '@');
		char err[700], norm[ADDRESS_MAX];

		if (to != NULL)
			a->to = reorg_unit(j->r, to);
		snprintf(a->new_mail, sizeof(a->new_mail), "%s", a->mail);
		if (j->r->old_domain[0] != '\0' && at != NULL &&
		    strcmp(at + 1, j->r->old_domain) == 0) {
			char nm[2 * ADDRESS_MAX];

			snprintf(nm, sizeof(nm), "%.*s@%s", (int)(at - a->mail), a->mail,
			         j->r->new_domain);
			if (strlen(nm) >= sizeof(a->new_mail)) {
				plan_error(j, a->login, "mail: the address in the new domain is too long");
				continue;
			}
			memcpy(a->new_mail, nm, strlen(nm) + 1);
			/* The one address policy, for the new mail and the kept one. */
			if (address_check(cfg, j->units, "mail", a->new_mail, norm, sizeof(norm),
			                  err, sizeof(err)) != 0 ||
			    address_check(cfg, j->units, "alias", a->mail, norm, sizeof(norm),
			                  err, sizeof(err)) != 0) {
				plan_error(j, a->login, err);
				continue;
			}
			if (strset_has(j->held, a->new_mail) && !holds(a, a->new_mail)) {
				snprintf(err, sizeof(err), "mail: %s is already an address of another "
				         "account", a->new_mail);
				plan_error(j, a->login, err);
				continue;
			}
			if (strset_add(planned, a->new_mail) != 1) {
				snprintf(err, sizeof(err), "mail: %s would be the mail of two accounts",
				         a->new_mail);
				plan_error(j, a->login, err);
				continue;
			}
		}
		/* The old mail becomes an alias, unless it is one already. */
		a->add_alias = strcmp(a->mail, a->new_mail) != 0;
		for (k = 0; a->add_alias && a->aliases != NULL && a->aliases[k] != NULL; k++)
			if (strcmp(a->aliases[k], a->mail) == 0)
				a->add_alias = false;
		a->change = strcmp(a->mail, a->new_mail) != 0 ||
		            (a->to != NULL && (strcmp(a->to->code, a->unit) != 0 ||
		                               strcmp(a->to->name, a->ou) != 0));
		if (a->change) {
			const struct reorg_unit *from = reorg_unit(j->r, a->unit);

			if (from != NULL && from->goes)
				j->st[unit_index(j->r, from)].moved_in++;   /* moved out, for it */
			j->changes++;
			if (a->to != NULL) {
				struct ustat *s = &j->st[unit_index(j->r, a->to)];

				if (strcmp(a->to->code, a->unit) != 0)
					s->moved_in++;
				if (strcmp(a->mail, a->new_mail) != 0) {
					s->addresses++;
					j->addresses++;
				}
			}
		}
	}
	strset_free(planned);
	/* A new unit's address must not be a person's. */
	for (i = 0; i < j->r->nu; i++) {
		const struct reorg_unit *u = &j->r->u[i];
		char addr[UNIT_CODE_MAX + REORG_DOMAIN_MAX + 2], err[800];

		if (!u->is_new || u->exists)
			continue;
		snprintf(addr, sizeof(addr), "%s@%s", u->code, cfg->mail_domain);
		if (strset_has(j->held, addr)) {
			char line[16];

			snprintf(line, sizeof(line), "%u", u->line);
			snprintf(err, sizeof(err), "unit %s: %s is an account's address; choose "
			         "another code", u->code, addr);
			reply_kv(j->req, "line", line, "error", err, NULL);
			j->errors++;
		}
	}
}

static void
cert_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct reorg_job *j = arg;
	char login[NAMES_LOGIN_BUFSZ], unit[UNIT_CODE_MAX], mail[ADDRESS_MAX], src[16];
	struct racct *a;

	dir_entry_copy(ld, e, AT_UID, login, sizeof(login));
	dir_entry_copy(ld, e, AT_UNIT, unit, sizeof(unit));
	dir_entry_copy(ld, e, AT_MAIL, mail, sizeof(mail));
	dir_entry_copy(ld, e, AT_CERT_KEY_SOURCE, src, sizeof(src));
	if ((a = acct_by_login(j, login)) == NULL || a->notify)
		return;
	/* The certificate names a unit or an address the account will not
	 * have (so does one an earlier apply revoked, owing its successor). */
	if ((a->to != NULL && strcmp(unit, a->to->code) != 0) ||
	    (mail[0] != '\0' && strcmp(mail, a->new_mail) != 0)) {
		if (!a->certs) {
			a->certs = true;
			j->certs++;
			if (a->to != NULL)
				j->st[unit_index(j->r, a->to)].certs++;
		}
		/* From a request: no re-issue in the run, its holder gets a
		 * notice (notice.h; the office's keys too without --p12-dir). */
		if (strcasecmp(src, CERT_KEY_SOURCE_OFFICE) != 0) {
			a->notify = true;
			j->notify++;
			if (a->to != NULL)
				j->st[unit_index(j->r, a->to)].notify++;
		}
	}
}

static void plan_report(struct reorg_job *j);

static void
certs_found(void *arg, const struct dir_result *res)
{
	struct reorg_job *j = arg;
	char why[256];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT) {
		request_done(j->req, schema_status_of_ldap(res->code), "certificate records: %s",
		             dir_result_str(res, why, sizeof(why)));
		job_free(j);
		return;
	}
	plan_report(j);
}

static void
accounts_found(void *arg, const struct dir_result *res)
{
	static const char *const attrs[] = { AT_UID, AT_UNIT, AT_MAIL, AT_CERT_KEY_SOURCE, NULL };
	struct reorg_job *j = arg;
	char why[256];
	size_t i, k;

	if (res->code != LDAP_SUCCESS) {
		request_done(j->req, schema_status_of_ldap(res->code), "accounts: %s",
		             dir_result_str(res, why, sizeof(why)));
		job_free(j);
		return;
	}
	if ((j->held = strset_new(4 * REORG_MAX_ACCOUNTS)) == NULL)
		fatal("reorg: out of memory");
	for (i = 0; i < j->na; i++) {
		strset_add(j->held, j->a[i].mail);
		for (k = 0; j->a[i].aliases != NULL && j->a[i].aliases[k] != NULL; k++)
			strset_add(j->held, j->a[i].aliases[k]);
	}
	qsort(j->a, j->na, sizeof(*j->a), cmp_login);
	derive(j);
	/* Valid and held certificates, and those an earlier apply revoked and
	 * died before issuing their successor (cert_lifecycle_move_reissue). */
	dir_search(j->req->pd->dir, j->req->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(" AT_CERT_SERIAL "=*)(|(" AT_CERT_STATUS "=valid)(" AT_CERT_STATUS "=hold)"
	           CERT_OWED_CLAUSE "))",
	           attrs, 0, NULL, cert_entry, certs_found, j);
}

/* ---- plan ------------------------------------------------------------------------ */

static const char *
unit_action(const struct reorg_unit *u)
{
	if (u->goes)
		return u->done ? "gone (earlier run)" : u->abolished ? "abolish" : "merge";
	if (u->is_new && !u->exists)
		return "add";
	if (u->changed)
		return "change";
	return "keep";
}

/* Codes kept as aliases by unit t: the units that go into it. */
static void
kept_codes(const struct reorg *r, const struct reorg_unit *t, char *out, size_t outsz)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < r->nu; i++) {
		const struct reorg_unit *u = &r->u[i];
		int k;

		if (!u->goes || strcmp(u->staff_to, t->code) != 0)
			continue;
		k = snprintf(out + off, outsz - off, "%s%s", off ? "," : "", u->code);
		if (k < 0 || (size_t)k >= outsz - off) {
			if (outsz > 4)
				snprintf(out + outsz - 4, 4, "...");
			return;
		}
		off += (size_t)k;
	}
}

static void
plan_records(struct reorg_job *j)
{
	size_t i;

	for (i = 0; i < j->r->nu; i++) {
		const struct reorg_unit *u = &j->r->u[i];
		const struct ustat *s = &j->st[i];
		char kept[2048], n1[24], n2[24], n3[24], n4[24];

		kept_codes(j->r, u, kept, sizeof(kept));
		if (strcmp(unit_action(u), "keep") == 0 && s->moved_in == 0 && s->addresses == 0 &&
		    s->certs == 0 && kept[0] == '\0')
			continue;
		snprintf(n4, sizeof(n4), "%zu", s->notify);
		snprintf(n1, sizeof(n1), "%zu", s->moved_in);
		snprintf(n2, sizeof(n2), "%zu", s->addresses);
		snprintf(n3, sizeof(n3), "%zu", s->certs);
		/* The same fields in every record: one table. */
		reply_kv(j->req, "unit", u->code, "action", unit_action(u),
		         "into", u->goes ? u->staff_to : "",
		         "name", u->goes ? "" : u->name, "kind", u->goes ? "" : u->kind,
		         "parent", u->goes ? "" : u->parent,
		         "accounts_moved", n1, "addresses_added", n2,
		         "addresses_kept", kept, "certificates_reissue", n3,
		         "certificates_notify", n4, NULL);
	}
}

static void
plan_report(struct reorg_job *j)
{
	struct request *req = j->req;
	size_t i, adds = 0, goes = 0, changed = 0;

	if (j->errors > 0) {
		request_done(req, ST_INVALID, "%zu account%s cannot take the addresses of the "
		             "plan (listed); nothing changed", j->errors, j->errors == 1 ? "" : "s");
		job_free(j);
		return;
	}
	for (i = 0; i < j->r->nu; i++) {
		adds += j->r->u[i].is_new && !j->r->u[i].exists;
		goes += j->r->u[i].goes && !j->r->u[i].done;
		changed += j->r->u[i].changed;
	}
	if (!j->apply) {
		char n1[24], n2[24], n3[24], n4[24];
		size_t moved = 0;

		for (i = 0; i < j->r->nu; i++)
			if (!j->r->u[i].goes)
				moved += j->st[i].moved_in;
		snprintf(n1, sizeof(n1), "%zu", moved);
		snprintf(n2, sizeof(n2), "%zu", j->addresses);
		snprintf(n3, sizeof(n3), "%zu", j->certs);
		snprintf(n4, sizeof(n4), "%zu", j->notify);
		plan_records(j);
		reply_kv(req, "unit", "TOTAL", "action", "total", "into", "", "name", "", "kind", "",
		         "parent", "", "accounts_moved", n1, "addresses_added", n2,
		         "addresses_kept", "", "certificates_reissue", n3,
		         "certificates_notify", n4, "plan_id", j->r->plan_id, NULL);
		request_done(req, ST_OK, "plan %s: %zu units added, %zu go (merged or abolished), "
		             "%zu changed; %zu of %zu accounts change, %zu addresses added, %zu "
		             "accounts hold certificates to re-issue, %zu of them from a request, "
		             "whose holders %s (without --p12-dir: every holder)", j->r->plan_id,
		             adds, goes, changed, j->changes, j->na, j->addresses, j->certs,
		             j->notify, req->pd->cfg.sendmail[0] != '\0' ?
		             "get a notice by mail" : "are listed (notice.sendmail is off)");
		job_free(j);
		return;
	}
	j->phase = PH_UNITS;
	status_write(j, "running");
	apply_phase(j);
}

/* ---- apply --------------------------------------------------------------------- */

static void
progress(struct reorg_job *j, bool force)
{
	uint64_t now = loop_now_ms();
	struct rec rc;

	if (j->done - j->last_status >= REORG_STATUS_EVERY || force) {
		char note[256];

		j->last_status = j->done;
		status_write(j, "running");
		snprintf(note, sizeof(note), "plan=%s phase=%s accounts=%zu/%zu failed=%zu",
		         j->r->plan_id, phase_name[j->phase], j->done, j->changes, j->failed);
		audit_progress(j->req->pd->audit, j->req, note,
		               "in progress: the accounts counted in the note are done");
	}
	if (!force && now - j->last_progress < REORG_PROGRESS_MS)
		return;
	j->last_progress = now;
	rec_begin_type(&rc, j->req, WIRE_PROGRESS);
	rec_kvf(&rc, "done", "%zu", j->done);
	rec_kvf(&rc, "total", "%zu", j->changes);
	rec_end(&rc);
}

static void
apply_fail(struct reorg_job *j, const struct dir_result *res, const char *what)
{
	char why[256];

	j->failed++;
	if (j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "%s: %s", what,
		         dir_result_str(res, why, sizeof(why)));
}

static void
apply_finish(struct reorg_job *j)
{
	struct request *req = j->req;

	if (j->failed > 0) {
		status_write(j, "failed");
		request_done(req, ST_PARTIAL, "plan %s: stopped in the %s step, %zu failed (%s); "
		             "apply the same file again to finish", j->r->plan_id,
		             phase_name[j->phase], j->failed, j->err);
	} else {
		j->phase = PH_DONE;
		status_write(j, "finished");
		request_done(req, ST_OK, "plan %s applied: %zu of %zu accounts changed, %zu "
		             "addresses added, %zu holders of certificates listed (revoked: "
		             "affiliationChanged; %s)", j->r->plan_id,
		             j->done, j->na, j->addresses, j->holders, j->p12_dir ?
		             "the office's keys re-issued into --p12-dir, the others from a new "
		             "request" : "re-issue from a new request");
	}
	job_free(j);
}

/* 1. units ------------------------------------------------------------------------ */

static size_t
depth_of(const struct reorg *r, const struct reorg_unit *u)
{
	size_t d = 0;

	while (u != NULL && u->parent[0] != '\0' && d <= r->nu) {
		u = reorg_unit(r, u->parent);
		d++;
	}
	return d;
}

static const struct reorg *sort_r;

static int
cmp_depth(const void *x, const void *y)
{
	size_t a = depth_of(sort_r, &sort_r->u[*(const size_t *)x]);
	size_t b = depth_of(sort_r, &sort_r->u[*(const size_t *)y]);

	return a < b ? -1 : a > b;
}

static void
unit_written(void *arg, const struct dir_result *res)
{
	struct reorg_job *j = arg;

	if (res->code != LDAP_SUCCESS && res->code != LDAP_ALREADY_EXISTS)
		apply_fail(j, res, j->r->u[j->order[j->next - 1]].code);
	apply_phase(j);
}

static bool
units_step(struct reorg_job *j)
{
	static const char *const classes[] = { OC_ORG_UNIT, OC_UNIT, NULL };
	const struct reorg_unit *u;
	struct dir_mods *m;
	char dn[512];

	if (j->order == NULL) {
		size_t i;

		j->order = xcalloc(j->r->nu + 1, sizeof(*j->order));
		for (i = 0; i < j->r->nu; i++)
			if ((j->r->u[i].is_new && !j->r->u[i].exists) ||
			    (j->r->u[i].changed && !j->r->u[i].goes))
				j->order[j->norder++] = i;
		sort_r = j->r;
		qsort(j->order, j->norder, sizeof(*j->order), cmp_depth);
		j->next = 0;
	}
	if (j->next >= j->norder)
		return false;
	u = &j->r->u[j->order[j->next++]];
	if (ldapesc_rdn_dn(AT_OU, u->code, j->req->pd->cfg.units_dn, dn, sizeof(dn)) < 0)
		fatal("reorg: unit DN");
	m = dir_mods_new();
	if (!u->exists) {
		dir_mods_add(m, LDAP_MOD_ADD, AT_OBJECT_CLASS, classes);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_OU, u->code);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_DESCRIPTION, u->name);
		dir_mods_add1(m, LDAP_MOD_ADD, AT_UNIT_KIND, u->kind);
		if (u->parent[0] != '\0')
			dir_mods_add1(m, LDAP_MOD_ADD, AT_UNIT_PARENT, u->parent);
		dir_add(j->req->pd->dir, dn, dir_mods_get(m), NULL, unit_written, j);
	} else {
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_DESCRIPTION, u->name);
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_UNIT_KIND, u->kind);
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_UNIT_PARENT,
		             u->parent[0] ? (const char *const[]){ u->parent, NULL } : NULL);
		dir_modify(j->req->pd->dir, dn, dir_mods_get(m), NULL, unit_written, j);
	}
	dir_mods_free(m);
	return true;
}

/* 2. aliases -------------------------------------------------------------------- */

static void
alias_written(void *arg, const struct dir_result *res)
{
	struct reorg_job *j = arg;

	if (res->code != LDAP_SUCCESS)
		apply_fail(j, res, "unit aliases");
	apply_phase(j);
}

static bool
aliases_step(struct reorg_job *j)
{
	while (j->next < j->r->nu) {
		const struct reorg_unit *t = &j->r->u[j->next++];
		const struct unit *now = units_find(j->units, t->code);
		const char **v;
		size_t n = 0, cap = 1, i, k;
		struct dir_mods *m;
		char dn[512];
		bool gains = false;

		if (t->goes)
			continue;
		for (i = 0; i < j->r->nu; i++)
			if (j->r->u[i].goes && strcmp(j->r->u[i].staff_to, t->code) == 0) {
				const struct unit *s = units_find(j->units, j->r->u[i].code);

				cap++;
				for (k = 0; s != NULL && s->aliases != NULL && s->aliases[k]; k++)
					cap++;
				if (now == NULL || !units_has_alias(now, j->r->u[i].code))
					gains = true;
			}
		if (!gains)
			continue;
		for (k = 0; now != NULL && now->aliases != NULL && now->aliases[k]; k++)
			cap++;
		v = xcalloc(cap + 1, sizeof(*v));
		for (k = 0; now != NULL && now->aliases != NULL && now->aliases[k]; k++)
			v[n++] = now->aliases[k];
		for (i = 0; i < j->r->nu; i++) {
			const struct reorg_unit *g = &j->r->u[i];
			const struct unit *s;

			if (!g->goes || strcmp(g->staff_to, t->code) != 0)
				continue;
			if (now == NULL || !units_has_alias(now, g->code))
				v[n++] = g->code;
			s = units_find(j->units, g->code);
			for (k = 0; s != NULL && s->aliases != NULL && s->aliases[k]; k++)
				if (now == NULL || !units_has_alias(now, s->aliases[k]))
					v[n++] = s->aliases[k];
		}
		v[n] = NULL;
		if (ldapesc_rdn_dn(AT_OU, t->code, j->req->pd->cfg.units_dn, dn, sizeof(dn)) < 0)
			fatal("reorg: unit DN");
		m = dir_mods_new();
		dir_mods_add(m, LDAP_MOD_REPLACE, AT_UNIT_ALIAS, v);
		free(v);
		dir_modify(j->req->pd->dir, dn, dir_mods_get(m), NULL, alias_written, j);
		dir_mods_free(m);
		return true;
	}
	return false;
}

/* 3. accounts --------------------------------------------------------------------- */

struct acct_op {
	struct reorg_job *j;
	struct racct     *a;
	char              claim[ADDRESS_MAX + 2];
};

static void accounts_pump(struct reorg_job *j);

static void
op_end(struct acct_op *op)
{
	struct reorg_job *j = op->j;

	if (op->claim[0] != '\0')
		address_unclaim(op->claim);
	free(op);
	j->inflight--;
	j->done++;
	progress(j, false);
	accounts_pump(j);
}

static void
op_certs(void *arg, int status, const char *summary)
{
	struct acct_op *op = arg;
	struct reorg_job *j = op->j;

	if (status != ST_OK) {
		j->failed++;
		if (j->err[0] == '\0')
			snprintf(j->err, sizeof(j->err), "certificates of %s: %s", op->a->login,
			         summary);
	} else if (strncmp(summary, "no certificate", 14) != 0) {
		j->holders++;
		reply_kv(j->req, "login", op->a->login, "unit", op->a->to ? op->a->to->code : NULL,
		         "mail", op->a->new_mail, "certificates", summary, NULL);
	}
	op_end(op);
}

/* The account<->certificate rule for the move; with --p12-dir the
 * office's keys are re-issued in the same run (lifecycle_move_reissue). */
static void
move_certs(struct acct_op *op)
{
	struct reorg_job *j = op->j;

	if (j->p12_dir)
		lifecycle_move_reissue(j->req, op->a->login, op_certs, op);
	else
		lifecycle_certs(j->req->pd, op->a->login, LIFECYCLE_MOVE, op_certs, op);
}

static void
op_written(void *arg, const struct dir_result *res)
{
	struct acct_op *op = arg;

	if (res->code != LDAP_SUCCESS) {
		apply_fail(op->j, res, op->a->login);
		op_end(op);
		return;
	}
	if (op->a->certs && names_login_valid(op->a->login))
		move_certs(op);
	else
		op_end(op);
}

static void
accounts_pump(struct reorg_job *j)
{
	while (j->inflight < REORG_WINDOW && j->next < j->na) {
		struct racct *a = &j->a[j->next++];
		struct acct_op *op;
		struct dir_mods *m;
		bool mail = strcmp(a->mail, a->new_mail) != 0;

		if (!a->change && !a->certs)
			continue;
		op = xcalloc(1, sizeof(*op));
		op->j = j;
		op->a = a;
		j->inflight++;
		if (!a->change) {
			/* An earlier run wrote the entry; the certificates are left. */
			if (!names_login_valid(a->login)) {
				op_end(op);
				continue;
			}
			move_certs(op);
			continue;
		}
		if (mail && !address_claim(address_key(op->claim, sizeof(op->claim), a->new_mail))) {
			op->claim[0] = '\0';
			j->failed++;
			if (j->err[0] == '\0')
				snprintf(j->err, sizeof(j->err), "%s: %.200s is being given by a request "
				         "in flight", a->login, a->new_mail);
			op_end(op);
			continue;
		}
		m = dir_mods_new();
		if (a->to != NULL) {
			dir_mods_add1(m, LDAP_MOD_REPLACE, AT_UNIT, a->to->code);
			dir_mods_add1(m, LDAP_MOD_REPLACE, AT_OU, a->to->name);
		}
		if (mail)
			dir_mods_add1(m, LDAP_MOD_REPLACE, AT_MAIL, a->new_mail);
		if (a->add_alias)
			dir_mods_add1(m, LDAP_MOD_ADD, AT_MAIL_ALIAS, a->mail);
		dir_modify(j->req->pd->dir, a->dn, dir_mods_get(m), NULL, op_written, op);
		dir_mods_free(m);
	}
	if (j->inflight == 0 && j->next >= j->na) {
		progress(j, true);
		apply_phase(j);
	}
}

/* 4. the units that go ------------------------------------------------------------ */

static void
unit_deleted(void *arg, const struct dir_result *res)
{
	struct reorg_job *j = arg;

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		apply_fail(j, res, "removing a unit");
	apply_phase(j);
}

/* An account that arrived in a unit that goes while the apply ran (a user
 * add, a batch row) keeps the unit: the next run moves it. */
static void
straggler(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct reorg_job *j = arg;

	(void)ld;
	(void)e;
	j->stragglers++;
}

static void
stragglers_counted(void *arg, const struct dir_result *res)
{
	struct reorg_job *j = arg;
	const struct reorg_unit *u = &j->r->u[j->next - 1];
	char dn[512];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_SIZELIMIT_EXCEEDED) {
		apply_fail(j, res, u->code);
		apply_phase(j);
		return;
	}
	if (j->stragglers > 0) {
		j->failed++;
		if (j->err[0] == '\0')
			snprintf(j->err, sizeof(j->err), "unit %s got accounts during the apply; "
			         "it stays until they move", u->code);
		apply_phase(j);
		return;
	}
	if (ldapesc_rdn_dn(AT_OU, u->code, j->req->pd->cfg.units_dn, dn, sizeof(dn)) < 0)
		fatal("reorg: unit DN");
	dir_delete(j->req->pd->dir, dn, NULL, unit_deleted, j);
}

static bool
remove_step(struct reorg_job *j)
{
	static const char *const noattrs[] = { LDAP_NO_ATTRS, NULL };

	while (j->next < j->r->nu) {
		const struct reorg_unit *u = &j->r->u[j->next++];
		char esc[3 * UNIT_CODE_MAX + 1], filter[sizeof(esc) + 32];

		if (!u->goes || u->done || !u->exists)
			continue;
		if (ldapesc_filter(u->code, esc, sizeof(esc)) < 0)
			fatal("reorg: unit filter");
		snprintf(filter, sizeof(filter), "(" AT_UNIT "=%s)", esc);
		j->stragglers = 0;
		dir_search(j->req->pd->dir, j->req->pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, filter,
		           noattrs, 1, NULL, straggler, stragglers_counted, j);
		return true;
	}
	return false;
}

static void
reloaded(void *arg, bool ok)
{
	struct reorg_job *j = arg;

	if (!ok)
		log_warnx("reorg: applied, but the unit cache could not be reloaded");
	apply_finish(j);
}

/* Run the current phase's next step; move on when it has none. */
static void
apply_phase(struct reorg_job *j)
{
	for (;;) {
		bool busy = false;

		switch (j->phase) {
		case PH_UNITS:   busy = units_step(j); break;
		case PH_ALIASES: busy = aliases_step(j); break;
		case PH_ACCOUNTS:
			if (j->next < j->na || j->inflight > 0) {
				accounts_pump(j);
				return;
			}
			break;
		case PH_REMOVE:  busy = remove_step(j); break;
		case PH_DONE:
			units_reload(j->req->pd, reloaded, j);
			return;
		}
		if (busy)
			return;
		/* The phase has nothing left: on to the next, unless it failed. */
		if (j->failed > 0) {
			apply_finish(j);
			return;
		}
		j->phase++;
		j->next = 0;
		if (j->phase == PH_ACCOUNTS && j->na == 0)
			continue;
		progress(j, true);
		if (j->phase == PH_ACCOUNTS) {
			accounts_pump(j);
			return;
		}
	}
}

/* ---- the commands ----------------------------------------------------------------- */

static void
job_free(struct reorg_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->na; i++)
		dir_strv_free(j->a[i].aliases);
	free(j->a);
	free(j->st);
	free(j->order);
	strset_free(j->held);
	reorg_free(j->r);
	units_unref(j->units);
	free(j->buf);
	free(j);
}

static void
on_data(struct request *req, const char *p, size_t n)
{
	struct reorg_job *j = req->state;

	if (j->too_big || j->len + n > REORG_FILE_MAX) {
		j->too_big = true;
		return;
	}
	j->buf = xrealloc(j->buf, j->len + n + 1);
	memcpy(j->buf + j->len, p, n);
	j->len += n;
}

static const char *
line_of(unsigned line, char *buf)
{
	snprintf(buf, 16, "%u", line);
	return buf;
}

static void
on_end(struct request *req)
{
	static const char *const attrs[] = { AT_UID, AT_UNIT, AT_OU, AT_MAIL, AT_MAIL_ALIAS, NULL };
	struct reorg_job *j = req->state;
	const struct config *cfg = &req->pd->cfg;
	char ln[16];
	size_t i;

	req->state = NULL;
	if (j->too_big) {
		request_done(req, ST_INVALID, "the file is over %u bytes", REORG_FILE_MAX);
		job_free(j);
		return;
	}
	if (!units_loaded(req->pd->units)) {
		request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
		job_free(j);
		return;
	}
	j->units = units_ref(req->pd->units);
	if ((j->r = reorg_read(j->buf ? j->buf : "", j->len, j->units)) == NULL)
		fatal("reorg: out of memory");
	/* The configuration must already say what the file asks for: the
	 * address policy and the certificate profiles read it. */
	if (j->r->new_domain[0] != '\0') {
		const struct old_domain *od = address_old_domain(cfg, j->r->old_domain);
		const char *until = strcmp(j->r->keep_until, "forever") == 0 ? "" : j->r->keep_until;

		if (strcmp(cfg->mail_domain, j->r->new_domain) != 0 || od == NULL ||
		    od->kind != OLD_DOMAIN_PREVIOUS || strcmp(od->until_day, until) != 0) {
			char msg[1600], entry[700];

			if (until[0] != '\0')
				snprintf(entry, sizeof(entry), "mail.old_domains = ( { domain = \"%s\"; "
				         "until = \"%s\"; } )", j->r->old_domain, until);
			else
				snprintf(entry, sizeof(entry), "mail.old_domains = ( { domain = \"%s\"; "
				         "} ) (or mail.previous_domains = [ \"%s\" ])", j->r->old_domain,
				         j->r->old_domain);
			snprintf(msg, sizeof(msg), "domain: set mail.domain = \"%s\" and %s in "
			         "provd.conf (and both domains in the Postfix maps) and reload provd "
			         "first; it has mail.domain \"%s\"%s%s", j->r->new_domain, entry,
			         cfg->mail_domain, od != NULL ? " and the old domain until " : "",
			         od == NULL ? "" : od->until_day[0] ? od->until_day : "forever");
			reply_kv(req, "line", line_of(j->r->domain_line, ln), "error", msg, NULL);
			j->r->nerrors++;
		}
	}
	if (j->r->organization[0] != '\0' && strcmp(cfg->organization, j->r->organization) != 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "organization: set pki.organization = \"%s\" in "
		         "provd.conf and reload first (certificates issued from then on carry "
		         "it); it is \"%s\"", j->r->organization, cfg->organization);
		reply_kv(req, "line", line_of(j->r->organization_line, ln), "error", msg, NULL);
		j->r->nerrors++;
	}
	for (i = 0; i < j->r->nerrors && i < REORG_ERRORS_MAX; i++) {
		char line[16];

		snprintf(line, sizeof(line), "%u", j->r->errors[i].line);
		if (j->r->errors[i].msg[0] != '\0')
			reply_kv(req, "line", line, "error", j->r->errors[i].msg, NULL);
	}
	if (j->r->nerrors > 0) {
		request_done(req, ST_INVALID, "%zu error%s in the file; nothing changed",
		             j->r->nerrors, j->r->nerrors == 1 ? "" : "s");
		job_free(j);
		return;
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "plan=%s", j->r->plan_id);
	if (j->apply) {
		char other[160] = "", result[32] = "";

		status_read(req->pd, "plan_id", other, sizeof(other));
		status_read(req->pd, "result", result, sizeof(result));
		if (other[0] != '\0' && strcmp(other, j->r->plan_id) != 0 &&
		    strcmp(result, "finished") != 0) {
			request_done(req, ST_CONFLICT, "the apply of plan %s is unfinished (%s): "
			             "apply that file again first", other, result);
			job_free(j);
			return;
		}
	}
	j->st = xcalloc(j->r->nu + 1, sizeof(*j->st));
	dir_search(req->pd->dir, cfg->people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_OBJECT_CLASS "=" OC_PERSON ")", attrs, 0, NULL, acct_entry, accounts_found, j);
}

static void
on_cancel(struct request *req)
{
	struct reorg_job *j = req->state;

	/* Before the input ended nothing was done: stop.  Afterwards
	 * (req->state is NULL) the run goes on to its end, audited. */
	if (j == NULL)
		return;
	req->state = NULL;
	request_done(req, ST_USAGE, "the client went away before the end of the file");
	job_free(j);
}

static void
reorg_start(struct request *req, bool apply)
{
	struct reorg_job *j = xcalloc(1, sizeof(*j));

	j->req = req;
	j->apply = apply;
	req->state = j;
	req->on_data = on_data;
	req->on_end = on_end;
	req->on_cancel = on_cancel;
}

void
reorg_plan(struct request *req)
{
	reorg_start(req, false);
}

void
reorg_apply(struct request *req)
{
	/* Re-issuing is the certificate office's work: --p12-dir asks for
	 * the officer role besides the admin one the command needs. */
	if (cmd_flag(&req->args, "p12-dir") && !request_may(req, ROLE_OFFICER, NULL)) {
		request_refuse(req, ROLE_OFFICER, "reorg apply --p12-dir (re-issuing certificates)");
		return;
	}
	reorg_start(req, true);
	((struct reorg_job *)req->state)->p12_dir = cmd_flag(&req->args, "p12-dir");
}

void
reorg_status(struct request *req)
{
	static const char *const keys[] = {
		"plan_id", "phase", "accounts_done", "accounts_total", "failed", "result", "updated",
	};
	char v[sizeof(keys) / sizeof(keys[0])][160];
	size_t i;

	if (status_read(req->pd, keys[0], v[0], sizeof(v[0])) < 0 || v[0][0] == '\0') {
		request_done(req, ST_NOTFOUND, "no reorganisation has been applied here");
		return;
	}
	for (i = 1; i < sizeof(keys) / sizeof(keys[0]); i++)
		status_read(req->pd, keys[i], v[i], sizeof(v[i]));
	reply_kv(req, "plan_id", v[0], "phase", v[1], "done", v[2], "total", v[3],
	         "failed", v[4], "result", v[5], "updated", v[6], NULL);
	request_done(req, ST_OK, "plan %s: %s (%s of %s accounts)", v[0], v[5], v[2], v[3]);
}
