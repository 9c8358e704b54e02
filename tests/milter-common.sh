# milter-common.sh: shared set-up of the milter protocol tests
# (tests/milter-sender.sh, tests/milter-header.sh, tests/milter-config.sh),
# which run the real daemon (milter/callout-milter -f) and talk to it
# through tests/milterclient.py as an MTA would, with tests/fakedns.py and
# tests/fakesmtp.py playing the sender domains.  Sourced, never run; on
# top of tests/testlib.sh.
#
# Layout: one fakedns on 127.0.0.1:$DPORT with one zone (mt_zone); one
# fakesmtp with a listener per mail host on 127.0.0.N:$SPORT (mt_listen);
# an address without a listener refuses connections.  mt_start starts
# both.  The daemon runs with a configuration written by mt_conf, its
# socket a unix socket in the temp dir, its stderr (the log) a file.
# Clients in the scenarios use documentation addresses (192.0.2.0/24,
# 2001:db8::/32): they are only strings in the milter protocol, no
# traffic goes there.
#
# What it guarantees: only loopback is used; the servers and every
# daemon are stopped by pid (testlib's EXIT trap, or mt_stop); every wait
# is bounded.

# shellcheck shell=sh disable=SC2034,SC2154 # MT_* are for the caller; tl_*
# and top_* come from testlib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"

# mt_init: ports, temp dir, binaries; skips (77) where something lacks.
mt_init() {
	tl_init
	tl_need_python
	tl_tmpdir
	T=$TL_TMPDIR
	MILTER=$top_builddir/milter/callout-milter
	[ -x "$MILTER" ] || tl_skip_all "$MILTER is not built"
	date +%s%N | grep -Eq '^[0-9]+$' ||
		tl_skip_all "date +%s%N is needed to measure times"
	DPORT=$(tl_free_port) || tl_bail "no free port"
	SPORT=$DPORT
	mt_i=0
	while [ "$SPORT" = "$DPORT" ] && [ "$mt_i" -lt 10 ]; do
		SPORT=$(tl_free_port) || tl_bail "no free port"
		mt_i=$((mt_i + 1))
	done
	[ "$SPORT" != "$DPORT" ] || tl_bail "no second free port"
	: >"$T/zone"
	mt_listeners=
	mt_nlisten=0
	mt_ndaemon=0
	mt_smark=0
	MT_PID=
	MT_OUT=
	MT_LOG=
}

# mt_zone LINE...: records for the zone (fakedns.py format).
mt_zone() {
	printf '%s\n' "$@" >>"$T/zone"
}

# mt_listen ADDR SCRIPT: a fake SMTP server on ADDR:$SPORT.
mt_listen() {
	mt_nlisten=$((mt_nlisten + 1))
	printf '%s\n' "$2" >"$T/script.$mt_nlisten"
	mt_listeners="$mt_listeners $1:$SPORT=$T/script.$mt_nlisten"
}

# mt_start: start fakedns and fakesmtp.
mt_start() {
	tl_start_fakedns "$T/zone" "127.0.0.1:$DPORT"
	mt_args=
	for mt_l in $mt_listeners; do
		mt_args="$mt_args --listen $mt_l"
	done
	# shellcheck disable=SC2086 # a list of words
	tl_start_fakesmtp $mt_args
}

# mt_conf NAME [LINE]...: write $T/NAME.conf: the base configuration, a
# given "Key value" LINE replacing the base line of its key.
mt_conf() {
	mt_file=$T/$1.conf
	shift
	{
		echo "Socket unix:$T/m.sock"
		echo "UserID"
		echo "Nameservers 127.0.0.1:$DPORT"
		echo "CalloutPort $SPORT"
		echo "CalloutAllowNetworks 127.0.0.2/31 127.0.0.4/30" \
			"127.0.0.8/29 ::1"
		echo "CalloutHelo verifier.example"
		echo "CalloutTimeout 1s"
		echo "CalloutConnectTimeout 1s"
		echo "DNSTimeout 1s"
		echo "CalloutMaxWait 5s"
		echo "ExemptHosts 127.0.0.0/8 ::1"
		# the cache lives and dies with the daemon; SPF is not what
		# these tests are about
		echo "Cache memory"
		echo "SPF no"
	} >"$mt_file.base"
	for mt_l in "$@"; do
		mt_k=${mt_l%% *}
		grep -v -i "^$mt_k " "$mt_file.base" >"$mt_file.tmp"
		mv "$mt_file.tmp" "$mt_file.base"
	done
	{
		cat "$mt_file.base"
		for mt_l in "$@"; do
			echo "$mt_l"
		done
	} >"$mt_file"
	rm -f "$mt_file.base"
}

