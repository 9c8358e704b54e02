# netns.sh: the network namespace of the end-to-end tests
# (tests/e2e-postfix.sh, tests/e2e-sendmail.sh).  Sourced, never run; on
# top of tests/testlib.sh.
#
# en_init builds the temp dir and checks what is needed (root, ip, python
# with dnslib, the daemon); en_up builds the namespace:
#
#   lo          127.0.0.1, ::1 (up)
#   e2e0        the local side: 192.0.2.1 and 2001:db8::1 (the MTA),
#               192.0.2.53 and 2001:db8::53 (fakedns, port 53),
#               192.0.2.100 and 2001:db8::100 (the SMTP client),
#               192.0.2.200 (a client in ExemptHosts)
#   e2e1        the other end of the veth pair: the sender domains' mail
#               servers, 198.51.100.10-19 and 2001:db8:1::25 (fakesmtp,
#               port 25)
#
# Both ends of the veth pair stay inside the namespace; it has no route
# out, so no packet can leave it.  /etc/netns/NAME/resolv.conf (which
# "ip netns exec" mounts over /etc/resolv.conf) names fakedns, so the
# daemon and the MTA resolve through it with their usual resolver.
#
# What it guarantees: every process is started through en_bg (or
# tl_start_*), its pid kept in TL_PIDS, and stopped by pid at exit (the
# EXIT trap set by en_init, also on failure or interruption): first the
# MTA (the caller's EN_MTA_STOP command), then every recorded pid, then
# any process still inside the namespace (children of those, listed by
# "ip netns pids", killed by pid), then the namespace and its
# /etc/netns directory are deleted.  Every wait is bounded.

# shellcheck shell=sh disable=SC2034 # EN_* variables are for the caller
. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"

EN_MTA4=192.0.2.1
EN_MTA6=2001:db8::1
EN_DNS4=192.0.2.53
EN_DNS6=2001:db8::53
EN_CLIENT4=192.0.2.100
EN_CLIENT6=2001:db8::100
EN_EXEMPT4=192.0.2.200
EN_NS=
EN_MTA_STOP=
en_ns_made=
en_etc_made=
en_etcdir_made=
EN_MILTER_PID=
EN_MILTER_LOG=
en_nmilter=0

# en_init: the checks and the temp dir; skips (77) with a reason where
# the test cannot run.
en_init() {
	tl_init
	trap 'en_cleanup' EXIT
	[ "$(id -u)" -eq 0 ] || tl_skip_all "root is needed (network namespace, MTA)"
	# a package build (debian/rules, the RPM %check) never installs an
	# MTA or makes namespaces, even when it runs as root
	[ -z "${CV_TEST_NO_ROOT:-}" ] ||
		tl_skip_all "package build: no tests that need root"
	command -v ip >/dev/null 2>&1 ||
		tl_skip_all "ip (iproute2) is needed"
	tl_need_python
	MILTER=$(cd "$top_builddir" && pwd)/milter/callout-milter
	[ -x "$MILTER" ] || tl_skip_all "$MILTER is not built"
	tl_tmpdir
	T=$TL_TMPDIR
	# the MTA's unprivileged processes must reach files in here
	chmod 0755 "$T"
	EN_NS=callout-e2e-$$
}

en_cleanup() {
	en_status=$?
	if [ -n "$EN_MTA_STOP" ]; then
		$EN_MTA_STOP >/dev/null 2>&1
		EN_MTA_STOP=
	fi
	tl_stop_all
	if [ -n "$en_ns_made" ]; then
		# processes left in the namespace are children of ours
		for en_p in $(ip netns pids "$EN_NS" 2>/dev/null); do
			kill -KILL "$en_p" 2>/dev/null
		done
		en_i=0
		while [ -n "$(ip netns pids "$EN_NS" 2>/dev/null)" ] &&
		    [ "$en_i" -lt 50 ]; do
			sleep 0.1
			en_i=$((en_i + 1))
		done
		ip netns del "$EN_NS" 2>/dev/null ||
			echo "# could not delete namespace $EN_NS"
	fi
	[ -z "${EN_POLICY_RC:-}" ] || rm -f "$EN_POLICY_RC"
	[ -z "$en_etc_made" ] || rm -rf "/etc/netns/$EN_NS"
	[ -z "$en_etcdir_made" ] || rmdir /etc/netns 2>/dev/null
	if [ -n "$TL_TMPDIR" ] && [ -z "${TL_KEEP:-}" ]; then
		rm -rf "$TL_TMPDIR"
	elif [ -n "$TL_TMPDIR" ]; then
		echo "# kept $TL_TMPDIR"
	fi
	exit "$en_status"
}

