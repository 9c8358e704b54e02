/*
 * smtp.c - the SMTP client transport: connect to one server, read its
 * replies strictly, write command lines.
 *
 * Guarantees: no call waits past the deadline it is given (poll() is the
 * only place that sleeps); the read buffer has a fixed size and a reply
 * is bounded in line length and line count; command lines with control
 * characters never reach the wire; no SIGPIPE is raised (MSG_NOSIGNAL);
 * sockets are non-blocking and close-on-exec.
 *
 * Failures are typed (smtp_status) and say nothing of what a reply means:
 * that is verify.c's business.  errno is kept for SMTP_IOERR.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp.h"
#include "util.h"

/* Room for one line at the cap with its CR LF, plus what follows it. */
#define SMTP_BUF_SIZE	4096
_Static_assert(SMTP_BUF_SIZE > SMTP_LINE_MAX + 2, "read buffer too small");
_Static_assert(SMTP_SEND_BUF >= SMTP_CMD_MAX, "send buffer too small");

/* Reads of unread input before close, so that close sends FIN, not RST. */
#define SMTP_DRAIN_READS 8

struct smtp_conn {
	int fd;
	const cv_params *p;	/* for the trace; owned by the caller */
	size_t start;		/* unread input is buf[start .. start+len) */
	size_t len;
	unsigned char buf[SMTP_BUF_SIZE];
};

static void
smtp_trace(const smtp_conn *c, char dir, const char *line)
{
	int saved = errno;

	if (c->p != NULL && c->p->trace != NULL)
		c->p->trace(c->p->trace_ctx, dir, line);
	errno = saved;
}

/* Trace a received line given with its length (it may hold a NUL). */
static void
smtp_trace_in(const smtp_conn *c, const unsigned char *line, size_t n)
{
	char copy[SMTP_LINE_MAX + 1];

	if (c->p == NULL || c->p->trace == NULL)
		return;
	if (n > SMTP_LINE_MAX)
		n = SMTP_LINE_MAX;
	memcpy(copy, line, n);
	copy[n] = '\0';
	smtp_trace(c, '<', copy);
}

/*
 * Wait until fd has one of events or deadline passes.  Returns 1 when
 * ready (error and hang-up count as ready: the next call reports them),
 * 0 at the deadline, -1 with errno on a poll failure.
 */
