/* batch — CSV onboarding pipeline. See batch.h. */
#include "batch.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "account.h"
#include "account_admin.h"
#include "audit.h"
#include "pendingpw.h"
#include "csv.h"
#include "ldifread.h"
#include "address.h"
#include "names.h"
#include "schema.h"
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
/* Rows finish out of order (128 in flight, a rejected row at once, a row
 * waiting for the directory); their records go out in file order.  At most
 * this many started rows may be ahead of the oldest unfinished one: their
 * records wait in a ring of this many slots, and no row starts while it is
 * full, so a batch of any size holds at most this many records. */
#define BATCH_REORDER     4096
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

/* After batch_columns (batch.h, the columns an import file may have): a
 * plan's own columns (batch apply), bound with them in on_row. */
enum { COL_ROW = BATCH_NCOLS, COL_ACTION, COL_DETAIL, NCOLS };
#define NINPUT BATCH_NCOLS

static const struct csv_column plan_columns[NCOLS - NINPUT] = {
	[COL_ROW - NINPUT]    = { "row", 0 },
	[COL_ACTION - NINPUT] = { "action", 0 },
	[COL_DETAIL - NINPUT] = { "detail", 0 },
};

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

/* A finished row's record waiting for the rows started before it. */
struct held {
	bool      used;
	uint64_t  num;
	char     *emp, *action, *login, *detail;
};

/* An account in the directory, as --sync sees it. */
struct member {
	char *login, *dn, *emp, *unit;
	char *emp_low;                   /* emp in lower case, as the file's ids are kept */
};

/* One row of the plan (--plan-out): its fields, sent sorted by row at the end. */
struct planrec {
	uint64_t num;
	const char *key[NCOLS + 1];
	char       *val[NCOLS + 1];     /* malloc'd */
	size_t      n;
};

struct row {
	struct batch *b;
	uint64_t      num;           /* CSV record number: 2 = first data row */
	uint64_t      seq;           /* order started (records go out in it) */
	char         *f[NCOLS];      /* NULL when the column is absent */
	char          error[CSV_ERRMSG_MAX + 32];
	char         *aliases;       /* the split copy of f[COL_ALIASES] in use */
	bool          was_unknown;   /* an earlier try's outcome is unknown */
	char          login[NAMES_LOGIN_BUFSZ]; /* the planned login, "" = none */
	/* --from-ldif: what the other directory said */
	char          pref[NAMES_BASE_MAX + 1];   /* its login, kept when free */
	char          base[NAMES_BASE_MAX + 1];   /* the planned login's base */
	char         *hash;          /* its password hash, when kept (wiped) */
	char          note[300];     /* password reset, old addresses not kept */
	char         *old_local[ACCOUNT_MAX_ALIASES]; /* local parts of its addresses */
	size_t        nold_local;
	char         *extra_aliases; /* old local parts under our domain, ';' */
	bool          renamed;
	char         *password;      /* created: the password its credentials gave */
	char         *made;          /* created: the login made */
	bool          remake;        /* submitted again: lost in a failover */
	bool          remake_new_login; /* ... under a new login: the old one was taken */
	bool          login_given;   /* the file named the login */
	bool          submitted;     /* handed to account_create before */
	struct row   *made_next;     /* in b->made */
	STAILQ_ENTRY(row) entry;     /* in queue or waiting */
};
STAILQ_HEAD(rowq, row);

struct batch {
	struct request    *req;
	struct csv_reader *csv;
	int                col[NCOLS];
	bool               header_done;
	size_t             header_fields;  /* every row has this many fields */
	bool               dry_run, credentials, stop_on_error, allow_update;
	struct strset     *seen;       /* employee ids met in this file */
	struct strset     *planned;    /* dry run: logins planned so far */
	bool               apply;      /* batch apply: the logins come from the plan */
	/* Login choice is decided here, in file order, against one search of
	 * the directory made before the first row: two runs of one file on
	 * one directory plan the same logins, whatever the timing. */
	struct strset     *taken;      /* logins and local parts in use or planned */
	struct strset     *known_ids;  /* employee ids (lower case) in the directory */
	bool               prefetched;
	/* --sync: the file lists everyone of its units; the directory's
	 * accounts of those units that it does not list are leavers, deleted
	 * (acct_delete) once every row is done, unless there are too many. */
	bool               sync, force;
	struct strset     *file_units, *file_ids;  /* ids lower case */
	struct member     *members;    /* accounts not deleted, from the prefetch */
	size_t             nmembers, memcap;
	size_t            *leavers;    /* indexes into members */
	size_t             nleavers, next_leaver;
	bool               leavers_planned;
	unsigned long      deleted;
	struct planrec    *plan;       /* --plan-out: the rows' plan records */
	struct loop       *loop;       /* batch_free: the loop its memory is freed on */
	size_t             nplan, plancap;
	/* --from-ldif: another directory's export instead of a CSV file */
	struct ldifread   *ldif;
	char               source[24];
	struct umap { char *from, *to; } *umap;
	size_t             numap;
	unsigned long      renamed, reset, skipped;
	bool               plan_out;
	struct rowq        queue;      /* read, not started yet */
	uint64_t           next_seq;   /* the next row (or leaver) started gets this */
	uint64_t           next_out;   /* the seq whose record goes out next */
	struct held       *held;       /* BATCH_REORDER slots (seq % BATCH_REORDER) */
	size_t             queued;
	unsigned           inflight;
	bool               input_ended, stopping, paused, finished;
	bool               stopped_on_error;
	int                fatal_status;
	char               fatal_msg[1024];
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
	struct pendingpw  *pending;       /* rows whose password is not out yet */
	bool               client_gone;
};

static void pump(struct batch *b);
static void held_clear(struct held *h);
static void flush_held(struct batch *b, bool force);

static void
row_free(struct row *r)
{
	size_t i;

	for (i = 0; i < NCOLS; i++)
		free(r->f[i]);
	free(r->aliases);
	if (r->hash != NULL) {
		explicit_bzero(r->hash, strlen(r->hash));
		free(r->hash);
	}
	for (i = 0; i < r->nold_local; i++)
		free(r->old_local[i]);
	free(r->extra_aliases);
	if (r->password != NULL) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	free(r->made);
	free(r);
}

static void
plan_free(struct batch *b)
{
	size_t i, k;

	for (i = 0; i < b->nplan; i++)
		for (k = 0; k < b->plan[i].n; k++)
			free(b->plan[i].val[k]);
	free(b->plan);
	b->plan = NULL;
	b->nplan = 0;
}

static int
planrec_cmp(const void *x, const void *y)
{
	const struct planrec *a = x, *b = y;

	return a->num < b->num ? -1 : a->num > b->num;
}

/* The plan records, in row order (rows finish out of order). */
static void
plan_send(struct batch *b)
{
	size_t i, k;
	struct rec r;

	if (b->nplan > 1)
		qsort(b->plan, b->nplan, sizeof(b->plan[0]), planrec_cmp);
	for (i = 0; i < b->nplan; i++) {
		rec_begin_type(&r, b->req, WIRE_PLAN);
		for (k = 0; k < b->plan[i].n; k++)
			rec_kv(&r, b->plan[i].key[k], b->plan[i].val[k]);
		rec_end(&r);
	}
}

