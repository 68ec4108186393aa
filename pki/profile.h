/*
 * profile.h — certificate profiles: what a certificate for a person may
 * carry, read from templates/profiles/NAME.conf (libconfig syntax).
 *
 *   description = "…";
 *   validity_days = 730;                 # 1..3650
 *   email_san = true;                    # subjectAltName email:<mail>
 *   rsa = { min_bits = 2048; max_bits = 8192;          # group absent:
 *           key_usage = [ "digitalSignature", … ]; };  #   RSA refused
 *   ec  = { curves = [ "P-256", "P-384" ];             # group absent:
 *           key_usage = [ "digitalSignature", … ]; };  #   EC refused
 *   extended_key_usage = [ "emailProtection", "clientAuth", "1.2.3…" ];
 *   escrow = true;                       # keys made by the office (cert
 *                                        # issue --generate) are kept,
 *                                        # encrypted to the recovery
 *                                        # certificate, with the record
 *   policies = [ "2.23.140.1.5.3.2" ];   # certificatePolicies, dotted OIDs
 *   renew_key_reuse = true;              # cert renew without a new key
 *                                        # certifies the predecessor's key
 *                                        # again (default false; never a
 *                                        # key the office made and escrowed)
 *
 * Floors no file can lower: RSA >= 2048 bits, curves P-256/P-384/P-521
 * only.  keyUsage names: digitalSignature, nonRepudiation (alias
 * contentCommitment), keyEncipherment (RSA only), dataEncipherment,
 * keyAgreement (EC only); keyCertSign and cRLSign are refused (end
 * entities only).  extendedKeyUsage: the names in profile.c's table or
 * dotted OIDs; anyExtendedKeyUsage and OCSPSigning are refused.
 * escrow is for mail encryption keys only: it needs emailProtection and
 * refuses a profile with nonRepudiation (a signing key is never copied).
 * policies:
 * 1..4 distinct dotted OIDs (policy identifiers of a non-critical
 * certificatePolicies extension, no qualifiers); anyPolicy is refused (an
 * end-entity certificate names the policies it was issued under).
 */
#ifndef PROVD_PKI_PROFILE_H
#define PROVD_PKI_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/evp.h>

#define PROFILE_NAME_MAX     64
#define PROFILE_DESC_MAX     256
#define PROFILE_MAX_CURVES   4
#define PROFILE_MAX_EKU      8
#define PROFILE_MAX_POLICIES 4
#define PROFILE_OID_MAX      64
#define PROFILE_MAX_PROFILES 64
#define PROFILE_FILE_MAX     (64 * 1024)
#define PROFILE_PATH_MAX     4096

struct profile {
	char     name[PROFILE_NAME_MAX + 1];  /* file name without .conf */
	char     description[PROFILE_DESC_MAX + 1];
	unsigned validity_days;
	bool     email_san;
	bool     rsa_allowed;
	unsigned rsa_min_bits;
	unsigned rsa_max_bits;
	unsigned rsa_key_usage;    /* KU_* bits of <openssl/x509v3.h> */
	bool     ec_allowed;
	int      ec_curves[PROFILE_MAX_CURVES];   /* curve NIDs */
	size_t   ec_ncurves;
	unsigned ec_key_usage;     /* KU_* bits */
	char     eku[PROFILE_MAX_EKU][PROFILE_OID_MAX];   /* dotted OIDs */
	size_t   neku;
	bool     escrow;
	char     policies[PROFILE_MAX_POLICIES][PROFILE_OID_MAX];  /* dotted OIDs */
	size_t   npolicies;
	int      renew_key_reuse;  /* cert renew may certify the same key again */
};

struct profile_set;

/*
 * Load one profile file; its name is the file's base name without
 * ".conf" ([a-z0-9_-], 1..64 characters).  Errors name "file:line".
 * Returns 0 or -1.
 */
int profile_load_file(const char *path, struct profile *out, char *err,
    size_t errlen);

/*
 * Load every "*.conf" in dir (sorted by name; at most 64).  Any bad file
 * fails the whole load.  *out is owned by the caller (profile_set_free).
 * An empty directory is an error.  Returns 0 or -1.
 */
int profile_load_dir(const char *dir, struct profile_set **out, char *err,
    size_t errlen);

/* The profile called name, or NULL.  Borrowed from set. */
const struct profile *profile_find(const struct profile_set *set,
    const char *name);

/* Number of profiles, and the i-th (sorted by name), for listing. */
size_t profile_count(const struct profile_set *set);
const struct profile *profile_at(const struct profile_set *set, size_t i);

void profile_set_free(struct profile_set *set);

/*
 * The keyUsage bits a certificate for key pub gets under p.  Returns 0, or
 * -1 with a message when p does not allow that kind of key at all.
 */
int profile_key_usage(const struct profile *p, const EVP_PKEY *pub,
    unsigned *ku, char *err, size_t errlen);

/*
 * Human list of the curves p allows, e.g. "P-256, P-384" (or "none").
 * Always NUL-terminates buf.
 */
void profile_curves_text(const struct profile *p, char *buf, size_t len);

#endif
