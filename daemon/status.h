/*
 * status — `ping`, `status` and the shell completion helper `complete`.
 * Each handler finishes its request with request_done() exactly once.
 */
#ifndef PROVD_STATUS_H
#define PROVD_STATUS_H

struct provd;
struct request;

/* Counts of accounts and certificates kept current for `status` (see
 * status.c): start follows the directory's writes (after dir_new),
 * refresh counts again (when the directory comes up), stop before the
 * loop is freed. */
void status_counts_start(struct provd *pd);
void status_counts_refresh(struct provd *pd);
void status_counts_stop(struct provd *pd);

void status_ping(struct request *req);
void status_show(struct request *req);
void status_complete(struct request *req);

#endif
