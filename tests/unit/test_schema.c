/* Unit tests for daemon/directory/schema.c: state names both ways, the
 * state filters, the person filter with hostile
 * keys, and LDAP results as reply statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <ldap.h>

#include "schema.h"
#include "wire.h"

/* Parentheses balance and never close more than they opened: a value
 * that broke out of its escaping would upset the count. */
static void
assert_filter_parses(const char *f)
{
	int depth = 0;

	for (; *f != '\0'; f++) {
		if (*f == '(')
			depth++;
		else if (*f == ')')
			assert_true(--depth >= 0);
	}
	assert_int_equal(depth, 0);
}

static void
test_account_states(void **state)
{
	static const char *const names[] = {"active", "disabled", "deleted"};
	enum account_state s;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_string_equal(account_state_name((enum account_state)i), names[i]);
		assert_int_equal(account_state_parse(names[i], &s), 0);
		assert_int_equal(s, (enum account_state)i);
	}
	assert_int_equal(account_state_parse("Active", &s), -1);
	assert_int_equal(account_state_parse("expired", &s), -1);
	assert_int_equal(account_state_parse("", &s), -1);
	assert_int_equal(account_state_parse(NULL, &s), -1);
}

static void
test_account_filters(void **state)
{
	(void)state;
	assert_string_equal(account_state_filter(ACCOUNT_STATE_ACTIVE),
	                    "(!(pwdAccountLockedTime=000001010000Z))(!(provdDeleteAfter=*))");
	assert_string_equal(account_state_filter(ACCOUNT_STATE_DISABLED),
	                    "(pwdAccountLockedTime=000001010000Z)(!(provdDeleteAfter=*))");
	assert_string_equal(account_state_filter(ACCOUNT_STATE_DELETED), "(provdDeleteAfter=*)");
	assert_filter_parses(account_state_filter(ACCOUNT_STATE_ACTIVE));
	assert_string_equal(SCHEMA_FILTER_LOCKED, "(pwdAccountLockedTime=000001010000Z)");
}

static void
test_cert_states(void **state)
{
	enum cert_state s;

	(void)state;
	assert_string_equal(cert_state_name(CERT_STATE_VALID), "valid");
	assert_string_equal(cert_state_name(CERT_STATE_HOLD), "hold");
	assert_string_equal(cert_state_name(CERT_STATE_REVOKED), "revoked");
	/* The directory matches provdCertStatus ignoring case: so does the reader. */
	assert_int_equal(cert_state_parse("Revoked", &s), 0);
	assert_int_equal(s, CERT_STATE_REVOKED);
	assert_int_equal(cert_state_parse("HOLD", &s), 0);
	assert_int_equal(s, CERT_STATE_HOLD);
	assert_int_equal(cert_state_parse("valid", &s), 0);
	assert_int_equal(s, CERT_STATE_VALID);
	assert_int_equal(cert_state_parse("expired", &s), -1);
	assert_int_equal(cert_state_parse("valid ", &s), -1);
	assert_int_equal(cert_state_parse(NULL, &s), -1);
}

static void
test_person_filter(void **state)
{
	char out[3400], big[300];

	(void)state;
	assert_int_equal(schema_filter_person("annv", false, out, sizeof(out)), 0);
	assert_string_equal(out,
	                    "(&(objectClass=inetOrgPerson)(|(uid=annv)(mail=annv)"
	                    "(mailLocalAddress=annv)))");
	assert_int_equal(schema_filter_person("VP1*", true, out, sizeof(out)), 0);
	assert_string_equal(out,
	                    "(&(objectClass=inetOrgPerson)(|(uid=VP1\\2A)(mail=VP1\\2A)"
	                    "(mailLocalAddress=VP1\\2A)(employeeNumber=VP1\\2A)))");
	assert_filter_parses(out);
	assert_int_equal(schema_filter_person("a)(uid=*", false, out, sizeof(out)), 0);
	assert_null(strstr(out, "(uid=*"));
	assert_filter_parses(out);
	memset(big, 'a', 255);
	big[255] = '\0';
	assert_int_equal(schema_filter_person(big, false, out, sizeof(out)), -1);
	big[254] = '\0';
	assert_int_equal(schema_filter_person(big, false, out, sizeof(out)), 0);
	assert_int_equal(schema_filter_person("annv", false, out, 20), -1);
}

static void
test_status_of_ldap(void **state)
{
	(void)state;
	assert_int_equal(schema_status_of_ldap(LDAP_SUCCESS), ST_OK);
	assert_int_equal(schema_status_of_ldap(LDAP_NO_SUCH_OBJECT), ST_NOTFOUND);
	assert_int_equal(schema_status_of_ldap(LDAP_ALREADY_EXISTS), ST_CONFLICT);
	assert_int_equal(schema_status_of_ldap(LDAP_ASSERTION_FAILED), ST_CONFLICT);
	assert_int_equal(schema_status_of_ldap(LDAP_INSUFFICIENT_ACCESS), ST_PERMISSION);
	assert_int_equal(schema_status_of_ldap(LDAP_SERVER_DOWN), ST_UNAVAILABLE);
	assert_int_equal(schema_status_of_ldap(LDAP_INVALID_SYNTAX), ST_INVALID);
	assert_int_equal(schema_status_of_ldap(LDAP_OTHER), ST_INTERNAL);
}

/* The attributes an account record is read with: one at each index the
 * record reads (no hole, which would end the list slapd is sent early),
 * each once, then the end. */
static void
test_account_attrs(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < SA_N; i++) {
		assert_non_null(schema_account_attrs[i]);
		for (j = 0; j < i; j++)
			assert_true(strcasecmp(schema_account_attrs[i], schema_account_attrs[j]) !=
			            0);
	}
	assert_null(schema_account_attrs[SA_N]);
	assert_string_equal(schema_account_attrs[SA_UNIT], AT_UNIT);
	assert_string_equal(schema_account_attrs[SA_CREATED], AT_CREATED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_states), cmocka_unit_test(test_account_filters),
		cmocka_unit_test(test_cert_states),    cmocka_unit_test(test_person_filter),
		cmocka_unit_test(test_status_of_ldap), cmocka_unit_test(test_account_attrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
