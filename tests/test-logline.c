/*
 * test-logline.c - the decision log lines (milter/logline.c) as a table
 * of exact expected strings (DESIGN.md section 5), the H= forms, the
 * string_printing() escapes and the bounded, marked truncation.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../milter/logline.h"
#include "tap.h"

#define A	"user@example.org"
#define MX	"mx.example.org [192.0.2.10] : "
#define H1	"4Xy1Z2abcD H=mail.example.org [192.0.2.1] "
#define H2	"Q1 H=[192.0.2.1] "

static const logline_session s_named = { "4Xy1Z2abcD", "mail.example.org",
	"192.0.2.1", "mail.example.org", A, false };
static const logline_session s_bare = { "Q1", "", "192.0.2.1", NULL, A,
	false };
static const logline_session s_helo = { "Q2", NULL, "192.0.2.1",
	"friendly.example", A, false };
static const logline_session s_differs = { "Q3", "mail.example.org",
	"2001:db8::25", "HELO.bogus", A, false };
static const logline_session s_samecase = { "Q4", "mail.example.org",
	"192.0.2.1", "MAIL.Example.ORG", A, false };
static const logline_session s_noqueue = { "", "", "192.0.2.1", "", "",
	false };
static const logline_session s_tag = { "Q5", "", "192.0.2.1", "", A,
	true };
static const logline_session s_evil = { "Q6", "", "192.0.2.1",
	"evil\nQ7 H=forged", "x\x7f@example.org", false };

enum { VERIFY, RCPT, HEADER };

typedef struct lrow {
	const char *name;
	int type;
	const logline_session *s;
	/* VERIFY: the result and the action taken */
	cv_verdict verdict;
	cv_class class_;
	cv_dns_status dns;
	bool in_progress;
	const char *message;
	/* all */
	bool cached;
	long long elapsed;
	reply_action action;
	/* RCPT: reason; HEADER: outcome and syntax */
	const char *reason;
	reply_header_outcome outcome;
	const logline_syntax *syn;
	const char *want;
} lrow;

static const logline_syntax syn_bad = { "From", "'>' missing at end of "
	"address", "<bad@syntax" };
static const logline_syntax syn_nl = { "Reply-To", "\"@\" or \".\" expected "
	"after \"broken\"", "<broken\r\n continued" };

