#!/usr/bin/python3
"""smtpclient.py: the sending client of the end-to-end tests.

It connects to an MTA from a given source address, plays a dialog read
from a file (or standard input) and prints every reply line it receives,
exactly, so that the test can compare them with what it expects.

Usage:
    smtpclient.py --server ADDR [--port 25] [--source ADDR]
                  [--timeout SECONDS] [--marker FILE] DIALOG

DIALOG: one SMTP command per line, sent with CRLF.  After a "DATA" line
that is answered with 354, the following lines up to and including a
line "." are the message (sent as they are, dot-stuffing is the writer's
business), then the reply to the message is read; after any other reply
to DATA the message lines are skipped.  Blank lines outside a
message are ignored; "#" starts a comment line outside a message.

Output: the banner's first reply line as "banner NNN", the EHLO/HELO
reply as "EHLO NNN" (its capability lines are the MTA's business), then
for every other command the command itself and each reply line indented
by two spaces:

    MAIL FROM:<a@example.org>
      250 2.1.0 Ok
    RCPT TO:<b@example.net>
      550-5.1.7 Verification failed for <a@example.org>
      550 5.1.7 Sender verify failed

The message lines are not echoed: "DATA" is followed by the 354 line, and
"." by the reply to the message.  If the server closes the connection,
"EOF" is printed and the client stops; if a reply does not come within
--timeout seconds (default 60), "TIMEOUT" is printed and it stops.
--marker FILE: after every command sent (and after the message), its
number is appended to FILE, so that a test can tell where the dialog
stands (the kill-the-filter-mid-session test waits on it).

Exit status: 0 when the dialog ran to its end, 1 on EOF, timeout or a
connection error (printed as "ERROR text"), 64 for usage.
"""

import argparse
import socket
import sys
import time


class Stop(Exception):
    """The dialog ends early; the argument is what to print."""


class Client:
    def __init__(self, sock, timeout, marker):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        self.marker = marker
        self.sent = 0

    def readline(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Stop("TIMEOUT")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise Stop("TIMEOUT")
            except OSError as e:
                raise Stop("ERROR %s" % e.strerror)
            if not data:
                raise Stop("EOF")
            self.buf += data
            if len(self.buf) > 1 << 20:
                raise Stop("ERROR reply too long")
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """The lines of one reply (a multi-line reply ends with "NNN ")."""
        deadline = time.monotonic() + self.timeout
        lines = []
        while True:
            line = self.readline(deadline)
            lines.append(line)
            if len(line) < 4 or line[3] != "-" or len(lines) > 200:
                return lines

    def send(self, text):
        try:
            self.sock.sendall(text.encode("latin-1") + b"\r\n")
        except OSError as e:
            raise Stop("ERROR %s" % e.strerror)

    def mark(self):
        self.sent += 1
        if self.marker:
            with open(self.marker, "a") as f:
                f.write("%d\n" % self.sent)


def out(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def dialog(cl, lines):
    out("banner " + cl.reply()[0][:3])
    i = 0
    while i < len(lines):
        cmd = lines[i]
        i += 1
        if not cmd.strip() or cmd.startswith("#"):
            continue
        cl.send(cmd)
        cl.mark()
        rep = cl.reply()
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            out("%s %s" % (verb, rep[-1][:3]))
            continue
        out(cmd)
        for ln in rep:
            out("  " + ln)
        if verb != "DATA":
            continue
        # the message: sent after a 354, skipped after any other reply
        accepted = rep[-1].startswith("354")
        while i < len(lines):
            body = lines[i]
            i += 1
            if accepted:
                cl.send(body)
            if body == ".":
                break
        if accepted:
            cl.mark()
            out(".")
            for ln in cl.reply():
                out("  " + ln)


def main():
    p = argparse.ArgumentParser(description="SMTP client of the e2e tests")
    p.add_argument("--server", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--source")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--marker")
    p.add_argument("dialog")
    args = p.parse_args()
    if args.dialog == "-":
        text = sys.stdin.read()
    else:
        with open(args.dialog, encoding="latin-1") as f:
            text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fam = socket.AF_INET6 if ":" in args.server else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_STREAM)
    try:
        if args.source:
            sock.bind((args.source, 0))
        sock.settimeout(args.timeout)
        sock.connect((args.server, args.port))
    except OSError as e:
        out("ERROR %s" % e.strerror)
        return 1
    try:
        dialog(Client(sock, args.timeout, args.marker), lines)
    except Stop as e:
        out(str(e))
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
