/*
 * test-dns-server.c - cv_dns_hosts() through real res_nquery against a
 * tiny UDP DNS server run in a thread of this test on 127.0.0.1 and ::1
 * (random ports), answering from the fake zone of dnsmsg.h.  Checks the
 * IPv4 and IPv6 name server paths, the deadline against a server that
 * never answers, failing over to the next server, and many threads
 * querying at once.  Traffic goes to loopback only; the server thread
 * is stopped and joined by the test, and lives at most SERVER_LIFE_MS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "callout.h"
#include "dnsmsg.h"
#include "tap.h"

#define SERVER_LIFE_MS	60000
#define THREADS		4
#define LOOKUPS		25

static const zrec zone_recs[] = {
	{"example.org", ns_t_mx, 10, "mx1.example.org", 0},
	{"example.org", ns_t_mx, 20, "mx2.example.org", 0},
	{"mx1.example.org", ns_t_a, 0, "192.0.2.1", 0},
	{"mx1.example.org", ns_t_aaaa, 0, "2001:db8::1", 0},
	{"mx2.example.org", ns_t_a, 0, "127.0.0.1", 0},
	{"implicit.example", ns_t_a, 0, "192.0.2.7", 0},
	{"sf.example", ns_t_mx, 0, NULL, Z_SERVFAIL},
	{"null.example", ns_t_mx, 0, ".", 0},
};
static const zone the_zone = {zone_recs, sizeof(zone_recs) /
					     sizeof(zone_recs[0]), false};

static const char *const want_example =
    "mx1.example.org/10/2001:db8::1 mx1.example.org/10/192.0.2.1";

typedef struct server {
	int fd[2];			/* 127.0.0.1, ::1 (or -1) */
	atomic_uint queries[2];
	atomic_bool stop;
	pthread_t thread;
} server;

static server srv = {.fd = {-1, -1}};
static cv_netlist *docs;

/* Read the question of a query: name (dotted) and type; -1 if bad. */
static void
server_answer(int i)
{
	unsigned char q[1500];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char name[256];
	int type;
	dmsg m;
	ssize_t n;

	n = recvfrom(srv.fd[i], q, sizeof(q), MSG_DONTWAIT,
		     (struct sockaddr *)&from, &fromlen);
	if (n <= 0 || dmsg_question(q, (size_t)n, name, sizeof(name), &type) < 0)
		return;
	srv.queries[i]++;
	if (zone_answer(&the_zone, (unsigned)(q[0] << 8 | q[1]), name, type,
			&m) < 0)
		return;
	(void)sendto(srv.fd[i], m.buf, m.len, 0, (struct sockaddr *)&from,
		     fromlen);
}

static void *
server_main(void *arg)
{
	int64_t end = cv_now_ms() + SERVER_LIFE_MS;

	(void)arg;
	while (!srv.stop && cv_now_ms() < end) {
		struct pollfd p[2] = {{srv.fd[0], POLLIN, 0},
				      {srv.fd[1], POLLIN, 0}};

		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].revents & POLLIN)
				server_answer(i);
	}
	return NULL;
}

