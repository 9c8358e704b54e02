/*
 * test-cache.c - the verdict cache: every rule of DESIGN.md section 8
 * with a fake clock, the LRU bound, the LMDB store (persistence, two
 * processes, map growth and its cap, corrupt and unreachable files, bad
 * records), purge, show, statistics and many threads at once.
 *
 * No network.  Files live in a temp dir removed at the end.
 *
 * "test-cache --fill PATH" stores a few known records into the LMDB file
 * PATH with the real clock and exits: tests/cache-cli.sh uses it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache_record.h"
#include "cache_store.h"
#include "callout.h"
#include "tap.h"

#define T0		1700000000	/* 2023-11-14T22:13:20Z */
#define HOUR		3600

static _Atomic int64_t fake_now = T0;
static char tmpdir[256];

static int64_t
fake_clock(void)
{
	return atomic_load(&fake_now);
}

static void
set_time(int64_t t)
{
	atomic_store(&fake_now, t);
}

/* Warnings, counted and the last one kept. */
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static int warn_count;
static char warn_last[1024];

static void
warn_collect(void *ctx, const char *msg)
{
	(void)ctx;
	pthread_mutex_lock(&warn_lock);
	warn_count++;
	snprintf(warn_last, sizeof(warn_last), "%s", msg);
	pthread_mutex_unlock(&warn_lock);
}

static void
warn_reset(void)
{
	pthread_mutex_lock(&warn_lock);
	warn_count = 0;
	warn_last[0] = '\0';
	pthread_mutex_unlock(&warn_lock);
}

static void
params(cv_cache_params *p, const char *path)
{
	cv_cache_params_init(p);
	p->lmdb_path = path;
	p->clock = fake_clock;
	p->warn = warn_collect;
}

static cv_address
addr_of(const char *text)
{
	char why[CV_ERROR_MAX];
	cv_address a;

	if (cv_path_parse(text, strlen(text), &a, why, sizeof(why)) != 0) {
		tap_diag("bad test address %s: %s", text, why);
		memset(&a, 0, sizeof(a));
		a.null = true;
	}
	return a;
}

static cv_result
result_of(cv_verdict v, cv_class c, const char *message)
{
	cv_result r;

	memset(&r, 0, sizeof(r));
	r.verdict = v;
	r.class_ = c;
	snprintf(r.mx_name, sizeof(r.mx_name), "mx.example.org");
	snprintf(r.mx_ip, sizeof(r.mx_ip), "192.0.2.1");
	snprintf(r.sent, sizeof(r.sent), "RCPT TO:<x@example.org>");
	snprintf(r.reply, sizeof(r.reply), "550 5.1.1 no such user");
	snprintf(r.message, sizeof(r.message), "%s", message);
	r.hosts_tried = 1;
	r.elapsed_ms = 42;
	return r;
}

static void
put(cv_cache *c, const char *address, const char *from, cv_verdict v,
    cv_class cl)
{
	cv_address a = addr_of(address);
	cv_result r = result_of(v, cl, "stored by the test");

	cv_cache_store(c, &a, from, &r);
}

/* The hit kind; the result in *r_r. */
static cv_cache_hit
get(cv_cache *c, const char *address, const char *from, cv_result *r_r)
{
	cv_address a = addr_of(address);

	return cv_cache_lookup(c, &a, from, r_r);
}

static void
is_hit(cv_cache *c, const char *address, const char *from, cv_cache_hit want,
       cv_verdict verdict, cv_class cl, const char *name)
{
	cv_result r;
	cv_cache_hit h = get(c, address, from, &r);
	bool ok = h == want && (h == CV_CACHE_MISS ||
	    (r.verdict == verdict && r.class_ == cl && r.cached));

	if (!tap_ok(ok, "%s", name))
		tap_diag("  got hit %d %s/%s cached %d, want hit %d %s/%s",
		    (int)h, cv_verdict_name(r.verdict), cv_class_name(r.class_),
		    (int)r.cached, (int)want, cv_verdict_name(verdict),
		    cv_class_name(cl));
}

static void
is_miss(cv_cache *c, const char *address, const char *from, const char *name)
{
	is_hit(c, address, from, CV_CACHE_MISS, CV_UNKNOWN, CV_CLASS_NONE,
	    name);
}

