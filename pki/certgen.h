/*
 * certgen.h — build to-be-signed certificates: a staff member's (from the
 * account record, a profile and the CA) and the CA's own self-signed one.
 * The result is unsigned; hand it to signer_sign_cert().
 */
#ifndef PROVD_PKI_CERTGEN_H
#define PROVD_PKI_CERTGEN_H

#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "profile.h"

#define CERTGEN_SKEW_SECONDS   300       /* notBefore = now - 5 min */
#define CERTGEN_URL_MAX        1024
#define CERTGEN_MAIL_MAX       254
#define CERTGEN_CA_DAYS_MAX    10950     /* 30 years */
#define CERTGEN_OCSP_HOURS_MAX (90 * 24)  /* a responder certificate: short */

/* The issuing side; all borrowed. */
struct certgen_ca {
	X509       *cert;            /* CA certificate */
	const char *country;         /* subject C of issued certificates */
	const char *organization;    /* subject O of issued certificates */
	const char *organization_identifier; /* organizationIdentifier of
	                                  Sponsor-validated ones (S/MIME BR
	                                  7.1.4.2.2 d, e.g. "GOVVN+70-..."),
	                                  or NULL */
	const char *crl_url;         /* NULL: no cRLDistributionPoints */
	const char *ocsp_url;        /* NULL: no OCSP access method */
	const char *ca_issuers_url;  /* NULL: no caIssuers access method */
};

/* The person, from the account record; all borrowed, UTF-8. */
struct certgen_person {
	const char *full_name;       /* CN */
	const char *unit_name;       /* OU; NULL or "" = omitted */
	const char *mail;            /* subjectAltName (when the profile says) */
	const char *employee_id;     /* NULL = omitted; else subject serialNumber */
};

/*
 * Build a v3 end-entity certificate for pub (already checked against prof
 * with csr_check_key): random 20-byte serial, issuer = CA subject, subject
 * C, O, OU, CN (+ serialNumber) — C as PrintableString, the others
 * UTF8String so Vietnamese diacritics survive — validity from now - 5 min
 * to now + prof->validity_days, cut at the CA's notAfter; extensions
 * basicConstraints CA:FALSE (critical), keyUsage (critical, from the
 * profile and key type), extendedKeyUsage, certificatePolicies (when the
 * profile names policies), SKI, AKI keyid, subjectAltName
 * email, cRLDistributionPoints and authorityInfoAccess when URLs are set.
 * now = 0 means time(NULL).  On success *out is a new X509 (caller frees)
 * and 0 is returned; else -1 with a message naming the bad field.
 */
int certgen_person(const struct certgen_ca *ca,
    const struct certgen_person *person, const struct profile *prof,
    EVP_PKEY *pub, time_t now, X509 **out, char *err, size_t errlen);

/*
 * Build the to-be-self-signed CA certificate: subject = issuer = the DN in
 * subject (dn_parse forms: "/C=VN/O=…/CN=…" or "CN=…,O=…,C=VN"; CN
 * required), validity now - 5 min to now + days (1..10950), random serial,
 * basicConstraints CA:TRUE pathlen:1 (critical: room for the one link
 * certificate of a rollover, certgen_link, below it — the signer refuses
 * every other CA:TRUE request, so the CA issues end-entity certificates
 * only), keyUsage keyCertSign, cRLSign (critical), SKI, AKI
 * keyid (= SKI).  Sign it with signer_sign_cert(..., SIGNER_SELF_SIGNED).
 * now = 0 means time(NULL).  Returns 0 with *out (caller frees) or -1.
 */
int certgen_ca(const char *subject, unsigned days, EVP_PKEY *ca_pub,
    time_t now, X509 **out, char *err, size_t errlen);

/*
 * Build the to-be-signed link certificate of a rollover: the new CA's
 * subject and public key, issued by old_ca (sign it with the old key's
 * signer, signer_sign_cert(..., SIGNER_LINK)), so a client that trusts
 * only the old CA builds a path old CA -> link -> a new CA's certificate.
 * Random serial; validity now - 5 min to the earlier of the two CAs'
 * notAfter; basicConstraints CA:TRUE pathlen:0 (critical), keyUsage
 * keyCertSign, cRLSign (critical), SKI (the new key's, as in new_ca), AKI
 * keyid (old_ca's).  now = 0 means time(NULL).  Returns 0 with *out
 * (caller frees) or -1 with a message (e.g. the old CA has expired).
 */
int certgen_link(X509 *old_ca, X509 *new_ca, time_t now, X509 **out,
    char *err, size_t errlen);

/*
 * For "ca import": check that cacert carries pub (EVP_PKEY_eq) and is
 * usable as this CA: basicConstraints CA:TRUE, keyCertSign and cRLSign
 * when keyUsage is present, not expired at now (0 = time(NULL)).  Returns
 * 0, or -1 with the reason.
 */
int certgen_check_ca_pair(X509 *cacert, EVP_PKEY *pub, time_t now,
    char *err, size_t errlen);

/*
 * Build the to-be-signed certificate of a delegated OCSP responder (the
 * built-in profile "ocsp-responder", RFC 6960 §4.2.2.2) for pub: issuer =
 * the CA, subject C, O (from ca, when set), CN = the CA's CN + " OCSP
 * Responder"; validity now - 5 min to now + hours (1..CERTGEN_OCSP_HOURS_MAX),
 * cut at the CA's notAfter; basicConstraints CA:FALSE (critical), keyUsage
 * digitalSignature (critical), extendedKeyUsage id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, SKI, AKI keyid.  No CRL or AIA pointers (nocheck:
 * clients do not check it).  now = 0 means time(NULL).  Returns 0 with *out
 * (caller frees; sign with signer_sign_cert) or -1 with a message.
 */
int certgen_ocsp_responder(const struct certgen_ca *ca, EVP_PKEY *pub,
    unsigned hours, time_t now, X509 **out, char *err, size_t errlen);

#endif
