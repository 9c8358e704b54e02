/*
 * test-config.c - the config table and loader: defaults, every value
 * type good and bad with the exact "file:line:" message, the file
 * syntax, reference counting, and the agreement between the table and
 * conf/callout-milter.conf (path from $top_srcdir or argv[1]).
 *
 * Files are written to a mkdtemp() directory that the test enters, so
 * messages carry the bare name "callout-milter.conf".
 */
#include "config.h" /* autoconf's: HAVE_REDIS */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../milter/conf.h"
#include "tap.h"

#define CONF "callout-milter.conf"

static char tmpdir[64];

static int
fake_fqdn(char *buf, size_t size)
{
	snprintf(buf, size, "mx.test.example");
	return 0;
}

static void
write_file(const char *name, const char *text)
{
	FILE *fp = fopen(name, "w");

	if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0) {
		printf("Bail out! cannot write %s\n", name);
		exit(1);
	}
}

/* text as a one-line test name: control characters shown as '|',
 * cut at 90 characters. */
static const char *
oneline(const char *text)
{
	static char buf[96];
	size_t i;

	for (i = 0; i < 90 && text[i] != '\0'; i++)
		buf[i] = (unsigned char)text[i] < ' ' ? '|' : text[i];
	buf[i] = '\0';
	return buf;
}

/* Load text as CONF; the error text (or "") in err. */
static const struct config *
load(const char *text, char *err, size_t size)
{
	const struct config *cfg = NULL;

	write_file(CONF, text);
	err[0] = '\0';
	if (config_load(CONF, &cfg, err, size) != 0)
		return NULL;
	return cfg;
}

static void
check_error(const char *text, const char *want)
{
	char err[CONFIG_ERROR_MAX], name[160];
	const struct config *cfg = load(text, err, sizeof(err));

	snprintf(name, sizeof(name), "refused: %s", oneline(text));
	if (cfg != NULL) {
		tap_ok(false, "%s", name);
		config_unref(&cfg);
		return;
	}
	tap_is_str(err, want, name);
}

/* The error must start with want (the rest comes from lib/). */
static void
check_error_prefix(const char *text, const char *want)
{
	char err[CONFIG_ERROR_MAX];
	const struct config *cfg = load(text, err, sizeof(err));

	if (!tap_ok(cfg == NULL && strncmp(err, want, strlen(want)) == 0,
		    "refused: %s", oneline(text)))
		tap_diag("  got: \"%s\"", err);
	config_unref(&cfg);
}

static const struct config *
check_load(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	const struct config *cfg = load(text, err, sizeof(err));

	if (!tap_ok(cfg != NULL, "loads: %s", oneline(text)))
		tap_diag("  error: %s", err);
	return cfg;
}

static bool
host_match(const allowlist *l, const char *ip)
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

