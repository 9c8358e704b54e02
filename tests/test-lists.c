/*
 * test-lists.c - the allow-lists as tables: each list value is built,
 * then every probe is matched and must give exactly the expected answer.
 * Covers IPv4/IPv6 CIDR (with IPv4-mapped clients), host names,
 * domains, and sender/recipient patterns with wildcards and regexes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/lists.h"
#include "tap.h"

struct probe {
	const char *text;
	bool match;
};

struct list_case {
	enum lists_kind kind;
	const char *value;
	struct probe probes[12];	/* ends with a NULL text */
};

static const struct list_case cases[] = {
	{LISTS_HOSTS, "127.0.0.0/8 ::1, 192.0.2.0/25 2001:db8:a::/48", {
		{"127.0.0.1", true}, {"127.255.255.254", true},
		{"128.0.0.1", false}, {"::1", true}, {"::2", false},
		{"192.0.2.127", true}, {"192.0.2.128", false},
		{"2001:db8:a:ffff::1", true}, {"2001:db8:b::1", false},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", false},
		{NULL, false}}},
	{LISTS_HOSTS, "0.0.0.0/0", {
		{"198.51.100.7", true}, {"2001:db8::1", false},
		{NULL, false}}},
	{LISTS_HOSTNAMES, "mx.example.com *.example.net .example.org "
			  "mail*.example.info /^smtp[0-9]+\\.example\\.biz$/", {
		{"mx.example.com", true}, {"MX.Example.COM.", true},
		{"a.mx.example.com", false}, {"example.net", false},
		{"a.example.net", true}, {"a.b.EXAMPLE.net", true},
		{"example.org", false}, {"x.example.org", true},
		{"mail7.example.info", true}, {"smtp12.example.biz", true},
		{"smtpx.example.biz", false}, {NULL, false}}},
	{LISTS_DOMAINS, "example.com, *.example.net", {
		{"example.com", true}, {"EXAMPLE.COM", true},
		{"sub.example.com", false}, {"example.net", false},
		{"deep.sub.example.net", true}, {"badexample.net", false},
		{"", false}, {NULL, false}}},
	{LISTS_ADDRESSES, "user@example.com @example.net *@example.org "
			  "*-request@* postmaster@* a*b@c*d.com", {
		{"user@example.com", true}, {"USER@Example.Com", true},
		{"other@example.com", false}, {"anyone@example.net", true},
		{"x@sub.example.net", false}, {"y@example.org", true},
		{"list-request@lists.example", true},
		{"request@lists.example", false},
		{"postmaster@anywhere.test", true},
		{"axxb@cyyd.com", true}, {"", false}, {NULL, false}}},
	{LISTS_ADDRESSES, "/^bounce-/ /^owner-/, /^root@/ /^.*-request@/ "
			  "/^a{1,3}@x\\.org$/", {
		{"bounce-123@x.org", true}, {"Owner-list@x.org", true},
		{"root@host.x.org", true}, {"rootx@x.org", false},
		{"list-Request@x.org", true}, {"aa@x.org", true},
		{"aaaa@x.org", false}, {"xbounce-1@x.org", false},
		{NULL, false}}},
};

static bool
match_host(const allowlist *l, const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return false;
	return lists_match_host(l, (struct sockaddr *)&ss);
}

static bool
match(const allowlist *l, enum lists_kind kind, const char *text)
{
	switch (kind) {
	case LISTS_HOSTS:
		return match_host(l, text);
	case LISTS_HOSTNAMES:
		return lists_match_hostname(l, text);
	case LISTS_DOMAINS:
		return lists_match_domain(l, text);
	case LISTS_ADDRESSES:
		return lists_match_address(l, text);
	}
	return false;
}

static void
test_tables(void)
{
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct list_case *c = &cases[i];
		allowlist *l = lists_new(c->kind);

		if (!tap_ok(l != NULL && lists_parse(l, c->value, err,
						     sizeof(err)) == 0,
			    "build list %zu", i)) {
			tap_diag("%s", err);
			lists_free(&l);
			continue;
		}
		for (const struct probe *p = c->probes; p->text != NULL; p++)
			tap_ok(match(l, c->kind, p->text) == p->match,
			       "list %zu: \"%s\" %s", i, p->text,
			       p->match ? "matches" : "does not match");
		lists_free(&l);
		tap_ok(l == NULL, "list %zu freed", i);
	}
}

static void
test_misc(void)
{
	char err[512];
	allowlist *l = lists_new(LISTS_ADDRESSES), *h;
	cv_address addr;

	tap_ok(!lists_match_address(NULL, "a@b"), "NULL list matches nothing");
	tap_is_int(lists_parse(l, "postmaster@*", err, sizeof(err)), 0,
		   "parse");
	memset(&addr, 0, sizeof(addr));
	strcpy(addr.address, "postmaster@example.com");
	tap_ok(lists_match_cv_address(l, &addr), "cv_address matches");
	addr.null = true;
	addr.address[0] = '\0';
	tap_ok(!lists_match_cv_address(l, &addr), "null sender never");
	tap_ok(!lists_match_domain(l, "example.com"), "wrong kind: false");
	tap_is_int((long long)lists_count(l), 1, "count");
	tap_ok(lists_netlist(l) == NULL, "no netlist for addresses");
	tap_is_int(lists_add(l, "/[/", err, sizeof(err)), -1, "bad regex");
	tap_is_int(lists_add(l, "nope", err, sizeof(err)), -1, "no @");
	lists_free(&l);
	lists_free(&l);

	h = lists_new(LISTS_HOSTS);
	tap_is_int(lists_parse(h, " , ,", err, sizeof(err)), 0, "separators");
	tap_is_int((long long)lists_count(h), 0, "empty value: empty list");
	tap_ok(lists_netlist(h) != NULL, "hosts list has a netlist");
	tap_is_int(lists_parse(h, "10.0.0.0/8 file:", err, sizeof(err)), -1,
		   "file: without path");
	tap_is_str(err, "file:: the path must be absolute", "its message");
	lists_free(&h);
}

int
main(void)
{
	test_tables();
	test_misc();
	return tap_done();
}
