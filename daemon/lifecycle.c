/* lifecycle — accounts and certificates move together. See lifecycle.h.
 * The certificate work itself lives with the records, in cert.c. */
#include "lifecycle.h"

#include "cert.h"

const char *
lifecycle_event_name(enum lifecycle_event ev)
{
	switch (ev) {
	case LIFECYCLE_DISABLE: return "disable";
	case LIFECYCLE_ENABLE:  return "enable";
	case LIFECYCLE_DELETE:  return "delete";
	case LIFECYCLE_MOVE:    return "move";
	case LIFECYCLE_PURGE:   return "purge";
	}
	return "?";
}

void
lifecycle_certs(struct provd *pd, const char *login, enum lifecycle_event ev,
                lifecycle_done_fn *done, void *ctx)
{
	cert_lifecycle(pd, login, ev, done, ctx);
}
