/* commands — the one command table. See commands.h. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#define END_OPTS { NULL, OPT_FLAG, NULL, NULL }

static const struct opt_spec no_opts[] = { END_OPTS };

static const struct opt_spec user_add_opts[] = {
	{ "name",        OPT_VALUE, "NAME",  "full name, e.g. 'Nguyễn Văn An'" },
	{ "unit",        OPT_VALUE, "CODE",  "unit code, e.g. so-tai-chinh" },
	{ "employee-id", OPT_VALUE, "ID",    "staff ID from HR (unique)" },
	{ "title",       OPT_VALUE, "TITLE", "job title" },
	{ "phone",       OPT_VALUE, "PHONE", "telephone number" },
	{ "login",       OPT_VALUE, "LOGIN", "explicit login instead of the generated one" },
	{ "alias",       OPT_MULTI, "ADDR",  "extra mail address (repeatable)" },
	{ "quota",       OPT_VALUE, "SIZE",  "mailbox quota, e.g. 2G, 500M, 0 = unlimited" },
	END_OPTS
};

static const struct opt_spec user_list_opts[] = {
	{ "unit",      OPT_VALUE, "CODE", "only this unit" },
	{ "recursive", OPT_FLAG,  NULL,   "with --unit: include its sub-units" },
	{ "status",    OPT_VALUE, "STATUS", "active, disabled or deleted" },
	{ "name",      OPT_VALUE, "WORDS",  "every word starts a word of the name, diacritics "
	                                    "optional ('nguyen van', 'Văn An'); whole words first" },
	END_OPTS
};

static const struct opt_spec user_modify_opts[] = {
	{ "name",  OPT_VALUE, "NAME",  "new full name (the login stays)" },
	{ "title", OPT_VALUE, "TITLE", "job title ('' removes it)" },
	{ "phone", OPT_VALUE, "PHONE", "telephone number ('' removes it)" },
	{ "quota", OPT_VALUE, "SIZE",  "mailbox quota" },
	END_OPTS
};

/* Commands that take something away preview with --dry-run; on a terminal
 * provctl shows that preview and asks before the real run, unless --yes. */
#define PREVIEW_OPTS \
	{ "dry-run", OPT_FLAG, NULL, "print what would change (certificates included), change nothing" }, \
	{ "yes",     OPT_FLAG, NULL, "do not ask for confirmation on a terminal" }