# en_exec COMMAND [ARGS...]: run COMMAND inside the namespace.
en_exec() {
	ip netns exec "$EN_NS" "$@"
}

# en_up: create the namespace (skip if the kernel or the container does
# not allow it), its veth pair, addresses and resolv.conf.
en_up() {
	if ! ip netns add "$EN_NS" 2>"$T/netns.err"; then
		tl_skip_all "cannot create a network namespace:" \
			"$(cat "$T/netns.err")"
	fi
	en_ns_made=1
	if [ ! -d /etc/netns ]; then
		mkdir /etc/netns || tl_bail "cannot create /etc/netns"
		en_etcdir_made=1
	fi
	mkdir "/etc/netns/$EN_NS" || tl_bail "cannot create /etc/netns/$EN_NS"
	en_etc_made=1
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$EN_DNS4" \
		>"/etc/netns/$EN_NS/resolv.conf"
	{
		echo "link set lo up"
		echo "link add e2e0 type veth peer name e2e1"
		echo "link set e2e0 up"
		echo "link set e2e1 up"
		for en_a in $EN_MTA4 $EN_DNS4 $EN_CLIENT4 $EN_EXEMPT4; do
			echo "addr add $en_a/24 dev e2e0"
		done
		for en_a in $EN_MTA6 $EN_DNS6 $EN_CLIENT6; do
			echo "addr add $en_a/64 dev e2e0 nodad"
		done
		en_i=10
		while [ "$en_i" -le 19 ]; do
			echo "addr add 198.51.100.$en_i/24 dev e2e1"
			en_i=$((en_i + 1))
		done
		echo "addr add 2001:db8:1::25/64 dev e2e1 nodad"
	} >"$T/netns.batch"
	ip -n "$EN_NS" -batch "$T/netns.batch" 2>"$T/netns.err" ||
		tl_bail "cannot set up the namespace: $(cat "$T/netns.err")"
	# nothing may leave: there is no default route, check it
	[ -z "$(en_exec ip route show default)" ] ||
		tl_bail "the namespace has a default route"
	[ -z "$(en_exec ip -6 route show default)" ] ||
		tl_bail "the namespace has an IPv6 default route"
}

# en_bg LOG COMMAND [ARGS...]: start COMMAND in the namespace in the
# background, stdout and stderr to LOG; sets EN_PID, recorded in TL_PIDS.
en_bg() {
	en_log=$1
	shift
	ip netns exec "$EN_NS" "$@" </dev/null >>"$en_log" 2>&1 &
	EN_PID=$!
	TL_PIDS="$TL_PIDS $EN_PID"
}

# en_start_dns ZONE: fakedns on 192.0.2.53:53 and [2001:db8::53]:53.
en_start_dns() {
	EN_DNS_LOG=$T/fakedns.log
	en_bg "$T/fakedns.pid.err" "$PYTHON3" "$TL_TESTS/fakedns.py" \
		--zone "$1" --listen "$EN_DNS4:53" --listen "[$EN_DNS6]:53" \
		--pidfile "$T/fakedns.pid" --log "$EN_DNS_LOG"
	EN_DNS_PID=$EN_PID
	tl_wait_pidfile "$EN_DNS_PID" "$T/fakedns.pid" fakedns
}

# en_start_smtp ADDR=SCRIPT...: one fakesmtp with a listener on port 25
# of each ADDR (an IPv6 ADDR without brackets).
en_start_smtp() {
	EN_SMTP_LOG=$T/fakesmtp.log
	en_args=
	for en_l in "$@"; do
		en_a=${en_l%%=*}
		case $en_a in
		*:*) en_args="$en_args --listen [$en_a]:25=${en_l#*=}" ;;
		*) en_args="$en_args --listen $en_a:25=${en_l#*=}" ;;
		esac
	done
	# shellcheck disable=SC2086 # a list of words
	en_bg "$T/fakesmtp.pid.err" "$PYTHON3" "$TL_TESTS/fakesmtp.py" $en_args \
		--pidfile "$T/fakesmtp.pid" --log "$EN_SMTP_LOG" --timeout 60
	EN_SMTP_PID=$EN_PID
	tl_wait_pidfile "$EN_SMTP_PID" "$T/fakesmtp.pid" fakesmtp
}

