/*
 * handlers — every control command's handler, grouped by the module that
 * implements it.  Each takes a checked request (see command.h) and finishes
 * it with request_done() exactly once.
 */
#ifndef PROVD_HANDLERS_H
#define PROVD_HANDLERS_H

struct request;

/* status.c */
void status_ping(struct request *req);
void status_show(struct request *req);
void status_complete(struct request *req);

/* unit.c */
void unit_list(struct request *req);
void unit_show(struct request *req);

/* account.c */
void account_add(struct request *req);
void account_show(struct request *req);

#endif
