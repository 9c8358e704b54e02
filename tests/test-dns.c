/*
 * test-dns.c - cv_dns_hosts() and cv_dns_query() through the query hook:
 * answers come from a fake zone (dnsmsg.h) or from hand-made broken
 * packets; no server, no network.  test-dns-server.c does the same
 * through real res_nquery against a loopback server.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callout.h"
#include "dnsmsg.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct hook {
	zone z;
	unsigned queries;
	int raw_type;			/* answer this type with raw[] */
	const unsigned char *raw;
	size_t raw_len;
} hook;

static hook fake;
static cv_resolver *res;
static cv_netlist *docs;		/* 192.0.2.0/24, 2001:db8::/32 */
static cv_hostlist list;
static char trace_buf[32768];

static int
hook_query(void *ctx, const char *name, int type, unsigned char *answer,
	   size_t size, cv_dns_status *status_r)
{
	hook *h = ctx;
	dmsg m;

	h->queries++;
	if (h->raw != NULL && type == h->raw_type) {
		size_t n = h->raw_len < size ? h->raw_len : size;

		memcpy(answer, h->raw, n);
		return (int)n;
	}
	if (zone_answer(&h->z, 0, name, type, &m) < 0 || m.len > size) {
		*status_r = CV_DNS_TEMP;
		return -1;
	}
	memcpy(answer, m.buf, m.len);
	return (int)m.len;
}

static void
trace_fn(void *ctx, char dir, const char *line)
{
	size_t used = strlen(trace_buf);

	(void)ctx;
	snprintf(trace_buf + used, sizeof(trace_buf) - used, "%c %s\n", dir,
		 line);
}

static bool
traced(const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "# %s\n", line);
	if (strstr(trace_buf, want) != NULL)
		return true;
	tap_diag("trace has no line \"%s\"; trace:\n%s", line, trace_buf);
	return false;
}

/* The hosts as "name/pref/ip name/pref/ip ...". */
static const char *
hosts_str(const cv_hostlist *l)
{
	static char s[8192];

	s[0] = '\0';
	for (size_t i = 0; i < l->count; i++) {
		size_t used = strlen(s);

		snprintf(s + used, sizeof(s) - used, "%s%s/%u/%s",
			 i > 0 ? " " : "", l->hosts[i].name,
			 l->hosts[i].preference, l->hosts[i].ip);
	}
	return s;
}

static void
run(const zrec *recs, size_t n, const char *domain, const cv_netlist *allow)
{
	fake.z.recs = recs;
	fake.z.count = n;
	fake.queries = 0;
	trace_buf[0] = '\0';
	tap_is_int(cv_dns_hosts(res, domain, allow, cv_now_ms() + 5000,
				trace_fn, NULL, &list),
		   0, domain);
}

static void
expect(cv_dns_status status, const char *message, const char *hosts,
       const char *name)
{
	tap_is_str(cv_dns_status_name(list.status),
		   cv_dns_status_name(status), name);
	tap_is_str(list.message, message, "  message");
	tap_is_str(hosts_str(&list), hosts, "  hosts");
}

static void
test_order(void)
{
	static const zrec z[] = {
		{"example.org", ns_t_mx, 20, "mx2.example.org", 0},
		{"example.org", ns_t_mx, 10, "MX1.Example.ORG", 0},
		{"example.org", ns_t_mx, 30, "mx3.example.org", 0},
		{"mx1.example.org", ns_t_a, 0, "192.0.2.1", 0},
		{"mx1.example.org", ns_t_aaaa, 0, "2001:db8::1", 0},
		{"mx2.example.org", ns_t_a, 0, "192.0.2.2", 0},
		{"mx2.example.org", ns_t_a, 0, "192.0.2.1", 0},	/* dup */
		{"mx3.example.org", ns_t_aaaa, 0, "2001:db8::3", 0},
	};
	char ip[CV_IPSTR_MAX] = "";
	const struct sockaddr_in6 *sin6;

	run(z, N(z), "Example.ORG.", docs);
	expect(CV_DNS_OK, "",
	       "mx1.example.org/10/2001:db8::1 mx1.example.org/10/192.0.2.1 "
	       "mx2.example.org/20/192.0.2.2 mx3.example.org/30/2001:db8::3",
	       "MX sorted by preference, AAAA before A, duplicates dropped");
	tap_ok(traced("MX example.org: 10 mx1.example.org"), "trace MX");
	tap_ok(traced("A mx1.example.org: 192.0.2.1"), "trace A");
	tap_ok(traced("AAAA mx1.example.org: 2001:db8::1"), "trace AAAA");
	sin6 = (const struct sockaddr_in6 *)&list.hosts[0].addr;
	tap_is_int(list.hosts[0].addrlen, sizeof(struct sockaddr_in6),
		   "IPv6 addrlen");
	tap_is_int(sin6->sin6_family, AF_INET6, "IPv6 family");
	tap_is_int(sin6->sin6_port, 0, "port not set");
	inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
	tap_is_str(ip, "2001:db8::1", "address matches ip");
	tap_is_int(list.hosts[1].addrlen, sizeof(struct sockaddr_in),
		   "IPv4 addrlen");
	tap_is_int(list.skipped, 0, "nothing skipped");
	/* without the allow-list the documentation range is refused */
	run(z, N(z), "example.org", NULL);
	expect(CV_DNS_NOHOSTS,
	       "all relevant MX records point to non-existent hosts", "",
	       "documentation addresses are reserved");
	tap_is_int(list.skipped, 5, "five addresses skipped");
	tap_ok(traced("mx1.example.org [192.0.2.1] skipped: reserved address"),
	       "trace skip");
}

