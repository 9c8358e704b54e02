/*
 * conf_types.c - the value types of the config table: booleans,
 * numbers, durations, enums, the socket, user, path, host name, source
 * address, envelope path, name server, cache and reply text forms, and
 * the bounded lookup of this host's FQDN for CalloutHelo.
 *
 * Guarantees: a parser accepts only the documented forms, checks ranges
 * without overflow, and either succeeds or leaves nothing allocated.
 * Failure: -1 with a one-line reason quoting the value.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf_types.h"

static int
types_fail(char *why_r, size_t size, const char *what, const char *v)
{
	snprintf(why_r, size, "bad %s \"%s\"", what, v);
	return -1;
}

static char *
types_strdup(const char *v, char *why_r, size_t size)
{
	char *s = strdup(v);

	if (s == NULL)
		snprintf(why_r, size, "out of memory");
	return s;
}

int
config_parse_bool(const char *v, bool *r, char *why_r, size_t size)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*r = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*r = false;
			return 0;
		}
	}
	snprintf(why_r, size, "bad boolean \"%s\" (yes or no)", v);
	return -1;
}

/* Digits in base (8 or 10) into *r; false when not all digits or over
 * 2^40 (more than any key allows, far from overflow). */
static bool
types_digits(const char *v, unsigned base, unsigned long long *r)
{
	unsigned long long n = 0;

	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '0' + (int)base - 1)
			return false;
		n = n * base + (unsigned)(*v - '0');
		if (n > (1ULL << 40))
			return false;
	}
	*r = n;
	return true;
}

int
config_parse_int(const char *v, long long min, long long max, unsigned *r,
		 char *why_r, size_t size)
{
	unsigned long long n;

	if (!types_digits(v, 10, &n))
		return types_fail(why_r, size, "number", v);
	if ((long long)n < min || (long long)n > max) {
		snprintf(why_r, size, "%s out of range (%lld to %lld)", v, min,
			 max);
		return -1;
	}
	*r = (unsigned)n;
	return 0;
}

int
config_parse_octal(const char *v, long long min, long long max,
		   unsigned *r, char *why_r, size_t size)
{
	unsigned long long n;

	if (!types_digits(v, 8, &n))
		return types_fail(why_r, size, "octal mode", v);
	if ((long long)n < min || (long long)n > max) {
		snprintf(why_r, size, "%s out of range (%#llo to %#llo)", v,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*r = (unsigned)n;
	return 0;
}

void
config_format_duration(unsigned long long s, char *buf, size_t size)
{
	if (s != 0 && s % 86400 == 0)
		snprintf(buf, size, "%llud", s / 86400);
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, size, "%lluh", s / 3600);
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, size, "%llum", s / 60);
	else
		snprintf(buf, size, "%llus", s);
}

int
config_parse_duration(const char *v, long long min, long long max,
		      bool auto_ok, unsigned *r, char *why_r, size_t size)
{
	char digits[24], lo[24], hi[24];
	unsigned long long n, unit = 1;
	size_t len = strlen(v);

	if (auto_ok && strcasecmp(v, "auto") == 0) {
		*r = 0;
		return 0;
	}
	if (len == 0 || len >= sizeof(digits))
		return types_fail(why_r, size, "duration", v);
	memcpy(digits, v, len + 1);
	switch (tolower((unsigned char)digits[len - 1])) {
	case 'd':
		unit *= 24;
		/* FALLTHROUGH */
	case 'h':
		unit *= 60;
		/* FALLTHROUGH */
	case 'm':
		unit *= 60;
		/* FALLTHROUGH */
	case 's':
		digits[--len] = '\0';
		break;
	default:
		break;
	}
	if (!types_digits(digits, 10, &n))
		return types_fail(why_r, size, "duration", v);
	n *= unit;	/* n <= 2^40, unit <= 86400: no overflow */
	if ((long long)n < min || (long long)n > max) {
		config_format_duration((unsigned long long)min, lo, sizeof(lo));
		config_format_duration((unsigned long long)max, hi, sizeof(hi));
		snprintf(why_r, size, "%s out of range (%s to %s)", v, lo, hi);
		return -1;
	}
	*r = (unsigned)n;
	return 0;
}

