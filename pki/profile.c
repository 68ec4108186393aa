/*
 * profile.c — certificate profiles (see profile.h).
 */
#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "keyinfo.h"

#define RSA_FLOOR_BITS   2048
#define RSA_CEIL_BITS    16384
#define VALIDITY_MAX     3650

struct profile_set {
	size_t         n;
	struct profile p[];
};

struct ku_name {
	const char *name;
	unsigned    bit;
};

static const struct ku_name ku_names[] = {
	{ "digitalSignature",  KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation",    KU_NON_REPUDIATION },
	{ "contentCommitment", KU_NON_REPUDIATION },
	{ "keyEncipherment",   KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment",  KU_DATA_ENCIPHERMENT },
	{ "keyAgreement",      KU_KEY_AGREEMENT },
};

struct eku_name {
	const char *name;
	const char *oid;
};

/*
 * Named extended key usages.  Document signing has two OIDs in use:
 * id-kp-documentSigning from RFC 9336 and Microsoft's Document Signing,
 * which Office and Acrobat on Windows look for.
 */
static const struct eku_name eku_names[] = {
	{ "emailProtection",   "1.3.6.1.5.5.7.3.4" },
	{ "clientAuth",        "1.3.6.1.5.5.7.3.2" },
	{ "serverAuth",        "1.3.6.1.5.5.7.3.1" },
	{ "codeSigning",       "1.3.6.1.5.5.7.3.3" },
	{ "documentSigning",   "1.3.6.1.5.5.7.3.36" },
	{ "msDocumentSigning", "1.3.6.1.4.1.311.10.3.12" },
	{ "smartcardLogon",    "1.3.6.1.4.1.311.20.2.2" },
};

/* Never in a staff certificate: any purpose, or OCSP responder. */
static const char *const eku_refused[] = {
	"2.5.29.37.0",
	"1.3.6.1.5.5.7.3.9",
};

static int
name_from_path(const char *path, char *name, size_t namesz, char *err,
    size_t errlen)
{
	const char *base = strrchr(path, '/');
	size_t n, i;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n < 6 || strcmp(base + n - 5, ".conf") != 0) {
		snprintf(err, errlen, "%s: profile file name must end in .conf",
		    path);
		return -1;
	}
	n -= 5;
	if (n > PROFILE_NAME_MAX || n >= namesz) {
		snprintf(err, errlen, "%s: profile name longer than %d",
		    path, PROFILE_NAME_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = base[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')) {
			snprintf(err, errlen, "%s: profile name may only hold "
			    "a-z, 0-9, '-' and '_'", path);
			return -1;
		}
	}
	memcpy(name, base, n);
	name[n] = '\0';
	return 0;
}

static int
want_type(const char *path, const config_setting_t *s, int type,
    const char *what, char *err, size_t errlen)
{
	if (config_setting_type(s) == type)
		return 0;
	if (type == CONFIG_TYPE_INT &&
	    config_setting_type(s) == CONFIG_TYPE_INT64)
		return 0;
	if (type == CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) == CONFIG_TYPE_LIST)
		return 0;
	snprintf(err, errlen, "%s:%d: %s must be %s", path,
	    config_setting_source_line(s), config_setting_name(s), what);
	return -1;
}

static int
get_uint(const char *path, const config_setting_t *s, long long lo,
    long long hi, unsigned *out, char *err, size_t errlen)
{
	long long v;

	if (want_type(path, s, CONFIG_TYPE_INT, "an integer", err, errlen) < 0)
		return -1;
	v = config_setting_get_int64(s);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	if (v < lo || v > hi) {
		snprintf(err, errlen, "%s:%d: %s must be between %lld and %lld",
		    path, config_setting_source_line(s),
		    config_setting_name(s), lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Each element of an array of strings, with its line for messages. */
static const char *
string_elem(const char *path, const config_setting_t *arr, int i,
    char *err, size_t errlen)
{
	const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
	const char *s = e != NULL ? config_setting_get_string(e) : NULL;

	if (s == NULL)
		snprintf(err, errlen, "%s:%d: %s must be a list of strings",
		    path, config_setting_source_line(arr),
		    config_setting_name(arr));
	return s;
}

static int
parse_key_usage(const char *path, const config_setting_t *arr, bool is_rsa,
    unsigned *out, char *err, size_t errlen)
{
	int i, n;
	size_t k;

	*out = 0;
	if (want_type(path, arr, CONFIG_TYPE_ARRAY, "a list of strings", err,
	    errlen) < 0)
		return -1;
	n = config_setting_length(arr);
	if (n == 0) {
		snprintf(err, errlen, "%s:%d: key_usage must not be empty",
		    path, config_setting_source_line(arr));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *s = string_elem(path, arr, i, err, errlen);

		if (s == NULL)
			return -1;
		for (k = 0; k < sizeof(ku_names) / sizeof(ku_names[0]); k++)
			if (strcmp(s, ku_names[k].name) == 0)
				break;
		if (k == sizeof(ku_names) / sizeof(ku_names[0])) {
			snprintf(err, errlen, "%s:%d: key usage \"%.40s\" is "
			    "unknown or not allowed for end entities "
			    "(digitalSignature, nonRepudiation, "
			    "keyEncipherment, dataEncipherment, keyAgreement)",
			    path, config_setting_source_line(arr), s);
			return -1;
		}
		if (is_rsa && ku_names[k].bit == KU_KEY_AGREEMENT) {
			snprintf(err, errlen, "%s:%d: keyAgreement does not "
			    "apply to RSA keys", path,
			    config_setting_source_line(arr));
			return -1;
		}
		if (!is_rsa && (ku_names[k].bit == KU_KEY_ENCIPHERMENT ||
		    ku_names[k].bit == KU_DATA_ENCIPHERMENT)) {
			snprintf(err, errlen, "%s:%d: %s does not apply to EC "
			    "keys (use keyAgreement)", path,
			    config_setting_source_line(arr), s);
			return -1;
		}
		*out |= ku_names[k].bit;
	}
	return 0;
}

static int
parse_rsa(const char *path, const config_setting_t *g, struct profile *p,
    char *err, size_t errlen)
{
	const config_setting_t *s;
	int i, n;

	if (want_type(path, g, CONFIG_TYPE_GROUP, "a group { ... }", err,
	    errlen) < 0)
		return -1;
	p->rsa_allowed = true;
	p->rsa_min_bits = RSA_FLOOR_BITS;
	p->rsa_max_bits = 8192;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (strcmp(config_setting_name(s), "min_bits") == 0) {
			if (get_uint(path, s, RSA_FLOOR_BITS, RSA_CEIL_BITS,
			    &p->rsa_min_bits, err, errlen) < 0)
				return -1;
		} else if (strcmp(config_setting_name(s), "max_bits") == 0) {
			if (get_uint(path, s, RSA_FLOOR_BITS, RSA_CEIL_BITS,
			    &p->rsa_max_bits, err, errlen) < 0)
				return -1;
		} else if (strcmp(config_setting_name(s), "key_usage") == 0) {
			if (parse_key_usage(path, s, true, &p->rsa_key_usage,
			    err, errlen) < 0)
				return -1;
		} else {
			snprintf(err, errlen, "%s:%d: unknown setting rsa.%s "
			    "(min_bits, max_bits, key_usage)", path,
			    config_setting_source_line(s),
			    config_setting_name(s));
			return -1;
		}
	}
	if (p->rsa_min_bits > p->rsa_max_bits) {
		snprintf(err, errlen, "%s:%d: rsa.min_bits is above max_bits",
		    path, config_setting_source_line(g));
		return -1;
	}
	if (p->rsa_key_usage == 0) {
		snprintf(err, errlen, "%s:%d: rsa.key_usage is required", path,
		    config_setting_source_line(g));
		return -1;
	}
	return 0;
}

static int
parse_curves(const char *path, const config_setting_t *arr,
    struct profile *p, char *err, size_t errlen)
{
	int i, n;

	if (want_type(path, arr, CONFIG_TYPE_ARRAY, "a list of strings", err,
	    errlen) < 0)
		return -1;
	n = config_setting_length(arr);
	if (n == 0 || n > PROFILE_MAX_CURVES) {
		snprintf(err, errlen, "%s:%d: ec.curves must list 1 to %d "
		    "curves", path, config_setting_source_line(arr),
		    PROFILE_MAX_CURVES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *s = string_elem(path, arr, i, err, errlen);
		int nid;

		if (s == NULL)
			return -1;
		nid = keyinfo_curve_nid(s);
		if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
		    nid != NID_secp521r1) {
			snprintf(err, errlen, "%s:%d: curve \"%.40s\" is not "
			    "allowed (P-256, P-384, P-521)", path,
			    config_setting_source_line(arr), s);
			return -1;
		}
		p->ec_curves[p->ec_ncurves++] = nid;
	}
	return 0;
}

static int
parse_ec(const char *path, const config_setting_t *g, struct profile *p,
    char *err, size_t errlen)
{
	const config_setting_t *s;
	int i, n;

	if (want_type(path, g, CONFIG_TYPE_GROUP, "a group { ... }", err,
	    errlen) < 0)
		return -1;
	p->ec_allowed = true;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (strcmp(config_setting_name(s), "curves") == 0) {
			if (parse_curves(path, s, p, err, errlen) < 0)
				return -1;
		} else if (strcmp(config_setting_name(s), "key_usage") == 0) {
			if (parse_key_usage(path, s, false, &p->ec_key_usage,
			    err, errlen) < 0)
				return -1;
		} else {
			snprintf(err, errlen, "%s:%d: unknown setting ec.%s "
			    "(curves, key_usage)", path,
			    config_setting_source_line(s),
			    config_setting_name(s));
			return -1;
		}
	}
	if (p->ec_ncurves == 0 || p->ec_key_usage == 0) {
		snprintf(err, errlen, "%s:%d: ec needs curves and key_usage",
		    path, config_setting_source_line(g));
		return -1;
	}
	return 0;
}

static int
parse_eku(const char *path, const config_setting_t *arr, struct profile *p,
    char *err, size_t errlen)
{
	int i, n;
	size_t k;

	if (want_type(path, arr, CONFIG_TYPE_ARRAY, "a list of strings", err,
	    errlen) < 0)
		return -1;
	n = config_setting_length(arr);
	if (n > PROFILE_MAX_EKU) {
		snprintf(err, errlen, "%s:%d: at most %d extended key usages",
		    path, config_setting_source_line(arr), PROFILE_MAX_EKU);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *s = string_elem(path, arr, i, err, errlen);
		const char *oid = NULL;
		ASN1_OBJECT *obj;
		char *slot;

		if (s == NULL)
			return -1;
		for (k = 0; k < sizeof(eku_names) / sizeof(eku_names[0]); k++)
			if (strcmp(s, eku_names[k].name) == 0)
				oid = eku_names[k].oid;
		if (oid == NULL) {
			/* A dotted OID: digits and dots only. */
			if (strspn(s, "0123456789.") != strlen(s) ||
			    strlen(s) >= PROFILE_OID_MAX) {
				snprintf(err, errlen, "%s:%d: extended key "
				    "usage \"%.40s\" is neither a known name "
				    "nor a dotted OID", path,
				    config_setting_source_line(arr), s);
				return -1;
			}
			oid = s;
		}
		obj = OBJ_txt2obj(oid, 1);
		slot = p->eku[p->neku];
		if (obj == NULL ||
		    OBJ_obj2txt(slot, PROFILE_OID_MAX, obj, 1) <= 0) {
			ASN1_OBJECT_free(obj);
			snprintf(err, errlen, "%s:%d: \"%.40s\" is not a valid "
			    "OID", path, config_setting_source_line(arr), s);
			return -1;
		}
		ASN1_OBJECT_free(obj);
		for (k = 0; k < sizeof(eku_refused) / sizeof(eku_refused[0]);
		    k++) {
			if (strcmp(slot, eku_refused[k]) == 0) {
				snprintf(err, errlen, "%s:%d: extended key "
				    "usage %s is not allowed in a staff "
				    "certificate", path,
				    config_setting_source_line(arr), s);
				return -1;
			}
		}
		for (k = 0; k < p->neku; k++) {
			if (strcmp(p->eku[k], slot) == 0) {
				snprintf(err, errlen, "%s:%d: extended key "
				    "usage %s listed twice", path,
				    config_setting_source_line(arr), s);
				return -1;
			}
		}
		p->neku++;
	}
	return 0;
}

/* Escrow only for mail encryption keys (see profile.h). */
static bool
escrow_allowed(const struct profile *p)
{
	size_t i;
	bool mail = false;

	for (i = 0; i < p->neku; i++)
		if (strcmp(p->eku[i], "1.3.6.1.5.5.7.3.4") == 0)
			mail = true;
	return mail && !((p->rsa_key_usage | p->ec_key_usage) & KU_NON_REPUDIATION);
}

static int
parse_policies(const char *path, const config_setting_t *arr,
    struct profile *p, char *err, size_t errlen)
{
	int i, n, line = config_setting_source_line(arr);
	size_t k;

	if (!config_setting_is_array(arr) ||
	    (n = config_setting_length(arr)) < 1 || n > PROFILE_MAX_POLICIES) {
		snprintf(err, errlen, "%s:%d: policies: a list of 1 to %d "
		    "dotted OIDs", path, line, PROFILE_MAX_POLICIES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *s = string_elem(path, arr, i, err, errlen);
		char *slot = p->policies[p->npolicies];
		ASN1_OBJECT *obj;

		if (s == NULL)
			return -1;
		obj = strspn(s, "0123456789.") == strlen(s) &&
		    strlen(s) < PROFILE_OID_MAX ? OBJ_txt2obj(s, 1) : NULL;
		if (obj == NULL ||
		    OBJ_obj2txt(slot, PROFILE_OID_MAX, obj, 1) <= 0) {
			ASN1_OBJECT_free(obj);
			snprintf(err, errlen, "%s:%d: policy \"%.40s\" is not a "
			    "dotted OID", path, line, s);
			return -1;
		}
		ASN1_OBJECT_free(obj);
		if (strcmp(slot, "2.5.29.32.0") == 0) {
			snprintf(err, errlen, "%s:%d: anyPolicy is not allowed in "
			    "a staff certificate", path, line);
			return -1;
		}
		for (k = 0; k < p->npolicies; k++) {
			if (strcmp(p->policies[k], slot) == 0) {
				snprintf(err, errlen, "%s:%d: policy %s listed "
				    "twice", path, line, slot);
				return -1;
			}
		}
		p->npolicies++;
	}
	return 0;
}

static int
parse_root(const char *path, const config_setting_t *root,
    struct profile *p, char *err, size_t errlen)
{
	int i, n, have_days = 0;
	const config_setting_t *s;
	const char *str;

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		const char *name;

		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		if (strcmp(name, "description") == 0) {
			str = config_setting_get_string(s);
			if (str == NULL || strlen(str) > PROFILE_DESC_MAX) {
				snprintf(err, errlen, "%s:%d: description must "
				    "be a string of at most %d bytes", path,
				    config_setting_source_line(s),
				    PROFILE_DESC_MAX);
				return -1;
			}
			snprintf(p->description, sizeof(p->description), "%s",
			    str);
		} else if (strcmp(name, "validity_days") == 0) {
			if (get_uint(path, s, 1, VALIDITY_MAX,
			    &p->validity_days, err, errlen) < 0)
				return -1;
			have_days = 1;
		} else if (strcmp(name, "email_san") == 0) {
			if (want_type(path, s, CONFIG_TYPE_BOOL,
			    "true or false", err, errlen) < 0)
				return -1;
			p->email_san = config_setting_get_bool(s) != 0;
		} else if (strcmp(name, "escrow") == 0) {
			if (want_type(path, s, CONFIG_TYPE_BOOL,
			    "true or false", err, errlen) < 0)
				return -1;
			p->escrow = config_setting_get_bool(s) != 0;
		} else if (strcmp(name, "renew_key_reuse") == 0) {
			if (want_type(path, s, CONFIG_TYPE_BOOL,
			    "true or false", err, errlen) < 0)
				return -1;
			p->renew_key_reuse = config_setting_get_bool(s) != 0;
		} else if (strcmp(name, "rsa") == 0) {
			if (parse_rsa(path, s, p, err, errlen) < 0)
				return -1;
		} else if (strcmp(name, "ec") == 0) {
			if (parse_ec(path, s, p, err, errlen) < 0)
				return -1;
		} else if (strcmp(name, "extended_key_usage") == 0) {
			if (parse_eku(path, s, p, err, errlen) < 0)
				return -1;
		} else if (strcmp(name, "policies") == 0) {
			if (parse_policies(path, s, p, err, errlen) < 0)
				return -1;
		} else {
			snprintf(err, errlen, "%s:%d: unknown setting \"%s\"",
			    path, config_setting_source_line(s), name);
			return -1;
		}
	}
	if (!have_days) {
		snprintf(err, errlen, "%s: validity_days is required", path);
		return -1;
	}
	if (!p->rsa_allowed && !p->ec_allowed) {
		snprintf(err, errlen, "%s: the profile allows no key type (add "
		    "an rsa or ec group)", path);
		return -1;
	}
	if (p->escrow && !escrow_allowed(p)) {
		snprintf(err, errlen, "%s: escrow is for staff e-mail encryption "
		    "keys: it needs emailProtection and no nonRepudiation", path);
		return -1;
	}
	return 0;
}

int
profile_load_file(const char *path, struct profile *out, char *err,
    size_t errlen)
{
	config_t cfg;
	struct stat st;
	FILE *f = NULL;
	int fd = -1, rc = -1, cfg_live = 0;

	memset(out, 0, sizeof(*out));
	if (name_from_path(path, out->name, sizeof(out->name), err,
	    errlen) < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PROFILE_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, PROFILE_FILE_MAX);
		goto out;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	config_init(&cfg);
	cfg_live = 1;
	if (config_read(&cfg, f) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path,
		    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	if (parse_root(path, config_root_setting(&cfg), out, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (cfg_live)
		config_destroy(&cfg);
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
profile_load_dir(const char *dir, struct profile_set **out, char *err,
    size_t errlen)
{
	struct profile_set *set = NULL;
	char *names[PROFILE_MAX_PROFILES];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d = NULL;
	int rc = -1;

	*out = NULL;
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (n == PROFILE_MAX_PROFILES) {
			snprintf(err, errlen, "%s: more than %d profiles", dir,
			    PROFILE_MAX_PROFILES);
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			snprintf(err, errlen, "%s: out of memory", dir);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no *.conf profiles", dir);
		goto out;
	}
	qsort(names, n, sizeof(names[0]), cmp_names);
	set = calloc(1, sizeof(*set) + n * sizeof(set->p[0]));
	if (set == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char path[PROFILE_PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			goto out;
		}
		if (profile_load_file(path, &set->p[i], err, errlen) < 0)
			goto out;
		set->n++;
	}
	*out = set;
	set = NULL;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(set);
	if (d != NULL)
		closedir(d);
	return rc;
}

const struct profile *
profile_find(const struct profile_set *set, const char *name)
{
	size_t i;

	if (set == NULL || name == NULL)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcmp(set->p[i].name, name) == 0)
			return &set->p[i];
	return NULL;
}

size_t
profile_count(const struct profile_set *set)
{
	return set != NULL ? set->n : 0;
}

const struct profile *
profile_at(const struct profile_set *set, size_t i)
{
	return set != NULL && i < set->n ? &set->p[i] : NULL;
}

void
profile_set_free(struct profile_set *set)
{
	free(set);
}

void
profile_curves_text(const struct profile *p, char *buf, size_t len)
{
	size_t i, o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (!p->ec_allowed || p->ec_ncurves == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (i = 0; i < p->ec_ncurves && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i > 0 ? ", " : "",
		    keyinfo_curve_name(p->ec_curves[i]));

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

int
profile_key_usage(const struct profile *p, const EVP_PKEY *pub,
    unsigned *ku, char *err, size_t errlen)
{
	struct keyinfo ki;

	if (keyinfo_get(pub, &ki, err, errlen) < 0)
		return -1;
	if (ki.type == KEYINFO_RSA && p->rsa_allowed) {
		*ku = p->rsa_key_usage;
		return 0;
	}
	if (ki.type == KEYINFO_EC && p->ec_allowed) {
		*ku = p->ec_key_usage;
		return 0;
	}
	snprintf(err, errlen, "profile %s does not allow %s keys", p->name,
	    ki.type_name);
	return -1;
}
