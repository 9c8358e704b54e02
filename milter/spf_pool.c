/*
 * spf_pool.c - the pool of SPF helper processes (callout-spf-helper)
 * that evaluate SPF for the daemon, so that libspf2 never runs inside
 * the milter's address space.
 *
 * Processes.  Helpers are started with fork + exec, so that each has a
 * fresh address space (its own ASLR layout: a helper crashed on purpose
 * teaches an attacker nothing about the next one) and nothing of the
 * daemon's memory, fds or locks.  Between fork and exec the child only
 * calls async-signal-safe functions (dup2, close, fcntl, sigaction,
 * sigprocmask, execv), as the daemon is multi-threaded; every fd but
 * 0-2 and the helper's socket (as fd 3) is closed.  The helper lowers
 * its own limits and sets no_new_privs (spf_helper.c).
 *
 * Requests.  Each helper has its own SOCK_SEQPACKET socketpair
 * (spf_proto.h) and serves one request at a time.  A caller takes a free
 * helper under the mutex (waiting on a condition variable up to its
 * deadline: temperror when none frees up), then sends and waits with no
 * lock held.  Nothing is ever forked with the mutex held: a caller that
 * finds an empty slot marks it as its own and starts the helper after
 * unlocking.  A helper that does not answer by the deadline is SIGKILLed,
 * reaped (waitpid on its own pid, never -1) and replaced by that caller;
 * one that died is reaped and replaced the same way; the request either
 * had gets temperror.  A helper found dead while idle is replaced before
 * the request is sent, so its death costs nobody a temperror.
 *
 * Failure: spf_check() always answers; our own trouble (no helper, a
 * timeout, a dead helper, bad input) is temperror with a problem text.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spf.h"
#include "spf_proto.h"

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/libexec/callout-milter"
#endif

#define HELPER_FD     3 /* the socket, in the helper */
#define ARGS_MAX      (2 * CONFIG_NAMESERVERS_MAX + 16)
#define STOP_GRACE_MS 500 /* for helpers to exit on EOF at stop */
/* The helper's budget is the caller's time less this: a DNS query may
 * end up to 400 ms after its deadline (dns.c), and the answer has to
 * come back before the pool gives up on the helper. */
#define HELPER_MARGIN_MS 600

typedef enum slot_state {
	SLOT_EMPTY = 0, /* no process: the next user starts one */
	SLOT_FREE,      /* running, idle */
	SLOT_BUSY,      /* owned by one caller (request or start) */
} slot_state;

typedef struct slot {
	slot_state state;
	_Atomic pid_t pid; /* 0 when none; read by spf_pool_helpers */
	int fd;            /* our end of the socketpair, -1 when none */
} slot;

struct spf_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a slot left SLOT_BUSY */
	unsigned count;
	slot slots[SPF_HELPERS_MAX];
	bool stopping;
	char path[PATH_MAX];
	char *argv[ARGS_MAX]; /* built once: nothing to build after fork */
	char receiver[CV_DOMAIN_MAX + 1];
	atomic_uint seq;
	atomic_uint_fast64_t requests, timeouts, deaths, spawned, no_helper;
};

void
spf_pool_params_init(spf_pool_params *p)
{
	memset(p, 0, sizeof(*p));
	p->helpers = 2;
	p->dns_timeout_ms = 5000;
	p->memory_mb = 256;
	p->cpu_s = 600;
}

/* ------------------------------------------------------------------ */
/* Starting and ending one helper                                      */
/* ------------------------------------------------------------------ */

/* Close every fd from 'from' up; the child of a fork, so no malloc. */
static void
pool_close_from(int from)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from, ~0U, 0U) == 0)
		return;
#endif
	for (int fd = from; fd < 65536; fd++)
		(void)close(fd);
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void
pool_child(const spf_pool *pool, int sock)
{
	struct sigaction sa;
	sigset_t none;

	if (sock == HELPER_FD) {
		if (fcntl(sock, F_SETFD, 0) < 0)
			_exit(127);
	} else if (dup2(sock, HELPER_FD) < 0) {
		_exit(127);
	}
	pool_close_from(HELPER_FD + 1);
	/* the daemon blocks signals for its signal thread: undo that,
	 * and the dispositions a helper should not inherit */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execv(pool->path, pool->argv);
	_exit(127);
}

