#!/bin/sh
# milter-config.sh: the daemon's life cycle through the milter protocol:
# a reload (SIGHUP) while a session is open (the session keeps its
# configuration, a new one gets the new), file: lists read again on
# SIGHUP, a broken file on SIGHUP (the old configuration stays), SIGTERM
# with a session in flight (it finishes; exit 0; the pid file goes, the
# configuration stays), and every kind of configuration error, with -n
# and at a real start: exit 78 and the exact "FILE:LINE: ..." message.
#
# Loopback only; the daemon and the servers are stopped by pid
# (tests/milter-common.sh).

. "${top_srcdir:-$(dirname "$0")/..}/tests/milter-common.sh"
mt_init
mt_world

# session QID SENDER RCPT: the script of a whole session.
session() {
	mt_want "connect client.example 192.0.2.7" "helo client.example" \
		"macro i $1" "mail <$2>" "rcpt <$3>" quit
}
# bg_client NAME: run the client on $T/NAME.script in the background;
# its output goes to $T/NAME.out, its pid to BG_PID.
bg_client() {
	"$PYTHON3" "$TL_TESTS/milterclient.py" -t 20 "unix:$T/m.sock" \
		"$T/$1.script" >"$T/$1.out" 2>&1 &
	BG_PID=$!
	TL_PIDS="$TL_PIDS $BG_PID"
}
# bg_wait PID: wait for a background client (at most 20 s).
bg_wait() {
	tl_wait 20 bg_done "$1" || kill -TERM "$1" 2>/dev/null
	wait "$1"
	BG_STATUS=$?
	mt_forget "$1"
}
bg_done() {
	! kill -0 "$1" 2>/dev/null
}
# log_of QID: the daemon's log lines of that queue id, masked.
log_of() {
	mt_mask <"$MT_LOG" | grep "^$1 "
}
file_exists() {
	[ -e "$1" ]
}
fail_block() { # ADDR: the 550 of a sender mx.ok.test does not know
	mt_want "  550-5.1.7 Verification failed for <$1>" \
		"  550-5.1.7 Called:   127.0.0.2" \
		"  550-5.1.7 Sent:     RCPT TO:<$1>" \
		"  550-5.1.7 Response: 550 5.1.1 No such user" \
		"  550 5.1.7 Sender verify failed"
}
fail_log() { # QID ADDR: its log line
	echo "$1 H=client.example [192.0.2.7] sender verify fail for <$2>: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<$2>: 550 5.1.1 No such user cached=no elapsed=N"
}

# ================================================ SIGHUP, open session
mt_conf enforce "PidFile $T/m.pid"
mt_conf tag "PidFile $T/m.pid" "Mode tag"
mt_daemon enforce
tl_is "$(cat "$T/m.pid" 2>&1)" "$MT_PID" "the pid file holds the pid"

# session OLD1 stops after MAIL until the test says go
{
	mt_want "connect client.example 192.0.2.7" "helo client.example" \
		"macro i OLD1" "mail <old@ok.test>" "touch $T/old.ready" \
		"waitfor $T/old.go" "rcpt <old@example.net>" quit
} >"$T/old.script"
bg_client old
old_pid=$BG_PID
tl_wait 20 file_exists "$T/old.ready" || tl_bail "the old session did not start"
cp "$T/tag.conf" "$MT_CONF"
kill -HUP "$MT_PID"
mt_nreload=0
tl_ok "SIGHUP: configuration reloaded" tl_wait 10 mt_reloaded
tl_is "$(mt_mask <"$MT_LOG" | grep -c "^configuration reloaded from $MT_CONF\$")" \
	1 "SIGHUP: the reload log line"

session NEW1 new@ok.test new@example.net >"$T/scenario"
mt_run
mt_expect "after SIGHUP a new session follows the new config (tag)" \
	"$(mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <new@ok.test> -> continue" \
		"rcpt <new@example.net> -> continue" "quit -> sent")" \
	"$(fail_log NEW1 new@ok.test
	echo "NEW1 H=client.example [192.0.2.7] F=<new@ok.test> would reject RCPT <new@example.net>: Sender verify failed cached=no elapsed=N")" 1

