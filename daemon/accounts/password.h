/*
 * password — generating passwords and hashing them for userPassword.
 *
 * Two kinds of secret, two hash settings (docs/accounts.md): a password provd
 * generates has >= 96 bits from the CSPRNG and may use a fast salted hash
 * ({SSHA512}); a password a person chooses needs a slow one (yescrypt by
 * default). Every scheme here is verified by both slapd binds and Dovecot
 * lookups: {SSHA512}, {CRYPT}$6$, {CRYPT}$y$, {CRYPT}$2b$.
 *
 * All functions are reentrant and keep no global state: password_hash may
 * run on worker threads (it uses crypt_rn with a per-call buffer, never
 * crypt()). Secrets that pass through stack or heap buffers are wiped before
 * returning, and no error message ever contains a password.
 */
#ifndef PROVD_PASSWORD_H
#define PROVD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

enum password_scheme {
	PASSWORD_SSHA512,       /* {SSHA512}: SHA-512(pw + 16-byte salt) */
	PASSWORD_SHA512CRYPT,   /* {CRYPT}$6$: SHA-crypt, 5000 rounds default */
	PASSWORD_YESCRYPT,      /* {CRYPT}$y$: yescrypt, cost 5 ($y$j9T$) */
	PASSWORD_BCRYPT,        /* {CRYPT}$2b$: bcrypt, cost 12 */
};

/* Longest password accepted, in bytes. */
#define PASSWORD_MAX_BYTES       256
/* bcrypt ignores everything past this many bytes, so longer is refused. */
#define PASSWORD_BCRYPT_MAX      72
/* Shortest password a person may choose, in characters. */
#define PASSWORD_MIN_CHOSEN      10
/* Generated passwords: length, and the buffer that holds one. */
#define PASSWORD_GENERATED_LEN   20
#define PASSWORD_GENERATED_BUFSZ (PASSWORD_GENERATED_LEN + 1)
/* A buffer that holds any hash made here, with its {SCHEME} tag. */
#define PASSWORD_HASH_BUFSZ      256

/* Scheme from its configuration name: "ssha512", "sha512crypt",
 * "yescrypt" or "bcrypt" (ASCII case ignored). Returns 0, or -1 for an
 * unknown or NULL name (*out unchanged). */
int password_scheme_parse(const char *name, enum password_scheme *out);

/* Configuration name of a scheme (static string), or NULL if unknown. */
const char *password_scheme_name(enum password_scheme scheme);

/*
 * Check a cost setting for a scheme before use (e.g. when loading the
 * configuration). 0 always means the scheme's default. Otherwise:
 * ssha512 takes no cost, sha512crypt takes rounds 1000..999999999,
 * yescrypt a cost 1..11, bcrypt a cost 4..31. Returns 0, or -1 with a
 * message in `err` (may be NULL).
 */
int password_cost_check(enum password_scheme scheme, unsigned long cost,
    char *err, size_t errlen);

/*
 * Generate a password of PASSWORD_GENERATED_LEN characters drawn uniformly
 * (rejection sampling) from a 56-symbol alphabet without look-alikes
 * (no 0 O o 1 l I): about 116 bits from the OpenSSL CSPRNG. The result is
 * plain ASCII letters and digits, usable directly as an LDAP password.
 * `out` must hold PASSWORD_GENERATED_BUFSZ bytes. Returns 0, or -1 if the
 * buffer is too small or the CSPRNG fails (out set to "" if outsz > 0).
 */
int password_generate(char *out, size_t outsz);

/*
 * Check password bytes as received (e.g. a protocol field of `len` bytes):
 * 1..PASSWORD_MAX_BYTES bytes, no NUL, no CR or LF. Use it before treating
 * received bytes as a C string, so that an embedded NUL cannot silently
 * shorten a password. Returns 0, or -1 with a message in `err`.
 */
int password_check_input(const char *pw, size_t len, char *err,
    size_t errlen);

/*
 * Policy for a password a person chooses (not applied to generated ones):
 * the rules of password_check_input, valid UTF-8, no control characters,
 * and at least PASSWORD_MIN_CHOSEN characters. Returns 0, or -1 with a
 * message in `err` (which never contains the password).
 */
int password_check_policy(const char *pw, char *err, size_t errlen);

/*
 * Hash `password` (NUL-terminated, rules of password_check_input; at most
 * PASSWORD_BCRYPT_MAX bytes for bcrypt) with a fresh random salt and the
 * scheme's default cost. Writes the userPassword value, e.g.
 * "{SSHA512}<base64>" or "{CRYPT}$y$j9T$…", NUL-terminated to `out`
 * (PASSWORD_HASH_BUFSZ bytes is always enough). Returns 0, or -1 with a
 * message in `err` (out set to "" if outsz > 0). Thread-safe.
 */
int password_hash(enum password_scheme scheme, const char *password,
    char *out, size_t outsz, char *err, size_t errlen);

/* As password_hash, with an explicit cost (see password_cost_check;
 * 0 = default). */
int password_hash_cost(enum password_scheme scheme, unsigned long cost,
    const char *password, char *out, size_t outsz, char *err,
    size_t errlen);

/*
 * True if `password` matches `hash`, a userPassword value with an
 * {SSHA512} or {CRYPT} tag (tag case ignored). False for any other scheme,
 * a malformed hash, or a password over PASSWORD_MAX_BYTES. Comparison is
 * constant-time in the digest. Thread-safe. The work factor comes from the
 * hash itself ("rounds=", bcrypt cost), so only verify hashes provd or the
 * directory made, not ones a client supplies.
 */
bool password_verify(const char *hash, const char *password);

#endif
