/*
 * test-spf-pool.c - the SPF helper pool (milter/spf_pool.c) with the
 * real callout-spf-helper processes, asking a tiny UDP DNS server run in
 * a thread of this test on 127.0.0.1 (random port) that can hold an
 * answer back.  Checks: answers through the helpers; many threads on two
 * helpers; a helper SIGKILLed in the middle of an evaluation (its
 * request gets temperror, the next one works on a new helper); a hung
 * (SIGSTOPped) helper killed at the deadline and replaced; a helper dead
 * while idle replaced without a temperror; a helper that answers
 * temperror itself when its DNS is slow; stop leaves no process behind.
 * Traffic goes to loopback only; the server thread is stopped and joined
 * by the test and lives at most SERVER_LIFE_MS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callout.h"
#include "dnsmsg.h"
#include "spf.h"
#include "tap.h"

#define SERVER_LIFE_MS	60000
#define SLOW_MS		3000	/* slow.example's answer is held back */
#define PENDING_MAX	16
#define THREADS		6
#define PER_THREAD	3
#define PIDS_MAX	64

typedef struct ztxt {
	const char *owner;
	const char *txt;
	int delay_ms;
} ztxt;

static const ztxt tzone[] = {
	{"pass.example", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", 0},
	{"fail.example", "v=spf1 -all exp=why.fail.example", 0},
	{"why.fail.example", "Go away, %{i}", 0},
	{"slow.example", "v=spf1 +all", SLOW_MS},
};

typedef struct pending {
	bool used;
	int64_t at;
	struct sockaddr_storage to;
	socklen_t tolen;
	dmsg m;
} pending;

typedef struct server {
	int fd;
	unsigned port;
	atomic_bool stop;
	atomic_uint slow_seen;	/* questions for slow.example */
	pending out[PENDING_MAX];
	pthread_t thread;
} server;

static server srv = {.fd = -1};

/* Build the answer; its delay in ms. */
static int
zone_build(unsigned id, const char *name, int type, dmsg *m)
{
	bool exists = false;
	int delay = 0;

	dmsg_start(m, id, DMSG_QR | DMSG_RD | DMSG_RA, name, type);
	for (size_t i = 0; i < sizeof(tzone) / sizeof(tzone[0]); i++) {
		size_t off, n = strlen(tzone[i].txt);
		unsigned char len = (unsigned char)n;

		if (strcasecmp(tzone[i].owner, name) != 0)
			continue;
		exists = true;
		delay = tzone[i].delay_ms;
		if (type != ns_t_txt)
			continue;
		off = dmsg_rr_begin(m, tzone[i].owner, ns_t_txt);
		dmsg_put(m, &len, 1);
		dmsg_put(m, tzone[i].txt, n);
		dmsg_rr_end(m, off);
	}
	if (!exists)
		dmsg_set16(m, 2, DMSG_QR | DMSG_RD | DMSG_RA | ns_r_nxdomain);
	return delay;
}

static void
server_read(void)
{
	unsigned char q[1500];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char name[256];
	int type, delay;
	ssize_t n;
	dmsg m;

	n = recvfrom(srv.fd, q, sizeof(q), MSG_DONTWAIT,
		     (struct sockaddr *)&from, &fromlen);
	if (n <= 0 || dmsg_question(q, (size_t)n, name, sizeof(name), &type) < 0)
		return;
	delay = zone_build((unsigned)(q[0] << 8 | q[1]), name, type, &m);
	if (strcasecmp(name, "slow.example") == 0)
		atomic_fetch_add(&srv.slow_seen, 1);
	if (delay == 0) {
		(void)sendto(srv.fd, m.buf, m.len, 0, (struct sockaddr *)&from,
			     fromlen);
		return;
	}
	for (int i = 0; i < PENDING_MAX; i++) {
		if (!srv.out[i].used) {
			srv.out[i].used = true;
			srv.out[i].at = cv_now_ms() + delay;
			srv.out[i].to = from;
			srv.out[i].tolen = fromlen;
			srv.out[i].m = m;
			return;
		}
	}
}

static void *
server_main(void *arg)
{
	int64_t end = cv_now_ms() + SERVER_LIFE_MS;

	(void)arg;
	while (!srv.stop && cv_now_ms() < end) {
		struct pollfd p = {srv.fd, POLLIN, 0};

		if (poll(&p, 1, 20) > 0 && (p.revents & POLLIN))
			server_read();
		for (int i = 0; i < PENDING_MAX; i++) {
			pending *o = &srv.out[i];

			if (o->used && cv_now_ms() >= o->at) {
				(void)sendto(srv.fd, o->m.buf, o->m.len, 0,
					     (struct sockaddr *)&o->to,
					     o->tolen);
				o->used = false;
			}
		}
	}
	return NULL;
}

static int
server_start(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	srv.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (srv.fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(srv.fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	srv.port = ntohs(sin.sin_port);
	return pthread_create(&srv.thread, NULL, server_main, NULL) == 0 ? 0 :
									    -1;
}

/* ------------------------------------------------------------------ */

static spf_pool *pool;
static pid_t seen[PIDS_MAX];
static size_t nseen;

static void
note_pids(void)
{
	pid_t pids[SPF_HELPERS_MAX];
	bool busy[SPF_HELPERS_MAX];
	size_t n = spf_pool_helpers(pool, pids, busy, SPF_HELPERS_MAX);

	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t j = 0; j < nseen; j++)
			known |= seen[j] == pids[i];
		if (!known && pids[i] > 0 && nseen < PIDS_MAX)
			seen[nseen++] = pids[i];
	}
}

static pid_t
helper_pid(size_t slot, bool *busy_r)
{
	pid_t pids[SPF_HELPERS_MAX];
	bool busy[SPF_HELPERS_MAX];
	size_t n = spf_pool_helpers(pool, pids, busy, SPF_HELPERS_MAX);

	if (slot >= n)
		return 0;
	if (busy_r != NULL)
		*busy_r = busy[slot];
	return pids[slot];
}

static spf_result
check(const char *ip, const char *local, const char *domain,
      int64_t wait_ms, spf_answer *a)
{
	cv_address addr;

	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.local, sizeof(addr.local), "%s", local);
	(void)snprintf(addr.domain, sizeof(addr.domain), "%s", domain);
	(void)snprintf(addr.ascii_domain, sizeof(addr.ascii_domain), "%s",
		       domain);
	(void)snprintf(addr.address, sizeof(addr.address), "%s@%s", local,
		       domain);
	return spf_check(pool, ip, "mail.client.example", &addr,
			 cv_now_ms() + wait_ms, a);
}

