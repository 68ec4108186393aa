/*
 * libFuzzer target for the configuration reader.
 *
 * Input: the bytes of a provd.conf.  They are written to an in-memory file
 * (memfd) and read back through config_load(path, check_perms = false), the
 * same call provd -n makes; libconfig does the parsing.  Checked: nothing
 * crashes or leaks; a refusal explains itself; an accepted configuration
 * holds what config.h promises (required settings, bounded lists, the
 * derived DNs, every grant a single known role), and config_free leaves
 * the structure zeroed.
 *
 * Built by tests/fuzz/run against build-fuzz/libprovdcore.a.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian 12) loses string tokens when a parse fails (the one
 * being scanned at an unterminated string, or one the parser discards while
 * recovering); fixed upstream in 1.7 (hyperrealm/libconfig#142).  Only the
 * scanner's allocations are excused: a setting or a copy that config_load
 * forgets to release is still reported.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n"
	    "leak:libconfig_yylex\n";
}

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int memfd = -1;
static char path[64];

static int
is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

static void
check_config(const struct config *c)
{
	size_t i;

	CHECK(c->path != NULL && strcmp(c->path, path) == 0);
	CHECK(c->socket_path != NULL && c->state_dir != NULL &&
	    c->template_dir != NULL);
	CHECK(c->max_clients_per_uid >= 1 && c->max_clients_per_uid <= 10000);
	CHECK(c->client_timeout >= 1 && c->client_timeout <= 3600);
	CHECK(c->hash_threads <= 256);
	CHECK(c->ldap_timeout >= 1 && c->ldap_timeout <= 600);
	CHECK(c->ldap_window >= 1 && c->ldap_window <= 900);
	CHECK(c->retention_days <= 3650);
	CHECK(c->crl_days >= 1 && c->crl_days <= 7);
	CHECK(c->nuris >= 1 && c->nuris <= CONFIG_MAX_URIS);
	for (i = 0; i < c->nuris; i++)
		CHECK(c->uris[i] != NULL &&
		    (strncmp(c->uris[i], "ldap://", 7) == 0 ||
		     strncmp(c->uris[i], "ldaps://", 8) == 0 ||
		     strncmp(c->uris[i], "ldapi://", 8) == 0));
	CHECK(c->base != NULL && c->mail_domain != NULL);
	CHECK(c->generated_hash != NULL && c->chosen_hash != NULL);
	CHECK(c->ca_name != NULL && c->organization != NULL &&
	    c->country != NULL && c->default_profile != NULL);
	if (c->bind_simple)
		CHECK(c->bind_dn != NULL && c->bind_password_file != NULL &&
		    c->bind_password != NULL && c->bind_password[0] != '\0');
	else
		CHECK(c->bind_password == NULL);
	CHECK(c->ngroups <= CONFIG_MAX_GROUPS);
	for (i = 0; i < c->ngroups; i++) {
		unsigned r = c->groups[i].role;

		CHECK(c->groups[i].group != NULL);
		CHECK(r == ROLE_ADMIN || r == ROLE_OFFICER ||
		    r == ROLE_ONBOARDER || r == ROLE_AUDITOR);
	}
	CHECK(c->units_dn != NULL && ends_with(c->units_dn, c->base));
	CHECK(c->people_dn != NULL && ends_with(c->people_dn, c->base));
	CHECK(c->pki_dn != NULL && ends_with(c->pki_dn, c->base));
	CHECK(c->certs_dn != NULL && ends_with(c->certs_dn, c->pki_dn));
	/* The CA's DN is the parent re-rendered by libldap, not a suffix copy. */
	CHECK(c->ca_dn != NULL && strncmp(c->ca_dn, "cn=", 3) == 0 &&
	    strstr(c->ca_dn, ",ou=pki,") != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[1024];
	size_t off = 0;
	ssize_t n;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-provd.conf", MFD_CLOEXEC);
		CHECK(memfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0);
	while (off < size) {
		n = pwrite(memfd, data + off, size - off, (off_t)off);
		CHECK(n > 0);
		off += (size_t)n;
	}

	memset(err, 0, sizeof(err));
	if (config_load(path, false, &c, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		CHECK(is_zero(&c, sizeof(c)));
		return 0;
	}
	check_config(&c);
	config_free(&c);
	CHECK(is_zero(&c, sizeof(c)));
	return 0;
}
