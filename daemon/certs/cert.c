/* cert — the certificate commands: list, show, revoke, release,
 * export-index, the certificates' side of account events and of whois.
 * Issuance is in cert_issue.c; records are read and changed in certrec.c.
 * See cert.h. */
#include "cert.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ca.h"
#include "certrec.h"
#include "crl.h"
#include "dir.h"
#include "fieldtype.h"
#include "fingerprint.h"
#include "index.h"
#include "ldapesc.h"
#include "account.h"
#include "log.h"
#include "names.h"
#include "pkitime.h"
#include "provd.h"
#include "reason.h"
#include "request.h"
#include "schema.h"
#include "serial.h"
#include "units.h"
#include "whois.h"
#include "text.h"
#include "xmalloc.h"


/* ---- cert list / show ------------------------------------------------- */

static void
list_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct request *req = arg;
	struct certrec *r = certrec_read(ld, e);

	certrec_output(req, r, false, false);
	certrec_free(r);
}

static void
list_done(void *arg, const struct dir_result *res)
{
	struct request *req = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		request_done(req, schema_status_of_ldap(res->code), "directory: %s",
		             dir_result_str(res, why, sizeof(why)));
	else
		request_done(req, ST_OK, "ok");
}

void
cert_list(struct request *req)
{
	static const char *const attrs[] = {
		AT_CERT_SERIAL, AT_CERT_STATUS, AT_UID, AT_EMPLOYEE_ID, AT_UNIT,
		AT_CERT_PROFILE, AT_CERT_NOT_BEFORE, AT_CERT_NOT_AFTER, AT_CERT_REASON,
		AT_CERT_REVOKED_AT, AT_CERT_INVALIDITY, AT_CERT_FINGERPRINT, NULL
	};
	const struct cmd_args *a = &req->args;
	const char *login = cmd_arg(a, "login"), *unit = cmd_arg(a, "unit");
	const char *st = cmd_arg(a, "status"), *within = cmd_arg(a, "expiring-within");
	struct units *us = req->pd->units;
	char filter[16384], now[32], until[32], esc[256];
	size_t off = 0;
	int n;

	pkitime_format_ldap(time(NULL), now);
	n = snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")");
	off = (size_t)n;
	if (login != NULL) {
		if (ldapesc_filter(login, esc, sizeof(esc)) < 0) {
			request_done(req, ST_INVALID, "--login too long");
			return;
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, "(" AT_UID "=%s)", esc);
	}
	if (unit != NULL) {
		if (units_find(us, unit) == NULL) {
			request_done(req, ST_NOTFOUND, "unit: no unit '%.64s'", unit);
			return;
		}
		off += certrec_unit_filter(us, unit, cmd_flag(a, "recursive"), filter + off,
		                           sizeof(filter) - off);
	}
	if (st != NULL) {
		const char *f = NULL;
		char buf[160];

		if (strcmp(st, "valid") == 0)
			snprintf(buf, sizeof(buf), "(" AT_CERT_STATUS "=valid)(" AT_CERT_NOT_AFTER ">=%s)", now), f = buf;
		else if (strcmp(st, "expired") == 0)
			snprintf(buf, sizeof(buf), "(" AT_CERT_STATUS "=valid)(!(" AT_CERT_NOT_AFTER ">=%s))", now), f = buf;
		else if (strcmp(st, "hold") == 0 || strcmp(st, "revoked") == 0)
			snprintf(buf, sizeof(buf), "(" AT_CERT_STATUS "=%s)", st), f = buf;
		if (f == NULL) {
			request_done(req, ST_USAGE, "--status: valid, hold, revoked or expired");
			return;
		}
		off += (size_t)snprintf(filter + off, sizeof(filter) - off, "%s", f);
	}
	if (within != NULL) {
		unsigned long secs;

		/* As cert renew --expiring-within reads it. */
		if (fieldtype_parse_duration(within, &secs) < 0) {
			request_done(req, ST_USAGE, "--expiring-within: a duration such as 30d "
			             "(or 30), 12h");
			return;
		}
		pkitime_format_ldap(time(NULL) + (time_t)secs, until);
		off += (size_t)snprintf(filter + off, sizeof(filter) - off,
		                        "(" AT_CERT_STATUS "=valid)(" AT_CERT_NOT_AFTER ">=%s)"
		                        "(" AT_CERT_NOT_AFTER "<=%s)", now, until);
	}
	if (off + 2 >= sizeof(filter)) {
		request_done(req, ST_USAGE, "filter too long");
		return;
	}
	strcat(filter, ")");
	dir_search(req->pd->dir, req->pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, 0,
	           NULL, list_entry, list_done, req);
}

