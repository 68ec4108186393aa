/*
 * p11.c — CA keys on a PKCS #11 token (see p11.h).
 */
#include "p11.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <p11-kit/pkcs11.h>

#include "keyinfo.h"
#include "p11uri.h"
#include "sigalg.h"

#define PIN_MAX        256
#define MAX_SLOTS      64
#define MAX_FOUND      2        /* enough to tell "one" from "several" */
#define GEN_ID_LEN     16
#define ATTR_MAX       4096     /* modulus, EC point, parameters */

struct p11key {
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE  priv;
	CK_KEY_TYPE       type;     /* CKK_RSA or CKK_EC */
};

static struct {
	void              *dl;
	CK_FUNCTION_LIST  *f;
	char               path[KEYFILE_PATH_MAX];
} mod;

/* DER OIDs of the named curves a CA key may use (CKA_EC_PARAMS). */
static const unsigned char oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04,
    0x00, 0x22 };
/* DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1). */
static const unsigned char sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d,
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20 };

static void
rv_error(char *err, size_t errlen, const char *what, CK_RV rv)
{
	const char *name = NULL;

	switch (rv) {
	case CKR_PIN_INCORRECT:     name = "wrong PIN"; break;
	case CKR_PIN_LOCKED:        name = "PIN locked"; break;
	case CKR_TOKEN_NOT_PRESENT: name = "token not present"; break;
	case CKR_DEVICE_REMOVED:    name = "token removed"; break;
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:    name = "session lost"; break;
	case CKR_KEY_HANDLE_INVALID:
	case CKR_OBJECT_HANDLE_INVALID: name = "key object gone"; break;
	case CKR_MECHANISM_INVALID: name = "mechanism not supported"; break;
	case CKR_USER_NOT_LOGGED_IN: name = "not logged in"; break;
	case CKR_DEVICE_MEMORY:     name = "token memory full"; break;
	default: break;
	}
	if (name != NULL)
		snprintf(err, errlen, "PKCS#11 %s: %s (0x%lx)", what, name,
		    (unsigned long)rv);
	else
		snprintf(err, errlen, "PKCS#11 %s failed (0x%lx)", what,
		    (unsigned long)rv);
}

int
p11_module_open(const char *module, char *err, size_t errlen)
{
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS init;
	CK_RV rv;
	void *sym;

	if (mod.f != NULL) {
		if (strcmp(mod.path, module) == 0)
			return 0;
		snprintf(err, errlen, "PKCS#11: another module is loaded");
		return -1;
	}
	if (module == NULL || module[0] != '/' ||
	    strlen(module) >= sizeof(mod.path)) {
		snprintf(err, errlen, "PKCS#11: pki.pkcs11_module must be an "
		    "absolute path");
		return -1;
	}
	mod.dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (mod.dl == NULL) {
		snprintf(err, errlen, "PKCS#11: cannot load %s", module);
		return -1;
	}
	sym = dlsym(mod.dl, "C_GetFunctionList");
	if (sym == NULL) {
		snprintf(err, errlen, "PKCS#11: %s has no C_GetFunctionList",
		    module);
		goto fail;
	}
	memcpy(&get, &sym, sizeof(get));
	if (get(&mod.f) != CKR_OK || mod.f == NULL) {
		snprintf(err, errlen, "PKCS#11: %s gave no function list",
		    module);
		goto fail;
	}
	/* One thread in the signer; the module may use OS locking anyway. */
	memset(&init, 0, sizeof(init));
	init.flags = CKF_OS_LOCKING_OK;
	rv = mod.f->C_Initialize(&init);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rv_error(err, errlen, "C_Initialize", rv);
		goto fail;
	}
	snprintf(mod.path, sizeof(mod.path), "%s", module);
	return 0;
fail:
	mod.f = NULL;
	dlclose(mod.dl);
	mod.dl = NULL;
	return -1;
}

void
p11_module_close(void)
{
	if (mod.f != NULL)
		(void)mod.f->C_Finalize(NULL);
	mod.f = NULL;
	if (mod.dl != NULL)
		dlclose(mod.dl);
	mod.dl = NULL;
	mod.path[0] = '\0';
}

