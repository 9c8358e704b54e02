# world.sh: the namespace, servers and private Postfix of the benchmarks
# (tests/bench/run.sh).  Sourced, never run; on top of tests/e2e/netns.sh,
# whose namespace, fakedns, en_bg and clean-up it reuses.
#
# The world, inside one network namespace with no route out:
#   192.0.2.1       the private Postfix, the MTA: port 25 without a
#                   milter, port 2525 with callout-milter
#   192.0.2.53      fakedns (zone below; tests/bench/benchdns.py)
#   198.51.100.10   mx.ok.test: fakesmtp, no delay (warms item 1's cache)
#   198.51.100.20+N mx.dNN.bench.test, N = 0..49: the 50 sender domains
#                   of items 2 and 4, one MX address each; a fakesmtp of
#                   the step's own (its delay) listens on them
#   198.51.100.70   mx.one.test: item 3's server
#
# What it guarantees: every process is started through en_bg (pid in
# TL_PIDS), and stopped by pid by the step that started it or, at the
# latest, by netns.sh's EXIT trap, which also deletes the namespace.
# Nothing here calls tl_bail after the world is up: a step that cannot
# start its servers returns 1 with the reason in BN_WHY, and run.sh
# records it as failed.

# shellcheck shell=sh disable=SC2034,SC2154 # shared with run.sh, netns.sh

BN_DOMAINS=50
PF_MASTER=/usr/lib/postfix/sbin/master

# bn_ms: milliseconds since the epoch.
bn_ms() {
	date +%s%3N
}

# bn_cap N: N seconds, or fewer so that the run stays within its ten
# minutes (BN_HARD_END, in bn_ms time, set by run.sh); at least 5.
bn_cap() {
	bn_left=$(((${BN_HARD_END:-0} - $(bn_ms)) / 1000))
	[ "${BN_HARD_END:-0}" -gt 0 ] || bn_left=$1
	[ "$bn_left" -lt "$1" ] || bn_left=$1
	[ "$bn_left" -ge 5 ] || bn_left=5
	echo "$bn_left"
}

# bn_world: addresses, zone, fakedns.
bn_world() {
	: >"$T/more.batch"
	bn_i=0
	while [ "$bn_i" -lt "$BN_DOMAINS" ]; do
		echo "addr add 198.51.100.$((20 + bn_i))/24 dev e2e1" \
			>>"$T/more.batch"
		bn_i=$((bn_i + 1))
	done
	echo "addr add 198.51.100.70/24 dev e2e1" >>"$T/more.batch"
	ip -n "$EN_NS" -batch "$T/more.batch" 2>"$T/netns.err" ||
		tl_bail "cannot add the benchmark addresses: $(cat "$T/netns.err")"
	{
		echo "example.net MX 10 mx.example.net"
		echo "mx.example.net A $EN_MTA4"
		echo "ok.test MX 10 mx.ok.test"
		echo "mx.ok.test A 198.51.100.10"
		echo "one.test MX 10 mx.one.test"
		echo "mx.one.test A 198.51.100.70"
		bn_i=0
		while [ "$bn_i" -lt "$BN_DOMAINS" ]; do
			bn_d=$(printf 'd%02d.bench.test' "$bn_i")
			echo "$bn_d MX 10 mx.$bn_d"
			echo "mx.$bn_d A 198.51.100.$((20 + bn_i))"
			bn_i=$((bn_i + 1))
		done
	} >"$T/zone"
	# fakedns.py with a large receive buffer (benchdns.py says why)
	EN_DNS_LOG=$T/fakedns.log
	en_bg "$T/fakedns.pid.err" "$PYTHON3" "$top_srcdir/tests/bench/benchdns.py" \
		--zone "$T/zone" --listen "$EN_DNS4:53" \
		--pidfile "$T/fakedns.pid" --log "$EN_DNS_LOG"
	EN_DNS_PID=$EN_PID
	tl_wait_pidfile "$EN_DNS_PID" "$T/fakedns.pid" fakedns
	echo pipelining >"$T/pipelining.script"
}

