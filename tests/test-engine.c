/*
 * test-engine.c - tests of the probe engine (lib/engine.c): one probe per
 * address, callers that stop waiting, the cache in front, the limits
 * and the shutdown.
 *
 * No network at all: the DNS answers come from a query hook (dnsmsg.h)
 * and each SMTP connection is one end of a socketpair served by a thread
 * of this program that speaks scripted SMTP (reply delay per MX address,
 * RCPT verdict by local part).  It counts connections and the peak of
 * connections open at once, each counted from the connect to the moment
 * before its RCPT reply, a span the client is surely inside.  Every wait
 * is bounded; every server thread is joined.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callout.h"
#include "dnsmsg.h"
#include "tap.h"

#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define MAXCONN		1024
#define SLACK_MS	50	/* how late a caller may come back */

/* ------------------------------------------------------- fake servers */

/* The mail hosts, their addresses and how slowly they answer RCPT. */
static const zrec zone_recs[] = {
	{ "one.test", ns_t_mx, 10, "mx1.test", 0 },
	{ "rate.test", ns_t_mx, 10, "mx1.test", 0 },
	{ "mx1.test", ns_t_a, 0, "192.0.2.1", 0 },
	{ "slow.test", ns_t_mx, 10, "mx2.test", 0 },
	{ "mx2.test", ns_t_a, 0, "192.0.2.2", 0 },
	{ "burst.test", ns_t_mx, 10, "mx3.test", 0 },
	{ "mx3.test", ns_t_a, 0, "192.0.2.3", 0 },
	{ "s1.test", ns_t_mx, 10, "mx4.test", 0 },
	{ "s2.test", ns_t_mx, 10, "mx4.test", 0 },
	{ "s3.test", ns_t_mx, 10, "mx4.test", 0 },
	{ "s4.test", ns_t_mx, 10, "mx4.test", 0 },
	{ "mx4.test", ns_t_a, 0, "192.0.2.4", 0 },
	{ "q1.test", ns_t_mx, 10, "mx5.test", 0 },
	{ "q2.test", ns_t_mx, 10, "mx5.test", 0 },
	{ "q3.test", ns_t_mx, 10, "mx5.test", 0 },
	{ "q4.test", ns_t_mx, 10, "mx5.test", 0 },
	{ "mx5.test", ns_t_a, 0, "192.0.2.5", 0 },
};
static atomic_int delay_ms[6];		/* by last octet of the MX */
static atomic_int force_code;		/* RCPT code for all; 0: by name */

static atomic_int conns, current, peak;
static pthread_t servers[MAXCONN];
static atomic_int nservers;
static int joined_servers;

typedef struct conn {
	int fd;
	int delay;
	bool counted;
} conn;

static void
conn_uncount(conn *c)
{
	if (c->counted) {
		c->counted = false;
		atomic_fetch_sub(&current, 1);
	}
}

static void
conn_say(const conn *c, const char *line)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);

	(void)!write(c->fd, buf, (size_t)n);
}

/* One line into buf, waiting at most 10 s; false at EOF or timeout. */
static bool
conn_line(const conn *c, char *buf, size_t size)
{
	size_t len = 0;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char ch;

	while (len + 1 < size) {
		if (poll(&pfd, 1, 10000) <= 0 || read(c->fd, &ch, 1) != 1)
			return false;
		if (ch == '\n')
			break;
		if (ch != '\r')
			buf[len++] = ch;
	}
	buf[len] = '\0';
	return true;
}

static void
conn_rcpt(conn *c, const char *line)
{
	const char *local = strchr(line, '<');
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int code = atomic_load(&force_code);

	local = local != NULL ? local + 1 : "";
	if (c->delay > 0)
		(void)poll(&pfd, 1, c->delay);	/* early on hang-up */
	conn_uncount(c);
	if (code == 0)
		code = strncmp(local, "ok", 2) == 0 ? 250 :
		    strncmp(local, "tmp", 3) == 0 ? 451 : 550;
	conn_say(c, code == 250 ? "250 2.1.5 ok" : code == 451 ?
	    "451 4.3.0 try again later" : "550 5.1.1 no such user");
}

