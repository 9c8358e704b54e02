/*
 * test-spf.c - SPF evaluation (milter/spf_eval.c, libspf2 through our
 * DNS layer) with answers injected through the resolver's query hook,
 * one fake TXT zone for every result: pass, fail with and without exp=,
 * softfail, neutral, none, permerror (syntax, more than 10 DNS terms
 * also across includes, more than 2 void lookups, bad macros), temperror
 * (SERVFAIL), include, redirect, mx, IPv6 clients, the null sender.
 * Then the pure parts: the policy map, Received-SPF, reply_for_spf and
 * logline_spf.  No network.
 */
#include "config.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callout.h"
#include "dnsmsg.h"
#include "logline.h"
#include "reply.h"
#include "spf.h"
#include "spf_eval.h"
#include "tap.h"

typedef struct trec {
	const char *owner;
	int type;		/* ns_t_txt, ns_t_a, ns_t_aaaa, ns_t_mx */
	const char *data;	/* TXT: strings split at "|" */
	bool servfail;		/* (owner, type) answers SERVFAIL */
} trec;

#define TXT(o, d) {o, ns_t_txt, d, false}
#define A(o, d) {o, ns_t_a, d, false}
#define AAAA(o, d) {o, ns_t_aaaa, d, false}
#define MX(o, d) {o, ns_t_mx, d, false}
#define Z_SF(o, t) {o, t, NULL, true}

static const trec zone_recs[] = {
	TXT("pass.example", "v=spf1 ip4:192.0.2.0/24 -all"),
	TXT("pass.example", "google-site-verification=abc"),
	TXT("fail.example", "v=spf1 ip4:198.51.100.1 -all"),
	TXT("exp.example", "v=spf1 -all exp=why.exp.example"),
	TXT("why.exp.example", "%{i} may not send mail for %{d}|, ask %{l}"),
	TXT("badexp.example", "v=spf1 -all exp=why.badexp.example"),
	TXT("why.badexp.example", "%{x} bad"),
	TXT("soft.example", "v=spf1 ~all"),
	TXT("neutral.example", "v=spf1 ?all"),
	TXT("bare.example", "v=spf1"),
	A("nospf.example", "192.0.2.1"),
	TXT("other.example", "v=spf10 -all"),
	TXT("syntax.example", "v=spf1 ip4:300.1.1.1 -all"),
	TXT("two.example", "v=spf1 -all"),
	TXT("two.example", "v=spf1 +all"),
	/* 11 terms in one record, and 10 */
	TXT("terms11.example", "v=spf1 a:h1.example a:h2.example "
	    "a:h3.example a:h4.example a:h5.example a:h6.example "
	    "a:h7.example a:h8.example a:h9.example a:h10.example "
	    "a:h11.example -all"),
	TXT("terms10.example", "v=spf1 a:h1.example a:h2.example "
	    "a:h3.example a:h4.example a:h5.example a:h6.example "
	    "a:h7.example a:h8.example a:h9.example a:h10.example -all"),
	/* 12 terms over two includes: libspf2 alone counts 2, 5 and 5 */
	TXT("incterms.example", "v=spf1 include:i1.example "
	    "include:i2.example -all"),
	TXT("i1.example", "v=spf1 a:h1.example a:h2.example a:h3.example "
	    "a:h4.example a:h5.example -all"),
	TXT("i2.example", "v=spf1 a:h6.example a:h7.example a:h8.example "
	    "a:h9.example a:h10.example -all"),
	A("h1.example", "203.0.113.1"), A("h2.example", "203.0.113.2"),
	A("h3.example", "203.0.113.3"), A("h4.example", "203.0.113.4"),
	A("h5.example", "203.0.113.5"), A("h6.example", "203.0.113.6"),
	A("h7.example", "203.0.113.7"), A("h8.example", "203.0.113.8"),
	A("h9.example", "203.0.113.9"), A("h10.example", "203.0.113.10"),
	A("h11.example", "203.0.113.11"),
	/* void lookups */
	TXT("void3.example", "v=spf1 a:v1.example a:v2.example "
	    "mx:v3.example -all"),
	TXT("void2.example", "v=spf1 a:v1.example a:v2.example -all"),
	/* temperror */
	Z_SF("sf.example", ns_t_txt),
	TXT("sfa.example", "v=spf1 a:broken.sfa.example -all"),
	Z_SF("broken.sfa.example", ns_t_a),
	/* include and redirect */
	TXT("inc.example", "v=spf1 include:_spf.inc.example -all"),
	TXT("_spf.inc.example", "v=spf1 ip4:192.0.2.10 -all"),
	TXT("incnone.example", "v=spf1 include:nothing.example -all"),
	TXT("red.example", "v=spf1 redirect=_spf.red.example"),
	TXT("_spf.red.example", "v=spf1 ip4:192.0.2.10 ~all"),
	/* mx: the addresses of MX targets are not terms of their own */
	TXT("mx.example", "v=spf1 mx a:h1.example a:h2.example "
	    "a:h3.example a:h4.example a:h5.example a:h6.example "
	    "a:h7.example a:h8.example a:h9.example -all"),
	MX("mx.example", "mx1.mx.example"),
	MX("mx.example", "mx2.mx.example"),
	MX("mx.example", "mx3.mx.example"),
	A("mx1.mx.example", "198.51.100.1"),
	A("mx2.mx.example", "198.51.100.2"),
	A("mx3.mx.example", "192.0.2.77"),
	/* IPv6 */
	TXT("v6.example", "v=spf1 ip6:2001:db8::/32 a:host6.v6.example -all"),
	AAAA("host6.v6.example", "2001:db9::5"),
	/* bad macros: in the record, in an included record */
	TXT("cve.example", "v=spf1 exists:%{l999999999r}.cve.example -all"),
	TXT("cveinc.example", "v=spf1 include:cve2.example ~all"),
	TXT("cve2.example", "v=spf1 a:%{q}.cve2.example -all"),
	/* a record split over two strings */
	TXT("split.example", "v=spf1 ip4:192.0.2.0/24 |-all"),
	/* the HELO identity */
	TXT("helo.example", "v=spf1 a -all"),
	A("helo.example", "192.0.2.10"),
};

