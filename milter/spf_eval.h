/*
 * spf_eval.h - SPF evaluation (RFC 7208) with libspf2, its DNS answers
 * taken from the library's own resolver (cv_dns_query).  Used by the
 * helper processes (spf_helper.c) and, directly, by the callout command;
 * never by the daemon, which must not load libspf2 (see spf.h).
 *
 * Thread safety: none needed and none given.  An evaluator is used by
 * one thread; every user is single-threaded (one helper process, one
 * command).  libspf2 itself keeps process-wide state only in its log
 * handlers, set once by spf_evaluator_new().
 */
#ifndef CM_SPF_EVAL_H
#define CM_SPF_EVAL_H

#include <stdint.h>

#include "callout.h"
#include "spf.h"

typedef struct spf_evaluator spf_evaluator;

/*
 * An evaluator asking res (borrowed: it must outlive the evaluator; a
 * test installs its query hook there).  receiver is our host name, for
 * the %{r} macro and the Received-SPF value.  NULL with a reason.
 */
spf_evaluator *spf_evaluator_new(cv_resolver *res, const char *receiver,
                                 char *error_r, size_t error_size);
void spf_evaluator_free(spf_evaluator **ev_p);

/*
 * Evaluate SPF for sender ("local@domain", "" or NULL for the null
 * sender: then "postmaster@<helo>") from client_ip that said helo, by
 * deadline (cv_now_ms() scale).  Always fills *answer_r; returns
 * answer_r->result.
 *
 * On top of libspf2: a record whose macros fall outside RFC 7208's
 * grammar (spf_macro.h) is a permerror before libspf2 sees it; more than
 * 10 DNS-querying terms over the whole evaluation (includes too), or
 * more than 2 void lookups, is a permerror (RFC 7208 4.6.4); a DNS
 * failure (SERVFAIL, timeout) is temperror.
 */
spf_result spf_evaluator_check(spf_evaluator *ev, const char *client_ip,
                               const char *helo, const char *sender,
                               int64_t deadline, spf_answer *answer_r);

/* One evaluation with an evaluator of its own, for the callout command:
 * the same code the helpers run. */
spf_result spf_evaluate_direct(cv_resolver *res, const char *receiver,
                               const char *client_ip, const char *helo,
                               const cv_address *sender, int64_t deadline,
                               spf_answer *answer_r);

#endif /* CM_SPF_EVAL_H */