int
config_parse_enum(const char *v, const struct config_word *words, int *r,
		  char *why_r, size_t size)
{
	size_t n;

	for (n = 0; words[n].word != NULL; n++) {
		if (strcasecmp(v, words[n].word) == 0) {
			*r = words[n].value;
			return 0;
		}
	}
	snprintf(why_r, size, "bad value \"%s\" (", v);
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(why_r);

		snprintf(why_r + used, size - used, "%s%s",
			 i == 0 ? "" : i + 1 == n ? " or " : ", ",
			 words[i].word);
	}
	if (strlen(why_r) + 1 < size)
		strcat(why_r, ")");
	return -1;
}

/* A DNS host name: labels of letters, digits and '-', no label starts or
 * ends with '-', at most 253 characters; a trailing dot is refused. */
static bool
types_hostname_ok(const char *s)
{
	size_t label = 0, len = strlen(s);

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0) || c == '_')
			label++;
		else
			return false;
	}
	return true;
}

static bool
types_ip_ok(int af, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(af, s, buf) == 1;
}

/* "PORT" or "PORT@HOST" of an inet/inet6 socket. */
static int
types_socket_inet(const char *rest, int af, struct config_socket *r)
{
	const char *at = strchr(rest, '@');
	char port[8];
	size_t plen = at != NULL ? (size_t)(at - rest) : strlen(rest);
	unsigned long long n;

	if (plen == 0 || plen >= sizeof(port))
		return -1;
	memcpy(port, rest, plen);
	port[plen] = '\0';
	if (!types_digits(port, 10, &n) || n < 1 || n > 65535)
		return -1;
	r->port = (unsigned)n;
	r->family = af;
	if (at == NULL)
		return 0;
	if (strlen(at + 1) > CV_DOMAIN_MAX)
		return -1;
	if (!types_ip_ok(af, at + 1) && !types_hostname_ok(at + 1))
		return -1;
	strcpy(r->host, at + 1);
	return 0;
}

int
config_parse_socket(const char *v, struct config_socket *r, char *why_r,
		    size_t size)
{
	const char *path = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (strlen(v) < sizeof(r->spec)) {
		strcpy(r->spec, v);
		if (strncasecmp(v, "unix:", 5) == 0)
			path = v + 5;
		else if (strncasecmp(v, "local:", 6) == 0)
			path = v + 6;
		else if (strncasecmp(v, "inet:", 5) == 0)
			rc = types_socket_inet(v + 5, AF_INET, r);
		else if (strncasecmp(v, "inet6:", 6) == 0)
			rc = types_socket_inet(v + 6, AF_INET6, r);
	}
	if (path != NULL && path[0] == '/' &&
	    strlen(path) <= CONFIG_SOCKET_PATH_MAX &&
	    strpbrk(path, " \t") == NULL) {
		strcpy(r->path, path);
		r->family = AF_UNIX;
		rc = 0;
	}
	if (rc != 0)
		snprintf(why_r, size,
			 "bad socket \"%s\" (unix:/path, local:/path, "
			 "inet:port@host or inet6:port@host)", v);
	return rc;
}

/* A portable user or group name: [A-Za-z0-9._-], not starting with '-'. */
static bool
types_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > CONFIG_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

int
config_parse_user(const char *v, struct config_user *r, char *why_r,
		  size_t size)
{
	const char *colon = strchr(v, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - v) : strlen(v);

	memset(r, 0, sizeof(*r));
	if (*v == '\0')
		return 0;
	if (!types_name_ok(v, ulen) ||
	    (colon != NULL && !types_name_ok(colon + 1, strlen(colon + 1))))
		return types_fail(why_r, size, "user[:group]", v);
	memcpy(r->user, v, ulen);
	if (colon != NULL)
		strcpy(r->group, colon + 1);
	return 0;
}

int
config_parse_path(const char *v, char **r, char *why_r, size_t size)
{
	if (*v != '\0' && (v[0] != '/' || strlen(v) >= CONFIG_PATH_MAX))
		return types_fail(why_r, size, "path (absolute or empty)", v);
	*r = types_strdup(v, why_r, size);
	return *r != NULL ? 0 : -1;
}

