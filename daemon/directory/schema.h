/*
 * schema — the directory's vocabulary, spelt once: attribute types and
 * object classes provd reads and writes, the states of an account and of a
 * certificate record with their names and filters, the login-or-address
 * filter, and what an LDAP result code means as a reply status.
 *
 * The types are inetOrgPerson (RFC 2798, RFC 4519), ppolicy
 * (pwdAccountLockedTime, pwdReset) and provd's own schema
 * (templates/schema/provd.ldif).  A new attribute gets its AT_ name here
 * and its line in the schema file; see docs/architecture.md.
 */
#ifndef PROVD_SCHEMA_H
#define PROVD_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <ldap.h>

/* ---- attribute types ---------------------------------------------------- */

#define AT_OBJECT_CLASS    "objectClass"
#define AT_UID             "uid"
#define AT_CN              "cn"
#define AT_OU              "ou"
#define AT_MAIL            "mail"
#define AT_MAIL_ALIAS      "mailLocalAddress"
#define AT_UNIT            "departmentNumber" /* the account's unit code */
#define AT_EMPLOYEE_ID     "employeeNumber"
#define AT_USER_CERT       "userCertificate;binary"
#define AT_LOCKED_TIME     "pwdAccountLockedTime" /* ppolicy */
#define AT_PWD_RESET       "pwdReset"             /* ppolicy */
#define AT_PWD_END_TIME    "pwdEndTime"           /* ppolicy: initial passwords */
#define AT_PASSWORD        "userPassword"
#define AT_DELETE_AFTER    "provdDeleteAfter"
#define AT_DISABLED_AT     "provdDisabledAt"
#define AT_DISABLED_REASON "provdDisabledReason"
#define AT_NAME_WORDS      "provdNameWords" /* cn's words folded (names_fold_words) */
#define AT_GIVEN_NAME      "givenName"
#define AT_SURNAME         "sn"
#define AT_DISPLAY_NAME    "displayName"
#define AT_TITLE           "title"
#define AT_PHONE           "telephoneNumber"
#define AT_MAIL_QUOTA      "provdMailQuota"
#define AT_DESCRIPTION     "description"
#define AT_STATE           "provdState"
#define AT_UNIT_KIND       "provdUnitKind"
#define AT_UNIT_PARENT     "provdUnitParent"
#define AT_UNIT_ALIAS      "provdUnitAlias" /* a merged unit's code, kept */

#define AT_CERT_SERIAL      "provdCertSerial"
#define AT_CERT_STATUS      "provdCertStatus"
#define AT_CERT_PROFILE     "provdCertProfile"
#define AT_CERT_NOT_BEFORE  "provdCertNotBefore"
#define AT_CERT_NOT_AFTER   "provdCertNotAfter"
#define AT_CERT_REASON      "provdCertReason"
#define AT_CERT_REVOKED_AT  "provdCertRevokedAt"
#define AT_CERT_INVALIDITY  "provdCertInvalidityDate"
#define AT_CERT_FINGERPRINT "provdCertFingerprint"
#define AT_CERT_PENDING     "provdCertPending"     /* CRL marker, see crl.h */
#define AT_CERT_HOLD_CAUSE  "provdCertHoldCause"   /* "account" or "officer" */
#define AT_CERT_KEY_HASH    "provdCertKeyHash"     /* SHA-256 of the SPKI, hex */
#define AT_CERT_KEY_SOURCE  "provdCertKeySource"   /* "office": made by provd-keygen */
#define AT_CERT_ISSUER      "provdCertIssuer"      /* issuer DN, RFC 2253 */
#define AT_KEY_ESCROW       "provdKeyEscrow"       /* CMS envelope, see escrow.h */
#define AT_CERT_RENEWS      "provdCertRenews"      /* predecessor's serial */
#define AT_CERT_RENEWED_BY  "provdCertRenewedBy"   /* successor's serial */
#define AT_CERT_SUPERSEDE   "provdCertSupersedeAt" /* revoke as superseded then */
#define AT_CERT_NOTIFIED    "provdCertNotified"    /* "DAYS TIME RCPTS", per notice */

#define AT_CA_CERT         "cACertificate;binary"
#define AT_CRL             "certificateRevocationList;binary"
#define AT_CRL_NUMBER      "provdCrlNumber"
#define AT_CRL_NEXT_UPDATE "provdCrlNextUpdate"
#define AT_CROSS_CERT_PAIR "crossCertificatePair;binary" /* a rollover's link, RFC 4523 */

#define CERT_KEY_SOURCE_OFFICE "office" /* the value of AT_CERT_KEY_SOURCE */
/* AT_CERT_RENEWED_BY of a certificate revoked by a move or a rollover's
 * --revoke-all --p12-dir whose successor
 * (a new key from the office) is owed: written with the revocation, replaced
 * by the successor's serial once it is recorded (see cert_lifecycle_move_reissue). */
#define CERT_SUCCESSOR_OWED "pending"
/* AT_CERT_NOTIFIED values of a certificate revoked by a move that is not
 * re-issued in the same run: its holder is owed a notice (notice.h), then
 * "moved sending" (claimed), then "moved TIME RCPTS" (sent). */