static const lrow rows[] = {
	/* sender verify ... */
	{ "verify fail", VERIFY, &s_named, CV_FAILED, CV_CLASS_RCPT, 0, false,
	  MX "SMTP error from remote mail server after RCPT TO:<" A ">: 550 "
	  "5.1.1 No such user", false, 123, REPLY_REJECT, NULL, 0, NULL,
	  H1 "sender verify fail for <" A ">: " MX "SMTP error from remote "
	  "mail server after RCPT TO:<" A ">: 550 5.1.1 No such user "
	  "cached=no elapsed=123" },
	{ "verify fail, cached", VERIFY, &s_named, CV_FAILED, CV_CLASS_RCPT,
	  0, false, "", true, 0, REPLY_REJECT, NULL, 0, NULL,
	  H1 "sender verify fail for <" A "> cached=yes elapsed=0" },
	{ "verify fail, cached, message kept by library", VERIFY, &s_named,
	  CV_FAILED, CV_CLASS_RCPT, 0, false, MX "old", true, 2, REPLY_REJECT,
	  NULL, 0, NULL,
	  H1 "sender verify fail for <" A "> cached=yes elapsed=2" },
	{ "verify fail, multi-line and 8-bit remote reply", VERIFY, &s_named,
	  CV_FAILED, CV_CLASS_RCPT, 0, false,
	  MX "SMTP error from remote mail server after RCPT TO:<" A ">: "
	  "550-Multiline\n550 bad \x80\xff\xff", false, 7, REPLY_REJECT, NULL,
	  0, NULL,
	  H1 "sender verify fail for <" A ">: " MX "SMTP error from remote "
	  "mail server after RCPT TO:<" A ">: 550-Multiline\\n550 bad "
	  "\\200\\377\\377 cached=no elapsed=7" },
	{ "verify fail, null sender refused", VERIFY, &s_named, CV_FAILED,
	  CV_CLASS_NULL_SENDER_REFUSED, 0, false,
	  MX "response to \"MAIL FROM:<>\" was: 550 no bounces", false, 40,
	  REPLY_REJECT, NULL, 0, NULL,
	  H1 "sender verify fail for <" A ">: " MX "response to \"MAIL "
	  "FROM:<>\" was: 550 no bounces cached=no elapsed=40" },
	{ "verify fail, probe refused and rejected", VERIFY, &s_named,
	  CV_UNKNOWN, CV_CLASS_PROBE_REFUSED, 0, false,
	  MX "SMTP error from remote mail server after initial connection: "
	  "554 5.7.1 go away", false, 30, REPLY_REJECT, NULL, 0, NULL,
	  H1 "sender verify fail for <" A ">: " MX "SMTP error from remote "
	  "mail server after initial connection: 554 5.7.1 go away "
	  "cached=no elapsed=30" },
	{ "verify defer, probe refused and accepted", VERIFY, &s_named,
	  CV_UNKNOWN, CV_CLASS_PROBE_REFUSED, 0, false,
	  MX "SMTP error from remote mail server after initial connection: "
	  "554 5.7.1 go away", false, 30, REPLY_CONTINUE, NULL, 0, NULL,
	  H1 "sender verify defer for <" A ">: Could not complete sender "
	  "verify callout: " MX "SMTP error from remote mail server after "
	  "initial connection: 554 5.7.1 go away cached=no elapsed=30" },
	{ "verify defer, timeout", VERIFY, &s_named, CV_UNKNOWN,
	  CV_CLASS_TIMEOUT, 0, false, MX "Connection timed out", false, 10003,
	  REPLY_TEMPFAIL, NULL, 0, NULL,
	  H1 "sender verify defer for <" A ">: Could not complete sender "
	  "verify callout: " MX "Connection timed out cached=no "
	  "elapsed=10003" },
	{ "verify defer, no detail", VERIFY, &s_bare, CV_UNKNOWN,
	  CV_CLASS_RCPT, 0, false, "", false, 5, REPLY_TEMPFAIL, NULL, 0, NULL,
	  H2 "sender verify defer for <" A ">: Could not complete sender "
	  "verify callout cached=no elapsed=5" },
	{ "verify defer, accepted by DeferOK", VERIFY, &s_bare, CV_UNKNOWN,
	  CV_CLASS_CONNECT, 0, false, MX "Connection refused", false, 1,
	  REPLY_CONTINUE, NULL, 0, NULL,
	  H2 "sender verify defer for <" A ">: Could not complete sender "
	  "verify callout: " MX "Connection refused cached=no elapsed=1" },
	{ "verify defer, in progress", VERIFY, &s_bare, CV_UNKNOWN,
	  CV_CLASS_NONE, 0, true, "", false, 25000, REPLY_TEMPFAIL, NULL, 0,
	  NULL,
	  H2 "sender verify defer for <" A ">: Could not complete sender "
	  "verify callout: probe still in progress cached=no elapsed=25000" },
	{ "verify fail, NXDOMAIN", VERIFY, &s_bare, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NXDOMAIN, false, "Unrouteable address", false, 4,
	  REPLY_REJECT, NULL, 0, NULL,
	  H2 "sender verify fail for <" A ">: Unrouteable address cached=no "
	  "elapsed=4" },
	{ "verify fail, NODATA, no message", VERIFY, &s_bare, CV_FAILED,
	  CV_CLASS_DNS, CV_DNS_NODATA, false, "", false, 4, REPLY_REJECT,
	  NULL, 0, NULL,
	  H2 "sender verify fail for <" A ">: Unrouteable address cached=no "
	  "elapsed=4" },
	{ "verify fail, NOHOSTS", VERIFY, &s_bare, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NOHOSTS, false, "", false, 9, REPLY_REJECT, NULL, 0, NULL,
	  H2 "sender verify fail for <" A ">: all relevant MX records point "
	  "to non-existent hosts cached=no elapsed=9" },
	{ "verify fail, null MX", VERIFY, &s_bare, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NULLMX, false, "", false, 3, REPLY_REJECT, NULL, 0, NULL,
	  H2 "sender verify fail for <" A ">: an MX or SRV record indicated "
	  "no SMTP service cached=no elapsed=3" },
	{ "verify defer, DNS", VERIFY, &s_bare, CV_UNKNOWN, CV_CLASS_DNS,
	  CV_DNS_TEMP, false, "host lookup did not complete", false, 5000,
	  REPLY_TEMPFAIL, NULL, 0, NULL,
	  H2 "sender verify defer for <" A ">: host lookup did not complete "
	  "cached=no elapsed=5000" },
	{ "verify defer, DNS, no message", VERIFY, &s_bare, CV_UNKNOWN,
	  CV_CLASS_DNS, CV_DNS_TEMP, false, "", false, 5000, REPLY_TEMPFAIL,
	  NULL, 0, NULL,
	  H2 "sender verify defer for <" A ">: host lookup did not complete "
	  "cached=no elapsed=5000" },
	{ "verify ok", VERIFY, &s_named, CV_VERIFIED, CV_CLASS_RCPT, 0, false,
	  MX "RCPT TO:<" A "> accepted: 250 2.1.5 OK", false, 87,
	  REPLY_CONTINUE, NULL, 0, NULL,
	  H1 "sender verify ok for <" A ">: " MX "RCPT TO:<" A "> accepted: "
	  "250 2.1.5 OK cached=no elapsed=87" },
	{ "verify ok, cached", VERIFY, &s_named, CV_VERIFIED, CV_CLASS_RCPT,
	  0, false, "", true, 0, REPLY_CONTINUE, NULL, 0, NULL,
	  H1 "sender verify ok for <" A "> cached=yes elapsed=0" },

	/* H= forms and escaping of session fields */
	{ "H=(helo) [ip] without a name", VERIFY, &s_helo, CV_VERIFIED,
	  CV_CLASS_CATCH_ALL, 0, false, "", false, 1, REPLY_CONTINUE, NULL, 0,
	  NULL,
	  "Q2 H=(friendly.example) [192.0.2.1] sender verify ok for <" A "> "
	  "cached=no elapsed=1" },
	{ "H=name (helo) [ip] when they differ", VERIFY, &s_differs,
	  CV_VERIFIED, CV_CLASS_RCPT, 0, false, "", false, 1, REPLY_CONTINUE,
	  NULL, 0, NULL,
	  "Q3 H=mail.example.org (HELO.bogus) [2001:db8::25] sender verify ok "
	  "for <" A "> cached=no elapsed=1" },
	{ "H=name [ip] when the helo matches in another case", VERIFY,
	  &s_samecase, CV_VERIFIED, CV_CLASS_RCPT, 0, false, "", false, 1,
	  REPLY_CONTINUE, NULL, 0, NULL,
	  "Q4 H=mail.example.org [192.0.2.1] sender verify ok for <" A "> "
	  "cached=no elapsed=1" },
	{ "no qid: NOQUEUE; null sender: F=<>", RCPT, &s_noqueue, 0, 0, 0,
	  false, NULL, false, 8, REPLY_REJECT, "Sender verify failed", 0, NULL,
	  "NOQUEUE H=[192.0.2.1] F=<> rejected RCPT <rcpt@example.net>: "
	  "Sender verify failed cached=no elapsed=8" },
	{ "helo and sender escaped", RCPT, &s_evil, 0, 0, 0, false, NULL,
	  false, 8, REPLY_REJECT, "Sender verify failed", 0, NULL,
	  "Q6 H=(evil\\nQ7 H=forged) [192.0.2.1] F=<x\\177@example.org> "
	  "rejected RCPT <rcpt@example.net>: Sender verify failed cached=no "
	  "elapsed=8" },

	/* rejected RCPT */
	{ "rejected RCPT", RCPT, &s_named, 0, 0, 0, false, NULL, false, 123,
	  REPLY_REJECT, "Sender verify failed", 0, NULL,
	  H1 "F=<" A "> rejected RCPT <rcpt@example.net>: Sender verify "
	  "failed cached=no elapsed=123" },
	{ "temporarily rejected RCPT", RCPT, &s_named, 0, 0, 0, false, NULL,
	  false, 10003, REPLY_TEMPFAIL,
	  "Could not complete sender verify callout", 0, NULL,
	  H1 "F=<" A "> temporarily rejected RCPT <rcpt@example.net>: Could "
	  "not complete sender verify callout cached=no elapsed=10003" },
	{ "temporarily rejected RCPT, DNS", RCPT, &s_bare, 0, 0, 0, false,
	  NULL, true, 0, REPLY_TEMPFAIL, "Could not complete sender verify",
	  0, NULL,
	  H2 "F=<" A "> temporarily rejected RCPT <rcpt@example.net>: Could "
	  "not complete sender verify cached=yes elapsed=0" },
	{ "accepted RCPT: no line", RCPT, &s_named, 0, 0, 0, false, NULL,
	  false, 1, REPLY_CONTINUE, "", 0, NULL, "" },
	{ "tag mode: would reject RCPT", RCPT, &s_tag, 0, 0, 0, false, NULL,
	  false, 2, REPLY_REJECT, "Sender verify failed", 0, NULL,
	  "Q5 H=[192.0.2.1] F=<" A "> would reject RCPT <rcpt@example.net>: "
	  "Sender verify failed cached=no elapsed=2" },
	{ "tag mode: would temporarily reject RCPT", RCPT, &s_tag, 0, 0, 0,
	  false, NULL, false, 2, REPLY_TEMPFAIL,
	  "Could not complete sender verify callout", 0, NULL,
	  "Q5 H=[192.0.2.1] F=<" A "> would temporarily reject RCPT "
	  "<rcpt@example.net>: Could not complete sender verify callout "
	  "cached=no elapsed=2" },

	/* after DATA */
	{ "header: no valid sender", HEADER, &s_bare, 0, 0, 0, false, NULL,
	  false, 300, REPLY_REJECT, NULL, REPLY_HEADER_FAILED, NULL,
	  H2 "F=<" A "> rejected after DATA: there is no valid sender in any "
	  "header line cached=no elapsed=300" },
	{ "header: all deferred", HEADER, &s_bare, 0, 0, 0, false, NULL,
	  false, 300, REPLY_TEMPFAIL, NULL, REPLY_HEADER_UNKNOWN, NULL,
	  H2 "F=<" A "> temporarily rejected after DATA: all attempts to "
	  "verify a sender in a header line deferred cached=no elapsed=300" },
	{ "header: syntax error", HEADER, &s_bare, 0, 0, 0, false, NULL,
	  false, 0, REPLY_REJECT, NULL, REPLY_HEADER_SYNTAX, &syn_bad,
	  H2 "F=<" A "> rejected after DATA: syntax error in 'From:' header "
	  "when scanning for sender: '>' missing at end of address in "
	  "\"<bad@syntax\" cached=no elapsed=0" },
	{ "header: syntax error, folded text escaped", HEADER, &s_bare, 0, 0,
	  0, false, NULL, false, 0, REPLY_REJECT, NULL, REPLY_HEADER_SYNTAX,
	  &syn_nl,
	  H2 "F=<" A "> rejected after DATA: syntax error in 'Reply-To:' "
	  "header when scanning for sender: \"@\" or \".\" expected after "
	  "\"broken\" in \"<broken\\r\\n continued\" cached=no elapsed=0" },
	{ "header: syntax given, outcome failed", HEADER, &s_bare, 0, 0, 0,
	  false, NULL, false, 1, REPLY_REJECT, NULL, REPLY_HEADER_FAILED,
	  &syn_bad,
	  H2 "F=<" A "> rejected after DATA: there is no valid sender in any "
	  "header line cached=no elapsed=1" },
	{ "header: verified, no line", HEADER, &s_bare, 0, 0, 0, false, NULL,
	  false, 1, REPLY_CONTINUE, NULL, REPLY_HEADER_VERIFIED, NULL, "" },
	{ "header: tag mode", HEADER, &s_tag, 0, 0, 0, false, NULL, false, 1,
	  REPLY_REJECT, NULL, REPLY_HEADER_FAILED, NULL,
	  "Q5 H=[192.0.2.1] F=<" A "> would reject after DATA: there is no "
	  "valid sender in any header line cached=no elapsed=1" },
};

