/*
 * test-netlist.c - CIDR parsing and matching, and every boundary of the
 * reserved ranges of cv_addr_reserved().
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "callout.h"
#include "tap.h"

/* Fill ss from a printable address; false if it does not parse. */
static bool
make_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static void
check_reserved(const char *text, bool want)
{
	struct sockaddr_storage ss;

	if (!make_addr(text, &ss)) {
		tap_ok(false, "test address %s parses", text);
		return;
	}
	if (!tap_ok(cv_addr_reserved((struct sockaddr *)&ss) == want,
		    "%s is %s", text, want ? "reserved" : "not reserved"))
		tap_diag("  wrong answer for %s", text);
}

static bool
list_match(const cv_netlist *list, const char *text)
{
	struct sockaddr_storage ss;

	if (!make_addr(text, &ss))
		return false;
	return cv_netlist_match(list, (struct sockaddr *)&ss);
}

static void
test_parse(void)
{
	static const char *const good[] = {
		"192.0.2.0/24", "192.0.2.1", "0.0.0.0/0", "10.1.2.3/32",
		"2001:db8::/32", "::1", "::/0", "::ffff:192.0.2.0/120",
		"fe80::1/128", "192.0.2.77/24",
	};
	static const struct {
		const char *text;
		const char *error;
	} bad[] = {
		{"192.0.2.0/33",
		 "bad prefix length \"33\" (0-32) in \"192.0.2.0/33\""},
		{"2001:db8::/129",
		 "bad prefix length \"129\" (0-128) in \"2001:db8::/129\""},
		{"192.0.2.0/", "bad prefix length \"\" (0-32) in \"192.0.2.0/\""},
		{"192.0.2.0/-1",
		 "bad prefix length \"-1\" (0-32) in \"192.0.2.0/-1\""},
		{"192.0.2.0/24x",
		 "bad prefix length \"24x\" (0-32) in \"192.0.2.0/24x\""},
		{"192.0.2.0/024",
		 "bad prefix length \"024\" (0-32) in \"192.0.2.0/024\""},
		{"192.0.2.0/24/8",
		 "bad prefix length \"24/8\" (0-32) in \"192.0.2.0/24/8\""},
		{"192.0.2", "\"192.0.2\" is not an IPv4 or IPv6 address"},
		{"256.0.0.0", "\"256.0.0.0\" is not an IPv4 or IPv6 address"},
		{"example.org",
		 "\"example.org\" is not an IPv4 or IPv6 address"},
		{"", "\"\" is not an IPv4 or IPv6 address"},
		{" 192.0.2.1", "\" 192.0.2.1\" is not an IPv4 or IPv6 address"},
		{"/24", "\"\" is not an IPv4 or IPv6 address"},
		{"2001:db8:::1", "\"2001:db8:::1\" is not an IPv4 or IPv6 address"},
		{"192.0.2.1/8888888888888888888888888888888888888888888888888888"
		 "88888888888888",
		 "network too long"},
	};
	cv_netlist *list = cv_netlist_new();
	char error[CV_ERROR_MAX];

	tap_ok(list != NULL, "cv_netlist_new");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		error[0] = '\0';
		if (!tap_ok(cv_netlist_add(list, good[i], error,
					   sizeof(error)) == 0,
			    "accepted: %s", good[i]))
			tap_diag("  error: %s", error);
	}
	tap_is_int((long long)cv_netlist_count(list),
		   (long long)(sizeof(good) / sizeof(good[0])), "count");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		error[0] = '\0';
		rc = cv_netlist_add(list, bad[i].text, error, sizeof(error));
		tap_is_int(rc, -1, "refused");
		tap_is_str(error, bad[i].error, bad[i].text);
	}
	tap_is_int((long long)cv_netlist_count(list),
		   (long long)(sizeof(good) / sizeof(good[0])),
		   "count unchanged by refusals");
	cv_netlist_free(&list);
	tap_ok(list == NULL, "cv_netlist_free clears the pointer");
	cv_netlist_free(&list);
	cv_netlist_free(NULL);
	tap_is_int((long long)cv_netlist_count(NULL), 0, "count of NULL");
}