static void
show_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct request *req = ctx;

	if (status != ST_OK)
		request_done(req, status, "directory: %s", msg);
	else if (list == NULL)
		request_done(req, ST_NOTFOUND, "no certificate with serial %.64s",
		             req->args.operand[0]);
	else {
		certrec_output(req, list, cmd_flag(&req->args, "pem"), true);
		request_done(req, ST_OK, "ok");
	}
	certrec_free(list);
}

void
cert_show(struct request *req)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1];

	if (certrec_serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0)
		return;
	certrec_find(req->pd, filter, show_found, req);
}

/* ---- cert revoke / release ------------------------------------------- */

struct revoke {
	struct request *req;
	struct certrec *rec;
	int             reason;
	time_t          invalidity;
	bool            release;
	char            result[1024];
	/* keyCompromise: the other certificates that carry the same key */
	struct certrec *others, *cur;
	size_t          others_done, others_failed;
};

static void
revoke_published(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;
	struct request *req = rv->req;
	const struct certrec *c;
	struct rec r;

	rec_begin(&r, req);
	rec_kv(&r, "serial", rv->rec->serial);
	rec_kv(&r, "login", rv->rec->login);
	rec_kv(&r, "status", cert_state_name(rv->release ? CERT_STATE_VALID :
	       rv->reason == REASON_CERTIFICATE_HOLD ? CERT_STATE_HOLD : CERT_STATE_REVOKED));
	rec_kv(&r, "reason", rv->release ? "" : reason_name(rv->reason));
	rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
	rec_end(&r);
	for (c = rv->others; c != NULL; c = c->next) {
		if (strcmp(c->serial, rv->rec->serial) == 0)
			continue;
		rec_begin(&r, req);
		rec_kv(&r, "serial", c->serial);
		rec_kv(&r, "login", c->login);
		rec_kv(&r, "status", c->status);
		rec_kv(&r, "reason", c->reason);
		rec_kvf(&r, "crl_number", "%llu", (unsigned long long)crl_last_number(req->pd));
		rec_end(&r);
	}
	snprintf(req->audit_note, sizeof(req->audit_note), "serial=%s login=%s",
	         rv->rec->serial, rv->rec->login);
	if (status != ST_OK)
		request_done(req, status, "%s; but the CRL was not published: %s "
		             "(run 'provctl crl publish')", rv->result, msg);
	else
		request_done(req, rv->others_failed ? ST_PARTIAL : ST_OK, "%s; %s", rv->result, msg);
	certrec_free(rv->rec);
	certrec_free(rv->others);
	free(rv);
}

static void revoke_others_next(struct revoke *rv);

static void
revoke_other_changed(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;
	size_t n = strlen(rv->result);

	if (status == ST_OK) {
		rv->cur->state = CERT_STATE_REVOKED;
		snprintf(rv->cur->status, sizeof(rv->cur->status), "%s",
		         cert_state_name(CERT_STATE_REVOKED));
		snprintf(rv->cur->reason, sizeof(rv->cur->reason), "%s",
		         reason_name(REASON_KEY_COMPROMISE));
		snprintf(rv->result + n, sizeof(rv->result) - n, "%s%s (%s)",
		         rv->others_done++ ? ", " : "; the same key, revoked too: ",
		         rv->cur->serial, rv->cur->login);
	} else {
		rv->others_failed++;
		snprintf(rv->result + n, sizeof(rv->result) - n, "; %s NOT revoked: %s",
		         rv->cur->serial, msg);
	}
	rv->cur = rv->cur->next;
	revoke_others_next(rv);
}

/* Revoke, one after the other, every other certificate with the key; then
 * one CRL lists them all. */
static void
revoke_others_next(struct revoke *rv)
{
	for (; rv->cur != NULL; rv->cur = rv->cur->next) {
		if (strcmp(rv->cur->serial, rv->rec->serial) == 0 ||
		    rv->cur->state == CERT_STATE_REVOKED)
			continue;
		certrec_change(rv->req->pd, rv->cur, CERT_STATE_REVOKED, REASON_KEY_COMPROMISE,
		               rv->invalidity, NULL, revoke_other_changed, rv);
		return;
	}
	crl_publish(rv->req->pd, revoke_published, rv);
}

static void
revoke_others_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct revoke *rv = ctx;

	rv->others = list;
	rv->cur = list;
	if (status != ST_OK) {
		size_t n = strlen(rv->result);

		rv->others_failed++;
		snprintf(rv->result + n, sizeof(rv->result) - n, "; the other certificates "
		         "with this key were not found: %s", msg);
	}
	revoke_others_next(rv);
}

