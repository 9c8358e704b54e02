/*
 * verify.c - the callout: walk a domain's mail hosts and ask them whether
 * an address exists (DESIGN.md section 3).
 *
 * For each host address in turn, within one overall deadline: connect,
 * banner, EHLO (HELO on any non-2xx), MAIL FROM, RCPT TO, QUIT without
 * waiting.  Each host ends in one row of the outcome table; a row either
 * decides (verified, failed, probe refused, null sender refused) or
 * sends the walk on to the next host.  Running out of hosts or of time is
 * "unknown", never "failed": nothing temporary can turn into a rejection.
 *
 * Guarantees: the deadline is never overrun by more than the smtp
 * layer's poll granularity; nothing is sent to a host unless the address
 * parsed cleanly (no CR, LF or NUL can reach a command line); the result
 * always says where the walk stopped and what the remote side said.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "callout.h"
#include "smtp.h"
#include "util.h"

/* Room for a command line: "RCPT TO:<" local "@" domain ">" and more. */
#define CMD_MAX		(CV_LOCAL_MAX + CV_DOMAIN_MAX + 64)

/* How one host ended. */
typedef enum host_outcome {
	HOST_DECIDED,		/* result is final: stop the walk */
	HOST_NEXT,		/* unknown: try the next host */
} host_outcome;

/* The state of one callout, shared by the steps below. */
typedef struct probe {
	const cv_params *p;
	const cv_address *addr;
	int64_t deadline;
	cv_result *r;
	const cv_host *host;
	smtp_conn *conn;
	bool pipelining;
	char mail_cmd[CMD_MAX];
	char rcpt_addr[CV_LOCAL_MAX + CV_DOMAIN_MAX + 2]; /* for RCPT */
	bool need_utf8;			/* local part is not ASCII */
} probe;

void
cv_params_init(cv_params *p)
{
	memset(p, 0, sizeof(*p));
	p->connect_timeout_ms = 10000;
	p->command_timeout_ms = 10000;
	p->max_hosts = 5;
	p->port = 25;
}

static void
trace_note(const cv_params *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trace_note(const cv_params *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (p->trace == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->trace(p->trace_ctx, '#', line);
}

/* Record the verdict and class, and the "<mx> [<ip>] : " detail. */
static void
set_outcome(probe *pr, cv_verdict v, cv_class c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
set_outcome(probe *pr, cv_verdict v, cv_class c, const char *fmt, ...)
{
	cv_result *r = pr->r;
	va_list ap;
	size_t used;

	r->verdict = v;
	r->class_ = c;
	util_strlcpy(r->mx_name, pr->host->name, sizeof(r->mx_name));
	util_strlcpy(r->mx_ip, pr->host->ip, sizeof(r->mx_ip));
	(void)snprintf(r->message, sizeof(r->message), "%s [%s] : ",
	    pr->host->name, pr->host->ip);
	used = strlen(r->message);
	va_start(ap, fmt);
	(void)vsnprintf(r->message + used, sizeof(r->message) - used, fmt, ap);
	va_end(ap);
}

/* The deadline of one step: the per-command (or connect) timeout, cut by
 * the overall deadline. */
static int64_t
step_deadline(const probe *pr, unsigned timeout_ms)
{
	int64_t d = cv_now_ms() + timeout_ms;

	return d < pr->deadline ? d : pr->deadline;
}

/* A reply could not be had: timeout, EOF, garbage or an I/O error.
 * Always "next host".  what is the command it answered, as Exim names it
 * ("initial connection", "EHLO x", "MAIL FROM:<>"). */
static host_outcome
no_reply(probe *pr, smtp_status st, const char *what)
{
	switch (st) {
	case SMTP_TIMEOUT:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_TIMEOUT,
		    "SMTP timeout after %s%s", what,
		    cv_now_ms() >= pr->deadline ? " (deadline reached)" : "");
		break;
	case SMTP_EOF:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
		    "Remote host closed connection in response to %s", what);
		break;
	case SMTP_PROTO:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
		    "malformed SMTP reply in response to %s", what);
		break;
	case SMTP_IOERR:
	case SMTP_OK:
	default:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
		    "%s in response to %s", smtp_errno_text(errno), what);
		break;
	}
	return HOST_NEXT;
}