static void
test_defaults(void)
{
	char err[CONFIG_ERROR_MAX];
	const struct config *c = NULL;

	if (!tap_ok(config_defaults(&c, err, sizeof(err)) == 0, "defaults")) {
		tap_diag("%s", err);
		return;
	}
	tap_is_int(c->socket.family, AF_UNIX, "Socket family");
	tap_is_str(c->socket.path, "/run/callout-milter/callout-milter.sock",
		   "Socket path");
	tap_is_int(c->socket_mode, 0660, "SocketMode");
	tap_is_str(c->user.user, "callout-milter", "UserID");
	tap_is_str(c->user.group, "", "UserID group");
	tap_is_str(c->pid_file, "", "PidFile");
	tap_is_int(c->syslog_facility, LOG_MAIL, "SyslogFacility");
	tap_is_int(c->workers, 16, "Workers");
	tap_is_int(c->queue_size, 256, "QueueSize");
	tap_is_int(c->mode, CONFIG_MODE_ENFORCE, "Mode");
	tap_is_int(c->sender_verify, CONFIG_VERIFY_CALLOUT, "SenderVerify");
	tap_is_int(c->header_sender_verify, CONFIG_VERIFY_CALLOUT,
		   "HeaderSenderVerify");
	tap_is_int(c->reply.defer_ok, false, "DeferOK");
	tap_is_int(c->reply.details, true, "ReplyDetails");
	tap_is_int(c->reply.probe_refused, POLICY_ACCEPT, "ProbeRefused");
	tap_is_int(c->reply.null_sender, POLICY_REJECT, "NullSenderRefused");
	for (int i = 0; i < RT_COUNT; i++)
		tap_ok(c->reply.text[i] == NULL, "reply text %d built-in", i);
	tap_is_int(c->verify_authenticated, false, "VerifyAuthenticated");
	tap_is_int(c->callout_timeout_s, 10, "CalloutTimeout");
	tap_is_int(c->callout_connect_timeout_s, 10, "CalloutConnectTimeout");
	tap_is_int(c->callout_max_wait_s, 0, "CalloutMaxWait auto");
	tap_is_int(c->callout_background_timeout_s, 300,
		   "CalloutBackgroundTimeout");
	tap_is_int(c->callout_max_hosts, 5, "CalloutMaxHosts");
	tap_is_str(c->callout_helo, "mx.test.example", "CalloutHelo = FQDN");
	tap_is_int(c->callout_source.v4.ss_family, AF_UNSPEC, "source v4");
	tap_is_int(c->callout_source.v6.ss_family, AF_UNSPEC, "source v6");
	tap_is_str(c->callout_mail_from, "", "CalloutMailFrom <>");
	tap_is_int(c->callout_random, false, "CalloutRandom");
	tap_is_int(c->callout_postmaster, false, "CalloutPostmaster");
	tap_is_int((long long)lists_count(c->callout_allow_networks), 0,
		   "CalloutAllowNetworks");
	tap_is_int((long long)c->nameservers.count, 0, "Nameservers");
	tap_is_int(c->cache.kind, CONFIG_CACHE_LMDB, "Cache kind");
	tap_is_str(c->cache.path, "/var/lib/callout-milter/cache.mdb",
		   "Cache path");
	tap_is_int(c->cache_memory_entries, 10000, "CacheMemoryEntries");
	tap_is_int(c->cache_positive_ttl_s, 86400, "CachePositiveTTL");
	tap_is_int(c->cache_negative_ttl_s, 7200, "CacheNegativeTTL");
	tap_is_int(c->cache_unknown_ttl_s, 300, "CacheUnknownTTL");
	tap_is_int(c->cache_domain_positive_ttl_s, 604800,
		   "CacheDomainPositiveTTL");
	tap_is_int(c->cache_domain_negative_ttl_s, 10800,
		   "CacheDomainNegativeTTL");
	tap_is_int(c->domain_concurrency, 4, "DomainConcurrency");
	tap_is_int(c->mx_concurrency, 8, "MXConcurrency");
	tap_is_int(c->domain_rate_per_minute, 30, "DomainRatePerMinute");
	tap_is_int(c->spf, true, "SPF");
	tap_is_int(c->spf_pass, CONFIG_SPF_PASS_SKIP, "SPFPass");
	tap_is_int(c->spf_fail, CONFIG_SPF_FAIL_REJECT, "SPFFail");
	tap_is_int(c->add_received_spf, true, "AddReceivedSPF");
	tap_is_int(c->spf_helpers, 2, "SPFHelpers");
	tap_is_int(c->spf_timeout_s, 5, "SPFTimeout");
	tap_is_int((long long)lists_count(c->exempt_hosts), 2, "ExemptHosts");
	tap_ok(host_match(c->exempt_hosts, "127.0.0.1"), "127.0.0.1 exempt");
	tap_ok(host_match(c->exempt_hosts, "127.9.9.9"), "127.9.9.9 exempt");
	tap_ok(host_match(c->exempt_hosts, "::1"), "::1 exempt");
	tap_ok(!host_match(c->exempt_hosts, "192.0.2.1"), "192.0.2.1 not");
	tap_ok(lists_match_address(c->exempt_recipients, "postmaster@x.org"),
	       "postmaster@ exempt");
	tap_ok(lists_match_address(c->exempt_recipients, "Abuse@Example.COM"),
	       "Abuse@ exempt");
	tap_ok(!lists_match_address(c->exempt_recipients, "user@x.org"),
	       "user@ not exempt");
	tap_ok(c->exempt_host_names != NULL && c->exempt_senders != NULL &&
	       c->exempt_sender_domains != NULL &&
	       c->skip_sender_domains != NULL &&
	       c->exempt_recipient_domains != NULL, "empty lists not NULL");
	config_unref(&c);
	tap_ok(c == NULL, "unref sets NULL");
}

