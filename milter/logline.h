/*
 * logline.h - the text of the decision log lines (DESIGN.md section 5),
 * in Exim's wording so that admins grep them the way they grep Exim's
 * mainlog ("sender verify fail for", "rejected RCPT").  Pure string
 * functions writing into a caller's buffer: no syslog, no allocation.
 *
 * Every line starts "<qid> H=<client> " and every decision line ends
 * " cached=yes|no elapsed=<ms>".  Text from outside (names, addresses,
 * remote replies, header text) is escaped like Exim's string_printing():
 * "\n", "\r", "\t", "\b", "\v", "\f" for those controls and \ooo for any
 * other byte outside 0x20-0x7E.  A line that does not fit the buffer is
 * cut at a whole character and marked "(truncated)"; the cached/elapsed
 * tail is kept.
 */
#ifndef CM_LOGLINE_H
#define CM_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callout.h"
#include "reply.h"

#define LOGLINE_MAX		2048	/* a good size for the buffer */
#define LOGLINE_QUOTE_MAX	200	/* header bytes quoted in a syntax line */

/*
 * What the daemon knows of the SMTP session.  Any pointer may be NULL
 * (taken as "").
 *   H= is Exim's host_and_ident(): "H=name [ip]" for a client with a
 *   (verified) PTR name; "H=name (helo) [ip]" when the HELO differs from
 *   it (case-insensitively); "H=(helo) [ip]" without a name; "H=[ip]"
 *   with neither.
 */
typedef struct logline_session {
	const char *qid;	/* MTA queue id {i}; "" -> "NOQUEUE" */
	const char *client_name; /* PTR name, "" when none */
	const char *client_ip;	/* printable, without brackets */
	const char *helo;	/* HELO/EHLO argument, "" when none */
	const char *sender;	/* envelope sender, no <>; "" for <> */
	bool tag;		/* Mode tag: "would reject" for "rejected" */
} logline_session;

/*
 * Escape len bytes of text (fewer at a NUL) into buf.  Returns the
 * length written (always < size when size > 0).
 */
size_t logline_escape(char *buf, size_t size, const char *text, size_t len);

/*
 * The result of one sender verification (envelope or header candidate):
 *   sender verify ok for <ADDR>: <message>
 *   sender verify fail for <ADDR>: <message>
 *   sender verify fail for <ADDR>                      (cached failure)
 *   sender verify fail for <ADDR>: Unrouteable address (DNS)
 *   sender verify defer for <ADDR>: Could not complete sender verify callout: <message>
 *   sender verify defer for <ADDR>: host lookup did not complete  (DNS)
 * "ok" when the address verified (or the domain is a catch-all), "fail"
 * when action is REPLY_REJECT, "defer" otherwise (also an unknown result
 * accepted by DeferOK or by a ProbeRefused/NullSenderRefused accept
 * policy).  <message> is r->message (Exim's "<mx> [<ip>] : ..."), or a
 * default when the library left it empty.  Returns the length written.
 */
size_t logline_verify(char *buf, size_t size, const logline_session *s,
		      const cv_address *addr, const cv_result *r,
		      reply_action action);

/*
 * The RCPT decision:
 *   F=<S> rejected RCPT <R>: <rep->reason>
 *   F=<S> temporarily rejected RCPT <R>: <rep->reason>
 * rcpt without angle brackets.  For REPLY_CONTINUE nothing is written
 * (buf = "", returns 0): the verify line says why.
 */
size_t logline_rcpt(char *buf, size_t size, const logline_session *s,
		    const char *rcpt, const reply *rep, bool cached,
		    int64_t elapsed_ms);

/* For the syntax-error line of header_sender. */
typedef struct logline_syntax {
	const char *header;	/* header name without ':', "From" */
	const char *why;	/* parser's reason */
	const char *text;	/* header value (quoted, at most
				 * LOGLINE_QUOTE_MAX bytes, then "...") */
} logline_syntax;

/*
 * The header_sender decision (rep from reply_for_header(outcome)):
 *   F=<S> rejected after DATA: there is no valid sender in any header line
 *   F=<S> rejected after DATA: syntax error in 'From:' header when
 *         scanning for sender: <why> in "<text>"      (syn non-NULL)
 *   F=<S> temporarily rejected after DATA: all attempts to verify a
 *         sender in a header line deferred
 * Nothing for REPLY_CONTINUE (returns 0, buf = "").
 */
size_t logline_header(char *buf, size_t size, const logline_session *s,
		      reply_header_outcome outcome, const reply *rep,
		      const logline_syntax *syn, bool cached,
		      int64_t elapsed_ms);

/*
 * The SPF check of the envelope sender (s->sender; the HELO name when it
 * is the null sender):
 *   SPF <result> for <S>: <detail> -> <action>
 * e.g. "SPF fail for <a@example.com>: Not authorised -> reject".
 * result and action are the names of spf.h (spf_result_name(),
 * spf_action_name()); detail (the domain's explanation or our problem
 * text) and its ": " are left out when empty.
 */
size_t logline_spf(char *buf, size_t size, const logline_session *s,
		   const char *result, const char *detail, const char *action,
		   int64_t elapsed_ms);

#endif /* CM_LOGLINE_H */
