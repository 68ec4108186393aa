/*
 * bootstrap — `provd bootstrap`: the first load of an empty directory,
 * offline.
 *
 *   provd [-c FILE] bootstrap --units UNITS.csv --credentials FILE
 *         [-o FILE.ldif] [--threads N] STAFF.csv...
 *
 * Plans every row of the onboarding files (the columns `batch import`
 * reads) with the rules of an online import into an empty directory —
 * validation, the address policy, login choice and collisions in file
 * order, the template, password hashes, pwdReset and the initial
 * password's deadline — through account.c's planning functions, and writes
 * the accounts as LDIF for `slapadd -q` into a stopped slapd that holds
 * only the base entries and the units.  Passwords go to the credentials
 * file (created with O_EXCL, mode 0600, the CSV `batch import
 * --credentials` writes); rejected rows are named on stderr; one record
 * of the load (counts, the files, the LDIF's SHA-256) goes to the audit
 * journal under state_dir.
 *
 * It is not an import: nothing here reads the directory, so it is right
 * only for a directory that holds no accounts yet and that nothing writes
 * to until the LDIF is loaded (docs/operations.md).
 *
 * Memory is bounded: rows are planned, hashed (on every core) and written
 * in chunks; what grows with the file is the set of logins, addresses and
 * employee ids already planned.
 *
 * Exit status: 0 all rows made, 1 some rows rejected (the LDIF and the
 * credentials hold the others), 2 nothing usable (usage, unreadable input,
 * a write error).
 */
#ifndef PROVD_BOOTSTRAP_H
#define PROVD_BOOTSTRAP_H

struct provd;

/* pd has its configuration and account template loaded; argv[0] is
 * "bootstrap".  Returns the exit status. */
int bootstrap_main(struct provd *pd, int argc, char **argv);

#endif
