/*
 * libFuzzer target for the reorganisation file (daemon/accounts/reorg_file.c).
 *
 * Input: a reorganisation file, read against a small fixed unit table (a
 * district with communes, departments, a unit that keeps a merged unit's
 * code).  Whatever the bytes, reading must not crash or leak, and what it
 * returns must hold together: errors carry a message and a line within
 * the file, the units are sorted and unique, a unit that goes names a
 * target that stays (when there are no errors), and every staff target is
 * a unit of the table.
 *
 *   built and run by tests/fuzz/run (make fuzz)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reorg_file.h"
#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static struct units *
fixed_table(void)
{
	static char *kept[] = { "xa-cu", NULL };
	static const struct unit v[] = {
		{ .code = "so-noi-vu", .name = "Sở Nội vụ", .kind = "department" },
		{ .code = "so-tai-chinh", .name = "Sở Tài chính", .kind = "department" },
		{ .code = "huyen-a", .name = "Huyện A", .kind = "district" },
		{ .code = "xa-a1", .name = "Xã A1", .kind = "commune", .parent = "huyen-a" },
		{ .code = "xa-a2", .name = "Xã A2", .kind = "commune", .parent = "huyen-a" },
		{ .code = "xa-moi", .name = "Xã Mới", .kind = "commune", .aliases = kept },
	};
	static struct units *u;

	if (u == NULL)
		u = units_from(v, sizeof(v) / sizeof(v[0]));
	return u;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct units *u = fixed_table();
	struct reorg *r;
	size_t i;

	CHECK(u != NULL);
	r = reorg_read((const char *)data, size, u);
	CHECK(r != NULL);
	for (i = 0; i < r->nerrors && i < REORG_ERRORS_MAX; i++) {
		CHECK(r->errors[i].msg[0] != '\0');
		CHECK(r->errors[i].line <= r->lines + 1);
	}
	for (i = 0; i < r->nu; i++) {
		const struct reorg_unit *x = &r->u[i];
		const char *to = reorg_staff_unit(r, x->code);

		CHECK(units_code_valid(x->code));
		CHECK(i == 0 || strcmp(r->u[i - 1].code, x->code) < 0);
		CHECK(reorg_unit(r, x->code) == x);
		CHECK(to != NULL);
		if (r->nerrors == 0 && x->goes) {
			const struct reorg_unit *t = reorg_unit(r, to);

			CHECK(t != NULL && !t->goes);
		}
	}
	reorg_free(r);
	return 0;
}
