/*
 * spf.c - SPF for the milter without libspf2 in the daemon: result names,
 * the policy map and the Received-SPF value.
 *
 * The pool of helper processes is in spf_pool.c, the evaluation itself
 * in spf_eval.c (helpers and the callout command only).
 *
 * Guarantees: the policy never turns temperror (or a value it does not
 * know) into a rejection; the Received-SPF value is one printable line
 * that fits SPF_HEADER_MAX.  Pure functions, no allocation.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "spf.h"
#include "spf_proto.h"

static const char *const result_names[] = {
    [SPFR_NONE] = "none",           [SPFR_NEUTRAL] = "neutral",
    [SPFR_PASS] = "pass",           [SPFR_FAIL] = "fail",
    [SPFR_SOFTFAIL] = "softfail",   [SPFR_TEMPERROR] = "temperror",
    [SPFR_PERMERROR] = "permerror",
};

static const char *const action_names[] = {
    [SPF_ACTION_VERIFY] = "verify",
    [SPF_ACTION_SKIP] = "skip",
    [SPF_ACTION_REJECT] = "reject",
    [SPF_ACTION_DEFER] = "defer",
};

const char *
spf_result_name(spf_result r)
{
	if ((unsigned)r > SPFR_PERMERROR)
		return "temperror";
	return result_names[r];
}

const char *
spf_action_name(spf_action a)
{
	if ((unsigned)a > SPF_ACTION_DEFER)
		return "defer";
	return action_names[a];
}

spf_action
spf_policy(const struct config *cfg, spf_result r)
{
	switch (r) {
	case SPFR_PASS:
		return cfg->spf_pass == CONFIG_SPF_PASS_SKIP
		           ? SPF_ACTION_SKIP
		           : SPF_ACTION_VERIFY;
	case SPFR_FAIL:
		/* SPFFail ignore: as if there were no SPF, i.e. verify */
		return cfg->spf_fail == CONFIG_SPF_FAIL_REJECT
		           ? SPF_ACTION_REJECT
		           : SPF_ACTION_VERIFY;
	case SPFR_NONE:
	case SPFR_NEUTRAL:
	case SPFR_SOFTFAIL:
	case SPFR_PERMERROR:
		return SPF_ACTION_VERIFY;
	default:
		/* temperror and anything unknown: never a rejection */
		return SPF_ACTION_DEFER;
	}
}

reply_action
spf_reply_action(spf_action a)
{
	if (a == SPF_ACTION_REJECT)
		return REPLY_REJECT;
	if (a == SPF_ACTION_DEFER)
		return REPLY_TEMPFAIL;
	return REPLY_CONTINUE;
}

bool
spf_sender_text(const cv_address *sender, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return false;
	if (sender == NULL || sender->null || sender->address[0] == '\0') {
		buf[0] = '\0';
		return true;
	}
	n = snprintf(buf, size, "%s@%s", sender->local, sender->ascii_domain);
	return n >= 0 && (size_t)n < size;
}

/* ------------------------------------------------------------------ */
/* Received-SPF                                                        */
/* ------------------------------------------------------------------ */

/* Printable, and no '(' ')' '\' that would break a comment. */
static void
spf_comment_safe(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '(' || *s == ')' || *s == '\\')
			*s = '?';
}

