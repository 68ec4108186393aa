/* commands — the one command table. See commands.h. */
#include "commands.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "fieldtype.h"
#include "text.h"

const char *const cmd_unit_kinds[] = {
	"province", "department", "district", "ward", "commune", NULL
};
const char *const cmd_account_states[] = { "active", "disabled", "deleted", NULL };
const char *const cmd_cert_states[] = { "valid", "hold", "revoked", "expired", NULL };
static const char *const on_error_modes[] = { "stop", "continue", NULL };

#define END_OPTS { .name = NULL }

static const struct opt_spec no_opts[] = { END_OPTS };

static const struct opt_spec reorg_apply_opts[] = {
	{ .name = "p12-dir", .kind = OPT_OUTPUT_DIR, .metavar = "DIR", .help = "re-issue, in the same "
	                     "run, the certificates whose key the office made (new key, new unit and "
	                     "address): each PKCS#12 to DIR/LOGIN-SERIAL.p12 and the passphrases to "
	                     "DIR/passphrases.csv (0600, new files); needs the officer role too" },
	END_OPTS
};

static const struct opt_spec user_add_opts[] = {
	{ .name = "name",        .kind = OPT_VALUE, .metavar = "NAME",  .help = "full name, e.g. 'Nguyễn Văn An'", .required = true },
	{ .name = "unit",        .kind = OPT_VALUE, .metavar = "CODE",  .help = "unit code, e.g. so-tai-chinh", .required = true },
	{ .name = "employee-id", .kind = OPT_VALUE, .metavar = "ID",    .help = "staff ID from HR (unique)", .required = true },
	{ .name = "title",       .kind = OPT_VALUE, .metavar = "TITLE", .help = "job title" },
	{ .name = "phone",       .kind = OPT_VALUE, .metavar = "PHONE", .help = "telephone number" },
	{ .name = "login",       .kind = OPT_VALUE, .metavar = "LOGIN", .help = "explicit login instead of the generated one" },
	{ .name = "alias",       .kind = OPT_MULTI, .metavar = "ADDR",  .help = "extra mail address (repeatable)" },
	{ .name = "quota",       .kind = OPT_VALUE, .metavar = "SIZE",  .help = "mailbox quota, e.g. 2G, 500M; 0 or unlimited: no limit", .value = VAL_SIZE },
	END_OPTS
};

static const struct opt_spec unit_list_opts[] = {
	{ .name = "kind", .kind = OPT_VALUE, .metavar = "KIND", .help = "only units of this kind: province, department, district, ward or commune", .value = VAL_WORD, .words = cmd_unit_kinds },
	END_OPTS
};

static const struct opt_spec user_list_opts[] = {
	{ .name = "unit",      .kind = OPT_VALUE, .metavar = "CODE", .help = "only this unit" },
	{ .name = "recursive", .kind = OPT_FLAG,  .metavar = NULL,   .help = "with --unit: include its sub-units" },
	{ .name = "status",    .kind = OPT_VALUE, .metavar = "STATUS", .help = "active, disabled or deleted", .value = VAL_WORD, .words = cmd_account_states },
	{ .name = "name",      .kind = OPT_VALUE, .metavar = "WORDS",  .help = "every word starts a word of the name, diacritics "
	                                    "optional ('nguyen van', 'Văn An'); whole words first" },
	{ .name = "fields",    .kind = OPT_VALUE, .metavar = "FIELD,...", .help = "only these fields of each account, "
	                                    "and only their attributes read (provctl sends its -o columns)" },
	END_OPTS
};

static const struct opt_spec user_modify_opts[] = {
	{ .name = "name",  .kind = OPT_VALUE, .metavar = "NAME",  .help = "new full name (the login stays)" },
	{ .name = "title", .kind = OPT_VALUE, .metavar = "TITLE", .help = "job title ('' removes it)" },
	{ .name = "phone", .kind = OPT_VALUE, .metavar = "PHONE", .help = "telephone number ('' removes it)" },
	{ .name = "quota", .kind = OPT_VALUE, .metavar = "SIZE",  .help = "mailbox quota, e.g. 2G, 500M; 0 or unlimited: no limit", .value = VAL_SIZE },
	END_OPTS
};

/* Commands that take something away preview with --dry-run; on a terminal
 * provctl shows that preview and asks before the real run, unless --yes. */
#define PREVIEW_OPTS \
	{ .name = "dry-run", .kind = OPT_FLAG, .metavar = NULL, .help = "print what would change (certificates included), change nothing" }, \
	{ .name = "yes",     .kind = OPT_FLAG, .metavar = NULL, .help = "do not ask for confirmation on a terminal" }

