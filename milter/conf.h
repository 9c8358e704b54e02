/*
 * conf.h - the configuration of callout-milter (DESIGN.md section 10):
 * one typed table of keys, the loader of callout-milter.conf, and the
 * immutable, reference-counted snapshot it produces.
 *
 * File format:
 *   - one "Key value" per line; the key is case-insensitive, the value is
 *     the rest of the line with surrounding white space removed (it may
 *     be empty, which clears a list or a string);
 *   - a line whose first non-blank character is '#' is a comment, and so
 *     is the rest of a line from a '#' that follows white space
 *     ("CalloutTimeout 10s  # short"); write "\#" for a literal '#' there.
 *     A '#' inside a word ("a#b") is kept;
 *   - blank lines are ignored; CR LF line ends are accepted; a line may
 *     hold at most CONFIG_LINE_MAX characters; other control characters
 *     than tab are refused;
 *   - a key given twice, an unknown key, a bad value or a value out of
 *     range is an error "FILE:LINE: what is wrong", where FILE is the path
 *     as given, e.g. 'callout-milter.conf:12: unknown key "Foo"' or
 *     'callout-milter.conf:3: CalloutTimeout: bad duration "10x"'.
 *   - durations are a number with an optional unit: "30" or "30s", "10m",
 *     "2h", "7d".
 *
 * Lifetime: config_load() builds a new struct config on the heap, checks
 * it and hands it out with one reference.  It is never written again, so
 * threads share it freely; each holder takes its own reference with
 * config_ref() and drops it with config_unref(); the last one frees the
 * snapshot with its lists.  A SIGHUP loads a new snapshot and swaps the
 * daemon's pointer; sessions keep the one they started with.
 */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "callout.h"
#include "lists.h"
#include "reply.h"

#ifdef SYSCONFDIR
#define CONFIG_DEFAULT_FILE SYSCONFDIR "/callout-milter/callout-milter.conf"
#endif

#define CONFIG_LINE_MAX		4096	/* characters in one line */
#define CONFIG_LINES_MAX	100000	/* lines in one file */
#define CONFIG_ERROR_MAX	1024	/* a good size for error_r */
#define CONFIG_PATH_MAX		1024	/* PidFile, lmdb: path */
#define CONFIG_NAME_MAX		32	/* user and group names */
#define CONFIG_NAMESERVERS_MAX	8
#define CONFIG_TEXT_MAX		900	/* a reply text override */
#define CONFIG_SOCKET_PATH_MAX	107	/* sizeof(sun_path) - 1 on Linux */

/* ------------------------------------------------------------------ */
/* Value types                                                          */
/* ------------------------------------------------------------------ */

enum config_mode {
	CONFIG_MODE_ENFORCE = 0,	/* reject and tempfail */
	CONFIG_MODE_TAG,		/* accept, add a header */
	CONFIG_MODE_OFF,		/* accept, check nothing */
};

enum config_verify {
	CONFIG_VERIFY_CALLOUT = 0,	/* DNS and the SMTP callout */
	CONFIG_VERIFY_DOMAIN,		/* DNS only */
	CONFIG_VERIFY_OFF,
};

enum config_spf_pass {
	CONFIG_SPF_PASS_SKIP = 0,	/* SPF pass: no callout needed */
	CONFIG_SPF_PASS_VERIFY,		/* SPF pass: verify anyway */
};

enum config_spf_fail {
	CONFIG_SPF_FAIL_REJECT = 0,	/* SPF fail: reject */
	CONFIG_SPF_FAIL_VERIFY,		/* SPF fail: let the callout decide */
	CONFIG_SPF_FAIL_IGNORE,		/* SPF fail: as if no SPF */
};

enum config_cache_kind {
	CONFIG_CACHE_MEMORY = 0,
	CONFIG_CACHE_LMDB,
	CONFIG_CACHE_REDIS,
};

/* Socket: where the MTA connects.  spec is the text libmilter takes. */
struct config_socket {
	char spec[CONFIG_SOCKET_PATH_MAX + CV_DOMAIN_MAX + 16];
	int family;			/* AF_UNIX, AF_INET or AF_INET6 */
	char path[CONFIG_SOCKET_PATH_MAX + 1];	/* AF_UNIX */
	char host[CV_DOMAIN_MAX + 1];	/* inet: "" for any address */
	unsigned port;			/* inet */
};

/* UserID: user[:group]; user "" means do not change user. */
struct config_user {
	char user[CONFIG_NAME_MAX + 1];
	char group[CONFIG_NAME_MAX + 1];	/* "": the user's group */
};

