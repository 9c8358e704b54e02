#!/bin/sh
# callout-dialog.sh: integration tests of the callout command's SMTP
# dialog: every row of the outcome table of DESIGN.md section 3, the
# reply reader on hostile input (multi-line, drip, overlong, 8-bit, EOF
# in the middle), timeouts, the MX walk, PIPELINING, CalloutMaxHosts,
# CalloutRandom, CalloutPostmaster and the exit statuses.
#
# Each block asserts the verdict and class, the exit status, and the
# exact lines the fake server received (tests/callout-common.sh).
# Loopback only; the servers are stopped by pid at exit.

. "${top_srcdir:-$(dirname "$0")/..}/tests/callout-common.sh"
co_init

EHLO='EHLO verifier.example'
MAIL='MAIL FROM:<>'
hex() { # TEXT: its bytes in hex (for fakesmtp "raw")
	printf '%s' "$1" | od -v -An -tx1 | tr -d '\n'
}

# ---------------------------------------------------------- scenarios
co_host 2 'rcpt 250 2.1.5 fine'
co_host 3 'rcpt 252 2.1.5 Cannot VRFY user, but will accept'
co_host 4 'rcpt 550 5.1.1 <user@d4.test>: Recipient address rejected'
co_host 5 'rcpt 550 no such user here'
co_host 6 'rcpt 550 5.7.1 Client host rejected: go away'
co_host 7 'mail <> 550 5.1.8 we do not accept bounces'
co_host 8 'pipelining
mail <> 550 5.1.8 we do not accept bounces
rcpt 250 2.1.5 would be fine'
# pipelined too, but the RCPT that follows the refused MAIL is never
# answered: the refusal must decide at once, not after a command timeout
co_host 50 'pipelining
mail <> 550 5.1.8 we do not accept bounces
rcpt none'
co_host 9 'mail 530 5.7.0 Must issue a STARTTLS command first'
co_host 10 'mail 550 5.7.1 Sender blocked by policy'
# banner 554 on the first MX; the second MX (11) must not be called
co_zone "d12.test MX 10 mx12.test" "d12.test MX 20 mx11.test" \
	"mx12.test A 127.0.0.12" "mx11.test A 127.0.0.11"
co_listen 127.0.0.12 'banner 554 5.7.1 No SMTP service here'
co_listen 127.0.0.11 'rcpt 250 2.1.5 fine'
co_host 13 'ehlo 550 5.5.1 EHLO not supported'
co_host 14 'ehlo 550 5.5.1 EHLO not supported
helo 550 5.7.1 You are not welcome'
co_host 15 ''
co_host 37 'ehlo 550 5.5.1 EHLO not supported
helo 421 4.3.2 Too busy'
co_host 16 'banner close'
co_host 17 'banner 421 4.3.2 Too busy, try later'
co_host 18 'mail 451 4.3.0 Temporary failure'
co_host 19 'rcpt 451 4.3.0 Temporary lookup failure'
co_host 20 'rcpt none'
# all hosts unknown: banner 421 on the first, RCPT 451 on the second
co_zone "d21.test MX 10 mx21.test" "d21.test MX 20 mx22.test" \
	"mx21.test A 127.0.0.21" "mx22.test A 127.0.0.22"
co_listen 127.0.0.21 'banner 421 4.3.2 Too busy'
co_listen 127.0.0.22 'rcpt 451 4.7.1 Try again later'
co_host 23 'conn 1 rcpt 451 4.7.1 Greylisted, try again later
rcpt 250 2.1.5 Ok now'
co_host 24 'rcpt 550-5.1.1 first line
rcpt+ 550-5.1.1 second line
rcpt+ 550 5.1.1 third line'
co_host 25 'banner drip 220 slow.example ESMTP
rcpt drip 250 2.1.5 dripped'
long=$(printf '%02100d' 0 | tr 0 x)
co_host 26 "rcpt raw $(hex "250 2.1.5 $long")0d0a"
co_host 27 'rcpt raw 80 81 90 a0 c3 a9 fe ff 0d 0a'
co_host 28 'rcpt eof-mid 250 2.1.5 Recipient ok'
co_host 29 'banner delay 3'
# first MX refused (no listener at .30), the second works
co_zone "d31.test MX 10 mx30.test" "d31.test MX 20 mx31.test" \
	"mx30.test A 127.0.0.30" "mx31.test A 127.0.0.31"