en_milter_listening() {
	grep -qs ' listening on ' "$EN_MILTER_LOG"
}

# en_milter_start CONF: start callout-milter -f on CONF in the namespace;
# sets EN_MILTER_PID and EN_MILTER_LOG (its stderr, the log); returns
# once it says it listens.
en_milter_start() {
	en_nmilter=$((en_nmilter + 1))
	EN_MILTER_LOG=$T/milter.$en_nmilter.log
	en_bg "$EN_MILTER_LOG" "$MILTER" -c "$1" -f
	EN_MILTER_PID=$EN_PID
	tl_wait 20 en_milter_listening ||
		tl_bail "callout-milter did not start: $(cat "$EN_MILTER_LOG")"
}

# en_milter_stop: SIGTERM, reaped (at most 10 s, then SIGKILL); sets
# EN_MILTER_STATUS to its exit status (137 when it had to be killed).
en_milter_stop() {
	EN_MILTER_STATUS=
	[ -n "$EN_MILTER_PID" ] || return 0
	kill -TERM "$EN_MILTER_PID" 2>/dev/null
	en_i=0
	while kill -0 "$EN_MILTER_PID" 2>/dev/null && [ "$en_i" -lt 100 ]; do
		sleep 0.1
		en_i=$((en_i + 1))
	done
	kill -KILL "$EN_MILTER_PID" 2>/dev/null
	wait "$EN_MILTER_PID"
	EN_MILTER_STATUS=$?
	tl_stop "$EN_MILTER_PID"
	EN_MILTER_PID=
}

# en_milter_kill: SIGKILL, reaped; the socket file stays behind.
en_milter_kill() {
	[ -n "$EN_MILTER_PID" ] || return 0
	kill -KILL "$EN_MILTER_PID" 2>/dev/null
	tl_stop "$EN_MILTER_PID"
	EN_MILTER_PID=
}

# en_mark: remember where the logs end; en_smtp_new and en_milter_new
# print what came after.
en_mark() {
	en_smark=$(wc -l <"$EN_SMTP_LOG" | tr -d ' ')
	en_mmark=$(wc -l <"$EN_MILTER_LOG" | tr -d ' ')
}
en_smtp_new() {
	tail -n +"$((en_smark + 1))" "$EN_SMTP_LOG"
}
en_milter_new() {
	tail -n +"$((en_mmark + 1))" "$EN_MILTER_LOG"
}

# en_conns ADDR: connections the fake server on ADDR:25 got since the mark.
en_conns() {
	case $1 in
	*:*) en_p="[$1]:25 #" ;;
	*) en_p="$1:25 #" ;;
	esac
	en_smtp_new | awk -v p="$en_p" 'index($0, p) == 1 && $3 == "connect" {
		n++ } END { print n + 0 }'
}

# en_received ADDR: the lines the fake server on ADDR:25 received since
# the mark (of every connection, in order).
en_received() {
	case $1 in
	*:*) en_p="[$1]:25 #" ;;
	*) en_p="$1:25 #" ;;
	esac
	en_smtp_new | awk -v p="$en_p" 'index($0, p) == 1 && $3 == "<" {
		sub(/^[^ ]+ #[0-9]+ < /, ""); print }'
}

# en_port_open ADDR PORT: something listens on ADDR:PORT in the namespace.
en_port_open() {
	en_exec "$PYTHON3" -c 'import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
s.close()' "$1" "$2" >/dev/null 2>&1
}

# en_deliver_script FILE DIR: a delivery program for the MTA's local
# mailer: "FILE LOCAL" writes the message read from stdin to a new file
# DIR/LOCAL.<time>.<pid> (written as a hidden file, then renamed).
# en_postfix_services: the master.cf lines of a private Postfix instance
# besides its smtpd listeners, which the e2e test and the benchmark
# write with any transport of their own; nothing is chrooted.
en_postfix_services() {
	cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
smtp      unix  -       -       n       -       -       smtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

en_deliver_script() {
	cat >"$1" <<EOF2
#!/bin/sh
# deliver.sh LOCAL: one file per message and recipient in $2
umask 022
f=$2/\$(printf '%s' "\$1" | tr -c 'A-Za-z0-9_+-' _).\$(date +%s%N).\$\$
cat >"$2/.new.\$\$" && mv "$2/.new.\$\$" "\$f"
EOF2
	chmod 0755 "$1"
}
