/*
 * certgen.c — to-be-signed certificates (see certgen.h).
 */
#include "certgen.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "dn.h"
#include "keyinfo.h"
#include "pkitime.h"
#include "serial.h"

#define KEYID_LEN 20   /* SHA-1, RFC 5280 §4.2.1.2 method (1) */

static int
check_url(const char *url, const char *field, char *err, size_t errlen)
{
	size_t n = strnlen(url, CERTGEN_URL_MAX + 1), i;

	if (n == 0 || n > CERTGEN_URL_MAX) {
		snprintf(err, errlen, "%s: empty or longer than %d", field,
		    CERTGEN_URL_MAX);
		return -1;
	}
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "ldap://", 7) != 0) {
		snprintf(err, errlen, "%s: must start with http://, https:// "
		    "or ldap://", field);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f) {
			snprintf(err, errlen, "%s: spaces, control and "
			    "non-ASCII characters must be %%-encoded", field);
			return -1;
		}
	}
	return 0;
}

static int
check_mail(const char *mail, char *err, size_t errlen)
{
	size_t n, i, at = 0, nat = 0;

	if (mail == NULL || *mail == '\0') {
		snprintf(err, errlen, "mail: required by the profile "
		    "(subjectAltName email)");
		return -1;
	}
	n = strnlen(mail, CERTGEN_MAIL_MAX + 1);
	if (n > CERTGEN_MAIL_MAX) {
		snprintf(err, errlen, "mail: longer than %d", CERTGEN_MAIL_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)mail[i];

		if (c == '@') {
			at = i;
			nat++;
		} else if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"",
		    c) != NULL) {
			snprintf(err, errlen, "mail: not a plain ASCII address "
			    "(character %zu)", i + 1);
			return -1;
		}
	}
	if (nat != 1 || at == 0 || at == n - 1 || at > 64) {
		snprintf(err, errlen, "mail: not of the form local@domain");
		return -1;
	}
	return 0;
}

static int
keyid_of(X509 *x, unsigned char md[KEYID_LEN])
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
	unsigned int n = 0;

	if (bits == NULL)
		return -1;
	if (EVP_Digest(ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits), md, &n, EVP_sha1(), NULL) != 1 ||
	    n != KEYID_LEN)
		return -1;
	return 0;
}

/* Add the extension nid, DER-encoded from value, to x.  value NULL means
 * building it failed; either way the message names the extension. */
static int
add_ext(X509 *x, int nid, bool critical, void *value, const char *name,
    char *err, size_t errlen)
{
	if (value == NULL ||
	    !X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT)) {
		snprintf(err, errlen, "certificate: cannot add %s", name);
		return -1;
	}
	return 0;
}

/* A new octet string holding the key identifier of x's public key. */
static ASN1_OCTET_STRING *
keyid_new(X509 *x)
{
	unsigned char md[KEYID_LEN];
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

	if (os == NULL || keyid_of(x, md) < 0 ||
	    !ASN1_OCTET_STRING_set(os, md, KEYID_LEN)) {
		ASN1_OCTET_STRING_free(os);
		return NULL;
	}
	return os;
}

static int
add_ski(X509 *x, char *err, size_t errlen)
{
	ASN1_OCTET_STRING *os = keyid_new(x);
	int rc = add_ext(x, NID_subject_key_identifier, false, os,
	    "subjectKeyIdentifier", err, errlen);

	ASN1_OCTET_STRING_free(os);
	return rc;
}

/* AKI keyid = the issuer's SKI (or a hash of its key when it has none). */
static AUTHORITY_KEYID *
aki_new(X509 *issuer)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

	if (akid == NULL)
		return NULL;
	akid->keyid = ski != NULL ? ASN1_OCTET_STRING_dup(ski) :
	    keyid_new(issuer);
	if (akid->keyid == NULL) {
		AUTHORITY_KEYID_free(akid);
		return NULL;
	}
	return akid;
}

