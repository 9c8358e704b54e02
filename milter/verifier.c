/*
 * verifier.c - the verification call of the daemon and the callout
 * command: turns a configuration snapshot into libcallout parameters
 * and runs a check for one address.
 *
 * With a probe engine (the daemon), callouts go through it: the calling
 * thread looks up the cache and waits, a worker probes.  Without one
 * (the callout command), the callout runs on the calling thread.
 *
 * Lifetime: a verifier is reference counted.  Its owner (a runtime, or
 * the callout command) holds one reference; each probe of the engine
 * holds one more through the cv_params hold hook for as long as it runs,
 * so a reload that drops the old runtime never frees a resolver or an
 * allow-list a background probe still uses.  The last reference frees.
 *
 * It never rejects on its own trouble: a resolver that cannot be made
 * or an out-of-memory condition is an unknown result, not a failure.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

struct verifier {
	atomic_uint refs;		/* owner + running probes */
	const struct config *cfg;	/* our reference */
	cv_resolver *resolver;
	cv_engine *engine;		/* NULL: callouts on this thread */
	cv_params params;
};

static void
verifier_unref(verifier *v)
{
	if (atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	cv_resolver_free(&v->resolver);
	config_unref(&v->cfg);
	free(v);
}

/* The hold hook: a probe of the engine starts or ends with our params. */
static void
verifier_hold(void *ctx, bool take)
{
	verifier *v = ctx;

	if (take)
		atomic_fetch_add(&v->refs, 1);
	else
		verifier_unref(v);
}

verifier *
verifier_new(const struct config *cfg, cv_engine *engine, char *error_r,
	     size_t error_size)
{
	verifier *v = calloc(1, sizeof(*v));
	const struct config_sources *src = &cfg->callout_source;

	if (v == NULL) {
		(void)snprintf(error_r, error_size, "out of memory");
		return NULL;
	}
	v->resolver = cv_resolver_new((const char *const *)cfg->nameservers.list,
	    cfg->nameservers.count, cfg->dns_timeout_s * 1000, error_r,
	    error_size);
	if (v->resolver == NULL) {
		free(v);
		return NULL;
	}
	atomic_init(&v->refs, 1);
	v->cfg = config_ref(cfg);
	v->engine = engine;
	cv_params_init(&v->params);
	v->params.helo = cfg->callout_helo;
	v->params.mail_from = cfg->callout_mail_from;
	v->params.connect_timeout_ms = cfg->callout_connect_timeout_s * 1000;
	v->params.command_timeout_ms = cfg->callout_timeout_s * 1000;
	v->params.max_hosts = cfg->callout_max_hosts;
	v->params.port = cfg->callout_port;
	v->params.random = cfg->callout_random;
	v->params.postmaster = cfg->callout_postmaster;
	v->params.allow_networks = lists_netlist(cfg->callout_allow_networks);
	if (src->v4.ss_family == AF_INET)
		v->params.source4 = (const struct sockaddr *)&src->v4;
	if (src->v6.ss_family == AF_INET6)
		v->params.source6 = (const struct sockaddr *)&src->v6;
	v->params.resolver = v->resolver;
	v->params.hold = verifier_hold;
	v->params.hold_ctx = v;
	return v;
}

void
verifier_free(verifier **v_p)
{
	verifier *v = *v_p;

	if (v == NULL)
		return;
	*v_p = NULL;
	verifier_unref(v);
}

void
verifier_set_trace(verifier *v, cv_trace_fn *fn, void *ctx)
{
	v->params.trace = fn;
	v->params.trace_ctx = ctx;
}

/* DNS only: the domain must have somewhere to deliver mail. */
static cv_verdict
verify_domain(verifier *v, const cv_address *addr, int64_t deadline,
	      cv_result *r)
{
	cv_hostlist *hosts = calloc(1, sizeof(*hosts));
	int64_t start = cv_now_ms();

	memset(r, 0, sizeof(*r));
	r->class_ = CV_CLASS_DNS;
	if (hosts == NULL) {
		r->verdict = CV_UNKNOWN;
		r->class_ = CV_CLASS_LOCAL;
		(void)snprintf(r->message, sizeof(r->message), "out of memory");
		return r->verdict;
	}
	(void)cv_dns_hosts(v->resolver, addr->ascii_domain,
	    v->params.allow_networks, deadline, v->params.trace,
	    v->params.trace_ctx, hosts);
	r->dns = hosts->status;
	if (hosts->status == CV_DNS_OK) {
		r->verdict = CV_VERIFIED;
		(void)snprintf(r->message, sizeof(r->message),
		    "domain has %zu mail host address%s", hosts->count,
		    hosts->count == 1 ? "" : "es");
	} else {
		r->verdict = hosts->status == CV_DNS_TEMP ? CV_UNKNOWN :
		    CV_FAILED;
		(void)snprintf(r->message, sizeof(r->message), "%s",
		    hosts->message);
	}
	free(hosts);
	r->elapsed_ms = cv_now_ms() - start;
	return r->verdict;
}

cv_verdict
verifier_verify(verifier *v, const cv_address *addr, enum config_verify how,
		int64_t deadline, cv_result *result_r)
{
	switch (how) {
	case CONFIG_VERIFY_DOMAIN:
		return verify_domain(v, addr, deadline, result_r);
	case CONFIG_VERIFY_CALLOUT:
		if (v->engine != NULL)
			return cv_engine_verify(v->engine, &v->params, addr,
			    deadline, result_r);
		return cv_verify(&v->params, addr, deadline, result_r);
	case CONFIG_VERIFY_OFF:
		break;
	}
	memset(result_r, 0, sizeof(*result_r));
	result_r->verdict = CV_VERIFIED;
	(void)snprintf(result_r->message, sizeof(result_r->message),
	    "verification off");
	return CV_VERIFIED;
}
