/*
 * provctl — command-line client of provd's control socket.
 *
 *   provctl [-s SOCKET] [-f table|tab|json] NOUN [VERB] [ARGS]
 *
 * The socket comes from -s, then $PROVD_SOCKET, then the built-in default.
 * Files named by file options are read here and their content sent, since
 * provd may not be able to read the caller's files; secrets are read from a
 * file or stdin, never from argv.  Exit codes are the protocol's status
 * codes (see --help).
 *
 * provctl --commands prints the command table for shell completion, one
 * command a line: the noun, the verb if any, each option as "--name" (a
 * flag) or "--name=METAVAR" (takes a value), then, when the command takes
 * operands, "--" and the operand usage words.
 *
 * provctl --command-table prints, for scripts and tests, one command a line
 * of tab-separated fields: name ("user add"), roles ("admin,onboarder"),
 * scope (see enum cmd_scope: none, ca, read, unit, account, cert, each),
 * the option or operand naming the unit of a unit-scoped command ("-" if
 * none), "write" or "read", and the required options ("--unit,--name" or
 * "-").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "fieldtype.h"
#include "format.h"
#include "text.h"
#include "wire.h"

#define DEFAULT_SOCKET "/run/provd/provd.sock"
#define CHUNK          (60u * 1024)
#define MAX_SECRET     1024

/* A credentials line and its employee id ("" when the record has none). */
struct secret_line {
	char *emp;
	char *line;
	size_t len;
};

struct session {
	int              fd;
	struct buf       in, out;
	struct formatter *fmt;
	enum format_kind kind;
	int              infd;          /* streamed input, or -1 */
	bool             input_done;
	FILE            *secret_out;    /* --credentials FILE, once opened */
	const char      *secret_path;   /* made when the first password arrives */
	bool             secret_header; /* its CSV header is written */
	int              secret_dir;    /* --p12-dir DIR, opened (O_DIRECTORY), or -1 */
	char             secret_csv[4200]; /* DIR/passphrases.csv */
	unsigned         files_written; /* DIR/name files made */
	char            *secret_head;   /* that header line */
	struct secret_line *secret_lines; /* every line written, to drop replaced ones */
	size_t           nsecret, capsecret;
	struct formatter *report;       /* --report FILE: every record */
	FILE            *plan_out;      /* --plan-out FILE: PLAN records as CSV */
	bool             plan_header;
	FILE            *report_out;
	bool             attention_only; /* terminal: routine rows left out */
	bool             summary_shown;
	FILE            *line_out;      /* CMD_OUTPUT_FILE: the temporary file */
	const char      *line_path;     /* ... the file it replaces at the end */
	char             line_tmp[4096];
	bool             line_failed;
	FILE            *attr_out;      /* its "attr_line" fields: FILE.attr */
	char             attr_tmp[4112]; /* ... written here, renamed at the end */
	bool             progress;      /* stderr is a terminal */
	bool             progress_shown;
	off_t            input_size;    /* the streamed file's size, or 0 */
	struct timespec  t0;
	int              status;
	char             status_msg[2048];
	bool             got_status;
};

static void
usage_exit(FILE *f, int code)
{
	size_t i;
	const char *last = "";

	fprintf(f,
	    "usage: provctl [-s SOCKET] [-f table|tab|json] [-o COLS] NOUN [VERB] [ARGS]\n"
	    "       provctl help [NOUN [VERB]]\n\n"
	    "  -s SOCKET  provd's control socket (default: $PROVD_SOCKET, then %s)\n"
	    "  -f FORMAT  table (default, for people), tab or json (JSON Lines, for scripts)\n"
	    "  -o COLS    fields to print, comma-separated ('all': every field)\n\n"
	    "commands:\n", DEFAULT_SOCKET);
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_spec *c = &cmd_table[i];
		char name[64];

		if (strcmp(c->noun, last) != 0 && i > 0)
			fputc('\n', f);
		last = c->noun;
		snprintf(name, sizeof(name), "%s%s%s", c->noun, c->verb ? " " : "",
		         c->verb ? c->verb : "");
		fprintf(f, "  %-20s %s\n", name, c->summary);
	}
	fprintf(f,
	    "\nexit codes:\n"
	    "  0 ok            1 server error     2 usage           3 not found\n"
	    "  4 conflict      5 permission       6 invalid input   7 unavailable\n"
	    "  8 partial (batch finished with rejected or failed rows)\n"
	    "  9 protocol error\n\n"
	    "'provctl help NOUN' shows the options and an example of each command.\n");
	exit(code);
}

static void
print_command_help(FILE *f, const struct cmd_spec *c)
{
	const struct opt_spec *o;
	char roles[48];

	fprintf(f, "usage: provctl %s%s%s%s%s%s\n    %s\n    roles: %s; scope: %s\n", c->noun,
	        c->verb ? " " : "", c->verb ? c->verb : "", c->operands ? " " : "",
	        c->operands ? c->operands : "", c->opts[0].name ? " [OPTIONS]" : "",
	        c->summary, role_names(c->roles, roles, sizeof(roles)), cmd_scope_name(c->scope));
	for (o = c->opts; o->name != NULL; o++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", o->name,
		         o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "      %-26s %s%s\n", left, o->help, o->required ? " (required)" : "");
	}
	if (c->flags & CMD_ROWS)
		fprintf(f, "      %-26s %s%s%s\n", "-o COL,COL", "columns to print ('all' for every one)",
		        c->columns ? "; default " : "", c->columns ? c->columns : "");
	fprintf(f, "      %-26s %s\n", "--help", "this help");
	fprintf(f, "    example: %s\n", c->example);
}

/* The verbs of noun, one a line with their summaries. */
static void
list_verbs(FILE *f, const char *noun)
{
	size_t i;

	fprintf(f, "usage: provctl %s VERB [ARGS]   (provctl %s VERB --help)\n\nverbs:\n",
	        noun, noun);
	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(cmd_table[i].noun, noun) == 0 && cmd_table[i].verb != NULL)
			fprintf(f, "  %-14s %s\n", cmd_table[i].verb, cmd_table[i].summary);
}

