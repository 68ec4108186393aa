/* address — the one address policy and the in-flight claims. See address.h. */
#include "address.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

const struct old_domain *
address_old_domain(const struct config *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->nold_domains; i++)
		if (strcmp(domain, cfg->old_domains[i].name) == 0)
			return &cfg->old_domains[i];
	return NULL;
}

bool
address_old_domain_live(const struct old_domain *od, time_t now)
{
	return od->until == 0 || now < od->until;
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
	if (strcmp(at + 1, cfg->mail_domain) != 0) {
		/* An old domain (mail.old_domains) while it is delivered: a
		 * previous one of ours as mail.domain; an absorbed directory's
		 * for aliases only, where rules 3 and 4 hold and rule 5 does not
		 * (this province's unit codes are not addresses there). */
		const struct old_domain *od = address_old_domain(cfg, at + 1);

		if (od != NULL && !address_old_domain_live(od, time(NULL))) {
			snprintf(err, errlen, "%s: %s is in %s, delivered until %s only (the old "
			         "addresses there have ended; use %s)", what, out, od->name,
			         od->until_day, cfg->mail_domain);
			return ST_INVALID;
		}
		if (od == NULL || (od->kind == OLD_DOMAIN_ABSORBED && strcmp(what, "alias") != 0)) {
			snprintf(err, errlen, "%s: %s is outside the mail domain %s (the mail "
			         "servers deliver that domain only, not other domains or "
			         "subdomains)", what, out, cfg->mail_domain);
			return ST_INVALID;
		}
		foreign = od->kind == OLD_DOMAIN_ABSORBED;
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