static atomic_uint thread_pass;

static void *
thread_main(void *arg)
{
	spf_answer a;

	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		if (check("192.0.2.5", "t", "pass.example", 8000, &a) ==
		    SPFR_PASS)
			atomic_fetch_add(&thread_pass, 1);
	return NULL;
}

typedef struct slow_req {
	pthread_t thread;
	spf_answer a;
	int64_t elapsed;
} slow_req;

static void *
slow_main(void *arg)
{
	slow_req *r = arg;
	int64_t start = cv_now_ms();

	(void)check("192.0.2.5", "u", "slow.example", 8000, &r->a);
	r->elapsed = cv_now_ms() - start;
	return NULL;
}

/* Basic answers and many threads. */
static void
test_answers(void)
{
	pthread_t t[THREADS];
	spf_answer a;

	tap_is_str(spf_result_name(check("192.0.2.5", "u", "pass.example",
					 5000, &a)), "pass",
		   "pass through a helper");
	tap_ok(strstr(a.received_spf, "pass (mx.test.example: domain of "
		      "pass.example designates 192.0.2.5") == a.received_spf,
	       "  Received-SPF built: %s", a.received_spf);
	tap_is_str(spf_result_name(check("2001:db8::7", "u", "pass.example",
					 5000, &a)), "pass",
		   "IPv6 client, pass through a helper");
	tap_is_str(spf_result_name(check("192.0.2.5", "u", "fail.example",
					 5000, &a)), "fail",
		   "fail through a helper");
	tap_is_str(a.explanation, "Go away, 192.0.2.5", "  with exp= text");
	tap_is_str(spf_result_name(check("192.0.2.5", "u", "none.example",
					 5000, &a)), "none",
		   "none through a helper");
	for (int i = 0; i < THREADS; i++)
		(void)pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < THREADS; i++)
		(void)pthread_join(t[i], NULL);
	tap_is_int(atomic_load(&thread_pass), THREADS * PER_THREAD,
		   "6 threads x 3 checks on 2 helpers: all pass");
	note_pids();
}

