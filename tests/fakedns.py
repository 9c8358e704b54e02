#!/usr/bin/python3
"""fakedns.py: a scripted, authoritative-style DNS server for the test suite.

It answers UDP and TCP queries from a small zone file, so that tests of the
callout library and daemon can see every DNS outcome (records, NXDOMAIN,
NODATA, SERVFAIL, REFUSED, timeouts, slow answers, truncation) on loopback.

Usage:
    fakedns.py --zone FILE --listen ADDR:PORT [--listen [V6ADDR]:PORT ...]
               [--pidfile FILE] [--log FILE]

The pidfile is written once every socket is bound: its existence means
"ready".  SIGHUP reloads the zone (a zone that fails to load keeps the old
one and logs why); SIGTERM or SIGINT stop the server and remove the pidfile.
--log FILE (or "-" for stderr) gets one line per query:
    udp 127.0.0.1:40000 example.org MX -> NOERROR 1: example.org MX 10 mx1.example.org.

Zone file format: one record per line, "#" starts a comment line.

    NAME [TTL] TYPE DATA

    example.org        MX    10 mx1.example.org
    mx1.example.org    A     127.0.0.2
    v6.example         AAAA  ::1
    example.org        TXT   "v=spf1 -all"
    alias.example      CNAME target.example
    nullmx.example     MX    0 .
    *.bench.example    MX    10 mx.bench.example     (wildcard, see below)

Names are case-insensitive and may carry a trailing dot.  TTL defaults to
300.  TXT data is one or more double-quoted strings (backslash escapes the
next character) or a bare word; a string longer than 255 bytes is split into
255-byte chunks as on the wire.  A, AAAA, MX, TXT, CNAME, PTR and NS are
built directly; any other type is handed to dnslib's zone parser (SRV, SOA,
...).  A line the parser rejects is reported on stderr and skipped.

Special behaviours, in place of TYPE DATA:

    servfail.example   SERVFAIL     answer SERVFAIL
    refused.example    REFUSED      answer REFUSED
    timeout.example    TIMEOUT      never answer
    nx.example         NXDOMAIN     answer NXDOMAIN (also the default for a
                                    name without records)
    delay.example      DELAY 2.0    answer after 2.0 s (combines with records)
    tc.example         TRUNCATE     over UDP answer with TC set and no
                                    records (the client must retry over TCP)

Answering rules:
  - a name with no records (and no wildcard matching it) -> NXDOMAIN;
  - a name with records, none of the asked type -> NOERROR with no answer
    (NODATA);
  - a CNAME is followed inside the answer section, as a real server does,
    up to 8 links; each link's behaviour (SERVFAIL, ...) applies;
  - "*.parent" matches any name under parent that has no records itself;
  - ANY returns every record of the name;
  - a UDP answer larger than 512 bytes (or the client's EDNS0 size) is sent
    truncated with TC set;
  - a packet that does not parse gets FORMERR if it has a 12-byte header,
    else it is dropped; the server never dies on input.

The module can also be imported: Zone(text).resolve(name, qtype) and
answer(packet, zone, proto) are the building blocks of the server.
"""

import argparse
import asyncio
import os
import signal
import socket
import struct
import sys

from dnslib import (A, AAAA, CNAME, MX, NS, PTR, QTYPE, RCODE, RR, TXT,
                    DNSHeader, DNSLabel, DNSRecord)

BEHAVIOURS = ("SERVFAIL", "REFUSED", "TIMEOUT", "NXDOMAIN", "TRUNCATE")
MAX_CNAME = 8
TCP_IDLE = 30.0


def norm(name):
    """Canonical form of a name: lower case, no trailing dot."""
    name = str(name).strip().lower()
    return name[:-1] if name.endswith(".") and name != "." else name


def txt_strings(data):
    """Split TXT zone data into byte strings of at most 255 bytes each."""
    strings, cur, i, quoted = [], None, 0, False
    while i < len(data):
        c = data[i]
        if quoted:
            if c == "\\" and i + 1 < len(data):
                i += 1
                cur += data[i]
            elif c == '"':
                strings.append(cur)
                cur, quoted = None, False
            else:
                cur += c
        elif c == '"':
            cur, quoted = "", True
        elif not c.isspace():
            j = i
            while j < len(data) and not data[j].isspace():
                j += 1
            strings.append(data[i:j])
            i = j - 1
        i += 1
    if quoted:
        raise ValueError("unterminated quoted string")
    chunks = []
    for s in strings:
        b = s.encode("utf-8")
        chunks.extend(b[k:k + 255] for k in range(0, len(b), 255))
        if not b:
            chunks.append(b"")
    return chunks or [b""]


