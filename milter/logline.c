/*
 * logline.c - formats the decision log lines of DESIGN.md section 5.
 *
 * Guarantees: the output is one line, NUL-terminated, never longer than
 * the caller's buffer, with every byte from outside escaped as Exim's
 * string_printing() does (so nothing an SMTP peer sends can forge a log
 * line).  A cut is always marked "(truncated)" and never splits an
 * escape; the " cached=... elapsed=..." tail survives a cut.  Pure string
 * functions: no syslog, no allocation, no failure (a buffer of size 0 is
 * left alone).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "logline.h"

#define TRUNC_MARK	"(truncated)"
#define TRUNC_LEN	(sizeof(TRUNC_MARK) - 1)

/* A line being written: units ("a", "\n", "\303") go in whole. */
typedef struct logbuf {
	char *s;
	size_t cap;	/* characters allowed, without the NUL */
	size_t len;
	size_t mark;	/* last unit end leaving room for TRUNC_MARK */
	bool full;
} logbuf;

static void
logbuf_init(logbuf *b, char *s, size_t cap)
{
	b->s = s;
	b->cap = cap;
	b->len = 0;
	b->mark = 0;
	b->full = false;
	s[0] = '\0';
}

static void
logbuf_unit(logbuf *b, const char *unit, size_t n)
{
	if (b->full)
		return;
	if (b->len + n > b->cap) {
		/* no room for the marker at all: keep what fits */
		if (b->cap >= TRUNC_LEN) {
			b->len = b->mark;
			memcpy(b->s + b->len, TRUNC_MARK, TRUNC_LEN);
			b->len += TRUNC_LEN;
			b->s[b->len] = '\0';
		}
		b->full = true;
		return;
	}
	memcpy(b->s + b->len, unit, n);
	b->len += n;
	b->s[b->len] = '\0';
	if (b->len + TRUNC_LEN <= b->cap)
		b->mark = b->len;
}

/* The controls string_printing() writes as a backslash and a letter. */
static const char ctl_chars[] = "\n\r\t\b\v\f";
static const char ctl_letters[] = "nrtbvf";

/* Add at most n bytes of text (fewer at a NUL), escaped. */
static void
logbuf_addn(logbuf *b, const char *text, size_t n)
{
	char unit[8];
	size_t i;

	if (text == NULL)
		return;
	for (i = 0; i < n && text[i] != '\0' && !b->full; i++) {
		unsigned char c = (unsigned char)text[i];
		const char *esc = c != '\0' ? strchr(ctl_chars, c) : NULL;

		if (esc != NULL) {
			unit[0] = '\\';
			unit[1] = ctl_letters[esc - ctl_chars];
			logbuf_unit(b, unit, 2);
		} else if (c >= 0x20 && c <= 0x7e) {
			unit[0] = (char)c;
			logbuf_unit(b, unit, 1);
		} else {
			(void)snprintf(unit, sizeof(unit), "\\%03o", c);
			logbuf_unit(b, unit, 4);
		}
	}
}

static void
logbuf_add(logbuf *b, const char *text)
{
	if (text != NULL)
		logbuf_addn(b, text, strlen(text));
}

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

size_t
logline_escape(char *buf, size_t size, const char *text, size_t len)
{
	logbuf b;

	if (size == 0)
		return 0;
	logbuf_init(&b, buf, size - 1);
	logbuf_addn(&b, text, len);
	return b.len;
}

/* "<qid> H=<client> " (Exim's host_and_ident). */
static void
logbuf_session(logbuf *b, const logline_session *s)
{
	const char *qid = str_or_empty(s != NULL ? s->qid : NULL);
	const char *name = str_or_empty(s != NULL ? s->client_name : NULL);
	const char *helo = str_or_empty(s != NULL ? s->helo : NULL);
	const char *ip = str_or_empty(s != NULL ? s->client_ip : NULL);

	logbuf_add(b, qid[0] != '\0' ? qid : "NOQUEUE");
	logbuf_add(b, " H=");
	logbuf_add(b, name);
	if (helo[0] != '\0' && strcasecmp(helo, name) != 0) {
		logbuf_add(b, name[0] != '\0' ? " (" : "(");
		logbuf_add(b, helo);
		logbuf_add(b, ")");
	}
	if (name[0] != '\0' || helo[0] != '\0')
		logbuf_add(b, " ");
	logbuf_add(b, "[");
	logbuf_add(b, ip);
	logbuf_add(b, "] ");
}