/* An empty file equals the defaults, key by key. */
static void
test_empty_file(void)
{
	const struct config *c = check_load("");
	size_t bad = 0;

	if (c == NULL)
		return;
	for (size_t i = 0; i < config_key_count(); i++) {
		const struct config_key *k = config_key_at(i);

		if (strcmp(config_value(c, k), k->def) != 0)
			bad++;
	}
	tap_is_int((long long)bad, 0, "empty file: every value = default");
	tap_ok(config_key_at(config_key_count()) == NULL, "key_at end");
	tap_ok(config_key_find("calloutTIMEOUT") == config_key_find(
	       "CalloutTimeout") && config_key_find("Nope") == NULL,
	       "key_find case-insensitive");
	config_unref(&c);
}

static void
test_good_values(void)
{
	const struct config *c;

	c = check_load("DeferOK yes\nReplyDetails NO\nCalloutRandom true\n"
		       "CalloutPostmaster on\nSPF off\nAddReceivedSPF false\n"
		       "calloutTIMEOUT 30\nCalloutConnectTimeout 2m\n"
		       "CalloutMaxWait 20s\nCalloutBackgroundTimeout 1h\n"
		       "CachePositiveTTL 7d\nCacheUnknownTTL 0\n"
		       "CalloutMaxHosts 32\nSocketMode 600\nMode Tag\n"
		       "SenderVerify domain\nHeaderSenderVerify off\n"
		       "ProbeRefused tempfail\nNullSenderRefused accept\n"
		       "SyslogFacility local3\nSPFPass verify\nSPFFail ignore\n"
		       "DomainRatePerMinute 0\n");
	if (c != NULL) {
		tap_ok(c->reply.defer_ok && !c->reply.details &&
		       c->callout_random && c->callout_postmaster && !c->spf &&
		       !c->add_received_spf, "booleans");
		tap_is_int(c->callout_timeout_s, 30, "bare seconds");
		tap_is_int(c->callout_connect_timeout_s, 120, "2m");
		tap_is_int(c->callout_max_wait_s, 20, "20s");
		tap_is_int(c->callout_background_timeout_s, 3600, "1h");
		tap_is_int(c->cache_positive_ttl_s, 7 * 86400, "7d");
		tap_is_int(c->cache_unknown_ttl_s, 0, "0 allowed");
		tap_is_int(c->callout_max_hosts, 32, "max of range");
		tap_is_int(c->socket_mode, 0600, "octal");
		tap_is_int(c->mode, CONFIG_MODE_TAG, "enum ignores case");
		tap_is_int(c->sender_verify, CONFIG_VERIFY_DOMAIN, "domain");
		tap_is_int(c->header_sender_verify, CONFIG_VERIFY_OFF, "off");
		tap_is_int(c->reply.probe_refused, POLICY_TEMPFAIL, "tempfail");
		tap_is_int(c->reply.null_sender, POLICY_ACCEPT, "accept");
		tap_is_int(c->syslog_facility, LOG_LOCAL3, "local3");
		tap_is_int(c->spf_pass, CONFIG_SPF_PASS_VERIFY, "SPFPass");
		tap_is_int(c->spf_fail, CONFIG_SPF_FAIL_IGNORE, "SPFFail");
		tap_is_str(config_value(c, config_key_find("CalloutTimeout")),
			   "30", "value text kept");
	}
	config_unref(&c);
}

