/* Unit tests for daemon/directory/template.c: the shipped template, load-time
 * validation with line numbers, expansion rules, LDAPMod conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dir.h"
#include "template.h"

#define SHIPPED "templates/account.ldif"

/* The smallest valid template; tests append to it. */
#define MINIMAL \
	"objectClass: inetOrgPerson\n" \
	"uid: {login}\n" \
	"cn: {full_name}\n" \
	"sn: {surname}\n" \
	"mail: {mail}\n" \
	"employeeNumber: {employee_id}\n"

static const struct template_values full_values = {
	.login = "annv",
	.full_name = "Nguyễn Văn An",
	.given_name = "Văn An",
	.surname = "Nguyễn",
	.middle_name = "Văn",
	.unit = "so-noi-vu",
	.unit_name = "Sở Nội vụ",
	.mail = "annv@vinhphuc.gov.vn",
	.domain = "vinhphuc.gov.vn",
	.employee_id = "VP19000001",
	.title = "Chuyên viên",
	.phone = "0972335946",
	.quota = 2147483648ULL,
};

static struct template *
parse_ok(const char *text)
{
	struct template *t = NULL;
	char err[512] = "";

	if (template_parse(text, strlen(text), "t.ldif", &t, err,
	    sizeof(err)) != 0)
		print_error("unexpected error: %s\n", err);
	assert_non_null(t);
	return t;
}

static void
parse_fails(const char *text, size_t len, const char *expected)
{
	struct template *t = (struct template *)1;
	char err[512] = "";

	assert_int_equal(template_parse(text, len, "t.ldif", &t, err,
	    sizeof(err)), -1);
	assert_null(t);
	if (strstr(err, expected) == NULL)
		print_error("error '%s' lacks '%s'\n", err, expected);
	assert_non_null(strstr(err, expected));
}

#define FAILS(text, expected) parse_fails(text, sizeof(text) - 1, expected)

/* The single value of attribute `attr`, or NULL if absent. */
static const char *
value1(const struct template_entry *e, const char *attr)
{
	const struct template_attr *a = template_entry_find(e, attr);

	if (a == NULL)
		return NULL;
	assert_int_equal(a->nvalues, 1);
	return a->values[0];
}

/* ---- the shipped template ---- */

static void
test_shipped_template(void **state)
{
	struct template *t = NULL;
	struct template_entry e;
	const struct template_attr *oc;
	char err[512] = "";

	(void)state;
	if (template_load(SHIPPED, &t, err, sizeof(err)) != 0)
		print_error("%s\n", err);
	assert_non_null(t);
	assert_int_equal(template_line_count(t), 15);

	assert_int_equal(template_expand(t, &full_values, &e, err,
	    sizeof(err)), 0);
	oc = template_entry_find(&e, "objectclass");
	assert_non_null(oc);
	assert_int_equal(oc->nvalues, 3);
	assert_string_equal(oc->values[0], "inetOrgPerson");
	assert_string_equal(oc->values[1], "inetLocalMailRecipient");
	assert_string_equal(oc->values[2], "provdAccount");
	assert_string_equal(value1(&e, "uid"), "annv");
	assert_string_equal(value1(&e, "cn"), "Nguyễn Văn An");
	assert_string_equal(value1(&e, "sn"), "Nguyễn");
	assert_string_equal(value1(&e, "givenName"), "Văn An");
	assert_string_equal(value1(&e, "displayName"), "Nguyễn Văn An");
	assert_string_equal(value1(&e, "mail"), "annv@vinhphuc.gov.vn");
	assert_string_equal(value1(&e, "employeeNumber"), "VP19000001");
	assert_string_equal(value1(&e, "departmentNumber"), "so-noi-vu");
	assert_string_equal(value1(&e, "ou"), "Sở Nội vụ");
	assert_string_equal(value1(&e, "title"), "Chuyên viên");
	assert_string_equal(value1(&e, "telephoneNumber"), "0972335946");
	assert_string_equal(value1(&e, "provdMailQuota"), "2147483648");
	assert_int_equal(e.nattrs, 13);
	/* provd adds the password itself */
	assert_null(template_entry_find(&e, "userPassword"));
	assert_null(template_entry_find(&e, "dn"));
	template_entry_free(&e);

	/* without title and phone those lines drop out */
	{
		struct template_values v = full_values;
		v.title = "";
		v.phone = NULL;
		v.quota = 0;
		assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)),
		    0);
		assert_null(template_entry_find(&e, "title"));
		assert_null(template_entry_find(&e, "telephoneNumber"));
		assert_string_equal(value1(&e, "provdMailQuota"), "0");
		assert_int_equal(e.nattrs, 11);
		template_entry_free(&e);
	}
	template_free(t);
}

