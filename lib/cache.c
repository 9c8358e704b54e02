/*
 * cache.c - the verdict cache: the rules of what is remembered and for
 * how long, an in-memory LRU as the first level and an optional
 * persistent store (cache_store.h) as the second (DESIGN.md section 8;
 * Exim's hints database "callout" and Postfix's verify cache).
 *
 * What it guarantees:
 * - an address is remembered as verified (positive TTL), failed only
 *   when a server said the mailbox does not exist (RCPT 5xx; negative
 *   TTL), or unknown for a short time only to stop repeated probes (a
 *   lookup answers unknown, never failed);
 * - nothing is stored for a probe still in progress, for a probe held
 *   back by a limit, for our own trouble, nor for DNS results (the
 *   resolver caches those, with the TTLs their owners chose);
 * - domain facts (accepts random local parts, refuses the null sender,
 *   refuses the postmaster probe) each expire on their own and come
 *   before the address record on lookup, in Exim's order;
 * - a failed or unknown result never overwrites a verified record that
 *   has not expired; a verified result overwrites anything;
 * - a record older than half its lifetime is answered with
 *   CV_CACHE_HIT_REFRESH, so the caller re-probes in the background.
 *
 * Levels: every lookup asks the LRU first, then the store; a store hit
 * is copied into the LRU.  A store writes both.  All functions are
 * thread-safe: the LRU has a mutex, the counters are atomic, stores are
 * serialised so that the overwrite rule holds inside a process.  XXX:
 * between processes sharing one LMDB file the read-modify-write of a
 * store is not one transaction, so two daemons storing the same key at
 * the same second may each win once; both answers are real results.
 *
 * How it fails: never by making a verdict up.  A store that does not
 * open leaves a memory-only cache and a warning; a store error is a miss
 * or a dropped write; a record that does not decode is a miss, counted
 * as an error, warned about once per cache and deleted.  Expired records
 * in the store are swept a few at a time as stores go by.
 */
#include "config.h"

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_record.h"
#include "cache_store.h"
#include "util.h"

#define CACHE_MEMORY_DEFAULT	10000
#define CACHE_SWEEP_EVERY	512	/* stores between two sweeps */
#define CACHE_SWEEP_KEYS	128	/* keys looked at by one sweep */

typedef struct lru_node {
	struct lru_node *chain;		/* hash bucket */
	TAILQ_ENTRY(lru_node) link;	/* recency, first is newest */
	uint64_t hash;
	size_t len;
	unsigned char *val;
	char key[];
} lru_node;

struct cv_cache {
	cv_cache_params p;
	cache_store *store;		/* NULL: memory only */
	pthread_mutex_t lock;		/* the LRU */
	pthread_mutex_t store_lock;	/* cv_cache_store, the sweep */
	lru_node **buckets;
	size_t nbuckets, count, max;
	TAILQ_HEAD(lru_list, lru_node) lru;
	atomic_uint_least64_t hits, misses, stores, errors;
	atomic_bool bad_warned;
	unsigned sweep_countdown;	/* under store_lock */
	char sweep_after[CACHE_KEY_MAX];
};

/* ---------------------------------------------------------------- */
/* Small helpers                                                      */

static int64_t
cache_now(const cv_cache *c)
{
	return c->p.clock != NULL ? c->p.clock() : (int64_t)time(NULL);
}

/* The store's warnings: counted, then passed on. */
static void
cache_warn(void *ctx, const char *msg)
{
	cv_cache *c = ctx;

	atomic_fetch_add(&c->errors, 1);
	if (msg != NULL && c->p.warn != NULL)
		c->p.warn(c->p.warn_ctx, msg);
}

static size_t
cache_max_key(const cv_cache *c)
{
	size_t max = CACHE_KEY_MAX - 1;

	return c->store != NULL && c->store->max_key < max ? c->store->max_key :
	    max;
}

static bool
entry_live(const cache_entry *e, int64_t now)
{
	return e->present && now < e->expires;
}

/* ---------------------------------------------------------------- */
/* The LRU (callers hold c->lock)                                     */

