#!/bin/sh
# callout-dns.sh: integration tests of the callout command around the
# dialog: DNS outcomes (null MX, NXDOMAIN, NODATA, implicit MX, SERVFAIL,
# timeout, reserved MX targets), an IPv6-only MX, an address with CR LF
# (no traffic at all), silent servers and the overall deadline
# (CalloutBackgroundTimeout).
#
# Each block asserts the verdict and class, the exit status, and what
# the fake SMTP servers received (tests/callout-common.sh).  Loopback
# only; the servers are stopped by pid at exit.

. "${top_srcdir:-$(dirname "$0")/..}/tests/callout-common.sh"
co_init

EHLO='EHLO verifier.example'
MAIL='MAIL FROM:<>'

# ---------------------------------------------------------- scenarios
co_zone "dnull.test MX 0 ." \
	"dexplicit-nx.test NXDOMAIN" \
	"dnodata.test TXT \"v=spf1 -all\"" \
	"dservfail.test SERVFAIL" \
	"dtimeout.test TIMEOUT"
# no MX: the domain's own A record is the host (implicit MX)
co_zone "d2.test A 127.0.0.2"
co_listen 127.0.0.2 'rcpt 250 2.1.5 fine'
# MX at 127.0.0.1 (reserved, not in CalloutAllowNetworks); a listener
# there must see nothing
co_zone "d3.test MX 10 mx3.test" "mx3.test A 127.0.0.1"
co_listen 127.0.0.1 'rcpt 250 2.1.5 fine'
# first MX's address lookup fails (SERVFAIL), the second MX works
co_zone "d4.test MX 10 mxbroken.test" "d4.test MX 20 mx4.test" \
	"mxbroken.test SERVFAIL" "mx4.test A 127.0.0.4"
co_listen 127.0.0.4 'rcpt 250 2.1.5 fine'
# the only MX's address lookup fails
co_zone "d5.test MX 10 mxbroken.test"
# IPv6-only MX
co_zone "d6.test MX 10 mx6.test" "mx6.test AAAA ::1"
[ "$HAVE_V6" = no ] || co_listen ::1 'rcpt 250 2.1.5 fine over IPv6'
# two silent MX hosts: never a banner
co_zone "d8.test MX 10 mx8.test" "d8.test MX 20 mx9.test" \
	"mx8.test A 127.0.0.8" "mx9.test A 127.0.0.9"
co_listen 127.0.0.8 'banner none'
co_listen 127.0.0.9 'banner none'
# five silent MX hosts, for the deadline
for n in 10 11 12 13 14; do
	co_zone "d10.test MX $n mx$n.test" "mx$n.test A 127.0.0.$n"
	co_listen "127.0.0.$n" 'banner none'
done
co_start
co_conf slow 'CalloutTimeout 3s' 'CalloutMaxHosts 5'

# co_no_smtp: no connection to any fake SMTP listener since the mark.
co_no_smtp() {
	tl_is "$(co_new | grep -c ' #[0-9]* connect ')" 0 \
		"$CO_NAME: no SMTP connection at all"
}

# ---------------------------------------------------------------- DNS
co_begin "null MX"
co_run user@dnull.test
tl_is "$CO_VC" "failed (dns nullmx)" "$CO_NAME: failed (dns nullmx)"
tl_is "$CO_RC" 1 "$CO_NAME: exit status 1"
tl_is "$CO_MSG" "an MX or SRV record indicated no SMTP service" \
	"$CO_NAME: message"
co_no_smtp
co_end

co_begin "NXDOMAIN"
co_run user@nothere.test
tl_is "$CO_VC" "failed (dns nxdomain)" "$CO_NAME: failed (dns nxdomain)"
tl_is "$CO_RC" 1 "$CO_NAME: exit status 1"
tl_is "$CO_MSG" "Unrouteable address" "$CO_NAME: message"
co_no_smtp
co_end

co_begin "explicit NXDOMAIN"
co_run user@dexplicit-nx.test
tl_is "$CO_VC" "failed (dns nxdomain)" "$CO_NAME: failed (dns nxdomain)"
co_end

co_begin "no MX, an A record (implicit MX)"
co_run user@d2.test
co_expect "verified (rcpt)" 0 127.0.0.2 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d2.test>' QUIT)"
tl_like "$CO_MSG" '^d2\.test \[127\.0\.0\.2\] : ' \
	"$CO_NAME: the domain itself is the host"
co_end

co_begin "neither MX nor address records"
co_run user@dnodata.test
tl_is "$CO_VC" "failed (dns nodata)" "$CO_NAME: failed (dns nodata)"
tl_is "$CO_RC" 1 "$CO_NAME: exit status 1"
tl_is "$CO_MSG" "Unrouteable address" "$CO_NAME: message"
co_no_smtp
co_end

