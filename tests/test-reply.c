/*
 * test-reply.c - the reply map (milter/reply.c) as a table: one row per
 * verdict / class / DNS status / cached / policy combination, with the
 * exact code, enhanced code and lines (DESIGN.md section 4), then the
 * sanitizing cases (8-bit, '%', long remote replies, long lines).
 *
 * Every reply is also checked for the invariants smfi_setmlreply needs:
 * code and enhanced code agree in their first digit, printable ASCII,
 * no lone '%', line count and length within the limits.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../milter/reply.h"
#include "tap.h"

#define A	"user@example.org"
#define IP	"192.0.2.10"
#define CALLED	"Called:   " IP
#define SENT_R	"Sent:     RCPT TO:<" A ">"
#define SENT_M	"Sent:     MAIL FROM:<>"
#define VF	"Verification failed for <" A ">"
#define SVF	"Sender verify failed"
#define DEFER	"Could not complete sender verify callout"
#define CACHED	"Previous (cached) callout verification failure"
#define NS_HEAD	"Callback setup failed while verifying <" A ">"
#define NS1	"The initial connection, or a HELO or MAIL FROM:<> command was"
#define NS2	"rejected. Refusing MAIL FROM:<> does not help fight spam, disregards"
#define NS3	"RFC requirements, and stops you from receiving standard bounce"
#define NS4	"messages. This host does not accept mail from domains whose servers"
#define NS5	"refuse bounces."
#define PM_HEAD	"Postmaster verification failed while checking <" A ">"
#define PM1	"Several RFCs state that you are required to have a postmaster"
#define PM2	"mailbox for each mail domain. This host does not accept mail"
#define PM3	"from domains whose servers reject the postmaster address."
#define NOUSER	"550 5.1.1 No such user"

/* The policies rows refer to; set up in main(). */
enum {
	P_DEFAULT = 0,
	P_NODETAILS,
	P_DEFEROK,
	P_PROBE_TEMPFAIL,
	P_PROBE_TEMPFAIL_DEFEROK,
	P_PROBE_REJECT,
	P_NULL_ACCEPT,
	P_NULL_TEMPFAIL,
	P_TEXTS,
	P_COUNT
};
static reply_policy policies[P_COUNT];

typedef struct row {
	const char *name;
	int pol;
	/* the result */
	cv_verdict verdict;
	cv_class class_;
	cv_dns_status dns;
	bool cached;
	bool in_progress;
	const char *addr;	/* NULL: A */
	const char *ip;		/* NULL: IP; "" none */
	const char *sent;
	const char *remote;
	/* the reply */
	reply_action action;
	const char *code;
	const char *xcode;
	const char *lines[16];	/* NULL-terminated */
	const char *reason;	/* NULL: the last line */
} row;

#define REJ(xc)	REPLY_REJECT, "550", xc
#define TMP	REPLY_TEMPFAIL, "451", "4.4.3"
#define CONT	REPLY_CONTINUE, "", ""