co_listen 127.0.0.31 'rcpt 250 2.1.5 fine'
co_host 32 'pipelining
rcpt 250 2.1.5 fine'
co_host 33 'rcpt 250 2.1.5 anything goes'
co_host 34 'rcpt <user@d34.test> 250 2.1.5 this one exists
rcpt 550 5.1.1 no such user'
co_host 35 'rcpt <postmaster@d35.test> 550 5.1.1 no postmaster here
rcpt 250 2.1.5 fine'
co_host 36 'rcpt 250 2.1.5 fine'
# CalloutMaxHosts 2 of 6 MX hosts, each a 421 banner
co_zone "d40.test MX 10 mx40.test" "d40.test MX 20 mx41.test" \
	"d40.test MX 30 mx42.test" "d40.test MX 40 mx43.test" \
	"d40.test MX 50 mx44.test" "d40.test MX 60 mx45.test"
for n in 40 41 42 43 44 45; do
	co_zone "mx$n.test A 127.0.0.$n"
	co_listen "127.0.0.$n" 'banner 421 4.3.2 Too busy'
done
co_start
co_conf random 'CalloutRandom yes'
co_conf postmaster 'CalloutPostmaster yes'
co_conf maxhosts2 'CalloutMaxHosts 2'
co_conf slowcmd 'CalloutTimeout 5s'

# ------------------------------------------------------ outcome table
co_begin "RCPT 250"
co_run user@d2.test
co_expect "verified (rcpt)" 0 127.0.0.2 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d2.test>' QUIT)"
tl_like "$CO_MSG" '^mx2\.test \[127\.0\.0\.2\] : .*250 2\.1\.5 fine$' \
	"$CO_NAME: message names the host and quotes the reply"
co_end

co_begin "RCPT 252"
co_run user@d3.test
co_expect "verified (rcpt)" 0 127.0.0.3 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d3.test>' QUIT)"
co_end

co_begin "RCPT 550 5.1.1"
co_run user@d4.test
co_expect "failed (rcpt)" 1 127.0.0.4 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d4.test>' QUIT)"
tl_like "$CO_MSG" '550 5\.1\.1 <user@d4\.test>: Recipient address rejected$' \
	"$CO_NAME: message quotes the reply"
co_end

co_begin "RCPT 550 without enhanced code"
co_run user@d5.test
co_expect "failed (rcpt)" 1 127.0.0.5 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d5.test>' QUIT)"
tl_like "$CO_MSG" '550 no such user here$' "$CO_NAME: message"
co_end

co_begin "RCPT 550 5.7.1"
co_run user@d6.test
co_expect "unknown (probe-refused)" 2 127.0.0.6 "$(co_want "$EHLO" \
	"$MAIL" 'RCPT TO:<user@d6.test>' QUIT)"
tl_like "$CO_MSG" '550 5\.7\.1 Client host rejected' "$CO_NAME: message"
co_end

co_begin "MAIL FROM:<> 550"
co_run user@d7.test
co_expect "failed (null-sender-refused)" 1 127.0.0.7 "$(co_want "$EHLO" \
	"$MAIL" QUIT)"
tl_like "$CO_MSG" '550 5\.1\.8 we do not accept bounces$' "$CO_NAME: message"
co_end

# With PIPELINING the RCPT goes out with the MAIL; its 250 must not count.
co_begin "MAIL FROM:<> 550, pipelined"
co_run user@d8.test
co_expect "failed (null-sender-refused)" 1 127.0.0.8 "$(co_want "$EHLO" \
	"$MAIL" 'RCPT TO:<user@d8.test>' QUIT)"
