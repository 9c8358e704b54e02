/*
 * session.c - the milter callbacks of callout-milter.
 *
 *   connect  client address and PTR name -> host exemptions
 *   envfrom  parse the sender; null sender, AUTH, sender exemptions; SPF
 *   envrcpt  recipient exemptions; else the sender's verdict (bounded
 *            wait) -> 550 / 451 / continue, per recipient
 *   header   keep Sender, Resent-Sender, Reply-To, From, Resent-From
 *   eoh      header_sender check -> 550 / 451 / continue
 *   eom      Received-SPF; X-Callout-Verify: header in tag mode
 *
 * The sender is probed at the first recipient that is not exempt, not at
 * MAIL FROM as DESIGN.md section 2 sketches: mail only for postmaster@ or
 * abuse@ then costs the sender's server nothing, and the engine serves
 * the answer from its cache or from a probe already running anyway.
 *
 * State lives behind smfi_setpriv (callbacks of one connection may run on
 * different threads).  A session keeps the runtime (config + verifier)
 * it started with.  Guarantees: no callback waits longer than
 * CalloutMaxWait; anything that goes wrong inside the filter (no memory,
 * no runtime, lost state) is a 451 for that session, never a crash and
 * never a rejection.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hsender.h"
#include "log.h"
#include "logline.h"
#include "mta.h"
#include "reply.h"
#include "runtime.h"
#include "session.h"
#include "spf.h"

/* How the envelope sender is to be handled in this transaction. */
typedef enum sender_state {
	SENDER_SKIP = 0,	/* nothing to verify (null sender, exempt) */
	SENDER_TODO,		/* verify at the first checked RCPT */
	SENDER_DONE,		/* verdict known: sender_reply holds it */
	SENDER_SYNTAX,		/* the MTA accepted it, we cannot parse it */
} sender_state;

typedef struct session {
	runtime *rt;
	/* the MTA agreed not to wait for our answer to HELO, headers
	 * (SMFIP_NR_*): those callbacks must return SMFIS_NOREPLY */
	bool nr_helo, nr_hdr;
	bool broken;		/* trouble where no reply could be sent */
	bool postfix;			/* the MTA said so in {v} */
	char client_ip[CV_IPSTR_MAX];
	char client_name[CV_DOMAIN_MAX + 1];
	char helo[CV_DOMAIN_MAX + 1];

	/* the transaction */
	char qid[64];
	char sender_text[CV_PATH_MAX + 1];	/* as given, for logs */
	cv_address sender;
	sender_state sender_state;
	bool sender_probed;		/* sender_result is a verifier's */
	enum config_verify sender_how;
	cv_result sender_result;
	reply sender_reply;
	unsigned rcpts_checked;		/* non-exempt recipients accepted */
	size_t nheaders;
	bool headers_dropped;
	hs_header headers[HSENDER_HEADERS_MAX];
	bool spf_done;			/* spf holds this transaction's */
	spf_answer spf;
	char tag_sender[256];		/* tag mode: what would have been */
	char tag_header[256];
	reply work;			/* scratch for the header reply */
} session;

static atomic_uint open_sessions;
static atomic_bool draining;	/* stopping: no new sessions */
static spf_pool *spf_helpers;	/* set once at start-up, or NULL */

void
session_set_spf(spf_pool *pool)
{
	spf_helpers = pool;
}

void
session_drain(void)
{
	atomic_store(&draining, true);
}

unsigned
session_count(void)
{
	return atomic_load(&open_sessions);
}

/* A session set up by connect; NULL before, or when connect failed. */
static session *
get_session(SMFICTX *ctx)
{
	session *s = smfi_getpriv(ctx);

	return s != NULL && s->rt != NULL ? s : NULL;
}

/* Allocate the session of a connection (at negotiation, or at connect
 * when the MTA did not negotiate) and count it; cb_close frees it. */
static session *
session_new(SMFICTX *ctx)
{
	session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	atomic_fetch_add(&open_sessions, 1);
	(void)smfi_setpriv(ctx, s);
	return s;
}

static const struct config *
cfg_of(const session *s)
{
	return s->rt->cfg;
}

/* The milter's overall wait: CalloutMaxWait, or by MTA (section 2). */
static int64_t
deadline_of(const session *s)
{
	unsigned wait = cfg_of(s)->callout_max_wait_s;

	if (wait == 0)
		wait = s->postfix ? 25 : 8;
	return cv_now_ms() + (int64_t)wait * 1000;
}