static void *
conn_serve(void *arg)
{
	conn *c = arg;
	char line[1024];

	conn_say(c, "220 mx.test ESMTP fake");
	while (conn_line(c, line, sizeof(line))) {
		if (strncasecmp(line, "EHLO", 4) == 0 ||
		    strncasecmp(line, "HELO", 4) == 0)
			conn_say(c, "250 mx.test");
		else if (strncasecmp(line, "MAIL", 4) == 0)
			conn_say(c, "250 2.1.0 ok");
		else if (strncasecmp(line, "RCPT", 4) == 0)
			conn_rcpt(c, line);
		else if (strncasecmp(line, "RSET", 4) == 0)
			conn_say(c, "250 2.0.0 ok");
		else if (strncasecmp(line, "QUIT", 4) == 0)
			break;
		else
			conn_say(c, "500 5.5.1 what?");
	}
	conn_uncount(c);
	(void)close(c->fd);
	free(c);
	return NULL;
}

/* The connect hook: a socketpair and a server thread for it. */
static int
fake_connect(void *ctx, const struct sockaddr *sa, socklen_t salen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	unsigned octet = ntohl(sin->sin_addr.s_addr) & 0xff;
	int sv[2], idx, now, was;
	conn *c;

	(void)ctx;
	(void)salen;
	idx = atomic_fetch_add(&nservers, 1);
	if (sa->sa_family != AF_INET || octet >= N(delay_ms) ||
	    idx >= MAXCONN || (c = calloc(1, sizeof(*c))) == NULL) {
		atomic_fetch_sub(&nservers, 1);
		errno = ECONNREFUSED;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		atomic_fetch_sub(&nservers, 1);
		free(c);
		return -1;
	}
	c->fd = sv[1];
	c->delay = atomic_load(&delay_ms[octet]);
	c->counted = true;
	atomic_fetch_add(&conns, 1);
	now = atomic_fetch_add(&current, 1) + 1;
	was = atomic_load(&peak);
	while (now > was && !atomic_compare_exchange_weak(&peak, &was, now))
		;
	if (pthread_create(&servers[idx], NULL, conn_serve, c) != 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		free(c);
		atomic_fetch_sub(&current, 1);
		servers[idx] = pthread_self();	/* XXX not joinable */
		errno = EAGAIN;
		return -1;
	}
	return sv[0];
}

/* Wait for every server thread so far; then reset the counters. */
static void
servers_reset(void)
{
	int n = atomic_load(&nservers);

	for (; joined_servers < n; joined_servers++)
		if (!pthread_equal(servers[joined_servers], pthread_self()))
			(void)pthread_join(servers[joined_servers], NULL);
	atomic_store(&conns, 0);
	atomic_store(&current, 0);
	atomic_store(&peak, 0);
	atomic_store(&force_code, 0);
	for (size_t i = 0; i < N(delay_ms); i++)
		atomic_store(&delay_ms[i], 0);
}

static int
fake_query(void *ctx, const char *name, int type, unsigned char *answer,
	   size_t size, cv_dns_status *status_r)
{
	zone z = { zone_recs, N(zone_recs), false };
	dmsg m;

	(void)ctx;
	if (zone_answer(&z, 0, name, type, &m) < 0 || m.len > size) {
		*status_r = CV_DNS_TEMP;
		return -1;
	}
	memcpy(answer, m.buf, m.len);
	return (int)m.len;
}

/* ------------------------------------------------------------ helpers */

static cv_resolver *res;
static cv_netlist *allow;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[16384];
static atomic_int holds;
static atomic_llong fake_time = 1700000000;
static char tmpdir[] = "/tmp/test-engine.XXXXXX";

static void
log_cb(void *ctx, const char *msg)
{
	size_t used;

	(void)ctx;
	pthread_mutex_lock(&log_lock);
	used = strlen(log_buf);
	(void)snprintf(log_buf + used, sizeof(log_buf) - used, "%s\n", msg);
	pthread_mutex_unlock(&log_lock);
}

