/*
 * callout.h - the public interface of libcallout.
 *
 * libcallout answers one question: does the mailbox local@domain exist?
 * It finds the domain's mail servers through DNS and asks them with an
 * SMTP dialog that stops at RCPT TO (a "sender verify callout"), and it
 * parses the envelope and header addresses such a check starts from.
 *
 * The library knows nothing of libmilter, syslog or configuration files:
 * callers fill parameter structs and get typed results back.  Every wait
 * is bounded by a deadline the caller gives, every buffer filled from the
 * network has a hard cap, and nothing that comes from an address can reach
 * an SMTP command line unchecked.
 *
 * Thread safety: all functions may be called from several threads at once
 * on different objects.  A cv_resolver and a cv_netlist may be shared by
 * threads once set up (queries keep their resolver state per thread).
 */
#ifndef CALLOUT_H
#define CALLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

#define CV_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1, octets */
#define CV_DOMAIN_MAX		255	/* RFC 5321 4.5.3.1.2, octets */
#define CV_PATH_MAX		256	/* RFC 5321 4.5.3.1.3, with "<>" */
#define CV_HEADER_ADDRS_MAX	100	/* addresses taken from one header */
#define CV_HEADER_MAX		(64 * 1024)	/* header value octets parsed */
#define CV_ERROR_MAX		256	/* room for an error text */
#define CV_REPLY_MAX		1024	/* remote reply text kept in a result */
#define CV_HOSTS_MAX		32	/* host addresses kept per domain */
#define CV_IPSTR_MAX		46	/* INET6_ADDRSTRLEN */

/* ------------------------------------------------------------------ */
/* Addresses (address.c)                                               */
/* ------------------------------------------------------------------ */

/*
 * One parsed mailbox.  Strings are NUL-terminated and never contain
 * control characters (the parser refuses them).
 */
typedef struct cv_address {
	/* local part exactly as it goes on the wire: quotes kept, case kept */
	char local[CV_LOCAL_MAX + 1];
	/* domain with ASCII letters lower-cased; U-labels kept as UTF-8;
	 * an address literal keeps its brackets: "[192.0.2.1]" */
	char domain[CV_DOMAIN_MAX + 1];
	/* the domain in ASCII for DNS: U-labels converted to A-labels
	 * ("xn--..."); the same as domain when that is ASCII */
	char ascii_domain[CV_DOMAIN_MAX + 1];
	/* local@domain, or "" for the null path <> and unqualified local */
	char address[CV_PATH_MAX + 1];
	bool null;		/* the null reverse-path <> */
	bool literal;		/* domain is an address literal [...] */
	bool utf8;		/* 8-bit UTF-8 in local part or domain */
	bool unqualified;	/* header address without @domain */
} cv_address;

/*
 * Parse an RFC 5321 envelope path as it appears after MAIL FROM: or
 * RCPT TO:, with or without the angle brackets ("<a@b>", "a@b", "<>",
 * "<@r1,@r2:a@b>"; a source route is dropped).  ESMTP parameters after
 * the path are an error: callers pass the path alone.  An unqualified
 * path ("<user>") is refused.
 *
 * Returns 0 and fills *addr_r, or -1 and writes a one-line reason in
 * Exim's wording to error_r (e.g. "'>' missing at end of address").
 */
int cv_path_parse(const char *text, size_t len, cv_address *addr_r,
		  char *error_r, size_t error_size);

/*
 * Parse the value of an RFC 5322 address header (From:, Sender:,
 * Reply-To:, ...): display names, comments, quoted strings, groups,
 * empty list elements and the obsolete forms real mail carries.  At most
 * max addresses are stored (a header with more is an error); groups and
 * empty elements add nothing.  An address without "@domain" is stored
 * with unqualified set, so that the caller can fail it (header_sender).
 *
 * Returns 0 and sets *count_r (possibly 0), or -1 with a reason in
 * error_r; the reason does not quote the header (callers add
 * 'in "<text>"' themselves).
 */