/* ---- load-time validation: each error names file and line ---- */

static void
test_errors_with_lines(void **state)
{
	(void)state;
	FAILS(MINIMAL "b@d: x\n", "t.ldif:7: bad attribute name 'b@d'");
	FAILS("# c\n" MINIMAL "1cn: x\n", "t.ldif:8: bad attribute name");
	FAILS(MINIMAL "cn;: x\n", "t.ldif:7: bad attribute name");
	FAILS(MINIMAL "cn;;lang-vi: x\n", "t.ldif:7: bad attribute name");
	FAILS(MINIMAL "description: {nickname}\n",
	    "t.ldif:7: unknown placeholder {nickname}");
	FAILS(MINIMAL "description: {Login}\n",
	    "t.ldif:7: unknown placeholder {Login}");
	FAILS(MINIMAL "description: {}\n", "t.ldif:7: unknown placeholder {}");
	FAILS(MINIMAL "description: {login\n",
	    "t.ldif:7: unbalanced '{'");
	FAILS(MINIMAL "description: {log{in}\n", "t.ldif:7: unbalanced '{'");
	FAILS(MINIMAL "description: login}\n", "t.ldif:7: unbalanced '}'");
	FAILS("dn: uid={login},ou=people,dc=x\n" MINIMAL,
	    "t.ldif:1: no 'dn:' line allowed");
	FAILS(MINIMAL "description:: SGVsbG8=\n",
	    "t.ldif:7: base64 value ('description::') not supported");
	FAILS(MINIMAL "jpegPhoto:< file:///etc/passwd\n",
	    "t.ldif:7: URL value ('jpegPhoto:<') not supported");
	FAILS("changetype: add\n" MINIMAL, "t.ldif:1: 'changetype:' belongs");
	FAILS(MINIMAL "userPassword: secret\n",
	    "t.ldif:7: 'userPassword' is set by provd itself");
	FAILS(MINIMAL "pwdReset;x-y: TRUE\n",
	    "t.ldif:7: 'pwdReset' is set by provd itself");
	FAILS(MINIMAL "description:\n", "t.ldif:7: empty value for "
	    "'description'");
	FAILS(MINIMAL "description:   \t \n", "t.ldif:7: empty value");
	FAILS(MINIMAL "no colon here\n", "t.ldif:7: expected 'attribute: "
	    "value'");
	FAILS(MINIMAL "\n\n description: x\n", "t.ldif:9: continuation line");
	FAILS(" cn: x\n" MINIMAL, "t.ldif:1: continuation line");
	FAILS(MINIMAL "\tdescription: x\n", "t.ldif:7: line starts with a tab");
	FAILS(MINIMAL "description: a\rb\n", "t.ldif:7: control character "
	    "0x0d");
	FAILS(MINIMAL "description: a\x1b[31mb\n", "t.ldif:7: control "
	    "character 0x1b");
	FAILS(MINIMAL "description: Nguy\xEA\xDEn\n",
	    "t.ldif:7: not valid UTF-8");
	parse_fails(MINIMAL "description: a\0b\n",
	    sizeof(MINIMAL "description: a\0b\n") - 1,
	    "t.ldif:7: NUL byte");
	/* required lines */
	FAILS(MINIMAL "uid: x\n", "t.ldif:7: 'uid' must be exactly 'uid: "
	    "{login}'");
	FAILS(MINIMAL "mail: {mail}\n", "t.ldif:7: 'mail' given twice");
	FAILS(MINIMAL "UID: {login}\n", "t.ldif:7: 'uid' given twice");
	FAILS(MINIMAL "uid;lang-vi: {login}\n", "t.ldif:7: 'uid' may not "
	    "carry options");
	FAILS("objectClass: top\nuid: {login}\ncn;lang-vi: x\nsn: y\n"
	    "mail: {mail}\nemployeeNumber: {employee_id}\n",
	    "t.ldif:6: required attribute 'cn' missing");
	FAILS("objectClass: top\nuid: {login}\ncn: x\nsn: y\nmail: "
	    "{mail}\nemployeeNumber: {employee_id} \nemployeeNumber: x\n",
	    "t.ldif:7: 'employeeNumber' must be exactly");
	FAILS("uid: {login}\ncn: x\nsn: y\nmail: {mail}\n"
	    "employeeNumber: {employee_id}\n",
	    "t.ldif:5: required attribute 'objectClass' missing");
	FAILS("objectClass: top\nuid: {login}\nsn: y\nmail: {mail}\n"
	    "employeeNumber: {employee_id}\n",
	    "t.ldif:5: required attribute 'cn' missing");
	FAILS("objectClass: top\nuid: {login}\ncn: y\nmail: {mail}\n"
	    "employeeNumber: {employee_id}\n# end\n",
	    "t.ldif:6: required attribute 'sn' missing");
	FAILS("objectClass: top\ncn: x\nsn: y\nmail: {mail}\n"
	    "employeeNumber: {employee_id}\n",
	    "t.ldif:5: required line 'uid: {login}' missing");
	FAILS("objectClass: top\nuid: {login}\ncn: x\nsn: y\n"
	    "employeeNumber: {employee_id}\n",
	    "t.ldif:5: required line 'mail: {mail}' missing");
	FAILS("objectClass: top\nuid: {login}\ncn: x\nsn: y\nmail: {mail}\n",
	    "t.ldif:5: required line 'employeeNumber: {employee_id}' missing");
	FAILS("", "t.ldif:1: required attribute 'objectClass' missing");
	FAILS("# only a comment\n", "t.ldif:1: required attribute");
}