static void
test_defaults(void)
{
	cv_cache_params p;

	cv_cache_params_init(&p);
	tap_is_int((long long)p.memory_entries, 10000, "default LRU size");
	tap_is_int(p.positive_ttl_s, 24 * HOUR, "default positive TTL 24h");
	tap_is_int(p.negative_ttl_s, 2 * HOUR, "default negative TTL 2h");
	tap_is_int(p.unknown_ttl_s, 300, "default unknown TTL 5m");
	tap_is_int(p.domain_positive_ttl_s, 7 * 24 * HOUR,
	    "default domain positive TTL 7d");
	tap_is_int(p.domain_negative_ttl_s, 3 * HOUR,
	    "default domain negative TTL 3h");
	tap_ok(p.lmdb_path == NULL && p.clock == NULL, "memory, real clock");
}

/* Lifetimes and refresh-ahead. */
static void
test_lifetimes(void)
{
	cv_cache_params p;
	cv_cache *c;
	cv_result r;

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	is_miss(c, "user@example.org", NULL, "empty cache: miss");
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	tap_is_int(get(c, "user@example.org", NULL, &r), CV_CACHE_HIT,
	    "verified: hit");
	tap_ok(r.cached && r.verdict == CV_VERIFIED &&
	    r.class_ == CV_CLASS_RCPT, "verified: cached verified/rcpt");
	tap_is_str(r.mx_name, "mx.example.org", "hit keeps the MX name");
	tap_is_str(r.mx_ip, "192.0.2.1", "hit keeps the MX address");
	tap_is_str(r.message, "stored by the test", "hit keeps the message");
	tap_is_str(r.reply, "550 5.1.1 no such user", "hit keeps the reply");
	tap_is_str(r.sent, "RCPT TO:<x@example.org>", "hit keeps sent");
	set_time(T0 + 12 * HOUR);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "verified at half life: plain hit");
	set_time(T0 + 12 * HOUR + 1);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT_REFRESH, CV_VERIFIED,
	    CV_CLASS_RCPT, "verified past half life: refresh");
	set_time(T0 + 24 * HOUR - 1);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT_REFRESH, CV_VERIFIED,
	    CV_CLASS_RCPT, "verified one second before 24h: hit");
	set_time(T0 + 24 * HOUR);
	is_miss(c, "user@example.org", NULL, "verified expires at 24h");

	set_time(T0);
	put(c, "nobody@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	is_hit(c, "nobody@example.org", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_RCPT, "failed: cached failed/rcpt");
	set_time(T0 + HOUR + 1);
	is_hit(c, "nobody@example.org", NULL, CV_CACHE_HIT_REFRESH, CV_FAILED,
	    CV_CLASS_RCPT, "failed past its half life: refresh");
	set_time(T0 + 2 * HOUR - 1);
	is_hit(c, "nobody@example.org", NULL, CV_CACHE_HIT_REFRESH, CV_FAILED,
	    CV_CLASS_RCPT, "failed one second before 2h: hit");
	set_time(T0 + 2 * HOUR);
	is_miss(c, "nobody@example.org", NULL, "failed expires at 2h");

	set_time(T0);
	put(c, "slow@example.org", NULL, CV_UNKNOWN, CV_CLASS_TIMEOUT);
	is_hit(c, "slow@example.org", NULL, CV_CACHE_HIT, CV_UNKNOWN,
	    CV_CLASS_TIMEOUT, "unknown: answered unknown, never failed");
	set_time(T0 + 299);
	is_hit(c, "slow@example.org", NULL, CV_CACHE_HIT_REFRESH, CV_UNKNOWN,
	    CV_CLASS_TIMEOUT, "unknown at 4m59s: refresh");
	set_time(T0 + 300);
	is_miss(c, "slow@example.org", NULL, "unknown expires at 5m");

	cv_cache_free(&c);
	tap_ok(c == NULL, "free clears the pointer");
}