static const row rows[] = {
	/* verified */
	{ "verified", P_DEFAULT, CV_VERIFIED, CV_CLASS_RCPT, 0, false, false,
	  NULL, NULL, "RCPT TO:<" A ">", "250 2.1.5 OK", CONT, { NULL }, "" },
	{ "verified, cached", P_DEFAULT, CV_VERIFIED, CV_CLASS_RCPT, 0, true,
	  false, NULL, NULL, "", "", CONT, { NULL }, "" },
	{ "catch-all", P_DEFAULT, CV_VERIFIED, CV_CLASS_CATCH_ALL, 0, false,
	  false, NULL, NULL, "", "", CONT, { NULL }, "" },
	{ "verified, DeferOK", P_DEFEROK, CV_VERIFIED, CV_CLASS_RCPT, 0,
	  false, false, NULL, NULL, "", "", CONT, { NULL }, "" },

	/* the mailbox does not exist */
	{ "RCPT 550", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0, false, false,
	  NULL, NULL, "RCPT TO:<" A ">", NOUSER, REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: " NOUSER, SVF, NULL }, NULL },
	{ "RCPT 550, ReplyDetails no", P_NODETAILS, CV_FAILED, CV_CLASS_RCPT,
	  0, false, false, NULL, NULL, "RCPT TO:<" A ">", NOUSER,
	  REJ("5.1.7"), { SVF, NULL }, NULL },
	{ "RCPT 550, DeferOK does not accept it", P_DEFEROK, CV_FAILED,
	  CV_CLASS_RCPT, 0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  NOUSER, REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: " NOUSER, SVF, NULL }, NULL },
	{ "RCPT 550, cached", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0, true,
	  false, NULL, NULL, "", "", REJ("5.1.7"), { VF, CACHED, SVF, NULL },
	  NULL },
	{ "RCPT 550, cached, ReplyDetails no", P_NODETAILS, CV_FAILED,
	  CV_CLASS_RCPT, 0, true, false, NULL, NULL, "", "", REJ("5.1.7"),
	  { SVF, NULL }, NULL },
	{ "RCPT 550, 3-line remote reply", P_DEFAULT, CV_FAILED,
	  CV_CLASS_RCPT, 0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550-first line\n550-second line\n550 third line", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550-first line",
	    "550-second line", "550 third line", SVF, NULL }, NULL },
	{ "RCPT 550, no host known", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0,
	  false, false, NULL, "", "", "", REJ("5.1.7"), { VF, SVF, NULL },
	  NULL },
	{ "RCPT 550, RT_FAILED overridden", P_TEXTS, CV_FAILED,
	  CV_CLASS_RCPT, 0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  NOUSER, REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: " NOUSER, "Go away, 100%% sure",
	    NULL }, "Go away, 100% sure" },

	/* callout could not complete */
	{ "RCPT 450", P_DEFAULT, CV_UNKNOWN, CV_CLASS_RCPT, 0, false, false,
	  NULL, NULL, "RCPT TO:<" A ">", "450 4.2.0 Greylisted", TMP,
	  { DEFER, NULL }, NULL },
	{ "RCPT 450, DeferOK", P_DEFEROK, CV_UNKNOWN, CV_CLASS_RCPT, 0, false,
	  false, NULL, NULL, "RCPT TO:<" A ">", "450 4.2.0 Greylisted", CONT,
	  { NULL }, "" },
	{ "connect refused", P_DEFAULT, CV_UNKNOWN, CV_CLASS_CONNECT, 0,
	  false, false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "timeout", P_DEFAULT, CV_UNKNOWN, CV_CLASS_TIMEOUT, 0, false, false,
	  NULL, NULL, "RCPT TO:<" A ">", "", TMP, { DEFER, NULL }, NULL },
	{ "banner 421", P_DEFAULT, CV_UNKNOWN, CV_CLASS_BANNER, 0, false,
	  false, NULL, NULL, "", "421 busy", TMP, { DEFER, NULL }, NULL },
	{ "HELO 4xx", P_DEFAULT, CV_UNKNOWN, CV_CLASS_HELO, 0, false, false,
	  NULL, NULL, "HELO me", "451 later", TMP, { DEFER, NULL }, NULL },
	{ "MAIL 451", P_DEFAULT, CV_UNKNOWN, CV_CLASS_MAIL, 0, false, false,
	  NULL, NULL, "MAIL FROM:<>", "451 later", TMP, { DEFER, NULL },
	  NULL },
	{ "protocol error", P_DEFAULT, CV_UNKNOWN, CV_CLASS_PROTOCOL, 0,
	  false, false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "local trouble", P_DEFAULT, CV_UNKNOWN, CV_CLASS_LOCAL, 0, false,
	  false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "nothing happened", P_DEFAULT, CV_UNKNOWN, CV_CLASS_NONE, 0, false,
	  false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "held back by a limit", P_DEFAULT, CV_UNKNOWN, CV_CLASS_LIMIT, 0,
	  false, false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "held back by a limit, DeferOK", P_DEFEROK, CV_UNKNOWN,
	  CV_CLASS_LIMIT, 0, false, false, NULL, NULL, "", "", CONT,
	  { NULL }, "" },
	{ "timeout, DeferOK", P_DEFEROK, CV_UNKNOWN, CV_CLASS_TIMEOUT, 0,
	  false, false, NULL, NULL, "", "", CONT, { NULL }, "" },
	{ "RT_DEFER overridden", P_TEXTS, CV_UNKNOWN, CV_CLASS_CONNECT, 0,
	  false, false, NULL, NULL, "", "", TMP, { "Try again later", NULL },
	  NULL },

	/* deadline passed, probe in progress */
	{ "in progress", P_DEFAULT, CV_UNKNOWN, CV_CLASS_NONE, 0, false, true,
	  NULL, "", "", "", TMP, { DEFER, NULL }, NULL },
	{ "in progress, RT_IN_PROGRESS overridden", P_TEXTS, CV_UNKNOWN,
	  CV_CLASS_TIMEOUT, 0, false, true, NULL, "", "", "", TMP,
	  { "Still checking, try later", NULL }, NULL },
	{ "in progress, DeferOK", P_DEFEROK, CV_UNKNOWN, CV_CLASS_NONE, 0,
	  false, true, NULL, "", "", "", CONT, { NULL }, "" },

	/* the domain refuses the null sender */
	{ "MAIL FROM:<> 550", P_DEFAULT, CV_FAILED,
	  CV_CLASS_NULL_SENDER_REFUSED, 0, false, false, NULL, NULL,
	  "MAIL FROM:<>", "550 5.1.0 We do not accept bounces", REJ("5.1.7"),
	  { NS_HEAD, CALLED, SENT_M,
	    "Response: 550 5.1.0 We do not accept bounces", NS1, NS2, NS3, NS4,
	    NS5, SVF, NULL }, NULL },
	{ "MAIL FROM:<> 550, cached", P_DEFAULT, CV_FAILED,
	  CV_CLASS_NULL_SENDER_REFUSED, 0, true, false, NULL, NULL, "", "",
	  REJ("5.1.7"),
	  { NS_HEAD, "(result of an earlier callout reused).", NS1, NS2, NS3,
	    NS4, NS5, SVF, NULL }, NULL },
	{ "MAIL FROM:<> 550, ReplyDetails no", P_NODETAILS, CV_FAILED,
	  CV_CLASS_NULL_SENDER_REFUSED, 0, false, false, NULL, NULL,
	  "MAIL FROM:<>", "550 no", REJ("5.1.7"), { SVF, NULL }, NULL },
	{ "MAIL FROM:<> 550, NullSenderRefused accept", P_NULL_ACCEPT,
	  CV_FAILED, CV_CLASS_NULL_SENDER_REFUSED, 0, false, false, NULL,
	  NULL, "MAIL FROM:<>", "550 no", CONT, { NULL }, "" },
	{ "MAIL FROM:<> 550, NullSenderRefused tempfail", P_NULL_TEMPFAIL,
	  CV_FAILED, CV_CLASS_NULL_SENDER_REFUSED, 0, false, false, NULL,
	  NULL, "MAIL FROM:<>", "550 no", TMP, { DEFER, NULL }, NULL },

	/* DNS */
	{ "NXDOMAIN", P_DEFAULT, CV_FAILED, CV_CLASS_DNS, CV_DNS_NXDOMAIN,
	  false, false, NULL, "", "", "", REJ("5.1.8"),
	  { VF, "Unrouteable address", SVF, NULL }, NULL },
	{ "NODATA", P_DEFAULT, CV_FAILED, CV_CLASS_DNS, CV_DNS_NODATA, false,
	  false, NULL, "", "", "", REJ("5.1.8"),
	  { VF, "Unrouteable address", SVF, NULL }, NULL },
	{ "NXDOMAIN, ReplyDetails no", P_NODETAILS, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NXDOMAIN, false, false, NULL, "", "", "", REJ("5.1.8"),
	  { SVF, NULL }, NULL },
	{ "NXDOMAIN, DeferOK", P_DEFEROK, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NXDOMAIN, false, false, NULL, "", "", "", REJ("5.1.8"),
	  { VF, "Unrouteable address", SVF, NULL }, NULL },
	{ "NXDOMAIN, RT_UNROUTEABLE overridden", P_TEXTS, CV_FAILED,
	  CV_CLASS_DNS, CV_DNS_NXDOMAIN, false, false, NULL, "", "", "",
	  REJ("5.1.8"), { VF, "No such domain", "Go away, 100%% sure", NULL },
	  "Go away, 100% sure" },
	{ "MX targets do not exist", P_DEFAULT, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NOHOSTS, false, false, NULL, "", "", "", REJ("5.1.8"),
	  { SVF, NULL }, NULL },
	{ "null MX", P_DEFAULT, CV_FAILED, CV_CLASS_DNS, CV_DNS_NULLMX, false,
	  false, NULL, "", "", "", REJ("5.7.27"),
	  { "Sender address has null MX", NULL }, NULL },
	{ "null MX, cached", P_DEFAULT, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_NULLMX, true, false, NULL, "", "", "", REJ("5.7.27"),
	  { "Sender address has null MX", NULL }, NULL },
	{ "DNS SERVFAIL", P_DEFAULT, CV_UNKNOWN, CV_CLASS_DNS, CV_DNS_TEMP,
	  false, false, NULL, "", "", "", TMP,
	  { "Could not complete sender verify", NULL }, NULL },
	{ "DNS SERVFAIL, DeferOK", P_DEFEROK, CV_UNKNOWN, CV_CLASS_DNS,
	  CV_DNS_TEMP, false, false, NULL, "", "", "", CONT, { NULL }, "" },

	/* the probe, not the address, refused */
	{ "probe refused, accept", P_DEFAULT, CV_UNKNOWN,
	  CV_CLASS_PROBE_REFUSED, 0, false, false, NULL, NULL, "",
	  "554 5.7.1 go away", CONT, { NULL }, "" },
	{ "probe refused, tempfail", P_PROBE_TEMPFAIL, CV_UNKNOWN,
	  CV_CLASS_PROBE_REFUSED, 0, false, false, NULL, NULL, "",
	  "554 5.7.1 go away", TMP, { DEFER, NULL }, NULL },
	{ "probe refused, tempfail wins over DeferOK",
	  P_PROBE_TEMPFAIL_DEFEROK, CV_UNKNOWN, CV_CLASS_PROBE_REFUSED, 0,
	  false, false, NULL, NULL, "", "554 5.7.1 go away", TMP,
	  { DEFER, NULL }, NULL },
	{ "probe refused at banner, reject", P_PROBE_REJECT, CV_UNKNOWN,
	  CV_CLASS_PROBE_REFUSED, 0, false, false, NULL, NULL, "",
	  "554 5.7.1 go away", REJ("5.1.7"),
	  { VF, CALLED, "Response: 554 5.7.1 go away", SVF, NULL }, NULL },
	{ "probe refused at RCPT, reject", P_PROBE_REJECT, CV_UNKNOWN,
	  CV_CLASS_PROBE_REFUSED, 0, false, false, NULL, NULL,
	  "RCPT TO:<" A ">", "550 5.7.1 blocked", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550 5.7.1 blocked", SVF, NULL },
	  NULL },

	/* postmaster */
	{ "postmaster refused", P_DEFAULT, CV_FAILED, CV_CLASS_POSTMASTER, 0,
	  false, false, NULL, NULL, "RCPT TO:<postmaster@example.org>",
	  "550 no postmaster here", REJ("5.1.7"),
	  { PM_HEAD, CALLED, "Sent:     RCPT TO:<postmaster@example.org>",
	    "Response: 550 no postmaster here", PM1, PM2, PM3, SVF, NULL },
	  NULL },
	{ "postmaster refused, cached", P_DEFAULT, CV_FAILED,
	  CV_CLASS_POSTMASTER, 0, true, false, NULL, NULL, "", "",
	  REJ("5.1.7"),
	  { PM_HEAD, "(result of earlier verification reused).", PM1, PM2,
	    PM3, SVF, NULL }, NULL },

	/* temporary trouble never becomes a rejection */
	{ "FAILED with class connect -> 451", P_DEFAULT, CV_FAILED,
	  CV_CLASS_CONNECT, 0, false, false, NULL, NULL, "", "", TMP,
	  { DEFER, NULL }, NULL },
	{ "FAILED with class limit -> 451", P_DEFAULT, CV_FAILED,
	  CV_CLASS_LIMIT, 0, false, false, NULL, NULL, "", "", TMP,
	  { DEFER, NULL }, NULL },
	{ "FAILED with DNS TEMP -> 451", P_DEFAULT, CV_FAILED, CV_CLASS_DNS,
	  CV_DNS_TEMP, false, false, NULL, "", "", "", TMP,
	  { "Could not complete sender verify", NULL }, NULL },
	{ "UNKNOWN with DNS NXDOMAIN -> 451", P_DEFAULT, CV_UNKNOWN,
	  CV_CLASS_DNS, CV_DNS_NXDOMAIN, false, false, NULL, "", "", "", TMP,
	  { "Could not complete sender verify", NULL }, NULL },
	{ "UNKNOWN postmaster -> 451", P_DEFAULT, CV_UNKNOWN,
	  CV_CLASS_POSTMASTER, 0, false, false, NULL, NULL, "", "", TMP,
	  { DEFER, NULL }, NULL },
	{ "FAILED, in progress -> 451", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT,
	  0, false, true, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },
	{ "unknown class value -> 451", P_DEFAULT, CV_FAILED, (cv_class)99,
	  0, false, false, NULL, NULL, "", "", TMP, { DEFER, NULL }, NULL },

	/* sanitizing */
	{ "8-bit in remote reply: cut", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT,
	  0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550-No such user, bad char:\x80\xff here\n550 second line",
	  REJ("5.1.7"),
	  { VF, CALLED, SENT_R,
	    "Response: 550-No such user, bad char:(truncated)", SVF, NULL },
	  NULL },
	{ "8-bit in second remote line", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT,
	  0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550-first\n550-caf\xc3\xa9\n550 third", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550-first", "550-caf(truncated)",
	    SVF, NULL }, NULL },
	{ "tab in remote reply: cut", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0,
	  false, false, NULL, NULL, "RCPT TO:<" A ">", "550 no\tuser",
	  REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550 no(truncated)", SVF, NULL },
	  NULL },
	{ "CR before line end dropped", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT,
	  0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550-one\r\n550 two\r", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550-one", "550 two", SVF, NULL },
	  NULL },
	{ "% in remote reply doubled", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0,
	  false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550 5.1.1 100% unknown, %s %%", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550 5.1.1 100%% unknown, %%s %%%%",
	    SVF, NULL }, NULL },
	{ "% in the address doubled", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0,
	  false, false, "\"a%b\"@example.org", NULL,
	  "RCPT TO:<\"a%b\"@example.org>", NOUSER, REJ("5.1.7"),
	  { "Verification failed for <\"a%%b\"@example.org>", CALLED,
	    "Sent:     RCPT TO:<\"a%%b\"@example.org>", "Response: " NOUSER,
	    SVF, NULL }, NULL },
	{ "UTF-8 address escaped", P_DEFAULT, CV_FAILED, CV_CLASS_RCPT, 0,
	  false, false, "j\xc3\xb6rg@example.org", NULL, "", NOUSER,
	  REJ("5.1.7"),
	  { "Verification failed for <j\\303\\266rg@example.org>", CALLED,
	    "Response: " NOUSER, SVF, NULL }, NULL },
	{ "6-line remote reply: 4 quoted", P_DEFAULT, CV_FAILED,
	  CV_CLASS_RCPT, 0, false, false, NULL, NULL, "RCPT TO:<" A ">",
	  "550-l1\n550-l2\n550-l3\n550-l4\n550-l5\n550 l6", REJ("5.1.7"),
	  { VF, CALLED, SENT_R, "Response: 550-l1", "550-l2", "550-l3",
	    "550-l4", SVF, NULL }, NULL },
};