static lru_node *
lru_find(cv_cache *c, const char *key, uint64_t h)
{
	lru_node *n;

	for (n = c->buckets[h & (c->nbuckets - 1)]; n != NULL; n = n->chain)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void
lru_unlink(cv_cache *c, lru_node *n)
{
	lru_node **pp = &c->buckets[n->hash & (c->nbuckets - 1)];

	while (*pp != n)
		pp = &(*pp)->chain;
	*pp = n->chain;
	TAILQ_REMOVE(&c->lru, n, link);
	c->count--;
	free(n->val);
	free(n);
}

static bool
lru_get(cv_cache *c, const char *key, unsigned char *buf, size_t size,
	size_t *len_r)
{
	lru_node *n = lru_find(c, key, cache_hash(key));

	if (n == NULL || n->len > size)
		return false;
	TAILQ_REMOVE(&c->lru, n, link);
	TAILQ_INSERT_HEAD(&c->lru, n, link);
	memcpy(buf, n->val, n->len);
	*len_r = n->len;
	return true;
}

static void
lru_put(cv_cache *c, const char *key, const unsigned char *val, size_t len)
{
	uint64_t h = cache_hash(key);
	lru_node *n = lru_find(c, key, h);
	unsigned char *copy = malloc(len);
	size_t klen = strlen(key);

	if (copy == NULL)
		return;
	memcpy(copy, val, len);
	if (n != NULL) {
		free(n->val);
		TAILQ_REMOVE(&c->lru, n, link);
	} else {
		n = malloc(sizeof(*n) + klen + 1);
		if (n == NULL) {
			free(copy);
			return;
		}
		memcpy(n->key, key, klen + 1);
		n->hash = h;
		n->chain = c->buckets[h & (c->nbuckets - 1)];
		c->buckets[h & (c->nbuckets - 1)] = n;
		c->count++;
	}
	n->val = copy;
	n->len = len;
	TAILQ_INSERT_HEAD(&c->lru, n, link);
	while (c->count > c->max && !TAILQ_EMPTY(&c->lru))
		lru_unlink(c, TAILQ_LAST(&c->lru, lru_list));
}

static bool
lru_del(cv_cache *c, const char *key)
{
	lru_node *n = lru_find(c, key, cache_hash(key));

	if (n == NULL)
		return false;
	lru_unlink(c, n);
	return true;
}

/* ---------------------------------------------------------------- */
/* Records through both levels                                        */

/* A record that does not decode: a miss, an error, deleted. */
static void
cache_bad_record(cv_cache *c, const char *key)
{
	char msg[CACHE_KEY_MAX + 160];

	atomic_fetch_add(&c->errors, 1);
	if (!atomic_exchange(&c->bad_warned, true) && c->p.warn != NULL) {
		(void)snprintf(msg, sizeof(msg), "cache: record %s does not "
		    "decode (bad version or damaged); deleted, further bad "
		    "records are only counted", key);
		c->p.warn(c->p.warn_ctx, msg);
	}
	(void)pthread_mutex_lock(&c->lock);
	(void)lru_del(c, key);
	(void)pthread_mutex_unlock(&c->lock);
	if (c->store != NULL)
		(void)c->store->del(c->store, key);
}

/* 1 found and decoded, 0 not. */
static int
cache_fetch(cv_cache *c, const char *key, cache_record *rec_r)
{
	unsigned char buf[CACHE_VALUE_MAX];
	size_t len = 0;
	bool found, from_store = false;

	(void)pthread_mutex_lock(&c->lock);
	found = lru_get(c, key, buf, sizeof(buf), &len);
	(void)pthread_mutex_unlock(&c->lock);
	if (!found && c->store != NULL &&
	    c->store->get(c->store, key, buf, sizeof(buf), &len) == 1)
		found = from_store = true;
	if (!found)
		return 0;
	if (!cache_record_decode(buf, len, rec_r)) {
		cache_bad_record(c, key);
		return 0;
	}
	if (from_store) {
		(void)pthread_mutex_lock(&c->lock);
		lru_put(c, key, buf, len);
		(void)pthread_mutex_unlock(&c->lock);
	}
	return 1;
}

/* Write a record to both levels; a record with no entry is deleted. */
static void
cache_write(cv_cache *c, const char *key, const cache_record *rec)
{
	unsigned char buf[CACHE_VALUE_MAX];
	size_t len;

	if (cache_record_expires(rec) == 0) {
		(void)pthread_mutex_lock(&c->lock);
		(void)lru_del(c, key);
		(void)pthread_mutex_unlock(&c->lock);
		if (c->store != NULL)
			(void)c->store->del(c->store, key);
		return;
	}
	len = cache_record_encode(rec, buf, sizeof(buf));
	if (len == 0) {
		cache_warn(c, "cache: a record does not fit its buffer");
		return;
	}
	if (c->store != NULL)
		(void)c->store->put(c->store, key, buf, len);
	(void)pthread_mutex_lock(&c->lock);
	lru_put(c, key, buf, len);
	(void)pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(&c->stores, 1);
}

/* ---------------------------------------------------------------- */
/* Set-up                                                             */

void
cv_cache_params_init(cv_cache_params *p)
{
	memset(p, 0, sizeof(*p));
	p->memory_entries = CACHE_MEMORY_DEFAULT;
	p->positive_ttl_s = 24 * 3600;
	p->negative_ttl_s = 2 * 3600;
	p->unknown_ttl_s = 5 * 60;
	p->domain_positive_ttl_s = 7 * 24 * 3600;
	p->domain_negative_ttl_s = 3 * 3600;
}

cv_cache *
cache_new_sized(const cv_cache_params *p, size_t map_initial,
		size_t map_max)
{
	cv_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->p = *p;
	c->p.lmdb_path = NULL;	/* not owned; used only here */
	c->max = p->memory_entries > 0 ? p->memory_entries :
	    CACHE_MEMORY_DEFAULT;
	TAILQ_INIT(&c->lru);
	for (c->nbuckets = 16; c->nbuckets < c->max && c->nbuckets < (1u << 24);
	    c->nbuckets <<= 1)
		;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->store_lock, NULL) != 0) {
		(void)pthread_mutex_destroy(&c->lock);
		free(c->buckets);
		free(c);
		return NULL;
	}
	c->sweep_countdown = CACHE_SWEEP_EVERY;
	if (p->lmdb_path != NULL && p->lmdb_path[0] != '\0')
		c->store = cache_lmdb_open(p->lmdb_path, map_initial, map_max,
		    cache_warn, c);
	return c;
}

