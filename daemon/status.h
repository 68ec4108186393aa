/*
 * status — `ping`, `status` and the shell completion helper `complete`.
 * Each handler finishes its request with request_done() exactly once.
 */
#ifndef PROVD_STATUS_H
#define PROVD_STATUS_H

struct request;

void status_ping(struct request *req);
void status_show(struct request *req);
void status_complete(struct request *req);

#endif