int
config_parse_hostname(const char *v, char **r, char *why_r, size_t size)
{
	bool ok = *v == '\0' || types_hostname_ok(v);
	size_t len = strlen(v);

	/* an address literal: [192.0.2.1] or [IPv6:2001:db8::1] */
	if (!ok && len > 2 && len < 64 && v[0] == '[' && v[len - 1] == ']') {
		char inner[64];

		memcpy(inner, v + 1, len - 2);
		inner[len - 2] = '\0';
		ok = types_ip_ok(AF_INET, inner) ||
		    (strncasecmp(inner, "IPv6:", 5) == 0 &&
		     types_ip_ok(AF_INET6, inner + 5));
	}
	if (!ok)
		return types_fail(why_r, size, "host name", v);
	*r = types_strdup(v, why_r, size);
	return *r != NULL ? 0 : -1;
}

int
config_parse_mailpath(const char *v, char **r, char *why_r, size_t size)
{
	char why[CV_ERROR_MAX];
	cv_address addr;

	if (cv_path_parse(v, strlen(v), &addr, why, sizeof(why)) != 0) {
		snprintf(why_r, size, "bad address \"%s\": %s", v, why);
		return -1;
	}
	*r = types_strdup(addr.null ? "" : addr.address, why_r, size);
	return *r != NULL ? 0 : -1;
}

int
config_parse_text(const char *v, char **r, char *why_r, size_t size)
{
	size_t len = strlen(v);

	*r = NULL;
	if (len > CONFIG_TEXT_MAX) {
		snprintf(why_r, size, "text longer than %d characters",
			 CONFIG_TEXT_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c > 0x7e) {
			snprintf(why_r, size,
				 "text \"%s\" holds a character outside "
				 "printable ASCII", v);
			return -1;
		}
		if (c == '%' && v[++i] != '%') {
			snprintf(why_r, size,
				 "text \"%s\": write a literal '%%' as '%%%%'",
				 v);
			return -1;
		}
	}
	if (len == 0)
		return 0;
	/* keep the literal text: reply.c doubles every '%' itself */
	if ((*r = types_strdup(v, why_r, size)) == NULL)
		return -1;
	for (char *in = *r, *out = *r;; in++) {
		if (in[0] == '%' && in[1] == '%')
			in++;
		if ((*out++ = *in) == '\0')
			break;
	}
	return 0;
}

/* Split v at white space and commas into at most max words of at most
 * wsize - 1 characters.  Returns the count, or -1. */
static int
types_words(const char *v, char words[][64], int max)
{
	int n = 0;

	for (;;) {
		size_t len;

		while (*v == ',' || isspace((unsigned char)*v))
			v++;
		if (*v == '\0')
			return n;
		len = strcspn(v, ", \t");
		if (n == max || len >= 64)
			return -1;
		memcpy(words[n], v, len);
		words[n++][len] = '\0';
		v += len;
	}
}

int
config_parse_sources(const char *v, struct config_sources *r, char *why_r,
		     size_t size)
{
	char words[3][64];
	int n = types_words(v, words, 2);

	memset(r, 0, sizeof(*r));
	r->v4.ss_family = AF_UNSPEC;
	r->v6.ss_family = AF_UNSPEC;
	if (n < 0)
		return types_fail(why_r, size, "source (one IPv4 and one "
				  "IPv6 address at most)", v);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&r->v4;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->v6;

		if (sin->sin_family == AF_UNSPEC &&
		    inet_pton(AF_INET, words[i], &sin->sin_addr) == 1)
			sin->sin_family = AF_INET;
		else if (sin6->sin6_family == AF_UNSPEC &&
			 inet_pton(AF_INET6, words[i], &sin6->sin6_addr) == 1)
			sin6->sin6_family = AF_INET6;
		else {
			snprintf(why_r, size,
				 "bad source address \"%s\" (one IPv4 and one "
				 "IPv6 address at most)", words[i]);
			return -1;
		}
	}
	return 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
