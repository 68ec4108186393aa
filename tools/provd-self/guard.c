#include "guard.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hex.h"

struct bucket {
	double tokens;
	time_t last;
	bool   used;
};

struct table {
	struct guard_limit limit;
	struct bucket      slot[GUARD_SLOTS];
};

struct guard {
	unsigned char   mac_key[32];
	unsigned char   hash_key[32];
	pthread_mutex_t lock;
	struct table    address;
	struct table    account;
};

struct guard *
guard_new(struct guard_limit per_address, struct guard_limit per_account)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if (RAND_priv_bytes(g->mac_key, sizeof(g->mac_key)) != 1 ||
	    RAND_bytes(g->hash_key, sizeof(g->hash_key)) != 1 ||
	    pthread_mutex_init(&g->lock, NULL) != 0) {
		OPENSSL_cleanse(g, sizeof(*g));
		free(g);
		return NULL;
	}
	g->address.limit = per_address;
	g->account.limit = per_account;
	return g;
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
}

/* hex of HMAC-SHA-256(key, nonce "." time) into out (65 bytes). */
static int
token_mac(const struct guard *g, const char *nonce, const char *when,
    char *out)
{
	unsigned char msg[GUARD_NONCE_HEX + 1 + 16], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t nlen = strlen(nonce), wlen = strlen(when);

	if (nlen != GUARD_NONCE_HEX || wlen == 0 || wlen > 16)
		return -1;
	memcpy(msg, nonce, nlen);
	msg[nlen] = '.';
	memcpy(msg + nlen + 1, when, wlen);
	if (HMAC(EVP_sha256(), g->mac_key, sizeof(g->mac_key), msg,
	    nlen + 1 + wlen, md, &mdlen) == NULL || mdlen != 32)
		return -1;
	hex_encode(md, mdlen, out);
	return 0;
}

int
guard_token_new(struct guard *g, time_t now, char *token, char *nonce)
{
	unsigned char raw[GUARD_NONCE_HEX / 2];
	char when[17], mac[65];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	hex_encode(raw, sizeof(raw), nonce);
	snprintf(when, sizeof(when), "%" PRIx64, (uint64_t)now);
	if (token_mac(g, nonce, when, mac) < 0)
		return -1;
	snprintf(token, GUARD_TOKEN_BUFSZ, "%s.%s.%s", nonce, when, mac);
	return 0;
}

bool
guard_token_ok(struct guard *g, const char *token, const char *cookie_nonce,
    time_t now)
{
	char nonce[GUARD_NONCE_HEX + 1], when[17], mac[65];
	const char *dot1, *dot2;
	size_t wlen;
	uint64_t t = 0;

	if (token == NULL || cookie_nonce == NULL ||
	    strlen(token) > GUARD_TOKEN_MAX ||
	    strlen(cookie_nonce) != GUARD_NONCE_HEX)
		return false;
	dot1 = strchr(token, '.');
	if (dot1 == NULL || (size_t)(dot1 - token) != GUARD_NONCE_HEX)
		return false;
	dot2 = strchr(dot1 + 1, '.');
	if (dot2 == NULL)
		return false;
	wlen = (size_t)(dot2 - dot1 - 1);
	if (wlen == 0 || wlen > 16 || strlen(dot2 + 1) != 64)
		return false;
	memcpy(nonce, token, GUARD_NONCE_HEX);
	nonce[GUARD_NONCE_HEX] = '\0';
	memcpy(when, dot1 + 1, wlen);
	when[wlen] = '\0';
	for (size_t i = 0; i < wlen; i++) {
		int c = (unsigned char)when[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		t = t * 16 + v;
	}
	if (token_mac(g, nonce, when, mac) < 0)
		return false;
	/* Evaluate both comparisons before deciding: no early exit on which
	 * half differs. */
	if ((CRYPTO_memcmp(mac, dot2 + 1, 64) |
	    CRYPTO_memcmp(nonce, cookie_nonce, GUARD_NONCE_HEX)) != 0)
		return false;
	return (uint64_t)now >= t && (uint64_t)now - t <= GUARD_TOKEN_TTL;
}

/* Keyed hash of a lower-cased key to a slot (FNV-1a over key bytes mixed
 * with the random hash key, then a final avalanche). */
static size_t
slot_of(const struct guard *g, const char *key)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < sizeof(g->hash_key); i++) {
		h ^= g->hash_key[i];
		h *= 0x100000001b3u;
	}
	for (const char *p = key; *p != '\0'; p++) {
		h ^= (unsigned char)tolower((unsigned char)*p);
		h *= 0x100000001b3u;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return (size_t)(h % GUARD_SLOTS);
}

static bool
take(struct guard *g, struct table *t, const char *key, time_t now)
{
	struct bucket *b;
	double rate;
	bool ok;

	if (t->limit.burst == 0)
		return true;
	pthread_mutex_lock(&g->lock);
	b = &t->slot[slot_of(g, key)];
	rate = (double)t->limit.burst / (double)(t->limit.window ? t->limit.window : 1);
	if (!b->used) {
		b->used = true;
		b->tokens = t->limit.burst;
		b->last = now;
	} else if (now > b->last) {
		b->tokens += rate * (double)(now - b->last);
		if (b->tokens > t->limit.burst)
			b->tokens = t->limit.burst;
		b->last = now;
	}
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

bool
guard_take_address(struct guard *g, const char *address, time_t now)
{
	struct in6_addr a6;
	char net[INET6_ADDRSTRLEN];

	/* One IPv6 client holds a whole /64 (SLAAC, privacy addresses): its
	 * bucket is the /64's, or every address would bring a fresh burst. */
	if (inet_pton(AF_INET6, address, &a6) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(&a6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a6, net, sizeof(net)) != NULL)
			return take(g, &g->address, net, now);
	}
	return take(g, &g->address, address, now);
}

bool
guard_take_account(struct guard *g, const char *account, time_t now)
{
	return take(g, &g->account, account, now);
}
