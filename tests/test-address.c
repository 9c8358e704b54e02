/*
 * test-address.c - table-driven tests of cv_path_parse() and
 * cv_header_parse(): the forms real mail carries, Exim's error texts,
 * the RFC 5321 limits, hostile input (controls, NUL, bad UTF-8,
 * unbalanced quotes and brackets), punycode, and a bounded fuzz loop
 * over prefixes and random bytes that checks the outputs stay clean.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callout.h"
#include "idna.h"
#include "tap.h"

enum {
	F_NULL = 1,
	F_LIT = 2,
	F_UTF8 = 4,
	F_UNQ = 8,
	F_ANY = 0x100,	/* flags not checked */
};

typedef struct tcase {
	const char *in;
	size_t len;
	char kind;		/* 'p': cv_path_parse, 'h': cv_header_parse */
	int ok;			/* 1: parses, 0: error */
	/* ok: addresses joined by '|' ("?local" unqualified, "<>" null);
	 * error: the exact error text */
	const char *want;
	unsigned flags;		/* of the first address */
	const char *ascii;	/* ascii_domain of the first, or NULL */
} tcase;

#define P(s) s, sizeof(s) - 1, 'p'
#define H(s) s, sizeof(s) - 1, 'h'
#define OK 1
#define ERR 0