/* Keep what the remote side said, for replies and logs. */
static void
keep_reply(probe *pr, const char *sent, const smtp_reply *rep)
{
	util_strlcpy(pr->r->sent, sent, sizeof(pr->r->sent));
	util_strlcpy(pr->r->reply, rep->text, sizeof(pr->r->reply));
}

/* Enhanced status code class 5.7.x: a policy refusal of our probe. */
static bool
is_policy(const smtp_reply *rep)
{
	return strncmp(rep->enhanced, "5.7.", 4) == 0;
}

/* Send one command and read its reply. */
static smtp_status
command(probe *pr, const char *cmd, smtp_reply *rep)
{
	const char *lines[1] = { cmd };
	smtp_status st;

	util_strlcpy(pr->r->sent, cmd, sizeof(pr->r->sent));
	st = smtp_send(pr->conn, step_deadline(pr, pr->p->command_timeout_ms),
	    lines, 1);
	if (st != SMTP_OK)
		return st;
	return smtp_read_reply(pr->conn,
	    step_deadline(pr, pr->p->command_timeout_ms), rep);
}

/* Banner, then EHLO with a HELO fallback. */
static host_outcome
greet(probe *pr)
{
	smtp_reply rep;
	smtp_status st;
	char cmd[CMD_MAX];

	st = smtp_read_reply(pr->conn,
	    step_deadline(pr, pr->p->command_timeout_ms), &rep);
	if (st == SMTP_EOF || (st == SMTP_IOERR && errno == ECONNRESET)) {
		/* closed before the banner: a connection failure */
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_CONNECT,
		    "Remote host closed connection in response to initial "
		    "connection");
		return HOST_NEXT;
	}
	if (st != SMTP_OK)
		return no_reply(pr, st, "initial connection");
	if (rep.code / 100 != 2) {
		keep_reply(pr, "", &rep);
		if (rep.code / 100 == 5) {
			set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROBE_REFUSED,
			    "SMTP error from remote mail server after "
			    "initial connection: %s", rep.text);
			return HOST_DECIDED;
		}
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_BANNER,
		    "SMTP error from remote mail server after initial "
		    "connection: %s", rep.text);
		return HOST_NEXT;
	}

	(void)snprintf(cmd, sizeof(cmd), "EHLO %s", pr->p->helo);
	st = command(pr, cmd, &rep);
	if (st != SMTP_OK)
		return no_reply(pr, st, cmd);
	if (rep.code / 100 == 2) {
		pr->pipelining = smtp_reply_has_ext(&rep, "PIPELINING");
		if (pr->need_utf8 && !smtp_reply_has_ext(&rep, "SMTPUTF8")) {
			set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
			    "server does not offer SMTPUTF8 for a UTF-8 "
			    "local part");
			return HOST_NEXT;
		}
		return HOST_NEXT;	/* "go on" */
	}
	if (pr->need_utf8) {
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
		    "server does not offer SMTPUTF8 for a UTF-8 local part");
		return HOST_NEXT;
	}

	(void)snprintf(cmd, sizeof(cmd), "HELO %s", pr->p->helo);
	st = command(pr, cmd, &rep);
	if (st != SMTP_OK)
		return no_reply(pr, st, cmd);
	if (rep.code / 100 == 2)
		return HOST_NEXT;
	keep_reply(pr, cmd, &rep);
	if (rep.code / 100 == 5) {
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROBE_REFUSED,
		    "SMTP error from remote mail server after %s: %s", cmd,
		    rep.text);
		return HOST_DECIDED;
	}
	set_outcome(pr, CV_UNKNOWN, CV_CLASS_HELO,
	    "SMTP error from remote mail server after %s: %s", cmd, rep.text);
	return HOST_NEXT;
}

/* Judge the reply to MAIL FROM.  Returns true when the dialog goes on. */
static bool
judge_mail(probe *pr, const smtp_reply *rep, host_outcome *out_r)
{
	bool null_sender = pr->p->mail_from == NULL ||
	    pr->p->mail_from[0] == '\0';

	if (rep->code / 100 == 2)
		return true;
	keep_reply(pr, pr->mail_cmd, rep);
	if (rep->code / 100 == 5) {
		if (rep->code == 530 || is_policy(rep) || !null_sender)
			set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROBE_REFUSED,
			    "response to \"%s\" was: %s", pr->mail_cmd,
			    rep->text);
		else
			set_outcome(pr, CV_FAILED,
			    CV_CLASS_NULL_SENDER_REFUSED,
			    "response to \"%s\" was: %s", pr->mail_cmd,
			    rep->text);
		*out_r = HOST_DECIDED;
		return false;
	}
	set_outcome(pr, CV_UNKNOWN, CV_CLASS_MAIL,
	    "SMTP error from remote mail server after %s: %s", pr->mail_cmd,
	    rep->text);
	*out_r = HOST_NEXT;
	return false;
}