touch "$T/old.go"
bg_wait "$old_pid"
tl_is "$BG_STATUS" 0 "the old session's client ran to its end"
tl_is "$(cat "$T/old.out")" \
	"$(mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <old@ok.test> -> continue" \
		"rcpt <old@example.net> -> reply 550"
	fail_block old@ok.test
	mt_want "quit -> sent")" \
	"a session open across SIGHUP keeps its config (enforce): replies"
tl_is "$(log_of OLD1)" "$(fail_log OLD1 old@ok.test
	echo "OLD1 H=client.example [192.0.2.7] F=<old@ok.test> rejected RCPT <old@example.net>: Sender verify failed cached=no elapsed=N")" \
	"a session open across SIGHUP keeps its config (enforce): log"

# ============================================ file: lists on SIGHUP
mt_conf listed "PidFile $T/m.pid" "ExemptSenders file:$T/senders.list"
mt_reconf listed
echo "bad@ok.test" >>"$T/senders.list"
mt_reconf listed
session LST1 bad@ok.test user@example.net >"$T/scenario"
mt_run
mt_expect "SIGHUP reads file: lists again" \
	"$(mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <bad@ok.test> -> accept" \
		"rcpt <user@example.net> -> skipped (message accepted)" \
		"quit -> sent")" \
	"LST1 exempt sender <bad@ok.test>: ExemptSenders" 0

# ============================================= a broken file on SIGHUP
printf 'Mode bogus\n' >"$T/broken.conf"
mt_reconf broken
tl_is "$(mt_mask <"$MT_LOG" | grep '^reload failed')" "reload failed, old configuration kept: $MT_CONF:1: Mode: bad value \"bogus\" (enforce, tag or off)" \
	"SIGHUP with a broken file: reload failed, logged"
session BRK1 bad@ok.test user@example.net >"$T/scenario"
mt_run
mt_expect "after a failed reload the old config is in force" \
	"$(mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <bad@ok.test> -> accept" \
		"rcpt <user@example.net> -> skipped (message accepted)" \
		"quit -> sent")" \
	"BRK1 exempt sender <bad@ok.test>: ExemptSenders" 0

# ====================================================== SIGTERM
mt_stop
tl_is "$MT_STATUS" 0 "SIGTERM: exit status 0"
tl_like "$(mt_mask <"$MT_LOG")" '^signal 15: stopping$' "SIGTERM: logged"
tl_ok "SIGTERM: the pid file is removed" test ! -e "$T/m.pid"
tl_ok "SIGTERM: the configuration and the lists stay" \
	test -s "$MT_CONF" -a -s "$T/senders.list" -a -s "$T/enforce.conf"

# SIGTERM while a session is in flight: the session is to get its answer
# and the daemon to exit 0 once it is over (DESIGN.md section 10).
# XXX known bug: with Debian's libmilter (workers pool) the session gets
# no answer after smfi_stop(), and the daemon waits its whole grace time
# for it; so the client gives up after 2 s and the daemon gets 8 s.
mt_daemon enforce
{
	mt_want "connect client.example 192.0.2.7" "helo client.example" \
		"macro i TRM1" "mail <trm@ok.test>" "touch $T/term.ready" \
		"waitfor $T/term.go" "rcpt <user@example.net>" quit
} >"$T/term.script"
"$PYTHON3" "$TL_TESTS/milterclient.py" -t 2 "unix:$T/m.sock" \
	"$T/term.script" >"$T/term.out" 2>&1 &
term_pid=$!
TL_PIDS="$TL_PIDS $term_pid"
tl_wait 20 file_exists "$T/term.ready" || tl_bail "the session did not start"
kill -TERM "$MT_PID"
sleep 0.5
tl_ok "SIGTERM in flight: the daemon waits for the session" kill -0 "$MT_PID"
touch "$T/term.go"
bg_wait "$term_pid"
tl_is "$(cat "$T/term.out")" \
	"$(mt_want "connect client.example 192.0.2.7 -> continue" \
		"helo client.example -> sent" \
		"mail <trm@ok.test> -> continue" \
		"rcpt <user@example.net> -> reply 550"
	fail_block trm@ok.test
	mt_want "quit -> sent")" \
	"SIGTERM in flight: the session gets its answer"