static unsigned queries, type99;

static void
zone_txt(dmsg *m, const char *owner, const char *data)
{
	size_t off = dmsg_rr_begin(m, owner, ns_t_txt);

	while (*data != '\0') {
		size_t n = strcspn(data, "|");
		unsigned char len = (unsigned char)(n > 255 ? 255 : n);

		dmsg_put(m, &len, 1);
		dmsg_put(m, data, len);
		data += n;
		if (*data == '|')
			data++;
	}
	dmsg_rr_end(m, off);
}

static int
zone_query(void *ctx, const char *name, int type, unsigned char *answer,
	   size_t size, cv_dns_status *status_r)
{
	dmsg m;
	bool exists = false;

	(void)ctx;
	(void)status_r;
	queries++;
	if (type == 99)
		type99++;
	dmsg_start(&m, 1, DMSG_QR | DMSG_RD | DMSG_RA, name, type);
	for (size_t i = 0; i < sizeof(zone_recs) / sizeof(zone_recs[0]); i++) {
		const trec *r = &zone_recs[i];

		if (strcasecmp(r->owner, name) != 0)
			continue;
		exists = true;
		if (r->type != type)
			continue;
		if (r->servfail) {
			dmsg_set16(&m, 2, DMSG_QR | DMSG_RD | DMSG_RA |
				   ns_r_servfail);
			break;
		}
		if (type == ns_t_txt)
			zone_txt(&m, r->owner, r->data);
		else if (type == ns_t_mx)
			dmsg_mx(&m, r->owner, 10, r->data);
		else
			dmsg_addr(&m, r->owner, r->data);
	}
	if (!exists)
		dmsg_set16(&m, 2, DMSG_QR | DMSG_RD | DMSG_RA | ns_r_nxdomain);
	if (m.len > size)
		return -1;
	memcpy(answer, m.buf, m.len);
	return (int)m.len;
}

static cv_resolver *res;
static spf_evaluator *ev;

typedef struct ecase {
	const char *ip;
	const char *sender;	/* "" for the null sender */
	const char *helo;
	spf_result want;
	const char *explanation;	/* exact, for fail */
	const char *problem;		/* prefix, for the errors */
	const char *name;
} ecase;