# mt_count FILE: its number of lines.
mt_count() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

mt_listening() {
	grep -qs ' listening on ' "$MT_LOG"
}

# mt_daemon CONFNAME: start the daemon (stopping the one running) on
# $T/run.conf, a copy of $T/CONFNAME.conf; sets MT_PID and MT_LOG (its
# stderr).  Returns once the daemon says it listens.
mt_daemon() {
	[ -z "$MT_PID" ] || mt_stop
	mt_ndaemon=$((mt_ndaemon + 1))
	MT_LOG=$T/daemon.$mt_ndaemon.log
	MT_CONF=$T/run.conf
	cp "$T/$1.conf" "$MT_CONF"
	"$MILTER" -c "$MT_CONF" -f </dev/null 2>"$MT_LOG" &
	MT_PID=$!
	TL_PIDS="$TL_PIDS $MT_PID"
	mt_lmark=0
	mt_i=0
	until mt_listening; do
		if ! kill -0 "$MT_PID" 2>/dev/null || [ "$mt_i" -ge 200 ]; then
			tl_bail "callout-milter $1 did not start: $(cat "$MT_LOG")"
		fi
		sleep 0.1
		mt_i=$((mt_i + 1))
	done
	mt_lmark=$(mt_count "$MT_LOG")
}

mt_reloaded() {
	[ "$(grep -c -e 'configuration reloaded from ' -e 'reload failed' \
		"$MT_LOG")" -gt "$mt_nreload" ]
}

# mt_reconf CONFNAME: switch the running daemon to $T/CONFNAME.conf by a
# reload (SIGHUP), faster than a restart (libmilter takes up to 5 s to
# stop); returns once the daemon logged the reload.
mt_reconf() {
	mt_nreload=$(grep -c -e 'configuration reloaded from ' \
		-e 'reload failed' "$MT_LOG")
	cp "$T/$1.conf" "$MT_CONF"
	kill -HUP "$MT_PID"
	tl_wait 10 mt_reloaded ||
		tl_bail "callout-milter did not reload $1: $(tail -n 3 "$MT_LOG")"
	mt_lmark=$(mt_count "$MT_LOG")
}

# mt_stop: stop the daemon (SIGTERM, wait, at most 10 s then SIGKILL;
# libmilter's smfi_stop() alone may take 5 s);
# sets MT_STATUS to its exit status.
mt_stop() {
	MT_STATUS=
	[ -n "$MT_PID" ] || return 0
	kill -TERM "$MT_PID" 2>/dev/null
	mt_i=0
	while kill -0 "$MT_PID" 2>/dev/null && [ "$mt_i" -lt 100 ]; do
		sleep 0.1
		mt_i=$((mt_i + 1))
	done
	kill -KILL "$MT_PID" 2>/dev/null
	wait "$MT_PID"
	MT_STATUS=$?
	mt_check_sanitizer
	mt_forget "$MT_PID"
	MT_PID=
}

# mt_forget PID: a process started here was reaped: the cleanup at exit
# must not signal its pid, which may belong to someone else by then.
mt_forget() {
	mt_rest=
	for mt_p in $TL_PIDS; do
		[ "$mt_p" = "$1" ] || mt_rest="$mt_rest $mt_p"
	done
	TL_PIDS=$mt_rest
}