def make_rdata(name, rtype, data, ttl):
    """Build an RR for one zone line; raises ValueError on bad data."""
    words = data.split()
    if rtype == "A":
        rdata = A(words[0])
    elif rtype == "AAAA":
        rdata = AAAA(words[0])
    elif rtype == "MX":
        rdata = MX(DNSLabel(words[1]), int(words[0]))
    elif rtype == "TXT":
        rdata = TXT(txt_strings(data))
    elif rtype in ("CNAME", "PTR", "NS"):
        rdata = {"CNAME": CNAME, "PTR": PTR, "NS": NS}[rtype](
            DNSLabel(words[0]))
    else:
        rrs = RR.fromZone("%s. %d IN %s %s" % (name, ttl, rtype, data))
        if len(rrs) != 1:
            raise ValueError("cannot parse %s data" % rtype)
        return rrs[0]
    return RR(name + ".", getattr(QTYPE, rtype), ttl=ttl, rdata=rdata)


class Zone:
    """Records and behaviours loaded from zone text."""

    def __init__(self, text=""):
        self.records = {}     # name -> [RR]
        self.behaviour = {}   # name -> one of BEHAVIOURS
        self.delay = {}       # name -> seconds
        self.errors = []
        for lineno, line in enumerate(text.splitlines(), 1):
            try:
                self._line(line)
            except Exception as e:  # keep going: report and skip the line
                self.errors.append("line %d: %s: %s" % (lineno, e, line))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            return cls(f.read())

    def _line(self, line):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith(";"):
            return
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise ValueError("need NAME TYPE [DATA]")
        name, ttl = norm(parts[0]), 300
        rest = parts[1:]
        if rest[0].isdigit() and len(rest) > 1:
            ttl = int(rest[0])
            rest = rest[1].split(None, 1)
        rtype, data = rest[0].upper(), (rest[1] if len(rest) > 1 else "")
        if rtype in BEHAVIOURS:
            self.behaviour[name] = rtype
        elif rtype == "DELAY":
            self.delay[name] = max(0.0, float(data.split()[0]))
        elif rtype not in QTYPE.reverse:
            raise ValueError("unknown type %s" % rtype)
        elif not data:
            raise ValueError("no data")
        else:
            self.records.setdefault(name, []).append(
                make_rdata(name, rtype, data, ttl))

    def find(self, name):
        """Records of name (exact, else the closest wildcard) or None."""
        if name in self.records:
            return self.records[name]
        if name in self.behaviour or name in self.delay:
            return []
        labels = name.split(".")
        for i in range(1, len(labels)):
            wild = "*." + ".".join(labels[i:])
            if wild in self.records:
                return self.records[wild]
        return None

    def resolve(self, qname, qtype):
        """Answer (qname, qtype) where qtype is a name such as "MX".

        Returns (rcode, answers, delay, truncate) where rcode is a name
        from RCODE ("NOERROR", ...) or "TIMEOUT" (do not answer), answers
        is a list of RRs.
        """
        name, answers, seen = norm(qname), [], set()
        delay = self.delay.get(name, 0.0)
        truncate = False
        for _ in range(MAX_CNAME + 1):
            b = self.behaviour.get(name)
            truncate = truncate or b == "TRUNCATE"
            if b in ("SERVFAIL", "REFUSED"):
                return b, [], delay, truncate
            if b == "TIMEOUT":
                return "TIMEOUT", [], delay, truncate
            if b == "NXDOMAIN":
                return "NXDOMAIN", answers, delay, truncate
            rrs = self.find(name)
            if rrs is None:
                return "NXDOMAIN", answers, delay, truncate
            match = [r for r in rrs if qtype == "ANY"
                     or QTYPE.get(r.rtype) == qtype]
            cname = [r for r in rrs if r.rtype == QTYPE.CNAME]
            if match or not cname:
                answers += [self._owned(r, name) for r in match]
                return "NOERROR", answers, delay, truncate
            answers.append(self._owned(cname[0], name))
            seen.add(name)
            name = norm(cname[0].rdata.label)
            if name in seen:
                break
        return "NOERROR", answers, delay, truncate

    @staticmethod
    def _owned(rr, name):
        """A copy of rr owned by name (wildcards answer with the qname)."""
        return RR(name + ".", rr.rtype, rr.rclass, rr.ttl, rr.rdata)