/*
 * MAIL FROM and RCPT TO for one recipient, pipelined when the server
 * offers it.  Returns with the outcome set (and *decided_r when it is
 * final) when MAIL was refused or a reply could not be had; else with
 * the class still CV_CLASS_NONE and *rcpt_r holding the RCPT reply.
 */
static host_outcome
transaction(probe *pr, const char *rcpt_cmd, bool *decided_r,
	    smtp_reply *rcpt_r)
{
	smtp_reply mail;
	smtp_status st;
	host_outcome out = HOST_NEXT;
	int64_t d;

	*decided_r = false;
	if (pr->pipelining) {
		const char *lines[2] = { pr->mail_cmd, rcpt_cmd };

		util_strlcpy(pr->r->sent, rcpt_cmd, sizeof(pr->r->sent));
		d = step_deadline(pr, pr->p->command_timeout_ms);
		st = smtp_send(pr->conn, d, lines, 2);
		if (st == SMTP_OK)
			st = smtp_read_reply(pr->conn, step_deadline(pr,
			    pr->p->command_timeout_ms), &mail);
		if (st != SMTP_OK)
			return no_reply(pr, st, pr->mail_cmd);
		/* A refused MAIL decides now: the RCPT reply that follows
		 * it is left unread (QUIT discards it), not waited for. */
		if (!judge_mail(pr, &mail, &out)) {
			*decided_r = out == HOST_DECIDED;
			return out;
		}
		st = smtp_read_reply(pr->conn,
		    step_deadline(pr, pr->p->command_timeout_ms), rcpt_r);
		if (st != SMTP_OK)
			return no_reply(pr, st, rcpt_cmd);
	} else {
		st = command(pr, pr->mail_cmd, &mail);
		if (st != SMTP_OK)
			return no_reply(pr, st, pr->mail_cmd);
		if (!judge_mail(pr, &mail, &out)) {
			*decided_r = out == HOST_DECIDED;
			return out;
		}
		st = command(pr, rcpt_cmd, rcpt_r);
		if (st != SMTP_OK)
			return no_reply(pr, st, rcpt_cmd);
	}
	util_strlcpy(pr->r->sent, rcpt_cmd, sizeof(pr->r->sent));
	return HOST_NEXT;
}

/* Judge a RCPT reply to the address itself. */
static host_outcome
judge_rcpt(probe *pr, const char *rcpt_cmd, const smtp_reply *rep)
{
	keep_reply(pr, rcpt_cmd, rep);
	switch (rep->code / 100) {
	case 2:
		set_outcome(pr, CV_VERIFIED, CV_CLASS_RCPT,
		    "%s accepted: %s", rcpt_cmd, rep->text);
		return HOST_DECIDED;
	case 5:
		set_outcome(pr, is_policy(rep) ? CV_UNKNOWN : CV_FAILED,
		    is_policy(rep) ? CV_CLASS_PROBE_REFUSED : CV_CLASS_RCPT,
		    "SMTP error from remote mail server after %s: %s",
		    rcpt_cmd, rep->text);
		return HOST_DECIDED;
	default:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_RCPT,
		    "SMTP error from remote mail server after %s: %s",
		    rcpt_cmd, rep->text);
		return HOST_NEXT;
	}
}

/* RSET between two transactions on one connection. */
static bool
reset(probe *pr)
{
	smtp_reply rep;
	smtp_status st = command(pr, "RSET", &rep);

	if (st != SMTP_OK) {
		(void)no_reply(pr, st, "RSET");
		return false;
	}
	if (rep.code / 100 != 2) {
		keep_reply(pr, "RSET", &rep);
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_PROTOCOL,
		    "SMTP error from remote mail server after RSET: %s",
		    rep.text);
		return false;
	}
	return true;
}