static const ecase cases[] = {
	{"192.0.2.10", "user@pass.example", "mail.client.example", SPFR_PASS,
	 "", "", "pass: ip4 matches"},
	{"192.0.2.10", "user@fail.example", "mail.client.example", SPFR_FAIL,
	 "", "", "fail without exp=: no explanation"},
	{"192.0.2.10", "jo@exp.example", "mail.client.example", SPFR_FAIL,
	 "192.0.2.10 may not send mail for exp.example, ask jo", "",
	 "fail with exp=: the domain's text, macros expanded"},
	{"192.0.2.10", "jo@badexp.example", "h.example", SPFR_FAIL, "", "",
	 "fail, exp= text with a bad macro is not used"},
	{"192.0.2.10", "user@soft.example", "h.example", SPFR_SOFTFAIL, "",
	 "", "softfail"},
	{"192.0.2.10", "user@neutral.example", "h.example", SPFR_NEUTRAL, "",
	 "", "neutral"},
	{"192.0.2.10", "user@bare.example", "h.example", SPFR_NEUTRAL, "", "",
	 "neutral: a record of just v=spf1"},
	{"192.0.2.10", "user@nospf.example", "h.example", SPFR_NONE, "", "",
	 "none: no TXT record"},
	{"192.0.2.10", "user@nxdomain.example", "h.example", SPFR_NONE, "",
	 "", "none: NXDOMAIN"},
	{"192.0.2.10", "user@other.example", "h.example", SPFR_NONE, "", "",
	 "none: v=spf10 is not SPF"},
	{"192.0.2.10", "user@[192.0.2.1]", "h.example", SPFR_NONE, "", "",
	 "none: an address literal"},
	{"192.0.2.10", "user@syntax.example", "h.example", SPFR_PERMERROR, "",
	 "", "permerror: syntax error"},
	{"192.0.2.10", "user@two.example", "h.example", SPFR_PERMERROR, "",
	 "", "permerror: two records"},
	{"192.0.2.10", "user@terms11.example", "h.example", SPFR_PERMERROR,
	 "", "more than 10 DNS-querying terms",
	 "permerror: 11 DNS terms in one record"},
	{"192.0.2.10", "user@terms10.example", "h.example", SPFR_FAIL, "", "",
	 "fail: 10 DNS terms are allowed"},
	{"192.0.2.10", "user@incterms.example", "h.example", SPFR_PERMERROR,
	 "", "more than 10 DNS-querying terms",
	 "permerror: 12 DNS terms over two includes"},
	{"192.0.2.10", "user@void3.example", "h.example", SPFR_PERMERROR, "",
	 "more than 2 void lookups", "permerror: 3 void lookups"},
	{"192.0.2.10", "user@void2.example", "h.example", SPFR_FAIL, "", "",
	 "fail: 2 void lookups are allowed"},
	{"192.0.2.10", "user@sf.example", "h.example", SPFR_TEMPERROR, "",
	 "DNS lookup did not complete", "temperror: SERVFAIL on the record"},
	{"192.0.2.10", "user@sfa.example", "h.example", SPFR_TEMPERROR, "",
	 "DNS lookup did not complete", "temperror: SERVFAIL on an a: term"},
	{"192.0.2.10", "user@inc.example", "h.example", SPFR_PASS, "", "",
	 "include: pass"},
	{"192.0.2.99", "user@inc.example", "h.example", SPFR_FAIL, "", "",
	 "include: no match, fail"},
	{"192.0.2.10", "user@incnone.example", "h.example", SPFR_PERMERROR,
	 "", "", "include of a domain without SPF: permerror"},
	{"192.0.2.10", "user@red.example", "h.example", SPFR_PASS, "", "",
	 "redirect: pass"},
	{"192.0.2.99", "user@red.example", "h.example", SPFR_SOFTFAIL, "", "",
	 "redirect: the target's softfail"},
	{"192.0.2.77", "user@mx.example", "h.example", SPFR_PASS, "", "",
	 "mx: third MX target matches, 10 terms with 13 queries"},
	{"2001:db8::25", "user@v6.example", "h.example", SPFR_PASS, "", "",
	 "IPv6: ip6 matches"},
	{"2001:db9::5", "user@v6.example", "h.example", SPFR_PASS, "", "",
	 "IPv6: a: matches an AAAA record"},
	{"2001:db9::6", "user@v6.example", "h.example", SPFR_FAIL, "", "",
	 "IPv6: no match, fail"},
	{"2001:db8::25", "user@pass.example", "h.example", SPFR_FAIL, "", "",
	 "IPv6 client, an IPv4-only record: fail"},
	{"192.0.2.10", "user@cve.example", "h.example", SPFR_PERMERROR, "",
	 "bad macro (overlong macro digits at offset 14) in SPF record of "
	 "cve.example", "permerror: CVE-2023-42118 macro, refused"},
	{"192.0.2.10", "user@cveinc.example", "h.example", SPFR_PERMERROR, "",
	 "bad macro (unknown macro letter", "permerror: bad macro included"},
	{"192.0.2.10", "user@split.example", "h.example", SPFR_PASS, "", "",
	 "a record in two strings is joined"},
	{"192.0.2.10", "", "helo.example", SPFR_PASS, "", "",
	 "null sender: the HELO identity passes"},
	{"192.0.2.11", "", "helo.example", SPFR_FAIL, "", "",
	 "null sender: the HELO identity fails"},
	{"192.0.2.10", "", "", SPFR_NONE, "", "",
	 "null sender, no HELO: none"},
};