static void
test_shuffle(void)
{
	static const zrec z[] = {
		{"shuffle.example", ns_t_mx, 5, "first.example", 0},
		{"shuffle.example", ns_t_mx, 10, "a.example", 0},
		{"shuffle.example", ns_t_mx, 10, "b.example", 0},
		{"shuffle.example", ns_t_mx, 10, "c.example", 0},
		{"shuffle.example", ns_t_mx, 20, "last.example", 0},
		{"first.example", ns_t_a, 0, "192.0.2.5", 0},
		{"a.example", ns_t_a, 0, "192.0.2.10", 0},
		{"b.example", ns_t_a, 0, "192.0.2.11", 0},
		{"c.example", ns_t_a, 0, "192.0.2.12", 0},
		{"last.example", ns_t_a, 0, "192.0.2.20", 0},
	};
	unsigned first[3] = {0, 0, 0};
	bool fixed_ok = true;
	int trials = 300;

	fake.z.recs = z;
	fake.z.count = N(z);
	for (int i = 0; i < trials; i++) {
		cv_dns_hosts(res, "shuffle.example", docs, cv_now_ms() + 5000,
			     NULL, NULL, &list);
		if (list.count != 5 ||
		    strcmp(list.hosts[0].name, "first.example") != 0 ||
		    strcmp(list.hosts[4].name, "last.example") != 0)
			fixed_ok = false;
		else
			first[list.hosts[1].name[0] - 'a']++;
	}
	tap_ok(fixed_ok, "different preferences never move");
	/* each of a, b, c leads with p = 1/3; P(never) < 1e-50 */
	tap_ok(first[0] > 0 && first[1] > 0 && first[2] > 0,
	       "each equal-preference host comes first sometimes "
	       "(%u %u %u of %d)", first[0], first[1], first[2], trials);
	tap_is_int(first[0] + first[1] + first[2], trials, "all counted");
}

static void
test_implicit(void)
{
	static const zrec z[] = {
		{"implicit.example", ns_t_a, 0, "192.0.2.7", 0},
		{"implicit.example", ns_t_aaaa, 0, "2001:db8::7", 0},
		{"empty.example", ns_t_txt, 0, NULL, 0},
		{"v6only.example", ns_t_mx, 10, "mx.v6only.example", 0},
		{"mx.v6only.example", ns_t_aaaa, 0, "2001:db8::66", 0},
		{"local.example", ns_t_a, 0, "127.0.0.1", 0},
	};

	run(z, N(z), "implicit.example", docs);
	expect(CV_DNS_OK, "",
	       "implicit.example/0/2001:db8::7 implicit.example/0/192.0.2.7",
	       "no MX: implicit MX from AAAA and A");
	tap_ok(traced("MX implicit.example: NODATA"), "trace NODATA");
	run(z, N(z), "empty.example", docs);
	expect(CV_DNS_NODATA, "Unrouteable address", "",
	       "no MX, no address records");
	run(z, N(z), "v6only.example", docs);
	expect(CV_DNS_OK, "", "mx.v6only.example/10/2001:db8::66",
	       "IPv6-only MX");
	run(z, N(z), "local.example", NULL);
	expect(CV_DNS_NOHOSTS,
	       "all relevant MX records point to non-existent hosts", "",
	       "implicit MX at 127.0.0.1 refused");
}