tl_like "$CO_MSG" 'MAIL FROM:<>.*550 5\.1\.8 we do not accept bounces$' \
	"$CO_NAME: message is the MAIL reply"
co_end

co_begin "MAIL FROM:<> 550, pipelined, RCPT never answered"
co_run -c "$T/slowcmd.conf" user@d50.test
co_expect "failed (null-sender-refused)" 1 127.0.0.50 "$(co_want "$EHLO" \
	"$MAIL" 'RCPT TO:<user@d50.test>' QUIT)"
tl_ok "$CO_NAME: decided at once, not after the 5 s command timeout" \
	test "$CO_MS" -lt 2500
co_end

co_begin "MAIL 530"
co_run user@d9.test
co_expect "unknown (probe-refused)" 2 127.0.0.9 "$(co_want "$EHLO" \
	"$MAIL" QUIT)"
tl_like "$CO_MSG" '530 5\.7\.0 Must issue a STARTTLS' "$CO_NAME: message"
co_end

co_begin "MAIL 550 5.7.1"
co_run user@d10.test
co_expect "unknown (probe-refused)" 2 127.0.0.10 "$(co_want "$EHLO" \
	"$MAIL" QUIT)"
co_end

co_begin "banner 554"
co_run user@d12.test
co_expect "unknown (probe-refused)" 2 127.0.0.12 "$(co_want QUIT)"
tl_is "$(co_conns 127.0.0.11)" 0 "$CO_NAME: the second MX is not called"
tl_like "$CO_MSG" 'initial connection: 554 5\.7\.1 No SMTP service here$' \
	"$CO_NAME: message"
co_end

co_begin "EHLO 550, HELO 250"
co_run user@d13.test
co_expect "verified (rcpt)" 0 127.0.0.13 "$(co_want "$EHLO" \
	'HELO verifier.example' "$MAIL" 'RCPT TO:<user@d13.test>' QUIT)"
co_end

co_begin "EHLO 550, HELO 550"
co_run user@d14.test
co_expect "unknown (probe-refused)" 2 127.0.0.14 "$(co_want "$EHLO" \
	'HELO verifier.example' QUIT)"
tl_like "$CO_MSG" 'after HELO verifier\.example: 550 5\.7\.1 You are not welcome$' \
	"$CO_NAME: message"
co_end

co_begin "EHLO 550, HELO 421"
co_run user@d37.test
co_expect "unknown (helo)" 2 127.0.0.37 "$(co_want "$EHLO" \
	'HELO verifier.example' QUIT)"
co_end

co_begin "connection refused"
co_run user@d15.test
tl_is "$CO_VC" "unknown (connect)" "$CO_NAME: unknown (connect)"
tl_is "$CO_RC" 2 "$CO_NAME: exit status 2"
tl_like "$CO_MSG" '^mx15\.test \[127\.0\.0\.15\] : Connection refused$' \
	"$CO_NAME: message"
co_end

co_begin "closed before banner"
co_run user@d16.test
co_expect "unknown (connect)" 2 127.0.0.16 ""
tl_is "$(co_conns 127.0.0.16)" 1 "$CO_NAME: one connection"
co_end

co_begin "banner 421"
co_run user@d17.test
co_expect "unknown (banner)" 2 127.0.0.17 "$(co_want QUIT)"
tl_like "$CO_MSG" '421 4\.3\.2 Too busy, try later$' "$CO_NAME: message"
co_end

co_begin "MAIL 451"
co_run user@d18.test
co_expect "unknown (mail)" 2 127.0.0.18 "$(co_want "$EHLO" "$MAIL" QUIT)"
co_end

co_begin "RCPT 451"
co_run user@d19.test
co_expect "unknown (rcpt)" 2 127.0.0.19 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d19.test>' QUIT)"
tl_like "$CO_MSG" '451 4\.3\.0 Temporary lookup failure$' "$CO_NAME: message"
co_end