static void
logsession(const session *s, logline_session *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->qid = s->qid;
	ls->client_name = s->client_name;
	ls->client_ip = s->client_ip;
	ls->helo = s->helo;
	ls->sender = s->sender_state == SENDER_SYNTAX ? s->sender_text :
	    s->sender.address;
	ls->tag = cfg_of(s)->mode == CONFIG_MODE_TAG;
}

static void
refresh_qid(session *s, SMFICTX *ctx)
{
	const char *qid = mta_getsymval(ctx, "i");

	if (qid != NULL && *qid != '\0')
		(void)snprintf(s->qid, sizeof(s->qid), "%s", qid);
}

static void
free_headers(session *s)
{
	size_t i;

	for (i = 0; i < s->nheaders; i++) {
		free((char *)s->headers[i].name);
		free((char *)s->headers[i].value);
	}
	s->nheaders = 0;
	s->headers_dropped = false;
	s->broken = false;
}

/* Forget the transaction (new MAIL FROM, abort). */
static void
reset_transaction(session *s)
{
	free_headers(s);
	s->qid[0] = '\0';
	s->sender_text[0] = '\0';
	memset(&s->sender, 0, sizeof(s->sender));
	s->sender_state = SENDER_SKIP;
	s->sender_probed = false;
	s->rcpts_checked = 0;
	s->spf_done = false;
	s->tag_sender[0] = '\0';
	s->tag_header[0] = '\0';
}

/* A 451 for trouble inside the filter; logged, never a rejection. */
static sfsistat
internal_error(SMFICTX *ctx, const char *what)
{
	log_msg(LOG_ERR, "internal error: %s: temporary failure", what);
	return mta_tempfail(ctx);
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	session *s = session_new(ctx);

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
	/* no body, no DATA, no unknown commands: less work for the MTA */
	*pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_SKIP);
	/* HELO and every header always continue: the MTA need not wait
	 * for those answers (6 of about 11 round trips of a message) */
	if (s != NULL) {
		s->nr_helo = (f1 & SMFIP_NR_HELO) != 0;
		s->nr_hdr = (f1 & SMFIP_NR_HDR) != 0;
		*pf1 |= f1 & (SMFIP_NR_HELO | SMFIP_NR_HDR);
	}
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		mta_setsymlist(ctx, SMFIM_CONNECT, "v j {daemon_name}");
		mta_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		mta_setsymlist(ctx, SMFIM_ENVRCPT, "i");
		mta_setsymlist(ctx, SMFIM_EOH, "i");
		mta_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* Printable client address; false for a local (non-IP) client. */
static bool
client_address(const struct sockaddr *sa, char *buf, size_t size)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, buf, size) != NULL;
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, buf, size) != NULL;
	return false;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	session *s = smfi_getpriv(ctx);
	const char *v;

	if (s == NULL)
		s = session_new(ctx);
	if (s == NULL)
		return internal_error(ctx, "out of memory at connect");
	if (atomic_load(&draining)) {
		/* stopping: the MTA retries, nothing is lost */
		log_msg(LOG_INFO, "stopping: new session refused (451)");
		return mta_tempfail(ctx);
	}
	s->rt = runtime_get();
	if (s->rt == NULL)
		return internal_error(ctx, "no configuration");
	v = mta_getsymval(ctx, "v");
	s->postfix = v != NULL && strncasecmp(v, "Postfix", 7) == 0;
	/* Sendmail writes "[ip]" and Postfix "unknown" for no PTR name */
	if (hostname != NULL && hostname[0] != '[' &&
	    strcmp(hostname, "unknown") != 0)
		(void)snprintf(s->client_name, sizeof(s->client_name), "%s",
		    hostname);
	if (cfg_of(s)->mode == CONFIG_MODE_OFF)
		return SMFIS_ACCEPT;
	if (!client_address(hostaddr, s->client_ip, sizeof(s->client_ip))) {
		/* a local submission, not a network client */
		return SMFIS_ACCEPT;
	}
	if (lists_match_host(cfg_of(s)->exempt_hosts, hostaddr) ||
	    (s->client_name[0] != '\0' &&
	    lists_match_hostname(cfg_of(s)->exempt_host_names,
	    s->client_name))) {
		log_msg(LOG_DEBUG, "H=%s [%s] exempt client",
		    s->client_name, s->client_ip);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, "lost session at HELO");
	(void)snprintf(s->helo, sizeof(s->helo), "%s",
	    helo != NULL ? helo : "");
	return s->nr_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Is the sender exempt from every check (AUTH, lists)?  why_r names the
 * reason for the debug log. */