# smfi_stop() alone may take 5 s
if tl_wait 7 bg_done "$MT_PID"; then
	wait "$MT_PID"
	MT_STATUS=$?
else
	MT_STATUS="still running after 7 s"
	kill -KILL "$MT_PID"
	wait "$MT_PID" 2>/dev/null
fi
mt_check_sanitizer
mt_forget "$MT_PID"
MT_PID=
tl_is "$MT_STATUS" 0 "SIGTERM in flight: exit 0 once the session is over"

# ================================================== bad configurations
# bad NAME LINE MESSAGE [LINE...]: a file whose lines are the given
# LINEs (a valid first line, so that the error is on line 2 or later)
# makes -n and a real start exit 78 with "callout-milter: FILE:N: MSG".
bad() {
	bd_name=$1
	bd_msg=$2
	shift 2
	mt_want "Socket unix:$T/bad.sock" "UserID" "$@" >"$T/$bd_name.conf"
	bd_out=$("$MILTER" -n -c "$T/$bd_name.conf" 2>&1)
	bd_rc=$?
	tl_is "$bd_rc $bd_out" "78 callout-milter: $T/$bd_name.conf:$bd_msg" \
		"-n, $bd_name: exit 78 and the message"
	"$MILTER" -f -c "$T/$bd_name.conf" >"$T/$bd_name.out" 2>&1 &
	bd_pid=$!
	TL_PIDS="$TL_PIDS $bd_pid"
	tl_wait 10 bg_done "$bd_pid" || kill -TERM "$bd_pid"
	wait "$bd_pid"
	bd_rc=$?
	mt_forget "$bd_pid"
	tl_is "$bd_rc $(cat "$T/$bd_name.out")" \
		"78 callout-milter: $T/$bd_name.conf:$bd_msg" \
		"start, $bd_name: exit 78 and the message"
}
bad unknown-key '3: unknown key "CalloutTimout"' "CalloutTimout 5s"
bad bad-value '3: Mode: bad value "loud" (enforce, tag or off)' "Mode loud"
bad bad-bool '4: DeferOK: bad boolean "maybe" (yes or no)' "# a comment" \
	"DeferOK maybe"
bad duplicate '4: duplicate key "Mode" (first on line 3)' "Mode tag" \
	"mode off"
bad out-of-range '3: CalloutTimeout: 6m out of range (1s to 5m)' \
	"CalloutTimeout 6m"
bad unreadable-list "3: ExemptSenders: cannot read \"$T/no-such-list\": No such file or directory" \
	"ExemptSenders a@b.example file:$T/no-such-list"

tl_is "$("$MILTER" -n -c "$T/no-such.conf" 2>&1; echo "rc=$?")" \
	"callout-milter: $T/no-such.conf: cannot open: No such file or directory
rc=78" "a missing -c file: exit 78"
"$MILTER" -x >/dev/null 2>&1
tl_is "$?" 64 "an unknown option: exit 64"

# a good file: -n prints every key with its value and exits 0
mt_conf good "Mode tag" "ExemptSenders list@ok.test file:$T/senders.list"
out=$("$MILTER" -n -c "$T/good.conf" 2>&1)
tl_is "$?" 0 "-n on a good file: exit 0"
tl_is "$(printf '%s\n' "$out" | grep -E '^(Mode|ExemptSenders|CalloutPort|UserID|Socket|ExemptRecipients)( |$)')" \
	"$(mt_want "Socket unix:$T/m.sock" "UserID" "Mode tag" \
		"CalloutPort $SPORT" \
		"ExemptSenders list@ok.test file:$T/senders.list" \
		"ExemptRecipients postmaster@* abuse@*")" \
	"-n prints the values in effect"
# every key of the sample configuration, with its default, and no other
sample=$top_srcdir/conf/callout-milter.conf
out=$("$MILTER" -n -c "$sample" 2>&1)
tl_is "$?" 0 "-n on the sample configuration: exit 0"
tl_is "$(printf '%s\n' "$out" | grep -v '^#' | sort)" \
	"$(grep -E '^#[A-Z][A-Za-z0-9]*( |$)' "$sample" | sed 's/^#//' | sort)" \
	"-n on the sample: every key of the sample with its default"

tl_done
