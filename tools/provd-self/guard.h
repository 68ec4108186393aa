/*
 * guard — what stands between the page and slapd: form tokens against
 * cross-site request forgery, and rate limits per client address and per
 * account.
 *
 * Form tokens are stateless: "NONCE.TIME.MAC" where MAC is HMAC-SHA-256
 * under a key drawn at start-up, over the nonce and the time.  The nonce
 * also goes to the browser as a SameSite=Strict cookie, and a POST must
 * carry both, matching (double submit): a page on another site can neither
 * read the token nor send the cookie.  Tokens live GUARD_TOKEN_TTL seconds;
 * a restart invalidates them (the person reloads the form).
 *
 * Rate limits are token buckets in two fixed-size tables (no allocation
 * per client, so a flood of addresses cannot grow memory): a key hashes to
 * a slot under a random key; a collision shares a bucket, which can only
 * make the limit stricter.  Thread-safe.
 */
#ifndef PROVD_SELF_GUARD_H
#define PROVD_SELF_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define GUARD_NONCE_HEX   32                 /* 16 random bytes */
#define GUARD_TOKEN_MAX   (GUARD_NONCE_HEX + 1 + 16 + 1 + 64)
#define GUARD_TOKEN_BUFSZ (GUARD_TOKEN_MAX + 1)
#define GUARD_TOKEN_TTL   7200
#define GUARD_SLOTS       4096

struct guard;

/* Limits: `burst` attempts, refilled evenly over `window` seconds. */
struct guard_limit {
	unsigned burst;
	unsigned window;
};

/* A new guard with a fresh random key.  NULL if the CSPRNG fails. */
struct guard *guard_new(struct guard_limit per_address,
    struct guard_limit per_account);
void guard_free(struct guard *g);

/* Make a form token for `now`; writes the token (GUARD_TOKEN_BUFSZ) and
 * its nonce (GUARD_NONCE_HEX + 1 bytes, for the cookie).  0 or -1. */
int guard_token_new(struct guard *g, time_t now, char *token, char *nonce);

/* true when `token` is one this guard made, younger than the TTL, and its
 * nonce equals `cookie_nonce`.  Constant time in the MAC and nonce. */
bool guard_token_ok(struct guard *g, const char *token,
    const char *cookie_nonce, time_t now);

/* Take one attempt from the bucket of a client address, or of an account
 * (any case-insensitive key: the login or address typed).  true when the
 * attempt is allowed; false when the bucket is empty.  IPv6 addresses
 * count per /64 (the least one client is given). */
bool guard_take_address(struct guard *g, const char *address, time_t now);
bool guard_take_account(struct guard *g, const char *account, time_t now);

#endif