static void
revoke_changed(void *ctx, int status, const char *msg)
{
	struct revoke *rv = ctx;

	if (status != ST_OK) {
		request_done(rv->req, status, "%s", msg);
		certrec_free(rv->rec);
		free(rv);
		return;
	}
	snprintf(rv->result, sizeof(rv->result), "%s %s", rv->rec->serial,
	         rv->release ? "released" : rv->reason == REASON_CERTIFICATE_HOLD ?
	         "on hold" : "revoked");
	if (!rv->release && rv->reason == REASON_KEY_COMPROMISE && rv->rec->key_hash[0]) {
		char filter[400], esc[3 * CERTREC_KEY_HASH_LEN + 1];

		if (ldapesc_filter(rv->rec->key_hash, esc, sizeof(esc)) < 0)
			esc[0] = '\0';
		snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")("
		         AT_CERT_KEY_HASH "=%s))", esc);
		certrec_find(rv->req->pd, filter, revoke_others_found, rv);
		return;
	}
	crl_publish(rv->req->pd, revoke_published, rv);
}

static void
revoke_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct revoke *rv = ctx;
	struct request *req = rv->req;

	if (status != ST_OK || list == NULL) {
		if (status != ST_OK)
			request_done(req, status, "directory: %s", msg);
		else
			request_done(req, ST_NOTFOUND, "no certificate with serial %.64s",
			             req->args.operand[0]);
		certrec_free(list);
		free(rv);
		return;
	}
	rv->rec = list;
	if (!request_may(req, req->spec->roles, list->unit)) {
		char what[256];

		snprintf(what, sizeof(what), "certificate %s of %s (unit %s)", list->serial,
		         list->login, list->unit[0] ? list->unit : "none");
		request_refuse(req, req->spec->roles, what);
		goto fail;
	}
	if (rv->release) {
		if (list->state != CERT_STATE_HOLD) {
			request_done(req, ST_CONFLICT, "%s is %s, not on hold: only a "
			             "certificateHold can be released", list->serial, list->status);
			goto fail;
		}
		certrec_change(req->pd, list, CERT_STATE_VALID, 0, 0, NULL, revoke_changed, rv);
		return;
	}
	if (list->state == CERT_STATE_REVOKED) {
		char iso[21];

		request_done(req, ST_CONFLICT, "%s is already revoked (%s, %s)", list->serial,
		             list->reason, fieldtype_time_text(list->revoked_at, iso));
		goto fail;
	}
	if (list->state == CERT_STATE_HOLD && rv->reason == REASON_CERTIFICATE_HOLD) {
		request_done(req, ST_CONFLICT, "%s is already on hold", list->serial);
		goto fail;
	}
	certrec_change(req->pd, list,
	               rv->reason == REASON_CERTIFICATE_HOLD ? CERT_STATE_HOLD : CERT_STATE_REVOKED,
	               rv->reason, rv->invalidity, "officer", revoke_changed, rv);
	return;
fail:
	certrec_free(list);
	free(rv);
}

static void
revoke_or_release(struct request *req, bool release)
{
	char filter[256], hex[SERIAL_HEX_MAX + 1], err[200] = "";
	struct revoke *rv;

	if (!cert_need_ca(req))
		return;
	rv = xcalloc(1, sizeof(*rv));
	rv->req = req;
	rv->release = release;
	if (!release) {
		const char *why = cmd_arg(&req->args, "reason");   /* required */
		const char *inv = cmd_arg(&req->args, "invalidity-date");

		if (reason_parse(why, &rv->reason, err, sizeof(err)) < 0 ||
		    !reason_valid_for_crl(rv->reason)) {
			char shown[40];

			free(rv);
			text_sanitize(why, strnlen(why, 32), shown, sizeof(shown));
			request_done(req, ST_USAGE, "--reason '%s': %s", shown,
			             err[0] ? err : "not allowed");
			return;
		}
		if (inv != NULL) {
			char gt[16];

			if (fieldtype_parse_time(inv, NULL, gt) < 0)
				snprintf(err, sizeof(err), "not a time");
			if (err[0] != '\0' || pkitime_parse_ldap(gt, &rv->invalidity, err,
			                                          sizeof(err)) < 0) {
				free(rv);
				request_done(req, ST_USAGE, "--invalidity-date: %s (want "
				             "YYYY-MM-DDTHH:MM:SSZ or YYYYMMDDHHMMSSZ, UTC)", err);
				return;
			}
		}
		/* The date the key is known or suspected to have been
		 * compromised (RFC 5280 5.3.2): it cannot lie ahead. */
		if (inv != NULL && rv->invalidity > time(NULL)) {
			free(rv);
			request_done(req, ST_USAGE, "--invalidity-date: %s is in the future", inv);
			return;
		}
	}
	if (certrec_serial_filter(req, req->args.operand[0], filter, sizeof(filter), hex) < 0) {
		free(rv);
		return;
	}
	certrec_find(req->pd, filter, revoke_found, rv);
}

