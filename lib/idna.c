/*
 * idna.c - UTF-8 decoding and the RFC 3492 punycode encoder, so that a
 * U-label domain from an SMTPUTF8 address gets the A-label form DNS needs.
 *
 * Guarantees: strict UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF), outputs bounded by the caller's size and NUL-terminated,
 * A-labels of at most 63 octets.  Failure is a status, nothing allocates.
 *
 * XXX Only the encoding step of IDNA is done: ASCII is lower-cased by
 * the caller, but there is no Unicode case mapping, NFC or IDNA2008
 * validity check (that needs libidn2's tables); a name that is not a
 * valid U-label gives an A-label that simply does not resolve.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "idna.h"

/* RFC 3492 5: the parameters of punycode */
#define PUNY_BASE	36
#define PUNY_TMIN	1
#define PUNY_TMAX	26
#define PUNY_SKEW	38
#define PUNY_DAMP	700
#define PUNY_BIAS	72
#define PUNY_N		128

#define IDNA_CODEPOINTS_MAX	256	/* a label has fewer (255 octets) */

size_t
idna_utf8_len(const unsigned char *s, size_t left, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t n, i;

	if (left == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] < 0xf0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	}
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

static char
idna_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* RFC 3492 6.1 */
static uint32_t
idna_adapt(uint32_t delta, uint32_t points, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / points;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

/* Write the variable-length integer q with the current bias. */
static int
idna_put_int(uint32_t q, uint32_t bias, char *out, size_t size, size_t *o)
{
	uint32_t k, t;

	for (k = PUNY_BASE;; k += PUNY_BASE) {
		t = k <= bias ? PUNY_TMIN :
		    k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
		if (q < t)
			break;
		if (*o + 1 >= size)
			return -1;
		out[(*o)++] = idna_digit(t + (q - t) % (PUNY_BASE - t));
		q = (q - t) / (PUNY_BASE - t);
	}
	if (*o + 1 >= size)
		return -1;
	out[(*o)++] = idna_digit(q);
	return 0;
}

int
idna_punycode(const uint32_t *cp, size_t count, char *out, size_t size)
{
	uint32_t n = PUNY_N, delta = 0, bias = PUNY_BIAS, h, b = 0, m;
	size_t o = 0, i;

	if (size == 0 || count > IDNA_CODEPOINTS_MAX)
		return -1;
	for (i = 0; i < count; i++)
		if (cp[i] < 0x80) {
			if (o + 1 >= size)
				return -1;
			out[o++] = (char)cp[i];
			b++;
		}
	if (b > 0) {
		if (o + 1 >= size)
			return -1;
		out[o++] = '-';
	}
	for (h = b; h < count; delta++, n++) {
		for (m = UINT32_MAX, i = 0; i < count; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		/* m <= 0x10ffff and h < 256: delta stays far below 2^32 */
		delta += (m - n) * (h + 1);
		n = m;
		for (i = 0; i < count; i++) {
			if (cp[i] < n)
				delta++;
			if (cp[i] != n)
				continue;
			if (idna_put_int(delta, bias, out, size, &o) < 0)
				return -1;
			bias = idna_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* The A-label of one label (len octets of UTF-8) into out. */
static idna_status
idna_label(const char *label, size_t len, char *out, size_t size)
{
	uint32_t cps[IDNA_CODEPOINTS_MAX];
	size_t count = 0, i = 0, n;
	bool ascii = true;

	while (i < len) {
		if (count == IDNA_CODEPOINTS_MAX)
			return IDNA_LABEL_LONG;
		n = idna_utf8_len((const unsigned char *)label + i, len - i,
				  &cps[count]);
		if (n == 0)
			return IDNA_BAD_UTF8;
		if (n > 1)
			ascii = false;
		i += n;
		count++;
	}
	if (ascii) {
		if (len >= size)
			return IDNA_LABEL_LONG;
		memcpy(out, label, len);
		out[len] = '\0';
		return IDNA_OK;
	}
	if (size < 5)
		return IDNA_LABEL_LONG;
	memcpy(out, "xn--", 4);
	if (idna_punycode(cps, count, out + 4, size - 4) < 0)
		return IDNA_LABEL_LONG;
	return IDNA_OK;
}

idna_status
idna_to_ascii(const char *domain, char *out, size_t size)
{
	char alabel[IDNA_LABEL_MAX + 1];
	const char *p = domain, *e;
	size_t n = 0, llen, alen;
	idna_status st;

	if (size == 0)
		return IDNA_DOMAIN_LONG;
	out[0] = '\0';
	while (*p != '\0') {
		e = strchr(p, '.');
		llen = e != NULL ? (size_t)(e - p) : strlen(p);
		if ((st = idna_label(p, llen, alabel, sizeof(alabel))) != IDNA_OK)
			return st;
		alen = strlen(alabel);
		if (n + alen + (e != NULL ? 1 : 0) >= size)
			return IDNA_DOMAIN_LONG;
		memcpy(out + n, alabel, alen);
		n += alen;
		if (e != NULL)
			out[n++] = '.';
		out[n] = '\0';
		p += llen + (e != NULL ? 1 : 0);
	}
	return IDNA_OK;
}