static void
test_good_strings(void)
{
	const struct config *c;

	c = check_load("Socket inet:8890@127.0.0.1\nUserID mail:daemon\n"
		       "PidFile /run/callout-milter.pid\n"
		       "CalloutHelo mx.example.org\n"
		       "CalloutSource 192.0.2.1, 2001:db8::1\n"
		       "CalloutMailFrom <probe@example.org>\n"
		       "Nameservers 127.0.0.1 127.0.0.2:5353,[::1]:53 ::1\n"
		       "Cache memory\n"
		       "ReplyTextFailed 100%% sure you do not exist\n"
		       "ReplyTextNullMX\n");
	if (c != NULL) {
		char ip[64];
		const struct sockaddr_in *s4 =
		    (const struct sockaddr_in *)&c->callout_source.v4;
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&c->callout_source.v6;

		tap_ok(c->socket.family == AF_INET && c->socket.port == 8890 &&
		       strcmp(c->socket.host, "127.0.0.1") == 0, "inet socket");
		tap_is_str(c->socket.spec, "inet:8890@127.0.0.1", "spec");
		tap_ok(strcmp(c->user.user, "mail") == 0 &&
		       strcmp(c->user.group, "daemon") == 0, "user:group");
		tap_is_str(c->pid_file, "/run/callout-milter.pid", "PidFile");
		tap_is_str(c->callout_helo, "mx.example.org", "CalloutHelo");
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		tap_ok(s4->sin_family == AF_INET && !strcmp(ip, "192.0.2.1"),
		       "source v4");
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		tap_ok(s6->sin6_family == AF_INET6 &&
		       !strcmp(ip, "2001:db8::1"), "source v6");
		tap_is_str(c->callout_mail_from, "probe@example.org",
			   "CalloutMailFrom");
		tap_is_int((long long)c->nameservers.count, 4, "4 servers");
		if (c->nameservers.count == 4)
			tap_is_str(c->nameservers.list[2], "[::1]:53",
				   "server as given");
		tap_is_int(c->cache.kind, CONFIG_CACHE_MEMORY, "Cache memory");
		tap_is_str(c->reply.text[RT_FAILED],
			   "100% sure you do not exist", "%% undone");
		tap_ok(c->reply.text[RT_NULL_MX] == NULL, "empty text");
	}
	config_unref(&c);

	c = check_load("Socket inet6:8890@::1\nCalloutHelo [192.0.2.1]\n"
		       "CalloutMailFrom postmaster@example.org\n"
		       "UserID\nCache lmdb:/tmp/x.mdb\n");
	if (c != NULL) {
		tap_ok(c->socket.family == AF_INET6 &&
		       strcmp(c->socket.host, "::1") == 0, "inet6 socket");
		tap_is_str(c->user.user, "", "UserID empty");
		tap_is_str(c->cache.path, "/tmp/x.mdb", "lmdb path");
	}
	config_unref(&c);
	c = check_load("Socket local:/var/run/x.sock\n");
	if (c != NULL)
		tap_is_str(c->socket.path, "/var/run/x.sock", "local: path");
	config_unref(&c);
	c = check_load("Socket inet:8890\n");
	config_unref(&c);
#ifdef HAVE_REDIS
	c = check_load("Cache redis://[::1]:6380/3\n");
	if (c != NULL)
		tap_ok(c->cache.kind == CONFIG_CACHE_REDIS &&
		       strcmp(c->cache.host, "::1") == 0 &&
		       c->cache.port == 6380 && c->cache.db == 3, "redis");
	config_unref(&c);
#else
	check_error("Cache redis://127.0.0.1:6379/0\n",
		    CONF ":1: Cache: cache \"redis://127.0.0.1:6379/0\": this "
		    "build has no Redis support");
#endif
}

