/*
 * log.c - syslog or stderr, chosen once at start-up.  Safe to call from
 * any thread; a line is written with one call, so lines never mix.
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static bool use_stderr;
static atomic_int log_facility = LOG_MAIL;

void
log_open(const char *ident, int facility, bool to_stderr)
{
	use_stderr = to_stderr;
	atomic_store(&log_facility, facility);
	if (!use_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_facility(int facility)
{
	atomic_store(&log_facility, facility);
}

void
log_msg(int priority, const char *fmt, ...)
{
	char line[4096], stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!use_stderr) {
		syslog(priority | atomic_load(&log_facility), "%s", line);
		return;
	}
	(void)gettimeofday(&tv, NULL);
	(void)localtime_r(&tv.tv_sec, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld callout-milter: %s\n", stamp,
	    (long)(tv.tv_usec / 1000), line);
}