static const tcase cases[] = {
	/* envelope paths */
	{P("<user@example.com>"), OK, "user@example.com", 0, "example.com"},
	{P("user@example.com"), OK, "user@example.com", 0, NULL},
	{P("<>"), OK, "<>", F_NULL, ""},
	{P("< >"), OK, "<>", F_NULL, NULL},
	{P("  <user@example.com>  "), OK, "user@example.com", 0, NULL},
	{P("<User.Name@Example.COM>"), OK, "User.Name@example.com", 0,
	 "example.com"},
	{P("<@a.example,@b.example:user@d.example>"), OK, "user@d.example",
	 0, NULL},
	{P("<@[192.0.2.1]:user@d.example>"), OK, "user@d.example", 0, NULL},
	{P("@a.example:user@d.example"), OK, "user@d.example", 0, NULL},
	{P("<\"john doe\"@example.com>"), OK, "\"john doe\"@example.com", 0,
	 NULL},
	{P("<\"a\\\"b\"@example.com>"), OK, "\"a\\\"b\"@example.com", 0, NULL},
	{P("<\"\"@example.com>"), OK, "\"\"@example.com", 0, NULL},
	{P("<\"a>b\"@example.com>"), OK, "\"a>b\"@example.com", 0, NULL},
	{P("<user@[192.0.2.1]>"), OK, "user@[192.0.2.1]", F_LIT,
	 "[192.0.2.1]"},
	{P("<user@[IPv6:2001:DB8::1]>"), OK, "user@[IPv6:2001:db8::1]", F_LIT,
	 "[IPv6:2001:db8::1]"},
	{P("<user@[ipv6:::1]>"), OK, "user@[IPv6:::1]", F_LIT, NULL},
	{P("<user@[300.1.1.1]>"), ERR, "malformed domain literal", 0, NULL},
	{P("<user@[IPv6:2001:db8::g]>"), ERR, "malformed domain literal", 0,
	 NULL},
	{P("<user@[2001:db8::1]>"), ERR, "malformed domain literal", 0, NULL},
	{P("<user@[IPv4:192.0.2.1]>"), ERR, "malformed domain literal", 0,
	 NULL},
	{P("<user@[192.0.2.1>"), ERR, "malformed domain literal", 0, NULL},
	{P("<user@[]>"), ERR, "malformed domain literal", 0, NULL},
	{P("<user@bücher.example>"), OK, "user@bücher.example", F_UTF8,
	 "xn--bcher-kva.example"},
	{P("<user@münchen.de>"), OK, "user@münchen.de", F_UTF8,
	 "xn--mnchen-3ya.de"},
	{P("<user@Bücher.EXAMPLE>"), OK, "user@bücher.example", F_UTF8,
	 "xn--bcher-kva.example"},
	{P("<user@例え.テスト>"), OK, "user@例え.テスト", F_UTF8,
	 "xn--r8jz45g.xn--zckzah"},
	{P("<jörg@example.com>"), OK, "jörg@example.com", F_UTF8,
	 "example.com"},
	{P("<x@xn--bcher-kva.example>"), OK, "x@xn--bcher-kva.example", 0,
	 "xn--bcher-kva.example"},
	{P("<user>"), ERR, "address must contain a domain", 0, NULL},
	{P("user"), ERR, "address must contain a domain", 0, NULL},
	{P("<postmaster>"), ERR, "address must contain a domain", 0, NULL},
	{P("<user@example.com"), ERR, "'>' missing at end of address", 0,
	 NULL},
	{P("<user@example.com> SIZE=1000"), ERR,
	 "malformed address: SIZE=1000 may not follow <user@example.com>", 0,
	 NULL},
	{P("user@example.com BODY=8BITMIME"), ERR,
	 "malformed address: BODY=8BITMIME may not follow user@example.com",
	 0, NULL},
	{P("<a@b.example> <c@d.example>"), ERR,
	 "malformed address: <c@d.example> may not follow <a@b.example>", 0,
	 NULL},
	{P("<a@b.example>>"), ERR,
	 "malformed address: > may not follow <a@b.example>", 0, NULL},
	{P("a@b.example,c@d.example"), ERR,
	 "malformed address: ,c@d.example may not follow a@b.example", 0,
	 NULL},
	{P("<user@>"), ERR, "domain missing or malformed", 0, NULL},
	{P("<@example.com>"), ERR, "no local part", 0, NULL},
	{P("<@a.example,@b.example user@c.example>"), ERR,
	 "colon expected after route list", 0, NULL},
	{P("<@a.example:user>"), ERR,
	 "domain missing in source-routed address", 0, NULL},
	{P("<@a.example:>"), ERR, "missing or malformed local part", 0, NULL},
	{P("John <a@b.example>"), ERR, "\"@\" or \".\" expected after \"John\"",
	 0, NULL},
	{P("<broken"), ERR, "\"@\" or \".\" expected after \"broken\"", 0,
	 NULL},
	{P("<a b@c.example>"), ERR, "\"@\" or \".\" expected after \"a\"", 0,
	 NULL},
	{P("<user@exa_mple.com>"), ERR,
	 "malformed address: _mple.com> may not follow <user@exa", 0, NULL},
	{P("<user@-example.com>"), ERR, "domain missing or malformed", 0,
	 NULL},
	{P("<user@example-.com>"), ERR, "domain missing or malformed", 0,
	 NULL},
	{P("<user@example..com>"), ERR, "domain missing or malformed", 0,
	 NULL},
	{P("<user@.example.com>"), ERR, "domain missing or malformed", 0,
	 NULL},
	{P("<user@example.com.>"), OK, "user@example.com", 0, "example.com"},
	{P("<user@example.com..>"), ERR, "domain missing or malformed", 0,
	 NULL},
	{P(""), ERR, "empty address", 0, NULL},
	{P("   "), ERR, "empty address", 0, NULL},
	{P("<\"unterminated@example.com>"), ERR,
	 "unmatched doublequote in local part", 0, NULL},
	{P("<<a@b.example>>"), ERR, "missing or malformed local part", 0,
	 NULL},
	{P("<a.b.c@d.example>"), OK, "a.b.c@d.example", 0, NULL},
	{P("<a..b@d.example>"), OK, "a..b@d.example", 0, NULL},
	{P("<a@b.example>(comment)"), OK, "a@b.example", 0, NULL},
	{P("<a@b.example (unclosed>"), ERR, "unmatched parenthesis in comment",
	 0, NULL},
	/* hostile bytes in paths */
	{P("<a@b.example\r\n>"), ERR, "control character in address", 0, NULL},
	{P("<a@b.example>\r\nRCPT TO:<x@y.example>"), ERR,
	 "control character in address", 0, NULL},
	{P("<a\0b@c.example>"), ERR, "control character in address", 0, NULL},
	{P("<a@c.example>\0"), ERR, "control character in address", 0, NULL},
	{P("<\"a\nb\"@c.example>"), ERR, "control character in address", 0,
	 NULL},
	{P("<a@[192.0.2.1\r]>"), ERR, "control character in address", 0, NULL},
	{P("<a\x7f@b.example>"), ERR, "control character in address", 0, NULL},
	{P("<a\t@b.example>"), ERR, "control character in address", 0, NULL},
	{P("<a\x1b@b.example>"), ERR, "control character in address", 0, NULL},
	{P("<\xc2\x85@b.example>"), ERR, "control character in address", 0,
	 NULL},
	{P("<a\x80@b.example>"), ERR, "invalid UTF-8 byte sequence", 0, NULL},
	{P("<a\xc3@b.example>"), ERR, "invalid UTF-8 byte sequence", 0, NULL},
	{P("<a@b.ex\xe4mple>"), ERR, "invalid UTF-8 byte sequence", 0, NULL},
	{P("<\xc0\xaf@b.example>"), ERR, "invalid UTF-8 byte sequence", 0,
	 NULL},
	{P("<\xed\xa0\x80@b.example>"), ERR, "invalid UTF-8 byte sequence", 0,
	 NULL},
	{P("<\xf4\x90\x80\x80@b.example>"), ERR, "invalid UTF-8 byte sequence",
	 0, NULL},
	{P("<\xff@b.example>"), ERR, "invalid UTF-8 byte sequence", 0, NULL},

	/* header address lists */
	{H("user@example.com"), OK, "user@example.com", 0, "example.com"},
	{H("John Doe <john@example.com>"), OK, "john@example.com", 0, NULL},
	{H("\"Doe, John\" <john@example.com>"), OK, "john@example.com", 0,
	 NULL},
	{H("john@example.com (John Doe)"), OK, "john@example.com", 0, NULL},
	{H("a@x.example, b@y.example"), OK, "a@x.example|b@y.example", 0,
	 NULL},
	{H("a@x.example,,b@y.example"), OK, "a@x.example|b@y.example", 0,
	 NULL},
	{H(" , ,,"), OK, "", 0, NULL},
	{H(""), OK, "", 0, NULL},
	{H("Team: a@x.example, b@y.example;"), OK, "a@x.example|b@y.example",
	 0, NULL},
	{H("undisclosed-recipients:;"), OK, "", 0, NULL},
	{H("undisclosed-recipients: ;, a@x.example"), OK, "a@x.example", 0,
	 NULL},
	{H("Team: a@x.example;, c@z.example"), OK, "a@x.example|c@z.example",
	 0, NULL},
	{H("Team: a@x.example; c@z.example"), ERR,
	 "malformed address: c@z.example may not follow a@x.example;", 0,
	 NULL},
	{H(":a@x.example;"), OK, "a@x.example", 0, NULL},
	{H("Team: a@x.example, Sub: b@y.example;;"), ERR,
	 "missing or malformed local part (expected word or \"<\")", 0, NULL},
	{H("<>"), ERR, "missing or malformed local part", 0, NULL},
	{H("Name <>"), ERR, "missing or malformed local part", 0, NULL},
	{H("<bad@syntax"), ERR, "'>' missing at end of address", 0, NULL},
	{H("<broken"), ERR, "\"@\" or \".\" expected after \"broken\"", 0,
	 NULL},
	{H("user"), OK, "?user", F_UNQ, ""},
	{H("Name <user>"), OK, "?user", F_UNQ, NULL},
	{H("a@x.example, user"), OK, "a@x.example|?user", 0, NULL},
	{H("John Q. Public <jqp@example.com>"), OK, "jqp@example.com", 0,
	 NULL},
	{H("\"Joe Q. Public\" <john.q.public@example.com>"), OK,
	 "john.q.public@example.com", 0, NULL},
	{H("john . doe @ example . com"), OK, "john.doe@example.com", 0,
	 "example.com"},
	{H("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
	 OK, "pete@silly.test", 0, NULL},
	{H("A Group(Some people):Chris Jones <c@(Chris's host.)public.example>,"
	   " joe@example.org, John <jdoe@one.test> (my dear friend); (the end "
	   "of the group)"),
	 OK, "c@public.example|joe@example.org|jdoe@one.test", 0, NULL},
	{H("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;"),
	 OK, "", 0, NULL},
	{H("Mary Smith <@node.test:mary@example.net>"), OK, "mary@example.net",
	 0, NULL},
	{H("<@a.test,@b.test:joe@c.test>"), OK, "joe@c.test", 0, NULL},
	{H("@a.test:joe@c.test, b@y.example"), OK, "joe@c.test|b@y.example", 0,
	 NULL},
	{H("Mary <mary@x.test>, jdoe@example.org, Who? <one@y.test>"), OK,
	 "mary@x.test|jdoe@example.org|one@y.test", 0, NULL},
	{H("\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>"), OK,
	 "sysservices@example.net", 0, NULL},
	{H("a@x.example (unclosed"), ERR, "unmatched parenthesis in comment", 0,
	 NULL},
	{H("a@x.example ((nested) comment)"), OK, "a@x.example", 0, NULL},
	{H("((a) (b (c))) a@x.example"), OK, "a@x.example", 0, NULL},
	{H("a@x.example (comment \\) still (comment))"), OK, "a@x.example", 0,
	 NULL},
	{H("(a@x.example"), ERR, "unmatched parenthesis in comment", 0, NULL},
	{H("a@x.example)"), ERR,
	 "malformed address: ) may not follow a@x.example", 0, NULL},
	{H("\"unterminated <a@x.example>"), ERR,
	 "unmatched doublequote in local part", 0, NULL},
	{H("John Doe"), ERR,
	 "missing or malformed local part (expected word or \"<\")", 0, NULL},
	{H("John Doe a@x.example"), ERR,
	 "missing or malformed local part (expected word or \"<\")", 0, NULL},
	{H("a@x.example b@y.example"), ERR,
	 "malformed address: b@y.example may not follow a@x.example", 0, NULL},
	{H("a@x.example\r\n\tb@y.example"), ERR,
	 "malformed address: b@y.example may not follow a@x.example", 0, NULL},
	{H("a@x.example;"), ERR,
	 "malformed address: ; may not follow a@x.example", 0, NULL},
	{H("a@x.example>"), ERR,
	 "malformed address: > may not follow a@x.example", 0, NULL},
	{H("<a@x.example> trailing"), ERR,
	 "malformed address: trailing may not follow <a@x.example>", 0, NULL},
	{H("<a@x.example, b@y.example>"), ERR,
	 "malformed address: , b@y.example> may not follow <a@x.example", 0,
	 NULL},
	{H("Name <a@x.example>, <b@y.example>"), OK, "a@x.example|b@y.example",
	 0, NULL},
	{H("a@[192.0.2.1]"), OK, "a@[192.0.2.1]", F_LIT, "[192.0.2.1]"},
	{H("Name <a@[IPv6:2001:db8::1]>"), OK, "a@[IPv6:2001:db8::1]", F_LIT,
	 NULL},
	{H("a@[192.0.2.1"), ERR, "malformed domain literal", 0, NULL},
	{H("a.@x.example"), OK, "a.@x.example", 0, NULL},
	{H("\"a\"@x.example"), OK, "\"a\"@x.example", 0, NULL},
	{H("\"a\".b@x.example"), OK, "\"a\".b@x.example", 0, NULL},
	{H("a@x..example"), ERR, "domain missing or malformed", 0, NULL},
	{H("a@"), ERR, "domain missing or malformed", 0, NULL},
	{H("@x.example"), ERR, "no local part", 0, NULL},
	{H("a@x.example., b@y.example"), OK, "a@x.example|b@y.example", 0,
	 NULL},
	{H("=?utf-8?q?J=C3=BCrgen?= <j@x.example>"), OK, "j@x.example", 0,
	 NULL},
	{H("Jürgen Müller <juergen@example.de>"), OK, "juergen@example.de", 0,
	 NULL},
	{H("user@bücher.example"), OK, "user@bücher.example", F_UTF8,
	 "xn--bcher-kva.example"},
	{H("Юзер <юзер@пример.рф>"), OK, "юзер@пример.рф", F_UTF8,
	 "xn--e1afmkfd.xn--p1ai"},
	/* folding and hostile bytes in headers */
	{H("a@x.example,\r\n b@y.example"), OK, "a@x.example|b@y.example", 0,
	 NULL},
	{H("a@x.example,\n\tb@y.example"), OK, "a@x.example|b@y.example", 0,
	 NULL},
	{H("John\r\n Doe <a@x.example>"), OK, "a@x.example", 0, NULL},
	{H("\"a\r\n b\"@x.example"), OK, "\"a b\"@x.example", 0, NULL},
	{H("a@x.example,\r\nb@y.example"), ERR, "control character in address",
	 0, NULL},
	{H("a@x.example\rb"), ERR, "control character in address", 0, NULL},
	{H("a@x.example\n"), ERR, "control character in address", 0, NULL},
	{H("a@x.example\r\n"), ERR, "control character in address", 0, NULL},
	{H("a@x.example\0, b@y.example"), ERR, "control character in address",
	 0, NULL},
	{H("\"a\0\"@x.example"), ERR, "control character in address", 0, NULL},
	{H("\"a\tb\"@x.example"), ERR, "control character in address", 0,
	 NULL},
	{H("\"a\\\r\n b\"@x.example"), ERR, "control character in address", 0,
	 NULL},
	{H("\"Jo\tDoe\" <a@x.example>"), OK, "a@x.example", 0, NULL},
	{H("a@x.example (\x01)"), ERR, "control character in address", 0,
	 NULL},
	/* raw 8-bit (Latin-1) display names and comments are tolerated,
	 * as real mail carries them; inside the address they are not */
	{H("J\xfcrgen <j@example.de>"), OK, "j@example.de", 0, NULL},
	{H("a@x.example (\xe2\x82)"), OK, "a@x.example", 0, NULL},
	{H("\"M\xfcller, J\" <j@example.de>"), OK, "j@example.de", 0, NULL},
	{H("J\xfcrgen <j\xfc@example.de>"), ERR,
	 "invalid UTF-8 byte sequence", 0, NULL},
	{H("j@exampl\xe9.de"), ERR, "invalid UTF-8 byte sequence", 0, NULL},
	{H("J\xfcrgen <\xc2\x85@example.de>"), ERR,
	 "control character in address", 0, NULL},
	{P("<j\xfc@example.de>"), ERR, "invalid UTF-8 byte sequence", 0, NULL},
};

/* Flags of one address as F_* bits. */
static unsigned
address_flags(const cv_address *a)
{
	return (a->null ? F_NULL : 0) | (a->literal ? F_LIT : 0) |
	    (a->utf8 ? F_UTF8 : 0) | (a->unqualified ? F_UNQ : 0);
}

static void
join_append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf), m = strlen(s);

	if (m > size - 1 - n)
		m = size - 1 - n;
	memcpy(buf + n, s, m);
	buf[n + m] = '\0';
}