static const struct {
	const char *text;
	const char *error;	/* after "callout-milter.conf:" */
} bad[] = {
	{"DeferOK maybe", "1: DeferOK: bad boolean \"maybe\" (yes or no)"},
	{"DeferOK", "1: DeferOK: bad boolean \"\" (yes or no)"},
	{"CalloutMaxHosts 0", "1: CalloutMaxHosts: 0 out of range (1 to 32)"},
	{"CalloutMaxHosts 33", "1: CalloutMaxHosts: 33 out of range (1 to 32)"},
	{"CalloutMaxHosts -1", "1: CalloutMaxHosts: bad number \"-1\""},
	{"CalloutMaxHosts 5x", "1: CalloutMaxHosts: bad number \"5x\""},
	{"CalloutMaxHosts 99999999999999999999999",
	 "1: CalloutMaxHosts: bad number \"99999999999999999999999\""},
	{"\n\nCalloutTimeout 10x", "3: CalloutTimeout: bad duration \"10x\""},
	{"CalloutTimeout s", "1: CalloutTimeout: bad duration \"s\""},
	{"CalloutTimeout auto", "1: CalloutTimeout: bad duration \"auto\""},
	{"CalloutTimeout 0", "1: CalloutTimeout: 0 out of range (1s to 5m)"},
	{"CalloutTimeout 6m", "1: CalloutTimeout: 6m out of range (1s to 5m)"},
	{"CalloutMaxWait 2h", "1: CalloutMaxWait: 2h out of range (1s to 1h)"},
	{"Mode foo", "1: Mode: bad value \"foo\" (enforce, tag or off)"},
	{"NullSenderRefused tempfail",
	 "1: NullSenderRefused: bad value \"tempfail\" (reject or accept)"},
	{"SyslogFacility kern",
	 "1: SyslogFacility: bad value \"kern\" (mail, daemon, user, local0, "
	 "local1, local2, local3, local4, local5, local6 or local7)"},
	{"SocketMode 0999", "1: SocketMode: bad octal mode \"0999\""},
	{"SocketMode 01000", "1: SocketMode: 01000 out of range (0 to 0777)"},
	{"Socket /tmp/x",
	 "1: Socket: bad socket \"/tmp/x\" (unix:/path, local:/path, "
	 "inet:port@host or inet6:port@host)"},
	{"Socket unix:rel",
	 "1: Socket: bad socket \"unix:rel\" (unix:/path, local:/path, "
	 "inet:port@host or inet6:port@host)"},
	{"Socket inet:0@localhost",
	 "1: Socket: bad socket \"inet:0@localhost\" (unix:/path, "
	 "local:/path, inet:port@host or inet6:port@host)"},
	{"Socket inet:70000",
	 "1: Socket: bad socket \"inet:70000\" (unix:/path, local:/path, "
	 "inet:port@host or inet6:port@host)"},
	{"Socket inet6:25@bad!host",
	 "1: Socket: bad socket \"inet6:25@bad!host\" (unix:/path, "
	 "local:/path, inet:port@host or inet6:port@host)"},
	{"UserID -x", "1: UserID: bad user[:group] \"-x\""},
	{"UserID a:b:c", "1: UserID: bad user[:group] \"a:b:c\""},
	{"UserID a:", "1: UserID: bad user[:group] \"a:\""},
	{"PidFile run/x.pid",
	 "1: PidFile: bad path (absolute or empty) \"run/x.pid\""},
	{"CalloutHelo bad_host!",
	 "1: CalloutHelo: bad host name \"bad_host!\""},
	{"CalloutHelo a..b", "1: CalloutHelo: bad host name \"a..b\""},
	{"CalloutSource 192.0.2.1 192.0.2.2",
	 "1: CalloutSource: bad source address \"192.0.2.2\" (one IPv4 and "
	 "one IPv6 address at most)"},
	{"CalloutSource example.com",
	 "1: CalloutSource: bad source address \"example.com\" (one IPv4 and "
	 "one IPv6 address at most)"},
	{"Nameservers ns.example.com",
	 "1: Nameservers: bad name server \"ns.example.com\" (an IP address, "
	 "address:port or [IPv6]:port)"},
	{"Nameservers 127.0.0.1:0",
	 "1: Nameservers: bad name server \"127.0.0.1:0\" (an IP address, "
	 "address:port or [IPv6]:port)"},
	{"Nameservers [::1]x",
	 "1: Nameservers: bad name server \"[::1]x\" (an IP address, "
	 "address:port or [IPv6]:port)"},
	{"Nameservers 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 "
	 "1.1.1.7 1.1.1.8 1.1.1.9",
	 "1: Nameservers: bad name servers \"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 "
	 "1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9\" (at most 8)"},
	{"Cache lmdb:rel",
	 "1: Cache: bad cache \"lmdb:rel\" (memory, lmdb:/path or "
	 "redis://host[:port][/db])"},
	{"Cache mysql:x",
	 "1: Cache: bad cache \"mysql:x\" (memory, lmdb:/path or "
	 "redis://host[:port][/db])"},
	{"Cache redis://",
	 "1: Cache: bad cache \"redis://\" (memory, lmdb:/path or "
	 "redis://host[:port][/db])"},
	{"ReplyTextDefer 100% sure",
	 "1: ReplyTextDefer: text \"100% sure\": write a literal '%' as '%%'"},
	{"ReplyTextDefer 100%",
	 "1: ReplyTextDefer: text \"100%\": write a literal '%' as '%%'"},
	{"ReplyTextDefer caf\xc3\xa9",
	 "1: ReplyTextDefer: text \"caf\xc3\xa9\" holds a character outside "
	 "printable ASCII"},
	{"ExemptHosts 127.0.0.0/8 10.0.0.0/33",
	 "1: ExemptHosts: bad prefix length \"33\" (0-32) in \"10.0.0.0/33\""},
	{"ExemptHosts example.com",
	 "1: ExemptHosts: \"example.com\" is not an IPv4 or IPv6 address"},
	{"ExemptSenders example.com",
	 "1: ExemptSenders: bad address pattern \"example.com\" (want "
	 "user@domain, @domain, a '*' pattern or /regex/)"},
	{"ExemptHostNames bad/name",
	 "1: ExemptHostNames: bad host name pattern \"bad/name\""},
	{"ExemptSenderDomains a..b",
	 "1: ExemptSenderDomains: bad domain pattern \"a..b\""},
	{"ExemptSenders /^unclosed",
	 "1: ExemptSenders: regex \"/^unclosed\" lacks its closing '/'"},
	{"ExemptSenders file:relative/path",
	 "1: ExemptSenders: file:relative/path: the path must be absolute"},
	/* the file syntax */
	{"# comment\n\nFoo bar", "3: unknown key \"Foo\""},
	{"CalloutTimeout=10s", "1: unknown key \"CalloutTimeout=10s\""},
	{"CalloutTimeout 10s\ncallouttimeout 20s",
	 "2: duplicate key \"CalloutTimeout\" (first on line 1)"},
	{"ExemptSenders /^a #b/",
	 "1: ExemptSenders: regex \"/^a\" lacks its closing '/'"},
	{"Mode \001tag", "1: control character in line"},
	{"Mode tag\rMode off", "1: control character in line"},
};

