#!/bin/sh
# milter-sender.sh: the envelope sender check of the real daemon, through
# the milter protocol (tests/milterclient.py as the MTA): every exemption
# of DESIGN.md section 7, every verdict to its exact reply of section 4
# and its log lines of section 5, the policies (DeferOK, ReplyDetails,
# ProbeRefused, NullSenderRefused, reply texts), Mode tag and off, and
# CalloutMaxWait.
#
# Each scenario asserts the client's exact output (every reply line as
# the milter sent it), the daemon's exact new log lines (time stamps
# cut, elapsed=N) and, where it matters, how many connections the fake
# SMTP servers got.  Loopback only (tests/milter-common.sh).

. "${top_srcdir:-$(dirname "$0")/..}/tests/milter-common.sh"
mt_init

mt_world

# rcpt_one SENDER: a session with one recipient.
rcpt_one() {
	{
		mt_pre "$1"
		mt_want "rcpt <user@example.net>" quit
	} >"$T/scenario"
	mt_run
}
# fail_block ADDR: the five-line 550 of a mailbox that does not exist.
fail_block() {
	mt_want "  550-5.1.7 Verification failed for <$1>" \
		"  550-5.1.7 Called:   127.0.0.2" \
		"  550-5.1.7 Sent:     RCPT TO:<$1>" \
		"  550-5.1.7 Response: 550 5.1.1 No such user" \
		"  550 5.1.7 Sender verify failed"
}
rejected_log() { # SENDER REASON [temporarily]
	echo "$H F=<$1> ${3:+temporarily }rejected RCPT <user@example.net>:" \
		"$2 cached=no elapsed=N"
}

# ======================================================== the verdicts
mt_conf base
mt_daemon base

# what the milter asks for: add headers and set macro lists; no body,
# no DATA, no unknown commands; the macros each callback reads
mt_want negotiate quit >"$T/scenario"
mt_run
mt_expect "negotiation: actions, protocol steps, macro lists" \
	"$(mt_want "negotiate -> version 6 actions 0x101 protocol 0x2790" \
		"  macros stage 0: v j {daemon_name}" \
		"  macros stage 2: i {auth_authen}" "  macros stage 3: i" \
		"  macros stage 5: i" "  macros stage 6: i" "quit -> sent")" ""

{
	mt_pre bad@ok.test
	mt_want "rcpt <postmaster@example.net>" "rcpt <abuse@example.net>" \
		"rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "RCPT 550, postmaster@ and abuse@ exempt" \
	"$(mt_pre_out bad@ok.test
	mt_want "rcpt <postmaster@example.net> -> continue" \
		"rcpt <abuse@example.net> -> continue" \
		"rcpt <user@example.net> -> reply 550"
	fail_block bad@ok.test
	mt_want "quit -> sent")" \
	"$(mt_failed_log bad@ok.test
	rejected_log bad@ok.test "Sender verify failed")" 1

rcpt_one good@ok.test
mt_expect "verified sender: continue" \
	"$(mt_pre_out good@ok.test
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"$H sender verify ok for <good@ok.test>: mx.ok.test [127.0.0.2] : RCPT TO:<good@ok.test> accepted: 250 2.1.5 Ok cached=no elapsed=N" 1

rcpt_one x@nx.test
mt_expect "NXDOMAIN: 550 5.1.8" \
	"$(mt_pre_out x@nx.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550-5.1.8 Verification failed for <x@nx.test>" \
		"  550-5.1.8 Unrouteable address" \
		"  550 5.1.8 Sender verify failed" "quit -> sent")" \
	"$(echo "$H sender verify fail for <x@nx.test>: Unrouteable address cached=no elapsed=N"
	rejected_log x@nx.test "Sender verify failed")" 0