/* A value as a dot-atom when it is one (LDH and dots), else quoted. */
static void
spf_header_value(char *dst, size_t size, const char *text, bool quote)
{
	size_t n = 0, len = strlen(text);
	bool atom = !quote && len > 0 && text[0] != '.' &&
	            text[len - 1] != '.' && strstr(text, "..") == NULL;

	for (size_t i = 0; atom && i < len; i++) {
		char c = text[i];

		atom = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		       c == '_';
	}
	if (atom) {
		(void)snprintf(dst, size, "%s", text);
		return;
	}
	if (size < 3) {
		dst[0] = '\0';
		return;
	}
	dst[n++] = '"';
	for (size_t i = 0; i < len && n + 3 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"' || c == '\\')
			dst[n++] = '\\';
		dst[n++] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

/* Append piece whole, or not at all. */
static void
spf_header_add(char *buf, size_t size, const char *piece)
{
	size_t len = strlen(buf), n = strlen(piece);

	if (len + n < size)
		memcpy(buf + len, piece, n + 1);
}

static void
spf_header_pair(char *buf, size_t size, const char *key, const char *value,
                bool quote)
{
	char v[SPF_HEADER_MAX], piece[SPF_HEADER_MAX + 32];

	spf_header_value(v, sizeof(v), value, quote);
	(void)snprintf(piece, sizeof(piece), " %s=%s;", key, v);
	spf_header_add(buf, size, piece);
}

static void
spf_header_comment(spf_result r, const char *receiver, const char *domain,
                   const char *ip, char *buf, size_t size)
{
	char text[SPF_HEADER_MAX], safe[SPF_HEADER_MAX];
	char piece[SPF_HEADER_MAX + 4];
	const char *fmt;

	switch (r) {
	case SPFR_PASS:
		fmt = "domain of %s designates %s as permitted sender";
		break;
	case SPFR_FAIL:
		fmt = "domain of %s does not designate %s as permitted sender";
		break;
	case SPFR_SOFTFAIL:
		fmt = "domain of transitioning %s does not designate %s as "
		      "permitted sender";
		break;
	case SPFR_NEUTRAL:
		fmt = "%2$s is neither permitted nor denied by domain of %1$s";
		break;
	case SPFR_NONE:
		fmt = "domain of %s does not provide an SPF record%.0s";
		break;
	case SPFR_PERMERROR:
		fmt = "permanent error in processing domain of %s%.0s";
		break;
	default:
		fmt = "temporary error in processing domain of %s%.0s";
		break;
	}
	/* the formats are ours, chosen above */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	(void)snprintf(text, sizeof(text), fmt, domain, ip);
#pragma GCC diagnostic pop
	if (receiver[0] != '\0') {
		char tmp[SPF_HEADER_MAX + CV_DOMAIN_MAX + 4];

		(void)snprintf(tmp, sizeof(tmp), "%s: %s", receiver, text);
		spf_proto_printable(safe, sizeof(safe), tmp);
	} else {
		spf_proto_printable(safe, sizeof(safe), text);
	}
	spf_comment_safe(safe);
	(void)snprintf(piece, sizeof(piece), " (%s)", safe);
	spf_header_add(buf, size, piece);
}

void
spf_received_value(spf_result r, const char *receiver, const char *client_ip,
                   const char *helo, const char *sender, const char *problem,
                   char *buf, size_t size)
{
	const char *at, *domain;
	bool null;

	if (size == 0)
		return;
	receiver = receiver != NULL ? receiver : "";
	client_ip = client_ip != NULL ? client_ip : "";
	helo = helo != NULL ? helo : "";
	sender = sender != NULL ? sender : "";
	null = sender[0] == '\0';
	at = strrchr(sender, '@');
	domain = null ? helo : at != NULL ? at + 1 : sender;
	if (domain[0] == '\0')
		domain = "unknown";
	(void)snprintf(buf, size, "%s", spf_result_name(r));
	spf_header_comment(r, receiver, domain, client_ip, buf, size);
	spf_header_pair(buf, size, "client-ip", client_ip, false);
	if (!null)
		spf_header_pair(buf, size, "envelope-from", sender, true);
	if (helo[0] != '\0')
		spf_header_pair(buf, size, "helo", helo, false);
	if (receiver[0] != '\0')
		spf_header_pair(buf, size, "receiver", receiver, false);
	if ((r == SPFR_PERMERROR || r == SPFR_TEMPERROR) && problem != NULL &&
	    problem[0] != '\0')
		spf_header_pair(buf, size, "problem", problem, true);
	spf_header_pair(buf, size, "identity", null ? "helo" : "mailfrom",
	                false);
}

void
spf_answer_line(const spf_answer *a, char *buf, size_t size)
{
	const char *detail =
	    a->result == SPFR_FAIL ? a->explanation : a->problem;

	if (size == 0)
		return;
	if (detail[0] != '\0')
		(void)snprintf(buf, size, "SPF: %s: %s",
		               spf_result_name(a->result), detail);
	else
		(void)snprintf(buf, size, "SPF: %s",
		               spf_result_name(a->result));
}