/* What is never stored. */
static void
test_not_stored(void)
{
	cv_cache_params p;
	cv_cache *c;

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "limit@example.org", NULL, CV_UNKNOWN, CV_CLASS_LIMIT);
	is_miss(c, "limit@example.org", NULL, "limit: not stored");
	put(c, "local@example.org", NULL, CV_UNKNOWN, CV_CLASS_LOCAL);
	is_miss(c, "local@example.org", NULL, "local trouble: not stored");
	put(c, "dns@example.org", NULL, CV_FAILED, CV_CLASS_DNS);
	is_miss(c, "dns@example.org", NULL, "DNS failure: not stored");
	put(c, "dns2@example.org", NULL, CV_UNKNOWN, CV_CLASS_DNS);
	is_miss(c, "dns2@example.org", NULL, "DNS trouble: not stored");
	{
		cv_address a = addr_of("prog@example.org");
		cv_result res = result_of(CV_UNKNOWN, CV_CLASS_TIMEOUT, "x");

		res.in_progress = true;
		cv_cache_store(c, &a, NULL, &res);
	}
	is_miss(c, "prog@example.org", NULL, "in progress: not stored");
	put(c, "policy@example.org", NULL, CV_FAILED, CV_CLASS_PROBE_REFUSED);
	is_miss(c, "policy@example.org", NULL,
	    "a failure other than RCPT 5xx: not stored");
	cv_cache_free(&c);
}