static void
test_bad_values(void)
{
	char text[512], want[CONFIG_ERROR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s\n", bad[i].text);
		snprintf(want, sizeof(want), CONF ":%s", bad[i].error);
		check_error(text, want);
	}
	/* the reason after the prefix is lib/'s wording */
	check_error_prefix("CalloutMailFrom <a@\n",
			   CONF ":1: CalloutMailFrom: bad address \"<a@\": ");
	check_error_prefix("CalloutMailFrom unqualified\n",
			   CONF ":1: CalloutMailFrom: bad address "
			   "\"unqualified\": ");
	check_error_prefix("ExemptSenders /(/\n",
			   CONF ":1: ExemptSenders: bad regex \"/(/\": ");
}

static void
test_file_syntax(void)
{
	char err[CONFIG_ERROR_MAX], *big;
	const struct config *c;

	c = check_load("  # indented comment\n\t\n"
		       "CalloutTimeout 20s   # twenty seconds\n"
		       "ReplyTextFailed rejected \\# 5#6 #gone\n"
		       "CalloutHelo # nothing but a comment\n"
		       "ExemptSenders /^a \\#b/ # comment\n");
	if (c != NULL) {
		tap_is_int(c->callout_timeout_s, 20, "trailing comment");
		tap_is_str(c->reply.text[RT_FAILED], "rejected # 5#6",
			   "\\# and # inside a word");
		tap_is_str(c->callout_helo, "mx.test.example",
			   "value that is only a comment = empty");
		tap_ok(lists_match_address(c->exempt_senders, "a #b@x.org"),
		       "\\# in a regex, comment after it");
	}
	config_unref(&c);

	c = check_load("CalloutTimeout 20s\r\nMode tag\r\n\r\n");
	if (c != NULL)
		tap_ok(c->callout_timeout_s == 20 && c->mode == CONFIG_MODE_TAG,
		       "CRLF line ends accepted");
	config_unref(&c);

	c = check_load("Mode off");
	if (c != NULL)
		tap_is_int(c->mode, CONFIG_MODE_OFF, "no final newline");
	config_unref(&c);

	big = malloc(CONFIG_LINE_MAX + 64);
	if (big == NULL)
		return;
	memset(big, 'x', CONFIG_LINE_MAX + 10);
	memcpy(big, "# ", 2);
	big[CONFIG_LINE_MAX] = '\n';
	big[CONFIG_LINE_MAX + 1] = '\0';
	c = check_load(big);
	tap_ok(c != NULL, "line of exactly 4096 characters accepted");
	config_unref(&c);
	memcpy(big, "Mode ", 5);
	big[CONFIG_LINE_MAX] = 'x';
	big[CONFIG_LINE_MAX + 1] = '\n';
	big[CONFIG_LINE_MAX + 2] = '\0';
	check_error(big, CONF ":1: line longer than 4096 characters");
	free(big);

	tap_ok(config_load("missing.conf", &c, err, sizeof(err)) == -1 &&
	       errno == ENOENT && c == NULL, "missing file: -1, ENOENT");
	tap_is_str(err, "missing.conf: cannot open: No such file or directory",
		   "missing file message");
	tap_ok(config_load(".", &c, err, sizeof(err)) == -1 &&
	       errno == EINVAL, "a directory: -1, EINVAL");
	tap_is_str(err, ".: cannot read: Is a directory", "directory message");
}

