#!/bin/sh
# milter-header.sh: the header_sender check of the real daemon (DESIGN.md
# section 6), through the milter protocol: the headers of a message
# whose envelope sender verified and whose recipient was accepted are
# sent, and the answer at end of headers is checked: which candidate
# rescues which, syntax errors, groups, no candidates, Resent-*, an
# unknown candidate, and a message only to postmaster@.
#
# Each scenario asserts the client's exact output, the daemon's exact new
# log lines and how many callouts were made (tests/milter-common.sh).

. "${top_srcdir:-$(dirname "$0")/..}/tests/milter-common.sh"
mt_init
mt_world

# message HEADER...: a session: envelope $ENV (a fresh address each
# time: the daemon caches verdicts), one recipient, the headers, end of
# headers, end of message.
message() {
	{
		mt_pre "$ENV"
		echo "rcpt <user@example.net>"
		for h in "$@"; do
			echo "header $h"
		done
		mt_want eoh eom quit
	} >"$T/scenario"
	mt_run
}
# message_out EOH_RESULT [REPLY_LINE] HEADER...: its output.
message_out() {
	mo_eoh=$1
	mo_reply=$2
	shift 2
	mt_pre_out "$ENV"
	echo "rcpt <user@example.net> -> continue"
	for h in "$@"; do
		echo "header $h -> sent"
	done
	echo "eoh -> $mo_eoh"
	[ -z "$mo_reply" ] || echo "  $mo_reply"
	case $mo_eoh in
	continue) echo "eom -> continue" ;;
	*) echo "eom -> skipped (message refused)" ;;
	esac
	echo "quit -> sent"
}
REJ="550 5.7.1 No verifiable sender address in message headers"
DEF="451 4.4.3 Could not complete sender verify callout"
novalid() {
	echo "$H F=<$ENV> rejected after DATA: there is no valid sender in any header line cached=no elapsed=N"
}
# check NAME CONNS EOH_RESULT REPLY_LINE WANT_LOG HEADER...
check() {
	ck_name=$1
	ck_conns=$2
	ck_eoh=$3
	ck_reply=$4
	ck_log=$5
	shift 5
	message "$@"
	mt_expect "$ck_name" "$(message_out "$ck_eoh" "$ck_reply" "$@")" \
		"$ck_log" "$ck_conns"
}

mt_conf base
mt_daemon base

# the MTA does not send DATA: the milter said it does not want it
ENV=good1@ok.test
{
	mt_pre "$ENV"
	mt_want "rcpt <user@example.net>" data "header From: bad1@ok.test" \
		"header Reply-To: Good Two <good2@ok.test>" eoh eom quit
} >"$T/scenario"
mt_run
mt_expect "a valid Reply-To rescues an invalid From" \
	"$(mt_pre_out "$ENV"
	mt_want "rcpt <user@example.net> -> continue" \
		"data -> skipped (not wanted)" \
		"header From: bad1@ok.test -> sent" \
		"header Reply-To: Good Two <good2@ok.test> -> sent" \
		"eoh -> continue" "eom -> continue" "quit -> sent")" \
	"$(mt_ok_log "$ENV"; mt_ok_log good2@ok.test)" 2

ENV=good3@ok.test
check "an invalid From alone: 550 5.7.1" 2 "reply 550" "$REJ" \
	"$(mt_ok_log "$ENV"; mt_failed_log bad2@ok.test; novalid)" \
	"From: Bad Guy <bad2@ok.test>" "Subject: hi"

ENV=good4@ok.test
check "the envelope sender in From: verified once" 1 continue "" \
	"$(mt_ok_log "$ENV")" "From: <good4@ok.test>"

ENV=good5@ok.test
check "a syntax error in From:" 1 "reply 550" "$REJ" \
	"$(mt_ok_log "$ENV"
	echo "$H F=<$ENV> rejected after DATA: syntax error in 'From:' header when scanning for sender: domain missing or malformed in \"bad@@ok.test\" cached=no elapsed=N")" \
	"From: bad@@ok.test"

