/* batch — CSV onboarding pipeline. See batch.h. */
#include "batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "account.h"
#include "audit.h"
#include "csv.h"
#include "dir.h"
#include "fields.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "strset.h"
#include "text.h"
#include "units.h"
#include "xmalloc.h"

#define BATCH_WINDOW      128        /* rows in flight */
#define BATCH_QUEUE_MAX   4096       /* parsed rows waiting (one DATA chunk) */
#define BATCH_MAX_ROWS    2000000
#define PROGRESS_MS       250
#define RETRY_STEP_MS     500        /* how often rows waiting for the directory are tried */
#define RETRY_WINDOW_MIN_S 60        /* rows wait at least this long for the directory */
/* A "running" audit record of the rows done: every AUDIT_PROGRESS_ROWS
 * rows, or every AUDIT_PROGRESS_MS with fewer. */
#define AUDIT_PROGRESS_MS   1000
#define AUDIT_PROGRESS_ROWS 100
/* Rows created in this batch, kept (with the password their credentials
 * line gave) so that they can be made again if a failover lost them. */
#define BATCH_VERIFY_MAX    200000
#define VERIFY_TRIES        120      /* RETRY_STEP_MS apart: one minute */

const struct csv_column batch_columns[BATCH_NCOLS] = {
	[COL_EMPLOYEE_ID] = { "employee_id", 1 },
	[COL_FULL_NAME]   = { "full_name", 1 },
	[COL_UNIT]        = { "unit", 1 },
	[COL_TITLE]       = { "title", 0 },
	[COL_PHONE]       = { "phone", 0 },
	[COL_LOGIN]       = { "login", 0 },
	[COL_MAIL]        = { "mail", 0 },
	[COL_QUOTA]       = { "quota", 0 },
	[COL_ALIASES]     = { "aliases", 0 },
};

struct row {
	struct batch *b;
	uint64_t      num;           /* CSV record number: 2 = first data row */
	char         *f[NCOLS];      /* NULL when the column is absent */
	char          error[CSV_ERRMSG_MAX + 32];
	char         *aliases;       /* the split copy of f[COL_ALIASES] in use */
	bool          was_unknown;   /* an earlier try's outcome is unknown */
	char         *password;      /* created: the password its credentials gave */
	char         *made;          /* created: the login made */
	bool          remake;        /* submitted again: lost in a failover */
	bool          remake_new_login; /* ... under a new login: the old one was taken */
	bool          login_given;   /* the file named the login */
	struct row   *made_next;     /* in b->made */
	STAILQ_ENTRY(row) entry;     /* in queue or waiting */
};
STAILQ_HEAD(rowq, row);

struct batch {
	struct request    *req;
	struct csv_reader *csv;
	int                col[NCOLS];
	bool               header_done;
	bool               dry_run, credentials, stop_on_error, allow_update;
	struct strset     *seen;       /* employee ids met in this file */
	struct strset     *planned;    /* dry run: logins planned so far */
	struct rowq        queue;      /* read, not started yet */
	size_t             queued;
	unsigned           inflight;
	bool               input_ended, stopping, paused, finished;
	bool               stopped_on_error;
	int                fatal_status;
	char               fatal_msg[600];
	unsigned long      rows, created, updated, unchanged, rejected, failed;
	unsigned long      read;        /* data rows parsed so far */
	unsigned long long bytes;       /* input bytes received so far */
	uint64_t           last_progress;
	/* Rows that met an unavailable directory (or an unknown outcome)
	 * wait here and are tried again once writes go through, until
	 * retry_deadline; only then are they reported failed. */
	struct rowq        waiting;
	uint64_t           retry_deadline;   /* 0: no row has waited yet */
	struct timer      *retry_timer;
	unsigned long      retried;
	uint64_t           last_audit;
	unsigned long      audited_rows;  /* rows done at the last such record */
	/* Created rows, checked against the writer at the end when the
	 * connection moved during the batch (see verify_start). */
	struct row        *made;
	size_t             nmade;
	bool               made_overflow;  /* more than BATCH_VERIFY_MAX */
	unsigned long      start_reconnects;
	bool               verifying, verified;
	unsigned           verify_tries;
	struct strset     *present;        /* employee ids on the writer */
	unsigned long      lost, remade;
	struct timer      *verify_timer;
};

