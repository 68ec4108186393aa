/*
 * olddomain — an old mail domain ends at its until date.
 *
 * mail.old_domains (config.h) keeps a domain delivered besides mail.domain
 * — the province's own before a reorganisation changed it, or an absorbed
 * directory's — for good or until a date.  From 00:00 UTC of that day:
 *   - the address policy refuses the domain (address_check, address.h);
 *   - this sweep removes every address in it from the accounts'
 *     mailLocalAddress, so the alias map (etc/postfix/ldap-aliases.cf)
 *     no longer finds it; the canonical mail is never touched (an
 *     account still named in the old domain is counted in the log);
 *   - when mail.domain_lists_dir is set, the domain leaves the lists
 *     written there for Postfix: `domains` (mail.domain and every old
 *     domain still delivered: virtual_mailbox_domains and the `domain`
 *     line of ldap-aliases.cf and ldap-mailboxes.cf) and `unit-domains`
 *     (mail.domain and the previous ones still delivered: the `domain` line
 *     of the unit maps), so unit addresses in it end too.  Each file is
 *     replaced whole (rename) when its content changes, mode 0644.
 *
 * The sweep runs soon after start-up, after a reload (olddomain_refresh)
 * and once a minute; a domain swept clean is not searched again by this
 * process.  Each modify deletes exactly the values read: a value already
 * gone (another site, a second pass) fails harmlessly.
 */
#ifndef PROVD_OLDDOMAIN_H
#define PROVD_OLDDOMAIN_H

#include <time.h>

struct provd;
struct config;

/* Start and stop the periodic sweep (main.c).  stop waits for nothing:
 * operations in flight finish into a state marked stopped. */
void olddomain_start(struct provd *pd);
void olddomain_stop(void);

/* Look again now (after a configuration reload). */
void olddomain_refresh(struct provd *pd);

/* Write the domain lists of mail.domain_lists_dir for `now` (no-op when it
 * is ""; a file whose content is unchanged is left alone).  0, or -1 with
 * errno set (logged by the caller). */
int olddomain_write_lists(const struct config *cfg, time_t now);

#endif