/* The invariants every reply must keep. */
static void
check_invariants(const reply *rep, const char *name)
{
	bool printable = true, percent = true, length = true;
	size_t i, j;

	if (rep->action != REPLY_CONTINUE)
		tap_ok(rep->code[0] != '\0' && rep->code[0] == rep->xcode[0],
		    "%s: code %s and xcode %s agree", name, rep->code,
		    rep->xcode);
	tap_ok(rep->nlines <= REPLY_LINES_MAX, "%s: line count", name);
	for (i = 0; i < rep->nlines && i < REPLY_LINES_MAX; i++) {
		const char *l = rep->line[i];

		if (strlen(l) > REPLY_LINE_MAX)
			length = false;
		for (j = 0; l[j] != '\0'; j++) {
			unsigned char c = (unsigned char)l[j];

			if (c < 0x20 || c > 0x7e)
				printable = false;
			if (c == '%') {
				if (l[j + 1] != '%')
					percent = false;
				else
					j++;
			}
		}
	}
	tap_ok(printable && percent && length,
	    "%s: lines printable, %% doubled, short", name);
}

static void
check_lines(const reply *rep, const char *const *want, const char *name)
{
	size_t n = 0, i;
	char what[200];

	while (want[n] != NULL)
		n++;
	tap_is_int((long long)rep->nlines, (long long)n, name);
	for (i = 0; i < n && i < rep->nlines; i++) {
		(void)snprintf(what, sizeof(what), "%s: line %zu", name, i);
		tap_is_str(rep->line[i], want[i], what);
	}
}

