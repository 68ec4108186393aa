/*
 * reorg_file — the reorganisation file (docs/operations.md, "Reorganising
 * the province"): read, validated whole against the unit table, and turned
 * into the unit tree it asks for.  No directory access: reorg.c plans and
 * applies what this module derives.
 *
 * The file is CSV (csv.h), one statement a line, its first field a verb:
 *
 *   reorg,ID                          the plan's name (required, once)
 *   organization,NAME                 O= of certificates issued from now on
 *   domain,OLD,NEW,UNTIL              mail domain change; UNTIL is
 *                                     YYYY-MM-DD or "forever": how long the
 *                                     old addresses stay delivered
 *   unit,CODE,NAME,KIND,PARENT        a new unit (PARENT may be empty)
 *   merge,CODE,INTO                   CODE goes: staff and sub-units to INTO,
 *                                     its address kept by INTO
 *   abolish,CODE,STAFF_TO,CHILDREN_TO CODE goes: staff (and its address) to
 *                                     STAFF_TO, sub-units to CHILDREN_TO
 *                                     (empty: STAFF_TO)
 *   rename,CODE,NAME                  a unit keeps its code, changes its name
 *   kind,CODE,KIND                    province, department, district, ward,
 *                                     commune
 *   parent,CODE,PARENT                re-parent (empty PARENT: top level)
 *
 * Lines starting with '#' and empty lines are skipped.  A unit that goes
 * (merge, abolish) but no longer exists while its target keeps its code
 * as an alias was handled by an earlier run: it is accepted, so the same
 * file can be applied again (idempotence).  Likewise a new unit that exists
 * already with the same kind.
 */
#ifndef PROVD_REORG_FILE_H
#define PROVD_REORG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "fields.h"
#include "units.h"

#define REORG_FILE_MAX    (1024u * 1024)   /* bytes of one file */
#define REORG_ERRORS_MAX  200              /* errors reported, then "..." */
#define REORG_ID_MAX      64
#define REORG_DOMAIN_MAX  254

/* One unit of the tree the file asks for (current units, new ones, and
 * the ones that go). */
struct reorg_unit {
	char     code[UNIT_CODE_MAX];
	char     name[FIELD_TITLE_MAX + 1];
	char     kind[16];
	char     parent[UNIT_CODE_MAX];     /* after the reorganisation */
	char     old_name[FIELD_TITLE_MAX + 1];
	char     old_kind[16];
	char     old_parent[UNIT_CODE_MAX];
	bool     exists;        /* in the directory now */
	bool     is_new;        /* a `unit` line */
	bool     goes;          /* merge or abolish */
	bool     abolished;     /* abolish (else merge) */
	bool     done;          /* goes, and an earlier run removed it already */
	bool     changed;       /* rename, kind or parent differs from now */
	char     staff_to[UNIT_CODE_MAX];    /* goes: where staff and address go */
	char     children_to[UNIT_CODE_MAX]; /* goes: where sub-units go */
	unsigned line;          /* the line that named it last (0: none) */
};

struct reorg_error {
	unsigned line;          /* 0: the file as a whole */
	char     msg[200];
};

struct reorg {
	char               id[REORG_ID_MAX];
	char               plan_id[2 * REORG_ID_MAX + 20]; /* id + "-" + digest prefix */
	char               organization[FIELD_TITLE_MAX + 1];
	char               old_domain[REORG_DOMAIN_MAX + 1];  /* "" no change */
	char               new_domain[REORG_DOMAIN_MAX + 1];
	char               keep_until[16];                    /* YYYY-MM-DD or forever */
	struct reorg_unit *u;          /* sorted by code */
	size_t             nu;
	struct reorg_error errors[REORG_ERRORS_MAX];
	size_t             nerrors;    /* may exceed REORG_ERRORS_MAX: counted */
	unsigned           lines;
	unsigned           domain_line, organization_line;
};

/*
 * Read buf (len bytes, any content) against the current unit table.
 * Returns a reorg (free with reorg_free) whose nerrors is 0 when the whole
 * file is valid; otherwise errors[] holds the first REORG_ERRORS_MAX with
 * their line numbers.  NULL only when out of memory.
 */
struct reorg *reorg_read(const char *buf, size_t len, const struct units *now);
void reorg_free(struct reorg *r);

/* The unit `code` of r (sorted lookup), or NULL. */
const struct reorg_unit *reorg_unit(const struct reorg *r, const char *code);

/* Where the staff of unit `code` belong after the reorganisation: code
 * itself, or the unit it goes to.  NULL for a code r does not know. */
const char *reorg_staff_unit(const struct reorg *r, const char *code);

#endif
