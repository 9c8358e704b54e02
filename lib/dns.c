/*
 * dns.c - DNS for callouts: resolver objects and one question through
 * libresolv (or a test's query hook), bounded by the caller's deadline.
 *
 * Queries.  cv_dns_query() asks libresolv (res_nquery) or, when a test
 * installed one, the query hook.  Every query gets its own res_state on
 * the caller's stack, made with res_ninit() and closed with res_nclose():
 * no state is ever shared between threads, and nothing lives on after a
 * thread or a resolver.  That costs about 1 us and one stat() of
 * /etc/resolv.conf per query (measured on glibc 2.36: glibc caches the
 * parsed file), nothing next to a network round trip, and it picks up a
 * changed resolv.conf at once; a per-thread state would save that
 * microsecond at the price of a pthread key, destructors and leaks at
 * thread exit.
 *
 * Time.  libresolv counts its timeouts in whole seconds (retrans) and
 * sends to several servers with timeouts that grow with the server's
 * index.  So each attempt goes to one server (nscount 1, retry 1) and
 * this file walks the servers itself, DNS_TRIES rounds starting with
 * the server that answered last (so a dead server costs one timeout,
 * not one per query), each attempt waiting
 * floor(min(timeout_ms, time left) / 1000) seconds, at least 1.
 * An attempt starts only with DNS_ATTEMPT_MIN_MS left, so a query ends
 * at most 1000 - DNS_ATTEMPT_MIN_MS = 400 ms after the deadline (plus
 * scheduling); with less than that left a query fails at once.  A
 * timeout_ms under 1000 still waits 1 s per attempt.
 * XXX Truncated answers are not retried over TCP: glibc's TCP path has
 * no timeout at all, so RES_IGNTC is set and a truncated answer is a
 * temporary failure.  EDNS0 is on, so answers up to glibc's 1200 octets
 * fit in one datagram; a bounded TCP fallback of our own would lift it.
 *
 * IPv6 servers.  glibc keeps IPv4 servers in nsaddr_list[] and IPv6 ones
 * in _u._ext.nsaddrs[] (malloc'd, freed by res_nclose), marked by
 * family 0 in nsaddr_list[]; this file uses the same layout and resets
 * _u._ext.nscount so that res_send takes the new server.  Tested against
 * a server on [::1] in tests/test-dns-server.c.  XXX glibc only: other
 * libcs lay out res_state differently.
 *
 * Failure: cv_resolver_new() refuses malformed servers with a reason;
 * cv_dns_query() returns -1 with NXDOMAIN, NODATA or TEMP (SERVFAIL,
 * REFUSED, timeout, truncated or malformed answer, out of memory).
 * The host list for a domain is built in dns_hosts.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DNS_SERVERS_MAX		8	/* name servers per resolver */
#define DNS_TRIES		2	/* rounds over the servers */
#define DNS_ATTEMPT_MIN_MS	600	/* no attempt with less time left */
#define DNS_TIMEOUT_DEFAULT_MS	5000	/* per attempt when 0 is given */

struct cv_resolver {
	struct sockaddr_storage servers[DNS_SERVERS_MAX];
	size_t count;			/* 0: /etc/resolv.conf */
	unsigned timeout_ms;
	atomic_uint first;		/* the server that answered last */
	cv_query_fn *query;
	void *query_ctx;
};

/* ------------------------------------------------------------------ */
/* Resolver objects                                                    */
/* ------------------------------------------------------------------ */

/* Parse a decimal port 1-65535; 0 if bad. */
static unsigned
dns_parse_port(const char *text)
{
	unsigned long port = 0;

	if (*text == '\0' || strlen(text) > 5)
		return 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port <= 65535 ? (unsigned)port : 0;
}

/* Split "host", "host:port", "[v6]" or "[v6]:port"; -1 if malformed. */
static int
dns_split_server(const char *text, char *host_r, size_t host_size,
		 const char **port_r)
{
	const char *colon = strchr(text, ':');
	size_t len;

	*port_r = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL)
			return -1;
		if (close[1] == ':')
			*port_r = close + 2;
		else if (close[1] != '\0')
			return -1;
		len = (size_t)(close - text - 1);
		text++;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		/* one colon: IPv4 with a port; more: a bare IPv6 address */
		*port_r = colon + 1;
		len = (size_t)(colon - text);
	} else {
		len = strlen(text);
	}
	if (len == 0 || len >= host_size)
		return -1;
	memcpy(host_r, text, len);
	host_r[len] = '\0';
	return 0;
}