/* A random local part nobody has: "callout-<12 hex>-testing". */
static void
random_local(char *buf, size_t size)
{
	unsigned char b[6];
	size_t i;

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		uint64_t t = (uint64_t)cv_now_ms() * 2654435761u;

		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(t >> (8 * i));
	}
	(void)snprintf(buf, size, "callout-%02x%02x%02x%02x%02x%02x-testing",
	    b[0], b[1], b[2], b[3], b[4], b[5]);
}

/*
 * The catch-all probe: a random local part first.  Returns HOST_DECIDED
 * when it settled the matter (accepted: catch-all), HOST_NEXT with
 * *go_on_r set when the real address should be probed next.
 */
static host_outcome
probe_random(probe *pr, bool *go_on_r)
{
	char local[CV_LOCAL_MAX + 1];
	char cmd[CMD_MAX];
	smtp_reply rep;
	bool decided;
	host_outcome out;

	*go_on_r = false;
	random_local(local, sizeof(local));
	(void)snprintf(cmd, sizeof(cmd), "RCPT TO:<%s@%s>", local,
	    pr->addr->ascii_domain);
	out = transaction(pr, cmd, &decided, &rep);
	if (decided || pr->r->class_ != CV_CLASS_NONE)
		return out;
	keep_reply(pr, cmd, &rep);
	switch (rep.code / 100) {
	case 2:
		set_outcome(pr, CV_VERIFIED, CV_CLASS_CATCH_ALL,
		    "%s accepted: the domain accepts any local part", cmd);
		return HOST_DECIDED;
	case 5:
		if (!reset(pr))
			return HOST_NEXT;
		*go_on_r = true;
		return HOST_NEXT;
	default:
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_RCPT,
		    "SMTP error from remote mail server after %s: %s", cmd,
		    rep.text);
		return HOST_NEXT;
	}
}

/* After a verified address: postmaster@domain must be accepted too. */
static host_outcome
probe_postmaster(probe *pr)
{
	char cmd[CMD_MAX];
	cv_result keep = *pr->r;
	smtp_reply rep;
	bool decided;
	host_outcome out;

	if (!reset(pr))
		return HOST_NEXT;
	pr->r->class_ = CV_CLASS_NONE;
	(void)snprintf(cmd, sizeof(cmd), "RCPT TO:<postmaster@%s>",
	    pr->addr->ascii_domain);
	out = transaction(pr, cmd, &decided, &rep);
	if (decided || pr->r->class_ != CV_CLASS_NONE)
		return out;
	switch (rep.code / 100) {
	case 2:
		*pr->r = keep;
		return HOST_DECIDED;
	case 5:
		keep_reply(pr, cmd, &rep);
		set_outcome(pr, CV_FAILED, CV_CLASS_POSTMASTER,
		    "SMTP error from remote mail server after %s: %s", cmd,
		    rep.text);
		return HOST_DECIDED;
	default:
		keep_reply(pr, cmd, &rep);
		set_outcome(pr, CV_UNKNOWN, CV_CLASS_RCPT,
		    "SMTP error from remote mail server after %s: %s", cmd,
		    rep.text);
		return HOST_NEXT;
	}
}

/* The dialog with one connected host. */
static host_outcome
dialog(probe *pr)
{
	char rcpt_cmd[CMD_MAX];
	smtp_reply rep;
	host_outcome out;
	bool decided, go_on = true;

	out = greet(pr);
	if (pr->r->class_ != CV_CLASS_NONE)
		return out;
	if (pr->p->random) {
		out = probe_random(pr, &go_on);
		if (!go_on)
			return out;
	}
	(void)snprintf(rcpt_cmd, sizeof(rcpt_cmd), "RCPT TO:<%s>",
	    pr->rcpt_addr);
	out = transaction(pr, rcpt_cmd, &decided, &rep);
	if (decided || pr->r->class_ != CV_CLASS_NONE)
		return out;
	out = judge_rcpt(pr, rcpt_cmd, &rep);
	if (pr->r->verdict == CV_VERIFIED && pr->p->postmaster)
		return probe_postmaster(pr);
	return out;
}

