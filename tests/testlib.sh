# testlib.sh: helpers for the shell tests of callout-milter (POSIX sh).
#
# Source it, then call tl_init first:
#
#	. "${top_srcdir:-..}/tests/testlib.sh"
#	tl_init
#	tl_need_python
#	tl_start_fakedns "$zone" "127.0.0.1:$port"
#	tl_is "$(some command)" "expected" "what it checks"
#	tl_done
#
# What it guarantees: every server started through tl_start_* is killed
# (SIGTERM, then SIGKILL after 5 s) and reaped by the EXIT trap that
# tl_init sets, also when the test fails or is interrupted; the temp dir
# of tl_tmpdir is removed then too (kept if TL_KEEP is set).  Every wait is
# bounded.  Output is TAP: "ok N - name", "not ok N - name" followed by
# "# got:"/"# want:" lines, and the plan "1..N" printed by tl_done (or up
# front by tl_plan N).  tl_done exits 1 if any check failed.
#
# Environment: PYTHON3 (default /usr/bin/python3), top_srcdir and
# top_builddir (default: the directory above this file, and ".").
#
# Variables set for the caller: TL_TMPDIR (tl_tmpdir); TL_DNS_PID,
# TL_DNS_LOG and TL_DNS_PIDFILE (tl_start_fakedns); TL_SMTP_PID,
# TL_SMTP_LOG, TL_SMTP_STATS and TL_SMTP_PIDFILE (tl_start_fakesmtp, whose
# ARGS must not contain --pidfile); TL_PIDS (every pid started); TL_TESTS
# (the tests source dir, where fakedns.py and fakesmtp.py live).
# Each server's stderr goes to its pidfile name + ".err".

# shellcheck shell=sh disable=SC2034 # TL_* variables are for the caller
tl_n=0
tl_failed=0
tl_planned=
TL_PIDS=
TL_TMPDIR=
tl_serial=0

# tl_init: set defaults and the traps that stop every server at exit.
tl_init() {
	: "${PYTHON3:=/usr/bin/python3}"
	if [ -z "${top_srcdir:-}" ]; then
		top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
	fi
	: "${top_builddir:=.}"
	TL_TESTS=$top_srcdir/tests
	export PYTHON3 top_srcdir top_builddir
	trap 'tl_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

tl_cleanup() {
	tl_status=$?
	tl_stop_all
	if [ -n "$TL_TMPDIR" ] && [ -z "${TL_KEEP:-}" ]; then
		rm -rf "$TL_TMPDIR"
	elif [ -n "$TL_TMPDIR" ]; then
		echo "# kept $TL_TMPDIR"
	fi
	exit "$tl_status"
}

# tl_tmpdir: create $TL_TMPDIR (once), removed at exit.  Call it directly,
# not in $(...), or the variable is lost.
tl_tmpdir() {
	if [ -z "$TL_TMPDIR" ]; then
		TL_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/callout-test.XXXXXX") ||
			tl_bail "cannot create a temp dir"
	fi
}

# tl_bail MESSAGE: stop the test as failed.
tl_bail() {
	echo "Bail out! $*"
	exit 99
}

# tl_skip_all REASON: the test cannot run here; exit 77 (SKIP).
tl_skip_all() {
	echo "# SKIP $*"
	exit 77
}

# tl_need_python: skip unless PYTHON3 runs and imports dnslib.  If
# $PYTHON3 lacks dnslib (a pyenv or venv python found first in PATH),
# /usr/bin/python3 is tried and used instead.
tl_need_python() {
	if "$PYTHON3" -c 'import dnslib' >/dev/null 2>&1; then
		return 0
	fi
	if [ "$PYTHON3" != /usr/bin/python3 ] &&
	   /usr/bin/python3 -c 'import dnslib' >/dev/null 2>&1; then
		echo "# $PYTHON3 lacks dnslib, using /usr/bin/python3"
		PYTHON3=/usr/bin/python3
		export PYTHON3
		return 0
	fi
	tl_skip_all "python3 with dnslib is needed (Debian: python3-dnslib)"
}

# tl_free_port [ADDR]: print a TCP and UDP port free on ADDR (127.0.0.1).
tl_free_port() {
	"$PYTHON3" - "${1:-127.0.0.1}" <<'EOF'
import socket, sys
addr = sys.argv[1]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
for _ in range(50):
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.bind((addr, 0))
    port = t.getsockname()[1]
    u = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        u.bind((addr, port))
    except OSError:
        continue
    finally:
        u.close()
        t.close()
    print(port)
    sys.exit(0)
sys.exit(1)
EOF
}

# tl_wait_pidfile PID PIDFILE NAME: wait (at most 10 s) until the server
# wrote its pidfile, which it does once it listens.
tl_wait_pidfile() {
	tl_i=0
	while [ "$tl_i" -lt 100 ]; do
		if [ -s "$2" ]; then
			return 0
		fi
		if ! kill -0 "$1" 2>/dev/null; then
			tl_bail "$3 (pid $1) died at start: $(cat "$2.err" 2>/dev/null)"
		fi
		sleep 0.1
		tl_i=$((tl_i + 1))
	done
	tl_bail "$3 (pid $1) not listening after 10 s: $(cat "$2.err" 2>/dev/null)"
}

# tl_wait SECONDS COMMAND [ARGS...]: poll COMMAND every 0.1 s until it
# succeeds (return 0) or SECONDS (an integer) pass (return 1).
tl_wait() {
	tl_w=$(($1 * 10))
	shift
	while [ "$tl_w" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tl_w=$((tl_w - 1))
	done
	return 1
}

# tl_start_fakedns ZONE ADDR:PORT...: start fakedns.py in the background;
# sets TL_DNS_PID and TL_DNS_LOG; returns once it answers.
tl_start_fakedns() {
	tl_tmpdir
	tl_serial=$((tl_serial + 1))
	tl_zone=$1
	shift
	tl_args=
	for tl_l in "$@"; do
		tl_args="$tl_args --listen $tl_l"
	done
	TL_DNS_LOG=$TL_TMPDIR/fakedns.$tl_serial.log
	tl_pidf=$TL_TMPDIR/fakedns.$tl_serial.pid
	TL_DNS_PIDFILE=$tl_pidf
	# shellcheck disable=SC2086 # tl_args is a list of words
	"$PYTHON3" "$TL_TESTS/fakedns.py" --zone "$tl_zone" $tl_args \
		--pidfile "$tl_pidf" --log "$TL_DNS_LOG" \
		</dev/null 2>"$tl_pidf.err" &
	TL_DNS_PID=$!
	TL_PIDS="$TL_PIDS $TL_DNS_PID"
	tl_wait_pidfile "$TL_DNS_PID" "$tl_pidf" fakedns
}

# tl_start_fakesmtp ARGS...: start fakesmtp.py ARGS in the background
# with a pidfile, and --log/--stats in TL_TMPDIR unless ARGS give them;
# sets TL_SMTP_PID, TL_SMTP_LOG, TL_SMTP_STATS; returns once it listens.
tl_start_fakesmtp() {
	tl_tmpdir
	tl_serial=$((tl_serial + 1))
	TL_SMTP_LOG=$TL_TMPDIR/fakesmtp.$tl_serial.log
	TL_SMTP_STATS=$TL_TMPDIR/fakesmtp.$tl_serial.stats
	tl_pidf=$TL_TMPDIR/fakesmtp.$tl_serial.pid
	TL_SMTP_PIDFILE=$tl_pidf
	tl_prev=
	for tl_a in "$@"; do
		case $tl_prev in
		--log) TL_SMTP_LOG=$tl_a ;;
		--stats) TL_SMTP_STATS=$tl_a ;;
		esac
		case $tl_a in
		--log=*) TL_SMTP_LOG=${tl_a#--log=} ;;
		--stats=*) TL_SMTP_STATS=${tl_a#--stats=} ;;
		esac
		tl_prev=$tl_a
	done
	"$PYTHON3" "$TL_TESTS/fakesmtp.py" --log "$TL_SMTP_LOG" \
		--stats "$TL_SMTP_STATS" --pidfile "$tl_pidf" "$@" \
		</dev/null 2>"$tl_pidf.err" &
	TL_SMTP_PID=$!
	TL_PIDS="$TL_PIDS $TL_SMTP_PID"
	tl_wait_pidfile "$TL_SMTP_PID" "$tl_pidf" fakesmtp
}