/* The one slot whose token the URI names. */
static int
find_slot(const struct p11uri *u, CK_SLOT_ID *out, char *err, size_t errlen)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n = MAX_SLOTS, i, found = 0;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = mod.f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_GetSlotList", rv);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (mod.f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		if (p11uri_match_padded(u->has_token, u->token, ti.label,
		    sizeof(ti.label)) &&
		    p11uri_match_padded(u->has_manufacturer, u->manufacturer,
		    ti.manufacturerID, sizeof(ti.manufacturerID)) &&
		    p11uri_match_padded(u->has_model, u->model, ti.model,
		    sizeof(ti.model)) &&
		    p11uri_match_padded(u->has_serial, u->serial,
		    ti.serialNumber, sizeof(ti.serialNumber))) {
			*out = slots[i];
			found++;
		}
	}
	if (found != 1) {
		snprintf(err, errlen, "PKCS#11: %s token matches the URI",
		    found == 0 ? "no" : "more than one");
		return -1;
	}
	return 0;
}

/* Open a read-write session on the URI's token and log in as the user. */
static int
open_session(const struct p11uri *u, const char *pin_path,
    struct p11key *k, char *err, size_t errlen)
{
	unsigned char *pin = NULL;
	size_t pinlen = 0;
	CK_SLOT_ID slot;
	CK_RV rv;

	if (mod.f == NULL) {
		snprintf(err, errlen, "PKCS#11: no module configured "
		    "(pki.pkcs11_module)");
		return -1;
	}
	if (find_slot(u, &slot, err, errlen) < 0)
		return -1;
	rv = mod.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &k->session);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_OpenSession", rv);
		return -1;
	}
	if (pin_path == NULL || pin_path[0] != '/') {
		snprintf(err, errlen, "PKCS#11: pki.pkcs11_pin_file is not "
		    "configured");
		return -1;
	}
	if (keyfile_read_secret(pin_path, "PIN file", PIN_MAX, &pin, &pinlen,
	    err, errlen) < 0)
		return -1;
	while (pinlen > 0 && (pin[pinlen - 1] == '\n' ||
	    pin[pinlen - 1] == '\r'))
		pinlen--;
	if (pinlen == 0 || memchr(pin, '\n', pinlen) != NULL) {
		keyfile_free_secret(pin, pinlen);
		snprintf(err, errlen, "PKCS#11: the PIN file must hold one "
		    "non-empty line");
		return -1;
	}
	rv = mod.f->C_Login(k->session, CKU_USER, pin, pinlen);
	keyfile_free_secret(pin, pinlen);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rv_error(err, errlen, "C_Login", rv);
		return -1;
	}
	return 0;
}

/* Objects of class cls matching the URI's label and id: up to MAX_FOUND
 * handles in found[], their number in *n. */
static int
find_objects(struct p11key *k, const struct p11uri *u, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *found, CK_ULONG *n, char *err, size_t errlen)
{
	CK_ATTRIBUTE t[3];
	CK_ULONG nt = 0;
	CK_RV rv;

	t[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if (u->has_object)
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)(uintptr_t)u->object,
		    strlen(u->object) };
	if (u->idlen > 0)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, (void *)(uintptr_t)u->id,
		    u->idlen };
	rv = mod.f->C_FindObjectsInit(k->session, t, nt);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_FindObjectsInit", rv);
		return -1;
	}
	rv = mod.f->C_FindObjects(k->session, found, MAX_FOUND, n);
	(void)mod.f->C_FindObjectsFinal(k->session);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_FindObjects", rv);
		return -1;
	}
	return 0;
}

/* Read one attribute of obj into a malloc'd buffer. */
static int
get_attr(struct p11key *k, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **buf, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };

	*buf = NULL;
	*len = 0;
	if (mod.f->C_GetAttributeValue(k->session, obj, &a, 1) != CKR_OK ||
	    a.ulValueLen == 0 || a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > ATTR_MAX)
		return -1;
	if ((a.pValue = malloc(a.ulValueLen)) == NULL)
		return -1;
	if (mod.f->C_GetAttributeValue(k->session, obj, &a, 1) != CKR_OK) {
		free(a.pValue);
		return -1;
	}
	*buf = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

