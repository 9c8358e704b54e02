/*
 * cache_store.h - the persistent level of the verdict cache (internal).
 *
 * cache.c keeps its in-memory LRU in front of one of these.  A store maps
 * short text keys to small opaque values; it knows nothing of verdicts.
 * The operations are function pointers so that a second backend (Redis)
 * can be added beside LMDB without touching cache.c.
 *
 * Every operation is safe to call from several threads at once.  None of
 * them aborts: trouble is reported through the warn callback given at
 * open time and the operation degrades (a get is a miss, a put is
 * dropped).  An iterate callback must not call the store back.
 */
#ifndef CV_CACHE_STORE_H
#define CV_CACHE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "callout.h"

/* Called for trouble.  msg NULL means "count one error, log nothing"
 * (used where a repeated condition would flood the log). */
typedef void cache_store_warn_fn(void *ctx, const char *msg);

/* One key and its value; return 0 to go on, non-zero to stop. */
typedef int cache_store_iter_fn(void *ctx, const char *key,
				const void *val, size_t len);

typedef struct cache_store cache_store;

struct cache_store {
	/* 1 found (value copied to buf, length in *len_r; a value longer
	 * than size is an error), 0 not found, -1 error */
	int (*get)(cache_store *s, const char *key, void *buf, size_t size,
		   size_t *len_r);
	/* 0 stored, -1 dropped */
	int (*put)(cache_store *s, const char *key, const void *val,
		   size_t len);
	/* 1 deleted, 0 not there, -1 error */
	int (*del)(cache_store *s, const char *key);
	/* delete keys[0..n) in one transaction; the number deleted or -1 */
	long (*del_many)(cache_store *s, const char *const *keys, size_t n);
	/* Keys starting with prefix in key order, starting after the key
	 * after (NULL: from the first).  Returns the number of keys given
	 * to fn, -1 on error. */
	long (*iterate)(cache_store *s, const char *prefix, const char *after,
			cache_store_iter_fn *fn, void *ctx);
	/* entries and bytes in use; 0 or -1 */
	int (*stats)(cache_store *s, size_t *entries_r, size_t *bytes_r);
	void (*close)(cache_store *s);
	const char *name;	/* "lmdb" */
	size_t max_key;		/* longest key the backend takes */
};

/* LMDB map sizes: the start and the cap the map may double up to. */
#define CACHE_LMDB_MAP_INITIAL	((size_t)16 << 20)
#define CACHE_LMDB_MAP_MAX	((size_t)1 << 30)

/*
 * Open (create) the LMDB file at path: a single file, its lock file
 * beside it as path + "-lock".  The directory must exist.  Returns NULL
 * after a warning when the file cannot be opened or does not validate.
 */
cache_store *cache_lmdb_open(const char *path, size_t map_initial,
			     size_t map_max, cache_store_warn_fn *warn,
			     void *warn_ctx);

/*
 * cv_cache_new with the LMDB map sizes given (tests start tiny to see
 * the map grow, or cap it to see a full map).  cv_cache_new uses the
 * defaults above.
 */
cv_cache *cache_new_sized(const cv_cache_params *p, size_t map_initial,
			  size_t map_max);

/* True when the cache has a persistent store (it opened). */
int cache_has_store(const cv_cache *cache);

#endif /* CV_CACHE_STORE_H */