static void
test_match(void)
{
	static const struct {
		const char *addr;
		bool want;
	} cases[] = {
		{"192.0.2.0", true},	/* 192.0.2.0/24 */
		{"192.0.2.255", true},
		{"192.0.1.255", false},
		{"192.0.3.0", false},
		{"198.51.100.7", true},	/* 198.51.100.7 alone */
		{"198.51.100.6", false},
		{"198.51.100.8", false},
		{"10.200.0.0", true},	/* 10.200.1.1/16: host bits dropped */
		{"10.200.255.255", true},
		{"10.201.0.0", false},
		{"2001:db8::", true},	/* 2001:db8::/32 */
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:db9::", false},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:dead::1", false},
		{"::ffff:192.0.2.1", true},	/* mapped matches IPv4 */
		{"::ffff:192.0.3.1", false},
		{"::192.0.2.1", false},		/* compatible is not mapped */
		{"fe80::1", true},		/* fe80::1 alone */
		{"fe80::2", false},
		{"2001:db8::1:2", true},	/* covered by /32 too */
		{"203.0.113.1", false},
	};
	cv_netlist *list = cv_netlist_new();
	cv_netlist *v6only = cv_netlist_new();
	char error[CV_ERROR_MAX];
	struct sockaddr_storage ss;

	cv_netlist_add(list, "192.0.2.0/24", error, sizeof(error));
	cv_netlist_add(list, "198.51.100.7", error, sizeof(error));
	cv_netlist_add(list, "10.200.1.1/16", error, sizeof(error));
	cv_netlist_add(list, "2001:db8::/32", error, sizeof(error));
	cv_netlist_add(list, "fe80::1", error, sizeof(error));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(list_match(list, cases[i].addr) == cases[i].want,
		       "%s %s", cases[i].addr,
		       cases[i].want ? "matches" : "does not match");

	/* a mapped IPv6 entry matches the mapped form only */
	cv_netlist_add(v6only, "::ffff:127.0.0.0/104", error, sizeof(error));
	tap_ok(list_match(v6only, "::ffff:127.0.0.1"),
	       "IPv6 mapped entry matches mapped address");
	tap_ok(!list_match(v6only, "127.0.0.1"),
	       "IPv6 mapped entry does not match plain IPv4");
	cv_netlist_add(v6only, "0.0.0.0/0", error, sizeof(error));
	tap_ok(list_match(v6only, "::ffff:8.8.8.8"), "0/0 matches mapped");
	tap_ok(!list_match(v6only, "2001:db8::1"), "0/0 not plain IPv6");
	cv_netlist_add(v6only, "::/0", error, sizeof(error));
	tap_ok(list_match(v6only, "2001:db8::1"), "::/0 matches IPv6");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	tap_ok(!cv_netlist_match(list, (struct sockaddr *)&ss),
	       "AF_UNIX never matches");
	tap_ok(!cv_netlist_match(list, NULL), "NULL address never matches");
	make_addr("192.0.2.1", &ss);
	tap_ok(!cv_netlist_match(NULL, (struct sockaddr *)&ss),
	       "NULL list never matches");
	tap_ok(cv_addr_reserved((struct sockaddr *)&(struct sockaddr){
		   .sa_family = AF_UNIX}),
	       "an AF_UNIX address counts as reserved");
	cv_netlist_free(&list);
	cv_netlist_free(&v6only);
}