co_begin "RCPT never answered"
co_run user@d20.test
co_expect "unknown (timeout)" 2 127.0.0.20 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d20.test>')"
tl_ok "$CO_NAME: gave up after about 1 s ($CO_MS ms)" \
	test "$CO_MS" -ge 900 -a "$CO_MS" -lt 2500
co_end

co_begin "all hosts unknown"
co_run user@d21.test
co_expect "unknown (rcpt)" 2 127.0.0.21 "$(co_want QUIT)"
tl_is "$(co_lines 127.0.0.22)" "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d21.test>' QUIT)" "$CO_NAME: second MX tried"
tl_like "$CO_RES" '^<user@d21\.test>: elapsed [0-9]+ ms, 2 hosts tried$' \
	"$CO_NAME: 2 hosts tried"
co_end

co_begin "greylisting, first try"
co_run user@d23.test
co_expect "unknown (rcpt)" 2 127.0.0.23 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d23.test>' QUIT)"
co_end
co_begin "greylisting, second try"
co_run user@d23.test
co_expect "verified (rcpt)" 0 127.0.0.23 "$(co_want "#2 $EHLO" \
	"#2 $MAIL" '#2 RCPT TO:<user@d23.test>' '#2 QUIT')"
co_end

# ------------------------------------------------------ hostile replies
co_begin "multi-line 550 at RCPT"
co_run user@d24.test
co_expect "failed (rcpt)" 1 127.0.0.24 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d24.test>' QUIT)"
tl_like "$CO_MSG" '550-5\.1\.1 first line.*550-5\.1\.1 second line.*550 5\.1\.1 third line$' \
	"$CO_NAME: message has all three lines"
co_end

co_begin "replies dripped one byte at a time"
co_run user@d25.test
co_expect "verified (rcpt)" 0 127.0.0.25 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d25.test>' QUIT)"
co_end

co_begin "overlong reply line (2110 octets)"
co_run user@d26.test
co_expect "unknown (protocol)" 2 127.0.0.26 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d26.test>')"
co_end

co_begin "8-bit garbage for a reply"
co_run user@d27.test
co_expect "unknown (protocol)" 2 127.0.0.27 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d27.test>')"
tl_is "$(printf '%s' "$CO_OUT" | LC_ALL=C tr -d '\000-\177' | wc -c | tr -d ' ')" 0 \
	"$CO_NAME: no 8-bit byte reaches the output"
tl_like "$CO_OUT" '^[0-9:.]+ < \\200\\201\\220\\240\\303\\251\\376\\377$' \
	"$CO_NAME: the transcript shows the bytes escaped"
co_end

co_begin "EOF in the middle of a reply"
co_run user@d28.test
co_expect "unknown (protocol)" 2 127.0.0.28 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d28.test>')"
co_end

# the server sleeps 3 s before its banner: do not wait for it to log
co_begin "banner slower than the timeout"
co_run -s 0 user@d29.test
co_expect "unknown (timeout)" 2 127.0.0.29 ""
tl_ok "$CO_NAME: gave up after about 1 s ($CO_MS ms)" \
	test "$CO_MS" -ge 900 -a "$CO_MS" -lt 2500
co_end

# ------------------------------------------------------------ MX walk
co_begin "first MX refused, second verifies"
co_run user@d31.test
co_expect "verified (rcpt)" 0 127.0.0.31 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d31.test>' QUIT)"
tl_like "$CO_MSG" '^mx31\.test \[127\.0\.0\.31\] : ' \
	"$CO_NAME: verified by the second MX"
tl_like "$CO_RES" '^<user@d31\.test>: elapsed [0-9]+ ms, 2 hosts tried$' \
	"$CO_NAME: 2 hosts tried"
co_end