#define CERT_MOVED_NOTICE_OWED "moved owed"
#define CERT_MOVED_NOTICE      "moved"
/* AT_CERT_NOTIFIED values of a certificate re-issued with a new key the
 * office made (cert_reissue, cert_reissue_successor: a move's, a
 * rollover's or a renewal's --p12-dir): written with the record, its
 * holder is owed a notice that the PKCS#12 awaits pickup (notice.h), then
 * "p12 sending", then "p12 TIME RCPTS". */
#define CERT_P12_NOTICE_OWED "p12 owed"
#define CERT_P12_NOTICE      "p12"
/* The filter clause of a record revoked owing its successor (a move's or a
 * rollover's --revoke-all; certrec_owes_successor is the same test). */
#define CERT_OWED_CLAUSE                                                                           \
	"(&(" AT_CERT_STATUS "=revoked)(" AT_CERT_RENEWED_BY "=" CERT_SUCCESSOR_OWED "))"

/* ---- object classes ----------------------------------------------------- */

#define OC_PERSON      "inetOrgPerson"
#define OC_ACCOUNT     "provdAccount"
#define OC_UNIT        "provdUnit"
#define OC_CERTIFICATE "provdCertificate"
#define OC_ORG_UNIT    "organizationalUnit"
#define OC_APP_PROCESS "applicationProcess"
#define OC_PKI_CA      "pkiCA"
#define OC_CA          "provdCA"

/* ---- accounts ----------------------------------------------------------- */

/* pwdAccountLockedTime meaning "locked until an administrator unlocks":
 * with ppolicy's pwdLockout it blocks binds, and the mail servers' search
 * filters exclude it (docs/mailstack.md). */
#define SCHEMA_LOCKED_FOREVER "000001010000Z"
/* Entries locked that way (disabled or deleted accounts). */
#define SCHEMA_FILTER_LOCKED "(" AT_LOCKED_TIME "=" SCHEMA_LOCKED_FOREVER ")"

enum account_state {
	ACCOUNT_STATE_ACTIVE,
	ACCOUNT_STATE_DISABLED, /* locked forever */
	ACCOUNT_STATE_DELETED,  /* provdDeleteAfter set: purged after that */
};

/*
 * An account as a record (account_record: `user show`, `user list`,
 * `whois`): the attributes it reads, each at its index, NULL-terminated —
 * the one list those searches ask slapd for.  Every attribute here is a
 * field of the record (or decides its status): one nobody prints is not
 * asked for, so a listing of 100,000 accounts does not carry it.  A
 * listing of some fields asks for fewer: account_fields_attrs (account.h)
 * picks from this list the attributes of the fields printed.
 */
#define AT_CREATED "createTimestamp" /* operational (RFC 4512): the record's "created" */
enum schema_account_attr {
	SA_UID,
	SA_MAIL,
	SA_CN,
	SA_GIVEN,
	SA_SN,
	SA_EMPLOYEE,
	SA_UNIT,
	SA_TITLE,
	SA_PHONE,
	SA_ALIAS,
	SA_QUOTA,
	SA_LOCKED,
	SA_REASON,
	SA_DELETE,
	SA_CREATED,
	SA_N
};
extern const char *const schema_account_attrs[SA_N + 1];

/* "active", "disabled", "deleted". */
const char *account_state_name(enum account_state s);
/* The name back (exact, lower case).  0, or -1 for any other text. */
int account_state_parse(const char *name, enum account_state *out);
/* The state of a person entry read with AT_LOCKED_TIME and AT_DELETE_AFTER. */
enum account_state account_state_read(LDAP *ld, LDAPMessage *e);
/* An LDAP filter component (to AND with others) matching the state. */
const char *account_state_filter(enum account_state s);

/*
 * The filter finding a person by login, mail or alias (and, with
 * employee_id, by employee number): key is escaped here (RFC 4515).
 * 0, or -1 when key is longer than 254 bytes or out is too small.
 */
int schema_filter_person(const char *key, bool employee_id, char *out, size_t outsz);

/*
 * The filter component matching a name as people type it: every word of
 * name, folded (names_fold_words), is a word of the account's name
 * (provdNameWords=w), or with prefix starts one (provdNameWords=w*).
 * 0, or -1 when name folds to no word or out is too small.
 */
int schema_filter_name_words(const char *name, bool prefix, char *out, size_t outsz);

/* ---- certificate records ------------------------------------------------ */

enum cert_state {
	CERT_STATE_VALID,
	CERT_STATE_HOLD,
	CERT_STATE_REVOKED,
};

/* "valid", "hold", "revoked". */
const char *cert_state_name(enum cert_state s);
/* The name back, ignoring case as the directory matches provdCertStatus
 * (caseIgnoreMatch).  0, or -1 for any other text (or NULL). */
int cert_state_parse(const char *name, enum cert_state *out);

/* ---- results ------------------------------------------------------------ */

/* What an LDAP result code means as a reply status (ST_* in wire.h). */
int schema_status_of_ldap(int ldap_code);

#endif