static void
test_limits(void **state)
{
	char *text;
	size_t len, i;

	(void)state;
	/* a physical line over the limit: comments too */
	text = malloc(TEMPLATE_MAX_FILE + 64);
	assert_non_null(text);
	len = (size_t)sprintf(text, "%s# ", MINIMAL);
	memset(text + len, 'x', TEMPLATE_MAX_LINE);
	len += TEMPLATE_MAX_LINE;
	text[len++] = '\n';
	parse_fails(text, len, "t.ldif:7: line longer than 1024 bytes");

	/* exactly the limit is fine */
	len = (size_t)sprintf(text, "%sdescription: ", MINIMAL);
	memset(text + len, 'x', TEMPLATE_MAX_LINE - 13);
	len += TEMPLATE_MAX_LINE - 13;
	text[len++] = '\n';
	text[len] = '\0';
	template_free(parse_ok(text));

	/* a logical line over the limit after unfolding: reported at its
	 * first line */
	len = (size_t)sprintf(text, "%sdescription: ", MINIMAL);
	for (i = 0; i < 3; i++) {
		memset(text + len, 'y', 400);
		len += 400;
		memcpy(text + len, "\n ", 2);
		len += 2;
	}
	text[len++] = '\n';
	parse_fails(text, len, "t.ldif:7: line longer than 1024 bytes after "
	    "joining");

	/* 64 attribute lines are fine, the 65th is an error on its line */
	len = (size_t)sprintf(text, "%s", MINIMAL);
	for (i = 6; i < TEMPLATE_MAX_LINES; i++)
		len += (size_t)sprintf(text + len, "# note\n"
		    "description: d%zu\n", i);
	text[len] = '\0';
	{
		struct template *t = parse_ok(text);
		assert_int_equal(template_line_count(t), 64);
		template_free(t);
	}
	len += (size_t)sprintf(text + len, "description: one too many\n");
	parse_fails(text, len, "t.ldif:123: more than 64 attribute lines");

	/* whole file size */
	memset(text, '#', TEMPLATE_MAX_FILE + 1);
	parse_fails(text, TEMPLATE_MAX_FILE + 1, "t.ldif: larger than 65536 "
	    "bytes");
	free(text);
}