static bool
noun_exists(const char *noun)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(cmd_table[i].noun, noun) == 0)
			return true;
	return false;
}

/*
 * Say that noun [verb] is no command, with the nearest one when a typo is
 * likely ("usr list": did you mean 'user list'?), and the noun's verbs when
 * the noun exists.  Returns ST_USAGE.
 */
static int
unknown_command(const char *noun, const char *verb)
{
	const char *near;
	const struct cmd_spec *fix = cmd_lookup(noun, NULL);

	if (fix != NULL && fix->verb == NULL && verb != NULL) {   /* "ping x" */
		fprintf(stderr, "provctl: '%s' takes no verb '%s' (see provctl help %s)\n",
		        noun, verb, noun);
		return ST_USAGE;
	}
	if (noun_exists(noun)) {
		near = cmd_suggest_verb(noun, verb);
		if (near != NULL)
			fprintf(stderr, "provctl: '%s' has no verb '%s' (did you mean '%s %s'?)\n",
			        noun, verb, noun, near);
		else
			fprintf(stderr, "provctl: '%s' has no verb '%s'\n", noun, verb);
		list_verbs(stderr, noun);
		return ST_USAGE;
	}
	near = cmd_suggest_noun(noun);
	/* "usr list" -> "user list"; "usr" -> "user" */
	fix = near != NULL && verb != NULL ? cmd_lookup(near, verb) : NULL;
	if (fix != NULL && fix->verb == NULL)
		fix = NULL;
	fprintf(stderr, "provctl: unknown command '%s%s%s' (%s%s%s%s%ssee provctl --help)\n",
	        noun, verb ? " " : "", verb ? verb : "",
	        near ? "did you mean '" : "", near ? near : "",
	        fix ? " " : "", fix ? fix->verb : "", near ? "'? " : "");
	return ST_USAGE;
}

/* provctl help [NOUN [VERB]]: every command, a noun's commands, or one. */
static void
help(const char *noun, const char *verb)
{
	const struct cmd_spec *c;
	size_t i;
	bool first = true;

	if (noun == NULL)
		usage_exit(stdout, 0);
	if (verb != NULL) {
		if ((c = cmd_lookup(noun, verb)) == NULL || c->verb == NULL)
			exit(unknown_command(noun, verb));
		print_command_help(stdout, c);
		exit(0);
	}
	if (!noun_exists(noun))
		exit(unknown_command(noun, NULL));
	for (i = 0; i < cmd_table_len; i++) {
		if (strcmp(cmd_table[i].noun, noun) != 0)
			continue;
		if (!first)
			putchar('\n');
		first = false;
		print_command_help(stdout, &cmd_table[i]);
	}
	exit(0);
}

/* provctl --commands: see the comment at the top. */
static void
list_commands(void)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_spec *c = &cmd_table[i];
		const struct opt_spec *o;

		fputs(c->noun, stdout);
		if (c->verb != NULL)
			printf(" %s", c->verb);
		for (o = c->opts; o->name != NULL; o++)
			printf(" --%s%s%s", o->name, o->metavar ? "=" : "",
			       o->metavar ? o->metavar : "");
		if (c->max_operands > 0 && c->operands != NULL)
			printf(" -- %s", c->operands);
		putchar('\n');
	}
	exit(fflush(stdout) == 0 ? 0 : ST_INTERNAL);
}

/* provctl --command-table: see the comment at the top. */
static void
print_command_table(void)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_spec *c = &cmd_table[i];
		const struct opt_spec *o;
		char roles[48];
		bool any = false;

		printf("%s%s%s\t%s\t%s\t%s%s\t%s\t", c->noun, c->verb ? " " : "",
		       c->verb ? c->verb : "", role_names(c->roles, roles, sizeof(roles)),
		       cmd_scope_name(c->scope), c->scope != SCOPE_UNIT ? "-" :
		       c->scope_opt ? "--" : "operand", c->scope_opt ? c->scope_opt : "",
		       (c->flags & CMD_WRITES) ? "write" : "read");
		for (o = c->opts; o->name != NULL; o++)
			if (o->required) {
				printf("%s--%s", any ? "," : "", o->name);
				any = true;
			}
		printf("%s\n", any ? "" : "-");
	}
	exit(fflush(stdout) == 0 ? 0 : ST_INTERNAL);
}

static int
read_file(const char *path, struct buf *out, size_t max, char *err, size_t errlen)
{
	char tmp[8192];
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(out, max);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_append(out, tmp, (size_t)n) < 0) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			rc = -1;
			break;
		}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	explicit_bzero(tmp, sizeof(tmp));
	close(fd);
	if (rc < 0) {
		buf_wipe(out);
		buf_free(out);
	}
	return rc;
}

/* One line from stdin, without echo when it is a terminal.  0, or -1 when
 * it is empty, too long for out, or holds a NUL byte (which would cut the
 * password short without a word). */
static int
read_secret_stdin(char *out, size_t outsz)
{
	struct termios old, noecho;
	bool tty = isatty(STDIN_FILENO), nul = false, full = false;
	size_t n = 0;
	int c;

	if (tty) {
		fprintf(stderr, "password: ");
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	while ((c = getc(stdin)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (n + 1 < outsz)
			out[n++] = (char)c;
		else
			full = true;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (nul || full) {
		fprintf(stderr, "provctl: the password on standard input %s\n",
		        nul ? "contains a NUL byte" : "is too long");
		explicit_bzero(out, outsz);
		return -1;
	}
	return n > 0 ? 0 : -1;
}

/* The socket, or a directory above it, refused us: name the group that
 * opens it, which is what the caller lacks. */
static void __attribute__((noreturn))
permission_exit(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;
	const char *who = getenv("USER");
	struct group *gr = NULL;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	/* The directory's group when it blocks the way, else the socket's. */
	if (slash != NULL && access(dir, X_OK) != 0 && stat(dir, &st) == 0)
		gr = getgrgid(st.st_gid);
	else if (stat(path, &st) == 0)
		gr = getgrgid(st.st_gid);
	if (gr != NULL && gr->gr_gid != 0)
		fprintf(stderr, "provctl: permission denied on %s: provd's socket is open to "
		        "group '%s'; add yourself (adduser %s %s) and log in again\n",
		        path, gr->gr_name, who != NULL ? who : "USER", gr->gr_name);
	else
		fprintf(stderr, "provctl: permission denied on %s: run as root or as a member of "
		        "provd's socket group (daemon.socket_group in provd.conf)\n", path);
	exit(ST_PERMISSION);
}

static int
connect_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "provctl: socket path too long: %s\n", path);
		exit(ST_USAGE);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EACCES)
			permission_exit(path);
		fprintf(stderr, "provctl: cannot connect to provd at %s: %s\n", path,
		        strerror(errno));
		exit(ST_UNAVAILABLE);
	}
	return fd;
}

