/*
 * spf_eval.c - SPF evaluation with libspf2 1.2.10, fed from our own
 * resolver through libspf2's pluggable DNS layer.
 *
 * The DNS layer (spf_dns_lookup) answers every question libspf2 asks
 * with cv_dns_query(): the same name servers, deadline and query hook as
 * the callouts.  It is also where libspf2 is defended and corrected:
 *   - every TXT string is checked (spf_macro.c) before libspf2 sees it.
 *     A "v=spf1" record with a macro outside RFC 7208's grammar stops
 *     the evaluation as a permerror (CVE-2023-42118: libspf2's macro
 *     parser underflows on such input); any other string that fails is
 *     dropped (it could only serve as an exp= text).
 *   - libspf2 counts DNS terms per record, so every include starts again
 *     at 0.  Here the count spans the evaluation (RFC 7208 4.6.4): the
 *     11th DNS-querying term, or the 3rd void lookup (NXDOMAIN or no
 *     data), stops it as a permerror.  A term is any question but the
 *     sender domain's own TXT, the address lookups of the targets of
 *     the last MX or PTR answer, and the TXT of a literal exp= domain.
 *     XXX %{p} costs a term (its PTR question), and exp= domains with
 *     macros make unknown TXT questions count only when they name a
 *     literal include/redirect target.
 *   - "stops" means every further question gets TRY_AGAIN at once, so
 *     libspf2 unwinds quickly; the result is then set from our reason.
 *   - libspf2 returns no result ("invalid") for a SERVFAIL on the sender
 *     domain's record and for a record that does not compile: we make
 *     them temperror and permerror.  The type 99 (SPF) question it asks
 *     first is answered "no data" without a query (RFC 7208 3.1).
 * libspf2's error handler (called on its internal assertions) exits the
 * process: in a helper that is a dead helper and a temperror for the
 * session; its other log handlers are silenced.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <spf2/spf.h>

#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_proto.h"
#include "util.h"

#define EVAL_TERMS_MAX   10   /* RFC 7208 4.6.4 */
#define EVAL_VOIDS_MAX   2    /* RFC 7208 4.6.4 */
#define EVAL_QUERIES_MAX 120  /* all questions, a backstop */
#define EVAL_TXT_MAX     4096 /* one TXT record, strings joined */
#define EVAL_NAMES_MAX   10   /* MX/PTR targets remembered */
#define EVAL_SPECS_MAX   16   /* include/redirect/exp domains */
#define EVAL_ANSWER_MAX  4096

typedef char eval_name[NS_MAXDNAME];

/* What one evaluation has asked and found so far. */
typedef struct eval_dns {
	cv_resolver *res;
	int64_t deadline;
	unsigned queries, terms, voids;
	bool txt_seen;   /* the sender domain's TXT was asked */
	bool top_record; /* and it held a v=spf1 record */
	bool temp;       /* a question failed temporarily */
	bool stop;       /* a limit or a bad record: permerror */
	char problem[SPF_PROBLEM_MAX];
	eval_name sub[EVAL_NAMES_MAX]; /* last MX/PTR targets */
	size_t nsub;
	eval_name targets[EVAL_SPECS_MAX]; /* literal include/redirect */
	size_t ntargets;
	eval_name exps[EVAL_SPECS_MAX]; /* literal exp= domains */
	size_t nexps;
	bool exp_macro; /* an exp= domain has macros */
} eval_dns;

struct spf_evaluator {
	SPF_server_t *server;
	SPF_dns_server_t *dns; /* ours, not the server's */
	eval_dns state;
	char receiver[CV_DOMAIN_MAX + 1];
};

/* ------------------------------------------------------------------ */
/* libspf2's log handlers                                              */
/* ------------------------------------------------------------------ */