rcpt_one x@nullmx.test
mt_expect "null MX: 550 5.7.27" \
	"$(mt_pre_out x@nullmx.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550 5.7.27 Sender address has null MX" "quit -> sent")" \
	"$(echo "$H sender verify fail for <x@nullmx.test>: an MX or SRV record indicated no SMTP service cached=no elapsed=N"
	rejected_log x@nullmx.test "Sender address has null MX")" 0

rcpt_one x@servfail.test
mt_expect "SERVFAIL: 451 4.4.3" \
	"$(mt_pre_out x@servfail.test
	mt_want "rcpt <user@example.net> -> reply 451" \
		"  451 4.4.3 Could not complete sender verify" "quit -> sent")" \
	"$(echo "$H sender verify defer for <x@servfail.test>: host lookup did not complete cached=no elapsed=N"
	rejected_log x@servfail.test "Could not complete sender verify" t)" 0

rcpt_one temp@ok.test
mt_expect "RCPT 451: 451 4.4.3 callout" \
	"$(mt_pre_out temp@ok.test
	mt_want "rcpt <user@example.net> -> reply 451" \
		"  451 4.4.3 Could not complete sender verify callout" \
		"quit -> sent")" \
	"$(echo "$H sender verify defer for <temp@ok.test>: Could not complete sender verify callout: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<temp@ok.test>: 451 4.3.0 Temporary failure cached=no elapsed=N"
	rejected_log temp@ok.test "Could not complete sender verify callout" t)" 1

rcpt_one x@refused.test
mt_expect "connection refused: 451 4.4.3 callout" \
	"$(mt_pre_out x@refused.test
	mt_want "rcpt <user@example.net> -> reply 451" \
		"  451 4.4.3 Could not complete sender verify callout" \
		"quit -> sent")" \
	"$(echo "$H sender verify defer for <x@refused.test>: Could not complete sender verify callout: mx.refused.test [127.0.0.4] : Connection refused cached=no elapsed=N"
	rejected_log x@refused.test "Could not complete sender verify callout" t)" 0

rcpt_one x@nullsender.test
mt_expect "MAIL FROM:<> refused: Callback setup failed" \
	"$(mt_pre_out x@nullsender.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550-5.1.7 Callback setup failed while verifying <x@nullsender.test>" \
		"  550-5.1.7 Called:   127.0.0.3" \
		"  550-5.1.7 Sent:     MAIL FROM:<>" \
		"  550-5.1.7 Response: 550 5.1.8 we do not accept bounces" \
		"  550-5.1.7 The initial connection, or a HELO or MAIL FROM:<> command was" \
		"  550-5.1.7 rejected. Refusing MAIL FROM:<> does not help fight spam, disregards" \
		"  550-5.1.7 RFC requirements, and stops you from receiving standard bounce" \
		"  550-5.1.7 messages. This host does not accept mail from domains whose servers" \
		"  550-5.1.7 refuse bounces." \
		"  550 5.1.7 Sender verify failed" "quit -> sent")" \
	"$(echo "$H sender verify fail for <x@nullsender.test>: mx.nullsender.test [127.0.0.3] : response to \"MAIL FROM:<>\" was: 550 5.1.8 we do not accept bounces cached=no elapsed=N"
	rejected_log x@nullsender.test "Sender verify failed")" 1

pr_log() { # ADDR: the log line of a refused probe
	echo "$H sender verify defer for <$1>: Could not complete sender verify callout: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<$1>: 550 5.7.1 Client host rejected: go away cached=no elapsed=N"
}
rcpt_one policy@ok.test
mt_expect "ProbeRefused accept (default): continue" \
	"$(mt_pre_out policy@ok.test
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"$(pr_log policy@ok.test)" 1