static void
run_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const ecase *c = &cases[i];
		spf_answer a;

		(void)spf_evaluator_check(ev, c->ip, c->helo, c->sender,
					  cv_now_ms() + 5000, &a);
		tap_is_str(spf_result_name(a.result), spf_result_name(c->want),
			   c->name);
		tap_is_str(a.explanation, c->explanation, "  explanation");
		if (!tap_ok(strncmp(a.problem, c->problem,
				    strlen(c->problem)) == 0,
			    "  problem \"%s\"", c->problem))
			tap_diag("  got: \"%s\"", a.problem);
		if (getenv("SPF_TEST_VERBOSE") != NULL)
			tap_diag("%s | %s", a.problem, a.received_spf);
	}
}

/* Exact values, query counts, the deadline. */
static void
run_extra(void)
{
	spf_answer a;
	unsigned before;
	char line[SPF_EXPLANATION_MAX + 32];

	tap_is_int(type99, 0, "type 99 (SPF) is never asked");
	(void)spf_evaluator_check(ev, "192.0.2.10", "mail.client.example",
				  "user@pass.example", cv_now_ms() + 5000, &a);
	tap_is_str(a.received_spf,
		   "pass (mx.receiver.example: domain of pass.example "
		   "designates 192.0.2.10 as permitted sender) "
		   "client-ip=192.0.2.10; envelope-from=\"user@pass.example\"; "
		   "helo=mail.client.example; receiver=mx.receiver.example; "
		   "identity=mailfrom;", "Received-SPF value for a pass");
	before = queries;
	(void)spf_evaluator_check(ev, "192.0.2.10", "h.example",
				  "user@terms11.example", cv_now_ms() + 5000, &a);
	tap_is_int(queries - before, 11,
		   "11 terms: the record and 10 A questions, no 11th");
	before = queries;
	(void)spf_evaluator_check(ev, "192.0.2.10", "h.example",
				  "user@incterms.example", cv_now_ms() + 5000,
				  &a);
	tap_is_int(queries - before, 11,
		   "12 terms over includes: stopped after the 10th");
	before = queries;
	(void)spf_evaluator_check(ev, "192.0.2.10", "h.example",
				  "user@pass.example", cv_now_ms() - 1, &a);
	tap_is_str(spf_result_name(a.result), "temperror",
		   "deadline passed: temperror");
	tap_is_int(queries - before, 0, "  and no question asked");
	spf_answer_line(&a, line, sizeof(line));
	tap_is_str(line, "SPF: temperror: DNS lookup did not complete",
		   "CLI line: temperror with the problem");
	(void)spf_evaluator_check(ev, "192.0.2.10", "h.example",
				  "jo@exp.example", cv_now_ms() + 5000, &a);
	spf_answer_line(&a, line, sizeof(line));
	tap_is_str(line, "SPF: fail: 192.0.2.10 may not send mail for "
		   "exp.example, ask jo", "CLI line: fail with explanation");
	(void)spf_evaluator_check(ev, "192.0.2.10", "h.example",
				  "user@terms11.example", cv_now_ms() + 5000,
				  &a);
	spf_answer_line(&a, line, sizeof(line));
	tap_is_str(line, "SPF: permerror: more than 10 DNS-querying terms",
		   "CLI line: permerror with the problem");
	(void)spf_evaluator_check(ev, "not-an-ip", "h.example",
				  "user@pass.example", cv_now_ms() + 5000, &a);
	tap_is_str(spf_result_name(a.result), "temperror",
		   "a bad client address: temperror");
	tap_is_str(a.problem, "bad client address", "  problem");
}