static void __attribute__((noreturn))
spf_eval_error(const char *file, int line, const char *msg)
{
	char buf[512];
	int n =
	    snprintf(buf, sizeof(buf), "libspf2: %s:%d: %s\n",
	             file != NULL ? file : "?", line, msg != NULL ? msg : "");

	if (n > 0)
		(void)!write(STDERR_FILENO, buf,
		             (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	_exit(70);
}

static void
spf_eval_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* Case-insensitive, a trailing dot ignored on either side. */
static bool
eval_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool
eval_name_in(const eval_name *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (eval_name_eq(list[i], name))
			return true;
	return false;
}

static void
eval_name_add(eval_name *list, size_t *n, size_t max, const char *name,
              size_t len)
{
	if (*n >= max || len >= sizeof(eval_name))
		return;
	memcpy(list[*n], name, len);
	list[*n][len] = '\0';
	(*n)++;
}

static void
eval_stop(eval_dns *d, const char *why, const char *name)
{
	if (d->stop)
		return;
	d->stop = true;
	util_strlcpy(d->problem, why, sizeof(d->problem));
	if (name != NULL) {
		util_appendf(d->problem, sizeof(d->problem), " ");
		util_appendf(d->problem, sizeof(d->problem), "%.150s", name);
	}
}

/* Is this question a DNS-querying term of its own? */
static bool
eval_is_term(eval_dns *d, const char *name, int type)
{
	if (type == ns_t_a || type == ns_t_aaaa) {
		for (size_t i = 0; i < d->nsub; i++) {
			if (eval_name_eq(d->sub[i], name)) {
				/* an MX or PTR target: part of that term */
				memmove(d->sub[i], d->sub[d->nsub - 1],
				        sizeof(eval_name));
				d->nsub--;
				return false;
			}
		}
	}
	d->nsub = 0;
	if (type != ns_t_txt)
		return true;
	if (!d->txt_seen)
		return false; /* the sender domain's own record */
	if (eval_name_in(d->targets, d->ntargets, name))
		return true;
	if (eval_name_in(d->exps, d->nexps, name) || d->exp_macro)
		return false;
	return true;
}

/* Remember the literal include:, redirect= and exp= domains of record. */
static void
eval_note_specs(eval_dns *d, const char *record)
{
	const char *p = record;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		const char *t = p;
		size_t skip = 0;

		if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
			t++;
		if (strncasecmp(t, "include:", 8) == 0)
			skip = 8;
		else if (strncasecmp(t, "redirect=", 9) == 0)
			skip = 9;
		else if (strncasecmp(t, "exp=", 4) == 0)
			skip = 4;
		if (skip > 0 && (size_t)(t - p) + skip < len) {
			const char *v = t + skip;
			size_t vlen = len - (size_t)(v - p);
			bool macro = memchr(v, '%', vlen) != NULL;

			if (skip == 4 && macro)
				d->exp_macro = true;
			else if (skip == 4)
				eval_name_add(d->exps, &d->nexps,
				              EVAL_SPECS_MAX, v, vlen);
			else if (!macro)
				eval_name_add(d->targets, &d->ntargets,
				              EVAL_SPECS_MAX, v, vlen);
		}
		p += len;
		while (*p == ' ')
			p++;
	}
}

/* ------------------------------------------------------------------ */
/* Answers into libspf2's records                                      */
/* ------------------------------------------------------------------ */

static bool
eval_is_spf(const char *text, size_t len)
{
	return len >= 6 && strncasecmp(text, "v=spf1", 6) == 0 &&
	       (len == 6 || text[6] == ' ');
}

/*
 * An explanation for libspf2, with each SP written "%_": libspf2 1.2.10
 * compiles an explain-string's spaces into '%' and stops expanding
 * macros after the first one ("%{i} is bad" comes out "192.0.2.1%is%bad").
 * out has room for 2 * len + 1.
 */
static void
eval_exp_spaces(char *out, const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			out[n++] = '%';
			out[n++] = '_';
		} else {
			out[n++] = text[i];
		}
	}
	out[n] = '\0';
}

/*
 * One TXT record (its strings joined) for name: add it to rr, drop it,
 * or stop the evaluation.
 */
