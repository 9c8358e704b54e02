/*
 * dns_hosts.c - the ordered list of host addresses to call for a mail
 * domain (cv_dns_hosts), built from MX, A and AAAA answers of dns.c.
 *
 * cv_dns_hosts() follows DESIGN.md section 3 step 1 and Exim's
 * dnslookup router: MX by preference with equal preferences shuffled,
 * AAAA before A for each host (the IPv6 addresses of a host are tried
 * first), the implicit MX when the name has no MX, RFC 7505 null MX,
 * CNAME chains of up to DNS_CNAME_MAX links (a longer chain or a loop is
 * a temporary failure: it proves nothing about the domain), reserved
 * addresses dropped unless allowed.  A "MX 0 ." that is not the only MX
 * record is ignored rather than taken as null MX.  Malformed answers are
 * temporary failures, never crashes: every name and record goes through
 * ns_initparse/ns_parserr/ns_name_uncompress, which check bounds.
 *
 * Bounds: at most DNS_MX_MAX MX records (the most preferred), at most
 * CV_HOSTS_MAX addresses (lookups stop once full), DNS_CNAME_MAX links
 * per lookup, and every query bounded by the caller's deadline (dns.c).
 * Fails only with a status and Exim's text in the list: nothing here
 * exits or crashes on what the network sends.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

#define DNS_ANSWER_MAX		4096	/* one answer message */
#define DNS_MX_MAX		16	/* MX records considered */
#define DNS_CNAME_MAX		8	/* CNAME links followed per lookup */
#define DNS_TRACE_MAX		512	/* one trace line */

#define DNS_MSG_UNROUTEABLE	"Unrouteable address"
#define DNS_MSG_TEMP		"host lookup did not complete"
#define DNS_MSG_NULLMX		"an MX or SRV record indicated no SMTP service"
#define DNS_MSG_NOHOSTS	"all relevant MX records point to non-existent hosts"

/* ------------------------------------------------------------------ */
/* Hosts for a domain                                                  */
/* ------------------------------------------------------------------ */

typedef struct dns_mx {
	char name[CV_DOMAIN_MAX + 1];
	unsigned pref;
} dns_mx;

typedef struct dns_walk {
	cv_resolver *res;
	int64_t deadline;
	cv_trace_fn *trace;
	void *trace_ctx;
	const cv_netlist *allow;
	cv_hostlist *list;
	dns_mx mx[DNS_MX_MAX];
	size_t nmx;
	size_t mx_records;		/* MX records seen */
	bool nullmx;			/* an "MX 0 ." among them */
	bool literal;			/* an MX named an IP address */
	const char *host;		/* whose addresses come in */
	unsigned pref;
	size_t found;			/* addresses of host seen */
	ns_msg msg;
	unsigned char answer[DNS_ANSWER_MAX];
} dns_walk;

/* Handle one answer record of the type asked for. */
typedef cv_dns_status dns_rr_fn(dns_walk *w, const ns_rr *rr);

