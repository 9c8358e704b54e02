#!/bin/sh
# milter-spf.sh: SPF at MAIL FROM in the real daemon (issue 6), through
# the milter protocol: for each SPF result, whether a callout happened
# (connections at the fake SMTP server) and the exact reply the MTA got,
# the SPF log line, the Received-SPF header at end of message, and tag
# mode's X-Callout-Verify.  SPF records come from the fake DNS server;
# libspf2 runs in the daemon's helper processes.  Loopback only.

. "${top_srcdir:-$(dirname "$0")/..}/tests/milter-common.sh"
mt_init

HELPER=$top_builddir/milter/callout-spf-helper
[ -x "$HELPER" ] || tl_skip_all "$HELPER is not built"

# Every SPF domain's MX is mx.ok.test (127.0.0.2), which answers 550 5.1.1
# for these local parts: a callout, when one happens, rejects.
for d in pass fail exp soft neutral none perm pass6 tag; do
	mt_zone "spf$d.test MX 10 mx.ok.test"
done
mt_zone 'spfpass.test TXT "v=spf1 ip4:192.0.2.0/24 -all"' \
	'spffail.test TXT "v=spf1 -all"' \
	'spfexp.test TXT "v=spf1 -all exp=why.spfexp.test"' \
	'why.spfexp.test TXT "%{i} may not send mail for %{d}"' \
	'spfsoft.test TXT "v=spf1 ~all"' \
	'spfneutral.test TXT "v=spf1 ?all"' \
	'spfperm.test TXT "v=spf1 ip4:192.0.2.0/33 -all"' \
	'spfpass6.test TXT "v=spf1 ip6:2001:db8::/32 -all"' \
	'spftag.test TXT "v=spf1 -all"' \
	'spftemp.test SERVFAIL'
mt_world

# session SENDER [CLIENTIP]: MAIL, one RCPT, headers, end of message.
session() {
	{
		mt_pre "$1" "${2:-192.0.2.7}"
		mt_want "rcpt <user@example.net>" "header From: $1" eoh eom \
			quit
	} >"$T/scenario"
	mt_run
}

# spf_log SENDER RESULT ACTION [DETAIL]: the SPF decision line.
spf_log() {
	echo "$H SPF $2 for <$1>: ${4:+$4 }-> $3 cached=no elapsed=N"
}

mt_conf spf "SPF yes" "AddReceivedSPF yes"
mt_daemon spf

# ---- pass: no callout, accepted, Received-SPF added
session x@spfpass.test
tl_is "$MT_CONNS" 0 "pass: no callout"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" "pass: RCPT accepted"
tl_like "$MT_OUT" "insert header 0 Received-SPF: pass " \
	"pass: Received-SPF: pass inserted at end of message"
tl_like "$MT_NEWLOG" "SPF pass for <x@spfpass.test> -> skip cached=no" \
	"pass: log line says skip"
tl_like "$MT_OUT" "eoh -> continue" \
	"pass: From: is the envelope sender SPF vouched for: no callout there"

# ---- fail: 550 5.7.23, no callout
session x@spffail.test
tl_is "$MT_CONNS" 0 "fail: no callout"
tl_like "$MT_OUT" "$(printf '%s\n' 'rcpt <user@example.net> -> reply 550' \
	'  550 5.7.23 SPF validation failed')" "fail: 550 5.7.23 SPF validation failed"
tl_like "$MT_NEWLOG" "SPF fail for <x@spffail.test> -> reject cached=no" \
	"fail: log line says reject"
tl_like "$MT_NEWLOG" "F=<x@spffail.test> rejected RCPT <user@example.net>: SPF validation failed" \
	"fail: rejected RCPT log line"

# ---- fail with exp=: the domain's explanation comes first
session x@spfexp.test
tl_is "$MT_CONNS" 0 "fail with exp=: no callout"
tl_like "$MT_OUT" "$(printf '%s\n' 'rcpt <user@example.net> -> reply 550' \
	'  550-5.7.23 192.0.2.7 may not send mail for spfexp.test' \
	'  550 5.7.23 SPF validation failed')" \
	"fail with exp=: the explanation line, then SPF validation failed"