static double
elapsed(const struct session *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - s->t0.tv_sec) + (now.tv_nsec - s->t0.tv_nsec) / 1e9;
}

static unsigned long long
field_ull(const struct wire_msg *m, const char *key, bool *found)
{
	size_t i;

	for (i = 0; i + 1 < m->nfields; i += 2)
		if (strcmp(m->f[i].ptr, key) == 0) {
			if (found != NULL)
				*found = true;
			return strtoull(m->f[i + 1].ptr, NULL, 10);
		}
	return 0;
}

/*
 * One live line on stderr: rows done of the total, rate and time left.
 * provd sends the total once the input has ended; until then it is
 * estimated from the rows and bytes provd has read and the file's size.
 */
static void
show_progress(struct session *s, const struct wire_msg *m)
{
	unsigned long long done, read, bytes, total;
	bool exact = false;
	double t = elapsed(s), rate;
	char line[160];

	if (!s->progress)
		return;
	done = field_ull(m, "done", NULL);
	read = field_ull(m, "read", NULL);
	bytes = field_ull(m, "bytes", NULL);
	total = field_ull(m, "total", &exact);
	if (!exact && s->input_size > 0 && bytes > 0 && read > 0)
		total = (unsigned long long)((double)read * (double)s->input_size / (double)bytes);
	if (total < done)
		total = done;
	rate = t > 0 ? done / t : 0;
	if (total > 0 && rate > 0)
		snprintf(line, sizeof(line), "%llu/%s%llu rows (%.0f%%)  %.0f rows/s  ETA %.0f s",
		         done, exact ? "" : "~", total, 100.0 * done / total, rate,
		         (double)(total - done) / rate);
	else
		snprintf(line, sizeof(line), "%llu rows  %.0f rows/s", done, rate);
	fprintf(stderr, "\r%-78s", line);
	s->progress_shown = true;
}

static void
clear_progress(struct session *s)
{
	if (s->progress_shown)
		fprintf(stderr, "\r%78s\r", "");
	s->progress_shown = false;
}

/* A file name provd chose for --p12-dir: [A-Za-z0-9._-], not starting
 * with a dot, at most 255 bytes. */