static void pump(struct batch *b);

static void
row_free(struct row *r)
{
	size_t i;

	for (i = 0; i < NCOLS; i++)
		free(r->f[i]);
	free(r->aliases);
	if (r->password != NULL) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	free(r->made);
	free(r);
}

static void
batch_free(struct batch *b)
{
	struct row *r;

	STAILQ_CONCAT(&b->queue, &b->waiting);
	while ((r = STAILQ_FIRST(&b->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&b->queue, entry);
		row_free(r);
	}
	while ((r = b->made) != NULL) {
		b->made = r->made_next;
		row_free(r);
	}
	if (b->retry_timer != NULL)
		loop_timer_cancel(b->req->pd->loop, b->retry_timer);
	if (b->verify_timer != NULL)
		loop_timer_cancel(b->req->pd->loop, b->verify_timer);
	strset_free(b->present);
	csv_reader_free(b->csv);
	strset_free(b->seen);
	strset_free(b->planned);
	free(b);
}

static bool verify_start(struct batch *b);

static void
maybe_finish(struct batch *b)
{
	struct request *req = b->req;
	bool drained = STAILQ_EMPTY(&b->queue) || b->stopping;
	struct rec r;
	int status;

	if (b->finished || b->inflight > 0 || !drained || !STAILQ_EMPTY(&b->waiting) ||
	    !(b->input_ended || b->stopping) || b->verifying)
		return;
	if (b->fatal_status == ST_OK && verify_start(b))
		return;
	b->finished = true;
	if (b->fatal_status != ST_OK) {
		request_pause_input(req, false);
		snprintf(req->audit_note, sizeof(req->audit_note), "rows=%lu", b->rows);
		request_done(req, b->fatal_status, "%s", b->fatal_msg);
		batch_free(b);
		return;
	}
	rec_begin(&r, req);
	rec_kv(&r, "summary", b->dry_run ? "plan" : "applied");
	rec_kvf(&r, "rows", "%lu", b->rows);
	rec_kvf(&r, "created", "%lu", b->created);
	rec_kvf(&r, "updated", "%lu", b->updated);
	rec_kvf(&r, "unchanged", "%lu", b->unchanged);
	rec_kvf(&r, "rejected", "%lu", b->rejected);
	rec_kvf(&r, "failed", "%lu", b->failed);
	if (b->lost > 0)
		rec_kvf(&r, "lost_in_failover", "%lu", b->lost);
	if (b->stopped_on_error)
		rec_kv(&r, "note", "stopped early at the first error (--on-error stop)");
	rec_end(&r);
	snprintf(req->audit_note, sizeof(req->audit_note),
	         "rows=%lu created=%lu updated=%lu unchanged=%lu rejected=%lu failed=%lu%s%s",
	         b->rows, b->created, b->updated, b->unchanged, b->rejected, b->failed,
	         b->dry_run ? " dry-run" : "", b->lost ? " lost-in-failover" : "");
	status = (b->rejected || b->failed) ? ST_PARTIAL : ST_OK;
	request_pause_input(req, false);
	{
		char lost[160] = "";

		if (b->lost > 0)
			snprintf(lost, sizeof(lost), "; %lu accounts lost with the old writer in a "
			         "failover, %lu of them made again", b->lost, b->remade);
		request_done(req, status, "%s%lu rows: %lu %s, %lu %s, %lu unchanged, "
		             "%lu rejected, %lu failed%s%s",
		             b->dry_run ? "plan, nothing written: " : "", b->rows, b->created,
		             b->dry_run ? "to create" : "created", b->updated,
		             b->dry_run ? "to update" : "updated", b->unchanged, b->rejected,
		             b->failed, lost,
		             b->stopped_on_error ? " (stopped early at the first error)" : "");
	}
	batch_free(b);
}

static void
progress(struct batch *b, bool force)
{
	uint64_t now = loop_now_ms();
	struct rec r;
	unsigned long done = b->created + b->updated + b->unchanged + b->rejected + b->failed;

	/* The journal learns of the rows done as they go: should provd be
	 * killed, the last such record says how far the batch got. */
	if (!b->dry_run && done > b->audited_rows &&
	    (done - b->audited_rows >= AUDIT_PROGRESS_ROWS ||
	     now - b->last_audit >= AUDIT_PROGRESS_MS)) {
		char note[256];

		b->last_audit = now;
		b->audited_rows = done;
		snprintf(note, sizeof(note),
		         "rows=%lu created=%lu updated=%lu unchanged=%lu rejected=%lu failed=%lu",
		         done, b->created, b->updated, b->unchanged, b->rejected, b->failed);
		audit_progress(b->req->pd->audit, b->req, note,
		               "in progress: the rows counted in the note are done");
	}
	if (!force && now - b->last_progress < PROGRESS_MS)
		return;
	b->last_progress = now;
	/* What provd knows: rows finished, rows and bytes read so far, and the
	 * total once the input has ended (provctl estimates it before then
	 * from the bytes and the file's size). */
	rec_begin_type(&r, b->req, WIRE_PROGRESS);
	rec_kvf(&r, "done", "%lu", done);
	rec_kvf(&r, "read", "%lu", b->read);
	rec_kvf(&r, "bytes", "%llu", b->bytes);
	if (b->input_ended)
		rec_kvf(&r, "total", "%lu", b->read);
	rec_end(&r);
}

/* Report one finished row. */
static void
report(struct batch *b, uint64_t num, const char *emp, const char *action,
       const char *login, const char *detail)
{
	struct rec r;

	rec_begin(&r, b->req);
	rec_kvf(&r, "row", "%llu", (unsigned long long)num);
	rec_kv(&r, "employee_id", emp ? emp : "");
	rec_kv(&r, "action", action);
	rec_kv(&r, "login", login ? login : "");
	rec_kv(&r, "detail", detail ? detail : "");
	rec_end(&r);
	progress(b, false);
}

static void
reject(struct batch *b, struct row *row, bool failed, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reject(struct batch *b, struct row *row, bool failed, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (failed)
		b->failed++;
	else
		b->rejected++;
	report(b, row->num, row->f[COL_EMPLOYEE_ID], failed ? "failed" : "rejected",
	       NULL, msg);
	if (b->stop_on_error) {
		b->stopping = true;
		b->stopped_on_error = true;
	}
}

static void row_done(void *arg, struct account_result *res);
static void submit_row(struct batch *b, struct row *row);

/* Wait for the directory rather than fail?  Only for "unavailable" and
 * "outcome unknown", not in a dry run, and within the batch's window
 * (from the first such row: the longer of RETRY_WINDOW_MIN_S and three
 * writer leases, the time a failover to another provider takes). */
static bool
may_retry(struct batch *b, const struct account_result *res)
{
	uint64_t now = loop_now_ms(), window;

	if (b->dry_run || b->stopping || !(res->outcome_unknown || res->status == ST_UNAVAILABLE))
		return false;
	if (b->retry_deadline == 0) {
		window = 3u * (uint64_t)b->req->pd->cfg.writer_lease;
		if (window < RETRY_WINDOW_MIN_S)
			window = RETRY_WINDOW_MIN_S;
		b->retry_deadline = now + window * 1000u;
	}
	return now < b->retry_deadline;
}

static void
retry_rows(void *arg)
{
	struct batch *b = arg;
	struct provd *pd = b->req->pd;
	struct rowq list = STAILQ_HEAD_INITIALIZER(list);
	struct row *row;
	bool expired = loop_now_ms() >= b->retry_deadline;

	b->retry_timer = NULL;
	if (!expired && (!dir_connected(pd->dir) || dir_write_gate(pd->dir, NULL) != DIR_GATE_OPEN)) {
		b->retry_timer = loop_timer(pd->loop, RETRY_STEP_MS, retry_rows, b);
		return;
	}
	STAILQ_CONCAT(&list, &b->waiting);
	while ((row = STAILQ_FIRST(&list)) != NULL) {
		STAILQ_REMOVE_HEAD(&list, entry);
		if (expired || b->stopping) {
			reject(b, row, true, "row %llu: the directory stayed unavailable for the "
			       "batch's retry window%s", (unsigned long long)row->num,
			       row->was_unknown ? "; the outcome of an earlier try is unknown, run "
			       "the file again to converge" : "");
			row_free(row);
			continue;
		}
		b->retried++;
		submit_row(b, row);
	}
	pump(b);
	maybe_finish(b);
}

/* ---- accounts lost with a writer that died --------------------------
 *
 * An add the old writer acknowledged but had not replicated when it died
 * is gone from the provider provd failed over to (until the old one comes
 * back, if ever), while its credentials line is already out.  So a batch
 * keeps its created rows with their passwords; if the directory connection
 * moved during the batch, it reads the employee ids present on the writer
 * at the end and makes every missing account again, by employee id, with
 * the same login and password — the credentials line holds again.  Such
 * rows get a second record (action "remade", or "failed" when the login
 * was taken meanwhile: that credentials line is void).
 */

/* The credentials line of a created account (a secret record: provctl
 * writes it to the --credentials file).  A second line for an employee id
 * replaces the first (provctl keeps the last). */
static void
credentials(struct batch *b, const struct row *row, const struct account_result *res)
{
	struct rec r;

	if (!b->credentials)
		return;
	rec_begin_type(&r, b->req, WIRE_SECRET);
	rec_kv(&r, "login", res->login);
	rec_kv(&r, "mail", res->mail);
	rec_kv(&r, "employee_id", row->f[COL_EMPLOYEE_ID]);
	rec_kv(&r, "password", res->password);
	rec_kv(&r, "expires", res->expires);
	rec_kv(&r, "change_at", b->req->pd->cfg.password_page_url);
	rec_end(&r);
}

/* Keep a created row for the check at the end; false: not kept. */
static bool
keep_made(struct batch *b, struct row *row, const struct account_result *res)
{
	if (b->nmade >= BATCH_VERIFY_MAX) {
		b->made_overflow = true;
		return false;
	}
	if ((row->password = strdup(res->password)) == NULL ||
	    (row->made = strdup(res->login)) == NULL) {
		b->made_overflow = true;
		return false;
	}
	row->made_next = b->made;
	b->made = row;
	b->nmade++;
	return true;
}

static void credentials(struct batch *b, const struct row *row,
                        const struct account_result *res);
static void submit_row(struct batch *b, struct row *row);

static void
remake_done(struct batch *b, struct row *row, struct account_result *res)
{
	char detail[900];

	if (res->status == ST_CONFLICT && !row->remake_new_login && !row->login_given) {
		/* Its login went to someone else on the new writer meanwhile:
		 * a new login, the same password. */
		row->remake_new_login = true;
		free(row->f[COL_LOGIN]);
		row->f[COL_LOGIN] = NULL;
		submit_row(b, row);
		pump(b);
		return;
	}
	if (res->status == ST_OK && res->action == ACCOUNT_CREATED && row->remake_new_login) {
		b->remade++;
		snprintf(detail, sizeof(detail), "the account made earlier as %s was lost with the "
		         "old writer in a failover, and %s went to another account meanwhile; made "
		         "again as %s with the same password: the credentials line for %s with "
		         "login %s is void, the new one replaces it", row->made, row->made,
		         res->login, row->f[COL_EMPLOYEE_ID], row->made);
		report(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login, detail);
		credentials(b, row, res);
	} else if (res->status == ST_OK && res->action == ACCOUNT_CREATED) {
		b->remade++;
		report(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login,
		       "the account made earlier was lost with the old writer in a failover; "
		       "made again with the same login and password");
	} else if (res->status == ST_OK) {
		/* It came back meanwhile (replicated late): nothing to do. */
		b->remade++;
		report(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login,
		       "missing after the failover, present again");
	} else {
		b->failed++;
		snprintf(detail, sizeof(detail), "the account made earlier (%s) was lost with "
		         "the old writer in a failover and could not be made again: %s; its "
		         "credentials line is void", row->made, res->msg);
		report(b, row->num, row->f[COL_EMPLOYEE_ID], "failed", row->made, detail);
	}
	row_free(row);
	pump(b);
}

static void
on_present(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct batch *b = arg;
	char **ids = dir_entry_get_all(ld, e, AT_EMPLOYEE_ID);
	size_t i;

	for (i = 0; ids && ids[i]; i++)
		(void)strset_add(b->present, ids[i]);
	dir_strv_free(ids);
}

static void verify_search(void *arg);

static void
on_present_done(void *arg, const struct dir_result *res)
{
	struct batch *b = arg;
	struct row *row, *list;
	char why[300];

	if (res->code != LDAP_SUCCESS) {
		strset_free(b->present);
		b->present = NULL;
		if (++b->verify_tries < VERIFY_TRIES) {
			b->verify_timer = loop_timer(b->req->pd->loop, RETRY_STEP_MS, verify_search, b);
			return;
		}
		log_warnx("batch: cannot check the accounts made against the writer: %s",
		          dir_result_str(res, why, sizeof(why)));
		b->verifying = false;
		b->verified = true;
		maybe_finish(b);
		return;
	}
	list = b->made;
	b->made = NULL;
	b->nmade = 0;
	while ((row = list) != NULL) {
		list = row->made_next;
		row->made_next = NULL;
		if (strset_has(b->present, row->f[COL_EMPLOYEE_ID])) {
			row_free(row);
			continue;
		}
		b->lost++;
		log_warnx("batch: row %llu: %s (employee id %s) is missing on %s after a "
		          "failover; making it again",
		          (unsigned long long)row->num, row->made, row->f[COL_EMPLOYEE_ID],
		          dir_uri(b->req->pd->dir));
		/* The same login (free again where it was lost) and password. */
		row->login_given = row->f[COL_LOGIN] != NULL && row->f[COL_LOGIN][0] != '\0';
		free(row->f[COL_LOGIN]);
		row->f[COL_LOGIN] = xstrdup(row->made);
		row->remake = true;
		submit_row(b, row);
	}
	strset_free(b->present);
	b->present = NULL;
	b->verifying = false;
	b->verified = true;
	if (b->lost > 0)
		log_warnx("batch: %lu accounts made in this batch were lost with the old writer; "
		          "made again", b->lost);
	maybe_finish(b);
}

static void
verify_search(void *arg)
{
	static const char *const attrs[] = {AT_EMPLOYEE_ID, NULL};
	struct batch *b = arg;
	struct provd *pd = b->req->pd;

	b->verify_timer = NULL;
	if ((b->present = strset_new(BATCH_MAX_ROWS * 2)) == NULL)
		fatal("batch: out of memory");
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL,
	           "(" AT_EMPLOYEE_ID "=*)", attrs, 0, NULL, on_present, on_present_done, b);
}

/* At the end of a batch whose directory connection moved (a failover):
 * start the check of the rows created.  false: nothing to check. */
static bool
verify_start(struct batch *b)
{
	if (b->verified || b->dry_run || b->made == NULL ||
	    dir_reconnects(b->req->pd->dir) == b->start_reconnects)
		return false;
	b->verifying = true;
	log_info("batch: the directory connection moved during the batch; checking the %zu "
	         "accounts made against %s", b->nmade, dir_uri(b->req->pd->dir));
	verify_search(b);
	return true;
}

static void
row_done(void *arg, struct account_result *res)
{
	struct row *row = arg;
	struct batch *b = row->b;
	char detail[600];

	b->inflight--;
	if (row->remake) {
		remake_done(b, row, res);
		return;
	}
	if (res->status != ST_OK && may_retry(b, res)) {
		row->was_unknown |= res->outcome_unknown;
		STAILQ_INSERT_TAIL(&b->waiting, row, entry);
		if (b->retry_timer == NULL) {
			log_info("batch: rows wait for the directory (%s); tried again for up to "
			         "%llu s", res->msg, (unsigned long long)((b->retry_deadline -
			         loop_now_ms()) / 1000u));
			b->retry_timer = loop_timer(b->req->pd->loop, RETRY_STEP_MS, retry_rows, b);
		}
		pump(b);
		return;
	}
	if (res->status != ST_OK) {
		reject(b, row, res->outcome_unknown || res->status == ST_UNAVAILABLE ||
		       res->status == ST_INTERNAL,
		       "row %llu: %s", (unsigned long long)row->num, res->msg);
	} else {
		switch (res->action) {
		case ACCOUNT_CREATED:   b->created++;   break;
		case ACCOUNT_UPDATED:   b->updated++;   break;
		case ACCOUNT_UNCHANGED: b->unchanged++; break;
		case ACCOUNT_REJECTED:  b->rejected++;  break;
		}
		snprintf(detail, sizeof(detail), "%s", res->action == ACCOUNT_UPDATED ?
		         res->changes : res->action == ACCOUNT_CREATED ? res->mail : "");
		if (row->was_unknown && res->action != ACCOUNT_CREATED)
			snprintf(detail, sizeof(detail), "an earlier try whose outcome was unknown "
			         "created this account; its password was not delivered: reset it "
			         "with 'provctl user passwd %s --generate'", res->login);
		report(b, row->num, row->f[COL_EMPLOYEE_ID],
		       account_action_name(res->action, b->dry_run), res->login, detail);
		if (res->action == ACCOUNT_CREATED && !b->dry_run)
			credentials(b, row, res);
		if (res->action == ACCOUNT_CREATED && !b->dry_run && keep_made(b, row, res)) {
			pump(b);
			return;
		}
	}
	row_free(row);
	pump(b);
}

int
batch_split_aliases(char *s, struct account_input *in)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, "; ", &save); tok != NULL; tok = strtok_r(NULL, "; ", &save)) {
		if (in->naliases >= ACCOUNT_MAX_ALIASES)
			return -1;
		in->aliases[in->naliases++] = tok;
	}
	return 0;
}

