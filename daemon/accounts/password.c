/* password — generation, policy, hashing. See password.h. */
#include "password.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistr.h>

#include "errmsg.h"
#include "xmalloc.h"

#define FIELD "password"

#define SSHA512_TAG      "{SSHA512}"
#define CRYPT_TAG        "{CRYPT}"
#define SHA512_LEN       64
#define SSHA_SALT_LEN    16
/* Salts accepted when verifying {SSHA512} values made elsewhere. */
#define SSHA_SALT_MAX    64
/* Longest userPassword value password_verify looks at. */
#define HASH_INPUT_MAX   512

#if !defined(CRYPT_GENSALT_IMPLEMENTS_AUTO_ENTROPY) || \
    !CRYPT_GENSALT_IMPLEMENTS_AUTO_ENTROPY
#error "libxcrypt with crypt_gensalt_rn(…, NULL, 0, …) support is required"
#endif

/* 56 symbols: digits 2-9, letters without O o I l. */
static const char gen_alphabet[] =
    "23456789"
    "ABCDEFGHJKLMNPQRSTUVWXYZ"
    "abcdefghijkmnpqrstuvwxyz";
#define GEN_ALPHABET_LEN (sizeof(gen_alphabet) - 1)

struct scheme_info {
	const char    *name;
	const char    *crypt_prefix;   /* NULL for {SSHA512} */
	unsigned long  default_cost;
	unsigned long  min_cost;
	unsigned long  max_cost;
};

static const struct scheme_info schemes[] = {
	[PASSWORD_SSHA512] = {
		.name = "ssha512",
	},
	[PASSWORD_SHA512CRYPT] = {
		.name = "sha512crypt", .crypt_prefix = "$6$",
		.default_cost = 5000, .min_cost = 1000, .max_cost = 999999999,
	},
	[PASSWORD_YESCRYPT] = {
		/* Cost 5 gives the "$y$j9T$" parameters that slapd's and
		 * Dovecot's libcrypt expect; stated here rather than taken
		 * from libxcrypt's default so it cannot drift. */
		.name = "yescrypt", .crypt_prefix = "$y$",
		.default_cost = 5, .min_cost = 1, .max_cost = 11,
	},
	[PASSWORD_BCRYPT] = {
		/* libxcrypt's own bcrypt default (5) is far too cheap. */
		.name = "bcrypt", .crypt_prefix = "$2b$",
		.default_cost = 12, .min_cost = 4, .max_cost = 31,
	},
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const struct scheme_info *
scheme_get(enum password_scheme scheme)
{
	if ((unsigned)scheme >= NSCHEMES)
		return NULL;
	return &schemes[scheme];
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of a NUL-terminated s and a prefix of
 * length n; independent of the locale. */
static bool
ascii_prefix_eq(const char *s, const char *prefix, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || ascii_lower(s[i]) != ascii_lower(prefix[i]))
			return false;
	return true;
}

int
password_scheme_parse(const char *name, enum password_scheme *out)
{
	size_t i, n;

	if (name == NULL || out == NULL)
		return -1;
	for (i = 0; i < NSCHEMES; i++) {
		n = strlen(schemes[i].name);
		if (ascii_prefix_eq(name, schemes[i].name, n) &&
		    name[n] == '\0') {
			*out = (enum password_scheme)i;
			return 0;
		}
	}
	return -1;
}

const char *
password_scheme_name(enum password_scheme scheme)
{
	const struct scheme_info *si = scheme_get(scheme);

	return si != NULL ? si->name : NULL;
}

int
password_cost_check(enum password_scheme scheme, unsigned long cost,
    char *err, size_t errlen)
{
	const struct scheme_info *si = scheme_get(scheme);

	if (si == NULL) {
		errmsg_set(err, errlen, "password scheme: unknown");
		return -1;
	}
	if (cost == 0)
		return 0;
	if (si->crypt_prefix == NULL) {
		errmsg_set(err, errlen,
		    "password cost: %s takes no cost setting",
		    si->name);
		return -1;
	}
	if (cost < si->min_cost || cost > si->max_cost) {
		errmsg_set(err, errlen,
		    "password cost: %s needs %lu..%lu, not %lu",
		    si->name, si->min_cost, si->max_cost, cost);
		return -1;
	}
	return 0;
}

int
password_generate(char *out, size_t outsz)
{
	/* Accept bytes below the largest multiple of the alphabet size, so
	 * every symbol is equally likely. */
	const unsigned limit = 256 - (256 % GEN_ALPHABET_LEN);
	unsigned char rnd[32];
	size_t have = 0, used = 0, o = 0;
	int rc = -1;

	if (out == NULL || outsz == 0)
		return -1;
	out[0] = '\0';
	if (outsz < PASSWORD_GENERATED_BUFSZ)
		return -1;
	while (o < PASSWORD_GENERATED_LEN) {
		if (used == have) {
			if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
				goto out;
			have = sizeof(rnd);
			used = 0;
		}
		if (rnd[used] < limit)
			out[o++] = gen_alphabet[rnd[used] % GEN_ALPHABET_LEN];
		used++;
	}
	out[o] = '\0';
	rc = 0;
out:
	if (rc < 0)
		OPENSSL_cleanse(out, outsz);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rc;
}

int
password_check_input(const char *pw, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (pw == NULL || len == 0) {
		errmsg_set(err, errlen, FIELD ": empty");
		return -1;
	}
	if (len > PASSWORD_MAX_BYTES) {
		errmsg_set(err, errlen, FIELD ": longer than %d bytes",
		    PASSWORD_MAX_BYTES);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (pw[i] == '\0') {
			errmsg_set(err, errlen, FIELD ": contains a NUL byte");
			return -1;
		}
		if (pw[i] == '\n' || pw[i] == '\r') {
			errmsg_set(err, errlen,
			    FIELD ": contains a line break");
			return -1;
		}
	}
	return 0;
}

/* password_check_input for a C string, without reading past the limit. */
static int
check_cstring(const char *pw, char *err, size_t errlen)
{
	if (pw == NULL) {
		errmsg_set(err, errlen, FIELD ": empty");
		return -1;
	}
	return password_check_input(pw,
	    strnlen(pw, PASSWORD_MAX_BYTES + 1), err, errlen);
}

int
password_check_policy(const char *pw, char *err, size_t errlen)
{
	const uint8_t *s = (const uint8_t *)pw;
	size_t len, i, chars = 0;
	ucs4_t c;
	int n;

	if (check_cstring(pw, err, errlen) < 0)
		return -1;
	len = strlen(pw);
	if (u8_check(s, len) != NULL) {
		errmsg_set(err, errlen, FIELD ": not valid UTF-8");
		return -1;
	}
	for (i = 0; i < len; i += (size_t)n) {
		n = u8_mbtouc(&c, s + i, len - i);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
			errmsg_set(err, errlen, FIELD ": contains a control "
			    "character");
			return -1;
		}
		chars++;
	}
	if (chars < PASSWORD_MIN_CHOSEN) {
		errmsg_set(err, errlen, FIELD ": shorter than %d characters",
		    PASSWORD_MIN_CHOSEN);
		return -1;
	}
	return 0;
}