static void
test_policy(void)
{
	struct config cfg;
	static const struct {
		enum config_spf_pass pass;
		enum config_spf_fail fail;
		spf_result r;
		spf_action want;
	} t[] = {
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_PASS,
		 SPF_ACTION_SKIP},
		{CONFIG_SPF_PASS_VERIFY, CONFIG_SPF_FAIL_REJECT, SPFR_PASS,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_FAIL,
		 SPF_ACTION_REJECT},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_VERIFY, SPFR_FAIL,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_IGNORE, SPFR_FAIL,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_SOFTFAIL,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_NEUTRAL,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_NONE,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_PERMERROR,
		 SPF_ACTION_VERIFY},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, SPFR_TEMPERROR,
		 SPF_ACTION_DEFER},
		{CONFIG_SPF_PASS_VERIFY, CONFIG_SPF_FAIL_VERIFY, SPFR_TEMPERROR,
		 SPF_ACTION_DEFER},
		{CONFIG_SPF_PASS_SKIP, CONFIG_SPF_FAIL_REJECT, (spf_result)42,
		 SPF_ACTION_DEFER},
	};

	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char name[96];

		cfg.spf_pass = t[i].pass;
		cfg.spf_fail = t[i].fail;
		(void)snprintf(name, sizeof(name), "policy: %s, SPFPass %d, "
			       "SPFFail %d -> %s", spf_result_name(t[i].r),
			       (int)t[i].pass, (int)t[i].fail,
			       spf_action_name(t[i].want));
		tap_is_str(spf_action_name(spf_policy(&cfg, t[i].r)),
			   spf_action_name(t[i].want), name);
	}
	tap_is_int(spf_reply_action(SPF_ACTION_REJECT), REPLY_REJECT,
		   "reject -> REPLY_REJECT");
	tap_is_int(spf_reply_action(SPF_ACTION_DEFER), REPLY_TEMPFAIL,
		   "defer -> REPLY_TEMPFAIL");
	tap_is_int(spf_reply_action(SPF_ACTION_SKIP), REPLY_CONTINUE,
		   "skip -> REPLY_CONTINUE");
	tap_is_int(spf_reply_action(SPF_ACTION_VERIFY), REPLY_CONTINUE,
		   "verify -> REPLY_CONTINUE");
}

