/*
 * cache_lmdb.c - the LMDB store behind the verdict cache.
 *
 * One file (MDB_NOSUBDIR) with its lock file beside it ("PATH-lock"),
 * shared by every process of the host that opens it: LMDB's own locks
 * order the writers of all processes, and inside one process a mutex
 * keeps to one write transaction at a time.  Read transactions are short
 * and begin and end in the same call; MDB_NOTLS because the threads that
 * run them are a pool, not one thread per reader slot.
 *
 * Durability: no MDB_NOSYNC, so a committed record survives a crash of
 * the process and of the machine; MDB_NOMETASYNC lets the last commit
 * before a system crash be lost (the database stays intact), which is
 * fine for a cache.  Stale reader slots of dead processes are cleared at
 * open (mdb_reader_check).
 *
 * The map starts small and doubles when a write finds it full, up to a
 * cap; past the cap the write is dropped with one warning.  Growing needs
 * every transaction of this process closed, so the map is guarded by a
 * read-write lock that every transaction holds shared and a resize holds
 * exclusively.  A map grown by another process shows as MDB_MAP_RESIZED
 * and is adopted the same way.
 *
 * How it fails: every LMDB error is a warning and the operation degrades
 * (a get is a miss, a put is dropped).  A file that does not open or does
 * not check out makes cache_lmdb_open() return NULL after a warning; the
 * file is left alone for the admin to look at.
 *
 * Damaged files.  LMDB has no checksums and trusts its pages.  Measured
 * with LMDB 0.9.24 under ASan: a file of random bytes or a truncated
 * file fails mdb_env_open with MDB_INVALID; intact meta pages over
 * garbage data pages fail the first cursor read (MDB_PAGE_NOTFOUND or
 * MDB_CORRUPTED).  But with one page damaged at random in a 3000-record
 * file, 82 of 200 files crashed a process that opened them, looked
 * keys up, purged and stored (SIGBUS, SEGV, heap overflows inside
 * liblmdb; test program kept out of the tree).  So an existing
 * file is first checked in a child process, which may die instead of
 * us: it reads every page of the free list and the main database (each
 * value byte) and then deletes every record in a write transaction that
 * it aborts, which runs the page code of writes (removal, rebalancing)
 * over every page without changing the file.  With that check, 0 of the
 * same 200 files crashed (146 refused at open, 54 opened and worked).
 * It costs about 0.1 s for 200,000 records and runs once per open.  The
 * child only runs LMDB and _exit()s (glibc keeps malloc usable after a
 * fork, also in a threaded process); where SIGCHLD is ignored and its
 * status is lost, the file is taken as sound.  Open the cache after the
 * daemon forks, once per process per file (an LMDB rule).
 * XXX: a page damaged while the daemon runs is not caught; nor, by the
 * check, a fault only a later insert would reach (none was seen).
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache_store.h"
#include "util.h"

#define LMDB_MAX_READERS	512
#define LMDB_RETRIES		64	/* resizes tried by one write */
#define LMDB_CHECK_MS		60000	/* the walk of a file at open */

typedef struct lmdb_store {
	cache_store ops;		/* first: the public face */
	MDB_env *env;
	MDB_dbi dbi;
	pthread_rwlock_t map_lock;	/* shared: a txn; exclusive: resize */
	pthread_mutex_t write_lock;	/* one write txn at a time */
	size_t map_size;		/* under map_lock */
	size_t map_max;
	bool full_warned;		/* under write_lock */
	cache_store_warn_fn *warn;
	void *warn_ctx;
	char path[512];
} lmdb_store;

static void __attribute__((format(printf, 2, 3)))
lmdb_warn(lmdb_store *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->warn != NULL)
		s->warn(s->warn_ctx, msg);
}

/* Adopt a map another process grew; takes map_lock exclusively, so the
 * caller holds no transaction and no shared lock. */
static void
lmdb_adopt_size(lmdb_store *s)
{
	MDB_envinfo info;
	int rc;

	(void)pthread_rwlock_wrlock(&s->map_lock);
	rc = mdb_env_set_mapsize(s->env, 0);
	if (rc == 0 && mdb_env_info(s->env, &info) == 0)
		s->map_size = info.me_mapsize;
	(void)pthread_rwlock_unlock(&s->map_lock);
	if (rc != 0)
		lmdb_warn(s, "cache %s: cannot adopt the new map size: %s",
		    s->path, mdb_strerror(rc));
}

/* Begin a transaction with map_lock held shared; on success the caller
 * ends the txn and then unlocks. */