/* SIGKILL the helper busy with slow.example. */
static void
test_kill_midway(void)
{
	slow_req r;
	spf_answer a;
	spf_pool_stats st;
	pid_t victim = 0;
	unsigned before = atomic_load(&srv.slow_seen);

	memset(&r, 0, sizeof(r));
	(void)pthread_create(&r.thread, NULL, slow_main, &r);
	for (int i = 0; i < 500 && atomic_load(&srv.slow_seen) == before; i++)
		(void)usleep(10000);
	tap_ok(atomic_load(&srv.slow_seen) > before,
	       "the helper is waiting for DNS in the middle of evaluation");
	for (size_t s = 0; s < 2 && victim == 0; s++) {
		bool busy = false;
		pid_t pid = helper_pid(s, &busy);

		if (busy)
			victim = pid;
	}
	tap_ok(victim > 0 && kill(victim, SIGKILL) == 0,
	       "SIGKILL the busy helper");
	(void)pthread_join(r.thread, NULL);
	tap_is_str(spf_result_name(r.a.result), "temperror",
		   "  its request gets temperror");
	tap_is_str(r.a.problem, "SPF helper died", "  problem");
	tap_ok(r.elapsed < SLOW_MS, "  at once, not at the deadline (%lld ms)",
	       (long long)r.elapsed);
	tap_ok(strstr(r.a.received_spf, "temperror (") == r.a.received_spf,
	       "  Received-SPF says temperror");
	tap_ok(kill(victim, 0) < 0 && errno == ESRCH, "  and it was reaped");
	tap_is_str(spf_result_name(check("192.0.2.5", "u", "pass.example",
					 5000, &a)), "pass",
		   "the next request works");
	tap_ok(helper_pid(0, NULL) != victim && helper_pid(1, NULL) != victim,
	       "  on a new helper");
	spf_pool_get_stats(pool, &st);
	tap_ok(st.deaths >= 1, "  counted as a death");
	note_pids();
}

/* A stopped helper hangs: killed at the deadline and replaced. */
static void
test_hang(void)
{
	pid_t victim = helper_pid(0, NULL);
	spf_answer a;
	int64_t start;

	tap_ok(victim > 0 && kill(victim, SIGSTOP) == 0,
	       "SIGSTOP the first helper");
	start = cv_now_ms();
	(void)check("192.0.2.5", "u", "pass.example", 1500, &a);
	tap_is_str(spf_result_name(a.result), "temperror",
		   "a hung helper: temperror");
	tap_is_str(a.problem, "SPF helper timed out", "  problem");
	tap_ok(cv_now_ms() - start >= 1400 && cv_now_ms() - start < 2500,
	       "  at the deadline (%lld ms)", (long long)(cv_now_ms() - start));
	tap_ok(kill(victim, 0) < 0 && errno == ESRCH, "  killed and reaped");
	tap_ok(helper_pid(0, NULL) > 0 && helper_pid(0, NULL) != victim,
	       "  replaced");
	tap_is_str(spf_result_name(check("192.0.2.5", "u", "pass.example",
					 5000, &a)), "pass",
		   "the next request works");
	note_pids();
}

