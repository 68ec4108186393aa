/*
 * alias — `alias add` / `alias remove`: a person's extra mail addresses
 * (mailLocalAddress).  See alias.c for the address rules.
 */
#ifndef PROVD_ALIAS_H
#define PROVD_ALIAS_H

struct request;

void alias_add(struct request *req);
void alias_remove(struct request *req);

#endif
