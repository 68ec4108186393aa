#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "pkitime.h"

#define COOKIE      "provd_self_csrf"
#define PAGE_MAX    32768
#define FIELD_PW    (PWRULES_MAX_BYTES + 2)

struct web {
	struct MHD_Daemon     *mhd;
	const struct web_conf *conf;
	bool                   secure_cookie;
	pthread_mutex_t        log_lock;
	time_t                 log_second;
	unsigned               log_count;
};

/* One POST in progress.  Wiped and freed when the request completes. */
struct req {
	struct MHD_PostProcessor *pp;
	struct timespec started;     /* CLOCK_MONOTONIC, first byte of the request */
	size_t body;
	bool   too_large;      /* body over WEB_BODY_MAX */
	bool   bad_field;      /* a field too long, holding NUL, or repeated */
	char   login[SELFDIR_LOGIN_MAX + 2];
	char   current[FIELD_PW];
	char   next[FIELD_PW];
	char   confirm[FIELD_PW];
	char   csrf[GUARD_TOKEN_BUFSZ + 1];
};

/* ---- a bounded text buffer for pages ----------------------------------- */

struct page {
	char   buf[PAGE_MAX];
	size_t len;
	bool   overflow;
};

static void page_add(struct page *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
page_add(struct page *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(p->buf) - p->len)
		p->overflow = true;
	else
		p->len += (size_t)n;
}

/* HTML-escaped text. */
static void
page_text(struct page *p, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': page_add(p, "&amp;"); break;
		case '<': page_add(p, "&lt;"); break;
		case '>': page_add(p, "&gt;"); break;
		case '"': page_add(p, "&quot;"); break;
		case '\'': page_add(p, "&#39;"); break;
		default: page_add(p, "%c", *s); break;
		}
	}
}

/* ---- messages ------------------------------------------------------------ */

enum outcome {
	OUT_FORM = 0,       /* a plain GET: no message */
	OUT_CHANGED,
	OUT_WRONG,          /* unknown login or wrong current password */
	OUT_MISSING,
	OUT_MISMATCH,
	OUT_TOO_SHORT,
	OUT_TOO_LONG,
	OUT_BAD_TEXT,
	OUT_SAME,
	OUT_HAS_LOGIN,
	OUT_HAS_NAME,
	OUT_COMMON,
	OUT_POLICY,
	OUT_DISABLED,
	OUT_EXPIRED,
	OUT_FORGED,         /* missing or bad form token */
	OUT_RATE,
	OUT_BAD_REQUEST,
	OUT_UNAVAILABLE,
	OUT_NOT_WRITER,     /* the directory's writer cannot be reached */
};