static void submit_row(struct batch *b, struct row *row);

static void
start_row(struct batch *b, struct row *row)
{
	const char *emp = row->f[COL_EMPLOYEE_ID];
	static const char *const required[] = { "employee_id", "full_name", "unit" };
	size_t i;

	b->rows++;
	if (row->error[0] != '\0') {
		reject(b, row, false, "%s", row->error);
		row_free(row);
		return;
	}
	for (i = 0; i < 3; i++)
		if (row->f[i] == NULL || row->f[i][0] == '\0') {
			reject(b, row, false, "row %llu: column %s is empty",
			       (unsigned long long)row->num, required[i]);
			row_free(row);
			return;
		}
	switch (strset_add(b->seen, emp)) {
	case 0:
		reject(b, row, false, "row %llu: employee_id %s is repeated in this file",
		       (unsigned long long)row->num, emp);
		row_free(row);
		return;
	case -1:
		reject(b, row, true, "row %llu: too many rows", (unsigned long long)row->num);
		row_free(row);
		return;
	}
	if (!request_may(b->req, ROLE_ADMIN | ROLE_ONBOARDER, row->f[COL_UNIT])) {
		reject(b, row, false, "row %llu: unit: no admin or onboarder role over %s",
		       (unsigned long long)row->num, row->f[COL_UNIT]);
		row_free(row);
		return;
	}
	submit_row(b, row);
}