/* SHA-512 over password then salt, into md (SHA512_LEN bytes). */
static int
ssha512_digest(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned char *md)
{
	EVP_MD_CTX *ctx;
	unsigned int mdlen = 0;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pw, pwlen) != 1 ||
	    EVP_DigestUpdate(ctx, salt, saltlen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != SHA512_LEN)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
hash_ssha512(const char *pw, char *out, size_t outsz, char *err,
    size_t errlen)
{
	unsigned char raw[SHA512_LEN + SSHA_SALT_LEN];
	/* base64 of 80 bytes is 108 characters, plus NUL. */
	unsigned char b64[4 * ((sizeof(raw) + 2) / 3) + 1];
	int b64len, rc = -1;

	if (RAND_bytes(raw + SHA512_LEN, SSHA_SALT_LEN) != 1) {
		errmsg_set(err, errlen, FIELD ": cannot get random salt");
		goto out;
	}
	if (ssha512_digest(pw, strlen(pw), raw + SHA512_LEN, SSHA_SALT_LEN,
	    raw) < 0) {
		errmsg_set(err, errlen, FIELD ": SHA-512 failed");
		goto out;
	}
	b64len = EVP_EncodeBlock(b64, raw, (int)sizeof(raw));
	if (b64len <= 0 ||
	    sizeof(SSHA512_TAG) - 1 + (size_t)b64len >= outsz) {
		errmsg_set(err, errlen, FIELD ": hash buffer too small");
		goto out;
	}
	memcpy(out, SSHA512_TAG, sizeof(SSHA512_TAG) - 1);
	memcpy(out + sizeof(SSHA512_TAG) - 1, b64, (size_t)b64len + 1);
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

static int
hash_crypt(const struct scheme_info *si, unsigned long cost, const char *pw,
    char *out, size_t outsz, char *err, size_t errlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	const char *h;
	size_t hlen;
	int rc = -1;

	if (crypt_gensalt_rn(si->crypt_prefix, cost, NULL, 0, setting,
	    (int)sizeof(setting)) == NULL) {
		errmsg_set(err, errlen, FIELD ": cannot make a %s salt: %s",
		    si->name, strerror(errno));
		goto out;
	}
	/* struct crypt_data is 32 KiB: keep it off worker-thread stacks. */
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*' ||
	    strncmp(h, si->crypt_prefix, strlen(si->crypt_prefix)) != 0) {
		errmsg_set(err, errlen, FIELD ": %s hashing failed", si->name);
		goto out;
	}
	hlen = strlen(h);
	if (sizeof(CRYPT_TAG) - 1 + hlen >= outsz) {
		errmsg_set(err, errlen, FIELD ": hash buffer too small");
		goto out;
	}
	memcpy(out, CRYPT_TAG, sizeof(CRYPT_TAG) - 1);
	memcpy(out + sizeof(CRYPT_TAG) - 1, h, hlen + 1);
	rc = 0;
out:
	if (cd != NULL) {
		OPENSSL_cleanse(cd, sizeof(*cd));
		free(cd);
	}
	return rc;
}

