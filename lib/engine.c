/*
 * engine.c - the probe engine (DESIGN.md sections 2 and 9): a bounded
 * pool of worker threads that run callouts, so that the callers' threads
 * (libmilter's) only look up the cache and wait.
 *
 * A request is answered, in order: from the cache (a record past half
 * its life is served and re-probed in the background); by joining the
 * probe already in flight for the same key (address with its domain
 * lower-cased, local part as given, plus the probe's MAIL FROM); or by
 * queueing a new probe and waiting for it.  Every caller waits on the
 * probe's condition variable until it ends or the caller's deadline
 * passes; then the caller gets "unknown, verification in progress" and
 * the probe goes on under its own budget (its start plus
 * background_timeout_ms; verify.c cuts every step by the callout's own
 * timeouts) and stores its result in the cache for the client's retry.
 *
 * Limits, all answered at once as unknown with class CV_CLASS_LIMIT,
 * logged (at most LOG_BURST lines a second) and counted:
 *  - the queue holds at most queue_size probes ("probe queue full");
 *  - one domain may fill at most half of the queue;
 *  - domain_rate_per_minute new probes per domain (token bucket of one
 *    minute's worth); background refreshes take tokens too and are
 *    skipped without a word when there is none;
 *  - domain_concurrency probes run at once per domain.  A probe over
 *    this cap is not refused: it stays queued until a slot frees (a
 *    worker takes the first queued probe whose domain has a free slot),
 *    its callers wait as long as their deadlines allow, and a probe
 *    still queued after background_timeout_ms is dropped;
 *  - mx_concurrency connections at once per MX address, through the host
 *    gate of cv_params: verify.c skips a host over the cap as
 *    unknown/limit.  The caller's own gate is replaced by the engine's.
 * Results of class CV_CLASS_LIMIT or CV_CLASS_LOCAL say nothing about
 * the remote side and are not stored in the cache.
 *
 * Memory is bounded: queue_size queued probes plus one running per
 * worker make up the in-flight table; callers wait on a probe without
 * allocating; the limit tables are bounded (engine_limits.c).
 *
 * Lifetimes: a probe copies what it needs of the caller's cv_params
 * (HELO name, MAIL FROM, source addresses, timeouts, flags).  It cannot
 * copy the resolver, the allow-list or the connect hook's context: the
 * caller's hold hook (cv_params.hold) is called with true when a probe
 * is created and with false when it is freed, so a caller that reloads
 * (callout-milter's verifier) keeps a reference count and frees its
 * resolver only when the last probe is done.  The hook runs under the
 * engine's lock and must not call back into the engine.  Probes run
 * without the caller's trace hook, whose context may not outlive the
 * call.
 *
 * Shutdown (cv_engine_free): waiting callers are woken and answered
 * unknown ("probe engine stopping"), queued probes are dropped, idle
 * workers exit and are joined.  A worker still in a callout after a
 * short grace is abandoned (no further host passes the gate, nothing
 * more goes to the cache, which the caller may free next) and frees the
 * engine's memory when it ends.  Caller threads never block past their
 * deadline by more than the lock and condition variable latency.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callout.h"
#include "engine.h"
#include "util.h"

#define KEY_MAX		(CV_LOCAL_MAX + CV_DOMAIN_MAX + CV_PATH_MAX + 4)
#define HELO_MAX	(CV_DOMAIN_MAX + 1)
#define GRACE_MS	500	/* cv_engine_free waits for busy workers */
#define LOG_BURST	20	/* log lines a second, the rest counted */
#define DOMAINS_MIN	4096	/* domain table: this + in-flight */
#define NOTE_MAX	(CV_PATH_MAX + CV_DOMAIN_MAX + 128) /* log line */

typedef enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_DONE,
} job_state;

/* One probe: the key callers join on, its copied parameters, its
 * result.  Referenced by the in-flight table or queue or worker (one
 * reference while not done) and by each caller waiting on it. */
typedef struct job {
	char key[KEY_MAX];
	unsigned hash;
	cv_address addr;
	cv_params params;
	char helo[HELO_MAX];
	char mail_from[CV_PATH_MAX + 1];
	struct sockaddr_storage src4, src6;
	void (*hold)(void *ctx, bool take);
	void *hold_ctx;
	eng_domain *dom;
	job_state state;
	unsigned refs;
	int64_t queued_ms;
	cv_result result;
	pthread_cond_t done;
	struct job *hnext;		/* in-flight chain */
	struct job *qnext;		/* queue */
} job;