void
cert_revoke(struct request *req)
{
	revoke_or_release(req, false);
}

void
cert_release(struct request *req)
{
	revoke_or_release(req, true);
}

/* ---- cert export-index ------------------------------------------------ */

static void
index_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct request *req = ctx;
	struct certrec *c;
	size_t n = 0;
	char now[32];

	if (status != ST_OK) {
		request_done(req, status, "directory: %s", msg);
		certrec_free(list);
		return;
	}
	pkitime_format_ldap(time(NULL), now);
	for (c = list; c != NULL; c = c->next) {
		const unsigned char *p = c->der;
		X509 *x = c->der ? d2i_X509(NULL, &p, (long)c->derlen) : NULL;
		struct index_record ir = { 0 };
		char subject[2048], line[INDEX_LINE_MAX], err[200];
		struct rec r;

		if (x == NULL || index_subject(x, subject, sizeof(subject)) < 0 ||
		    serial_parse(c->serial, &ir.serial, err, sizeof(err)) < 0 ||
		    pkitime_parse_ldap(c->not_after, &ir.not_after, err, sizeof(err)) < 0) {
			X509_free(x);
			log_warnx("cert export-index: record %s skipped (unreadable)", c->serial);
			continue;
		}
		X509_free(x);
		ir.subject = subject;
		ir.status = strcmp(certrec_status(c, now), "expired") == 0 ? 'E' :
		            c->state == CERT_STATE_VALID ? 'V' : 'R';
		if (ir.status == 'R') {
			pkitime_parse_ldap(c->revoked_at, &ir.revoked_at, err, sizeof(err));
			reason_parse(c->reason, &ir.reason, err, sizeof(err));
			if (c->invalidity[0])
				pkitime_parse_ldap(c->invalidity, &ir.invalidity_date, err, sizeof(err));
		}
		if (index_format_line(&ir, line, sizeof(line), err, sizeof(err)) < 0)
			continue;
		line[strcspn(line, "\n")] = '\0';    /* one record = one line */
		rec_begin(&r, req);
		rec_kv(&r, "line", line);
		rec_end(&r);
		n++;
	}
	/* index.txt.attr: one person may hold several valid certificates with
	 * one subject (staff-email and staff-sign), which openssl ca and
	 * openssl ocsp -index refuse without this. */
	{
		struct rec r;

		rec_begin(&r, req);
		rec_kv(&r, "attr_line", "unique_subject = no");
		rec_end(&r);
	}
	certrec_free(list);
	request_done(req, ST_OK, "%zu records written (and FILE.attr)", n);
}

void
cert_export_index(struct request *req)
{
	certrec_find(req->pd, "(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")", index_found, req);
}

/* ---- account lifecycle ------------------------------------------------ */

struct life {
	struct provd      *pd;
	struct request    *req;        /* lifecycle_move_reissue: re-issues go to it */
	struct certrec   **office;     /* ... the office's keys revoked here, or owed */
	size_t             noffice, nextoffice, reissued, owed;
	enum lifecycle_event ev;
	lifecycle_done_fn *done;
	void              *ctx;
	struct certrec    *list;
	struct certrec    *cur;
	size_t             changed, failed;
	char               summary[1024];
	char               err[256];
};

static void life_next(struct life *lf);

static void
life_finish(struct life *lf, int status)
{
	lf->done(lf->ctx, status, lf->summary);
	certrec_free(lf->list);
	free(lf->office);
	free(lf);
}

/* ---- settling an owed successor --------------------------------------- */

struct settle {
	struct provd       *pd;
	struct request     *req;
	const struct certrec *c;
	cert_settled_fn    *done;
	void               *ctx;
	bool                earlier;
	char                successor[SERIAL_HEX_MAX + 1];
};

static void
settle_end(struct settle *s, int status, const char *msg, const char *serial)
{
	s->done(s->ctx, status, msg, serial, s->earlier);
	free(s);
}

static void
settle_linked(void *ctx, const struct dir_result *res)
{
	struct settle *s = ctx;
	char why[256], msg[300] = "";

	if (res->code != LDAP_SUCCESS) {
		/* The successor stands; the mark stays and a re-run finds it by
		 * its provdCertRenews. */
		log_warnx("pki: %s re-issued, but its record is not linked: %s", s->c->serial,
		          dir_result_str(res, why, sizeof(why)));
		snprintf(msg, sizeof(msg), "not linked to its successor: %s", why);
	}
	settle_end(s, ST_OK, msg, s->successor);
}