int cv_header_parse(const char *text, size_t len, cv_address *addrs_r,
		    size_t max, size_t *count_r, char *error_r,
		    size_t error_size);

/* ------------------------------------------------------------------ */
/* Network lists and reserved ranges (netlist.c)                       */
/* ------------------------------------------------------------------ */

typedef struct cv_netlist cv_netlist;

cv_netlist *cv_netlist_new(void);
/* Add "192.0.2.0/24", "2001:db8::/32", "192.0.2.1" or "::1".
 * Returns 0, or -1 with a reason in error_r. */
int cv_netlist_add(cv_netlist *list, const char *cidr, char *error_r,
		   size_t error_size);
bool cv_netlist_match(const cv_netlist *list, const struct sockaddr *sa);
size_t cv_netlist_count(const cv_netlist *list);
/* Free the list and set *list_p to NULL; NULL is fine. */
void cv_netlist_free(cv_netlist **list_p);

/*
 * True when sa lies in a range a callout must not reach unless allowed:
 * loopback, RFC 1918 private, link-local, multicast, CGNAT (100.64/10),
 * unique-local (fc00::/7), unspecified, broadcast, IPv4-mapped and other
 * reserved ranges.  The documentation ranges count as reserved too.
 */
bool cv_addr_reserved(const struct sockaddr *sa);

/* ------------------------------------------------------------------ */
/* DNS (dns.c)                                                         */
/* ------------------------------------------------------------------ */

typedef enum cv_dns_status {
	CV_DNS_OK = 0,
	CV_DNS_NXDOMAIN,	/* the name does not exist */
	CV_DNS_NODATA,		/* the name exists, no records of that type */
	CV_DNS_NULLMX,		/* MX 0 . (RFC 7505) */
	CV_DNS_NOHOSTS,		/* MX targets all nonexistent or refused */
	CV_DNS_TEMP,		/* SERVFAIL, REFUSED, timeout, bad answer */
} cv_dns_status;

typedef struct cv_resolver cv_resolver;

/*
 * The query hook: answer one question into answer[] the way res_nquery
 * does (a whole DNS message).  Return its length, or -1 and set
 * *status_r to CV_DNS_NXDOMAIN, CV_DNS_NODATA or CV_DNS_TEMP.  Unit
 * tests install one to inject answers without a server.
 */
typedef int cv_query_fn(void *ctx, const char *name, int type,
			unsigned char *answer, size_t size,
			cv_dns_status *status_r);

/*
 * Make a resolver.  servers lists "host", "host:port", "[v6]:port" (IPv4
 * or IPv6), count 0 means /etc/resolv.conf.  timeout_ms bounds each
 * query attempt.  Returns NULL with a reason in error_r.
 */
cv_resolver *cv_resolver_new(const char *const *servers, size_t count,
			     unsigned timeout_ms, char *error_r,
			     size_t error_size);
void cv_resolver_set_query(cv_resolver *res, cv_query_fn *fn, void *ctx);
void cv_resolver_free(cv_resolver **res_p);

/*
 * One question through the resolver (or its hook), bounded by deadline
 * (cv_now_ms() scale).  Same contract as cv_query_fn.  Used by the SPF
 * layer so that SPF and callouts see the same DNS.
 */
int cv_dns_query(cv_resolver *res, const char *name, int type,
		 unsigned char *answer, size_t size, int64_t deadline,
		 cv_dns_status *status_r);

/* One host address to try, in order. */
typedef struct cv_host {
	char name[CV_DOMAIN_MAX + 1];	/* MX target (or the domain) */
	unsigned preference;		/* MX preference, 0 for implicit */
	struct sockaddr_storage addr;	/* port not set */
	socklen_t addrlen;
	char ip[CV_IPSTR_MAX];		/* printable address */
} cv_host;

typedef struct cv_hostlist {
	cv_dns_status status;
	size_t count;
	cv_host hosts[CV_HOSTS_MAX];
	size_t skipped;		/* addresses refused as reserved */
	/* Exim's text for a failure: "Unrouteable address", "host lookup
	 * did not complete", ... ; "" when status is CV_DNS_OK */
	char message[CV_ERROR_MAX];
} cv_hostlist;

