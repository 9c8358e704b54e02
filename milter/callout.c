/*
 * callout.c - the callout command: verify addresses from the command
 * line with the daemon's library and configuration, the way Exim's
 * "exim -bvs" is used (DESIGN.md section 11).
 *
 *   callout [-c conf] [-v] [--header FILE] address...
 *   callout [-c conf] cache show|purge ADDRESS|DOMAIN
 *   callout [-c conf] cache stats
 *
 * Prints one verdict line per address; -v adds the DNS answers and every
 * SMTP line sent and received, with timestamps.  Exit status: 0 all
 * verified, 1 one failed, 2 one unknown (and none failed), 64 usage,
 * 78 configuration error.
 *
 * The cache subcommands open the daemon's persistent cache (the Cache
 * key; only lmdb has one to open) beside the running daemon, which LMDB
 * allows.  Exit status: 0 done, 1 show found nothing, 64 usage or a bad
 * key, 69 no persistent cache (memory, redis, no file, does not open),
 * 78 configuration error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "conf.h"
#include "hsender.h"
#include "logline.h"
#include "spf.h"
#include "spf_eval.h"
#include "verifier.h"

#define EXIT_USAGE	64	/* EX_USAGE */
#define EXIT_CONFIG	78	/* EX_CONFIG */
#define EXIT_UNAVAILABLE 69	/* EX_UNAVAILABLE */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: --header file unreadable */
#define HEADER_FILE_MAX	(1024 * 1024)	/* octets of headers read */

typedef struct cli {
	const struct config *cfg;
	verifier *v;
	int64_t budget_ms;
	const char *client;	/* --client: SPF is shown for it */
	const char *helo;	/* --helo */
	cv_resolver *spf_res;	/* the config's nameservers, for SPF */
} cli;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: callout [-c conf] [-v] [--header FILE]\n"
	    "               [--client IP [--helo NAME]] address...\n"
	    "       callout [-c conf] cache show|purge ADDRESS|DOMAIN\n"
	    "       callout [-c conf] cache stats\n"
	    "  -c FILE        configuration (default %s)\n"
	    "  -v             print DNS answers and the SMTP dialog\n"
	    "  --header FILE  check the sender headers of a message\n"
	    "                 (Sender, Reply-To, From) as header_sender does\n"
	    "  --client IP    also show the SPF result for this client\n"
	    "  --helo NAME    its HELO name (default: the IP in brackets)\n"
	    "  -V             print the version\n"
	    "exit status: 0 verified, 1 failed, 2 unknown, 64+ error\n"
	    "cache: show and purge take local@domain (its records for "
	    "every probe\n"
	    "  sender) or a domain (its facts and all its addresses)\n",
	    CONFIG_DEFAULT_FILE);
}

/* The -v transcript: "12:00:00.123 > EHLO host", safe to print. */
static void
trace_print(void *ctx, char dir, const char *line)
{
	char safe[2048], stamp[16];
	struct timeval tv;
	struct tm tm;

	(void)ctx;
	(void)gettimeofday(&tv, NULL);
	(void)localtime_r(&tv.tv_sec, &tm);
	(void)strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	(void)logline_escape(safe, sizeof(safe), line, strlen(line));
	printf("%s.%03ld %c %s\n", stamp, (long)(tv.tv_usec / 1000), dir,
	    safe);
	fflush(stdout);
}

/* Exit status of a verdict; the worse of two is the larger rank. */
static int
verdict_rank(cv_verdict v)
{
	return v == CV_FAILED ? 2 : v == CV_UNKNOWN ? 1 : 0;
}

static int
rank_status(int rank)
{
	return rank == 2 ? 1 : rank == 1 ? 2 : 0;
}

static void
print_result(const char *what, const cv_result *r)
{
	char msg[sizeof(r->message) * 4];

	(void)logline_escape(msg, sizeof(msg), r->message,
	    strlen(r->message));
	if (r->class_ == CV_CLASS_DNS && r->dns != CV_DNS_OK)
		printf("%s: %s (dns %s): %s\n", what,
		    cv_verdict_name(r->verdict), cv_dns_status_name(r->dns),
		    msg);
	else
		printf("%s: %s (%s): %s\n", what, cv_verdict_name(r->verdict),
		    cv_class_name(r->class_), msg);
	if (r->verdict != CV_VERIFIED || r->class_ != CV_CLASS_DNS)
		printf("%s: elapsed %lld ms, %u host%s tried\n", what,
		    (long long)r->elapsed_ms, r->hosts_tried,
		    r->hosts_tried == 1 ? "" : "s");
}