/* Replace the mark with the successor's serial. */
static void
settle_link(struct settle *s, const char *successor)
{
	struct dir_mods *m;
	char dn[512];

	snprintf(s->successor, sizeof(s->successor), "%s", successor);
	if (ldapesc_rdn_dn(AT_CERT_SERIAL, s->c->serial, s->pd->cfg.certs_dn, dn, sizeof(dn)) < 0) {
		struct dir_result res = { .code = LDAP_OTHER };

		settle_linked(s, &res);
		return;
	}
	m = dir_mods_new();
	dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_RENEWED_BY, successor);
	dir_modify(s->pd->dir, dn, dir_mods_get(m), NULL, settle_linked, s);
	dir_mods_free(m);
}

static void
settle_issued(void *ctx, int status, const char *msg, const char *serial)
{
	struct settle *s = ctx;

	if (status != ST_OK) {
		settle_end(s, status, msg, NULL);
		return;
	}
	settle_link(s, serial);
}

/* The records renewing c: one settles the debt, none lets the successor
 * be issued. */
static void
settle_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct settle *s = ctx;

	if (status != ST_OK) {
		certrec_free(list);
		settle_end(s, status, msg, NULL);
		return;
	}
	if (list == NULL) {
		cert_reissue_successor(s->req, s->c->login, s->c->profile, s->c->serial,
		                       certrec_new_key_type(s->c), settle_issued, s);
		return;
	}
	s->earlier = true;
	settle_link(s, list->serial);
	certrec_free(list);
}

void
cert_settle_owed(struct provd *pd, struct request *req, const struct certrec *c,
                 cert_settled_fn *done, void *ctx)
{
	struct settle *s = xcalloc(1, sizeof(*s));
	char filter[256], esc[2 * SERIAL_HEX_MAX + 8];

	s->pd = pd;
	s->req = req;
	s->c = c;
	s->done = done;
	s->ctx = ctx;
	if (ldapesc_filter(c->serial, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")("
	         AT_CERT_RENEWS "=%s))", esc);
	certrec_find(pd, filter, settle_found, s);
}

/*
 * lifecycle_move_reissue: the office's keys revoked by this move (each
 * revoked owing its successor, certrec_revoke_owing), and those an earlier
 * run revoked and died before re-issuing, settled one after the other
 * (cert_settle_owed).
 */
static void life_reissue_next(struct life *lf, int status);

static void
life_reissued(void *ctx, int status, const char *msg, const char *serial, bool earlier)
{
	struct life *lf = ctx;
	struct certrec *c = lf->office[lf->nextoffice++];
	size_t n = strlen(lf->summary);

	if (status == ST_OK) {
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "%s%s%s",
		         lf->reissued++ ? "," : "; re-issued: ", serial,
		         earlier ? " (issued before)" : "");
		n = strlen(lf->summary);
		if (msg[0] != '\0')
			snprintf(lf->summary + n, sizeof(lf->summary) - n, "; %s %s", c->serial, msg);
		life_reissue_next(lf, ST_OK);
		return;
	}
	lf->failed++;
	log_warnx("pki: re-issuing %s to %s after the move: %s", c->serial, c->login, msg);
	snprintf(lf->summary + n, sizeof(lf->summary) - n, "; %s not re-issued: %s",
	         c->serial, msg);
	life_reissue_next(lf, ST_OK);
}

static void
life_reissue_next(struct life *lf, int status)
{
	if (lf->nextoffice < lf->noffice) {
		cert_settle_owed(lf->pd, lf->req, lf->office[lf->nextoffice], life_reissued, lf);
		return;
	}
	life_finish(lf, status == ST_OK && lf->failed == 0 ? ST_OK :
	            status != ST_OK ? status : ST_PARTIAL);
}

static void
life_published(void *ctx, int status, const char *msg)
{
	struct life *lf = ctx;
	size_t n = strlen(lf->summary);

	if (status != ST_OK)
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "; CRL not published: %s", msg);
	life_reissue_next(lf, status);
}

/* With re-issue (lf->req), the office's keys are owed a successor. */
static bool
life_owes(const struct life *lf, const struct certrec *c)
{
	return lf->req != NULL && strcasecmp(c->key_source, CERT_KEY_SOURCE_OFFICE) == 0;
}

/* ... unless already renewed (cert renew, in its overlap): the successor,
 * valid or held too, is moved and re-issued itself. */
static bool
life_owes_new(const struct life *lf, const struct certrec *c)
{
	return life_owes(lf, c) && c->renewed_by[0] == '\0';
}

static void
life_owe(struct life *lf, struct certrec *c)
{
	lf->office = xrealloc(lf->office, (lf->noffice + 1) * sizeof(*lf->office));
	lf->office[lf->noffice++] = c;
}

