/*
 * address.c - parse RFC 5321 envelope paths and RFC 5322 address headers.
 *
 * cv_path_parse() takes what follows MAIL FROM: or RCPT TO:, with or
 * without angle brackets; cv_header_parse() takes the value of From:,
 * Sender:, Reply-To: and the like, with display names, comments, groups,
 * empty elements and the obsolete forms real mail carries.  The grammar
 * follows Exim's parse.c, so that the error texts are Exim's.
 *
 * Guarantees: every input byte is checked before any parsing.  NUL, CR,
 * LF, DEL and the other C0 and C1 control characters are refused (in a
 * header a CR or LF that folds the line is whitespace), and so are
 * malformed UTF-8 and stray 8-bit bytes.  Outputs fit the fixed buffers
 * of cv_address, are NUL-terminated and never hold a control character,
 * so an address can go on an SMTP command line as it is.  The limits of
 * RFC 5321 4.5.3.1 are enforced.  U-label domains get their A-label form
 * from a small RFC 3492 encoder.
 *
 * Failure: -1 with a one-line reason in error_r (bounded, NUL-terminated,
 * error_r may be NULL).  Nothing is allocated.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "idna.h"
#include "util.h"

#define ADDR_LITERAL_MAX	64	/* octets between "[IPv6:" and "]" */
#define ADDR_EXCERPT_MAX	32	/* input octets shown after an error */

/* One parse in progress.  The input is never NUL-terminated text: a 0
 * from addr_peek() means the end (NUL itself is refused up front). */
typedef struct addr_ctx {
	const unsigned char *s;
	size_t len;
	size_t pos;
	size_t elem;		/* start of the current element, for errors */
	bool header;		/* header rules: folding, TAB, groups */
	char *error;
	size_t error_size;
} addr_ctx;

/* What one element parsed into, before it is copied out. */
typedef struct addr_parsed {
	size_t lstart, lend;	/* local part span in the input */
	bool null;		/* <> */
	bool has_domain;
	bool literal;
	char domain[CV_DOMAIN_MAX + 1];
} addr_parsed;

static int __attribute__((format(printf, 2, 3)))
addr_fail(addr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error == NULL || ctx->error_size == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(ctx->error, ctx->error_size, fmt, ap);
	va_end(ap);
	return -1;
}

static unsigned
addr_peek(const addr_ctx *ctx)
{
	return ctx->pos < ctx->len ? ctx->s[ctx->pos] : 0;
}