static int
add_aki(X509 *x, X509 *issuer, char *err, size_t errlen)
{
	AUTHORITY_KEYID *akid = aki_new(issuer);
	int rc = add_ext(x, NID_authority_key_identifier, false, akid,
	    "authorityKeyIdentifier", err, errlen);

	AUTHORITY_KEYID_free(akid);
	return rc;
}

static BASIC_CONSTRAINTS *
basic_constraints_new(int ca, int pathlen)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();

	if (bc == NULL)
		return NULL;
	bc->ca = ca ? 0xff : 0;
	if (ca && pathlen >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (bc->pathlen == NULL ||
		    !ASN1_INTEGER_set(bc->pathlen, pathlen)) {
			BASIC_CONSTRAINTS_free(bc);
			return NULL;
		}
	}
	return bc;
}

static int
add_basic_constraints(X509 *x, bool ca, int pathlen, char *err,
    size_t errlen)
{
	BASIC_CONSTRAINTS *bc = basic_constraints_new(ca, pathlen);
	int rc = add_ext(x, NID_basic_constraints, true, bc, "basicConstraints",
	    err, errlen);

	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

static ASN1_BIT_STRING *
key_usage_new(unsigned ku)
{
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	int n;

	if (bs == NULL)
		return NULL;
	for (n = 0; n < 8; n++)
		if ((ku & (0x80u >> n)) && !ASN1_BIT_STRING_set_bit(bs, n, 1))
			goto fail;
	if ((ku & KU_DECIPHER_ONLY) && !ASN1_BIT_STRING_set_bit(bs, 8, 1))
		goto fail;
	return bs;
fail:
	ASN1_BIT_STRING_free(bs);
	return NULL;
}

static int
add_key_usage(X509 *x, unsigned ku, char *err, size_t errlen)
{
	ASN1_BIT_STRING *bs = key_usage_new(ku);
	int rc = add_ext(x, NID_key_usage, true, bs, "keyUsage", err, errlen);

	ASN1_BIT_STRING_free(bs);
	return rc;
}

static EXTENDED_KEY_USAGE *
eku_new(const struct profile *prof)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	size_t i;

	if (eku == NULL)
		return NULL;
	for (i = 0; i < prof->neku; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(prof->eku[i], 1);

		if (o == NULL || !sk_ASN1_OBJECT_push(eku, o)) {
			ASN1_OBJECT_free(o);
			sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
			return NULL;
		}
	}
	return eku;
}

/* certificatePolicies (non-critical): the profile's policy identifiers,
 * without qualifiers.  Nothing when the profile names none. */
static int
add_policies(X509 *x, const struct profile *prof, char *err, size_t errlen)
{
	CERTIFICATEPOLICIES *cp;
	POLICYINFO *pi;
	size_t i;
	int rc;

	if (prof->npolicies == 0)
		return 0;
	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		goto nomem;
	for (i = 0; i < prof->npolicies; i++) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto nomem;
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(prof->policies[i], 1);
		if (pi->policyid == NULL || !sk_POLICYINFO_push(cp, pi)) {
			POLICYINFO_free(pi);
			goto nomem;
		}
	}
	rc = add_ext(x, NID_certificate_policies, false, cp, "certificatePolicies",
	    err, errlen);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return rc;
nomem:
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	snprintf(err, errlen, "certificate: cannot add certificatePolicies");
	return -1;
}

static int
add_eku(X509 *x, const struct profile *prof, char *err, size_t errlen)
{
	EXTENDED_KEY_USAGE *eku;
	int rc;

	if (prof->neku == 0)
		return 0;
	eku = eku_new(prof);
	rc = add_ext(x, NID_ext_key_usage, false, eku, "extendedKeyUsage", err,
	    errlen);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

static GENERAL_NAME *
ia5_name(int type, const char *s)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (gn == NULL || ia5 == NULL ||
	    !ASN1_STRING_set(ia5, s, (int)strlen(s))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, ia5);
	return gn;
}