{
	mt_want "macro v Postfix 3.7.11" "connect client.example 192.0.2.7" \
		"helo client.example" "mail <>" "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "null sender <>: no probe" \
	"$(mt_pre_out ''
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"" 0

# bad@ok.test again, in a new session: the cached failure, no callout.
# Without {i} the lines say NOQUEUE; the client has no PTR name and a
# HELO of its own.
{
	mt_want "connect unknown 192.0.2.7" "helo helo.example" \
		"mail <bad@ok.test>" "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "a cached failure; no queue id, no PTR name" \
	"$(mt_want "connect unknown 192.0.2.7 -> continue" \
		"helo helo.example -> sent" "mail <bad@ok.test> -> continue" \
		"rcpt <user@example.net> -> reply 550" \
		"  550-5.1.7 Verification failed for <bad@ok.test>" \
		"  550-5.1.7 Previous (cached) callout verification failure" \
		"  550 5.1.7 Sender verify failed" "quit -> sent")" \
	"NOQUEUE H=(helo.example) [192.0.2.7] sender verify fail for <bad@ok.test> cached=yes elapsed=N
NOQUEUE H=(helo.example) [192.0.2.7] F=<bad@ok.test> rejected RCPT <user@example.net>: Sender verify failed cached=yes elapsed=N" 0

# the default ExemptHosts: loopback clients
{
	mt_want "connect localhost 127.0.0.1" "helo localhost" \
		"mail <bad@ok.test>" "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "ExemptHosts default 127.0.0.0/8" \
	"$(mt_want "connect localhost 127.0.0.1 -> accept" \
		"helo localhost -> skipped (connection accepted)" \
		"mail <bad@ok.test> -> skipped (connection accepted)" \
		"rcpt <user@example.net> -> skipped (connection accepted)" \
		"quit -> skipped (connection accepted)")" \
	"H=localhost [127.0.0.1] exempt client" 0

# a local submission (not a network client) is not checked
mt_want "connect localhost unix /run/submit.sock" "helo localhost" \
	"mail <bad@ok.test>" quit >"$T/scenario"
mt_run
mt_expect "a local (unix socket) client" \
	"$(mt_want "connect localhost unix /run/submit.sock -> accept" \
		"helo localhost -> skipped (connection accepted)" \
		"mail <bad@ok.test> -> skipped (connection accepted)" \
		"quit -> skipped (connection accepted)")" "" 0

# an authenticated client is not checked
AUTH=alice
rcpt_one bad@ok.test
AUTH=
mt_expect "authenticated client: accepted without a probe" \
	"$(mt_pre_out bad@ok.test accept
	mt_want "rcpt <user@example.net> -> skipped (message accepted)" \
		"quit -> sent")" \
	"$QID exempt sender <bad@ok.test>: authenticated client" 0
# ===================================================== the exemptions
mt_conf lists \
	"ExemptHosts 127.0.0.0/8 ::1 192.0.2.128/25 2001:db8:1::/48" \
	"ExemptHostNames *.trusted.example" \
	"ExemptSenders list@ok.test *@exempt1.test @exempt2.test /^bounce-/ file:$T/senders.list" \
	"ExemptSenderDomains exempt.test nx-exempt.test" \
	"SkipSenderDomains skip.test nx-skip.test" \
	"ExemptRecipientDomains nocheck.example"
mt_reconf lists

# exempt_client ADDR NAME: the client is accepted at connect
exempt_client() {
	{
		mt_pre bad@ok.test "$1" "$2"
		mt_want "rcpt <user@example.net>" quit
	} >"$T/scenario"
	mt_run
	mt_expect "ExemptHost* $2 [$1]" \
		"$(mt_want "connect $2 $1 -> accept"
		for s in "helo $2" "mail <bad@ok.test>" \
			"rcpt <user@example.net>" quit; do
			echo "$s -> skipped (connection accepted)"
		done)" \
		"H=$2 [$1] exempt client" 0
}
exempt_client 192.0.2.200 client.example
exempt_client 2001:db8:1::25 client.example
exempt_client 192.0.2.9 mx.trusted.example

# not exempt: outside the IPv6 range, and a name the pattern misses
{
	mt_pre bad3@ok.test 2001:db8:2::25 trusted.example
	mt_want "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "IPv6 client outside ExemptHosts, not *.trusted.example" \
	"$(mt_want "connect trusted.example 2001:db8:2::25 -> continue" \
		"helo trusted.example -> sent" \
		"mail <bad3@ok.test> -> continue" \
		"rcpt <user@example.net> -> reply 550"
	fail_block bad3@ok.test
	mt_want "quit -> sent")" \
	"$(echo "$QID H=trusted.example [2001:db8:2::25] sender verify fail for <bad3@ok.test>: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<bad3@ok.test>: 550 5.1.1 No such user cached=no elapsed=N"
	echo "$QID H=trusted.example [2001:db8:2::25] F=<bad3@ok.test> rejected RCPT <user@example.net>: Sender verify failed cached=no elapsed=N")" 1

# exempt_sender SENDER WHY: accepted at MAIL, no probe
exempt_sender() {
	rcpt_one "$1"
	mt_expect "exempt sender $1 ($2)" \
		"$(mt_pre_out "$1" accept
		mt_want "rcpt <user@example.net> -> skipped (message accepted)" \
			"quit -> sent")" \
		"$QID exempt sender <$1>: $2" 0
}
exempt_sender list@ok.test ExemptSenders
exempt_sender anyone@exempt1.test ExemptSenders
exempt_sender anyone@exempt2.test ExemptSenders
exempt_sender bounce-4711@ok.test ExemptSenders
exempt_sender file-listed@ok.test ExemptSenders
exempt_sender x@skip.test SkipSenderDomains
exempt_sender x@nx-skip.test SkipSenderDomains
tl_is "$MT_DNSQ" 0 "SkipSenderDomains: not even a DNS query"

rcpt_one rebounce-1@ok.test
mt_expect "ExemptSenders /^bounce-/ is anchored" \
	"$(mt_pre_out rebounce-1@ok.test
	mt_want "rcpt <user@example.net> -> reply 550"
	fail_block rebounce-1@ok.test
	mt_want "quit -> sent")" \
	"$(mt_failed_log rebounce-1@ok.test
	rejected_log rebounce-1@ok.test "Sender verify failed")" 1

rcpt_one bad@exempt.test
mt_expect "ExemptSenderDomains: DNS only, no callout" \
	"$(mt_pre_out bad@exempt.test
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"$H sender verify ok for <bad@exempt.test>: domain has 1 mail host address cached=no elapsed=N" 0

rcpt_one x@nx-exempt.test
mt_expect "ExemptSenderDomains: an NXDOMAIN domain is still rejected" \
	"$(mt_pre_out x@nx-exempt.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550-5.1.8 Verification failed for <x@nx-exempt.test>" \
		"  550-5.1.8 Unrouteable address" \
		"  550 5.1.8 Sender verify failed" "quit -> sent")" \
	"$(echo "$H sender verify fail for <x@nx-exempt.test>: Unrouteable address cached=no elapsed=N"
	rejected_log x@nx-exempt.test "Sender verify failed")" 0