static size_t
run_row(const lrow *t, char *buf, size_t size)
{
	static reply rep;
	cv_address addr;
	cv_result r;

	switch (t->type) {
	case VERIFY:
		memset(&addr, 0, sizeof(addr));
		(void)snprintf(addr.address, sizeof(addr.address), A);
		memset(&r, 0, sizeof(r));
		r.verdict = t->verdict;
		r.class_ = t->class_;
		r.dns = t->dns;
		r.in_progress = t->in_progress;
		r.cached = t->cached;
		r.elapsed_ms = t->elapsed;
		(void)snprintf(r.message, sizeof(r.message), "%s", t->message);
		return logline_verify(buf, size, t->s, &addr, &r, t->action);
	case RCPT:
		memset(&rep, 0, sizeof(rep));
		rep.action = t->action;
		(void)snprintf(rep.reason, sizeof(rep.reason), "%s", t->reason);
		return logline_rcpt(buf, size, t->s, "rcpt@example.net", &rep,
		    t->cached, t->elapsed);
	default:
		memset(&rep, 0, sizeof(rep));
		rep.action = t->action;
		return logline_header(buf, size, t->s, t->outcome, &rep,
		    t->syn, t->cached, t->elapsed);
	}
}

static void
test_table(void)
{
	char buf[LOGLINE_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		n = run_row(&rows[i], buf, sizeof(buf));
		tap_is_str(buf, rows[i].want, rows[i].name);
		tap_ok(n == strlen(buf), "%s: length returned", rows[i].name);
	}
}