static void
test_failures(void)
{
	static const zrec z[] = {
		{"null.example", ns_t_mx, 0, ".", 0},
		{"notnull.example", ns_t_mx, 0, ".", 0},
		{"notnull.example", ns_t_mx, 10, "mx.notnull.example", 0},
		{"mx.notnull.example", ns_t_a, 0, "192.0.2.9", 0},
		{"sf.example", ns_t_mx, 0, NULL, Z_SERVFAIL},
		{"ref.example", ns_t_mx, 0, NULL, Z_REFUSED},
		{"slow.example", ns_t_mx, 0, NULL, Z_TIMEOUT},
		{"sfa.example", ns_t_a, 0, NULL, Z_SERVFAIL},
	};

	run(z, N(z), "null.example", docs);
	expect(CV_DNS_NULLMX, "an MX or SRV record indicated no SMTP service",
	       "", "null MX");
	tap_is_int(fake.queries, 1, "null MX: no address lookups");
	run(z, N(z), "notnull.example", docs);
	expect(CV_DNS_OK, "", "mx.notnull.example/10/192.0.2.9",
	       "MX 0 . beside a real MX is ignored");
	run(z, N(z), "nx.example", docs);
	expect(CV_DNS_NXDOMAIN, "Unrouteable address", "", "NXDOMAIN");
	tap_ok(traced("MX nx.example: NXDOMAIN"), "trace NXDOMAIN");
	tap_is_int(fake.queries, 1, "NXDOMAIN: one query");
	run(z, N(z), "sf.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "", "SERVFAIL");
	run(z, N(z), "ref.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "", "REFUSED");
	run(z, N(z), "slow.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "", "timeout");
	/* implicit MX whose A lookup fails */
	run(z, N(z), "sfa.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "",
	       "implicit MX, A SERVFAIL");
	/* a deadline already past: no query at all */
	fake.queries = 0;
	cv_dns_hosts(res, "null.example", docs, cv_now_ms() - 1, NULL, NULL,
		     &list);
	expect(CV_DNS_TEMP, "host lookup did not complete", "",
	       "deadline passed");
	tap_is_int(fake.queries, 0, "  no query made");
}

static void
test_cname(void)
{
	static const zrec z[] = {
		{"alias.example", ns_t_cname, 0, "c1.example", 0},
		{"c1.example", ns_t_cname, 0, "real.example", 0},
		{"real.example", ns_t_mx, 10, "mxalias.example", 0},
		{"mxalias.example", ns_t_cname, 0, "mx.real.example", 0},
		{"mx.real.example", ns_t_a, 0, "192.0.2.30", 0},
		/* l0 -> l1 -> ... -> l8 (8 links) -> final */
		{"l0.example", ns_t_cname, 0, "l1.example", 0},
		{"l1.example", ns_t_cname, 0, "l2.example", 0},
		{"l2.example", ns_t_cname, 0, "l3.example", 0},
		{"l3.example", ns_t_cname, 0, "l4.example", 0},
		{"l4.example", ns_t_cname, 0, "l5.example", 0},
		{"l5.example", ns_t_cname, 0, "l6.example", 0},
		{"l6.example", ns_t_cname, 0, "l7.example", 0},
		{"l7.example", ns_t_cname, 0, "l8.example", 0},
		{"l8.example", ns_t_cname, 0, "final.example", 0},
		{"final.example", ns_t_mx, 10, "mx.real.example", 0},
		{"loop1.example", ns_t_cname, 0, "loop2.example", 0},
		{"loop2.example", ns_t_cname, 0, "loop1.example", 0},
	};

	run(z, N(z), "alias.example", docs);
	expect(CV_DNS_OK, "", "mxalias.example/10/192.0.2.30",
	       "CNAME chain to the MX, and an MX host behind a CNAME");
	tap_ok(traced("CNAME alias.example: c1.example"), "trace CNAME");
	tap_ok(traced("MX real.example: 10 mxalias.example"),
	       "trace MX of the target");
	run(z, N(z), "l1.example", docs);
	expect(CV_DNS_OK, "", "mx.real.example/10/192.0.2.30",
	       "8 CNAME links are followed");
	run(z, N(z), "l0.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "",
	       "9 CNAME links are too many");
	tap_ok(traced("CNAME chain longer than 8"), "trace chain too long");
	run(z, N(z), "loop1.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "", "CNAME loop");
	/* a resolver that leaves the following to us */
	fake.z.nofollow = true;
	run(z, N(z), "alias.example", docs);
	fake.z.nofollow = false;
	expect(CV_DNS_OK, "", "mxalias.example/10/192.0.2.30",
	       "CNAME-only answers are asked again for the target");
	tap_is_int(fake.queries, 3 + 2 + 2, "  queries: 3 MX, 2 AAAA, 2 A");
}

static void
test_hosts(void)
{
	static const zrec z[] = {
		{"lit.example", ns_t_mx, 10, "192.0.2.1", 0},
		{"lit6.example", ns_t_mx, 10, "2001:db8::1", 0},
		{"litok.example", ns_t_mx, 10, "192.0.2.1", 0},
		{"litok.example", ns_t_mx, 20, "mx.litok.example", 0},
		{"mx.litok.example", ns_t_a, 0, "192.0.2.40", 0},
		{"ghost.example", ns_t_mx, 10, "gone.example", 0},
		{"ghost.example", ns_t_mx, 20, "noaddr.example", 0},
		{"noaddr.example", ns_t_txt, 0, NULL, 0},
		{"half.example", ns_t_mx, 10, "gone.example", 0},
		{"half.example", ns_t_mx, 20, "mx.half.example", 0},
		{"mx.half.example", ns_t_a, 0, "192.0.2.41", 0},
		{"lo.example", ns_t_mx, 10, "localhost.lo.example", 0},
		{"localhost.lo.example", ns_t_a, 0, "127.0.0.1", 0},
		{"localhost.lo.example", ns_t_aaaa, 0, "::1", 0},
		{"tmp.example", ns_t_mx, 10, "broken.tmp.example", 0},
		{"tmp.example", ns_t_mx, 20, "ok.tmp.example", 0},
		{"broken.tmp.example", ns_t_a, 0, NULL, Z_SERVFAIL},
		{"broken.tmp.example", ns_t_aaaa, 0, NULL, Z_TIMEOUT},
		{"ok.tmp.example", ns_t_a, 0, "192.0.2.42", 0},
		{"alltmp.example", ns_t_mx, 10, "broken.tmp.example", 0},
		{"alltmp.example", ns_t_mx, 20, "gone.example", 0},
	};
	cv_netlist *lo = cv_netlist_new();
	char error[CV_ERROR_MAX];

	run(z, N(z), "lit.example", docs);
	expect(CV_DNS_NOHOSTS,
	       "all relevant MX records point to non-existent hosts or "
	       "(invalidly) to IP addresses",
	       "", "MX naming an IPv4 address");
	tap_is_int(fake.queries, 1, "  the literal is not looked up");
	run(z, N(z), "lit6.example", docs);
	tap_is_str(cv_dns_status_name(list.status), "nohosts",
		   "MX naming an IPv6 address");
	run(z, N(z), "litok.example", docs);
	expect(CV_DNS_OK, "", "mx.litok.example/20/192.0.2.40",
	       "IP-literal MX skipped, the other used");
	run(z, N(z), "ghost.example", docs);
	expect(CV_DNS_NOHOSTS,
	       "all relevant MX records point to non-existent hosts", "",
	       "MX hosts without addresses");
	tap_ok(traced("A gone.example: NXDOMAIN"), "trace host NXDOMAIN");
	run(z, N(z), "half.example", docs);
	expect(CV_DNS_OK, "", "mx.half.example/20/192.0.2.41",
	       "MX host without addresses skipped");
	run(z, N(z), "lo.example", NULL);
	expect(CV_DNS_NOHOSTS,
	       "all relevant MX records point to non-existent hosts", "",
	       "MX at 127.0.0.1 and ::1 refused");
	tap_is_int(list.skipped, 2, "  two skipped");
	cv_netlist_add(lo, "127.0.0.0/8", error, sizeof(error));
	run(z, N(z), "lo.example", lo);
	expect(CV_DNS_OK, "", "localhost.lo.example/10/127.0.0.1",
	       "127.0.0.1 allowed by the list, ::1 still refused");
	tap_is_int(list.skipped, 1, "  one skipped");
	run(z, N(z), "tmp.example", docs);
	expect(CV_DNS_OK, "", "ok.tmp.example/20/192.0.2.42",
	       "one MX temporarily failing, another works");
	run(z, N(z), "alltmp.example", docs);
	expect(CV_DNS_TEMP, "host lookup did not complete", "",
	       "one MX temporarily failing, the other nonexistent");
	cv_netlist_free(&lo);
}

static void
test_caps(void)
{
	static char names[40][32];
	static char ips[40][3][16];
	static zrec z[200];
	size_t n = 0;
	char want[4096] = "";

	/* 20 MX records, preferences 100 down to 81, 3 addresses each */
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "mx%02d.big.example", i);
		z[n++] = (zrec){"big.example", ns_t_mx, 100u - (unsigned)i,
				names[i], 0};
		for (int j = 0; j < 3; j++) {
			snprintf(ips[i][j], sizeof(ips[i][j]), "192.0.2.%d",
				 i * 3 + j + 1);
			z[n++] = (zrec){names[i], ns_t_a, 0, ips[i][j], 0};
		}
	}
	run(z, n, "big.example", docs);
	tap_is_str(cv_dns_status_name(list.status), "ok", "many MX: ok");
	tap_is_int(list.count, CV_HOSTS_MAX, "capped at CV_HOSTS_MAX");
	tap_is_str(list.hosts[0].name, "mx19.big.example",
		   "lowest preference first");
	tap_is_int(list.hosts[CV_HOSTS_MAX - 1].preference, 91,
		   "last kept preference");
	tap_ok(fake.queries <= 1 + 2 * 11, "no lookups once full (%u)",
	       fake.queries);
	/* one address each: only the 16 most preferred MX are used */
	n = 0;
	for (int i = 0; i < 20; i++) {
		z[n++] = (zrec){"big.example", ns_t_mx, 100u - (unsigned)i,
				names[i], 0};
		z[n++] = (zrec){names[i], ns_t_a, 0, ips[i][0], 0};
	}
	for (int i = 19; i >= 4; i--) {
		size_t used = strlen(want);

		snprintf(want + used, sizeof(want) - used, "%s%s/%d/%s",
			 i < 19 ? " " : "", names[i], 100 - i, ips[i][0]);
	}
	run(z, n, "big.example", docs);
	expect(CV_DNS_OK, "", want, "at most 16 MX records considered");
}

/* Random damage to a good packet: any status, but a sane one. */
static void
test_fuzz(const dmsg *good, const zrec *z, size_t nz)
{
	dmsg m;

	srand(42);
	fake.raw_type = ns_t_mx;
	for (int i = 0; i < 3000; i++) {
		bool sane;

		m = *good;
		for (int k = rand() % 4; k >= 0; k--)
			m.buf[(size_t)rand() % good->len] = (unsigned char)rand();
		if (rand() % 3 == 0)
			m.len = (size_t)rand() % good->len;
		fake.raw = m.buf;
		fake.raw_len = m.len;
		fake.z.recs = z;
		fake.z.count = nz;
		trace_buf[0] = '\0';
		cv_dns_hosts(res, "bad.example", docs, cv_now_ms() + 5000,
			     trace_fn, NULL, &list);
		sane = list.status <= CV_DNS_TEMP &&
		       list.count <= CV_HOSTS_MAX &&
		       memchr(list.message, 0, sizeof(list.message)) != NULL;
		/* report every 500th, and any failure */
		if ((!sane || i % 500 == 499) &&
		    !tap_ok(sane, "fuzz %d: sane result", i))
			break;
	}
	fake.raw = NULL;
}

/* Broken packets: a temporary failure, never a crash. */
static void
test_garbage(void)
{
	static const zrec z[] = {
		{"bad.example", ns_t_mx, 10, "mx.bad.example", 0},
		{"mx.bad.example", ns_t_a, 0, "192.0.2.50", 0},
		{"mx.bad.example", ns_t_aaaa, 0, "2001:db8::50", 0},
	};
	dmsg good, m;
	size_t rd;

	dmsg_start(&good, 0, DMSG_QR | DMSG_RD | DMSG_RA, "bad.example",
		   ns_t_mx);
	dmsg_mx(&good, "bad.example", 10, "mx.bad.example");
	fake.raw_type = ns_t_mx;
	fake.raw = good.buf;
	fake.raw_len = good.len;
	run(z, N(z), "bad.example", docs);
	expect(CV_DNS_OK, "",
	       "mx.bad.example/10/2001:db8::50 mx.bad.example/10/192.0.2.50",
	       "raw: the well-formed packet works");

	/* each variant below breaks the good packet one way */
	for (int v = 0; v < 10; v++) {
		static const char *const what[] = {
			"5-octet packet", "answer count past the end",
			"MX rdata of one octet", "name label past the end",
			"compression pointer to itself",
			"compression pointer past the end", "TC set",
			"rcode FORMERR", "qdcount 5", "rdlength past the end",
		};

		m = good;
		rd = good.len - 16 - 2 - 2; /* RDLENGTH of the MX */
		switch (v) {
		case 0: m.len = 5; break;
		case 1: dmsg_set16(&m, 6, 2); break;
		case 2: dmsg_set16(&m, rd, 1); m.len = rd + 3; break;
		case 3: m.buf[rd + 4] = 60; break;
		case 4: m.buf[rd + 4] = 0xc0;
			m.buf[rd + 5] = (unsigned char)(rd + 4); break;
		case 5: m.buf[rd + 4] = 0xc0 | 0x0f; m.buf[rd + 5] = 0xff;
			break;
		case 6: dmsg_set16(&m, 2, DMSG_QR | DMSG_TC); break;
		case 7: dmsg_set16(&m, 2, DMSG_QR | ns_r_formerr); break;
		case 8: dmsg_set16(&m, 4, 5); break;
		case 9: dmsg_set16(&m, rd, 300); break;
		}
		fake.raw = m.buf;
		fake.raw_len = m.len;
		run(z, N(z), "bad.example", docs);
		expect(CV_DNS_TEMP, "host lookup did not complete", "",
		       what[v]);
	}

	/* a well-formed compressed MX target pointing at the question */
	m = good;
	m.len = rd;
	dmsg_u16(&m, 4);
	dmsg_u16(&m, 10);
	dmsg_u16(&m, 0xc000 | 12);
	fake.raw = m.buf;
	fake.raw_len = m.len;
	run(z, N(z), "bad.example", docs);
	tap_is_str(cv_dns_status_name(list.status), "nohosts",
		   "compressed MX target = the domain (no addresses)");
	tap_ok(traced("MX bad.example: 10 bad.example"),
	       "  target expanded from the compression pointer");

	/* A record of five octets */
	fake.raw = NULL;
	fake.raw_type = ns_t_a;
	dmsg_start(&m, 0, DMSG_QR, "mx.bad.example", ns_t_a);
	rd = dmsg_rr_begin(&m, "mx.bad.example", ns_t_a);
	dmsg_put(&m, "\xc0\x00\x02\x32\x00", 5);
	dmsg_rr_end(&m, rd);
	fake.raw = m.buf;
	fake.raw_len = m.len;
	run(z, N(z), "bad.example", docs);
	expect(CV_DNS_OK, "", "mx.bad.example/10/2001:db8::50",
	       "bad A record: the AAAA still counts");

	test_fuzz(&good, z, N(z));
	fake.raw = NULL;
}

static void
test_query(void)
{
	static const zrec z[] = {
		{"q.example", ns_t_a, 0, "192.0.2.60", 0},
		{"q.example", ns_t_txt, 0, NULL, 0},
		{"sf.example", ns_t_a, 0, NULL, Z_SERVFAIL},
	};
	unsigned char answer[512];
	cv_dns_status st = CV_DNS_OK;
	int64_t deadline = cv_now_ms() + 5000;
	int n;

	fake.z.recs = z;
	fake.z.count = N(z);
	n = cv_dns_query(res, "q.example", ns_t_a, answer, sizeof(answer),
			 deadline, &st);
	tap_ok(n > 12, "cv_dns_query answer length %d", n);
	tap_is_int(st, CV_DNS_OK, "  status ok");
	n = cv_dns_query(res, "q.example", ns_t_mx, answer, sizeof(answer),
			 deadline, &st);
	tap_is_int(n, -1, "NODATA: -1");
	tap_is_int(st, CV_DNS_NODATA, "  status NODATA");
	n = cv_dns_query(res, "none.example", ns_t_a, answer, sizeof(answer),
			 deadline, &st);
	tap_is_int(st, CV_DNS_NXDOMAIN, "NXDOMAIN from the rcode");
	n = cv_dns_query(res, "sf.example", ns_t_a, answer, sizeof(answer),
			 deadline, &st);
	tap_is_int(st, CV_DNS_TEMP, "SERVFAIL -> TEMP");
	n = cv_dns_query(res, "q.example", ns_t_a, answer, 20, deadline, &st);
	tap_is_int(n, -1, "answer too big for the buffer");
	tap_is_int(st, CV_DNS_TEMP, "  TEMP");
	tap_is_int(cv_dns_query(NULL, "q.example", ns_t_a, answer,
				sizeof(answer), deadline, &st),
		   -1, "NULL resolver");
	tap_is_int(cv_dns_hosts(NULL, "q.example", NULL, deadline, NULL,
				NULL, &list),
		   -1, "cv_dns_hosts: NULL resolver");
	tap_is_int(cv_dns_hosts(res, "", NULL, deadline, NULL, NULL, &list),
		   -1, "cv_dns_hosts: empty domain");
	tap_is_int(cv_dns_hosts(res, "q.example", NULL, deadline, NULL, NULL,
				NULL),
		   -1, "cv_dns_hosts: no list");
}

static void
test_resolver_new(void)
{
	static const struct {
		const char *server;
		const char *error;	/* NULL: accepted */
	} cases[] = {
		{"127.0.0.1", NULL}, {"127.0.0.1:5353", NULL},
		{"::1", NULL}, {"[::1]", NULL}, {"[::1]:53", NULL},
		{"2001:db8::53", NULL}, {"[2001:db8::53]:65535", NULL},
		{"127.0.0.1:0", "bad port in name server \"127.0.0.1:0\""},
		{"127.0.0.1:65536",
		 "bad port in name server \"127.0.0.1:65536\""},
		{"127.0.0.1:x", "bad port in name server \"127.0.0.1:x\""},
		{"127.0.0.1:", "bad port in name server \"127.0.0.1:\""},
		{"[::1", "bad name server \"[::1\""},
		{"[::1]x", "bad name server \"[::1]x\""},
		{"", "bad name server \"\""},
		{"ns.example.org",
		 "name server \"ns.example.org\" is not an IP address"},
		{"[127.0.0.1]:53", NULL},
		{"[ns.example]:53",
		 "name server \"[ns.example]:53\" is not an IP address"},
	};
	const char *many[9] = {"127.0.0.1", "127.0.0.1", "127.0.0.1",
			       "127.0.0.1", "127.0.0.1", "127.0.0.1",
			       "127.0.0.1", "127.0.0.1", "127.0.0.1"};
	char error[CV_ERROR_MAX];
	cv_resolver *r;

	for (size_t i = 0; i < N(cases); i++) {
		const char *one[1] = {cases[i].server};

		error[0] = '\0';
		r = cv_resolver_new(one, 1, 1000, error, sizeof(error));
		tap_ok((r != NULL) == (cases[i].error == NULL), "%s: %s",
		       cases[i].server, r != NULL ? "accepted" : "refused");
		if (cases[i].error != NULL)
			tap_is_str(error, cases[i].error, "  reason");
		cv_resolver_free(&r);
	}
	r = cv_resolver_new(many, 9, 1000, error, sizeof(error));
	tap_ok(r == NULL, "nine servers are too many");
	r = cv_resolver_new(many, 8, 1000, error, sizeof(error));
	tap_ok(r != NULL, "eight are fine");
	cv_resolver_free(&r);
	tap_ok(r == NULL, "cv_resolver_free clears the pointer");
	cv_resolver_free(&r);
}

int
main(void)
{
	char error[CV_ERROR_MAX];

	res = cv_resolver_new(NULL, 0, 1000, error, sizeof(error));
	docs = cv_netlist_new();
	if (res == NULL || docs == NULL ||
	    cv_netlist_add(docs, "192.0.2.0/24", error, sizeof(error)) < 0 ||
	    cv_netlist_add(docs, "2001:db8::/32", error, sizeof(error)) < 0) {
		printf("Bail out! setup: %s\n", error);
		return 1;
	}
	cv_resolver_set_query(res, hook_query, &fake);
	test_order();
	test_shuffle();
	test_implicit();
	test_failures();
	test_cname();
	test_hosts();
	test_caps();
	test_garbage();
	test_query();
	test_resolver_new();
	cv_resolver_free(&res);
	cv_netlist_free(&docs);
	return tap_done();
}
