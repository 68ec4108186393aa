/*
 * libFuzzer target for the account template: template_parse, then
 * template_expand with several sets of values (ordinary, all empty,
 * LDAP specials, and one taken from the input), then the LDAPMod array.
 * A parse error must name the file; an expanded entry must hold the
 * required attributes and only bounded, single-line, non-empty values.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Idaemon/core -Idaemon/directory \
 *       daemon/directory/template.c daemon/core/errmsg.c tests/fuzz/fuzz_template.c \
 *       -lldap -o fuzz_template
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dir.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void
check_entry(const struct template_entry *e, const struct template_values *v)
{
	const struct template_attr *uid;
	LDAPMod **mods;
	struct dir_mods *m;
	char err[256];
	size_t i, j;

	CHECK(e->nattrs >= 6 && e->nattrs <= TEMPLATE_ENTRY_MAX_ATTRS);
	CHECK(template_entry_find(e, "objectClass") != NULL);
	CHECK(template_entry_find(e, "cn") != NULL);
	CHECK(template_entry_find(e, "sn") != NULL);
	CHECK(template_entry_find(e, "mail") != NULL);
	CHECK(template_entry_find(e, "employeeNumber") != NULL);
	uid = template_entry_find(e, "uid");
	CHECK(uid != NULL && uid->nvalues == 1);
	CHECK(strcmp(uid->values[0], v->login) == 0);
	for (i = 0; i < e->nattrs; i++) {
		const struct template_attr *a = &e->attrs[i];
		CHECK(a->nvalues >= 1 &&
		    a->nvalues <= TEMPLATE_ENTRY_MAX_VALUES);
		for (j = 0; j < a->nvalues; j++) {
			size_t n = strlen(a->values[j]);
			CHECK(n >= 1 && n <= TEMPLATE_MAX_VALUE);
			CHECK(strpbrk(a->values[j], "\r\n") == NULL);
		}
	}
	m = dir_mods_new();
	CHECK(template_entry_mods(e, m, err, sizeof(err)) == 0);
	mods = dir_mods_get(m);
	for (i = 0; mods[i] != NULL; i++)
		CHECK(mods[i]->mod_bvalues[0] != NULL);
	CHECK(i == e->nattrs);
	dir_mods_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct template *t = NULL;
	struct template_entry e;
	struct template_values sets[4];
	char err[512], from_input[96];
	size_t i, n;

	if (template_parse((const char *)data, size, "fuzz.ldif", &t, err,
	    sizeof(err)) != 0) {
		CHECK(t == NULL);
		CHECK(strncmp(err, "fuzz.ldif", 9) == 0);
		return 0;
	}
	CHECK(t != NULL);
	CHECK(template_line_count(t) >= 6 &&
	    template_line_count(t) <= TEMPLATE_MAX_LINES);

	memset(sets, 0, sizeof(sets));
	sets[0].login = "annv";
	sets[0].full_name = "Nguyễn Văn An";
	sets[0].given_name = "Văn An";
	sets[0].surname = "Nguyễn";
	sets[0].middle_name = "Văn";
	sets[0].unit = "so-noi-vu";
	sets[0].unit_name = "Sở Nội vụ";
	sets[0].mail = "annv@vinhphuc.gov.vn";
	sets[0].domain = "vinhphuc.gov.vn";
	sets[0].employee_id = "VP19000001";
	sets[0].title = "Chuyên viên";
	sets[0].phone = "0972335946";
	sets[0].quota = 2147483648ULL;
	/* sets[1]: everything empty */
	sets[2] = sets[0];
	sets[2].full_name = ",+\"\\<>;=#*() x";
	sets[2].title = "a\r\nb";
	sets[2].middle_name = "";
	sets[2].phone = "\xEA\xDE";
	/* sets[3]: the tail of the input as the title and unit name */
	n = size < sizeof(from_input) - 1 ? size : sizeof(from_input) - 1;
	memcpy(from_input, data + size - n, n);
	from_input[n] = '\0';
	sets[3] = sets[0];
	sets[3].title = from_input;
	sets[3].unit_name = from_input;

	for (i = 0; i < 4; i++) {
		if (template_expand(t, &sets[i], &e, err, sizeof(err)) != 0) {
			CHECK(e.attrs == NULL && e.nattrs == 0);
			CHECK(err[0] != '\0');
			continue;
		}
		check_entry(&e, &sets[i]);
		CHECK(template_entry_add(&e, "userPassword", "{SSHA512}x",
		    err, sizeof(err)) == 0 || e.nattrs ==
		    TEMPLATE_ENTRY_MAX_ATTRS);
		template_entry_free(&e);
	}
	template_free(t);
	return 0;
}