/* c revoked by a move, owing its successor. */
static bool
life_owed(const struct life *lf, const struct certrec *c)
{
	return lf->ev == LIFECYCLE_MOVE && life_owes(lf, c) && certrec_owes_successor(c);
}

/* c is the successor of a debt in the list (recorded by a run that died
 * before linking it): it names the account as it is now, so the move
 * leaves it alone. */
static bool
life_pays_debt(const struct life *lf, const struct certrec *c)
{
	const struct certrec *o;

	if (c->renews[0] == '\0')
		return false;
	for (o = lf->list; o != NULL; o = o->next)
		if (life_owed(lf, o) && strcmp(o->serial, c->renews) == 0)
			return true;
	return false;
}

static void
life_changed(void *ctx, int status, const char *msg)
{
	struct life *lf = ctx;

	if (status == ST_OK) {
		lf->changed++;
		if (life_owes_new(lf, lf->cur))
			life_owe(lf, lf->cur);
	} else {
		lf->failed++;
		snprintf(lf->err, sizeof(lf->err), "%s", msg);
	}
	lf->cur = lf->cur->next;
	life_next(lf);
}

/* What ev does to a record in this state: the state to move it to, or -1
 * for nothing. */
static int
life_target(enum lifecycle_event ev, const struct certrec *c, int *reason)
{
	bool valid = c->state == CERT_STATE_VALID, hold = c->state == CERT_STATE_HOLD;

	switch (ev) {
	case LIFECYCLE_DISABLE:
	case LIFECYCLE_DELETE:
		*reason = REASON_CERTIFICATE_HOLD;
		return valid ? CERT_STATE_HOLD : -1;
	case LIFECYCLE_ENABLE:
		/* Only the holds the account caused; a record held before hold
		 * causes were recorded counts as the account's, as it did then. */
		*reason = 0;
		return hold && strcmp(c->hold_cause, "officer") != 0 ? CERT_STATE_VALID : -1;
	case LIFECYCLE_PURGE:
		*reason = REASON_CESSATION_OF_OPERATION;
		return valid || hold ? CERT_STATE_REVOKED : -1;
	case LIFECYCLE_MOVE:
		*reason = REASON_AFFILIATION_CHANGED;
		return valid || hold ? CERT_STATE_REVOKED : -1;
	}
	return -1;
}

static void
life_next(struct life *lf)
{
	static const char *const done_word[] = {
		[LIFECYCLE_DISABLE] = "put on hold", [LIFECYCLE_ENABLE] = "released",
		[LIFECYCLE_DELETE] = "put on hold for the retention",
		[LIFECYCLE_MOVE] = "revoked (affiliationChanged)",
		[LIFECYCLE_PURGE] = "revoked (cessationOfOperation)",
	};
	int target, reason = 0;
	size_t n;

	for (; lf->cur != NULL; lf->cur = lf->cur->next) {
		if (life_pays_debt(lf, lf->cur))
			continue;
		if ((target = life_target(lf->ev, lf->cur, &reason)) < 0) {
			/* Revoked by an earlier move that died before re-issuing. */
			if (life_owed(lf, lf->cur)) {
				lf->owed++;
				life_owe(lf, lf->cur);
			}
			continue;
		}
		n = strlen(lf->summary);
		snprintf(lf->summary + n, sizeof(lf->summary) - n, "%s%s", n ? "," : "",
		         lf->cur->serial);
		if (target == CERT_STATE_REVOKED && life_owes_new(lf, lf->cur))
			certrec_revoke_owing(lf->pd, lf->cur, reason, CERTREC_OWE_SUCCESSOR,
			                     life_changed, lf);
		else if (target == CERT_STATE_REVOKED && lf->ev == LIFECYCLE_MOVE &&
		         !life_owes(lf, lf->cur))
			/* Not re-issued in this run: its holder is told (notice.h). */
			certrec_revoke_owing(lf->pd, lf->cur, reason, CERTREC_OWE_NOTICE,
			                     life_changed, lf);
		else
			certrec_change(lf->pd, lf->cur, (enum cert_state)target, reason, 0,
			               "account", life_changed, lf);
		return;
	}
	if (lf->changed == 0 && lf->failed == 0 && lf->owed > 0) {
		snprintf(lf->summary, sizeof(lf->summary), "%zu certificate%s revoked by an "
		         "earlier run (affiliationChanged), owed a successor", lf->owed,
		         lf->owed == 1 ? "" : "s");
		life_reissue_next(lf, ST_OK);
		return;
	}
	if (lf->changed == 0 && lf->failed == 0) {
		snprintf(lf->summary, sizeof(lf->summary), "%s", lf->list == NULL ?
		         "no certificates" : "no certificate needed a change");
		life_finish(lf, ST_OK);
		return;
	}
	{
		char serials[600];

		snprintf(serials, sizeof(serials), "%.590s", lf->summary);
		snprintf(lf->summary, sizeof(lf->summary), "%zu certificate%s %s: %s%s%s",
		         lf->changed, lf->changed == 1 ? "" : "s", done_word[lf->ev], serials,
		         lf->failed ? "; failed: " : "", lf->failed ? lf->err : "");
	}
	crl_publish(lf->pd, life_published, lf);
}