/* The reply map's reason feeds the RCPT line. */
static void
test_with_reply(void)
{
	static reply rep;
	char buf[LOGLINE_MAX];
	cv_address addr;
	cv_result r;
	reply_policy pol;

	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.address, sizeof(addr.address), A);
	memset(&r, 0, sizeof(r));
	r.verdict = CV_FAILED;
	r.class_ = CV_CLASS_RCPT;
	reply_policy_init(&pol);
	pol.text[RT_FAILED] = "Go away, 100% sure";
	reply_for_sender(&pol, &addr, &r, &rep);
	(void)logline_rcpt(buf, sizeof(buf), &s_named, "rcpt@example.net",
	    &rep, false, 12);
	tap_is_str(buf, H1 "F=<" A "> rejected RCPT <rcpt@example.net>: Go "
	    "away, 100% sure cached=no elapsed=12",
	    "reason from the reply map, '%' not doubled in the log");

	reply_for_header(NULL, REPLY_HEADER_UNKNOWN, &rep);
	(void)logline_header(buf, sizeof(buf), &s_bare, REPLY_HEADER_UNKNOWN,
	    &rep, NULL, false, 3);
	tap_is_str(buf, H2 "F=<" A "> temporarily rejected after DATA: all "
	    "attempts to verify a sender in a header line deferred cached=no "
	    "elapsed=3", "header line from the reply map");
}