static const struct {
	const char *code;
	unsigned    status;
	const char *vi;
	const char *en;
} messages[] = {
	[OUT_FORM] = { "form", MHD_HTTP_OK, "", "" },
	[OUT_CHANGED] = { "changed", MHD_HTTP_OK,
	    "Đã đổi mật khẩu. Từ nay hãy dùng mật khẩu mới cho thư điện tử.",
	    "Your password has been changed. Use the new one for mail from now on." },
	[OUT_WRONG] = { "wrong-credentials", MHD_HTTP_BAD_REQUEST,
	    "Tên đăng nhập hoặc mật khẩu hiện tại không đúng.",
	    "The login or the current password is wrong." },
	[OUT_MISSING] = { "missing", MHD_HTTP_BAD_REQUEST,
	    "Hãy điền đủ cả bốn ô.", "Fill in all four fields." },
	[OUT_MISMATCH] = { "mismatch", MHD_HTTP_BAD_REQUEST,
	    "Hai lần nhập mật khẩu mới không khớp nhau.",
	    "The two new passwords differ." },
	[OUT_TOO_SHORT] = { "too-short", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới quá ngắn.", "The new password is too short." },
	[OUT_TOO_LONG] = { "too-long", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới quá dài (tối đa 128 byte).",
	    "The new password is too long (at most 128 bytes)." },
	[OUT_BAD_TEXT] = { "bad-text", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới có ký tự không hợp lệ (ký tự điều khiển).",
	    "The new password holds characters that are not allowed (control characters)." },
	[OUT_SAME] = { "same", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới phải khác mật khẩu hiện tại.",
	    "The new password must differ from the current one." },
	[OUT_HAS_LOGIN] = { "has-login", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới không được chứa tên đăng nhập.",
	    "The new password must not contain your login." },
	[OUT_HAS_NAME] = { "has-name", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới không được chứa tên của bạn.",
	    "The new password must not contain your name." },
	[OUT_COMMON] = { "common", MHD_HTTP_BAD_REQUEST,
	    "Mật khẩu mới là một mật khẩu phổ biến, dễ bị đoán.",
	    "The new password is a common one, easy to guess." },
	[OUT_POLICY] = { "policy", MHD_HTTP_BAD_REQUEST,
	    "Máy chủ thư mục từ chối mật khẩu mới (ví dụ: đã dùng gần đây).",
	    "The directory refused the new password (for example: used recently)." },
	[OUT_DISABLED] = { "disabled", MHD_HTTP_FORBIDDEN,
	    "Tài khoản này đang bị khóa. Hãy liên hệ bộ phận công nghệ thông tin của đơn vị.",
	    "This account is disabled. Contact your unit's IT office." },
	[OUT_EXPIRED] = { "expired", MHD_HTTP_FORBIDDEN,
	    "Mật khẩu ban đầu đã hết hạn. Hãy đề nghị bộ phận công nghệ thông tin cấp mật khẩu mới.",
	    "The initial password has expired. Ask your IT office for a new one." },
	[OUT_FORGED] = { "form-expired", MHD_HTTP_FORBIDDEN,
	    "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang rồi thử lại.",
	    "The form has expired or is not valid. Reload the page and try again." },
	[OUT_RATE] = { "rate-limited", MHD_HTTP_TOO_MANY_REQUESTS,
	    "Quá nhiều lần thử. Hãy đợi vài phút rồi thử lại.",
	    "Too many attempts. Wait a few minutes and try again." },
	[OUT_BAD_REQUEST] = { "bad-request", MHD_HTTP_BAD_REQUEST,
	    "Yêu cầu không hợp lệ.", "The request is not valid." },
	[OUT_UNAVAILABLE] = { "unavailable", MHD_HTTP_SERVICE_UNAVAILABLE,
	    "Dịch vụ tạm thời không dùng được. Hãy thử lại sau ít phút.",
	    "The service is unavailable for now. Try again in a few minutes." },
	[OUT_NOT_WRITER] = { "not-writer", MHD_HTTP_SERVICE_UNAVAILABLE,
	    "Đang chuyển máy chủ thư mục nên tạm thời chưa đổi được mật khẩu; mật khẩu chưa bị thay đổi. Hãy thử lại sau ít phút.",
	    "The directory is switching servers, so passwords cannot be changed right now; "
	    "yours has not been changed. Try again in a few minutes." },
};

/* ---- answers ------------------------------------------------------------- */

static const char style_css[] =
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;"
    "padding:0 1rem;line-height:1.5;color:#1b1b1b}\n"
    "h1{font-size:1.5rem}h2{font-size:1.1rem}\n"
    ".en{display:block;color:#555;font-size:.9em}\n"
    "label{display:block;margin-top:1rem;font-weight:600}\n"
    "input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\n"
    "input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}\n"
    "button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}\n"
    ".msg{padding:.75rem;border:2px solid #a51d2d;background:#fbe9eb}\n"
    ".msg.ok{border-color:#26a269;background:#e8f6ee}\n";

static void
common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Pragma", "no-cache");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len, const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
bilingual(struct page *p, const char *tag, const char *attrs, const char *vi,
    const char *en)
{
	page_add(p, "<%s%s>", tag, attrs);
	page_text(p, vi);
	page_add(p, " <span class=\"en\" lang=\"en\">");
	page_text(p, en);
	page_add(p, "</span></%s>\n", tag);
}

/* The form page (or the success page), with a message for `out`. */
static enum MHD_Result
show_page(struct web *w, struct MHD_Connection *c, enum outcome out,
    const char *login, const char *detail)
{
	struct page *p;
	char token[GUARD_TOKEN_BUFSZ], nonce[GUARD_NONCE_HEX + 1];
	char cookie[160], minlen[64], minlen_en[64];
	unsigned min = pwrules_min_length(w->conf->rules);
	enum MHD_Result ret;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MHD_NO;
	if (guard_token_new(w->conf->guard, time(NULL), token, nonce) < 0) {
		free(p);
		return MHD_NO;
	}
	snprintf(cookie, sizeof(cookie),
	    COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", nonce,
	    w->secure_cookie ? "; Secure" : "");
	page_add(p, "<!doctype html>\n<html lang=\"vi\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Đổi mật khẩu — Change your password</title>\n"
	    "<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n"
	    "<main id=\"main\" data-outcome=\"%s\">\n", messages[out].code);
	bilingual(p, "h1", "", "Đổi mật khẩu thư điện tử",
	    "Change your mail password");
	if (out == OUT_CHANGED) {
		bilingual(p, "p", " class=\"msg ok\" role=\"status\" id=\"outcome\"",
		    messages[out].vi, messages[out].en);
		page_add(p, "</main>\n</body>\n</html>\n");
		goto send;
	}
	if (out != OUT_FORM) {
		bilingual(p, "p", " class=\"msg\" role=\"alert\" id=\"outcome\"",
		    messages[out].vi, messages[out].en);
		if (detail != NULL && detail[0] != '\0') {
			page_add(p, "<p class=\"detail\">");
			page_text(p, detail);
			page_add(p, "</p>\n");
		}
	}
	bilingual(p, "h2", " id=\"rules\"", "Mật khẩu mới phải:",
	    "The new password must:");
	snprintf(minlen, sizeof(minlen), "có ít nhất %u ký tự;", min);
	snprintf(minlen_en, sizeof(minlen_en), "have at least %u characters;", min);
	page_add(p, "<ul aria-labelledby=\"rules\">\n");
	bilingual(p, "li", "", minlen, minlen_en);
	bilingual(p, "li", "", "không chứa tên đăng nhập hay tên của bạn;",
	    "not contain your login or your name;");
	bilingual(p, "li", "", "không phải là một mật khẩu phổ biến;",
	    "not be a common password;");
	bilingual(p, "li", "", "khác mật khẩu hiện tại.",
	    "differ from the current one.");
	page_add(p, "</ul>\n");
	/* Relative URLs: behind a proxy the page may live under a prefix
	 * (/password/ in provd-self(8)). */
	page_add(p, "<form method=\"post\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", token);
	bilingual(p, "label", " for=\"login\"",
	    "Tên đăng nhập hoặc địa chỉ thư", "Login or mail address");
	page_add(p, "<input id=\"login\" name=\"login\" type=\"text\" required "
	    "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" "
	    "maxlength=\"%d\" value=\"", SELFDIR_LOGIN_MAX);
	page_text(p, login != NULL ? login : "");
	page_add(p, "\">\n");
	bilingual(p, "label", " for=\"current\"", "Mật khẩu hiện tại",
	    "Current password");
	page_add(p, "<input id=\"current\" name=\"current\" type=\"password\" "
	    "required autocomplete=\"current-password\" maxlength=\"%d\">\n",
	    PWRULES_MAX_BYTES);
	bilingual(p, "label", " for=\"new\"", "Mật khẩu mới", "New password");
	page_add(p, "<input id=\"new\" name=\"new\" type=\"password\" required "
	    "autocomplete=\"new-password\" minlength=\"%u\" maxlength=\"%d\" "
	    "aria-describedby=\"rules\">\n", min, PWRULES_MAX_BYTES);
	bilingual(p, "label", " for=\"confirm\"", "Nhập lại mật khẩu mới",
	    "Repeat the new password");
	page_add(p, "<input id=\"confirm\" name=\"confirm\" type=\"password\" "
	    "required autocomplete=\"new-password\" minlength=\"%u\" "
	    "maxlength=\"%d\">\n", min, PWRULES_MAX_BYTES);
	page_add(p, "<button type=\"submit\">Đổi mật khẩu "
	    "<span class=\"en\" lang=\"en\">Change password</span></button>\n"
	    "</form>\n</main>\n</body>\n</html>\n");
send:
	if (p->overflow) {
		free(p);
		return MHD_NO;
	}
	ret = answer(c, messages[out].status, "text/html; charset=utf-8",
	    p->buf, p->len, cookie);
	free(p);
	return ret;
}

/* ---- client address and audit -------------------------------------------- */

static void
client_address(const struct web *w, struct MHD_Connection *c, char *out,
    size_t outsz)
{
	const union MHD_ConnectionInfo *ci;
	const char *xff;

	snprintf(out, outsz, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    ci->client_addr)->sin_addr, out, (socklen_t)outsz);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    ci->client_addr)->sin6_addr, out, (socklen_t)outsz);
	/* Behind the one trusted reverse proxy, the client is the last
	 * address it appended to X-Forwarded-For. */
	if (w->conf->trusted_proxy[0] == '\0' ||
	    strcmp(out, w->conf->trusted_proxy) != 0)
		return;
	xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	if (xff != NULL) {
		const char *last = strrchr(xff, ',');
		char cand[INET6_ADDRSTRLEN + 1];
		unsigned char bin[sizeof(struct in6_addr)];
		size_t n;

		last = last != NULL ? last + 1 : xff;
		while (*last == ' ')
			last++;
		n = strcspn(last, " ");
		if (n > 0 && n < sizeof(cand)) {
			memcpy(cand, last, n);
			cand[n] = '\0';
			if (inet_pton(AF_INET, cand, bin) == 1 ||
			    inet_pton(AF_INET6, cand, bin) == 1)
				snprintf(out, outsz, "%s", cand);
		}
	}
}

