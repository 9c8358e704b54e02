/*
 * spf_macro.c - checks the macros of SPF records and explanation strings
 * against RFC 7208 section 7.1 before libspf2 parses them.
 *
 *   macro-expand = ( "%{" macro-letter transformers *delimiter "}" )
 *                  / "%%" / "%_" / "%-"
 *   transformers = *DIGIT [ "r" ]
 *   delimiter    = "." / "-" / "+" / "," / "/" / "_" / "="
 *
 * Guarantees: a text that passes has only printable ASCII (and SP), and
 * every macro in it is complete and well formed, with a known letter and
 * a transformer of at most three digits whose value is 1 to
 * SPF_MACRO_DIGITS_MAX.  That is stricter than the ABNF (*DIGIT) on
 * purpose: a value over 127 means nothing for a DNS name and long digit
 * strings are what CVE-2023-42118 feeds libspf2.  RFC 7208 7.3 already
 * forbids a zero.  Pure function: no allocation, no I/O.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "spf_macro.h"

#define SPF_MACRO_DIGITS_LEN 3 /* "128" */

static void
spf_macro_why(char *why_r, size_t why_size, size_t at, const char *what)
{
	if (why_r != NULL && why_size > 0)
		(void)snprintf(why_r, why_size, "%s at offset %zu", what, at);
}

static bool
spf_macro_letter_ok(char c, spf_macro_kind kind)
{
	static const char record_letters[] = "slodiphvSLODIPHV";
	static const char explain_letters[] = "crtCRT";

	if (c == '\0')
		return false;
	if (strchr(record_letters, c) != NULL)
		return true;
	return kind == SPF_MACRO_EXPLAIN && strchr(explain_letters, c) != NULL;
}

/*
 * Check the macro whose "%{" starts at text[at]; returns the offset just
 * past its "}", or 0 with a reason.
 */
static size_t
spf_macro_brace(const char *text, size_t len, size_t at, spf_macro_kind kind,
                char *why_r, size_t why_size)
{
	size_t i = at + 2, digits = 0;
	unsigned value = 0;

	if (i >= len || !spf_macro_letter_ok(text[i], kind)) {
		spf_macro_why(why_r, why_size, at, "unknown macro letter");
		return 0;
	}
	i++;
	while (i < len && text[i] >= '0' && text[i] <= '9') {
		if (digits == 0 && text[i] == '0') {
			spf_macro_why(why_r, why_size, at,
			              "zero or leading zero in macro digits");
			return 0;
		}
		if (++digits > SPF_MACRO_DIGITS_LEN) {
			spf_macro_why(why_r, why_size, at,
			              "overlong macro digits");
			return 0;
		}
		value = value * 10 + (unsigned)(text[i] - '0');
		i++;
	}
	if (digits > 0 && value > SPF_MACRO_DIGITS_MAX) {
		spf_macro_why(why_r, why_size, at, "macro digits too large");
		return 0;
	}
	if (i < len && (text[i] == 'r' || text[i] == 'R'))
		i++;
	while (i < len && text[i] != '\0' && strchr(".-+,/_=", text[i]) != NULL)
		i++;
	if (i >= len || text[i] != '}') {
		spf_macro_why(why_r, why_size, at,
		              i >= len ? "unbalanced brace in macro"
		                       : "bad character in macro");
		return 0;
	}
	return i + 1;
}

bool
spf_macro_check(const char *text, size_t len, spf_macro_kind kind, char *why_r,
                size_t why_size)
{
	size_t i = 0;

	if (why_r != NULL && why_size > 0)
		why_r[0] = '\0';
	if (text == NULL)
		return len == 0;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c > 0x7e) {
			spf_macro_why(why_r, why_size, i,
			              "byte outside printable ASCII");
			return false;
		}
		if (c != '%') {
			i++;
			continue;
		}
		if (i + 1 >= len) {
			spf_macro_why(why_r, why_size, i, "'%' at the end");
			return false;
		}
		switch (text[i + 1]) {
		case '%':
		case '_':
		case '-':
			i += 2;
			break;
		case '{':
			i = spf_macro_brace(text, len, i, kind, why_r,
			                    why_size);
			if (i == 0)
				return false;
			break;
		default:
			spf_macro_why(why_r, why_size, i,
			              "'%' not followed by {, %, _ or -");
			return false;
		}
	}
	return true;
}
