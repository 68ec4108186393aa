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
 */
#ifndef PROVD_BATCH_H
#define PROVD_BATCH_H

struct request;

void batch_import(struct request *req);

#endif
