/* Unit tests for daemon/fields.c: what a mail address may look like. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"

static int
mail(const char *s, char *out, size_t outsz)
{
	char err[256];

	return field_mail("mail", s, out, outsz, err, sizeof(err));
}

static void
test_mail_labels(void **state)
{
	static const char *const good[] = {
		"an@vinhphuc.gov.vn", "an.nguyen@so-tai-chinh.vinhphuc.gov.vn",
		"a@b-c.vn", "a@b--c.vn", "a@0.vn", "a+b@x9.vinhphuc.gov.vn",
	};
	static const char *const bad[] = {
		"a@b-.vn", "a@-b.vn", "a@vinhphuc-.gov.vn", "a@vinhphuc.gov.vn-",
		"a@vinhphuc..gov.vn", "a@.vinhphuc.gov.vn", "a@vinhphuc.gov.vn.",
		"a@vinh_phuc.gov.vn", "a@", "@vinhphuc.gov.vn", "a",
		"a@b.c@vinhphuc.gov.vn",
		/* a label of 64 characters */
		"a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.vn",
	};
	char out[320];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(mail(good[i], out, sizeof(out)), 0);
		assert_string_equal(out, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mail(bad[i], out, sizeof(out)) != -1)
			fail_msg("accepted %s", bad[i]);
	/* 63 is the longest label */
	assert_int_equal(mail("a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.vn",
	                      out, sizeof(out)), 0);
	/* lower-cased */
	assert_int_equal(mail("An.Nguyen@VinhPhuc.GOV.vn", out, sizeof(out)), 0);
	assert_string_equal(out, "an.nguyen@vinhphuc.gov.vn");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