/* Hand a checked row to account_create (again, for a retried row). */
static void
submit_row(struct batch *b, struct row *row)
{
	struct account_input in = { 0 };

	in.employee_id = row->f[COL_EMPLOYEE_ID];
	in.full_name = row->f[COL_FULL_NAME];
	in.unit = row->f[COL_UNIT];
	in.title = row->f[COL_TITLE];
	in.phone = row->f[COL_PHONE];
	in.login = row->f[COL_LOGIN];
	in.mail = row->f[COL_MAIL];
	in.quota = row->f[COL_QUOTA];
	free(row->aliases);
	row->aliases = NULL;
	if (row->f[COL_ALIASES] != NULL &&
	    batch_split_aliases(row->aliases = xstrdup(row->f[COL_ALIASES]), &in) < 0) {
		reject(b, row, false, "row %llu: aliases: at most %d",
		       (unsigned long long)row->num, ACCOUNT_MAX_ALIASES);
		row_free(row);
		return;
	}
	in.must_change = true;
	in.password = row->remake ? row->password : NULL;
	in.upsert = true;
	in.allow_update = b->allow_update;
	in.dry_run = b->dry_run;
	in.planned = b->planned;
	b->inflight++;
	account_create(b->req->pd, &in, row_done, row);
}

static void
pump(struct batch *b)
{
	struct row *row;

	/* With --on-error stop, rows go one at a time so that nothing after
	 * the first bad row is applied. */
	while (!b->stopping && (row = STAILQ_FIRST(&b->queue)) != NULL &&
	       b->inflight < (b->stop_on_error ? 1u : BATCH_WINDOW)) {
		STAILQ_REMOVE_HEAD(&b->queue, entry);
		b->queued--;
		start_row(b, row);
	}
	/* Read more input only when the queue has drained. */
	if (b->paused && STAILQ_EMPTY(&b->queue) && !b->stopping) {
		b->paused = false;
		request_pause_input(b->req, false);
	}
	maybe_finish(b);
}

