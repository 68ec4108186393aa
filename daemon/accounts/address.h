/*
 * address — the one address policy.  Every path that gives an account an
 * address (user add: the mail and each --alias; alias add; batch import:
 * the mail and aliases columns, for new and updated accounts; the address
 * made from a login) asks address_check(), and claims the address with
 * address_claim() while its write is in flight.
 *
 * An address is acceptable when:
 *   1. it is a plain ASCII address, local@domain (field_mail's syntax),
 *      folded to lower case; no internationalised local part, and an IDN
 *      domain (xn--...) is a different domain;
 *   2. its domain is exactly mail.domain — the domain the shipped
 *      Postfix maps deliver (their `domain = ...`) — or an old domain
 *      (mail.old_domains, config.h) before its until date: a previous
 *      domain of the province (before a reorganisation changed it), or,
 *      for an alias (what = "alias") only, an absorbed directory's domain,
 *      where rules 3 and 4 apply and 5 does not; a subdomain is refused,
 *      and so is an old domain from its until date on (olddomain.h then
 *      removes its addresses from the directory);
 *   3. its local part has no '+' (Postfix's recipient delimiter: a
 *      subaddress delivers to its base, it is not an address of its own);
 *   4. its local part is not reserved: postmaster, abuse, hostmaster,
 *      webmaster, root, mailer-daemon, noreply (RFC 2142 and the like) and
 *      mail.reserved from the configuration;
 *   5. its local part is not a unit code (code@domain is the unit's
 *      address, see etc/postfix/ldap-units-staff.cf), nor the code of a
 *      unit merged into another (kept as the other's alias,
 *      ldap-units-aliases.cf);
 * and, checked by the caller against the directory, no other account
 * holds it as mail or alias, and no request in flight has claimed it.
 * The other way round, unit add refuses a code whose address an account
 * holds, claiming code@domain while it checks and writes (unit.c).
 */
#ifndef PROVD_ADDRESS_H
#define PROVD_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "fields.h"

struct config;
struct old_domain;
struct units;

#define ADDRESS_MAX (FIELD_MAIL_MAX + 1)

/*
 * Check `in` (what the caller typed; `what` names the field in messages,
 * e.g. "alias") against rules 1-5.  On success returns 0 with the
 * normalised address (lower case) in out (ADDRESS_MAX bytes).  Otherwise
 * returns ST_INVALID with a message in err naming the rule broken.
 */
int address_check(const struct config *cfg, const struct units *units, const char *what,
                  const char *in, char *out, size_t outsz, char *err, size_t errlen);

/*
 * The entry of mail.old_domains for `domain` (lower case), or NULL; and
 * whether that domain is still delivered at `now` (before its until).
 * The one place an old domain is looked up: address_check, the sweep at
 * until (olddomain.c) and reorg plan's check of the configuration.
 */
const struct old_domain *address_old_domain(const struct config *cfg, const char *domain);
bool address_old_domain_live(const struct old_domain *od, time_t now);

/*
 * In-flight claims, shared by every path: a key is held by at most one
 * request.  Keys are an address ("@" + normalised address), a login
 * (the login itself), an employee id ("#" + id) or a certificate key
 * ("%" + provdCertKeyHash, cert_issue.c).  address_claim returns
 * true when the caller now holds key, false when another request does (or
 * out of memory); address_unclaim releases it.  address_claimed says
 * whether anyone holds it.  Loop thread only.
 */
bool address_claim(const char *key);
void address_unclaim(const char *key);
bool address_claimed(const char *key);

/* "@" + addr into buf (addr must already be normalised). */
const char *address_key(char *buf, size_t len, const char *addr);

#endif