static void __attribute__((format(printf, 2, 3)))
dns_trace(const dns_walk *w, const char *fmt, ...)
{
	char line[DNS_TRACE_MAX];
	va_list ap;

	if (w->trace == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->trace(w->trace_ctx, '#', line);
}

static const char *
dns_type_name(int type)
{
	switch (type) {
	case ns_t_a:
		return "A";
	case ns_t_aaaa:
		return "AAAA";
	case ns_t_mx:
		return "MX";
	case ns_t_cname:
		return "CNAME";
	default:
		return "?";
	}
}

static const char *
dns_status_text(cv_dns_status st)
{
	switch (st) {
	case CV_DNS_NXDOMAIN:
		return "NXDOMAIN";
	case CV_DNS_NODATA:
		return "NODATA";
	default:
		return "temporary failure (SERVFAIL, REFUSED, timeout or "
		       "bad answer)";
	}
}

/* Lower-case ASCII letters in place. */
static void
dns_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Expand the domain name at src inside the current message; the number
 * of octets it takes there, or -1 if it is malformed. */
static int
dns_expand(const dns_walk *w, const unsigned char *src, char *dst,
	   size_t dst_size)
{
	return ns_name_uncompress(ns_msg_base(w->msg), ns_msg_end(w->msg),
				  src, dst, dst_size);
}

/* Follow the CNAME records for *cur inside the current answer. */
static cv_dns_status
dns_follow(dns_walk *w, char *cur, size_t cur_size, unsigned *hops,
	   bool *followed_r)
{
	char target[NS_MAXDNAME];
	bool moved = true;
	ns_rr rr;

	while (moved) {
		moved = false;
		for (int i = 0; i < ns_msg_count(w->msg, ns_s_an); i++) {
			if (ns_parserr(&w->msg, ns_s_an, i, &rr) < 0)
				return CV_DNS_TEMP;
			if (ns_rr_type(rr) != ns_t_cname ||
			    strcasecmp(ns_rr_name(rr), cur) != 0)
				continue;
			if (dns_expand(w, ns_rr_rdata(rr), target,
				       sizeof(target)) < 0)
				return CV_DNS_TEMP;
			dns_trace(w, "CNAME %s: %s", cur, target);
			if (++*hops > DNS_CNAME_MAX) {
				dns_trace(w, "CNAME chain longer than %d",
					  DNS_CNAME_MAX);
				return CV_DNS_TEMP;
			}
			util_strlcpy(cur, target, cur_size);
			moved = *followed_r = true;
			break;
		}
	}
	return CV_DNS_OK;
}

/* Hand the records of type owned by name to fn; counts them. */
static cv_dns_status
dns_records(dns_walk *w, const char *name, int type, dns_rr_fn *fn,
	    size_t *found_r)
{
	ns_rr rr;

	*found_r = 0;
	for (int i = 0; i < ns_msg_count(w->msg, ns_s_an); i++) {
		cv_dns_status st;

		if (ns_parserr(&w->msg, ns_s_an, i, &rr) < 0)
			return CV_DNS_TEMP;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in ||
		    strcasecmp(ns_rr_name(rr), name) != 0)
			continue;
		st = fn(w, &rr);
		if (st != CV_DNS_OK)
			return st;
		++*found_r;
	}
	return CV_DNS_OK;
}

/* Look name up, follow CNAMEs, and hand every record of type to fn. */
static cv_dns_status
dns_lookup(dns_walk *w, const char *name, int type, dns_rr_fn *fn)
{
	char cur[NS_MAXDNAME];
	unsigned hops = 0;

	util_strlcpy(cur, name, sizeof(cur));
	/* each turn returns or follows at least one CNAME: bounded */
	for (;;) {
		cv_dns_status st;
		bool followed = false;
		size_t found;
		int n;

		n = cv_dns_query(w->res, cur, type, w->answer,
				 sizeof(w->answer), w->deadline, &st);
		if (n >= 0 && ns_initparse(w->answer, n, &w->msg) < 0) {
			n = -1;
			st = CV_DNS_TEMP;
		}
		if (n >= 0)
			st = dns_follow(w, cur, sizeof(cur), &hops, &followed);
		if (st == CV_DNS_OK)
			st = dns_records(w, cur, type, fn, &found);
		if (st == CV_DNS_OK && found == 0 && !followed)
			st = CV_DNS_NODATA;
		if (st != CV_DNS_OK) {
			dns_trace(w, "%s %s: %s", dns_type_name(type), cur,
				  dns_status_text(st));
			return st;
		}
		if (found > 0)
			return CV_DNS_OK;
		/* a CNAME without the data: ask for its target */
	}
}

/* Keep an MX target: no duplicates, the DNS_MX_MAX most preferred. */
static void
dns_mx_keep(dns_walk *w, const char *name, unsigned pref)
{
	size_t worst = 0;

	for (size_t i = 0; i < w->nmx; i++) {
		if (strcmp(w->mx[i].name, name) == 0) {
			if (pref < w->mx[i].pref)
				w->mx[i].pref = pref;
			return;
		}
		if (w->mx[i].pref > w->mx[worst].pref)
			worst = i;
	}
	if (w->nmx < DNS_MX_MAX)
		worst = w->nmx++;
	else if (pref >= w->mx[worst].pref) {
		dns_trace(w, "MX %u %s ignored: more than %d MX records",
			  pref, name, DNS_MX_MAX);
		return;
	}
	util_strlcpy(w->mx[worst].name, name, sizeof(w->mx[worst].name));
	w->mx[worst].pref = pref;
}