static void
run_row(const row *t)
{
	static reply rep;
	cv_address addr;
	cv_result r;
	char what[200];

	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.address, sizeof(addr.address), "%s",
	    t->addr != NULL ? t->addr : A);
	memset(&r, 0, sizeof(r));
	r.verdict = t->verdict;
	r.class_ = t->class_;
	r.dns = t->dns;
	r.cached = t->cached;
	r.in_progress = t->in_progress;
	(void)snprintf(r.mx_name, sizeof(r.mx_name), "mx.example.org");
	(void)snprintf(r.mx_ip, sizeof(r.mx_ip), "%s",
	    t->ip != NULL ? t->ip : IP);
	(void)snprintf(r.sent, sizeof(r.sent), "%s", t->sent);
	(void)snprintf(r.reply, sizeof(r.reply), "%s", t->remote);

	memset(&rep, 0x55, sizeof(rep));	/* no stale state counts */
	reply_for_sender(&policies[t->pol], &addr, &r, &rep);
	(void)snprintf(what, sizeof(what), "%s: action", t->name);
	tap_is_int(rep.action, t->action, what);
	(void)snprintf(what, sizeof(what), "%s: code", t->name);
	tap_is_str(rep.code, t->code, what);
	(void)snprintf(what, sizeof(what), "%s: xcode", t->name);
	tap_is_str(rep.xcode, t->xcode, what);
	(void)snprintf(what, sizeof(what), "%s: lines", t->name);
	check_lines(&rep, t->lines, what);
	(void)snprintf(what, sizeof(what), "%s: reason", t->name);
	if (t->reason != NULL)
		tap_is_str(rep.reason, t->reason, what);
	else if (rep.nlines > 0)
		tap_is_str(rep.reason, rep.line[rep.nlines - 1], what);
	check_invariants(&rep, t->name);
}