cv_cache *
cv_cache_new(const cv_cache_params *p)
{
	return cache_new_sized(p, CACHE_LMDB_MAP_INITIAL, CACHE_LMDB_MAP_MAX);
}

int
cache_has_store(const cv_cache *cache)
{
	return cache != NULL && cache->store != NULL;
}

void
cv_cache_free(cv_cache **cache_p)
{
	cv_cache *c;

	if (cache_p == NULL || *cache_p == NULL)
		return;
	c = *cache_p;
	*cache_p = NULL;
	if (c->store != NULL)
		c->store->close(c->store);
	while (!TAILQ_EMPTY(&c->lru))
		lru_unlink(c, TAILQ_LAST(&c->lru, lru_list));
	(void)pthread_mutex_destroy(&c->lock);
	(void)pthread_mutex_destroy(&c->store_lock);
	free(c->buckets);
	free(c);
}

/* ---------------------------------------------------------------- */
/* Lookup                                                             */

static cv_cache_hit
cache_answer(cv_cache *c, const cache_entry *e, int64_t now,
	     cv_result *result_r)
{
	int64_t age = now - e->stored, life = e->expires - e->stored;

	cache_entry_result(e, result_r);
	atomic_fetch_add(&c->hits, 1);
	return age > 0 && age * 2 > life ? CV_CACHE_HIT_REFRESH : CV_CACHE_HIT;
}

cv_cache_hit
cv_cache_lookup(cv_cache *cache, const cv_address *addr,
		const char *mail_from, cv_result *result_r)
{
	char key[CACHE_KEY_MAX];
	cache_record rec;
	const cache_entry *e;
	int64_t now;

	memset(result_r, 0, sizeof(*result_r));
	result_r->verdict = CV_UNKNOWN;
	if (cache == NULL || addr == NULL)
		return CV_CACHE_MISS;
	now = cache_now(cache);
	if (cache_key_domain(addr, key, sizeof(key)) &&
	    cache_fetch(cache, key, &rec) == 1 && rec.kind == 'd') {
		e = &rec.e[CACHE_FACT_NULL_SENDER];
		if (entry_live(e, now) && cache_sender_null(mail_from))
			return cache_answer(cache, e, now, result_r);
		e = &rec.e[CACHE_FACT_CATCH_ALL];
		if (entry_live(e, now))
			return cache_answer(cache, e, now, result_r);
		e = &rec.e[CACHE_FACT_POSTMASTER];
		if (entry_live(e, now))
			return cache_answer(cache, e, now, result_r);
	}
	if (cache_key_address(addr, mail_from, cache_max_key(cache), key,
		sizeof(key)) &&
	    cache_fetch(cache, key, &rec) == 1 && rec.kind == 'a' &&
	    entry_live(&rec.e[0], now))
		return cache_answer(cache, &rec.e[0], now, result_r);
	atomic_fetch_add(&cache->misses, 1);
	return CV_CACHE_MISS;
}