/* A helper that dies while idle costs nobody a temperror. */
static void
test_idle_death(void)
{
	pid_t victim = helper_pid(0, NULL);
	spf_answer a;

	tap_ok(victim > 0 && kill(victim, SIGKILL) == 0,
	       "SIGKILL an idle helper");
	/* let it die: the pool reaps it, so only look, do not reap */
	for (int i = 0; i < 100; i++) {
		siginfo_t info;

		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)victim, &info,
			   WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    info.si_pid == victim)
			break;
		(void)usleep(10000);
	}
	tap_is_str(spf_result_name(check("192.0.2.5", "u", "pass.example",
					 5000, &a)), "pass",
		   "the next request still passes");
	if (a.result != SPFR_PASS)
		tap_diag("problem: %s", a.problem);
	tap_ok(kill(victim, 0) < 0 && errno == ESRCH, "  the dead one reaped");
	note_pids();
}

/* DNS slower than the budget: the helper answers temperror itself. */
static void
test_slow_dns(void)
{
	spf_answer a;
	pid_t before[2] = {helper_pid(0, NULL), helper_pid(1, NULL)};
	int64_t start = cv_now_ms();

	(void)check("192.0.2.5", "u", "slow.example", 2000, &a);
	tap_is_str(spf_result_name(a.result), "temperror",
		   "DNS slower than the deadline: temperror");
	tap_is_str(a.problem, "DNS lookup did not complete",
		   "  answered by the helper, in time");
	tap_ok(cv_now_ms() - start < 2100, "  within the deadline (%lld ms)",
	       (long long)(cv_now_ms() - start));
	tap_ok(helper_pid(0, NULL) == before[0] &&
	       helper_pid(1, NULL) == before[1], "  no helper replaced");
}

int
main(void)
{
	spf_pool_params p;
	char err[256], path[1024], ns[64];
	const char *top = getenv("top_builddir");
	const char *servers[1] = {ns};
	spf_pool_stats st;
	bool gone = true;

	(void)snprintf(path, sizeof(path), "%s/milter/%s",
		       top != NULL ? top : ".", SPF_HELPER_NAME);
	if (access(path, X_OK) != 0) {
		printf("1..0 # SKIP no helper at %s\n", path);
		return 77;
	}
	if (server_start() < 0) {
		printf("1..0 # SKIP no loopback UDP socket\n");
		return 77;
	}
	(void)snprintf(ns, sizeof(ns), "127.0.0.1:%u", srv.port);
	spf_pool_params_init(&p);
	p.helper_path = path;
	p.helpers = 2;
	p.nameservers = servers;
	p.nameserver_count = 1;
	p.dns_timeout_ms = 1000;
	p.receiver = "mx.test.example";
	pool = spf_pool_start_params(&p, err, sizeof(err));
	if (!tap_ok(pool != NULL, "pool of 2 helpers started"))
		tap_diag("%s", err);
	if (pool != NULL) {
		note_pids();
		tap_is_int((long long)nseen, 2, "  two processes");
		test_answers();
		test_kill_midway();
		test_hang();
		test_idle_death();
		test_slow_dns();
		spf_pool_get_stats(pool, &st);
		tap_ok(st.timeouts == 1 && st.deaths >= 2 && st.spawned >= 5,
		       "stats: %llu timeouts, %llu deaths, %llu spawned",
		       (unsigned long long)st.timeouts,
		       (unsigned long long)st.deaths,
		       (unsigned long long)st.spawned);
		spf_pool_stop(&pool);
		tap_ok(pool == NULL, "pool stopped");
		for (size_t i = 0; i < nseen; i++)
			gone &= kill(seen[i], 0) < 0 && errno == ESRCH;
		tap_ok(gone && nseen >= 5,
		       "no helper process left (%zu seen)", nseen);
		tap_ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
		       "no child left to reap");
	}
	p.helper_path = "/nonexistent/helper";
	tap_ok(spf_pool_start_params(&p, err, sizeof(err)) == NULL &&
	       strstr(err, "/nonexistent/helper") != NULL,
	       "a missing helper program: an error, %s", err);
	{
		spf_answer a;

		tap_is_str(spf_result_name(spf_check(NULL, "192.0.2.5", "h",
						     NULL, cv_now_ms() + 1000,
						     &a)),
			   "temperror", "no pool: temperror");
	}
	srv.stop = true;
	(void)pthread_join(srv.thread, NULL);
	(void)close(srv.fd);
	return tap_done();
}
