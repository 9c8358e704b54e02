/*
 * test-smtp.c - unit tests of the SMTP transport (lib/smtp.c).
 *
 * Replies are fed through a socketpair handed to smtp_connect() by the
 * connect hook; connect itself is tried against loopback listeners only
 * (127.0.0.1, 127.0.0.2 and ::1).  Every wait is bounded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtp.h"
#include "tap.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

static char trace_buf[8192];

static void
trace_cb(void *ctx, char dir, const char *line)
{
	(void)ctx;
	util_appendf(trace_buf, sizeof(trace_buf), "%c %s\n", dir, line);
}

typedef struct hook_ctx {
	int fd;			/* returned by the hook, -1: fail */
	int err;		/* errno when failing */
	int calls;
	unsigned port;		/* port seen in the address */
} hook_ctx;

static int
hook_connect(void *ctx, const struct sockaddr *sa, socklen_t salen)
{
	hook_ctx *h = ctx;

	(void)salen;
	h->calls++;
	if (sa->sa_family == AF_INET)
		h->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (h->fd < 0) {
		errno = h->err;
		return -1;
	}
	return h->fd;
}

static hook_ctx hook;
static cv_params params;

static void
params_reset(void)
{
	/* not cv_params_init(): keep this test free of verify.c */
	memset(&params, 0, sizeof(params));
	params.helo = "test.example";
	params.trace = trace_cb;
	trace_buf[0] = '\0';
}

static struct sockaddr_in
addr4(const char *ip, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((in_port_t)port);
	(void)inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* A connection whose peer is *peer_r (a socketpair end). */
static smtp_conn *
pair_conn(int *peer_r)
{
	int sv[2];
	struct sockaddr_in sin = addr4("127.0.0.1", 0);
	smtp_conn *c = NULL;
	int err = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		tap_diag("socketpair: %s", strerror(errno));
		exit(77);
	}
	params_reset();
	hook = (hook_ctx){.fd = sv[0]};
	params.connect = hook_connect;
	params.connect_ctx = &hook;
	params.port = 2525;
	if (smtp_connect(&params, (struct sockaddr *)&sin, sizeof(sin),
			 cv_now_ms() + 2000, &c, &err) != SMTP_OK) {
		tap_diag("pair connect failed: %d", err);
		exit(1);
	}
	*peer_r = sv[1];
	return c;
}

static void
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			tap_diag("write: %s", strerror(errno));
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* ------------------------------------------------- table of replies */

typedef struct reply_case {
	const char *name;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	smtp_status status;
	int code;
	const char *enhanced;
	const char *text;	/* NULL: not checked */
	unsigned lines;
} reply_case;

static const reply_case reply_cases[] = {
	{"single line", "250 OK\r\n", 0, SMTP_OK, 250, "", "250 OK", 1},
	{"multi-line",
	 "250-mx.example Hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 0,
	 SMTP_OK, 250, "",
	 "250-mx.example Hello\n250-PIPELINING\n250 8BITMIME", 3},
	{"enhanced code", "550 5.1.1 <a@b>: no such user\r\n", 0, SMTP_OK, 550,
	 "5.1.1", "550 5.1.1 <a@b>: no such user", 1},
	{"enhanced on continued line", "451-4.7.1 try\r\n451 4.7.1 later\r\n",
	 0, SMTP_OK, 451, "4.7.1", "451-4.7.1 try\n451 4.7.1 later", 2},
	{"enhanced at end of line", "250 2.1.5\r\n", 0, SMTP_OK, 250, "2.1.5",
	 "250 2.1.5", 1},
	{"enhanced long fields", "550 5.123.456 x\r\n", 0, SMTP_OK, 550,
	 "5.123.456", NULL, 1},
	{"no enhanced: class differs", "550 2.1.1 x\r\n", 0, SMTP_OK, 550, "",
	 NULL, 1},
	{"no enhanced: 4 digits", "550 5.1.1234 x\r\n", 0, SMTP_OK, 550, "",
	 NULL, 1},
	{"no enhanced: glued text", "550 5.1.1x\r\n", 0, SMTP_OK, 550, "", NULL,
	 1},
	{"no enhanced: class 3", "354 3.0.0 go ahead\r\n", 0, SMTP_OK, 354, "",
	 NULL, 1},
	{"no enhanced: plain text", "220 mx.example ESMTP\r\n", 0, SMTP_OK, 220,
	 "", NULL, 1},
	{"bare LF", "220 hi\n", 0, SMTP_OK, 220, "", "220 hi", 1},
	{"bare LF multi", "250-a\n250 b\n", 0, SMTP_OK, 250, "", "250-a\n250 b",
	 2},
	{"code alone", "250\r\n", 0, SMTP_OK, 250, "", "250", 1},
	{"8-bit kept", "250 caf\xc3\xa9 \xff\r\n", 0, SMTP_OK, 250, "",
	 "250 caf\xc3\xa9 \xff", 1},
	{"bad code 850", "850 x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad code 25O", "25O x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad code 2500", "2500 x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad code abc", "abc\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad code 199", "199 x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad code 600", "600 x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"short line", "25\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"empty line", "\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"bad separator", "250_x\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"continuation code differs", "250-a\r\n251 b\r\n", 0, SMTP_PROTO, 250,
	 "", "250-a", 1},
	{"NUL in reply", "250 a\0b\r\n", 9, SMTP_PROTO, 0, "", "", 0},
	{"lone CR", "250 a\rb\r\n", 0, SMTP_PROTO, 0, "", "", 0},
	{"EOF before anything", "", 0, SMTP_EOF, 0, "", "", 0},
	{"EOF mid-line", "250-a\r\n250 b", 0, SMTP_EOF, 250, "", "250-a", 1},
	{"EOF after continuation", "250-a\r\n", 0, SMTP_EOF, 250, "", "250-a",
	 1},
};

