/*
 * command — dispatch of control requests through the command table.
 *
 * The handler for each command id lives in the module named for its noun
 * (account.c, unit.c, cert.c, ...); command.c maps ids to handlers, checks
 * existence, arity, options and role in one place, and audits the outcome.
 */
#ifndef PROVD_COMMAND_H
#define PROVD_COMMAND_H

#include "request.h"

typedef void command_fn(struct request *req);

/* Check the table at start-up: entries out of order are fatal; an entry
 * without a handler is logged (debug) and answered "not available in this
 * build" when called. */
void command_check_table(void);

/*
 * Validate req->msg (fields: noun, verb, args...) against the table and the
 * peer's roles; on success set req->spec / req->args and run the handler,
 * otherwise finish the request with a usage or permission error.
 */
void command_dispatch(struct request *req);

#endif
