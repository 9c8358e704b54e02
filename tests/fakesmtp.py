#!/usr/bin/python3
"""fakesmtp.py: a scripted fake SMTP server for the test suite.

It plays the remote mail server that a callout talks to: it answers each
command with the reply its script gives, or misbehaves on purpose (never
answers, closes, answers slowly, sends garbage or a reply byte by byte).
It serves thousands of concurrent connections (asyncio; the soft
RLIMIT_NOFILE is raised to the hard limit at start) for benchmarks.

Usage:
    fakesmtp.py --listen ADDR:PORT[=SCRIPT] [--listen [V6ADDR]:PORT[=SCRIPT]]
                [--script FILE] [--log FILE] [--pidfile FILE]
                [--stats FILE] [--delay SECONDS] [--timeout SECONDS]

--script is the script of every listener that does not name its own; with
neither, every command gets its default reply.  The pidfile is written once
every listener is bound: its existence means "ready".  SIGHUP reloads the
scripts (for new connections), SIGUSR1 writes --stats, SIGTERM/SIGINT stop
the server (writing --stats and removing the pidfile).  --delay is added
before every reply, banner included.  --timeout (default 300) closes a
connection idle that long.

--log FILE ("-" for stderr) gets, per listener and connection number
(numbered from 1 per listener):
    127.0.0.2:2525 #1 connect 127.0.0.1:41234
    127.0.0.2:2525 #1 > 220 fake.example ESMTP
    127.0.0.2:2525 #1 < EHLO verifier.example
    127.0.0.2:2525 #1 close (client)
A received line is logged as received: only a final CRLF is stripped, so a
line ended by a bare LF shows "\\x0a"; bytes outside printable ASCII are
shown as \\xHH.  The close reason is one of client, quit, script, timeout,
error.

--stats FILE gets JSON: {"connections": total, "peak": peak concurrent,
"current": open now, "listeners": {"127.0.0.2:2525": {same three}}}.

Script format: one directive per line; blank lines and lines starting with
"#" are ignored; a bad line is reported on stderr and skipped.

    [conn N] COMMAND [SELECTOR] ACTION

COMMAND is "banner" (the greeting), "dot" (the reply after the message
sent with DATA), "unknown" (any command the script and the defaults do not
know), "toolong" (a line over 64 KiB), or an SMTP verb: ehlo, helo, mail,
rcpt, data, rset, noop, quit, vrfy, starttls, auth, ... (any word).
Commands are matched case-insensitively.  For mail and rcpt, SELECTOR
"<address>" applies the directive only to that address (compared
case-insensitively; "<>" is the null sender) and "*" (the default) to all.
"conn N" applies the directive only to the N-th connection of the listener
(e.g. greylisting: "conn 1 rcpt 451 4.7.1 Try later").  Directives are kept
in order and the FIRST that matches wins, so put specific ones first.

ACTION is one of:
    TEXT             the reply; "\\n" separates lines of a multi-line reply,
                     written exactly as given (e.g. "250-a\\n250 b")
    (nothing)        the default reply of the command
    none             never answer this command; keep reading
    close            close the connection without answering
    delay N [ACTION] wait N seconds (float), then do ACTION (default reply
                     if omitted); "banner delay 5" delays the greeting
    raw HEX          send exactly these bytes (hex, spaces allowed), no CRLF
    drip [TEXT]      send the reply one byte at a time, 0.02 s apart
    drip-every S [TEXT]  the same with S seconds between bytes
    eof-mid [TEXT]   send the first half of the reply's first line and close
"COMMAND+ TEXT" appends a line to the text of the last directive for COMMAND
(e.g. "banner 220-fake.example" then "banner+ 220 ESMTP").
"pipelining" (alone on a line) adds PIPELINING to the EHLO reply.

Defaults: banner "220 fake.example ESMTP"; ehlo "250-fake.example",
"250-8BITMIME", "250 ENHANCEDSTATUSCODES" (no PIPELINING); helo "250
fake.example"; mail "250 2.1.0 Ok"; rcpt "250 2.1.5 Ok"; data "354 End data
with <CR><LF>.<CR><LF>"; dot "250 2.0.0 Ok: queued"; rset and noop "250
2.0.0 Ok"; vrfy "252 2.0.0 Cannot VRFY user"; starttls "454 4.7.0 TLS not
available"; quit "221 2.0.0 Bye" and the server closes after it (unless the
action is "none"); unknown "502 5.5.2 Error: command not recognized";
toolong "500 5.5.2 Error: line too long".  A reply to DATA that starts with
354 makes the server read the message up to the "." line (every line is
logged) and then answer with "dot".  Pipelined commands are answered in
order, each after the previous reply.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import sys

DEFAULTS = {
    "banner": "220 fake.example ESMTP",
    "ehlo": "250-fake.example\\n250-8BITMIME\\n250 ENHANCEDSTATUSCODES",
    "helo": "250 fake.example",
    "mail": "250 2.1.0 Ok",
    "rcpt": "250 2.1.5 Ok",
    "data": "354 End data with <CR><LF>.<CR><LF>",
    "dot": "250 2.0.0 Ok: queued",
    "rset": "250 2.0.0 Ok",
    "noop": "250 2.0.0 Ok",
    "vrfy": "252 2.0.0 Cannot VRFY user",
    "starttls": "454 4.7.0 TLS not available",
    "quit": "221 2.0.0 Bye",
    "unknown": "502 5.5.2 Error: command not recognized",
    "toolong": "500 5.5.2 Error: line too long",
}
LINE_LIMIT = 65536
DRIP_PAUSE = 0.02
ADDR_RE = re.compile(rb"^\s*(?:from|to)\s*:\s*(<[^>]*>|\S+)", re.I)


class Action:
    """What to do for one command: a kind, optional text/bytes, a delay."""

    def __init__(self, kind="reply", text=None, data=b"", delay=0.0,
                 pause=DRIP_PAUSE):
        self.kind, self.text, self.data = kind, text, data
        self.delay, self.pause = delay, pause


def parse_action(rest):
    """Parse the ACTION part of a directive; raises ValueError."""
    words = rest.split(None, 1)
    head = words[0].lower() if words else ""
    tail = words[1].strip() if len(words) > 1 else ""
    if head in ("none", "close") and not tail:
        return Action(head)
    if head == "delay":
        secs, _, tail = tail.partition(" ")
        act = parse_action(tail.strip())
        act.delay += max(0.0, float(secs))
        return act
    if head == "raw":
        return Action("raw", data=bytes.fromhex(tail))
    if head == "drip":
        return Action("drip", text=tail or None)
    if head == "drip-every":
        secs, _, tail = tail.partition(" ")
        return Action("drip", text=tail.strip() or None,
                      pause=max(0.0, float(secs)))
    if head == "eof-mid":
        return Action("eof-mid", text=tail or None)
    return Action("reply", text=rest.strip() or None)


class Script:
    """The ordered directives of one script file."""

    def __init__(self, text="", name="(none)"):
        self.rules = []  # (cmd, conn or None, addr or None, Action)
        self.pipelining = False
        self.errors = []
        for lineno, line in enumerate(text.splitlines(), 1):
            try:
                self._line(line.strip())
            except (ValueError, IndexError) as e:
                self.errors.append("%s:%d: %s: %s" % (name, lineno, e, line))

    @classmethod
    def load(cls, path):
        if not path:
            return cls()
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return cls(f.read(), path)

    def _line(self, line):
        if not line or line.startswith("#"):
            return
        conn = None
        words = line.split(None, 1)
        if words[0].lower() == "conn":
            num, line = words[1].split(None, 1)
            conn = int(num)
            words = line.split(None, 1)
        cmd, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
        if cmd == "pipelining":
            self.pipelining = rest.strip().lower() not in ("off", "no", "0")
            return
        if cmd.endswith("+"):
            self._append(cmd[:-1], rest)
            return
        if not re.match(r"^[a-z][a-z0-9-]*$", cmd):
            raise ValueError("bad command word")
        addr = None
        if cmd in ("mail", "rcpt") and rest[:1] in ("<", "*"):
            sel, _, rest = rest.partition(" ")
            if sel != "*":
                if not sel.endswith(">"):
                    raise ValueError("bad address selector")
                addr = sel[1:-1].lower()
        self.rules.append((cmd, conn, addr, parse_action(rest)))

    def _append(self, cmd, text):
        for rule in reversed(self.rules):
            if rule[0] == cmd:
                act = rule[3]
                break
        else:
            act = Action("reply")
            self.rules.append((cmd, None, None, act))
        base = act.text if act.text is not None else DEFAULTS.get(cmd, "")
        act.text = (base + "\\n" if base else "") + text.strip()

    def knows(self, cmd):
        return cmd in DEFAULTS or any(r[0] == cmd for r in self.rules)

    def pick(self, cmd, conn, addr=None):
        for rcmd, rconn, raddr, act in self.rules:
            if rcmd == cmd and rconn in (None, conn) and \
                    (raddr is None or raddr == addr):
                return act
        return Action("reply")

    def lines(self, cmd, act):
        """The reply lines of an action, defaults and pipelining applied."""
        text = act.text
        if text is None:
            text = DEFAULTS.get(cmd, DEFAULTS["unknown"])
        lines = text.split("\\n")
        if cmd == "ehlo" and self.pipelining and \
                not any("PIPELINING" in ln.upper() for ln in lines):
            last = lines[-1]
            code = last[:3]
            if len(last) > 3 and last[3] == " ":
                lines[-1] = code + "-" + last[4:]
            lines.append(code + " PIPELINING")
        return lines


def escape(data):
    """Bytes as printable text: non-printable bytes become \\xHH."""
    return "".join(chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b
                   for b in data)


class Listener:
    def __init__(self, host, port, script_path):
        self.host, self.port, self.script_path = host, port, script_path
        self.name = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
        self.script = Script()
        self.connections = self.current = self.peak = 0


class Closed(Exception):
    """The connection is to be closed; the argument says why."""


class Server:
    def __init__(self, args):
        self.args = args
        self.listeners = []
        self.total = self.current = self.peak = 0
        self.log = None
        if args.log == "-":
            self.log = sys.stderr
        elif args.log:
            self.log = open(args.log, "a", encoding="utf-8",
                            errors="replace")

    def logline(self, text):
        if self.log:
            try:
                self.log.write(text + "\n")
                self.log.flush()
            except OSError:
                pass

    def reload(self):
        """(Re)load every listener's script; keep the old one on error."""
        ok = True
        for lst in self.listeners:
            try:
                script = Script.load(lst.script_path)
            except OSError as e:
                print("fakesmtp: %s" % e, file=sys.stderr)
                self.logline("%s script not loaded: %s" % (lst.name, e))
                ok = False
                continue
            for err in script.errors:
                print("fakesmtp: %s" % err, file=sys.stderr)
                self.logline("%s script error: %s" % (lst.name, err))
            lst.script = script
        return ok

    def write_stats(self):
        if not self.args.stats:
            return
        data = {"connections": self.total, "peak": self.peak,
                "current": self.current, "listeners": {
                    lst.name: {"connections": lst.connections,
                               "peak": lst.peak, "current": lst.current}
                    for lst in self.listeners}}
        tmp = self.args.stats + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.write("\n")
            os.rename(tmp, self.args.stats)
        except OSError as e:
            print("fakesmtp: stats: %s" % e, file=sys.stderr)

    async def start(self):
        for lst in self.listeners:
            srv = await asyncio.start_server(
                lambda r, w, lst=lst: self.session(lst, r, w),
                lst.host, lst.port, backlog=4096, limit=LINE_LIMIT,
                reuse_address=True)
            lst.server = srv

    def close(self):
        for lst in self.listeners:
            lst.server.close()

    async def session(self, lst, reader, writer):
        lst.connections += 1
        self.total += 1
        num = lst.connections
        lst.current += 1
        self.current += 1
        lst.peak = max(lst.peak, lst.current)
        self.peak = max(self.peak, self.current)
        conn = Conn(self, lst, num, reader, writer)
        reason = "error"
        try:
            await conn.run()
        except Closed as e:
            reason = str(e)
        except (ConnectionError, OSError):
            reason = "client"
        except Exception as e:  # never let one connection kill the server
            print("fakesmtp: %s #%d: %r" % (lst.name, num, e),
                  file=sys.stderr)
        finally:
            lst.current -= 1
            self.current -= 1
            conn.log("close (%s)" % reason)
            writer.close()


