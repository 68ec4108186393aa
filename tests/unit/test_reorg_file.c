/* Unit tests for daemon/accounts/reorg_file.c: the reorganisation file read
 * and validated against a unit table, errors with their lines, the tree it
 * asks for, and a file applied before (idempotence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reorg_file.h"
#include "units.h"

static struct units *
table(void)
{
	static char *kept[] = { "xa-cu", NULL };
	static const struct unit v[] = {
		{ .code = "so-noi-vu", .name = "Sở Nội vụ", .kind = "department" },
		{ .code = "so-tai-chinh", .name = "Sở Tài chính", .kind = "department" },
		{ .code = "so-ke-hoach", .name = "Sở Kế hoạch", .kind = "department" },
		{ .code = "huyen-a", .name = "Huyện A", .kind = "district" },
		{ .code = "xa-a1", .name = "Xã A1", .kind = "commune", .parent = "huyen-a" },
		{ .code = "xa-a2", .name = "Xã A2", .kind = "commune", .parent = "huyen-a" },
		{ .code = "xa-moi", .name = "Xã Mới", .kind = "commune", .aliases = kept },
	};
	struct units *u = units_from(v, sizeof(v) / sizeof(v[0]));

	assert_non_null(u);
	return u;
}

static struct reorg *
read_str(const struct units *u, const char *text)
{
	struct reorg *r = reorg_read(text, strlen(text), u);

	assert_non_null(r);
	return r;
}

/* Is there an error on `line` whose text holds `what`? */
static bool
has_error(const struct reorg *r, unsigned line, const char *what)
{
	size_t i;

	for (i = 0; i < r->nerrors && i < REORG_ERRORS_MAX; i++)
		if (r->errors[i].line == line && strstr(r->errors[i].msg, what) != NULL)
			return true;
	return false;
}

static void
test_valid_file(void **state)
{
	struct units *u = table();
	struct reorg *r = read_str(u,
		"# a comment\n"
		"reorg,test-1\n"
		"domain,vinhphuc.gov.vn,phutho.gov.vn,2026-07-01\n"
		"unit,tinh,Tỉnh,province,\n"
		"unit,xa-b,\"Xã B, mới\",ward,tinh\n"
		"merge,xa-a1,xa-b\n"
		"merge,xa-a2,xa-b\n"
		"abolish,huyen-a,so-noi-vu,tinh\n"
		"merge,so-ke-hoach,so-tai-chinh\n"
		"rename,so-noi-vu,Sở Nội vụ tỉnh\n"
		"parent,so-noi-vu,tinh\n"
		"kind,xa-moi,ward\n");
	const struct reorg_unit *x;

	(void)state;
	assert_int_equal(r->nerrors, 0);
	assert_string_equal(r->id, "test-1");
	assert_string_equal(r->new_domain, "phutho.gov.vn");
	assert_string_equal(r->keep_until, "2026-07-01");
	assert_int_equal(r->domain_line, 3);
	assert_string_equal(reorg_staff_unit(r, "xa-a1"), "xa-b");
	assert_string_equal(reorg_staff_unit(r, "huyen-a"), "so-noi-vu");
	assert_string_equal(reorg_staff_unit(r, "so-tai-chinh"), "so-tai-chinh");
	assert_null(reorg_staff_unit(r, "khong-co"));
	x = reorg_unit(r, "xa-b");
	assert_non_null(x);
	assert_true(x->is_new && !x->exists);
	assert_string_equal(x->name, "Xã B, mới");
	x = reorg_unit(r, "huyen-a");
	assert_true(x->goes && x->abolished);
	assert_string_equal(x->children_to, "tinh");
	x = reorg_unit(r, "so-noi-vu");
	assert_true(x->changed);
	assert_string_equal(x->parent, "tinh");
	assert_string_equal(x->name, "Sở Nội vụ tỉnh");
	assert_true(reorg_unit(r, "xa-moi")->changed);
	assert_false(reorg_unit(r, "so-tai-chinh")->changed);
	/* The plan id: the name and a digest of the bytes. */
	assert_int_equal(strncmp(r->plan_id, "test-1-", 7), 0);
	assert_int_equal(strlen(r->plan_id), 7 + 12);
	reorg_free(r);
	units_unref(u);
}

static void
test_sub_units_follow(void **state)
{
	struct units *u = table();
	/* huyen-a goes into so-noi-vu; its communes follow (no parent line). */
	struct reorg *r = read_str(u, "reorg,t\nmerge,huyen-a,so-noi-vu\n");

	(void)state;
	assert_int_equal(r->nerrors, 0);
	assert_string_equal(reorg_unit(r, "xa-a1")->parent, "so-noi-vu");
	assert_true(reorg_unit(r, "xa-a1")->changed);
	reorg_free(r);
	units_unref(u);
}