co_begin "PIPELINING"
co_run user@d32.test
co_expect "verified (rcpt)" 0 127.0.0.32 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d32.test>' QUIT)"
tl_like "$CO_OUT" '^[0-9:.]+ > RCPT TO:<user@d32\.test>$' \
	"$CO_NAME: RCPT in the transcript"
co_end

co_begin "CalloutMaxHosts 2 of 6 hosts"
co_run -c "$T/maxhosts2.conf" user@d40.test
tl_is "$CO_VC" "unknown (banner)" "$CO_NAME: unknown (banner)"
n=0
for a in 40 41 42 43 44 45; do
	n=$((n + $(co_conns "127.0.0.$a")))
done
tl_is "$n" 2 "$CO_NAME: 2 connections in all"
tl_is "$(co_conns 127.0.0.40)$(co_conns 127.0.0.41)" 11 \
	"$CO_NAME: the two most preferred hosts"
tl_like "$CO_RES" '^<user@d40\.test>: elapsed [0-9]+ ms, 2 hosts tried$' \
	"$CO_NAME: 2 hosts tried"
co_end

# ------------------------------------------- CalloutRandom, Postmaster
random_re='callout-[0-9a-f]{12}-testing'
co_begin "CalloutRandom, random local part accepted"
co_run -c "$T/random.conf" user@d33.test
co_expect "verified (catch-all)" 0 127.0.0.33 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<callout-RANDOM-testing@d33.test>' QUIT)"
tl_like "$(co_lines 127.0.0.33)" "^#1 RCPT TO:<$random_re@d33\\.test>\$" \
	"$CO_NAME: random local part"
co_end

co_begin "CalloutRandom, random refused, real accepted"
co_run -c "$T/random.conf" user@d34.test
co_expect "verified (rcpt)" 0 127.0.0.34 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<callout-RANDOM-testing@d34.test>' RSET "$MAIL" \
	'RCPT TO:<user@d34.test>' QUIT)"
co_end

co_begin "CalloutPostmaster, postmaster refused"
co_run -c "$T/postmaster.conf" user@d35.test
co_expect "failed (postmaster)" 1 127.0.0.35 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d35.test>' RSET "$MAIL" \
	'RCPT TO:<postmaster@d35.test>' QUIT)"
tl_like "$CO_MSG" '550 5\.1\.1 no postmaster here$' "$CO_NAME: message"
co_end

co_begin "CalloutPostmaster, postmaster accepted"
co_run -c "$T/postmaster.conf" user@d36.test
co_expect "verified (rcpt)" 0 127.0.0.36 "$(co_want "$EHLO" "$MAIL" \
	'RCPT TO:<user@d36.test>' RSET "$MAIL" \
	'RCPT TO:<postmaster@d36.test>' QUIT)"
tl_like "$CO_MSG" 'RCPT TO:<user@d36\.test> accepted' \
	"$CO_NAME: message is the user's"
co_end

# --------------------------------------------------------- exit status
co_begin "exit status, all verified"
co_run user@d2.test other@d3.test
tl_is "$CO_RC" 0 "$CO_NAME: 0"
tl_is "$(printf '%s\n' "$CO_RES" | grep -oE '^<[^>]*>: (verified|failed|unknown)' | tr '\n' ' ')" \
	"<user@d2.test>: verified <other@d3.test>: verified " \
	"$CO_NAME: one line per address"
co_end
co_begin "exit status, verified and unknown"
co_run user@d2.test user@d19.test
tl_is "$CO_RC" 2 "$CO_NAME: 2"
co_end
co_begin "exit status, failed wins over unknown"
co_run user@d19.test user@d4.test user@d2.test
tl_is "$CO_RC" 1 "$CO_NAME: 1"
tl_is "$(printf '%s\n' "$CO_RES" | grep -oE '^<[^>]*>: (verified|failed|unknown)' | tr '\n' ' ')" \
	"<user@d19.test>: unknown <user@d4.test>: failed <user@d2.test>: verified " \
	"$CO_NAME: verdicts in order"
co_end

co_done