static void
test_load_errors(void **state)
{
	struct template *t = NULL;
	char err[512], path[] = "/tmp/provd-tpl-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(template_load("/nonexistent/account.ldif", &t, err,
	    sizeof(err)), -1);
	assert_null(t);
	assert_non_null(strstr(err, "/nonexistent/account.ldif: cannot open"));
	assert_int_equal(template_load("/tmp", &t, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: not a regular file");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, MINIMAL "bad line\n", sizeof(MINIMAL) + 8) > 0);
	close(fd);
	assert_int_equal(template_load(path, &t, err, sizeof(err)), -1);
	{
		char want[256];
		snprintf(want, sizeof(want), "%s:7: expected", path);
		assert_true(strncmp(err, want, strlen(want)) == 0);
	}
	unlink(path);
}

/* ---- syntax that is accepted ---- */

static void
test_syntax_accepted(void **state)
{
	struct template *t;
	struct template_entry e;
	char err[256];

	(void)state;
	/* CRLF, comments, blank lines, folding (even inside a placeholder
	 * and a UTF-8 sequence), options, trailing spaces */
	t = parse_ok("# header\r\n\r\nobjectClass: inetOrgPerson\r\n"
	    "objectclass: provdAccount\r\n"
	    "uid: {login}\r\n"
	    "cn: {full\r\n _name}\r\n"
	    "cn;lang-vi: {full_name}   \r\n"
	    "# folded\r\n comment\r\n"
	    "sn:{surname}\r\n"
	    "mail: {mail}\r\n"
	    "employeeNumber: {employee_id}\r\n"
	    "description: Nh\xC3\r\n \xA2n vi\xC3\xAAn {unit_name}\r\n");
	assert_int_equal(template_line_count(t), 9);
	assert_int_equal(template_expand(t, &full_values, &e, err,
	    sizeof(err)), 0);
	assert_int_equal(template_entry_find(&e, "OBJECTCLASS")->nvalues, 2);
	assert_string_equal(value1(&e, "cn"), "Nguyễn Văn An");
	assert_string_equal(value1(&e, "cn;lang-vi"), "Nguyễn Văn An");
	assert_string_equal(value1(&e, "sn"), "Nguyễn");
	assert_string_equal(value1(&e, "description"),
	    "Nh\xC3\xA2n vi\xC3\xAAn Sở Nội vụ");
	template_entry_free(&e);
	template_free(t);
}

/* ---- expansion ---- */

static void
test_omission_rules(void **state)
{
	struct template *t;
	struct template_entry e;
	struct template_values v = full_values;
	char err[256];

	(void)state;
	t = parse_ok(MINIMAL
	    "title: {title}\n"                          /* only placeholder */
	    "description: Staff of {unit_name}\n"       /* literal + ph */
	    "displayName: {given_name}{middle_name}\n"  /* one of two empty */
	    "initials: {middle_name} {title}\n"         /* all empty */
	    "o: UBND tỉnh Vĩnh Phúc\n"                  /* literal only */
	    "postalAddress: {unit} / {phone}\n");       /* literal + 1 empty */
	v.title = "";
	v.unit_name = NULL;
	v.middle_name = "";
	v.phone = "";
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), 0);
	assert_null(template_entry_find(&e, "title"));
	assert_null(template_entry_find(&e, "description"));
	assert_string_equal(value1(&e, "displayName"), "Văn An");
	assert_null(template_entry_find(&e, "initials"));
	assert_string_equal(value1(&e, "o"), "UBND tỉnh Vĩnh Phúc");
	assert_null(template_entry_find(&e, "postalAddress"));
	template_entry_free(&e);

	/* all present: every line kept */
	assert_int_equal(template_expand(t, &full_values, &e, err,
	    sizeof(err)), 0);
	assert_string_equal(value1(&e, "description"), "Staff of Sở Nội vụ");
	assert_string_equal(value1(&e, "initials"), "Văn Chuyên viên");
	assert_string_equal(value1(&e, "postalAddress"),
	    "so-noi-vu / 0972335946");
	template_entry_free(&e);

	/* a required line that would drop out is an error */
	v = full_values;
	v.surname = "";
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "sn: required value is empty (placeholder "
	    "{surname})");
	assert_null(e.attrs);
	assert_int_equal(e.nattrs, 0);
	v = full_values;
	v.login = NULL;
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "uid: required value is empty (placeholder "
	    "{login})");
	template_free(t);
}