/* "F=<sender> " */
static void
logbuf_sender(logbuf *b, const logline_session *s)
{
	logbuf_add(b, "F=<");
	logbuf_add(b, s != NULL ? s->sender : NULL);
	logbuf_add(b, "> ");
}

/*
 * Write the body with build(), then the " cached=.. elapsed=.." tail,
 * which is kept even when the body is cut.
 */
typedef void body_fn(logbuf *b, const void *ctx);

static size_t
logline_write(char *buf, size_t size, body_fn *build, const void *ctx,
	      bool cached, int64_t elapsed_ms)
{
	char tail[64];
	size_t tail_len;
	logbuf b;

	if (size == 0)
		return 0;
	(void)snprintf(tail, sizeof(tail), " cached=%s elapsed=%lld",
	    cached ? "yes" : "no", (long long)elapsed_ms);
	tail_len = strlen(tail);
	if (tail_len > size - 1)
		tail_len = 0;	/* a silly buffer: body only */
	logbuf_init(&b, buf, size - 1 - tail_len);
	build(&b, ctx);
	memcpy(buf + b.len, tail, tail_len);
	buf[b.len + tail_len] = '\0';
	return b.len + tail_len;
}

/* ------------------------------------------------------------------ */
/* sender verify ...                                                   */
/* ------------------------------------------------------------------ */

typedef struct verify_ctx {
	const logline_session *s;
	const cv_address *addr;
	const cv_result *r;
	reply_action action;
} verify_ctx;

/* The DNS text when the library gave none. */
static const char *
dns_default(reply_kind kind)
{
	switch (kind) {
	case REPLY_KIND_UNROUTEABLE:
		return "Unrouteable address";
	case REPLY_KIND_NOHOSTS:
		return "all relevant MX records point to non-existent hosts";
	case REPLY_KIND_NULL_MX:
		return "an MX or SRV record indicated no SMTP service";
	default:
		return "host lookup did not complete";
	}
}

/* ": <message>", or nothing when the library left it empty. */
static void
logbuf_message(logbuf *b, const cv_result *r)
{
	if (r->message[0] == '\0')
		return;
	logbuf_add(b, ": ");
	logbuf_add(b, r->message);
}

static void
verify_body(logbuf *b, const void *ctxp)
{
	const verify_ctx *c = ctxp;
	const cv_result *r = c->r;
	reply_kind kind = reply_classify(r);
	bool dns = kind == REPLY_KIND_UNROUTEABLE ||
	    kind == REPLY_KIND_NOHOSTS || kind == REPLY_KIND_NULL_MX ||
	    kind == REPLY_KIND_DNS_DEFER;

	logbuf_session(b, c->s);
	if (kind == REPLY_KIND_VERIFIED)
		logbuf_add(b, "sender verify ok for <");
	else if (c->action == REPLY_REJECT)
		logbuf_add(b, "sender verify fail for <");
	else
		logbuf_add(b, "sender verify defer for <");
	logbuf_add(b, c->addr != NULL ? c->addr->address : NULL);
	logbuf_add(b, ">");

	if (kind == REPLY_KIND_VERIFIED) {
		logbuf_message(b, r);
	} else if (dns) {
		logbuf_add(b, ": ");
		logbuf_add(b, r->message[0] != '\0' ? r->message :
		    dns_default(kind));
	} else if (c->action == REPLY_REJECT) {
		/* Exim: a cached failure has no ": message" part */
		if (!r->cached || kind != REPLY_KIND_FAILED)
			logbuf_message(b, r);
	} else {
		logbuf_add(b, ": Could not complete sender verify callout");
		if (kind == REPLY_KIND_IN_PROGRESS)
			logbuf_add(b, ": probe still in progress");
		else
			logbuf_message(b, r);
	}
}

size_t
logline_verify(char *buf, size_t size, const logline_session *s,
	       const cv_address *addr, const cv_result *r,
	       reply_action action)
{
	verify_ctx c = { s, addr, r, action };

	return logline_write(buf, size, verify_body, &c, r->cached,
	    r->elapsed_ms);
}

/* ------------------------------------------------------------------ */
/* rejected RCPT, rejected after DATA                                  */
/* ------------------------------------------------------------------ */

/* "rejected", "temporarily rejected", or the tag-mode forms. */
static const char *
action_words(const logline_session *s, reply_action action)
{
	bool tag = s != NULL && s->tag;

	if (action == REPLY_REJECT)
		return tag ? "would reject" : "rejected";
	return tag ? "would temporarily reject" : "temporarily rejected";
}