static EVP_PKEY *
rsa_pub(struct p11key *k)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pk = NULL;

	if (get_attr(k, k->priv, CKA_MODULUS, &n, &nl) < 0 ||
	    get_attr(k, k->priv, CKA_PUBLIC_EXPONENT, &e, &el) < 0)
		goto out;
	if ((bn = BN_bin2bn(n, (int)nl, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)el, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	pk = keyinfo_public_from_params("RSA", params);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pk;
}

/* CKA_EC_POINT is a DER OCTET STRING holding the point; some modules give
 * the bare point.  Locate the point in p[0..len). */
static int
ec_point(const unsigned char *p, size_t len, const unsigned char **pt,
    size_t *ptlen)
{
	size_t n, hl;

	if (len >= 2 && p[0] == 0x04) {
		if (p[1] < 0x80) {
			n = p[1];
			hl = 2;
		} else if (p[1] == 0x81 && len >= 3) {
			n = p[2];
			hl = 3;
		} else {
			n = 0;
			hl = 0;
		}
		if (hl > 0 && hl + n == len && n > 0 &&
		    (p[hl] == 0x04 || p[hl] == 0x02 || p[hl] == 0x03)) {
			*pt = p + hl;
			*ptlen = n;
			return 0;
		}
		*pt = p;          /* an uncompressed point itself */
		*ptlen = len;
		return 0;
	}
	return -1;
}

static EVP_PKEY *
ec_pub(struct p11key *k, const struct p11uri *u)
{
	unsigned char *par = NULL, *point = NULL;
	const unsigned char *pt;
	size_t parl, pointl, ptl;
	CK_OBJECT_HANDLE pubs[MAX_FOUND];
	CK_ULONG np = 0;
	const char *group;
	OSSL_PARAM params[3];
	EVP_PKEY *pk = NULL;
	char err[64];

	if (get_attr(k, k->priv, CKA_EC_PARAMS, &par, &parl) < 0)
		goto out;
	if (parl == sizeof(oid_p256) && memcmp(par, oid_p256, parl) == 0)
		group = "P-256";
	else if (parl == sizeof(oid_p384) && memcmp(par, oid_p384, parl) == 0)
		group = "P-384";
	else
		goto out;
	/* The point lives on the public key object of the same label/id. */
	if (find_objects(k, u, CKO_PUBLIC_KEY, pubs, &np, err,
	    sizeof(err)) < 0 || np != 1 ||
	    get_attr(k, pubs[0], CKA_EC_POINT, &point, &pointl) < 0 ||
	    ec_point(point, pointl, &pt, &ptl) < 0)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)(uintptr_t)pt, ptl);
	params[2] = OSSL_PARAM_construct_end();
	pk = keyinfo_public_from_params("EC", params);
out:
	free(par);
	free(point);
	return pk;
}

/* Raw C_Sign of in[0..inlen) with mechanism mech; *out malloc'd. */
static int
token_sign(struct p11key *k, CK_MECHANISM_TYPE mech, unsigned char *in,
    size_t inlen, unsigned char **out, size_t *outlen, char *err,
    size_t errlen)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_ULONG n = 0;
	unsigned char *buf;
	CK_RV rv;

	*out = NULL;
	rv = mod.f->C_SignInit(k->session, &m, k->priv);
	if (rv == CKR_OK)
		rv = mod.f->C_Sign(k->session, in, inlen, NULL, &n);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_Sign", rv);
		return -1;
	}
	if (n == 0 || n > ATTR_MAX || (buf = malloc(n)) == NULL) {
		/* The operation is still active: end it with a failing call. */
		(void)mod.f->C_Sign(k->session, in, inlen, NULL, NULL);
		snprintf(err, errlen, "PKCS#11 C_Sign: bad signature length");
		return -1;
	}
	rv = mod.f->C_Sign(k->session, in, inlen, buf, &n);
	if (rv != CKR_OK) {
		free(buf);
		rv_error(err, errlen, "C_Sign", rv);
		return -1;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* r||s (two halves of equal length) as a DER ECDSA-Sig-Value. */
static int
ecdsa_der(const unsigned char *rs, size_t len, unsigned char **out,
    size_t *outlen)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = NULL, *ss = NULL;
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	if (s == NULL || len == 0 || len % 2 != 0 ||
	    (r = BN_bin2bn(rs, (int)(len / 2), NULL)) == NULL ||
	    (ss = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL)) == NULL ||
	    !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		ECDSA_SIG_free(s);
		return -1;
	}
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -1;
	*out = malloc((size_t)n);
	if (*out != NULL)
		memcpy(*out, der, (size_t)n);
	OPENSSL_free(der);
	*outlen = (size_t)n;
	return *out != NULL ? 0 : -1;
}

