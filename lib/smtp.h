/*
 * smtp.h - the SMTP client transport of libcallout (internal).
 *
 * A connection to one mail server: a bounded non-blocking connect, a
 * strict reply reader and a command writer, each bounded by a deadline on
 * the cv_now_ms() scale.  What the replies mean is decided by the caller
 * (verify.c); this layer only says whether a well-formed reply arrived.
 *
 * Reply syntax accepted (anything else is SMTP_PROTO):
 *   - each line is "NNN", "NNN text" or "NNN-text" with NNN in 200..599
 *     (first digit 2-5, the others digits); "NNN-" continues the reply,
 *     "NNN " or a bare "NNN" ends it;
 *   - every line of one reply repeats the code of the first;
 *   - lines end in CR LF or a bare LF; a CR anywhere else, or a NUL byte,
 *     is an error; other bytes (8-bit included) are kept as received;
 *   - a line holds at most SMTP_LINE_MAX octets before its end, a reply
 *     at most SMTP_LINES_MAX lines.
 * End of file before a reply is complete (even in the middle of a line)
 * is SMTP_EOF.  Bytes after a reply stay buffered for the next read, so
 * pipelined replies that arrive in one packet are read one at a time.
 *
 * Errors leave the connection in an unknown state: close it.
 *
 * Trace: when p->trace is set, every command line sent is passed to it
 * with '>' and every reply line received (also a malformed one, up to
 * its first NUL) with '<', without CR LF.  Received lines may hold 8-bit
 * bytes; the trace consumer must make them safe to print.
 */
#ifndef CV_SMTP_H
#define CV_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "callout.h"

#define SMTP_LINE_MAX	2048	/* reply line octets, without CR LF */
#define SMTP_LINES_MAX	64	/* lines in one reply */
#define SMTP_CMD_MAX	512	/* command line octets, with CR LF */

typedef enum smtp_status {
	SMTP_OK = 0,
	SMTP_TIMEOUT,	/* the deadline (or the connect timeout) passed */
	SMTP_EOF,	/* closed by the peer (also EPIPE on a write) */
	SMTP_PROTO,	/* malformed reply, or a refused command line */
	SMTP_IOERR,	/* socket error: errno is set */
} smtp_status;

typedef struct smtp_reply {
	int code;		/* 200..599; 0 when no line was read */
	/* "5.1.1" when the first line carries an RFC 3463 code whose class
	 * equals the first digit of code, else "" */
	char enhanced[16];
	/* the whole reply: lines as received (with their codes) joined by
	 * '\n', no CR or LF, cut to fit (then truncated is set) */
	char text[CV_REPLY_MAX];
	unsigned lines;		/* lines read */
	bool truncated;		/* text was cut */
} smtp_reply;

typedef struct smtp_conn smtp_conn;

/*
 * Connect to sa (an AF_INET or AF_INET6 address; its port is ignored and
 * replaced by p->port, 25 when 0).  With p->connect set the hook makes
 * the socket; else the socket is bound first to p->source4 or p->source6
 * when one of the address's family is given.  The wait ends at deadline
 * or after p->connect_timeout_ms (when not 0), whichever comes first.
 *
 * Returns SMTP_OK with *conn_r set, or SMTP_TIMEOUT (*errno_r =
 * ETIMEDOUT) or SMTP_IOERR (*errno_r = ECONNREFUSED, ENETUNREACH, ...).
 * errno_r may be NULL.  p must outlive the connection (it is kept for
 * the trace).
 */
smtp_status smtp_connect(const cv_params *p, const struct sockaddr *sa,
			 socklen_t salen, int64_t deadline, smtp_conn **conn_r,
			 int *errno_r);

/*
 * Read one complete reply, all its lines, before deadline.  On any
 * status *r holds what was read (code 0 and text "" when nothing).
 */
smtp_status smtp_read_reply(smtp_conn *c, int64_t deadline, smtp_reply *r);

/*
 * Write count command lines, each given without CR LF (added here), in
 * one write where they fit in SMTP_SEND_BUF octets (pipelining), before
 * deadline.  A line holding CR, LF or NUL, or longer than SMTP_CMD_MAX
 * octets with its CR LF, makes the whole call fail with SMTP_PROTO
 * before anything is sent.
 */
#define SMTP_SEND_BUF	4096
smtp_status smtp_send(smtp_conn *c, int64_t deadline,
		      const char *const *lines, size_t count);

/*
 * Does the 2xx EHLO reply r advertise keyword (ASCII case-insensitive,
 * e.g. "PIPELINING")?  The first line (the greeting) does not count.
 * XXX: only what fits in r->text is seen; an extension cut off by
 * truncation reads as absent, which only costs pipelining.
 */
bool smtp_reply_has_ext(const smtp_reply *r, const char *keyword);

/* Send QUIT without waiting for the answer (best effort, never blocks),
 * then close; sets *conn_p to NULL.  NULL is fine. */
void smtp_quit_close(smtp_conn **conn_p);

/* Close without QUIT (after a timeout or an error); sets *conn_p to
 * NULL.  NULL is fine. */
void smtp_close(smtp_conn **conn_p);

/* The text Exim logs for a socket error: "Connection refused",
 * "Connection timed out", "Network is unreachable", ... */
const char *smtp_errno_text(int err);

/* A short name for a status, for logs and tests: "ok", "timeout", ... */
const char *smtp_status_name(smtp_status s);

#endif /* CV_SMTP_H */
