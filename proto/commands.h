/*
 * commands — the control vocabulary shared by provd and provctl.
 *
 * One static table (commands.c), indexed by enum cmd_id, lists every
 * command: noun, verb, operands, options (some required), the roles allowed
 * to run it, what it acts on (its scope) and a line of help.  provd looks a
 * request up here and checks arity, required options, role and scope in one
 * place before the handler runs; provctl prints help and completion from the
 * same table, and uses the option kinds to know which arguments are files it
 * must read.
 */
#ifndef PROVD_COMMANDS_H
#define PROVD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

enum role {
	ROLE_ADMIN     = 1u << 0,  /* accounts and units */
	ROLE_OFFICER   = 1u << 1,  /* certificates and the CA */
	ROLE_ONBOARDER = 1u << 2,  /* batch create only */
	ROLE_AUDITOR   = 1u << 3,  /* read only */
};
#define ROLE_ANY (ROLE_ADMIN | ROLE_OFFICER | ROLE_ONBOARDER | ROLE_AUDITOR)
#define ROLE_READ ROLE_ANY

enum opt_kind {
	OPT_FLAG,          /* --now */
	OPT_VALUE,         /* --unit CODE */
	OPT_MULTI,         /* --alias ADDR, may repeat */
	OPT_FILE,          /* --csr FILE: provctl sends the file's content */
	OPT_SECRET_FILE,   /* --password-file FILE: content sent, never audited */
	OPT_SECRET_STDIN,  /* --password-stdin: provctl reads a line from stdin,
	                      sends it as the value; never audited */
	OPT_OUTPUT,        /* --credentials FILE: provctl writes SECRET records
	                      there (as CSV; a record whose one field is "file"
	                      as raw bytes, e.g. PKCS#12); provd sees only the
	                      file's base name */
	OPT_REPORT,        /* --report FILE: provctl writes every record there
	                      (tab-separated); provd sees only the base name */
	OPT_OUTPUT_DIR,    /* --p12-dir DIR: an existing directory (not writable
	                      by group or others) where provctl writes each
	                      SECRET record {name, file} as the new file
	                      DIR/name (0600, O_EXCL) and the other SECRET
	                      records as CSV to DIR/passphrases.csv; provd
	                      sees only the base name */
	OPT_STREAM,        /* --from-ldif FILE: provctl streams FILE as the
	                      command's input instead of its first operand;
	                      provd sees only the base name */
	OPT_PLAN,          /* --plan-out FILE: provctl writes PLAN records there
	                      (CSV, replacing the file); provd sees only the
	                      base name */
};

/*
 * What an option's value must look like when the command line alone can
 * tell (a word from a fixed list, a size, a duration, a time).  cmd_parse
 * refuses any other value, so a bad one is a usage error (status 2) in
 * provctl and in provd alike; values that only the rules of the directory
 * or the certificate office can judge (a name, an address, a DN) are
 * VAL_TEXT and the handler refuses them as invalid (status 6).
 */
enum opt_value {
	VAL_TEXT,      /* anything (the default) */
	VAL_WORD,      /* one of .words */
	VAL_SIZE,      /* fieldtype_parse_size: 2G, 500M, 0 */
	VAL_DURATION,  /* fieldtype_parse_duration: 30d, 12h, 30 */
	VAL_TIME,      /* fieldtype_parse_time: YYYY-MM-DD[THH:MM:SS], GeneralizedTime */
};

struct opt_spec {
	const char    *name;     /* without the leading "--" */
	enum opt_kind  kind;
	const char    *metavar;  /* "CODE", "FILE"; NULL for flags */
	const char    *help;
	bool           required; /* cmd_parse refuses a request without it */
	enum opt_value value;    /* OPT_VALUE/OPT_MULTI: what cmd_parse accepts */
	const char *const *words; /* VAL_WORD: the accepted words, NULL-ended */
};

/* The word lists of VAL_WORD options, NULL-ended, for the handlers that
 * map them (one list each, so the check and the help cannot drift). */
extern const char *const cmd_unit_kinds[];     /* province, department, ... */
extern const char *const cmd_account_states[]; /* active, disabled, deleted */
extern const char *const cmd_cert_states[];    /* valid, hold, revoked, expired */