/* Addresses joined by '|' as in the table. */
static void
address_join(const cv_address *a, size_t count, char *buf, size_t size)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < count; i++) {
		if (i > 0)
			join_append(buf, size, "|");
		if (a[i].null) {
			join_append(buf, size, "<>");
		} else if (a[i].unqualified) {
			join_append(buf, size, "?");
			join_append(buf, size, a[i].local);
		} else {
			join_append(buf, size, a[i].address);
		}
	}
}

static bool
string_clean(const char *s, size_t size)
{
	size_t n = strnlen(s, size), i;

	if (n >= size)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Every field terminated, bounded, free of controls and consistent. */
static bool
address_clean(const cv_address *a)
{
	char want[CV_PATH_MAX + 1];

	if (!string_clean(a->local, sizeof(a->local)) ||
	    !string_clean(a->domain, sizeof(a->domain)) ||
	    !string_clean(a->ascii_domain, sizeof(a->ascii_domain)) ||
	    !string_clean(a->address, sizeof(a->address)))
		return false;
	if (a->null || a->unqualified)
		return a->address[0] == '\0' && a->domain[0] == '\0';
	if (strlen(a->local) > CV_LOCAL_MAX || a->local[0] == '\0' ||
	    a->domain[0] == '\0' ||
	    strlen(a->local) + strlen(a->ascii_domain) + 3 > CV_PATH_MAX)
		return false;
	snprintf(want, sizeof(want), "%s@%s", a->local, a->domain);
	return strcmp(want, a->address) == 0;
}

static cv_address addrs[CV_HEADER_ADDRS_MAX];

/* Run one input through one parser; addresses joined into out. */
static int
run(char kind, const char *in, size_t len, char *out, size_t size,
    char *error, size_t error_size, size_t *count_r)
{
	int rc;

	if (kind == 'p') {
		rc = cv_path_parse(in, len, &addrs[0], error, error_size);
		*count_r = rc == 0 ? 1 : 0;
	} else {
		rc = cv_header_parse(in, len, addrs, CV_HEADER_ADDRS_MAX,
				     count_r, error, error_size);
	}
	address_join(addrs, *count_r, out, size);
	return rc;
}

static void
test_table(void)
{
	char out[8192], error[CV_ERROR_MAX], name[160];
	size_t i, k, count;
	const tcase *t;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = &cases[i];
		rc = run(t->kind, t->in, t->len, out, sizeof(out), error,
			 sizeof(error), &count);
		snprintf(name, sizeof(name), "%s %zu: %.100s",
			 t->kind == 'p' ? "path" : "header", i, t->in);
		for (k = 0; name[k] != '\0'; k++)	/* keep TAP lines whole */
			if ((unsigned char)name[k] < 0x20 || name[k] == 0x7f)
				name[k] = '?';
		if (t->ok && rc != 0) {
			tap_ok(false, "%s", name);
			tap_diag("  unexpected error: %s", error);
			continue;
		}
		if (!t->ok && rc == 0) {
			tap_ok(false, "%s", name);
			tap_diag("  parsed as \"%s\", want error \"%s\"", out,
				 t->want);
			continue;
		}
		if (!t->ok) {
			tap_is_str(error, t->want, name);
			continue;
		}
		if (!tap_is_str(out, t->want, name))
			continue;
		if (count > 0 && (t->flags & F_ANY) == 0 &&
		    address_flags(&addrs[0]) != t->flags) {
			tap_ok(false, "%s: flags", name);
			tap_diag("  flags %#x, want %#x",
				 address_flags(&addrs[0]), t->flags);
		}
		if (count > 0 && t->ascii != NULL &&
		    strcmp(addrs[0].ascii_domain, t->ascii) != 0) {
			tap_ok(false, "%s: ascii_domain", name);
			tap_diag("  got \"%s\", want \"%s\"",
				 addrs[0].ascii_domain, t->ascii);
		}
		if (error[0] != '\0') {
			tap_ok(false, "%s: error text left on success", name);
			tap_diag("  \"%s\"", error);
		}
	}
}