static void
test_reply_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const reply_case *t = &reply_cases[i];
		size_t len = t->inlen != 0 ? t->inlen : strlen(t->in);
		smtp_reply r;
		smtp_status st;
		bool ok;
		int peer;
		smtp_conn *c = pair_conn(&peer);

		write_all(peer, t->in, len);
		(void)shutdown(peer, SHUT_WR);
		st = smtp_read_reply(c, cv_now_ms() + 2000, &r);
		ok = st == t->status && r.code == t->code &&
		     strcmp(r.enhanced, t->enhanced) == 0 &&
		     (t->text == NULL || strcmp(r.text, t->text) == 0) &&
		     r.lines == t->lines && !r.truncated;
		if (!tap_ok(ok, "reply: %s", t->name))
			tap_diag("  got %s code %d enh \"%s\" lines %u "
				 "text \"%s\"", smtp_status_name(st), r.code,
				 r.enhanced, r.lines, r.text);
		smtp_close(&c);
		(void)close(peer);
	}
}

/* ------------------------------------------------------ bounds */

static smtp_status
feed_and_read(const char *in, size_t len, smtp_reply *r)
{
	int peer;
	smtp_conn *c = pair_conn(&peer);
	smtp_status st;

	write_all(peer, in, len);
	(void)shutdown(peer, SHUT_WR);
	st = smtp_read_reply(c, cv_now_ms() + 2000, r);
	smtp_close(&c);
	(void)close(peer);
	return st;
}