/* header_sender rows */
typedef struct hrow {
	const char *name;
	int pol;
	reply_header_outcome outcome;
	reply_action action;
	const char *code;
	const char *xcode;
	const char *line;	/* NULL: none */
} hrow;

static const hrow hrows[] = {
	{ "header verified", P_DEFAULT, REPLY_HEADER_VERIFIED, CONT, NULL },
	{ "header failed", P_DEFAULT, REPLY_HEADER_FAILED, REJ("5.7.1"),
	  "No verifiable sender address in message headers" },
	{ "header syntax error", P_DEFAULT, REPLY_HEADER_SYNTAX, REJ("5.7.1"),
	  "No verifiable sender address in message headers" },
	{ "header unknown", P_DEFAULT, REPLY_HEADER_UNKNOWN, TMP,
	  "Could not complete sender verify callout" },
	{ "header unknown, DeferOK", P_DEFEROK, REPLY_HEADER_UNKNOWN, CONT,
	  NULL },
	{ "header failed, DeferOK", P_DEFEROK, REPLY_HEADER_FAILED,
	  REJ("5.7.1"), "No verifiable sender address in message headers" },
	{ "header failed, overridden", P_TEXTS, REPLY_HEADER_FAILED,
	  REJ("5.7.1"), "Bad From:, 50%% off" },
	{ "header unknown, overridden", P_TEXTS, REPLY_HEADER_UNKNOWN, TMP,
	  "Headers later" },
	{ "header outcome out of range", P_DEFAULT, (reply_header_outcome)9,
	  TMP, "Could not complete sender verify callout" },
};