static bool
addr_is_space(unsigned c)
{
	/* After addr_prescan() a CR or LF left in the text folds a line. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
addr_is_alnum(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext, plus UTF-8 (RFC 6532); the input is already valid. */
static bool
addr_is_atext(unsigned c)
{
	return c != 0 && (addr_is_alnum(c) || c >= 0x80 ||
			  strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL);
}

static char
addr_lower(unsigned c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/*
 * Copy n input octets from off into buf for an error text: controls
 * (folding, TAB) become spaces and the cut never splits a UTF-8 sequence.
 */
static const char *
addr_excerpt(const addr_ctx *ctx, size_t off, size_t n, char *buf,
	     size_t size)
{
	size_t i;

	if (off > ctx->len)
		off = ctx->len;
	if (n > ctx->len - off)
		n = ctx->len - off;
	if (n > size - 1)
		n = size - 1;
	while (n > 0 && off + n < ctx->len && (ctx->s[off + n] & 0xc0) == 0x80)
		n--;
	for (i = 0; i < n; i++)
		buf[i] = ctx->s[off + i] < 0x20 ? ' ' : (char)ctx->s[off + i];
	buf[n] = '\0';
	return buf;
}

/* Exim's "malformed address: X may not follow Y" for the current spot. */
static int
addr_fail_follow(addr_ctx *ctx)
{
	char rest[ADDR_EXCERPT_MAX + 1], done[CV_ERROR_MAX];
	size_t end = ctx->pos;

	while (end > ctx->elem && addr_is_space(ctx->s[end - 1]))
		end--;
	addr_excerpt(ctx, ctx->pos, ADDR_EXCERPT_MAX, rest, sizeof(rest));
	addr_excerpt(ctx, ctx->elem, end - ctx->elem, done, sizeof(done));
	return addr_fail(ctx, "malformed address: %s may not follow %s", rest,
			 done);
}

/* A CR or LF at i that folds a header line: followed by SP or HTAB,
 * a CR possibly through its LF. */
static bool
addr_is_folding(const addr_ctx *ctx, size_t i)
{
	size_t j = i + 1;

	if (ctx->s[i] == '\r' && j < ctx->len && ctx->s[j] == '\n')
		j++;
	return j < ctx->len && (ctx->s[j] == ' ' || ctx->s[j] == '\t');
}

/* Refuse control characters and malformed UTF-8 anywhere in the input. */
static int
addr_prescan(addr_ctx *ctx)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < ctx->len) {
		unsigned c = ctx->s[i];

		if ((c == '\r' || c == '\n') && ctx->header &&
		    addr_is_folding(ctx, i)) {
			i++;
			continue;
		}
		if (c == '\t' && ctx->header) {
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return addr_fail(ctx, "control character in address");
		n = idna_utf8_len(ctx->s + i, ctx->len - i, &cp);
		if (n == 0 && ctx->header) {
			/* Raw 8-bit display names (Latin-1 and the like)
			 * are common in real mail: tolerated here, and
			 * refused only inside an address (addr_utf8_ok). */
			i++;
			continue;
		}
		if (n == 0)
			return addr_fail(ctx, "invalid UTF-8 byte sequence");
		if (cp >= 0x80 && cp < 0xa0)	/* C1 controls */
			return addr_fail(ctx, "control character in address");
		i += n;
	}
	return 0;
}

/* Is s valid UTF-8 without C1 controls?  For the local part and domain
 * of a header address, where addr_prescan() let 8-bit bytes through. */
static bool
addr_utf8_ok(const char *s)
{
	size_t len = strlen(s), i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = idna_utf8_len((const unsigned char *)s + i, len - i, &cp);
		if (n == 0 || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}

/* Skip whitespace and (nested) comments with their quoted pairs. */
static int
addr_skip_cfws(addr_ctx *ctx)
{
	for (;;) {
		unsigned c = addr_peek(ctx);
		size_t depth = 0;

		if (addr_is_space(c)) {
			ctx->pos++;
			continue;
		}
		if (c != '(')
			return 0;
		do {
			if (ctx->pos >= ctx->len)
				return addr_fail(ctx, "unmatched parenthesis "
						 "in comment");
			c = ctx->s[ctx->pos++];
			if (c == '\\' && ctx->pos < ctx->len)
				ctx->pos++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} while (depth > 0);
	}
}

/* One word: 1 if an atom or quoted string was read, 0 if none, -1. */
static int
addr_scan_word(addr_ctx *ctx)
{
	size_t start = ctx->pos;

	if (addr_peek(ctx) == '"') {
		ctx->pos++;
		while (ctx->pos < ctx->len) {
			unsigned c = ctx->s[ctx->pos++];

			if (c == '"')
				return 1;
			if (c == '\\' && ctx->pos < ctx->len)
				ctx->pos++;
		}
		return addr_fail(ctx, "unmatched doublequote in local part");
	}
	while (addr_is_atext(addr_peek(ctx)))
		ctx->pos++;
	return ctx->pos > start;
}

/*
 * Dot-separated words (a local part or an obs-phrase), Exim's
 * read_local_part(): runs of dots and empty words between dots are
 * accepted.  The span of the words goes to *start_r, *end_r.
 * Returns 1 if a word was read, 0 if none (an error unless allow_null).
 */
static int
addr_scan_local(addr_ctx *ctx, bool allow_null, size_t *start_r,
		size_t *end_r)
{
	bool any = false;
	int r;

	if (addr_skip_cfws(ctx) < 0)
		return -1;
	*start_r = *end_r = ctx->pos;
	for (;;) {
		if ((r = addr_scan_word(ctx)) < 0)
			return -1;
		if (r > 0) {
			any = true;
			*end_r = ctx->pos;
		}
		if (addr_skip_cfws(ctx) < 0)
			return -1;
		if (addr_peek(ctx) != '.') {
			if (!any && !allow_null)
				return addr_fail(ctx, "missing or malformed "
						 "local part");
			return any;
		}
		while (addr_peek(ctx) == '.')
			ctx->pos++;
		*end_r = ctx->pos;
		if (addr_skip_cfws(ctx) < 0)
			return -1;
	}
}

/*
 * Copy the local part in [start, end) to out without comments and
 * whitespace; quotes, quoted pairs and dots stay as given, folding
 * inside quotes is removed.  With strict, overflow and a TAB are errors;
 * without, the copy is cut short (for error texts).
 */
static int
addr_copy_local(addr_ctx *ctx, size_t start, size_t end, char *out,
		size_t size, bool strict, bool *utf8_r)
{
	size_t i = start, n = 0, depth;
	bool quoted = false, pair;

	while (i < end) {
		unsigned c = ctx->s[i++];

		if (!quoted && addr_is_space(c))
			continue;
		if (!quoted && c == '(') {
			for (depth = 1; depth > 0 && i < end; i++) {
				if (ctx->s[i] == '\\')
					i++;
				else if (ctx->s[i] == '(')
					depth++;
				else if (ctx->s[i] == ')')
					depth--;
			}
			continue;
		}
		if (quoted && (c == '\r' || c == '\n'))
			continue;
		if (c == '"')
			quoted = !quoted;
		pair = quoted && c == '\\' && i < end;
		if (n + 1 + pair >= size) {
			if (!strict)
				break;
			return addr_fail(ctx, "local part longer than %d octets",
					 CV_LOCAL_MAX);
		}
		if (pair) {
			out[n++] = (char)c;
			c = ctx->s[i++];
		}
		if (c < 0x20) {	/* TAB, or a folding CR/LF after '\\' */
			if (strict)
				return addr_fail(ctx, "control character in "
						 "address");
			c = ' ';
		}
		out[n++] = (char)c;
		if (c >= 0x80 && utf8_r != NULL)
			*utf8_r = true;
	}
	out[n] = '\0';
	return 0;
}

/*
 * An address literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]" (tag in any
 * case), checked with inet_pton().  Exim's informal forms ("[IPv4:...]",
 * IPv6 without the tag) and RFC 5321 general literals are refused.
 */
static int
addr_read_literal(addr_ctx *ctx, char *out, size_t size)
{
	char buf[ADDR_LITERAL_MAX + 1];
	unsigned char bin[16];
	size_t n = 0, i;
	bool v6 = false;
	static const char tag[] = "ipv6:";

	ctx->pos++;
	for (i = 0; i < 5 && addr_lower(addr_peek(ctx)) == tag[i]; i++)
		ctx->pos++;
	if (i == 5)
		v6 = true;
	else if (i > 0)
		return addr_fail(ctx, "malformed domain literal");
	while (addr_peek(ctx) != 0 &&
	       strchr("0123456789abcdefABCDEF.:", (int)addr_peek(ctx)) != NULL) {
		if (n >= ADDR_LITERAL_MAX)
			return addr_fail(ctx, "malformed domain literal");
		buf[n++] = addr_lower(ctx->s[ctx->pos++]);
	}
	buf[n] = '\0';
	if (addr_peek(ctx) != ']' ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1)
		return addr_fail(ctx, "malformed domain literal");
	ctx->pos++;
	(void)snprintf(out, size, "[%s%s]", v6 ? "IPv6:" : "", buf);
	return addr_skip_cfws(ctx);
}

/* Check the label just copied to out[label..n) (LDH or UTF-8). */
static int
addr_check_label(addr_ctx *ctx, const char *out, size_t label, size_t n)
{
	size_t i;
	bool ascii = true;

	if (out[label] == '-' || out[n - 1] == '-')
		return addr_fail(ctx, "domain missing or malformed");
	for (i = label; i < n; i++)
		if ((unsigned char)out[i] >= 0x80)
			ascii = false;
	/* a U-label is measured as its A-label, in idna_to_ascii() */
	if (ascii && n - label > IDNA_LABEL_MAX)
		return addr_fail(ctx, "domain label longer than %d octets",
				 IDNA_LABEL_MAX);
	return 0;
}

/*
 * A domain or address literal, lower-cased into out (CV_DOMAIN_MAX + 1
 * octets).  Comments and whitespace around the dots (obs-domain) are
 * skipped, one trailing dot is dropped.
 */
static int
addr_read_domain(addr_ctx *ctx, char *out, bool *literal_r)
{
	size_t n = 0, label;
	unsigned c;

	*literal_r = false;
	out[0] = '\0';
	if (addr_skip_cfws(ctx) < 0)
		return -1;
	if (addr_peek(ctx) == '[') {
		*literal_r = true;
		return addr_read_literal(ctx, out, CV_DOMAIN_MAX + 1);
	}
	for (;;) {
		label = n;
		while (c = addr_peek(ctx), addr_is_alnum(c) || c == '-' ||
		       c >= 0x80) {
			if (n >= CV_DOMAIN_MAX)
				return addr_fail(ctx, "domain longer than %d "
						 "octets", CV_DOMAIN_MAX);
			out[n++] = addr_lower(c);
			ctx->pos++;
		}
		out[n] = '\0';
		if (n == label) {
			if (n > 0 && addr_peek(ctx) != '.') {
				out[n - 1] = '\0';	/* trailing dot */
				return 0;
			}
			out[0] = '\0';
			return addr_fail(ctx, "domain missing or malformed");
		}
		if (addr_check_label(ctx, out, label, n) < 0 ||
		    addr_skip_cfws(ctx) < 0)
			return -1;
		if (addr_peek(ctx) != '.')
			return 0;
		if (n >= CV_DOMAIN_MAX)
			return addr_fail(ctx, "domain longer than %d octets",
					 CV_DOMAIN_MAX);
		out[n++] = '.';
		ctx->pos++;
		if (addr_skip_cfws(ctx) < 0)
			return -1;
	}
}

/* Copy a parsed element out into *a, enforcing RFC 5321 4.5.3.1. */
static int
addr_finish(addr_ctx *ctx, const addr_parsed *p, cv_address *a)
{
	size_t llen, dlen;

	memset(a, 0, sizeof(*a));
	if (p->null) {
		a->null = true;
		return 0;
	}
	if (addr_copy_local(ctx, p->lstart, p->lend, a->local,
			    sizeof(a->local), true, &a->utf8) < 0)
		return -1;
	if (!p->has_domain) {
		a->unqualified = true;
		return 0;
	}
	util_strlcpy(a->domain, p->domain, sizeof(a->domain));
	a->literal = p->literal;
	if (p->literal)
		util_strlcpy(a->ascii_domain, a->domain,
			     sizeof(a->ascii_domain));
	else
		switch (idna_to_ascii(a->domain, a->ascii_domain,
				      sizeof(a->ascii_domain))) {
		case IDNA_OK:
			break;
		case IDNA_LABEL_LONG:
			return addr_fail(ctx, "domain label longer than %d "
					 "octets", IDNA_LABEL_MAX);
		case IDNA_DOMAIN_LONG:
			return addr_fail(ctx, "domain longer than %d octets",
					 CV_DOMAIN_MAX);
		case IDNA_BAD_UTF8:	/* cannot happen after prescan */
			return addr_fail(ctx, "invalid UTF-8 byte sequence");
		}
	if (strcmp(a->domain, a->ascii_domain) != 0)
		a->utf8 = true;
	llen = strlen(a->local);
	dlen = strlen(a->domain);
	if (strlen(a->ascii_domain) > dlen)
		dlen = strlen(a->ascii_domain);
	if (llen + 1 + dlen + 2 > CV_PATH_MAX)
		return addr_fail(ctx, "path longer than %d octets",
				 CV_PATH_MAX);
	/* llen + 1 + strlen(domain) <= CV_PATH_MAX - 2: it fits */
	memcpy(a->address, a->local, llen);
	a->address[llen] = '@';
	util_strlcpy(a->address + llen + 1, a->domain,
		     sizeof(a->address) - llen - 1);
	return 0;
}

/* At the end of an addr-spec: '>' in brackets, else the end of the
 * input or, in a header, of the list element. */
static bool
addr_at_term(const addr_ctx *ctx, unsigned term)
{
	unsigned c = addr_peek(ctx);

	if (term != 0)
		return c == term;
	return c == 0 || (ctx->header && (c == ',' || c == ';'));
}

/* A source route "@a,@b:" (dropped); the domains must be well formed. */
static int
addr_read_route(addr_ctx *ctx)
{
	char scratch[CV_DOMAIN_MAX + 1];
	bool commas = false, literal;

	while (addr_peek(ctx) == '@') {
		ctx->pos++;
		if (addr_read_domain(ctx, scratch, &literal) < 0)
			return -1;
		if (addr_peek(ctx) != ',')
			break;
		ctx->pos++;
		commas = true;
		if (addr_skip_cfws(ctx) < 0)
			return -1;
	}
	if (addr_peek(ctx) != ':')
		return addr_fail(ctx, commas ? "colon expected after route list"
				 : "no local part");
	ctx->pos++;
	return addr_skip_cfws(ctx);
}

/* Exim's error for a local part followed by something unexpected. */
static int
addr_fail_local(addr_ctx *ctx, size_t start, size_t end)
{
	char local[CV_LOCAL_MAX + 1];

	(void)addr_copy_local(ctx, start, end, local, sizeof(local), false,
			      NULL);
	return addr_fail(ctx, "\"@\" or \".\" expected after \"%s\"", local);
}

/* local-part ["@" domain], ended by term ('>' or 0). */
static int
addr_read_spec(addr_ctx *ctx, addr_parsed *p, unsigned term)
{
	if (addr_scan_local(ctx, false, &p->lstart, &p->lend) < 0)
		return -1;
	if (addr_at_term(ctx, term))
		return 0;
	if (addr_peek(ctx) != '@')
		return addr_fail_local(ctx, p->lstart, p->lend);
	ctx->pos++;
	p->has_domain = true;
	return addr_read_domain(ctx, p->domain, &p->literal);
}

/* A route without brackets, "@a,@b:user@d" (at the first '@'). */
static int
addr_read_routed(addr_ctx *ctx, addr_parsed *p, unsigned term)
{
	if (addr_read_route(ctx) < 0 || addr_read_spec(ctx, p, term) < 0)
		return -1;
	if (!p->has_domain)
		return addr_fail(ctx, "domain missing in source-routed "
				 "address");
	return 0;
}

/* "<" [route] addr-spec ">", or "<>" when allow_null. */
static int
addr_read_angle(addr_ctx *ctx, addr_parsed *p, bool allow_null)
{
	ctx->pos++;
	if (addr_skip_cfws(ctx) < 0)
		return -1;
	if (addr_peek(ctx) == '@') {
		if (addr_read_routed(ctx, p, '>') < 0)
			return -1;
	} else if (allow_null && addr_peek(ctx) == '>') {
		p->null = true;
	} else if (addr_read_spec(ctx, p, '>') < 0) {
		return -1;
	}
	if (addr_peek(ctx) != '>') {
		if (ctx->pos >= ctx->len)
			return addr_fail(ctx, "'>' missing at end of address");
		return addr_fail_follow(ctx);
	}
	ctx->pos++;
	return addr_skip_cfws(ctx);
}

static void
addr_init(addr_ctx *ctx, const char *text, size_t len, bool header,
	  char *error_r, size_t error_size)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->s = (const unsigned char *)(text != NULL ? text : "");
	ctx->len = text != NULL ? len : 0;
	ctx->header = header;
	ctx->error = error_r;
	ctx->error_size = error_r != NULL ? error_size : 0;
	if (ctx->error_size > 0)
		ctx->error[0] = '\0';
}

int
cv_path_parse(const char *text, size_t len, cv_address *addr_r,
	      char *error_r, size_t error_size)
{
	addr_ctx ctx;
	addr_parsed p;
	int any;

	addr_init(&ctx, text, len, false, error_r, error_size);
	memset(&p, 0, sizeof(p));
	if (addr_r == NULL)
		return addr_fail(&ctx, "no address buffer");
	memset(addr_r, 0, sizeof(*addr_r));
	if (addr_prescan(&ctx) < 0)
		return -1;
	while (ctx.pos < ctx.len && ctx.s[ctx.pos] == ' ')
		ctx.pos++;
	while (ctx.len > ctx.pos && ctx.s[ctx.len - 1] == ' ')
		ctx.len--;
	ctx.elem = ctx.pos;
	if (ctx.pos == ctx.len)
		return addr_fail(&ctx, "empty address");
	if (addr_peek(&ctx) == '<') {
		if (addr_read_angle(&ctx, &p, true) < 0)
			return -1;
	} else {
		if ((any = addr_scan_local(&ctx, true, &p.lstart, &p.lend)) < 0)
			return -1;
		if (addr_peek(&ctx) == '@' && !any) {
			if (addr_read_routed(&ctx, &p, 0) < 0)
				return -1;
		} else if (!any) {
			return addr_fail(&ctx, "missing or malformed local "
					 "part");
		} else if (addr_peek(&ctx) == '@') {
			ctx.pos++;
			p.has_domain = true;
			if (addr_read_domain(&ctx, p.domain, &p.literal) < 0)
				return -1;
		} else if (!addr_at_term(&ctx, 0)) {
			return addr_fail_local(&ctx, p.lstart, p.lend);
		}
	}
	if (addr_skip_cfws(&ctx) < 0)
		return -1;
	if (ctx.pos < ctx.len)
		return addr_fail_follow(&ctx);
	if (!p.null && !p.has_domain)
		return addr_fail(&ctx, "address must contain a domain");
	if (addr_finish(&ctx, &p, addr_r) < 0) {
		memset(addr_r, 0, sizeof(*addr_r));
		return -1;
	}
	return 0;
}

/*
 * One element of a header list.  Returns 1 for a mailbox in *p, 2 for
 * the start of a group ("name:"), -1 on error.
 */
static int
addr_header_element(addr_ctx *ctx, addr_parsed *p, bool in_group)
{
	size_t ls, le;
	int any;

	memset(p, 0, sizeof(*p));
	if ((any = addr_scan_local(ctx, true, &p->lstart, &p->lend)) < 0)
		return -1;
	if (addr_peek(ctx) == '@') {
		if (!any)
			return addr_read_routed(ctx, p, 0) < 0 ? -1 : 1;
		ctx->pos++;
		p->has_domain = true;
		return addr_read_domain(ctx, p->domain, &p->literal) < 0 ? -1
									  : 1;
	}
	if (addr_peek(ctx) != '<') {
		if (addr_at_term(ctx, 0))	/* a bare local part */
			return any ? 1 : addr_fail(ctx, "empty address");
		/* a display name (obs-phrase: dots allowed) */
		while (addr_peek(ctx) != '<' &&
		       (in_group || addr_peek(ctx) != ':')) {
			if (addr_scan_local(ctx, false, &ls, &le) < 0) {
				if (ctx->error_size > 0)
					util_appendf(ctx->error,
						     ctx->error_size,
						     " (expected word or \"<\")");
				return -1;
			}
		}
		if (addr_peek(ctx) == ':') {
			ctx->pos++;
			return 2;
		}
	}
	return addr_read_angle(ctx, p, false) < 0 ? -1 : 1;
}

/* After an element: the end, ',' or the ';' closing a group. */
static int
addr_header_separator(addr_ctx *ctx, bool *in_group)
{
	if (addr_skip_cfws(ctx) < 0)
		return -1;
	if (*in_group && addr_peek(ctx) == ';') {
		*in_group = false;
		ctx->pos++;
		if (addr_skip_cfws(ctx) < 0)
			return -1;
	}
	if (ctx->pos < ctx->len && addr_peek(ctx) != ',')
		return addr_fail_follow(ctx);
	return 0;
}

int
cv_header_parse(const char *text, size_t len, cv_address *addrs_r,
		size_t max, size_t *count_r, char *error_r, size_t error_size)
{
	addr_ctx ctx;
	addr_parsed p;
	size_t count = 0;
	bool in_group = false;
	int r;

	addr_init(&ctx, text, len, true, error_r, error_size);
	if (count_r != NULL)
		*count_r = 0;
	if (addrs_r == NULL)
		max = 0;
	if (max > CV_HEADER_ADDRS_MAX)
		max = CV_HEADER_ADDRS_MAX;
	if (ctx.len > CV_HEADER_MAX)
		return addr_fail(&ctx, "header longer than %d octets",
				 CV_HEADER_MAX);
	if (addr_prescan(&ctx) < 0)
		return -1;
	for (;;) {
		if (addr_skip_cfws(&ctx) < 0)
			return -1;
		if (ctx.pos >= ctx.len)
			break;
		if (addr_peek(&ctx) == ',') {	/* empty element */
			ctx.pos++;
			continue;
		}
		ctx.elem = ctx.pos;
		if (in_group && addr_peek(&ctx) == ';') {
			if (addr_header_separator(&ctx, &in_group) < 0)
				return -1;
			continue;
		}
		if ((r = addr_header_element(&ctx, &p, in_group)) < 0)
			return -1;
		if (r == 2) {
			in_group = true;
			continue;
		}
		if (count >= max)
			return addr_fail(&ctx, "too many addresses in header");
		if (addr_finish(&ctx, &p, &addrs_r[count]) < 0)
			return -1;
		if (!addr_utf8_ok(addrs_r[count].local) ||
		    !addr_utf8_ok(addrs_r[count].domain))
			return addr_fail(&ctx, "invalid UTF-8 byte sequence");
		count++;
		if (addr_header_separator(&ctx, &in_group) < 0)
			return -1;
	}
	if (count_r != NULL)
		*count_r = count;
	return 0;
}