static int
dns_parse_server(const char *text, struct sockaddr_storage *ss_r,
		 char *error_r, size_t error_size)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss_r;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss_r;
	char host[INET6_ADDRSTRLEN];
	const char *port_text;
	unsigned port = 53;

	memset(ss_r, 0, sizeof(*ss_r));
	if (dns_split_server(text, host, sizeof(host), &port_text) < 0) {
		snprintf(error_r, error_size, "bad name server \"%.64s\"",
			 text);
		return -1;
	}
	if (port_text != NULL && (port = dns_parse_port(port_text)) == 0) {
		snprintf(error_r, error_size,
			 "bad port in name server \"%.64s\"", text);
		return -1;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	} else {
		snprintf(error_r, error_size,
			 "name server \"%.64s\" is not an IP address", text);
		return -1;
	}
	return 0;
}

cv_resolver *
cv_resolver_new(const char *const *servers, size_t count,
		unsigned timeout_ms, char *error_r, size_t error_size)
{
	cv_resolver *res;

	if (count > DNS_SERVERS_MAX || (count > 0 && servers == NULL)) {
		snprintf(error_r, error_size,
			 "between 0 and %d name servers, please",
			 DNS_SERVERS_MAX);
		return NULL;
	}
	res = calloc(1, sizeof(*res));
	if (res == NULL) {
		snprintf(error_r, error_size, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		if (servers[i] == NULL ||
		    dns_parse_server(servers[i], &res->servers[i], error_r,
				     error_size) < 0) {
			if (servers[i] == NULL)
				snprintf(error_r, error_size,
					 "name server missing");
			free(res);
			return NULL;
		}
	}
	res->count = count;
	res->timeout_ms = timeout_ms > 0 ? timeout_ms : DNS_TIMEOUT_DEFAULT_MS;
	return res;
}

void
cv_resolver_set_query(cv_resolver *res, cv_query_fn *fn, void *ctx)
{
	if (res == NULL)
		return;
	res->query = fn;
	res->query_ctx = ctx;
}

void
cv_resolver_free(cv_resolver **res_p)
{
	if (res_p == NULL || *res_p == NULL)
		return;
	free(*res_p);
	*res_p = NULL;
}

/* ------------------------------------------------------------------ */
/* One question                                                        */
/* ------------------------------------------------------------------ */

/* Copy the servers res_ninit found in resolv.conf; returns the count. */
static size_t
dns_conf_servers(const struct __res_state *st,
		 struct sockaddr_storage servers_r[DNS_SERVERS_MAX])
{
	size_t n = 0;

	for (int i = 0; i < st->nscount && i < MAXNS; i++) {
		const struct sockaddr_in6 *sin6 = st->_u._ext.nsaddrs[i];

		memset(&servers_r[n], 0, sizeof(servers_r[n]));
		if (st->nsaddr_list[i].sin_family == AF_INET)
			memcpy(&servers_r[n++], &st->nsaddr_list[i],
			       sizeof(struct sockaddr_in));
		else if (sin6 != NULL && sin6->sin6_family == AF_INET6)
			memcpy(&servers_r[n++], sin6, sizeof(*sin6));
	}
	return n;
}

/* Point the one server slot of st at server; -1 if out of memory. */
static int
dns_state_server(struct __res_state *st,
		 const struct sockaddr_storage *server)
{
	st->nscount = 1;
	if (server->ss_family == AF_INET) {
		memcpy(&st->nsaddr_list[0], server,
		       sizeof(struct sockaddr_in));
	} else {
		/* glibc's layout: family 0 here, the address in _ext */
		if (st->_u._ext.nsaddrs[0] == NULL) {
			st->_u._ext.nsaddrs[0] =
			    malloc(sizeof(struct sockaddr_in6));
			if (st->_u._ext.nsaddrs[0] == NULL)
				return -1;
		}
		memcpy(st->_u._ext.nsaddrs[0], server,
		       sizeof(struct sockaddr_in6));
		memset(&st->nsaddr_list[0], 0, sizeof(st->nsaddr_list[0]));
	}
	/* res_send compares against its copy only when this is set */
	st->_u._ext.nscount = 0;
	return 0;
}

/* Ask the servers in turn until one answers or time runs out. */
static int
dns_send(cv_resolver *res, struct __res_state *st,
	 const struct sockaddr_storage *servers, size_t count,
	 const char *name, int type, unsigned char *answer, int size,
	 int64_t deadline, cv_dns_status *status_r)
{
	/* start with the server that answered last: a dead first server
	 * costs one timeout, not one per query */
	size_t first = servers == res->servers ? atomic_load(&res->first) : 0;

	for (size_t try = 0; try < DNS_TRIES * count; try++) {
		size_t server = (first + try) % count;
		int64_t left = util_remaining_ms(deadline);
		int64_t wait = left < res->timeout_ms ? left : res->timeout_ms;
		int n;

		if (left < DNS_ATTEMPT_MIN_MS)
			break;
		if (dns_state_server(st, &servers[server]) < 0)
			break;
		st->retrans = wait >= 1000 ? (int)(wait / 1000) : 1;
		st->retry = 1;
		n = res_nquery(st, name, ns_c_in, type, answer, size);
		if (n >= 0 || st->res_h_errno == HOST_NOT_FOUND ||
		    st->res_h_errno == NO_DATA) {
			if (servers == res->servers)
				atomic_store(&res->first, (unsigned)server);
		}
		if (n >= 0)
			return n <= size ? n : -1;
		if (st->res_h_errno == HOST_NOT_FOUND) {
			*status_r = CV_DNS_NXDOMAIN;
			return -1;
		}
		if (st->res_h_errno == NO_DATA) {
			*status_r = CV_DNS_NODATA;
			return -1;
		}
		/* TRY_AGAIN (SERVFAIL, timeout), NO_RECOVERY (REFUSED,
		 * FORMERR), NETDB_INTERNAL: the next server may do better */
	}
	*status_r = CV_DNS_TEMP;
	return -1;
}

/* res_nquery on a fresh res_state of our own. */
static int
dns_resolve(cv_resolver *res, const char *name, int type,
	    unsigned char *answer, int size, int64_t deadline,
	    cv_dns_status *status_r)
{
	struct sockaddr_storage conf[DNS_SERVERS_MAX];
	const struct sockaddr_storage *servers = res->servers;
	size_t count = res->count;
	struct __res_state st;
	int n;

	*status_r = CV_DNS_TEMP;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return -1;
	if (count == 0) {
		count = dns_conf_servers(&st, conf);
		servers = conf;
	}
	/* drop the state's own IPv6 server copies: one slot is used */
	for (int i = 0; i < MAXNS; i++) {
		free(st._u._ext.nsaddrs[i]);
		st._u._ext.nsaddrs[i] = NULL;
	}
	st.options |= RES_RECURSE | RES_IGNTC | RES_USE_EDNS0;
	st.options &= ~(unsigned long)(RES_ROTATE | RES_USEVC |
				       RES_STAYOPEN | RES_DEBUG);
	n = -1;
	if (count > 0)
		n = dns_send(res, &st, servers, count, name, type, answer,
			     size, deadline, status_r);
	res_nclose(&st);
	return n;
}

/* Judge a whole answer message: its length, or -1 with a status. */
static int
dns_check(const unsigned char *answer, int len, cv_dns_status *status_r)
{
	ns_msg msg;

	*status_r = CV_DNS_TEMP;
	if (len < NS_HFIXEDSZ || ns_initparse(answer, len, &msg) < 0)
		return -1;
	if (ns_msg_getflag(msg, ns_f_tc))
		return -1;
	switch (ns_msg_getflag(msg, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		*status_r = CV_DNS_NXDOMAIN;
		return -1;
	default:
		return -1;
	}
	if (ns_msg_count(msg, ns_s_an) == 0) {
		*status_r = CV_DNS_NODATA;
		return -1;
	}
	*status_r = CV_DNS_OK;
	return len;
}

int
cv_dns_query(cv_resolver *res, const char *name, int type,
	     unsigned char *answer, size_t size, int64_t deadline,
	     cv_dns_status *status_r)
{
	cv_dns_status status = CV_DNS_TEMP;
	int isize = size > 65535 ? 65535 : (int)size;
	int n;

	if (status_r == NULL)
		status_r = &status;
	*status_r = CV_DNS_TEMP;
	if (res == NULL || name == NULL || answer == NULL || size == 0 ||
	    strlen(name) >= NS_MAXDNAME || util_remaining_ms(deadline) == 0)
		return -1;
	if (res->query != NULL) {
		n = res->query(res->query_ctx, name, type, answer, (size_t)isize,
			       status_r);
		if (n < 0 || n > isize) {
			if (n >= 0 || (*status_r != CV_DNS_NXDOMAIN &&
				       *status_r != CV_DNS_NODATA))
				*status_r = CV_DNS_TEMP;
			return -1;
		}
	} else {
		n = dns_resolve(res, name, type, answer, isize, deadline,
				status_r);
		if (n < 0)
			return -1;
	}
	return dns_check(answer, n, status_r);
}