/* Every reserved range: first and last inside, neighbours outside. */
static void
test_reserved(void)
{
	static const struct {
		const char *addr;
		bool want;
	} cases[] = {
		/* 0.0.0.0/8 */
		{"0.0.0.0", true}, {"0.255.255.255", true}, {"1.0.0.0", false},
		/* 10/8 */
		{"9.255.255.255", false}, {"10.0.0.0", true},
		{"10.255.255.255", true}, {"11.0.0.0", false},
		/* 100.64/10 */
		{"100.63.255.255", false}, {"100.64.0.0", true},
		{"100.127.255.255", true}, {"100.128.0.0", false},
		/* 127/8 */
		{"126.255.255.255", false}, {"127.0.0.0", true},
		{"127.0.0.1", true}, {"127.255.255.255", true},
		{"128.0.0.0", false},
		/* 169.254/16 */
		{"169.253.255.255", false}, {"169.254.0.0", true},
		{"169.254.255.255", true}, {"169.255.0.0", false},
		/* 172.16/12 */
		{"172.15.255.255", false}, {"172.16.0.0", true},
		{"172.31.255.255", true}, {"172.32.0.0", false},
		/* 192.0.0/24 and 192.0.2/24 */
		{"191.255.255.255", false}, {"192.0.0.0", true},
		{"192.0.0.255", true}, {"192.0.1.0", false},
		{"192.0.1.255", false}, {"192.0.2.0", true},
		{"192.0.2.255", true}, {"192.0.3.0", false},
		/* 192.168/16 */
		{"192.167.255.255", false}, {"192.168.0.0", true},
		{"192.168.255.255", true}, {"192.169.0.0", false},
		/* 198.18/15 */
		{"198.17.255.255", false}, {"198.18.0.0", true},
		{"198.19.255.255", true}, {"198.20.0.0", false},
		/* 198.51.100/24 */
		{"198.51.99.255", false}, {"198.51.100.0", true},
		{"198.51.100.255", true}, {"198.51.101.0", false},
		/* 203.0.113/24 */
		{"203.0.112.255", false}, {"203.0.113.0", true},
		{"203.0.113.255", true}, {"203.0.114.0", false},
		/* 224/4 and 240/4 up to the broadcast address */
		{"223.255.255.255", false}, {"224.0.0.0", true},
		{"239.255.255.255", true}, {"240.0.0.0", true},
		{"255.255.255.254", true}, {"255.255.255.255", true},
		/* ordinary */
		{"8.8.8.8", false}, {"192.0.2.1", true}, {"1.1.1.1", false},
		/* outside 2000::/3 all is reserved: ::, ::1, compatible,
		 * mapped, 100::/64, fc00::/7, fe80::/10, fec0::/10, ff00::/8 */
		{"::", true}, {"::1", true}, {"::2", true},
		{"::ffff:0.0.0.0", true}, {"::ffff:8.8.8.8", true},
		{"::ffff:255.255.255.255", true}, {"100::", true},
		{"100::ffff:ffff:ffff:ffff", true}, {"fc00::", true},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fe80::", true}, {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fec0::", true}, {"ff00::", true},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		/* 2000::/3 boundaries */
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2000::", false},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"4000::", true},
		/* 64:ff9b::/96: reserved only if the IPv4 one is */
		{"64:ff9b::8.8.8.8", false}, {"64:ff9b::127.0.0.1", true},
		{"64:ff9b::10.0.0.1", true}, {"64:ff9b::192.0.2.1", true},
		{"64:ff9b::1:0:0", true}, {"64:ff9a:ffff::8.8.8.8", true},
		/* 64:ff9b:1::/48, local-use NAT64 */
		{"64:ff9b:1::", true},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true},
		/* 2001:2::/48 */
		{"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:2::", true}, {"2001:2:0:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:2:1::", false},
		/* 2001:10::/28 and 2001:20::/28 (ORCHID) */
		{"2001:f:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:10::", true},
		{"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:20::", true},
		{"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:30::", false},
		/* 2001:db8::/32 */
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:db8::", true},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:db9::", false},
		/* 3fff::/20 */
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"3fff::", true}, {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"3fff:1000::", false},
		/* 2002::/16 (6to4): reserved only if the IPv4 one is */
		{"2002:808:808::1", false}, {"2002:7f00:1::1", true},
		{"2002:c0a8:101::1", true}, {"2002::1", true},
		/* ordinary */
		{"2001:4860:4860::8888", false}, {"2a00:1450::1", false},
		{"2001:db8::25", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_reserved(cases[i].addr, cases[i].want);
}

int
main(void)
{
	test_parse();
	test_match();
	test_reserved();
	return tap_done();
}
