# callout-common.sh: shared set-up of the integration tests of the
# callout command (tests/callout-dialog.sh, tests/callout-dns.sh), which
# run the real milter/callout against tests/fakedns.py and
# tests/fakesmtp.py.  Sourced, never run; on top of tests/testlib.sh.
#
# Layout: one fakedns on 127.0.0.1:$DPORT with one zone holding every
# scenario's domain; one fakesmtp with one listener per scenario host,
# all on port $SPORT, each on its own loopback address (127.0.0.N, or
# [::1]); an address without a listener refuses connections.  The
# scenarios are declared first (co_zone, co_listen, co_host), then
# co_start starts both servers.  Each co_run marks the end of the shared
# SMTP log, so that co_lines/co_conns see only what came after it: every
# test block starts from a clean state.
#
# What it guarantees: only loopback addresses are used; both servers are
# stopped by pid (testlib's EXIT trap); every wait is bounded.

# shellcheck shell=sh disable=SC2034 # CO_* variables are for the caller
. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"

# co_init: servers' ports, the temp dir, the callout binary; skips (77)
# where python with dnslib or the binary is missing.
co_init() {
	tl_init
	tl_need_python
	tl_tmpdir
	T=$TL_TMPDIR
	CALLOUT=$top_builddir/milter/callout
	[ -x "$CALLOUT" ] || tl_skip_all "$CALLOUT is not built"
	date +%s%N | grep -Eq '^[0-9]+$' ||
		tl_skip_all "date +%s%N is needed to measure times"
	DPORT=$(tl_free_port 127.0.0.1) || tl_bail "no free port"
	co_i=0
	SPORT=$DPORT
	while [ "$SPORT" = "$DPORT" ] && [ "$co_i" -lt 10 ]; do
		SPORT=$(tl_free_port 127.0.0.1) || tl_bail "no free port"
		co_i=$((co_i + 1))
	done
	[ "$SPORT" != "$DPORT" ] || tl_bail "no second free port"
	HAVE_V6=no
	if "$PYTHON3" -c 'import socket, sys
s = socket.socket(socket.AF_INET6)
s.bind(("::1", int(sys.argv[1])))' "$SPORT" 2>/dev/null; then
		HAVE_V6=yes
	fi
	: >"$T/zone"
	co_listeners=
	co_nlisten=0
	CO_OUT=
	co_mark=0
	co_dmark=0
	: >"$T/stderr.all"
}

# co_zone LINE...: add records to the zone (fakedns.py format).
co_zone() {
	printf '%s\n' "$@" >>"$T/zone"
}

# co_listen ADDR SCRIPT: a fake SMTP listener on ADDR:$SPORT (ADDR is
# 127.0.0.N or ::1) following SCRIPT (fakesmtp.py format).
co_listen() {
	co_nlisten=$((co_nlisten + 1))
	printf '%s\n' "$2" >"$T/script.$co_nlisten"
	case $1 in
	*:*) co_listeners="$co_listeners [$1]:$SPORT=$T/script.$co_nlisten" ;;
	*) co_listeners="$co_listeners $1:$SPORT=$T/script.$co_nlisten" ;;
	esac
}

# co_host N SCRIPT: domain dN.test with one MX mxN.test at 127.0.0.N,
# where a listener follows SCRIPT.  An empty SCRIPT gives no listener
# (connection refused).
co_host() {
	co_zone "d$1.test MX 10 mx$1.test" "mx$1.test A 127.0.0.$1"
	[ -z "$2" ] || co_listen "127.0.0.$1" "$2"
}

# co_conf NAME [KEY VALUE]...: write $T/NAME.conf, the base configuration
# with each given "Key value" line replacing the base line of that key.
co_conf() {
	co_file=$T/$1.conf
	shift
	{
		echo "# callout integration test: $co_file"
		echo "Nameservers 127.0.0.1:$DPORT"
		echo "CalloutPort $SPORT"
		echo "CalloutAllowNetworks 127.0.0.2/31 127.0.0.4/30" \
			"127.0.0.8/29 127.0.0.16/28 127.0.0.32/27 ::1"
		echo "CalloutHelo verifier.example"
		echo "CalloutTimeout 1s"
		echo "CalloutConnectTimeout 1s"
		echo "DNSTimeout 1s"
		# 10s is the smallest value the configuration accepts
		echo "CalloutBackgroundTimeout 10s"
	} >"$co_file.base"
	for co_l in "$@"; do
		co_k=${co_l%% *}
		grep -v -i "^$co_k " "$co_file.base" >"$co_file.tmp"
		mv "$co_file.tmp" "$co_file.base"
	done
	{
		cat "$co_file.base"
		for co_l in "$@"; do
			echo "$co_l"
		done
	} >"$co_file"
	rm -f "$co_file.base"
}

# co_start: start fakedns and fakesmtp, write the default configuration
# $T/base.conf (used by co_run unless -c is given).
co_start() {
	tl_start_fakedns "$T/zone" "127.0.0.1:$DPORT"
	co_args=
	for co_l in $co_listeners; do
		co_args="$co_args --listen $co_l"
	done
	# shellcheck disable=SC2086 # a list of words
	tl_start_fakesmtp $co_args
	co_conf base
	CO_CONF=$T/base.conf
}

co_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# co_count FILE: its number of lines.
co_count() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# co_new: the SMTP log lines written since the last co_run started.
co_new() {
	tail -n +"$((co_mark + 1))" "$TL_SMTP_LOG"
}

