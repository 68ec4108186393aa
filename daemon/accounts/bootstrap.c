/* bootstrap — offline first load. See bootstrap.h. */
#include "bootstrap.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lber.h>
#include <ldif.h>

#include <openssl/evp.h>

#include "account.h"
#include "audit.h"
#include "batch.h"
#include "csv.h"
#include "fieldtype.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "template.h"
#include "units.h"
#include "wire.h"
#include "xmalloc.h"

#define CHUNK          4096        /* rows planned, then hashed together */
#define MAX_ROWS       20000000u   /* one load (a national civil service) */
#define MAX_THREADS    64
#define UNITS_MAX      100000
#define READ_CHUNK     (1u << 16)

struct load {
	struct provd         *pd;
	struct account_offline *planned;    /* logins, addresses, ids so far */
	struct account_plan  *plans[CHUNK];
	unsigned long long    rownum[CHUNK];
	const char           *file[CHUNK];  /* the CSV a row came from */
	size_t                n;
	unsigned              threads;
	time_t                now;
	FILE                 *ldif, *cred;
	EVP_MD_CTX           *md;
	/* the CSV being read */
	const char           *path;
	int                   col[BATCH_NCOLS];
	bool                  header_done;
	bool                  failed;       /* a fatal error: exit 2 */
	unsigned long         rows, created, rejected;
};

