/*
 * passwd — `user passwd`: set an account's password (see passwd.c for the
 * sources of a password and how each is hashed).
 */
#ifndef PROVD_PASSWD_H
#define PROVD_PASSWD_H

struct request;

void passwd_set(struct request *req);

#endif
