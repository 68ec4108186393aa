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
void unit_add(struct request *req);
void unit_modify(struct request *req);

/* account.c */
void account_add(struct request *req);
void account_show(struct request *req);

/* account_admin.c */
void account_modify(struct request *req);
void account_move(struct request *req);
void account_disable(struct request *req);
void account_enable(struct request *req);
void account_delete(struct request *req);
void account_purge(struct request *req);

/* account_list.c */
void account_list(struct request *req);

/* passwd.c */
void passwd_set(struct request *req);

/* alias.c */
void alias_add(struct request *req);
void alias_remove(struct request *req);

/* whois.c */
void whois_show(struct request *req);

/* audit.c */
void audit_show(struct request *req);
void audit_verify(struct request *req);

/* report.c */
void report_units(struct request *req);
void report_passwords(struct request *req);
void report_expiring(struct request *req);

#endif