/* "x.x.x..." of exactly len octets with labels of at most lab octets */
static void
make_domain(char *buf, size_t len, size_t lab)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if (run == lab && i + 1 < len) {
			buf[i] = '.';
			run = 0;
		} else {
			buf[i] = 'a' + (char)(i % 26);
			run++;
		}
	}
	buf[len] = '\0';
}

static int
path_of(const char *local, size_t llen, const char *domain, char *error)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "<%.*s@%s>", (int)llen, local, domain);
	return cv_path_parse(buf, strlen(buf), &addrs[0], error,
			     CV_ERROR_MAX);
}

/* RFC 5321 4.5.3.1 limits, at and just past each edge. */
static void
test_limits(void)
{
	char local[300], domain[600], error[CV_ERROR_MAX];
	char label[400];
	size_t i;

	memset(local, 'l', sizeof(local));
	tap_is_int(path_of(local, 64, "x.example", error), 0, "local 64 ok");
	tap_is_int((long long)strlen(addrs[0].local), 64, "local 64 kept");
	tap_is_int(path_of(local, 65, "x.example", error), -1, "local 65");
	tap_is_str(error, "local part longer than 64 octets", "local 65 error");
	tap_is_int(path_of(local, 200, "x.example", error), -1, "local 200");

	make_domain(label, 63, 63);
	tap_is_int(path_of("a", 1, label, error), 0, "label 63 ok");
	make_domain(label, 64, 64);
	tap_is_int(path_of("a", 1, label, error), -1, "label 64");
	tap_is_str(error, "domain label longer than 63 octets",
		   "label 64 error");
	make_domain(label, 300, 300);
	tap_is_int(path_of("a", 1, label, error), -1, "label 300");

	make_domain(domain, 252, 63);
	tap_is_int(path_of("a", 1, domain, error), 0, "domain 252 ok");
	make_domain(domain, 253, 63);
	tap_is_int(path_of("a", 1, domain, error), -1, "domain 253 path");
	tap_is_str(error, "path longer than 256 octets", "path 257 error");
	make_domain(domain, 256, 63);
	tap_is_int(path_of("a", 1, domain, error), -1, "domain 256");
	tap_is_str(error, "domain longer than 255 octets", "domain 256 error");
	make_domain(domain, 500, 63);
	tap_is_int(path_of("a", 1, domain, error), -1, "domain 500");
	make_domain(domain, 189, 63);
	tap_is_int(path_of(local, 64, domain, error), 0, "path 256 ok");
	make_domain(domain, 190, 63);
	tap_is_int(path_of(local, 64, domain, error), -1, "path 257");
	tap_is_str(error, "path longer than 256 octets", "path 257 text");

	/* a U-label whose A-label is too long */
	domain[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(domain, "ü");
	strcat(domain, ".example");
	tap_is_int(path_of("a", 1, domain, error), -1, "long U-label");
	tap_is_str(error, "domain label longer than 63 octets",
		   "long U-label error");
	/* an A-label that pushes the domain past 255 */
	make_domain(domain, 240, 63);
	strcat(domain, ".üüüüüüü");
	tap_is_int(path_of("a", 1, domain, error), -1, "long A-domain");
}

/* The address cap and the header length cap. */
static void
test_header_caps(void)
{
	static char big[CV_HEADER_MAX + 64];
	char error[CV_ERROR_MAX];
	size_t count = 99, i, n = 0;
	cv_address few[2];

	for (i = 0; i < CV_HEADER_ADDRS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "u%zu@x.test, ",
				      i);
	tap_is_int(cv_header_parse(big, n, addrs, CV_HEADER_ADDRS_MAX, &count,
				   error, sizeof(error)),
		   0, "100 addresses ok");
	tap_is_int((long long)count, CV_HEADER_ADDRS_MAX, "100 counted");
	tap_is_str(addrs[99].address, "u99@x.test", "100th address");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "one@more.test");
	tap_is_int(cv_header_parse(big, n, addrs, CV_HEADER_ADDRS_MAX, &count,
				   error, sizeof(error)),
		   -1, "101 addresses");
	tap_is_str(error, "too many addresses in header", "101 error");
	tap_is_int((long long)count, 0, "count 0 on error");
	tap_is_int(cv_header_parse("a@x.test, b@y.test, c@z.test", 28, few, 2,
				   &count, error, sizeof(error)),
		   -1, "max 2 with 3");
	tap_is_str(error, "too many addresses in header", "max 2 error");

	memset(big, ' ', sizeof(big));
	memcpy(big, "a@x.test", 8);
	tap_is_int(cv_header_parse(big, CV_HEADER_MAX, addrs, 1, &count, error,
				   sizeof(error)),
		   0, "header at the cap");
	tap_is_int(cv_header_parse(big, CV_HEADER_MAX + 1, addrs, 1, &count,
				   error, sizeof(error)),
		   -1, "header past the cap");
	tap_is_str(error, "header longer than 65536 octets", "header cap text");
}