static bool
types_server_ok(const char *s)
{
	char host[64];
	const char *port = NULL;
	unsigned long long n;
	size_t hlen;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		hlen = (size_t)(end - s - 1);
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (!types_ip_ok(AF_INET6, host))
			return false;
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (types_ip_ok(AF_INET6, s))
		return true;
	else {
		const char *colon = strchr(s, ':');

		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (!types_ip_ok(AF_INET, host))
			return false;
		port = colon != NULL ? colon + 1 : NULL;
	}
	return port == NULL ||
	    (types_digits(port, 10, &n) && n >= 1 && n <= 65535);
}

void
config_servers_free(struct config_servers *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->list[i]);
	free(s->list);
	s->list = NULL;
	s->count = 0;
}

int
config_parse_servers(const char *v, struct config_servers *r, char *why_r,
		     size_t size)
{
	char words[CONFIG_NAMESERVERS_MAX + 1][64];
	int n = types_words(v, words, CONFIG_NAMESERVERS_MAX);

	memset(r, 0, sizeof(*r));
	if (n < 0) {
		snprintf(why_r, size, "bad name servers \"%s\" (at most %d)", v,
			 CONFIG_NAMESERVERS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (!types_server_ok(words[i])) {
			snprintf(why_r, size,
				 "bad name server \"%s\" (an IP address, "
				 "address:port or [IPv6]:port)", words[i]);
			return -1;
		}
	if (n == 0)
		return 0;
	if ((r->list = calloc((size_t)n, sizeof(*r->list))) == NULL) {
		snprintf(why_r, size, "out of memory");
		return -1;
	}
	for (r->count = 0; r->count < (size_t)n; r->count++) {
		r->list[r->count] = types_strdup(words[r->count], why_r, size);
		if (r->list[r->count] == NULL) {
			config_servers_free(r);
			return -1;
		}
	}
	return 0;
}

/* "HOST[:PORT][/DB]" after redis://; HOST may be [IPv6]. */
static int
types_cache_redis(const char *s, struct config_cache *r)
{
	char port[8] = "", db[8] = "";
	unsigned long long n;
	size_t hlen;

	r->port = 6379;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (hlen = (size_t)(end - s - 1)) >= 64)
			return -1;
		memcpy(r->host, s + 1, hlen);
		r->host[hlen] = '\0';
		if (!types_ip_ok(AF_INET6, r->host))
			return -1;
		s = end + 1;
	} else {
		hlen = strcspn(s, ":/");
		if (hlen > CV_DOMAIN_MAX)
			return -1;
		memcpy(r->host, s, hlen);
		r->host[hlen] = '\0';
		if (!types_ip_ok(AF_INET, r->host) &&
		    !types_hostname_ok(r->host))
			return -1;
		s += hlen;
	}
	if (*s == ':') {
		if ((hlen = strcspn(++s, "/")) >= sizeof(port))
			return -1;
		memcpy(port, s, hlen);
		s += hlen;
		if (!types_digits(port, 10, &n) || n < 1 || n > 65535)
			return -1;
		r->port = (unsigned)n;
	}
	if (*s == '/') {
		if (strlen(++s) >= sizeof(db) || !types_digits(s, 10, &n) ||
		    n > 9999)
			return -1;
		r->db = (unsigned)n;
	} else if (*s != '\0')
		return -1;
	return 0;
}

int
config_parse_cache(const char *v, struct config_cache *r, char *why_r,
		   size_t size)
{
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (strcasecmp(v, "memory") == 0) {
		r->kind = CONFIG_CACHE_MEMORY;
		rc = 0;
	} else if (strncasecmp(v, "lmdb:", 5) == 0) {
		r->kind = CONFIG_CACHE_LMDB;
		if (v[5] == '/' && strlen(v + 5) < sizeof(r->path)) {
			strcpy(r->path, v + 5);
			rc = 0;
		}
	} else if (strncasecmp(v, "redis://", 8) == 0) {
		r->kind = CONFIG_CACHE_REDIS;
		rc = types_cache_redis(v + 8, r);
#ifndef HAVE_REDIS
		if (rc == 0) {
			snprintf(why_r, size,
				 "cache \"%s\": this build has no Redis "
				 "support", v);
			return -1;
		}
#endif
	}
	if (rc != 0)
		snprintf(why_r, size,
			 "bad cache \"%s\" (memory, lmdb:/path or "
			 "redis://host[:port][/db])", v);
	return rc;
}

