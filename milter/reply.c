/*
 * reply.c - the one map from a verification result to the SMTP reply the
 * MTA sends (DESIGN.md section 4), driven by the reply policy.
 *
 * Guarantees: every reply it builds is safe to hand to smfi_setmlreply
 * as it is: at most REPLY_LINES_MAX lines of at most REPLY_LINE_MAX
 * characters, printable ASCII only, every '%' doubled, the SMTP code and
 * the enhanced code agree in their first digit.  Remote text is cut at
 * its first byte outside printable ASCII and marked "(truncated)", as
 * Exim does; at most REPLY_REMOTE_LINES remote lines are quoted.  Our own
 * texts (address, command sent, configured texts) are never cut for a
 * byte: such bytes are written as \ooo.  A line too long for the MTA is
 * cut at a whole character and ends in "(truncated)".
 *
 * A 5xx is only given when the verdict and the class agree that the
 * failure is permanent (reply_classify); anything else, including
 * values this file does not know, becomes a 451 (or continue under
 * DeferOK).  Pure functions: no libmilter, no I/O, no allocation.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"

#define REPLY_REMOTE_LINES	4	/* remote reply lines quoted */

#define TRUNC_MARK	"(truncated)"
#define TRUNC_LEN	(sizeof(TRUNC_MARK) - 1)

static const char *const text_defaults[RT_COUNT] = {
	[RT_FAILED] = "Sender verify failed",
	[RT_DEFER] = "Could not complete sender verify callout",
	[RT_DNS_DEFER] = "Could not complete sender verify",
	[RT_UNROUTEABLE] = "Unrouteable address",
	[RT_NULL_MX] = "Sender address has null MX",
	[RT_HEADER_FAILED] = "No verifiable sender address in message headers",
	[RT_HEADER_DEFER] = "Could not complete sender verify callout",
	[RT_IN_PROGRESS] = "Could not complete sender verify callout",
};

/* Exim's af_verify_nsfail text (smtp_in.c). */
static const char *const nsfail_text[] = {
	"The initial connection, or a HELO or MAIL FROM:<> command was",
	"rejected. Refusing MAIL FROM:<> does not help fight spam, disregards",
	"RFC requirements, and stops you from receiving standard bounce",
	"messages. This host does not accept mail from domains whose servers",
	"refuse bounces.",
	NULL,
};

/* Exim's af_verify_pmfail text. */
static const char *const pmfail_text[] = {
	"Several RFCs state that you are required to have a postmaster",
	"mailbox for each mail domain. This host does not accept mail",
	"from domains whose servers reject the postmaster address.",
	NULL,
};

static const char *const kind_names[] = {
	[REPLY_KIND_VERIFIED] = "verified",
	[REPLY_KIND_FAILED] = "failed",
	[REPLY_KIND_UNROUTEABLE] = "unrouteable",
	[REPLY_KIND_NOHOSTS] = "nohosts",
	[REPLY_KIND_NULL_MX] = "null-mx",
	[REPLY_KIND_NULL_SENDER] = "null-sender-refused",
	[REPLY_KIND_POSTMASTER] = "postmaster",
	[REPLY_KIND_PROBE_REFUSED] = "probe-refused",
	[REPLY_KIND_DEFER] = "defer",
	[REPLY_KIND_DNS_DEFER] = "dns-defer",
	[REPLY_KIND_IN_PROGRESS] = "in-progress",
};

void
reply_policy_init(reply_policy *pol_r)
{
	memset(pol_r, 0, sizeof(*pol_r));
	pol_r->details = true;
	pol_r->defer_ok = false;
	pol_r->probe_refused = POLICY_ACCEPT;
	pol_r->null_sender = POLICY_REJECT;
}

const char *
reply_text_default(reply_text t)
{
	if ((unsigned)t >= RT_COUNT || text_defaults[t] == NULL)
		return "";
	return text_defaults[t];
}

const char *
reply_text_get(const reply_policy *pol, reply_text t)
{
	if (pol != NULL && (unsigned)t < RT_COUNT && pol->text[t] != NULL)
		return pol->text[t];
	return reply_text_default(t);
}

const char *
reply_kind_name(reply_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]) ||
	    kind_names[k] == NULL)
		return "unknown";
	return kind_names[k];
}

static reply_kind
reply_classify_dns(const cv_result *r)
{
	if (r->verdict != CV_FAILED)
		return REPLY_KIND_DNS_DEFER;
	switch (r->dns) {
	case CV_DNS_NXDOMAIN:
	case CV_DNS_NODATA:
		return REPLY_KIND_UNROUTEABLE;
	case CV_DNS_NOHOSTS:
		return REPLY_KIND_NOHOSTS;
	case CV_DNS_NULLMX:
		return REPLY_KIND_NULL_MX;
	default:
		return REPLY_KIND_DNS_DEFER;
	}
}