static void
test_errors_with_lines(void **state)
{
	struct units *u = table();
	struct reorg *r = read_str(u,
		"reorg,t\n"                              /* 1 */
		"unit,xa-c,Xã C,hamlet,\n"               /* 2 */
		"merge,khong-co,so-noi-vu\n"             /* 3 */
		"merge,so-tai-chinh,so-tai-chinh\n"      /* 4 */
		"rename,so-ke-hoach,Sở KH\n"             /* 5 */
		"merge,so-ke-hoach,so-noi-vu\n"          /* 6 */
		"merge,xa-a1,xa-a2\n"                    /* 7 */
		"merge,xa-a2,so-noi-vu\n"                /* 8 */
		"parent,huyen-a,xa-a1\n"                 /* 9 */
		"merge,so-noi-vu,\n"                     /* 10 */
		"frob,x\n"                               /* 11 */
		"domain,a.vn,b.vn,soon\n"                /* 12 */
		"reorg,again\n"                          /* 13 */
		"unit,xa-cu,Xã Cũ,commune,\n"            /* 14 */
		"unit,Bad Code,X,commune,\n"             /* 15 */
		"merge,xa-a1\n");                        /* 16 */

	(void)state;
	assert_true(has_error(r, 2, "kind"));
	assert_true(has_error(r, 3, "no unit 'khong-co'"));
	assert_true(has_error(r, 4, "so-tai-chinh"));
	assert_true(has_error(r, 6, "both merged and kept"));
	assert_true(has_error(r, 7, "goes too"));
	assert_true(has_error(r, 10, "empty"));
	assert_true(has_error(r, 11, "unknown statement"));
	assert_true(has_error(r, 12, "UNTIL"));
	assert_true(has_error(r, 13, "twice"));
	assert_true(has_error(r, 14, "xa-moi"));
	assert_true(has_error(r, 15, "not a unit code"));
	assert_true(has_error(r, 16, "fields"));
	reorg_free(r);
	units_unref(u);
}

static void
test_cycle(void **state)
{
	struct units *u = table();
	struct reorg *r = read_str(u, "reorg,t\nparent,huyen-a,xa-a1\n");

	(void)state;
	assert_true(has_error(r, 2, "cycle"));
	reorg_free(r);
	units_unref(u);
}

static void
test_no_id(void **state)
{
	struct units *u = table();
	struct reorg *r = read_str(u, "rename,so-noi-vu,X\n");

	(void)state;
	assert_true(has_error(r, 0, "reorg,ID"));
	reorg_free(r);
	units_unref(u);
}

/* The same file again after it was applied: the merged unit is gone and
 * kept as an alias, the new unit exists. */
static void
test_applied_before(void **state)
{
	static char *kept[] = { "xa-a1", NULL };
	static const struct unit v[] = {
		{ .code = "so-noi-vu", .name = "Sở Nội vụ", .kind = "department" },
		{ .code = "xa-b", .name = "Xã B", .kind = "ward", .aliases = kept },
	};
	struct units *u = units_from(v, 2);
	struct reorg *r;

	(void)state;
	assert_non_null(u);
	r = read_str(u, "reorg,t\nunit,xa-b,Xã B,ward,\nmerge,xa-a1,xa-b\n");
	assert_int_equal(r->nerrors, 0);
	assert_true(reorg_unit(r, "xa-a1")->done);
	assert_false(reorg_unit(r, "xa-b")->changed);
	reorg_free(r);
	/* Merged into another unit than the one that kept it: an error. */
	r = read_str(u, "reorg,t\nmerge,xa-a1,so-noi-vu\n");
	assert_true(has_error(r, 2, "no unit 'xa-a1'"));
	reorg_free(r);
	units_unref(u);
}

static void
test_hostile_bytes(void **state)
{
	struct units *u = table();
	static const char bad[] = "reorg,t\nrename,so-noi-vu,\"open quote\n\xff\xfe,\0,x\n";
	struct reorg *r = reorg_read(bad, sizeof(bad) - 1, u);

	(void)state;
	assert_non_null(r);
	assert_true(r->nerrors > 0);
	reorg_free(r);
	units_unref(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_sub_units_follow),
		cmocka_unit_test(test_errors_with_lines),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_no_id),
		cmocka_unit_test(test_applied_before),
		cmocka_unit_test(test_hostile_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
