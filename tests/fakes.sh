#!/bin/sh
# fakes.sh: tests of the test suite's own fake servers (fakedns.py,
# fakesmtp.py) and of testlib.sh, on loopback only, with free ports.
# The clients are small python programs written into the temp dir.

. "${top_srcdir:-$(dirname "$0")/..}/tests/testlib.sh"
tl_init
tl_need_python
tl_tmpdir
T=$TL_TMPDIR

# ------------------------------------------------------------ clients
# dnsq ADDR PORT NAME TYPE [udp|tcp] [TIMEOUT]: prints the rcode (and TC)
# then one "TYPE DATA" line per answer record, or TIMEOUT.
cat >"$T/dnsq.py" <<'EOF'
import socket, struct, sys
from dnslib import DNSRecord, QTYPE, RCODE
addr, port, name, qtype = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
proto = sys.argv[5] if len(sys.argv) > 5 else "udp"
timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if name == "@garbage":
    q = b"\x12\x34garbage-garbage-garbage"
else:
    q = DNSRecord.question(name, qtype).pack()
try:
    if proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((addr, port))
        s.sendall(struct.pack("!H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            d = s.recv(65536)
            if not d:
                print("EOF")
                sys.exit(0)
            buf += d
        data = buf[2:]
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.sendto(q, (addr, port))
        data = s.recv(65536)
except socket.timeout:
    print("TIMEOUT")
    sys.exit(0)
if name == "@garbage":
    print("id=%d rcode=%d" % (struct.unpack("!H", data[:2])[0], data[3] & 15))
    sys.exit(0)
r = DNSRecord.parse(data)
print(RCODE.get(r.header.rcode) + (" TC" if r.header.tc else ""))
for rr in r.rr:
    if rr.rtype == QTYPE.TXT:
        text = " ".join('"%s"' % d.decode() for d in rr.rdata.data)
    else:
        text = str(rr.rdata)
    print("%s %s" % (QTYPE.get(rr.rtype), text))
EOF

# smtpc [-p] [-t SECS] ADDR PORT LINE...: reads the banner, then sends
# each LINE (CRLF added; "\n" in a LINE sends a bare LF line, "\x01" a
# byte) and prints each reply's lines.  -p sends all lines at once and
# prints everything until EOF.  Ends with EOF or TIMEOUT if the server
# closed or fell silent.
cat >"$T/smtpc.py" <<'EOF'
import socket, sys
args = sys.argv[1:]
pipe, timeout = False, 2.0
while args and args[0].startswith("-"):
    if args[0] == "-p":
        pipe = True
    elif args[0] == "-t":
        timeout = float(args.pop(1))
    args.pop(0)
addr, port, lines = args[0], int(args[1]), args[2:]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.create_connection((addr, port), timeout=timeout)
buf = b""
def line():
    global buf
    while b"\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise EOFError
        buf += d
    ln, buf = buf.split(b"\n", 1)
    return ln.decode("latin-1").rstrip("\r")
def reply():
    while True:
        ln = line()
        print(ln)
        if len(ln) < 4 or ln[3] != "-":
            return
def wire(text):
    data = text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    return data if data.endswith(b"\n") else data + b"\r\n"
try:
    if pipe:
        s.sendall(b"".join(wire(x) for x in lines))
        while True:
            print(line())
    reply()
    for x in lines:
        s.sendall(wire(x))
        reply()
    s.settimeout(0.3)  # did the server close after the last reply?
    print(line())
except EOFError:
    if buf:
        print(buf.decode("latin-1"))
    print("EOF")
except socket.timeout:
    if s.gettimeout() != 0.3:
        print("TIMEOUT")
EOF

# parallel ADDR PORT N PID STATS: hold N connections (after reading each
# banner), make the server write STATS (SIGUSR1), print its "peak" and
# "current" for ADDR:PORT once current reaches N, then close them all.
cat >"$T/parallel.py" <<'EOF'
import json, os, signal, socket, sys, time
addr, port, n, pid, stats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
socks = []
for i in range(n):
    s = socket.create_connection((addr, port), timeout=5)
    socks.append(s)
for s in socks:
    s.recv(1024)
got = "nothing"
for _ in range(50):
    os.kill(pid, signal.SIGUSR1)
    time.sleep(0.1)
    try:
        with open(stats) as f:
            st = json.load(f)["listeners"]["%s:%d" % (addr, port)]
        got = "peak=%d current=%d" % (st["peak"], st["current"])
        if st["current"] == n:
            break
    except (OSError, ValueError, KeyError):
        pass
print(got)
for s in socks:
    s.close()
EOF

dnsq() { "$PYTHON3" "$T/dnsq.py" "$@"; }
smtpc() { "$PYTHON3" "$T/smtpc.py" "$@"; }
json_get() { # FILE KEY... : print a value from a JSON file
	"$PYTHON3" -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: v = v[k]
print(v)' "$@" 2>/dev/null
}

# ---------------------------------------------------------------- DNS
a255=$(printf '%0255d' 0 | tr 0 a)
a45=$(printf '%045d' 0 | tr 0 a)
cat >"$T/zone" <<EOF
# zone of the fakes test
example.org      MX    10 mx1.example.org.
example.org      MX    20 mx2.example.org
Example.ORG      TXT   "v=spf1 -all"
mx1.example.org  A     127.0.0.2
v6.example       AAAA  ::1
long.example     TXT   "$a255$a45"
alias.example    CNAME target.example
target.example   A     127.0.0.9
nullmx.example   MX    0 .
servfail.example SERVFAIL
refused.example  REFUSED
timeout.example  TIMEOUT
nx.example       NXDOMAIN
delay.example    DELAY 1.0
delay.example    A     127.0.0.3
*.w.example      MX    10 mx.w.example
this line is bad
EOF

have_v6=no
if "$PYTHON3" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	have_v6=yes
fi
dport=$(tl_free_port) || tl_bail "no free port"
if [ "$have_v6" = yes ]; then
	tl_start_fakedns "$T/zone" "127.0.0.1:$dport" "[::1]:$dport"
else
	tl_start_fakedns "$T/zone" "127.0.0.1:$dport"
fi
dnspid=$TL_DNS_PID
L=127.0.0.1

tl_is "$(dnsq $L "$dport" example.org MX)" "NOERROR
MX 10 mx1.example.org.
MX 20 mx2.example.org." "dns: MX records in order"
tl_is "$(dnsq $L "$dport" MX1.Example.ORG. A)" "NOERROR
A 127.0.0.2" "dns: A, names case-insensitive with trailing dot"
tl_is "$(dnsq $L "$dport" v6.example AAAA)" "NOERROR
AAAA ::1" "dns: AAAA"
tl_is "$(dnsq $L "$dport" example.org TXT)" 'NOERROR
TXT "v=spf1 -all"' "dns: TXT"
tl_is "$(dnsq $L "$dport" long.example TXT)" "NOERROR
TXT \"$a255\" \"$a45\"" "dns: long TXT split into 255-byte strings"
tl_is "$(dnsq $L "$dport" alias.example A)" "NOERROR
CNAME target.example.
A 127.0.0.9" "dns: CNAME followed in the answer"
tl_is "$(dnsq $L "$dport" nullmx.example MX)" "NOERROR
MX 0 ." "dns: null MX"
tl_is "$(dnsq $L "$dport" a.b.w.example MX)" "NOERROR
MX 10 mx.w.example." "dns: wildcard"
tl_is "$(dnsq $L "$dport" nothere.example A)" "NXDOMAIN" \
	"dns: a name without records is NXDOMAIN"
tl_is "$(dnsq $L "$dport" mx1.example.org MX)" "NOERROR" \
	"dns: a name without records of the type is NODATA"
tl_is "$(dnsq $L "$dport" nx.example A)" "NXDOMAIN" "dns: explicit NXDOMAIN"
tl_is "$(dnsq $L "$dport" servfail.example MX)" "SERVFAIL" "dns: SERVFAIL"
tl_is "$(dnsq $L "$dport" refused.example MX)" "REFUSED" "dns: REFUSED"
tl_is "$(dnsq $L "$dport" timeout.example MX udp 1)" "TIMEOUT" \
	"dns: TIMEOUT never answers (1 s client timeout)"
tl_is "$(dnsq $L "$dport" delay.example A udp 0.4)" "TIMEOUT" \
	"dns: DELAY 1.0 is not answered within 0.4 s"
tl_is "$(dnsq $L "$dport" delay.example A udp 3)" "NOERROR
A 127.0.0.3" "dns: DELAY 1.0 is answered within 3 s"
tl_is "$(dnsq $L "$dport" example.org MX tcp)" "NOERROR
MX 10 mx1.example.org.
MX 20 mx2.example.org." "dns: over TCP"
tl_is "$(dnsq $L "$dport" @garbage A)" "id=4660 rcode=1" \
	"dns: garbage gets FORMERR"
tl_is "$(dnsq $L "$dport" target.example A)" "NOERROR
A 127.0.0.9" "dns: still answers after garbage"
tl_like "$(cat "$TL_DNS_LOG")" \
	'^udp 127\.0\.0\.1:[0-9]+ example\.org MX -> NOERROR 2: example\.org MX 10 mx1\.example\.org\.' \
	"dns: log line per query"
tl_like "$(cat "$TL_DNS_LOG")" 'line 18: .*this line is bad' \
	"dns: bad zone line reported and skipped"

echo "new.example A 127.0.0.7" >>"$T/zone"
kill -HUP "$dnspid"
new_answers() { [ "$(dnsq $L "$dport" new.example A)" = "NOERROR
A 127.0.0.7" ]; }
tl_ok "dns: SIGHUP reloads the zone" tl_wait 5 new_answers

if [ "$have_v6" = yes ]; then
	tl_is "$(dnsq ::1 "$dport" example.org MX)" "NOERROR
MX 10 mx1.example.org.
MX 20 mx2.example.org." "dns: over ::1 UDP"
	tl_is "$(dnsq ::1 "$dport" nothere.example A tcp)" "NXDOMAIN" \
		"dns: over ::1 TCP"
else
	echo "ok $((tl_n + 1)) # SKIP ::1 unavailable"
	echo "ok $((tl_n + 2)) # SKIP ::1 unavailable"
	tl_n=$((tl_n + 2))
fi

# --------------------------------------------------------------- SMTP
cat >"$T/s1" <<'EOF'
# main script
banner 220-fake.example first
banner+ 220 ESMTP second
conn 2 mail 451 4.7.1 greylisted
rcpt <Good@Example.org> 250 2.1.5 good
rcpt <none@example.org> none
rcpt <close@example.org> close
rcpt <slow@example.org> delay 0.3 250 slow
rcpt <raw@example.org> raw 32 35 30 2d 61 0a 32 35 30 20 62 0d 0a
rcpt <drip@example.org> drip 250 dripped
rcpt <mid@example.org> eof-mid 250 2.1.5 halfhalf
rcpt * 550 5.1.1 No such user
EOF
cat >"$T/s2" <<'EOF'
pipelining
rcpt 250 2.1.5 all fine
EOF
cat >"$T/s3" <<'EOF'
banner none
EOF
cat >"$T/s4" <<'EOF'
banner close
EOF
sport=$(tl_free_port) || tl_bail "no free port"
A1=127.0.0.1 A2=127.0.0.2 A3=127.0.0.3 A4=127.0.0.4
tl_start_fakesmtp --listen "$A1:$sport=$T/s1" --listen "$A2:$sport=$T/s2" \
	--listen "$A3:$sport=$T/s3" --listen "$A4:$sport=$T/s4"
smtppid=$TL_SMTP_PID
pidf=$TL_SMTP_PIDFILE
tl_is "$(cat "$pidf")" "$smtppid" "smtp: pidfile holds the pid"

tl_is "$(smtpc $A1 "$sport" 'EHLO tester.example' 'MAIL FROM:<a@b.example>' \
	'RCPT TO:<good@example.org>' 'rcpt to:<other@example.org>' QUIT)" \
"220-fake.example first
220 ESMTP second
250-fake.example
250-8BITMIME
250 ENHANCEDSTATUSCODES
250 2.1.0 Ok
250 2.1.5 good
550 5.1.1 No such user
221 2.0.0 Bye
EOF" "smtp: scripted replies, per-recipient override, defaults, QUIT closes"

tl_is "$(smtpc $A1 "$sport" 'mail from:<a@b.example>' 'RCPT TO:<x@y.example>')" \
"220-fake.example first
220 ESMTP second
451 4.7.1 greylisted
550 5.1.1 No such user" "smtp: conn 2 directive applies to the second connection only"

tl_is "$(smtpc -t 1 $A1 "$sport" 'HELO t' 'RCPT TO:<none@example.org>')" \
"220-fake.example first
220 ESMTP second
250 fake.example
TIMEOUT" "smtp: none never answers"
tl_is "$(smtpc $A1 "$sport" 'RCPT TO:<close@example.org>')" \
"220-fake.example first
220 ESMTP second
EOF" "smtp: close closes without answering"
tl_is "$(smtpc -t 0.2 $A1 "$sport" 'RCPT TO:<slow@example.org>')" \
"220-fake.example first
220 ESMTP second
TIMEOUT" "smtp: delay 0.3 is not answered within 0.2 s"
tl_is "$(smtpc $A1 "$sport" 'RCPT TO:<slow@example.org>' 'RCPT TO:<raw@example.org>' \
	'RCPT TO:<drip@example.org>' 'NOOP' 'BOGUS command' 'RCPT TO:<mid@example.org>')" \
"220-fake.example first
220 ESMTP second
250 slow
250-a
250 b
250 dripped
250 2.0.0 Ok
502 5.5.2 Error: command not recognized
250 2.1.5
EOF" "smtp: delay, raw (bare LF), drip, unknown command, eof-mid"

tl_is "$(smtpc -p $A2 "$sport" 'EHLO x' 'MAIL FROM:<>' 'RCPT TO:<a@b>' \
	'RCPT TO:<c@d>' 'DATA' 'Subject: x' '' 'body' '.' 'QUIT')" \
"220 fake.example ESMTP
250-fake.example
250-8BITMIME
250-ENHANCEDSTATUSCODES
250 PIPELINING
250 2.1.0 Ok
250 2.1.5 all fine
250 2.1.5 all fine
354 End data with <CR><LF>.<CR><LF>
250 2.0.0 Ok: queued
221 2.0.0 Bye
EOF" "smtp: pipelined commands answered in order; own script per listener"

tl_is "$(smtpc -t 1 $A3 "$sport")" "TIMEOUT" "smtp: banner none"
tl_is "$(smtpc $A4 "$sport")" "EOF" "smtp: banner close"

tl_is "$(smtpc $A2 "$sport" 'MAIL FROM:<bare@lf>\n' 'RCPT TO:<x\x01\xff@y>' QUIT)" \
"220 fake.example ESMTP
250 2.1.0 Ok
250 2.1.5 all fine
221 2.0.0 Bye
EOF" "smtp: bare LF line and 8-bit bytes accepted"

log=$(cat "$TL_SMTP_LOG")
tl_like "$log" "^$A1:$sport #1 connect 127\\.0\\.0\\.1:[0-9]+\$" "smtp log: connect"
tl_like "$log" "^$A1:$sport #1 < EHLO tester\\.example\$" "smtp log: received line"
tl_like "$log" "^$A1:$sport #1 close \\(quit\\)\$" "smtp log: close"
tl_like "$log" "^$A2:$sport #[0-9]+ < MAIL FROM:<bare@lf>\\\\x0a\$" \
	"smtp log: bare LF line shown as-is"
tl_like "$log" "^$A2:$sport #[0-9]+ < RCPT TO:<x\\\\x01\\\\xff@y>\$" \
	"smtp log: non-printable bytes escaped"
tl_like "$log" "^$A2:$sport #1 < body\$" "smtp log: message lines"

# 20 parallel connections on one listener, 1 on another, then SIGUSR1.
tl_is "$("$PYTHON3" "$T/parallel.py" $A2 "$sport" 20 "$smtppid" "$TL_SMTP_STATS")" \
	"peak=20 current=20" "smtp stats: 20 concurrent connections"
all_closed() {
	kill -USR1 "$smtppid"
	sleep 0.1
	[ "$(json_get "$TL_SMTP_STATS" current)" = 0 ]
}
tl_ok "smtp stats: all connections closed" tl_wait 5 all_closed
tl_is "$(json_get "$TL_SMTP_STATS" listeners "$A2:$sport" connections)" 22 \
	"smtp stats: connections per listener"
tl_is "$(json_get "$TL_SMTP_STATS" listeners "$A2:$sport" peak)" 20 \
	"smtp stats: peak per listener"
tl_is "$(json_get "$TL_SMTP_STATS" connections)" 30 "smtp stats: total"

# ------------------------------------------------------------ teardown
tl_stop_all
gone=yes
for p in $dnspid $smtppid; do
	kill -0 "$p" 2>/dev/null && gone=no
done
tl_is "$gone" yes "tl_stop_all leaves no process behind"
tl_ok "pidfile removed at exit" test ! -e "$pidf"
tl_is "$(json_get "$TL_SMTP_STATS" current)" 0 "stats written at exit"
tl_done