{
	mt_pre bad4@ok.test
	mt_want "rcpt <someone@nocheck.example>" "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "ExemptRecipientDomains" \
	"$(mt_pre_out bad4@ok.test
	mt_want "rcpt <someone@nocheck.example> -> continue" \
		"rcpt <user@example.net> -> reply 550"
	fail_block bad4@ok.test
	mt_want "quit -> sent")" \
	"$(mt_failed_log bad4@ok.test
	rejected_log bad4@ok.test "Sender verify failed")" 1
# ===================================================== the policies
mt_conf policies "VerifyAuthenticated yes" "ReplyDetails no" \
	"ExemptRecipients postmaster@*"
mt_reconf policies
AUTH=alice
rcpt_one bad5@ok.test
AUTH=
mt_expect "VerifyAuthenticated yes, ReplyDetails no" \
	"$(mt_pre_out bad5@ok.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550 5.1.7 Sender verify failed" "quit -> sent")" \
	"$(mt_failed_log bad5@ok.test
	rejected_log bad5@ok.test "Sender verify failed")" 1

{
	mt_pre bad6@ok.test
	mt_want "rcpt <abuse@example.net>" quit
} >"$T/scenario"
mt_run
mt_expect "ExemptRecipients replaces the default list" \
	"$(mt_pre_out bad6@ok.test
	mt_want "rcpt <abuse@example.net> -> reply 550" \
		"  550 5.1.7 Sender verify failed" "quit -> sent")" \
	"$(mt_failed_log bad6@ok.test
	echo "$H F=<bad6@ok.test> rejected RCPT <abuse@example.net>: Sender verify failed cached=no elapsed=N")" 1