struct cv_engine {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* workers: a job may be runnable */
	pthread_cond_t idle;		/* cv_engine_free: callers left */
	cv_engine_params params;
	size_t domain_queue_max;	/* queued probes of one domain */
	bool stopping;
	bool orphaned;			/* the last worker frees */
	unsigned live_workers;
	unsigned callers;		/* threads in cv_engine_verify */
	unsigned storing;		/* workers in cv_cache_store */
	pthread_t *threads;
	unsigned nthreads;
	job *qhead, *qtail;
	job **inflight;
	size_t nbuckets;		/* power of two */
	eng_limits limits;
	cv_engine_stats stats;
	eng_throttle log_throttle;
};

static cv_gate_fn engine_gate;

void
cv_engine_params_init(cv_engine_params *p)
{
	memset(p, 0, sizeof(*p));
	p->workers = 16;
	p->queue_size = 256;
	p->background_timeout_ms = 5 * 60 * 1000;
	p->domain_concurrency = 4;
	p->mx_concurrency = 8;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* One event line through params.log, at most LOG_BURST a second. */
static void
engine_log(cv_engine *e, const char *msg)
{
	char line[NOTE_MAX + 64];
	unsigned dropped = 0;

	if (e->params.log == NULL || msg[0] == '\0' ||
	    !throttle_pass(&e->log_throttle, &dropped))
		return;
	if (dropped > 0) {
		(void)snprintf(line, sizeof(line),
		    "%s (%u similar lines suppressed)", msg, dropped);
		msg = line;
	}
	e->params.log(e->params.log_ctx, msg);
}

static void
result_set(cv_result *r, cv_class c, bool in_progress, int64_t start,
	   const char *msg)
{
	memset(r, 0, sizeof(*r));
	r->verdict = CV_UNKNOWN;
	r->class_ = c;
	r->in_progress = in_progress;
	util_strlcpy(r->message, msg, sizeof(r->message));
	r->elapsed_ms = cv_now_ms() - start;
}

/* "local@domain\nmail_from"; false when it does not fit. */
static bool
key_make(const cv_address *addr, const char *mail_from, char *key,
	 size_t size)
{
	int n = snprintf(key, size, "%s@%s\n%s", addr->local, addr->domain,
	    mail_from != NULL ? mail_from : "");

	return n > 0 && (size_t)n < size;
}

/* Absolute CLOCK_MONOTONIC time of a cv_now_ms() deadline. */
static struct timespec
deadline_ts(int64_t deadline)
{
	struct timespec ts;

	if (deadline < 0)
		deadline = 0;
	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
	return ts;
}

static int
cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &attr);
	(void)pthread_condattr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Jobs, the in-flight table and the queue (lock held)                 */
/* ------------------------------------------------------------------ */

static job *
inflight_find(const cv_engine *e, const char *key, unsigned hash)
{
	job *j;

	for (j = e->inflight[hash & (e->nbuckets - 1)]; j != NULL;
	    j = j->hnext)
		if (j->hash == hash && strcmp(j->key, key) == 0)
			return j;
	return NULL;
}

static void
inflight_remove(cv_engine *e, job *j)
{
	job **pp = &e->inflight[j->hash & (e->nbuckets - 1)];

	while (*pp != NULL && *pp != j)
		pp = &(*pp)->hnext;
	if (*pp == j)
		*pp = j->hnext;
	j->hnext = NULL;
}

static void
job_unref(job *j)
{
	if (--j->refs > 0)
		return;
	if (j->hold != NULL)
		j->hold(j->hold_ctx, false);
	(void)pthread_cond_destroy(&j->done);
	free(j);
}

/* The probe is over: wake its callers, leave the in-flight table and
 * drop the reference the table/queue/worker held. */
static void
job_finish(cv_engine *e, job *j, const cv_result *r)
{
	if (r != NULL)
		j->result = *r;
	j->state = JOB_DONE;
	inflight_remove(e, j);
	(void)pthread_cond_broadcast(&j->done);
	job_unref(j);
}

static void
queue_unlink(cv_engine *e, job *prev, job *j)
{
	if (prev != NULL)
		prev->qnext = j->qnext;
	else
		e->qhead = j->qnext;
	if (e->qtail == j)
		e->qtail = prev;
	j->qnext = NULL;
	e->stats.queued--;
	j->dom->queued--;
}

