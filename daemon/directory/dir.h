/*
 * dir — provd's asynchronous connection to the directory (libldap).
 *
 * One LDAP handle, driven by the event loop.  Operations are submitted with
 * dir_search/dir_add/dir_modify/dir_delete; each one's done
 * callback is called exactly once, always later from the loop (never from
 * inside the submitting call), with the LDAP result code:
 *
 *   LDAP_SUCCESS etc.   the server's answer
 *   LDAP_SERVER_DOWN    the connection was lost before an answer: for a
 *                       write the outcome is UNKNOWN (it may have landed)
 *   LDAP_UNAVAILABLE    not connected (nor connecting, or no URI
 *                       answered); the operation was never sent
 *   LDAP_TIMEOUT        no answer within the configured timeout (abandoned;
 *                       for a write the outcome is unknown)
 *
 * At most `window` operations are outstanding on the wire; more are queued
 * in submission order.  When the connection drops, every outstanding and
 * queued operation completes with LDAP_SERVER_DOWN / LDAP_UNAVAILABLE, and
 * dir reconnects in the background with exponential backoff (250 ms .. 8 s),
 * trying each configured URI in order.
 *
 * Connecting never holds up the loop: each URI is connected to and bound
 * asynchronously, one at a time, given 2 s to connect and the configured
 * timeout for the bind's answer (a stopped or hung slapd).  Operations
 * submitted while a connection is being made wait in the queue and go out
 * once it is bound.
 *
 * The URI order is the order of preference: connected to a later URI, dir
 * probes the earlier ones every 5 s and moves back to the first that
 * answers, once the operations in flight are answered (new ones wait).
 *
 * The write gate (dir_set_write_gate) decides whether adds, modifies and
 * deletes go out: OPEN sends them, HOLD keeps them (in order) until the
 * gate opens or closes, CLOSED completes them with LDAP_UNAVAILABLE and the
 * gate's reason as text.  Searches always go out.  A new dir is OPEN.
 */
#ifndef PROVD_DIR_H
#define PROVD_DIR_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

struct loop;
struct config;
struct dir;

struct dir_result {
	int          code;       /* LDAP result code */
	const char  *text;       /* diagnostic from the server or libldap, may be "" */
	const char  *matched;    /* matched DN, may be "" */
	LDAPControl **ctrls;     /* response controls (paged results cookie), may be NULL */
};

/* One search entry; `e` is valid only during the call. */
typedef void dir_entry_fn(void *ctx, LDAP *ld, LDAPMessage *e);
typedef void dir_done_fn(void *ctx, const struct dir_result *res);

/* Called on every connection state change (for status and reconnect logs). */
typedef void dir_state_fn(void *ctx, bool up);

/* Called for every write the directory confirmed (LDAP success), before
 * the write's own done callback, with the entry's DN and the write's
 * modifications (an add's attributes; NULL for a delete), both valid
 * during the call only (for counts kept current without counting
 * entries, and what a count or a cache must forget).  At most
 * DIR_WRITE_OBSERVERS; dir_on_write returns -1 beyond. */
#define DIR_WRITE_OBSERVERS 4
enum dir_wrote { DIR_WROTE_ADD, DIR_WROTE_MODIFY, DIR_WROTE_DELETE };
typedef void dir_write_fn(void *ctx, enum dir_wrote what, const char *dn,
                          LDAPMod *const *mods);

/* Never NULL (out of memory is fatal, xmalloc.h). */
struct dir *dir_new(struct loop *loop, const struct config *cfg);
void dir_free(struct dir *d);

/* Start connecting in the background (non-fatal: failures schedule
 * retries); dir_connected is true once bound. */
void dir_start(struct dir *d);
/* Adopt a new configuration (SIGHUP): reconnects if URIs or bind changed. */
void dir_reconfigure(struct dir *d, const struct config *cfg);

bool dir_connected(const struct dir *d);
/* The live handle, for building request controls (assertion, paging);
 * NULL when not connected.  Never use it for I/O. */
LDAP *dir_ldap(const struct dir *d);
const char *dir_uri(const struct dir *d);       /* current or last URI */
size_t dir_outstanding(const struct dir *d);    /* sent, not answered */
size_t dir_queued(const struct dir *d);         /* waiting for the window */
unsigned long dir_reconnects(const struct dir *d);
/* Times reading the answers stopped at its budget (LOOP_SLICE_US, or a
 * count of messages) and went on a turn later (a long search gave the loop
 * back). */
unsigned long dir_read_slices(const struct dir *d);
void dir_on_state(struct dir *d, dir_state_fn *cb, void *ctx);
int dir_on_write(struct dir *d, dir_write_fn *cb, void *ctx);

/*
 * Submit operations.  Strings and mods are copied or fully used before the
 * call returns (the caller may free them at once); ctrls are deep-copied.
 * attrs: NULL-terminated list or NULL for all user attributes.
 * sizelimit 0 = none.  on_entry may be NULL.
 */