static void
run_hrow(const hrow *t)
{
	static reply rep;
	const char *want[2] = { t->line, NULL };
	char what[200];

	memset(&rep, 0x55, sizeof(rep));
	reply_for_header(&policies[t->pol], t->outcome, &rep);
	(void)snprintf(what, sizeof(what), "%s: action", t->name);
	tap_is_int(rep.action, t->action, what);
	(void)snprintf(what, sizeof(what), "%s: code", t->name);
	tap_is_str(rep.code, t->code, what);
	(void)snprintf(what, sizeof(what), "%s: xcode", t->name);
	tap_is_str(rep.xcode, t->xcode, what);
	(void)snprintf(what, sizeof(what), "%s: lines", t->name);
	check_lines(&rep, want, what);
	check_invariants(&rep, t->name);
}

/* A remote line longer than the MTA keeps is cut with a marker, never
 * in the middle of a "%%" pair. */
static void
test_long_lines(void)
{
	static reply rep;
	static char want[REPLY_LINE_MAX + 1];
	cv_address addr;
	cv_result r;
	size_t i, n;

	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.address, sizeof(addr.address), "%s", A);
	memset(&r, 0, sizeof(r));
	r.verdict = CV_FAILED;
	r.class_ = CV_CLASS_RCPT;
	(void)snprintf(r.mx_ip, sizeof(r.mx_ip), IP);
	memset(r.reply, 'x', 1000);
	r.reply[1000] = '\0';
	reply_for_sender(NULL, &addr, &r, &rep);
	n = (size_t)snprintf(want, sizeof(want), "Response: ");
	for (i = 0; i < REPLY_LINE_MAX - 10 - 11; i++)
		want[n++] = 'x';
	(void)snprintf(want + n, sizeof(want) - n, "(truncated)");
	tap_is_int((long long)rep.nlines, 4, "long line: lines");
	tap_is_str(rep.line[2], want, "long line: capped with marker");
	tap_is_int((long long)strlen(rep.line[2]), REPLY_LINE_MAX,
	    "long line: exactly REPLY_LINE_MAX");
	check_invariants(&rep, "long line");

	memset(r.reply, '%', 600);
	r.reply[600] = '\0';
	reply_for_sender(NULL, &addr, &r, &rep);
	n = (size_t)snprintf(want, sizeof(want), "Response: ");
	for (i = 0; i < 479; i++) {
		want[n++] = '%';
		want[n++] = '%';
	}
	(void)snprintf(want + n, sizeof(want) - n, "(truncated)");
	tap_is_str(rep.line[2], want, "long %% line: pairs kept whole");
	check_invariants(&rep, "long %% line");

	/* a long configured text is capped the same way */
	{
		static char text[2000];
		reply_policy pol;

		reply_policy_init(&pol);
		memset(text, 'y', sizeof(text) - 1);
		pol.text[RT_FAILED] = text;
		r.reply[0] = '\0';
		reply_for_sender(&pol, &addr, &r, &rep);
		tap_is_int((long long)strlen(rep.line[rep.nlines - 1]),
		    REPLY_LINE_MAX, "long configured text capped");
		check_invariants(&rep, "long configured text");
	}
}

