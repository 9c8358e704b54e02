/*
 * hsender.h - the header_sender check (DESIGN.md section 6, Exim's
 * verify = header_sender): find a sender address in the message headers
 * that verifies.
 *
 * Pure logic: the headers come in as name/value pairs, verification goes
 * through a callback, so the daemon, the callout command and the tests
 * share one implementation.
 */
#ifndef CM_HSENDER_H
#define CM_HSENDER_H

#include <stddef.h>

#include "callout.h"

/* Headers kept per message for the check; more are ignored (logged). */
#define HSENDER_HEADERS_MAX	32

typedef struct hs_header {
	const char *name;	/* "From", "Resent-Sender", ... as received */
	const char *value;	/* raw value, may be folded */
	size_t len;
} hs_header;

typedef enum hs_kind {
	HS_VERIFIED = 0,	/* one candidate verified: accept */
	HS_FAILED,		/* none verified, none unknown */
	HS_UNKNOWN,		/* none verified, at least one unknown */
	HS_SYNTAX,		/* an examined address did not parse */
	HS_NONE,		/* no candidate address at all */
} hs_kind;

typedef struct hs_outcome {
	hs_kind kind;
	/* HS_SYNTAX: the header name as received ("From") and the parse
	 * error; the value is pointed to, not copied */
	char header[64];
	char why[CV_ERROR_MAX];
	const char *text;
	size_t text_len;
	/* HS_VERIFIED: the winner; HS_FAILED/HS_UNKNOWN: the last
	 * candidate tried (Exim reports the last one) */
	cv_address addr;
	cv_result result;
	unsigned tried;		/* candidates verified */
} hs_outcome;

/* Verify one candidate; fill *r and return its verdict. */
typedef cv_verdict hs_verify_fn(void *ctx, const cv_address *addr,
				cv_result *r);

/* Is this header one the check reads (Sender, Resent-Sender, Reply-To,
 * From, Resent-From; case-insensitive)? */
int hsender_wanted(const char *name);

/*
 * Run the check over headers[0..n) in Exim's order: every Sender: and
 * Resent-Sender:, then Reply-To:, then From: and Resent-From:, each in
 * header order.  The first candidate that verifies wins and the rest are
 * not verified.  A syntax error in an examined address ends the check
 * with HS_SYNTAX; an unqualified address counts as failed.
 */
void hsender_check(const hs_header *headers, size_t n, hs_verify_fn *fn,
		   void *ctx, hs_outcome *out_r);

const char *hsender_kind_name(hs_kind k);

#endif /* CM_HSENDER_H */