static int
smtp_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int64_t left = util_remaining_ms(deadline);
		int n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);

		if (n > 0)
			return 1;
		if (n == 0) {
			/* poll rounds its timeout up: at most one more
			 * short round when the clock lags a millisecond */
			if (cv_now_ms() >= deadline)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Connect                                                             */
/* ------------------------------------------------------------------ */

static void
smtp_close_keep_errno(int fd)
{
	int saved = errno;

	(void)close(fd);
	errno = saved;
}

/* Make the socket and start connecting; -1 with errno on failure. */
static int
smtp_socket(const cv_params *p, const struct sockaddr *sa, socklen_t salen)
{
	const struct sockaddr *src;
	socklen_t srclen;
	int fd;

	if (p->connect != NULL) {
		int flags;

		fd = p->connect(p->connect_ctx, sa, salen);
		if (fd < 0)
			return -1;
		flags = fcntl(fd, F_GETFL);
		if (flags == -1 ||
		    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			smtp_close_keep_errno(fd);
			return -1;
		}
		return fd;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	if (sa->sa_family == AF_INET) {
		src = p->source4;
		srclen = sizeof(struct sockaddr_in);
	} else {
		src = p->source6;
		srclen = sizeof(struct sockaddr_in6);
	}
	if (src != NULL && src->sa_family == sa->sa_family &&
	    bind(fd, src, srclen) != 0) {
		smtp_close_keep_errno(fd);
		return -1;
	}
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS &&
	    errno != EINTR) {
		smtp_close_keep_errno(fd);
		return -1;
	}
	return fd;
}

static smtp_status
smtp_connect_fail(smtp_status st, int err, int *errno_r)
{
	if (errno_r != NULL)
		*errno_r = err;
	errno = err;
	return st;
}

smtp_status
smtp_connect(const cv_params *p, const struct sockaddr *sa, socklen_t salen,
	     int64_t deadline, smtp_conn **conn_r, int *errno_r)
{
	struct sockaddr_storage ss;
	in_port_t port;
	int64_t end = deadline;
	int fd, err = 0, ready;
	socklen_t errlen = sizeof(err);
	smtp_conn *c = NULL;

	if (p == NULL || sa == NULL || conn_r == NULL)
		return smtp_connect_fail(SMTP_IOERR, EINVAL, errno_r);
	*conn_r = NULL;
	port = htons((in_port_t)(p->port != 0 ? p->port : 25));
	memset(&ss, 0, sizeof(ss));
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		salen = sizeof(struct sockaddr_in);
		memcpy(&ss, sa, salen);
		((struct sockaddr_in *)&ss)->sin_port = port;
	} else if (sa->sa_family == AF_INET6 &&
		   salen >= sizeof(struct sockaddr_in6)) {
		salen = sizeof(struct sockaddr_in6);
		memcpy(&ss, sa, salen);
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
	} else {
		return smtp_connect_fail(SMTP_IOERR, EAFNOSUPPORT, errno_r);
	}
	if (p->connect_timeout_ms != 0 &&
	    cv_now_ms() + p->connect_timeout_ms < end)
		end = cv_now_ms() + p->connect_timeout_ms;

	fd = smtp_socket(p, (const struct sockaddr *)&ss, salen);
	if (fd < 0)
		return smtp_connect_fail(SMTP_IOERR, errno, errno_r);
	ready = smtp_wait(fd, POLLOUT, end);
	if (ready <= 0) {
		err = ready == 0 ? ETIMEDOUT : errno;
		(void)close(fd);
		return smtp_connect_fail(ready == 0 ? SMTP_TIMEOUT : SMTP_IOERR,
					 err, errno_r);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
		err = errno;
	if (err == 0 && (c = calloc(1, sizeof(*c))) == NULL)
		err = ENOMEM;
	if (c == NULL) {
		(void)close(fd);
		return smtp_connect_fail(SMTP_IOERR, err, errno_r);
	}
	c->fd = fd;
	c->p = p;
	*conn_r = c;
	if (errno_r != NULL)
		*errno_r = 0;
	return SMTP_OK;
}

/* ------------------------------------------------------------------ */
/* Reading replies                                                     */
/* ------------------------------------------------------------------ */

/* Read more input into the buffer, waiting until deadline. */
static smtp_status
smtp_fill(smtp_conn *c, int64_t deadline)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->len);
		c->start = 0;
	}
	for (;;) {
		ssize_t n;
		int ready = smtp_wait(c->fd, POLLIN, deadline);

		if (ready == 0)
			return SMTP_TIMEOUT;
		if (ready < 0)
			return SMTP_IOERR;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			return SMTP_OK;
		}
		if (n == 0)
			return SMTP_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return SMTP_IOERR;
	}
}

/*
 * Take the next input line (without its LF, and without the CR before
 * it) from the buffer, reading as needed.  *line_r points into the
 * buffer and stays valid until the next call.
 */
static smtp_status
smtp_next_line(smtp_conn *c, int64_t deadline, const unsigned char **line_r,
	       size_t *len_r)
{
	for (;;) {
		unsigned char *line = c->buf + c->start;
		unsigned char *lf = memchr(line, '\n', c->len);
		smtp_status st;

		if (lf != NULL) {
			size_t n = (size_t)(lf - line);

			c->start += n + 1;
			c->len -= n + 1;
			if (n > 0 && line[n - 1] == '\r')
				n--;
			if (n > SMTP_LINE_MAX) {
				smtp_trace_in(c, line, n);
				return SMTP_PROTO;
			}
			*line_r = line;
			*len_r = n;
			return SMTP_OK;
		}
		if (c->len >= SMTP_LINE_MAX + 2) {
			/* no room left for a CR LF inside the cap */
			smtp_trace_in(c, line, c->len);
			return SMTP_PROTO;
		}
		if ((st = smtp_fill(c, deadline)) != SMTP_OK)
			return st;
	}
}

static bool
smtp_isdigit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Length of a run of 1..3 digits at s (within n), else 0. */
static size_t
smtp_digits(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 4 && smtp_isdigit(s[i]))
		i++;
	return i <= 3 ? i : 0;
}

/*
 * RFC 3463 "class.subject.detail" at the start of the text of a first
 * line, followed by a space or the end of the line; the class must be
 * the first digit of the reply code.
 */
