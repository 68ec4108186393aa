/*
 * pendingpw — a batch's rows whose initial password is not delivered yet,
 * kept on disk so that a provd killed mid-batch (kill -9, a crash) does not
 * lose them without notice.
 *
 * For each running `batch import` a file <state_dir>/batch-pending/<name>
 * (mode 0600, in a 0700 directory) lists, one line each, "+ ID" when a row
 * with employee id ID is handed to account_create (before the directory
 * add) and "- ID" once the row is over: its SECRET record (the initial
 * password) has been written to the client's socket, or no account was
 * made.  Lines go out
 * with one write() each, so they survive the process being killed; a
 * successful batch removes its file.  No password is ever written: the
 * file names the rows, the remedy is a new password.
 *
 * At start-up pendingpw_recover reads the files a killed provd left: every
 * ID with "+" and no "-" was in flight.  If its account exists, its
 * initial password was never delivered (or may not have been, when the
 * kill came between writing the SECRET record and the client reading it).
 * (A batch whose client went away, or whose connection ended with SECRET
 * records still unsent, is reported the same way once it ends.)
 * Each such batch gets a log line and an audit record, "(batch
 * interrupted)", naming the employee ids, and the file is kept as
 * <name>.interrupted for the operator, who issues new passwords with
 * `provctl user passwd LOGIN --generate`.
 *
 * IDs are written percent-encoded (anything but [A-Za-z0-9._-]), so a
 * hostile CSV cannot add lines.  Errors are logged; they never stop a
 * batch (the journal's progress records still say how far it got).
 */
#ifndef PROVD_PENDINGPW_H
#define PROVD_PENDINGPW_H

#include <sys/types.h>

struct provd;
struct pendingpw;

/* Start the file of request reqid, run by uid/user.  NULL when there is no
 * state directory or the file cannot be made (logged). */
struct pendingpw *pendingpw_open(struct provd *pd, unsigned long reqid, uid_t uid,
                                 const char *user);
/* "+ id" (before the directory add) and "- id" (the row is over).  NULL p:
 * no-op. */
void pendingpw_begin(struct pendingpw *p, const char *employee_id);
void pendingpw_end(struct pendingpw *p, const char *employee_id);
/* "- id" once every byte queued to req's client so far (the row's SECRET
 * record, just queued) is written to the socket; if the connection ends
 * first, the row stays in flight and the batch is reported as interrupted
 * when it ends.  The file outlives the batch until then. */
struct request;
void pendingpw_end_when_written(struct pendingpw *p, struct request *req, const char *employee_id);
/* The batch ended: remove the file; or, when keep is set (the client
 * went away, so passwords of rows done since went nowhere) or a SECRET
 * record was lost with its connection, report it as pendingpw_recover
 * would.  While SECRET records still wait to be written this happens when
 * the last of them is written or lost.  p belongs to this module from now
 * on; NULL is a no-op.  pd is unused (kept from open). */
void pendingpw_close(struct pendingpw *p, struct provd *pd, int keep);

/* Start-up: report what killed batches left (see above).  Returns the
 * number of rows reported. */
unsigned long pendingpw_recover(struct provd *pd);

#endif
