/*
 * cert_issue — `cert issue LOGIN --profile NAME` with a CSR: the account
 * must be active; the signer signs by the profile; the record is written
 * (retrying a serial collision), then the account's userCertificate;binary.
 * Finishes the request with request_done() exactly once.
 */
#ifndef PROVD_CERT_ISSUE_H
#define PROVD_CERT_ISSUE_H

struct request;

void cert_issue(struct request *req);

#endif