/* error_r NULL, tiny error buffers and the bytes after them. */
static void
test_error_buffers(void)
{
	char buf[16];
	size_t size, count, k;
	bool good = true;

	tap_is_int(cv_path_parse("<a", 2, &addrs[0], NULL, 0), -1,
		   "error_r NULL");
	tap_is_int(cv_header_parse("<>", 2, addrs, 1, &count, NULL, 99), -1,
		   "header error_r NULL");
	tap_is_int(cv_path_parse(NULL, 5, &addrs[0], buf, sizeof(buf)), -1,
		   "text NULL");
	tap_is_int(cv_path_parse("<a@b.c>", 7, NULL, buf, sizeof(buf)), -1,
		   "addr_r NULL");
	for (size = 0; size < 8; size++) {
		memset(buf, 'Z', sizeof(buf));
		(void)cv_path_parse("<a@b.example> SIZE=1", 20, &addrs[0],
				    size > 0 ? buf : NULL, size);
		if (size > 0 && strnlen(buf, size) != size - 1)
			good = false;
		for (k = size; k < sizeof(buf); k++)
			if (buf[k] != 'Z')
				good = false;
	}
	tap_ok(good, "small error buffers: terminated, no overrun");
	memset(buf, 'Z', sizeof(buf));
	tap_is_int(cv_path_parse("<a@b.example>", 13, &addrs[0], buf, 5), 0,
		   "success clears error");
	tap_is_str(buf, "", "error empty on success");
}