/*
 * The rest of a batch's memory, LOOP_SLICE_US at a time (from batch_free,
 * b->req no longer used): a batch of 10,000 rows over a directory of
 * 30,000 accounts holds some 200,000 allocations (the rows kept for the
 * check after a failover, the directory's logins, addresses and ids),
 * about 20 ms of free() that held the loop in one turn.
 */
static void
batch_bury(void *arg)
{
	struct batch *b = arg;
	struct strset **sets[] = {
		&b->present, &b->seen, &b->planned, &b->taken, &b->known_ids, &b->file_units,
		&b->file_ids,
	};
	uint64_t until = loop_now_us() + LOOP_SLICE_US;
	struct row *r;
	size_t i;

	for (i = 0; b->made != NULL || b->nmembers > 0 || i < sizeof(sets) / sizeof(sets[0]);) {
		if (loop_now_us() >= until) {
			loop_yield(b->loop, batch_bury, b);
			return;
		}
		if ((r = b->made) != NULL) {
			b->made = r->made_next;
			row_free(r);
		} else if (b->nmembers > 0) {
			struct member *m = &b->members[--b->nmembers];

			free(m->login);
			free(m->dn);
			free(m->emp);
			free(m->emp_low);
			free(m->unit);
		} else if (strset_free_some(*sets[i], 256)) {
			*sets[i++] = NULL;
		}
	}
	free(b->members);
	free(b->leavers);
	plan_free(b);
	free(b);
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
	if (b->retry_timer != NULL)
		loop_timer_cancel(b->req->pd->loop, b->retry_timer);
	if (b->verify_timer != NULL)
		loop_timer_cancel(b->req->pd->loop, b->verify_timer);
	pendingpw_close(b->pending, b->req->pd, b->client_gone);
	csv_reader_free(b->csv);
	ldifread_free(b->ldif);
	for (size_t i = 0; i < b->numap; i++) {
		free(b->umap[i].from);
		free(b->umap[i].to);
	}
	free(b->umap);
	if (b->held != NULL) {
		for (size_t i = 0; i < BATCH_REORDER; i++)
			held_clear(&b->held[i]);
		free(b->held);
	}
	b->loop = b->req->pd->loop;
	b->req = NULL;
	batch_bury(b);
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
	    !(b->input_ended || b->stopping) ||
	    (b->next_leaver < b->nleavers && !b->stopping) || b->verifying)
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
	flush_held(b, true);
	plan_send(b);
	rec_begin(&r, req);
	rec_kv(&r, "summary", b->dry_run ? "plan" : "applied");
	rec_kvf(&r, "rows", "%lu", b->rows);
	rec_kvf(&r, "created", "%lu", b->created);
	rec_kvf(&r, "updated", "%lu", b->updated);
	rec_kvf(&r, "unchanged", "%lu", b->unchanged);
	rec_kvf(&r, "rejected", "%lu", b->rejected);
	rec_kvf(&r, "failed", "%lu", b->failed);
	if (b->sync)
		rec_kvf(&r, "deleted", "%lu", b->deleted);
	if (b->ldif != NULL) {
		rec_kvf(&r, "renamed", "%lu", b->renamed);
		rec_kvf(&r, "password_reset", "%lu", b->reset);
		rec_kvf(&r, "skipped", "%lu", b->skipped);
	}
	if (b->lost > 0)
		rec_kvf(&r, "lost_in_failover", "%lu", b->lost);
	if (b->stopped_on_error)
		rec_kv(&r, "note", "stopped early at the first error (--on-error stop)");
	rec_end(&r);
	snprintf(req->audit_note, sizeof(req->audit_note),
	         "rows=%lu created=%lu updated=%lu unchanged=%lu rejected=%lu failed=%lu%s%s%s",
	         b->rows, b->created, b->updated, b->unchanged, b->rejected, b->failed,
	         b->dry_run ? " dry-run" : "", b->sync ? " sync" : "",
	         b->lost ? " lost-in-failover" : "");
	if (b->sync) {
		size_t n = strlen(req->audit_note);

		snprintf(req->audit_note + n, sizeof(req->audit_note) - n, " deleted=%lu",
		         b->deleted);
	}
	status = (b->rejected || b->failed) ? ST_PARTIAL : ST_OK;
	request_pause_input(req, false);
	{
		char gone[64] = "", lost[160] = "";

		if (b->sync)
			snprintf(gone, sizeof(gone), ", %lu %s", b->deleted,
			         b->dry_run ? "to delete" : "deleted");
		if (b->lost > 0)
			snprintf(lost, sizeof(lost), "; %lu accounts lost with the old writer in a "
			         "failover, %lu of them made again", b->lost, b->remade);
		request_done(req, status, "%s%lu rows: %lu %s, %lu %s, %lu unchanged, "
		             "%lu rejected, %lu failed%s%s%s",
		             b->dry_run ? "plan, nothing written: " : "", b->rows, b->created,
		             b->dry_run ? "to create" : "created", b->updated,
		             b->dry_run ? "to update" : "updated", b->unchanged, b->rejected,
		             b->failed, gone, lost,
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

/* Send one row's record now. */
static void
emit(struct batch *b, uint64_t num, const char *emp, const char *action,
     const char *login, const char *detail)
{
	struct rec r;

	rec_begin(&r, b->req);
	if (num == 0)
		rec_kv(&r, "row", "");        /* a leaver (--sync): in no row */
	else
		rec_kvf(&r, "row", "%llu", (unsigned long long)num);
	rec_kv(&r, "employee_id", emp ? emp : "");
	rec_kv(&r, "action", action);
	rec_kv(&r, "login", login ? login : "");
	rec_kv(&r, "detail", detail ? detail : "");
	rec_end(&r);
}

static void
held_clear(struct held *h)
{
	free(h->emp);
	free(h->action);
	free(h->login);
	free(h->detail);
	memset(h, 0, sizeof(*h));
}

/* Send the held records that are next in order.  force: nothing started
 * is unfinished (no row in flight or waiting), so a seq with no record
 * will never get one: skip it rather than hold the rest. */
static void
flush_held(struct batch *b, bool force)
{
	while (b->held != NULL && b->next_out < b->next_seq) {
		struct held *h = &b->held[b->next_out % BATCH_REORDER];

		if (h->used) {
			emit(b, h->num, h->emp, h->action, h->login, h->detail);
			held_clear(h);
		} else if (!force) {
			return;
		}
		b->next_out++;
	}
}

/* Report the finished row (or leaver) started seq-th: its record goes out
 * once every one started before it has gone out. */
static void
report(struct batch *b, uint64_t seq, uint64_t num, const char *emp, const char *action,
       const char *login, const char *detail)
{
	if (seq == b->next_out) {
		emit(b, num, emp, action, login, detail);
		b->next_out++;
		flush_held(b, false);
	} else if (seq > b->next_out && seq - b->next_out < BATCH_REORDER) {
		struct held *h;

		if (b->held == NULL)
			b->held = xcalloc(BATCH_REORDER, sizeof(*b->held));
		h = &b->held[seq % BATCH_REORDER];
		held_clear(h);
		h->used = true;
		h->num = num;
		h->emp = xstrdup(emp ? emp : "");
		h->action = xstrdup(action);
		h->login = xstrdup(login ? login : "");
		h->detail = xstrdup(detail ? detail : "");
	} else {
		/* A row made again after a failover (its first record is
		 * out), or past the ring (pump keeps that from happening). */
		emit(b, num, emp, action, login, detail);
	}
	progress(b, false);
}

static char *
xstrdup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

/* Keep this row's line of the plan (--plan-out): its number, the action,
 * the columns the file has (so that "not given" stays "not given" when the
 * plan is applied), the login and address it gets, and why. */
static void
plan_add(struct batch *b, const struct row *row, const char *action, const char *login,
         const char *mail, const char *detail)
{
	struct planrec *p;
	char num[24];
	size_t i;

	if (!b->plan_out)
		return;
	if (b->nplan == b->plancap) {
		size_t cap = b->plancap ? 2 * b->plancap : 256;
		struct planrec *v = realloc(b->plan, cap * sizeof(*v));

		if (v == NULL)
			fatal("batch: out of memory");
		b->plan = v;
		b->plancap = cap;
	}
	p = &b->plan[b->nplan++];
	memset(p, 0, sizeof(*p));
	p->num = row->num;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)row->num);
#define KV(k, v) do { p->key[p->n] = (k); p->val[p->n++] = xstrdup_or_empty(v); } while (0)
	KV("row", num);
	KV("action", action);
	for (i = 0; i < NINPUT; i++) {
		if (i == COL_LOGIN)
			KV(batch_columns[i].name, login ? login : row->f[i]);
		else if (i == COL_MAIL)
			KV(batch_columns[i].name, mail && mail[0] ? mail : row->f[i]);
		else if (i == COL_ALIASES && row->aliases != NULL)
			KV(batch_columns[i].name, row->aliases);
		else if (b->col[i] >= 0)
			KV(batch_columns[i].name, row->f[i]);
	}
	KV("detail", detail);
#undef KV
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
	report(b, row->seq, row->num, row->f[COL_EMPLOYEE_ID], failed ? "failed" : "rejected",
	       NULL, msg);
	plan_add(b, row, failed ? "failed" : "rejected", NULL, NULL, msg);
	if (b->stop_on_error) {
		b->stopping = true;
		b->stopped_on_error = true;
	}
}