/* Connect to one host address and run the dialog. */
static host_outcome
call_host(probe *pr)
{
	struct sockaddr_storage sa;
	host_outcome out;
	smtp_status st;
	int err = 0;

	memcpy(&sa, &pr->host->addr, sizeof(sa));
	trace_note(pr->p, "connecting to %s [%s]:%u", pr->host->name,
	    pr->host->ip, pr->p->port);
	st = smtp_connect(pr->p, (struct sockaddr *)&sa, pr->host->addrlen,
	    step_deadline(pr, pr->p->connect_timeout_ms), &pr->conn, &err);
	if (st != SMTP_OK) {
		set_outcome(pr, CV_UNKNOWN, st == SMTP_TIMEOUT ?
		    CV_CLASS_TIMEOUT : CV_CLASS_CONNECT, "%s",
		    st == SMTP_TIMEOUT ? "Connection timed out" :
		    smtp_errno_text(err));
		trace_note(pr->p, "%s", pr->r->message);
		return HOST_NEXT;
	}
	pr->pipelining = false;
	pr->r->class_ = CV_CLASS_NONE;
	out = dialog(pr);
	/* QUIT only where the dialog is in step; after a timeout or
	 * garbage the connection is just closed (as Exim does). */
	if (pr->r->class_ == CV_CLASS_TIMEOUT ||
	    pr->r->class_ == CV_CLASS_PROTOCOL ||
	    pr->r->class_ == CV_CLASS_CONNECT)
		smtp_close(&pr->conn);
	else
		smtp_quit_close(&pr->conn);
	return out;
}

/*
 * An address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") names its one
 * host; the reserved-range rule applies to it as to any MX target.
 */
static void
literal_host(const char *domain, const cv_netlist *allow, cv_hostlist *list)
{
	char text[CV_DOMAIN_MAX + 1];
	cv_host *h = &list->hosts[0];
	const char *ip;
	size_t len = strlen(domain);

	memset(list, 0, sizeof(*list));
	list->status = CV_DNS_NOHOSTS;
	util_strlcpy(list->message, "invalid address literal",
	    sizeof(list->message));
	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
		return;
	util_strlcpy(text, domain + 1, sizeof(text));
	text[len - 2] = '\0';
	ip = text;
	memset(h, 0, sizeof(*h));
	if (strncasecmp(ip, "IPv6:", 5) == 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->addr;

		ip += 5;
		if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
			return;
		sin6->sin6_family = AF_INET6;
		h->addrlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&h->addr;

		if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
			return;
		sin->sin_family = AF_INET;
		h->addrlen = sizeof(*sin);
	}
	util_strlcpy(h->name, domain, sizeof(h->name));
	util_strlcpy(h->ip, ip, sizeof(h->ip));
	if (cv_addr_reserved((struct sockaddr *)&h->addr) &&
	    (allow == NULL || !cv_netlist_match(allow,
	    (struct sockaddr *)&h->addr))) {
		list->skipped = 1;
		util_strlcpy(list->message,
		    "all relevant MX records point to non-existent hosts",
		    sizeof(list->message));
		return;
	}
	list->status = CV_DNS_OK;
	list->count = 1;
	list->message[0] = '\0';
}

/* Fill the result for a domain that DNS already settled. */
static cv_verdict
dns_outcome(cv_result *r, const cv_hostlist *hosts)
{
	r->class_ = CV_CLASS_DNS;
	r->dns = hosts->status;
	r->verdict = hosts->status == CV_DNS_TEMP ? CV_UNKNOWN : CV_FAILED;
	util_strlcpy(r->message, hosts->message, sizeof(r->message));
	return r->verdict;
}

/* The walk over the hosts. */
static void
walk(probe *pr, const cv_hostlist *hosts)
{
	size_t i;
	bool decided;

	for (i = 0; i < hosts->count; i++) {
		if (pr->r->hosts_tried >= pr->p->max_hosts) {
			trace_note(pr->p, "CalloutMaxHosts (%u) reached",
			    pr->p->max_hosts);
			break;
		}
		if (cv_now_ms() >= pr->deadline) {
			if (pr->r->class_ == CV_CLASS_NONE) {
				pr->host = &hosts->hosts[i];
				set_outcome(pr, CV_UNKNOWN, CV_CLASS_TIMEOUT,
				    "deadline reached before the callout");
			}
			if (strstr(pr->r->message, "(deadline reached)") ==
			    NULL)
				util_appendf(pr->r->message,
				    sizeof(pr->r->message),
				    " (deadline reached)");
			break;
		}
		pr->host = &hosts->hosts[i];
		if (pr->p->gate != NULL &&
		    !pr->p->gate(pr->p->gate_ctx, pr->host, true)) {
			set_outcome(pr, CV_UNKNOWN, CV_CLASS_LIMIT,
			    "held back: too many connections to this host");
			trace_note(pr->p, "%s", pr->r->message);
			continue;
		}
		pr->r->hosts_tried++;
		decided = call_host(pr) == HOST_DECIDED;
		if (pr->p->gate != NULL)
			(void)pr->p->gate(pr->p->gate_ctx, pr->host, false);
		if (decided)
			return;
	}
}