mt_conf lenient "DeferOK yes" "NullSenderRefused accept" \
	"ProbeRefused tempfail" \
	"ReplyTextFailed Sender verify failed - see https://example.net/100%%"
mt_reconf lenient
rcpt_one temp2@ok.test
mt_expect "DeferOK yes: an unknown result is accepted" \
	"$(mt_pre_out temp2@ok.test
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"$H sender verify defer for <temp2@ok.test>: Could not complete sender verify callout: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<temp2@ok.test>: 451 4.3.0 Temporary failure cached=no elapsed=N" 1

rcpt_one y@nullsender2.test
mt_expect "NullSenderRefused accept" \
	"$(mt_pre_out y@nullsender2.test
	mt_want "rcpt <user@example.net> -> continue" "quit -> sent")" \
	"$H sender verify defer for <y@nullsender2.test>: Could not complete sender verify callout: mx.nullsender.test [127.0.0.3] : response to \"MAIL FROM:<>\" was: 550 5.1.8 we do not accept bounces cached=no elapsed=N" 1

rcpt_one policy2@ok.test
mt_expect "ProbeRefused tempfail (DeferOK does not undo it)" \
	"$(mt_pre_out policy2@ok.test
	mt_want "rcpt <user@example.net> -> reply 451" \
		"  451 4.4.3 Could not complete sender verify callout" \
		"quit -> sent")" \
	"$(pr_log policy2@ok.test
	rejected_log policy2@ok.test "Could not complete sender verify callout" t)" 1

rcpt_one bad7@ok.test
mt_expect "ReplyTextFailed: the last line, % doubled for libmilter" \
	"$(mt_pre_out bad7@ok.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550-5.1.7 Verification failed for <bad7@ok.test>" \
		"  550-5.1.7 Called:   127.0.0.2" \
		"  550-5.1.7 Sent:     RCPT TO:<bad7@ok.test>" \
		"  550-5.1.7 Response: 550 5.1.1 No such user" \
		"  550 5.1.7 Sender verify failed - see https://example.net/100%%" \
		"quit -> sent")" \
	"$(mt_failed_log bad7@ok.test
	rejected_log bad7@ok.test "Sender verify failed - see https://example.net/100%")" 1
mt_conf strict "ProbeRefused reject"
mt_reconf strict
rcpt_one policy3@ok.test
mt_expect "ProbeRefused reject: the 550 block" \
	"$(mt_pre_out policy3@ok.test
	mt_want "rcpt <user@example.net> -> reply 550" \
		"  550-5.1.7 Verification failed for <policy3@ok.test>" \
		"  550-5.1.7 Called:   127.0.0.2" \
		"  550-5.1.7 Sent:     RCPT TO:<policy3@ok.test>" \
		"  550-5.1.7 Response: 550 5.7.1 Client host rejected: go away" \
		"  550 5.1.7 Sender verify failed" "quit -> sent")" \
	"$(echo "$H sender verify fail for <policy3@ok.test>: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<policy3@ok.test>: 550 5.7.1 Client host rejected: go away cached=no elapsed=N"
	rejected_log policy3@ok.test "Sender verify failed")" 1