/*
 * The SPF result for --client and --helo, evaluated in this process by
 * the code the daemon's helpers run, and what the daemon would do with
 * it.  The callout follows anyway: the admin asked for it.
 */
static void
show_spf(cli *c, const char *shown, const cv_address *addr)
{
	char helo[CV_IPSTR_MAX + 2], line[1024];
	spf_answer a;

	if (c->helo == NULL)
		(void)snprintf(helo, sizeof(helo), "[%s]", c->client);
	(void)spf_evaluate_direct(c->spf_res, c->cfg->callout_helo, c->client,
	    c->helo != NULL ? c->helo : helo, addr,
	    cv_now_ms() + (int64_t)c->cfg->spf_timeout_s * 1000, &a);
	spf_answer_line(&a, line, sizeof(line));
	printf("%s: %s (the daemon would %s)\n", shown, line,
	    c->cfg->spf ? spf_action_name(spf_policy(c->cfg, a.result)) :
	    "not check SPF: SPF no");
}

/* Verify one address given on the command line. */
static int
check_address(cli *c, const char *arg)
{
	char why[CV_ERROR_MAX], shown[CV_PATH_MAX * 4 + 8];
	cv_address addr;
	cv_result r;

	if (cv_path_parse(arg, strlen(arg), &addr, why, sizeof(why)) != 0) {
		(void)logline_escape(shown, sizeof(shown), arg, strlen(arg));
		printf("%s: failed (syntax): %s\n", shown, why);
		return verdict_rank(CV_FAILED);
	}
	if (addr.null) {
		printf("<>: verified (null sender): nothing to verify\n");
		return 0;
	}
	(void)snprintf(shown, sizeof(shown), "<%s>", addr.address);
	if (c->client != NULL)
		show_spf(c, shown, &addr);
	(void)verifier_verify(c->v, &addr, c->cfg->sender_verify,
	    cv_now_ms() + c->budget_ms, &r);
	print_result(shown, &r);
	return verdict_rank(r.verdict);
}

static cv_verdict
header_verify(void *ctx, const cv_address *addr, cv_result *r)
{
	cli *c = ctx;
	char shown[CV_PATH_MAX + 8];

	(void)snprintf(shown, sizeof(shown), "<%s>", addr->address);
	(void)verifier_verify(c->v, addr, c->cfg->header_sender_verify,
	    cv_now_ms() + c->budget_ms, r);
	print_result(shown, r);
	return r->verdict;
}

/*
 * Split the header section of a message (up to the first empty line)
 * into headers; continuation lines stay in the value, which the address
 * parser unfolds.  Only the headers header_sender reads are kept.
 */
static size_t
split_headers(char *text, hs_header *h, size_t max)
{
	char *line = text, *colon, *end;
	size_t n = 0;

	while (*line != '\0' && *line != '\n' &&
	    !(line[0] == '\r' && line[1] == '\n')) {
		end = line;
		/* the header runs to a newline not followed by SP or HT */
		while ((end = strchr(end, '\n')) != NULL &&
		    (end[1] == ' ' || end[1] == '\t'))
			end++;
		colon = strchr(line, ':');
		if (colon != NULL && (end == NULL || colon < end) && n < max) {
			*colon = '\0';
			if (hsender_wanted(line)) {
				h[n].name = line;
				h[n].value = colon + 1;
				h[n].len = (end != NULL ? (size_t)(end - colon) :
				    strlen(colon + 1) + 1) - 1;
				if (h[n].len > 0 &&
				    h[n].value[h[n].len - 1] == '\r')
					h[n].len--;
				n++;
			}
		}
		if (end == NULL)
			break;
		*end = '\0';
		line = end + 1;
	}
	return n;
}

