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

/* A domain of mail.previous_domains: addresses kept from before a domain
 * change are still delivered (the operator keeps it in the Postfix maps). */
static bool
previous_domain(const struct config *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->nprevious_domains; i++)
		if (strcmp(domain, cfg->previous_domains[i]) == 0)
			return true;
	return false;
}

/* A domain of mail.alias_domains: an absorbed directory's old domain, still
 * delivered, for aliases only. */
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
	const struct unit *owner;
	const char *at;
	bool foreign = false;
	size_t n;

	if (field_mail(what, in, out, outsz, err, errlen) < 0)
		return ST_INVALID;
	at = strrchr(out, '@');
	n = (size_t)(at - out);
	memcpy(local, out, n);
	local[n] = '\0';
	if (strcmp(at + 1, cfg->mail_domain) != 0 && !previous_domain(cfg, at + 1)) {
		/* An alias may be in one of mail.alias_domains (an absorbed
		 * directory's old domain, still delivered): rules 3 and 4 hold
		 * there, rule 5 does not (this province's unit codes are not
		 * addresses in another directory's domain). */
		if (strcmp(what, "alias") == 0 && alias_domain(cfg, at + 1)) {
			foreign = true;
		} else {
			snprintf(err, errlen, "%s: %s is outside the mail domain %s (the mail "
			         "servers deliver that domain only, not other domains or "
			         "subdomains)", what, out, cfg->mail_domain);
			return ST_INVALID;
		}
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
	if (!foreign && units != NULL && (owner = units_owner(units, local)) != NULL) {
		if (strcmp(owner->code, local) == 0)
			snprintf(err, errlen, "%s: %s is the address of the unit %s", what, out,
			         local);
		else
			snprintf(err, errlen, "%s: %s is the address of the unit %s (kept for "
			         "the unit %s, merged into it)", what, out, owner->code, local);
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