/* Is v one of words (NULL-ended)? */
bool cmd_word_in(const char *const *words, const char *v);

/* Check value v (n bytes) of option o as cmd_parse does.  0, or -1 with a
 * message naming the option, the value and what it must be. */
int cmd_value_check(const struct opt_spec *o, const char *v, size_t n,
                    char *err, size_t errlen);

/*
 * What a command acts on, for grants scoped to a subtree of units (see
 * provd.conf(5), "roles").  A grant over the whole province covers every
 * scope; a scoped grant covers:
 *
 *   SCOPE_NONE     nothing: the command acts on the province as a whole
 *                  (the audit journal); a province-wide grant is needed.
 *   SCOPE_CA       nothing: the CA itself (create, import, publish a CRL).
 *   SCOPE_READ     a read; any grant of one of the roles reads the whole
 *                  province (the directory is the province's address book).
 *   SCOPE_UNIT     the unit named by option scope_opt (by operand 1 when
 *                  scope_opt is NULL); an absent option means the province.
 *                  Checked by dispatch before the handler runs.
 *   SCOPE_ACCOUNT  the account named by operand 1: its unit.  The handler
 *                  resolves the account, then asks request_may().
 *   SCOPE_CERT     the certificate named by operand 1: its holder's unit as
 *                  recorded (a unit change revokes every certificate, so a
 *                  certificate that is not revoked is always recorded under
 *                  its holder's current unit).  The handler asks request_may().
 *   SCOPE_EACH     every entry the command touches (a batch row's unit, an
 *                  account to purge); the handler asks per entry and skips
 *                  or rejects what the grant does not cover.
 */
enum cmd_scope {
	SCOPE_NONE,
	SCOPE_CA,
	SCOPE_READ,
	SCOPE_UNIT,
	SCOPE_ACCOUNT,
	SCOPE_CERT,
	SCOPE_EACH,
};

enum cmd_flags {
	CMD_STREAM_INPUT = 1u << 0,  /* operand 1 is a FILE provctl streams as DATA */
	CMD_WRITES       = 1u << 1,  /* changes the directory or the CA */
	CMD_OUTPUT_FILE  = 1u << 2,  /* operand 1 is a FILE provctl writes the
	                                reply's "line" fields to (mode 0644) */
	CMD_ROWS         = 1u << 3,  /* the reply lists rows: provctl prints a
	                                table even for one row (other replies
	                                print each record as key: value lines) */
	CMD_PROGRESS     = 1u << 4,  /* sends WIRE_PROGRESS records (done, total):
	                                provctl shows them on a terminal */
};

enum cmd_id {
	CMD_PING, CMD_STATUS, CMD_WHOIS,
	CMD_UNIT_LIST, CMD_UNIT_SHOW, CMD_UNIT_ADD, CMD_UNIT_MODIFY,
	CMD_UNIT_MERGE, CMD_UNIT_REMOVE,
	CMD_REORG_PLAN, CMD_REORG_APPLY, CMD_REORG_STATUS,
	CMD_USER_ADD, CMD_USER_SHOW, CMD_USER_LIST, CMD_USER_MODIFY, CMD_USER_MOVE,
	CMD_USER_DISABLE, CMD_USER_ENABLE, CMD_USER_DELETE, CMD_USER_PURGE,
	CMD_USER_PASSWD,
	CMD_ALIAS_ADD, CMD_ALIAS_REMOVE,
	CMD_BATCH_IMPORT,
	CMD_BATCH_APPLY,
	CMD_CA_CREATE, CMD_CA_IMPORT, CMD_CA_SHOW, CMD_CA_ROLLOVER,
	CMD_CERT_ISSUE, CMD_CERT_LIST, CMD_CERT_SHOW, CMD_CERT_REVOKE,
	CMD_CERT_RELEASE, CMD_CERT_EXPORT_INDEX, CMD_CERT_ESCROW_EXPORT, CMD_CERT_RENEW,
	CMD_CRL_SHOW, CMD_CRL_PUBLISH,
	CMD_OCSP_SHOW, CMD_OCSP_REFRESH,
	CMD_AUDIT_SHOW, CMD_AUDIT_VERIFY,
	CMD_REPORT_UNITS, CMD_REPORT_PASSWORDS, CMD_REPORT_EXPIRING,
	CMD_CHECK,
	CMD_COMPLETE,
	CMD__COUNT
};