static void
test_list_files(void)
{
	char text[512], path[128], want[CONFIG_ERROR_MAX];
	const struct config *c;

	write_file("hosts", "# exempt hosts\n\n  192.0.2.0/24  \n"
			    "2001:db8::/32\r\n");
	write_file("senders", "/^bounce-/\n@lists.example.org\n"
			      "*-request@*\n");
	snprintf(text, sizeof(text),
		 "ExemptHosts 127.0.0.0/8 file:%s/hosts\n"
		 "ExemptSenders root@example.org, file:%s/senders\n",
		 tmpdir, tmpdir);
	c = check_load(text);
	if (c != NULL) {
		tap_is_int((long long)lists_count(c->exempt_hosts), 3,
			   "3 host entries");
		tap_ok(host_match(c->exempt_hosts, "192.0.2.77"), "file v4");
		tap_ok(host_match(c->exempt_hosts, "2001:db8:1::5"), "file v6");
		tap_ok(host_match(c->exempt_hosts, "127.0.0.1"), "inline");
		tap_ok(!host_match(c->exempt_hosts, "198.51.100.1"), "other");
		tap_ok(lists_match_address(c->exempt_senders,
					   "bounce-123@x.org"), "file regex");
		tap_ok(lists_match_address(c->exempt_senders,
					   "a@lists.example.org"), "file @dom");
		tap_ok(lists_match_address(c->exempt_senders,
					   "foo-request@y.org"), "file glob");
		tap_ok(lists_match_address(c->exempt_senders,
					   "ROOT@example.org"), "inline");
		tap_ok(!lists_match_address(c->exempt_senders,
					    "user@example.org"), "other");
	}
	config_unref(&c);

	snprintf(path, sizeof(path), "%s/nonexistent", tmpdir);
	snprintf(text, sizeof(text), "\nExemptHosts file:%s\n", path);
	snprintf(want, sizeof(want),
		 CONF ":2: ExemptHosts: cannot read \"%s\": No such file or "
		 "directory", path);
	check_error(text, want);

	write_file("badhosts", "192.0.2.0/24\n# x\nnot-an-ip\n");
	snprintf(path, sizeof(path), "%s/badhosts", tmpdir);
	snprintf(text, sizeof(text), "ExemptHosts file:%s\n", path);
	snprintf(want, sizeof(want),
		 CONF ":1: ExemptHosts: %s:3: \"not-an-ip\" is not an IPv4 or "
		 "IPv6 address", path);
	check_error(text, want);

	write_file("nested", "file:/etc/passwd\n");
	snprintf(path, sizeof(path), "%s/nested", tmpdir);
	snprintf(text, sizeof(text), "ExemptSenders file:%s\n", path);
	snprintf(want, sizeof(want),
		 CONF ":1: ExemptSenders: %s:1: a list file cannot name "
		 "another file", path);
	check_error(text, want);
}

static void
test_refcount(void)
{
	char err[CONFIG_ERROR_MAX], names[256];
	const struct config *a, *b, *c2 = NULL;

	a = check_load("Workers 8\nCalloutTimeout 20s\n"
		       "ExemptHosts 10.0.0.0/8\n");
	if (a == NULL)
		return;
	b = config_ref(a);
	tap_ok(b == a, "ref returns the same snapshot");
	config_unref(&a);
	tap_ok(a == NULL && b->workers == 8 &&
	       host_match(b->exempt_hosts, "10.1.2.3"),
	       "still usable after one unref");
	if (config_defaults(&c2, err, sizeof(err)) == 0) {
		tap_is_int((long long)config_changed_unreloadable(c2, b, names,
			   sizeof(names)), 1, "one unreloadable change");
		tap_is_str(names, "Workers", "it is Workers");
		tap_is_int((long long)config_changed_unreloadable(c2, c2, names,
			   sizeof(names)), 0, "no change");
	}
	config_unref(&c2);
	config_unref(&b);
	tap_ok(b == NULL, "last unref frees (ASan checks for leaks)");
	config_unref(&b);	/* NULL is fine */
}

static void
test_print(void)
{
	char *buf = NULL;
	size_t len = 0;
	const struct config *c = check_load("CalloutTimeout 20s\n"
					    "ReplyTextFailed no \\# 1\n");
	FILE *fp;

	if (c == NULL || (fp = open_memstream(&buf, &len)) == NULL)
		return;
	tap_ok(config_print(c, fp) == 0, "config_print");
	fclose(fp);
	tap_ok(strstr(buf, "\nCalloutTimeout 20s\n") != NULL, "value shown");
	tap_ok(strstr(buf, "\nPidFile\n") != NULL, "empty value shown");
	tap_ok(strstr(buf, "\nReplyTextFailed no \\# 1\n") != NULL,
	       "'#' escaped again");
	tap_ok(strstr(buf, "\n# CalloutHelo found: mx.test.example\n") != NULL,
	       "found FQDN shown");
	free(buf);
	config_unref(&c);
}

