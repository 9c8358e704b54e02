/*
 * runtime.c - the current runtime pointer and its swap.  A mutex guards
 * only the pointer and the taking of a reference; building a runtime
 * (resolver, verifier) happens outside it.  Every runtime's verifier
 * sends its callouts to the one probe engine set at start-up.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static runtime *current;
static unsigned generations;
static cv_engine *engine;

void
runtime_set_engine(cv_engine *e)
{
	engine = e;
}

int
runtime_install(const struct config *cfg, char *error_r, size_t error_size)
{
	runtime *rt = calloc(1, sizeof(*rt)), *old;

	if (rt == NULL) {
		(void)snprintf(error_r, error_size, "out of memory");
		config_unref(&cfg);
		return -1;
	}
	rt->v = verifier_new(cfg, engine, error_r, error_size);
	if (rt->v == NULL) {
		config_unref(&cfg);
		free(rt);
		return -1;
	}
	rt->cfg = cfg;
	atomic_init(&rt->refs, 1);
	pthread_mutex_lock(&current_lock);
	rt->generation = ++generations;
	old = current;
	current = rt;
	pthread_mutex_unlock(&current_lock);
	runtime_put(&old);
	return 0;
}

runtime *
runtime_get(void)
{
	runtime *rt;

	pthread_mutex_lock(&current_lock);
	rt = current;
	if (rt != NULL)
		atomic_fetch_add(&rt->refs, 1);
	pthread_mutex_unlock(&current_lock);
	return rt;
}

void
runtime_put(runtime **rt_p)
{
	runtime *rt = *rt_p;

	*rt_p = NULL;
	if (rt == NULL || atomic_fetch_sub(&rt->refs, 1) != 1)
		return;
	verifier_free(&rt->v);
	config_unref(&rt->cfg);
	free(rt);
}

void
runtime_shutdown(void)
{
	runtime *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&current_lock);
	runtime_put(&old);
}
