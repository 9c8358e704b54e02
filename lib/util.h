/*
 * util.h - small helpers shared by the modules of libcallout (internal).
 */
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "callout.h"

/* Copy src into dst of size dstsize, always NUL-terminated when dstsize
 * > 0; returns strlen(src) so truncation shows as a result >= dstsize. */
size_t util_strlcpy(char *dst, const char *src, size_t dstsize);

/* Append like snprintf at the end of dst; never overflows, truncates. */
void util_appendf(char *dst, size_t dstsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Milliseconds left until deadline, never negative. */
int64_t util_remaining_ms(int64_t deadline);

#endif /* CV_UTIL_H */