class Conn:
    """One SMTP session following a script."""

    def __init__(self, server, lst, num, reader, writer):
        self.server, self.lst, self.num = server, lst, num
        self.reader, self.writer = reader, writer
        self.script = lst.script  # fixed for the session despite SIGHUP
        self.timeout = server.args.timeout

    def log(self, text):
        self.server.logline("%s #%d %s" % (self.lst.name, self.num, text))

    async def readline(self):
        """Next line with its terminator; raises Closed on EOF/timeout."""
        try:
            return await asyncio.wait_for(self.reader.readuntil(b"\n"),
                                          self.timeout)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                self.log("< %s [eof before newline]" % escape(e.partial))
            raise Closed("client")
        except asyncio.TimeoutError:
            raise Closed("timeout")
        except asyncio.LimitOverrunError:
            return await self.overlong()

    async def overlong(self):
        """Discard a line over LINE_LIMIT; return a marker line."""
        total, head = 0, b""
        while True:
            chunk = await asyncio.wait_for(self.reader.read(LINE_LIMIT),
                                           self.timeout)
            if not chunk:
                raise Closed("client")
            head = head or chunk[:80]
            nl = chunk.find(b"\n")
            if nl >= 0:
                total += nl + 1
                # XXX bytes after the newline in this chunk are lost; a
                # client that pipelines after an overlong line is broken.
                self.log("< %s... [overlong line, %d bytes]" %
                         (escape(head), total))
                return None
            total += len(chunk)

    async def send(self, data):
        self.writer.write(data)
        try:
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except asyncio.TimeoutError:
            raise Closed("timeout")

    async def act(self, cmd, addr=None):
        """Perform the script's action for cmd; return the first reply line
        sent ("" if none); raise Closed to end the session."""
        act = self.script.pick(cmd, self.num, addr)
        if act.kind == "none":
            return ""
        delay = act.delay + self.server.args.delay
        if delay > 0:
            await asyncio.sleep(delay)
        if act.kind == "close":
            raise Closed("script")
        if act.kind == "raw":
            self.log("> [raw] %s" % escape(act.data))
            await self.send(act.data)
            return act.data.decode("latin-1")
        lines = self.script.lines(cmd, act)
        data = "".join(ln + "\r\n" for ln in lines).encode(
            "utf-8", "surrogateescape")
        if act.kind == "eof-mid":
            half = data[:max(1, len(lines[0]) // 2)]
            self.log("> [eof-mid] %s" % escape(half))
            await self.send(half)
            raise Closed("script")
        for ln in lines:
            self.log("> " + ln)
        if act.kind == "drip":
            for i in range(len(data)):
                await self.send(data[i:i + 1])
                await asyncio.sleep(act.pause)
        else:
            await self.send(data)
        return lines[0]

    async def run(self):
        peer = self.writer.get_extra_info("peername") or ("?", 0)
        self.log("connect " + (("[%s]:%d" if ":" in peer[0] else "%s:%d")
                               % (peer[0], peer[1])))
        await self.act("banner")
        while True:
            raw = await self.readline()
            if raw is None:
                await self.act("toolong")
                continue
            shown = raw[:-2] if raw.endswith(b"\r\n") else raw
            self.log("< " + escape(shown))
            line = raw.rstrip(b"\r\n")
            verb, _, arg = line.partition(b" ")
            cmd = verb.decode("latin-1").lower()
            if not re.match(r"^[a-z][a-z0-9-]*$", cmd) or \
                    not self.script.knows(cmd):
                cmd = "unknown"
            addr = None
            if cmd in ("mail", "rcpt"):
                m = ADDR_RE.match(arg)
                if m:
                    addr = m.group(1).decode("utf-8", "replace").strip("<>")
                    addr = addr.lower()
            first = await self.act(cmd, addr)
            if cmd == "quit" and first:
                raise Closed("quit")
            if cmd == "data" and first.startswith("354"):
                await self.message()

    async def message(self):
        """Read a message up to the "." line, then answer with "dot"."""
        while True:
            raw = await self.readline()
            if raw is None:
                continue
            shown = raw[:-2] if raw.endswith(b"\r\n") else raw
            self.log("< " + escape(shown))
            if raw.rstrip(b"\r\n") == b".":
                break
        await self.act("dot")


def parse_listen(text):
    """"ADDR:PORT[=SCRIPT]" or "[V6]:PORT[=SCRIPT]" -> (addr, port, script)."""
    text, _, script = text.partition("=")
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("bad listen address %r" % text)
    return host, int(port), script or None


def raise_nofile():
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY:
            hard = 1 << 20
        if soft != resource.RLIM_INFINITY and soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass


async def run(args):
    server = Server(args)
    for host, port, script in args.listen:
        server.listeners.append(Listener(host, port, script or args.script))
    if not server.reload():
        return 1
    try:
        await server.start()
    except OSError as e:
        print("fakesmtp: cannot listen: %s" % e, file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, server.reload)
    loop.add_signal_handler(signal.SIGUSR1, server.write_stats)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)
    try:
        await stop.wait()
    finally:
        server.close()
        server.write_stats()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="scripted fake SMTP server")
    p.add_argument("--listen", action="append", type=parse_listen,
                   required=True, help="ADDR:PORT[=SCRIPT]")
    p.add_argument("--script")
    p.add_argument("--log")
    p.add_argument("--pidfile")
    p.add_argument("--stats")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args(argv)
    raise_nofile()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