static bool
sender_exempt(SMFICTX *ctx, const session *s, const char **why_r)
{
	const struct config *cfg = cfg_of(s);
	const char *auth = mta_getsymval(ctx, "{auth_authen}");

	if (auth != NULL && *auth != '\0' && !cfg->verify_authenticated) {
		*why_r = "authenticated client";
		return true;
	}
	if (s->sender_state == SENDER_SYNTAX)
		return false;
	if (lists_match_cv_address(cfg->exempt_senders, &s->sender)) {
		*why_r = "ExemptSenders";
		return true;
	}
	if (!s->sender.null &&
	    lists_match_domain(cfg->skip_sender_domains, s->sender.domain)) {
		*why_r = "SkipSenderDomains";
		return true;
	}
	return false;
}

/*
 * SPF at MAIL FROM (issue 6): pass may make the callout needless, fail
 * may reject, temperror defers; the reply is applied per recipient at
 * RCPT like a callout verdict, so exempt recipients and tag mode work
 * the same way.
 */
static void
spf_decide(session *s)
{
	const struct config *cfg = cfg_of(s);
	int64_t deadline = deadline_of(s);
	int64_t spf_deadline = cv_now_ms() + (int64_t)cfg->spf_timeout_s * 1000;
	logline_session ls;
	char line[LOGLINE_MAX];
	spf_action act;

	(void)spf_check(spf_helpers, s->client_ip, s->helo, &s->sender,
	    spf_deadline < deadline ? spf_deadline : deadline, &s->spf);
	s->spf_done = true;
	act = spf_policy(cfg, s->spf.result);
	logsession(s, &ls);
	(void)logline_spf(line, sizeof(line), &ls,
	    spf_result_name(s->spf.result), s->spf.result == SPFR_FAIL ?
	    s->spf.explanation : s->spf.problem, spf_action_name(act),
	    s->spf.elapsed_ms);
	log_msg(LOG_INFO, "%s", line);
	switch (act) {
	case SPF_ACTION_SKIP:
		s->sender_state = SENDER_SKIP;
		break;
	case SPF_ACTION_REJECT:
	case SPF_ACTION_DEFER:
		reply_for_spf(&cfg->reply, spf_reply_action(act),
		    s->spf.explanation, &s->sender_reply);
		if (s->sender_reply.action == REPLY_CONTINUE)
			break;	/* DeferOK: let the callout decide */
		memset(&s->sender_result, 0, sizeof(s->sender_result));
		s->sender_result.verdict = act == SPF_ACTION_REJECT ?
		    CV_FAILED : CV_UNKNOWN;
		s->sender_state = SENDER_DONE;
		(void)snprintf(s->tag_sender, sizeof(s->tag_sender),
		    "%s (%.200s)", cv_verdict_name(s->sender_result.verdict),
		    s->sender_reply.reason);
		break;
	case SPF_ACTION_VERIFY:
		break;
	}
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	session *s = get_session(ctx);
	const struct config *cfg;
	char why[CV_ERROR_MAX];
	const char *arg = argv != NULL && argv[0] != NULL ? argv[0] : "";
	const char *exempt_why = NULL;

	if (s == NULL)
		return internal_error(ctx, "lost session at MAIL");
	cfg = cfg_of(s);
	reset_transaction(s);
	refresh_qid(s, ctx);
	(void)snprintf(s->sender_text, sizeof(s->sender_text), "%s", arg);
	if (cv_path_parse(arg, strlen(arg), &s->sender, why, sizeof(why)) !=
	    0) {
		char shown[LOGLINE_MAX];

		s->sender_state = SENDER_SYNTAX;
		(void)logline_escape(shown, sizeof(shown), arg, strlen(arg));
		log_msg(LOG_INFO, "%s H=%s [%s] sender verify fail for %s: "
		    "syntax error: %s", s->qid[0] != '\0' ? s->qid : "NOQUEUE",
		    s->client_name, s->client_ip, shown, why);
	} else if (s->sender.null ||
	    cfg->sender_verify == CONFIG_VERIFY_OFF) {
		s->sender_state = SENDER_SKIP;
	} else {
		s->sender_state = SENDER_TODO;
		s->sender_how = cfg->sender_verify;
		/* ExemptSenderDomains: no callout, the domain still has
		 * to exist in DNS */
		if (lists_match_domain(cfg->exempt_sender_domains,
		    s->sender.domain))
			s->sender_how = CONFIG_VERIFY_DOMAIN;
	}
	if (sender_exempt(ctx, s, &exempt_why)) {
		log_msg(LOG_DEBUG, "%s exempt sender <%s>: %s",
		    s->qid[0] != '\0' ? s->qid : "NOQUEUE", s->sender.address,
		    exempt_why);
		return SMFIS_ACCEPT;
	}
	if (s->sender_state == SENDER_TODO && cfg->spf && spf_helpers != NULL)
		spf_decide(s);
	if (s->sender_state == SENDER_SKIP &&
	    cfg->header_sender_verify == CONFIG_VERIFY_OFF)
		return SMFIS_ACCEPT;
	return SMFIS_CONTINUE;
}

