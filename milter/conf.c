/*
 * conf.c - the one table of configuration keys, and the loader that
 * turns callout-milter.conf into an immutable, reference-counted
 * struct config (file format and lifetime rules in conf.h).
 *
 * Everything about a key - name, type, default, limits, whether a SIGHUP
 * applies it, help text and the field it sets - is one row of keys[]
 * below and nowhere else; the sample config and the man page are checked
 * against this table by the test suite.
 *
 * Guarantees: a snapshot is either complete and valid or not made at
 * all; every default goes through the same parser as a file value; lines
 * and files are bounded.  Failure: -1 with "FILE:LINE: reason"; nothing
 * is logged here, nothing exits.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf.h"
#include "conf_types.h"

#define OFF(field) offsetof(struct config, field)
#define MINUTE	60
#define HOUR	3600
#define DAY	86400

/* Enums are stored through an int. */
static_assert(sizeof(enum config_mode) == sizeof(int), "enum size");
static_assert(sizeof(enum config_verify) == sizeof(int), "enum size");
static_assert(sizeof(enum config_spf_pass) == sizeof(int), "enum size");
static_assert(sizeof(enum config_spf_fail) == sizeof(int), "enum size");
static_assert(sizeof(policy_action) == sizeof(int), "enum size");

static const struct config_word facility_words[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
	{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {NULL, 0},
};
static const struct config_word mode_words[] = {
	{"enforce", CONFIG_MODE_ENFORCE}, {"tag", CONFIG_MODE_TAG},
	{"off", CONFIG_MODE_OFF}, {NULL, 0},
};
static const struct config_word verify_words[] = {
	{"callout", CONFIG_VERIFY_CALLOUT}, {"domain", CONFIG_VERIFY_DOMAIN},
	{"off", CONFIG_VERIFY_OFF}, {NULL, 0},
};
static const struct config_word probe_refused_words[] = {
	{"accept", POLICY_ACCEPT}, {"tempfail", POLICY_TEMPFAIL},
	{"reject", POLICY_REJECT}, {NULL, 0},
};
static const struct config_word null_sender_words[] = {
	{"reject", POLICY_REJECT}, {"accept", POLICY_ACCEPT}, {NULL, 0},
};
static const struct config_word spf_pass_words[] = {
	{"skip", CONFIG_SPF_PASS_SKIP}, {"verify", CONFIG_SPF_PASS_VERIFY},
	{NULL, 0},
};
static const struct config_word spf_fail_words[] = {
	{"reject", CONFIG_SPF_FAIL_REJECT}, {"verify", CONFIG_SPF_FAIL_VERIFY},
	{"ignore", CONFIG_SPF_FAIL_IGNORE}, {NULL, 0},
};

#define BOOL(n, d, r, f, h) \
	{.name = n, .type = CT_BOOL, .def = d, .reload = r, .help = h, \
	 .offset = OFF(f)}
#define INT(n, d, r, f, lo, hi, h) \
	{.name = n, .type = CT_INT, .def = d, .reload = r, .help = h, \
	 .offset = OFF(f), .min = lo, .max = hi}
#define DURATION(n, d, r, f, lo, hi, h) \
	{.name = n, .type = CT_DURATION, .def = d, .reload = r, .help = h, \
	 .offset = OFF(f), .min = lo, .max = hi}
#define ENUM(n, d, r, f, w, h) \
	{.name = n, .type = CT_ENUM, .def = d, .reload = r, .help = h, \
	 .offset = OFF(f), .words = w}
#define LIST(n, d, f, k, h) \
	{.name = n, .type = CT_LIST, .def = d, .reload = true, .help = h, \
	 .offset = OFF(f), .list = k}
#define TYPED(n, t, d, r, f, h) \
	{.name = n, .type = t, .def = d, .reload = r, .help = h, \
	 .offset = OFF(f)}
#define TEXT(n, i, h) \
	{.name = n, .type = CT_TEXT, .def = "", .reload = true, .help = h, \
	 .offset = OFF(reply.text[i])}

static const struct config_key keys[] = {
	/* the daemon */
	TYPED("Socket", CT_SOCKET, "unix:/run/callout-milter/callout-milter.sock",
	      false, socket,
	      "where the MTA connects: unix:/path, local:/path, inet:port@host, inet6:port@host"),
	{.name = "SocketMode", .type = CT_OCTAL, .def = "0660",
	 .reload = false, .offset = OFF(socket_mode), .min = 0, .max = 0777,
	 .help = "permissions of a unix socket, octal"},
	TYPED("UserID", CT_USER, "callout-milter", false, user,
	      "user[:group] to run as after start-up; empty: do not change"),
	TYPED("PidFile", CT_PATH, "", false, pid_file,
	      "file to write the process id to; empty: none"),
	ENUM("SyslogFacility", "mail", false, syslog_facility, facility_words,
	     "syslog facility: mail, daemon, user, local0 ... local7"),
	INT("Workers", "16", false, workers, 1, 1024,
	    "threads that run probes (the engine's pool)"),
	INT("QueueSize", "256", false, queue_size, 1, 100000,
	    "probes waiting for a worker; more are answered unknown"),

	/* policy */
	ENUM("Mode", "enforce", true, mode, mode_words,
	     "enforce: reject and defer; tag: accept and add a header; off: check nothing"),
	ENUM("SenderVerify", "callout", true, sender_verify, verify_words,
	     "envelope sender check: callout, domain (DNS only) or off"),
	ENUM("HeaderSenderVerify", "callout", true, header_sender_verify,
	     verify_words,
	     "header sender check (Sender:, Reply-To:, From:): callout, domain or off"),
	BOOL("DeferOK", "no", true, reply.defer_ok,
	     "accept instead of 451 when the check could not complete"),
	BOOL("ReplyDetails", "yes", true, reply.details,
	     "add the Called/Sent/Response lines to a rejection"),
	ENUM("ProbeRefused", "accept", true, reply.probe_refused,
	     probe_refused_words,
	     "when the remote server refuses our probe itself: accept, tempfail or reject"),
	ENUM("NullSenderRefused", "reject", true, reply.null_sender,
	     null_sender_words,
	     "when the sender's domain refuses MAIL FROM:<>: reject or accept"),
	BOOL("VerifyAuthenticated", "no", true, verify_authenticated,
	     "check senders of SMTP-authenticated clients too"),

	/* the callout */
	DURATION("CalloutTimeout", "10s", true, callout_timeout_s, 1, 5 * MINUTE,
		 "per SMTP command timeout of a callout"),
	DURATION("CalloutConnectTimeout", "10s", true,
		 callout_connect_timeout_s, 1, 5 * MINUTE,
		 "timeout of the TCP connect of a callout"),
	{.name = "CalloutMaxWait", .type = CT_DURATION, .def = "auto",
	 .reload = true, .offset = OFF(callout_max_wait_s), .min = 1,
	 .max = HOUR, .auto_ok = true,
	 .help = "longest wait for a verdict in the MTA's time; auto: 25s under Postfix, else 8s"},
	DURATION("CalloutBackgroundTimeout", "5m", false,
		 callout_background_timeout_s, 10, HOUR,
		 "a probe's own budget, going on after the MTA stopped waiting"),
	INT("CalloutMaxHosts", "5", true, callout_max_hosts, 1, CV_HOSTS_MAX,
	    "host addresses tried per probe"),
	INT("CalloutPort", "25", true, callout_port, 1, 65535,
	    "TCP port of the sender domains' mail servers (25 but in tests)"),
	DURATION("DNSTimeout", "5s", true, dns_timeout_s, 1, 60,
	    "time one DNS query attempt may take"),
	TYPED("CalloutHelo", CT_HOSTNAME, "", true, callout_helo,
	      "EHLO/HELO argument of probes; empty: this host's FQDN"),
	TYPED("CalloutSource", CT_SOURCES, "", true, callout_source,
	      "source addresses of probes, one IPv4 and/or one IPv6; empty: the kernel's choice"),
	TYPED("CalloutMailFrom", CT_MAILPATH, "<>", true, callout_mail_from,
	      "MAIL FROM of probes"),
	BOOL("CalloutRandom", "no", true, callout_random,
	     "first probe a random local part to detect catch-all domains"),
	BOOL("CalloutPostmaster", "no", true, callout_postmaster,
	     "after a verified sender, also require postmaster@domain"),
	LIST("CalloutAllowNetworks", "", callout_allow_networks, LISTS_HOSTS,
	     "private or reserved ranges that probes may reach all the same"),
	TYPED("Nameservers", CT_SERVERS, "", false, nameservers,
	      "DNS servers: address, address:port or [IPv6]:port; empty: resolv.conf"),

	/* the cache and the limits that protect other servers */
	TYPED("Cache", CT_CACHE, "lmdb:/var/lib/callout-milter/cache.mdb",
	      false, cache,
	      "verdict cache: memory, lmdb:/path or redis://host:port/db"),
	INT("CacheMemoryEntries", "10000", false, cache_memory_entries, 100,
	    10000000, "entries of the in-memory cache (the first level)"),
	DURATION("CachePositiveTTL", "24h", false, cache_positive_ttl_s, MINUTE,
		 30 * DAY, "how long a verified address is remembered"),
	DURATION("CacheNegativeTTL", "2h", false, cache_negative_ttl_s, MINUTE,
		 30 * DAY, "how long a failed address is remembered"),
	DURATION("CacheUnknownTTL", "5m", false, cache_unknown_ttl_s, 0, DAY,
		 "how long an unknown result holds back a new probe; 0: not at all"),
	DURATION("CacheDomainPositiveTTL", "7d", false,
		 cache_domain_positive_ttl_s, MINUTE, 90 * DAY,
		 "how long a domain fact (catch-all) is remembered"),
	DURATION("CacheDomainNegativeTTL", "3h", false,
		 cache_domain_negative_ttl_s, MINUTE, 30 * DAY,
		 "how long a domain refusal (null sender, postmaster) is remembered"),
	INT("DomainConcurrency", "4", false, domain_concurrency, 1, 1000,
	    "probes running at once towards one domain"),
	INT("MXConcurrency", "8", false, mx_concurrency, 1, 1000,
	    "probes running at once towards one MX address"),
	INT("DomainRatePerMinute", "30", false, domain_rate_per_minute, 0,
	    100000, "probes started per minute towards one domain; 0: no limit"),

	/* SPF */
	BOOL("SPF", "yes", true, spf, "check SPF before the callout"),
	ENUM("SPFPass", "skip", true, spf_pass, spf_pass_words,
	     "on SPF pass: skip the callout or verify anyway"),
	ENUM("SPFFail", "reject", true, spf_fail, spf_fail_words,
	     "on SPF fail: reject, verify (let the callout decide) or ignore"),
	BOOL("AddReceivedSPF", "yes", true, add_received_spf,
	     "add a Received-SPF header"),
	INT("SPFHelpers", "2", false, spf_helpers, 1, 64,
	    "unprivileged helper processes that run SPF checks"),
	DURATION("SPFTimeout", "5s", true, spf_timeout_s, 1, MINUTE,
		 "time limit of one SPF check"),

	/* allow-lists: inline values or file:/path */
	LIST("ExemptHosts", "127.0.0.0/8 ::1", exempt_hosts, LISTS_HOSTS,
	     "client addresses or CIDR ranges that are never checked"),
	LIST("ExemptHostNames", "", exempt_host_names, LISTS_HOSTNAMES,
	     "client host names (PTR) never checked: name, *.example.com, /regex/"),
	LIST("ExemptSenders", "", exempt_senders, LISTS_ADDRESSES,
	     "senders never checked: user@example.com, @example.com, *-request@*, /regex/"),
	LIST("ExemptSenderDomains", "", exempt_sender_domains, LISTS_DOMAINS,
	     "sender domains checked in DNS only, never called"),
	LIST("SkipSenderDomains", "", skip_sender_domains, LISTS_DOMAINS,
	     "sender domains never checked at all"),
	LIST("ExemptRecipients", "postmaster@* abuse@*", exempt_recipients,
	     LISTS_ADDRESSES,
	     "recipients whose mail is never checked (address patterns)"),
	LIST("ExemptRecipientDomains", "", exempt_recipient_domains,
	     LISTS_DOMAINS, "recipient domains whose mail is never checked"),

	/* reply texts: empty keeps Exim's text; write '%' as '%%' */
	TEXT("ReplyTextFailed", RT_FAILED,
	     "last line of a rejection (Sender verify failed)"),
	TEXT("ReplyTextDefer", RT_DEFER,
	     "callout could not complete (Could not complete sender verify callout)"),
	TEXT("ReplyTextDnsDefer", RT_DNS_DEFER,
	     "DNS could not complete (Could not complete sender verify)"),
	TEXT("ReplyTextUnrouteable", RT_UNROUTEABLE,
	     "sender domain does not exist (Unrouteable address)"),
	TEXT("ReplyTextNullMX", RT_NULL_MX,
	     "sender domain has a null MX (Sender address has null MX)"),
	TEXT("ReplyTextHeaderFailed", RT_HEADER_FAILED,
	     "header check failed (No verifiable sender address in message headers)"),
	TEXT("ReplyTextHeaderDefer", RT_HEADER_DEFER,
	     "header check could not complete (Could not complete sender verify callout)"),
	TEXT("ReplyTextInProgress", RT_IN_PROGRESS,
	     "verdict not ready in time (Could not complete sender verify callout)"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static config_fqdn_fn *config_fqdn_hook;

size_t
config_key_count(void)
{
	return NKEYS;
}

const struct config_key *
config_key_at(size_t i)
{
	return i < NKEYS ? &keys[i] : NULL;
}

const struct config_key *
config_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const char *
config_type_name(const struct config_key *key)
{
	static const char *const lists[] = {
		[LISTS_HOSTS] = "list of addresses and CIDR ranges",
		[LISTS_HOSTNAMES] = "list of host name patterns",
		[LISTS_DOMAINS] = "list of domain patterns",
		[LISTS_ADDRESSES] = "list of address patterns",
	};

	switch (key->type) {
	case CT_BOOL: return "yes or no";
	case CT_INT: return "number";
	case CT_OCTAL: return "octal mode";
	case CT_DURATION: return key->auto_ok ? "auto or duration" : "duration";
	case CT_ENUM: return "word";
	case CT_LIST: return lists[key->list];
	case CT_SOCKET: return "socket";
	case CT_USER: return "user[:group]";
	case CT_PATH: return "path";
	case CT_HOSTNAME: return "host name";
	case CT_SOURCES: return "addresses";
	case CT_MAILPATH: return "address";
	case CT_SERVERS: return "name servers";
	case CT_CACHE: return "cache";
	case CT_TEXT: return "text";
	}
	return "value";
}

void
config_set_fqdn_hook(config_fqdn_fn *fn)
{
	config_fqdn_hook = fn;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

static void *
config_field(struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->offset;
}

static void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		void *field = config_field(cfg, &keys[i]);

		switch (keys[i].type) {
		case CT_LIST:
			lists_free(field);
			break;
		case CT_PATH:
		case CT_HOSTNAME:
		case CT_MAILPATH:
		case CT_TEXT:
			free(*(char **)field);
			break;
		case CT_SERVERS:
			config_servers_free(field);
			break;
		default:
			break;
		}
		if (cfg->values != NULL)
			free(cfg->values[i]);
	}
	free(cfg->values);
	free(cfg->path);
	free(cfg);
}

const struct config *
config_ref(const struct config *cfg)
{
	/* the count is the one thing that changes in a snapshot; the
	 * object was made non-const by config_new() */
	atomic_fetch_add(&((struct config *)cfg)->refs, 1);
	return cfg;
}

void
config_unref(const struct config **cfg_p)
{
	struct config *cfg;

	if (cfg_p == NULL || *cfg_p == NULL)
		return;
	cfg = (struct config *)*cfg_p;
	*cfg_p = NULL;
	if (atomic_fetch_sub(&cfg->refs, 1) == 1)
		config_free(cfg);
}

const char *
config_value(const struct config *cfg, const struct config_key *key)
{
	size_t i = (size_t)(key - keys);

	return i < NKEYS ? cfg->values[i] : "";
}

/* Parse value into the field of key. */
static int
config_apply(struct config *cfg, const struct config_key *k,
	     const char *value, char *why_r, size_t size)
{
	void *field = config_field(cfg, k);
	int n, rc;

	switch (k->type) {
	case CT_BOOL:
		return config_parse_bool(value, field, why_r, size);
	case CT_INT:
		return config_parse_int(value, k->min, k->max, field, why_r,
					size);
	case CT_OCTAL:
		return config_parse_octal(value, k->min, k->max, field, why_r,
					  size);
	case CT_DURATION:
		return config_parse_duration(value, k->min, k->max, k->auto_ok,
					     field, why_r, size);
	case CT_ENUM:
		rc = config_parse_enum(value, k->words, &n, why_r, size);
		if (rc == 0)
			memcpy(field, &n, sizeof(n));
		return rc;
	case CT_LIST:
		*(allowlist **)field = lists_new(k->list);
		if (*(allowlist **)field == NULL) {
			snprintf(why_r, size, "out of memory");
			return -1;
		}
		return lists_parse(*(allowlist **)field, value, why_r, size);
	case CT_SOCKET:
		return config_parse_socket(value, field, why_r, size);
	case CT_USER:
		return config_parse_user(value, field, why_r, size);
	case CT_PATH:
		return config_parse_path(value, field, why_r, size);
	case CT_HOSTNAME:
		return config_parse_hostname(value, field, why_r, size);
	case CT_SOURCES:
		return config_parse_sources(value, field, why_r, size);
	case CT_MAILPATH:
		return config_parse_mailpath(value, field, why_r, size);
	case CT_SERVERS:
		return config_parse_servers(value, field, why_r, size);
	case CT_CACHE:
		return config_parse_cache(value, field, why_r, size);
	case CT_TEXT:
		return config_parse_text(value, field, why_r, size);
	}
	snprintf(why_r, size, "key of unknown type");
	return -1;
}

static struct config *
config_new(const char *path)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	atomic_init(&cfg->refs, 1);
	cfg->values = calloc(NKEYS, sizeof(*cfg->values));
	cfg->path = strdup(path);
	if (cfg->values == NULL || cfg->path == NULL) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * Apply the texts in cfg->values (NULL: the default), lines[i] being the
 * line each came from, then resolve what depends on the host.  name is
 * the file for messages.
 */
static int
config_finish(struct config *cfg, const char *name, const unsigned *lines,
	      char *error_r, size_t error_size)
{
	char why[CONFIG_ERROR_MAX];

	for (size_t i = 0; i < NKEYS; i++) {
		if (cfg->values[i] == NULL &&
		    (cfg->values[i] = strdup(keys[i].def)) == NULL) {
			snprintf(error_r, error_size, "%s: out of memory",
				 name);
			return -1;
		}
		if (config_apply(cfg, &keys[i], cfg->values[i], why,
				 sizeof(why)) == 0)
			continue;
		if (lines != NULL && lines[i] != 0)
			snprintf(error_r, error_size, "%s:%u: %s: %s", name,
				 lines[i], keys[i].name, why);
		else	/* a bug in the table */
			snprintf(error_r, error_size, "%s: default of %s: %s",
				 name, keys[i].name, why);
		return -1;
	}
	if (cfg->callout_helo[0] == '\0') {
		char fqdn[CV_DOMAIN_MAX + 1];

		if (config_find_fqdn(config_fqdn_hook, fqdn, sizeof(fqdn), why,
				     sizeof(why)) != 0) {
			snprintf(error_r, error_size, "%s: CalloutHelo: %s",
				 name, why);
			return -1;
		}
		free(cfg->callout_helo);
		if ((cfg->callout_helo = strdup(fqdn)) == NULL) {
			snprintf(error_r, error_size, "%s: out of memory",
				 name);
			return -1;
		}
	}
	return 0;
}

int
config_defaults(const struct config **cfg_r, char *error_r,
		size_t error_size)
{
	struct config *cfg = config_new("");

	*cfg_r = NULL;
	if (cfg == NULL) {
		snprintf(error_r, error_size, "defaults: out of memory");
		return -1;
	}
	if (config_finish(cfg, "defaults", NULL, error_r, error_size) != 0) {
		config_free(cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */
/* ------------------------------------------------------------------ */

enum { LINE_OK = 0, LINE_EOF, LINE_LONG, LINE_NUL };

/* Read one line without its LF (and without a CR before the LF) into
 * buf of CONFIG_LINE_MAX + 1 bytes. */
static int
config_read_line(FILE *fp, char *buf)
{
	size_t len = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			return LINE_NUL;
		if (len == CONFIG_LINE_MAX)
			return LINE_LONG;
		buf[len++] = (char)c;
	}
	if (c == EOF && len == 0)
		return LINE_EOF;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return LINE_OK;
}

/*
 * Split a line into key and value (both pointing into line, which is
 * rewritten in place): comments and "\#" handled, value trimmed.
 * Returns false for a comment or blank line.
 */
static bool
config_split(char *line, char **key_r, char **value_r)
{
	char *s = line, *out;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return false;
	*key_r = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	*value_r = out = s;
	for (char *in = s; *in != '\0'; in++) {
		if (in[0] == '\\' && in[1] == '#') {
			*out++ = *++in;
			continue;
		}
		/* '#' after white space (or first in the value) */
		if (*in == '#' && (in == s || in[-1] == ' ' || in[-1] == '\t'))
			break;
		*out++ = *in;
	}
	while (out > s && (out[-1] == ' ' || out[-1] == '\t'))
		out--;
	*out = '\0';
	return true;
}

/* Read every line of fp into cfg->values; lines_r[i] = line of key i. */
static int
config_read(struct config *cfg, FILE *fp, const char *name,
	    unsigned *lines_r, char *error_r, size_t error_size)
{
	char line[CONFIG_LINE_MAX + 1];
	unsigned lineno = 0;
	char *key, *value;
	int rc;

	while ((rc = config_read_line(fp, line)) != LINE_EOF) {
		const struct config_key *k;
		size_t i;

		if (++lineno > CONFIG_LINES_MAX) {
			snprintf(error_r, error_size,
				 "%s:%u: more than %d lines", name, lineno,
				 CONFIG_LINES_MAX);
			return -1;
		}
		if (rc == LINE_LONG || rc == LINE_NUL) {
			snprintf(error_r, error_size, "%s:%u: %s", name, lineno,
				 rc == LINE_NUL ? "NUL byte in line" :
				 "line longer than 4096 characters");
			return -1;
		}
		for (const char *s = line; *s != '\0'; s++)
			if ((*s > 0 && *s < ' ' && *s != '\t') || *s == 0x7f) {
				snprintf(error_r, error_size,
					 "%s:%u: control character in line",
					 name, lineno);
				return -1;
			}
		if (!config_split(line, &key, &value))
			continue;
		if ((k = config_key_find(key)) == NULL) {
			snprintf(error_r, error_size,
				 "%s:%u: unknown key \"%s\"", name, lineno,
				 key);
			return -1;
		}
		i = (size_t)(k - keys);
		if (cfg->values[i] != NULL) {
			snprintf(error_r, error_size,
				 "%s:%u: duplicate key \"%s\" "
				 "(first on line %u)", name, lineno, k->name,
				 lines_r[i]);
			return -1;
		}
		if ((cfg->values[i] = strdup(value)) == NULL) {
			snprintf(error_r, error_size, "%s: out of memory",
				 name);
			return -1;
		}
		lines_r[i] = lineno;
	}
	if (ferror(fp)) {
		snprintf(error_r, error_size, "%s: cannot read: %s", name,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int
config_load(const char *path, const struct config **cfg_r, char *error_r,
	    size_t error_size)
{
	unsigned lines[NKEYS] = {0};
	struct config *cfg;
	FILE *fp;
	int rc, saved;

	*cfg_r = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		saved = errno;
		snprintf(error_r, error_size, "%s: cannot open: %s", path,
			 strerror(saved));
		errno = saved == ENOENT ? ENOENT : EINVAL;
		return -1;
	}
	if ((cfg = config_new(path)) == NULL) {
		fclose(fp);
		snprintf(error_r, error_size, "%s: out of memory", path);
		errno = EINVAL;
		return -1;
	}
	rc = config_read(cfg, fp, path, lines, error_r, error_size);
	fclose(fp);
	if (rc == 0)
		rc = config_finish(cfg, path, lines, error_r, error_size);
	if (rc != 0) {
		config_free(cfg);
		errno = EINVAL;
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

/* Print a value so that reading it back gives it again: a '#' that
 * would start a comment is written "\#". */
static int
config_print_value(const char *v, FILE *fp)
{
	for (const char *s = v; *s != '\0'; s++) {
		if (*s == '#' && (s == v || s[-1] == ' ' || s[-1] == '\t') &&
		    putc('\\', fp) == EOF)
			return -1;
		if (putc(*s, fp) == EOF)
			return -1;
	}
	return 0;
}

int
config_print(const struct config *cfg, FILE *fp)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = cfg->values[i];

		if (fprintf(fp, "%s%s", keys[i].name,
			    *v != '\0' ? " " : "") < 0 ||
		    config_print_value(v, fp) != 0 || putc('\n', fp) == EOF)
			return -1;
		if (keys[i].type == CT_HOSTNAME && *v == '\0' &&
		    fprintf(fp, "# %s found: %s\n", keys[i].name,
			    cfg->callout_helo) < 0)
			return -1;
	}
	return fflush(fp) == 0 ? 0 : -1;
}

size_t
config_changed_unreloadable(const struct config *old_cfg,
			    const struct config *new_cfg, char *names_r,
			    size_t names_size)
{
	size_t n = 0;

	if (names_size > 0)
		names_r[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		size_t used;

		if (keys[i].reload ||
		    strcmp(old_cfg->values[i], new_cfg->values[i]) == 0)
			continue;
		used = names_size > 0 ? strlen(names_r) : 0;
		if (used + 1 < names_size)
			snprintf(names_r + used, names_size - used, "%s%s",
				 n > 0 ? " " : "", keys[i].name);
		n++;
	}
	return n;
}
