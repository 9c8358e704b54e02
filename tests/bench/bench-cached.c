/*
 * bench-cached.c - the library's cached path, for `make bench`: N calls
 * of cv_engine_verify() that the verdict cache answers, to be counted
 * with callgrind (instructions per decision, repeatable) and timed.
 *
 *   bench-cached [-n N] [-t THREADS] [-l LMDB_FILE]
 *
 * Set-up: a cache (memory only, or the LMDB file given, the daemon's
 * default backend), an engine with one idle worker, a resolver that is
 * never asked, one verified record for <user@bench.test> stored the way
 * a probe stores it.  Then THREADS threads (default 1) each make N
 * decisions (default 100000) for that address.  Every one must come
 * back verified and cached, or the program fails: a benchmark of a path
 * that was not taken would be a lie.
 *
 * Output, one line: "decisions D threads T ns_per_decision X
 * decisions_per_s Y" (wall clock, all threads together).  Callgrind's
 * --toggle-collect=cv_engine_verify counts only inside the decisions.
 *
 * Exit status: 0, 1 when a decision was not a cached verified one or
 * the set-up failed, 64 for usage.  Uses no network.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callout.h"

#define THREADS_MAX	64
#define SENDER		"<user@bench.test>"

typedef struct bench {
	cv_engine *engine;
	cv_params params;
	cv_address addr;
	long n;
} bench;

typedef struct worker {
	pthread_t tid;
	const bench *b;
	long good;
} worker;

static void *
bench_loop(void *arg)
{
	worker *w = arg;
	const bench *b = w->b;
	cv_result r;
	long i;

	for (i = 0; i < b->n; i++) {
		(void)cv_engine_verify(b->engine, &b->params, &b->addr,
		    cv_now_ms() + 8000, &r);
		if (r.verdict == CV_VERIFIED && r.cached)
			w->good++;
	}
	return NULL;
}

/* The record a successful probe leaves in the cache. */
static void
bench_seed(cv_cache *cache, const cv_address *addr)
{
	cv_result r;

	memset(&r, 0, sizeof(r));
	r.verdict = CV_VERIFIED;
	r.class_ = CV_CLASS_RCPT;
	(void)snprintf(r.mx_name, sizeof(r.mx_name), "mx.bench.test");
	(void)snprintf(r.mx_ip, sizeof(r.mx_ip), "198.51.100.20");
	(void)snprintf(r.sent, sizeof(r.sent), "RCPT TO:%s", SENDER);
	(void)snprintf(r.reply, sizeof(r.reply), "250 2.1.5 Ok");
	(void)snprintf(r.message, sizeof(r.message), "mx.bench.test "
	    "[198.51.100.20] : RCPT TO:%s: 250 2.1.5 Ok", SENDER);
	r.hosts_tried = 1;
	r.elapsed_ms = 200;
	cv_cache_store(cache, addr, NULL, &r);
}

static int
bench_run(bench *b, unsigned nthreads)
{
	worker w[THREADS_MAX];
	struct timespec t0, t1;
	unsigned i, started = 0;
	long good = 0;
	double ns;

	memset(w, 0, sizeof(w));
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++) {
		w[i].b = b;
		if (pthread_create(&w[i].tid, NULL, bench_loop, &w[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		(void)pthread_join(w[i].tid, NULL);
		good += w[i].good;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	if (started != nthreads) {
		fprintf(stderr, "bench-cached: cannot start threads\n");
		return 1;
	}
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec);
	printf("decisions %ld threads %u ns_per_decision %.1f "
	    "decisions_per_s %.0f\n", good, nthreads,
	    good > 0 ? ns / (double)good : 0.0,
	    ns > 0 ? (double)good * 1e9 / ns : 0.0);
	if (good != b->n * (long)nthreads) {
		fprintf(stderr, "bench-cached: %ld of %ld decisions were not "
		    "cached verified ones\n", b->n * (long)nthreads - good,
		    b->n * (long)nthreads);
		return 1;
	}
	return 0;
}

static int
bench_setup(bench *b, const char *lmdb, cv_cache **cache_r,
	    cv_resolver **res_r)
{
	static const char *const servers[] = { "192.0.2.53" };
	cv_cache_params cp;
	cv_engine_params ep;
	char err[CV_ERROR_MAX];
	cv_result r;

	if (cv_path_parse(SENDER, strlen(SENDER), &b->addr, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "bench-cached: %s\n", err);
		return -1;
	}
	cv_cache_params_init(&cp);
	cp.lmdb_path = lmdb;
	*cache_r = cv_cache_new(&cp);
	*res_r = cv_resolver_new(servers, 1, 1000, err, sizeof(err));
	if (*cache_r == NULL || *res_r == NULL) {
		fprintf(stderr, "bench-cached: set-up: %s\n", err);
		return -1;
	}
	cv_engine_params_init(&ep);
	ep.workers = 1;
	ep.cache = *cache_r;
	b->engine = cv_engine_new(&ep, err, sizeof(err));
	if (b->engine == NULL) {
		fprintf(stderr, "bench-cached: engine: %s\n", err);
		return -1;
	}
	cv_params_init(&b->params);
	b->params.helo = "verifier.example.net";
	b->params.resolver = *res_r;
	bench_seed(*cache_r, &b->addr);
	(void)cv_engine_verify(b->engine, &b->params, &b->addr,
	    cv_now_ms() + 1000, &r);
	if (r.verdict != CV_VERIFIED || !r.cached) {
		fprintf(stderr, "bench-cached: the seeded record is not "
		    "answered from the cache (%s)\n", r.message);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *lmdb = NULL;
	unsigned nthreads = 1;
	cv_cache *cache = NULL;
	cv_resolver *res = NULL;
	bench b;
	int c, rc = 1;

	memset(&b, 0, sizeof(b));
	b.n = 100000;
	while ((c = getopt(argc, argv, "n:t:l:")) != -1) {
		switch (c) {
		case 'n':
			b.n = strtol(optarg, NULL, 10);
			break;
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			lmdb = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-cached [-n N] "
			    "[-t THREADS] [-l LMDB_FILE]\n");
			return 64;
		}
	}
	if (b.n < 0 || nthreads < 1 || nthreads > THREADS_MAX) {
		fprintf(stderr, "bench-cached: -n >= 0, 1 <= -t <= %d\n",
		    THREADS_MAX);
		return 64;
	}
	if (bench_setup(&b, lmdb, &cache, &res) == 0)
		rc = bench_run(&b, nthreads);
	cv_engine_free(&b.engine);
	cv_cache_free(&cache);
	cv_resolver_free(&res);
	return rc;
}