void dir_search(struct dir *d, const char *base, int scope, const char *filter,
                const char *const *attrs, int sizelimit, LDAPControl **ctrls,
                dir_entry_fn *on_entry, dir_done_fn *done, void *ctx);
void dir_add(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
             dir_done_fn *done, void *ctx);
void dir_modify(struct dir *d, const char *dn, LDAPMod **mods,
                LDAPControl **ctrls, dir_done_fn *done, void *ctx);
void dir_delete(struct dir *d, const char *dn, LDAPControl **ctrls,
                dir_done_fn *done, void *ctx);
/* The same, let through whatever the write gate says: only for the writes
 * that decide the gate (the writer lease). */
void dir_add_ungated(struct dir *d, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
                     dir_done_fn *done, void *ctx);
void dir_modify_ungated(struct dir *d, const char *dn, LDAPMod **mods,
                        LDAPControl **ctrls, dir_done_fn *done, void *ctx);
/* dir_modify with m taken: the operation's own from the call on (freed
 * with it), its values not copied again (a CRL of megabytes). */
struct dir_mods;
void dir_modify_take(struct dir *d, const char *dn, struct dir_mods *m,
                     LDAPControl **ctrls, dir_done_fn *done, void *ctx);

enum dir_gate { DIR_GATE_OPEN, DIR_GATE_HOLD, DIR_GATE_CLOSED };
/* Set the write gate; why (copied, may be NULL) is the text refused writes
 * complete with.  Opening sends the held writes, closing fails them. */
void dir_set_write_gate(struct dir *d, enum dir_gate gate, const char *why);
/* The gate and its reason (valid until the next dir_set_write_gate). */
enum dir_gate dir_write_gate(const struct dir *d, const char **why);
/* Position in the URI list of the current (or last) connection. */
size_t dir_uri_index(const struct dir *d);

/* Helpers for reading an entry inside an on_entry callback. */
/* First value of attr as a malloc'd C string, or NULL. */
char *dir_entry_get(LDAP *ld, LDAPMessage *e, const char *attr);
/* First value of attr copied into out (size outsz, truncated, always
 * NUL-terminated); "" when absent. */
void dir_entry_copy(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t outsz);
/* All values (NULL-terminated array of malloc'd strings; free with
 * dir_strv_free), or NULL when absent. */
char **dir_entry_get_all(LDAP *ld, LDAPMessage *e, const char *attr);
/* First binary value (malloc'd copy; *len set), or NULL. */
unsigned char *dir_entry_get_bin(LDAP *ld, LDAPMessage *e, const char *attr, size_t *len);
/* The entry's DN, malloc'd. */
char *dir_entry_dn(LDAP *ld, LDAPMessage *e);
void dir_strv_free(char **v);
/* Does v (dir_entry_get_all's, may be NULL) hold s, ASCII case ignored? */
bool dir_strv_has(char **v, const char *s);

/* A human text for a result ("No such object: ..."). */
const char *dir_result_str(const struct dir_result *r, char *buf, size_t len);

/*
 * The LDAPMod builder: every modification array provd sends to the
 * directory is built here (commands with dir_mods_add*, an account's entry
 * with template_entry_mods, and dir_add/dir_modify's own copy).  An array
 * owns copies of its names and values, all as LDAP_MOD_BVALUES.  It cannot
 * fail: out of memory is fatal (xmalloc.h), and so is a modification past
 * DIR_MODS_MAX (every caller builds a bounded set: that would be a bug).
 */
#define DIR_MODS_MAX 96
struct dir_mods;
struct dir_mods *dir_mods_new(void);
/* op: LDAP_MOD_ADD / LDAP_MOD_REPLACE / LDAP_MOD_DELETE.  values: NULL-terminated,
 * NULL = no values (delete all / replace with none). */
void dir_mods_add(struct dir_mods *m, int op, const char *attr, const char *const *values);
/* The same with n values (values need not be NULL-terminated). */
void dir_mods_addn(struct dir_mods *m, int op, const char *attr, const char *const *values,
                   size_t n);
void dir_mods_add1(struct dir_mods *m, int op, const char *attr, const char *value);
void dir_mods_add_bin(struct dir_mods *m, int op, const char *attr, const void *p, size_t n);
/* One binary value that is buf itself (n bytes, malloc'd), taken: m owns
 * it from the call on and frees it; nothing is copied. */
void dir_mods_add_bin_take(struct dir_mods *m, int op, const char *attr, unsigned char *buf,
                           size_t n);
/* The NULL-terminated array for libldap, valid until m changes or is freed. */
LDAPMod **dir_mods_get(struct dir_mods *m);
size_t dir_mods_count(const struct dir_mods *m);
/* NULL is accepted. */
void dir_mods_free(struct dir_mods *m);

#endif
