/*
 * engine_limits.c - the tables behind the probe engine's limits
 * (DESIGN.md section 9): what each domain is doing (probes running and
 * queued, its token bucket) and how many connections are open to each
 * MX address.
 *
 * Guarantees: both tables are bounded.  The domain table holds at most
 * max_domains entries; an entry with no probe is dropped as soon as its
 * rate bucket is full again, and the least recently used idle entry
 * makes room for a new domain when the table is full (losing its rate
 * state, which can only make the limit more lenient).  The MX table has
 * one slot per worker, since a probe holds at most one connection at a
 * time.  The caller (engine.c) holds its lock around every call.  The
 * log throttle keeps a flood of refusals from flooding the log too.
 *
 * Failure: out of memory or a table full of busy entries returns NULL or
 * false, which the engine turns into "unknown, held back by a limit".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

unsigned
engine_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int
limits_init(eng_limits *l, unsigned rate, unsigned mx_cap,
	    size_t max_domains, size_t workers)
{
	memset(l, 0, sizeof(*l));
	l->rate = rate;
	l->mx_cap = mx_cap;
	l->max_domains = max_domains > 0 ? max_domains : 1;
	TAILQ_INIT(&l->lru);
	l->nbuckets = 64;
	while (l->nbuckets < l->max_domains && l->nbuckets < (1u << 20))
		l->nbuckets <<= 1;
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	l->nips = workers > 0 ? workers : 1;
	l->ips = calloc(l->nips, sizeof(*l->ips));
	if (l->buckets == NULL || l->ips == NULL) {
		limits_destroy(l);
		return -1;
	}
	return 0;
}

void
limits_destroy(eng_limits *l)
{
	eng_domain *d;

	/* a table that never got through limits_init() is all zero */
	while ((d = TAILQ_FIRST(&l->lru)) != NULL) {
		TAILQ_REMOVE(&l->lru, d, link);
		free(d);
	}
	free(l->buckets);
	free(l->ips);
	memset(l, 0, sizeof(*l));
}

static void
limits_remove(eng_limits *l, eng_domain *d)
{
	eng_domain **pp = &l->buckets[engine_hash(d->name) &
	    (l->nbuckets - 1)];

	while (*pp != NULL && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp == d)
		*pp = d->hnext;
	TAILQ_REMOVE(&l->lru, d, link);
	l->ndomains--;
	free(d);
}

/* Drop the least recently used entry with no probe; false if none. */
static bool
limits_evict(eng_limits *l)
{
	eng_domain *d;

	TAILQ_FOREACH_REVERSE(d, &l->lru, eng_lru, link)
		if (d->running == 0 && d->queued == 0) {
			limits_remove(l, d);
			return true;
		}
	return false;
}

eng_domain *
limits_domain(eng_limits *l, const char *domain, int64_t now)
{
	size_t b = engine_hash(domain) & (l->nbuckets - 1);
	eng_domain *d;

	for (d = l->buckets[b]; d != NULL; d = d->hnext)
		if (strcmp(d->name, domain) == 0) {
			TAILQ_REMOVE(&l->lru, d, link);
			TAILQ_INSERT_HEAD(&l->lru, d, link);
			return d;
		}
	if (l->ndomains >= l->max_domains && !limits_evict(l))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	util_strlcpy(d->name, domain, sizeof(d->name));
	d->tokens = l->rate;
	d->refill_ms = now;
	d->hnext = l->buckets[b];
	l->buckets[b] = d;
	TAILQ_INSERT_HEAD(&l->lru, d, link);
	l->ndomains++;
	return d;
}

/* Top the bucket up for the time since the last refill. */
static void
limits_refill(const eng_limits *l, eng_domain *d, int64_t now)
{
	if (now > d->refill_ms) {
		d->tokens += (double)(now - d->refill_ms) * l->rate / 60000.0;
		if (d->tokens > l->rate)
			d->tokens = l->rate;
	}
	d->refill_ms = now;
}

bool
limits_take_token(eng_limits *l, eng_domain *d, int64_t now)
{
	if (l->rate == 0)
		return true;
	limits_refill(l, d, now);
	if (d->tokens < 1.0)
		return false;
	d->tokens -= 1.0;
	return true;
}

void
limits_domain_done(eng_limits *l, eng_domain *d, int64_t now)
{
	if (d->running != 0 || d->queued != 0)
		return;
	if (l->rate != 0) {
		limits_refill(l, d, now);
		if (d->tokens < l->rate)
			return;		/* keep the rate state */
	}
	limits_remove(l, d);
}

bool
limits_ip_acquire(eng_limits *l, const char *ip)
{
	eng_ip *free_slot = NULL;
	size_t i;

	for (i = 0; i < l->nips; i++) {
		eng_ip *s = &l->ips[i];

		if (s->count == 0) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (strcmp(s->ip, ip) == 0) {
			if (s->count >= l->mx_cap)
				return false;
			s->count++;
			return true;
		}
	}
	if (free_slot == NULL || l->mx_cap == 0)
		return false;
	util_strlcpy(free_slot->ip, ip, sizeof(free_slot->ip));
	free_slot->count = 1;
	return true;
}

void
limits_ip_release(eng_limits *l, const char *ip)
{
	size_t i;

	for (i = 0; i < l->nips; i++)
		if (l->ips[i].count > 0 && strcmp(l->ips[i].ip, ip) == 0) {
			l->ips[i].count--;
			return;
		}
}

int
throttle_init(eng_throttle *t, unsigned burst)
{
	memset(t, 0, sizeof(*t));
	t->burst = burst;
	return pthread_mutex_init(&t->lock, NULL) == 0 ? 0 : -1;
}

void
throttle_destroy(eng_throttle *t)
{
	(void)pthread_mutex_destroy(&t->lock);
}

bool
throttle_pass(eng_throttle *t, unsigned *dropped_r)
{
	int64_t sec = cv_now_ms() / 1000;
	bool pass;

	pthread_mutex_lock(&t->lock);
	if (sec != t->window) {
		t->window = sec;
		t->lines = 0;
	}
	pass = t->lines < t->burst;
	if (pass) {
		t->lines++;
		*dropped_r = t->dropped;
		t->dropped = 0;
	} else {
		t->dropped++;
	}
	pthread_mutex_unlock(&t->lock);
	return pass;
}