/* ---------------------------------------------------------------- */
/* Store                                                              */

/* The domain fact a result shows, with its lifetime; -1 for none. */
static int
store_fact(const cv_cache *c, const cv_result *r, bool null_sender,
	   unsigned *ttl_r)
{
	if (r->verdict == CV_VERIFIED && r->class_ == CV_CLASS_CATCH_ALL) {
		*ttl_r = c->p.domain_positive_ttl_s;
		return CACHE_FACT_CATCH_ALL;
	}
	if (r->verdict == CV_FAILED &&
	    r->class_ == CV_CLASS_NULL_SENDER_REFUSED && null_sender) {
		*ttl_r = c->p.domain_negative_ttl_s;
		return CACHE_FACT_NULL_SENDER;
	}
	if (r->verdict == CV_FAILED && r->class_ == CV_CLASS_POSTMASTER) {
		*ttl_r = c->p.domain_negative_ttl_s;
		return CACHE_FACT_POSTMASTER;
	}
	return -1;
}

/*
 * The domain record: set the fact a result shows, and drop a fact the
 * result disproves (a mailbox refused at RCPT: the domain does not take
 * every local part; a mailbox verified with MAIL FROM:<>: the domain
 * takes the null sender).
 */
static void
store_domain(cv_cache *c, const cv_address *addr, bool null_sender,
	     const cv_result *r, int64_t now)
{
	char key[CACHE_KEY_MAX];
	cache_record rec;
	unsigned ttl = 0;
	int fact = store_fact(c, r, null_sender, &ttl), drop = -1;

	if (r->class_ == CV_CLASS_RCPT && r->verdict == CV_FAILED)
		drop = CACHE_FACT_CATCH_ALL;
	else if (r->class_ == CV_CLASS_RCPT && r->verdict == CV_VERIFIED &&
	    null_sender)
		drop = CACHE_FACT_NULL_SENDER;
	if ((fact < 0 || ttl == 0) && drop < 0)
		return;
	if (!cache_key_domain(addr, key, sizeof(key)))
		return;
	if (cache_fetch(c, key, &rec) != 1 || rec.kind != 'd') {
		if (fact < 0 || ttl == 0)
			return;
		cache_record_init(&rec, 'd');
	}
	if (fact >= 0 && ttl > 0) {
		cache_entry_set(&rec.e[fact], r, now, ttl);
	} else {
		if (!rec.e[drop].present)
			return;
		memset(&rec.e[drop], 0, sizeof(rec.e[drop]));
	}
	cache_write(c, key, &rec);
}

/* The lifetime of an address record for r; 0 for "do not store". */
static unsigned
store_address_ttl(const cv_cache *c, const cv_result *r)
{
	switch (r->class_) {
	case CV_CLASS_NONE:
	case CV_CLASS_DNS:
	case CV_CLASS_LOCAL:
	case CV_CLASS_LIMIT:
		return 0;
	default:
		break;
	}
	switch (r->verdict) {
	case CV_VERIFIED:
		/* a random local part accepted tells of the domain only */
		return r->class_ == CV_CLASS_CATCH_ALL ? 0 : c->p.positive_ttl_s;
	case CV_FAILED:
		/* only "no such mailbox" is a failure worth remembering;
		 * a refused null sender or postmaster is a domain fact */
		return r->class_ == CV_CLASS_RCPT ? c->p.negative_ttl_s : 0;
	case CV_UNKNOWN:
		return c->p.unknown_ttl_s;
	}
	return 0;
}

static void
store_address(cv_cache *c, const cv_address *addr, const char *mail_from,
	      const cv_result *r, int64_t now)
{
	char key[CACHE_KEY_MAX];
	cache_record rec;
	unsigned ttl = store_address_ttl(c, r);

	if (ttl == 0 || !cache_key_address(addr, mail_from, cache_max_key(c),
	    key, sizeof(key)))
		return;
	/* Postfix's rule: trouble never hides a good answer */
	if (r->verdict != CV_VERIFIED && cache_fetch(c, key, &rec) == 1 &&
	    rec.kind == 'a' && rec.e[0].verdict == CV_VERIFIED &&
	    entry_live(&rec.e[0], now))
		return;
	cache_record_init(&rec, 'a');
	cache_entry_set(&rec.e[0], r, now, ttl);
	cache_write(c, key, &rec);
}