def answer(data, zone, proto="udp"):
    """Build the answer to one query packet.

    Returns (reply bytes or None for no answer, delay seconds, log text).
    """
    try:
        req = DNSRecord.parse(data)
        q = req.q
        qname, qtype = norm(q.qname), QTYPE.get(q.qtype)
    except Exception as e:
        if len(data) < 12:
            return None, 0.0, "garbage %d bytes -> dropped" % len(data)
        ident = struct.unpack("!H", data[:2])[0]
        reply = DNSRecord(DNSHeader(id=ident, qr=1, rcode=RCODE.FORMERR))
        return (reply.pack(), 0.0, "garbage %d bytes (%s) -> FORMERR"
                % (len(data), str(e)[:60]))
    if req.header.qr or not req.questions:
        return None, 0.0, "not a query -> dropped"
    rcode, answers, delay, trunc = zone.resolve(qname, str(qtype))
    what = "%s %s -> " % (qname or ".", qtype)
    if rcode == "TIMEOUT":
        return None, delay, what + "TIMEOUT (no answer)"
    reply = req.reply()
    reply.header.rcode = getattr(RCODE, rcode)
    if proto == "udp" and trunc:
        reply.header.tc = 1
        return reply.pack(), delay, what + rcode + " TC (forced)"
    for rr in answers:
        reply.add_answer(rr)
    packed = reply.pack()
    if proto == "udp":
        limit = 512
        for rr in req.ar:
            if rr.rtype == QTYPE.OPT:
                limit = max(512, min(rr.rclass, 65535))
        if len(packed) > limit:
            reply.rr = []
            reply.header.tc = 1
            return (reply.pack(), delay,
                    what + "%s TC (%d bytes > %d)" % (rcode, len(packed), limit))
    shown = "; ".join("%s %s %s" % (norm(r.rname), QTYPE.get(r.rtype), r.rdata)
                      for r in answers)
    return packed, delay, what + "%s %d%s" % (
        rcode, len(answers), (": " + shown) if shown else "")


class Server:
    """The asyncio server: UDP and TCP listeners sharing one zone."""

    def __init__(self, zone_path, listens, log):
        self.zone_path = zone_path
        self.zone = Zone()
        self.listens = listens
        self.log = log
        self.transports = []
        self.tcp_servers = []

    def logline(self, text):
        if self.log:
            try:
                self.log.write(text + "\n")
                self.log.flush()
            except OSError:
                pass

    def reload(self):
        try:
            zone = Zone.load(self.zone_path)
        except OSError as e:
            self.logline("zone %s not reloaded: %s" % (self.zone_path, e))
            return False
        for err in zone.errors:
            self.logline("zone %s: %s" % (self.zone_path, err))
            print("fakedns: zone %s: %s" % (self.zone_path, err),
                  file=sys.stderr)
        self.zone = zone
        self.logline("zone %s loaded: %d names" % (self.zone_path,
                                                   len(zone.records)))
        return True

    def handle(self, data, peer, proto, send):
        reply, delay, text = answer(data, self.zone, proto)
        self.logline("%s %s %s" % (proto, peer, text))
        if reply is None:
            return None
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, send, reply)
        else:
            send(reply)
        return reply

    async def tcp_client(self, reader, writer):
        peer = fmt_peer(writer.get_extra_info("peername"))
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE)
                (n,) = struct.unpack("!H", head)
                data = await asyncio.wait_for(reader.readexactly(n), TCP_IDLE)

                def send(reply, w=writer):
                    if not w.is_closing():
                        w.write(struct.pack("!H", len(reply)) + reply)
                self.handle(data, peer, "tcp", send)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError,
                ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def start(self):
        loop = asyncio.get_running_loop()
        for host, port in self.listens:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(fam, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            tr, _ = await loop.create_datagram_endpoint(
                lambda: UDPProtocol(self), sock=sock)
            self.transports.append(tr)
            srv = await asyncio.start_server(self.tcp_client, host, port,
                                             family=fam, reuse_address=True,
                                             backlog=1024)
            self.tcp_servers.append(srv)

    def close(self):
        for tr in self.transports:
            tr.close()
        for srv in self.tcp_servers:
            srv.close()


class UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, server):
        self.server = server
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        def send(reply):
            try:
                self.transport.sendto(reply, addr)
            except OSError:
                pass
        try:
            self.server.handle(data, fmt_peer(addr), "udp", send)
        except Exception as e:  # never die on a query
            self.server.logline("udp %s internal error: %r" %
                                (fmt_peer(addr), e))

    def error_received(self, exc):
        pass


def fmt_peer(addr):
    if not addr:
        return "?"
    host, port = addr[0], addr[1]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def parse_listen(text):
    """"ADDR:PORT" or "[V6ADDR]:PORT" -> (addr, port)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("bad listen address %r" % text)
    return host, int(port)


async def run(args):
    log = None
    if args.log == "-":
        log = sys.stderr
    elif args.log:
        log = open(args.log, "a", encoding="utf-8", errors="replace")
    server = Server(args.zone, args.listen, log)
    if not server.reload():
        print("fakedns: cannot read zone %s" % args.zone, file=sys.stderr)
        return 1
    try:
        await server.start()
    except OSError as e:
        print("fakedns: cannot listen: %s" % e, file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, server.reload)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)  # appears complete: readiness signal
    try:
        await stop.wait()
    finally:
        server.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="scripted fake DNS server")
    p.add_argument("--listen", action="append", type=parse_listen,
                   required=True, help="ADDR:PORT or [V6ADDR]:PORT")
    p.add_argument("--zone", required=True)
    p.add_argument("--pidfile")
    p.add_argument("--log")
    args = p.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