/* RFC 3492 7.1 samples, straight into the encoder. */
static void
test_punycode(void)
{
	static const uint32_t arabic[] = {
		0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643,
		0x0644, 0x0645, 0x0648, 0x0634, 0x0639, 0x0631, 0x0628, 0x064A,
		0x061F,
	};
	static const uint32_t chinese[] = {
		0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D,
		0x6587,
	};
	static const uint32_t kinpachi[] = {
		0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F,
	};
	char out[64], small[8];

	tap_is_int(idna_punycode(arabic, 17, out, sizeof(out)), 22,
		   "punycode (A) length");
	tap_is_str(out, "egbpdaj6bu4bxfgehfvwxn", "punycode (A) Arabic");
	idna_punycode(chinese, 9, out, sizeof(out));
	tap_is_str(out, "ihqwcrb4cv8a8dqg056pqjye", "punycode (B) Chinese");
	idna_punycode(kinpachi, 8, out, sizeof(out));
	tap_is_str(out, "3B-ww4c5e180e575a65lsy2b", "punycode (L) mixed");
	tap_is_int(idna_punycode(chinese, 9, small, sizeof(small)), -1,
		   "punycode refuses a short buffer");
	tap_is_int(idna_to_ascii("example.bücher", out, sizeof(out)), IDNA_OK,
		   "idna last label");
	tap_is_str(out, "example.xn--bcher-kva", "idna last label text");
	tap_is_int(idna_to_ascii("bücher.example", out, 10), IDNA_DOMAIN_LONG,
		   "idna short output");
}