/*
 * The hosts to call for domain (ASCII form): MX by preference with equal
 * preferences shuffled, else the implicit MX; AAAA and A of each.
 * Reserved addresses are dropped unless allow matches them.
 * Returns 0 with list_r->status set; -1 only for bad arguments.
 */
typedef void cv_trace_fn(void *ctx, char dir, const char *line);
int cv_dns_hosts(cv_resolver *res, const char *domain,
		 const cv_netlist *allow, int64_t deadline,
		 cv_trace_fn *trace, void *trace_ctx, cv_hostlist *list_r);

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

/* Milliseconds on CLOCK_MONOTONIC; every deadline uses this scale. */
int64_t cv_now_ms(void);

/* ------------------------------------------------------------------ */
/* The callout (verify.c)                                              */
/* ------------------------------------------------------------------ */

/* What was concluded.  The values are the exit codes of callout(1). */
typedef enum cv_verdict {
	CV_VERIFIED = 0,
	CV_FAILED = 1,
	CV_UNKNOWN = 2,
} cv_verdict;

/* Where and why.  Kept apart from the verdict on purpose: a temporary
 * problem can never become a permanent rejection by accident. */
typedef enum cv_class {
	CV_CLASS_NONE = 0,	/* nothing happened yet */
	CV_CLASS_DNS,		/* see cv_result.dns */
	CV_CLASS_CONNECT,	/* refused, unreachable, closed before banner */
	CV_CLASS_BANNER,	/* 4xx banner */
	CV_CLASS_HELO,		/* EHLO and HELO refused with 4xx */
	CV_CLASS_MAIL,		/* MAIL 4xx */
	CV_CLASS_RCPT,		/* RCPT 2xx (verified), 5xx (failed), 4xx */
	CV_CLASS_TIMEOUT,	/* a command, connect or the deadline */
	CV_CLASS_PROTOCOL,	/* malformed reply, connection dropped */
	CV_CLASS_PROBE_REFUSED,	/* banner/HELO 5xx, 5.7.x, MAIL 530 */
	CV_CLASS_NULL_SENDER_REFUSED,	/* MAIL FROM:<> 5xx */
	CV_CLASS_CATCH_ALL,	/* a random local part was accepted */
	CV_CLASS_POSTMASTER,	/* postmaster@domain refused */
	CV_CLASS_LOCAL,		/* our own trouble: syntax, memory, socket */
	CV_CLASS_LIMIT,		/* held back by a rate or concurrency cap */
} cv_class;

typedef struct cv_result {
	cv_verdict verdict;
	cv_class class_;
	cv_dns_status dns;		/* for CV_CLASS_DNS */
	bool cached;			/* answered from a cache */
	bool in_progress;		/* deadline passed, probe goes on */
	char mx_name[CV_DOMAIN_MAX + 1]; /* host that gave the answer */
	char mx_ip[CV_IPSTR_MAX];
	char sent[CV_PATH_MAX + 32];	/* last command sent, no CRLF */
	/* remote reply, lines joined with '\n', raw bytes except NUL */
	char reply[CV_REPLY_MAX];
	/* Exim-style detail for logs: "<mx> [<ip>] : SMTP error from
	 * remote mail server after RCPT TO:<a@b>: 550 ..." */
	char message[CV_REPLY_MAX + 2 * CV_PATH_MAX];
	unsigned hosts_tried;
	int64_t elapsed_ms;
} cv_result;

/* Connect hook: return a socket connected or connecting (non-blocking)
 * to sa, or -1 with errno set. */
typedef int cv_connect_fn(void *ctx, const struct sockaddr *sa,
			  socklen_t salen);

/* Host gate: asked before each host is called (acquire true) and after
 * (acquire false, only when the acquire returned true).  An acquire that
 * returns false skips the host as "unknown, held back by a limit"
 * (CV_CLASS_LIMIT).  The probe engine uses it for per-MX caps. */
