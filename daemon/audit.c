/* audit — syslog lines for every command. See audit.h. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "text.h"
#include "wire.h"

struct audit {
	char *dir;
};

int
audit_open(struct audit **out, const char *state_dir, char *err, size_t errlen)
{
	struct audit *a = calloc(1, sizeof(*a));

	(void)err;
	(void)errlen;
	if (a == NULL)
		return -1;
	if (state_dir != NULL && (a->dir = strdup(state_dir)) == NULL) {
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	free(a->dir);
	free(a);
}

static void
append(char *out, size_t outsz, size_t *off, const char *s, size_t n)
{
	char clean[160];

	if (n > 120)
		n = 120;
	text_sanitize(s, n, clean, sizeof(clean));
	if (*off < outsz) {
		int k = snprintf(out + *off, outsz - *off, "%s%s", *off ? " " : "", clean);
		if (k > 0)
			*off += (size_t)k;
	}
}

void
audit_format_args(const struct request *req, char *out, size_t outsz)
{
	const struct cmd_args *a = &req->args;
	size_t i, off = 0;
	char tmp[64];

	out[0] = '\0';
	if (req->spec == NULL) {
		/* Refused before parsing: show the raw words, briefly. */
		for (i = 2; i < req->msg.nfields && i < 8; i++)
			append(out, outsz, &off, req->msg.f[i].ptr, req->msg.f[i].len);
		return;
	}
	for (i = 0; i < a->noperands; i++)
		append(out, outsz, &off, a->operand[i], strlen(a->operand[i]));
	for (i = 0; i < a->ngiven; i++) {
		const struct cmd_given *g = &a->given[i];

		snprintf(tmp, sizeof(tmp), "--%s", g->opt->name);
		append(out, outsz, &off, tmp, strlen(tmp));
		switch (g->opt->kind) {
		case OPT_FLAG:
			break;
		case OPT_SECRET_FILE:
		case OPT_SECRET_STDIN:
			append(out, outsz, &off, "[redacted]", 10);
			break;
		case OPT_FILE:
			snprintf(tmp, sizeof(tmp), "[%zu bytes]", g->len);
			append(out, outsz, &off, tmp, strlen(tmp));
			break;
		default:
			append(out, outsz, &off, g->value, g->len);
			break;
		}
	}
}

void
audit_request(struct audit *a, const struct request *req, int code, const char *msg)
{
	char args[1024], cmd[64], clean[300];
	const char *noun = req->msg.nfields > 0 ? req->msg.f[0].ptr : "?";
	const char *verb = req->msg.nfields > 1 ? req->msg.f[1].ptr : "";

	(void)a;
	text_sanitize(noun, strnlen(noun, 24), cmd, 30);
	if (verb[0] != '\0') {
		size_t n = strlen(cmd);
		cmd[n] = ' ';
		text_sanitize(verb, strnlen(verb, 24), cmd + n + 1, sizeof(cmd) - n - 1);
	}
	audit_format_args(req, args, sizeof(args));
	text_sanitize(msg, strlen(msg), clean, sizeof(clean));
	log_audit("uid=%u user=%s pid=%d cmd=\"%s\" args=\"%s\"%s%s result=%s(%d) "
	          "ms=%llu msg=\"%s\"",
	          (unsigned)req->peer.uid, req->peer.name, (int)req->peer.pid, cmd,
	          args, req->audit_note[0] ? " " : "", req->audit_note,
	          wire_status_name(code), code,
	          (unsigned long long)(loop_now_ms() - req->started_ms), clean);
}
