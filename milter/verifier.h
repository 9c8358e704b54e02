/*
 * verifier.h - "address + deadline -> verdict": the one call through
 * which the daemon and the callout command ask whether a sender exists.
 *
 * A verifier is built from a configuration snapshot (callout parameters,
 * resolver, allow-list of networks) and holds a reference to it.  With a
 * probe engine (the daemon) callouts go through the engine (worker pool,
 * one probe per address, cache), and the calling thread only waits, at
 * most until its deadline; without one (the callout command) the
 * callout runs on the calling thread.  Probes of the engine keep the
 * verifier alive until they end (it is reference counted).
 */
#ifndef CM_VERIFIER_H
#define CM_VERIFIER_H

#include <stdint.h>

#include "callout.h"
#include "conf.h"

typedef struct verifier verifier;

/* Build a verifier for cfg; engine (not owned, may be NULL) must
 * outlive it.  Returns NULL with a reason in error_r. */
verifier *verifier_new(const struct config *cfg, cv_engine *engine,
		       char *error_r, size_t error_size);

/* Drop the owner's reference and set *v_p to NULL; NULL is fine.  The
 * verifier is freed when the last probe using it ends. */
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
