/* Unit tests for the fields of an account record (daemon/accounts/account.c):
 * a --fields list as a client sends it (hostile: unknown names, empty
 * names, too many), and the attributes slapd is asked for a set of
 * fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldap.h>

#include "account.h"
#include "schema.h"

static int
parse(const char *list, unsigned *set, char *err, size_t errlen)
{
	return account_fields_parse(list, strlen(list), set, err, errlen);
}

/* The attributes asked for a set of fields, joined by spaces. */
static void
attrs_of(unsigned set, char *out, size_t n)
{
	const char *attrs[SA_N + 1];
	size_t i, off = 0;

	account_fields_attrs(set, attrs);
	out[0] = '\0';
	for (i = 0; attrs[i] != NULL; i++)
		off += (size_t)snprintf(out + off, n - off, "%s%s", i ? " " : "", attrs[i]);
}

static void
test_parse(void **state)
{
	unsigned set = 0;
	char err[400];

	(void)state;
	assert_int_equal(parse("login,name,unit,status,mail", &set, err, sizeof(err)), 0);
	assert_int_equal(set, 1u << AF_LOGIN | 1u << AF_NAME | 1u << AF_UNIT |
	                      1u << AF_STATUS | 1u << AF_MAIL);
	assert_int_equal(parse("dn,dn,login", &set, err, sizeof(err)), 0);
	assert_int_equal(set, 1u << AF_DN | 1u << AF_LOGIN);
	assert_int_equal(parse("login,mail,name,employee_id,unit,unit_name,status,title,phone,"
	                       "quota,aliases,given_name,surname,disabled_reason,delete_after,"
	                       "created,dn", &set, err, sizeof(err)), 0);
	assert_int_equal(set, ACCOUNT_FIELDS_ALL);

	/* Names exactly: no prefix, no case folding, no blanks, no empty. */
	assert_int_equal(parse("log", &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no column 'log'; columns: login,mail,name,"));
	assert_non_null(strstr(err, ",created,dn"));
	assert_int_equal(parse("LOGIN", &set, err, sizeof(err)), -1);
	assert_int_equal(parse("login, mail", &set, err, sizeof(err)), -1);
	assert_int_equal(parse("", &set, err, sizeof(err)), -1);
	assert_int_equal(parse("login,", &set, err, sizeof(err)), -1);
	assert_int_equal(parse(",login", &set, err, sizeof(err)), -1);
	/* What is echoed is printable, and the message fits whatever it got. */
	assert_int_equal(parse("login,a\033[2Jb", &set, err, sizeof(err)), -1);
	assert_null(strchr(err, '\033'));
	assert_int_equal(parse("nope", &set, err, 20), -1);
	assert_int_equal(strlen(err), 19);
	/* A NUL inside the value ends no name early. */
	assert_int_equal(account_fields_parse("login\0mail", 10, &set, err, sizeof(err)), -1);
}

static void
test_parse_limit(void **state)
{
	char list[ACCOUNT_FIELDS_MAX * 6 + 8], err[400];
	unsigned set;
	size_t i, off = 0;

	(void)state;
	for (i = 0; i < ACCOUNT_FIELDS_MAX; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%slogin", i ? "," : "");
	assert_int_equal(parse(list, &set, err, sizeof(err)), 0);
	snprintf(list + off, sizeof(list) - off, ",mail");
	assert_int_equal(parse(list, &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
}

static void
test_attrs(void **state)
{
	char a[600];

	(void)state;
	attrs_of(1u << AF_LOGIN | 1u << AF_NAME | 1u << AF_UNIT | 1u << AF_STATUS | 1u << AF_MAIL,
	         a, sizeof(a));
	assert_string_equal(a, "uid mail cn departmentNumber pwdAccountLockedTime "
	                       "provdDeleteAfter");
	attrs_of(1u << AF_STATUS, a, sizeof(a));
	assert_string_equal(a, "pwdAccountLockedTime provdDeleteAfter");
	attrs_of(1u << AF_UNIT_NAME, a, sizeof(a));
	assert_string_equal(a, "departmentNumber");
	attrs_of(1u << AF_DN, a, sizeof(a));
	assert_string_equal(a, LDAP_NO_ATTRS);
	/* Every field: every attribute of the record, in schema order. */
	{
		const char *attrs[SA_N + 1];
		size_t i;

		account_fields_attrs(ACCOUNT_FIELDS_ALL, attrs);
		for (i = 0; i < SA_N; i++)
			assert_string_equal(attrs[i], schema_account_attrs[i]);
		assert_null(attrs[SA_N]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_limit),
		cmocka_unit_test(test_attrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