/* Drop a queued job that will not run. */
static void
queue_drop(cv_engine *e, job *prev, job *j, cv_class c, const char *why)
{
	cv_result r;
	eng_domain *d = j->dom;

	queue_unlink(e, prev, j);
	result_set(&r, c, false, j->queued_ms, why);
	job_finish(e, j, &r);
	limits_domain_done(&e->limits, d, cv_now_ms());
}

/* The first queued job whose domain has a free slot; jobs that waited
 * longer than their budget are dropped on the way. */
static job *
queue_pick(cv_engine *e)
{
	int64_t now = cv_now_ms();
	job *j, *prev = NULL, *next;

	for (j = e->qhead; j != NULL; j = next) {
		next = j->qnext;
		if (now - j->queued_ms >
		    (int64_t)e->params.background_timeout_ms) {
			queue_drop(e, prev, j, CV_CLASS_LIMIT, "probe dropped: "
			    "waited too long for a worker");
			continue;
		}
		if (j->dom->running < e->params.domain_concurrency) {
			queue_unlink(e, prev, j);
			return j;
		}
		prev = j;
	}
	return NULL;
}

/* Copy what the probe needs of p (see the top comment). */
static void
job_copy_params(job *j, const cv_params *p)
{
	j->params = *p;
	util_strlcpy(j->helo, p->helo, sizeof(j->helo));
	j->params.helo = j->helo;
	if (p->mail_from != NULL) {
		util_strlcpy(j->mail_from, p->mail_from, sizeof(j->mail_from));
		j->params.mail_from = j->mail_from;
	}
	if (p->source4 != NULL) {
		memcpy(&j->src4, p->source4, sizeof(struct sockaddr_in));
		j->params.source4 = (const struct sockaddr *)&j->src4;
	}
	if (p->source6 != NULL) {
		memcpy(&j->src6, p->source6, sizeof(struct sockaddr_in6));
		j->params.source6 = (const struct sockaddr *)&j->src6;
	}
	j->params.trace = NULL;
	j->params.trace_ctx = NULL;
	j->params.gate = engine_gate;
	j->params.gate_ctx = NULL;	/* set by the caller */
	j->params.hold = NULL;
	j->params.hold_ctx = NULL;
	j->hold = p->hold;
	j->hold_ctx = p->hold_ctx;
}

/*
 * Queue a new probe for key, after the queue and domain limits.  Returns
 * it (one reference, held by the queue), or NULL with the reason in
 * note (empty when out of memory).  Lock held.
 */