static void
test_overwrite(void)
{
	cv_cache_params p;
	cv_cache *c;

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	set_time(T0 + 60);
	put(c, "user@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "failure does not overwrite verified");
	put(c, "user@example.org", NULL, CV_UNKNOWN, CV_CLASS_CONNECT);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "unknown does not overwrite verified");
	set_time(T0 + 24 * HOUR);
	put(c, "user@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_RCPT, "failure replaces an expired verified record");
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "verified overwrites failure");
	put(c, "other@example.org", NULL, CV_UNKNOWN, CV_CLASS_TIMEOUT);
	put(c, "other@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	is_hit(c, "other@example.org", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_RCPT, "failure overwrites unknown");
	cv_cache_free(&c);
}

static void
test_domain_facts(void)
{
	cv_cache_params p;
	cv_cache *c;

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "random1@catch.example", NULL, CV_VERIFIED, CV_CLASS_CATCH_ALL);
	is_hit(c, "anyone@catch.example", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_CATCH_ALL, "catch-all: any local part verified");
	is_hit(c, "x@CATCH.example", "probe@me.example", CV_CACHE_HIT,
	    CV_VERIFIED, CV_CLASS_CATCH_ALL,
	    "catch-all: also for another probe sender, any case of domain");
	set_time(T0 + 7 * 24 * HOUR - 1);
	is_hit(c, "anyone@catch.example", NULL, CV_CACHE_HIT_REFRESH,
	    CV_VERIFIED, CV_CLASS_CATCH_ALL, "catch-all lives 7d");
	set_time(T0 + 7 * 24 * HOUR);
	is_miss(c, "anyone@catch.example", NULL, "catch-all expires at 7d");
	set_time(T0);
	put(c, "r@catch2.example", NULL, CV_VERIFIED, CV_CLASS_CATCH_ALL);
	put(c, "gone@catch2.example", NULL, CV_FAILED, CV_CLASS_RCPT);
	is_miss(c, "else@catch2.example", NULL,
	    "a refused mailbox drops the catch-all fact");

	put(c, "a@strict.example", NULL, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED);
	is_hit(c, "b@strict.example", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED, "null sender refused: any address");
	is_miss(c, "b@strict.example", "probe@me.example",
	    "null sender refused: not for a real probe sender");
	put(c, "a@strict2.example", "probe@me.example", CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED);
	is_miss(c, "b@strict2.example", NULL,
	    "a refusal of a real sender is no null-sender fact");
	set_time(T0 + 3 * HOUR);
	is_miss(c, "b@strict.example", NULL, "null-sender fact expires at 3h");

	set_time(T0);
	put(c, "a@pm.example", NULL, CV_FAILED, CV_CLASS_POSTMASTER);
	is_hit(c, "c@pm.example", "probe@me.example", CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_POSTMASTER, "postmaster refused: any address");
	set_time(T0 + 3 * HOUR);
	is_miss(c, "c@pm.example", NULL, "postmaster fact expires at 3h");

	/* facts keep their own clocks; domain facts before the address */
	set_time(T0);
	put(c, "u@both.example", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	put(c, "u@both.example", NULL, CV_FAILED, CV_CLASS_NULL_SENDER_REFUSED);
	set_time(T0 + HOUR);
	put(c, "r@both.example", NULL, CV_VERIFIED, CV_CLASS_CATCH_ALL);
	is_hit(c, "u@both.example", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED, "domain fact before address record");
	set_time(T0 + 3 * HOUR);
	is_hit(c, "u@both.example", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_CATCH_ALL, "one fact expired, the other answers");
	put(c, "v@both.example", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	is_hit(c, "v@both.example", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_CATCH_ALL, "catch-all answers before the address");
	cv_cache_free(&c);
}

static void
test_keys(void)
{
	cv_cache_params p;
	cv_cache *c;
	char key[CACHE_KEY_MAX], from[300];
	cv_address a = addr_of("Local@Example.ORG");

	tap_ok(cache_key_address(&a, "<probe@me.example>", 511, key,
	    sizeof(key)), "address key with sender");
	tap_is_str(key, "a:example.org:Local/probe@me.example",
	    "key: domain lower-cased, local kept, sender without <>");
	tap_ok(cache_key_domain(&a, key, sizeof(key)), "domain key");
	tap_is_str(key, "d:example.org", "domain key text");
	memset(from, 'x', 250);
	snprintf(from + 250, sizeof(from) - 250, "@me.example");
	a = addr_of("\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\"@example.org");
	tap_ok(cache_key_address(&a, from, 200, key, sizeof(key)) &&
	    strlen(key) <= 200 && strstr(key, "/#") != NULL,
	    "a long sender is hashed to fit the store's key size");

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "user@example.org", "probe@me.example", CV_VERIFIED,
	    CV_CLASS_RCPT);
	is_miss(c, "user@example.org", NULL, "sender keys: <> is separate");
	is_hit(c, "user@example.org", "<probe@me.example>", CV_CACHE_HIT,
	    CV_VERIFIED, CV_CLASS_RCPT, "sender keys: same sender hits");
	is_miss(c, "user@example.org", "other@me.example",
	    "sender keys: another sender is separate");
	put(c, "user@example.org", "<>", CV_FAILED, CV_CLASS_RCPT);
	is_hit(c, "user@EXAMPLE.org", "", CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_RCPT, "\"<>\" and \"\" are the null sender");
	is_miss(c, "User@example.org", NULL, "local part case is kept");
	cv_cache_free(&c);
}

static void
test_lru(void)
{
	cv_cache_params p;
	cv_cache_stats st;
	cv_cache *c;
	char addr[64];
	int i, hits = 0;
	cv_result r;

	params(&p, NULL);
	p.memory_entries = 100;
	c = cv_cache_new(&p);
	set_time(T0);
	for (i = 0; i < 150; i++) {
		snprintf(addr, sizeof(addr), "u%d@lru.example", i);
		put(c, addr, NULL, CV_VERIFIED, CV_CLASS_RCPT);
		if (i >= 99) {	/* keep u0 fresh */
			(void)get(c, "u0@lru.example", NULL, &r);
		}
	}
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.memory_entries, 100,
	    "LRU holds memory_entries");
	for (i = 0; i < 150; i++) {
		snprintf(addr, sizeof(addr), "u%d@lru.example", i);
		hits += get(c, addr, NULL, &r) != CV_CACHE_MISS;
	}
	tap_is_int(hits, 100, "100 of 150 remain");
	is_hit(c, "u0@lru.example", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "a recently used entry survives eviction");
	cv_cache_free(&c);
}

static void
path_in_tmp(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

static void
test_persistence(void)
{
	char path[512];
	cv_cache_params p;
	cv_cache_stats st;
	cv_cache *c;
	pid_t pid;
	int status;

	path_in_tmp(path, sizeof(path), "persist.mdb");
	params(&p, path);
	warn_reset();
	c = cv_cache_new(&p);
	tap_ok(c != NULL && cache_has_store(c) && warn_count == 0,
	    "LMDB cache opens without a warning");
	set_time(T0);
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	put(c, "a@strict.example", NULL, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED);
	cv_cache_free(&c);
	c = cv_cache_new(&p);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "a record survives free and new");
	is_hit(c, "z@strict.example", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED, "a domain fact survives too");
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.memory_entries, 2,
	    "store hits are copied into the LRU");
	tap_is_int((long long)st.store_entries, 2, "LMDB holds 2 records");
	tap_ok(st.store_bytes > 0, "LMDB bytes in use reported");
	{
		char lock[600];
		struct stat sb;

		snprintf(lock, sizeof(lock), "%s-lock", path);
		tap_ok(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(lock, F_OK) == 0,
		    "a single file (MDB_NOSUBDIR), its lock file beside it");
	}

	/* a second process writes, this one reads the same file */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		cv_cache *child = cv_cache_new(&p);

		put(child, "fromchild@example.org", NULL, CV_FAILED,
		    CV_CLASS_RCPT);
		cv_cache_free(&child);
		_exit(0);
	}
	tap_ok(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child process stored a record");
	is_hit(c, "fromchild@example.org", NULL, CV_CACHE_HIT, CV_FAILED,
	    CV_CLASS_RCPT, "parent sees the child's record");
	cv_cache_free(&c);
}