static void row_done(void *arg, struct account_result *res);
static void submit_row(struct batch *b, struct row *row);

/* What HR must know of an absorbed person: a new login (and that the old
 * address still delivers), a password reset, old addresses not kept. */
static void
ldif_detail(struct batch *b, const struct row *row, const struct account_result *res,
            char *out, size_t outsz)
{
	int n;

	if (row->renamed) {
		b->renamed++;
		n = snprintf(out, outsz, "renamed: '%s' is taken here, new login %s (%s); old "
		             "addresses still deliver: %s", row->pref, res->login, res->mail,
		             row->f[COL_ALIASES] && row->f[COL_ALIASES][0] ?
		             row->f[COL_ALIASES] : "none kept");
	} else {
		n = snprintf(out, outsz, "%s", res->mail);
	}
	if (n >= 0 && (size_t)n < outsz && row->note[0] != '\0')
		snprintf(out + n, outsz - (size_t)n, "; %s", row->note);
	if (row->hash == NULL)
		b->reset++;
}

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
 * replaces the first (provctl keeps the last).  The row is over (pendingpw)
 * once that line is written to the client's socket, not when it is queued:
 * a client that goes away before has not got it. */
static void
credentials(struct batch *b, const struct row *row, const struct account_result *res)
{
	struct rec r;

	if (!b->credentials || res->password[0] == '\0') {  /* none: a kept hash */
		if (!b->client_gone && !res->outcome_unknown)
			pendingpw_end(b->pending, row->f[COL_EMPLOYEE_ID]);
		return;
	}
	rec_begin_type(&r, b->req, WIRE_SECRET);
	rec_kv(&r, "login", res->login);
	rec_kv(&r, "mail", res->mail);
	rec_kv(&r, "employee_id", row->f[COL_EMPLOYEE_ID]);
	rec_kv(&r, "password", res->password);
	rec_kv(&r, "expires", res->expires);
	rec_kv(&r, "change_at", b->req->pd->cfg.password_page_url);
	rec_end(&r);
	if (!res->outcome_unknown)
		pendingpw_end_when_written(b->pending, b->req, row->f[COL_EMPLOYEE_ID]);
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
		row->login[0] = '\0';
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
		emit(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login, detail);
		credentials(b, row, res);
	} else if (res->status == ST_OK && res->action == ACCOUNT_CREATED) {
		b->remade++;
		emit(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login,
		       "the account made earlier was lost with the old writer in a failover; "
		       "made again with the same login and password");
	} else if (res->status == ST_OK) {
		/* It came back meanwhile (replicated late): nothing to do. */
		b->remade++;
		emit(b, row->num, row->f[COL_EMPLOYEE_ID], "remade", res->login,
		       "missing after the failover, present again");
	} else {
		b->failed++;
		snprintf(detail, sizeof(detail), "the account made earlier (%s) was lost with "
		         "the old writer in a failover and could not be made again: %s; its "
		         "credentials line is void", row->made, res->msg);
		emit(b, row->num, row->f[COL_EMPLOYEE_ID], "failed", row->made, detail);
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
		if (row->login[0] != '\0')  /* planned: the one made, maybe a fallback's */
			snprintf(row->login, sizeof(row->login), "%s", row->made);
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
	/* Over when no account was made; a created one is over once its
	 * password is written to the client (credentials, below).  With the
	 * client gone, a created row stays in flight. */
	if (!b->dry_run && !res->outcome_unknown &&
	    (res->status != ST_OK || res->action != ACCOUNT_CREATED))
		pendingpw_end(b->pending, row->f[COL_EMPLOYEE_ID]);
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
		if (b->ldif != NULL && res->action == ACCOUNT_CREATED)
			ldif_detail(b, row, res, detail, sizeof(detail));
		if (row->was_unknown && res->action != ACCOUNT_CREATED)
			snprintf(detail, sizeof(detail), "an earlier try whose outcome was unknown "
			         "created this account; its password was not delivered: reset it "
			         "with 'provctl user passwd %s --generate'", res->login);
		report(b, row->seq, row->num, row->f[COL_EMPLOYEE_ID],
		       account_action_name(res->action, b->dry_run), res->login, detail);
		plan_add(b, row, account_action_name(res->action, true), res->login, res->mail,
		         detail);
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

/* Lower-case s into buf (ASCII; logins, addresses, employee ids). */
static const char *
lower(char *buf, size_t len, const char *s)
{
	return text_lower_ascii(buf, len, s);
}

/* The local part of addr (lower case) when it is in our domain. */
static const char *
our_local_part(const struct batch *b, const char *addr, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || strcasecmp(at + 1, b->req->pd->cfg.mail_domain) != 0 ||
	    (size_t)(at - addr) >= len)
		return NULL;
	memcpy(buf, addr, (size_t)(at - addr));
	buf[at - addr] = '\0';
	return lower(buf, len, buf);
}