/* Refusals after a password check: syslog, WEB_LOG_PER_SECOND at most. */
static void
log_refusal(struct web *w, const char *what, const char *login,
    const char *address)
{
	time_t now = time(NULL);
	bool emit;

	pthread_mutex_lock(&w->log_lock);
	if (now != w->log_second) {
		w->log_second = now;
		w->log_count = 0;
	}
	emit = w->log_count++ < WEB_LOG_PER_SECOND;
	pthread_mutex_unlock(&w->log_lock);
	if (emit)
		syslog(LOG_AUTHPRIV | LOG_NOTICE,
		    "password change refused (%s): login=%s from=%s", what,
		    login, address);
}

/* A change: a durable JSON line, then syslog.  `login` is the directory's
 * uid ([a-z0-9]) and `address` came from inet_ntop: nothing to escape. */
static void
audit_change(struct web *w, const struct selfdir_person *p,
    const char *address, bool end_time_left)
{
	char line[1600], when[PKITIME_ISO_LEN + 1];
	int n;

	pkitime_format_iso(time(NULL), when);
	n = snprintf(line, sizeof(line),
	    "{\"time\":\"%s\",\"event\":\"password-change\",\"login\":\"%s\","
	    "\"address\":\"%s\",\"initial\":%s,\"outcome\":\"changed\"}\n",
	    when, p->login, address, p->initial ? "true" : "false");
	if (n > 0 && (size_t)n < sizeof(line) && w->conf->audit_fd >= 0) {
		if (write(w->conf->audit_fd, line, (size_t)n) != n ||
		    fdatasync(w->conf->audit_fd) < 0)
			syslog(LOG_ERR, "audit log: %m");
	}
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "password changed: login=%s from=%s",
	    p->login, address);
	if (end_time_left)
		syslog(LOG_WARNING, "password of %s changed but its initial "
		    "deadline (pwdEndTime) could not be removed", p->login);
}

