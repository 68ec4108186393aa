/* lifecycle — accounts and certificates move together. See lifecycle.h.
 * The certificate work itself lives with the records, in cert.c, which
 * main.c hands to lifecycle_set_certs. */
#include "lifecycle.h"

#include <stddef.h>

#include "lockmark.h"
#include "log.h"

static lifecycle_certs_fn *certs_fn, *preview_fn;

void
lifecycle_set_certs(lifecycle_certs_fn *fn, lifecycle_certs_fn *preview)
{
	certs_fn = fn;
	preview_fn = preview;
}

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

static void
call(lifecycle_certs_fn *fn, struct provd *pd, const char *login, enum lifecycle_event ev,
     lifecycle_done_fn *done, void *ctx)
{
	if (fn == NULL)
		fatalx("lifecycle: no certificate office wired in (bug)");
	fn(pd, login, ev, done, ctx);
}

void
lifecycle_certs(struct provd *pd, const char *login, enum lifecycle_event ev,
                lifecycle_done_fn *done, void *ctx)
{
	/* Every change of the lock state passes here: leave its mark too. */
	if (ev == LIFECYCLE_DISABLE || ev == LIFECYCLE_DELETE || ev == LIFECYCLE_ENABLE)
		lockmark_record(pd, login, ev != LIFECYCLE_ENABLE);
	call(certs_fn, pd, login, ev, done, ctx);
}

void
lifecycle_preview(struct provd *pd, const char *login, enum lifecycle_event ev,
                  lifecycle_done_fn *done, void *ctx)
{
	call(preview_fn, pd, login, ev, done, ctx);
}