static void
eval_txt(eval_dns *d, SPF_dns_rr_t *rr, bool top, const char *name,
         const char *text, size_t len)
{
	char why[128], problem[SPF_PROBLEM_MAX];
	bool spf = eval_is_spf(text, len);
	int idx = rr->num_rr;

	if (spf && len > EVAL_TXT_MAX) {
		eval_stop(d, "SPF record too long for", name);
		return;
	}
	if (!spf_macro_check(text, len,
	                     spf ? SPF_MACRO_RECORD : SPF_MACRO_EXPLAIN, why,
	                     sizeof(why))) {
		if (spf) {
			(void)snprintf(problem, sizeof(problem),
			               "bad macro (%s) in SPF record of", why);
			eval_stop(d, problem, name);
		}
		return; /* not SPF: an unusable explanation at most */
	}
	if (spf) {
		if (top)
			d->top_record = true;
		eval_note_specs(d, text);
	}
	if (SPF_dns_rr_buf_realloc(rr, idx, 2 * len + 2) != SPF_E_SUCCESS)
		return;
	if (spf) {
		/* "v=spf1" alone: libspf2 looks for "v=spf1 " */
		memcpy(rr->rr[idx]->txt, text, len);
		rr->rr[idx]->txt[len] = len == 6 ? ' ' : '\0';
		rr->rr[idx]->txt[len + 1] = '\0';
	} else {
		eval_exp_spaces(rr->rr[idx]->txt, text, len);
	}
	rr->num_rr++;
}

/* Join the character-strings of a TXT RDATA into out[EVAL_TXT_MAX+1];
 * returns the length, or EVAL_TXT_MAX + 1 when it is longer. */
static size_t
eval_txt_join(const unsigned char *rd, size_t rdlen, char *out)
{
	size_t off = 0, n = 0;

	while (off < rdlen) {
		size_t l = rd[off++];

		if (l > rdlen - off)
			l = rdlen - off;
		if (n + l > EVAL_TXT_MAX)
			return EVAL_TXT_MAX + 1;
		memcpy(out + n, rd + off, l);
		n += l;
		off += l;
	}
	out[n] = '\0';
	return n;
}

/* A name in rdata (compressed) into rr[idx]; false if malformed. */
static bool
eval_add_name(SPF_dns_rr_t *rr, const ns_msg *msg, const unsigned char *rd)
{
	char name[NS_MAXDNAME];
	int idx = rr->num_rr;

	if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rd, name,
	                       sizeof(name)) < 0)
		return false;
	if (SPF_dns_rr_buf_realloc(rr, idx, strlen(name) + 1) != SPF_E_SUCCESS)
		return false;
	memcpy(rr->rr[idx]->ptr, name, strlen(name) + 1);
	rr->num_rr++;
	return true;
}

/* One answer RR of the asked type into rr. */
static void
eval_add_rr(eval_dns *d, SPF_dns_rr_t *rr, const ns_msg *msg, ns_rr *r,
            bool top, const char *name)
{
	const unsigned char *rd = ns_rr_rdata(*r);
	size_t rdlen = ns_rr_rdlen(*r);
	char text[EVAL_TXT_MAX + 1];
	int idx = rr->num_rr;

	switch (ns_rr_type(*r)) {
	case ns_t_a:
	case ns_t_aaaa:
		if (rdlen != (ns_rr_type(*r) == ns_t_a ? 4u : 16u) ||
		    SPF_dns_rr_buf_realloc(rr, idx, rdlen) != SPF_E_SUCCESS)
			return;
		memcpy(&rr->rr[idx]->a, rd, rdlen);
		rr->num_rr++;
		break;
	case ns_t_mx:
		if (rdlen > 2 && eval_add_name(rr, msg, rd + 2) &&
		    d->nsub < EVAL_NAMES_MAX)
			eval_name_add(d->sub, &d->nsub, EVAL_NAMES_MAX,
			              rr->rr[idx]->mx, strlen(rr->rr[idx]->mx));
		break;
	case ns_t_ptr:
		if (eval_add_name(rr, msg, rd))
			eval_name_add(d->sub, &d->nsub, EVAL_NAMES_MAX,
			              rr->rr[idx]->ptr,
			              strlen(rr->rr[idx]->ptr));
		break;
	case ns_t_txt: {
		size_t len = eval_txt_join(rd, rdlen, text);

		if (len > EVAL_TXT_MAX) {
			if (rdlen > 7 && eval_is_spf((const char *)rd + 1,
			                             rd[0] > 6 ? 7 : rd[0]))
				eval_stop(d, "SPF record too long for", name);
			return;
		}
		eval_txt(d, rr, top, name, text, len);
		break;
	}
	default:
		break;
	}
}