/* ---- the change ---------------------------------------------------------- */

static enum outcome
rule_outcome(enum pwrule r)
{
	switch (r) {
	case PWR_OK: return OUT_FORM;
	case PWR_TOO_SHORT: return OUT_TOO_SHORT;
	case PWR_TOO_LONG: return OUT_TOO_LONG;
	case PWR_BAD_TEXT: return OUT_BAD_TEXT;
	case PWR_SAME: return OUT_SAME;
	case PWR_HAS_LOGIN: return OUT_HAS_LOGIN;
	case PWR_HAS_NAME: return OUT_HAS_NAME;
	case PWR_COMMON: return OUT_COMMON;
	}
	return OUT_BAD_REQUEST;
}

/* "Wrong login or password", never sooner than WEB_WRONG_MIN_MS after the
 * request began: an unknown login (no bind), a fast hash and a slow one
 * (yescrypt, tens of ms) then take the same time, so the answer's timing
 * does not tell which logins exist. */
static enum MHD_Result
answer_wrong(struct web *w, struct MHD_Connection *c, const struct req *rq)
{
	struct timespec until = rq->started;

	until.tv_nsec += (long)WEB_WRONG_MIN_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
	return show_page(w, c, OUT_WRONG, rq->login, NULL);
}

/* A login or address as typed: printable ASCII without spaces. */
static bool
plausible_login(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static enum MHD_Result
handle_change(struct web *w, struct MHD_Connection *c, struct req *rq)
{
	struct selfdir_person person;
	char address[INET6_ADDRSTRLEN + 8], err[256] = "";
	const char *cookie;
	enum outcome out;
	enum pwrule rule;
	enum selfdir_rc rc;
	time_t now = time(NULL);
	bool left = false;

	client_address(w, c, address, sizeof(address));
	if (rq->too_large || rq->bad_field)
		return show_page(w, c, OUT_BAD_REQUEST, NULL, NULL);
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	if (!guard_token_ok(w->conf->guard, rq->csrf, cookie, now))
		return show_page(w, c, OUT_FORGED, NULL, NULL);
	if (!guard_take_address(w->conf->guard, address, now))
		return show_page(w, c, OUT_RATE, NULL, NULL);
	if (rq->login[0] == '\0' || rq->current[0] == '\0' ||
	    rq->next[0] == '\0' || rq->confirm[0] == '\0')
		return show_page(w, c, OUT_MISSING, rq->login, NULL);
	if (strlen(rq->next) != strlen(rq->confirm) ||
	    CRYPTO_memcmp(rq->next, rq->confirm, strlen(rq->next)) != 0)
		return show_page(w, c, OUT_MISMATCH, rq->login, NULL);
	/* The rules that need nothing from the directory, first: they
	 * tell nothing about the account. */
	rule = pwrules_check(w->conf->rules, rq->next, rq->current, rq->login,
	    NULL);
	if (rule != PWR_OK)
		return show_page(w, c, rule_outcome(rule), rq->login, NULL);
	if (!plausible_login(rq->login) ||
	    strlen(rq->login) > SELFDIR_LOGIN_MAX)
		return answer_wrong(w, c, rq);
	if (!guard_take_account(w->conf->guard, rq->login, now))
		return show_page(w, c, OUT_RATE, rq->login, NULL);
	rc = selfdir_lookup(w->conf->dir, rq->login, &person, err, sizeof(err));
	if (rc == SELFDIR_NOT_FOUND)
		return answer_wrong(w, c, rq);
	if (rc != SELFDIR_OK) {
		syslog(LOG_ERR, "directory: %s", err);
		return show_page(w, c, OUT_UNAVAILABLE, rq->login, NULL);
	}
	/* Typed as a mail address, the attempt also counts against the
	 * login itself: the account has one bucket, whichever name it is
	 * reached by. */
	if (strcasecmp(rq->login, person.login) != 0 &&
	    !guard_take_account(w->conf->guard, person.login, now))
		return show_page(w, c, OUT_RATE, rq->login, NULL);
	/* slapd refuses every bind of these two; say why instead of
	 * "wrong password" (see docs/selfservice.md on what this shows). */
	if (person.disabled)
		return show_page(w, c, OUT_DISABLED, rq->login, NULL);
	if (person.initial && person.end_time != 0 && person.end_time <= now)
		return show_page(w, c, OUT_EXPIRED, rq->login, NULL);
	rule = pwrules_check(w->conf->rules, rq->next, rq->current,
	    person.login, person.cn);
	if (rule == PWR_OK && person.mail[0] != '\0')
		rule = pwrules_check(w->conf->rules, rq->next, NULL,
		    person.mail, NULL);
	if (rule != PWR_OK) {
		/* Checked against the name only once the password is known to
		 * be right, so a wrong guess learns nothing of the name. */
		rc = selfdir_change(w->conf->dir, &person, rq->current, NULL,
		    &left, err, sizeof(err));
		if (rc == SELFDIR_BAD_PASSWORD) {
			log_refusal(w, "wrong credentials", person.login, address);
			return answer_wrong(w, c, rq);
		}
		if (rc != SELFDIR_OK) {
			syslog(LOG_ERR, "directory: %s", err);
			return show_page(w, c, OUT_UNAVAILABLE, rq->login, NULL);
		}
		return show_page(w, c, rule_outcome(rule), rq->login, NULL);
	}
	rc = selfdir_change(w->conf->dir, &person, rq->current, rq->next, &left,
	    err, sizeof(err));
	switch (rc) {
	case SELFDIR_OK:
		audit_change(w, &person, address, left);
		out = OUT_CHANGED;
		break;
	case SELFDIR_BAD_PASSWORD:
	case SELFDIR_NOT_FOUND:
		log_refusal(w, "wrong credentials", person.login, address);
		return answer_wrong(w, c, rq);
	case SELFDIR_POLICY:
		log_refusal(w, "directory policy", person.login, address);
		return show_page(w, c, OUT_POLICY, rq->login, err);
	case SELFDIR_NOT_WRITER:
		syslog(LOG_WARNING, "password change of %s refused: %s", person.login, err);
		out = OUT_NOT_WRITER;
		break;
	default:
		syslog(LOG_ERR, "directory: %s", err);
		out = OUT_UNAVAILABLE;
		break;
	}
	return show_page(w, c, out, out == OUT_CHANGED ? NULL : rq->login, NULL);
}

/* ---- libmicrohttpd glue ---------------------------------------------------- */

static char *
field_buffer(struct req *rq, const char *key, size_t *cap)
{
	static const struct {
		const char *name;
		size_t      off;
		size_t      cap;
	} fields[] = {
		{ "login", offsetof(struct req, login), sizeof(((struct req *)0)->login) },
		{ "current", offsetof(struct req, current), FIELD_PW },
		{ "new", offsetof(struct req, next), FIELD_PW },
		{ "confirm", offsetof(struct req, confirm), FIELD_PW },
		{ "csrf", offsetof(struct req, csrf), sizeof(((struct req *)0)->csrf) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, key) == 0) {
			*cap = fields[i].cap;
			return (char *)rq + fields[i].off;
		}
	}
	return NULL;
}