static const struct opt_spec user_move_opts[] = {
	{ "unit", OPT_VALUE, "CODE", "the new unit" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_disable_opts[] = {
	{ "reason", OPT_VALUE, "TEXT", "why (kept on the entry and audited)" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_delete_opts[] = {
	{ "now", OPT_FLAG, NULL, "remove the entry now instead of after the retention" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_purge_opts[] = {
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec user_passwd_opts[] = {
	{ "generate",       OPT_FLAG,         NULL,   "generate a password and print it once" },
	{ "password-file",  OPT_SECRET_FILE,  "FILE", "read the new password from FILE" },
	{ "password-stdin", OPT_SECRET_STDIN, NULL,   "read the new password from standard input" },
	{ "must-change",    OPT_FLAG,         NULL,   "the user must change it at next login" },
	END_OPTS
};

static const struct opt_spec unit_add_opts[] = {
	{ "name",   OPT_VALUE, "NAME", "the unit's Vietnamese name" },
	{ "kind",   OPT_VALUE, "KIND", "department, district or commune" },
	{ "parent", OPT_VALUE, "CODE", "parent unit (districts for communes)" },
	END_OPTS
};

static const struct opt_spec unit_modify_opts[] = {
	{ "name",   OPT_VALUE, "NAME", "the unit's Vietnamese name" },
	{ "kind",   OPT_VALUE, "KIND", "department, district or commune" },
	{ "parent", OPT_VALUE, "CODE", "parent unit (districts for communes)" },
	PREVIEW_OPTS,
	END_OPTS
};

static const struct opt_spec batch_opts[] = {
	{ "dry-run",     OPT_FLAG,   NULL,   "print the plan, write nothing" },
	{ "credentials", OPT_OUTPUT, "FILE", "write initial passwords here (mode 0600, new file)" },
	{ "on-error",    OPT_VALUE,  "MODE", "stop or continue (default continue)" },
	{ "report",      OPT_REPORT, "FILE", "write every row's outcome to FILE (tab-separated)" },
	{ "verbose",     OPT_FLAG,   NULL,   "on a terminal, print every row, not only those "
	                                     "rejected, failed or updated (also -v)" },
	END_OPTS
};

static const struct opt_spec ca_create_opts[] = {
	{ "subject", OPT_VALUE, "DN",   "CA subject, e.g. '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA'" },
	{ "key",     OPT_VALUE, "TYPE", "ec-p256, ec-p384, rsa-3072 or rsa-4096 (RSA when mail is "
	                                "read with GnuPG 2.2's gpgsm: it cannot check an EC CA's "
	                                "CRLs; docs/certificates.md)" },
	{ "days",    OPT_VALUE, "N",    "validity in days" },
	{ "pkcs11",  OPT_VALUE, "URI",  "generate the key on the token instead of in a file "
	                                "(RFC 7512, e.g. 'pkcs11:token=provd-ca;object=ca-2026')" },
	END_OPTS
};

static const struct opt_spec ca_import_opts[] = {
	{ "cert", OPT_FILE, "FILE", "the CA certificate (PEM)" },
	{ "key",  OPT_VALUE, "PATH", "its private key: an absolute path on the provd host, "
	                             "mode 0600, read by the signer only" },
	{ "pkcs11", OPT_VALUE, "URI", "or: its key on the token (RFC 7512 URI, no PIN in it)" },
	END_OPTS
};

static const struct opt_spec ca_rollover_opts[] = {
	{ "subject",    OPT_VALUE, "DN",   "the new CA's subject; it must differ from every "
	                                   "earlier generation's (e.g. CN=... G2)" },
	{ "key",        OPT_VALUE, "TYPE", "ec-p256, ec-p384, rsa-3072 or rsa-4096" },
	{ "days",       OPT_VALUE, "N",    "validity in days" },
	{ "pkcs11",     OPT_VALUE, "URI",  "generate the new key on the token instead of in a file" },
	{ "revoke-all", OPT_FLAG,  NULL,   "after a compromise of the old key: revoke every "
	                                   "certificate of the old CA (cACompromise)" },
	END_OPTS
};

static const struct opt_spec cert_issue_opts[] = {
	{ "csr",     OPT_FILE,  "FILE",    "certificate request (PEM or DER)" },
	{ "profile", OPT_VALUE, "PROFILE", "issuance profile (default from config)" },
	{ "generate", OPT_FLAG, NULL,      "no CSR: the office makes the key pair (needs --p12)" },
	{ "key",     OPT_VALUE, "TYPE",    "with --generate: ec-p256 (default) or rsa-3072" },
	{ "p12",     OPT_OUTPUT, "FILE",   "with --generate: write key, certificate and chain here "
	                                   "(PKCS#12, mode 0600, new file)" },
	{ "passphrase-stdin", OPT_SECRET_STDIN, NULL, "with --generate: the PKCS#12 passphrase from "
	                                   "standard input (else one is generated and printed once)" },
	END_OPTS
};

static const struct opt_spec cert_list_opts[] = {
	{ "login",           OPT_VALUE, "LOGIN",  "only this person's certificates" },
	{ "unit",            OPT_VALUE, "CODE",   "only this unit" },
	{ "recursive",       OPT_FLAG,  NULL,     "with --unit: include sub-units" },
	{ "status",          OPT_VALUE, "STATUS", "valid, hold, revoked or expired" },
	{ "expiring-within", OPT_VALUE, "DAYS",   "valid and expiring within DAYS" },
	END_OPTS
};

static const struct opt_spec cert_show_opts[] = {
	{ "pem", OPT_FLAG, NULL, "print the certificate as PEM instead of its record" },
	END_OPTS
};

static const struct opt_spec cert_revoke_opts[] = {
	{ "reason",          OPT_VALUE, "REASON", "RFC 5280 reason, e.g. keyCompromise" },
	{ "invalidity-date", OPT_VALUE, "TIME",   "when the key was compromised (YYYY-MM-DDTHH:MM:SSZ or YYYYMMDDHHMMSSZ, UTC)" },
	END_OPTS
};

static const struct opt_spec ocsp_refresh_opts[] = {
	{ "new-responder", OPT_FLAG, NULL, "first replace the responder key and certificate" },
	END_OPTS
};

static const struct opt_spec crl_show_opts[] = {
	{ "text", OPT_FLAG, NULL, "a readable dump instead of PEM" },
	{ "ca",   OPT_VALUE, "GEN", "the CRL of CA generation GEN (a number from 'ca show', "
	                            "or current)" },
	END_OPTS
};

static const struct opt_spec audit_show_opts[] = {
	{ "login", OPT_VALUE, "LOGIN", "records that name this login" },
	{ "since", OPT_VALUE, "TIME",  "records at or after TIME (YYYY-MM-DD[THH:MM:SS], or YYYYMMDDHHMMSSZ; UTC)" },
	END_OPTS
};

static const struct opt_spec report_units_opts[] = {
	{ "unit", OPT_VALUE, "CODE", "only this unit and its sub-units" },
	END_OPTS
};

static const struct opt_spec report_expiring_opts[] = {
	{ "days", OPT_VALUE, "N", "expiring within N days (default 30)" },
	END_OPTS
};

const struct cmd_spec cmd_table[] = {
	{ .id = CMD_PING, .noun = "ping", .roles = ROLE_ANY, .opts = no_opts,
	  .summary = "check that provd answers", .example = "provctl ping" },
	{ .id = CMD_STATUS, .noun = "status", .roles = ROLE_ANY, .opts = no_opts,
	  .summary = "version, uptime, directory state, entry counts",
	  .example = "provctl status" },
	{ .id = CMD_WHOIS, .noun = "whois", .operands = "LOGIN|MAIL|EMPLOYEE_ID|NAME",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "one view of a person: account, unit path, aliases, certificates",
	  .example = "provctl whois annv" },

	{ .id = CMD_UNIT_LIST, .noun = "unit", .verb = "list",
	  .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = no_opts, .summary = "list units", .example = "provctl unit list" },
	{ .id = CMD_UNIT_SHOW, .noun = "unit", .verb = "show", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "show one unit", .example = "provctl unit show so-tai-chinh" },
	{ .id = CMD_UNIT_ADD, .noun = "unit", .verb = "add", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = unit_add_opts, .summary = "add a unit",
	  .example = "provctl unit add xa-moi --name 'Xã Mới' --kind commune --parent huyen-tam-dao" },
	{ .id = CMD_UNIT_MODIFY, .noun = "unit", .verb = "modify", .operands = "CODE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = unit_modify_opts, .summary = "rename a unit or change its kind or parent",
	  .example = "provctl unit modify xa-moi --name 'Xã Mới Thành'" },

	{ .id = CMD_USER_ADD, .noun = "user", .verb = "add", .roles = ROLE_ADMIN,
	  .flags = CMD_WRITES, .opts = user_add_opts,
	  .summary = "create a mailbox account; prints login, mail and the initial password once",
	  .example = "provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001" },
	{ .id = CMD_USER_SHOW, .noun = "user", .verb = "show", .operands = "LOGIN|MAIL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = no_opts,
	  .summary = "show one account", .example = "provctl -f json user show annv" },
	{ .id = CMD_USER_LIST, .noun = "user", .verb = "list",
	  .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = user_list_opts, .summary = "list accounts (streamed, paged)",
	  .example = "provctl user list --unit huyen-tam-dao --recursive --status active",
	  .columns = "login,name,unit,status,mail" },
	{ .id = CMD_USER_MODIFY, .noun = "user", .verb = "modify", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_modify_opts, .summary = "change name, title, phone or quota",
	  .example = "provctl user modify annv --title 'Phó Giám đốc' --quota 5G" },
	{ .id = CMD_USER_MOVE, .noun = "user", .verb = "move", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_move_opts, .summary = "move a person to another unit",
	  .example = "provctl user move annv --unit so-noi-vu" },
	{ .id = CMD_USER_DISABLE, .noun = "user", .verb = "disable", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_disable_opts, .summary = "lock the account; its certificates go on hold",
	  .example = "provctl user disable annv --reason 'long leave'" },
	{ .id = CMD_USER_ENABLE, .noun = "user", .verb = "enable", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "unlock the account; held certificates are released",
	  .example = "provctl user enable annv" },
	{ .id = CMD_USER_DELETE, .noun = "user", .verb = "delete", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_delete_opts,
	  .summary = "offboard: disable now, revoke certificates, purge after the retention",
	  .example = "provctl user delete annv" },
	{ .id = CMD_USER_PURGE, .noun = "user", .verb = "purge", .roles = ROLE_ADMIN,
	  .flags = CMD_WRITES, .opts = user_purge_opts,
	  .summary = "remove deleted accounts whose retention has passed",
	  .example = "provctl user purge" },
	{ .id = CMD_USER_PASSWD, .noun = "user", .verb = "passwd", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = user_passwd_opts, .summary = "set a password (never from the command line)",
	  .example = "provctl user passwd annv --generate --must-change" },

	{ .id = CMD_ALIAS_ADD, .noun = "alias", .verb = "add", .operands = "LOGIN ADDRESS",
	  .min_operands = 2, .max_operands = 2, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "add a mail alias",
	  .example = "provctl alias add annv an.nguyen@vinhphuc.gov.vn" },
	{ .id = CMD_ALIAS_REMOVE, .noun = "alias", .verb = "remove", .operands = "LOGIN ADDRESS",
	  .min_operands = 2, .max_operands = 2, .roles = ROLE_ADMIN, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "remove a mail alias",
	  .example = "provctl alias remove annv an.nguyen@vinhphuc.gov.vn" },

	{ .id = CMD_BATCH_IMPORT, .noun = "batch", .verb = "import", .operands = "FILE.csv|-",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_ADMIN | ROLE_ONBOARDER,
	  .flags = CMD_STREAM_INPUT | CMD_WRITES | CMD_ROWS, .opts = batch_opts,
	  .summary = "onboard staff from CSV: plan, apply, report (idempotent by employee_id)",
	  .example = "provctl batch import new-staff.csv --credentials initial.csv" },

	{ .id = CMD_CA_CREATE, .noun = "ca", .verb = "create", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ca_create_opts, .summary = "make a self-signed root CA",
	  .example = "provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p384 --days 3650" },
	{ .id = CMD_CA_IMPORT, .noun = "ca", .verb = "import", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ca_import_opts,
	  .summary = "take a subordinate CA made elsewhere",
	  .example = "provctl ca import --cert sub-ca.pem --key /var/lib/provd/import/sub-ca.key" },
	{ .id = CMD_CA_SHOW, .noun = "ca", .verb = "show", .roles = ROLE_READ,
	  .opts = no_opts, .summary = "subject, key, validity, fingerprints, next CRL number",
	  .example = "provctl ca show" },
	{ .id = CMD_CA_ROLLOVER, .noun = "ca", .verb = "rollover", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ca_rollover_opts,
	  .summary = "replace the CA key and certificate; the old CA keeps signing its CRL",
	  .example = "provctl ca rollover --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA G2' --key ec-p384 --days 3650" },

	{ .id = CMD_CERT_ISSUE, .noun = "cert", .verb = "issue", .operands = "LOGIN",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = cert_issue_opts, .summary = "issue a certificate from a CSR; prints PEM",
	  .example = "provctl cert issue annv --csr annv.csr --profile staff-email > annv.pem" },
	{ .id = CMD_CERT_LIST, .noun = "cert", .verb = "list",
	  .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = cert_list_opts, .summary = "list certificate records",
	  .example = "provctl cert list --status valid --expiring-within 30" },
	{ .id = CMD_CERT_SHOW, .noun = "cert", .verb = "show", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .opts = cert_show_opts,
	  .summary = "show one certificate record (--pem: the certificate)",
	  .example = "provctl cert show 3A:0F:... --pem > annv.pem" },
	{ .id = CMD_CERT_REVOKE, .noun = "cert", .verb = "revoke", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = cert_revoke_opts, .summary = "revoke; the CRL is re-published before the reply",
	  .example = "provctl cert revoke 3a0f... --reason keyCompromise" },
	{ .id = CMD_CERT_RELEASE, .noun = "cert", .verb = "release", .operands = "SERIAL",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER, .flags = CMD_WRITES,
	  .opts = no_opts, .summary = "lift a certificateHold",
	  .example = "provctl cert release 3a0f..." },
	{ .id = CMD_CERT_EXPORT_INDEX, .noun = "cert", .verb = "export-index", .operands = "FILE",
	  .min_operands = 1, .max_operands = 1, .roles = ROLE_READ, .flags = CMD_OUTPUT_FILE,
	  .opts = no_opts,
	  .summary = "write the records as OpenSSL index.txt (for openssl ocsp -index)",
	  .example = "provctl cert export-index index.txt" },
	{ .id = CMD_CERT_ESCROW_EXPORT, .noun = "cert", .verb = "escrow-export",
	  .operands = "SERIAL", .min_operands = 1, .max_operands = 1, .roles = ROLE_OFFICER,
	  .opts = no_opts,
	  .summary = "print a key's escrow copy (CMS, for the recovery key holder; audited)",
	  .example = "provctl cert escrow-export 3a0f... > annv-key.cms" },

	{ .id = CMD_CRL_SHOW, .noun = "crl", .verb = "show", .roles = ROLE_READ,
	  .opts = crl_show_opts, .summary = "print the current CRL",
	  .example = "provctl crl show --text" },
	{ .id = CMD_CRL_PUBLISH, .noun = "crl", .verb = "publish", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = no_opts, .summary = "sign and publish a new CRL now",
	  .example = "provctl crl publish" },

	{ .id = CMD_OCSP_SHOW, .noun = "ocsp", .verb = "show", .roles = ROLE_READ,
	  .opts = no_opts, .summary = "the OCSP responder certificate and the pre-signed responses",
	  .example = "provctl ocsp show" },
	{ .id = CMD_OCSP_REFRESH, .noun = "ocsp", .verb = "refresh", .roles = ROLE_OFFICER,
	  .flags = CMD_WRITES, .opts = ocsp_refresh_opts,
	  .summary = "sign every OCSP response again now",
	  .example = "provctl ocsp refresh --new-responder" },

	{ .id = CMD_AUDIT_SHOW, .noun = "audit", .verb = "show",
	  .roles = ROLE_AUDITOR | ROLE_ADMIN | ROLE_OFFICER, .flags = CMD_ROWS,
	  .opts = audit_show_opts, .summary = "read the audit journal",
	  .example = "provctl audit show --login annv --since 2026-11-01" },
	{ .id = CMD_AUDIT_VERIFY, .noun = "audit", .verb = "verify", .roles = ROLE_AUDITOR | ROLE_ADMIN | ROLE_OFFICER,
	  .opts = no_opts, .summary = "check the journal's hash chain",
	  .example = "provctl audit verify" },

	{ .id = CMD_REPORT_UNITS, .noun = "report", .verb = "units",
	  .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = report_units_opts,
	  .summary = "accounts and certificates per unit, rolled up into districts and the province",
	  .example = "provctl report units --unit huyen-tam-dao",
	  .columns = "unit,name,accounts_active,certs_valid,certs_expiring_30d" },
	{ .id = CMD_REPORT_PASSWORDS, .noun = "report", .verb = "passwords",
	  .roles = ROLE_READ, .flags = CMD_ROWS, .opts = report_units_opts,
	  .summary = "per unit: accounts still on their initial password, expired ones, own ones",
	  .example = "provctl report passwords --unit huyen-tam-dao" },
	{ .id = CMD_REPORT_EXPIRING, .noun = "report", .verb = "expiring",
	  .roles = ROLE_READ, .flags = CMD_ROWS,
	  .opts = report_expiring_opts, .summary = "who must renew a certificate, by unit",
	  .example = "provctl report expiring --days 30" },

	{ .id = CMD_COMPLETE, .noun = "complete", .verb = NULL, .operands = "WHAT [PREFIX]",
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

static bool
takes_value(enum opt_kind k)
{
	return k == OPT_VALUE || k == OPT_MULTI || k == OPT_FILE ||
	       k == OPT_SECRET_FILE || k == OPT_OUTPUT || k == OPT_REPORT;
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
			snprintf(err, errlen, "unknown option '--%s' for '%s%s%s'", name,
			         spec->noun, spec->verb ? " " : "",
			         spec->verb ? spec->verb : "");
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
	if (out->noperands < spec->min_operands) {
		snprintf(err, errlen, "missing %s (usage: %s%s%s %s)",
		         spec->operands, spec->noun, spec->verb ? " " : "",
		         spec->verb ? spec->verb : "", spec->operands);
		return -1;
	}
	return 0;
}

const char *
cmd_arg_len(const struct cmd_args *a, const char *name, size_t *len)
{
	size_t i;

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

	for (i = 0; i < a->ngiven; i++)
		if (strcmp(a->given[i].opt->name, name) == 0 && n-- == 0)
			return a->given[i].value;
	return NULL;
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
