/*
 * test-hsender.c - the header_sender check of DESIGN.md section 6 as a
 * table: candidate order, first verified wins, unknown beats failed,
 * syntax errors are final, groups, empty elements, unqualified
 * addresses, Resent-* headers.
 *
 * The verification callback decides by local part: ok* verifies, tmp*
 * is unknown, anything else fails; it records the order of its calls.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hsender.h"
#include "tap.h"

typedef struct calls {
	char log[1024];
} calls;

static cv_verdict
fake_verify(void *ctx, const cv_address *addr, cv_result *r)
{
	calls *c = ctx;

	memset(r, 0, sizeof(*r));
	if (c->log[0] != '\0')
		strncat(c->log, " ", sizeof(c->log) - strlen(c->log) - 1);
	strncat(c->log, addr->address, sizeof(c->log) - strlen(c->log) - 1);
	if (strncmp(addr->local, "ok", 2) == 0)
		r->verdict = CV_VERIFIED;
	else if (strncmp(addr->local, "tmp", 3) == 0)
		r->verdict = CV_UNKNOWN;
	else
		r->verdict = CV_FAILED;
	return r->verdict;
}

struct row {
	const char *name;
	const char *headers[6][2];	/* name, value; NULL-terminated */
	hs_kind want;
	const char *want_calls;		/* addresses verified, in order */
	const char *want_header;	/* HS_SYNTAX: header name */
	const char *want_why;		/* HS_SYNTAX: parse error */
};

static const struct row rows[] = {
	{ "valid From", { { "From", "Alice <ok1@a.example>" } },
	  HS_VERIFIED, "ok1@a.example", NULL, NULL },
	{ "invalid From", { { "From", "bad@a.example" } },
	  HS_FAILED, "bad@a.example", NULL, NULL },
	{ "valid Reply-To rescues an invalid From",
	  { { "From", "bad@a.example" }, { "Reply-To", "ok@b.example" } },
	  HS_VERIFIED, "ok@b.example", NULL, NULL },
	{ "Sender is checked before From",
	  { { "From", "ok@a.example" }, { "Sender", "ok2@s.example" } },
	  HS_VERIFIED, "ok2@s.example", NULL, NULL },
	{ "Reply-To before From, Sender before both",
	  { { "From", "bad1@a.example" }, { "Reply-To", "bad2@r.example" },
	    { "Sender", "bad3@s.example" } },
	  HS_FAILED, "bad3@s.example bad2@r.example bad1@a.example",
	  NULL, NULL },
	{ "Resent-Sender counts as Sender, Resent-From as From",
	  { { "Resent-From", "bad1@a.example" },
	    { "Resent-Sender", "bad2@s.example" } },
	  HS_FAILED, "bad2@s.example bad1@a.example", NULL, NULL },
	{ "several addresses in From: the first that verifies wins",
	  { { "From", "bad@a.example, ok@b.example, ok2@c.example" } },
	  HS_VERIFIED, "bad@a.example ok@b.example", NULL, NULL },
	{ "unknown beats failed",
	  { { "From", "tmp@a.example" }, { "Reply-To", "bad@b.example" } },
	  HS_UNKNOWN, "bad@b.example tmp@a.example", NULL, NULL },
	{ "unknown then verified",
	  { { "Reply-To", "tmp@a.example" }, { "From", "ok@b.example" } },
	  HS_VERIFIED, "tmp@a.example ok@b.example", NULL, NULL },
	{ "syntax error in From",
	  { { "From", "<bad@syntax" } },
	  HS_SYNTAX, "", "From", "'>' missing at end of address" },
	{ "syntax error after a good Sender is never reached",
	  { { "From", "<userx@test.example" }, { "Sender", "ok@s.example" } },
	  HS_VERIFIED, "ok@s.example", NULL, NULL },
	{ "syntax error overrides an earlier unknown",
	  { { "Reply-To", "tmp@a.example" }, { "From", "<broken" } },
	  HS_SYNTAX, "tmp@a.example", "From", NULL },
	{ "group syntax",
	  { { "From", "Team: bad@a.example, ok@b.example;" } },
	  HS_VERIFIED, "bad@a.example ok@b.example", NULL, NULL },
	{ "empty group: no candidate",
	  { { "From", "undisclosed-recipients:;" } },
	  HS_NONE, "", NULL, NULL },
	{ "empty elements skipped",
	  { { "From", "bad@a.example,, ,ok@b.example" } },
	  HS_VERIFIED, "bad@a.example ok@b.example", NULL, NULL },
	{ "no candidate headers", { { "Subject", "hello" }, { "To", "ok@x.example" } },
	  HS_NONE, "", NULL, NULL },
	{ "unqualified address fails without a probe",
	  { { "From", "user" } },
	  HS_FAILED, "", NULL, NULL },
	{ "From: <> is a syntax error",
	  { { "From", "Name <>" } },
	  HS_SYNTAX, "", "From", "missing or malformed local part" },
	{ "header names are case-insensitive",
	  { { "FROM", "bad@a.example" }, { "reply-to", "ok@b.example" } },
	  HS_VERIFIED, "ok@b.example", NULL, NULL },
	{ "folded header value",
	  { { "From", "Alice\r\n\t<ok@a.example>" } },
	  HS_VERIFIED, "ok@a.example", NULL, NULL },
};

static void
run_row(const struct row *row)
{
	hs_header h[6];
	hs_outcome out;
	calls c;
	size_t n = 0;

	memset(&c, 0, sizeof(c));
	while (n < 6 && row->headers[n][0] != NULL) {
		h[n].name = row->headers[n][0];
		h[n].value = row->headers[n][1];
		h[n].len = strlen(row->headers[n][1]);
		n++;
	}
	hsender_check(h, n, fake_verify, &c, &out);
	if (!tap_ok(out.kind == row->want, "%s: %s", row->name,
	    hsender_kind_name(row->want)))
		tap_diag("  got %s (%s)", hsender_kind_name(out.kind), out.why);
	tap_is_str(c.log, row->want_calls, "  candidates verified in order");
	if (row->want_header != NULL)
		tap_is_str(out.header, row->want_header, "  header named");
	if (row->want_why != NULL)
		tap_is_str(out.why, row->want_why, "  parse error text");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	tap_ok(hsender_wanted("resent-from") && !hsender_wanted("To") &&
	    !hsender_wanted("Resent-Reply-To"), "hsender_wanted");
	return tap_done();
}