ENV=good6@ok.test
check "group syntax: a member verifies" 3 continue "" \
	"$(mt_ok_log "$ENV"; mt_failed_log bad3@ok.test
	mt_ok_log good7@ok.test)" \
	"From: Friends: bad3@ok.test, Good Seven <good7@ok.test>;"

ENV=good8@ok.test
check "an empty group is no candidate: 550" 1 "reply 550" "$REJ" \
	"$(mt_ok_log "$ENV"; novalid)" "From: undisclosed-recipients:;"

ENV=good9@ok.test
check "no candidate headers: 550" 1 "reply 550" "$REJ" \
	"$(mt_ok_log "$ENV"; novalid)" \
	"To: user@example.net" "Subject: no sender here"

ENV=good10@ok.test
check "an unqualified From: fails" 1 "reply 550" "$REJ" \
	"$(mt_ok_log "$ENV"; novalid)" "From: user"

ENV=good11@ok.test
check "Resent-Sender: comes first and rescues" 2 continue "" \
	"$(mt_ok_log "$ENV"; mt_ok_log good12@ok.test)" \
	"From: bad4@ok.test" "Resent-Sender: good12@ok.test"

ENV=good13@ok.test
check "Resent-From: after an invalid From:" 3 continue "" \
	"$(mt_ok_log "$ENV"; mt_failed_log bad5@ok.test
	mt_ok_log good14@ok.test)" \
	"From: bad5@ok.test" "Resent-From: good14@ok.test"

ENV=good15@ok.test
check "Sender: fails, From: rescues" 3 continue "" \
	"$(mt_ok_log "$ENV"; mt_failed_log bad6@ok.test
	mt_ok_log good16@ok.test)" \
	"From: good16@ok.test" "Sender: bad6@ok.test"

ENV=good17@ok.test
check "an unknown candidate: 451 4.4.3" 3 "reply 451" "$DEF" \
	"$(mt_ok_log "$ENV"; mt_failed_log bad7@ok.test
	echo "$H sender verify defer for <temp@ok.test>: Could not complete sender verify callout: mx.ok.test [127.0.0.2] : SMTP error from remote mail server after RCPT TO:<temp@ok.test>: 451 4.3.0 Temporary failure cached=no elapsed=N"
	echo "$H F=<$ENV> temporarily rejected after DATA: all attempts to verify a sender in a header line deferred cached=no elapsed=N")" \
	"From: temp@ok.test" "Reply-To: bad7@ok.test"

# a message only to postmaster@ is not checked at all
{
	mt_pre bad8@ok.test
	mt_want "rcpt <postmaster@example.net>" "header From: bad9@ok.test" \
		eoh eom quit
} >"$T/scenario"
mt_run
mt_expect "a message only to postmaster@: no header check" \
	"$(mt_pre_out bad8@ok.test
	mt_want "rcpt <postmaster@example.net> -> continue" \
		"header From: bad9@ok.test -> sent" "eoh -> continue" \
		"eom -> continue" "quit -> sent")" "" 0

# HeaderSenderVerify off: From: is not looked at
mt_conf hoff "HeaderSenderVerify off"
mt_reconf hoff
ENV=good18@ok.test
check "HeaderSenderVerify off" 1 continue "" "$(mt_ok_log "$ENV")" \
	"From: bad10@ok.test"

# A sender whose domain refuses our probe is accepted at RCPT under
# ProbeRefused accept (the default), and so is one whose domain refuses
# MAIL FROM:<> under NullSenderRefused accept.  The same address in From:
# must not turn that into a 451 or 550 after DATA.
mt_conf lenient "NullSenderRefused accept"
mt_reconf lenient
for s in policy@ok.test x@nullsender.test; do
	{
		mt_pre "$s"
		mt_want "rcpt <user@example.net>" "header From: $s" eoh eom quit
	} >"$T/scenario"
	mt_run
	tl_is "$MT_OUT" "$(mt_pre_out "$s"
		mt_want "rcpt <user@example.net> -> continue" \
			"header From: $s -> sent" "eoh -> continue" \
			"eom -> continue" "quit -> sent")" \
		"the accept policy of the envelope holds for From: <$s>"
done

mt_stop
tl_done