/* A one-name list; takes gn (NULL: building it failed). */
static GENERAL_NAMES *
general_names_of(GENERAL_NAME *gn)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

	if (gens == NULL || gn == NULL || !sk_GENERAL_NAME_push(gens, gn)) {
		GENERAL_NAME_free(gn);
		GENERAL_NAMES_free(gens);
		return NULL;
	}
	return gens;
}

static int
add_san_email(X509 *x, const char *mail, char *err, size_t errlen)
{
	GENERAL_NAMES *gens = general_names_of(ia5_name(GEN_EMAIL, mail));
	int rc = add_ext(x, NID_subject_alt_name, false, gens, "subjectAltName",
	    err, errlen);

	GENERAL_NAMES_free(gens);
	return rc;
}

static CRL_DIST_POINTS *
crl_dp_new(const char *url)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();

	if (dps == NULL || dp == NULL)
		goto fail;
	dp->distpoint = DIST_POINT_NAME_new();
	if (dp->distpoint == NULL)
		goto fail;
	dp->distpoint->type = 0;    /* fullName */
	dp->distpoint->name.fullname =
	    general_names_of(ia5_name(GEN_URI, url));
	if (dp->distpoint->name.fullname == NULL ||
	    !sk_DIST_POINT_push(dps, dp))
		goto fail;
	return dps;
fail:
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return NULL;
}

static int
add_crl_dp(X509 *x, const char *url, char *err, size_t errlen)
{
	CRL_DIST_POINTS *dps = crl_dp_new(url);
	int rc = add_ext(x, NID_crl_distribution_points, false, dps,
	    "cRLDistributionPoints", err, errlen);

	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return rc;
}

static int
push_access(AUTHORITY_INFO_ACCESS *aia, int method, const char *url)
{
	ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();

	if (ad == NULL)
		return -1;
	GENERAL_NAME_free(ad->location);
	ad->location = ia5_name(GEN_URI, url);
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(method);
	if (ad->location == NULL || ad->method == NULL ||
	    !sk_ACCESS_DESCRIPTION_push(aia, ad)) {
		ACCESS_DESCRIPTION_free(ad);
		return -1;
	}
	return 0;
}

static AUTHORITY_INFO_ACCESS *
aia_new(const char *ocsp, const char *issuers)
{
	AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();

	if (aia == NULL)
		return NULL;
	if ((ocsp != NULL && push_access(aia, NID_ad_OCSP, ocsp) < 0) ||
	    (issuers != NULL && push_access(aia, NID_ad_ca_issuers,
	    issuers) < 0)) {
		sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
		return NULL;
	}
	return aia;
}

static int
add_aia(X509 *x, const char *ocsp, const char *issuers, char *err,
    size_t errlen)
{
	AUTHORITY_INFO_ACCESS *aia;
	int rc;

	if (ocsp == NULL && issuers == NULL)
		return 0;
	aia = aia_new(ocsp, issuers);
	rc = add_ext(x, NID_info_access, false, aia, "authorityInfoAccess", err,
	    errlen);
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return rc;
}

static int
set_serial(X509 *x, char *err, size_t errlen)
{
	struct serial s;
	ASN1_INTEGER *ai;
	bool ok;

	if (serial_random(&s, err, errlen) < 0)
		return -1;
	ai = serial_to_asn1(&s);
	ok = ai != NULL && X509_set_serialNumber(x, ai);
	ASN1_INTEGER_free(ai);
	if (!ok) {
		snprintf(err, errlen, "certificate: cannot set serial number");
		return -1;
	}
	return 0;
}

static int
set_validity(X509 *x, time_t nb, time_t na, char *err, size_t errlen)
{
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, nb);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, na);
	bool ok = t1 != NULL && t2 != NULL && X509_set1_notBefore(x, t1) &&
	    X509_set1_notAfter(x, t2);

	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	if (!ok) {
		snprintf(err, errlen, "certificate: cannot set validity");
		return -1;
	}
	return 0;
}

