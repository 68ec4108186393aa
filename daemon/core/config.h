/*
 * config — provd's configuration, read with libconfig.
 *
 * config_load() reads and validates the whole file into a struct config that
 * owns all its strings; on error it names the file, line and setting.  The
 * file must not be readable or writable by group/others (it may name secrets).
 * See etc/provd.conf and provd.conf(5) for every setting and its default.
 */
#ifndef PROVD_CONFIG_H
#define PROVD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define CONFIG_MAX_URIS   8
#define CONFIG_MAX_GROUPS 16
#define CONFIG_MAX_RESERVED 64
#define CONFIG_MAX_OLD_DOMAINS 16
#define CONFIG_MAX_THRESHOLDS 8
#define CONFIG_MAX_UNIT_ADMINS 64

struct role_group {
	char     *group;      /* UNIX group name */
	unsigned  role;       /* enum role bit */
	char     *unit;       /* NULL = whole province; else subtree root code */
};

/*
 * A domain the mail servers still deliver besides mail.domain (one list,
 * mail.old_domains; the older mail.previous_domains and mail.alias_domains
 * load into it as entries for good):
 *   OLD_DOMAIN_PREVIOUS  the province's own domain before a reorganisation
 *                        changed mail.domain: the unit maps deliver it too
 *                        (code@old is the unit's address), so an address
 *                        there follows every rule of address.h;
 *   OLD_DOMAIN_ABSORBED  an absorbed directory's domain (batch import
 *                        --from-ldif): aliases only, and unit codes are not
 *                        addresses there.
 * until: the first second (00:00 UTC of the day given) at which the domain
 * is no longer delivered; 0 for good.
 */
enum old_domain_kind { OLD_DOMAIN_PREVIOUS, OLD_DOMAIN_ABSORBED };

struct old_domain {
	char                 *name;       /* lower case */
	enum old_domain_kind  kind;
	time_t                until;      /* 0: for good */
	char                  until_day[11]; /* YYYY-MM-DD, "" for good */
};

struct config {
	char *path;

	/* daemon */
	char    *socket_path;
	char    *socket_group;      /* NULL: the service user's group */
	char    *user;              /* NULL: stay as the starting user */
	char    *signer_user;       /* the signer's own user (NULL: daemon.user) */
	char    *state_dir;
	char    *template_dir;
	int      syslog_facility;
	unsigned max_clients_per_uid;
	unsigned client_timeout;    /* seconds */
	unsigned hash_threads;      /* 0 = one per core */

	/* ldap */
	char    *uris[CONFIG_MAX_URIS];
	size_t   nuris;
	bool     bind_simple;       /* false: SASL EXTERNAL */
	char    *bind_dn;
	char    *bind_password;     /* read from bind_password_file; wiped on free */
	char    *bind_password_file;
	char    *base;
	unsigned ldap_timeout;      /* seconds */
	unsigned ldap_window;       /* outstanding operations */
	unsigned writer_lease;      /* seconds a writer's claim lasts (several uris) */
	unsigned failback_probe;    /* seconds between probes of the uris before the current one */

	/* mail */
	char    *mail_domain;
	char    *reserved[CONFIG_MAX_RESERVED];   /* mail.reserved: local parts, lower case */
	size_t   nreserved;
	/* mail.old_domains (+ previous_domains, alias_domains): see above;
	 * address.h says what each kind accepts, olddomain.h what happens at
	 * until. */
	struct old_domain old_domains[CONFIG_MAX_OLD_DOMAINS];
	size_t   nold_domains;
	char    *domain_lists_dir;  /* mail.domain_lists_dir: "" none (olddomain.h) */
	unsigned long long default_quota;   /* bytes, 0 = unlimited */
	char    *generated_hash;    /* scheme names, validated by password_scheme_parse */
	char    *chosen_hash;
	unsigned retention_days;
	unsigned sync_max_delete_percent; /* batch import --sync: refused above this share */
	unsigned initial_password_days;   /* 0: initial passwords never expire */
	unsigned initial_password_sweep;  /* seconds between expiry sweeps */
	char    *password_page_url;       /* "" when no self-service page */

	/* roles */
	struct role_group groups[CONFIG_MAX_GROUPS];
	size_t   ngroups;

	/* pki */
	char    *ca_name;
	char    *organization;
	char    *organization_identifier;  /* pki.organization_identifier (S/MIME BR sponsor-validated) */
	char    *country;
	char    *key_file;
	char    *key_passphrase_file;
	char    *pkcs11_module;     /* PKCS #11 library the signer loads, or NULL */
	char    *pkcs11_pin_file;   /* 0600 file with the token PIN (signer only) */
	char    *escrow_cert_file;  /* recovery certificate keys are escrowed to */
	unsigned escrow_retention_days; /* kept this long after the cert expired */
	char    *cert_file;
	char    *crl_file;
	unsigned crl_days;
	unsigned crl_sync;          /* seconds between looks at the directory's CRL (crlsync) */
	char    *crl_url;
	char    *ocsp_url;
	char    *ocsp_dir;          /* pre-signed OCSP responses; NULL = none */
	unsigned ocsp_hours;        /* validity of one response */
	unsigned ocsp_responder_hours; /* validity of a responder certificate */
	char    *ca_issuers_url;
	char    *default_profile;
	unsigned long renew_overlap;  /* seconds a renewed certificate stays valid */
	unsigned supersede_sweep;   /* seconds between checks for due revocations */

	/* notice: expiry notices by mail */
	char    *sendmail;          /* "" = no notices */
	char    *notice_from;       /* envelope and From: address */
	unsigned long thresholds[CONFIG_MAX_THRESHOLDS];  /* seconds, descending */
	size_t   nthresholds;
	unsigned notice_sweep;      /* seconds between checks */
	struct unit_admin {
		char *unit;             /* the unit and its sub-units ... */
		char *address;          /* ... copy their notices here */
	}        unit_admins[CONFIG_MAX_UNIT_ADMINS];
	size_t   nunit_admins;

	/* derived DNs */
	char    *units_dn;          /* ou=units,<base> */
	char    *people_dn;         /* ou=people,<base> */
	char    *pki_dn;            /* ou=pki,<base> */
	char    *certs_dn;          /* ou=certificates,ou=pki,<base> */
	char    *ca_dn;             /* cn=<ca_name>,ou=pki,<base> */
};

/*
 * Load path into *out (zeroed first).  Returns 0, or -1 with err holding
 * "path:line: message".  check_perms: refuse a file (and the bind password
 * file) readable by group or others.
 */
int config_load(const char *path, bool check_perms, struct config *out,
                char *err, size_t errlen);

/* Free everything config_load allocated; wipes the bind password. */
void config_free(struct config *c);

/* An until date (mail.old_domains, a reorganisation file's domain line):
 * "YYYY-MM-DD" gives 00:00 UTC of that day in *until; "forever", "" or
 * NULL give 0 (for good).  0, or -1 when s is not a real date. */
int config_parse_until(const char *s, time_t *until);

/* Refuse a file whose mode lets group or others read or write it, naming it
 * and the mode.  0 or -1. */
int config_check_private(const char *path, char *err, size_t errlen);

#endif