static void
test_bounds(void)
{
	static char buf[SMTP_LINES_MAX * 16 + 4096];
	smtp_reply r;
	smtp_status st;
	size_t n;
	unsigned i;

	/* a line of exactly SMTP_LINE_MAX octets passes, cut in text */
	memcpy(buf, "250 ", 4);
	memset(buf + 4, 'a', SMTP_LINE_MAX - 4);
	memcpy(buf + SMTP_LINE_MAX, "\r\n", 2);
	st = feed_and_read(buf, SMTP_LINE_MAX + 2, &r);
	tap_ok(st == SMTP_OK && r.truncated &&
		   strlen(r.text) == sizeof(r.text) - 1,
	       "line at the cap accepted, text truncated (%s)",
	       smtp_status_name(st));
	/* one more octet: protocol error */
	memcpy(buf, "250 ", 4);
	memset(buf + 4, 'a', SMTP_LINE_MAX - 3);
	memcpy(buf + SMTP_LINE_MAX + 1, "\r\n", 2);
	st = feed_and_read(buf, SMTP_LINE_MAX + 3, &r);
	tap_is_str(smtp_status_name(st), "protocol", "overlong line refused");
	/* overlong without any line end at all */
	memset(buf, '2', 3000);
	st = feed_and_read(buf, 3000, &r);
	tap_is_str(smtp_status_name(st), "protocol",
		   "overlong unterminated line refused before EOF");

	/* SMTP_LINES_MAX lines pass, one more fails */
	for (n = 0, i = 0; i + 1 < SMTP_LINES_MAX; i++, n += 7)
		memcpy(buf + n, "250-xx\n", 7);
	memcpy(buf + n, "250 xx\n", 7);
	st = feed_and_read(buf, n + 7, &r);
	tap_ok(st == SMTP_OK && r.lines == SMTP_LINES_MAX,
	       "%d lines accepted (%s, %u)", SMTP_LINES_MAX,
	       smtp_status_name(st), r.lines);
	memcpy(buf + n, "250-xx\n250 xx\n", 14);
	st = feed_and_read(buf, n + 14, &r);
	tap_is_str(smtp_status_name(st), "protocol", "too many lines refused");

	/* a long multi-line reply is cut, not refused */
	for (n = 0, i = 0; i < 20; i++, n += 100) {
		memset(buf + n, 'b', 100);
		memcpy(buf + n, i < 19 ? "250-" : "250 ", 4);
		buf[n + 99] = '\n';
	}
	st = feed_and_read(buf, n, &r);
	tap_ok(st == SMTP_OK && r.truncated && r.lines == 20 &&
		   strlen(r.text) == CV_REPLY_MAX - 1,
	       "long reply truncated to CV_REPLY_MAX");
}

/* ------------------------------------------------------ timing */

typedef struct writer {
	int fd;
	const char *data;
	size_t len;
	size_t chunk;
	long delay_ms;
} writer;

static void *
writer_run(void *arg)
{
	const writer *w = arg;
	size_t off;

	for (off = 0; off < w->len; off += w->chunk) {
		size_t n = w->len - off < w->chunk ? w->len - off : w->chunk;

		write_all(w->fd, w->data + off, n);
		sleep_ms(w->delay_ms);
	}
	return NULL;
}

static void
test_split(const char *name, size_t chunk, long delay_ms)
{
	static const char in[] = "250-first line\r\n250-second\r\n250 last\r\n";
	int peer;
	smtp_conn *c = pair_conn(&peer);
	writer w = {peer, in, sizeof(in) - 1, chunk, delay_ms};
	pthread_t th;
	smtp_reply r;
	smtp_status st;

	if (pthread_create(&th, NULL, writer_run, &w) != 0) {
		tap_diag("pthread_create failed");
		exit(1);
	}
	st = smtp_read_reply(c, cv_now_ms() + 5000, &r);
	(void)pthread_join(th, NULL);
	tap_ok(st == SMTP_OK && r.code == 250 && r.lines == 3 &&
		   strcmp(r.text, "250-first line\n250-second\n250 last") == 0,
	       "%s", name);
	tap_is_str(trace_buf, "< 250-first line\n< 250-second\n< 250 last\n",
		   "trace of received lines");
	smtp_close(&c);
	(void)close(peer);
}

static void
test_pipelined(void)
{
	static const char in[] = "250 2.1.0 Ok\r\n550 5.1.1 No such user\r\n";
	int peer;
	smtp_conn *c = pair_conn(&peer);
	smtp_reply r1, r2, r3;
	smtp_status s1, s2, s3;
	int64_t t0;

	write_all(peer, in, sizeof(in) - 1);
	s1 = smtp_read_reply(c, cv_now_ms() + 2000, &r1);
	s2 = smtp_read_reply(c, cv_now_ms() + 2000, &r2);
	tap_ok(s1 == SMTP_OK && r1.code == 250 &&
		   strcmp(r1.enhanced, "2.1.0") == 0,
	       "pipelined: first reply");
	tap_ok(s2 == SMTP_OK && r2.code == 550 &&
		   strcmp(r2.text, "550 5.1.1 No such user") == 0,
	       "pipelined: second reply from the buffer");
	/* nothing more: timeout within the deadline (+100 ms) */
	t0 = cv_now_ms();
	s3 = smtp_read_reply(c, t0 + 300, &r3);
	t0 = cv_now_ms() - t0;
	tap_ok(s3 == SMTP_TIMEOUT && t0 >= 299 && t0 < 400,
	       "silent peer: timeout after %lld ms",
	       (long long)t0);
	/* a reply begun but not finished also times out */
	write_all(peer, "250-a\r\n", 7);
	s3 = smtp_read_reply(c, cv_now_ms() + 100, &r3);
	tap_ok(s3 == SMTP_TIMEOUT && r3.lines == 1,
	       "unfinished reply: timeout");
	/* a deadline already passed still reads what is buffered */
	smtp_close(&c);
	(void)close(peer);

	c = pair_conn(&peer);
	write_all(peer, in, sizeof(in) - 1);
	sleep_ms(20);
	s1 = smtp_read_reply(c, cv_now_ms() - 1, &r1);
	s2 = smtp_read_reply(c, cv_now_ms() - 1, &r2);
	tap_ok(s1 == SMTP_OK && s2 == SMTP_OK && r2.code == 550,
	       "past deadline: waiting input still read");
	smtp_close(&c);
	(void)close(peer);
}