#define CMD_MAX_OPERANDS 16
#define CMD_MAX_GIVEN    32       /* options given in one request */
#define CMD_MAX_ARG      (64u * 1024)  /* one argument's bytes (a CSR fits) */

struct cmd_spec {
	enum cmd_id            id;
	const char            *noun;
	const char            *verb;       /* NULL for one-word commands */
	const char            *operands;   /* usage text, e.g. "LOGIN" */
	unsigned char          min_operands, max_operands;
	unsigned               roles;      /* roles allowed (bitmask) */
	enum cmd_scope         scope;      /* what a scoped grant must cover */
	const char            *scope_opt;  /* SCOPE_UNIT: the option naming the unit */
	unsigned               flags;      /* enum cmd_flags */
	const struct opt_spec *opts;       /* terminated by { NULL } */
	const char            *summary;
	const char            *example;
	const char            *columns;    /* provctl's default table columns
	                                      (-o); NULL: every field */
	const char            *fields;     /* CMD_ROWS: the fields of every row
	                                      record, in order (the daemon's
	                                      record functions say the same), so
	                                      an empty listing still prints its
	                                      header; NULL: rows vary */
};

extern const struct cmd_spec cmd_table[CMD__COUNT];
extern const size_t cmd_table_len;

/* The spec for noun [verb], or NULL.  verb may be NULL or "". */
const struct cmd_spec *cmd_lookup(const char *noun, const char *verb);

/* The option called name in spec, or NULL. */
const struct opt_spec *cmd_opt(const struct cmd_spec *spec, const char *name);

/* For "did you mean": the noun, the verb of noun, or the option of spec
 * (without "--") that typed most likely misspells (one or two edits, or
 * its start), or NULL when none is that near.  Points into the table. */
const char *cmd_suggest_noun(const char *typed);
const char *cmd_suggest_verb(const char *noun, const char *typed);
const char *cmd_suggest_opt(const struct cmd_spec *spec, const char *typed);

/* Parsed arguments.  Strings point into the caller's storage. */
struct cmd_given {
	const struct opt_spec *opt;
	const char            *value;   /* "" for flags */
	size_t                 len;
};

struct cmd_args {
	const struct cmd_spec *spec;
	const char            *operand[CMD_MAX_OPERANDS];
	size_t                 noperands;
	struct cmd_given       given[CMD_MAX_GIVEN];
	size_t                 ngiven;
};

/*
 * Parse argv[0..argc) (everything after noun and verb) against spec:
 * "--name value", "--name=value", flags, operands; "--" ends options.
 * lens[i] is the byte length of argv[i] (may be NULL: then strlen).
 * A required option that is missing is refused ("missing --unit CODE").
 * Returns 0, or -1 with a message in err naming the bad argument.
 * Values other than OPT_FILE contents must not contain NUL bytes.
 */
int cmd_parse(const struct cmd_spec *spec, int argc, const char *const *argv,
              const size_t *lens, struct cmd_args *out, char *err, size_t errlen);

/* First value of option name, or NULL when not given.  name must be an
 * option of a->spec: asking for another is a bug and aborts (assert). */
const char *cmd_arg(const struct cmd_args *a, const char *name);
/* Same with its length (for file contents that may hold any byte). */
const char *cmd_arg_len(const struct cmd_args *a, const char *name, size_t *len);
bool cmd_flag(const struct cmd_args *a, const char *name);
/* The i-th value of a repeatable option (0-based), or NULL. */
const char *cmd_arg_nth(const struct cmd_args *a, const char *name, size_t i);

/* "none", "ca", "read", "unit", "account", "cert" or "each". */
const char *cmd_scope_name(enum cmd_scope scope);

/* "admin,officer" for a role mask; buf must hold 48 bytes. */
const char *role_names(unsigned mask, char *buf, size_t len);
/* Parse one role name; returns its bit or 0. */
unsigned role_parse(const char *name);

#endif