/* Sample: every key once as "#Key default" after a "# Key: " line. */
static void
test_sample(const char *sample)
{
	size_t n = config_key_count(), bad_lines = 0;
	char line[CONFIG_LINE_MAX + 2], err[CONFIG_ERROR_MAX];
	unsigned *seen = calloc(n, sizeof(*seen));
	bool *helped = calloc(n, sizeof(*helped));
	FILE *fp = fopen(sample, "r"), *out = fopen(CONF, "w");
	const struct config *c;

	if (!tap_ok(fp != NULL && out != NULL && seen != NULL && helped != NULL,
		    "open sample %s", sample))
		goto done;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *nl = strchr(line, '\n'), *sp;
		const struct config_key *k;

		if (nl != NULL)
			*nl = '\0';
		if (line[0] == '#' && line[1] == ' ' &&
		    (sp = strchr(line + 2, ':')) != NULL) {
			*sp = '\0';
			if ((k = config_key_find(line + 2)) != NULL)
				helped[k - config_key_at(0)] = true;
			continue;
		}
		if (line[0] != '#' || line[1] < 'A' || line[1] > 'Z')
			continue;
		fprintf(out, "%s\n", line + 1);	/* the uncommented copy */
		if ((sp = strchr(line, ' ')) != NULL)
			*sp++ = '\0';
		k = config_key_find(line + 1);
		if (k == NULL || strcmp(k->name, line + 1) != 0) {
			tap_diag("sample: key \"%s\" not in the table",
				 line + 1);
			bad_lines++;
			continue;
		}
		seen[k - config_key_at(0)]++;
		if (strcmp(sp != NULL ? sp : "", k->def) != 0) {
			tap_diag("sample: %s default \"%s\", table \"%s\"",
				 k->name, sp != NULL ? sp : "", k->def);
			bad_lines++;
		}
	}
	tap_is_int((long long)bad_lines, 0, "sample: keys and defaults agree");
	bad_lines = 0;
	for (size_t i = 0; i < n; i++) {
		if (seen[i] != 1 || !helped[i]) {
			tap_diag("sample: %s given %u times, help line %s",
				 config_key_at(i)->name, seen[i],
				 helped[i] ? "yes" : "no");
			bad_lines++;
		}
	}
	tap_is_int((long long)bad_lines, 0, "sample: every key once with help");
	fclose(out);
	out = NULL;
	/* uncommented, the sample loads and gives the defaults */
	if (!tap_ok(config_load(CONF, &c, err, sizeof(err)) == 0,
		    "uncommented sample loads"))
		tap_diag("%s", err);
	else {
		bad_lines = 0;
		for (size_t i = 0; i < n; i++)
			bad_lines += strcmp(config_value(c, config_key_at(i)),
					    config_key_at(i)->def) != 0;
		tap_is_int((long long)bad_lines, 0, "uncommented = defaults");
		config_unref(&c);
	}
done:
	if (fp != NULL)
		fclose(fp);
	if (out != NULL)
		fclose(out);
	free(seen);
	free(helped);
}

static void
cleanup(void)
{
	static const char *const files[] = {
		CONF, "hosts", "senders", "badhosts", "nested",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	if (chdir("/") == 0)
		rmdir(tmpdir);
}

int
main(int argc, char **argv)
{
	const char *srcdir = getenv("top_srcdir");
	char sample[1024];

	if (argc > 1)
		snprintf(sample, sizeof(sample), "%s", argv[1]);
	else
		snprintf(sample, sizeof(sample), "%s/conf/callout-milter.conf",
			 srcdir != NULL ? srcdir : "..");
	if (sample[0] != '/') {	/* before we leave the current directory */
		char cwd[512];

		if (getcwd(cwd, sizeof(cwd)) != NULL) {
			char rel[1024];

			snprintf(rel, sizeof(rel), "%s", sample);
			snprintf(sample, sizeof(sample), "%.500s/%.500s", cwd,
				 rel);
		}
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	config_set_fqdn_hook(fake_fqdn);
	test_defaults();
	test_empty_file();
	test_good_values();
	test_good_strings();
	test_bad_values();
	test_file_syntax();
	test_list_files();
	test_refcount();
	test_print();
	test_sample(sample);
	cleanup();
	return tap_done();
}
