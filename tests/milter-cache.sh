#!/bin/sh
# milter-cache.sh: the daemon's verdict cache across restarts and when
# its file is bad (issue 5): a verdict found by a probe is served from
# the LMDB file after a restart of the daemon, with no new connection;
# a cache file in a directory that does not exist, and a corrupt cache
# file, are logged and leave verification working, with nothing
# rejected because of them.  Loopback only (tests/milter-common.sh).

. "${top_srcdir:-$(dirname "$0")/..}/tests/milter-common.sh"
mt_init
mt_world

# one RCPT for SENDER; sets MT_OUT, MT_CONNS, MT_NEWLOG
rcpt_one() {
	{
		mt_pre "$1"
		mt_want "rcpt <user@example.net>" quit
	} >"$T/scenario"
	mt_run
}

# ---- a verdict survives a restart of the daemon
mt_conf lmdb "Cache lmdb:$T/cache.mdb"
mt_daemon lmdb
rcpt_one good1@ok.test
tl_is "$MT_CONNS" 1 "first daemon: the sender is probed"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" "first daemon: accepted"
rcpt_one bad1@ok.test
tl_like "$MT_OUT" "  550 5.1.7 Sender verify failed" "first daemon: bad1 rejected"
mt_stop
tl_is "$MT_STATUS" 0 "first daemon stops cleanly"
tl_ok "the cache file is there" test -s "$T/cache.mdb"

mt_daemon lmdb
rcpt_one good1@ok.test
tl_is "$MT_CONNS" 0 "after a restart: no new connection for good1"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" \
	"after a restart: good1 still accepted"
tl_like "$MT_NEWLOG" "sender verify ok for <good1@ok.test>: .* cached=yes " \
	"after a restart: the decision is logged as cached"
rcpt_one bad1@ok.test
tl_is "$MT_CONNS" 0 "after a restart: no new connection for bad1"
tl_like "$MT_OUT" "  550-5.1.7 Previous \\(cached\\) callout verification failure" \
	"after a restart: bad1 rejected from the cache"
mt_stop

# ---- a cache file that cannot be made: warning, verification works
mt_conf nodir "Cache lmdb:$T/no/such/dir/cache.mdb"
mt_daemon nodir
tl_like "$(mt_mask <"$MT_LOG")" \
	"^cache $T/no/such/dir/cache.mdb: .*the cache is kept in memory only" \
	"unusable cache location: a warning names the file, memory only"
rcpt_one good2@ok.test
tl_is "$MT_CONNS" 1 "unusable cache location: the sender is probed"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" \
	"unusable cache location: a good sender is accepted"
rcpt_one good2@ok.test
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" \
	"unusable cache location: the memory level still answers"
mt_stop

# ---- a corrupt cache file: warning, verification works
head -c 65536 /dev/urandom >"$T/corrupt.mdb"
mt_conf corrupt "Cache lmdb:$T/corrupt.mdb"
mt_daemon corrupt
tl_like "$(mt_mask <"$MT_LOG")" \
	"^cache $T/corrupt.mdb: the file is damaged.*kept in memory only" \
	"corrupt cache file: a warning names the file, memory only"
rcpt_one good3@ok.test
tl_is "$MT_CONNS" 1 "corrupt cache file: the sender is probed"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" \
	"corrupt cache file: a good sender is accepted, nothing rejected"
rcpt_one bad3@ok.test
tl_like "$MT_OUT" "  550 5.1.7 Sender verify failed" \
	"corrupt cache file: a bad sender is still rejected by its probe"
mt_stop

tl_done