static int
on_row(const struct csv_row *cr, void *arg)
{
	struct batch *b = arg;
	char err[300];
	struct row *row;
	size_t i;

	if (!b->header_done) {
		if (csv_header_bind(cr->fields, cr->nfields, batch_columns, NCOLS, b->col,
		                    err, sizeof(err)) < 0 || cr->error != 0) {
			b->fatal_status = ST_USAGE;
			snprintf(b->fatal_msg, sizeof(b->fatal_msg),
			         "header (line %llu): %s; nothing was written",
			         (unsigned long long)cr->line, cr->error ? cr->error_msg : err);
			b->stopping = true;
			return 1;
		}
		b->header_done = true;
		return 0;
	}
	if (cr->record > BATCH_MAX_ROWS || b->queued >= BATCH_QUEUE_MAX) {
		b->fatal_status = ST_USAGE;
		snprintf(b->fatal_msg, sizeof(b->fatal_msg), "more than %d rows in one file",
		         BATCH_MAX_ROWS);
		b->stopping = true;
		return 1;
	}
	row = xcalloc(1, sizeof(*row));
	row->b = b;
	row->num = cr->record;
	for (i = 0; i < NCOLS; i++) {
		int c = b->col[i];

		if (c >= 0)
			row->f[i] = xstrdup((size_t)c < cr->nfields ? cr->fields[c] : "");
	}
	if (cr->error != 0)
		snprintf(row->error, sizeof(row->error), "row %llu (line %llu): %s",
		         (unsigned long long)cr->record, (unsigned long long)cr->line,
		         cr->error_msg);
	STAILQ_INSERT_TAIL(&b->queue, row, entry);
	b->queued++;
	b->read++;
	return 0;
}