/* ------------------------------------------------------ sending */

static void
test_send(void)
{
	const char *pipe2[] = {"MAIL FROM:<>", "RCPT TO:<a@b.example>"};
	const char *bad_cr[] = {"MAIL FROM:<>", "RCPT TO:<a\r@b>"};
	const char *bad_lf[] = {"RCPT TO:<a\n@b>"};
	const char *bad_tab[] = {"RCPT TO:<a\t@b>"};
	const char *bad_null[] = {NULL};
	static char long_line[SMTP_CMD_MAX + 8];
	const char *longp[] = {long_line};
	char got[256];
	ssize_t n;
	int peer;
	smtp_conn *c = pair_conn(&peer);
	smtp_status st;

	st = smtp_send(c, cv_now_ms() + 2000, pipe2, 2);
	n = recv(peer, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	tap_ok(st == SMTP_OK, "send two lines");
	tap_is_str(got, "MAIL FROM:<>\r\nRCPT TO:<a@b.example>\r\n",
		   "both lines in one write");
	tap_is_str(trace_buf, "> MAIL FROM:<>\n> RCPT TO:<a@b.example>\n",
		   "trace of sent lines");

	tap_is_int(smtp_send(c, cv_now_ms() + 2000, bad_cr, 2), SMTP_PROTO,
		   "send refuses CR (whole batch)");
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, bad_lf, 1), SMTP_PROTO,
		   "send refuses LF");
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, bad_tab, 1), SMTP_PROTO,
		   "send refuses other control characters");
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, bad_null, 1), SMTP_PROTO,
		   "send refuses a NULL line");
	memset(long_line, 'x', SMTP_CMD_MAX - 1);
	long_line[SMTP_CMD_MAX - 1] = '\0';	/* 511 + CRLF = 513 */
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, longp, 1), SMTP_PROTO,
		   "send refuses a line over 512 octets");
	n = recv(peer, got, sizeof(got), MSG_DONTWAIT);
	tap_ok(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	       "nothing sent for refused lines");
	long_line[SMTP_CMD_MAX - 2] = '\0';	/* 510 + CRLF = 512 */
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, longp, 1), SMTP_OK,
		   "send takes a line of exactly 512 octets");

	/* peer gone: EOF, and no SIGPIPE kills us */
	(void)close(peer);
	tap_is_int(smtp_send(c, cv_now_ms() + 2000, pipe2, 1), SMTP_EOF,
		   "send to a closed peer: EOF without SIGPIPE");
	smtp_close(&c);
	tap_ok(c == NULL, "smtp_close NULLs the pointer");
}