static bool
safe_file_name(const struct wire_field *f)
{
	size_t i;

	if (f->len == 0 || f->len > 255 || f->ptr[0] == '.')
		return false;
	for (i = 0; i < f->len; i++) {
		unsigned char c = (unsigned char)f->ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* --p12-dir: a SECRET record {name, file} becomes the new file DIR/name
 * (0600, never over an existing one, no link followed).  True when m was
 * such a record. */
static bool
write_secret_file(struct session *s, const struct wire_msg *m)
{
	int fd;
	ssize_t n = 0;

	if (s->secret_dir < 0 || m->nfields != 4 || strcmp(m->f[0].ptr, "name") != 0 ||
	    strcmp(m->f[2].ptr, "file") != 0)
		return false;
	if (!safe_file_name(&m->f[1])) {
		fprintf(stderr, "\nprovctl: --p12-dir: provd sent an unusable file name; "
		        "that file is lost\n");
		return true;
	}
	fd = openat(s->secret_dir, m->f[1].ptr,
	            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		n = write(fd, m->f[3].ptr, m->f[3].len);
	if (fd < 0 || n != (ssize_t)m->f[3].len || close(fd) != 0) {
		fprintf(stderr, "\nprovctl: --p12-dir: %s: %s; that file is lost\n", m->f[1].ptr,
		        fd < 0 || n < 0 ? strerror(errno) : "short write");
		if (fd >= 0)
			unlinkat(s->secret_dir, m->f[1].ptr, 0);
		return true;
	}
	s->files_written++;
	return true;
}

static void write_csv_record(struct session *s, FILE *out, bool *header,
                             const struct wire_msg *m, bool keep);

/* Remember a line written to the credentials file (see secret_finish). */
static void
secret_keep(struct session *s, const char *emp, const char *line, size_t len)
{
	struct secret_line *l;

	if (s->nsecret == s->capsecret) {
		size_t cap = s->capsecret ? s->capsecret * 2 : 256;
		struct secret_line *nv = realloc(s->secret_lines, cap * sizeof(*nv));

		if (nv == NULL)
			return;
		s->secret_lines = nv;
		s->capsecret = cap;
	}
	l = &s->secret_lines[s->nsecret];
	l->emp = strdup(emp != NULL ? emp : "");
	l->line = malloc(len);
	l->len = len;
	if (l->emp == NULL || l->line == NULL) {
		free(l->emp);
		free(l->line);
		return;
	}
	memcpy(l->line, line, len);
	s->nsecret++;
}

static int
secret_cmp(const void *a, const void *b)
{
	const struct secret_line *x = *(struct secret_line *const *)a;
	const struct secret_line *y = *(struct secret_line *const *)b;
	int d = strcmp(x->emp, y->emp);

	return d ? d : (x < y ? -1 : x > y);
}

/* After the last record: when provd sent a second line for an employee id
 * (an account lost in a failover and made again under a new login), the
 * earlier line is void — rewrite the file without it (a temporary file
 * renamed over it).  0, or -1 with errno. */
static int
secret_finish(struct session *s)
{
	struct secret_line **v = NULL;
	char tmp[4200];
	size_t i, dropped = 0;
	FILE *f = NULL;
	int fd, rc = -1;

	if (s->nsecret < 2 || s->secret_path == NULL || s->secret_head == NULL)
		goto out_ok;
	if ((v = calloc(s->nsecret, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < s->nsecret; i++)
		v[i] = &s->secret_lines[i];
	qsort(v, s->nsecret, sizeof(*v), secret_cmp);
	for (i = 0; i + 1 < s->nsecret; i++)
		if (v[i]->emp[0] != '\0' && strcmp(v[i]->emp, v[i + 1]->emp) == 0) {
			v[i]->len = 0; /* replaced by a later line */
			dropped++;
		}
	if (dropped == 0)
		goto out_ok;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->secret_path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		goto out;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out_unlink;
	}
	fputs(s->secret_head, f);
	for (i = 0; i < s->nsecret; i++)
		if (s->secret_lines[i].len > 0)
			fwrite(s->secret_lines[i].line, 1, s->secret_lines[i].len, f);
	if (fclose(f) != 0 || rename(tmp, s->secret_path) != 0)
		goto out_unlink;
	fprintf(stderr, "provctl: %zu credentials lines replaced by later ones (accounts made "
	        "again after a failover) were left out of %s\n", dropped, s->secret_path);
out_ok:
	rc = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	free(v);
	for (i = 0; i < s->nsecret; i++) {
		explicit_bzero(s->secret_lines[i].line, s->secret_lines[i].len);
		free(s->secret_lines[i].line);
		free(s->secret_lines[i].emp);
	}
	free(s->secret_lines);
	s->secret_lines = NULL;
	s->nsecret = 0;
	free(s->secret_head);
	s->secret_head = NULL;
	return rc;
}

static void
write_secret(struct session *s, const struct wire_msg *m)
{
	if (write_secret_file(s, m))
		return;
	if (s->secret_path == NULL)
		return;
	if (s->secret_out == NULL) {
		/* Made with the first password, so a run that fails before any
		 * account exists leaves no file to block its retry. */
		int fd = open(s->secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0 || (s->secret_out = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "\nprovctl: --credentials %s: %s; the passwords of "
			        "accounts made from now on are lost (reset them with user passwd)\n",
			        s->secret_path, strerror(errno));
			if (fd >= 0)
				close(fd);
			s->secret_path = NULL;
			return;
		}
	}
	/* A binary file (PKCS#12): its bytes as they are, no CSV. */
	if (m->nfields == 2 && strcmp(m->f[0].ptr, "file") == 0) {
		fwrite(m->f[1].ptr, 1, m->f[1].len, s->secret_out);
		return;
	}
	write_csv_record(s, s->secret_out, &s->secret_header, m, true);
}

/* One record as a CSV line to out (RFC 4180 quoting), after a header line
 * of its keys when *header is false.  The line is wiped from memory after
 * (it may hold a password).  keep: a credentials line, remembered for
 * secret_finish (secret_keep). */
static void
write_csv_record(struct session *s, FILE *out, bool *header, const struct wire_msg *m,
                 bool keep)
{
	struct buf b, val;
	size_t i, head;
	const char *emp = NULL;

	buf_init(&b, 1u << 20);
	if (!*header) {
		for (i = 0; i + 1 < m->nfields; i += 2)
			buf_printf(&b, "%s%s", i ? "," : "", m->f[i].ptr);
		buf_append(&b, "\n", 1);
		*header = true;
		if (keep)
			s->secret_head = strndup(buf_head(&b), b.len);
	}
	head = b.len;
	for (i = 0; i + 1 < m->nfields; i += 2)
		if (strcmp(m->f[i].ptr, "employee_id") == 0)
			emp = m->f[i + 1].ptr;
	buf_init(&val, 1u << 20);
	for (i = 0; i + 1 < m->nfields; i += 2) {
		const struct wire_field *v = &m->f[i + 1];
		const char *p = v->ptr;
		size_t n = v->len, k;
		bool quote;

		/* A credentials file is for people too: times in ISO, as
		 * everything provctl prints (the plan file goes back to provd
		 * as it came). */
		if (keep) {
			buf_reset(&val);
			if (fieldtype_render(&val, FIELDTYPE_PLAIN, m->f[i].ptr, v->ptr, v->len) == 0) {
				p = buf_head(&val);
				n = val.len;
			}
		}
		quote = memchr(p, ',', n) || memchr(p, '"', n) || memchr(p, '\n', n) ||
		        memchr(p, '\r', n);
		if (i)
			buf_append(&b, ",", 1);
		if (quote)
			buf_append(&b, "\"", 1);
		for (k = 0; k < n; k++) {
			if (p[k] == '"')
				buf_append(&b, "\"", 1);
			buf_append(&b, p + k, 1);
		}
		if (quote)
			buf_append(&b, "\"", 1);
	}
	buf_wipe(&val);
	buf_free(&val);
	buf_append(&b, "\n", 1);
	fwrite(buf_head(&b), 1, b.len, out);
	if (keep)
		secret_keep(s, emp, buf_head(&b) + head, b.len - head);
	buf_wipe(&b);
	buf_free(&b);
}

static void
write_lines(struct session *s, const struct wire_msg *m)
{
	size_t i;

	for (i = 0; i + 1 < m->nfields; i += 2) {
		FILE *out = s->line_out;

		if (strcmp(m->f[i].ptr, "attr_line") == 0) {
			/* the companion file, e.g. index.txt.attr for index.txt */
			if (s->attr_out == NULL) {
				int fd = -1;

				/* The same way as the main file: a new file,
				 * renamed over FILE.attr once provd said ok. */
				if (snprintf(s->attr_tmp, sizeof(s->attr_tmp), "%s.attr.XXXXXX",
				             s->line_path) >= (int)sizeof(s->attr_tmp) ||
				    (fd = mkstemp(s->attr_tmp)) < 0 || fchmod(fd, 0644) < 0 ||
				    (s->attr_out = fdopen(fd, "w")) == NULL) {
					fprintf(stderr, "provctl: %s.attr: %s\n", s->line_path,
					        strerror(errno));
					if (fd >= 0) {
						close(fd);
						unlink(s->attr_tmp);
					}
					s->line_failed = true;
					continue;
				}
			}
			out = s->attr_out;
		} else if (strcmp(m->f[i].ptr, "line") != 0) {
			continue;
		}
		fwrite(m->f[i + 1].ptr, 1, m->f[i + 1].len, out);
		fputc('\n', out);
	}
}

/* The output file of a CMD_OUTPUT_FILE command is written only once provd
 * has accepted the request (its first record, or its final STATUS ok):
 * into a new file next to it, created with O_EXCL (mkstemp) so no link is
 * followed and nothing existing is truncated, then renamed over it. */
static bool
line_out_open(struct session *s)
{
	int fd;

	if (s->line_out != NULL || s->line_failed)
		return s->line_out != NULL;
	if (snprintf(s->line_tmp, sizeof(s->line_tmp), "%s.XXXXXX", s->line_path) >=
	    (int)sizeof(s->line_tmp) ||
	    (fd = mkstemp(s->line_tmp)) < 0) {
		fprintf(stderr, "provctl: %s: %s\n", s->line_path, strerror(errno));
		s->line_failed = true;
		return false;
	}
	if (fchmod(fd, 0644) < 0 || (s->line_out = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "provctl: %s: %s\n", s->line_tmp, strerror(errno));
		close(fd);
		unlink(s->line_tmp);
		s->line_failed = true;
		return false;
	}
	return true;
}

/* Keep the output file (status ok) or drop it.  0, or an exit status. */
static int
line_out_finish(struct session *s, bool keep)
{
	int rc = 0;

	if (s->line_path == NULL)
		return 0;
	if (keep && !s->line_failed && !line_out_open(s))
		return ST_USAGE;
	if (s->line_out == NULL)
		return s->line_failed && keep ? ST_USAGE : 0;
	if (fclose(s->line_out) != 0) {
		fprintf(stderr, "provctl: writing the output file: %s\n", strerror(errno));
		rc = ST_INTERNAL;
	}
	s->line_out = NULL;
	if (s->attr_out != NULL) {
		char attr_path[4112];

		if (fclose(s->attr_out) != 0) {
			fprintf(stderr, "provctl: writing the .attr file: %s\n", strerror(errno));
			rc = ST_INTERNAL;
		}
		s->attr_out = NULL;
		snprintf(attr_path, sizeof(attr_path), "%s.attr", s->line_path);
		if (keep && rc == 0 && !s->line_failed && rename(s->attr_tmp, attr_path) < 0) {
			fprintf(stderr, "provctl: %s: %s\n", attr_path, strerror(errno));
			rc = ST_USAGE;
		}
		if (!keep || rc != 0 || s->line_failed)
			unlink(s->attr_tmp);
	}
	if (keep && rc == 0 && !s->line_failed && rename(s->line_tmp, s->line_path) < 0) {
		fprintf(stderr, "provctl: %s: %s\n", s->line_path, strerror(errno));
		rc = ST_USAGE;
	}
	if (!keep || rc != 0 || s->line_failed)
		unlink(s->line_tmp);
	return rc != 0 ? rc : s->line_failed && keep ? ST_USAGE : 0;
}

/* A batch row that went as planned (created, unchanged): on a terminal
 * only the others are printed. */
static bool
routine_row(const struct wire_msg *m)
{
	size_t i;

	for (i = 0; i + 1 < m->nfields; i += 2)
		if (strcmp(m->f[i].ptr, "action") == 0)
			return strcmp(m->f[i + 1].ptr, "created") == 0 ||
			       strcmp(m->f[i + 1].ptr, "create") == 0 ||
			       strcmp(m->f[i + 1].ptr, "unchanged") == 0;
	return false;
}

static void
handle(struct session *s, struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_RECORD:
		if (s->line_path != NULL) {
			if (line_out_open(s))
				write_lines(s, m);
			break;
		}
		if (s->report != NULL)
			format_record(s->report, m);
		if (wire_field_str(m, 0) != NULL && strcmp(wire_field_str(m, 0), "summary") == 0)
			s->summary_shown = true;
		else if (s->attention_only && routine_row(m))
			break;
		clear_progress(s);
		format_record(s->fmt, m);
		break;
	case WIRE_SECRET:
		write_secret(s, m);
		break;
	case WIRE_PLAN:
		if (s->plan_out != NULL)
			write_csv_record(s, s->plan_out, &s->plan_header, m, false);
		break;
	case WIRE_PROGRESS:
		show_progress(s, m);
		break;
	case WIRE_STATUS: {
		const char *code = wire_field_str(m, 0), *msg = wire_field_str(m, 1);

		s->status = code ? atoi(code) : ST_PROTOCOL;
		snprintf(s->status_msg, sizeof(s->status_msg), "%s", msg ? msg : "");
		s->got_status = true;
		break;
	}
	default:
		break;
	}
}

/* Pump the connection: send queued frames and streamed input, read and
 * handle replies, until the STATUS arrives. */
static void
converse(struct session *s)
{
	char err[256], *dst;
	struct wire_msg m;
	size_t used;
	ssize_t n;

	while (!s->got_status) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		/* Refill the send queue from the streamed input. */
		if (s->infd >= 0 && !s->input_done && s->out.len < CHUNK) {
			char chunk[CHUNK];
			struct wire_enc e;

			n = read(s->infd, chunk, sizeof(chunk));
			if (n < 0) {
				fprintf(stderr, "provctl: read: %s\n", strerror(errno));
				exit(ST_USAGE);
			}
			if (n == 0) {
				const char *none[] = { NULL };

				wire_put_strv(&s->out, WIRE_END, none);
				s->input_done = true;
			} else {
				wire_begin(&e, &s->out, WIRE_DATA);
				wire_add(&e, chunk, (size_t)n);
				if (wire_finish(&e) < 0) {
					fprintf(stderr, "provctl: out of memory\n");
					exit(ST_INTERNAL);
				}
			}
		}
		if (s->out.len > 0)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			exit(ST_INTERNAL);
		}
		if (p.revents & POLLOUT) {
			n = send(s->fd, buf_head(&s->out), s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				buf_consume(&s->out, (size_t)n);
			else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* The server may have replied and closed: read it. */
				buf_reset(&s->out);
				s->input_done = true;
				s->infd = -1;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((dst = buf_reserve(&s->in, 65536)) == NULL) {
				fprintf(stderr, "provctl: reply frame too large\n");
				exit(ST_PROTOCOL);
			}
			n = recv(s->fd, dst, 65536, 0);
			if (n <= 0) {
				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				fprintf(stderr, "provctl: provd closed the connection\n");
				exit(ST_UNAVAILABLE);
			}
			buf_commit(&s->in, (size_t)n);
			for (;;) {
				enum wire_decode rc = wire_decode(buf_head(&s->in), s->in.len,
				                                  &m, &used, err, sizeof(err));
				if (rc == WIRE_NEED_MORE)
					break;
				if (rc != WIRE_FRAME) {
					fprintf(stderr, "provctl: bad reply from provd: %s\n", err);
					exit(ST_PROTOCOL);
				}
				buf_consume(&s->in, used);
				handle(s, &m);
				wire_msg_free(&m);
				if (s->got_status)
					break;
			}
		}
	}
}

/*
 * Encode the request into s->out: operands, then options, with files read
 * and secrets taken from a file or stdin as the command table says.  Opens
 * the input stream and output files it names.  Returns 0, or the exit
 * status after printing why; buffers holding secrets are wiped either way.
 */
static int
build_request(struct session *s, const struct cmd_spec *spec, const struct cmd_args *args)
{
	struct buf *contents = NULL;
	struct wire_enc e;
	char err[512];
	size_t k;
	int rc = 0;

	wire_begin(&e, &s->out, WIRE_REQUEST);
	wire_add_str(&e, spec->noun);
	wire_add_str(&e, spec->verb ? spec->verb : "");
	for (k = 0; k < args->noperands; k++) {
		const char *op = args->operand[k];

		if (k == 0 && (spec->flags & CMD_STREAM_INPUT)) {
			if (strcmp(op, "-") == 0) {
				s->infd = STDIN_FILENO;
			} else if ((s->infd = open(op, O_RDONLY | O_CLOEXEC)) < 0) {
				fprintf(stderr, "provctl: %s: %s\n", op, strerror(errno));
				rc = ST_USAGE;
				goto out;
			}
			{
				struct stat st;

				if (fstat(s->infd, &st) == 0 && S_ISREG(st.st_mode))
					s->input_size = st.st_size;
			}
			/* provd sees only the file's name, for the audit trail. */
			op = strrchr(op, '/') ? strrchr(op, '/') + 1 : op;
		} else if (k == 0 && (spec->flags & CMD_OUTPUT_FILE)) {
			/* Written once provd has accepted the request. */
			s->line_path = op;
			op = strrchr(op, '/') ? strrchr(op, '/') + 1 : op;
		}
		wire_add_str(&e, op);
	}
	if ((contents = calloc(args->ngiven + 1, sizeof(*contents))) == NULL) {
		rc = ST_INTERNAL;
		goto out;
	}
	for (k = 0; k < args->ngiven; k++) {
		const struct cmd_given *g = &args->given[k];
		struct buf *b = &contents[k];
		char secret[MAX_SECRET];

		buf_init(b, CMD_MAX_ARG + 128);
		buf_printf(b, "--%s", g->opt->name);
		switch (g->opt->kind) {
		case OPT_FLAG:
			break;
		case OPT_VALUE:
		case OPT_MULTI:
			buf_append(b, "=", 1);
			buf_append(b, g->value, g->len);
			break;
		case OPT_FILE:
		case OPT_SECRET_FILE: {
			struct buf f;

			if (read_file(g->value, &f, CMD_MAX_ARG, err, sizeof(err)) < 0) {
				fprintf(stderr, "provctl: --%s: %s\n", g->opt->name, err);
				rc = ST_USAGE;
				goto out;
			}
			buf_append(b, "=", 1);
			if (g->opt->kind == OPT_SECRET_FILE) {
				/* One line: strip the trailing newline of a password file. */
				size_t len = f.len;

				while (len > 0 && (buf_head(&f)[len - 1] == '\n' ||
				                   buf_head(&f)[len - 1] == '\r'))
					len--;
				f.len = len;
			}
			buf_append(b, buf_head(&f), f.len);
			buf_wipe(&f);
			buf_free(&f);
			break;
		}
		case OPT_SECRET_STDIN:
			if (read_secret_stdin(secret, sizeof(secret)) < 0) {
				fprintf(stderr, "provctl: --%s: no password on standard input\n",
				        g->opt->name);
				rc = ST_USAGE;
				goto out;
			}
			buf_printf(b, "=%s", secret);
			explicit_bzero(secret, sizeof(secret));
			break;
		case OPT_OUTPUT: {
			struct stat st;

			/* Refuse an existing file now; create it with the first
			 * password (write_secret). */
			if (lstat(g->value, &st) == 0) {
				fprintf(stderr, "provctl: --%s %s: exists (refusing to overwrite)\n",
				        g->opt->name, g->value);
				rc = ST_USAGE;
				goto out;
			}
			if (errno != ENOENT) {
				fprintf(stderr, "provctl: --%s %s: %s\n", g->opt->name, g->value,
				        strerror(errno));
				rc = ST_USAGE;
				goto out;
			}
			s->secret_path = g->value;
			/* provd learns only the base name, for the audit trail. */
			buf_printf(b, "=%s", strrchr(g->value, '/') ? strrchr(g->value, '/') + 1 :
			           g->value);
			break;
		}
		case OPT_OUTPUT_DIR: {
			struct stat st;

			s->secret_dir = open(g->value, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (s->secret_dir < 0 || fstat(s->secret_dir, &st) < 0 ||
			    (st.st_mode & 022) != 0 ||
			    snprintf(s->secret_csv, sizeof(s->secret_csv), "%s/passphrases.csv",
			             g->value) >= (int)sizeof(s->secret_csv)) {
				fprintf(stderr, "provctl: --%s %s: %s\n", g->opt->name, g->value,
				        s->secret_dir < 0 ? strerror(errno) :
				        "a directory that group or others may write is refused");
				rc = ST_USAGE;
				goto out;
			}
			if (lstat(s->secret_csv, &st) == 0) {
				fprintf(stderr, "provctl: %s: exists (refusing to overwrite)\n",
				        s->secret_csv);
				rc = ST_USAGE;
				goto out;
			}
			s->secret_path = s->secret_csv;
			buf_printf(b, "=%s", strrchr(g->value, '/') ? strrchr(g->value, '/') + 1 :
			           g->value);
			break;
		}
		case OPT_REPORT: {
			int fd = open(g->value, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd < 0 || (s->report_out = fdopen(fd, "w")) == NULL ||
			    (s->report = format_new(FORMAT_TAB, s->report_out)) == NULL) {
				fprintf(stderr, "provctl: --%s %s: %s\n", g->opt->name, g->value,
				        strerror(errno));
				rc = ST_USAGE;
				goto out;
			}
			format_set_rows(s->report, true);
			buf_printf(b, "=%s", strrchr(g->value, '/') ? strrchr(g->value, '/') + 1 :
			           g->value);
			break;
		}
		case OPT_STREAM: {
			struct stat st;

			/* This file is the streamed input, instead of an operand. */
			if (s->infd >= 0) {
				fprintf(stderr, "provctl: --%s: give either it or FILE, not both\n",
				        g->opt->name);
				rc = ST_USAGE;
				goto out;
			}
			if ((s->infd = open(g->value, O_RDONLY | O_CLOEXEC)) < 0) {
				fprintf(stderr, "provctl: --%s %s: %s\n", g->opt->name, g->value,
				        strerror(errno));
				rc = ST_USAGE;
				goto out;
			}
			if (fstat(s->infd, &st) == 0 && S_ISREG(st.st_mode))
				s->input_size = st.st_size;
			buf_printf(b, "=%s", strrchr(g->value, '/') ? strrchr(g->value, '/') + 1 :
			           g->value);
			break;
		}
		case OPT_PLAN: {
			int fd = open(g->value, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd < 0 || (s->plan_out = fdopen(fd, "w")) == NULL) {
				fprintf(stderr, "provctl: --%s %s: %s\n", g->opt->name, g->value,
				        strerror(errno));
				if (fd >= 0)
					close(fd);
				rc = ST_USAGE;
				goto out;
			}
			buf_printf(b, "=%s", strrchr(g->value, '/') ? strrchr(g->value, '/') + 1 :
			           g->value);
			break;
		}
		}
		wire_add(&e, buf_head(b), b->len);
	}
	if (wire_finish(&e) < 0) {
		fprintf(stderr, "provctl: request too large\n");
		rc = ST_USAGE;
	}
out:
	if (rc != 0)
		wire_finish(&e);
	for (k = 0; contents != NULL && k < args->ngiven; k++) {
		buf_wipe(&contents[k]);
		buf_free(&contents[k]);
	}
	free(contents);
	return rc;
}

/*
 * One request and its reply: build it (reading files and secrets as the
 * spec says), send it, print the reply in format kind (columns cols).
 * Returns the exit status.
 */
static int
run_request(const char *sock, enum format_kind kind, const char *cols,
            const struct cmd_spec *spec, const struct cmd_args *args)
{
	struct session s;
	struct cmd_args sent = *args;
	int rc;

	memset(&s, 0, sizeof(s));
	s.infd = -1;
	s.secret_dir = -1;
	s.kind = kind;
	/* A listing's narrow default is for people; scripts get every field. */
	if (cols == NULL && s.kind == FORMAT_TABLE)
		cols = spec->columns;
	/* A command that can send fewer fields is told which ones are printed
	 * (provd then reads only what they are made of). */
	if (cols != NULL && strcmp(cols, "all") != 0 && cmd_opt(spec, "fields") != NULL &&
	    cmd_arg(args, "fields") == NULL && sent.ngiven < CMD_MAX_GIVEN)
		sent.given[sent.ngiven++] = (struct cmd_given){
			.opt = cmd_opt(spec, "fields"), .value = cols, .len = strlen(cols)
		};
	/* Build the request, reading files and secrets as the spec says. */
	buf_init(&s.out, 64u << 20);
	buf_init(&s.in, WIRE_MAX_FRAME + 64 + 65536);
	if ((rc = build_request(&s, spec, &sent)) != 0) {
		buf_free(&s.in);
		buf_wipe(&s.out);
		buf_free(&s.out);
		if (s.secret_out != NULL)
			fclose(s.secret_out);
		if (s.secret_dir >= 0)
			close(s.secret_dir);
		return rc;
	}

	s.fd = connect_socket(sock);
	s.fmt = format_new(s.kind, stdout);
	if (s.fmt == NULL) {
		fprintf(stderr, "provctl: out of memory\n");
		return ST_INTERNAL;
	}
	format_set_rows(s.fmt, (spec->flags & CMD_ROWS) != 0);
	if (format_set_columns(s.fmt, cols) < 0) {
		fprintf(stderr, "provctl: -o: want COLUMN[,COLUMN...]\n");
		return ST_USAGE;
	}
	s.progress = isatty(STDERR_FILENO) && (spec->flags & (CMD_STREAM_INPUT | CMD_PROGRESS));
	s.attention_only = cmd_opt(spec, "verbose") != NULL && !cmd_flag(args, "verbose") &&
	                   s.kind == FORMAT_TABLE && isatty(STDOUT_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &s.t0);
	converse(&s);
	buf_wipe(&s.out);

	clear_progress(&s);
	if (s.status == ST_OK)
		format_empty_listing(s.fmt, spec->fields);
	format_finish(s.fmt);
	/* Only the columns the caller named: a listing's default ones may be
	 * absent from a reply that has no rows. */
	if (cols != NULL && cols != spec->columns && s.status == ST_OK &&
	    format_check_columns(s.fmt, s.status_msg, sizeof(s.status_msg)) < 0)
		s.status = ST_USAGE;
	format_free(s.fmt);
	if (s.report != NULL) {
		format_finish(s.report);
		format_free(s.report);
		if (fclose(s.report_out) != 0) {
			fprintf(stderr, "provctl: writing the report: %s\n", strerror(errno));
			return ST_INTERNAL;
		}
	}
	if (s.secret_dir >= 0)
		close(s.secret_dir);
	if (s.plan_out != NULL && fclose(s.plan_out) != 0) {
		fprintf(stderr, "provctl: writing the plan: %s\n", strerror(errno));
		return ST_INTERNAL;
	}
	if (s.secret_out != NULL && fclose(s.secret_out) != 0) {
		fprintf(stderr, "provctl: writing the credentials file: %s\n", strerror(errno));
		return ST_INTERNAL;
	}
	if (secret_finish(&s) < 0) {
		fprintf(stderr, "provctl: rewriting the credentials file without its replaced "
		        "lines: %s\n", strerror(errno));
		return ST_INTERNAL;
	}
	if ((rc = line_out_finish(&s, s.status == ST_OK)) != 0)
		return rc;
	/* In a table, a batch's summary record already says what its status
	 * message says; scripts (tab, json) still get the message on stderr. */
	if (s.status != ST_OK &&
	    !(s.summary_shown && s.status == ST_PARTIAL && s.kind == FORMAT_TABLE))
		fprintf(stderr, "provctl: %s\n", s.status_msg);
	else if (!s.summary_shown && s.kind == FORMAT_TABLE && isatty(STDERR_FILENO) && s.status_msg[0] &&
	         strcmp(s.status_msg, "ok") != 0)
		fprintf(stderr, "%s\n", s.status_msg);
	buf_free(&s.in);
	buf_free(&s.out);
	close(s.fd);
	return s.status;
}

/* Does this command, run this way, ask before it changes anything?  Only
 * when a person is at a terminal, and not with --yes or --dry-run. */
static bool
must_confirm(const struct cmd_spec *spec, const struct cmd_args *args)
{
	return cmd_opt(spec, "yes") != NULL && !cmd_flag(args, "yes") &&
	       !cmd_flag(args, "dry-run") && isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

/* "y" or "yes" on the terminal. */
static bool
confirmed(void)
{
	char line[32];

	fprintf(stderr, "Apply these changes? [y/N] ");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("PROVD_SOCKET"), *fmtname = "table", *cols = NULL;
	const struct cmd_spec *spec;
	struct cmd_args args;
	enum format_kind kind = FORMAT_TABLE;
	char err[512];
	const char *noun, *verb;
	char **rest;
	int nrest, ch, rc;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "commands", no_argument, NULL, 'C' },
		{ "command-table", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "+s:f:o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'o': cols = optarg; break;
		case 'f': fmtname = optarg; break;
		case 'h': usage_exit(stdout, 0); break;
		case 'V': printf("provctl %s\n", PROVD_VERSION); return 0;
		case 'C': list_commands(); break;
		case 'T': print_command_table(); break;
		default:  usage_exit(stderr, ST_USAGE);
		}
	}
	if (format_parse(fmtname, &kind) < 0) {
		fprintf(stderr, "provctl: -f: unknown format '%s' (table, tab or json)\n", fmtname);
		return ST_USAGE;
	}
	if (optind >= argc)
		usage_exit(stderr, ST_USAGE);
	if (strcmp(argv[optind], "help") == 0)
		help(optind + 1 < argc ? argv[optind + 1] : NULL,
		     optind + 2 < argc ? argv[optind + 2] : NULL);

	noun = argv[optind];
	verb = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (verb != NULL && (spec = cmd_lookup(noun, verb)) != NULL && spec->verb != NULL) {
		rest = argv + optind + 2;
		nrest = argc - optind - 2;
	} else if ((spec = cmd_lookup(noun, NULL)) != NULL) {
		verb = NULL;
		rest = argv + optind + 1;
		nrest = argc - optind - 1;
	} else if (noun_exists(noun)) {
		/* "provctl user": its verbs; "provctl user frob": the same, as an error. */
		if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
			list_verbs(stdout, noun);
			return 0;
		}
		return unknown_command(noun, verb);
	} else
		return unknown_command(noun, verb);
	/* Global options may also follow the command ("user show annv -f json"):
	 * commands only take "--long" options, so "-f" and "-s" are unambiguous. */
	{
		int r, w = 0;

		for (r = 0; r < nrest; r++) {
			if (strcmp(rest[r], "--") == 0) {
				while (r < nrest)
					rest[w++] = rest[r++];
				break;
			}
			if (strcmp(rest[r], "-v") == 0 && cmd_opt(spec, "verbose") != NULL) {
				rest[w++] = (char *)"--verbose";
				continue;
			}
			if (strcmp(rest[r], "--help") == 0 || strcmp(rest[r], "-h") == 0) {
				print_command_help(stdout, spec);
				return 0;
			}
			if ((strcmp(rest[r], "-f") == 0 || strcmp(rest[r], "-s") == 0 ||
			     strcmp(rest[r], "-o") == 0) && r + 1 < nrest) {
				if (rest[r][1] == 'f')
					fmtname = rest[r + 1];
				else if (rest[r][1] == 'o')
					cols = rest[r + 1];
				else
					sock = rest[r + 1];
				r++;
				continue;
			}
			rest[w++] = rest[r];
		}
		nrest = w;
		if (format_parse(fmtname, &kind) < 0) {
			fprintf(stderr, "provctl: -f: unknown format '%s' (table, tab or json)\n",
			        fmtname);
			return ST_USAGE;
		}
	}
	if (cmd_parse(spec, nrest, (const char *const *)rest, NULL, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, "provctl: %s\n", err);
		return ST_USAGE;
	}

	if (sock == NULL || sock[0] == '\0')
		sock = DEFAULT_SOCKET;
	if (must_confirm(spec, &args)) {
		/* The same command with --dry-run first: show, then ask. */
		struct cmd_args preview = args;

		if (preview.ngiven == CMD_MAX_GIVEN) {
			fprintf(stderr, "provctl: too many options\n");
			return ST_USAGE;
		}
		preview.given[preview.ngiven++] = (struct cmd_given){
			.opt = cmd_opt(spec, "dry-run"), .value = "", .len = 0
		};
		if ((rc = run_request(sock, kind, cols, spec, &preview)) != ST_OK)
			return rc;
		if (!confirmed()) {
			fprintf(stderr, "provctl: not confirmed; nothing changed\n");
			return ST_USAGE;
		}
	}
	return run_request(sock, kind, cols, spec, &args);
}