int
password_hash_cost(enum password_scheme scheme, unsigned long cost,
    const char *password, char *out, size_t outsz, char *err, size_t errlen)
{
	const struct scheme_info *si = scheme_get(scheme);
	int rc;

	if (out == NULL || outsz == 0) {
		errmsg_set(err, errlen, FIELD ": no output buffer");
		return -1;
	}
	out[0] = '\0';
	if (si == NULL) {
		errmsg_set(err, errlen, "password scheme: unknown");
		return -1;
	}
	if (password_cost_check(scheme, cost, err, errlen) < 0)
		return -1;
	if (check_cstring(password, err, errlen) < 0)
		return -1;
	if (scheme == PASSWORD_BCRYPT &&
	    strlen(password) > PASSWORD_BCRYPT_MAX) {
		errmsg_set(err, errlen, FIELD ": longer than %d bytes, which "
		    "bcrypt would ignore", PASSWORD_BCRYPT_MAX);
		return -1;
	}
	if (si->crypt_prefix == NULL)
		rc = hash_ssha512(password, out, outsz, err, errlen);
	else
		rc = hash_crypt(si, cost != 0 ? cost : si->default_cost,
		    password, out, outsz, err, errlen);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

int
password_hash(enum password_scheme scheme, const char *password, char *out,
    size_t outsz, char *err, size_t errlen)
{
	return password_hash_cost(scheme, 0, password, out, outsz, err,
	    errlen);
}

static bool
verify_ssha512(const char *b64, const char *pw)
{
	unsigned char raw[((HASH_INPUT_MAX + 3) / 4) * 3];
	unsigned char md[SHA512_LEN];
	size_t len = strlen(b64), pad = 0, rawlen;
	int n;
	bool ok = false;

	if (len == 0 || len % 4 != 0 || len > HASH_INPUT_MAX)
		return false;
	if (b64[len - 1] == '=')
		pad++;
	if (b64[len - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0 || (size_t)n < pad)
		goto out;
	rawlen = (size_t)n - pad;
	if (rawlen <= SHA512_LEN || rawlen > SHA512_LEN + SSHA_SALT_MAX)
		goto out;
	if (ssha512_digest(pw, strlen(pw), raw + SHA512_LEN,
	    rawlen - SHA512_LEN, md) < 0)
		goto out;
	ok = CRYPTO_memcmp(md, raw, SHA512_LEN) == 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

static bool
verify_crypt(const char *setting, const char *pw)
{
	struct crypt_data *cd;
	const char *h;
	size_t len = strlen(setting);
	bool ok = false;

	if (len == 0 || setting[0] == '*')
		return false;
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
	if (h != NULL && h[0] != '*' && strlen(h) == len)
		ok = CRYPTO_memcmp(h, setting, len) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool
password_verify(const char *hash, const char *password)
{
	if (hash == NULL || password == NULL)
		return false;
	if (strnlen(password, PASSWORD_MAX_BYTES + 1) > PASSWORD_MAX_BYTES)
		return false;
	if (strnlen(hash, HASH_INPUT_MAX + 1) > HASH_INPUT_MAX)
		return false;
	if (ascii_prefix_eq(hash, SSHA512_TAG, sizeof(SSHA512_TAG) - 1))
		return verify_ssha512(hash + sizeof(SSHA512_TAG) - 1,
		    password);
	if (ascii_prefix_eq(hash, CRYPT_TAG, sizeof(CRYPT_TAG) - 1))
		return verify_crypt(hash + sizeof(CRYPT_TAG) - 1, password);
	return false;
}