# mt_check_sanitizer: one check that the daemon's log holds no report of
# AddressSanitizer, LeakSanitizer or UBSan.
mt_check_sanitizer() {
	tl_is "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: ' \
		"$MT_LOG")" "" "daemon $mt_ndaemon: no sanitizer report"
}

# mt_mask: a log line without its time stamp, elapsed=N for the time.
mt_mask() {
	sed -e 's/^[0-9-]* [0-9:.]* callout-milter: //' \
		-e 's/ elapsed=[0-9]*$/ elapsed=N/'
}

# mt_new: the daemon's log lines since the last mt_run started, masked.
mt_new() {
	tail -n +"$((mt_lmark + 1))" "$MT_LOG" | mt_mask
}

# mt_conns: connections fakesmtp accepted since the last mt_run started.
mt_conns() {
	tail -n +"$((mt_smark + 1))" "$TL_SMTP_LOG" |
		awk '$3 == "connect" { n++ } END { print n + 0 }'
}

mt_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# mt_run [-s SOCKET]: run the client with the script $T/scenario (not in
# a pipeline: the variables would be lost in its subshell); sets MT_OUT
# (its output), MT_RC (status), MT_MS (wall time), MT_NEWLOG (the
# daemon's new log lines, masked), MT_CONNS (new SMTP connections),
# MT_DNSQ (DNS queries fakedns answered).
mt_run() {
	mt_sock=$T/m.sock
	if [ "${1:-}" = -s ]; then
		mt_sock=$2
		shift 2
	fi
	mt_lmark=$(mt_count "$MT_LOG")
	mt_smark=$(mt_count "$TL_SMTP_LOG")
	mt_dmark=$(mt_count "$TL_DNS_LOG")
	mt_t0=$(mt_now_ms)
	MT_OUT=$("$PYTHON3" "$TL_TESTS/milterclient.py" -t 20 \
		--timing "$T/timing" "unix:$mt_sock" "$T/scenario" 2>&1)
	MT_RC=$?
	MT_MS=$(($(mt_now_ms) - mt_t0))
	# the callout's QUIT is not waited for: let its close be logged
	# (unless MT_NOSETTLE: a probe going on in the background)
	[ -n "${MT_NOSETTLE:-}" ] || mt_settle
	MT_NEWLOG=$(mt_new)
	MT_CONNS=$(mt_conns)
	MT_DNSQ=$(tail -n +"$((mt_dmark + 1))" "$TL_DNS_LOG" |
		grep -c -E '^(udp|tcp) ')
}

# mt_step_ms STEP: how long the client waited for the answer to STEP (a
# script line) in the last mt_run, in ms.
mt_step_ms() {
	awk -F '\t' -v s="$1" '$1 == s { printf "%d\n", $2 * 1000 }' \
		"$T/timing"
}

mt_settled() {
	[ "$(tail -n +"$((mt_smark + 1))" "$TL_SMTP_LOG" |
		grep -c ' #[0-9]* connect ')" = \
	  "$(tail -n +"$((mt_smark + 1))" "$TL_SMTP_LOG" |
		grep -c ' #[0-9]* close (')" ]
}
mt_settle() {
	tl_wait 3 mt_settled || true
}

# mt_want LINE...: the lines, one per line (for expected values).
mt_want() {
	printf '%s\n' "$@"
}

# mt_expect NAME WANT_OUT WANT_LOG [CONNS]: the checks of one scenario:
# the client's exact output (and status 0), the daemon's exact new log
# lines, and, when given, how many connections the fake SMTP servers got.
mt_expect() {
	mt_failed_before=$tl_failed
	tl_is "$MT_OUT" "$2" "$1: replies"
	tl_is "$MT_NEWLOG" "$3" "$1: log"
	[ -z "${4:-}" ] || tl_is "$MT_CONNS" "$4" "$1: $4 callout connections"
	if [ "$tl_failed" -gt "$mt_failed_before" ]; then
		tl_diag "--- $1: client status $MT_RC, $MT_MS ms; SMTP log:"
		tl_diag "$(tail -n +"$((mt_smark + 1))" "$TL_SMTP_LOG")"
	fi
}

