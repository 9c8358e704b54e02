/*
 * reply.h - the one place that turns a verification result into the SMTP
 * reply the MTA sends (DESIGN.md section 4), and the policy knobs that
 * steer it.  Pure functions: no libmilter, no I/O, so the map is tested
 * as a table.
 */
#ifndef CM_REPLY_H
#define CM_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "callout.h"

/* What the MTA is told to do with a recipient or a message. */
typedef enum reply_action {
	REPLY_CONTINUE = 0,	/* accept (SMFIS_CONTINUE) */
	REPLY_TEMPFAIL,		/* 4xx */
	REPLY_REJECT,		/* 5xx */
} reply_action;

/* Policy for a class of outcome (ProbeRefused, NullSenderRefused ...). */
typedef enum policy_action {
	POLICY_ACCEPT = 0,
	POLICY_TEMPFAIL,
	POLICY_REJECT,
} policy_action;

/* The texts an admin may override in the config; the defaults are
 * Exim's.  Index into reply_policy.text[]. */
typedef enum reply_text {
	RT_FAILED = 0,		/* "Sender verify failed" (final line) */
	RT_DEFER,		/* "Could not complete sender verify callout" */
	RT_DNS_DEFER,		/* "Could not complete sender verify" */
	RT_UNROUTEABLE,		/* "Unrouteable address" */
	RT_NULL_MX,		/* "Sender address has null MX" */
	RT_HEADER_FAILED,	/* "No verifiable sender address in message headers" */
	RT_HEADER_DEFER,	/* "Could not complete sender verify callout" */
	RT_IN_PROGRESS,		/* "Could not complete sender verify callout" (deadline passed) */
	RT_COUNT
} reply_text;

typedef struct reply_policy {
	bool details;			/* ReplyDetails: Called/Sent/Response */
	bool defer_ok;			/* DeferOK: unknown accepts */
	policy_action probe_refused;	/* ProbeRefused, default accept */
	policy_action null_sender;	/* NullSenderRefused, default reject */
	const char *text[RT_COUNT];	/* NULL: the default text */
} reply_policy;

#define REPLY_LINES_MAX	32	/* libmilter's limit for smfi_setmlreply */
#define REPLY_LINE_MAX	980	/* characters per line the MTA keeps */

/* One reply: code, enhanced code and up to REPLY_LINES_MAX text lines,
 * each already safe for smfi_setmlreply ('%' doubled, printable ASCII). */
typedef struct reply {
	reply_action action;
	char code[4];			/* "550", "451" */
	char xcode[8];			/* "5.1.7" */
	size_t nlines;
	char line[REPLY_LINES_MAX][REPLY_LINE_MAX + 1];
	/* The final line's text as configured, without '%' doubling, for
	 * the decision log line ("Sender verify failed"); "" on continue.
	 * Raw: the log formatter escapes it. */
	char reason[REPLY_LINE_MAX + 1];
} reply;

/* The outcome of a header_sender check (DESIGN.md section 6). */
typedef enum reply_header_outcome {
	REPLY_HEADER_VERIFIED = 0,	/* one candidate verified */
	REPLY_HEADER_FAILED,		/* none verified, none unknown */
	REPLY_HEADER_UNKNOWN,		/* none verified, some unknown */
	REPLY_HEADER_SYNTAX,		/* an examined address is malformed */
} reply_header_outcome;

/*
 * What a result means before policy is applied.  The one classification
 * shared by the reply map and the log lines.  A permanent kind is only
 * given when the verdict and the class agree (DESIGN rule: temporary
 * trouble never becomes a rejection by accident): CV_FAILED with a
 * temporary class (connect, timeout, limit, ...) is REPLY_KIND_DEFER.
 */
typedef enum reply_kind {
	REPLY_KIND_VERIFIED = 0,	/* verified, or a catch-all domain */
	REPLY_KIND_FAILED,		/* RCPT 5xx: no such mailbox */
	REPLY_KIND_UNROUTEABLE,		/* DNS NXDOMAIN or NODATA */
	REPLY_KIND_NOHOSTS,		/* all MX targets unusable */
	REPLY_KIND_NULL_MX,		/* RFC 7505 MX 0 . */
	REPLY_KIND_NULL_SENDER,		/* MAIL FROM:<> refused */
	REPLY_KIND_POSTMASTER,		/* postmaster@domain refused */
	REPLY_KIND_PROBE_REFUSED,	/* the probe, not the address, refused */
	REPLY_KIND_DEFER,		/* callout could not complete, limit */
	REPLY_KIND_DNS_DEFER,		/* DNS could not complete */
	REPLY_KIND_IN_PROGRESS,		/* deadline passed, probe goes on */
} reply_kind;

/* Defaults of DESIGN.md section 10: details on, DeferOK off, probe
 * refused accepted, null sender refused rejected, default texts. */
void reply_policy_init(reply_policy *pol_r);

/* Exim's default text for t; "" for an index out of range. */
const char *reply_text_default(reply_text t);

/* pol->text[t], or the default when that is NULL (or pol is NULL). */
const char *reply_text_get(const reply_policy *pol, reply_text t);

reply_kind reply_classify(const cv_result *r);
const char *reply_kind_name(reply_kind k);

/*
 * The reply to a RCPT for the envelope sender addr whose verification
 * gave r, under pol (NULL: the defaults).  Always fills *reply_r
 * completely; never fails.
 */
void reply_for_sender(const reply_policy *pol, const cv_address *addr,
		      const cv_result *r, reply *reply_r);

/* The reply to a RCPT whose envelope sender the MTA accepted but that
 * does not parse: 550 5.1.7 Sender verify failed, as Exim gives. */
void reply_for_syntax(const reply_policy *pol, reply *reply_r);

/* The reply at end of header for a header_sender outcome. */
void reply_for_header(const reply_policy *pol, reply_header_outcome outcome,
		      reply *reply_r);

/*
 * The reply to an SPF check's decision (spf.h: spf_reply_action()):
 *   REPLY_REJECT    550 5.7.23 with the domain's explanation as a line
 *                   of its own where it gave one (remote text: cut at a
 *                   byte outside printable ASCII), then "SPF validation
 *                   failed" (RFC 7372)
 *   REPLY_TEMPFAIL  451 4.4.3 Temporary SPF validation error, or continue
 *                   under DeferOK
 *   REPLY_CONTINUE  continue
 */
void reply_for_spf(const reply_policy *pol, reply_action action,
		   const char *explanation, reply *reply_r);

#endif /* CM_REPLY_H */
