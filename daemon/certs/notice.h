/*
 * notice — expiry notices: at each configured threshold before a valid
 * certificate's notAfter (notice.thresholds, default 30, 7 and 1 days)
 * its holder, and the admins of its unit when notice.unit_admins names
 * them, get one mail through the system's sendmail interface
 * (notice.sendmail, Postfix's by default; "" turns notices off).
 *
 * A certificate already renewed (provdCertRenewedBy) gets no notice.
 *
 * Once per threshold: a notice sent is recorded on the certificate record
 * (provdCertNotified: "THRESHOLD TIME RECIPIENTS"), so a restart or
 * another instance does not send it again.  A certificate first seen past
 * several thresholds (a short-lived one, or a notice missed while provd
 * was down) gets one notice, for the nearest; the farther ones count as
 * covered by it.  Before sendmail runs, the notice is claimed on the
 * record ("THRESHOLD sending", added: a second instance's add of the same
 * value fails, and a provd that is not the writer cannot add it), so two
 * instances never both send it; once sent the claim becomes the record.
 * A notice whose sendmail fails gives its claim back and is tried again at
 * the next sweep.  A provd killed while sendmail runs leaves the claim:
 * that notice is not sent again (at most once, never twice).
 *
 * The text comes from DAEMON.TEMPLATE_DIR/notice/expiry.vi.txt: a
 * "Subject:" line, a blank line, the body, with {placeholders} (see the
 * file); it is sent as UTF-8 text (MIME, the subject as RFC 2047 encoded
 * words).
 *
 * The same sweep mails the holder of each certificate a move revoked
 * without re-issuing it (marked CERT_MOVED_NOTICE_OWED with the
 * revocation, cert.c) once, at the account's address now, from
 * notice/moved.vi.txt (no such file: no such notices): claimed as
 * "moved sending", recorded as "moved TIME RECIPIENTS" with the mark
 * removed in the same write, exactly as the expiry notices.
 *
 * In the same way the holder of each certificate re-issued with a key the
 * office made (marked CERT_P12_NOTICE_OWED in the record's add,
 * cert_issue.c: a move's, a rollover's or a renewal's --p12-dir) is told
 * once that the new PKCS#12 awaits pickup at the office, from
 * notice/p12.vi.txt ("p12 sending", then "p12 TIME RECIPIENTS").
 *
 * The sweep runs every notice.sweep seconds from the loop; each
 * sendmail runs from the work pool (pd->hashers), never on the loop.
 */
#ifndef PROVD_NOTICE_H
#define PROVD_NOTICE_H

#include <stddef.h>

struct provd;

/* Read the template and start the sweep (main.c).  Notices off
 * (notice.sendmail "" or no thresholds) or no template: logs it, no sweep.
 * 0, or -1 when the template is there but unreadable or malformed. */
int notice_start(struct provd *pd);

/* Fill tpl's {name} placeholders from vars (pairs: name, value, ...,
 * NULL); an unknown placeholder stays as it is.  CR and LF in values
 * become spaces.  0, or -1 when out is too small. */
int notice_expand(const char *tpl, const char *const *vars, char *out, size_t outsz);

/* subject as RFC 2047 "B" encoded words (UTF-8), folded so that no header
 * line passes 76 characters, after "Subject: ".  0, or -1 when out is too
 * small. */
int notice_subject(const char *subject, char *out, size_t outsz);

#endif
