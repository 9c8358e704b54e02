/*
 * spf.h - SPF (RFC 7208) for callout-milter: the result of a check, the
 * policy that turns it into what the milter does, the Received-SPF
 * header value, and the pool of helper processes that run libspf2
 * outside the daemon's address space.
 *
 * libspf2 is never loaded into the daemon: the daemon links this file's
 * pool, which talks to callout-spf-helper processes (spf_helper.c) over
 * socketpairs; they evaluate with spf_eval.c.  The callout command calls
 * spf_eval.c directly (spf_eval.h).
 *
 * Thread safety: spf_check() may be called from any number of threads at
 * once on one pool; start and stop are for one thread.  The other
 * functions are pure.
 */
#ifndef CM_SPF_H
#define CM_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callout.h"
#include "conf.h"

/* The seven results of RFC 7208 section 2.6. */
typedef enum spf_result {
	SPFR_NONE = 0,
	SPFR_NEUTRAL,
	SPFR_PASS,
	SPFR_FAIL,
	SPFR_SOFTFAIL,
	SPFR_TEMPERROR,
	SPFR_PERMERROR,
} spf_result;

#define SPF_EXPLANATION_MAX 512 /* the domain's exp= text */
#define SPF_PROBLEM_MAX     256 /* our reason, for logs */
#define SPF_HEADER_MAX      900 /* Received-SPF value (line < 998) */

typedef struct spf_answer {
	spf_result result;
	/* fail only: the domain's explanation (exp=), printable ASCII,
	 * "" when the domain gives none */
	char explanation[SPF_EXPLANATION_MAX];
	/* permerror, temperror: why, for the log ("more than 10 DNS-
	 * querying terms", "SPF helper timed out"); "" otherwise */
	char problem[SPF_PROBLEM_MAX];
	/* the Received-SPF header value, without "Received-SPF: " */
	char received_spf[SPF_HEADER_MAX];
	int64_t elapsed_ms;
} spf_answer;

/* "pass", "fail", ... ; "temperror" for a value out of range. */
const char *spf_result_name(spf_result r);

/* The callout command's line: "SPF: <result>: <detail>", the detail
 * being the explanation for fail and the problem otherwise, and
 * "SPF: <result>" when there is none.  Printable ASCII only. */
void spf_answer_line(const spf_answer *a, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Policy                                                              */
/* ------------------------------------------------------------------ */

typedef enum spf_action {
	SPF_ACTION_VERIFY = 0, /* go on with the callout */
	SPF_ACTION_SKIP,       /* no callout: SPF vouches for the sender */
	SPF_ACTION_REJECT,     /* 550 5.7.23 SPF validation failed */
	SPF_ACTION_DEFER,      /* unknown: 451 4.4.3, or accept (DeferOK) */
} spf_action;

/*
 * What the milter does for r under cfg's SPFPass and SPFFail: pass ->
 * skip (SPFPass skip) or verify; fail -> reject, verify, or verify as if
 * there were no SPF (SPFFail ignore); softfail, neutral, none and
 * permerror -> verify; temperror -> defer.
 */
spf_action spf_policy(const struct config *cfg, spf_result r);
const char *spf_action_name(spf_action a);

/* The reply_action for reply_for_spf(): reject, tempfail or continue. */
reply_action spf_reply_action(spf_action a);

/* ------------------------------------------------------------------ */
/* Received-SPF                                                        */
/* ------------------------------------------------------------------ */

/*
 * The Received-SPF value of RFC 7208 section 9.1 into buf:
 *   fail (mx.example.net: domain of example.com does not designate
 *   192.0.2.1 as permitted sender) client-ip=192.0.2.1;
 *   envelope-from="a@example.com"; helo=mail.example.com;
 *   receiver=mx.example.net; identity=mailfrom;
 * (one line).  sender is "local@domain", or "" for the null sender
 * (then the HELO identity is named).  problem= is added for permerror
 * and temperror when problem is not empty.  Text from outside is
 * printable ASCII only, quoted where it is not a dot-atom; a key=value
 * pair or the comment that does not fit in size is left out whole.
 */
void spf_received_value(spf_result r, const char *receiver,
                        const char *client_ip, const char *helo,
                        const char *sender, const char *problem, char *buf,
                        size_t size);

/* ------------------------------------------------------------------ */
/* The helper pool                                                     */
/* ------------------------------------------------------------------ */

#define SPF_HELPERS_MAX 64
#define SPF_HELPER_NAME "callout-spf-helper"

typedef struct spf_pool spf_pool;

typedef struct spf_pool_params {
	/* the helper program; NULL: SPF_HELPER_NAME next to the running
	 * program if it is there (a build tree), else in PKGLIBEXECDIR */
	const char *helper_path;
	unsigned helpers;               /* processes, default 2 */
	const char *const *nameservers; /* as cv_resolver_new() takes */
	size_t nameserver_count;        /* 0: /etc/resolv.conf */
	unsigned dns_timeout_ms;        /* per query attempt, default 5000 */
	const char *receiver;           /* our name for Received-SPF */
	unsigned memory_mb;             /* helper RLIMIT_AS, default 256 */
	unsigned cpu_s;                 /* helper RLIMIT_CPU, default 600 */
} spf_pool_params;

void spf_pool_params_init(spf_pool_params *p);

/*
 * Start the helpers.  Call after the daemon dropped its privileges
 * (helpers run as the daemon's user), before the milter threads run.
 * spf_pool_start() takes SPFHelpers, Nameservers, DNSTimeout and
 * CalloutHelo (the receiver) from cfg.  Returns NULL with a reason.
 */
spf_pool *spf_pool_start(const struct config *cfg, char *error_r,
                         size_t error_size);
spf_pool *spf_pool_start_params(const spf_pool_params *p, char *error_r,
                                size_t error_size);

/* Stop and reap every helper; NULLs *pool_p.  No spf_check() may run
 * or start any more. */
void spf_pool_stop(spf_pool **pool_p);

/*
 * Evaluate SPF for the envelope sender (NULL or null sender: the HELO
 * identity, "postmaster@<helo>") from client_ip (printable IPv4 or
 * IPv6) that said helo, by deadline (cv_now_ms() scale; give
 * min(session deadline, now + SPFTimeout)).  Waits at most until the
 * deadline for a free helper; a helper that does not answer by then is
 * killed and replaced, and so is one that dies.  Every failure of our
 * own (no helper, timeout, helper died, bad input) is temperror with a
 * problem.  Always fills *answer_r; returns answer_r->result.
 */
spf_result spf_check(spf_pool *pool, const char *client_ip, const char *helo,
                     const cv_address *sender, int64_t deadline,
                     spf_answer *answer_r);

typedef struct spf_pool_stats {
	uint64_t requests;  /* spf_check calls */
	uint64_t timeouts;  /* helpers killed for not answering */
	uint64_t deaths;    /* helpers found dead */
	uint64_t spawned;   /* helpers started, the first ones too */
	uint64_t no_helper; /* waited for a free helper in vain */
} spf_pool_stats;

void spf_pool_get_stats(spf_pool *pool, spf_pool_stats *stats_r);

/* For tests: the helpers' pids (0 for an empty slot) and whether each
 * is busy with a request.  Returns the number of slots. */
size_t spf_pool_helpers(spf_pool *pool, pid_t *pids_r, bool *busy_r,
                        size_t max);

/* The sender as SPF sees it: "local@ascii-domain", "" for the null
 * sender (and NULL).  Returns false when it does not fit. */
bool spf_sender_text(const cv_address *sender, char *buf, size_t size);

#endif /* CM_SPF_H */