/*
 * The address as RCPT TO gives it: an ASCII local part goes with the
 * A-label domain, so any server understands it; a UTF-8 local part needs
 * SMTPUTF8 (RFC 6531) and keeps the U-label domain.
 */
static void
set_rcpt_addr(probe *pr)
{
	const unsigned char *s;

	pr->need_utf8 = false;
	for (s = (const unsigned char *)pr->addr->local; *s != '\0'; s++)
		if (*s >= 0x80)
			pr->need_utf8 = true;
	(void)snprintf(pr->rcpt_addr, sizeof(pr->rcpt_addr), "%s@%s",
	    pr->addr->local, pr->need_utf8 ? pr->addr->domain :
	    pr->addr->ascii_domain);
}

/* Refuse what must never reach a command line: CR, LF, NUL and other
 * controls in the HELO name or the probe sender. */
static bool
params_sane(const cv_params *p, char *why, size_t size)
{
	const char *s;

	if (p->helo == NULL || p->helo[0] == '\0' || p->resolver == NULL) {
		(void)snprintf(why, size, "callout parameters incomplete");
		return false;
	}
	for (s = p->helo; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f) {
			(void)snprintf(why, size, "bad HELO name");
			return false;
		}
	for (s = p->mail_from != NULL ? p->mail_from : ""; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f) {
			(void)snprintf(why, size, "bad callout sender");
			return false;
		}
	return true;
}

cv_verdict
cv_verify(const cv_params *p, const cv_address *addr, int64_t deadline,
	  cv_result *result_r)
{
	cv_hostlist *hosts;
	probe pr;
	int64_t start = cv_now_ms();

	memset(result_r, 0, sizeof(*result_r));
	result_r->verdict = CV_UNKNOWN;
	result_r->class_ = CV_CLASS_LOCAL;
	if (!params_sane(p, result_r->message, sizeof(result_r->message)))
		return CV_UNKNOWN;
	if (addr->null || addr->unqualified || addr->address[0] == '\0') {
		(void)snprintf(result_r->message, sizeof(result_r->message),
		    "no address to verify");
		return CV_UNKNOWN;
	}
	/* cv_hostlist is large: keep it off small thread stacks. */
	hosts = calloc(1, sizeof(*hosts));
	if (hosts == NULL) {
		(void)snprintf(result_r->message, sizeof(result_r->message),
		    "out of memory");
		return CV_UNKNOWN;
	}
	result_r->class_ = CV_CLASS_NONE;

	if (addr->literal)
		literal_host(addr->domain, p->allow_networks, hosts);
	else
		(void)cv_dns_hosts(p->resolver, addr->ascii_domain,
		    p->allow_networks, deadline, p->trace, p->trace_ctx, hosts);
	if (hosts->status != CV_DNS_OK) {
		(void)dns_outcome(result_r, hosts);
	} else {
		memset(&pr, 0, sizeof(pr));
		pr.p = p;
		pr.addr = addr;
		pr.deadline = deadline;
		pr.r = result_r;
		set_rcpt_addr(&pr);
		(void)snprintf(pr.mail_cmd, sizeof(pr.mail_cmd),
		    "MAIL FROM:<%s>%s", p->mail_from != NULL ? p->mail_from :
		    "", pr.need_utf8 ? " SMTPUTF8" : "");
		walk(&pr, hosts);
		if (result_r->class_ == CV_CLASS_NONE) {
			/* hosts existed but none was tried */
			result_r->verdict = CV_UNKNOWN;
			result_r->class_ = CV_CLASS_LOCAL;
			(void)snprintf(result_r->message,
			    sizeof(result_r->message), "no host tried");
		}
	}
	free(hosts);
	result_r->elapsed_ms = cv_now_ms() - start;
	trace_note(p, "verdict %s (%s): %s", cv_verdict_name(result_r->verdict),
	    cv_class_name(result_r->class_), result_r->message);
	return result_r->verdict;
}