/* Parse a whole answer message into a new record for libspf2. */
static SPF_dns_rr_t *
eval_parse(eval_dns *d, SPF_dns_server_t *srv, const char *name, int type,
           const unsigned char *answer, int len, bool top)
{
	SPF_dns_rr_t *rr =
	    SPF_dns_rr_new_init(srv, name, (ns_type)type, 0, NETDB_SUCCESS);
	ns_msg msg;

	if (rr == NULL)
		return NULL;
	if (ns_initparse(answer, len, &msg) < 0) {
		rr->herrno = TRY_AGAIN;
		d->temp = true;
		return rr;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && !d->stop; i++) {
		ns_rr r;

		if (ns_parserr(&msg, ns_s_an, i, &r) < 0)
			break;
		if ((int)ns_rr_type(r) == type && ns_rr_class(r) == ns_c_in)
			eval_add_rr(d, rr, &msg, &r, top, name);
	}
	if (d->stop)
		rr->herrno = TRY_AGAIN;
	else if (rr->num_rr == 0)
		rr->herrno = NO_DATA;
	return rr;
}

/* ------------------------------------------------------------------ */
/* The DNS layer                                                       */
/* ------------------------------------------------------------------ */

static SPF_dns_rr_t *
eval_rr_status(SPF_dns_server_t *srv, const char *name, ns_type type,
               int herrno)
{
	return SPF_dns_rr_new_init(srv, name, type, 0, herrno);
}

static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *srv, const char *name, ns_type type,
               int should_cache)
{
	eval_dns *d = srv->hook;
	unsigned char answer[EVAL_ANSWER_MAX];
	cv_dns_status status;
	bool term, top;
	int n;

	(void)should_cache;
	if (type == ns_t_spf)
		return eval_rr_status(srv, name, type, NO_DATA);
	if (d->stop || name == NULL)
		return eval_rr_status(srv, name, type, TRY_AGAIN);
	top = type == ns_t_txt && !d->txt_seen;
	term = eval_is_term(d, name, type);
	if (type == ns_t_txt)
		d->txt_seen = true;
	if (term && ++d->terms > EVAL_TERMS_MAX)
		eval_stop(d, "more than 10 DNS-querying terms", NULL);
	else if (++d->queries > EVAL_QUERIES_MAX)
		eval_stop(d, "too many DNS queries", NULL);
	if (d->stop)
		return eval_rr_status(srv, name, type, TRY_AGAIN);
	n = cv_dns_query(d->res, name, type, answer, sizeof(answer),
	                 d->deadline, &status);
	if (n >= 0)
		return eval_parse(d, srv, name, type, answer, n, top);
	if (status == CV_DNS_TEMP) {
		d->temp = true;
		return eval_rr_status(srv, name, type, TRY_AGAIN);
	}
	if (term && ++d->voids > EVAL_VOIDS_MAX) {
		eval_stop(d, "more than 2 void lookups", NULL);
		return eval_rr_status(srv, name, type, TRY_AGAIN);
	}
	return eval_rr_status(srv, name, type,
	                      status == CV_DNS_NXDOMAIN ? HOST_NOT_FOUND
	                                                : NO_DATA);
}

/* ------------------------------------------------------------------ */
/* Evaluators                                                          */
/* ------------------------------------------------------------------ */