typedef struct rcpt_ctx {
	const logline_session *s;
	const char *rcpt;
	const reply *rep;
} rcpt_ctx;

static void
rcpt_body(logbuf *b, const void *ctxp)
{
	const rcpt_ctx *c = ctxp;

	logbuf_session(b, c->s);
	logbuf_sender(b, c->s);
	logbuf_add(b, action_words(c->s, c->rep->action));
	logbuf_add(b, " RCPT <");
	logbuf_add(b, c->rcpt);
	logbuf_add(b, ">: ");
	logbuf_add(b, c->rep->reason);
}

size_t
logline_rcpt(char *buf, size_t size, const logline_session *s,
	     const char *rcpt, const reply *rep, bool cached,
	     int64_t elapsed_ms)
{
	rcpt_ctx c = { s, rcpt, rep };

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (rep->action == REPLY_CONTINUE)
		return 0;
	return logline_write(buf, size, rcpt_body, &c, cached, elapsed_ms);
}

typedef struct header_ctx {
	const logline_session *s;
	reply_header_outcome outcome;
	const reply *rep;
	const logline_syntax *syn;
} header_ctx;

static void
header_body(logbuf *b, const void *ctxp)
{
	const header_ctx *c = ctxp;
	const char *text;
	size_t n;

	logbuf_session(b, c->s);
	logbuf_sender(b, c->s);
	logbuf_add(b, action_words(c->s, c->rep->action));
	logbuf_add(b, " after DATA: ");
	if (c->rep->action == REPLY_TEMPFAIL) {
		logbuf_add(b, "all attempts to verify a sender in a header "
		    "line deferred");
	} else if (c->syn != NULL) {
		logbuf_add(b, "syntax error in '");
		logbuf_add(b, c->syn->header);
		logbuf_add(b, ":' header when scanning for sender: ");
		logbuf_add(b, c->syn->why);
		logbuf_add(b, " in \"");
		text = str_or_empty(c->syn->text);
		n = strlen(text);
		logbuf_addn(b, text, n > LOGLINE_QUOTE_MAX ?
		    LOGLINE_QUOTE_MAX : n);
		if (n > LOGLINE_QUOTE_MAX)
			logbuf_add(b, "...");
		logbuf_add(b, "\"");
	} else {
		logbuf_add(b, "there is no valid sender in any header line");
	}
}

size_t
logline_header(char *buf, size_t size, const logline_session *s,
	       reply_header_outcome outcome, const reply *rep,
	       const logline_syntax *syn, bool cached, int64_t elapsed_ms)
{
	header_ctx c = { s, outcome, rep,
	    outcome == REPLY_HEADER_SYNTAX ? syn : NULL };

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (rep->action == REPLY_CONTINUE)
		return 0;
	return logline_write(buf, size, header_body, &c, cached, elapsed_ms);
}

/* ------------------------------------------------------------------ */
/* SPF                                                                 */
/* ------------------------------------------------------------------ */

typedef struct spf_ctx {
	const logline_session *s;
	const char *result;
	const char *detail;
	const char *action;
} spf_ctx;

static void
spf_body(logbuf *b, const void *ctxp)
{
	const spf_ctx *c = ctxp;
	const char *sender = str_or_empty(c->s != NULL ? c->s->sender : NULL);

	logbuf_session(b, c->s);
	logbuf_add(b, "SPF ");
	logbuf_add(b, c->result);
	logbuf_add(b, " for <");
	if (sender[0] == '\0' && c->s != NULL && c->s->helo != NULL &&
	    c->s->helo[0] != '\0') {
		logbuf_add(b, "postmaster@");
		logbuf_add(b, c->s->helo);
	} else {
		logbuf_add(b, sender);
	}
	logbuf_add(b, ">");
	if (c->detail != NULL && c->detail[0] != '\0') {
		logbuf_add(b, ": ");
		logbuf_add(b, c->detail);
	}
	logbuf_add(b, " -> ");
	logbuf_add(b, c->action);
}

size_t
logline_spf(char *buf, size_t size, const logline_session *s,
	    const char *result, const char *detail, const char *action,
	    int64_t elapsed_ms)
{
	spf_ctx c = { s, str_or_empty(result), detail, str_or_empty(action) };

	return logline_write(buf, size, spf_body, &c, false, elapsed_ms);
}