/* CalloutSource: ss_family is AF_UNSPEC where the kernel chooses. */
struct config_sources {
	struct sockaddr_storage v4;
	struct sockaddr_storage v6;
};

/* Nameservers: "host", "host:port" or "[v6]:port" as given; count 0
 * means /etc/resolv.conf.  Fits cv_resolver_new(). */
struct config_servers {
	char **list;
	size_t count;
};

/* Cache: memory, lmdb:PATH or redis://HOST[:PORT][/DB]. */
struct config_cache {
	enum config_cache_kind kind;
	char path[CONFIG_PATH_MAX];	/* lmdb */
	char host[CV_DOMAIN_MAX + 1];	/* redis; an IPv6 address bare */
	unsigned port;			/* redis, default 6379 */
	unsigned db;			/* redis, default 0 */
};

/*
 * One configuration snapshot.  Read-only once loaded: take it as const.
 * Durations are in seconds (_s).  Each field is set by exactly one row
 * of the key table in conf.c, named in the comment.
 */
struct config {
	/* the daemon */
	struct config_socket socket;	/* Socket */
	unsigned socket_mode;		/* SocketMode (octal) */
	struct config_user user;	/* UserID */
	char *pid_file;			/* PidFile; "" for none */
	int syslog_facility;		/* SyslogFacility: LOG_MAIL ... */
	unsigned workers;		/* Workers */
	unsigned queue_size;		/* QueueSize */

	/* policy */
	enum config_mode mode;		/* Mode */
	enum config_verify sender_verify;	/* SenderVerify */
	enum config_verify header_sender_verify; /* HeaderSenderVerify */
	/* DeferOK, ReplyDetails, ProbeRefused, NullSenderRefused and the
	 * ReplyText* keys.  A text is the literal text: the "%%" the file
	 * must use for '%' is undone here, as reply.c doubles every '%'
	 * itself; NULL for the built-in text. */
	reply_policy reply;
	bool verify_authenticated;	/* VerifyAuthenticated */

	/* the callout */
	unsigned callout_timeout_s;		/* CalloutTimeout */
	unsigned callout_connect_timeout_s;	/* CalloutConnectTimeout */
	unsigned callout_max_wait_s;		/* CalloutMaxWait; 0: auto */
	unsigned callout_background_timeout_s;	/* CalloutBackgroundTimeout */
	unsigned callout_max_hosts;		/* CalloutMaxHosts */
	unsigned callout_port;			/* CalloutPort */
	unsigned dns_timeout_s;			/* DNSTimeout */
	char *callout_helo;	/* CalloutHelo; the FQDN found when empty */
	struct config_sources callout_source;	/* CalloutSource */
	char *callout_mail_from; /* CalloutMailFrom: "a@b", "" for <> */
	bool callout_random;		/* CalloutRandom */
	bool callout_postmaster;	/* CalloutPostmaster */
	allowlist *callout_allow_networks; /* CalloutAllowNetworks (hosts) */
	struct config_servers nameservers;	/* Nameservers */

	/* the cache and the limits that protect other servers */
	struct config_cache cache;		/* Cache */
	unsigned cache_memory_entries;		/* CacheMemoryEntries */
	unsigned cache_positive_ttl_s;		/* CachePositiveTTL */
	unsigned cache_negative_ttl_s;		/* CacheNegativeTTL */
	unsigned cache_unknown_ttl_s;		/* CacheUnknownTTL */
	unsigned cache_domain_positive_ttl_s;	/* CacheDomainPositiveTTL */
	unsigned cache_domain_negative_ttl_s;	/* CacheDomainNegativeTTL */
	unsigned domain_concurrency;		/* DomainConcurrency */
	unsigned mx_concurrency;		/* MXConcurrency */
	unsigned domain_rate_per_minute; /* DomainRatePerMinute; 0: none */

	/* SPF */
	bool spf;				/* SPF */
	enum config_spf_pass spf_pass;		/* SPFPass */
	enum config_spf_fail spf_fail;		/* SPFFail */
	bool add_received_spf;			/* AddReceivedSPF */
	unsigned spf_helpers;			/* SPFHelpers */
	unsigned spf_timeout_s;			/* SPFTimeout */

	/* allow-lists (section 7); never NULL in a loaded snapshot */
	allowlist *exempt_hosts;		/* ExemptHosts */
	allowlist *exempt_host_names;		/* ExemptHostNames */
	allowlist *exempt_senders;		/* ExemptSenders */
	allowlist *exempt_sender_domains;	/* ExemptSenderDomains */
	allowlist *skip_sender_domains;		/* SkipSenderDomains */
	allowlist *exempt_recipients;		/* ExemptRecipients */
	allowlist *exempt_recipient_domains;	/* ExemptRecipientDomains */