/*
 * The subject public key.  X509_set_pubkey() encodes the key with OpenSSL's
 * encoders and decodes it again with its decoders, which costs more than
 * the rest of the certificate; for EC keys the algorithm (id-ecPublicKey,
 * the named curve) and the point are set directly.  Other keys take the
 * general path.  0, or -1 (out of memory).
 */
static int
set_pubkey(X509 *x, EVP_PKEY *pub)
{
	char group[64];
	unsigned char point[160], *enc;
	size_t glen = 0, plen = 0;
	int nid;

	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
	    sizeof(group), &glen) ||
	    (nid = keyinfo_curve_nid(group)) == NID_undef ||
	    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point,
	    sizeof(point), &plen) || plen == 0)
		return X509_set_pubkey(x, pub) ? 0 : -1;
	if ((enc = OPENSSL_memdup(point, plen)) == NULL)
		return -1;
	/* Both objects are OpenSSL's static ones: nothing to free. */
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
	    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT, OBJ_nid2obj(nid),
	    enc, (int)plen)) {
		OPENSSL_free(enc);
		return -1;
	}
	return 0;
}

/* *na = want, cut at the CA certificate's notAfter; -1 when that leaves
 * nothing after now. */
static int
end_within_ca(X509 *cacert, time_t now, time_t want, time_t *na, char *err,
    size_t errlen)
{
	time_t ca_na;

	if (pkitime_from_asn1(X509_get0_notAfter(cacert), &ca_na) < 0) {
		snprintf(err, errlen, "CA certificate: unreadable notAfter");
		return -1;
	}
	*na = want > ca_na ? ca_na : want;
	if (*na <= now) {
		snprintf(err, errlen, "CA certificate has expired or expires "
		    "now: renew the CA first");
		return -1;
	}
	return 0;
}

int
certgen_person(const struct certgen_ca *ca,
    const struct certgen_person *person, const struct profile *prof,
    EVP_PKEY *pub, time_t now, X509 **out, char *err, size_t errlen)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	time_t nb, na;
	unsigned ku;
	int rc = -1;

	*out = NULL;
	if (ca == NULL || ca->cert == NULL || person == NULL ||
	    prof == NULL || pub == NULL) {
		snprintf(err, errlen, "certificate: missing CA, person, "
		    "profile or key");
		goto out;
	}
	if (now == 0)
		now = time(NULL);
	if (person->full_name == NULL || *person->full_name == '\0') {
		snprintf(err, errlen, "full name: empty");
		goto out;
	}
	if (prof->email_san && check_mail(person->mail, err, errlen) < 0)
		goto out;
	if (ca->crl_url != NULL && check_url(ca->crl_url, "crl_url", err,
	    errlen) < 0)
		goto out;
	if (ca->ocsp_url != NULL && check_url(ca->ocsp_url, "ocsp_url", err,
	    errlen) < 0)
		goto out;
	if (ca->ca_issuers_url != NULL && check_url(ca->ca_issuers_url,
	    "ca_issuers_url", err, errlen) < 0)
		goto out;
	if (profile_key_usage(prof, pub, &ku, err, errlen) < 0)
		goto out;

	subj = X509_NAME_new();
	if (subj == NULL)
		goto nomem;
	if (dn_add(subj, NID_countryName, ca->country, "country", err,
	    errlen) < 0 ||
	    dn_add(subj, NID_organizationName, ca->organization,
	    "organization", err, errlen) < 0)
		goto out;
	if (person->unit_name != NULL && *person->unit_name != '\0' &&
	    dn_add(subj, NID_organizationalUnitName, person->unit_name,
	    "unit name", err, errlen) < 0)
		goto out;
	if (dn_add(subj, NID_commonName, person->full_name, "full name", err,
	    errlen) < 0)
		goto out;
	if (person->employee_id != NULL && dn_add(subj, NID_serialNumber,
	    person->employee_id, "employee id", err, errlen) < 0)
		goto out;

	nb = now - CERTGEN_SKEW_SECONDS;
	if (end_within_ca(ca->cert, now, now + (time_t)prof->validity_days * 86400,
	    &na, err, errlen) < 0)
		goto out;

	x = X509_new();
	if (x == NULL)
		goto nomem;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !X509_set_subject_name(x, subj) || set_pubkey(x, pub) < 0)
		goto nomem;
	if (set_serial(x, err, errlen) < 0 ||
	    set_validity(x, nb, na, err, errlen) < 0 ||
	    add_basic_constraints(x, false, -1, err, errlen) < 0 ||
	    add_key_usage(x, ku, err, errlen) < 0 ||
	    add_eku(x, prof, err, errlen) < 0 ||
	    add_policies(x, prof, err, errlen) < 0 ||
	    add_ski(x, err, errlen) < 0 ||
	    add_aki(x, ca->cert, err, errlen) < 0)
		goto out;
	if (prof->email_san && add_san_email(x, person->mail, err,
	    errlen) < 0)
		goto out;
	if (ca->crl_url != NULL && add_crl_dp(x, ca->crl_url, err,
	    errlen) < 0)
		goto out;
	if (add_aia(x, ca->ocsp_url, ca->ca_issuers_url, err, errlen) < 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "certificate: out of memory");
