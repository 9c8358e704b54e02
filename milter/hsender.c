/*
 * hsender.c - the header_sender check: the candidates of DESIGN.md
 * section 6, in Exim's order, verified until one succeeds.
 *
 * Guarantees: a candidate is verified only once it parsed cleanly; an
 * unknown result is never turned into a failure (HS_UNKNOWN wins over
 * HS_FAILED, whatever the header order); a syntax error is final, as in
 * Exim.  Nothing here allocates except the parser's bounded output.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hsender.h"

/* The three passes, in order, and the header names each reads. */
static const char *const pass_names[3][3] = {
	{ "Sender", "Resent-Sender", NULL },
	{ "Reply-To", NULL, NULL },
	{ "From", "Resent-From", NULL },
};

static int
in_pass(const char *name, int pass)
{
	int i;

	for (i = 0; pass_names[pass][i] != NULL; i++)
		if (strcasecmp(name, pass_names[pass][i]) == 0)
			return 1;
	return 0;
}

int
hsender_wanted(const char *name)
{
	int pass;

	for (pass = 0; pass < 3; pass++)
		if (in_pass(name, pass))
			return 1;
	return 0;
}

const char *
hsender_kind_name(hs_kind k)
{
	switch (k) {
	case HS_VERIFIED:
		return "verified";
	case HS_FAILED:
		return "failed";
	case HS_UNKNOWN:
		return "unknown";
	case HS_SYNTAX:
		return "syntax";
	case HS_NONE:
		return "none";
	}
	return "invalid";
}

/*
 * Verify the addresses of one header.  Returns 1 when one verified (the
 * check is over), 0 to go on.  *seen and *unknown accumulate.
 */
static int
check_header(const hs_header *h, const cv_address *addrs, size_t count,
	     hs_verify_fn *fn, void *ctx, hs_outcome *out, int *unknown)
{
	cv_result r;
	size_t i;

	(void)h;
	for (i = 0; i < count; i++) {
		out->addr = addrs[i];
		out->tried++;
		if (addrs[i].unqualified) {
			/* Exim: an unqualified header address fails */
			memset(&out->result, 0, sizeof(out->result));
			out->result.verdict = CV_FAILED;
			out->result.class_ = CV_CLASS_LOCAL;
			(void)strcpy(out->result.message,
			    "unqualified address");
			continue;
		}
		switch (fn(ctx, &addrs[i], &r)) {
		case CV_VERIFIED:
			out->result = r;
			return 1;
		case CV_UNKNOWN:
			*unknown = 1;
			break;
		case CV_FAILED:
			break;
		}
		out->result = r;
	}
	return 0;
}

void
hsender_check(const hs_header *headers, size_t n, hs_verify_fn *fn,
	      void *ctx, hs_outcome *out_r)
{
	cv_address *addrs;
	size_t i, count;
	int pass, unknown = 0;

	memset(out_r, 0, sizeof(*out_r));
	out_r->kind = HS_NONE;
	/* up to 100 addresses of about 1 KiB each: off the stack */
	addrs = calloc(CV_HEADER_ADDRS_MAX, sizeof(*addrs));
	if (addrs == NULL) {
		out_r->kind = HS_UNKNOWN;
		(void)strcpy(out_r->result.message, "out of memory");
		return;
	}
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n; i++) {
			const hs_header *h = &headers[i];

			if (!in_pass(h->name, pass))
				continue;
			if (cv_header_parse(h->value, h->len, addrs,
			    CV_HEADER_ADDRS_MAX, &count, out_r->why,
			    sizeof(out_r->why)) != 0) {
				out_r->kind = HS_SYNTAX;
				(void)snprintf(out_r->header,
				    sizeof(out_r->header), "%s", h->name);
				out_r->text = h->value;
				out_r->text_len = h->len;
				goto done;
			}
			if (check_header(h, addrs, count, fn, ctx, out_r,
			    &unknown)) {
				out_r->kind = HS_VERIFIED;
				goto done;
			}
		}
	}
	if (out_r->tried == 0)
		out_r->kind = HS_NONE;
	else
		out_r->kind = unknown ? HS_UNKNOWN : HS_FAILED;
done:
	free(addrs);
}