static void
life_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	struct life *lf = ctx;

	lf->list = list;
	if (status != ST_OK) {
		snprintf(lf->summary, sizeof(lf->summary), "certificates not changed: %s", msg);
		life_finish(lf, status);
		return;
	}
	if (list != NULL && !ca_ready(lf->pd)) {
		snprintf(lf->summary, sizeof(lf->summary),
		         "certificates not changed: the CA is not loaded");
		life_finish(lf, ST_UNAVAILABLE);
		return;
	}
	lf->cur = list;
	life_next(lf);
}

/* The records an account's lifecycle may touch: valid or on hold; with
 * owed, also those revoked owing a successor. */
static void
life_filter(const char *login, bool owed, char *filter, size_t len)
{
	char esc[128];

	/* login was checked by the caller (names_login_valid): no escaping needed,
	 * but escape anyway so this never depends on the caller. */
	if (ldapesc_filter(login, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, len, "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_UID "=%s)(|(" AT_CERT_STATUS "=valid)"
	         "(" AT_CERT_STATUS "=hold)%s))", esc, owed ? CERT_OWED_CLAUSE : "");
}

/* Find login's records that ev may touch; found(lf) then acts or previews.
 * With req, a move re-issues the office's keys it revoked. */
static void
life_start(struct provd *pd, struct request *req, const char *login, enum lifecycle_event ev,
           lifecycle_done_fn *done, void *ctx, certrec_found_fn *found)
{
	struct life *lf = xcalloc(1, sizeof(*lf));
	char filter[400];

	lf->pd = pd;
	lf->req = req;
	lf->ev = ev;
	lf->done = done;
	lf->ctx = ctx;
	life_filter(login, req != NULL, filter, sizeof(filter));
	certrec_find(pd, filter, found, lf);
}

void
cert_lifecycle(struct provd *pd, const char *login, enum lifecycle_event ev,
               lifecycle_done_fn *done, void *ctx)
{
	life_start(pd, NULL, login, ev, done, ctx, life_found);
}

void
cert_lifecycle_move_reissue(struct request *req, const char *login, lifecycle_done_fn *done,
                            void *ctx)
{
	life_start(req->pd, req, login, LIFECYCLE_MOVE, done, ctx, life_found);
}

/* ---- lifecycle preview: what the event would do, nothing written ----- */

static void
preview_found(void *ctx, int status, const char *msg, struct certrec *list)
{
	static const char *const would[] = {
		[LIFECYCLE_DISABLE] = "would be put on hold", [LIFECYCLE_ENABLE] = "would be released",
		[LIFECYCLE_DELETE] = "would be put on hold for the retention",
		[LIFECYCLE_MOVE] = "would be revoked (affiliationChanged)",
		[LIFECYCLE_PURGE] = "would be revoked (cessationOfOperation)",
	};
	struct life *lf = ctx;
	struct certrec *c;
	char serials[900] = "";
	int reason;

	lf->list = list;
	if (status != ST_OK) {
		snprintf(lf->summary, sizeof(lf->summary), "certificates not known: %s", msg);
		life_finish(lf, status);
		return;
	}
	for (c = list; c != NULL; c = c->next) {
		size_t n = strlen(serials);

		if (life_target(lf->ev, c, &reason) < 0)
			continue;
		lf->changed++;
		snprintf(serials + n, sizeof(serials) - n, "%s%s", n ? "," : "", c->serial);
	}
	if (lf->changed == 0)
		snprintf(lf->summary, sizeof(lf->summary), "%s", list == NULL ?
		         "no certificates" : "no certificate would change");
	else
		snprintf(lf->summary, sizeof(lf->summary), "%zu certificate%s %s: %s",
		         lf->changed, lf->changed == 1 ? "" : "s", would[lf->ev], serials);
	life_finish(lf, ST_OK);
}

void
cert_lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                       lifecycle_done_fn *done, void *ctx)
{
	life_start(pd, NULL, login, ev, done, ctx, preview_found);
}

/* ---- whois: the person's certificates ------------------------------- */

struct whois_certs {
	struct request     *req;
	whois_part_done_fn *done;
	void               *ctx;
	char                login[NAMES_LOGIN_BUFSZ];
};