int
p11_sign(struct p11key *k, const EVP_MD *md, const unsigned char *tbs,
    size_t tbslen, unsigned char **sig, size_t *siglen, char *err,
    size_t errlen)
{
	unsigned char in[sizeof(sha256_prefix) + EVP_MAX_MD_SIZE];
	unsigned char *raw = NULL;
	unsigned int dl = 0;
	size_t rawlen = 0, pre = 0;
	int rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (k->type == CKK_RSA) {
		if (EVP_MD_get_type(md) != NID_sha256) {
			snprintf(err, errlen, "PKCS#11: RSA signs with SHA-256");
			return -1;
		}
		memcpy(in, sha256_prefix, sizeof(sha256_prefix));
		pre = sizeof(sha256_prefix);
	}
	if (EVP_Digest(tbs, tbslen, in + pre, &dl, md, NULL) != 1) {
		snprintf(err, errlen, "PKCS#11: digest failed");
		goto out;
	}
	if (token_sign(k, k->type == CKK_RSA ? CKM_RSA_PKCS : CKM_ECDSA, in,
	    pre + dl, &raw, &rawlen, err, errlen) < 0)
		goto out;
	if (k->type == CKK_RSA) {
		*sig = raw;
		*siglen = rawlen;
		raw = NULL;
	} else if (ecdsa_der(raw, rawlen, sig, siglen) < 0) {
		snprintf(err, errlen, "PKCS#11: malformed ECDSA signature");
		goto out;
	}
	rc = 0;
out:
	free(raw);
	OPENSSL_cleanse(in, sizeof(in));
	ERR_clear_error();
	return rc;
}

/* Sign a fixed test digest on the token and verify it with pub. */
static int
pair_check(struct p11key *k, EVP_PKEY *pub, char *err, size_t errlen)
{
	static const unsigned char probe[] = "provd CA key pair check";
	EVP_MD_CTX *c = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct sigalg alg;
	int rc = -1;

	if (sigalg_for_key(pub, &alg, err, errlen) < 0 ||
	    p11_sign(k, alg.md, probe, sizeof(probe), &sig, &siglen, err,
	    errlen) < 0)
		goto out;
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(c, NULL, alg.md, NULL, pub) != 1 ||
	    EVP_DigestVerify(c, sig, siglen, probe, sizeof(probe)) != 1) {
		snprintf(err, errlen, "PKCS#11: the token's signature does not "
		    "verify with the key's public half");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(c);
	free(sig);
	return rc;
}

/* Check the public key is one a CA may have (as keyfile_check_ca_key). */
static int
check_ca_pub(EVP_PKEY *pub, char *err, size_t errlen)
{
	struct keyinfo ki;

	if (keyinfo_get(pub, &ki, err, errlen) < 0)
		return -1;
	if (ki.type == KEYINFO_RSA && ki.bits >= 3072 && ki.bits <= 16384)
		return 0;
	if (ki.type == KEYINFO_EC && (ki.curve_nid == NID_X9_62_prime256v1 ||
	    ki.curve_nid == NID_secp384r1))
		return 0;
	snprintf(err, errlen, "PKCS#11: the token key is not RSA 3072..16384 "
	    "bits or EC P-256/P-384");
	return -1;
}

/* With k->session open and logged in: find the key, read its public half,
 * check the pair. */
static int
attach(struct p11key *k, const struct p11uri *u, EVP_PKEY **pub, char *err,
    size_t errlen)
{
	CK_OBJECT_HANDLE found[MAX_FOUND];
	CK_ULONG n = 0;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	EVP_PKEY *pk;

	*pub = NULL;
	if (find_objects(k, u, CKO_PRIVATE_KEY, found, &n, err, errlen) < 0)
		return -1;
	if (n != 1) {
		snprintf(err, errlen, "PKCS#11: %s private key matches the URI",
		    n == 0 ? "no" : "more than one");
		return -1;
	}
	k->priv = found[0];
	if (mod.f->C_GetAttributeValue(k->session, k->priv, &a, 1) != CKR_OK ||
	    (kt != CKK_RSA && kt != CKK_EC)) {
		snprintf(err, errlen, "PKCS#11: the key is neither RSA nor EC");
		return -1;
	}
	k->type = kt;
	pk = kt == CKK_RSA ? rsa_pub(k) : ec_pub(k, u);
	if (pk == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "PKCS#11: cannot read the key's public "
		    "half (RSA, or EC P-256/P-384 with its public key object)");
		return -1;
	}
	if (check_ca_pub(pk, err, errlen) < 0 ||
	    pair_check(k, pk, err, errlen) < 0) {
		EVP_PKEY_free(pk);
		return -1;
	}
	*pub = pk;
	return 0;
}

static struct p11key *
key_new(void)
{
	struct p11key *k = calloc(1, sizeof(*k));

	if (k != NULL)
		k->session = CK_INVALID_HANDLE;
	return k;
}