static bool
logged(const char *text)
{
	bool found;

	pthread_mutex_lock(&log_lock);
	found = strstr(log_buf, text) != NULL;
	if (!found)
		tap_diag("log has no \"%s\"; log:\n%s", text, log_buf);
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void
hold_cb(void *ctx, bool take)
{
	(void)ctx;
	atomic_fetch_add(&holds, take ? 1 : -1);
}

static int64_t
fake_clock(void)
{
	return atomic_load(&fake_time);
}

static cv_params
params(void)
{
	cv_params p;

	cv_params_init(&p);
	p.helo = "probe.test";
	p.resolver = res;
	p.allow_networks = allow;
	p.connect = fake_connect;
	p.connect_timeout_ms = 1000;
	p.command_timeout_ms = 5000;
	p.max_hosts = 2;
	p.hold = hold_cb;
	return p;
}

static cv_cache *
cache_make(const char *file)
{
	cv_cache_params cp;
	char path[256];

	cv_cache_params_init(&cp);
	cp.memory_entries = 1000;
	cp.clock = fake_clock;
	cp.warn = log_cb;
	if (file != NULL) {
		(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
		cp.lmdb_path = path;
	}
	return cv_cache_new(&cp);
}

static cv_engine *
engine_make(unsigned workers, unsigned queue, unsigned dom, unsigned mx,
	    unsigned rate, cv_cache *cache)
{
	cv_engine_params ep;
	char err[256];
	cv_engine *e;

	cv_engine_params_init(&ep);
	ep.workers = workers;
	ep.queue_size = queue;
	ep.background_timeout_ms = 10000;
	ep.domain_concurrency = dom;
	ep.mx_concurrency = mx;
	ep.domain_rate_per_minute = rate;
	ep.cache = cache;
	ep.log = log_cb;
	e = cv_engine_new(&ep, err, sizeof(err));
	if (e == NULL)
		tap_diag("cv_engine_new: %s", err);
	return e;
}

/* One request, as a session would make it. */
typedef struct ask {
	cv_engine *e;
	char addr[CV_PATH_MAX + 1];
	int wait_ms;
	cv_result r;
	int64_t took, ended;
} ask;

static void
ask_run(ask *a)
{
	cv_params p = params();
	cv_address addr;
	char err[CV_ERROR_MAX];
	int64_t start = cv_now_ms();

	memset(&a->r, 0, sizeof(a->r));
	if (cv_path_parse(a->addr, strlen(a->addr), &addr, err,
	    sizeof(err)) != 0) {
		(void)snprintf(a->r.message, sizeof(a->r.message), "%s", err);
		a->r.verdict = CV_UNKNOWN;
		a->r.class_ = CV_CLASS_LOCAL;
		return;
	}
	(void)cv_engine_verify(a->e, &p, &addr, start + a->wait_ms, &a->r);
	a->ended = cv_now_ms();
	a->took = a->ended - start;
}

static void *
ask_thread(void *arg)
{
	ask_run(arg);
	return NULL;
}

static cv_result
ask1(cv_engine *e, const char *addr, int wait_ms, int64_t *took_r)
{
	ask a = { .e = e, .wait_ms = wait_ms };

	(void)snprintf(a.addr, sizeof(a.addr), "%s", addr);
	ask_run(&a);
	if (took_r != NULL)
		*took_r = a.took;
	return a.r;
}

/* Run n asks at once in threads. */
static void
ask_many(ask *as, size_t n)
{
	pthread_t *t = calloc(n, sizeof(*t));
	size_t i;

	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, ask_thread, &as[i]) != 0)
			ask_run(&as[i]);
	for (i = 0; i < n; i++)
		if (t[i] != 0)
			(void)pthread_join(t[i], NULL);
	free(t);
}

/* Wait (at most limit_ms) until no probe is queued or running. */
static bool
engine_idle(cv_engine *e, int limit_ms)
{
	int64_t end = cv_now_ms() + limit_ms;
	cv_engine_stats st;

	for (;;) {
		cv_engine_get_stats(e, &st);
		if (st.running == 0 && st.queued == 0)
			return true;
		if (cv_now_ms() >= end)
			return false;
		(void)usleep(10 * 1000);
	}
}

/* -------------------------------------------------------------- tests */

