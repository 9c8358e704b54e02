/*
 * test-spf-macro.c - the SPF macro check (lib/spf_macro.c) as a table:
 * RFC 7208's own examples pass; overlong or zero digit transformers,
 * unknown letters, unterminated braces, stray '%' and control bytes are
 * refused, with the letters c, r, t allowed only in explanations.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "spf_macro.h"
#include "tap.h"

typedef struct mcase {
	const char *text;
	spf_macro_kind kind;
	bool ok;
	const char *why;	/* start of the reason, for refusals */
} mcase;

#define R SPF_MACRO_RECORD
#define E SPF_MACRO_EXPLAIN

static const mcase cases[] = {
	/* valid: RFC 7208 7.4 and appendix D examples */
	{"v=spf1 -all", R, true, NULL},
	{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx a:mail.%{d} ~all", R,
	 true, NULL},
	{"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", R, true, NULL},
	{"v=spf1 include:%{d2}.example.org", R, true, NULL},
	{"v=spf1 exists:%{i}._spf.%{d} exp=explain._spf.%{d} -all", R, true,
	 NULL},
	{"v=spf1 a:%{o}.%{h}.%{v}.%{p}.%{s}", R, true, NULL},
	{"v=spf1 a:%{S}.%{L}.%{IR}", R, true, NULL},
	{"v=spf1 a:%{d128}", R, true, NULL},
	{"v=spf1 a:%{d2r.-+,/_=}", R, true, NULL},
	{"v=spf1 a:x%%y%_z%-w", R, true, NULL},
	{"v=spf1 a:}{stray.example", R, true, NULL},
	{"%{i} is not one of %{d}'s designated mail servers.", E, true, NULL},
	{"See http://%{d}/why.html?s=%{S}&i=%{C}&r=%{R}&t=%{t}", E, true,
	 NULL},
	{"", R, true, NULL},
	/* overlong, zero and too large digit transformers */
	{"v=spf1 exists:%{l999999999r}.example.org", R, false,
	 "overlong macro digits"},
	{"v=spf1 a:%{d1000}", R, false, "overlong macro digits"},
	{"v=spf1 a:%{d129}", R, false, "macro digits too large"},
	{"v=spf1 a:%{d0}", R, false, "zero or leading zero"},
	{"v=spf1 a:%{d01}", R, false, "zero or leading zero"},
	/* unknown letters; c r t only in explanations */
	{"v=spf1 a:%{x}.example", R, false, "unknown macro letter"},
	{"v=spf1 a:%{c}.example", R, false, "unknown macro letter"},
	{"v=spf1 a:%{r}.example", R, false, "unknown macro letter"},
	{"v=spf1 a:%{t}.example", R, false, "unknown macro letter"},
	{"v=spf1 a:%{}.example", R, false, "unknown macro letter"},
	{"See %{z}", E, false, "unknown macro letter"},
	/* braces and bad characters inside */
	{"v=spf1 a:%{d", R, false, "unbalanced brace in macro"},
	{"v=spf1 a:%{d2r", R, false, "unbalanced brace in macro"},
	{"v=spf1 a:%{d2rr}", R, false, "bad character in macro"},
	{"v=spf1 a:%{d 2}", R, false, "bad character in macro"},
	{"v=spf1 a:%{d%}", R, false, "bad character in macro"},
	{"v=spf1 a:%{d{}}", R, false, "bad character in macro"},
	/* '%' followed by anything else */
	{"v=spf1 a:%d", R, false, "'%' not followed"},
	{"v=spf1 a:100%", R, false, "'%' at the end"},
	{"v=spf1 a:%20", R, false, "'%' not followed"},
	/* bytes outside printable ASCII */
	{"v=spf1 a:ex\tample", R, false, "byte outside printable ASCII"},
	{"v=spf1 a:\xc3\xa9.example", R, false, "byte outside printable"},
	{"explanation\r\nInjected: yes", E, false, "byte outside printable"},
};

int
main(void)
{
	char why[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const mcase *c = &cases[i];
		bool ok = spf_macro_check(c->text, strlen(c->text), c->kind,
					  why, sizeof(why));

		char shown[128];
		size_t n = 0;

		/* the name stays one printable line */
		for (const char *p = c->text; *p != '\0' && n + 5 < sizeof(shown);
		     p++) {
			unsigned char ch = (unsigned char)*p;

			if (ch >= 0x20 && ch < 0x7f)
				shown[n++] = (char)ch;
			else
				n += (size_t)snprintf(shown + n,
				    sizeof(shown) - n, "\\x%02x", ch);
		}
		shown[n] = '\0';
		tap_ok(ok == c->ok, "%s: \"%s\"", c->ok ? "valid" : "refused",
		       shown);
		if (!c->ok && !tap_ok(strncmp(why, c->why, strlen(c->why)) ==
				      0, "  reason \"%s\"", c->why))
			tap_diag("  got: \"%s\"", why);
		if (ok != c->ok)
			tap_diag("  why: \"%s\"", why);
	}
	/* a NUL inside the record is a byte outside printable ASCII */
	tap_ok(!spf_macro_check("v=spf1\0 -all", 12, R, why, sizeof(why)),
	       "a NUL inside is refused");
	/* only len bytes are read: the '%' after them does not count */
	tap_ok(spf_macro_check("v=spf1 a%", 8, R, NULL, 0),
	       "only len bytes are checked, NULL why is fine");
	tap_ok(!spf_macro_check("%{d", 3, E, why, 1) && why[0] == '\0',
	       "a one-byte reason buffer stays a valid string");
	return tap_done();
}