typedef struct sweep_ctx {
	cv_cache *c;
	int64_t now;
	char (*keys)[CACHE_KEY_MAX];
	size_t n, bad;
	char last[CACHE_KEY_MAX];
} sweep_ctx;

static int
sweep_visit(void *ctx, const char *key, const void *val, size_t len)
{
	sweep_ctx *s = ctx;
	cache_record rec;
	bool ok = cache_record_decode(val, len, &rec);

	util_strlcpy(s->last, key, sizeof(s->last));
	if (!ok || cache_record_expires(&rec) <= s->now)
		util_strlcpy(s->keys[s->n++], key, CACHE_KEY_MAX);
	if (!ok)
		s->bad++;
	return s->n == CACHE_SWEEP_KEYS ? 1 : 0;
}

/* Delete a few expired records of the store, resuming where the last
 * sweep stopped; called with store_lock held. */
static void
cache_sweep(cv_cache *c, int64_t now)
{
	const char *keys[CACHE_SWEEP_KEYS];
	sweep_ctx s = { .c = c, .now = now };
	long seen;
	size_t i;

	s.keys = malloc(CACHE_SWEEP_KEYS * sizeof(*s.keys));
	if (s.keys == NULL)
		return;
	/* iterate counts every key it hands over; stop after a batch */
	seen = c->store->iterate(c->store, "", c->sweep_after[0] != '\0' ?
	    c->sweep_after : NULL, sweep_visit, &s);
	util_strlcpy(c->sweep_after, seen > 0 && s.n == CACHE_SWEEP_KEYS ?
	    s.last : "", sizeof(c->sweep_after));
	(void)pthread_mutex_lock(&c->lock);
	for (i = 0; i < s.n; i++) {
		(void)lru_del(c, s.keys[i]);
		keys[i] = s.keys[i];
	}
	(void)pthread_mutex_unlock(&c->lock);
	(void)c->store->del_many(c->store, keys, s.n);
	if (s.bad > 0)
		atomic_fetch_add(&c->errors, s.bad);
	free(s.keys);
}

void
cv_cache_store(cv_cache *cache, const cv_address *addr,
	       const char *mail_from, const cv_result *result)
{
	bool null_sender = cache_sender_null(mail_from);
	int64_t now;

	if (cache == NULL || addr == NULL || result == NULL ||
	    result->in_progress || addr->null || addr->unqualified)
		return;
	now = cache_now(cache);
	(void)pthread_mutex_lock(&cache->store_lock);
	store_domain(cache, addr, null_sender, result, now);
	store_address(cache, addr, mail_from, result, now);
	if (cache->store != NULL && --cache->sweep_countdown == 0) {
		cache->sweep_countdown = CACHE_SWEEP_EVERY;
		cache_sweep(cache, now);
	}
	(void)pthread_mutex_unlock(&cache->store_lock);
}

/* ---------------------------------------------------------------- */
/* Purge, show, statistics                                           */

/* The records a selection matches, from both levels, sorted by key. */
typedef struct found {
	char *key;
	unsigned char *val;
	size_t len;
	int level;			/* 0 LRU, 1 store: LRU wins */
} found;

typedef struct found_list {
	const cache_select *sel;
	found *v;
	size_t n, size;
	bool oom;
} found_list;

static int
found_add(void *ctx, const char *key, const void *val, size_t len)
{
	found_list *l = ctx;
	found *grown, *f;

	if (!cache_select_match(l->sel, key))
		return 0;
	if (l->n == l->size) {
		grown = realloc(l->v, (l->size * 2 + 16) * sizeof(*l->v));
		if (grown == NULL) {
			l->oom = true;
			return 1;
		}
		l->v = grown;
		l->size = l->size * 2 + 16;
	}
	f = &l->v[l->n];
	f->key = strdup(key);
	f->val = malloc(len > 0 ? len : 1);
	f->len = len;
	f->level = 0;
	if (f->key == NULL || f->val == NULL) {
		free(f->key);
		free(f->val);
		l->oom = true;
		return 1;
	}
	memcpy(f->val, val, len);
	l->n++;
	return 0;
}