static void
test_escape(void)
{
	char buf[64];
	size_t n;

	n = logline_escape(buf, sizeof(buf), "a\tb\r\n\x01\\ \x7f\xc3\xa9",
	    12);
	tap_is_str(buf, "a\\tb\\r\\n\\001\\ \\177\\303\\251",
	    "escape: controls, backslash kept, 8-bit octal");
	tap_is_int((long long)n, (long long)strlen(buf), "escape: length");
	tap_is_int((long long)logline_escape(buf, sizeof(buf), "ab\0cd", 5),
	    2, "escape: stops at NUL");
	tap_is_str(buf, "ab", "escape: text before NUL");

	/* a cut never splits an escape and is marked */
	n = logline_escape(buf, 16, "abcdefgh\x80\x80\x80", 11);
	tap_is_str(buf, "abcd(truncated)", "escape: cut marked, whole units");
	tap_is_int((long long)n, 15, "escape: cut length fits");
	n = logline_escape(buf, 16, "abcdefghijklmno", 15);
	tap_is_str(buf, "abcdefghijklmno", "escape: exact fit not cut");
	n = logline_escape(buf, 5, "abcdefgh", 8);
	tap_is_str(buf, "abcd", "escape: too small for the marker");
	buf[0] = 'Q';
	tap_is_int((long long)logline_escape(buf, 0, "abc", 3), 0,
	    "escape: size 0 writes nothing");
	tap_ok(buf[0] == 'Q', "escape: size 0 leaves the buffer");
}