/* Start a helper into s (owned by the caller, no lock held). */
static int
pool_spawn(spf_pool *pool, slot *s)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0)
		pool_child(pool, sv[1]);
	(void)close(sv[1]);
	s->pid = pid;
	s->fd = sv[0];
	atomic_fetch_add(&pool->spawned, 1);
	return 0;
}

/* Kill (unless already gone) and reap the helper of s. */
static void
pool_reap(slot *s)
{
	int status;

	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	if (s->pid > 0) {
		(void)kill(s->pid, SIGKILL);
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	s->pid = 0;
}

/* Has the idle helper of s gone away (EOF, error, or stray data)? */
static bool
pool_gone(const slot *s)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};

	return poll(&pfd, 1, 0) != 0;
}

/* ------------------------------------------------------------------ */
/* Taking and giving back a slot                                       */
/* ------------------------------------------------------------------ */

static void
pool_timespec(int64_t deadline, struct timespec *ts)
{
	int64_t left = deadline - cv_now_ms();

	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	if (left < 0)
		left = 0;
	ts->tv_sec += (time_t)(left / 1000);
	ts->tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* A slot for the caller (SLOT_BUSY, with a live helper), or NULL when
 * none frees up by deadline or the pool stops. */
static slot *
pool_take(spf_pool *pool, int64_t deadline)
{
	struct timespec ts;
	slot *s = NULL;

	pool_timespec(deadline, &ts);
	(void)pthread_mutex_lock(&pool->lock);
	while (s == NULL && !pool->stopping) {
		for (unsigned i = 0; i < pool->count && s == NULL; i++)
			if (pool->slots[i].state == SLOT_FREE)
				s = &pool->slots[i];
		for (unsigned i = 0; i < pool->count && s == NULL; i++)
			if (pool->slots[i].state == SLOT_EMPTY)
				s = &pool->slots[i];
		if (s != NULL)
			break;
		if (pthread_cond_timedwait(&pool->cond, &pool->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	if (s != NULL)
		s->state = SLOT_BUSY;
	(void)pthread_mutex_unlock(&pool->lock);
	if (s == NULL)
		return NULL;
	/* outside the lock: replace a helper that died while idle */
	if (s->pid > 0 && pool_gone(s)) {
		atomic_fetch_add(&pool->deaths, 1);
		pool_reap(s);
	}
	if (s->pid == 0 && pool_spawn(pool, s) < 0) {
		(void)pthread_mutex_lock(&pool->lock);
		s->state = SLOT_EMPTY;
		(void)pthread_cond_broadcast(&pool->cond);
		(void)pthread_mutex_unlock(&pool->lock);
		return NULL;
	}
	return s;
}

static void
pool_give(spf_pool *pool, slot *s)
{
	(void)pthread_mutex_lock(&pool->lock);
	s->state = s->pid > 0 ? SLOT_FREE : SLOT_EMPTY;
	(void)pthread_cond_broadcast(&pool->cond);
	(void)pthread_mutex_unlock(&pool->lock);
}

/* ------------------------------------------------------------------ */
/* One exchange                                                        */
/* ------------------------------------------------------------------ */

typedef enum xfer {
	XFER_OK = 0,
	XFER_SEND,    /* could not send: the helper is gone */
	XFER_DIED,    /* EOF or a bad answer */
	XFER_TIMEOUT, /* no answer by the deadline */
} xfer;

static xfer
pool_exchange(slot *s, const unsigned char *req, size_t len, uint32_t seq,
              int64_t deadline, spf_response_msg *resp_r)
{
	unsigned char buf[SPF_MSG_MAX];
	ssize_t n;

	while ((n = send(s->fd, req, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)len)
		return XFER_SEND;
	for (;;) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		int64_t left = deadline - cv_now_ms();
		int rc;

		if (left <= 0)
			return XFER_TIMEOUT;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc < 0 && errno != EINTR)
			return XFER_DIED;
		if (rc > 0)
			break;
	}
	n = recv(s->fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);
	if (n <= 0 || (size_t)n > sizeof(buf) ||
	    spf_proto_get_response(buf, (size_t)n, resp_r) < 0 ||
	    resp_r->seq != seq)
		return XFER_DIED;
	return XFER_OK;
}

/* ------------------------------------------------------------------ */
/* The API                                                             */
/* ------------------------------------------------------------------ */

static void
spf_answer_fill(spf_answer *a, spf_result r, const char *explanation,
                const char *problem, const spf_request_msg *req,
                const char *receiver, int64_t start)
{
	a->result = r;
	spf_proto_printable(a->explanation, sizeof(a->explanation),
	                    r == SPFR_FAIL ? explanation : "");
	spf_proto_printable(a->problem, sizeof(a->problem), problem);
	spf_received_value(r, receiver, req->ip, req->helo, req->sender,
	                   a->problem, a->received_spf,
	                   sizeof(a->received_spf));
	a->elapsed_ms = cv_now_ms() - start;
}

/* Fill the request from the caller's input; NULL or a problem. */
static const char *
spf_request_make(const char *client_ip, const char *helo,
                 const cv_address *sender, int64_t deadline,
                 spf_request_msg *req)
{
	unsigned char a[16];
	int64_t left = deadline - cv_now_ms();

	memset(req, 0, sizeof(*req));
	(void)snprintf(req->helo, sizeof(req->helo), "%s",
	               helo != NULL ? helo : "");
	if (!spf_sender_text(sender, req->sender, sizeof(req->sender)))
		return "sender too long";
	if (client_ip == NULL || strlen(client_ip) >= sizeof(req->ip) ||
	    (inet_pton(AF_INET, client_ip, a) != 1 &&
	     inet_pton(AF_INET6, client_ip, a) != 1))
		return "bad client address";
	(void)snprintf(req->ip, sizeof(req->ip), "%s", client_ip);
	if (left <= HELPER_MARGIN_MS)
		return "no time left";
	req->budget_ms = (uint32_t)(left - HELPER_MARGIN_MS > 600000
	                                ? 600000
	                                : left - HELPER_MARGIN_MS);
	return NULL;
}

/* Send req on a helper of our own; a problem text, or NULL. */
static const char *
spf_pool_run(spf_pool *pool, spf_request_msg *req, int64_t deadline,
             spf_response_msg *resp)
{
	unsigned char buf[SPF_MSG_MAX];
	const char *problem = NULL;
	size_t len;
	slot *s;
	xfer x;

	req->seq = atomic_fetch_add(&pool->seq, 1);
	len = spf_proto_put_request(req, buf);
	if (len == 0)
		return "request too long";
	s = pool_take(pool, deadline);
	if (s == NULL) {
		atomic_fetch_add(&pool->no_helper, 1);
		return "no SPF helper available";
	}
	x = pool_exchange(s, buf, len, req->seq, deadline, resp);
	if (x == XFER_SEND) {
		/* gone between our check and the send: one more try */
		atomic_fetch_add(&pool->deaths, 1);
		pool_reap(s);
		if (pool_spawn(pool, s) == 0)
			x = pool_exchange(s, buf, len, req->seq, deadline,
			                  resp);
	}
	if (x == XFER_TIMEOUT) {
		atomic_fetch_add(&pool->timeouts, 1);
		problem = "SPF helper timed out";
	} else if (x != XFER_OK) {
		atomic_fetch_add(&pool->deaths, 1);
		problem = "SPF helper died";
	}
	if (x != XFER_OK) {
		pool_reap(s);
		/* replace it now: the next caller should not pay */
		(void)pool_spawn(pool, s);
	}
	pool_give(pool, s);
	return problem;
}

spf_result
spf_check(spf_pool *pool, const char *client_ip, const char *helo,
          const cv_address *sender, int64_t deadline, spf_answer *answer_r)
{
	int64_t start = cv_now_ms();
	spf_request_msg req;
	spf_response_msg resp;
	const char *problem;

	memset(answer_r, 0, sizeof(*answer_r));
	memset(&resp, 0, sizeof(resp));
	problem = spf_request_make(client_ip, helo, sender, deadline, &req);
	if (problem == NULL && pool == NULL)
		problem = "no SPF helpers";
	if (problem == NULL) {
		atomic_fetch_add(&pool->requests, 1);
		problem = spf_pool_run(pool, &req, deadline, &resp);
	}
	if (problem != NULL)
		spf_answer_fill(answer_r, SPFR_TEMPERROR, "", problem, &req,
		                pool != NULL ? pool->receiver : "", start);
	else
		spf_answer_fill(answer_r, resp.result, resp.explanation,
		                resp.problem, &req, pool->receiver, start);
	return answer_r->result;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

/* The helper next to the running program (a build tree), else the
 * installed one. */
static void
pool_find_helper(char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, size, "%s/%s", self,
			                     SPF_HELPER_NAME) < size &&
			    access(path, X_OK) == 0)
				return;
		}
	}
	(void)snprintf(path, size, "%s/%s", PKGLIBEXECDIR, SPF_HELPER_NAME);
}