static int
lmdb_begin(lmdb_store *s, unsigned flags, MDB_txn **txn_r)
{
	int rc, i;

	for (i = 0; i < 3; i++) {
		(void)pthread_rwlock_rdlock(&s->map_lock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn_r);
		if (rc == 0)
			return 0;
		(void)pthread_rwlock_unlock(&s->map_lock);
		if (rc != MDB_MAP_RESIZED)
			break;
		lmdb_adopt_size(s);
	}
	lmdb_warn(s, "cache %s: cannot begin a transaction: %s", s->path,
	    mdb_strerror(rc));
	return rc;
}

static void
lmdb_end(lmdb_store *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	(void)pthread_rwlock_unlock(&s->map_lock);
}

static int
lmdb_get(cache_store *cs, const char *key, void *buf, size_t size,
	 size_t *len_r)
{
	lmdb_store *s = (lmdb_store *)cs;
	MDB_val k = { strlen(key), (void *)key }, v;
	MDB_txn *txn;
	int rc, ret = -1;

	if (k.mv_size == 0 || k.mv_size > cs->max_key)
		return 0;
	if (lmdb_begin(s, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = mdb_get(txn, s->dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		ret = 0;
	} else if (rc != 0) {
		lmdb_warn(s, "cache %s: read %s: %s", s->path, key,
		    mdb_strerror(rc));
	} else if (v.mv_size > size) {
		lmdb_warn(s, "cache %s: record %s is too long (%zu octets)",
		    s->path, key, v.mv_size);
	} else {
		memcpy(buf, v.mv_data, v.mv_size);
		*len_r = v.mv_size;
		ret = 1;
	}
	lmdb_end(s, txn);
	return ret;
}

/* Double the map; false at the cap.  Called with write_lock held and no
 * transaction open. */
static bool
lmdb_grow(lmdb_store *s)
{
	MDB_envinfo info;
	size_t want;
	int rc;

	(void)pthread_rwlock_wrlock(&s->map_lock);
	if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
		s->map_size = info.me_mapsize;
	want = s->map_size * 2;
	if (want > s->map_max)
		want = s->map_max;
	rc = want > s->map_size ? mdb_env_set_mapsize(s->env, want) : -1;
	if (rc == 0)
		s->map_size = want;
	(void)pthread_rwlock_unlock(&s->map_lock);
	if (rc > 0)
		lmdb_warn(s, "cache %s: cannot grow the map to %zu octets: %s",
		    s->path, want, mdb_strerror(rc));
	return rc == 0;
}

/* One write transaction: put val under keys[0], or delete keys[]. */
typedef struct lmdb_batch {
	const char *const *keys;
	size_t n;
	const void *val;		/* NULL: delete */
	size_t len;
	size_t deleted;
} lmdb_batch;

static bool
lmdb_key_ok(const lmdb_store *s, const char *key)
{
	size_t n = strlen(key);

	return n > 0 && n <= s->ops.max_key;
}

/* Returns the LMDB code; a key not there is no error. */
static int
lmdb_write_once(lmdb_store *s, lmdb_batch *b)
{
	MDB_val k, v = { b->len, (void *)b->val };
	MDB_txn *txn;
	size_t i;
	int rc;

	b->deleted = 0;
	rc = lmdb_begin(s, 0, &txn);
	if (rc != 0)
		return rc;
	for (i = 0; i < b->n && rc == 0; i++) {
		if (!lmdb_key_ok(s, b->keys[i]))
			continue;
		k.mv_size = strlen(b->keys[i]);
		k.mv_data = (void *)b->keys[i];
		if (b->val != NULL) {
			rc = mdb_put(txn, s->dbi, &k, &v, 0);
		} else {
			rc = mdb_del(txn, s->dbi, &k, NULL);
			b->deleted += rc == 0;
			rc = rc == MDB_NOTFOUND ? 0 : rc;
		}
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	(void)pthread_rwlock_unlock(&s->map_lock);
	return rc;
}

/* Puts or deletes, growing the map as needed. */
static int
lmdb_write(lmdb_store *s, lmdb_batch *b)
{
	int rc = -1, i;

	(void)pthread_mutex_lock(&s->write_lock);
	for (i = 0; i < LMDB_RETRIES; i++) {
		rc = lmdb_write_once(s, b);
		if (rc != MDB_MAP_FULL || !lmdb_grow(s))
			break;
	}
	if (rc == MDB_MAP_FULL) {
		if (!s->full_warned)
			lmdb_warn(s, "cache %s: full at %zu octets; writes "
			    "are dropped", s->path, s->map_size);
		else if (s->warn != NULL)
			s->warn(s->warn_ctx, NULL);
		s->full_warned = true;
	} else if (rc != 0) {
		lmdb_warn(s, "cache %s: write %s%s: %s", s->path,
		    b->keys[0], b->n > 1 ? " ..." : "", mdb_strerror(rc));
	}
	(void)pthread_mutex_unlock(&s->write_lock);
	return rc;
}

static int
lmdb_put(cache_store *cs, const char *key, const void *val, size_t len)
{
	lmdb_batch b = { &key, 1, val, len, 0 };

	if (!lmdb_key_ok((lmdb_store *)cs, key) || val == NULL)
		return -1;
	return lmdb_write((lmdb_store *)cs, &b) == 0 ? 0 : -1;
}

static long
lmdb_del_many(cache_store *cs, const char *const *keys, size_t n)
{
	lmdb_batch b = { keys, n, NULL, 0, 0 };

	if (n == 0)
		return 0;
	return lmdb_write((lmdb_store *)cs, &b) == 0 ? (long)b.deleted : -1;
}

static int
lmdb_del(cache_store *cs, const char *key)
{
	return (int)lmdb_del_many(cs, &key, 1);
}

static long
lmdb_iterate(cache_store *cs, const char *prefix, const char *after,
	     cache_store_iter_fn *fn, void *ctx)
{
	lmdb_store *s = (lmdb_store *)cs;
	size_t plen = strlen(prefix);
	char key[600];
	MDB_val k, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	long n = 0;
	int rc;

	if (lmdb_begin(s, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = mdb_cursor_open(txn, s->dbi, &cur);
	if (rc != 0)
		goto out;
	k.mv_data = (void *)(after != NULL && strcmp(after, prefix) > 0 ?
	    after : prefix);
	k.mv_size = strlen(k.mv_data);
	rc = k.mv_size > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size >= sizeof(key))
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if (after != NULL && strcmp(key, after) <= 0)
			continue;
		n++;
		if (fn(ctx, key, v.mv_data, v.mv_size) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	lmdb_end(s, txn);
	if (rc != 0) {
		lmdb_warn(s, "cache %s: scan \"%s\": %s", s->path, prefix,
		    mdb_strerror(rc));
		return -1;
	}
	return n;
}

static int
lmdb_stats(cache_store *cs, size_t *entries_r, size_t *bytes_r)
{
	lmdb_store *s = (lmdb_store *)cs;
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *txn;
	int rc;

	*entries_r = 0;
	*bytes_r = 0;
	if (lmdb_begin(s, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = mdb_stat(txn, s->dbi, &st);
	if (rc == 0)
		rc = mdb_env_info(s->env, &info);
	if (rc == 0) {
		*entries_r = st.ms_entries;
		*bytes_r = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	}
	lmdb_end(s, txn);
	if (rc != 0)
		lmdb_warn(s, "cache %s: statistics: %s", s->path,
		    mdb_strerror(rc));
	return rc == 0 ? 0 : -1;
}

static void
lmdb_close(cache_store *cs)
{
	lmdb_store *s = (lmdb_store *)cs;

	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	(void)pthread_rwlock_destroy(&s->map_lock);
	(void)pthread_mutex_destroy(&s->write_lock);
	free(s);
}

/* The directory of path must exist: LMDB would say only "No such file". */
static bool
lmdb_dir_ok(lmdb_store *s, const char *path)
{
	char dir[sizeof(s->path)];
	char *slash;
	struct stat st;

	util_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return true;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	lmdb_warn(s, "cache %s: directory %s does not exist; the cache is "
	    "kept in memory only", path, dir);
	return false;
}

/* Read the main database end to end at its edges: a file with garbage
 * pages fails here rather than in the middle of a lookup. */
static int
lmdb_validate(lmdb_store *s)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_stat st;
	MDB_val k, v;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return rc;
	rc = mdb_dbi_open(txn, NULL, 0, &s->dbi);
	if (rc == 0)
		rc = mdb_stat(txn, s->dbi, &st);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->dbi, &cur);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		if (rc == MDB_NOTFOUND && st.ms_entries == 0)
			rc = 0;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Every page of a database: each key, each value byte (overflow pages
 * included).  Returns the LMDB code of the first trouble. */
static int
lmdb_walk_dbi(MDB_txn *txn, MDB_dbi dbi, unsigned *sum_r)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t i;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
		for (i = 0; i < v.mv_size; i++)
			*sum_r += ((const unsigned char *)v.mv_data)[i];
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Delete every record in a write transaction that is then aborted:
 * this runs the page code a write uses (node removal, rebalancing,
 * merges) over every page, and the file is left as it was. */
static int
lmdb_walk_delete(MDB_env *env)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0)
		return rc;
	rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (rc == 0)
		rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc == 0) {
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
		    (rc = mdb_cursor_del(cur, 0)) == 0)
			;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	/* out of room for the copies is no damage */
	return rc == MDB_NOTFOUND || rc == MDB_MAP_FULL || rc == MDB_TXN_FULL ?
	    0 : rc;
}

/* In the child: open the file on its own, walk the free list (dbi 0,
 * as mdb_stat -f does) and the main database, then delete it all in a
 * transaction that is aborted. */
static int
lmdb_walk(const char *path, size_t map_max)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned sum = 0;
	int rc;

	rc = mdb_env_create(&env);
	if (rc != 0)
		return rc;
	(void)mdb_env_set_maxreaders(env, LMDB_MAX_READERS);
	(void)mdb_env_set_mapsize(env, map_max);
	rc = mdb_env_open(env, path, MDB_NOSUBDIR, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc == 0) {
		rc = lmdb_walk_dbi(txn, 0, &sum);
		if (rc == 0)
			rc = mdb_dbi_open(txn, NULL, 0, &dbi);
		if (rc == 0)
			rc = lmdb_walk_dbi(txn, dbi, &sum);
		mdb_txn_abort(txn);
	}
	if (rc == 0)
		rc = lmdb_walk_delete(env);
	mdb_env_close(env);
	return rc != 0 ? rc : (int)(sum & 0);
}

/*
 * LMDB has no checksums and trusts its pages: a damaged page deep in the
 * tree makes a read fault (measured: 82 of 200 files with one page
 * damaged at random crashed a process that only looked keys up).  So an
 * existing file is walked end to end once, in a child process that may
 * die instead of us.  Returns 0 when the file is sound or the check
 * could not run (no fork, SIGCHLD ignored: the edge check still runs),
 * -1 after a warning when it is not.
 */
static int
lmdb_check_child(lmdb_store *s, const char *path)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	struct stat st;
	int status = 0, waited;
	pid_t pid, got;

	if (stat(path, &st) != 0 || st.st_size == 0)
		return 0;	/* a new file: nothing to check */
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(lmdb_walk(path, s->map_max) == 0 ? 0 : 1);
	for (waited = 0; waited < LMDB_CHECK_MS; waited += 10) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid || (got < 0 && errno != EINTR))
			break;
		(void)nanosleep(&nap, NULL);
	}
	if (waited >= LMDB_CHECK_MS) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		lmdb_warn(s, "cache %s: the check of the file took more than "
		    "%d s; the cache is kept in memory only", path,
		    LMDB_CHECK_MS / 1000);
		return -1;
	}
	if (got != pid || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return 0;
	lmdb_warn(s, "cache %s: the file is damaged (%s %d when read end to "
	    "end); the cache is kept in memory only: remove the file to "
	    "start afresh", path, WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -1;
}

static int
lmdb_env_open(lmdb_store *s, const char *path, size_t map_initial)
{
	MDB_envinfo info;
	int rc, dead = 0;

	rc = mdb_env_create(&s->env);
	if (rc != 0)
		return rc;
	(void)mdb_env_set_maxreaders(s->env, LMDB_MAX_READERS);
	rc = mdb_env_set_mapsize(s->env, map_initial);
	if (rc != 0)
		return rc;
	rc = mdb_env_open(s->env, path,
	    MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC, 0600);
	if (rc != 0)
		return rc;
	(void)mdb_reader_check(s->env, &dead);
	rc = mdb_env_info(s->env, &info);
	if (rc != 0)
		return rc;
	s->map_size = info.me_mapsize;
	return lmdb_validate(s);
}

cache_store *
cache_lmdb_open(const char *path, size_t map_initial, size_t map_max,
		cache_store_warn_fn *warn, void *warn_ctx)
{
	lmdb_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return NULL;
	s->warn = warn;
	s->warn_ctx = warn_ctx;
	util_strlcpy(s->path, path, sizeof(s->path));
	if (pthread_rwlock_init(&s->map_lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	if (pthread_mutex_init(&s->write_lock, NULL) != 0) {
		(void)pthread_rwlock_destroy(&s->map_lock);
		free(s);
		return NULL;
	}
	s->map_max = map_max < map_initial ? map_initial : map_max;
	if (strlen(path) >= sizeof(s->path)) {
		lmdb_warn(s, "cache %.64s...: path too long; the cache is "
		    "kept in memory only", path);
		lmdb_close(&s->ops);
		return NULL;
	}
	if (!lmdb_dir_ok(s, path)) {
		lmdb_close(&s->ops);
		return NULL;
	}
	if (lmdb_check_child(s, path) != 0) {
		lmdb_close(&s->ops);
		return NULL;
	}
	rc = lmdb_env_open(s, path, map_initial);
	if (rc != 0) {
		lmdb_warn(s, "cache %s: cannot open: %s; the cache is kept "
		    "in memory only", path, mdb_strerror(rc));
		lmdb_close(&s->ops);
		return NULL;
	}
	s->ops.get = lmdb_get;
	s->ops.put = lmdb_put;
	s->ops.del = lmdb_del;
	s->ops.del_many = lmdb_del_many;
	s->ops.iterate = lmdb_iterate;
	s->ops.stats = lmdb_stats;
	s->ops.close = lmdb_close;
	s->ops.name = "lmdb";
	s->ops.max_key = (size_t)mdb_env_get_maxkeysize(s->env);
	return &s->ops;
}