/* A UDP socket bound to a random loopback port; its port, or 0. */
static unsigned
udp_bind(int family, int *fd_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_DGRAM, 0);

	*fd_r = -1;
	if (fd < 0)
		return 0;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		len = sizeof(struct sockaddr_in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		tap_diag("bind %s loopback: %s",
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		close(fd);
		return 0;
	}
	*fd_r = fd;
	return ntohs(family == AF_INET ?
			 ((struct sockaddr_in *)&ss)->sin_port :
			 ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* The text is per thread: check_threads() compares it from four
 * threads at once. */
static const char *
hosts_str(const cv_hostlist *l)
{
	static _Thread_local char s[4096];

	s[0] = '\0';
	for (size_t i = 0; i < l->count; i++) {
		size_t used = strlen(s);

		snprintf(s + used, sizeof(s) - used, "%s%s/%u/%s",
			 i > 0 ? " " : "", l->hosts[i].name,
			 l->hosts[i].preference, l->hosts[i].ip);
	}
	return s;
}

static cv_resolver *
resolver(const char *a, const char *b, unsigned timeout_ms)
{
	const char *servers[2] = {a, b};
	char error[CV_ERROR_MAX] = "";
	cv_resolver *r = cv_resolver_new(servers, b != NULL ? 2 : 1,
					 timeout_ms, error, sizeof(error));

	if (r == NULL)
		tap_diag("cv_resolver_new: %s", error);
	return r;
}

/* The standard lookups through one resolver. */
static void
check_lookups(cv_resolver *r, const char *what)
{
	static cv_hostlist list;
	unsigned char answer[512];
	cv_dns_status st = CV_DNS_OK;
	char name[128];
	int n;

	snprintf(name, sizeof(name), "%s: MX with A and AAAA", what);
	cv_dns_hosts(r, "example.org", docs, cv_now_ms() + 5000, NULL, NULL,
		     &list);
	tap_is_str(hosts_str(&list), want_example, name);
	tap_is_int(list.skipped, 1, "  127.0.0.1 skipped");
	cv_dns_hosts(r, "implicit.example", docs, cv_now_ms() + 5000, NULL,
		     NULL, &list);
	tap_is_str(hosts_str(&list), "implicit.example/0/192.0.2.7",
		   "  implicit MX");
	cv_dns_hosts(r, "nx.example", docs, cv_now_ms() + 5000, NULL, NULL,
		     &list);
	tap_is_str(cv_dns_status_name(list.status),
		   cv_dns_status_name(CV_DNS_NXDOMAIN), "  NXDOMAIN");
	cv_dns_hosts(r, "null.example", docs, cv_now_ms() + 5000, NULL, NULL,
		     &list);
	tap_is_str(cv_dns_status_name(list.status),
		   cv_dns_status_name(CV_DNS_NULLMX), "  null MX");
	cv_dns_hosts(r, "sf.example", docs, cv_now_ms() + 5000, NULL, NULL,
		     &list);
	tap_is_str(cv_dns_status_name(list.status),
		   cv_dns_status_name(CV_DNS_TEMP), "  SERVFAIL");
	n = cv_dns_query(r, "mx1.example.org", ns_t_aaaa, answer,
			 sizeof(answer), cv_now_ms() + 5000, &st);
	tap_ok(n > 12 && st == CV_DNS_OK, "  cv_dns_query (%d)", n);
	n = cv_dns_query(r, "example.org", ns_t_a, answer, sizeof(answer),
			 cv_now_ms() + 5000, &st);
	tap_ok(n == -1 && st == CV_DNS_NODATA, "  cv_dns_query NODATA");
}

/* A server that never answers: TEMP, and no later than allowed. */
static void
check_timeout(const char *silent, int64_t budget)
{
	static cv_hostlist list;
	cv_resolver *r = resolver(silent, NULL, 5000);
	int64_t start = cv_now_ms(), elapsed;

	cv_dns_hosts(r, "example.org", docs, start + budget, NULL, NULL,
		     &list);
	elapsed = cv_now_ms() - start;
	tap_is_str(cv_dns_status_name(list.status),
		   cv_dns_status_name(CV_DNS_TEMP), "silent server: TEMP");
	tap_ok(elapsed < budget + 500,
	       "  done %lld ms after start, deadline %lld (+500)",
	       (long long)elapsed, (long long)budget);
	tap_ok(elapsed >= 900, "  it did wait (%lld ms)", (long long)elapsed);
	cv_resolver_free(&r);
}

static void *
thread_main(void *arg)
{
	cv_resolver *r = arg;
	static _Thread_local cv_hostlist list;
	uintptr_t good = 0;

	for (int i = 0; i < LOOKUPS; i++) {
		cv_dns_hosts(r, "example.org", docs, cv_now_ms() + 5000, NULL,
			     NULL, &list);
		if (list.status == CV_DNS_OK &&
		    strcmp(hosts_str(&list), want_example) == 0)
			good++;
	}
	return (void *)good;
}

static void
check_threads(cv_resolver *r)
{
	pthread_t t[THREADS];
	uintptr_t good = 0;
	int started = 0;

	for (; started < THREADS; started++)
		if (pthread_create(&t[started], NULL, thread_main, r) != 0)
			break;
	for (int i = 0; i < started; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		good += (uintptr_t)ret;
	}
	tap_is_int((long long)good, THREADS * LOOKUPS,
		   "threads querying at once all succeed");
}

int
main(void)
{
	char a4[64], a6[64], silent[64];
	char error[CV_ERROR_MAX];
	unsigned p4, p6, ps;
	int silent_fd;
	cv_resolver *r;

	docs = cv_netlist_new();
	cv_netlist_add(docs, "192.0.2.0/24", error, sizeof(error));
	cv_netlist_add(docs, "2001:db8::/32", error, sizeof(error));
	p4 = udp_bind(AF_INET, &srv.fd[0]);
	ps = udp_bind(AF_INET, &silent_fd);
	if (p4 == 0 || ps == 0) {
		tap_diag("no IPv4 loopback: cannot run");
		return 77;
	}
	p6 = udp_bind(AF_INET6, &srv.fd[1]);
	if (p6 == 0)
		tap_diag("::1 unavailable: the IPv6 server part is skipped");
	if (pthread_create(&srv.thread, NULL, server_main, NULL) != 0) {
		printf("Bail out! pthread_create\n");
		return 1;
	}
	snprintf(a4, sizeof(a4), "127.0.0.1:%u", p4);
	snprintf(a6, sizeof(a6), "[::1]:%u", p6);
	snprintf(silent, sizeof(silent), "127.0.0.1:%u", ps);

	r = resolver(a4, NULL, 2000);
	check_lookups(r, "IPv4 server");
	tap_ok(srv.queries[0] > 0 && srv.queries[1] == 0,
	       "  asked 127.0.0.1 only (%u, %u)", srv.queries[0],
	       srv.queries[1]);
	check_threads(r);
	cv_resolver_free(&r);

	if (p6 != 0) {
		unsigned before = srv.queries[0];

		r = resolver(a6, NULL, 2000);
		check_lookups(r, "IPv6 server");
		tap_ok(srv.queries[1] > 0 && srv.queries[0] == before,
		       "  asked ::1 only (%u, %u)", srv.queries[0] - before,
		       srv.queries[1]);
		cv_resolver_free(&r);
		/* switching between IPv4 and IPv6 servers within a query */
		r = resolver(silent, a6, 1000);
		check_lookups(r, "silent IPv4, then IPv6 server");
		cv_resolver_free(&r);
	}

	check_timeout(silent, 2000);
	check_timeout(silent, 1500);
	{
		static cv_hostlist list;
		int64_t start = cv_now_ms(), elapsed;

		r = resolver(silent, a4, 1000);
		cv_dns_hosts(r, "example.org", docs, start + 5000, NULL, NULL,
			     &list);
		elapsed = cv_now_ms() - start;
		tap_is_str(hosts_str(&list), want_example,
			   "silent server, then a good one");
		tap_ok(elapsed >= 900 && elapsed < 2500,
		       "  one attempt timed out (%lld ms)",
		       (long long)elapsed);
		cv_resolver_free(&r);
	}

	srv.stop = true;
	pthread_join(srv.thread, NULL);
	close(srv.fd[0]);
	if (srv.fd[1] >= 0)
		close(srv.fd[1]);
	close(silent_fd);
	cv_netlist_free(&docs);
	return tap_done();
}