static void
test_growth(void)
{
	char path[512], addr[64];
	cv_cache_params p;
	cv_cache_stats st;
	cv_cache *c;
	int i, hits = 0;
	cv_result r;

	path_in_tmp(path, sizeof(path), "grow.mdb");
	params(&p, path);
	p.memory_entries = 100;
	warn_reset();
	set_time(T0);
	c = cache_new_sized(&p, 32 * 1024, CACHE_LMDB_MAP_MAX);
	for (i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "user%d@grow.example", i);
		put(c, addr, NULL, CV_VERIFIED, CV_CLASS_RCPT);
	}
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.store_entries, 5000,
	    "map grew: 5000 records stored");
	tap_ok(st.store_bytes > 32 * 1024, "map is past its tiny start");
	tap_ok(warn_count == 0 && st.errors == 0, "growing warns nothing");
	cv_cache_free(&c);
	c = cache_new_sized(&p, 32 * 1024, CACHE_LMDB_MAP_MAX);
	for (i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "user%d@grow.example", i);
		hits += get(c, addr, NULL, &r) == CV_CACHE_HIT;
	}
	tap_is_int(hits, 5000, "all 5000 read back after reopening");
	cv_cache_free(&c);

	/* a cap: writes are dropped with one warning, memory still works */
	path_in_tmp(path, sizeof(path), "cap.mdb");
	warn_reset();
	c = cache_new_sized(&p, 32 * 1024, 64 * 1024);
	for (i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "user%d@cap.example", i);
		put(c, addr, NULL, CV_VERIFIED, CV_CLASS_RCPT);
	}
	cv_cache_get_stats(c, &st);
	tap_is_int(warn_count, 1, "a full map warns once");
	tap_ok(strstr(warn_last, "full") != NULL, "the warning says full");
	tap_ok(st.errors > 1, "dropped writes are counted as errors");
	tap_ok(st.store_entries > 0 && st.store_entries < 2000,
	    "the capped store kept what fitted");
	is_hit(c, "user1999@cap.example", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "the LRU still answers");
	cv_cache_free(&c);
}

static bool
write_file(const char *path, const void *data, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	bool ok;

	if (fd < 0)
		return false;
	ok = pwrite(fd, data, len, at) == (ssize_t)len;
	close(fd);
	return ok;
}

/* A cache that must have fallen back to memory: works, no store. */
static void
check_memory_only(const char *path, const char *what)
{
	cv_cache_params p;
	cv_cache *c;

	params(&p, path);
	warn_reset();
	c = cv_cache_new(&p);
	tap_ok(c != NULL && !cache_has_store(c), "%s: memory only", what);
	tap_ok(warn_count >= 1, "%s: warned (%s)", what, warn_last);
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	is_hit(c, "user@example.org", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "memory-only cache still works");
	cv_cache_free(&c);
}