static void
test_truncation(void)
{
	char buf[LOGLINE_MAX];
	char big[CV_REPLY_MAX + 2 * CV_PATH_MAX];
	char small[120];
	cv_address addr;
	cv_result r;
	size_t n;

	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.address, sizeof(addr.address), A);
	memset(&r, 0, sizeof(r));
	r.verdict = CV_FAILED;
	r.class_ = CV_CLASS_RCPT;
	r.elapsed_ms = 1;
	memset(big, '\x80', sizeof(big) - 1);	/* 4 characters each */
	big[sizeof(big) - 1] = '\0';
	memcpy(r.message, big, sizeof(r.message));
	n = logline_verify(buf, sizeof(buf), &s_bare, &addr, &r,
	    REPLY_REJECT);
	tap_ok(n == strlen(buf) && n < sizeof(buf), "long line: bounded "
	    "(%zu)", n);
	tap_ok(n > 40 && strcmp(buf + n - 35,
	    "\\200(truncated) cached=no elapsed=1") == 0,
	    "long line: marker, whole escape, tail kept");

	memset(r.message, 'm', 200);
	r.message[200] = '\0';
	n = logline_verify(small, sizeof(small), &s_bare, &addr, &r,
	    REPLY_REJECT);
	tap_is_str(small, H2 "sender verify fail for <" A ">: "
	    "mmmmmmmmmmmmmmmmmmmmmmmmmmmm(truncated) "
	    "cached=no elapsed=1", "small buffer: exact cut");
	tap_is_int((long long)n, (long long)sizeof(small) - 1,
	    "small buffer: filled");

	n = logline_verify(small, 10, &s_bare, &addr, &r, REPLY_REJECT);
	tap_is_str(small, "Q1 H=[192", "tiny buffer: body only");
	tap_is_int((long long)n, 9, "tiny buffer: length");
}

static void
test_long_header_text(void)
{
	char buf[LOGLINE_MAX], text[600], want[LOGLINE_MAX];
	logline_syntax syn = { "From", "bad", text };
	static reply rep;

	memset(text, 'h', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	reply_for_header(NULL, REPLY_HEADER_SYNTAX, &rep);
	(void)logline_header(buf, sizeof(buf), &s_bare, REPLY_HEADER_SYNTAX,
	    &rep, &syn, false, 0);
	(void)snprintf(want, sizeof(want), H2 "F=<" A "> rejected after DATA: "
	    "syntax error in 'From:' header when scanning for sender: bad in "
	    "\"%.*s...\" cached=no elapsed=0", LOGLINE_QUOTE_MAX, text);
	tap_is_str(buf, want, "long header text quoted up to the cap");
}

int
main(void)
{
	tap_diag("%zu log line rows", sizeof(rows) / sizeof(rows[0]));
	test_table();
	test_with_reply();
	test_escape();
	test_truncation();
	test_long_header_text();
	return tap_done();
}