static void
test_value_checks(void **state)
{
	struct template *t;
	struct template_entry e;
	struct template_values v;
	char err[256], big[TEMPLATE_MAX_VALUE + 2];

	(void)state;
	t = parse_ok(MINIMAL "title: {title}\ndescription: x{unit_name}\n");

	v = full_values;
	v.title = "Chuyên viên\r\nmail: evil@example.com";
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "placeholder {title}: contains a line break "
	    "(CR or LF)");
	assert_null(strstr(err, "evil"));
	v.title = "a\nb";
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "{title}"));
	v.title = "Nguy\xEA\xDEn";
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "placeholder {title}: not valid UTF-8");

	/* value length: the limit itself is fine, one more is not */
	memset(big, 'x', TEMPLATE_MAX_VALUE);
	big[TEMPLATE_MAX_VALUE] = '\0';
	v = full_values;
	v.title = big;
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), 0);
	assert_int_equal(strlen(value1(&e, "title")), TEMPLATE_MAX_VALUE);
	template_entry_free(&e);
	big[TEMPLATE_MAX_VALUE] = 'x';
	big[TEMPLATE_MAX_VALUE + 1] = '\0';
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "placeholder {title}: longer than 1024 "
	    "bytes");
	/* literal text pushing the expanded value over the limit */
	big[TEMPLATE_MAX_VALUE] = '\0';
	v = full_values;
	v.unit_name = big;
	assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "description (template line 8): value "
	    "longer than 1024 bytes");
	assert_int_equal(template_expand(NULL, &v, &e, err, sizeof(err)), -1);
	template_free(t);
}

static void
test_ldap_specials_byte_exact(void **state)
{
	static const char *const specials[] = {
		"a, b + c \" d \\ e < f > g ; h = i # j * k ( l )",
		",+\"\\<>;=#*()",
		"#leading hash",
		" leading and trailing spaces ",
		"\\2C not an escape",
		"Đặng Thị Thu Hà (Sở Nội vụ); \"x\"",
	};
	struct template *t;
	struct template_entry e;
	struct template_values v = full_values;
	char err[256];
	size_t i;

	(void)state;
	t = parse_ok(MINIMAL "displayName: {full_name}\ntitle: <{title}>\n");
	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		char want[256];

		v.full_name = specials[i];
		v.title = specials[i];
		assert_int_equal(template_expand(t, &v, &e, err, sizeof(err)),
		    0);
		assert_string_equal(value1(&e, "cn"), specials[i]);
		assert_string_equal(value1(&e, "displayName"), specials[i]);
		snprintf(want, sizeof(want), "<%s>", specials[i]);
		assert_string_equal(value1(&e, "title"), want);
		template_entry_free(&e);
	}
	template_free(t);
}

/* ---- entries and LDAPMod ---- */

