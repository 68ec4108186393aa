/* unit — unit list and show, from the cached unit table. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "provd.h"
#include "request.h"
#include "units.h"

static void
unit_record(struct request *req, const struct unit *u)
{
	const struct unit *p = u->parent[0] ? units_find(req->pd->units, u->parent) : NULL;
	char path[1024];
	struct rec r;

	rec_begin(&r, req);
	rec_kv(&r, "code", u->code);
	rec_kv(&r, "name", u->name ? u->name : "");
	rec_kv(&r, "kind", u->kind);
	rec_kv(&r, "parent", u->parent);
	rec_kv(&r, "parent_name", p && p->name ? p->name : "");
	rec_kv(&r, "path", units_path(req->pd->units, u->code, path, sizeof(path)));
	rec_end(&r);
}

static bool
need_units(struct request *req)
{
	if (units_loaded(req->pd->units))
		return true;
	request_done(req, ST_UNAVAILABLE, "unit list not loaded: directory unavailable");
	return false;
}

void
unit_list(struct request *req)
{
	const struct units *us = req->pd->units;
	size_t i;

	if (!need_units(req))
		return;
	for (i = 0; i < units_count(us); i++)
		unit_record(req, units_at(us, i));
	request_done(req, ST_OK, "%zu units", units_count(us));
}

void
unit_show(struct request *req)
{
	const struct unit *u;

	if (!need_units(req))
		return;
	if ((u = units_find(req->pd->units, req->args.operand[0])) == NULL) {
		request_done(req, ST_NOTFOUND, "unit: no unit '%.64s'", req->args.operand[0]);
		return;
	}
	unit_record(req, u);
	request_done(req, ST_OK, "ok");
}