static void
taken_add(struct batch *b, const char *login)
{
	char low[ACCOUNT_MAIL_MAX];

	if (strset_add(b->taken, lower(low, sizeof(low), login)) < 0)
		log_warnx("batch: too many logins to plan");
}

static size_t
strcount(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

/* An absorbed person's old local parts, under our domain, as aliases
 * where they are free here (and the address policy takes them). */
static void
ldif_local_aliases(struct batch *b, struct row *row)
{
	const struct config *cfg = &b->req->pd->cfg;
	char addr[ACCOUNT_MAIL_MAX], norm[ADDRESS_MAX], err[300], *list = NULL;
	size_t i, len = 0, naliases = 0;

	if (row->f[COL_ALIASES] != NULL && row->f[COL_ALIASES][0] != '\0')
		naliases = 1 + strcount(row->f[COL_ALIASES], ';');
	for (i = 0; i < row->nold_local; i++) {
		const char *l = row->old_local[i];

		if (naliases >= ACCOUNT_MAX_ALIASES || strcmp(l, row->login) == 0 ||
		    strset_has(b->taken, l))
			continue;
		snprintf(addr, sizeof(addr), "%s@%s", l, cfg->mail_domain);
		if (address_check(cfg, b->req->pd->units, "alias", addr, norm, sizeof(norm),
		                  err, sizeof(err)) != 0)
			continue;
		list = xrealloc(list, len + strlen(norm) + 2);
		len += (size_t)sprintf(list + len, "%s%s", len ? ";" : "", norm);
		taken_add(b, l);
		naliases++;
	}
	row->extra_aliases = list;
}

/*
 * Decide this row's login, in file order: an employee already in the
 * directory keeps the login it has (account_create updates it); a login
 * given in the file (or by the plan) must be free; otherwise the lowest
 * free suffix of the name's base among the directory's logins and those
 * planned for earlier rows.  Returns 0, or -1 with the row rejected.
 */
static int
plan_login(struct batch *b, struct row *row)
{
	const char *given = row->f[COL_LOGIN];
	char low[ACCOUNT_MAIL_MAX], base[NAMES_BASE_MAX + 1], err[300];
	unsigned n;
	size_t i;

	if (strset_has(b->known_ids, lower(low, sizeof(low), row->f[COL_EMPLOYEE_ID])))
		return 0;
	/* The addresses the row asks for are taken from now on. */
	for (i = 0; i < 2; i++) {
		const char *col = row->f[i ? COL_ALIASES : COL_MAIL];
		char copy[FIELD_MAIL_MAX * 4], *tok, *save = NULL;

		if (col == NULL)
			continue;
		snprintf(copy, sizeof(copy), "%s", col);
		for (tok = strtok_r(copy, "; ", &save); tok != NULL;
		     tok = strtok_r(NULL, "; ", &save))
			if (our_local_part(b, tok, low, sizeof(low)) != NULL &&
			    (i == 1 || given == NULL || given[0] == '\0' ||
			     strcmp(low, given) != 0))
				taken_add(b, low);
	}
	if (given != NULL && given[0] != '\0') {
		if (strset_has(b->taken, lower(low, sizeof(low), given))) {
			reject(b, row, false, "row %llu: login: '%.40s' is already taken",
			       (unsigned long long)row->num, given);
			return -1;
		}
		taken_add(b, given);
		return 0;
	}
	if (b->apply) {
		reject(b, row, false, "row %llu: the plan gives this row no login",
		       (unsigned long long)row->num);
		return -1;
	}
	/* An absorbed person keeps their login when it is free here.  A name
	 * refused here is refused by account_create with its message. */
	if (row->pref[0] != '\0')
		snprintf(base, sizeof(base), "%s", row->pref);
	else if (names_login_base(row->f[COL_FULL_NAME], base, sizeof(base), err,
	                          sizeof(err)) < 0)
		return 0;
	for (n = 1; ; n++) {
		if (names_login_candidate(base, n, row->login, sizeof(row->login)) < 0) {
			row->login[0] = '\0';
			reject(b, row, false, "row %llu: login: no free login for base '%s'",
			       (unsigned long long)row->num, base);
			return -1;
		}
		if (!strset_has(b->taken, row->login))
			break;
	}
	taken_add(b, row->login);
	memcpy(row->base, base, sizeof(row->base));
	row->renamed = row->pref[0] != '\0' && n > 1;
	ldif_local_aliases(b, row);
	return 0;
}

static void
start_row(struct batch *b, struct row *row)
{
	const char *emp = row->f[COL_EMPLOYEE_ID];
	static const char *const required[] = { "employee_id", "full_name", "unit" };
	size_t i;

	b->rows++;
	row->seq = b->next_seq++;
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
	if (b->apply) {
		const char *a = row->f[COL_ACTION];

		if (strcmp(a, "create") != 0 && strcmp(a, "update") != 0 &&
		    strcmp(a, "unchanged") != 0) {
			reject(b, row, false, "row %llu: the plan says '%.20s' for this row: %.200s",
			       (unsigned long long)row->num, a,
			       row->f[COL_DETAIL] ? row->f[COL_DETAIL] : "");
			row_free(row);
			return;
		}
	}
	if (plan_login(b, row) < 0) {
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
	if (!b->dry_run)
		pendingpw_begin(b->pending, in.employee_id);
	in.full_name = row->f[COL_FULL_NAME];
	in.unit = row->f[COL_UNIT];
	in.title = row->f[COL_TITLE];
	in.phone = row->f[COL_PHONE];
	in.login = row->login[0] ? row->login : row->f[COL_LOGIN];
	in.login_planned = row->login[0] != '\0' || b->apply;
	/* An import (not a plan being applied) takes the next free login when
	 * another writer took the planned one meanwhile. */
	in.login_fallback = row->login[0] != '\0' && !b->apply && !row->remake ? row->base :
	                    NULL;
	in.mail = row->f[COL_MAIL];
	in.quota = row->f[COL_QUOTA];
	in.password_hash = row->hash;
	free(row->aliases);
	row->aliases = NULL;
	if (row->extra_aliases != NULL) {
		const char *old = row->f[COL_ALIASES] ? row->f[COL_ALIASES] : "";

		row->aliases = xmalloc(strlen(old) + strlen(row->extra_aliases) + 2);
		sprintf(row->aliases, "%s%s%s", old, old[0] ? ";" : "", row->extra_aliases);
		if (batch_split_aliases(row->aliases, &in) < 0) {
			reject(b, row, false, "row %llu: aliases: at most %d",
			       (unsigned long long)row->num, ACCOUNT_MAX_ALIASES);
			row_free(row);
			return;
		}
	} else if (row->f[COL_ALIASES] != NULL &&
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
	/* Decided against the prefetch (plan_login): the first try of a new
	 * employee's row with its login and no other address needs no search
	 * of its own.  A retried or remade row searches. */
	{
		char low[FIELD_EMPLOYEE_ID_MAX * 4 + 1];

		in.known_free = !row->submitted && !row->remake && !row->was_unknown &&
		                in.login != NULL && in.login[0] != '\0' && in.naliases == 0 &&
		                (in.mail == NULL || in.mail[0] == '\0') &&
		                !strset_has(b->known_ids, lower(low, sizeof(low), in.employee_id));
	}
	row->submitted = true;
	b->inflight++;
	account_create(b->req->pd, &in, row_done, row);
}

/* --sync: which accounts would go, and is that too many?  Runs once, with
 * the whole file read and the directory's accounts known, before any row
 * is applied; too many stops the batch with nothing written. */
static void
plan_leavers(struct batch *b)
{
	size_t i, total = 0;
	unsigned pct = b->req->pd->cfg.sync_max_delete_percent;

	b->leavers_planned = true;
	if (b->stopping)
		return;
	for (i = 0; i < b->nmembers; i++) {
		const struct member *m = &b->members[i];

		if (m->unit == NULL || !strset_has(b->file_units, m->unit))
			continue;
		total++;
		if (m->emp_low != NULL && !strset_has(b->file_ids, m->emp_low))
			b->leavers[b->nleavers++] = i;
	}
	if (b->nleavers > 0 && !b->force &&
	    (unsigned long long)b->nleavers * 100u > (unsigned long long)pct * total) {
		b->fatal_status = ST_CONFLICT;
		snprintf(b->fatal_msg, sizeof(b->fatal_msg), "--sync: %zu of the %zu accounts "
		         "of the file's units are not in the file and would be deleted, more "
		         "than mail.sync_max_delete_percent (%u%%); nothing was written. Check "
		         "the file, or run again with --force", b->nleavers, total, pct);
		b->nleavers = 0;
		b->stopping = true;
	}
}

struct leaver {
	struct batch *b;
	size_t        idx;
	uint64_t      seq;
};

static void
leaver_done(void *ctx, const char *login, int status, const char *msg, const char *certs)
{
	struct leaver *l = ctx;
	struct batch *b = l->b;
	const struct member *m = &b->members[l->idx];
	char detail[900];

	b->inflight--;
	if (status == ST_OK) {
		b->deleted++;
		snprintf(detail, sizeof(detail), "not in the file: %s; certificates: %s", msg, certs);
		report(b, l->seq, 0, m->emp, b->dry_run ? "delete" : "deleted", login, detail);
	} else {
		b->failed++;
		report(b, l->seq, 0, m->emp, "failed", login, msg);
	}
	free(l);
	pump(b);
}

static void
start_leaver(struct batch *b, size_t idx)
{
	const struct member *m = &b->members[idx];
	struct acct_target t;
	struct leaver *l;
	uint64_t seq = b->next_seq++;

	/* Deleting needs the admin role over the account's unit, as for
	 * `user delete`. */
	if (!request_may(b->req, ROLE_ADMIN, m->unit)) {
		char detail[200];

		b->rejected++;
		snprintf(detail, sizeof(detail), "not in the file, but no admin role over %s: "
		         "not deleted", m->unit);
		report(b, seq, 0, m->emp, "rejected", m->login, detail);
		return;
	}
	memset(&t, 0, sizeof(t));
	snprintf(t.dn, sizeof(t.dn), "%s", m->dn);
	snprintf(t.login, sizeof(t.login), "%s", m->login);
	snprintf(t.unit, sizeof(t.unit), "%s", m->unit);
	snprintf(t.status, sizeof(t.status), "active");
	l = xcalloc(1, sizeof(*l));
	l->b = b;
	l->idx = idx;
	l->seq = seq;
	b->inflight++;
	acct_delete(b->req->pd, &t, b->dry_run, leaver_done, l);
}

static void
pump(struct batch *b)
{
	struct row *row;

	/* With --on-error stop, rows go one at a time so that nothing after
	 * the first bad row is applied.  No row starts before the directory's
	 * logins are known. */
	if (b->sync && b->prefetched && b->input_ended && !b->leavers_planned)
		plan_leavers(b);
	/* Nothing started is unfinished: no held record waits for another. */
	if (b->inflight == 0 && STAILQ_EMPTY(&b->waiting))
		flush_held(b, true);
	while (b->prefetched && (!b->sync || b->input_ended) && !b->stopping &&
	       (row = STAILQ_FIRST(&b->queue)) != NULL &&
	       b->inflight < (b->stop_on_error ? 1u : BATCH_WINDOW) &&
	       b->next_seq - b->next_out < BATCH_REORDER) {
		STAILQ_REMOVE_HEAD(&b->queue, entry);
		b->queued--;
		start_row(b, row);
	}
	while (STAILQ_EMPTY(&b->queue) && b->input_ended && b->leavers_planned && !b->stopping &&
	       b->next_leaver < b->nleavers && b->inflight < BATCH_WINDOW &&
	       b->next_seq - b->next_out < BATCH_REORDER)
		start_leaver(b, b->leavers[b->next_leaver++]);
	/* Read more input only when the queue has drained. */
	if (b->paused && STAILQ_EMPTY(&b->queue) && !b->stopping) {
		b->paused = false;
		request_pause_input(b->req, false);
	}
	maybe_finish(b);
}

/* A parsed row (CSV or LDIF) joins the queue; with --sync, its unit and
 * employee id are remembered (the leavers are known only at the end). */
static void
enqueue(struct batch *b, struct row *row)
{
	if (b->sync) {
		char low[FIELD_EMPLOYEE_ID_MAX * 4 + 1];

		if (row->f[COL_UNIT] != NULL && strset_add(b->file_units, row->f[COL_UNIT]) < 0)
			fatal("batch: out of memory");
		if (row->f[COL_EMPLOYEE_ID] != NULL &&
		    strset_add(b->file_ids, lower(low, sizeof(low), row->f[COL_EMPLOYEE_ID])) < 0)
			fatal("batch: out of memory");
	}
	STAILQ_INSERT_TAIL(&b->queue, row, entry);
	b->queued++;
	b->read++;
}

/* What a header csv_header_bind refused most likely needs: commas, not
 * the semicolons of a spreadsheet saved in a comma-decimal locale; else the
 * names an import file may use. */
static const char *
header_hint(const struct csv_row *cr, char *hint, size_t len)
{
	size_t i, off;

	if (cr->nfields == 1 && cr->fields[0] != NULL && strchr(cr->fields[0], ';') != NULL)
		return " (the fields are separated by ';': save the file as CSV with commas)";
	off = (size_t)snprintf(hint, len, " (columns:");
	for (i = 0; i < NINPUT && off < len; i++)
		off += (size_t)snprintf(hint + off, len - off, "%s %s%s", i ? "," : "",
		                        batch_columns[i].name,
		                        batch_columns[i].required ? " (required)" : "");
	if (off < len)
		snprintf(hint + off, len - off, ")");
	return hint;
}

static int
on_row(const struct csv_row *cr, void *arg)
{
	struct batch *b = arg;
	char err[300];
	struct row *row;
	size_t i;

	if (!b->header_done) {
		struct csv_column cols[NCOLS];
		char hint[300];

		memcpy(cols, batch_columns, sizeof(batch_columns));
		memcpy(cols + NINPUT, plan_columns, sizeof(plan_columns));
		if (csv_header_bind(cr->fields, cr->nfields, cols, NCOLS, b->col,
		                    err, sizeof(err)) < 0 || cr->error != 0) {
			b->fatal_status = ST_USAGE;
			snprintf(b->fatal_msg, sizeof(b->fatal_msg),
			         "header (line %llu): %s; nothing was written%s",
			         (unsigned long long)cr->line, cr->error ? cr->error_msg : err,
			         cr->error ? "" : header_hint(cr, hint, sizeof(hint)));
			b->stopping = true;
			return 1;
		}
		if (b->apply && (b->col[COL_ROW] < 0 || b->col[COL_ACTION] < 0 ||
		                 b->col[COL_LOGIN] < 0)) {
			b->fatal_status = ST_USAGE;
			snprintf(b->fatal_msg, sizeof(b->fatal_msg), "header: a plan has the "
			         "columns row, action and login (batch import --plan-out); "
			         "nothing was written");
			b->stopping = true;
			return 1;
		}
		if (!b->apply && (b->col[COL_ROW] >= 0 || b->col[COL_ACTION] >= 0)) {
			b->fatal_status = ST_USAGE;
			snprintf(b->fatal_msg, sizeof(b->fatal_msg), "header: this file is a plan "
			         "(columns row, action): apply it with 'batch apply'; nothing "
			         "was written");
			b->stopping = true;
			return 1;
		}
		b->header_done = true;
		b->header_fields = cr->nfields;
		return 0;
	}
	if (cr->record > BATCH_MAX_ROWS ||
	    b->queued >= (b->sync ? (size_t)BATCH_MAX_ROWS : (size_t)BATCH_QUEUE_MAX)) {
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
	else if (cr->nfields != b->header_fields)
		/* A field too many is most often a comma in an unquoted value:
		 * taking the row would shift or drop a column. */
		snprintf(row->error, sizeof(row->error), "row %llu (line %llu): %zu fields, "
		         "the header has %zu%s", (unsigned long long)cr->record,
		         (unsigned long long)cr->line, cr->nfields, b->header_fields,
		         cr->nfields > b->header_fields ?
		         " (a value holding a comma must be in double quotes)" : "");
	else if (b->apply) {
		/* A plan names each row by its number in the file it was made from. */
		const char *v = row->f[COL_ROW];
		char *end = NULL;
		unsigned long long num = v != NULL && v[0] >= '1' && v[0] <= '9' ?
		                         strtoull(v, &end, 10) : 0;

		if (num == 0 || *end != '\0' || num > BATCH_MAX_ROWS + 1ull)
			snprintf(row->error, sizeof(row->error), "plan line %llu: column row: "
			         "want the row number", (unsigned long long)cr->line);
		else
			row->num = num;
	}
	enqueue(b, row);
	return 0;
}

/* ---- --from-ldif: another directory's export ----------------------- */

/* Password schemes both slapd binds and Dovecot lookups verify, kept as
 * they are; any other hash is replaced by an initial password. */
static bool
hash_kept(const char *v)
{
	static const char *const kept[] = {
		"{SSHA}", "{SSHA512}", "{CRYPT}$6$", "{CRYPT}$y$", NULL
	};
	size_t i;

	for (i = 0; kept[i] != NULL; i++)
		if (strncasecmp(v, kept[i], strlen(kept[i])) == 0 && v[strlen(kept[i])] != '\0')
			return true;
	return false;
}

static const char *
umap_find(const struct batch *b, const char *from)
{
	size_t i;

	for (i = 0; i < b->numap; i++)
		if (strcasecmp(b->umap[i].from, from) == 0)
			return b->umap[i].to;
	return NULL;
}

static bool
has_value(const struct ldif_entry *e, const char *attr, const char *value)
{
	size_t i;

	for (i = 0; i < e->nattrs; i++)
		if (strcasecmp(e->attrs[i].name, attr) == 0 &&
		    strcasecmp(e->attrs[i].value, value) == 0)
			return true;
	return false;
}

static const char *
first_value(const struct ldif_entry *e, const char *attr)
{
	size_t i;

	for (i = 0; i < e->nattrs; i++)
		if (strcasecmp(e->attrs[i].name, attr) == 0)
			return e->attrs[i].value;
	return NULL;
}

static void
set_field(struct row *row, int col, const char *v)
{
	free(row->f[col]);
	row->f[col] = v ? xstrdup(v) : NULL;
}

/* One entry of the export as a row: the person's name, unit (through the
 * units map), title and phone; employee id SOURCE.ID; their login as the
 * preferred one; their addresses kept as aliases where the address policy
 * takes them; their password hash when both servers verify it.  Entries
 * that are not people (units, groups) are skipped. */
static int
on_ldif_record(const struct ldif_entry *e, void *arg)
{
	struct batch *b = arg;
	const struct config *cfg = &b->req->pd->cfg;
	const char *uid, *emp, *unit = NULL, *pw, *to = NULL;
	char id[FIELD_EMPLOYEE_ID_MAX * 2], low[NAMES_LOGIN_BUFSZ + 8], norm[ADDRESS_MAX];
	char err[300], *aliases = NULL;
	struct row *row;
	size_t i, len = 0, n;

	if (e->error == NULL && !has_value(e, AT_OBJECT_CLASS, OC_PERSON) &&
	    !has_value(e, AT_OBJECT_CLASS, "person")) {
		b->skipped++;
		return 0;
	}
	if (b->queued >= (b->sync ? (size_t)BATCH_MAX_ROWS : (size_t)BATCH_QUEUE_MAX) ||
	    e->num > BATCH_MAX_ROWS) {
		b->fatal_status = ST_USAGE;
		snprintf(b->fatal_msg, sizeof(b->fatal_msg), "more than %d entries in one export",
		         BATCH_MAX_ROWS);
		b->stopping = true;
		return 1;
	}
	row = xcalloc(1, sizeof(*row));
	row->b = b;
	row->num = e->num;
	if (e->error != NULL) {
		snprintf(row->error, sizeof(row->error), "entry %llu (line %llu): %s",
		         (unsigned long long)e->num, (unsigned long long)e->line, e->error);
		goto queue;
	}
	emp = first_value(e, AT_EMPLOYEE_ID);
	snprintf(id, sizeof(id), "%s.%s", b->source, emp ? emp : "");
	set_field(row, COL_EMPLOYEE_ID, emp ? id : "");
	set_field(row, COL_FULL_NAME, first_value(e, AT_CN));
	set_field(row, COL_TITLE, first_value(e, AT_TITLE));
	set_field(row, COL_PHONE, first_value(e, AT_PHONE));
	for (i = 0; i < e->nattrs && to == NULL; i++)
		if (strcasecmp(e->attrs[i].name, AT_UNIT) == 0 ||
		    strcasecmp(e->attrs[i].name, AT_OU) == 0) {
			unit = e->attrs[i].value;
			to = umap_find(b, unit);
		}
	set_field(row, COL_UNIT, to ? to : "");
	if (to == NULL) {
		char clean[70];

		text_sanitize(unit ? unit : "", unit ? strnlen(unit, 64) : 0, clean, sizeof(clean));
		snprintf(row->error, sizeof(row->error), "entry %llu (line %llu): unit: '%s' is "
		         "not in --units-map", (unsigned long long)e->num,
		         (unsigned long long)e->line, unit ? clean : "(none)");
	}
	if ((uid = first_value(e, AT_UID)) != NULL) {
		lower(low, sizeof(low), uid);
		if (names_login_valid(low) && strlen(low) < sizeof(row->pref))
			memcpy(row->pref, low, strlen(low) + 1);
	}
	/* Their addresses: kept where the policy takes them (their old domain
	 * in mail.alias_domains); the local parts go under our domain too. */
	for (i = 0; i < e->nattrs; i++) {
		const char *v = e->attrs[i].value, *at;

		if (strcasecmp(e->attrs[i].name, AT_MAIL) != 0 &&
		    strcasecmp(e->attrs[i].name, AT_MAIL_ALIAS) != 0)
			continue;
		if ((at = strrchr(v, '@')) != NULL && row->nold_local < ACCOUNT_MAX_ALIASES &&
		    (size_t)(at - v) < sizeof(low)) {
			memcpy(low, v, (size_t)(at - v));
			low[at - v] = '\0';
			lower(low, sizeof(low), low);
			row->old_local[row->nold_local++] = xstrdup_or_empty(low);
		}
		if (strcount(aliases ? aliases : "", ';') + 1 >= ACCOUNT_MAX_ALIASES / 2)
			continue;
		if (address_check(cfg, b->req->pd->units, "alias", v, norm, sizeof(norm),
		                  err, sizeof(err)) != 0) {
			n = strlen(row->note);
			snprintf(row->note + n, sizeof(row->note) - n, "%sold address not kept: %.120s",
			         n ? "; " : "", err);
			continue;
		}
		if (aliases != NULL && strstr(aliases, norm) != NULL)
			continue;
		aliases = xrealloc(aliases, len + strlen(norm) + 2);
		len += (size_t)sprintf(aliases + len, "%s%s", len ? ";" : "", norm);
	}
	set_field(row, COL_ALIASES, aliases ? aliases : "");
	free(aliases);
	pw = first_value(e, AT_PASSWORD);
	if (pw != NULL && hash_kept(pw)) {
		row->hash = xstrdup_or_empty(pw);
	} else {
		char scheme[24] = "";

		if (pw != NULL && pw[0] == '{')
			text_sanitize(pw, strcspn(pw, "}") + 1 < 20 ? strcspn(pw, "}") + 1 : 0,
			              scheme, sizeof(scheme));
		n = strlen(row->note);
		snprintf(row->note + n, sizeof(row->note) - n, "%spassword reset: %s", n ? "; " : "",
		         pw == NULL ? "no password in the export" :
		         scheme[0] ? scheme : "a hash scheme");
		n = strlen(row->note);
		if (pw != NULL)
			snprintf(row->note + n, sizeof(row->note) - n, " is not verified by both "
			         "slapd and Dovecot; an initial password is in the credentials file");
	}
queue:
	enqueue(b, row);
	return 0;
}

/* --units-map: "their unit,our unit code" a line; '#' comments. */
static int
umap_load(struct batch *b, const char *text, char *err, size_t errlen)
{
	const char *p = text;
	unsigned long line = 0;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *comma;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char buf[300], *from, *to, *end;

		line++;
		if (n >= sizeof(buf) || b->numap >= 100000) {
			snprintf(err, errlen, "--units-map: line %lu too long, or too many lines", line);
			return -1;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (eol != NULL);
		while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' '))
			buf[--n] = '\0';
		if (buf[0] == '\0' || buf[0] == '#')
			continue;
		if ((comma = strchr(buf, ',')) == NULL) {
			snprintf(err, errlen, "--units-map: line %lu: want 'their unit,our unit'", line);
			return -1;
		}
		from = buf;
		buf[comma - buf] = '\0';
		to = buf + (comma - buf) + 1;
		while (*to == ' ')
			to++;
		for (end = from + strlen(from); end > from && end[-1] == ' '; end--)
			end[-1] = '\0';
		if (from[0] == '\0' || to[0] == '\0' || strchr(to, ',') != NULL) {
			snprintf(err, errlen, "--units-map: line %lu: want 'their unit,our unit'", line);
			return -1;
		}
		b->umap = xrealloc(b->umap, (b->numap + 1) * sizeof(*b->umap));
		b->umap[b->numap].from = xstrdup_or_empty(from);
		b->umap[b->numap].to = xstrdup_or_empty(to);
		b->numap++;
	}
	return 0;
}

static void
on_data(struct request *req, const char *p, size_t n)
{
	struct batch *b = req->state;

	if (b->stopping)
		return;
	b->bytes += n;
	if (b->ldif != NULL)
		ldifread_feed(b->ldif, p, n, on_ldif_record, b);
	else
		csv_feed(b->csv, p, n, on_row, b);
	/* --sync reads the whole file before the first row (the leavers are
	 * known only then), so its input is never paused. */
	if (!STAILQ_EMPTY(&b->queue) && !b->paused && !b->sync) {
		b->paused = true;
		request_pause_input(req, true);
	}
	pump(b);
}

static void
on_end(struct request *req)
{
	struct batch *b = req->state;

	if (!b->stopping && b->ldif != NULL) {
		ldifread_finish(b->ldif, on_ldif_record, b);
	} else if (!b->stopping) {
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
	b->client_gone = true;
	maybe_finish(b);
}

static const char *const prefetch_attrs[] = {
	AT_UID, AT_MAIL, AT_MAIL_ALIAS, AT_EMPLOYEE_ID, AT_UNIT, AT_LOCKED_TIME,
	AT_DELETE_AFTER, NULL
};

/* --sync: remember an account that is not deleted. */
static void
member_add(struct batch *b, LDAP *ld, LDAPMessage *e)
{
	struct member *m;

	if (account_state_read(ld, e) == ACCOUNT_STATE_DELETED)
		return;
	if (b->nmembers == b->memcap) {
		size_t cap = b->memcap ? 2 * b->memcap : 1024;
		struct member *v = realloc(b->members, cap * sizeof(*v));
		size_t *w = realloc(b->leavers, cap * sizeof(*w));

		if (v == NULL || w == NULL)
			fatal("batch: out of memory");
		b->members = v;
		b->leavers = w;
		b->memcap = cap;
	}
	m = &b->members[b->nmembers++];
	m->login = dir_entry_get(ld, e, AT_UID);
	m->dn = dir_entry_dn(ld, e);
	m->unit = dir_entry_get(ld, e, AT_UNIT);
	m->emp = dir_entry_get(ld, e, AT_EMPLOYEE_ID);
	if (m->emp != NULL && (m->emp_low = xstrdup(m->emp)) != NULL)
		lower(m->emp_low, strlen(m->emp_low) + 1, m->emp);
	if (m->login == NULL || m->dn == NULL || !names_login_valid(m->login)) {
		/* Not an account provd could delete: never a leaver. */
		free(m->unit);
		m->unit = NULL;
	}
}

static void
prefetch_entry(void *arg, LDAP *ld, LDAPMessage *e)
{
	struct batch *b = arg;
	char **v, low[ACCOUNT_MAIL_MAX];
	size_t k, i;

	if (b->sync)
		member_add(b, ld, e);
	for (k = 0; k < 4; k++) {
		if ((v = dir_entry_get_all(ld, e, prefetch_attrs[k])) == NULL)
			continue;
		for (i = 0; v[i] != NULL; i++) {
			if (k == 0)
				taken_add(b, v[i]);
			else if (k == 3)
				strset_add(b->known_ids, lower(low, sizeof(low), v[i]));
			else if (our_local_part(b, v[i], low, sizeof(low)) != NULL)
				taken_add(b, low);
		}
		dir_strv_free(v);
	}
}

static void
prefetch_done(void *arg, const struct dir_result *res)
{
	struct batch *b = arg;
	char why[300];

	b->inflight--;
	if (res->code != LDAP_SUCCESS && b->fatal_status == ST_OK) {
		b->fatal_status = schema_status_of_ldap(res->code);
		snprintf(b->fatal_msg, sizeof(b->fatal_msg), "directory: %s; nothing was written",
		         dir_result_str(res, why, sizeof(why)));
		b->stopping = true;
	}
	b->prefetched = true;
	pump(b);
}

/* One search for every login, address and employee id in the directory
 * (counted as a row in flight, so the batch outlives it). */
static void
prefetch(struct batch *b)
{
	struct provd *pd = b->req->pd;

	b->inflight++;
	dir_search(pd->dir, pd->cfg.people_dn, LDAP_SCOPE_ONELEVEL, "(objectClass=*)",
	           prefetch_attrs, 0, NULL, prefetch_entry, prefetch_done, b);
}

static void batch_start(struct request *req, bool apply);

/* batch import: a CSV file (the operand), or --from-ldif with --source and
 * --units-map.  -1 when the request was refused (b freed). */
static int
batch_ldif_setup(struct batch *b)
{
	struct request *req = b->req;
	const char *name = cmd_arg(&req->args, "from-ldif"), *source, *map;
	char err[300];
	size_t i;

	if ((name != NULL) == (req->args.noperands > 0)) {
		batch_free(b);
		request_done(req, ST_USAGE, "batch import: give FILE.csv or --from-ldif "
		             "EXPORT.ldif (one of them)");
		return -1;
	}
	if (name == NULL)
		return 0;
	if (b->sync) {
		/* The export lists their staff, not ours: every account of the
		 * units it maps to would be a leaver. */
		batch_free(b);
		request_done(req, ST_USAGE, "--sync does not go with --from-ldif");
		return -1;
	}
	source = cmd_arg(&req->args, "source");
	map = cmd_arg(&req->args, "units-map");
	if (source == NULL || map == NULL) {
		batch_free(b);
		request_done(req, ST_USAGE, "--from-ldif needs --source NAME and --units-map MAP");
		return -1;
	}
	for (i = 0; source[i] != '\0'; i++)
		if (!((source[i] >= 'a' && source[i] <= 'z') || (source[i] >= '0' && source[i] <= '9') ||
		      (i > 0 && source[i] == '-')))
			break;
	if (i == 0 || source[i] != '\0' || i >= sizeof(b->source) - 8) {
		batch_free(b);
		request_done(req, ST_USAGE, "--source: a short name of [a-z0-9-] (at most %zu), "
		             "e.g. hoa-binh", sizeof(b->source) - 9);
		return -1;
	}
	snprintf(b->source, sizeof(b->source), "%s", source);
	if (umap_load(b, map, err, sizeof(err)) < 0) {
		batch_free(b);
		request_done(req, ST_USAGE, "%s", err);
		return -1;
	}
	b->ldif = ldifread_new();
	/* The plan's columns: those an entry gives. */
	for (i = 0; i < NCOLS; i++)
		b->col[i] = -1;
	b->col[COL_EMPLOYEE_ID] = b->col[COL_FULL_NAME] = b->col[COL_UNIT] = 0;
	b->col[COL_TITLE] = b->col[COL_PHONE] = b->col[COL_ALIASES] = 0;
	b->header_done = true;
	return 0;
}

void
batch_import(struct request *req)
{
	batch_start(req, false);
}

void
batch_apply(struct request *req)
{
	batch_start(req, true);
}

static void
batch_start(struct request *req, bool apply)
{
	const char *mode = cmd_arg(&req->args, "on-error");
	struct batch *b = xcalloc(1, sizeof(*b));

	b->req = req;
	STAILQ_INIT(&b->queue);
	STAILQ_INIT(&b->waiting);
	b->apply = apply;
	b->plan_out = cmd_arg(&req->args, "plan-out") != NULL;
	b->sync = cmd_opt(req->args.spec, "sync") != NULL && cmd_flag(&req->args, "sync");
	b->force = cmd_opt(req->args.spec, "force") != NULL && cmd_flag(&req->args, "force");
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
	if (!apply && batch_ldif_setup(b) < 0)
		return;
	if (b->ldif == NULL)
		b->csv = csv_reader_new(NULL);      /* the defaults: never over a ceiling */
	b->seen = strset_new(BATCH_MAX_ROWS);
	b->taken = strset_new(4u * BATCH_MAX_ROWS);
	b->known_ids = strset_new(4u * BATCH_MAX_ROWS);
	if (b->sync) {
		b->file_units = strset_new(BATCH_MAX_ROWS);
		b->file_ids = strset_new(BATCH_MAX_ROWS);
	}
	if (b->dry_run)
		b->planned = strset_new(BATCH_MAX_ROWS);
	else
		b->pending = pendingpw_open(req->pd, req->id, req->peer.uid, req->peer.name);
	req->state = b;
	req->on_data = on_data;
	req->on_end = on_end;
	req->on_cancel = on_cancel;
	prefetch(b);
}