spf_evaluator *
spf_evaluator_new(cv_resolver *res, const char *receiver, char *error_r,
                  size_t error_size)
{
	SPF_response_t *resp = NULL;
	spf_evaluator *ev;

	if (res == NULL) {
		(void)snprintf(error_r, error_size, "SPF: no resolver");
		return NULL;
	}
	SPF_error_handler = spf_eval_error;
	SPF_warning_handler = spf_eval_quiet;
	SPF_info_handler = spf_eval_quiet;
	SPF_debug_handler = spf_eval_quiet;
	ev = calloc(1, sizeof(*ev));
	if (ev != NULL)
		ev->dns = calloc(1, sizeof(*ev->dns));
	if (ev == NULL || ev->dns == NULL) {
		free(ev);
		(void)snprintf(error_r, error_size, "SPF: out of memory");
		return NULL;
	}
	ev->state.res = res;
	/* no destructor: libspf2 must not free it (SPF_server_new_dns
	 * leaves the layer to its caller); spf_evaluator_free() does */
	ev->dns->destroy = NULL;
	ev->dns->lookup = spf_dns_lookup;
	ev->dns->name = "callout";
	ev->dns->hook = &ev->state;
	ev->server = SPF_server_new_dns(ev->dns, 0);
	if (ev->server == NULL) {
		free(ev->dns);
		free(ev);
		(void)snprintf(error_r, error_size, "SPF: out of memory");
		return NULL;
	}
	(void)snprintf(ev->receiver, sizeof(ev->receiver), "%s",
	               receiver != NULL && receiver[0] != '\0' ? receiver
	                                                       : "localhost");
	(void)SPF_server_set_rec_dom(ev->server, ev->receiver);
	/* no explanation of our own: only a domain's exp= is quoted */
	if (SPF_server_set_explanation(ev->server, "", &resp) != SPF_E_SUCCESS)
		(void)snprintf(error_r, error_size,
		               "SPF: no empty default explanation");
	if (resp != NULL)
		SPF_response_free(resp);
	return ev;
}

void
spf_evaluator_free(spf_evaluator **ev_p)
{
	if (ev_p == NULL || *ev_p == NULL)
		return;
	SPF_server_free((*ev_p)->server);
	free((*ev_p)->dns);
	free(*ev_p);
	*ev_p = NULL;
}

/* RFC 7208 4.3: a domain SPF can be asked about at all. */
static bool
eval_domain_ok(const char *domain)
{
	size_t len = strlen(domain), label = 0, labels = 1;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)domain[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			labels++;
		} else if (c <= 0x20 || c > 0x7e || ++label > 63) {
			return false;
		}
	}
	return label > 0 && labels >= 2;
}

/* The first error libspf2 noted, e.g. why a record does not compile. */
static const char *
eval_first_error(SPF_response_t *resp)
{
	for (int i = 0; resp != NULL && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_message(e) != NULL)
			return SPF_error_message(e);
	}
	return "SPF record does not compile";
}

/* libspf2's response and our own findings -> the result. */
static spf_result
eval_result(const eval_dns *d, SPF_response_t *resp, char *problem, size_t size)
{
	SPF_result_t r =
	    resp != NULL ? SPF_response_result(resp) : SPF_RESULT_INVALID;

	problem[0] = '\0';
	if (d->stop) {
		(void)snprintf(problem, size, "%s", d->problem);
		return SPFR_PERMERROR;
	}
	switch (r) {
	case SPF_RESULT_PASS:
		return SPFR_PASS;
	case SPF_RESULT_FAIL:
		return SPFR_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return SPFR_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return SPFR_NEUTRAL;
	case SPF_RESULT_NONE:
		return SPFR_NONE;
	case SPF_RESULT_TEMPERROR:
		(void)snprintf(problem, size, "%s",
		               d->temp
		                   ? "DNS lookup did not complete"
		                   : SPF_strerror(SPF_response_errcode(resp)));
		return SPFR_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		(void)snprintf(problem, size, "%s",
		               SPF_strerror(SPF_response_errcode(resp)));
		return SPFR_PERMERROR;
	default:
		break;
	}
	/* libspf2 gave no result */
	if (d->temp) {
		(void)snprintf(problem, size, "DNS lookup did not complete");
		return SPFR_TEMPERROR;
	}
	if (d->top_record) {
		(void)snprintf(problem, size, "%s", eval_first_error(resp));
		return SPFR_PERMERROR;
	}
	return SPFR_NONE;
}