static void
smtp_parse_enhanced(const unsigned char *line, size_t n, smtp_reply *r)
{
	const unsigned char *s = line + 4;
	size_t left = n > 4 ? n - 4 : 0, d1, d2, len;

	if (left < 5 || s[0] != line[0] || s[0] == '3' || s[1] != '.')
		return;
	if ((d1 = smtp_digits(s + 2, left - 2)) == 0 || 2 + d1 >= left ||
	    s[2 + d1] != '.')
		return;
	if ((d2 = smtp_digits(s + 3 + d1, left - 3 - d1)) == 0)
		return;
	len = 3 + d1 + d2;
	if (len < left && s[len] != ' ')
		return;
	memcpy(r->enhanced, s, len);
	r->enhanced[len] = '\0';
}

/* Append n bytes to the reply text, cutting at its size. */
static void
smtp_append(smtp_reply *r, const unsigned char *s, size_t n)
{
	size_t used = strlen(r->text);
	size_t room = sizeof(r->text) - 1 - used;

	if (n > room) {
		n = room;
		r->truncated = true;
	}
	memcpy(r->text + used, s, n);
	r->text[used + n] = '\0';
}

/* Check one reply line and add it to r; *final_r says it ends r. */
static smtp_status
smtp_take_line(const smtp_conn *c, smtp_reply *r, const unsigned char *line,
	       size_t n, bool *final_r)
{
	int code;

	smtp_trace_in(c, line, n);
	if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n) != NULL)
		return SMTP_PROTO;
	if (r->lines >= SMTP_LINES_MAX)
		return SMTP_PROTO;
	if (n < 3 || line[0] < '2' || line[0] > '5' || !smtp_isdigit(line[1]) ||
	    !smtp_isdigit(line[2]))
		return SMTP_PROTO;
	if (n > 3 && line[3] != ' ' && line[3] != '-')
		return SMTP_PROTO;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines == 0) {
		r->code = code;
		smtp_parse_enhanced(line, n, r);
	} else {
		if (code != r->code)
			return SMTP_PROTO;
		smtp_append(r, (const unsigned char *)"\n", 1);
	}
	smtp_append(r, line, n);
	r->lines++;
	*final_r = n == 3 || line[3] == ' ';
	return SMTP_OK;
}

smtp_status
smtp_read_reply(smtp_conn *c, int64_t deadline, smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (c == NULL || c->fd < 0) {
		errno = EBADF;
		return SMTP_IOERR;
	}
	for (;;) {
		const unsigned char *line;
		size_t n;
		bool final = false;
		smtp_status st = smtp_next_line(c, deadline, &line, &n);

		if (st == SMTP_OK)
			st = smtp_take_line(c, r, line, n, &final);
		if (st != SMTP_OK || final)
			return st;
	}
}

/* ------------------------------------------------------------------ */
/* Writing commands                                                    */
/* ------------------------------------------------------------------ */

static smtp_status
smtp_write_all(smtp_conn *c, const char *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, buf + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		int ready;

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE)
			return SMTP_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return SMTP_IOERR;
		if ((ready = smtp_wait(c->fd, POLLOUT, deadline)) == 0)
			return SMTP_TIMEOUT;
		if (ready < 0)
			return SMTP_IOERR;
	}
	return SMTP_OK;
}

/* A command line may hold no control character (CR, LF, NUL, TAB ...);
 * 8-bit bytes pass (SMTPUTF8 addresses). */
