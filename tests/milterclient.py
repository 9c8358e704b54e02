#!/usr/bin/python3
"""milterclient.py: a small MTA-side milter protocol client for the tests.

It plays the MTA (Postfix or Sendmail) towards a milter, speaking the
milter protocol version 6 as libmilter does, and prints what the milter
answered to every step, so that a shell test can compare it exactly.

Usage:
    milterclient.py [-t SECONDS] [--timing FILE] SOCKET [SCRIPT]

SOCKET is "unix:/path" (or "local:/path", or a bare path) or
"inet:PORT@HOST".  SCRIPT is a file of steps; without it (or with "-")
the steps are read from stdin.  -t bounds every read from the milter
(default 40 s).  --timing FILE gets "STEP<TAB>SECONDS" per step.

Packets: a 4-byte big-endian length (command byte included), the command
byte, the data.  The client first negotiates ('O': version 6, every
action, every protocol step) and then honours the milter's answer: it
does not send the steps the milter asked not to get (SMFIP_NO*), and does
not wait for a reply where the milter asked not to give one (SMFIP_NR_*).

Script: one step per line; blank lines and lines starting with "#" are
ignored.  In TEXT, \\n, \\r, \\t and \\\\ are escapes.
    negotiate                   print the negotiation (else it is silent)
    macro NAME VALUE            a macro for the next command ('D'); a NAME
                                longer than one letter gets braces: {NAME}
    connect HOST ADDR [PORT]    'C': family 4 or 6 from ADDR, port 25
    connect HOST unix PATH      'C' with family L;  connect HOST unknown: U
    helo NAME                   'H'
    mail <ADDR> [ARG...]        'M'
    rcpt <ADDR> [ARG...]        'R'
    data                        'T'
    header NAME: VALUE          'L'
    eoh                         'N'
    body TEXT                   'B'
    eom                         'E' (end of message)
    abort                       'A' (no reply)
    quit                        'Q' (no reply; the milter closes)
    touch FILE                  create FILE (tell the test where we are)
    waitfor FILE                wait until FILE exists (bounded by -t)
    sleep SECONDS

Output: one line per step, "STEP -> RESULT", RESULT being continue,
accept, reject, tempfail, discard, skip, reply CODE (then every line of
the reply text the milter sent, as sent, each indented by two spaces),
"sent" (no reply expected) or "skipped (WHY)" when an MTA would not send
the step any more (the connection or the message was already decided).
Modifications ('h' add header, 'i', 'm', '+', '-', 'e', 'q' ...) are
printed before the result, indented: "  add header NAME: VALUE".

Exit status: 0 when the script ran; 2 on a protocol error, a timeout or
a lost connection (after printing what happened); 64 on a bad script.
"""

import argparse
import os
import socket
import struct
import sys
import time

VERSION = 6
ALL_ACTIONS = 0x1FF          # SMFIF_ADDHDRS ... SMFIF_SETSYMLIST
ALL_STEPS = 0x1FFFFF         # SMFIP_NOCONNECT ... SMFIP_HDR_LEADSPC
NO = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8, "B": 0x10, "L": 0x20,
      "N": 0x40, "T": 0x200}
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "T": 0x10000,
      "N": 0x40000, "B": 0x80000, "L": 0x80}
FINAL = {b"c": "continue", b"a": "accept", b"r": "reject",
         b"t": "tempfail", b"d": "discard", b"s": "skip",
         b"f": "connection failure", b"4": "shutdown"}
STEP_CMD = {"connect": "C", "helo": "H", "mail": "M", "rcpt": "R",
            "data": "T", "header": "L", "eoh": "N", "body": "B",
            "eom": "E", "abort": "A", "quit": "Q"}


class ProtocolError(Exception):
    pass


def unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 1
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(text[i],
                                                             text[i]))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def z(text):
    """A NUL-terminated string."""
    return text.encode("utf-8", "surrogateescape") + b"\0"


def strings(data):
    """The NUL-terminated strings of data, as text."""
    if not data.endswith(b"\0"):
        raise ProtocolError("string without its NUL: %r" % data[:80])
    return [s.decode("utf-8", "backslashreplace")
            for s in data[:-1].split(b"\0")]


