/*
 * certrec — a certificate record in the directory: read, shown, found,
 * and moved between states, in one place for every certificate command.
 *
 * A record lives at provdCertSerial=<hex>,ou=certificates,ou=pki,<base>
 * (object class provdCertificate): serial, status (valid | hold | revoked),
 * login, employee id, unit, profile, validity, fingerprint, revocation
 * reason and times, and the certificate itself.  The record is the source
 * of truth; the account's userCertificate;binary (what S/MIME address books
 * read) carries exactly its valid certificates, and the CRL its held and
 * revoked ones.  Every change writes the record first, so a retry after a
 * failure finds the record in its new state and completes the rest.
 */
#ifndef PROVD_CERTREC_H
#define PROVD_CERTREC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <ldap.h>

#include "fingerprint.h"
#include "keyfile.h"
#include "names.h"
#include "profile.h"
#include "reason.h"
#include "schema.h"
#include "serial.h"
#include "units.h"

struct provd;
struct request;

#define CERTREC_KEY_HASH_LEN FINGERPRINT_HEX_LEN   /* provdCertKeyHash: SHA-256, hex */
#define CERTREC_NOTIFIED_MAX 1024  /* the provdCertNotified values, joined */

/* A record as read from the directory. */
struct certrec {
	char           serial[SERIAL_HEX_MAX + 1];
	char           status[16];    /* cert_state_name(state), or the text as stored */
	int            state;         /* enum cert_state, -1 when the text is none */
	char           login[NAMES_LOGIN_BUFSZ];
	char           employee_id[64];
	char           unit[UNIT_CODE_MAX];
	char           profile[PROFILE_NAME_MAX + 1];
	char           not_before[32], not_after[32];
	char           reason[REASON_NAME_MAX + 1];
	char           revoked_at[32], invalidity[32];
	char           fingerprint[FINGERPRINT_HEX_LEN + 1];
	char           hold_cause[16];   /* "account", "officer" or "" (before 0.2) */
	char           key_hash[CERTREC_KEY_HASH_LEN + 1];
	char           key_source[16];   /* CERT_KEY_SOURCE_OFFICE, or "" (a CSR) */
	char           renews[SERIAL_HEX_MAX + 1];      /* predecessor, "" if none */
	char           renewed_by[SERIAL_HEX_MAX + 1];  /* successor, "" if none */
	char           supersede_at[32];  /* due revocation as superseded, "" if none */
	char           notified[CERTREC_NOTIFIED_MAX];  /* expiry notices: "; "-joined */
	unsigned char *der;
	size_t         derlen;
	struct certrec *next;
};

/* The attributes certrec_read reads (a search's attribute list). */
extern const char *const certrec_attrs[];

/* Read one record entry.  Never NULL (out of memory is fatal); the caller
 * frees the list with certrec_free. */
struct certrec *certrec_read(LDAP *ld, LDAPMessage *e);
void certrec_free(struct certrec *r);

/* valid | hold | revoked | expired (a valid one past notAfter); now is a
 * GeneralizedTime (pkitime_format_ldap). */
const char *certrec_status(const struct certrec *r, const char *now);

/* One reply record for r: its fields, with chain its renewal links and
 * expiry notices (cert show), and the PEM when pem is true. */
void certrec_output(struct request *req, const struct certrec *c, bool pem, bool chain);

/* Whose key the office made (cert issue --generate, a re-issue): it is
 * replaced by a new one the office makes, delivered as PKCS #12. */
bool certrec_office_key(const struct certrec *c);

/* c was revoked owing its successor (certrec_revoke_owing) and the debt
 * is not settled yet: the one test for CERT_OWED_CLAUSE's records. */
bool certrec_owes_successor(const struct certrec *c);

/* The type of the new key that replaces c's: as c's (RSA -> rsa-3072,
 * else ec-p256, the two provd-keygen makes). */
enum keyfile_type certrec_new_key_type(const struct certrec *c);

/* True when a CA is loaded; otherwise finishes req ("no CA yet"). */
bool cert_need_ca(struct request *req);

/* status is ST_OK or an ST_* error; msg is valid only during the call. */
typedef void certrec_changed_fn(void *ctx, int status, const char *msg);
typedef void certrec_found_fn(void *ctx, int status, const char *msg, struct certrec *list);

/*
 * Move rec to state `to` with reason (for
 * hold/revoked) and invalidity (0 = none); a hold records who caused it
 * (hold_cause "account" or "officer"), any other state clears it.  Then the account's
 * userCertificate;binary.  rec is borrowed until done runs; done(ctx,
 * status, msg) runs once.  See certrec.c for the assertion and the CRL
 * marker.
 */
void certrec_change(struct provd *pd, struct certrec *rec, enum cert_state to, int reason,
                    time_t invalidity, const char *hold_cause, certrec_changed_fn *done,
                    void *ctx);

/* What a revocation owes, written in the same modify. */
enum certrec_mark {
	CERTREC_MARK_NONE,
	CERTREC_OWE_SUCCESSOR,  /* AT_CERT_RENEWED_BY = CERT_SUCCESSOR_OWED */
	CERTREC_OWE_NOTICE,     /* AT_CERT_NOTIFIED += CERT_MOVED_NOTICE_OWED (notice.h) */
};

/* certrec_change to revoked with reason, and in the same modify the
 * record marked with what it is owed (mark): the revocation and the debt
 * are durable together, so a restart between revocation and re-issue (or
 * the holder's notice) still finds the debt. */
void certrec_revoke_owing(struct provd *pd, struct certrec *rec, int reason, enum certrec_mark mark,
                          certrec_changed_fn *done, void *ctx);

/* Every record matching filter under ou=certificates; done gets the list
 * (owned by done: certrec_free) and runs once, from the loop. */
void certrec_find(struct provd *pd, const char *filter, certrec_found_fn *done, void *ctx);

/* Parse SERIAL as OpenSSL prints it into the record's filter and its hex
 * form.  0, or -1 after finishing req with ST_INVALID. */
int certrec_serial_filter(struct request *req, const char *text, char *filter, size_t len,
                          char hex[SERIAL_HEX_MAX + 1]);

/* The filter component matching records of unit (a code units_find knows:
 * nothing to escape) and, with recursive, of its sub-units, written to out;
 * its length (0 when len < 100; sub-units that do not fit are left out). */
size_t certrec_unit_filter(const struct units *us, const char *unit, bool recursive,
                           char *out, size_t len);

#endif