static void
test_bad_files(void)
{
	char path[600], dir[512], junk[65536];
	cv_cache_params p;
	cv_cache *c;
	size_t i;
	uint32_t x = 12345;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (char)(x >> 16);
	}
	path_in_tmp(path, sizeof(path), "garbage.mdb");
	tap_ok(write_file(path, junk, sizeof(junk), 0), "garbage file made");
	check_memory_only(path, "garbage file");

	/* intact meta pages, garbage data pages */
	path_in_tmp(path, sizeof(path), "damaged.mdb");
	params(&p, path);
	c = cv_cache_new(&p);
	for (i = 0; i < 300; i++) {
		char a[64];

		snprintf(a, sizeof(a), "u%zu@damaged.example", i);
		put(c, a, NULL, CV_VERIFIED, CV_CLASS_RCPT);
	}
	cv_cache_free(&c);
	tap_ok(write_file(path, junk, sizeof(junk), 2 * 4096),
	    "data pages overwritten with garbage");
	check_memory_only(path, "damaged data pages");

	/* one page in the middle of the tree: LMDB would fault on it
	 * later; the walk at open finds it */
	path_in_tmp(path, sizeof(path), "deep.mdb");
	params(&p, path);
	c = cv_cache_new(&p);
	for (i = 0; i < 3000; i++) {
		char a[64];

		snprintf(a, sizeof(a), "u%zu@deep%zu.example", i, i % 7);
		put(c, a, NULL, CV_VERIFIED, CV_CLASS_RCPT);
	}
	cv_cache_free(&c);
	{
		struct stat sb;

		tap_ok(stat(path, &sb) == 0 && sb.st_size > 40 * 4096 &&
		    write_file(path, junk, 4096,
		    (sb.st_size / 4096 / 2) * 4096),
		    "a page in the middle overwritten with garbage");
	}
	check_memory_only(path, "damaged page in the middle");

	path_in_tmp(path, sizeof(path), "truncated.mdb");
	params(&p, path);
	c = cv_cache_new(&p);
	put(c, "u@truncated.example", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	cv_cache_free(&c);
	tap_ok(truncate(path, 100) == 0, "cache file truncated");
	check_memory_only(path, "truncated file");

	path_in_tmp(path, sizeof(path), "no/such/dir/cache.mdb");
	check_memory_only(path, "missing directory");
	tap_ok(strstr(warn_last, "does not exist") != NULL,
	    "the warning names the missing directory");

	path_in_tmp(path, sizeof(path), "");
	check_memory_only(path, "path is a directory");

	path_in_tmp(dir, sizeof(dir), "ro");
	(void)mkdir(dir, 0500);
	snprintf(path, sizeof(path), "%s/cache.mdb", dir);
	if (geteuid() != 0) {
		check_memory_only(path, "unwritable directory");
	} else {
		/* root writes anywhere: a path below a regular file is
		 * refused (ENOTDIR) for root too */
		FILE *fp;

		path_in_tmp(dir, sizeof(dir), "plainfile");
		fp = fopen(dir, "w");
		if (fp != NULL)
			(void)fclose(fp);
		snprintf(path, sizeof(path), "%s/cache.mdb", dir);
		check_memory_only(path, "path below a regular file (as root)");
		path_in_tmp(dir, sizeof(dir), "ro");
	}
	(void)chmod(dir, 0700);
}

static void
test_bad_record(void)
{
	static const unsigned char bad[] = { 'V', 9, 'a', 1, 1, 0 };
	char path[512];
	cv_cache_params p;
	cv_cache_stats st;
	cache_store *s;
	cv_cache *c;

	path_in_tmp(path, sizeof(path), "badrec.mdb");
	warn_reset();
	s = cache_lmdb_open(path, CACHE_LMDB_MAP_INITIAL, CACHE_LMDB_MAP_MAX,
	    warn_collect, NULL);
	tap_ok(s != NULL, "raw store opens");
	if (s == NULL)
		return;
	(void)s->put(s, "a:example.org:bad", bad, sizeof(bad));
	(void)s->put(s, "a:example.org:short", "V", 1);
	(void)s->put(s, "d:garbage.example", "\x01\x02\x03garbage", 10);
	s->close(s);
	params(&p, path);
	c = cv_cache_new(&p);
	is_miss(c, "bad@example.org", NULL, "bad version: miss");
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.errors, 1, "bad version: one error");
	tap_is_int(warn_count, 1, "bad version: one warning");
	tap_is_int((long long)st.store_entries, 2, "bad record deleted");
	is_miss(c, "short@example.org", NULL, "short record: miss");
	is_miss(c, "x@garbage.example", NULL, "garbage domain record: miss");
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.errors, 3, "three errors counted");
	tap_is_int(warn_count, 1, "still one warning");
	tap_is_int((long long)st.store_entries, 0, "all bad records gone");
	cv_cache_free(&c);
}