/* 50 callers, one new address: one connection, one verdict for all. */
static void
test_join(void)
{
	static ask as[50];
	cv_cache *cache = cache_make(NULL);
	cv_engine *e = engine_make(4, 16, 4, 8, 0, cache);
	cv_engine_stats st;
	size_t i, same = 0;

	servers_reset();
	atomic_store(&delay_ms[1], 300);
	for (i = 0; i < N(as); i++) {
		as[i] = (ask){ .e = e, .wait_ms = 5000 };
		(void)snprintf(as[i].addr, sizeof(as[i].addr),
		    "<ok-same@One.Test>");
	}
	ask_many(as, N(as));
	for (i = 0; i < N(as); i++)
		if (as[i].r.verdict == CV_VERIFIED &&
		    as[i].r.class_ == CV_CLASS_RCPT &&
		    strcmp(as[i].r.message, as[0].r.message) == 0)
			same++;
	tap_is_int(atomic_load(&conns), 1, "join: one connection for 50 "
	    "callers");
	tap_is_int((long long)same, 50, "join: all 50 verified, same result");
	tap_is_str(as[0].r.message, "mx1.test [192.0.2.1] : RCPT "
	    "TO:<ok-same@one.test> accepted: 250 2.1.5 ok", "join: message");
	cv_engine_get_stats(e, &st);
	tap_is_int((long long)st.probes, 1, "join: stats: one probe");
	tap_is_int((long long)(st.joined + st.cache_hits), 49,
	    "join: stats: 49 joined or served by the cache");
	tap_is_int((long long)st.requests, 50, "join: stats: 50 requests");
	cv_engine_free(&e);
	tap_is_int(atomic_load(&holds), 0, "join: every hold released");
	cv_cache_free(&cache);
}

/* A slow server: the caller goes at its deadline, the probe goes on. */
static void
test_slow(void)
{
	cv_cache *cache = cache_make(NULL);
	cv_engine *e = engine_make(4, 16, 4, 8, 0, cache);
	cv_engine_stats st;
	cv_result r;
	int64_t took;

	servers_reset();
	atomic_store(&delay_ms[2], 2000);
	r = ask1(e, "<ok-slow@slow.test>", 300, &took);
	tap_ok(r.verdict == CV_UNKNOWN && r.in_progress &&
	    r.class_ == CV_CLASS_TIMEOUT, "slow: unknown, in progress "
	    "(%s, %s)", cv_verdict_name(r.verdict), r.message);
	tap_is_str(r.message, "verification in progress", "slow: message");
	tap_ok(took >= 290 && took <= 300 + SLACK_MS, "slow: back at the "
	    "deadline (%lld ms)", (long long)took);
	tap_ok(engine_idle(e, 5000), "slow: the probe ends by itself");
	r = ask1(e, "<ok-slow@slow.test>", 300, &took);
	tap_ok(r.verdict == CV_VERIFIED && r.cached && !r.in_progress,
	    "slow: the retry is answered from the cache (%s)", r.message);
	tap_ok(took < 50, "slow: at once (%lld ms)", (long long)took);
	tap_is_int(atomic_load(&conns), 1, "slow: no new connection");
	cv_engine_get_stats(e, &st);
	tap_is_int((long long)st.timeouts_waiting, 1, "slow: stats: one "
	    "caller timed out waiting");
	cv_engine_free(&e);
	cv_cache_free(&cache);
}

/* The verdict survives a restart of engine and cache (LMDB). */
static void
test_restart(void)
{
	cv_cache *cache = cache_make("restart.mdb");
	cv_engine *e = engine_make(2, 16, 4, 8, 0, cache);
	cv_result r;

	servers_reset();
	r = ask1(e, "<ok-restart@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_VERIFIED && !r.cached, "restart: probed "
	    "(%s)", r.message);
	cv_engine_free(&e);
	cv_cache_free(&cache);
	cache = cache_make("restart.mdb");
	e = engine_make(2, 16, 4, 8, 0, cache);
	r = ask1(e, "<ok-restart@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_VERIFIED && r.cached, "restart: answered "
	    "from the store after a restart (%s)", r.message);
	tap_is_int(atomic_load(&conns), 1, "restart: one connection in all");
	cv_engine_free(&e);
	cv_cache_free(&cache);
}

/*
 * A failure does not overwrite a verified record: past half its life
 * the record is served and re-probed, the re-probe fails, the record
 * stays.  Past its life (the clock hook) the failure is the answer.
 */