static void
whois_found(void *arg, int status, const char *msg, struct certrec *list)
{
	struct whois_certs *wc = arg;
	struct certrec *c;
	char now[32];
	struct rec r;

	pkitime_format_ldap(time(NULL), now);
	if (status != ST_OK) {
		rec_begin(&r, wc->req);
		rec_kv(&r, "section", "certificate");
		rec_kv(&r, "login", wc->login);
		rec_kv(&r, "error", msg);
		rec_end(&r);
	}
	for (c = list; c != NULL; c = c->next) {
		rec_begin(&r, wc->req);
		rec_kv(&r, "section", "certificate");
		rec_kv(&r, "login", c->login);
		rec_kv(&r, "serial", c->serial);
		rec_kv(&r, "status", certrec_status(c, now));
		rec_kv(&r, "profile", c->profile);
		rec_kv(&r, "not_after", c->not_after);
		rec_kv(&r, "reason", c->reason);
		rec_kv(&r, "renews", c->renews);
		rec_kv(&r, "renewed_by", c->renewed_by);
		rec_kv(&r, "supersede_at", c->supersede_at);
		rec_kv(&r, "notified", c->notified);
		rec_end(&r);
	}
	certrec_free(list);
	wc->done(wc->ctx);
	free(wc);
}

void
cert_whois_part(struct request *req, const struct whois_subject *who,
                whois_part_done_fn *done, void *ctx)
{
	struct whois_certs *wc = xcalloc(1, sizeof(*wc));
	char filter[256], esc[128];

	wc->req = req;
	wc->done = done;
	wc->ctx = ctx;
	snprintf(wc->login, sizeof(wc->login), "%s", who->login);
	if (ldapesc_filter(who->login, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	snprintf(filter, sizeof(filter), "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(" AT_UID "=%s))", esc);
	certrec_find(req->pd, filter, whois_found, wc);
}

/* ---- upgrade: records made before provdCertKeyHash ---------------------- */

struct upgrade {
	struct provd *pd;
	size_t        pending, done, failed;
	char          first_error[300];
	bool          searched;
};

static void
upgrade_maybe_finish(struct upgrade *u)
{
	if (!u->searched || u->pending > 0)
		return;
	if (u->done > 0 || u->failed > 0)
		log_info("certificate records: key hash added to %zu%s%s", u->done,
		         u->failed ? ", failed for others: " : "", u->failed ? u->first_error : "");
	free(u);
}

static void
upgrade_written(void *arg, const struct dir_result *res)
{
	struct upgrade *u = arg;
	char why[300];

	if (res->code == LDAP_SUCCESS) {
		u->done++;
	} else if (u->failed++ == 0) {
		snprintf(u->first_error, sizeof(u->first_error), "%s",
		         dir_result_str(res, why, sizeof(why)));
	}
	u->pending--;
	upgrade_maybe_finish(u);
}

static void
upgrade_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct upgrade *u = arg;
	struct dir_mods *m;
	unsigned char *der;
	size_t derlen = 0;
	char hash[CERTREC_KEY_HASH_LEN + 1], err[200], *dn;

	der = dir_entry_get_bin(ld, e, AT_USER_CERT, &derlen);
	dn = dir_entry_dn(ld, e);
	if (der != NULL && dn != NULL &&
	    fingerprint_spki_cert_der(der, derlen, hash, err, sizeof(err)) == 0) {
		m = dir_mods_new();
		dir_mods_add1(m, LDAP_MOD_REPLACE, AT_CERT_KEY_HASH, hash);
		u->pending++;
		dir_modify(u->pd->dir, dn, dir_mods_get(m), NULL, upgrade_written, u);
		dir_mods_free(m);
	}
	free(der);
	free(dn);
}

static void
upgrade_searched(void *arg, const struct dir_result *res)
{
	struct upgrade *u = arg;
	char why[300];

	if (res->code != LDAP_SUCCESS && res->code != LDAP_NO_SUCH_OBJECT)
		log_warnx("certificate records: cannot look for records without a key hash: %s",
		          dir_result_str(res, why, sizeof(why)));
	u->searched = true;
	upgrade_maybe_finish(u);
}

void
cert_upgrade_records(struct provd *pd)
{
	static const char *const attrs[] = { AT_USER_CERT, NULL };
	struct upgrade *u = xcalloc(1, sizeof(*u));

	u->pd = pd;
	dir_search(pd->dir, pd->cfg.certs_dn, LDAP_SCOPE_ONELEVEL,
	           "(&(" AT_OBJECT_CLASS "=" OC_CERTIFICATE ")(!(" AT_CERT_KEY_HASH "=*)))", attrs, 0, NULL,
	           upgrade_entry, upgrade_searched, u);
}
