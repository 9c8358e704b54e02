/*
 * idna.h - UTF-8 decoding and the RFC 3492 punycode encoder that turn a
 * U-label domain into its A-label form (internal to libcallout).
 */
#ifndef CV_IDNA_H
#define CV_IDNA_H

#include <stddef.h>
#include <stdint.h>

#define IDNA_LABEL_MAX	63	/* RFC 1035 2.3.4, octets */

typedef enum idna_status {
	IDNA_OK = 0,
	IDNA_LABEL_LONG,	/* a label (or its A-label) over 63 octets */
	IDNA_DOMAIN_LONG,	/* the result does not fit */
	IDNA_BAD_UTF8,		/* malformed UTF-8 in the input */
} idna_status;

/* Length of the well-formed UTF-8 sequence at s (at most left octets),
 * or 0: overlong forms, surrogates and values past U+10FFFF are refused.
 * *cp_r gets the code point. */
size_t idna_utf8_len(const unsigned char *s, size_t left, uint32_t *cp_r);

/* RFC 3492 encoding of cp[0..count) into out, NUL-terminated; the
 * length, or -1 when it needs more than size - 1 octets. */
int idna_punycode(const uint32_t *cp, size_t count, char *out, size_t size);

/* domain (UTF-8, already lower-cased) with every non-ASCII label turned
 * into "xn--" + punycode, into out of size octets. */
idna_status idna_to_ascii(const char *domain, char *out, size_t size);

#endif /* CV_IDNA_H */