static job *
job_enqueue(cv_engine *e, const cv_params *p, const cv_address *addr,
	    const char *key, unsigned hash, char *note, size_t note_size)
{
	int64_t now = cv_now_ms();
	eng_domain *d;
	job *j;

	if (e->stats.queued >= e->params.queue_size) {
		e->stats.queue_full++;
		(void)snprintf(note, note_size, "probe queue full (%u): %s",
		    e->params.queue_size, addr->address);
		return NULL;
	}
	d = limits_domain(&e->limits, addr->ascii_domain, now);
	if (d == NULL) {
		e->stats.limited++;
		(void)snprintf(note, note_size, "probe limit: no room to "
		    "track domain %s", addr->ascii_domain);
		return NULL;
	}
	if (d->queued >= e->domain_queue_max) {
		e->stats.limited++;
		(void)snprintf(note, note_size, "probe limit: %u probes "
		    "already queued for domain %s", d->queued,
		    addr->ascii_domain);
		return NULL;
	}
	if (!limits_take_token(&e->limits, d, now)) {
		e->stats.limited++;
		(void)snprintf(note, note_size, "probe limit: more than %u "
		    "probes a minute for domain %s", e->params
		    .domain_rate_per_minute, addr->ascii_domain);
		limits_domain_done(&e->limits, d, now);
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || cond_init_monotonic(&j->done) != 0) {
		free(j);
		(void)snprintf(note, note_size, "probe engine: out of memory");
		limits_domain_done(&e->limits, d, now);
		return NULL;
	}
	util_strlcpy(j->key, key, sizeof(j->key));
	j->hash = hash;
	j->addr = *addr;
	job_copy_params(j, p);
	j->params.gate_ctx = e;
	j->dom = d;
	j->state = JOB_QUEUED;
	j->refs = 1;
	j->queued_ms = now;
	if (j->hold != NULL)
		j->hold(j->hold_ctx, true);
	j->hnext = e->inflight[hash & (e->nbuckets - 1)];
	e->inflight[hash & (e->nbuckets - 1)] = j;
	if (e->qtail != NULL)
		e->qtail->qnext = j;
	else
		e->qhead = j;
	e->qtail = j;
	d->queued++;
	e->stats.queued++;
	e->stats.probes++;
	(void)pthread_cond_signal(&e->work);
	return j;
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/* The per-MX-address cap, asked by verify.c around each host. */
static bool
engine_gate(void *ctx, const cv_host *host, bool acquire)
{
	cv_engine *e = ctx;
	char note[NOTE_MAX] = "";
	bool ok = true;

	pthread_mutex_lock(&e->lock);
	if (!acquire) {
		limits_ip_release(&e->limits, host->ip);
	} else if (e->stopping) {
		ok = false;
	} else if (!limits_ip_acquire(&e->limits, host->ip)) {
		ok = false;
		e->stats.limited++;
		(void)snprintf(note, sizeof(note), "probe limit: %u "
		    "connections already open to %s [%s]",
		    e->params.mx_concurrency, host->name, host->ip);
	}
	pthread_mutex_unlock(&e->lock);
	engine_log(e, note);
	return ok;
}

/* Whether a result says something about the remote side. */
static bool
result_storable(const cv_result *r)
{
	return r->class_ != CV_CLASS_LIMIT && r->class_ != CV_CLASS_LOCAL &&
	    r->class_ != CV_CLASS_NONE;
}

/* Run one job (lock not held) and store its result. */
static void
worker_run(cv_engine *e, job *j, cv_result *r)
{
	int64_t budget = cv_now_ms() + e->params.background_timeout_ms;
	bool store = false;

	(void)cv_verify(&j->params, &j->addr, budget, r);
	if (e->params.cache == NULL || !result_storable(r))
		return;
	pthread_mutex_lock(&e->lock);
	if (!e->stopping) {
		e->storing++;
		store = true;
	}
	pthread_mutex_unlock(&e->lock);
	if (!store)
		return;
	cv_cache_store(e->params.cache, &j->addr, j->params.mail_from, r);
	pthread_mutex_lock(&e->lock);
	if (--e->storing == 0 && e->stopping)
		(void)pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
}

static void engine_destroy(cv_engine *e);

static void *
worker_main(void *arg)
{
	cv_engine *e = arg;
	cv_result *r = malloc(sizeof(*r));
	bool last;
	job *j;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping && r != NULL) {
		j = queue_pick(e);
		if (j == NULL) {
			(void)pthread_cond_wait(&e->work, &e->lock);
			continue;
		}
		j->state = JOB_RUNNING;
		j->dom->running++;
		e->stats.running++;
		pthread_mutex_unlock(&e->lock);

		worker_run(e, j, r);

		pthread_mutex_lock(&e->lock);
		e->stats.running--;
		j->dom->running--;
		limits_domain_done(&e->limits, j->dom, cv_now_ms());
		job_finish(e, j, r);
		/* a domain slot is free: a capped job may run now */
		if (e->qhead != NULL)
			(void)pthread_cond_broadcast(&e->work);
	}
	e->live_workers--;
	last = e->orphaned && e->live_workers == 0;
	if (e->live_workers == 0)
		(void)pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
	free(r);
	if (last)
		engine_destroy(e);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void
engine_destroy(cv_engine *e)
{
	free(e->threads);
	free(e->inflight);
	limits_destroy(&e->limits);
	(void)pthread_cond_destroy(&e->work);
	(void)pthread_cond_destroy(&e->idle);
	(void)pthread_mutex_destroy(&e->lock);
	throttle_destroy(&e->log_throttle);
	free(e);
}

static void
params_fix(cv_engine_params *p)
{
	cv_engine_params def;

	cv_engine_params_init(&def);
	if (p->workers == 0)
		p->workers = def.workers;
	if (p->queue_size == 0)
		p->queue_size = def.queue_size;
	if (p->background_timeout_ms == 0)
		p->background_timeout_ms = def.background_timeout_ms;
	if (p->domain_concurrency == 0)
		p->domain_concurrency = def.domain_concurrency;
	if (p->mx_concurrency == 0)
		p->mx_concurrency = def.mx_concurrency;
}

static int
engine_start_workers(cv_engine *e, char *error_r, size_t error_size)
{
	unsigned i;
	int rc;

	for (i = 0; i < e->params.workers; i++) {
		pthread_mutex_lock(&e->lock);
		e->live_workers++;
		pthread_mutex_unlock(&e->lock);
		rc = pthread_create(&e->threads[i], NULL, worker_main, e);
		if (rc != 0) {
			pthread_mutex_lock(&e->lock);
			e->live_workers--;
			pthread_mutex_unlock(&e->lock);
			(void)snprintf(error_r, error_size,
			    "cannot start probe workers: %s", strerror(rc));
			return -1;
		}
		e->nthreads++;
	}
	return 0;
}

cv_engine *
cv_engine_new(const cv_engine_params *p, char *error_r, size_t error_size)
{
	cv_engine *e = calloc(1, sizeof(*e));
	size_t inflight_max;

	if (e == NULL) {
		(void)snprintf(error_r, error_size, "out of memory");
		return NULL;
	}
	e->params = *p;
	params_fix(&e->params);
	e->domain_queue_max = e->params.queue_size / 2 > 0 ?
	    e->params.queue_size / 2 : 1;
	inflight_max = (size_t)e->params.workers + e->params.queue_size;
	e->nbuckets = 16;
	while (e->nbuckets < 2 * inflight_max && e->nbuckets < (1u << 20))
		e->nbuckets <<= 1;
	if (pthread_mutex_init(&e->lock, NULL) != 0 ||
	    throttle_init(&e->log_throttle, LOG_BURST) != 0 ||
	    cond_init_monotonic(&e->work) != 0 ||
	    cond_init_monotonic(&e->idle) != 0) {
		(void)snprintf(error_r, error_size, "cannot make locks");
		free(e);	/* XXX leaks a lock or two made before */
		return NULL;
	}
	e->inflight = calloc(e->nbuckets, sizeof(*e->inflight));
	e->threads = calloc(e->params.workers, sizeof(*e->threads));
	if (e->inflight == NULL || e->threads == NULL ||
	    limits_init(&e->limits, e->params.domain_rate_per_minute,
	    e->params.mx_concurrency, DOMAINS_MIN + inflight_max,
	    e->params.workers) != 0) {
		(void)snprintf(error_r, error_size, "out of memory");
		engine_destroy(e);
		return NULL;
	}
	if (engine_start_workers(e, error_r, error_size) != 0) {
		cv_engine *tmp = e;

		cv_engine_free(&tmp);
		return NULL;
	}
	return e;
}

/* Wake everybody, drop the queue, wait for callers and cache stores. */
static void
engine_stop(cv_engine *e)
{
	size_t b;
	job *j;

	e->stopping = true;
	(void)pthread_cond_broadcast(&e->work);
	for (b = 0; b < e->nbuckets; b++)
		for (j = e->inflight[b]; j != NULL; j = j->hnext)
			(void)pthread_cond_broadcast(&j->done);
	while (e->qhead != NULL)
		queue_drop(e, NULL, e->qhead, CV_CLASS_LOCAL,
		    "probe engine stopping");
	while (e->callers > 0 || e->storing > 0)
		(void)pthread_cond_wait(&e->idle, &e->lock);
}

void
cv_engine_free(cv_engine **engine_p)
{
	cv_engine *e = *engine_p;
	struct timespec ts;
	unsigned i;

	if (e == NULL)
		return;
	*engine_p = NULL;
	pthread_mutex_lock(&e->lock);
	engine_stop(e);
	ts = deadline_ts(cv_now_ms() + GRACE_MS);
	while (e->live_workers > 0)
		if (pthread_cond_timedwait(&e->idle, &e->lock, &ts) ==
		    ETIMEDOUT)
			break;
	if (e->live_workers > 0) {
		/* XXX a callout in progress cannot be interrupted; its
		 * worker is left to finish and frees the engine. */
		e->orphaned = true;
		for (i = 0; i < e->nthreads; i++)
			(void)pthread_detach(e->threads[i]);
		pthread_mutex_unlock(&e->lock);
		return;
	}
	pthread_mutex_unlock(&e->lock);
	for (i = 0; i < e->nthreads; i++)
		(void)pthread_join(e->threads[i], NULL);
	engine_destroy(e);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* A background re-probe for a record past half its life, unless one is
 * in flight.  Silent when a limit says no. */
static void
engine_refresh(cv_engine *e, const cv_params *p, const cv_address *addr,
	       const char *key, unsigned hash)
{
	char note[NOTE_MAX];

	if (e->stopping || inflight_find(e, key, hash) != NULL)
		return;
	(void)job_enqueue(e, p, addr, key, hash, note, sizeof(note));
}

/* Wait for j until it is done, the deadline passes or the engine stops;
 * fill *r.  Lock held; j referenced by the caller. */
static void
engine_wait(cv_engine *e, job *j, int64_t start, int64_t deadline,
	    cv_result *r)
{
	struct timespec ts = deadline_ts(deadline);

	while (j->state != JOB_DONE && !e->stopping &&
	    cv_now_ms() < deadline)
		if (pthread_cond_timedwait(&j->done, &e->lock, &ts) ==
		    ETIMEDOUT)
			break;
	if (j->state == JOB_DONE) {
		*r = j->result;
	} else if (e->stopping) {
		result_set(r, CV_CLASS_LOCAL, false, start,
		    "probe engine stopping");
	} else {
		e->stats.timeouts_waiting++;
		result_set(r, CV_CLASS_TIMEOUT, true, start,
		    "verification in progress");
	}
}

/* Join the probe for key or queue one, and wait.  Lock held. */
static void
engine_ask(cv_engine *e, const cv_params *p, const cv_address *addr,
	   const char *key, int64_t start, int64_t deadline, cv_result *r)
{
	unsigned hash = engine_hash(key);
	char note[NOTE_MAX] = "";
	job *j = inflight_find(e, key, hash);

	if (j != NULL) {
		e->stats.joined++;
	} else {
		j = job_enqueue(e, p, addr, key, hash, note, sizeof(note));
		if (j == NULL) {
			result_set(r, CV_CLASS_LIMIT, false, start,
			    note[0] != '\0' ? note : "probe not started");
			pthread_mutex_unlock(&e->lock);
			engine_log(e, note);
			pthread_mutex_lock(&e->lock);
			return;
		}
	}
	j->refs++;
	engine_wait(e, j, start, deadline, r);
	job_unref(j);
}

/* A request the engine does not queue: no address, or parameters a
 * callout refuses at once; cv_verify() answers without the network. */
static bool
engine_passthrough(const cv_params *p, const cv_address *addr)
{
	return p->helo == NULL || p->helo[0] == '\0' || p->resolver == NULL ||
	    addr->null || addr->unqualified || addr->address[0] == '\0';
}

/* Parameters too long to copy into a probe. */
static bool
engine_params_fit(const cv_params *p)
{
	return strlen(p->helo) < HELO_MAX && (p->mail_from == NULL ||
	    strlen(p->mail_from) <= CV_PATH_MAX);
}

cv_verdict
cv_engine_verify(cv_engine *e, const cv_params *p, const cv_address *addr,
		 int64_t deadline, cv_result *result_r)
{
	int64_t start = cv_now_ms();
	char key[KEY_MAX];
	cv_cache_hit hit = CV_CACHE_MISS;

	if (engine_passthrough(p, addr))
		return cv_verify(p, addr, deadline, result_r);
	if (!engine_params_fit(p) ||
	    !key_make(addr, p->mail_from, key, sizeof(key))) {
		result_set(result_r, CV_CLASS_LOCAL, false, start,
		    "callout parameters too long");
		return CV_UNKNOWN;
	}
	pthread_mutex_lock(&e->lock);
	e->stats.requests++;
	if (e->stopping) {
		pthread_mutex_unlock(&e->lock);
		result_set(result_r, CV_CLASS_LOCAL, false, start,
		    "probe engine stopping");
		return CV_UNKNOWN;
	}
	e->callers++;
	pthread_mutex_unlock(&e->lock);

	if (e->params.cache != NULL)
		hit = cv_cache_lookup(e->params.cache, addr, p->mail_from,
		    result_r);

	pthread_mutex_lock(&e->lock);
	if (hit != CV_CACHE_MISS) {
		e->stats.cache_hits++;
		if (hit == CV_CACHE_HIT_REFRESH)
			engine_refresh(e, p, addr, key, engine_hash(key));
	} else if (e->stopping) {
		result_set(result_r, CV_CLASS_LOCAL, false, start,
		    "probe engine stopping");
	} else {
		engine_ask(e, p, addr, key, start, deadline, result_r);
	}
	if (--e->callers == 0 && e->stopping)
		(void)pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
	return result_r->verdict;
}

void
cv_engine_get_stats(cv_engine *e, cv_engine_stats *stats_r)
{
	pthread_mutex_lock(&e->lock);
	*stats_r = e->stats;
	pthread_mutex_unlock(&e->lock);
}
