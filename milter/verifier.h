/*
 * verifier.h - "address + deadline -> verdict": the one call through
 * which the daemon and the callout command ask whether a sender exists.
 *
 * A verifier is built from a configuration snapshot (callout parameters,
 * resolver, allow-list of networks) and holds a reference to it.  Today
 * it runs the callout on the calling thread, bounded by the deadline;
 * the probe engine (worker pool, one probe per address, cache) serves
 * this same interface, so callers do not change when it slots in.
 */
#ifndef CM_VERIFIER_H
#define CM_VERIFIER_H

#include <stdint.h>

#include "callout.h"
#include "conf.h"

typedef struct verifier verifier;

/* Build a verifier for cfg.  Returns NULL with a reason in error_r. */
verifier *verifier_new(const struct config *cfg, char *error_r,
		       size_t error_size);

/* Free it and set *v_p to NULL; NULL is fine. */
void verifier_free(verifier **v_p);

/* Send the transcript (DNS answers, SMTP lines) to fn; for callout -v. */
void verifier_set_trace(verifier *v, cv_trace_fn *fn, void *ctx);

/*
 * Verify addr as the config says for how (CONFIG_VERIFY_CALLOUT: DNS
 * and callout; CONFIG_VERIFY_DOMAIN: DNS only, verified when the domain
 * has mail hosts), finishing by deadline (cv_now_ms() scale).  Always
 * fills *result_r; returns its verdict.
 */
cv_verdict verifier_verify(verifier *v, const cv_address *addr,
			   enum config_verify how, int64_t deadline,
			   cv_result *result_r);

#endif /* CM_VERIFIER_H */