/* The sender's verdict, found once per transaction, logged once. */
static void
sender_decide(session *s)
{
	const struct config *cfg = cfg_of(s);
	logline_session ls;
	char line[LOGLINE_MAX];

	if (s->sender_state == SENDER_SYNTAX) {
		memset(&s->sender_result, 0, sizeof(s->sender_result));
		reply_for_syntax(&cfg->reply, &s->sender_reply);
		s->sender_state = SENDER_DONE;
		return;
	}
	(void)verifier_verify(s->rt->v, &s->sender, s->sender_how,
	    deadline_of(s), &s->sender_result);
	s->sender_probed = true;
	reply_for_sender(&cfg->reply, &s->sender, &s->sender_result,
	    &s->sender_reply);
	logsession(s, &ls);
	(void)logline_verify(line, sizeof(line), &ls, &s->sender,
	    &s->sender_result, s->sender_reply.action);
	log_msg(LOG_INFO, "%s", line);
	s->sender_state = SENDER_DONE;
	(void)snprintf(s->tag_sender, sizeof(s->tag_sender), "%s (%.200s)",
	    cv_verdict_name(s->sender_result.verdict),
	    s->sender_reply.action == REPLY_CONTINUE ? "accepted" :
	    s->sender_reply.reason);
}

static bool
recipient_exempt(const session *s, const char *arg)
{
	const struct config *cfg = cfg_of(s);
	cv_address rcpt;
	char why[CV_ERROR_MAX];

	if (cv_path_parse(arg, strlen(arg), &rcpt, why, sizeof(why)) != 0)
		return false;	/* the MTA's business, not ours */
	return lists_match_cv_address(cfg->exempt_recipients, &rcpt) ||
	    lists_match_domain(cfg->exempt_recipient_domains, rcpt.domain);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	session *s = get_session(ctx);
	const char *arg = argv != NULL && argv[0] != NULL ? argv[0] : "";
	logline_session ls;
	char line[LOGLINE_MAX], rcpt[CV_PATH_MAX + 1];
	size_t len;

	if (s == NULL)
		return internal_error(ctx, "lost session at RCPT");
	refresh_qid(s, ctx);
	if (recipient_exempt(s, arg))
		return SMFIS_CONTINUE;
	if (s->sender_state == SENDER_SKIP) {
		s->rcpts_checked++;
		return SMFIS_CONTINUE;
	}
	if (s->sender_state != SENDER_DONE)
		sender_decide(s);
	if (s->sender_reply.action == REPLY_CONTINUE) {
		s->rcpts_checked++;
		return SMFIS_CONTINUE;
	}
	/* log the recipient without its angle brackets, as Exim does */
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>')
		(void)snprintf(rcpt, sizeof(rcpt), "%.*s", (int)(len - 2),
		    arg + 1);
	else
		(void)snprintf(rcpt, sizeof(rcpt), "%s", arg);
	logsession(s, &ls);
	(void)logline_rcpt(line, sizeof(line), &ls, rcpt, &s->sender_reply,
	    s->sender_result.cached, s->sender_result.elapsed_ms);
	log_msg(LOG_INFO, "%s", line);
	if (cfg_of(s)->mode == CONFIG_MODE_TAG) {
		s->rcpts_checked++;
		return SMFIS_CONTINUE;
	}
	return mta_reply(ctx, &s->sender_reply);
}

