/* address — the one address policy and the in-flight claims. See address.h. */
#include "address.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "strset.h"
#include "units.h"
#include "wire.h"

static const char *const reserved_builtin[] = {
	"postmaster", "abuse", "hostmaster", "webmaster", "root", "mailer-daemon",
	"noreply", NULL
};

static bool
reserved(const struct config *cfg, const char *local)
{
	size_t i;

	for (i = 0; reserved_builtin[i] != NULL; i++)
		if (strcmp(local, reserved_builtin[i]) == 0)
			return true;
	for (i = 0; i < cfg->nreserved; i++)
		if (strcmp(local, cfg->reserved[i]) == 0)
			return true;
	return false;
}

static bool
alias_domain(const struct config *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->nalias_domains; i++)
		if (strcmp(domain, cfg->alias_domains[i]) == 0)
			return true;
	return false;
}

int
address_check(const struct config *cfg, const struct units *units, const char *what,
              const char *in, char *out, size_t outsz, char *err, size_t errlen)
{
	char local[FIELD_MAIL_MAX + 1];
	const char *at;
	size_t n;

	if (field_mail(what, in, out, outsz, err, errlen) < 0)
		return ST_INVALID;
	at = strrchr(out, '@');
	n = (size_t)(at - out);
	memcpy(local, out, n);
	local[n] = '\0';
	if (strcmp(at + 1, cfg->mail_domain) != 0) {
		/* An alias may be in one of mail.alias_domains (an absorbed
		 * directory's old domain, still delivered). */
		if (strcmp(what, "alias") == 0 && alias_domain(cfg, at + 1)) {
			if (strchr(local, '+') != NULL || reserved(cfg, local)) {
				snprintf(err, errlen, "%s: %s has a '+' or a reserved local part",
				         what, out);
				return ST_INVALID;
			}
			return 0;
		}
		snprintf(err, errlen, "%s: %s is outside the mail domain %s (the mail "
		         "servers deliver that domain only, not other domains or subdomains)",
		         what, out, cfg->mail_domain);
		return ST_INVALID;
	}
	if (strchr(local, '+') != NULL) {
		snprintf(err, errlen, "%s: %s has a '+' (a subaddress of %.*s@%s, not an "
		         "address of its own)", what, out, (int)strcspn(local, "+"), local,
		         cfg->mail_domain);
		return ST_INVALID;
	}
	if (reserved(cfg, local)) {
		snprintf(err, errlen, "%s: %s is a reserved address (%s@ belongs to the "
		         "mail service, not to a person)", what, out, local);
		return ST_INVALID;
	}
	if (units != NULL && units_find(units, local) != NULL) {
		snprintf(err, errlen, "%s: %s is the address of the unit %s", what, out, local);
		return ST_INVALID;
	}
	return 0;
}

/* The claims of every request in flight (see address.h). */
static struct strset *claims;

bool
address_claim(const char *key)
{
	if (claims == NULL)
		claims = strset_new(1u << 20);
	return strset_add(claims, key) == 1;
}

void
address_unclaim(const char *key)
{
	if (claims == NULL)
		return;
	strset_del(claims, key);
	if (strset_count(claims) == 0) {
		strset_free(claims);
		claims = NULL;
	}
}

bool
address_claimed(const char *key)
{
	return claims != NULL && strset_has(claims, key);
}

const char *
address_key(char *buf, size_t len, const char *addr)
{
	snprintf(buf, len, "@%s", addr);
	return buf;
}
