/*
 * unit — `unit list` and `unit show` from the unit cache (units.h), `unit
 * add` and `unit modify` written to the directory.  Each handler finishes
 * its request with request_done() exactly once.
 */
#ifndef PROVD_UNIT_H
#define PROVD_UNIT_H

#include <stddef.h>

struct request;

/* A unit name as every path stores it: field_title's rules, trimmed, NFC,
 * not empty.  0 with the name in out, or -1 with a message in err. */
int unit_name_norm(const char *name, char *out, size_t outsz, char *err, size_t errlen);

void unit_list(struct request *req);
void unit_show(struct request *req);
void unit_add(struct request *req);
void unit_modify(struct request *req);

#endif