# tl_stop PID: stop one server started here (TERM, KILL after 5 s), reap it.
tl_stop() {
	kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	tl_i=0
	while kill -0 "$1" 2>/dev/null && [ "$tl_i" -lt 50 ]; do
		sleep 0.1
		tl_i=$((tl_i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	tl_rest=
	for tl_p in $TL_PIDS; do
		[ "$tl_p" = "$1" ] || tl_rest="$tl_rest $tl_p"
	done
	TL_PIDS=$tl_rest
	return 0
}

# tl_stop_all: stop every server started through this library.
tl_stop_all() {
	for tl_p in $TL_PIDS; do
		tl_stop "$tl_p"
	done
	TL_PIDS=
}

# tl_plan N: print the plan up front (optional; tl_done prints it else).
tl_plan() {
	tl_planned=$1
	echo "1..$1"
}

tl_result() {
	tl_n=$((tl_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tl_n - $2"
	else
		echo "not ok $tl_n - $2"
		tl_failed=$((tl_failed + 1))
	fi
}

# tl_ok NAME COMMAND [ARGS...]: ok if COMMAND succeeds (its stdout goes to
# stderr so it cannot disturb TAP).
tl_ok() {
	tl_name=$1
	shift
	"$@" >&2
	tl_result $? "$tl_name"
}

# tl_is GOT WANT NAME: ok if the strings are equal.
tl_is() {
	if [ "$1" = "$2" ]; then
		tl_result 0 "$3"
	else
		tl_result 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   got: /'
		printf '%s\n' "$2" | sed 's/^/#  want: /'
	fi
}

# tl_like GOT ERE NAME: ok if GOT (any line of it) matches the ERE.
tl_like() {
	if printf '%s\n' "$1" | grep -E -q -e "$2"; then
		tl_result 0 "$3"
	else
		tl_result 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   got: /'
		echo "#  want: /$2/"
	fi
}

# tl_diag TEXT: a TAP comment.
tl_diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# tl_done: print the plan (unless tl_plan did) and exit 0, or 1 on failure.
tl_done() {
	if [ -z "$tl_planned" ]; then
		echo "1..$tl_n"
	elif [ "$tl_planned" -ne "$tl_n" ]; then
		echo "# planned $tl_planned tests but ran $tl_n"
		tl_failed=$((tl_failed + 1))
	fi
	[ "$tl_failed" -eq 0 ] && exit 0
	exit 1
}