static bool
smtp_line_ok(const char *line)
{
	size_t i;

	if (line == NULL)
		return false;
	for (i = 0; line[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (i >= SMTP_CMD_MAX - 2 || ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

smtp_status
smtp_send(smtp_conn *c, int64_t deadline, const char *const *lines,
	  size_t count)
{
	char buf[SMTP_SEND_BUF];
	size_t used = 0, first = 0, i;
	smtp_status st;

	if (c == NULL || c->fd < 0) {
		errno = EBADF;
		return SMTP_IOERR;
	}
	for (i = 0; i < count; i++)
		if (!smtp_line_ok(lines[i]))
			return SMTP_PROTO;
	for (i = 0; i <= count; i++) {
		size_t n = i < count ? strlen(lines[i]) : 0;

		if (i == count || used + n + 2 > sizeof(buf)) {
			for (; first < i; first++)
				smtp_trace(c, '>', lines[first]);
			st = smtp_write_all(c, buf, used, deadline);
			if (st != SMTP_OK)
				return st;
			used = 0;
		}
		if (i < count) {
			memcpy(buf + used, lines[i], n);
			memcpy(buf + used + n, "\r\n", 2);
			used += n + 2;
		}
	}
	return SMTP_OK;
}

/* ------------------------------------------------------------------ */
/* Extensions, closing, names                                          */
/* ------------------------------------------------------------------ */

static bool
smtp_caseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool
smtp_reply_has_ext(const smtp_reply *r, const char *keyword)
{
	const char *line;
	size_t klen;

	if (r == NULL || keyword == NULL || r->code / 100 != 2)
		return false;
	klen = strlen(keyword);
	if (klen == 0)
		return false;
	/* the first line is the greeting, extensions follow */
	for (line = strchr(r->text, '\n'); line != NULL;
	     line = strchr(line, '\n')) {
		const char *end;
		size_t n;

		line++;
		end = strchr(line, '\n');
		n = end != NULL ? (size_t)(end - line) : strlen(line);
		if (n >= 4 + klen && smtp_caseeq(line + 4, keyword, klen) &&
		    (n == 4 + klen || line[4 + klen] == ' '))
			return true;
	}
	return false;
}

void
smtp_close(smtp_conn **conn_p)
{
	smtp_conn *c;

	if (conn_p == NULL || (c = *conn_p) == NULL)
		return;
	if (c->fd >= 0)
		smtp_close_keep_errno(c->fd);
	free(c);
	*conn_p = NULL;
}

void
smtp_quit_close(smtp_conn **conn_p)
{
	smtp_conn *c;
	unsigned i;

	if (conn_p == NULL || (c = *conn_p) == NULL)
		return;
	if (c->fd >= 0) {
		/* unread input would make close() send RST and drop the
		 * QUIT; read what is there without waiting (bounded) */
		for (i = 0; i < SMTP_DRAIN_READS; i++)
			if (recv(c->fd, c->buf, sizeof(c->buf),
				 MSG_DONTWAIT) <= 0)
				break;
		if (send(c->fd, "QUIT\r\n", 6,
			 MSG_NOSIGNAL | MSG_DONTWAIT) == 6)
			smtp_trace(c, '>', "QUIT");
	}
	smtp_close(conn_p);
}

const char *
smtp_errno_text(int err)
{
	/* fixed texts (glibc's wording, which Exim logs) so that log lines
	 * do not depend on the C library */
	switch (err) {
	case 0:
		return "Success";
	case ECONNREFUSED:
		return "Connection refused";
	case ETIMEDOUT:
		return "Connection timed out";
	case ENETUNREACH:
		return "Network is unreachable";
	case EHOSTUNREACH:
		return "No route to host";
	case ECONNRESET:
		return "Connection reset by peer";
	case ECONNABORTED:
		return "Software caused connection abort";
	case EPIPE:
		return "Broken pipe";
	case EADDRNOTAVAIL:
		return "Cannot assign requested address";
	case EADDRINUSE:
		return "Address already in use";
	case EAFNOSUPPORT:
		return "Address family not supported by protocol";
	case ENETDOWN:
		return "Network is down";
	case EHOSTDOWN:
		return "Host is down";
	case EACCES:
		return "Permission denied";
	case EPERM:
		return "Operation not permitted";
	case EMFILE:
		return "Too many open files";
	case ENFILE:
		return "Too many open files in system";
	case ENOBUFS:
		return "No buffer space available";
	case ENOMEM:
		return "Cannot allocate memory";
	case EINVAL:
		return "Invalid argument";
	}
	/* XXX: strerror() is not thread-safe for unknown values on every
	 * libc; a generic text avoids it for the rare rest */
	return "Socket error";
}

const char *
smtp_status_name(smtp_status s)
{
	switch (s) {
	case SMTP_OK:
		return "ok";
	case SMTP_TIMEOUT:
		return "timeout";
	case SMTP_EOF:
		return "eof";
	case SMTP_PROTO:
		return "protocol";
	case SMTP_IOERR:
		return "ioerr";
	}
	return "invalid";
}