static void
on_data(struct request *req, const char *p, size_t n)
{
	struct batch *b = req->state;

	if (b->stopping)
		return;
	b->bytes += n;
	csv_feed(b->csv, p, n, on_row, b);
	if (!STAILQ_EMPTY(&b->queue) && !b->paused) {
		b->paused = true;
		request_pause_input(req, true);
	}
	pump(b);
}

static void
on_end(struct request *req)
{
	struct batch *b = req->state;

	if (!b->stopping) {
		csv_finish(b->csv, on_row, b);
		if (!b->header_done && b->fatal_status == ST_OK) {
			b->fatal_status = ST_USAGE;
			snprintf(b->fatal_msg, sizeof(b->fatal_msg), "empty file: no header row");
		}
	}
	b->input_ended = true;
	progress(b, true);      /* the total is known now */
	pump(b);
}

static void
on_cancel(struct request *req)
{
	struct batch *b = req->state;

	/* The client went away: finish what is in flight, start nothing new. */
	log_warnx("batch: client gone after %lu rows; stopping", b->rows);
	b->stopping = true;
	maybe_finish(b);
}

void
batch_import(struct request *req)
{
	const char *mode = cmd_arg(&req->args, "on-error");
	struct batch *b = xcalloc(1, sizeof(*b));

	b->req = req;
	STAILQ_INIT(&b->queue);
	STAILQ_INIT(&b->waiting);
	b->last_audit = loop_now_ms();
	b->start_reconnects = dir_reconnects(req->pd->dir);
	b->dry_run = cmd_flag(&req->args, "dry-run");
	b->credentials = cmd_flag(&req->args, "credentials");
	b->allow_update = request_may(req, ROLE_ADMIN, NULL);
	if (mode != NULL && strcmp(mode, "stop") != 0 && strcmp(mode, "continue") != 0) {
		free(b);
		request_done(req, ST_USAGE, "--on-error: 'stop' or 'continue', not '%.32s'", mode);
		return;
	}
	b->stop_on_error = mode != NULL && strcmp(mode, "stop") == 0;
	if (!b->dry_run && !b->credentials) {
		free(b);
		request_done(req, ST_USAGE, "batch import needs --credentials FILE for the "
		             "initial passwords (or --dry-run)");
		return;
	}
	if (!units_loaded(req->pd->units)) {
		free(b);
		request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
		return;
	}
	b->csv = csv_reader_new(NULL);      /* the defaults: never over a ceiling */
	b->seen = strset_new(BATCH_MAX_ROWS);
	if (b->dry_run)
		b->planned = strset_new(BATCH_MAX_ROWS);
	req->state = b;
	req->on_data = on_data;
	req->on_end = on_end;
	req->on_cancel = on_cancel;
}