static void
test_keep_verified(void)
{
	cv_cache_params defaults;
	cv_cache *cache = cache_make(NULL);
	cv_engine *e = engine_make(2, 16, 4, 8, 0, cache);
	cv_engine_stats st;
	cv_result r;

	cv_cache_params_init(&defaults);
	servers_reset();
	r = ask1(e, "<ok-keep@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_VERIFIED && !r.cached, "keep: verified");
	atomic_store(&force_code, 550);
	atomic_fetch_add(&fake_time, defaults.positive_ttl_s * 6 / 10);
	r = ask1(e, "<ok-keep@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_VERIFIED && r.cached, "keep: served past "
	    "half its life (%s)", r.message);
	tap_ok(engine_idle(e, 3000), "keep: the re-probe ends");
	tap_is_int(atomic_load(&conns), 2, "keep: re-probed in the "
	    "background");
	cv_engine_get_stats(e, &st);
	tap_is_int((long long)st.probes, 2, "keep: stats: two probes");
	r = ask1(e, "<ok-keep@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_VERIFIED && r.cached, "keep: the failure did "
	    "not overwrite it (%s)", r.message);
	atomic_fetch_add(&fake_time, defaults.positive_ttl_s);
	r = ask1(e, "<ok-keep@one.test>", 2000, NULL);
	tap_ok(r.verdict == CV_FAILED && !r.cached, "keep: expired, probed "
	    "again: failed (%s)", r.message);
	cv_engine_free(&e);
	cv_cache_free(&cache);
}

/* A cache that cannot be written or read leaves verification working. */
static void
test_bad_store(void)
{
	static const char *files[] = { "plain/cache.mdb", "corrupt.mdb" };
	char path[256];
	size_t i;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	(void)close(fd);
	(void)snprintf(path, sizeof(path), "%s/corrupt.mdb", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < 64; i++)
		(void)!write(fd, "this is not an lmdb file, not at all.\n",
		    38);
	(void)close(fd);
	for (i = 0; i < N(files); i++) {
		cv_cache *cache = cache_make(files[i]);
		cv_engine *e = engine_make(2, 16, 4, 8, 0, cache);
		cv_result r1, r2, r3;

		servers_reset();
		r1 = ask1(e, "<ok-bad@one.test>", 2000, NULL);
		r2 = ask1(e, "<tmp-bad@one.test>", 2000, NULL);
		r3 = ask1(e, "<no-bad@one.test>", 2000, NULL);
		tap_ok(r1.verdict == CV_VERIFIED, "bad store %s: verified "
		    "(%s)", files[i], r1.message);
		tap_ok(r2.verdict == CV_UNKNOWN && r2.class_ == CV_CLASS_RCPT,
		    "bad store %s: 451 stays unknown (%s)", files[i],
		    r2.message);
		tap_ok(r3.verdict == CV_FAILED && r3.class_ == CV_CLASS_RCPT,
		    "bad store %s: a 550 from the probe fails (%s)", files[i],
		    r3.message);
		tap_is_int(atomic_load(&conns), 3, "bad store: 3 probes");
		cv_engine_free(&e);
		cv_cache_free(&cache);
	}
}

/* Check a burst's answers: served, held back, or still in progress,
 * each by its deadline.  Returns how many were served verified. */
static size_t
burst_check(const char *name, const ask *as, size_t n, int wait_ms)
{
	size_t i, ok = 0, limit = 0, progress = 0, late = 0;

	for (i = 0; i < n; i++) {
		if (as[i].took > wait_ms + SLACK_MS)
			late++;
		if (as[i].r.verdict == CV_VERIFIED)
			ok++;
		else if (as[i].r.verdict == CV_UNKNOWN &&
		    as[i].r.class_ == CV_CLASS_LIMIT)
			limit++;
		else if (as[i].r.verdict == CV_UNKNOWN && as[i].r.in_progress)
			progress++;
		else
			tap_diag("%s: unexpected %s (%s)", name,
			    cv_verdict_name(as[i].r.verdict), as[i].r.message);
	}
	tap_diag("%s: %zu verified, %zu held back, %zu in progress", name,
	    ok, limit, progress);
	tap_is_int((long long)(ok + limit + progress), (long long)n,
	    "burst: every answer is verified, limited or in progress");
	tap_is_int((long long)late, 0, "burst: nobody waited past the "
	    "deadline");
	return ok;
}

/* 200 addresses of one domain: never more than DomainConcurrency. */
static void
test_burst_domain(void)
{
	static ask as[200];
	cv_engine *e = engine_make(16, 256, 3, 8, 0, NULL);
	cv_engine_stats st;
	size_t i, ok;

	servers_reset();
	atomic_store(&delay_ms[3], 100);
	for (i = 0; i < N(as); i++) {
		as[i] = (ask){ .e = e, .wait_ms = 1500 };
		(void)snprintf(as[i].addr, sizeof(as[i].addr),
		    "<ok-b%zu@burst.test>", i);
	}
	ask_many(as, N(as));
	ok = burst_check("domain burst", as, N(as), 1500);
	tap_ok(ok >= 3, "burst: some were served (%zu)", ok);
	tap_ok(engine_idle(e, 30000), "burst: the queue drains");
	tap_is_int(atomic_load(&peak), 3, "burst: at most DomainConcurrency "
	    "(3) connections at once");
	cv_engine_get_stats(e, &st);
	tap_is_int(atomic_load(&conns), (long long)st.probes, "burst: one "
	    "connection per probe");
	/* at most 128 queued at a time (half the queue), a few more may
	 * have left the queue for a worker while the burst came in */
	tap_ok(st.probes >= 128 && st.limited > 0,
	    "burst: one domain fills at most half the queue (%llu probes)",
	    (unsigned long long)st.probes);
	tap_is_int((long long)(st.probes + st.limited), 200, "burst: the "
	    "rest held back");
	tap_ok(logged("probes already queued for domain burst.test"),
	    "burst: the limit is logged");
	cv_engine_free(&e);
}

/* Four domains behind one MX address: never more than MXConcurrency. */
static void
test_burst_mx(void)
{
	static ask as[40];
	cv_engine *e = engine_make(16, 256, 4, 2, 0, NULL);
	cv_engine_stats st;
	size_t i;

	servers_reset();
	atomic_store(&delay_ms[4], 100);
	for (i = 0; i < N(as); i++) {
		as[i] = (ask){ .e = e, .wait_ms = 1500 };
		(void)snprintf(as[i].addr, sizeof(as[i].addr),
		    "<ok-m%zu@s%zu.test>", i, i % 4 + 1);
	}
	ask_many(as, N(as));
	(void)burst_check("mx burst", as, N(as), 1500);
	tap_ok(engine_idle(e, 30000), "mx burst: the queue drains");
	tap_is_int(atomic_load(&peak), 2, "mx burst: at most MXConcurrency "
	    "(2) connections at once");
	cv_engine_get_stats(e, &st);
	tap_ok(st.limited > 0, "mx burst: hosts held back (%llu)",
	    (unsigned long long)st.limited);
	tap_ok(logged("connections already open to mx4.test [192.0.2.4]"),
	    "mx burst: the limit is logged");
	cv_engine_free(&e);
}

/* DomainRatePerMinute: the fourth new probe in a minute is held back. */
static void
test_rate(void)
{
	cv_engine *e = engine_make(2, 16, 4, 8, 3, NULL);
	cv_engine_stats st;
	cv_result r[5];
	char addr[64];
	int64_t took4;
	size_t i;

	servers_reset();
	for (i = 0; i < N(r); i++) {
		(void)snprintf(addr, sizeof(addr), "<ok-r%zu@rate.test>", i);
		r[i] = ask1(e, addr, 2000, i == 3 ? &took4 : NULL);
	}
	tap_ok(r[0].verdict == CV_VERIFIED && r[1].verdict == CV_VERIFIED &&
	    r[2].verdict == CV_VERIFIED, "rate: three probes verified");
	tap_ok(r[3].verdict == CV_UNKNOWN && r[3].class_ == CV_CLASS_LIMIT &&
	    r[4].class_ == CV_CLASS_LIMIT, "rate: the 4th and 5th held back");
	tap_is_str(r[3].message, "probe limit: more than 3 probes a minute "
	    "for domain rate.test", "rate: message");
	tap_ok(took4 < 50, "rate: answered at once (%lld ms)",
	    (long long)took4);
	tap_is_int(atomic_load(&conns), 3, "rate: three connections");
	cv_engine_get_stats(e, &st);
	tap_is_int((long long)st.limited, 2, "rate: stats: two limited");
	cv_engine_free(&e);
}

/* A full queue answers at once; then shut down with probes pending. */
static void
test_queue_full(void)
{
	cv_engine *e = engine_make(1, 2, 4, 8, 0, NULL);
	cv_engine_stats st;
	cv_result r;
	int64_t took, t0;

	servers_reset();
	atomic_store(&delay_ms[5], 1000);
	r = ask1(e, "<ok-q@q1.test>", 100, NULL);
	tap_ok(r.in_progress, "queue: the first runs (%s)", r.message);
	r = ask1(e, "<ok-q@q2.test>", 100, NULL);
	r = ask1(e, "<ok-q@q3.test>", 100, NULL);
	tap_ok(r.in_progress, "queue: two wait in the queue (%s)",
	    r.message);
	r = ask1(e, "<ok-q@q4.test>", 2000, &took);
	tap_ok(r.verdict == CV_UNKNOWN && r.class_ == CV_CLASS_LIMIT &&
	    !r.in_progress, "queue: full: unknown, limit");
	tap_is_str(r.message, "probe queue full (2): ok-q@q4.test",
	    "queue: message");
	tap_ok(took < 50, "queue: answered at once (%lld ms)",
	    (long long)took);
	tap_ok(logged("probe queue full (2): ok-q@q4.test"), "queue: logged");
	cv_engine_get_stats(e, &st);
	tap_ok(st.queue_full == 1 && st.queued == 2 && st.running == 1,
	    "queue: stats: full 1, queued 2, running 1");
	t0 = cv_now_ms();
	cv_engine_free(&e);
	took = cv_now_ms() - t0;
	tap_ok(took < 700, "queue: freed with a probe running (%lld ms)",
	    (long long)took);
}

/* Shutdown wakes the callers waiting on probes. */
static void
test_shutdown(void)
{
	static ask as[6];
	cv_cache *cache = cache_make(NULL);
	cv_engine *e = engine_make(2, 16, 4, 8, 0, cache);
	pthread_t t[N(as)];
	size_t i, stopped = 0, prompt = 0;
	int64_t t0, took;

	servers_reset();
	atomic_store(&delay_ms[2], 2000);
	for (i = 0; i < N(as); i++) {
		as[i] = (ask){ .e = e, .wait_ms = 5000 };
		(void)snprintf(as[i].addr, sizeof(as[i].addr),
		    "<ok-sd%zu@slow.test>", i % 3);
		(void)pthread_create(&t[i], NULL, ask_thread, &as[i]);
	}
	(void)usleep(200 * 1000);
	t0 = cv_now_ms();
	cv_engine_free(&e);
	took = cv_now_ms() - t0;
	for (i = 0; i < N(as); i++) {
		(void)pthread_join(t[i], NULL);
		if (as[i].r.verdict == CV_UNKNOWN &&
		    strcmp(as[i].r.message, "probe engine stopping") == 0)
			stopped++;
		if (as[i].ended <= t0 + SLACK_MS)
			prompt++;
	}
	cv_cache_free(&cache);
	tap_is_int((long long)stopped, (long long)N(as), "shutdown: every "
	    "waiting caller is told");
	tap_is_int((long long)prompt, (long long)N(as), "shutdown: at once");
	tap_ok(took < 700, "shutdown: free returns (%lld ms)",
	    (long long)took);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	char err[CV_ERROR_MAX];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	res = cv_resolver_new(NULL, 0, 1000, err, sizeof(err));
	allow = cv_netlist_new();
	if (res == NULL || allow == NULL ||
	    cv_netlist_add(allow, "192.0.2.0/24", err, sizeof(err)) != 0) {
		fprintf(stderr, "set-up: %s\n", err);
		return 99;
	}
	cv_resolver_set_query(res, fake_query, NULL);

	test_join();
	test_slow();
	test_restart();
	test_keep_verified();
	test_bad_store();
	test_burst_domain();
	test_burst_mx();
	test_rate();
	test_queue_full();
	test_shutdown();

	/* the abandoned probes end with their servers' replies */
	servers_reset();
	for (int i = 0; i < 500 && atomic_load(&holds) != 0; i++)
		(void)usleep(10 * 1000);
	tap_is_int(atomic_load(&holds), 0, "every probe let its parameters "
	    "go");
	cv_netlist_free(&allow);
	cv_resolver_free(&res);
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