	/* bookkeeping, for conf.c only */
	char *path;		/* the file loaded; "" for the defaults */
	char **values;		/* per key: the text in effect */
	atomic_uint refs;
};

/* ------------------------------------------------------------------ */
/* The key table                                                       */
/* ------------------------------------------------------------------ */

enum config_type {
	CT_BOOL = 0,	/* yes/no (also true/false, on/off) -> bool */
	CT_INT,		/* decimal, min..max -> unsigned */
	CT_OCTAL,	/* octal file mode, min..max -> unsigned */
	CT_DURATION,	/* 30s 10m 2h 7d or seconds, min..max -> unsigned s */
	CT_ENUM,	/* one of words -> int-sized enum */
	CT_LIST,	/* allow-list of kind list -> allowlist * */
	CT_SOCKET,	/* -> struct config_socket */
	CT_USER,	/* user[:group] -> struct config_user */
	CT_PATH,	/* absolute path or empty -> char * */
	CT_HOSTNAME,	/* host name; empty: this host's FQDN -> char * */
	CT_SOURCES,	/* IPv4 and/or IPv6 address -> config_sources */
	CT_MAILPATH,	/* envelope path, "<>" -> char * */
	CT_SERVERS,	/* name servers -> struct config_servers */
	CT_CACHE,	/* cache backend -> struct config_cache */
	CT_TEXT,	/* reply text, '%%' for '%', empty: built-in ->
			 * const char *, '%' single, NULL when empty */
};

struct config_word {
	const char *word;
	int value;
};

struct config_key {
	const char *name;
	enum config_type type;
	const char *def;	/* default as the sample writes it; "" empty */
	bool reload;		/* a SIGHUP applies a change */
	const char *help;	/* one line, no final period */
	size_t offset;		/* of the field in struct config */
	long long min, max;	/* CT_INT, CT_OCTAL, CT_DURATION (seconds) */
	const struct config_word *words; /* CT_ENUM, ends with a NULL word */
	enum lists_kind list;	/* CT_LIST */
	bool auto_ok;		/* CT_DURATION: "auto" is accepted, as 0 */
};

size_t config_key_count(void);
/* The i-th key in table order, NULL when i >= config_key_count(). */
const struct config_key *config_key_at(size_t i);
/* Case-insensitive lookup; NULL when unknown. */
const struct config_key *config_key_find(const char *name);
/* "duration", "list of host addresses", ... for help and man page. */
const char *config_type_name(const struct config_key *key);

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

/*
 * Load path into a new snapshot with one reference.  Returns 0, or -1
 * with "FILE:LINE: reason" (or "FILE: reason") in error_r; errno is then
 * ENOENT when the file does not exist, so a daemon started without -c
 * may fall back to config_defaults(), and EINVAL otherwise.
 */
int config_load(const char *path, const struct config **cfg_r,
		char *error_r, size_t error_size);

/* The snapshot of an empty file: every key at its default. */
int config_defaults(const struct config **cfg_r, char *error_r,
		    size_t error_size);

/* Take one more reference; returns cfg. */
const struct config *config_ref(const struct config *cfg);

/* Drop a reference and set *cfg_p to NULL; the last one frees. */
void config_unref(const struct config **cfg_p);

/* The value text in effect for key: as written, or the default. */
const char *config_value(const struct config *cfg,
			 const struct config_key *key);

/* Print every key and its value in effect as "Key value" lines (for
 * callout-milter -n); the FQDN found for an empty CalloutHelo is shown
 * as a comment.  Returns 0, or -1 on an output error. */
int config_print(const struct config *cfg, FILE *fp);

/*
 * The keys whose value differs between old and new although a SIGHUP
 * cannot apply them, as "Key1 Key2" in names_r (truncated to fit).
 * Returns how many.
 */
size_t config_changed_unreloadable(const struct config *old_cfg,
				   const struct config *new_cfg,
				   char *names_r, size_t names_size);

/*
 * For tests: replace the lookup of this host's FQDN (empty CalloutHelo)
 * by fn, which writes a name to buf and returns 0, or returns -1.  NULL
 * restores the real lookup (gethostname, then getaddrinfo with
 * AI_CANONNAME bounded to CONFIG_FQDN_TIMEOUT_MS).  Not thread safe:
 * call before any load.
 */
#define CONFIG_FQDN_TIMEOUT_MS 3000
typedef int config_fqdn_fn(char *buf, size_t size);
void config_set_fqdn_hook(config_fqdn_fn *fn);

#endif /* CM_CONFIG_H */