co_begin "SERVFAIL"
co_run user@dservfail.test
tl_is "$CO_VC" "unknown (dns temp)" "$CO_NAME: unknown (dns temp)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
tl_is "$CO_MSG" "host lookup did not complete" "$CO_NAME: message"
co_no_smtp
co_end

co_begin "DNS timeout"
co_run user@dtimeout.test
tl_is "$CO_VC" "unknown (dns temp)" "$CO_NAME: unknown (dns temp)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
tl_is "$CO_MSG" "host lookup did not complete" "$CO_NAME: message"
tl_ok "$CO_NAME: within DNSTimeout * 2 + 1 s ($CO_MS ms)" \
	test "$CO_MS" -lt 3000
co_no_smtp
co_end

co_begin "MX at 127.0.0.1 (reserved)"
co_run user@d3.test
tl_is "$CO_VC" "failed (dns nohosts)" "$CO_NAME: failed (dns nohosts)"
tl_is "$CO_RC" 1 "$CO_NAME: exit status 1"
tl_is "$CO_MSG" "all relevant MX records point to non-existent hosts" \
	"$CO_NAME: message"
tl_is "$(co_conns 127.0.0.1)" 0 "$CO_NAME: no connection to 127.0.0.1"
tl_like "$CO_OUT" '# A mx3\.test: 127\.0\.0\.1$' \
	"$CO_NAME: the transcript shows the A record"
co_end

co_begin "first MX address lookup SERVFAIL, second MX works"
co_run user@d4.test
co_expect "verified (rcpt)" 0 127.0.0.4 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d4.test>' QUIT)"
co_end

co_begin "only MX address lookup SERVFAIL"
co_run user@d5.test
tl_is "$CO_VC" "unknown (dns temp)" "$CO_NAME: unknown (dns temp)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
co_no_smtp
co_end

# ------------------------------------------------------------ syntax
# CR LF in the address: refused before any DNS query or connection.
co_begin "address with CR LF"
co_run "$(printf 'a\r\nRCPT TO:<x@y>@d2.test')"
tl_like "$CO_OUT" '^a\\r\\nRCPT TO:<x@y>@d2\.test: failed \(syntax\): ' \
	"$CO_NAME: failed (syntax), the address shown escaped"
tl_is "$CO_RC" 1 "$CO_NAME: exit status 1"
co_no_smtp
tl_is "$(co_new | wc -l | tr -d ' ')" 0 "$CO_NAME: SMTP log unchanged"
tl_is "$(co_count "$TL_DNS_LOG")" "$co_dmark" "$CO_NAME: no DNS query"
co_end

# -------------------------------------------------------------- IPv6
co_begin "IPv6-only MX"
if [ "$HAVE_V6" = yes ]; then
	co_run user@d6.test
	co_expect "verified (rcpt)" 0 ::1 "$(co_want "$EHLO" "$MAIL" \
		'RCPT TO:<user@d6.test>' QUIT)"
	tl_like "$CO_MSG" '^mx6\.test \[::1\] : .*fine over IPv6$' \
		"$CO_NAME: message"
else
	co_skip 4 "::1 cannot be bound here"
fi
co_end

# ---------------------------------------------------------- deadlines
co_begin "two silent MX hosts"
co_run user@d8.test
tl_is "$CO_VC" "unknown (timeout)" "$CO_NAME: unknown (timeout)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
tl_is "$(co_conns 127.0.0.8)/$(co_lines 127.0.0.8)" "1/" \
	"$CO_NAME: first host connected, nothing sent"
tl_is "$(co_conns 127.0.0.9)/$(co_lines 127.0.0.9)" "1/" \
	"$CO_NAME: second host connected, nothing sent"
tl_ok "$CO_NAME: about 1 s per host ($CO_MS ms)" \
	test "$CO_MS" -ge 1800 -a "$CO_MS" -lt 3500
co_end

# CalloutTimeout 3s and five silent hosts would take 15 s: the 10 s
# deadline (CalloutBackgroundTimeout) cuts the fourth host short.
co_begin "deadline with five silent MX hosts"
co_run -c "$T/slow.conf" user@d10.test
tl_is "$CO_VC" "unknown (timeout)" "$CO_NAME: unknown (timeout)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
tl_ok "$CO_NAME: stops at the 10 s deadline ($CO_MS ms)" \
	test "$CO_MS" -ge 9500 -a "$CO_MS" -lt 11000
tl_is "$(co_conns 127.0.0.10)$(co_conns 127.0.0.11)$(co_conns 127.0.0.12)$(co_conns 127.0.0.13)$(co_conns 127.0.0.14)" \
	11110 "$CO_NAME: four hosts called, the fifth not"
tl_like "$CO_RES" '^<user@d10\.test>: elapsed [0-9]+ ms, 4 hosts tried$' \
	"$CO_NAME: 4 hosts tried"
tl_like "$CO_MSG" '^mx13\.test \[127\.0\.0\.13\] : SMTP timeout after initial connection \(deadline reached\)$' \
	"$CO_NAME: message says the deadline was reached"
co_end

co_done
