/*
 * tap.h - a minimal Test Anything Protocol emitter for the unit tests.
 *
 * Each check prints "ok N - name" or "not ok N - name" with a diagnostic;
 * tap_done() prints the plan and returns the exit status for main().
 * Header-only so that every test program stays one file.
 */
#ifndef CV_TAP_H
#define CV_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline bool __attribute__((format(printf, 2, 3)))
tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline bool
tap_is_str(const char *got, const char *want, const char *name)
{
	bool same = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;

	if (!tap_ok(same, "%s", name)) {
		tap_diag("  got:  \"%s\"", got != NULL ? got : "(null)");
		tap_diag("  want: \"%s\"", want != NULL ? want : "(null)");
	}
	return same;
}

static inline bool
tap_is_int(long long got, long long want, const char *name)
{
	if (!tap_ok(got == want, "%s", name)) {
		tap_diag("  got:  %lld", got);
		tap_diag("  want: %lld", want);
	}
	return got == want;
}

/* Print the plan; the return value is main()'s exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif /* CV_TAP_H */
