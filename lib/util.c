/*
 * util.c - the monotonic clock, bounded string helpers and the printable
 * names of the result enums.  Nothing here allocates or can fail.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

int64_t
cv_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid clock id; keep it
	 * defined anyway rather than read an uninitialised struct. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_remaining_ms(int64_t deadline)
{
	int64_t left = deadline - cv_now_ms();

	return left > 0 ? left : 0;
}

size_t
util_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t len = strlen(src);

	if (dstsize > 0) {
		size_t n = len < dstsize - 1 ? len : dstsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
util_appendf(char *dst, size_t dstsize, const char *fmt, ...)
{
	size_t used = strnlen(dst, dstsize);
	va_list ap;

	if (used + 1 >= dstsize)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(dst + used, dstsize - used, fmt, ap);
	va_end(ap);
}

const char *
cv_verdict_name(cv_verdict v)
{
	switch (v) {
	case CV_VERIFIED:
		return "verified";
	case CV_FAILED:
		return "failed";
	case CV_UNKNOWN:
		return "unknown";
	}
	return "invalid";
}

const char *
cv_class_name(cv_class c)
{
	static const char *const names[] = {
		[CV_CLASS_NONE] = "none",
		[CV_CLASS_DNS] = "dns",
		[CV_CLASS_CONNECT] = "connect",
		[CV_CLASS_BANNER] = "banner",
		[CV_CLASS_HELO] = "helo",
		[CV_CLASS_MAIL] = "mail",
		[CV_CLASS_RCPT] = "rcpt",
		[CV_CLASS_TIMEOUT] = "timeout",
		[CV_CLASS_PROTOCOL] = "protocol",
		[CV_CLASS_PROBE_REFUSED] = "probe-refused",
		[CV_CLASS_NULL_SENDER_REFUSED] = "null-sender-refused",
		[CV_CLASS_CATCH_ALL] = "catch-all",
		[CV_CLASS_POSTMASTER] = "postmaster",
		[CV_CLASS_LOCAL] = "local",
		[CV_CLASS_LIMIT] = "limit",
	};

	if ((size_t)c < sizeof(names) / sizeof(names[0]) && names[c] != NULL)
		return names[c];
	return "invalid";
}

const char *
cv_dns_status_name(cv_dns_status s)
{
	switch (s) {
	case CV_DNS_OK:
		return "ok";
	case CV_DNS_NXDOMAIN:
		return "nxdomain";
	case CV_DNS_NODATA:
		return "nodata";
	case CV_DNS_NULLMX:
		return "nullmx";
	case CV_DNS_NOHOSTS:
		return "nohosts";
	case CV_DNS_TEMP:
		return "temp";
	}
	return "invalid";
}