static void
collect_line(void *ctx, const char *line)
{
	char *buf = ctx;
	size_t used = strlen(buf);

	snprintf(buf + used, 8192 - used, "%s\n", line);
}

static void
test_purge_show(const char *path, const char *what)
{
	char out[8192], name[128];
	cv_cache_params p;
	cv_cache *c;

	params(&p, path);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	put(c, "user@example.org", "probe@me.example", CV_FAILED,
	    CV_CLASS_RCPT);
	put(c, "other@example.org", NULL, CV_UNKNOWN, CV_CLASS_TIMEOUT);
	put(c, "r@example.org", NULL, CV_VERIFIED, CV_CLASS_CATCH_ALL);
	put(c, "user@example.com", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	set_time(T0 + 10);
	out[0] = '\0';
	snprintf(name, sizeof(name), "%s: show an address: 2 lines", what);
	tap_is_int(cv_cache_show(c, "user@example.org", collect_line, out), 2,
	    name);
	snprintf(name, sizeof(name), "%s: show lines", what);
	tap_is_str(out,
	    "a:example.org:user verified rcpt stored 2023-11-14T22:13:20Z "
	    "expires 2023-11-15T22:13:20Z mx mx.example.org [192.0.2.1] "
	    "\"stored by the test\"\n"
	    "a:example.org:user/probe@me.example failed rcpt stored "
	    "2023-11-14T22:13:20Z expires 2023-11-15T00:13:20Z mx "
	    "mx.example.org [192.0.2.1] \"stored by the test\"\n", name);
	out[0] = '\0';
	snprintf(name, sizeof(name), "%s: show a domain: 4 lines", what);
	tap_is_int(cv_cache_show(c, "Example.ORG", collect_line, out), 4,
	    name);
	snprintf(name, sizeof(name), "%s: domain fact line", what);
	tap_ok(strstr(out, "d:example.org accepts-random verified catch-all "
	    "stored 2023-11-14T22:13:20Z expires 2023-11-21T22:13:20Z") !=
	    NULL, "%s", name);
	snprintf(name, sizeof(name), "%s: purge an address: 2 records", what);
	tap_is_int(cv_cache_purge(c, "user@example.org"), 2, name);
	tap_is_int(cv_cache_show(c, "user@example.org", collect_line, out), 0,
	    "purged address: nothing to show");
	tap_is_int(cv_cache_show(c, "other@example.org", collect_line, out),
	    1, "another address stays");
	snprintf(name, sizeof(name), "%s: purge a domain: 2 records", what);
	tap_is_int(cv_cache_purge(c, "example.org"), 2, name);
	is_miss(c, "other@example.org", NULL, "purged domain: miss");
	is_hit(c, "user@example.com", NULL, CV_CACHE_HIT, CV_VERIFIED,
	    CV_CLASS_RCPT, "another domain stays");
	tap_is_int(cv_cache_purge(c, "example.org"), 0, "nothing left");
	tap_is_int(cv_cache_purge(c, "bad key@"), -1, "a bad key: -1");
	cv_cache_free(&c);
}

static void
test_stats(void)
{
	cv_cache_params p;
	cv_cache_stats st;
	cv_cache *c;
	cv_result r;

	params(&p, NULL);
	c = cv_cache_new(&p);
	set_time(T0);
	put(c, "a@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	put(c, "b@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	put(c, "c@example.org", NULL, CV_UNKNOWN, CV_CLASS_LIMIT);
	(void)get(c, "a@example.org", NULL, &r);
	(void)get(c, "b@example.org", NULL, &r);
	(void)get(c, "c@example.org", NULL, &r);
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.hits, 2, "stats: hits");
	tap_is_int((long long)st.misses, 1, "stats: misses");
	tap_is_int((long long)st.stores, 2, "stats: stores");
	tap_is_int((long long)st.errors, 0, "stats: errors");
	tap_is_int((long long)st.memory_entries, 2, "stats: LRU size");
	tap_is_int((long long)st.store_entries, 0, "stats: no store");
	cv_cache_free(&c);
}

static void
test_sweep(void)
{
	char path[512], addr[64];
	cv_cache_params p;
	cv_cache_stats st;
	cv_cache *c;
	int i;

	path_in_tmp(path, sizeof(path), "sweep.mdb");
	params(&p, path);
	c = cv_cache_new(&p);
	set_time(T0);
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "u%d@aaa.example", i);
		put(c, addr, NULL, CV_UNKNOWN, CV_CLASS_TIMEOUT);
	}
	set_time(T0 + 600);
	for (i = 0; i < 502; i++) {
		snprintf(addr, sizeof(addr), "u%d@zzz.example", i);
		put(c, addr, NULL, CV_VERIFIED, CV_CLASS_RCPT);
	}
	cv_cache_get_stats(c, &st);
	tap_is_int((long long)st.store_entries, 502,
	    "expired records are swept from the store");
	cv_cache_free(&c);
}