typedef bool cv_gate_fn(void *ctx, const cv_host *host, bool acquire);

typedef struct cv_params {
	const char *helo;		/* EHLO/HELO argument (required) */
	const char *mail_from;		/* NULL or "" for MAIL FROM:<> */
	unsigned connect_timeout_ms;	/* default 10000 */
	unsigned command_timeout_ms;	/* default 10000, per command */
	unsigned max_hosts;		/* host addresses tried, default 5 */
	unsigned port;			/* default 25 */
	bool random;			/* probe a random local part first */
	bool postmaster;		/* also require postmaster@domain */
	const cv_netlist *allow_networks; /* reserved ranges allowed */
	const struct sockaddr *source4;	/* CalloutSource, or NULL */
	const struct sockaddr *source6;
	cv_resolver *resolver;		/* required */
	cv_trace_fn *trace;		/* transcript: '>' sent, '<' got,
					 * '#' note; NULL for none */
	void *trace_ctx;
	cv_connect_fn *connect;		/* NULL: the real connect */
	void *connect_ctx;
	cv_gate_fn *gate;		/* NULL: no per-host limit */
	void *gate_ctx;
	/* Lifetime hook for the probe engine, which keeps a copy of these
	 * parameters while a probe runs: called with take true when a
	 * probe starts to depend on the pointers above (resolver,
	 * allow_networks, connect_ctx) and with take false when it is
	 * done with them.  A caller that reloads its resolver counts
	 * references here.  NULL: the caller keeps them alive until the
	 * engine is freed.  cv_verify() does not call it. */
	void (*hold)(void *ctx, bool take);
	void *hold_ctx;
} cv_params;

/* Fill p with the defaults above (helo and resolver stay NULL). */
void cv_params_init(cv_params *p);

/*
 * Verify addr by callout, finishing by deadline (cv_now_ms() scale;
 * never overrun by more than a fraction of a second).  Always fills
 * *result_r; returns the verdict.
 */
cv_verdict cv_verify(const cv_params *p, const cv_address *addr,
		     int64_t deadline, cv_result *result_r);

/* ------------------------------------------------------------------ */
/* The verdict cache (cache.c, cache_lmdb.c)                           */
/* ------------------------------------------------------------------ */

/*
 * Two levels: an in-memory LRU of bounded size in front of an optional
 * persistent store (LMDB today, Redis later), behind one interface.
 * Times are Unix seconds from the cache's clock (a hook, so tests move
 * time without sleeping).  A cache that cannot be opened, read or
 * written degrades to "no answer": it never makes a verdict up.
 */
typedef struct cv_cache cv_cache;

typedef struct cv_cache_params {
	const char *lmdb_path;		/* NULL or "": memory only */
	size_t memory_entries;		/* LRU size, default 10000 */
	unsigned positive_ttl_s;	/* verified address, default 24h */
	unsigned negative_ttl_s;	/* failed address, default 2h */
	unsigned unknown_ttl_s;		/* unknown address, default 5m */
	unsigned domain_positive_ttl_s;	/* default 7d */
	unsigned domain_negative_ttl_s;	/* default 3h */
	int64_t (*clock)(void);		/* NULL: time(NULL) */
	/* problems (cannot open, write, corrupt) are reported here */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
} cv_cache_params;

/* What the cache knows of one address. */
typedef enum cv_cache_hit {
	CV_CACHE_MISS = 0,	/* nothing usable: probe */
	CV_CACHE_HIT,		/* *result_r holds the answer */
	CV_CACHE_HIT_REFRESH,	/* answer, but older than half its life:
				 * serve it and probe again in the background */
} cv_cache_hit;

void cv_cache_params_init(cv_cache_params *p);
/* Never NULL but for memory exhaustion: a store that cannot be opened
 * leaves a memory-only cache and a warning. */
cv_cache *cv_cache_new(const cv_cache_params *p);
void cv_cache_free(cv_cache **cache_p);