# mt_world: the sender domains of the scenarios, and start the servers.
#   ok.test          MX mx.ok.test (127.0.0.2), which knows good@ and
#                    good1@ ... good30@, answers 451 for temp@ and tempN@,
#                    550 5.7.1 (a refused probe) for policy@ and policyN@
#                    (N 1 to 5), never answers RCPT for slow@, and 550
#                    5.1.1 for anyone else (bad@, badN@, ...)
#   nullsender.test, nullsender2.test  MX 127.0.0.3, which refuses
#                    MAIL FROM:<>
#   refused.test     MX 127.0.0.4, where nothing listens
#   servfail.test    SERVFAIL;  nullmx.test  MX 0 .;  anything else NXDOMAIN
#   exempt.test, exempt1.test, exempt2.test, skip.test: MX mx.ok.test
# and $T/senders.list, a file: list with file-listed@ok.test.  The
# daemon caches verdicts: a scenario that wants a fresh probe uses an
# address no other scenario of its daemon used.
mt_world() {
	mt_zone "ok.test MX 10 mx.ok.test" "mx.ok.test A 127.0.0.2" \
		"nullsender.test MX 10 mx.nullsender.test" \
		"nullsender2.test MX 10 mx.nullsender.test" \
		"mx.nullsender.test A 127.0.0.3" \
		"refused.test MX 10 mx.refused.test" \
		"mx.refused.test A 127.0.0.4" \
		"servfail.test SERVFAIL" "nullmx.test MX 0 ." \
		"exempt.test MX 10 mx.ok.test" "exempt1.test MX 10 mx.ok.test" \
		"exempt2.test MX 10 mx.ok.test" "skip.test MX 10 mx.ok.test"
	mt_listen 127.0.0.2 "$(
		for mt_i in '' $(seq 1 30); do
			echo "rcpt <good$mt_i@ok.test> 250 2.1.5 Ok"
		done
		for mt_i in '' 1 2 3 4 5; do
			echo "rcpt <temp$mt_i@ok.test> 451 4.3.0 Temporary failure"
			echo "rcpt <policy$mt_i@ok.test> 550 5.7.1 Client host" \
				"rejected: go away"
		done
		echo "rcpt <slow@ok.test> none"
		echo "rcpt 550 5.1.1 No such user")"
	mt_listen 127.0.0.3 'mail <> 550 5.1.8 we do not accept bounces'
	mt_start
	printf '%s\n' '# senders from a file: list' 'file-listed@ok.test' \
		>"$T/senders.list"
}

# The scenarios' client: 192.0.2.7, client.example, queue id 4AbCdE1.
QID=4AbCdE1
H="$QID H=client.example [192.0.2.7]"

# mt_pre SENDER [ADDR] [NAME]: the script up to MAIL, with Postfix's
# macros; with AUTH set, the client is authenticated as $AUTH.
mt_pre() {
	mt_want "macro v Postfix 3.7.11" \
		"connect ${3:-client.example} ${2:-192.0.2.7}" \
		"helo ${3:-client.example}" "macro i $QID"
	[ -z "${AUTH:-}" ] || echo "macro auth_authen $AUTH"
	echo "mail <$1>"
}

# mt_pre_out SENDER [MAILRESULT]: its output when nothing is decided yet.
mt_pre_out() {
	mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <$1> -> ${2:-continue}"
}

# mt_ok_log ADDR: the log line of a sender mx.ok.test knows.
mt_ok_log() {
	echo "$H sender verify ok for <$1>: mx.ok.test [127.0.0.2] :" \
		"RCPT TO:<$1> accepted: 250 2.1.5 Ok cached=no elapsed=N"
}

# mt_failed_log ADDR: the log line of a sender mx.ok.test does not know.
mt_failed_log() {
	echo "$H sender verify fail for <$1>: mx.ok.test [127.0.0.2] :" \
		"SMTP error from remote mail server after RCPT TO:<$1>:" \
		"550 5.1.1 No such user cached=no elapsed=N"
}