out:
	ERR_clear_error();
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}

int
certgen_ca(const char *subject, unsigned days, EVP_PKEY *ca_pub,
    time_t now, X509 **out, char *err, size_t errlen)
{
	X509_NAME *name = NULL;
	X509 *x = NULL;
	int rc = -1;

	*out = NULL;
	if (ca_pub == NULL) {
		snprintf(err, errlen, "CA key: none loaded");
		goto out;
	}
	if (days < 1 || days > CERTGEN_CA_DAYS_MAX) {
		snprintf(err, errlen, "days: must be between 1 and %d",
		    CERTGEN_CA_DAYS_MAX);
		goto out;
	}
	if (now == 0)
		now = time(NULL);
	if (dn_parse(subject, &name, err, errlen) < 0)
		goto out;
	if (X509_NAME_get_index_by_NID(name, NID_commonName, -1) < 0) {
		snprintf(err, errlen, "subject: a CN is required");
		goto out;
	}
	x = X509_new();
	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, name) || !X509_set_subject_name(x, name) ||
	    !X509_set_pubkey(x, ca_pub)) {
		snprintf(err, errlen, "CA certificate: out of memory");
		goto out;
	}
	if (set_serial(x, err, errlen) < 0 ||
	    set_validity(x, now - CERTGEN_SKEW_SECONDS,
	    now + (time_t)days * 86400, err, errlen) < 0 ||
	    add_basic_constraints(x, true, 0, err, errlen) < 0 ||
	    add_key_usage(x, KU_KEY_CERT_SIGN | KU_CRL_SIGN, err, errlen) < 0 ||
	    add_ski(x, err, errlen) < 0 ||
	    add_aki(x, x, err, errlen) < 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	X509_free(x);
	return rc;
}

int
certgen_check_ca_pair(X509 *cacert, EVP_PKEY *pub, time_t now, char *err,
    size_t errlen)
{
	EVP_PKEY *cpub;
	uint32_t ku;

	if (cacert == NULL || pub == NULL) {
		snprintf(err, errlen, "CA certificate or key missing");
		return -1;
	}
	cpub = X509_get0_pubkey(cacert);
	if (cpub == NULL || EVP_PKEY_eq(cpub, pub) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "CA certificate does not match the CA "
		    "key (different public keys)");
		return -1;
	}
	if (X509_check_ca(cacert) != 1) {
		snprintf(err, errlen, "CA certificate: basicConstraints "
		    "CA:TRUE missing");
		return -1;
	}
	ku = X509_get_key_usage(cacert);
	if ((ku & KU_KEY_CERT_SIGN) == 0 || (ku & KU_CRL_SIGN) == 0) {
		snprintf(err, errlen, "CA certificate: keyUsage lacks "
		    "keyCertSign or cRLSign");
		return -1;
	}
	if (now == 0)
		now = time(NULL);
	if (X509_cmp_time(X509_get0_notAfter(cacert), &now) <= 0) {
		snprintf(err, errlen, "CA certificate has expired");
		return -1;
	}
	return 0;
}