/* Keep one header if header_sender reads it (bounded in count and
 * size).  Out of memory marks the session broken: end of header answers
 * 451 (no reply can be sent for a header under SMFIP_NR_HDR). */
static void
header_keep(session *s, const char *name, const char *value)
{
	hs_header *h;
	size_t len;

	if (name == NULL || value == NULL || !hsender_wanted(name))
		return;
	if (s->nheaders >= HSENDER_HEADERS_MAX) {
		s->headers_dropped = true;
		return;
	}
	/* one octet past the parser's limit, so that it says "too long" */
	len = strnlen(value, CV_HEADER_MAX + 1);
	h = &s->headers[s->nheaders];
	h->name = strdup(name);
	h->value = strndup(value, len);
	h->len = len;
	if (h->name == NULL || h->value == NULL) {
		free((char *)h->name);
		free((char *)h->value);
		s->broken = true;
		return;
	}
	s->nheaders++;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, "lost session at header");
	header_keep(s, name, value);
	return s->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* What the header_sender callback needs. */
typedef struct header_ctx {
	session *s;
	int64_t deadline;
} header_ctx;

static cv_verdict
header_verify(void *arg, const cv_address *addr, cv_result *r)
{
	header_ctx *hc = arg;
	session *s = hc->s;
	const struct config *cfg = cfg_of(s);
	logline_session ls;
	char line[LOGLINE_MAX];
	reply *rep = &s->work;

	/* the envelope sender, vouched for by SPF (pass under SPFPass
	 * skip): no callout for it here either */
	if (s->spf_done && s->spf.result == SPFR_PASS &&
	    spf_policy(cfg, SPFR_PASS) == SPF_ACTION_SKIP &&
	    strcmp(addr->address, s->sender.address) == 0) {
		memset(r, 0, sizeof(*r));
		r->verdict = CV_VERIFIED;
		(void)snprintf(r->message, sizeof(r->message),
		    "SPF pass for the envelope sender");
		return CV_VERIFIED;
	}
	/* the envelope sender, already verified the same way: reuse */
	if (s->sender_probed && s->sender_how == cfg->header_sender_verify &&
	    strcmp(addr->address, s->sender.address) == 0) {
		*r = s->sender_result;
		return s->sender_reply.action == REPLY_CONTINUE ?
		    CV_VERIFIED : r->verdict;
	}
	(void)verifier_verify(s->rt->v, addr, cfg->header_sender_verify,
	    hc->deadline, r);
	reply_for_sender(&cfg->reply, addr, r, rep);
	logsession(s, &ls);
	(void)logline_verify(line, sizeof(line), &ls, addr, r, rep->action);
	log_msg(LOG_INFO, "%s", line);
	/* What the policy accepts for an envelope sender (ProbeRefused
	 * accept, NullSenderRefused accept, DeferOK) it accepts for a
	 * header sender too: the candidate counts as verified. */
	return rep->action == REPLY_CONTINUE ? CV_VERIFIED : r->verdict;
}