/* Run libspf2 for a checked request; fills problem and explanation. */
static spf_result
eval_run(spf_evaluator *ev, const char *client_ip, const char *helo,
         const char *sender, char *problem, size_t psize, char *exp,
         size_t esize)
{
	SPF_request_t *req = SPF_request_new(ev->server);
	SPF_response_t *resp = NULL;
	unsigned char a[16];
	spf_result r;

	if (req == NULL) {
		(void)snprintf(problem, psize, "out of memory");
		return SPFR_TEMPERROR;
	}
	if (inet_pton(AF_INET, client_ip, a) == 1)
		(void)SPF_request_set_ipv4_str(req, client_ip);
	else
		(void)SPF_request_set_ipv6_str(req, client_ip);
	if (helo[0] != '\0')
		(void)SPF_request_set_helo_dom(req, helo);
	(void)SPF_request_set_env_from(req, sender);
	(void)SPF_request_query_mailfrom(req, &resp);
	r = eval_result(&ev->state, resp, problem, psize);
	if (r == SPFR_FAIL && resp != NULL &&
	    SPF_response_get_explanation(resp) != NULL)
		spf_proto_printable(exp, esize,
		                    SPF_response_get_explanation(resp));
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return r;
}

spf_result
spf_evaluator_check(spf_evaluator *ev, const char *client_ip, const char *helo,
                    const char *sender, int64_t deadline, spf_answer *answer_r)
{
	int64_t start = cv_now_ms();
	eval_dns *d = &ev->state;
	cv_resolver *res = d->res;
	const char *domain, *at;
	unsigned char a[16];
	spf_result r;

	memset(answer_r, 0, sizeof(*answer_r));
	memset(d, 0, sizeof(*d));
	d->res = res;
	d->deadline = deadline;
	helo = helo != NULL ? helo : "";
	sender = sender != NULL ? sender : "";
	client_ip = client_ip != NULL ? client_ip : "";
	at = strrchr(sender, '@');
	domain = sender[0] == '\0' ? helo : at != NULL ? at + 1 : sender;
	if (inet_pton(AF_INET, client_ip, a) != 1 &&
	    inet_pton(AF_INET6, client_ip, a) != 1) {
		r = SPFR_TEMPERROR;
		(void)snprintf(answer_r->problem, sizeof(answer_r->problem),
		               "bad client address");
	} else if (!eval_domain_ok(domain)) {
		r = SPFR_NONE; /* RFC 7208 4.3 */
	} else {
		r = eval_run(ev, client_ip, helo, sender, answer_r->problem,
		             sizeof(answer_r->problem), answer_r->explanation,
		             sizeof(answer_r->explanation));
	}
	answer_r->result = r;
	spf_proto_printable(answer_r->problem, sizeof(answer_r->problem),
	                    answer_r->problem);
	spf_received_value(r, ev->receiver, client_ip, helo, sender,
	                   answer_r->problem, answer_r->received_spf,
	                   sizeof(answer_r->received_spf));
	answer_r->elapsed_ms = cv_now_ms() - start;
	return r;
}

spf_result
spf_evaluate_direct(cv_resolver *res, const char *receiver,
                    const char *client_ip, const char *helo,
                    const cv_address *sender, int64_t deadline,
                    spf_answer *answer_r)
{
	char err[CV_ERROR_MAX], text[CV_PATH_MAX + 1];
	spf_evaluator *ev = spf_evaluator_new(res, receiver, err, sizeof(err));
	spf_result r;

	if (ev == NULL || !spf_sender_text(sender, text, sizeof(text))) {
		memset(answer_r, 0, sizeof(*answer_r));
		answer_r->result = SPFR_TEMPERROR;
		spf_proto_printable(answer_r->problem,
		                    sizeof(answer_r->problem),
		                    ev == NULL ? err : "sender too long");
		spf_received_value(SPFR_TEMPERROR, receiver, client_ip, helo,
		                   "", answer_r->problem,
		                   answer_r->received_spf,
		                   sizeof(answer_r->received_spf));
		spf_evaluator_free(&ev);
		return SPFR_TEMPERROR;
	}
	r = spf_evaluator_check(ev, client_ip, helo, text, deadline, answer_r);
	spf_evaluator_free(&ev);
	return r;
}