reply_kind
reply_classify(const cv_result *r)
{
	if (r->verdict == CV_VERIFIED || r->class_ == CV_CLASS_CATCH_ALL)
		return REPLY_KIND_VERIFIED;
	if (r->in_progress)
		return REPLY_KIND_IN_PROGRESS;
	switch (r->class_) {
	case CV_CLASS_DNS:
		return reply_classify_dns(r);
	case CV_CLASS_RCPT:
		return r->verdict == CV_FAILED ? REPLY_KIND_FAILED :
		    REPLY_KIND_DEFER;
	case CV_CLASS_PROBE_REFUSED:
		/* Only a 5xx gives this class; the library calls it
		 * unknown (the address was not judged), the policy
		 * decides. */
		return REPLY_KIND_PROBE_REFUSED;
	case CV_CLASS_NULL_SENDER_REFUSED:
		return r->verdict == CV_FAILED ? REPLY_KIND_NULL_SENDER :
		    REPLY_KIND_DEFER;
	case CV_CLASS_POSTMASTER:
		return r->verdict == CV_FAILED ? REPLY_KIND_POSTMASTER :
		    REPLY_KIND_DEFER;
	default:
		/* connect, banner, helo, mail, timeout, protocol, local,
		 * limit, none: never permanent, whatever the verdict */
		return REPLY_KIND_DEFER;
	}
}

/* ------------------------------------------------------------------ */
/* Building lines                                                      */
/* ------------------------------------------------------------------ */

/* One line being written.  Text goes in whole units ("a", "%%",
 * "\303") so that a cut never splits one. */
typedef struct line_buf {
	char *s;
	size_t len;
	size_t mark;	/* last unit end leaving room for TRUNC_MARK */
	bool full;	/* cut: further input is ignored */
} line_buf;

static void
line_unit(line_buf *lb, const char *unit, size_t n)
{
	if (lb->full)
		return;
	if (lb->len + n > REPLY_LINE_MAX) {
		lb->len = lb->mark;
		memcpy(lb->s + lb->len, TRUNC_MARK, TRUNC_LEN);
		lb->len += TRUNC_LEN;
		lb->s[lb->len] = '\0';
		lb->full = true;
		return;
	}
	memcpy(lb->s + lb->len, unit, n);
	lb->len += n;
	lb->s[lb->len] = '\0';
	if (lb->len + TRUNC_LEN <= REPLY_LINE_MAX)
		lb->mark = lb->len;
}

/*
 * Add at most n bytes of text (less at a NUL).  Our own text: a byte
 * outside printable ASCII becomes \ooo.  Remote text: such a byte ends
 * the text with "(truncated)" and the function returns false.
 */
static bool
line_add(line_buf *lb, const char *text, size_t n, bool remote)
{
	char unit[8];
	size_t i;

	for (i = 0; i < n && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '%') {
			line_unit(lb, "%%", 2);
		} else if (c >= 0x20 && c <= 0x7e) {
			unit[0] = (char)c;
			line_unit(lb, unit, 1);
		} else if (remote) {
			line_unit(lb, TRUNC_MARK, TRUNC_LEN);
			lb->full = true;
			return false;
		} else {
			(void)snprintf(unit, sizeof(unit), "\\%03o", c);
			line_unit(lb, unit, strlen(unit));
		}
	}
	return true;
}

/* Open the next line of rep; false when all REPLY_LINES_MAX are used. */
static bool
reply_line_open(reply *rep, line_buf *lb)
{
	if (rep->nlines >= REPLY_LINES_MAX)
		return false;
	lb->s = rep->line[rep->nlines++];
	lb->s[0] = '\0';
	lb->len = 0;
	lb->mark = 0;
	lb->full = false;
	return true;
}

/* Add the line prefix + text (+ suffix); prefix, suffix may be NULL. */
static void
reply_add(reply *rep, const char *prefix, const char *text,
	  const char *suffix)
{
	line_buf lb;

	if (!reply_line_open(rep, &lb))
		return;
	if (prefix != NULL)
		(void)line_add(&lb, prefix, strlen(prefix), false);
	if (text != NULL)
		(void)line_add(&lb, text, strlen(text), false);
	if (suffix != NULL)
		(void)line_add(&lb, suffix, strlen(suffix), false);
}

/* Quote the remote reply: each line its own reply line, the first after
 * "Response: ", at most REPLY_REMOTE_LINES, stopping at a bad byte. */
static void
reply_add_remote(reply *rep, const char *text)
{
	const char *p = text;
	size_t quoted = 0;
	line_buf lb;

	while (*p != '\0' && quoted < REPLY_REMOTE_LINES) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		bool whole;

		if (!reply_line_open(rep, &lb))
			return;
		if (quoted == 0)
			(void)line_add(&lb, "Response: ", 10, false);
		/* a CR before the line end is line framing, not text */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		whole = line_add(&lb, p, n, true);
		quoted++;
		if (!whole || nl == NULL)
			return;
		p = nl + 1;
	}
}