static void
test_quit(void)
{
	static char junk[4096];
	const char *line[] = {junk};
	char got[64];
	int peer, i;
	ssize_t n;
	smtp_conn *c = pair_conn(&peer);
	int64_t t0;

	smtp_quit_close(&c);
	n = recv(peer, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	tap_ok(c == NULL && strcmp(got, "QUIT\r\n") == 0,
	       "quit_close sends QUIT and NULLs the pointer");
	n = recv(peer, got, sizeof(got), MSG_DONTWAIT);
	tap_ok(n == 0, "then closes");
	(void)close(peer);

	/* a peer that never reads: fill the pipe, quit_close must not wait */
	c = pair_conn(&peer);
	memset(junk, 'y', 500);
	junk[500] = '\0';
	for (i = 0; i < 10000; i++)
		if (smtp_send(c, cv_now_ms() + 20, line, 1) != SMTP_OK)
			break;
	t0 = cv_now_ms();
	smtp_quit_close(&c);
	t0 = cv_now_ms() - t0;
	tap_ok(i < 10000 && c == NULL && t0 < 50,
	       "quit_close does not block on a full pipe (%lld ms)",
	       (long long)t0);
	(void)close(peer);
	smtp_quit_close(&c);
	smtp_close(&c);
	tap_ok(c == NULL, "quit_close and close take NULL");
}

/* ------------------------------------------------------ extensions */

static void
test_ext(void)
{
	smtp_reply r;

	memset(&r, 0, sizeof(r));
	r.code = 250;
	util_strlcpy(r.text,
		     "250-mx.example PIPELINING here\n250-pipelining\n"
		     "250-SIZE 10240000\n250-8BITMIME\n250 SMTPUTF8",
		     sizeof(r.text));
	tap_ok(smtp_reply_has_ext(&r, "PIPELINING"), "ext: PIPELINING");
	tap_ok(smtp_reply_has_ext(&r, "size"), "ext: size with argument");
	tap_ok(smtp_reply_has_ext(&r, "SMTPUTF8"), "ext: last line");
	tap_ok(!smtp_reply_has_ext(&r, "PIPE"), "ext: no prefix match");
	tap_ok(!smtp_reply_has_ext(&r, "mx.example"),
	       "ext: greeting line not counted");
	tap_ok(!smtp_reply_has_ext(&r, "STARTTLS"), "ext: absent");
	r.code = 550;
	tap_ok(!smtp_reply_has_ext(&r, "PIPELINING"), "ext: not in a 5xx");
}

/* ------------------------------------------------------ connect */

static int
listener(int family, const char *ip, unsigned *port_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		(void)inet_pton(AF_INET, ip, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		(void)inet_pton(AF_INET6, ip, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		(void)close(fd);
		return -1;
	}
	*port_r = ntohs(family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_port :
			    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void
test_connect_refused(void)
{
	struct sockaddr_in sin = addr4("127.0.0.1", 0);
	unsigned port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), err = 0;
	smtp_conn *c = NULL;
	smtp_status st;
	int64_t t0;

	if (lfd < 0) {
		tap_diag("no loopback listener: %s", strerror(errno));
		exit(77);
	}
	(void)close(lfd);	/* the port is now closed */
	params_reset();
	params.port = port;
	t0 = cv_now_ms();
	st = smtp_connect(&params, (struct sockaddr *)&sin, sizeof(sin),
			  t0 + 5000, &c, &err);
	t0 = cv_now_ms() - t0;
	tap_ok(st == SMTP_IOERR && err == ECONNREFUSED && c == NULL &&
		   t0 < 1000,
	       "closed port: ECONNREFUSED in %lld ms", (long long)t0);
	tap_is_str(smtp_errno_text(err), "Connection refused",
		   "errno text for refused");
}

static void
test_connect_ok(int family, const char *ip, const struct sockaddr *src,
		const char *want_peer)
{
	struct sockaddr_storage ss, peer_ss;
	socklen_t plen = sizeof(peer_ss);
	unsigned port;
	int lfd = listener(family, ip, &port), afd, err = -1;
	smtp_conn *c = NULL;
	smtp_status st;
	smtp_reply r;
	char peer_ip[CV_IPSTR_MAX] = "";

	if (lfd < 0) {
		tap_ok(true, "connect to %s # SKIP no listener there", ip);
		tap_ok(true, "banner from %s # SKIP", ip);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		(void)inet_pton(AF_INET, ip,
				&((struct sockaddr_in *)&ss)->sin_addr);
	else
		(void)inet_pton(AF_INET6, ip,
				&((struct sockaddr_in6 *)&ss)->sin6_addr);
	params_reset();
	params.port = port;
	if (family == AF_INET)
		params.source4 = src;
	st = smtp_connect(&params, (struct sockaddr *)&ss,
			  family == AF_INET ? sizeof(struct sockaddr_in) :
					      sizeof(struct sockaddr_in6),
			  cv_now_ms() + 2000, &c, &err);
	afd = accept(lfd, (struct sockaddr *)&peer_ss, &plen);
	if (afd >= 0 && peer_ss.ss_family == AF_INET)
		(void)inet_ntop(AF_INET,
				&((struct sockaddr_in *)&peer_ss)->sin_addr,
				peer_ip, sizeof(peer_ip));
	else if (afd >= 0)
		(void)inet_ntop(AF_INET6,
				&((struct sockaddr_in6 *)&peer_ss)->sin6_addr,
				peer_ip, sizeof(peer_ip));
	tap_ok(st == SMTP_OK && err == 0 && afd >= 0 &&
		   (want_peer == NULL || strcmp(peer_ip, want_peer) == 0),
	       "connect to %s port %u (peer %s)", ip, port, peer_ip);
	if (afd >= 0)
		write_all(afd, "220 hello ESMTP\r\n", 17);
	st = smtp_read_reply(c, cv_now_ms() + 2000, &r);
	tap_ok(st == SMTP_OK && r.code == 220, "banner from %s", ip);
	smtp_quit_close(&c);
	if (afd >= 0)
		(void)close(afd);
	(void)close(lfd);
}

static void
test_connect_hook(void)
{
	struct sockaddr_in sin = addr4("192.0.2.1", 9);	/* never reached */
	int sv[2], err = 0, i;
	smtp_conn *c = NULL;
	smtp_status st;
	int64_t t0;
	char junk[4096];

	/* failing hook: its errno comes back */
	params_reset();
	hook = (hook_ctx){.fd = -1, .err = ENETUNREACH};
	params.connect = hook_connect;
	params.connect_ctx = &hook;
	params.port = 2525;
	st = smtp_connect(&params, (struct sockaddr *)&sin, sizeof(sin),
			  cv_now_ms() + 1000, &c, &err);
	tap_ok(st == SMTP_IOERR && err == ENETUNREACH && hook.calls == 1 &&
		   hook.port == 2525 && c == NULL,
	       "hook: called once with port, its errno returned");
	tap_is_str(smtp_errno_text(err), "Network is unreachable",
		   "errno text for unreachable");

	/* a socket that never becomes writable: the connect timeout */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
		       sv) != 0)
		exit(77);
	memset(junk, 'z', sizeof(junk));
	for (i = 0; i < 10000; i++)
		if (write(sv[0], junk, sizeof(junk)) < 0)
			break;
	hook = (hook_ctx){.fd = sv[0]};
	params.connect_timeout_ms = 200;
	t0 = cv_now_ms();
	st = smtp_connect(&params, (struct sockaddr *)&sin, sizeof(sin),
			  t0 + 5000, &c, &err);
	t0 = cv_now_ms() - t0;
	tap_ok(st == SMTP_TIMEOUT && err == ETIMEDOUT && c == NULL &&
		   t0 >= 199 && t0 < 300,
	       "connect timeout after %lld ms", (long long)t0);
	tap_is_str(smtp_errno_text(err), "Connection timed out",
		   "errno text for timeout");
	/* smtp_connect closed sv[0] */
	(void)close(sv[1]);

	/* bad address family */
	sin.sin_family = AF_UNIX;
	st = smtp_connect(&params, (struct sockaddr *)&sin, sizeof(sin),
			  cv_now_ms() + 1000, &c, &err);
	tap_ok(st == SMTP_IOERR && err == EAFNOSUPPORT,
	       "address family checked");
}

/* Can a socket bind to 127.0.0.2 (Linux: all of 127/8 is local)? */
static bool
can_bind(const struct sockaddr_in *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 &&
		  bind(fd, (const struct sockaddr *)src, sizeof(*src)) == 0;

	if (fd >= 0)
		(void)close(fd);
	return ok;
}

int
main(void)
{
	struct sockaddr_in src = addr4("127.0.0.2", 0);

	test_reply_table();
	test_bounds();
	test_split("reply split across reads", 5, 10);
	test_split("reply one byte at a time", 1, 1);
	test_pipelined();
	test_send();
	test_quit();
	test_ext();
	test_connect_refused();
	test_connect_ok(AF_INET, "127.0.0.1", NULL, "127.0.0.1");
	if (can_bind(&src)) {
		test_connect_ok(AF_INET, "127.0.0.1", (struct sockaddr *)&src,
				"127.0.0.2");
	} else {
		tap_ok(true, "connect from 127.0.0.2 # SKIP cannot bind");
		tap_ok(true, "banner # SKIP");
	}
	test_connect_ok(AF_INET6, "::1", NULL, "::1");
	test_connect_hook();
	return tap_done();
}
