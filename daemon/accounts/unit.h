/*
 * unit — `unit list` and `unit show` from the unit cache (units.h), `unit
 * add` and `unit modify` written to the directory.  Each handler finishes
 * its request with request_done() exactly once.
 */
#ifndef PROVD_UNIT_H
#define PROVD_UNIT_H

struct request;

void unit_list(struct request *req);
void unit_show(struct request *req);
void unit_add(struct request *req);
void unit_modify(struct request *req);

#endif