# bn_domain_listens SCRIPT: "--listen" arguments for the 50 domain MXs.
bn_domain_listens() {
	bn_i=0
	while [ "$bn_i" -lt "$BN_DOMAINS" ]; do
		printf ' --listen 198.51.100.%d:25=%s' "$((20 + bn_i))" "$1"
		bn_i=$((bn_i + 1))
	done
}

# bn_smtp_start NAME DELAY LISTEN-ARGS...: a fakesmtp of its own (no
# per-line log: it would cost CPU the benchmark wants), --stats in
# $T/NAME.stats; sets BN_SMTP_PID.  Returns 1 with BN_WHY when it does
# not come up.
bn_smtp_start() {
	bn_name=$1
	bn_delay=$2
	shift 2
	rm -f "$T/$bn_name.pid" "$T/$bn_name.stats"
	en_bg "$T/$bn_name.err" "$PYTHON3" "$TL_TESTS/fakesmtp.py" "$@" \
		--delay "$bn_delay" --timeout 60 --stats "$T/$bn_name.stats" \
		--pidfile "$T/$bn_name.pid"
	BN_SMTP_PID=$EN_PID
	if ! tl_wait 10 test -s "$T/$bn_name.pid"; then
		BN_WHY="fakesmtp did not start: $(tail -n 2 "$T/$bn_name.err")"
		return 1
	fi
	return 0
}

# bn_smtp_stop: stop it (its --stats file is written at SIGTERM).
bn_smtp_stop() {
	[ -z "${BN_SMTP_PID:-}" ] || tl_stop "$BN_SMTP_PID"
	BN_SMTP_PID=
}

# bn_stat FILE KEY: a number from a fakesmtp --stats file.
bn_stat() {
	"$PYTHON3" -c 'import json, sys
print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null ||
		echo "?"
}

# bn_conf NAME LINE...: $T/NAME.conf, the daemon's configuration: the
# test world's lines, then the LINEs ("Key value").
bn_conf() {
	bn_f=$T/$1.conf
	shift
	{
		echo "Socket unix:$T/milter.sock"
		echo "SocketMode 0666"
		echo "UserID"
		echo "Cache memory"
		echo "CalloutHelo verifier.example.net"
		echo "CalloutAllowNetworks 198.51.100.0/24"
		echo "ExemptHosts 127.0.0.0/8 ::1"
		for bn_l in "$@"; do
			echo "$bn_l"
		done
	} >"$bn_f"
}

# bn_milter_start CONF: the daemon in the foreground (log: stderr to
# EN_MILTER_LOG); sets EN_MILTER_PID.  Returns 1 with BN_WHY on failure.
bn_milter_start() {
	en_nmilter=$((en_nmilter + 1))
	EN_MILTER_LOG=$T/milter.$en_nmilter.log
	rm -f "$T/milter.sock"
	en_bg "$EN_MILTER_LOG" "$MILTER" -c "$1" -f
	EN_MILTER_PID=$EN_PID
	if ! tl_wait 20 en_milter_listening; then
		BN_WHY="callout-milter did not start: $(tail -n 3 "$EN_MILTER_LOG")"
		en_milter_kill
		return 1
	fi
	# "ip netns exec" execs the daemon: the pid is the daemon's
	if [ "$(cat "/proc/$EN_MILTER_PID/comm" 2>/dev/null)" != \
	    callout-milter ]; then
		BN_WHY="pid $EN_MILTER_PID is not callout-milter"
		en_milter_stop
		return 1
	fi
	return 0
}

# bn_load OUT ARGS...: milterload.py against the daemon (bounded by
# its --limit and by timeout, 90 s or what is left); its JSON in OUT.
bn_load() {
	bn_out=$1
	shift
	bn_t=$(bn_cap 90)
	en_exec timeout "$bn_t" "$PYTHON3" "$top_srcdir/tests/bench/milterload.py" \
		--socket "unix:$T/milter.sock" --out "$bn_out" \
		--limit "$((bn_t - 10 > 1 ? bn_t - 10 : 1))" "$@" \
		>"$bn_out.stdout" 2>"$bn_out.err"
}

