#!/bin/sh
# cache-cli.sh: the "callout cache show|purge|stats" subcommands on an
# LMDB file that "test-cache --fill" stores known records into: what
# they print, what purge removes, and the exit status for a memory or
# Redis cache, a missing file, a bad key and bad usage.
#
# No network, no server; the temp dir is removed at exit.

. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"
tl_init
tl_tmpdir
T=$TL_TMPDIR
CALLOUT=$top_builddir/milter/callout
FILL=$top_builddir/tests/test-cache
[ -x "$CALLOUT" ] || tl_skip_all "$CALLOUT is not built"
[ -x "$FILL" ] || tl_skip_all "$FILL is not built"

printf 'Cache lmdb:%s/cache.mdb\n' "$T" >"$T/lmdb.conf"
printf 'Cache memory\n' >"$T/memory.conf"
printf 'Cache lmdb:%s/none.mdb\n' "$T" >"$T/none.conf"

# co NAME ARGS...: run callout, keep stdout in OUT, the status in RC
co() {
	OUT=$("$CALLOUT" "$@" 2>"$T/stderr")
	RC=$?
}

tl_ok "fill the cache file" "$FILL" --fill "$T/cache.mdb"

co -c "$T/lmdb.conf" cache stats
tl_is "$RC" 0 "stats: exit 0"
tl_like "$OUT" '^entries 5$' "stats: 5 records"
tl_like "$OUT" '^bytes [1-9][0-9]*$' "stats: bytes in use"

co -c "$T/lmdb.conf" cache show user@example.org
tl_is "$RC" 0 "show address: exit 0"
tl_is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 \
	"show address: one line per probe sender"
tl_like "$OUT" '^a:example.org:user verified rcpt stored [0-9T:-]+Z expires [0-9T:-]+Z mx mx.example.org \[192.0.2.1\] "stored by the test"$' \
	"show address: the line for MAIL FROM:<>"
tl_like "$OUT" '^a:example.org:user/probe@me.example verified rcpt ' \
	"show address: the line for another probe sender"

co -c "$T/lmdb.conf" cache show EXAMPLE.org
tl_is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 \
	"show domain: all its addresses"
co -c "$T/lmdb.conf" cache show strict.example
tl_like "$OUT" '^d:strict.example refuses-null-sender failed null-sender' \
	"show domain: the null-sender fact"

co -c "$T/lmdb.conf" cache purge nobody@example.org
tl_is "$RC $OUT" "0 nobody@example.org: 1 record removed" "purge address"
co -c "$T/lmdb.conf" cache show nobody@example.org
tl_is "$RC $OUT" "1 nobody@example.org: not in the cache" \
	"purged address: not in the cache, exit 1"
co -c "$T/lmdb.conf" cache purge example.org
tl_is "$RC $OUT" "0 example.org: 2 records removed" "purge domain"
co -c "$T/lmdb.conf" cache stats
tl_like "$OUT" '^entries 2$' "stats after purges: 2 records left"

co -c "$T/memory.conf" cache show example.org
tl_is "$RC" 69 "memory cache: exit 69"
tl_like "$(cat "$T/stderr")" 'in memory only' "memory cache: says so"
co -c "$T/none.conf" cache stats
tl_is "$RC" 69 "no cache file: exit 69"
co -c "$T/lmdb.conf" cache show 'bad key@'
tl_is "$RC" 64 "bad key: exit 64"
co -c "$T/lmdb.conf" cache show
tl_is "$RC" 64 "show without a key: exit 64"
co -c "$T/lmdb.conf" cache frobnicate x
tl_is "$RC" 64 "unknown subcommand: exit 64"

tl_done