int
certgen_ocsp_responder(const struct certgen_ca *ca, EVP_PKEY *pub,
    unsigned hours, time_t now, X509 **out, char *err, size_t errlen)
{
	static const char suffix[] = " OCSP Responder";
	X509_NAME *subj = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_NULL *nocheck = NULL;
	char cn[256];
	int cn_at, len;
	X509 *x = NULL;
	time_t na;
	int rc = -1;

	*out = NULL;
	if (ca == NULL || ca->cert == NULL || pub == NULL) {
		snprintf(err, errlen, "responder certificate: missing CA or key");
		goto out;
	}
	if (hours < 1 || hours > CERTGEN_OCSP_HOURS_MAX) {
		snprintf(err, errlen, "responder validity: 1..%d hours",
		    CERTGEN_OCSP_HOURS_MAX);
		goto out;
	}
	if (now == 0)
		now = time(NULL);
	/* CN: the CA's own CN with " OCSP Responder" (cut to 64 bytes). */
	cn_at = X509_NAME_get_index_by_NID(X509_get_subject_name(ca->cert),
	    NID_commonName, -1);
	len = cn_at < 0 ? -1 : X509_NAME_get_text_by_NID(
	    X509_get_subject_name(ca->cert), NID_commonName, cn, sizeof(cn));
	if (len < 0)
		snprintf(cn, sizeof(cn), "provd");
	if (strlen(cn) > 64 - (sizeof(suffix) - 1))
		cn[64 - (sizeof(suffix) - 1)] = '\0';
	strcat(cn, suffix);
	subj = X509_NAME_new();
	if (subj == NULL)
		goto nomem;
	if ((ca->country != NULL && dn_add(subj, NID_countryName, ca->country,
	    "country", err, errlen) < 0) ||
	    (ca->organization != NULL && dn_add(subj, NID_organizationName,
	    ca->organization, "organization", err, errlen) < 0) ||
	    dn_add(subj, NID_commonName, cn, "common name", err, errlen) < 0)
		goto out;
	if (end_within_ca(ca->cert, now, now + (time_t)hours * 3600, &na, err,
	    errlen) < 0)
		goto out;
	x = X509_new();
	eku = sk_ASN1_OBJECT_new_null();
	nocheck = ASN1_NULL_new();
	if (x == NULL || eku == NULL || nocheck == NULL ||
	    !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_OCSP_sign)) ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !X509_set_subject_name(x, subj) || set_pubkey(x, pub) < 0)
		goto nomem;
	if (set_serial(x, err, errlen) < 0 ||
	    set_validity(x, now - CERTGEN_SKEW_SECONDS, na, err, errlen) < 0 ||
	    add_basic_constraints(x, false, -1, err, errlen) < 0 ||
	    add_key_usage(x, KU_DIGITAL_SIGNATURE, err, errlen) < 0 ||
	    add_ext(x, NID_ext_key_usage, false, eku, "extendedKeyUsage", err,
	    errlen) < 0 ||
	    add_ext(x, NID_id_pkix_OCSP_noCheck, false, nocheck, "ocspNoCheck", err,
	    errlen) < 0 ||
	    add_ski(x, err, errlen) < 0 ||
	    add_aki(x, ca->cert, err, errlen) < 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "responder certificate: out of memory");
out:
	ERR_clear_error();
	/* OBJ_nid2obj objects are static: freeing them is a no-op. */
	sk_ASN1_OBJECT_free(eku);
	ASN1_NULL_free(nocheck);
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}