static void
test_defaults(void)
{
	reply_policy pol;
	cv_result r;
	static reply rep;
	cv_address addr;

	reply_policy_init(&pol);
	tap_ok(pol.details && !pol.defer_ok &&
	    pol.probe_refused == POLICY_ACCEPT &&
	    pol.null_sender == POLICY_REJECT, "policy defaults");
	tap_is_str(reply_text_get(&pol, RT_FAILED), "Sender verify failed",
	    "default RT_FAILED");
	tap_is_str(reply_text_get(NULL, RT_NULL_MX),
	    "Sender address has null MX", "default RT_NULL_MX, no policy");
	tap_is_str(reply_text_default(RT_COUNT), "", "text out of range");
	tap_is_str(reply_kind_name(REPLY_KIND_PROBE_REFUSED), "probe-refused",
	    "kind name");

	/* a NULL policy means the defaults; a NULL address is "" */
	memset(&r, 0, sizeof(r));
	r.verdict = CV_FAILED;
	r.class_ = CV_CLASS_RCPT;
	r.cached = true;
	reply_for_sender(NULL, NULL, &r, &rep);
	tap_is_str(rep.line[0], "Verification failed for <>",
	    "NULL address");
	memset(&addr, 0, sizeof(addr));
	addr.null = true;
	r.class_ = CV_CLASS_PROBE_REFUSED;
	reply_for_sender(NULL, &addr, &r, &rep);
	tap_is_int(rep.action, REPLY_CONTINUE, "NULL policy: probe refused "
	    "accepted");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < P_COUNT; i++)
		reply_policy_init(&policies[i]);
	policies[P_NODETAILS].details = false;
	policies[P_DEFEROK].defer_ok = true;
	policies[P_PROBE_TEMPFAIL].probe_refused = POLICY_TEMPFAIL;
	policies[P_PROBE_TEMPFAIL_DEFEROK].probe_refused = POLICY_TEMPFAIL;
	policies[P_PROBE_TEMPFAIL_DEFEROK].defer_ok = true;
	policies[P_PROBE_REJECT].probe_refused = POLICY_REJECT;
	policies[P_NULL_ACCEPT].null_sender = POLICY_ACCEPT;
	policies[P_NULL_TEMPFAIL].null_sender = POLICY_TEMPFAIL;
	policies[P_TEXTS].text[RT_FAILED] = "Go away, 100% sure";
	policies[P_TEXTS].text[RT_DEFER] = "Try again later";
	policies[P_TEXTS].text[RT_UNROUTEABLE] = "No such domain";
	policies[P_TEXTS].text[RT_IN_PROGRESS] = "Still checking, try later";
	policies[P_TEXTS].text[RT_HEADER_FAILED] = "Bad From:, 50% off";
	policies[P_TEXTS].text[RT_HEADER_DEFER] = "Headers later";

	tap_diag("%zu sender rows, %zu header rows",
	    sizeof(rows) / sizeof(rows[0]), sizeof(hrows) / sizeof(hrows[0]));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	for (i = 0; i < sizeof(hrows) / sizeof(hrows[0]); i++)
		run_hrow(&hrows[i]);
	test_long_lines();
	test_defaults();
	return tap_done();
}
