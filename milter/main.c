/*
 * main.c - the callout-milter daemon: options, configuration, the milter
 * socket, privileges, signals and the graceful stop.
 *
 *   callout-milter [-c conf] [-f] [-n] [-V]
 *
 * Start-up order: load the configuration (-n stops here), open the log,
 * go to the background unless -f, write the pid file, open the milter
 * socket (as root, so it may live in /run), set its owner and mode, then
 * give up root for the configured user and group, then make the verdict
 * cache (Cache; as that user, so that the LMDB file is its own) and the
 * probe engine.  Both are made once: their keys (Cache, Cache*, Workers,
 * QueueSize, CalloutBackgroundTimeout, DomainConcurrency, MXConcurrency,
 * DomainRatePerMinute) take effect at the next start, not on SIGHUP.
 *
 * Signals: libmilter's smfi_main() runs its own signal thread that takes
 * SIGHUP as "stop".  So smfi_main() runs in a thread of its own and the
 * main thread waits for SIGHUP, SIGTERM and SIGINT itself: on Linux a
 * signal sent to the process goes to the thread-group leader first when
 * it is waiting for that signal.  SIGHUP loads the configuration into a
 * new snapshot (sessions keep theirs); a bad file leaves the old one in
 * force.  SIGTERM and SIGINT stop accepting connections and wait for the
 * sessions in flight, at most STOP_GRACE_S seconds.
 *
 * Exit status: 0 after a clean stop, 1 when the milter failed, 78
 * (EX_CONFIG) for a configuration error, 64 for usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "log.h"
#include "runtime.h"
#include "session.h"
#include "spf.h"

#define EXIT_USAGE	64
#define EXIT_CONFIG	78
#define STOP_GRACE_S	35	/* longest wait of a session, and some */
#define BACKLOG		128

static const char *conf_path;
static bool conf_given;
static cv_cache *cache;
static cv_engine *engine;
static spf_pool *spf_helpers;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: callout-milter [-c conf] [-f] [-n] [-V]\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the configuration, print it and exit\n"
	    "  -V       print the version\n", CONFIG_DEFAULT_FILE);
}

/* The configuration: the file given, else the default file, else (no
 * default file) the built-in defaults. */
static const struct config *
load(char *err, size_t size)
{
	const struct config *cfg = NULL;

	if (config_load(conf_path, &cfg, err, size) == 0)
		return cfg;
	if (!conf_given && errno == ENOENT &&
	    config_defaults(&cfg, err, size) == 0)
		return cfg;
	return NULL;
}