class Milter:
    def __init__(self, spec, timeout):
        self.timeout = timeout
        if spec.startswith("inet:"):
            port, _, host = spec[5:].partition("@")
            self.sock = socket.create_connection((host or "127.0.0.1",
                                                  int(port)), timeout)
        else:
            path = spec.split(":", 1)[1] if ":" in spec else spec
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        self.sock.settimeout(timeout)
        self.actions = self.protocol = 0

    def send(self, cmd, data=b""):
        self.sock.sendall(struct.pack("!I", len(data) + 1) +
                          cmd.encode() + data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise ProtocolError("no answer within %g s" % self.timeout)
            if not chunk:
                raise ProtocolError("the milter closed the connection")
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack("!I", self.recv_exact(4))
        if n < 1 or n > 1 << 20:
            raise ProtocolError("bad packet length %d" % n)
        data = self.recv_exact(n)
        return data[:1], data[1:]

    def negotiate(self):
        self.send("O", struct.pack("!III", VERSION, ALL_ACTIONS, ALL_STEPS))
        cmd, data = self.recv()
        if cmd != b"O" or len(data) < 12:
            raise ProtocolError("bad negotiation answer %r" % cmd)
        version, self.actions, self.protocol = struct.unpack("!III",
                                                             data[:12])
        lines = ["version %d actions 0x%x protocol 0x%x" %
                 (version, self.actions, self.protocol)]
        rest = data[12:]
        while len(rest) >= 5:     # macro lists: stage, "names\0"
            (stage,) = struct.unpack("!I", rest[:4])
            end = rest.find(b"\0", 4)
            if end < 0:
                raise ProtocolError("bad macro list in negotiation")
            lines.append("  macros stage %d: %s" %
                         (stage, rest[4:end].decode("latin-1")))
            rest = rest[end + 1:]
        return lines

    def answer(self):
        """Read up to the final answer of a step: (result, extra lines)."""
        extra = []
        while True:
            cmd, data = self.recv()
            if cmd == b"p":
                continue
            if cmd in FINAL:
                return FINAL[cmd], extra
            if cmd == b"y":
                text = strings(data)[0]
                lines = text.split("\r\n")
                return "reply " + text[:3], extra + ["  " + ln
                                                     for ln in lines]
            extra.append("  " + self.modification(cmd, data))

    @staticmethod
    def modification(cmd, data):
        if cmd == b"h":
            name, value = strings(data)[:2]
            return "add header %s: %s" % (name, value)
        if cmd in (b"i", b"m"):
            (idx,) = struct.unpack("!I", data[:4])
            name, value = strings(data[4:])[:2]
            what = "insert header" if cmd == b"i" else "change header"
            return "%s %d %s: %s" % (what, idx, name, value)
        names = {b"+": "add rcpt", b"-": "delete rcpt", b"2": "add rcpt",
                 b"e": "change from", b"q": "quarantine",
                 b"b": "replace body", b"l": "symbol list"}
        if cmd in names and cmd != b"b":
            return "%s %s" % (names[cmd], " ".join(strings(data)))
        return "other %r %r" % (cmd.decode("latin-1"), data[:80])


class Client:
    """Runs a script step by step, keeping the MTA's state."""

    def __init__(self, milter, timing):
        self.m = milter
        self.timing = timing
        self.macros = []
        self.conn_done = None   # why the connection needs nothing more
        self.msg_done = None    # why the message needs nothing more
        self.negotiated = False

    def out(self, text):
        print(text, flush=True)

    def run_line(self, line):
        word, _, rest = line.partition(" ")
        word = word.lower()
        rest = unescape(rest.strip())
        if word == "negotiate":
            lines = self.m.negotiate()
            self.negotiated = True
            self.out("negotiate -> " + lines[0])
            for ln in lines[1:]:
                self.out(ln)
            return
        if not self.negotiated:
            self.m.negotiate()
            self.negotiated = True
        if word == "macro":
            name, _, value = rest.partition(" ")
            if len(name) > 1 and not name.startswith("{"):
                name = "{%s}" % name
            self.macros.append((name, value))
        elif word == "touch":
            open(rest, "a").close()
        elif word == "waitfor":
            end = time.monotonic() + self.m.timeout
            while not os.path.exists(rest):
                if time.monotonic() > end:
                    raise ProtocolError("%s did not appear" % rest)
                time.sleep(0.05)
        elif word == "sleep":
            time.sleep(float(rest))
        elif word in STEP_CMD:
            t0 = time.monotonic()
            self.step(line, word, rest)
            if self.timing:
                self.timing.write("%s\t%.3f\n" % (line,
                                                  time.monotonic() - t0))
                self.timing.flush()
        else:
            raise ValueError("unknown step %r" % line)

    def data_of(self, word, rest):
        if word == "connect":
            args = rest.split()
            host, addr = args[0], args[1] if len(args) > 1 else "unknown"
            if addr == "unknown":
                return z(host) + b"U"
            if addr == "unix":
                return z(host) + b"L" + struct.pack("!H", 0) + z(args[2])
            port = int(args[2]) if len(args) > 2 else 25
            fam = b"6" if ":" in addr else b"4"
            return z(host) + fam + struct.pack("!H", port) + z(addr)
        if word in ("mail", "rcpt"):
            return b"".join(z(a) for a in rest.split())
        if word == "header":
            name, _, value = rest.partition(":")
            return z(name.strip()) + z(value.lstrip(" "))
        if word in ("helo",):
            return z(rest)
        if word == "body":
            return rest.encode("utf-8", "surrogateescape")
        return b""

    def step(self, line, word, rest):
        cmd = STEP_CMD[word]
        if word == "mail":
            self.msg_done = None
        skip = self.conn_done or (self.msg_done if word in (
            "rcpt", "data", "header", "eoh", "body", "eom") else None)
        if skip:
            self.macros = []
            self.out("%s -> skipped (%s)" % (line, skip))
            return
        if NO.get(cmd, 0) & self.m.protocol:
            self.macros = []
            self.out("%s -> skipped (not wanted)" % line)
            return
        if self.macros:
            self.m.send("D", cmd.encode() + b"".join(
                z(n) + z(v) for n, v in self.macros))
            self.macros = []
        self.m.send(cmd, self.data_of(word, rest))
        if cmd in "AQ" or NR.get(cmd, 0) & self.m.protocol:
            self.out("%s -> sent" % line)
            if cmd == "Q":
                self.conn_done = "quit"
            if cmd == "A":
                self.msg_done = "aborted"
            return
        result, extra = self.m.answer()
        self.out("%s -> %s" % (line, result))
        for ln in extra:
            self.out(ln)
        self.decide(word, result)

    def decide(self, word, result):
        """What an MTA does with the answer: stop asking about the
        connection or the message."""
        if result in ("continue", "skip") or result.startswith("reply 2"):
            return
        kind = "accepted" if result == "accept" else "refused"
        if word in ("connect", "helo"):
            if result == "accept" or word == "connect":
                self.conn_done = "connection " + kind
        elif word == "rcpt" and result != "accept":
            return              # only this recipient is refused
        elif word != "eom":
            self.msg_done = "message " + kind


def main(argv=None):
    p = argparse.ArgumentParser(description="MTA-side milter client")
    p.add_argument("-t", "--timeout", type=float, default=40.0)
    p.add_argument("--timing")
    p.add_argument("socket")
    p.add_argument("script", nargs="?", default="-")
    args = p.parse_args(argv)
    if args.script == "-":
        lines = sys.stdin.read().splitlines()
    else:
        with open(args.script, encoding="utf-8") as f:
            lines = f.read().splitlines()
    timing = open(args.timing, "w") if args.timing else None
    try:
        client = Client(Milter(args.socket, args.timeout), timing)
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                client.run_line(line)
    except ValueError as e:
        print("milterclient: %s" % e, file=sys.stderr)
        return 64
    except (ProtocolError, OSError) as e:
        print("ERROR %s" % e, flush=True)
        print("milterclient: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
