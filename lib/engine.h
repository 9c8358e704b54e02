/*
 * engine.h - the limit tables of the probe engine (internal): per-domain
 * concurrency and rate, per-MX-address connections, and the throttle of
 * its log lines.  engine.c owns the lock of the tables; every limits_*
 * function is called with it held.  The throttle has a lock of its own.
 */
#ifndef CV_ENGINE_H
#define CV_ENGINE_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callout.h"

/* What one domain is doing now, and its rate bucket. */
typedef struct eng_domain {
	char name[CV_DOMAIN_MAX + 1];
	unsigned running;		/* probes running */
	unsigned queued;		/* probes waiting for a worker */
	double tokens;			/* rate bucket, if a rate is set */
	int64_t refill_ms;		/* when tokens were last topped up */
	struct eng_domain *hnext;	/* hash chain */
	TAILQ_ENTRY(eng_domain) link;	/* LRU, first most recent */
} eng_domain;

/* Connections open to one MX address. */
typedef struct eng_ip {
	char ip[CV_IPSTR_MAX];
	unsigned count;			/* 0: the slot is free */
} eng_ip;

typedef struct eng_limits {
	unsigned rate;			/* new probes a domain a minute */
	unsigned mx_cap;		/* connections per MX address */
	size_t max_domains;		/* table bound */
	size_t ndomains;
	size_t nbuckets;		/* power of two */
	eng_domain **buckets;
	TAILQ_HEAD(eng_lru, eng_domain) lru;
	eng_ip *ips;			/* one slot per worker */
	size_t nips;
} eng_limits;

/* The log throttle: at most burst lines a second, the rest counted. */
typedef struct eng_throttle {
	pthread_mutex_t lock;
	unsigned burst;
	int64_t window;			/* the second counted */
	unsigned lines, dropped;
} eng_throttle;

/* FNV-1a of a string, for the hash tables. */
unsigned engine_hash(const char *s);

int throttle_init(eng_throttle *t, unsigned burst);
void throttle_destroy(eng_throttle *t);
/* May a line go out now?  When it may, *dropped_r says how many were
 * held back since the last one (and the count restarts). */
bool throttle_pass(eng_throttle *t, unsigned *dropped_r);

/* Set up for workers threads; -1 when out of memory. */
int limits_init(eng_limits *l, unsigned rate, unsigned mx_cap,
		size_t max_domains, size_t workers);
void limits_destroy(eng_limits *l);

/* The entry of domain (made when new; an idle entry may be evicted for
 * it).  NULL when out of memory or every entry is busy. */
eng_domain *limits_domain(eng_limits *l, const char *domain, int64_t now);

/* Take one token of d's rate bucket; false when it is empty. */
bool limits_take_token(eng_limits *l, eng_domain *d, int64_t now);

/* d has no more probes of the caller's: drop it when it is idle and
 * holds no rate state worth keeping. */
void limits_domain_done(eng_limits *l, eng_domain *d, int64_t now);

/* One connection more (false: ip is at its cap) or one less. */
bool limits_ip_acquire(eng_limits *l, const char *ip);
void limits_ip_release(eng_limits *l, const char *ip);

#endif /* CV_ENGINE_H */
