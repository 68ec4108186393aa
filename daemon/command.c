/* command — the handler table and the one place requests are checked.
 * See command.h. */
#include "command.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "account_admin.h"
#include "alias.h"
#include "audit.h"
#include "batch.h"
#include "ca_cmd.h"
#include "check.h"
#include "cert.h"
#include "crl.h"
#include "renew.h"
#include "escrow.h"
#include "ocsp.h"
#include "log.h"
#include "passwd.h"
#include "provd.h"
#include "reorg.h"
#include "report.h"
#include "rollover.h"
#include "status.h"
#include "text.h"
#include "unit.h"
#include "unit_merge.h"
#include "whois.h"

/* Handlers by command id; the specs live in proto/commands.c. */
static command_fn *const handlers[CMD__COUNT] = {
	[CMD_PING]              = status_ping,
	[CMD_STATUS]            = status_show,
	[CMD_COMPLETE]          = status_complete,
	[CMD_UNIT_LIST]         = unit_list,
	[CMD_UNIT_SHOW]         = unit_show,
	[CMD_USER_ADD]          = account_add,
	[CMD_USER_SHOW]         = account_show,
	[CMD_USER_LIST]         = account_list,
	[CMD_USER_MODIFY]       = account_modify,
	[CMD_USER_MOVE]         = account_move,
	[CMD_USER_DISABLE]      = account_disable,
	[CMD_USER_ENABLE]       = account_enable,
	[CMD_USER_DELETE]       = account_delete,
	[CMD_USER_PURGE]        = account_purge,
	[CMD_USER_PASSWD]       = passwd_set,
	[CMD_ALIAS_ADD]         = alias_add,
	[CMD_ALIAS_REMOVE]      = alias_remove,
	[CMD_WHOIS]             = whois_show,
	[CMD_UNIT_ADD]          = unit_add,
	[CMD_UNIT_MODIFY]       = unit_modify,
	[CMD_UNIT_MERGE]        = unit_merge,
	[CMD_UNIT_REMOVE]       = unit_remove,
	[CMD_REORG_PLAN]        = reorg_plan,
	[CMD_REORG_APPLY]       = reorg_apply,
	[CMD_REORG_STATUS]      = reorg_status,
	[CMD_BATCH_IMPORT]      = batch_import,
	[CMD_BATCH_APPLY]       = batch_apply,
	[CMD_CA_CREATE]         = ca_create,
	[CMD_CA_IMPORT]         = ca_import,
	[CMD_CA_SHOW]           = ca_show,
	[CMD_CA_ROLLOVER]       = ca_rollover,
	[CMD_CERT_ISSUE]        = cert_issue,
	[CMD_CERT_LIST]         = cert_list,
	[CMD_CERT_SHOW]         = cert_show,
	[CMD_CERT_REVOKE]       = cert_revoke,
	[CMD_CERT_RELEASE]      = cert_release,
	[CMD_CERT_EXPORT_INDEX] = cert_export_index,
	[CMD_CERT_ESCROW_EXPORT] = cert_escrow_export,
	[CMD_CERT_RENEW]        = cert_renew,
	[CMD_CRL_SHOW]          = crl_show,
	[CMD_CRL_PUBLISH]       = crl_publish_cmd,
	[CMD_OCSP_SHOW]         = ocsp_show,
	[CMD_OCSP_REFRESH]      = ocsp_refresh_cmd,
	[CMD_AUDIT_SHOW]        = audit_show,
	[CMD_AUDIT_VERIFY]      = audit_verify,
	[CMD_REPORT_UNITS]      = report_units,
	[CMD_REPORT_PASSWORDS]  = report_passwords,
	[CMD_REPORT_EXPIRING]   = report_expiring,
	[CMD_CHECK]             = check_run,
};

void
command_check_table(void)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++) {
		if (cmd_table[i].noun == NULL)
			fatalx("command table: no entry for command id %zu", i);
		if (cmd_table[i].scope == SCOPE_UNIT && cmd_table[i].scope_opt != NULL &&
		    cmd_opt(&cmd_table[i], cmd_table[i].scope_opt) == NULL)
			fatalx("command table: '%s %s' is scoped by --%s, not one of its options",
			       cmd_table[i].noun, cmd_table[i].verb ? cmd_table[i].verb : "",
			       cmd_table[i].scope_opt);
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

/*
 * The scope check dispatch can make before the handler runs (see enum
 * cmd_scope): a command that acts on the province or the CA needs a
 * province-wide grant; a SCOPE_UNIT command a grant over its unit.  The
 * others resolve their target first and ask request_may() themselves.
 * Finishes req and returns false on refusal.
 */
static bool
scope_permits(struct request *req)
{
	const struct cmd_spec *spec = req->spec;
	const char *unit = NULL;
	char what[128], clean[80];

	switch (spec->scope) {
	case SCOPE_NONE:
	case SCOPE_CA:
	case SCOPE_READ:
		break;
	case SCOPE_UNIT:
		unit = spec->scope_opt != NULL ? cmd_arg(&req->args, spec->scope_opt) :
		       req->args.operand[0];
		if (unit != NULL && unit[0] == '\0')
			unit = NULL;
		break;
	case SCOPE_ACCOUNT:
	case SCOPE_CERT:
	case SCOPE_EACH:
		return true;
	}
	if (request_may(req, spec->roles, unit))
		return true;
	if (unit != NULL) {
		text_sanitize(unit, strlen(unit), clean, sizeof(clean));
		snprintf(what, sizeof(what), "unit %s", clean);
	} else {
		snprintf(what, sizeof(what), "%s", spec->scope == SCOPE_CA ? "the CA" :
		         "the whole province");
	}
	request_refuse(req, spec->roles, what);
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
	if (!scope_permits(req))
		return;
	if (req->pd->stopping) {
		request_done(req, ST_UNAVAILABLE, "provd is shutting down");
		return;
	}
	if ((spec->flags & CMD_WRITES) &&
	    audit_writable(req->pd->audit, err, sizeof(err)) < 0) {
		request_done(req, ST_UNAVAILABLE, "%s", err);
		return;
	}
	if (handlers[spec->id] == NULL) {
		request_done(req, ST_USAGE, "'%s %s' is not available in this build",
		             spec->noun, spec->verb ? spec->verb : "");
		return;
	}
	handlers[spec->id](req);
}