static int
check_headers(cli *c, const char *path)
{
	hs_header h[HSENDER_HEADERS_MAX];
	hs_outcome out;
	char *text, shown[512];
	size_t len, n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		fprintf(stderr, "callout: %s: %s\n", path, strerror(errno));
		return -1;
	}
	text = malloc(HEADER_FILE_MAX + 1);
	if (text == NULL) {
		fclose(fp);
		fprintf(stderr, "callout: out of memory\n");
		return -1;
	}
	len = fread(text, 1, HEADER_FILE_MAX, fp);
	fclose(fp);
	text[len] = '\0';
	n = split_headers(text, h, HSENDER_HEADERS_MAX);
	hsender_check(h, n, header_verify, c, &out);
	switch (out.kind) {
	case HS_VERIFIED:
		printf("header_sender: verified: <%s>\n", out.addr.address);
		break;
	case HS_SYNTAX:
		(void)logline_escape(shown, sizeof(shown), out.text,
		    out.text_len);
		printf("header_sender: failed (syntax): syntax error in "
		    "'%s:' header when scanning for sender: %s in \"%s\"\n",
		    out.header, out.why, shown);
		break;
	case HS_UNKNOWN:
		printf("header_sender: unknown: all attempts to verify a "
		    "sender in a header line deferred\n");
		break;
	case HS_FAILED:
	case HS_NONE:
		printf("header_sender: failed: there is no valid sender in "
		    "any header line\n");
		break;
	}
	free(text);
	return out.kind == HS_VERIFIED ? 0 : out.kind == HS_UNKNOWN ?
	    verdict_rank(CV_UNKNOWN) : verdict_rank(CV_FAILED);
}

/* -c given: the file must load.  Not given: the default file, or the
 * built-in defaults when there is none. */
static const struct config *
load_config(const char *path)
{
	char err[CONFIG_ERROR_MAX];
	const struct config *cfg = NULL;

	if (path != NULL) {
		if (config_load(path, &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "callout: %s\n", err);
			return NULL;
		}
		return cfg;
	}
	if (config_load(CONFIG_DEFAULT_FILE, &cfg, err, sizeof(err)) == 0)
		return cfg;
	if (errno == ENOENT &&
	    config_defaults(&cfg, err, sizeof(err)) == 0)
		return cfg;
	fprintf(stderr, "callout: %s\n", err);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* callout cache ...                                                   */

static void
cache_print(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
}

static void
cache_warn(void *ctx, const char *msg)
{
	int *count = ctx;

	(*count)++;
	fprintf(stderr, "callout: %s\n", msg);
}

/* A key is local@domain or a domain, in the path parser's syntax. */
static bool
cache_key_ok(const char *key)
{
	char text[CV_PATH_MAX + 16], why[CV_ERROR_MAX];
	cv_address addr;
	int n;

	n = snprintf(text, sizeof(text), "%s%s",
	    strchr(key, '@') == NULL ? "postmaster@" : "", key);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    cv_path_parse(text, strlen(text), &addr, why, sizeof(why)) != 0) {
		fprintf(stderr, "callout: cache: bad key \"%s\"\n", key);
		return false;
	}
	return !addr.null;
}

/* Open the daemon's cache file; NULL after a message (exit 69). */
static cv_cache *
cache_open(const struct config *cfg)
{
	cv_cache_params p;
	struct stat st;
	cv_cache *cache;
	int warnings = 0;

	if (cfg->cache.kind != CONFIG_CACHE_LMDB) {
		fprintf(stderr, "callout: cache: the cache is %s: there is no "
		    "persistent cache here to show\n",
		    cfg->cache.kind == CONFIG_CACHE_MEMORY ? "in memory only" :
		    "in redis");
		return NULL;
	}
	if (stat(cfg->cache.path, &st) != 0) {
		fprintf(stderr, "callout: cache: %s: %s\n", cfg->cache.path,
		    strerror(errno));
		return NULL;
	}
	cv_cache_params_init(&p);
	p.lmdb_path = cfg->cache.path;
	p.memory_entries = 100;	/* this process looks, it does not serve */
	p.positive_ttl_s = cfg->cache_positive_ttl_s;
	p.negative_ttl_s = cfg->cache_negative_ttl_s;
	p.unknown_ttl_s = cfg->cache_unknown_ttl_s;
	p.domain_positive_ttl_s = cfg->cache_domain_positive_ttl_s;
	p.domain_negative_ttl_s = cfg->cache_domain_negative_ttl_s;
	p.warn = cache_warn;
	p.warn_ctx = &warnings;
	cache = cv_cache_new(&p);
	if (cache != NULL && warnings == 0)
		return cache;
	cv_cache_free(&cache);
	return NULL;
}