/* 8 threads x 1000 lookups and stores on one cache. */
typedef struct worker {
	cv_cache *c;
	unsigned seed;
	unsigned lookups;
} worker;

static void *
worker_run(void *arg)
{
	worker *w = arg;
	char addr[64];
	cv_result r;
	int i;

	for (i = 0; i < 1000; i++) {
		w->seed = w->seed * 1103515245u + 12345u;
		snprintf(addr, sizeof(addr), "u%u@d%u.example",
		    (w->seed >> 8) % 50, (w->seed >> 20) % 4);
		if ((w->seed >> 4) % 3 == 0) {
			put(w->c, addr, NULL, (w->seed >> 12) % 2 ? CV_VERIFIED :
			    CV_FAILED, CV_CLASS_RCPT);
		} else {
			(void)get(w->c, addr, NULL, &r);
			w->lookups++;
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[8];
	worker w[8];
	char path[512];
	cv_cache_params p;
	cv_cache_stats st;
	unsigned lookups = 0;
	int i, started = 0;

	path_in_tmp(path, sizeof(path), "threads.mdb");
	params(&p, path);
	p.memory_entries = 64;
	warn_reset();
	set_time(T0);
	w[0].c = cv_cache_new(&p);
	for (i = 0; i < 8; i++) {
		w[i].c = w[0].c;
		w[i].seed = (unsigned)i * 7919u + 1;
		w[i].lookups = 0;
		started += pthread_create(&t[i], NULL, worker_run, &w[i]) == 0;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		lookups += w[i].lookups;
	}
	cv_cache_get_stats(w[0].c, &st);
	tap_is_int(started, 8, "8 threads ran");
	tap_is_int((long long)(st.hits + st.misses), lookups,
	    "every lookup counted once");
	tap_ok(st.memory_entries <= 64, "LRU bound held under threads");
	tap_ok(st.errors == 0 && warn_count == 0, "no errors under threads");
	cv_cache_free(&w[0].c);
}

/* For tests/cache-cli.sh: known records, real clock. */
static int
fill(const char *path)
{
	cv_cache_params p;
	cv_cache *c;

	cv_cache_params_init(&p);
	p.lmdb_path = path;
	p.warn = warn_collect;
	c = cv_cache_new(&p);
	if (c == NULL || !cache_has_store(c)) {
		fprintf(stderr, "test-cache: cannot open %s: %s\n", path,
		    warn_last);
		return 1;
	}
	put(c, "user@example.org", NULL, CV_VERIFIED, CV_CLASS_RCPT);
	put(c, "user@example.org", "probe@me.example", CV_VERIFIED,
	    CV_CLASS_RCPT);
	put(c, "nobody@example.org", NULL, CV_FAILED, CV_CLASS_RCPT);
	put(c, "r@catch.example", NULL, CV_VERIFIED, CV_CLASS_CATCH_ALL);
	put(c, "x@strict.example", NULL, CV_FAILED,
	    CV_CLASS_NULL_SENDER_REFUSED);
	cv_cache_free(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	char cmd[600], path[512];

	if (argc == 3 && strcmp(argv[1], "--fill") == 0)
		return fill(argv[2]);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test-cache.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("# cannot make a temp dir: %s\n", strerror(errno));
		return 77;
	}
	test_defaults();
	test_lifetimes();
	test_not_stored();
	test_overwrite();
	test_domain_facts();
	test_keys();
	test_lru();
	test_stats();
	test_purge_show(NULL, "memory");
	path_in_tmp(path, sizeof(path), "show.mdb");
	test_purge_show(path, "lmdb");
	test_persistence();
	test_growth();
	test_bad_files();
	test_bad_record();
	test_sweep();
	test_threads();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