static int
write_pidfile(const char *path)
{
	FILE *fp;

	if (path == NULL || *path == '\0')
		return 0;
	fp = fopen(path, "w");
	if (fp == NULL) {
		log_msg(LOG_ERR, "cannot write pid file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp) == 0 ? 0 : -1;
}

/* Owner and mode of a unix socket, while we are still root. */
static int
socket_permissions(const struct config *cfg, uid_t uid, gid_t gid)
{
	const char *path = cfg->socket.path;

	if (cfg->socket.family != AF_UNIX)
		return 0;
	if (getuid() == 0 && chown(path, uid, gid) != 0) {
		log_msg(LOG_ERR, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)cfg->socket_mode) != 0) {
		log_msg(LOG_ERR, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Find the user and group of UserID; fills uid/gid, or -1. */
static int
lookup_user(const struct config *cfg, uid_t *uid_r, gid_t *gid_r)
{
	const struct passwd *pw;
	const struct group *gr;

	pw = getpwnam(cfg->user.user);
	if (pw == NULL) {
		log_msg(LOG_ERR, "UserID: no user \"%s\"", cfg->user.user);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	if (cfg->user.group[0] != '\0') {
		gr = getgrnam(cfg->user.group);
		if (gr == NULL) {
			log_msg(LOG_ERR, "UserID: no group \"%s\"",
			    cfg->user.group);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* Give up root.  Only when started as root: under a systemd unit that
 * already runs as the user, setgid() would be refused by its filter. */
static int
drop_privileges(const struct config *cfg, uid_t uid, gid_t gid)
{
	if (getuid() != 0 || cfg->user.user[0] == '\0')
		return 0;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		log_msg(LOG_ERR, "cannot change to user %s: %s",
		    cfg->user.user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_msg(LOG_ERR, "could regain root after dropping it");
		return -1;
	}
	return 0;
}

static atomic_int milter_rc = MI_SUCCESS;
static atomic_bool milter_done;
static atomic_bool stopping;

static void *
milter_thread(void *arg)
{
	(void)arg;
	atomic_store(&milter_rc, smfi_main());
	atomic_store(&milter_done, true);
	/* wake the main thread if the milter stopped on its own */
	if (!atomic_load(&stopping))
		(void)kill(getpid(), SIGTERM);
	return NULL;
}

static void
reload(void)
{
	char err[CONFIG_ERROR_MAX], changed[512];
	const struct config *cfg = load(err, sizeof(err));
	runtime *old;

	if (cfg == NULL) {
		log_msg(LOG_ERR, "reload failed, old configuration kept: %s",
		    err);
		return;
	}
	old = runtime_get();
	if (old != NULL && config_changed_unreloadable(old->cfg, cfg, changed,
	    sizeof(changed)))
		log_msg(LOG_WARNING, "reload: a restart is needed to apply "
		    "%s", changed);
	runtime_put(&old);
	log_set_facility(cfg->syslog_facility);
	if (runtime_install(cfg, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "reload failed, old configuration kept: %s",
		    err);
		return;
	}
	log_msg(LOG_INFO, "configuration reloaded from %s", conf_path);
}

/* Wait for signals until told to stop; returns the signal. */
static int
signal_loop(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		return sig;
	}
}

/* Stop accepting, let the sessions in flight finish (bounded). */
static void
graceful_stop(pthread_t milter)
{
	int waited;

	/* libmilter stops serving open connections once smfi_stop() is
	 * called: drain first (new sessions get 451), then stop. */
	session_drain();
	for (waited = 0; waited < STOP_GRACE_S * 10; waited++) {
		if (session_count() == 0)
			break;
		(void)usleep(100 * 1000);
	}
	if (session_count() != 0)
		log_msg(LOG_WARNING, "stopping with %u sessions still open",
		    session_count());
	(void)smfi_stop();
	(void)pthread_detach(milter);
}

static void
cache_warn(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_WARNING, "%s", msg);
}

static void
engine_event(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_NOTICE, "%s", msg);
}

/* The verdict cache and the probe engine, once for the process life. */
static int
engine_start(const struct config *cfg)
{
	cv_cache_params cp;
	cv_engine_params ep;
	char err[256];

	cv_cache_params_init(&cp);
	if (cfg->cache.kind == CONFIG_CACHE_LMDB)
		cp.lmdb_path = cfg->cache.path;
	else if (cfg->cache.kind == CONFIG_CACHE_REDIS)
		log_msg(LOG_WARNING, "Cache: redis is not supported yet, "
		    "using memory only");	/* XXX until the Redis store */
	cp.memory_entries = cfg->cache_memory_entries;
	cp.positive_ttl_s = cfg->cache_positive_ttl_s;
	cp.negative_ttl_s = cfg->cache_negative_ttl_s;
	cp.unknown_ttl_s = cfg->cache_unknown_ttl_s;
	cp.domain_positive_ttl_s = cfg->cache_domain_positive_ttl_s;
	cp.domain_negative_ttl_s = cfg->cache_domain_negative_ttl_s;
	cp.warn = cache_warn;
	cache = cv_cache_new(&cp);
	if (cache == NULL) {
		log_msg(LOG_ERR, "cannot make the cache: out of memory");
		return -1;
	}
	cv_engine_params_init(&ep);
	ep.workers = cfg->workers;
	ep.queue_size = cfg->queue_size;
	ep.background_timeout_ms = cfg->callout_background_timeout_s * 1000;
	ep.domain_concurrency = cfg->domain_concurrency;
	ep.mx_concurrency = cfg->mx_concurrency;
	ep.domain_rate_per_minute = cfg->domain_rate_per_minute;
	ep.cache = cache;
	ep.log = engine_event;
	engine = cv_engine_new(&ep, err, sizeof(err));
	if (engine == NULL) {
		log_msg(LOG_ERR, "cannot start the probe engine: %s", err);
		cv_cache_free(&cache);
		return -1;
	}
	runtime_set_engine(engine);
	return 0;
}

/* After the last session: stop the workers, then close the cache.  With
 * sessions still open (the grace ran out) both stay: a session may still
 * be inside the engine, and the process is about to end anyway. */
static void
engine_stop(void)
{
	if (session_count() != 0)
		return;
	runtime_set_engine(NULL);
	cv_engine_free(&engine);
	cv_cache_free(&cache);
}

/* Open the socket and become the configured user. */
static int
setup_socket(const struct config *cfg)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (getuid() == 0 && cfg->user.user[0] != '\0' &&
	    lookup_user(cfg, &uid, &gid) != 0)
		return -1;
	if (smfi_setconn((char *)cfg->socket.spec) != MI_SUCCESS ||
	    smfi_register(*session_filter()) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot open milter socket %s",
		    cfg->socket.spec);
		return -1;
	}
	if (socket_permissions(cfg, uid, gid) != 0)
		return -1;
	return drop_privileges(cfg, uid, gid);
}

static int
run(const struct config *cfg, bool foreground, const sigset_t *set)
{
	char err[CONFIG_ERROR_MAX];
	pthread_t milter;
	int sig;

	log_open("callout-milter", cfg->syslog_facility, foreground);
	if (!foreground && daemon(0, 0) != 0) {
		log_msg(LOG_ERR, "cannot go to the background: %s",
		    strerror(errno));
		return 1;
	}
	if (write_pidfile(cfg->pid_file) != 0 || setup_socket(cfg) != 0)
		return 1;
	(void)signal(SIGPIPE, SIG_IGN);
	if (engine_start(cfg) != 0)
		return 1;
	/* SPF helpers are started once, as the unprivileged user; a
	 * reload that turns SPF on needs a restart (logged by reload) */
	if (cfg->spf) {
		spf_helpers = spf_pool_start(cfg, err, sizeof(err));
		if (spf_helpers == NULL) {
			log_msg(LOG_ERR, "cannot start SPF helpers: %s", err);
			return 1;
		}
		session_set_spf(spf_helpers);
	}
	if (runtime_install(config_ref(cfg), err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	if (pthread_create(&milter, NULL, milter_thread, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start the milter thread");
		return 1;
	}
	log_msg(LOG_INFO, "callout-milter %s listening on %s",
	    PACKAGE_VERSION, cfg->socket.spec);
	sig = signal_loop(set);
	atomic_store(&stopping, true);
	if (atomic_load(&milter_done))
		log_msg(LOG_ERR, "the milter stopped by itself (%s)",
		    atomic_load(&milter_rc) == MI_SUCCESS ? "success" :
		    "failure");
	else
		log_msg(LOG_INFO, "signal %d: stopping", sig);
	graceful_stop(milter);
	runtime_shutdown();
	engine_stop();
	if (session_count() == 0) {
		session_set_spf(NULL);
		spf_pool_stop(&spf_helpers);
	}
	if (cfg->pid_file != NULL && *cfg->pid_file != '\0')
		(void)unlink(cfg->pid_file);
	return atomic_load(&milter_rc) == MI_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char err[CONFIG_ERROR_MAX];
	const struct config *cfg;
	bool foreground = false, check = false;
	sigset_t set;
	int ch, rc;

	/* Block the signals the main thread waits for before any thread
	 * exists (the config loader may start one), so that every thread
	 * inherits the mask and only sigwait() sees them. */
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGHUP);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	conf_path = CONFIG_DEFAULT_FILE;
	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			conf_given = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'V':
			printf("callout-milter %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cfg = load(err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "callout-milter: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		rc = config_print(cfg, stdout) == 0 ? 0 : 1;
		config_unref(&cfg);
		return rc;
	}
	rc = run(cfg, foreground, &set);
	config_unref(&cfg);
	return rc;
}