# ======================================================= Mode tag, off
mt_conf tag "Mode tag"
mt_reconf tag
{
	mt_pre bad8@ok.test
	mt_want "rcpt <user@example.net>" "header From: Good <good2@ok.test>" \
		"header Subject: hello" eoh eom quit
} >"$T/scenario"
mt_run
mt_expect "Mode tag: never rejects, says why in X-Callout-Verify" \
	"$(mt_pre_out bad8@ok.test
	mt_want "rcpt <user@example.net> -> continue" \
		"header From: Good <good2@ok.test> -> sent" \
		"header Subject: hello -> sent" "eoh -> continue" \
		"eom -> continue" \
		"  add header X-Callout-Verify: sender=failed (Sender verify failed); header_sender=verified (accepted)" \
		"quit -> sent")" \
	"$(mt_failed_log bad8@ok.test
	echo "$H F=<bad8@ok.test> would reject RCPT <user@example.net>: Sender verify failed cached=no elapsed=N"
	echo "$H sender verify ok for <good2@ok.test>: mx.ok.test [127.0.0.2] : RCPT TO:<good2@ok.test> accepted: 250 2.1.5 Ok cached=no elapsed=N")" 2

{
	mt_pre good3@ok.test
	mt_want "rcpt <user@example.net>" "header From: bad9@ok.test" eoh eom \
		quit
} >"$T/scenario"
mt_run
mt_expect "Mode tag: a header_sender failure" \
	"$(mt_pre_out good3@ok.test
	mt_want "rcpt <user@example.net> -> continue" \
		"header From: bad9@ok.test -> sent" "eoh -> continue" \
		"eom -> continue" \
		"  add header X-Callout-Verify: sender=verified (accepted); header_sender=failed (No verifiable sender address in message headers)" \
		"quit -> sent")" \
	"$(echo "$H sender verify ok for <good3@ok.test>: mx.ok.test [127.0.0.2] : RCPT TO:<good3@ok.test> accepted: 250 2.1.5 Ok cached=no elapsed=N"
	mt_failed_log bad9@ok.test
	echo "$H F=<good3@ok.test> would reject after DATA: there is no valid sender in any header line cached=no elapsed=N")" 2
mt_conf off "Mode off"
mt_reconf off
{
	mt_pre bad@ok.test
	mt_want "rcpt <user@example.net>" "header From: bad@ok.test" eoh eom \
		quit
} >"$T/scenario"
mt_run
mt_expect "Mode off: nothing checked" \
	"$(mt_want "connect client.example 192.0.2.7 -> accept"
	for s in "helo client.example" "mail <bad@ok.test>" \
		"rcpt <user@example.net>" "header From: bad@ok.test" eoh eom \
		quit; do
		echo "$s -> skipped (connection accepted)"
	done)" "" 0
tl_is "$MT_DNSQ" 0 "Mode off: no DNS query"
# ===================================================== CalloutMaxWait
# the probe goes on in the background (CalloutBackgroundTimeout): do
# not wait for its end
mt_conf maxwait "CalloutTimeout 30s" "CalloutMaxWait 2s" \
	"CalloutBackgroundTimeout 10s"
mt_reconf maxwait
MT_NOSETTLE=1
rcpt_one slow@ok.test
MT_NOSETTLE=
mt_expect "CalloutMaxWait 2s: a server that never answers RCPT" \
	"$(mt_pre_out slow@ok.test
	mt_want "rcpt <user@example.net> -> reply 451" \
		"  451 4.4.3 Could not complete sender verify callout" \
		"quit -> sent")" \
	"$(echo "$H sender verify defer for <slow@ok.test>: Could not complete sender verify callout: probe still in progress cached=no elapsed=N"
	rejected_log slow@ok.test "Could not complete sender verify callout" t)" 1
ms=$(mt_step_ms "rcpt <user@example.net>")
tl_ok "CalloutMaxWait 2s: RCPT answered in ${ms}ms (1900 to 2700)" \
	test "${ms:-0}" -ge 1900 -a "${ms:-0}" -le 2700
mt_stop

tl_done
