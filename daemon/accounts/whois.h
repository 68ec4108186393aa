/*
 * whois — `whois LOGIN|MAIL|EMPLOYEE_ID`: one view of a person.
 *
 * The reply is the account record (the fields of account_record plus
 * `section` = "account" and `unit_path`, the unit's names from the top
 * down), then the records of each whois part, in the order of the parts
 * table in whois.c.  The operand matches uid, mail, mailLocalAddress or
 * employeeNumber; several accounts may match (a login that is also someone
 * else's employee id): each gets its record and its parts.
 *
 * Extension point: a module that knows more about a person (the
 * certificate office: the person's certificates) writes a whois_part_fn
 * and main.c adds it with whois_add_part at start-up (the module sits in a
 * layer above this one, so whois.c cannot name it).  A part sends its own records
 * with rec_begin/rec_kv/rec_end — each with a `section` field naming what
 * it is ("certificate") and the subject's `login` — and then calls
 * done(ctx) exactly once, from the loop or at once.  A part that fails
 * sends a record with `section`, `login` and `error` rather than failing
 * the whole view; it must not call request_done.
 */
#ifndef PROVD_WHOIS_H
#define PROVD_WHOIS_H

#include "account.h"
#include "names.h"
#include "units.h"

struct request;

struct whois_subject {
	char login[NAMES_LOGIN_BUFSZ];
	char mail[ACCOUNT_MAIL_MAX];
	char employee_id[64];
	char unit[UNIT_CODE_MAX];
};

typedef void whois_part_done_fn(void *ctx);
typedef void whois_part_fn(struct request *req, const struct whois_subject *who,
                           whois_part_done_fn *done, void *ctx);

/* Add a part after those already added (adding one twice keeps one).  At
 * start-up only.  0, or -1 when WHOIS_MAX_PARTS are there already. */
#define WHOIS_MAX_PARTS 8
int whois_add_part(whois_part_fn *fn);

/* Handler. */
void whois_show(struct request *req);

#endif
