/*
 * runtime.h - what a milter session runs with: a configuration snapshot
 * and the verifier built from it, as one reference-counted unit.
 *
 * SIGHUP builds a new runtime and swaps the current pointer; a session
 * takes a reference at connect and keeps that runtime to its end, so a
 * reload never changes the rules in the middle of a transaction.
 */
#ifndef CM_RUNTIME_H
#define CM_RUNTIME_H

#include <stdatomic.h>

#include "conf.h"
#include "verifier.h"

typedef struct runtime {
	atomic_uint refs;
	const struct config *cfg;
	verifier *v;
	unsigned generation;	/* 1 for the first, +1 per reload */
} runtime;

/* The probe engine of the runtimes installed from now on (NULL: none,
 * callouts on the session's thread); it must outlive them. */
void runtime_set_engine(cv_engine *engine);

/* Make cfg (the caller's reference is taken over) the current runtime.
 * Returns 0, or -1 with a reason (the old runtime stays). */
int runtime_install(const struct config *cfg, char *error_r,
		    size_t error_size);

/* A reference to the current runtime, NULL before the first install. */
runtime *runtime_get(void);

/* Drop a reference; NULLs *rt_p; the last one frees. */
void runtime_put(runtime **rt_p);

/* Drop the current runtime (at exit). */
void runtime_shutdown(void);

#endif /* CM_RUNTIME_H */