static enum MHD_Result
post_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct req *rq = cls;
	size_t cap, have;
	char *buf;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if ((buf = field_buffer(rq, key, &cap)) == NULL)
		return MHD_YES;                 /* unknown fields are ignored */
	have = strlen(buf);
	if (off != have || (off == 0 && have != 0)) {
		rq->bad_field = true;           /* a repeated field */
		return MHD_YES;
	}
	if (size >= cap - have || memchr(data, '\0', size) != NULL) {
		rq->bad_field = true;
		return MHD_YES;
	}
	memcpy(buf + have, data, size);
	buf[have + size] = '\0';
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct web *w = cls;
	struct req *rq = *state;

	(void)version;
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
		if (strcmp(url, "/") != 0)
			return answer(c, MHD_HTTP_NOT_FOUND, "text/plain",
			    "not found\n", 10, NULL);
		if (rq == NULL) {
			if ((rq = calloc(1, sizeof(*rq))) == NULL)
				return MHD_NO;
			clock_gettime(CLOCK_MONOTONIC, &rq->started);
			rq->pp = MHD_create_post_processor(c, 1024, post_field, rq);
			*state = rq;
			return MHD_YES;
		}
		if (*upload_size > 0) {
			struct timespec now;

			/* A body trickled in slower than this is dropped: the
			 * idle timeout alone would let it hold a slot forever. */
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - rq->started.tv_sec > WEB_REQUEST_MAX)
				return MHD_NO;
			rq->body += *upload_size;
			if (rq->body > WEB_BODY_MAX)
				rq->too_large = true;
			else if (rq->pp == NULL ||
			    MHD_post_process(rq->pp, upload, *upload_size) != MHD_YES)
				rq->bad_field = true;
			*upload_size = 0;
			return MHD_YES;
		}
		if (rq->pp == NULL)
			rq->bad_field = true;   /* not a urlencoded form */
		return handle_change(w, c, rq);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    "method not allowed\n", 19, NULL);
	if (strcmp(url, "/") == 0)
		return show_page(w, c, OUT_FORM, NULL, NULL);
	if (strcmp(url, "/style.css") == 0)
		return answer(c, MHD_HTTP_OK, "text/css; charset=utf-8",
		    style_css, sizeof(style_css) - 1, NULL);
	return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10,
	    NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *state;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	if (rq->pp != NULL)
		MHD_destroy_post_processor(rq->pp);
	OPENSSL_cleanse(rq, sizeof(*rq));
	free(rq);
	*state = NULL;
}