static void
test_entry_and_mods(void **state)
{
	struct template *t;
	struct template_entry e;
	LDAPMod **mods;
	struct dir_mods *m;
	char err[256];
	size_t i, j, total = 0;

	(void)state;
	t = parse_ok(MINIMAL "objectClass: provdAccount\n"
	    "objectClass: inetOrgPerson\n"           /* duplicate value */
	    "mailLocalAddress: {mail}\n"
	    "mailLocalAddress: {login}@{domain}\n"); /* same after expansion */
	assert_int_equal(template_expand(t, &full_values, &e, err,
	    sizeof(err)), 0);
	assert_int_equal(template_entry_find(&e, "objectClass")->nvalues, 2);
	assert_int_equal(template_entry_find(&e, "mailLocalAddress")->nvalues,
	    1);

	/* provd's own attributes */
	assert_int_equal(template_entry_add(&e, "userPassword",
	    "{SSHA512}abcd", err, sizeof(err)), 0);
	assert_int_equal(template_entry_add(&e, "pwdReset", "TRUE", err,
	    sizeof(err)), 0);
	assert_int_equal(template_entry_add(&e, "objectclass", "pkiUser", err,
	    sizeof(err)), 0);
	assert_int_equal(template_entry_add(&e, "objectClass", "pkiUser", err,
	    sizeof(err)), 0);
	assert_int_equal(template_entry_find(&e, "objectClass")->nvalues, 3);
	assert_int_equal(template_entry_add(&e, "bad name", "x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad attribute name 'bad name'");
	assert_int_equal(template_entry_add(&e, "description", "a\nb", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "description: contains a line break (CR or "
	    "LF)");
	assert_int_equal(template_entry_add(&e, "description", "", err,
	    sizeof(err)), -1);
	assert_int_equal(template_entry_add(&e, NULL, "x", err, sizeof(err)),
	    -1);

	m = dir_mods_new();
	assert_int_equal(template_entry_mods(&e, m, err, sizeof(err)), 0);
	mods = dir_mods_get(m);
	for (i = 0; mods[i] != NULL; i++) {
		const struct template_attr *a = &e.attrs[i];
		assert_int_equal(mods[i]->mod_op, LDAP_MOD_ADD | LDAP_MOD_BVALUES);
		assert_string_equal(mods[i]->mod_type, a->name);
		for (j = 0; mods[i]->mod_bvalues[j] != NULL; j++) {
			assert_string_equal(mods[i]->mod_bvalues[j]->bv_val,
			    a->values[j]);
			assert_int_equal(mods[i]->mod_bvalues[j]->bv_len,
			    strlen(a->values[j]));
			total++;
		}
		assert_int_equal(j, a->nvalues);
	}
	assert_int_equal(i, e.nattrs);
	assert_int_equal(i, 9);
	assert_int_equal(total, 11);
	dir_mods_free(m);
	dir_mods_free(NULL);
	template_entry_free(&e);
	template_entry_free(&e);        /* idempotent */
	m = dir_mods_new();
	assert_int_equal(template_entry_mods(&e, m, err, sizeof(err)), -1);
	assert_string_equal(err, "entry: no attributes");
	assert_int_equal(dir_mods_count(m), 0);
	dir_mods_free(m);
	template_entry_free(NULL);
	template_free(t);
	template_free(NULL);
}

static void
test_entry_caps(void **state)
{
	struct template_entry e = { NULL, 0 };
	char name[32], val[32], err[256];
	int i;

	(void)state;
	for (i = 0; i < TEMPLATE_ENTRY_MAX_VALUES; i++) {
		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(template_entry_add(&e, "description", val,
		    err, sizeof(err)), 0);
	}
	assert_int_equal(template_entry_add(&e, "description", "one more",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "description: more than 64 values");
	for (i = 1; i < TEMPLATE_ENTRY_MAX_ATTRS; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		assert_int_equal(template_entry_add(&e, name, "x", err,
		    sizeof(err)), 0);
	}
	assert_int_equal(template_entry_add(&e, "another", "x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "another: more than 96 attributes");
	assert_int_equal(e.nattrs, TEMPLATE_ENTRY_MAX_ATTRS);
	template_entry_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_template),
		cmocka_unit_test(test_errors_with_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_syntax_accepted),
		cmocka_unit_test(test_omission_rules),
		cmocka_unit_test(test_value_checks),
		cmocka_unit_test(test_ldap_specials_byte_exact),
		cmocka_unit_test(test_entry_and_mods),
		cmocka_unit_test(test_entry_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