/* ------------------------------------------------------------------ */
/* This host's FQDN                                                    */
/* ------------------------------------------------------------------ */

/* getaddrinfo() cannot be given a deadline, so it runs in a detached
 * thread; whoever of the thread and the waiter finishes last frees the
 * job.  A lookup that overruns finishes in the background, harmlessly. */
struct fqdn_job {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	int refs;
	bool done;
	char host[256];
	char canon[256];
};

static void
fqdn_job_release(struct fqdn_job *job)
{
	bool last;

	pthread_mutex_lock(&job->lock);
	last = --job->refs == 0;
	pthread_mutex_unlock(&job->lock);
	if (last) {
		pthread_cond_destroy(&job->done_cond);
		pthread_mutex_destroy(&job->lock);
		free(job);
	}
}

static void *
fqdn_thread(void *arg)
{
	struct fqdn_job *job = arg;
	struct addrinfo hints = {0}, *res = NULL;
	char canon[256] = "";

	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(job->host, NULL, &hints, &res) == 0) {
		if (res != NULL && res->ai_canonname != NULL &&
		    strlen(res->ai_canonname) < sizeof(canon))
			strcpy(canon, res->ai_canonname);
		freeaddrinfo(res);
	}
	pthread_mutex_lock(&job->lock);
	strcpy(job->canon, canon);
	job->done = true;
	pthread_cond_signal(&job->done_cond);
	pthread_mutex_unlock(&job->lock);
	fqdn_job_release(job);
	return NULL;
}

/* The canonical name of host, or "" when the lookup fails or overruns. */
static void
fqdn_canonical(const char *host, char *buf, size_t size)
{
	struct fqdn_job *job = calloc(1, sizeof(*job));
	pthread_condattr_t attr;
	pthread_attr_t tattr;
	struct timespec until;
	pthread_t tid;
	int rc = 0;

	buf[0] = '\0';
	if (job == NULL)
		return;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&job->done_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&job->lock, NULL);
	job->refs = 2;
	strcpy(job->host, host);
	pthread_attr_init(&tattr);
	pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &tattr, fqdn_thread, job) != 0)
		job->refs = 1;	/* no thread: nothing to wait for */
	pthread_attr_destroy(&tattr);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += CONFIG_FQDN_TIMEOUT_MS / 1000;
	until.tv_nsec += (CONFIG_FQDN_TIMEOUT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&job->lock);
	while (job->refs == 2 && !job->done && rc == 0)
		rc = pthread_cond_timedwait(&job->done_cond, &job->lock,
					    &until);
	if (job->done && strlen(job->canon) < size)
		strcpy(buf, job->canon);
	pthread_mutex_unlock(&job->lock);
	fqdn_job_release(job);
}

int
config_find_fqdn(config_fqdn_fn *hook, char *buf, size_t size, char *why_r,
		 size_t why_size)
{
	char host[256] = "", canon[256];

	if (hook != NULL) {
		if (hook(buf, size) != 0 || !types_hostname_ok(buf)) {
			snprintf(why_r, why_size,
				 "cannot find this host's name; set it");
			return -1;
		}
		return 0;
	}
	if (gethostname(host, sizeof(host) - 1) != 0 ||
	    !types_hostname_ok(host)) {
		snprintf(why_r, why_size,
			 "cannot find this host's name; set it");
		return -1;
	}
	/* a name with a dot is taken as the FQDN, as Exim does with uname */
	if (strchr(host, '.') == NULL) {
		fqdn_canonical(host, canon, sizeof(canon));
		if (strchr(canon, '.') != NULL && types_hostname_ok(canon))
			strcpy(host, canon);
	}
	if (strlen(host) >= size) {
		snprintf(why_r, why_size, "host name \"%s\" too long", host);
		return -1;
	}
	strcpy(buf, host);
	return 0;
}