struct web *
web_start(const struct web_conf *conf, char *err, size_t errlen)
{
	struct web *w;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	const struct sockaddr *sa;
	unsigned per_address = WEB_PER_ADDRESS;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, conf->listen, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		in4.sin_port = htons((uint16_t)conf->port);
		sa = (const struct sockaddr *)&in4;
	} else if (inet_pton(AF_INET6, conf->listen, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons((uint16_t)conf->port);
		sa = (const struct sockaddr *)&in6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "listen: \"%s\" is not an IP address",
		    conf->listen);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Behind the trusted proxy every connection comes from it: a limit
	 * per address would let eight slow requests shut everyone out. */
	if (conf->trusted_proxy[0] != '\0')
		per_address = WEB_CONNECTIONS;
	w->conf = conf;
	w->secure_cookie = strncmp(conf->public_url, "https:", 6) == 0;
	pthread_mutex_init(&w->log_lock, NULL);
	w->mhd = MHD_start_daemon(flags, (uint16_t)conf->port, NULL, NULL,
	    on_request, w,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (w->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %u: %s",
		    conf->listen, conf->port, strerror(errno));
		pthread_mutex_destroy(&w->log_lock);
		free(w);
		return NULL;
	}
	return w;
}

unsigned
web_port(const struct web *w)
{
	const union MHD_DaemonInfo *i;

	i = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
	return i != NULL ? i->port : 0;
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	MHD_stop_daemon(w->mhd);
	pthread_mutex_destroy(&w->log_lock);
	free(w);
}
