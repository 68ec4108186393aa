/*
 * batch — `batch import`: onboarding staff from a CSV file streamed over the
 * control socket.
 *
 * Rows flow through a bounded pipeline: the CSV reader parses each DATA
 * chunk, rows wait in a short queue, at most BATCH_WINDOW rows are in flight
 * (one directory search and one write each), and input is paused while the
 * queue is full, so memory stays constant whatever the file's size.  Every
 * row is planned (create / update / unchanged / rejected) and, unless
 * --dry-run, applied; each gets a reply record as it finishes (rows finish
 * out of order), then a summary record.  employee_id is the idempotency key:
 * running the same file again changes nothing.
 *
 * Logins are decided here in row order, against one search of the
 * directory's logins, addresses and employee ids made before the first
 * row, so a plan does not depend on timing (--plan-out writes it).
 * --sync reads the whole file first; the accounts of the file's units
 * absent from it are then deleted through acct_delete (user delete's
 * path), refused as a whole above mail.sync_max_delete_percent unless
 * --force.
 */
#ifndef PROVD_BATCH_H
#define PROVD_BATCH_H

#include "csv.h"

struct account_input;
struct request;

void batch_import(struct request *req);

/*
 * `batch apply PLAN`: the rows of a plan written by `batch import
 * --plan-out` (its columns: row, action, the file's columns, login, mail,
 * detail), applied with exactly the logins it names.  A row whose login
 * has been taken since (by another account, or in the directory) is
 * refused and named by its row number; a row the plan rejected is
 * rejected again; an employee already in the directory is compared and
 * updated (or left unchanged), so applying a plan twice changes nothing
 * the second time.
 */
void batch_apply(struct request *req);

/* The columns of an onboarding file, shared with `provd bootstrap`. */
enum batch_col {
	COL_EMPLOYEE_ID, COL_FULL_NAME, COL_UNIT, COL_TITLE, COL_PHONE, COL_LOGIN,
	COL_MAIL, COL_QUOTA, COL_ALIASES, BATCH_NCOLS
};
extern const struct csv_column batch_columns[BATCH_NCOLS];

/* Split the aliases column ("a@x;b@x" or spaces) of s, in place, into
 * in->aliases.  0, or -1 when there are more than ACCOUNT_MAX_ALIASES. */
int batch_split_aliases(char *s, struct account_input *in);

#endif
