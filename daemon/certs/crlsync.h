/*
 * crlsync — keep pki.crl_file at the newest CRL in the directory.
 *
 * Another site (another provd instance) may publish a CRL; this instance's
 * file must follow it, not wait for its own next publish.  Every
 * pki.crl_sync seconds (default 20) crlsync reads the CA entry's
 * provdCrlNumber; when it is higher than the number of the CRL in crl_file
 * (or the file is missing), it reads certificateRevocationList;binary,
 * checks that it is signed by this instance's CA certificate and carries
 * that number, and writes it to crl_file atomically (crlgen_write_file).
 * It never writes an older CRL over a newer one: the file's number is read
 * again just before writing, under the lock this instance's own CRL writes
 * take.  Reading, checking and writing a CRL of 100,000 entries take tens
 * of milliseconds: they run on a worker thread, the loop only asks the
 * directory.
 */
#ifndef PROVD_CRLSYNC_H
#define PROVD_CRLSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct provd;

/* Start following (idempotent; does nothing until a CA is loaded). */
void crlsync_start(struct provd *pd);
void crlsync_stop(void);

/* Write a CRL this instance published to path (crlgen_write_file), on a
 * worker thread.  Serialised with crlsync's own check-and-write, which
 * also runs on a worker thread: crlsync never puts an older CRL back over
 * one written here.  0 or -1 with err. */
int crlsync_write_file(const char *path, const unsigned char *der, size_t len, char *err,
                       size_t errlen);

/* The CRL number of a DER CRL, or 0 when it has none / does not parse. */
uint64_t crlsync_der_number(const unsigned char *der, size_t len);
/* The CRL number of the CRL in the file at path, 0 when absent/unreadable. */
uint64_t crlsync_file_number(const char *path);

#endif
