/*
 * spf_macro.h - a strict check of the macros in SPF text (RFC 7208
 * section 7.1) before libspf2 ever parses it (internal).
 *
 * libspf2 1.2.10 as shipped in Debian 12 has an integer underflow in its
 * macro parser (CVE-2023-42118) that the sender domain's own TXT record
 * reaches.  Text that fails this check is never handed to libspf2.
 */
#ifndef CV_SPF_MACRO_H
#define CV_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

/* Where the text comes from: which macro letters are allowed. */
typedef enum spf_macro_kind {
	SPF_MACRO_RECORD = 0, /* a "v=spf1" record: s l o d i p h v */
	SPF_MACRO_EXPLAIN,    /* an exp= TXT string: also c r t, and SP */
} spf_macro_kind;

/* Longest DIGIT transformer value accepted: a name has fewer labels. */
#define SPF_MACRO_DIGITS_MAX 128

/*
 * Check len bytes of text (a whole record, or an explanation string).
 * Every '%' must start "%%", "%_", "%-" or "%{" letter [digits] ["r"]
 * *delimiter "}", the letter allowed for kind (either case), the digits
 * 1 to SPF_MACRO_DIGITS_MAX without leading zeros; every byte must be
 * printable ASCII or SP.  Returns true when the text is fine; otherwise
 * false with a one-line reason in why_r (which may be NULL).
 */
bool spf_macro_check(const char *text, size_t len, spf_macro_kind kind,
                     char *why_r, size_t why_size);

#endif /* CV_SPF_MACRO_H */