/*
 * Look addr up, probed with MAIL FROM mail_from (NULL or "" for <>; a
 * non-null probe sender has keys of its own).  Domain records come
 * first (refuses the null sender: failed; accepts random local parts:
 * verified catch-all), then the address record.  A hit fills *result_r
 * with cached set.
 */
cv_cache_hit cv_cache_lookup(cv_cache *cache, const cv_address *addr,
			     const char *mail_from, cv_result *result_r);

/*
 * Store the result of a probe: the address record (a failed or unknown
 * result never overwrites a verified record that has not expired) and
 * the domain facts it shows (catch-all, null sender refused, postmaster
 * refused).
 */
void cv_cache_store(cv_cache *cache, const cv_address *addr,
		    const char *mail_from, const cv_result *result);

/* Remove the records of an address ("local@domain") or of a domain and
 * all its addresses.  Returns the number removed, -1 on error. */
long cv_cache_purge(cv_cache *cache, const char *key);

typedef struct cv_cache_stats {
	uint64_t hits, misses, stores, errors;
	size_t memory_entries;		/* in the LRU now */
	size_t store_entries;		/* in the persistent store */
	size_t store_bytes;		/* its map size in use */
} cv_cache_stats;

void cv_cache_get_stats(cv_cache *cache, cv_cache_stats *stats_r);

/* Print every record for key (address or domain), one per line, for
 * "callout cache show".  Returns the number printed, -1 on error. */
long cv_cache_show(cv_cache *cache, const char *key,
		   void (*print)(void *ctx, const char *line), void *ctx);

/* ------------------------------------------------------------------ */
/* The probe engine (engine.c)                                         */
/* ------------------------------------------------------------------ */

/*
 * A bounded pool of worker threads that run callouts, so that the
 * threads of a caller (libmilter's) only wait.  One probe per address at
 * a time, however many callers ask; a caller whose deadline passes gets
 * "unknown, in progress" while the probe goes on under its own budget
 * and stores its result in the cache.  Limits protect remote servers:
 * per-domain and per-MX-address concurrency, a per-domain rate.
 */
typedef struct cv_engine cv_engine;

typedef struct cv_engine_params {
	unsigned workers;		/* threads, default 16 */
	unsigned queue_size;		/* waiting probes, default 256 */
	unsigned background_timeout_ms;	/* a probe's own budget, 5 min */
	unsigned domain_concurrency;	/* probes per domain, default 4 */
	unsigned mx_concurrency;	/* connections per MX address, 8 */
	unsigned domain_rate_per_minute; /* new probes per domain, 0: none */
	cv_cache *cache;		/* NULL: no cache (not owned) */
	/* events worth a log line (queue full, limit hit, cache trouble) */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
} cv_engine_params;

void cv_engine_params_init(cv_engine_params *p);
cv_engine *cv_engine_new(const cv_engine_params *p, char *error_r,
			 size_t error_size);
/* Stop the workers (probes in flight are abandoned) and free. */
void cv_engine_free(cv_engine **engine_p);

/*
 * Answer for addr by deadline: from the cache, or by joining the probe
 * already running for it, or by starting one with the callout
 * parameters p (copied; p->resolver must outlive the engine's use).
 * A full queue or a limit answers unknown at once (class CV_CLASS_LIMIT).
 */
cv_verdict cv_engine_verify(cv_engine *engine, const cv_params *p,
			    const cv_address *addr, int64_t deadline,
			    cv_result *result_r);

typedef struct cv_engine_stats {
	uint64_t requests, cache_hits, joined, probes, timeouts_waiting;
	uint64_t queue_full, limited;
	unsigned running, queued;
} cv_engine_stats;

void cv_engine_get_stats(cv_engine *engine, cv_engine_stats *stats_r);

/* Short lower-case names for logs: "verified", "rcpt", "nxdomain", ... */
const char *cv_verdict_name(cv_verdict v);
const char *cv_class_name(cv_class c);
const char *cv_dns_status_name(cv_dns_status s);

#ifdef __cplusplus
}
#endif

#endif /* CALLOUT_H */