static int
pool_arg(spf_pool *pool, size_t *n, const char *text)
{
	if (*n + 1 >= ARGS_MAX || (pool->argv[*n] = strdup(text)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int
pool_args(spf_pool *pool, const spf_pool_params *p)
{
	char num[32];
	size_t n = 0;
	int rc = 0;

	rc |= pool_arg(pool, &n, SPF_HELPER_NAME);
	for (size_t i = 0; i < p->nameserver_count && rc == 0; i++) {
		rc |= pool_arg(pool, &n, "-n");
		rc |= pool_arg(pool, &n, p->nameservers[i]);
	}
	(void)snprintf(num, sizeof(num), "%u", p->dns_timeout_ms);
	rc |= pool_arg(pool, &n, "-t");
	rc |= pool_arg(pool, &n, num);
	(void)snprintf(num, sizeof(num), "%u", p->memory_mb);
	rc |= pool_arg(pool, &n, "-m");
	rc |= pool_arg(pool, &n, num);
	(void)snprintf(num, sizeof(num), "%u", p->cpu_s);
	rc |= pool_arg(pool, &n, "-c");
	rc |= pool_arg(pool, &n, num);
	if (pool->receiver[0] != '\0') {
		rc |= pool_arg(pool, &n, "-r");
		rc |= pool_arg(pool, &n, pool->receiver);
	}
	pool->argv[n] = NULL;
	return rc;
}

static void
pool_free(spf_pool *pool)
{
	for (size_t i = 0; i < ARGS_MAX; i++)
		free(pool->argv[i]);
	(void)pthread_cond_destroy(&pool->cond);
	(void)pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static int
pool_init_sync(spf_pool *pool)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&pool->cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	if (rc != 0)
		return -1;
	if (pthread_mutex_init(&pool->lock, NULL) != 0) {
		(void)pthread_cond_destroy(&pool->cond);
		return -1;
	}
	return 0;
}

spf_pool *
spf_pool_start_params(const spf_pool_params *p, char *error_r,
                      size_t error_size)
{
	spf_pool *pool;

	if (p->helpers == 0 || p->helpers > SPF_HELPERS_MAX ||
	    p->nameserver_count > CONFIG_NAMESERVERS_MAX) {
		(void)snprintf(error_r, error_size,
		               "SPF helpers: 1 to %d helpers, at most %d "
		               "name servers",
		               SPF_HELPERS_MAX, CONFIG_NAMESERVERS_MAX);
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL || pool_init_sync(pool) < 0) {
		free(pool);
		(void)snprintf(error_r, error_size, "SPF helpers: no memory");
		return NULL;
	}
	pool->count = p->helpers;
	for (unsigned i = 0; i < SPF_HELPERS_MAX; i++)
		pool->slots[i].fd = -1;
	(void)snprintf(pool->receiver, sizeof(pool->receiver), "%s",
	               p->receiver != NULL ? p->receiver : "");
	if (p->helper_path != NULL)
		(void)snprintf(pool->path, sizeof(pool->path), "%s",
		               p->helper_path);
	else
		pool_find_helper(pool->path, sizeof(pool->path));
	if (access(pool->path, X_OK) != 0 || pool_args(pool, p) < 0) {
		(void)snprintf(error_r, error_size, "SPF helper %s: %s",
		               pool->path,
		               errno != 0 ? strerror(errno) : "no memory");
		pool_free(pool);
		return NULL;
	}
	for (unsigned i = 0; i < pool->count; i++) {
		if (pool_spawn(pool, &pool->slots[i]) < 0) {
			(void)snprintf(error_r, error_size,
			               "SPF helper %s: cannot start: %s",
			               pool->path, strerror(errno));
			spf_pool_stop(&pool);
			return NULL;
		}
		pool->slots[i].state = SLOT_FREE;
	}
	return pool;
}

spf_pool *
spf_pool_start(const struct config *cfg, char *error_r, size_t error_size)
{
	spf_pool_params p;

	spf_pool_params_init(&p);
	p.helpers = cfg->spf_helpers;
	p.nameservers = (const char *const *)cfg->nameservers.list;
	p.nameserver_count = cfg->nameservers.count;
	if (cfg->dns_timeout_s > 0)
		p.dns_timeout_ms = cfg->dns_timeout_s * 1000;
	p.receiver = cfg->callout_helo;
	return spf_pool_start_params(&p, error_r, error_size);
}

/* Wait up to STOP_GRACE_MS for the helpers to exit on their own. */
static void
pool_stop_wait(spf_pool *pool)
{
	int64_t end = cv_now_ms() + STOP_GRACE_MS;
	bool left = true;

	while (left && cv_now_ms() < end) {
		left = false;
		for (unsigned i = 0; i < pool->count; i++) {
			slot *s = &pool->slots[i];
			int status;

			if (s->pid <= 0)
				continue;
			if (waitpid(s->pid, &status, WNOHANG) != 0)
				s->pid = 0; /* reaped, or not ours */
			else
				left = true;
		}
		if (left)
			(void)usleep(5000);
	}
}

void
spf_pool_stop(spf_pool **pool_p)
{
	spf_pool *pool;
	int64_t end;

	if (pool_p == NULL || *pool_p == NULL)
		return;
	pool = *pool_p;
	*pool_p = NULL;
	/* no new requests; let those in flight end (their deadlines
	 * bound them), at most a minute */
	end = cv_now_ms() + 60000;
	(void)pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	(void)pthread_cond_broadcast(&pool->cond);
	for (;;) {
		struct timespec ts;
		bool busy = false;

		for (unsigned i = 0; i < pool->count; i++)
			busy |= pool->slots[i].state == SLOT_BUSY;
		if (!busy || cv_now_ms() >= end)
			break;
		pool_timespec(cv_now_ms() + 100, &ts);
		(void)pthread_cond_timedwait(&pool->cond, &pool->lock, &ts);
	}
	(void)pthread_mutex_unlock(&pool->lock);
	/* EOF tells a helper to exit; then whatever is left is killed */
	for (unsigned i = 0; i < pool->count; i++) {
		if (pool->slots[i].fd >= 0)
			(void)close(pool->slots[i].fd);
		pool->slots[i].fd = -1;
	}
	pool_stop_wait(pool);
	for (unsigned i = 0; i < pool->count; i++)
		pool_reap(&pool->slots[i]);
	pool_free(pool);
}

void
spf_pool_get_stats(spf_pool *pool, spf_pool_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	if (pool == NULL)
		return;
	stats_r->requests = atomic_load(&pool->requests);
	stats_r->timeouts = atomic_load(&pool->timeouts);
	stats_r->deaths = atomic_load(&pool->deaths);
	stats_r->spawned = atomic_load(&pool->spawned);
	stats_r->no_helper = atomic_load(&pool->no_helper);
}

size_t
spf_pool_helpers(spf_pool *pool, pid_t *pids_r, bool *busy_r, size_t max)
{
	size_t n = 0;

	if (pool == NULL)
		return 0;
	(void)pthread_mutex_lock(&pool->lock);
	for (unsigned i = 0; i < pool->count && n < max; i++, n++) {
		pids_r[n] = pool->slots[i].pid;
		busy_r[n] = pool->slots[i].state == SLOT_BUSY;
	}
	(void)pthread_mutex_unlock(&pool->lock);
	return n;
}