static void
reply_start(reply *rep, reply_action action, const char *code,
	    const char *xcode)
{
	rep->action = action;
	(void)snprintf(rep->code, sizeof(rep->code), "%s", code);
	(void)snprintf(rep->xcode, sizeof(rep->xcode), "%s", xcode);
	rep->nlines = 0;
	rep->reason[0] = '\0';
}

/* The final line: the configured text t; also kept raw as the reason. */
static void
reply_finish(reply *rep, const reply_policy *pol, reply_text t)
{
	const char *text = reply_text_get(pol, t);

	/* the last slot is kept for the final line */
	if (rep->nlines >= REPLY_LINES_MAX)
		rep->nlines = REPLY_LINES_MAX - 1;
	reply_add(rep, NULL, text, NULL);
	(void)snprintf(rep->reason, sizeof(rep->reason), "%s", text);
}

static void
reply_continue(reply *rep)
{
	reply_start(rep, REPLY_CONTINUE, "", "");
}

/* 451 4.4.3 <t>, or continue under DeferOK when defer_ok_applies. */
static void
reply_defer(reply *rep, const reply_policy *pol, reply_text t,
	    bool defer_ok_applies)
{
	if (defer_ok_applies && pol->defer_ok) {
		reply_continue(rep);
		return;
	}
	reply_start(rep, REPLY_TEMPFAIL, "451", "4.4.3");
	reply_finish(rep, pol, t);
}

static void
reply_add_lines(reply *rep, const char *const *lines)
{
	size_t i;

	for (i = 0; lines[i] != NULL; i++)
		reply_add(rep, NULL, lines[i], NULL);
}

/* Called / Sent / Response, each only when known. */
static void
reply_add_details(reply *rep, const cv_result *r)
{
	if (r->mx_ip[0] != '\0')
		reply_add(rep, "Called:   ", r->mx_ip, NULL);
	if (r->sent[0] != '\0')
		reply_add(rep, "Sent:     ", r->sent, NULL);
	if (r->reply[0] != '\0')
		reply_add_remote(rep, r->reply);
}

/* ------------------------------------------------------------------ */
/* The map                                                             */
/* ------------------------------------------------------------------ */

/* 550 5.1.7 for a mailbox that does not exist (or a refused probe under
 * ProbeRefused reject). */
static void
reply_failed(reply *rep, const reply_policy *pol, const char *addr,
	     const cv_result *r)
{
	reply_start(rep, REPLY_REJECT, "550", "5.1.7");
	if (pol->details) {
		reply_add(rep, "Verification failed for <", addr, ">");
		if (r->cached)
			reply_add(rep, NULL,
			    "Previous (cached) callout verification failure",
			    NULL);
		else
			reply_add_details(rep, r);
	}
	reply_finish(rep, pol, RT_FAILED);
}

/* Exim's nsfail and pmfail flavours. */
static void
reply_setup_failed(reply *rep, const reply_policy *pol, const char *addr,
		   const cv_result *r, bool postmaster)
{
	reply_start(rep, REPLY_REJECT, "550", "5.1.7");
	if (pol->details) {
		if (postmaster)
			reply_add(rep, "Postmaster verification failed "
			    "while checking <", addr, ">");
		else
			reply_add(rep, "Callback setup failed while "
			    "verifying <", addr, ">");
		if (r->cached)
			reply_add(rep, NULL, postmaster ?
			    "(result of earlier verification reused)." :
			    "(result of an earlier callout reused).", NULL);
		else
			reply_add_details(rep, r);
		reply_add_lines(rep, postmaster ? pmfail_text : nsfail_text);
	}
	reply_finish(rep, pol, RT_FAILED);
}

/* 550 5.1.8: the domain does not route. */
static void
reply_unrouteable(reply *rep, const reply_policy *pol, const char *addr,
		  bool say_why)
{
	reply_start(rep, REPLY_REJECT, "550", "5.1.8");
	if (pol->details && say_why) {
		reply_add(rep, "Verification failed for <", addr, ">");
		reply_add(rep, NULL, reply_text_get(pol, RT_UNROUTEABLE),
		    NULL);
	}
	reply_finish(rep, pol, RT_FAILED);
}

/* ProbeRefused, NullSenderRefused: accept, tempfail or reject. */
static void
reply_by_policy(reply *rep, const reply_policy *pol, policy_action act,
		const char *addr, const cv_result *r, bool null_sender)
{
	switch (act) {
	case POLICY_ACCEPT:
		reply_continue(rep);
		break;
	case POLICY_REJECT:
		if (null_sender)
			reply_setup_failed(rep, pol, addr, r, false);
		else
			reply_failed(rep, pol, addr, r);
		break;
	default:
		/* an explicit tempfail policy: DeferOK does not undo it */
		reply_defer(rep, pol, RT_DEFER, false);
		break;
	}
}