static cv_dns_status
dns_on_mx(dns_walk *w, const ns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	unsigned len = ns_rr_rdlen(*rr);
	char name[NS_MAXDNAME];
	unsigned char probe[16];
	unsigned pref;
	int n;

	if (len < 3)
		return CV_DNS_TEMP;
	pref = ns_get16(rd);
	n = dns_expand(w, rd + 2, name, sizeof(name));
	if (n < 0 || (unsigned)n != len - 2)
		return CV_DNS_TEMP;
	dns_lower(name);
	dns_trace(w, "MX %s: %u %s", ns_rr_name(*rr), pref, name);
	w->mx_records++;
	if (strcmp(name, ".") == 0 || name[0] == '\0') {
		if (pref == 0)
			w->nullmx = true;
	} else if (inet_pton(AF_INET, name, probe) == 1 ||
		   inet_pton(AF_INET6, name, probe) == 1) {
		dns_trace(w, "MX %u %s skipped: an IP address, not a host "
			  "name", pref, name);
		w->literal = true;
	} else if (strlen(name) > CV_DOMAIN_MAX) {
		dns_trace(w, "MX %u skipped: name too long", pref);
	} else {
		dns_mx_keep(w, name, pref);
	}
	return CV_DNS_OK;
}

/* Whether sa is already in the list. */
static bool
dns_have_addr(const cv_hostlist *list, const struct sockaddr *sa,
	      socklen_t salen)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->hosts[i].addrlen == salen &&
		    memcmp(&list->hosts[i].addr, sa, salen) == 0)
			return true;
	return false;
}

static cv_dns_status
dns_on_addr(dns_walk *w, const ns_rr *rr)
{
	struct sockaddr_storage ss;
	socklen_t salen;
	char ip[CV_IPSTR_MAX];
	cv_host *h;

	memset(&ss, 0, sizeof(ss));
	if (ns_rr_type(*rr) == ns_t_a && ns_rr_rdlen(*rr) == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ns_rr_rdata(*rr), 4);
		salen = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	} else if (ns_rr_type(*rr) == ns_t_aaaa && ns_rr_rdlen(*rr) == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ns_rr_rdata(*rr), 16);
		salen = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
	} else {
		return CV_DNS_TEMP;
	}
	dns_trace(w, "%s %s: %s", dns_type_name(ns_rr_type(*rr)), w->host,
		  ip);
	w->found++;
	if (cv_addr_reserved((struct sockaddr *)&ss) &&
	    !cv_netlist_match(w->allow, (struct sockaddr *)&ss)) {
		dns_trace(w, "%s [%s] skipped: reserved address", w->host, ip);
		w->list->skipped++;
		return CV_DNS_OK;
	}
	if (dns_have_addr(w->list, (struct sockaddr *)&ss, salen) ||
	    w->list->count >= CV_HOSTS_MAX)
		return CV_DNS_OK;
	h = &w->list->hosts[w->list->count++];
	util_strlcpy(h->name, w->host, sizeof(h->name));
	h->preference = w->pref;
	memcpy(&h->addr, &ss, salen);
	h->addrlen = salen;
	util_strlcpy(h->ip, ip, sizeof(h->ip));
	return CV_DNS_OK;
}

/* The AAAA, then the A addresses of host: OK when it has any. */
static cv_dns_status
dns_host(dns_walk *w, const char *host, unsigned pref)
{
	cv_dns_status st6, st4 = CV_DNS_OK;

	w->host = host;
	w->pref = pref;
	w->found = 0;
	st6 = dns_lookup(w, host, ns_t_aaaa, dns_on_addr);
	if (w->list->count < CV_HOSTS_MAX)
		st4 = dns_lookup(w, host, ns_t_a, dns_on_addr);
	if (w->found > 0)
		return CV_DNS_OK;
	if (st6 == CV_DNS_TEMP || st4 == CV_DNS_TEMP)
		return CV_DNS_TEMP;
	return CV_DNS_NODATA;
}

/* A random number; the state is per thread, seeded from the kernel. */
static uint64_t
dns_random(void)
{
	static _Thread_local uint64_t state;

	if (state == 0) {
		struct timespec ts;

		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(state)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			state = (uint64_t)ts.tv_nsec ^
				((uint64_t)ts.tv_sec << 20) ^
				(uint64_t)(uintptr_t)&ts;
		}
		state |= 1;
	}
	/* xorshift64*: plenty for spreading load over equal MX hosts */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1DULL;
}