static const struct opt_spec user_move_opts[] = {
	{ .name = "unit", .kind = OPT_VALUE, .metavar = "CODE", .help = "the new unit", .required = true },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_disable_opts[] = {
	{ .name = "reason", .kind = OPT_VALUE, .metavar = "TEXT", .help = "why (kept on the entry and audited)" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_delete_opts[] = {
	{ .name = "now", .kind = OPT_FLAG, .metavar = NULL, .help = "remove the entry now instead of after the retention" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_purge_opts[] = {
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_passwd_opts[] = {
	{ .name = "generate",       .kind = OPT_FLAG,         .metavar = NULL,   .help = "generate a password and print it once" },
	{ .name = "password-file",  .kind = OPT_SECRET_FILE,  .metavar = "FILE", .help = "read the new password from FILE" },
	{ .name = "password-stdin", .kind = OPT_SECRET_STDIN, .metavar = NULL,   .help = "read the new password from standard input" },
	{ .name = "must-change",    .kind = OPT_FLAG,         .metavar = NULL,   .help = "the user must change it at next login" },
	END_OPTS
};

static const struct opt_spec unit_add_opts[] = {
	{ .name = "name",   .kind = OPT_VALUE, .metavar = "NAME", .help = "the unit's Vietnamese name", .required = true },
	{ .name = "kind",   .kind = OPT_VALUE, .metavar = "KIND", .help = "province, department, district, ward or commune", .required = true, .value = VAL_WORD, .words = cmd_unit_kinds },
	{ .name = "parent", .kind = OPT_VALUE, .metavar = "CODE", .help = "parent unit (districts for communes)" },
	END_OPTS
};

static const struct opt_spec unit_modify_opts[] = {
	{ .name = "name",   .kind = OPT_VALUE, .metavar = "NAME", .help = "the unit's Vietnamese name" },
	{ .name = "kind",   .kind = OPT_VALUE, .metavar = "KIND", .help = "province, department, district, ward or commune", .value = VAL_WORD, .words = cmd_unit_kinds },
	{ .name = "parent", .kind = OPT_VALUE, .metavar = "CODE", .help = "parent unit (districts for communes)" },
	PREVIEW_OPTS,
	END_OPTS
};

#define BATCH_OPTS \
	{ .name = "dry-run",     .kind = OPT_FLAG,   .metavar = NULL,   .help = "print the plan, write nothing" }, \
	{ .name = "credentials", .kind = OPT_OUTPUT, .metavar = "FILE", .help = "write initial passwords here (mode 0600, new file)" }, \
	{ .name = "on-error",    .kind = OPT_VALUE,  .metavar = "MODE", .help = "stop or continue (default continue)", .value = VAL_WORD, .words = on_error_modes }, \
	{ .name = "report",      .kind = OPT_REPORT, .metavar = "FILE", .help = "write every row's outcome to FILE (tab-separated)" }, \
	{ .name = "verbose",     .kind = OPT_FLAG,   .metavar = NULL,   .help = "on a terminal, print every row, not only those " \
	                                     "rejected, failed or updated (also -v)" }, \
	{ .name = "plan-out",    .kind = OPT_PLAN,   .metavar = "PLAN", .help = "write the plan (row, action, login, address) to " \
	                                     "PLAN as CSV, in row order, for 'batch apply'" }
static const struct opt_spec unit_merge_opts[] = {
	{ .name = "into", .kind = OPT_VALUE, .metavar = "CODE", .help = "the unit they become (it must exist; "
	                         "unit add it first)", .required = true },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec unit_remove_opts[] = {
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec batch_opts[] = {
	BATCH_OPTS,
	{ .name = "sync",  .kind = OPT_FLAG, .metavar = NULL, .help = "the file lists everyone of its units: also delete "
	                              "their accounts it does not list (user delete, with the retention)" },
	{ .name = "force", .kind = OPT_FLAG, .metavar = NULL, .help = "with --sync: delete even more than "
	                              "mail.sync_max_delete_percent of those units' accounts" },
	{ .name = "from-ldif", .kind = OPT_STREAM, .metavar = "EXPORT.ldif", .help = "absorb another directory's LDAP "
	                              "export instead of a CSV file (needs --source and --units-map)" },
	{ .name = "source",    .kind = OPT_VALUE, .metavar = "NAME", .help = "with --from-ldif: the directory's name, e.g. "
	                              "hoa-binh; employee ids become NAME.ID" },
	{ .name = "units-map", .kind = OPT_FILE,  .metavar = "MAP", .help = "with --from-ldif: CSV lines 'their unit,our unit "
	                              "code' (their departmentNumber or ou)" },
	END_OPTS
};

static const struct opt_spec batch_apply_opts[] = {
	BATCH_OPTS,
	END_OPTS
};

static const struct opt_spec ca_create_opts[] = {
	{ .name = "subject", .kind = OPT_VALUE, .metavar = "DN",   .help = "CA subject, e.g. '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA'", .required = true },
	{ .name = "key",     .kind = OPT_VALUE, .metavar = "TYPE", .help = "ec-p256, ec-p384, rsa-3072 or rsa-4096 (RSA when mail is "
	                                "read with GnuPG 2.2's gpgsm: it cannot check an EC CA's "
	                                "CRLs; docs/certificates.md)" , .required = true },
	{ .name = "days",    .kind = OPT_VALUE, .metavar = "N",    .help = "validity in days", .required = true },
	{ .name = "pkcs11",  .kind = OPT_VALUE, .metavar = "URI",  .help = "generate the key on the token instead of in a file "
	                                "(RFC 7512, e.g. 'pkcs11:token=provd-ca;object=ca-2026')" },
	END_OPTS
};

static const struct opt_spec ca_import_opts[] = {
	{ .name = "cert", .kind = OPT_FILE, .metavar = "FILE", .help = "the CA certificate (PEM)", .required = true },
	{ .name = "key",  .kind = OPT_VALUE, .metavar = "PATH", .help = "its private key: an absolute path on the provd host, "
	                             "mode 0600, read by the signer only" },
	{ .name = "pkcs11", .kind = OPT_VALUE, .metavar = "URI", .help = "or: its key on the token (RFC 7512 URI, no PIN in it)" },
	END_OPTS
};

static const struct opt_spec ca_rollover_opts[] = {
	{ .name = "subject",    .kind = OPT_VALUE, .metavar = "DN",   .help = "the new CA's subject; it must differ from every "
	                                   "earlier generation's (e.g. CN=... G2)" },
	{ .name = "key",        .kind = OPT_VALUE, .metavar = "TYPE", .help = "ec-p256, ec-p384, rsa-3072 or rsa-4096" },
	{ .name = "days",       .kind = OPT_VALUE, .metavar = "N",    .help = "validity in days" },
	{ .name = "pkcs11",     .kind = OPT_VALUE, .metavar = "URI",  .help = "generate the new key on the token instead of in a file" },
	{ .name = "revoke-all", .kind = OPT_FLAG,  .metavar = NULL,   .help = "after a compromise of the old key: revoke every "
	                                   "certificate of the old CA (cACompromise) and re-issue "
	                                   "those whose key the office made" },
	{ .name = "link",       .kind = OPT_FLAG,  .metavar = NULL,   .help = "also a link certificate: the new CA's key "
	                                   "signed by the old key, so clients that trust only the "
	                                   "old CA verify the new one's certificates" },
	{ .name = "p12-dir",    .kind = OPT_OUTPUT_DIR, .metavar = "DIR", .help = "with --revoke-all: write each re-issued "
	                                   "PKCS#12 (new key) to DIR/LOGIN-SERIAL.p12 and the "
	                                   "passphrases to DIR/passphrases.csv (0600, new files)" },
	{ .name = "resume",     .kind = OPT_FLAG,  .metavar = NULL,   .help = "with --revoke-all, no new CA: finish the last "
	                                   "rollover's revocations and re-issues after a crash "
	                                   "(each revoked certificate gets one successor)" },
	PREVIEW_OPTS,
	END_OPTS
};

/* A key the office makes (cert issue/renew --generate): its type, the
 * PKCS#12 file it is delivered in, that file's passphrase. */
#define GENERATE_OPTS \
	{ .name = "key",     .kind = OPT_VALUE, .metavar = "TYPE",    .help = "with --generate: ec-p256 (default) or rsa-3072" }, \
	{ .name = "p12",     .kind = OPT_OUTPUT, .metavar = "FILE",   .help = "with --generate: write key, certificate and chain here " \
	                                   "(PKCS#12, mode 0600, new file)" }, \
	{ .name = "passphrase-stdin", .kind = OPT_SECRET_STDIN, .metavar = NULL, .help = "with --generate: the PKCS#12 passphrase from " \
	                                   "standard input (else one is generated and printed once)" }

static const struct opt_spec cert_issue_opts[] = {
	{ .name = "csr",     .kind = OPT_FILE,  .metavar = "FILE",    .help = "certificate request (PEM or DER)" },
	{ .name = "profile", .kind = OPT_VALUE, .metavar = "PROFILE", .help = "issuance profile (default from config)" },
	{ .name = "generate", .kind = OPT_FLAG, .metavar = NULL,      .help = "no CSR: the office makes the key pair (needs --p12)" },
	GENERATE_OPTS,
	END_OPTS
};

static const struct opt_spec cert_renew_opts[] = {
	{ .name = "csr",     .kind = OPT_FILE,  .metavar = "FILE",    .help = "the successor's key from this request (default: the same key, "
	                                   "where the profile allows it)" },
	{ .name = "generate", .kind = OPT_FLAG, .metavar = NULL,      .help = "a new key made by the office (needs --p12)" },
	GENERATE_OPTS,
	{ .name = "expiring-within", .kind = OPT_VALUE, .metavar = "DURATION", .help = "instead of a SERIAL: every valid certificate expiring "
	                                   "within DURATION (30d, 12h; a number is days) whose key may be reused", .value = VAL_DURATION },
	{ .name = "unit",    .kind = OPT_VALUE, .metavar = "CODE",    .help = "with --expiring-within: only this unit" },
	{ .name = "recursive", .kind = OPT_FLAG, .metavar = NULL,     .help = "with --unit: include sub-units" },
	{ .name = "dry-run", .kind = OPT_FLAG,  .metavar = NULL,      .help = "list what would be renewed, change nothing" },
	{ .name = "p12-dir", .kind = OPT_OUTPUT_DIR, .metavar = "DIR", .help = "with --expiring-within: renew the keys the office made "
	                                   "with new ones, each PKCS#12 to DIR/LOGIN-SERIAL.p12 and "
	                                   "the passphrases to DIR/passphrases.csv (0600, new files)" },
	END_OPTS
};

static const struct opt_spec cert_list_opts[] = {
	{ .name = "login",           .kind = OPT_VALUE, .metavar = "LOGIN",  .help = "only this person's certificates" },
	{ .name = "unit",            .kind = OPT_VALUE, .metavar = "CODE",   .help = "only this unit" },
	{ .name = "recursive",       .kind = OPT_FLAG,  .metavar = NULL,     .help = "with --unit: include sub-units" },
	{ .name = "status",          .kind = OPT_VALUE, .metavar = "STATUS", .help = "valid, hold, revoked or expired", .value = VAL_WORD, .words = cmd_cert_states },
	{ .name = "expiring-within", .kind = OPT_VALUE, .metavar = "DURATION", .help = "valid and expiring within DURATION: 30d (or 30), 12h", .value = VAL_DURATION },
	END_OPTS
};

static const struct opt_spec cert_show_opts[] = {
	{ .name = "pem", .kind = OPT_FLAG, .metavar = NULL, .help = "print the certificate as PEM instead of its record" },
	END_OPTS
};

static const struct opt_spec cert_revoke_opts[] = {
	{ .name = "reason",          .kind = OPT_VALUE, .metavar = "REASON", .help = "RFC 5280 reason: keyCompromise, affiliationChanged, "
	                                          "superseded, cessationOfOperation, certificateHold, "
	                                          "privilegeWithdrawn, unspecified", .required = true },
	{ .name = "invalidity-date", .kind = OPT_VALUE, .metavar = "TIME",   .help = "when the key was compromised (YYYY-MM-DDTHH:MM:SSZ or YYYYMMDDHHMMSSZ, UTC)", .value = VAL_TIME },
	END_OPTS
};

static const struct opt_spec ocsp_refresh_opts[] = {
	{ .name = "new-responder", .kind = OPT_FLAG, .metavar = NULL, .help = "first replace the responder keys and certificates (every generation's)" },
	END_OPTS
};

static const struct opt_spec crl_show_opts[] = {
	{ .name = "text", .kind = OPT_FLAG, .metavar = NULL, .help = "a readable dump instead of PEM" },
	{ .name = "ca",   .kind = OPT_VALUE, .metavar = "GEN", .help = "the CRL of CA generation GEN (a number from 'ca show', "
	                            "or current)" },
	END_OPTS
};

static const struct opt_spec audit_show_opts[] = {
	{ .name = "login", .kind = OPT_VALUE, .metavar = "LOGIN", .help = "records that name this login" },
	{ .name = "since", .kind = OPT_VALUE, .metavar = "TIME",  .help = "records at or after TIME (YYYY-MM-DD[THH:MM:SS], or YYYYMMDDHHMMSSZ; UTC)", .value = VAL_TIME },
	END_OPTS
};

static const struct opt_spec report_units_opts[] = {
	{ .name = "unit", .kind = OPT_VALUE, .metavar = "CODE", .help = "only this unit and its sub-units" },
	END_OPTS
};

static const struct opt_spec report_expiring_opts[] = {
	{ .name = "days", .kind = OPT_VALUE, .metavar = "N", .help = "expiring within N days (default 30)" },
	END_OPTS
};

static const struct opt_spec check_opts[] = {
	{ .name = "fix", .kind = OPT_FLAG, .metavar = NULL, .help = "repair what has one right answer (republish a complete CRL; officer)" },
	END_OPTS
};

/* An account record's fields (account_record in daemon/accounts). */
#define ACCOUNT_FIELDS "login,mail,name,employee_id,unit,unit_name,status,title,phone," \
	"quota,aliases,given_name,surname,disabled_reason,delete_after,created,dn"

const struct cmd_spec cmd_table[CMD__COUNT] = {
	[CMD_PING] = {
	  .id = CMD_PING, .scope = SCOPE_READ,
	  .noun = "ping", .roles = ROLE_ANY, .opts = no_opts,
	  .summary = "check that provd answers", .example = "provctl ping" },
	[CMD_STATUS] = {
	  .id = CMD_STATUS, .scope = SCOPE_READ,
	  .noun = "status", .roles = ROLE_ANY, .opts = no_opts,
	  .summary = "version, uptime, directory state, entry counts",
	  .example = "provctl status" },
	[CMD_WHOIS] = {
	  .id = CMD_WHOIS, .scope = SCOPE_READ,
	  .noun = "whois", .operands = "LOGIN|MAIL|EMPLOYEE_ID|NAME",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "one view of a person: account, unit path, aliases, certificates",
	  .example = "provctl whois annv" },

	[CMD_UNIT_LIST] = {
	  .id = CMD_UNIT_LIST, .scope = SCOPE_READ,
	  .noun = "unit", .verb = "list", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = unit_list_opts, .summary = "list units",
	  .example = "provctl unit list --kind district",
	  .fields = "code,name,kind,parent,parent_name,path" },
	[CMD_UNIT_SHOW] = {
	  .id = CMD_UNIT_SHOW, .scope = SCOPE_READ,
	  .noun = "unit", .verb = "show", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "show one unit", .example = "provctl unit show so-tai-chinh" },
	[CMD_UNIT_ADD] = {
	  .id = CMD_UNIT_ADD, .scope = SCOPE_UNIT, .scope_opt = "parent",
	  .noun = "unit", .verb = "add", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = unit_add_opts, .summary = "add a unit",
	  .example = "provctl unit add xa-moi --name 'Xã Mới' --kind commune --parent huyen-tam-dao" },
	[CMD_UNIT_MODIFY] = {
	  .id = CMD_UNIT_MODIFY, .scope = SCOPE_UNIT,
	  .noun = "unit", .verb = "modify", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = unit_modify_opts, .summary = "rename a unit or change its kind or parent",
	  .example = "provctl unit modify xa-moi --name 'Xã Mới Thành'" },

	[CMD_UNIT_MERGE] = {
	  .id = CMD_UNIT_MERGE, .scope = SCOPE_UNIT, .scope_opt = "into",
	  .noun = "unit", .verb = "merge", .operands = "CODE...",
	  .min_operands = 1, .max_operands = CMD_MAX_OPERANDS, .roles = ROLE_ADMIN,
	  .flags = CMD_WRITES,
	  .opts = unit_merge_opts,
	  .summary = "merge units into one: staff and sub-units move, the old unit "
	             "addresses still deliver to it",
	  .example = "provctl unit merge xa-ho-son-tam-dao xa-hop-chau-tam-dao --into xa-tam-dao" },
	[CMD_UNIT_REMOVE] = {
	  .id = CMD_UNIT_REMOVE, .scope = SCOPE_UNIT,
	  .noun = "unit", .verb = "remove", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = unit_remove_opts,
	  .summary = "remove a unit that has no accounts and no sub-units",
	  .example = "provctl unit remove xa-moi" },
	[CMD_REORG_PLAN] = {
	  .id = CMD_REORG_PLAN, .scope = SCOPE_NONE,
	  .noun = "reorg", .verb = "plan", .operands = "FILE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN | ROLE_AUDITOR,
	  .flags = CMD_STREAM_INPUT | CMD_ROWS, .opts = no_opts,
	  .summary = "check a reorganisation file whole and print, per unit, what applying it "
	             "would change",
	  .example = "provctl reorg plan /usr/share/provd/reorg/vinh-phuc-2025.csv" },
	[CMD_REORG_APPLY] = {
	  .id = CMD_REORG_APPLY, .scope = SCOPE_NONE,
	  .noun = "reorg", .verb = "apply", .operands = "FILE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN,
	  .flags = CMD_STREAM_INPUT | CMD_WRITES, .opts = reorg_apply_opts,
	  .summary = "apply a reorganisation file (again after an interruption: it resumes)",
	  .example = "provctl reorg apply /usr/share/provd/reorg/vinh-phuc-2025.csv" },
	[CMD_REORG_STATUS] = {
	  .id = CMD_REORG_STATUS, .scope = SCOPE_READ,
	  .noun = "reorg", .verb = "status", .roles = ROLE_READ, .opts = no_opts,
	  .summary = "how far the last reorganisation apply got",
	  .example = "provctl reorg status" },
	[CMD_USER_ADD] = {
	  .id = CMD_USER_ADD, .scope = SCOPE_UNIT, .scope_opt = "unit",
	  .noun = "user", .verb = "add", .roles = ROLE_ADMIN,
	  .flags = CMD_WRITES, .opts = user_add_opts,
	  .summary = "create a mailbox account; prints login, mail and the initial password once",
	  .example = "provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001" },
	[CMD_USER_SHOW] = {
	  .id = CMD_USER_SHOW, .scope = SCOPE_READ,
	  .noun = "user", .verb = "show", .operands = "LOGIN|MAIL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "show one account", .example = "provctl -f json user show annv" },
	[CMD_USER_LIST] = {
	  .id = CMD_USER_LIST, .scope = SCOPE_READ,
	  .noun = "user", .verb = "list", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = user_list_opts, .summary = "list accounts (streamed, paged)",
	  .example = "provctl user list --unit huyen-tam-dao --recursive --status active",
	  .columns = "login,name,unit,status,mail", .fields = ACCOUNT_FIELDS },
	[CMD_USER_MODIFY] = {
	  .id = CMD_USER_MODIFY, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "modify", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_modify_opts, .summary = "change name, title, phone or quota",
	  .example = "provctl user modify annv --title 'Phó Giám đốc' --quota 5G" },
	[CMD_USER_MOVE] = {
	  .id = CMD_USER_MOVE, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "move", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_move_opts, .summary = "move a person to another unit",
	  .example = "provctl user move annv --unit so-noi-vu" },
	[CMD_USER_DISABLE] = {
	  .id = CMD_USER_DISABLE, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "disable", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_disable_opts, .summary = "lock the account; its certificates go on hold",
	  .example = "provctl user disable annv --reason 'long leave'" },
	[CMD_USER_ENABLE] = {
	  .id = CMD_USER_ENABLE, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "enable", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "unlock the account; held certificates are released",
	  .example = "provctl user enable annv" },
	[CMD_USER_DELETE] = {
	  .id = CMD_USER_DELETE, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "delete", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_delete_opts,
	  .summary = "offboard: disable now, hold certificates, purge (revoke) after the retention",
	  .example = "provctl user delete annv" },
	[CMD_USER_PURGE] = {
	  .id = CMD_USER_PURGE, .scope = SCOPE_EACH,
	  .noun = "user", .verb = "purge", .roles = ROLE_ADMIN,
	  .flags = CMD_WRITES, .opts = user_purge_opts,
	  .summary = "remove deleted accounts whose retention has passed",
	  .example = "provctl user purge" },
	[CMD_USER_PASSWD] = {
	  .id = CMD_USER_PASSWD, .scope = SCOPE_ACCOUNT,
	  .noun = "user", .verb = "passwd", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_passwd_opts, .summary = "set a password (never from the command line)",
	  .example = "provctl user passwd annv --generate --must-change" },

	[CMD_ALIAS_ADD] = {
	  .id = CMD_ALIAS_ADD, .scope = SCOPE_ACCOUNT,
	  .noun = "alias", .verb = "add", .operands = "LOGIN ADDRESS",
	  .min_operands = 2, .max_operands = 2, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "add a mail alias",
	  .example = "provctl alias add annv an.nguyen@vinhphuc.gov.vn" },
	[CMD_ALIAS_REMOVE] = {
	  .id = CMD_ALIAS_REMOVE, .scope = SCOPE_ACCOUNT,
	  .noun = "alias", .verb = "remove", .operands = "LOGIN ADDRESS",
	  .min_operands = 2, .max_operands = 2, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "remove a mail alias",
	  .example = "provctl alias remove annv an.nguyen@vinhphuc.gov.vn" },

	[CMD_BATCH_IMPORT] = {
	  .id = CMD_BATCH_IMPORT, .scope = SCOPE_EACH,
	  .noun = "batch", .verb = "import", .operands = "FILE.csv|-",
	  .min_operands = 0, .max_operands = 1, .roles = ROLE_ADMIN | ROLE_ONBOARDER,
	  .flags = CMD_STREAM_INPUT | CMD_WRITES | CMD_ROWS, .opts = batch_opts,
	  .summary = "onboard staff from CSV: plan, apply, report (idempotent by employee_id)",
	  .example = "provctl batch import new-staff.csv --credentials initial.csv" },
	[CMD_BATCH_APPLY] = {
	  .id = CMD_BATCH_APPLY, .scope = SCOPE_EACH,
	  .noun = "batch", .verb = "apply", .operands = "PLAN|-",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN | ROLE_ONBOARDER,
	  .flags = CMD_STREAM_INPUT | CMD_WRITES | CMD_ROWS, .opts = batch_apply_opts,
	  .summary = "apply a plan from 'batch import --plan-out' with exactly its logins",
	  .example = "provctl batch apply plan.csv --credentials initial.csv" },

	[CMD_CA_CREATE] = {
	  .id = CMD_CA_CREATE, .scope = SCOPE_CA,
	  .noun = "ca", .verb = "create", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ca_create_opts, .summary = "make a self-signed root CA",
	  .example = "provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p384 --days 3650" },
	[CMD_CA_IMPORT] = {
	  .id = CMD_CA_IMPORT, .scope = SCOPE_CA,
	  .noun = "ca", .verb = "import", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ca_import_opts,
	  .summary = "take a subordinate CA made elsewhere",
	  .example = "provctl ca import --cert sub-ca.pem --key /var/lib/provd/import/sub-ca.key" },
	[CMD_CA_SHOW] = {
	  .id = CMD_CA_SHOW, .scope = SCOPE_READ,
	  .noun = "ca", .verb = "show", .roles = ROLE_READ,
	  .opts = no_opts, .summary = "subject, key, validity, fingerprints, next CRL number",
	  .example = "provctl ca show" },
	[CMD_CA_ROLLOVER] = {
	  .id = CMD_CA_ROLLOVER, .scope = SCOPE_CA,
	  .noun = "ca", .verb = "rollover", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES | CMD_PROGRESS, .opts = ca_rollover_opts,
	  .summary = "replace the CA key and certificate; the old CA keeps signing its CRL",
	  .example = "provctl ca rollover --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA G2' --key ec-p384 --days 3650" },

	[CMD_CERT_ISSUE] = {
	  .id = CMD_CERT_ISSUE, .scope = SCOPE_ACCOUNT,
	  .noun = "cert", .verb = "issue", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = cert_issue_opts, .summary = "issue a certificate from a CSR; prints PEM",
	  .example = "provctl cert issue annv --csr annv.csr --profile staff-email > annv.pem" },
	[CMD_CERT_LIST] = {
	  .id = CMD_CERT_LIST, .scope = SCOPE_READ,
	  .noun = "cert", .verb = "list", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = cert_list_opts, .summary = "list certificate records",
	  .example = "provctl cert list --status valid --expiring-within 30",
	  .fields = "serial,login,employee_id,unit,profile,status,not_before,not_after,"
	            "reason,revoked_at,invalidity_date,fingerprint" },
	[CMD_CERT_SHOW] = {
	  .id = CMD_CERT_SHOW, .scope = SCOPE_READ,
	  .noun = "cert", .verb = "show", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = cert_show_opts,
	  .summary = "show one certificate record (--pem: the certificate)",
	  .example = "provctl cert show 3A:0F:... --pem > annv.pem" },
	[CMD_CERT_REVOKE] = {
	  .id = CMD_CERT_REVOKE, .scope = SCOPE_CERT,
	  .noun = "cert", .verb = "revoke", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = cert_revoke_opts, .summary = "revoke; the CRL is re-published before the reply",
	  .example = "provctl cert revoke 3a0f... --reason keyCompromise" },
	[CMD_CERT_RELEASE] = {
	  .id = CMD_CERT_RELEASE, .scope = SCOPE_CERT,
	  .noun = "cert", .verb = "release", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "lift a certificateHold",
	  .example = "provctl cert release 3a0f..." },
	[CMD_CERT_RENEW] = {
	  .id = CMD_CERT_RENEW, .scope = SCOPE_EACH,
	  .noun = "cert", .verb = "renew", .operands = "[SERIAL]",
	  .min_operands = 0, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = cert_renew_opts,
	  .summary = "issue the successor (same holder and profile); the old one is revoked as "
	             "superseded after pki.renew_overlap",
	  .example = "provctl cert renew --expiring-within 30d --unit so-tai-chinh --dry-run" },
	[CMD_CERT_EXPORT_INDEX] = {
	  .id = CMD_CERT_EXPORT_INDEX, .scope = SCOPE_READ,
	  .noun = "cert", .verb = "export-index", .operands = "FILE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .flags = CMD_OUTPUT_FILE,
	  .opts = no_opts,
	  .summary = "write the records as OpenSSL index.txt (for openssl ocsp -index)",
	  .example = "provctl cert export-index index.txt" },
	[CMD_CERT_ESCROW_EXPORT] = {
	  /* Key recovery: an officer of the whole province, never a scoped one. */
	  .id = CMD_CERT_ESCROW_EXPORT, .scope = SCOPE_NONE,
	  .noun = "cert", .verb = "escrow-export",
	  .operands = "SERIAL", .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER,
	  .opts = no_opts,
	  .summary = "print a key's escrow copy (CMS, for the recovery key holder; audited)",
	  .example = "provctl cert escrow-export 3a0f... > annv-key.cms" },

	[CMD_CRL_SHOW] = {
	  .id = CMD_CRL_SHOW, .scope = SCOPE_READ,
	  .noun = "crl", .verb = "show", .roles = ROLE_READ,
	  .opts = crl_show_opts, .summary = "print the current CRL",
	  .example = "provctl crl show --text" },
	[CMD_CRL_PUBLISH] = {
	  .id = CMD_CRL_PUBLISH, .scope = SCOPE_CA,
	  .noun = "crl", .verb = "publish", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = no_opts, .summary = "sign and publish a new CRL now",
	  .example = "provctl crl publish" },

	[CMD_OCSP_SHOW] = {
	  .id = CMD_OCSP_SHOW, .scope = SCOPE_READ,
	  .noun = "ocsp", .verb = "show", .roles = ROLE_READ,
	  .opts = no_opts, .summary = "the OCSP responder certificate and the pre-signed responses",
	  .example = "provctl ocsp show" },
	[CMD_OCSP_REFRESH] = {
	  .id = CMD_OCSP_REFRESH, .scope = SCOPE_CA,
	  .noun = "ocsp", .verb = "refresh", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ocsp_refresh_opts,
	  .summary = "sign every OCSP response again now",
	  .example = "provctl ocsp refresh --new-responder" },

	[CMD_AUDIT_SHOW] = {
	  .id = CMD_AUDIT_SHOW, .scope = SCOPE_NONE,
	  .noun = "audit", .verb = "show", .roles = ROLE_AUDITOR | ROLE_ADMIN | ROLE_OFFICER, .flags = CMD_ROWS,
	  .opts = audit_show_opts, .summary = "read the audit journal",
	  .example = "provctl audit show --login annv --since 2026-11-01" },
	[CMD_AUDIT_VERIFY] = {
	  .id = CMD_AUDIT_VERIFY, .scope = SCOPE_NONE,
	  .noun = "audit", .verb = "verify", .roles = ROLE_AUDITOR | ROLE_ADMIN | ROLE_OFFICER,
	  .opts = no_opts, .summary = "check the journal's hash chain",
	  .example = "provctl audit verify" },

	[CMD_REPORT_UNITS] = {
	  .id = CMD_REPORT_UNITS, .scope = SCOPE_READ,
	  .noun = "report", .verb = "units", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = report_units_opts,
	  .summary = "accounts and certificates per unit, rolled up into districts and the province",
	  .example = "provctl report units --unit huyen-tam-dao",
	  .columns = "unit,name,accounts_active,certs_valid,certs_expiring_30d" },
	[CMD_REPORT_PASSWORDS] = {
	  .id = CMD_REPORT_PASSWORDS, .scope = SCOPE_READ,
	  .noun = "report", .verb = "passwords", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = report_units_opts,
	  .summary = "per unit: accounts still on their initial password, expired ones, own ones",
	  .example = "provctl report passwords --unit huyen-tam-dao" },
	[CMD_REPORT_EXPIRING] = {
	  .id = CMD_REPORT_EXPIRING, .scope = SCOPE_READ,
	  .noun = "report", .verb = "expiring", .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = report_expiring_opts, .summary = "who must renew a certificate, by unit",
	  .example = "provctl report expiring --days 30",
	  .fields = "unit,unit_name,login,name,serial,not_after,days_left,notified" },

	[CMD_CHECK] = {
	  .id = CMD_CHECK, .scope = SCOPE_NONE,
	  .noun = "check", .roles = ROLE_ADMIN | ROLE_OFFICER | ROLE_AUDITOR,
	  .flags = CMD_WRITES, .opts = check_opts,
	  .summary = "find what replication merged badly: shared addresses or employee ids, "
	             "certificate records the CRL disagrees with",
	  .example = "provctl check --fix" },

	[CMD_COMPLETE] = {
	  .id = CMD_COMPLETE, .scope = SCOPE_READ,
	  .noun = "complete", .verb = NULL, .operands = "WHAT [PREFIX]",
	  .min_operands = 1, .max_operands = 2, .roles = ROLE_ANY, .opts = no_opts,
	  .summary = "completion candidates (units, logins) for the shell",
	  .example = "provctl complete units so-" },
};

const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);

const struct cmd_spec *
cmd_lookup(const char *noun, const char *verb)
{
	size_t i;

	if (noun == NULL)
		return NULL;
	if (verb != NULL && verb[0] == '\0')
		verb = NULL;
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_spec *c = &cmd_table[i];

		if (strcmp(c->noun, noun) != 0)
			continue;
		if (c->verb == NULL && verb == NULL)
			return c;
		if (c->verb != NULL && verb != NULL && strcmp(c->verb, verb) == 0)
			return c;
	}
	return NULL;
}

const struct opt_spec *
cmd_opt(const struct cmd_spec *spec, const char *name)
{
	const struct opt_spec *o;

	for (o = spec->opts; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* "cert revoke SERIAL --reason REASON [OPTIONS]": the command, its operands
 * and its required options, for a message about one of them missing. */
static const char *
usage_line(const struct cmd_spec *spec, char *buf, size_t len)
{
	const struct opt_spec *o;
	size_t n;
	bool more = false;

	snprintf(buf, len, "%s%s%s%s%s", spec->noun, spec->verb ? " " : "",
	         spec->verb ? spec->verb : "", spec->operands ? " " : "",
	         spec->operands ? spec->operands : "");
	for (o = spec->opts; o->name != NULL; o++) {
		n = strlen(buf);
		if (!o->required)
			more = true;
		else if (n < len)
			snprintf(buf + n, len - n, " --%s%s%s", o->name, o->metavar ? " " : "",
			         o->metavar ? o->metavar : "");
	}
	n = strlen(buf);
	if (more && n < len)
		snprintf(buf + n, len - n, " [OPTIONS]");
	return buf;
}

/* ---- "did you mean": the nearest name to a mistyped one -------------- */

#define TYPO_MAX 32   /* longer words are never suggested */

/* Edits (insert, delete, substitute, swap of neighbours) from a to b;
 * TYPO_MAX when either is longer than TYPO_MAX - 1 bytes. */
static size_t
typo_distance(const char *a, const char *b)
{
	size_t d[TYPO_MAX][TYPO_MAX], la = strlen(a), lb = strlen(b), i, j;

	if (la >= TYPO_MAX || lb >= TYPO_MAX)
		return TYPO_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* Keep word in *best when it is nearer to typed than *best: a start of
 * word (3 bytes or more typed) counts as one edit; otherwise one edit
 * is near for words up to 4 bytes, two for longer ones. */
static void
typo_consider(const char *typed, const char *word, const char **best, size_t *bestd)
{
	size_t n = strlen(typed), d, limit = strlen(word) <= 4 ? 1 : 2;

	d = n >= 3 && strncmp(word, typed, n) == 0 ? 1 : typo_distance(typed, word);
	if (d > 0 && d <= limit && d < *bestd) {
		*best = word;
		*bestd = d;
	}
}

const char *
cmd_suggest_noun(const char *typed)
{
	const char *best = NULL;
	size_t i, d = TYPO_MAX;

	for (i = 0; i < cmd_table_len; i++)
		typo_consider(typed, cmd_table[i].noun, &best, &d);
	return best;
}

const char *
cmd_suggest_verb(const char *noun, const char *typed)
{
	const char *best = NULL;
	size_t i, d = TYPO_MAX;

	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(cmd_table[i].noun, noun) == 0 && cmd_table[i].verb != NULL)
			typo_consider(typed, cmd_table[i].verb, &best, &d);
	return best;
}

const char *
cmd_suggest_opt(const struct cmd_spec *spec, const char *typed)
{
	const struct opt_spec *o;
	const char *best = NULL;
	size_t d = TYPO_MAX;

	for (o = spec->opts; o->name != NULL; o++)
		typo_consider(typed, o->name, &best, &d);
	return best;
}

static bool
takes_value(enum opt_kind k)
{
	return k == OPT_VALUE || k == OPT_MULTI || k == OPT_FILE ||
	       k == OPT_SECRET_FILE || k == OPT_OUTPUT || k == OPT_REPORT ||
	       k == OPT_OUTPUT_DIR || k == OPT_PLAN || k == OPT_STREAM;
}

bool
cmd_word_in(const char *const *words, const char *v)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, v) == 0)
			return true;
	return false;
}

int
cmd_value_check(const struct opt_spec *o, const char *v, size_t n, char *err, size_t errlen)
{
	const char *want = NULL;
	char list[160], iso[21], shown[90];
	unsigned long long size;
	unsigned long secs;
	size_t off = 0, i;

	if ((o->kind != OPT_VALUE && o->kind != OPT_MULTI) || o->value == VAL_TEXT)
		return 0;
	if (strnlen(v, n) != n) {      /* a NUL inside: never one of these */
		v = "";
		n = 0;
	}
	switch (o->value) {
	case VAL_TEXT:
		return 0;
	case VAL_WORD:
		if (cmd_word_in(o->words, v))
			return 0;
		for (i = 0; o->words[i] != NULL && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
			                        i == 0 ? "" : o->words[i + 1] == NULL ? " or " : ", ",
			                        o->words[i]);
		want = list;
		break;
	case VAL_SIZE:
		if (fieldtype_parse_size(v, &size) == 0)
			return 0;
		want = "a size like 2G, 500M, or 0 or unlimited for no limit";
		break;
	case VAL_DURATION:
		if (fieldtype_parse_duration(v, &secs) == 0)
			return 0;
		want = "a duration like 30d, 12h or 30 (days)";
		break;
	case VAL_TIME:
		if (fieldtype_parse_time(v, iso, NULL) == 0)
			return 0;
		want = "a UTC time YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or YYYYMMDDHHMMSSZ";
		break;
	}
	text_sanitize(v, n < 40 ? n : 40, shown, sizeof(shown));
	snprintf(err, errlen, "--%s: '%s' is not %s%s", o->name, shown,
	         o->value == VAL_WORD ? "one of " : "", want);
	return -1;
}

int
cmd_parse(const struct cmd_spec *spec, int argc, const char *const *argv,
          const size_t *lens, struct cmd_args *out, char *err, size_t errlen)
{
	const struct opt_spec *o;
	bool options_done = false, after_secret = false;
	int i;
	size_t k;

	memset(out, 0, sizeof(*out));
	out->spec = spec;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		size_t alen = lens ? lens[i] : strlen(a), vlen = 0;
		char name[64];

		if (alen > CMD_MAX_ARG) {
			snprintf(err, errlen, "argument %d is longer than %u bytes",
			         i + 1, CMD_MAX_ARG);
			return -1;
		}
		if (options_done || a[0] != '-' || a[1] != '-') {
			if (memchr(a, '\0', alen) != NULL) {
				snprintf(err, errlen, "operand %d contains a NUL byte", i + 1);
				return -1;
			}
			if (out->noperands >= spec->max_operands) {
				/* After a secret option a stray word may be the
				 * secret itself: it is never quoted. */
				if (after_secret)
					snprintf(err, errlen, "unexpected argument %d (not shown: "
					         "it follows a secret option)%s", i + 1,
					         spec->max_operands ? " (too many operands)" : "");
				else
					snprintf(err, errlen, "unexpected argument '%.64s'%s", a,
					         spec->max_operands ? " (too many operands)" : "");
				return -1;
			}
			out->operand[out->noperands++] = a;
			continue;
		}
		if (a[2] == '\0') {
			options_done = true;
			continue;
		}
		eq = memchr(a + 2, '=', alen - 2);
		k = eq ? (size_t)(eq - a - 2) : alen - 2;
		if (k >= sizeof(name)) {
			snprintf(err, errlen, "unknown option '%.64s'", a);
			return -1;
		}
		memcpy(name, a + 2, k);
		name[k] = '\0';
		if ((o = cmd_opt(spec, name)) == NULL) {
			const char *near = cmd_suggest_opt(spec, name);

			snprintf(err, errlen, "unknown option '--%s' for '%s%s%s'%s%s%s", name,
			         spec->noun, spec->verb ? " " : "",
			         spec->verb ? spec->verb : "", near ? " (did you mean --" : "",
			         near ? near : "", near ? "?)" : "");
			return -1;
		}
		if (o->kind == OPT_SECRET_FILE || o->kind == OPT_SECRET_STDIN)
			after_secret = true;
		if (takes_value(o->kind) || o->kind == OPT_SECRET_STDIN) {
			if (eq != NULL) {
				val = eq + 1;
				vlen = alen - k - 3;
			} else if (o->kind == OPT_SECRET_STDIN) {
				/* As typed, a flag; provctl then sends it as
				 * "--password-stdin=VALUE".  A bare flag reaching provd
				 * carries an empty password, which the handler refuses. */
				val = "";
				vlen = 0;
			} else if (i + 1 < argc) {
				i++;
				val = argv[i];
				vlen = lens ? lens[i] : strlen(val);
			} else {
				snprintf(err, errlen, "option '--%s' needs a %s", name,
				         o->metavar ? o->metavar : "value");
				return -1;
			}
		} else {
			if (eq != NULL) {
				snprintf(err, errlen, "option '--%s' takes no value", name);
				return -1;
			}
			val = "";
		}
		if (o->kind != OPT_FILE && memchr(val, '\0', vlen) != NULL) {
			snprintf(err, errlen, "option '--%s' contains a NUL byte", name);
			return -1;
		}
		if (vlen > CMD_MAX_ARG) {
			snprintf(err, errlen, "option '--%s' is longer than %u bytes",
			         name, CMD_MAX_ARG);
			return -1;
		}
		if (cmd_value_check(o, val, vlen, err, errlen) < 0)
			return -1;
		if (o->kind != OPT_MULTI) {
			for (k = 0; k < out->ngiven; k++)
				if (out->given[k].opt == o) {
					snprintf(err, errlen, "option '--%s' given twice", name);
					return -1;
				}
		}
		if (out->ngiven >= CMD_MAX_GIVEN) {
			snprintf(err, errlen, "more than %d options", CMD_MAX_GIVEN);
			return -1;
		}
		out->given[out->ngiven].opt = o;
		out->given[out->ngiven].value = val;
		out->given[out->ngiven].len = vlen;
		out->ngiven++;
	}
	for (o = spec->opts; o->name != NULL; o++) {
		if (!o->required)
			continue;
		for (k = 0; k < out->ngiven && out->given[k].opt != o; k++)
			;
		if (k == out->ngiven) {
			char use[256];

			snprintf(err, errlen, "missing --%s%s%s (usage: %s)", o->name,
			         o->metavar ? " " : "", o->metavar ? o->metavar : "",
			         usage_line(spec, use, sizeof(use)));
			return -1;
		}
	}
	if (out->noperands < spec->min_operands) {
		/* The operands not given: "alias add annv" misses ADDRESS. */
		const char *miss = spec->operands;
		char use[256];

		for (k = 0; k < out->noperands && strchr(miss, ' ') != NULL; k++)
			miss = strchr(miss, ' ') + 1;
		snprintf(err, errlen, "missing %s (usage: %s)", miss,
		         usage_line(spec, use, sizeof(use)));
		return -1;
	}
	return 0;
}

const char *
cmd_arg_len(const struct cmd_args *a, const char *name, size_t *len)
{
	size_t i;

	assert(cmd_opt(a->spec, name) != NULL && "cmd_arg: not an option of this command");
	for (i = 0; i < a->ngiven; i++)
		if (strcmp(a->given[i].opt->name, name) == 0) {
			if (len)
				*len = a->given[i].len;
			return a->given[i].value;
		}
	return NULL;
}

const char *
cmd_arg(const struct cmd_args *a, const char *name)
{
	return cmd_arg_len(a, name, NULL);
}

bool
cmd_flag(const struct cmd_args *a, const char *name)
{
	return cmd_arg(a, name) != NULL;
}

const char *
cmd_arg_nth(const struct cmd_args *a, const char *name, size_t n)
{
	size_t i;

	assert(cmd_opt(a->spec, name) != NULL && "cmd_arg_nth: not an option of this command");
	for (i = 0; i < a->ngiven; i++)
		if (strcmp(a->given[i].opt->name, name) == 0 && n-- == 0)
			return a->given[i].value;
	return NULL;
}

const char *
cmd_scope_name(enum cmd_scope scope)
{
	switch (scope) {
	case SCOPE_NONE:    return "none";
	case SCOPE_CA:      return "ca";
	case SCOPE_READ:    return "read";
	case SCOPE_UNIT:    return "unit";
	case SCOPE_ACCOUNT: return "account";
	case SCOPE_CERT:    return "cert";
	case SCOPE_EACH:    return "each";
	}
	return "?";
}

static const char *const role_name[] = { "admin", "officer", "onboarder", "auditor" };

const char *
role_names(unsigned mask, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < 4; i++)
		if (mask & (1u << i)) {
			int n = snprintf(buf + off, len - off, "%s%s",
			                 off ? "," : "", role_name[i]);
			if (n < 0 || (size_t)n >= len - off)
				break;
			off += (size_t)n;
		}
	if (off == 0)
		snprintf(buf, len, "none");
	return buf;
}

unsigned
role_parse(const char *name)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, role_name[i]) == 0)
			return 1u << i;
	return 0;
}