static reply_header_outcome
header_outcome(const hs_outcome *out)
{
	switch (out->kind) {
	case HS_VERIFIED:
		return REPLY_HEADER_VERIFIED;
	case HS_UNKNOWN:
		return REPLY_HEADER_UNKNOWN;
	case HS_SYNTAX:
		return REPLY_HEADER_SYNTAX;
	case HS_FAILED:
	case HS_NONE:
		break;
	}
	return REPLY_HEADER_FAILED;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	session *s = get_session(ctx);
	const struct config *cfg;
	header_ctx hc;
	hs_outcome *out;
	logline_session ls;
	logline_syntax syn;
	char line[LOGLINE_MAX], text[LOGLINE_QUOTE_MAX + 1];
	reply_header_outcome oc;
	int64_t start = cv_now_ms();

	if (s == NULL)
		return internal_error(ctx, "lost session at end of header");
	if (s->broken)
		return internal_error(ctx, "out of memory keeping headers");
	cfg = cfg_of(s);
	refresh_qid(s, ctx);
	/* mail only for exempt recipients (postmaster@) is not checked */
	if (cfg->header_sender_verify == CONFIG_VERIFY_OFF ||
	    s->rcpts_checked == 0)
		return SMFIS_CONTINUE;
	if (s->headers_dropped)
		log_msg(LOG_NOTICE, "%s more than %d sender headers: the "
		    "rest are not checked", s->qid, HSENDER_HEADERS_MAX);
	out = malloc(sizeof(*out));
	if (out == NULL)
		return internal_error(ctx, "out of memory at end of header");
	hc.s = s;
	hc.deadline = deadline_of(s);
	hsender_check(s->headers, s->nheaders, header_verify, &hc, out);
	oc = header_outcome(out);
	reply_for_header(&cfg->reply, oc, &s->work);
	logsession(s, &ls);
	memset(&syn, 0, sizeof(syn));
	if (oc == REPLY_HEADER_SYNTAX) {
		(void)snprintf(text, sizeof(text), "%.*s",
		    (int)(out->text_len < LOGLINE_QUOTE_MAX ? out->text_len :
		    LOGLINE_QUOTE_MAX), out->text);
		syn.header = out->header;
		syn.why = out->why;
		syn.text = text;
	}
	(void)logline_header(line, sizeof(line), &ls, oc, &s->work,
	    oc == REPLY_HEADER_SYNTAX ? &syn : NULL, out->result.cached,
	    cv_now_ms() - start);
	if (line[0] != '\0')
		log_msg(LOG_INFO, "%s", line);
	(void)snprintf(s->tag_header, sizeof(s->tag_header), "%s (%.200s)",
	    hsender_kind_name(out->kind), s->work.action == REPLY_CONTINUE ?
	    "accepted" : s->work.reason);
	free(out);
	if (s->work.action == REPLY_CONTINUE || cfg->mode == CONFIG_MODE_TAG)
		return SMFIS_CONTINUE;
	return mta_reply(ctx, &s->work);
}

static void
tag_append_spf(char *value, size_t size, spf_result r)
{
	size_t len = strlen(value);

	(void)snprintf(value + len, size - len, "; spf=%s",
	    spf_result_name(r));
}

/* Received-SPF, and in tag mode what enforce mode would have done. */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	session *s = get_session(ctx);
	char value[600];

	if (s == NULL)
		return internal_error(ctx, "lost session at end of message");
	refresh_qid(s, ctx);
	/* RFC 7208 section 9.1: at the top, above our own Received: */
	if (s->spf_done && cfg_of(s)->add_received_spf &&
	    mta_insheader(ctx, 0, "Received-SPF", s->spf.received_spf) !=
	    MI_SUCCESS)
		log_msg(LOG_WARNING, "%s could not add Received-SPF", s->qid);
	if (cfg_of(s)->mode != CONFIG_MODE_TAG ||
	    (s->tag_sender[0] == '\0' && s->tag_header[0] == '\0' &&
	    !s->spf_done))
		return SMFIS_CONTINUE;
	(void)snprintf(value, sizeof(value), "sender=%s; header_sender=%s",
	    s->tag_sender[0] != '\0' ? s->tag_sender : "none",
	    s->tag_header[0] != '\0' ? s->tag_header : "none");
	if (s->spf_done)
		tag_append_spf(value, sizeof(value), s->spf.result);
	if (mta_addheader(ctx, "X-Callout-Verify", value) != MI_SUCCESS)
		log_msg(LOG_WARNING, "%s could not add X-Callout-Verify",
		    s->qid);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	session *s = get_session(ctx);

	if (s != NULL)
		reset_transaction(s);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	session *s = get_session(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	(void)smfi_setpriv(ctx, NULL);
	free_headers(s);
	runtime_put(&s->rt);
	free(s);
	atomic_fetch_sub(&open_sessions, 1);
	return SMFIS_CONTINUE;
}

struct smfiDesc *
session_filter(void)
{
	static char name[] = "callout-milter";
	static struct smfiDesc desc = {
		.xxfi_name = name,
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST,
		.xxfi_connect = cb_connect,
		.xxfi_helo = cb_helo,
		.xxfi_envfrom = cb_envfrom,
		.xxfi_envrcpt = cb_envrcpt,
		.xxfi_header = cb_header,
		.xxfi_eoh = cb_eoh,
		.xxfi_eom = cb_eom,
		.xxfi_abort = cb_abort,
		.xxfi_close = cb_close,
		.xxfi_negotiate = cb_negotiate,
	};

	return &desc;
}
