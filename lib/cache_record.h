/*
 * cache_record.h - keys and records of the verdict cache (internal).
 *
 * Keys (text, so that a domain's records are one prefix scan):
 *   "d:<domain>"                   the domain record
 *   "a:<domain>:<local>"           an address probed with MAIL FROM:<>
 *   "a:<domain>:<local>/<sender>"  probed with MAIL FROM:<sender>
 * The domain is the ASCII form, lower-cased; the local part is kept as
 * given.  A key that would be longer than the store takes gets
 * "/#<hash of the sender>" instead of the sender.
 *
 * Values: a versioned binary record ("V", version, kind, entry count,
 * then the entries), integers little-endian, strings with a 16-bit
 * length.  An address record has one entry; a domain record has one per
 * fact (catch-all, null sender refused, postmaster refused), each with
 * its own stored time and expiry.
 */
#ifndef CV_CACHE_RECORD_H
#define CV_CACHE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callout.h"

#define CACHE_RECORD_VERSION	1
#define CACHE_REPLY_KEEP	300	/* reply octets kept */
#define CACHE_MESSAGE_KEEP	512	/* message octets kept */
#define CACHE_VALUE_MAX		4096	/* longest encoded record */
#define CACHE_KEY_MAX		600	/* longest key built */

/* The facts of a domain record, in lookup order. */
enum cache_fact {
	CACHE_FACT_NULL_SENDER = 0,	/* refuses MAIL FROM:<> */
	CACHE_FACT_CATCH_ALL,		/* accepts random local parts */
	CACHE_FACT_POSTMASTER,		/* refuses postmaster@ */
	CACHE_FACTS
};

typedef struct cache_entry {
	bool present;
	cv_verdict verdict;
	cv_class class_;
	cv_dns_status dns;
	int64_t stored;			/* Unix seconds */
	int64_t expires;		/* stored + ttl */
	char mx_name[CV_DOMAIN_MAX + 1];
	char mx_ip[CV_IPSTR_MAX];
	char sent[CV_PATH_MAX + 32];
	char reply[CACHE_REPLY_KEEP + 1];
	char message[CACHE_MESSAGE_KEEP + 1];
} cache_entry;

typedef struct cache_record {
	char kind;			/* 'a' address, 'd' domain */
	size_t count;			/* 1, or CACHE_FACTS */
	cache_entry e[CACHE_FACTS];
} cache_record;

/* Make an empty record of kind 'a' or 'd'. */
void cache_record_init(cache_record *rec, char kind);

/* Fill an entry from a probe result and a lifetime. */
void cache_entry_set(cache_entry *e, const cv_result *r, int64_t now,
		     unsigned ttl_s);

/* Fill a result from an entry, with cached set. */
void cache_entry_result(const cache_entry *e, cv_result *result_r);

/* Encode into buf; returns the length, 0 if it does not fit. */
size_t cache_record_encode(const cache_record *rec, unsigned char *buf,
			   size_t size);

/* Decode; false for anything that is not a valid current record. */
bool cache_record_decode(const unsigned char *buf, size_t len,
			 cache_record *rec_r);

/* The latest expiry of the entries present (0 if none). */
int64_t cache_record_expires(const cache_record *rec);

/* Keys.  Return false when the address gives no key (null, unqualified,
 * empty domain). */
bool cache_key_domain(const cv_address *addr, char *key_r, size_t size);
bool cache_key_address(const cv_address *addr, const char *mail_from,
		       size_t max_key, char *key_r, size_t size);
/* FNV-1a of a string: LRU buckets, and a sender too long for a key. */
uint64_t cache_hash(const char *s);
/* True for NULL, "" and "<>". */
bool cache_sender_null(const char *mail_from);

/*
 * What "callout cache show/purge KEY" selects: "local@domain" gives the
 * address records (every sender), "domain" the domain record and every
 * address record of the domain.  Returns false for a key that does not
 * parse.
 */
typedef struct cache_select {
	bool domain;
	char exact[CACHE_KEY_MAX];	/* "d:domain" or "" */
	char prefix[CACHE_KEY_MAX];	/* "a:domain:" or "a:domain:local" */
} cache_select;

bool cache_select_parse(const char *key, cache_select *sel_r);
bool cache_select_match(const cache_select *sel, const char *key);

/* One readable line per entry present, for "callout cache show". */
typedef void cache_print_fn(void *ctx, const char *line);
long cache_record_print(const char *key, const cache_record *rec,
			int64_t now, cache_print_fn *print, void *ctx);

#endif /* CV_CACHE_RECORD_H */
