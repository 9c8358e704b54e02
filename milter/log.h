/*
 * log.h - the daemon's one logging module: syslog with the configured
 * facility, or stderr (with a timestamp) in the foreground.
 */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Start logging as ident; to_stderr for the foreground. */
void log_open(const char *ident, int facility, bool to_stderr);

/* Change the facility (SIGHUP may change SyslogFacility). */
void log_set_facility(int facility);

void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* CM_LOG_H */