/* Sort the MX targets by preference, shuffling equal preferences. */
static void
dns_mx_order(dns_walk *w)
{
	size_t start = 0;

	for (size_t i = 1; i < w->nmx; i++) {
		dns_mx tmp = w->mx[i];
		size_t j = i;

		for (; j > 0 && w->mx[j - 1].pref > tmp.pref; j--)
			w->mx[j] = w->mx[j - 1];
		w->mx[j] = tmp;
	}
	for (size_t i = 1; i <= w->nmx; i++) {
		if (i < w->nmx && w->mx[i].pref == w->mx[start].pref)
			continue;
		/* Fisher-Yates over [start, i) */
		for (size_t k = i - 1; k > start; k--) {
			size_t r = start + (size_t)(dns_random() %
						    (k - start + 1));
			dns_mx tmp = w->mx[k];

			w->mx[k] = w->mx[r];
			w->mx[r] = tmp;
		}
		start = i;
	}
}

static void
dns_finish(cv_hostlist *list, cv_dns_status status, const char *message)
{
	list->status = status;
	util_strlcpy(list->message, message, sizeof(list->message));
}

/* What the host lookups came to. */
static void
dns_conclude(dns_walk *w, bool temp, bool implicit)
{
	cv_hostlist *list = w->list;

	if (list->count > 0)
		dns_finish(list, CV_DNS_OK, "");
	else if (temp)
		dns_finish(list, CV_DNS_TEMP, DNS_MSG_TEMP);
	else if (implicit && list->skipped == 0)
		dns_finish(list, CV_DNS_NODATA, DNS_MSG_UNROUTEABLE);
	else if (w->literal)
		dns_finish(list, CV_DNS_NOHOSTS,
			   DNS_MSG_NOHOSTS " or (invalidly) to IP addresses");
	else
		dns_finish(list, CV_DNS_NOHOSTS, DNS_MSG_NOHOSTS);
}

/* Walk the MX targets in order. */
static void
dns_mx_hosts(dns_walk *w)
{
	bool temp = false;

	dns_mx_order(w);
	for (size_t i = 0; i < w->nmx; i++) {
		if (w->list->count >= CV_HOSTS_MAX) {
			dns_trace(w, "%d addresses found, the rest ignored",
				  CV_HOSTS_MAX);
			break;
		}
		if (dns_host(w, w->mx[i].name, w->mx[i].pref) == CV_DNS_TEMP)
			temp = true;
	}
	dns_conclude(w, temp, false);
}

int
cv_dns_hosts(cv_resolver *res, const char *domain, const cv_netlist *allow,
	     int64_t deadline, cv_trace_fn *trace, void *trace_ctx,
	     cv_hostlist *list_r)
{
	char name[CV_DOMAIN_MAX + 1];
	size_t len;
	dns_walk *w;
	cv_dns_status st;

	if (list_r == NULL)
		return -1;
	memset(list_r, 0, sizeof(*list_r));
	dns_finish(list_r, CV_DNS_TEMP, DNS_MSG_TEMP);
	if (res == NULL || domain == NULL)
		return -1;
	len = util_strlcpy(name, domain, sizeof(name));
	if (len > 1 && len < sizeof(name) && name[len - 1] == '.')
		name[--len] = '\0';
	if (len == 0 || len >= sizeof(name) || name[0] == '.')
		return -1;
	dns_lower(name);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return 0;	/* TEMP: our own trouble */
	w->res = res;
	w->deadline = deadline;
	w->trace = trace;
	w->trace_ctx = trace_ctx;
	w->allow = allow;
	w->list = list_r;
	w->host = name;
	st = dns_lookup(w, name, ns_t_mx, dns_on_mx);
	if (st == CV_DNS_NXDOMAIN) {
		dns_finish(list_r, CV_DNS_NXDOMAIN, DNS_MSG_UNROUTEABLE);
	} else if (st == CV_DNS_NODATA) {
		dns_trace(w, "no MX for %s: using its own addresses "
			  "(implicit MX)", name);
		st = dns_host(w, name, 0);
		dns_conclude(w, st == CV_DNS_TEMP, true);
	} else if (st != CV_DNS_OK) {
		dns_finish(list_r, CV_DNS_TEMP, DNS_MSG_TEMP);
	} else if (w->nullmx && w->mx_records == 1) {
		dns_finish(list_r, CV_DNS_NULLMX, DNS_MSG_NULLMX);
	} else {
		dns_mx_hosts(w);
	}
	free(w);
	return 0;
}
