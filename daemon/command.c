/* command — the handler table and the one place requests are checked.
 * See command.h. */
#include "command.h"

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "handlers.h"
#include "log.h"
#include "provd.h"
#include "text.h"

/* Handlers by command id; the specs live in proto/commands.c. */
static command_fn *const handlers[CMD__COUNT] = {
	[CMD_PING]              = status_ping,
	[CMD_STATUS]            = status_show,
	[CMD_COMPLETE]          = status_complete,
	[CMD_UNIT_LIST]         = unit_list,
	[CMD_UNIT_SHOW]         = unit_show,
	[CMD_USER_ADD]          = account_add,
	[CMD_USER_SHOW]         = account_show,
	[CMD_BATCH_IMPORT]      = batch_import,
};

void
command_check_table(void)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++) {
		if ((size_t)cmd_table[i].id != i)
			fatalx("command table: entry %zu (%s %s) is out of order",
			       i, cmd_table[i].noun,
			       cmd_table[i].verb ? cmd_table[i].verb : "");
		if (handlers[i] == NULL)
			log_debug("command table: '%s %s' has no handler in this build",
			          cmd_table[i].noun,
			          cmd_table[i].verb ? cmd_table[i].verb : "");
	}
}

static bool
holds_any_grant(const struct peer *p, unsigned roles)
{
	size_t i;

	if (p->roles & roles)
		return true;
	for (i = 0; i < p->nscopes; i++)
		if (p->scope[i].role & roles)
			return true;
	return false;
}

void
command_dispatch(struct request *req)
{
	const struct wire_msg *m = &req->msg;
	const struct cmd_spec *spec;
	const char *noun, *verb;
	const char *argv[WIRE_MAX_FIELDS];
	size_t lens[WIRE_MAX_FIELDS];
	char err[512], have[48], need[48];
	int argc, i;

	if (m->nfields < 2 || (noun = wire_field_str(m, 0)) == NULL ||
	    (verb = wire_field_str(m, 1)) == NULL) {
		request_done(req, ST_PROTOCOL, "a request needs a noun and a verb field");
		return;
	}
	if ((spec = cmd_lookup(noun, verb)) == NULL) {
		char n[40], v[40];

		text_sanitize(noun, strlen(noun), n, sizeof(n));
		text_sanitize(verb, strlen(verb), v, sizeof(v));
		request_done(req, ST_USAGE, "unknown command '%s%s%s' (see provctl --help)",
		             n, v[0] ? " " : "", v);
		return;
	}
	if (!holds_any_grant(&req->peer, spec->roles)) {
		request_done(req, ST_PERMISSION,
		             "permission denied: '%s%s%s' needs role %s; %s (uid %u) has %s",
		             spec->noun, spec->verb ? " " : "", spec->verb ? spec->verb : "",
		             role_names(spec->roles, need, sizeof(need)), req->peer.name,
		             (unsigned)req->peer.uid,
		             role_names(req->peer.roles, have, sizeof(have)));
		return;
	}
	argc = (int)m->nfields - 2;
	for (i = 0; i < argc; i++) {
		argv[i] = m->f[i + 2].ptr;
		lens[i] = m->f[i + 2].len;
	}
	if (cmd_parse(spec, argc, argv, lens, &req->args, err, sizeof(err)) < 0) {
		req->spec = NULL;
		request_done(req, ST_USAGE, "%s", err);
		return;
	}
	req->spec = spec;
	if (req->pd->stopping) {
		request_done(req, ST_UNAVAILABLE, "provd is shutting down");
		return;
	}
	if (handlers[spec->id] == NULL) {
		request_done(req, ST_USAGE, "'%s %s' is not available in this build",
		             spec->noun, spec->verb ? spec->verb : "");
		return;
	}
	handlers[spec->id](req);
}