static int
found_cmp(const void *a, const void *b)
{
	const found *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	return d != 0 ? d : x->level - y->level;
}

static void
found_free(found_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
}

/* Collect; false on an error (the list is freed then). */
static bool
found_collect(cv_cache *c, const cache_select *sel, found_list *l)
{
	size_t i, j, from;
	lru_node *n;

	memset(l, 0, sizeof(*l));
	l->sel = sel;
	(void)pthread_mutex_lock(&c->lock);
	TAILQ_FOREACH(n, &c->lru, link) {
		if (l->oom)
			break;
		(void)found_add(l, n->key, n->val, n->len);
	}
	(void)pthread_mutex_unlock(&c->lock);
	for (i = 0; i < l->n; i++)
		l->v[i].level = 0;
	from = l->n;
	if (c->store != NULL && !l->oom &&
	    (c->store->iterate(c->store, sel->domain ? sel->exact :
	    sel->prefix, NULL, found_add, l) < 0 ||
	    (sel->domain && c->store->iterate(c->store, sel->prefix, NULL,
	    found_add, l) < 0))) {
		found_free(l);
		return false;
	}
	for (i = from; i < l->n; i++)
		l->v[i].level = 1;
	if (l->oom) {
		found_free(l);
		return false;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), found_cmp);
	for (i = j = 0; i < l->n; i++) {
		if (j > 0 && strcmp(l->v[j - 1].key, l->v[i].key) == 0) {
			free(l->v[i].key);
			free(l->v[i].val);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return true;
}

long
cv_cache_purge(cv_cache *cache, const char *key)
{
	const char **keys;
	cache_select sel;
	found_list l;
	long removed;
	size_t i;

	if (cache == NULL || !cache_select_parse(key, &sel))
		return -1;
	(void)pthread_mutex_lock(&cache->store_lock);
	if (!found_collect(cache, &sel, &l)) {
		(void)pthread_mutex_unlock(&cache->store_lock);
		return -1;
	}
	/* what was found exists in one level or both: remove it from both */
	removed = (long)l.n;
	keys = malloc((l.n > 0 ? l.n : 1) * sizeof(*keys));
	(void)pthread_mutex_lock(&cache->lock);
	for (i = 0; i < l.n; i++) {
		(void)lru_del(cache, l.v[i].key);
		if (keys != NULL)
			keys[i] = l.v[i].key;
	}
	(void)pthread_mutex_unlock(&cache->lock);
	if (keys == NULL || (cache->store != NULL &&
	    cache->store->del_many(cache->store, keys, l.n) < 0))
		removed = -1;
	(void)pthread_mutex_unlock(&cache->store_lock);
	free(keys);
	found_free(&l);
	return removed;
}

long
cv_cache_show(cv_cache *cache, const char *key,
	      void (*print)(void *ctx, const char *line), void *ctx)
{
	char line[CACHE_KEY_MAX + 64];
	cache_select sel;
	cache_record rec;
	found_list l;
	long n = 0;
	size_t i;

	if (cache == NULL || print == NULL || !cache_select_parse(key, &sel) ||
	    !found_collect(cache, &sel, &l))
		return -1;
	for (i = 0; i < l.n; i++) {
		if (cache_record_decode(l.v[i].val, l.v[i].len, &rec)) {
			n += cache_record_print(l.v[i].key, &rec,
			    cache_now(cache), print, ctx);
		} else {
			(void)snprintf(line, sizeof(line), "%s undecodable "
			    "record (%zu octets)", l.v[i].key, l.v[i].len);
			print(ctx, line);
			n++;
		}
	}
	found_free(&l);
	return n;
}

void
cv_cache_get_stats(cv_cache *cache, cv_cache_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	if (cache == NULL)
		return;
	stats_r->hits = atomic_load(&cache->hits);
	stats_r->misses = atomic_load(&cache->misses);
	stats_r->stores = atomic_load(&cache->stores);
	(void)pthread_mutex_lock(&cache->lock);
	stats_r->memory_entries = cache->count;
	(void)pthread_mutex_unlock(&cache->lock);
	if (cache->store != NULL)
		(void)cache->store->stats(cache->store,
		    &stats_r->store_entries, &stats_r->store_bytes);
	stats_r->errors = atomic_load(&cache->errors);
}