static uint32_t fuzz_state = 0x2545f491;

static uint32_t
fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 17;
	fuzz_state ^= fuzz_state << 5;
	return fuzz_state;
}

/* One input through both parsers; false if an invariant broke. */
static bool
fuzz_one(const char *in, size_t len)
{
	char error[48];
	size_t count, i;
	int rc;

	memset(error, 'Z', sizeof(error));
	rc = cv_path_parse(in, len, &addrs[0], error, 40);
	if (rc == 0 && !address_clean(&addrs[0]))
		return false;
	if (!string_clean(error, 40) || (rc != 0 && error[0] == '\0') ||
	    error[40] != 'Z')
		return false;
	rc = cv_header_parse(in, len, addrs, CV_HEADER_ADDRS_MAX, &count,
			     error, 40);
	if (rc != 0 && (count != 0 || error[0] == '\0'))
		return false;
	for (i = 0; rc == 0 && i < count; i++)
		if (!address_clean(&addrs[i]))
			return false;
	return string_clean(error, 40) && error[40] == 'Z';
}

static void
test_fuzz(void)
{
	static const char alphabet[] = "<>@.,;:\"\\()[] ab-x1é例\t\r\n\0";
	char buf[128];
	size_t i, n, k, len, bad = 0, runs = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (n = 0; n <= cases[i].len; n++, runs++) {
			/* a copy, so that the sanitizer sees reads past n */
			char *copy = malloc(n + 1);

			if (copy == NULL)
				continue;
			memcpy(copy, cases[i].in, n);
			if (!fuzz_one(copy, n) && bad++ < 5)
				tap_diag("prefix %zu of case %zu broke", n, i);
			free(copy);
		}
	for (i = 0; i < 60000; i++, runs++) {
		len = fuzz_next() % sizeof(buf);
		for (k = 0; k < len; k++)
			buf[k] = i % 3 == 0 ? (char)(fuzz_next() & 0xff) :
			    alphabet[fuzz_next() % (i % 3 == 1 ? 17 :
							  sizeof(alphabet) - 1)];
		if (!fuzz_one(buf, len) && bad++ < 5)
			tap_diag("random input %zu broke", i);
	}
	tap_ok(bad == 0, "fuzz: %zu inputs, outputs clean", runs);
}

int
main(void)
{
	test_table();
	test_limits();
	test_header_caps();
	test_error_buffers();
	test_punycode();
	test_fuzz();
	return tap_done();
}
