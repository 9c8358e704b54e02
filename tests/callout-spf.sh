#!/bin/sh
# callout-spf.sh: "callout --client IP --helo NAME" shows the SPF result
# (issue 6) and what the daemon would do with it, for an IPv4 and an
# IPv6 client, before the callout it runs anyway.  Loopback only.

. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"
tl_init
tl_need_python
tl_tmpdir
T=$TL_TMPDIR
CALLOUT=$top_builddir/milter/callout
[ -x "$CALLOUT" ] || tl_skip_all "$CALLOUT is not built"

DPORT=$(tl_free_port) || tl_bail "no free port"
SPORT=$(tl_free_port) || tl_bail "no free port"
cat >"$T/zone" <<'ZONE'
spf.test MX 10 mx.spf.test
mx.spf.test A 127.0.0.2
spf.test TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"
fail.test MX 10 mx.spf.test
fail.test TXT "v=spf1 -all exp=why.fail.test"
why.fail.test TXT "not from %{i}"
ZONE
printf 'rcpt 250 2.1.5 Ok\n' >"$T/script"
tl_start_fakedns "$T/zone" "127.0.0.1:$DPORT"
tl_start_fakesmtp --listen "127.0.0.2:$SPORT=$T/script"
cat >"$T/c.conf" <<CONF
Nameservers 127.0.0.1:$DPORT
CalloutPort $SPORT
CalloutAllowNetworks 127.0.0.2/32
CalloutHelo verifier.example
CalloutTimeout 2s
DNSTimeout 1s
CONF

out=$("$CALLOUT" -c "$T/c.conf" --client 192.0.2.9 --helo mail.example \
	a@spf.test 2>&1)
tl_is "$(printf '%s\n' "$out" | head -n 1)" \
	"<a@spf.test>: SPF: pass (the daemon would skip)" "IPv4 client: pass"
tl_like "$out" "^<a@spf.test>: verified \\(rcpt\\)" "the callout still runs"

out=$("$CALLOUT" -c "$T/c.conf" --client 2001:db8::9 a@spf.test 2>&1)
tl_is "$(printf '%s\n' "$out" | head -n 1)" \
	"<a@spf.test>: SPF: pass (the daemon would skip)" "IPv6 client: pass"

out=$("$CALLOUT" -c "$T/c.conf" --client 198.51.100.9 a@spf.test 2>&1)
tl_is "$(printf '%s\n' "$out" | head -n 1)" \
	"<a@spf.test>: SPF: softfail (the daemon would verify)" \
	"outside the ranges: softfail"

out=$("$CALLOUT" -c "$T/c.conf" --client 198.51.100.9 b@fail.test 2>&1)
tl_is "$(printf '%s\n' "$out" | head -n 1)" \
	"<b@fail.test>: SPF: fail: not from 198.51.100.9 (the daemon would reject)" \
	"fail with the domain's explanation"

tl_done