# bn_json FILE EXPR: a value of the JSON in FILE (EXPR in Python over
# "j"), formatted with %g for floats; "?" when missing.
bn_json() {
	"$PYTHON3" -c 'import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"j": j})
print("%.4g" % v if isinstance(v, float) else v)' "$1" "$2" 2>/dev/null ||
		echo "?"
}

# ------------------------------------------------------------ Postfix

# bn_postfix_install: the e2e test's way (tests/e2e-postfix.sh): only
# when missing, never configured or started as the system's MTA.
bn_postfix_install() {
	if command -v postfix >/dev/null 2>&1 && [ -x "$PF_MASTER" ] &&
	    [ -x /usr/sbin/smtp-source ]; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || return 1
	export DEBIAN_FRONTEND=noninteractive
	bn_sim=$(apt-get install -s -q --no-install-recommends postfix 2>&1)
	printf '%s\n' "$bn_sim" | grep -q '^Remv ' && return 1
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# callout-milter bench: start nothing\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		EN_POLICY_RC=/usr/sbin/policy-rc.d
	fi
	timeout "$(bn_cap 240)" apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=120 postfix >"$T/apt.log" 2>&1
	if [ -n "${EN_POLICY_RC:-}" ]; then
		rm -f "$EN_POLICY_RC"
		EN_POLICY_RC=
	fi
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable postfix >/dev/null 2>&1
	fi
	if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1
	fi
	[ -x "$PF_MASTER" ] && [ -x /usr/sbin/smtp-source ]
}

# bn_postfix_up: the private instance, delivering every message to
# discard(8): smtpd on 192.0.2.1:25 without a milter, and on port 2525
# with callout-milter (unix:$T/milter.sock), so that both are measured
# without a reload in between; sets PF_PID.  Returns 1 with BN_WHY.
bn_postfix_up() {
	PF=$T/postfix
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	cat >"$PF/etc/main.cf" <<EOF
# the callout-milter benchmark's private Postfix instance
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.net
mydomain = example.net
myorigin = example.net
mydestination = example.net, mx.example.net
inet_interfaces = $EN_MTA4
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP
biff = no
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = discard
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
# measure smtpd, not the queue manager's flow control
in_flow_delay = 0s
smtpd_milters =
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
EOF
	{
		cat <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
2525      inet  n       -       n       -       -       smtpd
  -o smtpd_milters=unix:$T/milter.sock
EOF
		en_postfix_services
	} >"$PF/etc/master.cf"
	if ! en_exec postfix -c "$PF/etc" check >"$PF/check.log" 2>&1; then
		BN_WHY="postfix check failed: $(head -n 2 "$PF/check.log")"
		return 1
	fi
	en_bg "$PF/master.out" setsid "$PF_MASTER" -c "$PF/etc" -d
	PF_PID=$EN_PID
	EN_MTA_STOP=bn_postfix_stop
	if ! tl_wait 30 en_port_open "$EN_MTA4" 25; then
		BN_WHY="postfix does not listen: $(tail -n 2 "$PF/maillog" 2>/dev/null)"
		return 1
	fi
	return 0
}

# shellcheck disable=SC2317 # called through EN_MTA_STOP
bn_postfix_stop() {
	[ -z "${PF_PID:-}" ] || tl_stop "$PF_PID"
	PF_PID=
}

# bn_source OUT PORT ARGS...: smtp-source against the private Postfix
# (at most 60 s): port 25 has no milter, port 2525 callout-milter on
# $T/milter.sock; sets BN_SOURCE_MS, its run time; returns its status.
bn_source() {
	bn_out=$1
	bn_port=$2
	shift 2
	bn_t0=$(bn_ms)
	en_exec timeout "$(bn_cap 60)" /usr/sbin/smtp-source "$@" \
		"$EN_MTA4:$bn_port" \
		>"$bn_out" 2>&1
	bn_rc=$?
	BN_SOURCE_MS=$(($(bn_ms) - bn_t0))
	return "$bn_rc"
}