int
p11_key_load(const char *uri, const char *pin_path, struct p11key **key,
    EVP_PKEY **pub, char *err, size_t errlen)
{
	struct p11uri u;
	struct p11key *k;

	*key = NULL;
	*pub = NULL;
	if (p11uri_parse(uri, &u, err, errlen) < 0)
		return -1;
	if ((k = key_new()) == NULL) {
		snprintf(err, errlen, "PKCS#11: out of memory");
		return -1;
	}
	if (open_session(&u, pin_path, k, err, errlen) < 0 ||
	    attach(k, &u, pub, err, errlen) < 0) {
		p11_key_free(k);
		return -1;
	}
	*key = k;
	return 0;
}

int
p11_key_generate(const char *uri, const char *pin_path, enum keyfile_type t,
    struct p11key **key, EVP_PKEY **pub, char *err, size_t errlen)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE f4[] = { 0x01, 0x00, 0x01 };
	CK_OBJECT_HANDLE found[MAX_FOUND], hpub, hpriv;
	CK_ULONG n = 0, bits = 0, npub = 0, npriv = 0;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[8], kt[10];
	const unsigned char *oid = NULL;
	size_t oidlen = 0;
	struct p11uri u;
	struct p11key *k;
	CK_RV rv;

	*key = NULL;
	*pub = NULL;
	if (p11uri_parse(uri, &u, err, errlen) < 0)
		return -1;
	switch (t) {
	case KEYFILE_EC_P256: oid = oid_p256; oidlen = sizeof(oid_p256); break;
	case KEYFILE_EC_P384: oid = oid_p384; oidlen = sizeof(oid_p384); break;
	case KEYFILE_RSA_3072: bits = 3072; break;
	case KEYFILE_RSA_4096: bits = 4096; break;
	default:
		snprintf(err, errlen, "PKCS#11: unknown key type");
		return -1;
	}
	if (!u.has_object) {
		snprintf(err, errlen, "PKCS#11 URI: a new key needs a label "
		    "(object=)");
		return -1;
	}
	if ((k = key_new()) == NULL) {
		snprintf(err, errlen, "PKCS#11: out of memory");
		return -1;
	}
	if (open_session(&u, pin_path, k, err, errlen) < 0 ||
	    find_objects(k, &u, CKO_PRIVATE_KEY, found, &n, err, errlen) < 0)
		goto fail;
	if (n != 0) {
		snprintf(err, errlen, "PKCS#11: a private key matching the URI "
		    "exists already; provd never replaces a CA key");
		goto fail;
	}
	if (u.idlen == 0) {
		if (RAND_bytes(u.id, GEN_ID_LEN) != 1) {
			snprintf(err, errlen, "PKCS#11: no random id");
			goto fail;
		}
		u.idlen = GEN_ID_LEN;
	}
	pt[npub++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	pt[npub++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
	pt[npub++] = (CK_ATTRIBUTE){ CKA_LABEL, u.object, strlen(u.object) };
	pt[npub++] = (CK_ATTRIBUTE){ CKA_ID, u.id, u.idlen };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof(no) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof(yes) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &no, sizeof(no) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_LABEL, u.object, strlen(u.object) };
	kt[npriv++] = (CK_ATTRIBUTE){ CKA_ID, u.id, u.idlen };
	if (bits != 0) {
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		pt[npub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits,
		    sizeof(bits) };
		pt[npub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, f4,
		    sizeof(f4) };
	} else {
		pt[npub++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
		    (void *)(uintptr_t)oid, oidlen };
	}
	rv = mod.f->C_GenerateKeyPair(k->session, &mech, pt, npub, kt, npriv,
	    &hpub, &hpriv);
	if (rv != CKR_OK) {
		rv_error(err, errlen, "C_GenerateKeyPair", rv);
		goto fail;
	}
	u.has_object = true;
	if (attach(k, &u, pub, err, errlen) < 0) {
		(void)mod.f->C_DestroyObject(k->session, hpriv);
		(void)mod.f->C_DestroyObject(k->session, hpub);
		goto fail;
	}
	*key = k;
	return 0;
fail:
	p11_key_free(k);
	return -1;
}

void
p11_key_free(struct p11key *k)
{
	if (k == NULL)
		return;
	/* No C_Logout: the login belongs to the application, and another
	 * key may still use it; closing the last session ends it. */
	if (mod.f != NULL && k->session != CK_INVALID_HANDLE)
		(void)mod.f->C_CloseSession(k->session);
	free(k);
}
