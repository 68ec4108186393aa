/*
 * report — summaries for people who run the service: `report units` and
 * `report expiring`.  Both read the directory with plain (non-paged)
 * searches and aggregate in memory: per unit a handful of counters, so
 * memory grows with the number of units (a few thousand for a country),
 * not with the number of accounts.  The directory identity provd binds as
 * must not be cut short by a size limit (the rootdn never is).
 *
 * report units [--unit CODE]
 *   One search over ou=people (departmentNumber, pwdAccountLockedTime,
 *   provdDeleteAfter) and one over the certificate records
 *   (departmentNumber, provdCertStatus, provdCertNotAfter).  Records, all
 *   with the same fields so they form one table:
 *     unit, row, kind, parent, name,
 *     accounts_active, accounts_disabled, accounts_deleted,
 *     certs_valid, certs_hold, certs_revoked, certs_expired,
 *     certs_expiring_30d
 *   row is "unit" (the unit's own accounts and certificates), "subtotal"
 *   (a unit with sub-units: its own plus every unit below it; printed after
 *   the last of them) or "total" (unit "*": every account and certificate,
 *   last, only without --unit).  Accounts or certificates whose
 *   departmentNumber names no known unit are counted in one row with unit
 *   "-" (only without --unit, only when there are any).
 *   No value is empty: "-" stands for none (the parent of a top-level
 *   unit, the kind and parent of the unknown-unit row); the total row's
 *   kind is "province".
 *   Order: top-level units by kind (province, district, department,
 *   commune) then code; each unit is followed by its sub-units in the same
 *   order, then by its subtotal row.  certs_valid excludes expired ones;
 *   certs_expiring_30d counts valid certificates whose notAfter falls
 *   within the next 30 days (they are in certs_valid too).
 *   --unit CODE: only CODE and the units below it (a subtotal row for CODE
 *   when it has sub-units).
 *
 * report expiring [--days N]
 *   Valid certificates whose notAfter is between now and now + N days
 *   (default 30, at most 36500).  Records: unit, unit_name, login, name,
 *   serial, not_after (YYYYMMDDHHMMSSZ, UTC), days_left (whole days left,
 *   rounded down); sorted by unit code, then not_after, then login.  A
 *   missing unit, unit name, login or name is shown as "-".
 *
 * Both finish the request with request_done() exactly once; directory
 * failures are reported as ST_UNAVAILABLE etc. (account_status_of_ldap).
 */
#ifndef PROVD_REPORT_H
#define PROVD_REPORT_H

struct request;

#define REPORT_EXPIRING_DEFAULT_DAYS 30
#define REPORT_EXPIRING_MAX_DAYS     36500

/* Handlers. */
void report_units(struct request *req);
/* report passwords [--unit U]: per unit, active accounts still on the
 * initial password provd made, those whose initial password expired, and
 * those on a password of their own (rolled up as report units is). */
void report_passwords(struct request *req);
void report_expiring(struct request *req);

#endif