# co_settle [SECONDS]: wait (at most 3 s) until every connection opened
# since the mark is closed, so that the log holds all it will hold.
co_settled() {
	[ "$(co_new | grep -c ' #[0-9]* connect ')" = \
	  "$(co_new | grep -c ' #[0-9]* close (')" ]
}
co_settle() {
	tl_wait "${1:-3}" co_settled || true
}

# co_run [-c CONF] [-s SETTLE] ADDRESS...: run "callout -v" and set
# CO_OUT (its standard output), CO_ERR (its standard error, which should
# stay empty; all runs' are kept for co_done), CO_RC (exit status), CO_MS (wall time in ms),
# CO_RES (the result lines, without the -v transcript), CO_VC ("verdict
# (class)" of the first address), CO_MSG (its message).
co_run() {
	co_conf_used=$CO_CONF
	co_wait=3
	while [ $# -gt 0 ]; do
		case $1 in
		-c) co_conf_used=$2; shift 2 ;;
		-s) co_wait=$2; shift 2 ;;
		*) break ;;
		esac
	done
	co_mark=$(co_count "$TL_SMTP_LOG")
	co_dmark=$(co_count "$TL_DNS_LOG")
	co_t0=$(co_now_ms)
	CO_OUT=$("$CALLOUT" -c "$co_conf_used" -v "$@" 2>"$T/stderr.last")
	CO_RC=$?
	CO_ERR=$(cat "$T/stderr.last")
	cat "$T/stderr.last" >>"$T/stderr.all"
	CO_MS=$(($(co_now_ms) - co_t0))
	CO_RES=$(printf '%s\n' "$CO_OUT" |
		grep -Ev '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ')
	co_first=$(printf '%s\n' "$CO_RES" | head -n 1)
	CO_VC=$(printf '%s\n' "$co_first" |
		grep -oE ': (verified|failed|unknown) \([^)]*\): ' | head -n 1 |
		sed -e 's/^: //' -e 's/: $//')
	CO_MSG=${co_first#*"$CO_VC: "}
	[ "$co_wait" = 0 ] || co_settle "$co_wait"
}

# co_lines ADDR: the lines the listener on ADDR received since the mark,
# as "#CONN LINE" (CONN numbered from 1 per listener by fakesmtp).
co_lines() {
	case $1 in
	*:*) co_p="[$1]:$SPORT #" ;;
	*) co_p="$1:$SPORT #" ;;
	esac
	co_new | awk -v p="$co_p" 'index($0, p) == 1 && $3 == "<" {
		sub(/^[^ ]+ /, ""); sub(/ < /, " "); print }'
}

# co_conns ADDR: how many connections the listener on ADDR accepted
# since the mark.
co_conns() {
	case $1 in
	*:*) co_p="[$1]:$SPORT #" ;;
	*) co_p="$1:$SPORT #" ;;
	esac
	co_new | awk -v p="$co_p" 'index($0, p) == 1 && $3 == "connect" {
		n++ } END { print n + 0 }'
}

# co_want LINE...: the expected co_lines; a LINE not starting with "#"
# gets "#1 " (the first connection) in front.
co_want() {
	for co_l in "$@"; do
		case $co_l in
		\#*) printf '%s\n' "$co_l" ;;
		*) printf '#1 %s\n' "$co_l" ;;
		esac
	done
}

# co_begin NAME ... co_end: one test block.  co_end prints the callout
# output and the servers' log lines as diagnostics if a check failed
# (and the result lines always, if CO_VERBOSE is set).
co_begin() {
	CO_NAME=$1
	co_failed_before=$tl_failed
}
co_end() {
	[ -z "${CO_VERBOSE:-}" ] || tl_diag "$CO_NAME ($CO_MS ms): $CO_RES"
	if [ "$tl_failed" -gt "$co_failed_before" ]; then
		tl_diag "--- $CO_NAME: callout output (exit $CO_RC," \
			"$CO_MS ms):"
		tl_diag "$CO_OUT"
		[ -z "$CO_ERR" ] || tl_diag "--- stderr:" "$CO_ERR"
		tl_diag "--- $CO_NAME: SMTP log since the run:"
		tl_diag "$(co_new)"
		tl_diag "--- $CO_NAME: DNS log since the run:"
		tl_diag "$(tail -n +"$((co_dmark + 1))" "$TL_DNS_LOG")"
	fi
}

# co_expect VC STATUS ADDR WANT: the usual three checks of a block:
# "verdict (class)", exit status, and the exact lines ADDR received (with
# a CalloutRandom local part shown as callout-RANDOM-testing).
co_expect() {
	tl_is "$CO_VC" "$1" "$CO_NAME: $1"
	tl_is "$CO_RC" "$2" "$CO_NAME: exit status $2"
	tl_is "$(co_lines "$3" |
		sed -E 's/callout-[0-9a-f]{12}-testing@/callout-RANDOM-testing@/')" \
		"$4" "$CO_NAME: lines received by $3"
}

# co_done: check that no run wrote to stderr (a sanitizer report, a
# warning), then end the test (tl_done).
co_done() {
	tl_is "$(cat "$T/stderr.all" 2>/dev/null)" "" \
		"callout wrote nothing to stderr in any run"
	tl_done
}

# co_skip N REASON: N skipped checks.
co_skip() {
	co_i=0
	while [ "$co_i" -lt "$1" ]; do
		tl_n=$((tl_n + 1))
		echo "ok $tl_n # SKIP $2"
		co_i=$((co_i + 1))
	done
}