static void
test_received(void)
{
	char buf[SPF_HEADER_MAX], helo[600], big[300];
	cv_address addr;

	spf_received_value(SPFR_PERMERROR, "mx.example.net", "192.0.2.1",
			   "bad helo\r\n(x)", "a\"b@example.com",
			   "bad macro; \"quoted\"", buf, sizeof(buf));
	tap_is_str(buf, "permerror (mx.example.net: permanent error in "
		   "processing domain of example.com) client-ip=192.0.2.1; "
		   "envelope-from=\"a\\\"b@example.com\"; "
		   "helo=\"bad helo?\?(x)\"; receiver=mx.example.net; "
		   "problem=\"bad macro; \\\"quoted\\\"\"; "
		   "identity=mailfrom;", "Received-SPF: quoting, no CR LF");
	memset(helo, 'h', sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '@';
	spf_received_value(SPFR_NONE, "mx.example.net", "192.0.2.1", helo,
			   big, "", buf, 200);
	tap_ok(strlen(buf) < 200 && strstr(buf, "helo=") == NULL &&
	       strstr(buf, "identity=mailfrom;") != NULL,
	       "Received-SPF: pairs that do not fit are left out whole");
	tap_diag("%s", buf);
	memset(&addr, 0, sizeof(addr));
	(void)snprintf(addr.local, sizeof(addr.local), "j\"o");
	(void)snprintf(addr.ascii_domain, sizeof(addr.ascii_domain),
		       "xn--bcher-kva.example");
	(void)snprintf(addr.address, sizeof(addr.address), "x");
	tap_ok(spf_sender_text(&addr, buf, sizeof(buf)) &&
	       strcmp(buf, "j\"o@xn--bcher-kva.example") == 0,
	       "sender text: local part and A-label domain");
	addr.null = true;
	tap_ok(spf_sender_text(&addr, buf, sizeof(buf)) && buf[0] == '\0',
	       "sender text: null sender is empty");
	tap_ok(spf_sender_text(NULL, buf, sizeof(buf)) && buf[0] == '\0',
	       "sender text: NULL is the null sender");
}

static void
test_reply(void)
{
	reply_policy pol;
	reply rep;

	reply_policy_init(&pol);
	reply_for_spf(&pol, REPLY_REJECT, "192.0.2.1 is not 100% ok\x01x",
		      &rep);
	tap_ok(rep.action == REPLY_REJECT && strcmp(rep.code, "550") == 0 &&
	       strcmp(rep.xcode, "5.7.23") == 0 && rep.nlines == 2,
	       "reply: SPF fail is 550 5.7.23, two lines");
	tap_is_str(rep.line[0], "192.0.2.1 is not 100%% ok(truncated)",
		   "  the explanation, '%' doubled, cut at a control byte");
	tap_is_str(rep.line[1], "SPF validation failed", "  final line");
	tap_is_str(rep.reason, "SPF validation failed", "  reason");
	reply_for_spf(&pol, REPLY_REJECT, "", &rep);
	tap_ok(rep.nlines == 1 && strcmp(rep.line[0],
					 "SPF validation failed") == 0,
	       "reply: no explanation, one line");
	reply_for_spf(&pol, REPLY_TEMPFAIL, NULL, &rep);
	tap_ok(rep.action == REPLY_TEMPFAIL && strcmp(rep.code, "451") == 0 &&
	       strcmp(rep.xcode, "4.4.3") == 0 && rep.nlines == 1 &&
	       strcmp(rep.line[0], "Temporary SPF validation error") == 0,
	       "reply: temperror is 451 4.4.3");
	pol.defer_ok = true;
	reply_for_spf(&pol, REPLY_TEMPFAIL, NULL, &rep);
	tap_ok(rep.action == REPLY_CONTINUE, "reply: DeferOK accepts");
	reply_for_spf(NULL, REPLY_CONTINUE, "x", &rep);
	tap_ok(rep.action == REPLY_CONTINUE && rep.nlines == 0,
	       "reply: continue");
}

static void
test_logline(void)
{
	logline_session ls;
	char buf[LOGLINE_MAX];

	memset(&ls, 0, sizeof(ls));
	ls.qid = "4ABC";
	ls.client_ip = "192.0.2.1";
	ls.helo = "mail.example.com";
	ls.sender = "a@example.com";
	(void)logline_spf(buf, sizeof(buf), &ls, "fail", "Not\nallowed",
			  "reject", 12);
	tap_is_str(buf, "4ABC H=(mail.example.com) [192.0.2.1] SPF fail for "
		   "<a@example.com>: Not\\nallowed -> reject cached=no "
		   "elapsed=12", "log line: SPF fail, escaped detail");
	ls.sender = "";
	(void)logline_spf(buf, sizeof(buf), &ls, "pass", "", "skip", 3);
	tap_is_str(buf, "4ABC H=(mail.example.com) [192.0.2.1] SPF pass for "
		   "<postmaster@mail.example.com> -> skip cached=no elapsed=3",
		   "log line: null sender names the HELO identity");
}

int
main(void)
{
	char err[CV_ERROR_MAX];

	res = cv_resolver_new(NULL, 0, 1000, err, sizeof(err));
	if (res == NULL) {
		tap_diag("resolver: %s", err);
		return 77;
	}
	cv_resolver_set_query(res, zone_query, NULL);
	ev = spf_evaluator_new(res, "mx.receiver.example", err, sizeof(err));
	if (!tap_ok(ev != NULL, "evaluator made")) {
		tap_diag("%s", err);
		return tap_done();
	}
	run_cases();
	run_extra();
	spf_evaluator_free(&ev);
	test_policy();
	test_received();
	test_reply();
	test_logline();
	cv_resolver_free(&res);
	return tap_done();
}