void
reply_for_sender(const reply_policy *pol, const cv_address *addr,
		 const cv_result *r, reply *reply_r)
{
	reply_policy defaults;
	const char *a = addr != NULL ? addr->address : "";

	if (pol == NULL) {
		reply_policy_init(&defaults);
		pol = &defaults;
	}
	switch (reply_classify(r)) {
	case REPLY_KIND_VERIFIED:
		reply_continue(reply_r);
		break;
	case REPLY_KIND_FAILED:
		reply_failed(reply_r, pol, a, r);
		break;
	case REPLY_KIND_UNROUTEABLE:
		reply_unrouteable(reply_r, pol, a, true);
		break;
	case REPLY_KIND_NOHOSTS:
		/* Exim's "all relevant MX records point to non-existent
		 * hosts" is a log-only text: bare final line, like Exim */
		reply_unrouteable(reply_r, pol, a, false);
		break;
	case REPLY_KIND_NULL_MX:
		reply_start(reply_r, REPLY_REJECT, "550", "5.7.27");
		reply_finish(reply_r, pol, RT_NULL_MX);
		break;
	case REPLY_KIND_NULL_SENDER:
		reply_by_policy(reply_r, pol, pol->null_sender, a, r, true);
		break;
	case REPLY_KIND_POSTMASTER:
		reply_setup_failed(reply_r, pol, a, r, true);
		break;
	case REPLY_KIND_PROBE_REFUSED:
		reply_by_policy(reply_r, pol, pol->probe_refused, a, r, false);
		break;
	case REPLY_KIND_DNS_DEFER:
		reply_defer(reply_r, pol, RT_DNS_DEFER, true);
		break;
	case REPLY_KIND_IN_PROGRESS:
		reply_defer(reply_r, pol, RT_IN_PROGRESS, true);
		break;
	default:
		reply_defer(reply_r, pol, RT_DEFER, true);
		break;
	}
}

void
reply_for_header(const reply_policy *pol, reply_header_outcome outcome,
		 reply *reply_r)
{
	reply_policy defaults;

	if (pol == NULL) {
		reply_policy_init(&defaults);
		pol = &defaults;
	}
	switch (outcome) {
	case REPLY_HEADER_VERIFIED:
		reply_continue(reply_r);
		break;
	case REPLY_HEADER_FAILED:
	case REPLY_HEADER_SYNTAX:
		reply_start(reply_r, REPLY_REJECT, "550", "5.7.1");
		reply_finish(reply_r, pol, RT_HEADER_FAILED);
		break;
	default:
		reply_defer(reply_r, pol, RT_HEADER_DEFER, true);
		break;
	}
}

void
reply_for_syntax(const reply_policy *pol, reply *reply_r)
{
	reply_policy defaults;

	if (pol == NULL) {
		reply_policy_init(&defaults);
		pol = &defaults;
	}
	/* Exim: a malformed sender fails verification outright */
	reply_start(reply_r, REPLY_REJECT, "550", "5.1.7");
	reply_finish(reply_r, pol, RT_FAILED);
}

/* ------------------------------------------------------------------ */
/* SPF                                                                 */
/* ------------------------------------------------------------------ */

#define SPF_TEXT_FAILED	"SPF validation failed"
#define SPF_TEXT_DEFER	"Temporary SPF validation error"

void
reply_for_spf(const reply_policy *pol, reply_action action,
	      const char *explanation, reply *reply_r)
{
	reply_policy defaults;
	line_buf lb;

	if (pol == NULL) {
		reply_policy_init(&defaults);
		pol = &defaults;
	}
	switch (action) {
	case REPLY_REJECT:
		reply_start(reply_r, REPLY_REJECT, "550", "5.7.23");
		if (explanation != NULL && explanation[0] != '\0' &&
		    reply_line_open(reply_r, &lb))
			(void)line_add(&lb, explanation, strlen(explanation),
			    true);
		reply_add(reply_r, NULL, SPF_TEXT_FAILED, NULL);
		(void)snprintf(reply_r->reason, sizeof(reply_r->reason), "%s",
		    SPF_TEXT_FAILED);
		break;
	case REPLY_TEMPFAIL:
		if (pol->defer_ok) {
			reply_continue(reply_r);
			break;
		}
		reply_start(reply_r, REPLY_TEMPFAIL, "451", "4.4.3");
		reply_add(reply_r, NULL, SPF_TEXT_DEFER, NULL);
		(void)snprintf(reply_r->reason, sizeof(reply_r->reason), "%s",
		    SPF_TEXT_DEFER);
		break;
	default:
		reply_continue(reply_r);
		break;
	}
}