# ---- softfail, neutral, none, permerror: the callout decides
for r in soft:softfail neutral:neutral none:none perm:permerror; do
	d=spf${r%%:*}.test
	session "x@$d"
	tl_is "$MT_CONNS" 1 "${r#*:}: a callout happened"
	tl_like "$MT_OUT" "  550 5.1.7 Sender verify failed" \
		"${r#*:}: the callout's 550 reaches the MTA"
	tl_like "$MT_NEWLOG" "SPF ${r#*:} for <x@$d>.* -> verify cached=no" \
		"${r#*:}: log line says verify"
done

# ---- temperror (SERVFAIL): 451, no callout
session x@spftemp.test
tl_is "$MT_CONNS" 0 "temperror: no callout"
tl_like "$MT_OUT" "rcpt <user@example.net> -> reply 451" "temperror: 451"
tl_like "$MT_OUT" "  451 4.4.3 " "temperror: enhanced code 4.4.3"
tl_like "$MT_NEWLOG" "SPF temperror for <x@spftemp.test>.* -> defer cached=no" \
	"temperror: log line says defer"

# ---- an IPv6 client inside the domain's ip6: range: pass
session x@spfpass6.test 2001:db8::7
tl_is "$MT_CONNS" 0 "IPv6 pass: no callout"
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" "IPv6 pass: accepted"

# ---- the exempt postmaster still reaches us when SPF fails
{
	mt_pre x@spffail.test
	mt_want "rcpt <postmaster@example.net>" "rcpt <user@example.net>" quit
} >"$T/scenario"
mt_run
tl_like "$MT_OUT" "rcpt <postmaster@example.net> -> continue" \
	"SPF fail: postmaster@ still accepted"
tl_like "$MT_OUT" "rcpt <user@example.net> -> reply 550" \
	"SPF fail: the other recipient rejected"

# ---- policies: SPFFail verify and ignore probe; SPFPass verify probes
mt_conf fverify "SPF yes" "SPFFail verify"
mt_reconf fverify
session y@spffail.test
tl_is "$MT_CONNS" 1 "SPFFail verify: the callout decides"
mt_conf fignore "SPF yes" "SPFFail ignore"
mt_reconf fignore
session z@spffail.test
tl_is "$MT_CONNS" 1 "SPFFail ignore: treated as no SPF, the callout decides"
mt_conf pverify "SPF yes" "SPFPass verify"
mt_reconf pverify
session y@spfpass.test
tl_is "$MT_CONNS" 1 "SPFPass verify: probed anyway"
tl_like "$MT_OUT" "  550 5.1.7 Sender verify failed" \
	"SPFPass verify: the callout's verdict applies"

# ---- DeferOK: temperror accepted (and the callout, which also cannot
# resolve the domain, leaves it to DeferOK too)
mt_conf deferok "SPF yes" "DeferOK yes"
mt_reconf deferok
session y@spftemp.test
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" "temperror + DeferOK: accepted"

# ---- AddReceivedSPF no: no header
mt_conf norecv "SPF yes" "AddReceivedSPF no"
mt_reconf norecv
session q@spfpass.test
tl_ok "AddReceivedSPF no: no Received-SPF" sh -c \
	'! printf "%s\n" "$1" | grep -q "Received-SPF"' sh "$MT_OUT"

# ---- tag mode: accepted, spf= in X-Callout-Verify
mt_conf tag "SPF yes" "Mode tag"
mt_reconf tag
session x@spftag.test
tl_like "$MT_OUT" "rcpt <user@example.net> -> continue" "tag mode: SPF fail not rejected"
tl_like "$MT_OUT" "add header X-Callout-Verify: .*spf=fail" \
	"tag mode: X-Callout-Verify carries spf=fail"
tl_like "$MT_OUT" "insert header 0 Received-SPF: fail " \
	"tag mode: Received-SPF: fail on the accepted message"
session x@spfsoft.test
tl_like "$MT_OUT" "insert header 0 Received-SPF: softfail " \
	"tag mode: Received-SPF: softfail"

# ---- SPF no: no evaluation, no header, the callout runs
mt_conf nospf "SPF no"
mt_stop
mt_daemon nospf
session w@spffail.test
tl_is "$MT_CONNS" 1 "SPF no: the callout runs"
tl_ok "SPF no: no Received-SPF" sh -c \
	'! printf "%s\n" "$1" | grep -q "Received-SPF"' sh "$MT_OUT"

mt_stop
tl_done