static int
cache_run(cv_cache *cache, const char *sub, const char *key)
{
	cv_cache_stats st;
	long n;

	if (strcmp(sub, "stats") == 0) {
		cv_cache_get_stats(cache, &st);
		printf("entries %zu\nbytes %zu\nerrors %llu\n",
		    st.store_entries, st.store_bytes,
		    (unsigned long long)st.errors);
		return 0;
	}
	if (strcmp(sub, "show") == 0) {
		n = cv_cache_show(cache, key, cache_print, NULL);
		if (n == 0)
			printf("%s: not in the cache\n", key);
		return n < 0 ? EXIT_UNAVAILABLE : n == 0 ? 1 : 0;
	}
	n = cv_cache_purge(cache, key);
	if (n >= 0)
		printf("%s: %ld record%s removed\n", key, n, n == 1 ? "" : "s");
	return n < 0 ? EXIT_UNAVAILABLE : 0;
}

/* callout [-c conf] cache show|purge KEY | stats; argv[0] is "cache". */
static int
cache_command(const char *conf, int argc, char **argv)
{
	const struct config *cfg;
	cv_cache *cache;
	int status;
	bool keyed = argc == 3 && (strcmp(argv[1], "show") == 0 ||
	    strcmp(argv[1], "purge") == 0);

	if (!keyed && !(argc == 2 && strcmp(argv[1], "stats") == 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (keyed && !cache_key_ok(argv[2]))
		return EXIT_USAGE;
	cfg = load_config(conf);
	if (cfg == NULL)
		return EXIT_CONFIG;
	cache = cache_open(cfg);
	if (cache == NULL) {
		config_unref(&cfg);
		return EXIT_UNAVAILABLE;
	}
	status = cache_run(cache, argv[1], keyed ? argv[2] : NULL);
	cv_cache_free(&cache);
	config_unref(&cfg);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "header", required_argument, NULL, 'H' },
		{ "client", required_argument, NULL, 'C' },
		{ "helo", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL, *header = NULL, *client = NULL, *helo = NULL;
	char err[CONFIG_ERROR_MAX];
	bool verbose = false;
	int ch, i, rank = 0, r;
	cli c;

	while ((ch = getopt_long(argc, argv, "c:hvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'H':
			header = optarg;
			break;
		case 'C':
			client = optarg;
			break;
		case 'E':
			helo = optarg;
			break;
		case 'V':
			printf("callout %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "cache") == 0)
		return cache_command(conf, argc - optind, argv + optind);
	if (optind == argc && header == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = load_config(conf);
	if (c.cfg == NULL)
		return EXIT_CONFIG;
	/* An admin at the terminal wants the real answer: the probe's
	 * whole budget, not the MTA's patience. */
	c.budget_ms = (int64_t)c.cfg->callout_background_timeout_s * 1000;
	c.v = verifier_new(c.cfg, NULL, err, sizeof(err));
	if (c.v == NULL) {
		fprintf(stderr, "callout: %s\n", err);
		config_unref(&c.cfg);
		return EXIT_CONFIG;
	}
	if (verbose)
		verifier_set_trace(c.v, trace_print, NULL);
	if (client != NULL) {
		c.client = client;
		c.helo = helo;
		c.spf_res = cv_resolver_new(
		    (const char *const *)c.cfg->nameservers.list,
		    c.cfg->nameservers.count, c.cfg->dns_timeout_s * 1000, err,
		    sizeof(err));
		if (c.spf_res == NULL) {
			fprintf(stderr, "callout: %s\n", err);
			verifier_free(&c.v);
			config_unref(&c.cfg);
			return EXIT_CONFIG;
		}
	}
	for (i = optind; i < argc; i++) {
		r = check_address(&c, argv[i]);
		rank = r > rank ? r : rank;
	}
	if (header != NULL) {
		r = check_headers(&c, header);
		if (r < 0) {
			rank = -1;
		} else if (rank >= 0) {
			rank = r > rank ? r : rank;
		}
	}
	cv_resolver_free(&c.spf_res);
	verifier_free(&c.v);
	config_unref(&c.cfg);
	return rank < 0 ? EXIT_NOINPUT : rank_status(rank);
}
