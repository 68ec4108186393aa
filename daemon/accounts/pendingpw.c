/* pendingpw — rows whose initial password is not delivered yet. See pendingpw.h. */
#include "pendingpw.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fileio.h"
#include "log.h"
#include "provd.h"
#include "request.h"
#include "strset.h"
#include "wire.h"
#include "xmalloc.h"

#define PENDING_DIR  "batch-pending"
#define LINE_MAX_LEN 400
#define ID_MAX       128 /* encoded bytes kept of an id */
#define REPORT_IDS   10  /* ids named in the log line and record */
#define SET_MAX      1000000

struct pendingpw {
	int fd;
	struct provd *pd;
	unsigned long unsent; /* rows whose SECRET record is not written yet */
	bool closed;          /* pendingpw_close was called */
	bool keep;            /* report the rows left in flight at the end */
	char path[4096];
};

/* A row whose SECRET record waits in the client's output queue. */
struct unsent_row {
	struct pendingpw *p;
	char *id;
};

static int
dir_path(const struct provd *pd, char *out, size_t len)
{
	if (pd->cfg.state_dir == NULL)
		return -1;
	return snprintf(out, len, "%s/%s", pd->cfg.state_dir, PENDING_DIR) < (int)len ? 0 : -1;
}

/* Percent-encode id into out[ID_MAX + 1] (cut at ID_MAX bytes). */
static void
encode_id(const char *id, char out[ID_MAX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *id != '\0' && o + 3 < ID_MAX; id++) {
		unsigned char c = (unsigned char)*id;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

struct pendingpw *
pendingpw_open(struct provd *pd, unsigned long reqid, uid_t uid, const char *user)
{
	struct pendingpw *p;
	char dir[3900], line[LINE_MAX_LEN], who[ID_MAX + 1];
	int n;

	if (dir_path(pd, dir, sizeof(dir)) < 0)
		return NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("batch: %s", dir);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->pd = pd;
	snprintf(p->path, sizeof(p->path), "%s/%ld.%lu.%lld", dir, (long)getpid(), reqid,
	         (long long)time(NULL));
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
	             0600);
	if (p->fd < 0) {
		log_warn("batch: %s", p->path);
		free(p);
		return NULL;
	}
	encode_id(user, who);
	n = snprintf(line, sizeof(line), "# batch import, request %lu, uid %lu (%s)\n", reqid,
	             (unsigned long)uid, who);
	if (fileio_write_all(p->fd, line, (size_t)n) < 0 || fsync(p->fd) < 0)
		log_warn("batch: %s", p->path);
	return p;
}

static void
mark(struct pendingpw *p, char sign, const char *employee_id)
{
	char line[ID_MAX + 8], id[ID_MAX + 1];
	int n;

	if (p == NULL || employee_id == NULL)
		return;
	encode_id(employee_id, id);
	n = snprintf(line, sizeof(line), "%c %s\n", sign, id);
	if (fileio_write_all(p->fd, line, (size_t)n) < 0)
		log_warn("batch: %s", p->path);
}

void
pendingpw_begin(struct pendingpw *p, const char *employee_id)
{
	mark(p, '+', employee_id);
}

void
pendingpw_end(struct pendingpw *p, const char *employee_id)
{
	mark(p, '-', employee_id);
}

static void report_file(struct provd *pd, int dirfd, const char *dir, const char *name,
                        unsigned long *total);

/* The batch is over and no SECRET record waits: remove or report the file. */
static void
finish(struct pendingpw *p)
{
	unsigned long n = 0;
	char *slash;

	close(p->fd);
	if (!p->keep) {
		if (unlink(p->path) < 0)
			log_warn("batch: %s", p->path);
	} else {
		slash = strrchr(p->path, '/');
		*slash = '\0';
		report_file(p->pd, AT_FDCWD, p->path, slash + 1, &n);
	}
	free(p);
}

void
pendingpw_close(struct pendingpw *p, struct provd *pd, int keep)
{
	(void)pd;
	if (p == NULL)
		return;
	p->closed = true;
	p->keep |= keep != 0;
	if (p->unsent == 0)
		finish(p);
}

static void
row_written(void *ctx, bool written)
{
	struct unsent_row *u = ctx;
	struct pendingpw *p = u->p;

	if (written)
		pendingpw_end(p, u->id);
	else
		p->keep = true; /* it stays in flight, and is reported */
	free(u->id);
	free(u);
	if (--p->unsent == 0 && p->closed)
		finish(p);
}

void
pendingpw_end_when_written(struct pendingpw *p, struct request *req, const char *employee_id)
{
	struct unsent_row *u;

	if (p == NULL || employee_id == NULL)
		return;
	u = xcalloc(1, sizeof(*u));
	u->p = p;
	u->id = xstrdup(employee_id);
	switch (request_when_written(req, row_written, u)) {
	case 0: p->unsent++; return;
	case 1: pendingpw_end(p, employee_id); break;
	default: p->keep = true; break;
	}
	free(u->id);
	free(u);
}

/* The rows of the file at dirfd/name still in flight: "+" without "-". */
static void
report_file(struct provd *pd, int atfd, const char *dir, const char *name, unsigned long *total)
{
	char line[LINE_MAX_LEN], header[LINE_MAX_LEN] = "", kept[512];
	char ids[REPORT_IDS * (ID_MAX + 1) + 64] = "", note[600], msg[4000];
	struct strset *open_ids = NULL;
	unsigned long n = 0, named = 0;
	size_t len;
	FILE *f;
	int fd, dirfd = openat(atfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0) {
		log_warn("batch: %s", dir);
		return;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("batch: %s/%s", PENDING_DIR, name);
		close(dirfd);
		return;
	}
	open_ids = strset_new(SET_MAX);
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (line[0] == '#' && header[0] == '\0')
			snprintf(header, sizeof(header), "%s", line + 2);
		else if (line[0] == '+' && line[1] == ' ')
			(void)strset_add(open_ids, line + 2);
		else if (line[0] == '-' && line[1] == ' ')
			(void)strset_del(open_ids, line + 2);
	}
	fclose(f);
	/* Every "+" without its "-", in file order: read it again. */
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
	    (f = fdopen(fd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] != '+' || line[1] != ' ' || !strset_has(open_ids, line + 2))
				continue;
			(void)strset_del(open_ids, line + 2);
			n++;
			if (named < REPORT_IDS) {
				len = strlen(ids);
				snprintf(ids + len, sizeof(ids) - len, "%s%s", named ? " " : "",
				         line + 2);
				named++;
			}
		}
		fclose(f);
	} else if (fd >= 0) {
		close(fd);
	}
	strset_free(open_ids);
	snprintf(kept, sizeof(kept), "%s.interrupted", name);
	if (n == 0) {
		(void)unlinkat(dirfd, name, 0);
		close(dirfd);
		return;
	}
	if (renameat(dirfd, name, dirfd, kept) < 0)
		log_warn("batch: %s/%s", PENDING_DIR, name);
	close(dirfd);
	snprintf(note, sizeof(note), "rows_in_flight=%lu file=%s/%.500s", n, PENDING_DIR, kept);
	snprintf(msg, sizeof(msg),
	         "a batch import ended early (%s): %lu row(s) were "
	         "being created; an account made for one of them never had its initial password "
	         "delivered: issue a new one with 'provctl user passwd LOGIN --generate'. "
	         "Every row is in %s/%.300s; the first employee ids: %s%s",
	         header[0] ? header : "unknown request", n, PENDING_DIR, kept, ids,
	         n > named ? " ..." : "");
	log_warnx("batch: %s", msg);
	audit_event(pd->audit, "(batch interrupted)", "", note, ST_PARTIAL, msg);
	*total += n;
}

unsigned long
pendingpw_recover(struct provd *pd)
{
	char dir[4096];
	struct dirent *de;
	unsigned long total = 0;
	DIR *d;

	if (dir_path(pd, dir, sizeof(dir)) < 0 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' ||
		    (n > 12 && strcmp(de->d_name + n - 12, ".interrupted") == 0))
			continue;
		report_file(pd, AT_FDCWD, dir, de->d_name, &total);
	}
	closedir(d);
	return total;
}