static void
reject(struct load *l, const char *file, unsigned long long row, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reject(struct load *l, const char *file, unsigned long long row, const char *fmt, ...)
{
	va_list ap;

	l->rejected++;
	fprintf(stderr, "provd bootstrap: %s: row %llu: ", file, row);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- output ---------------------------------------------------------- */

static int
ldif_out(struct load *l, const char *s, size_t n)
{
	if (fwrite(s, 1, n, l->ldif) != n)
		return -1;
	return EVP_DigestUpdate(l->md, s, n) == 1 ? 0 : -1;
}

/* One "attr: value" line (base64 when the value needs it), folded. */
static int
ldif_line(struct load *l, const char *attr, const char *val)
{
	char *line = ldif_put_wrap(LDIF_PUT_VALUE, attr, val, strlen(val), LDIF_LINE_WIDTH);
	int rc;

	if (line == NULL)
		return -1;
	rc = ldif_out(l, line, strlen(line));
	ber_memfree(line);
	return rc;
}

static int
write_entry(struct load *l, const char *dn, const struct template_entry *e)
{
	size_t i, k;

	if (ldif_line(l, "dn", dn) < 0)
		return -1;
	for (i = 0; i < e->nattrs; i++)
		for (k = 0; k < e->attrs[i].nvalues; k++)
			if (ldif_line(l, e->attrs[i].name, e->attrs[i].values[k]) < 0)
				return -1;
	return ldif_out(l, "\n", 1);
}

/* One CSV field of the credentials file, quoted when it must be. */
static void
cred_field(FILE *f, const char *v, bool first)
{
	if (!first)
		fputc(',', f);
	if (strpbrk(v, ",\"\r\n") == NULL) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

/* ---- hashing on every core ------------------------------------------ */

struct hasher {
	struct load *l;
	unsigned     first;
};

static void *
hash_stride(void *arg)
{
	struct hasher *h = arg;
	size_t i;

	for (i = h->first; i < h->l->n; i += h->l->threads)
		if (account_plan_ok(h->l->plans[i]))
			(void)account_plan_hash(h->l->plans[i]);
	return NULL;
}

static void
hash_chunk(struct load *l)
{
	pthread_t tid[MAX_THREADS];
	struct hasher h[MAX_THREADS];
	unsigned t, started = 0;

	for (t = 1; t < l->threads; t++) {
		h[t].l = l;
		h[t].first = t;
		if (pthread_create(&tid[t], NULL, hash_stride, &h[t]) != 0)
			break;
		started = t;
	}
	h[0].l = l;
	h[0].first = 0;
	hash_stride(&h[0]);
	/* A thread that could not start: its share runs here. */
	for (t = started + 1; t < l->threads; t++) {
		h[t].l = l;
		h[t].first = t;
		hash_stride(&h[t]);
	}
	for (t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
}

/* Hash the planned rows, then write them in file order. */
static void
flush_chunk(struct load *l)
{
	size_t i;

	hash_chunk(l);
	for (i = 0; i < l->n; i++) {
		struct account_result *res = account_plan_result(l->plans[i]);
		struct template_entry e;
		char err[300], iso[21];

		if (res->status != ST_OK) {
			reject(l, l->file[i], l->rownum[i], "%s", res->msg);
		} else if (account_plan_entry(l->plans[i], l->now, &e, err, sizeof(err)) < 0) {
			template_entry_free(&e);
			reject(l, l->file[i], l->rownum[i], "%s", err);
		} else {
			if (write_entry(l, res->dn, &e) < 0 && !l->failed) {
				log_warn("bootstrap: writing the LDIF");
				l->failed = true;
			}
			template_entry_free(&e);
			cred_field(l->cred, res->login, true);
			cred_field(l->cred, res->mail, false);
			cred_field(l->cred, account_plan_employee_id(l->plans[i]),
			           false);
			cred_field(l->cred, res->password, false);
			/* ISO, as provctl writes the same file. */
			cred_field(l->cred, fieldtype_time_text(res->expires, iso), false);
			cred_field(l->cred, l->pd->cfg.password_page_url ?
			           l->pd->cfg.password_page_url : "", false);
			fputc('\n', l->cred);
			l->created++;
		}
		account_plan_free(l->plans[i]);
		l->plans[i] = NULL;
	}
	l->n = 0;
}

/* ---- reading the staff files ----------------------------------------- */

static int
on_staff_row(const struct csv_row *cr, void *arg)
{
	struct load *l = arg;
	struct account_input in = { 0 };
	char err[300], *f[BATCH_NCOLS], *aliases = NULL;
	static const char *const required[] = { "employee_id", "full_name", "unit" };
	size_t i;

	if (!l->header_done) {
		if (csv_header_bind(cr->fields, cr->nfields, batch_columns, BATCH_NCOLS, l->col,
		                    err, sizeof(err)) < 0 || cr->error != 0) {
			fprintf(stderr, "provd bootstrap: %s: header (line %llu): %s\n", l->path,
			        (unsigned long long)cr->line, cr->error ? cr->error_msg : err);
			l->failed = true;
			return 1;
		}
		l->header_done = true;
		return 0;
	}
	if (++l->rows > MAX_ROWS) {
		fprintf(stderr, "provd bootstrap: more than %u rows\n", MAX_ROWS);
		l->failed = true;
		return 1;
	}
	if (cr->error != 0) {
		reject(l, l->path, cr->record, "line %llu: %s", (unsigned long long)cr->line,
		       cr->error_msg);
		return 0;
	}
	for (i = 0; i < BATCH_NCOLS; i++) {
		int c = l->col[i];

		f[i] = c < 0 ? NULL : (size_t)c < cr->nfields ? (char *)(uintptr_t)cr->fields[c]
		                                               : (char *)(uintptr_t)"";
	}
	for (i = 0; i < 3; i++)
		if (f[i] == NULL || f[i][0] == '\0') {
			reject(l, l->path, cr->record, "column %s is empty", required[i]);
			return 0;
		}
	in.employee_id = f[COL_EMPLOYEE_ID];
	in.full_name = f[COL_FULL_NAME];
	in.unit = f[COL_UNIT];
	in.title = f[COL_TITLE];
	in.phone = f[COL_PHONE];
	in.login = f[COL_LOGIN];
	in.mail = f[COL_MAIL];
	in.quota = f[COL_QUOTA];
	if (f[COL_ALIASES] != NULL &&
	    batch_split_aliases(aliases = xstrdup(f[COL_ALIASES]), &in) < 0) {
		free(aliases);
		reject(l, l->path, cr->record, "aliases: at most %d", ACCOUNT_MAX_ALIASES);
		return 0;
	}
	in.must_change = true;
	in.upsert = true;
	l->plans[l->n] = account_plan_offline(l->pd, &in, l->planned);
	free(aliases);
	l->rownum[l->n] = cr->record;
	l->file[l->n] = l->path;
	if (++l->n == CHUNK)
		flush_chunk(l);
	return 0;
}

static int
read_csv(const char *path, csv_row_fn *cb, void *ctx, const struct csv_limits *lim)
{
	struct csv_reader *r = csv_reader_new(lim);
	char *buf = xmalloc(READ_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	ssize_t got;

	if (fd < 0 || r == NULL) {
		fprintf(stderr, "provd bootstrap: %s: %s\n", path,
		        fd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	while ((got = read(fd, buf, READ_CHUNK)) > 0)
		if (csv_feed(r, buf, (size_t)got, cb, ctx) != 0)
			break;
	if (got < 0) {
		fprintf(stderr, "provd bootstrap: %s: %s\n", path, strerror(errno));
		goto out;
	}
	(void)csv_finish(r, cb, ctx);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	csv_reader_free(r);
	return rc;
}

/* ---- the units file -------------------------------------------------- */

enum { U_CODE, U_NAME, U_KIND, U_PARENT, U_NCOLS };

static const struct csv_column unit_columns[U_NCOLS] = {
	[U_CODE] = { "code", 1 }, [U_NAME] = { "name", 1 },
	[U_KIND] = { "kind", 0 }, [U_PARENT] = { "parent", 0 },
};

struct unit_load {
	const char  *path;
	int          col[U_NCOLS];
	bool         header_done, failed;
	struct unit *v;
	size_t       n, cap;
};

static const char *
unit_field(const struct unit_load *u, const struct csv_row *cr, int which)
{
	int c = u->col[which];

	return c >= 0 && (size_t)c < cr->nfields ? cr->fields[c] : "";
}

static int
on_unit_row(const struct csv_row *cr, void *arg)
{
	struct unit_load *u = arg;
	const char *code, *parent;
	char err[300];
	struct unit *x;

	if (!u->header_done) {
		if (csv_header_bind(cr->fields, cr->nfields, unit_columns, U_NCOLS, u->col,
		                    err, sizeof(err)) < 0 || cr->error != 0)
			goto bad;
		u->header_done = true;
		return 0;
	}
	code = unit_field(u, cr, U_CODE);
	parent = unit_field(u, cr, U_PARENT);
	if (cr->error != 0 || !units_code_valid(code) ||
	    (parent[0] != '\0' && !units_code_valid(parent)) || u->n >= UNITS_MAX) {
		snprintf(err, sizeof(err), "%s", cr->error ? cr->error_msg :
		         u->n >= UNITS_MAX ? "too many units" : "a bad unit code");
		goto bad;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 256;
		u->v = xrealloc(u->v, cap * sizeof(*u->v));
		u->cap = cap;
	}
	x = &u->v[u->n];
	memset(x, 0, sizeof(*x));
	snprintf(x->code, sizeof(x->code), "%s", code);
	snprintf(x->kind, sizeof(x->kind), "%s", unit_field(u, cr, U_KIND));
	snprintf(x->parent, sizeof(x->parent), "%s", parent);
	x->name = xstrdup(unit_field(u, cr, U_NAME));
	u->n++;
	return 0;
bad:
	fprintf(stderr, "provd bootstrap: %s: %s %llu: %s\n", u->path,
	        u->header_done ? "line" : "header, line", (unsigned long long)cr->line,
	        cr->error ? cr->error_msg : err);
	u->failed = true;
	return 1;
}

static struct units *
load_units(const char *path)
{
	struct unit_load u = { .path = path };
	size_t i;

	if (read_csv(path, on_unit_row, &u, NULL) < 0 || u.failed || u.n == 0) {
		if (!u.failed && u.n == 0)
			fprintf(stderr, "provd bootstrap: %s: no units\n", path);
		for (i = 0; i < u.n; i++)
			free(u.v[i].name);
		free(u.v);
		return NULL;
	}
	return units_from_array(u.v, u.n);
}

/* ---- main ------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr, "usage: provd [-c FILE] bootstrap --units UNITS.csv --credentials FILE\n"
	                "             [-o FILE.ldif] [--threads N] STAFF.csv...\n");
}

static FILE *
create_file(const char *path, const char *what)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "provd bootstrap: %s %s: %s\n", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

int
bootstrap_main(struct provd *pd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "units", required_argument, NULL, 'u' },
		{ "credentials", required_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *units_path = NULL, *cred_path = NULL, *out_path = NULL;
	struct load *l = NULL;
	struct timespec t0, t1;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0, i;
	char err[512], args[1024], msg[1024], hex[2 * EVP_MAX_MD_SIZE + 1];
	long threads = 0;
	int ch, rc = 2, k;
	size_t off = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': units_path = optarg; break;
		case 'C': cred_path = optarg; break;
		case 'o': out_path = optarg; break;
		case 't':
			threads = strtol(optarg, NULL, 10);
			if (threads < 1 || threads > MAX_THREADS) {
				fprintf(stderr, "provd bootstrap: --threads: 1..%d\n", MAX_THREADS);
				return 2;
			}
			break;
		default: usage(); return 2;
		}
	}
	if (units_path == NULL || cred_path == NULL || optind >= argc) {
		usage();
		return 2;
	}
	if (out_path == NULL && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "provd bootstrap: the LDIF holds password hashes: redirect it "
		        "to a file or give -o FILE\n");
		return 2;
	}
	l = xcalloc(1, sizeof(*l));
	l->pd = pd;
	l->now = time(NULL);
	if (threads == 0)
		threads = pd->cfg.hash_threads ? (long)pd->cfg.hash_threads :
		          sysconf(_SC_NPROCESSORS_ONLN);
	l->threads = (unsigned)(threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads);
	if ((pd->units = load_units(units_path)) == NULL)
		goto out;
	l->planned = account_offline_new(MAX_ROWS);
	if ((l->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(l->md, EVP_sha256(), NULL) != 1)
		fatalx("bootstrap: out of memory");
	if (mkdir(pd->cfg.state_dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "provd bootstrap: state_dir %s: %s\n", pd->cfg.state_dir,
		        strerror(errno));
		goto out;
	}
	if (audit_open(&pd->audit, pd->cfg.state_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "provd bootstrap: audit: %s\n", err);
		goto out;
	}
	if ((l->cred = create_file(cred_path, "--credentials")) == NULL)
		goto out;
	if (out_path != NULL ? (l->ldif = create_file(out_path, "-o")) == NULL
	                     : (l->ldif = stdout) == NULL)
		goto out;
	fputs("login,mail,employee_id,password,expires,change_at\n", l->cred);

	for (k = optind; k < argc && !l->failed; k++) {
		l->path = argv[k];
		l->header_done = false;
		if (read_csv(argv[k], on_staff_row, l, NULL) < 0)
			l->failed = true;
	}
	if (l->n > 0)
		flush_chunk(l);
	if (fflush(l->ldif) != 0 || ferror(l->ldif) || (out_path != NULL && fsync(fileno(l->ldif)) < 0)) {
		log_warn("bootstrap: writing the LDIF");
		l->failed = true;
	}
	if (fflush(l->cred) != 0 || ferror(l->cred) || fsync(fileno(l->cred)) < 0) {
		log_warn("bootstrap: writing %s", cred_path);
		l->failed = true;
	}
	EVP_DigestFinal_ex(l->md, digest, &dlen);
	for (i = 0; i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	hex[2 * dlen] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* The record of what was made: no password, no hash. */
	off = (size_t)snprintf(args, sizeof(args), "--units %s --credentials %s -o %s",
	                       units_path, cred_path, out_path ? out_path : "-");
	for (k = optind; k < argc && off < sizeof(args); k++)
		off += (size_t)snprintf(args + off, sizeof(args) - off, " %s", argv[k]);
	snprintf(msg, sizeof(msg), "%lu rows: %lu created, %lu rejected%s; LDIF sha256 %s",
	         l->rows, l->created, l->rejected, l->failed ? "; FAILED" : "", hex);
	rc = l->failed ? 2 : l->rejected > 0 ? 1 : 0;
	if (audit_record_local(pd->audit, "bootstrap", args, rc == 2 ? ST_INTERNAL : ST_OK,
	                       rc == 2 ? "failed" : "ok",
	                       (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000 +
	                                            (t1.tv_nsec - t0.tv_nsec) / 1000000),
	                       msg) < 0) {
		fprintf(stderr, "provd bootstrap: the audit journal did not take the record\n");
		rc = 2;
	}
	fprintf(stderr, "provd bootstrap: %s\n", msg);
out:
	if (l != NULL) {
		for (i = 0; i < l->n; i++)
			account_plan_free(l->plans[i]);
		if (l->cred != NULL)
			fclose(l->cred);
		if (l->ldif != NULL && l->ldif != stdout)
			fclose(l->ldif);
		EVP_MD_CTX_free(l->md);
		account_offline_free(l->planned);
		free(l);
	}
	audit_close(pd->audit);
	pd->audit = NULL;
	units_unref(pd->units);
	pd->units = NULL;
	return rc;
}
