#!/usr/bin/python3
"""milterload.py: many concurrent MTA-side milter sessions, for benchmarks.

tests/milterclient.py plays one MTA session step by step; this plays
hundreds or thousands at once (asyncio, one socket per session), as an
MTA with that many SMTP sessions would, and measures how long the milter
takes to decide each RCPT.  It drives callout-milter directly because a
Postfix with 1000 smtpd processes on a small machine would measure
process start-up, not the milter.

Usage:
    milterload.py --socket unix:PATH --sessions N [--concurrency C]
        (--sender ADDR | --sender-fmt FMT --domains D)
        [--rcpt ADDR] [--client-ip IP] [--postfix] [--timeout S]
        [--limit S] [--watch-pid PID] [--out FILE] [--records FILE]

Each session: negotiate (version 6), connect (macros j, {daemon_name},
and v "Postfix 3.7.11" with --postfix), helo, mail (macro i), rcpt, quit.
Steps the milter asked not to get (SMFIP_NO*) are not sent, and no reply
is awaited where it asked not to give one (SMFIP_NR_*), as libmilter's
MTA side does.  Session i (from 0) uses sender --sender, or FMT
formatted with i and d = i % D (e.g. "u{i}@d{d:02d}.bench.test").

Unix socket connects are retried (10 ms apart, within --timeout) while
the milter's listen queue is full (EAGAIN), so a burst of sessions is
not lost to the backlog; the retry time counts in the session's time,
not in the RCPT time.

--watch-pid samples /proc/PID/status every 20 ms while the load runs:
peak Threads, peak VmRSS, and VmHWM and VmRSS before and after.

Output (stdout, and --out FILE): one JSON object: sessions, ok, errors
(with the first few reasons), results ({"continue": n, "reply 451": n,
...}), rcpt_ms (p50, p90, p99, max, min, mean), all_decided_s (from the
first connect to the last RCPT answer), decisions_per_s, and "proc" with
the samples.  --records FILE gets one line per session: its number,
the times (ms from the start of the run) it started, connected, had
the answers to connect, HELO and MAIL, sent RCPT and got its answer,
and its result.  Exit status 0 when every session got a RCPT answer, 1 when
some did not, 2 for a bad argument.  Every wait is bounded: --timeout
per read (default 40 s), --limit for the whole run (default 120 s).
"""

import argparse
import asyncio
import json
import resource
import socket
import struct
import sys
import time

VERSION = 6
ALL_ACTIONS = 0x1FF
ALL_STEPS = 0x1FFFFF
NO = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8}
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000}
FINAL = {b"c": "continue", b"a": "accept", b"r": "reject",
         b"t": "tempfail", b"d": "discard", b"s": "skip"}


def z(text):
    return text.encode("utf-8", "surrogateescape") + b"\0"


def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data


class Session:
    """One MTA-side milter session."""

    def __init__(self, args, num):
        self.args, self.num = args, num
        self.reader = self.writer = None
        self.protocol = 0

    async def open(self):
        path = self.args.socket
        for prefix in ("unix:", "local:"):
            if path.startswith(prefix):
                path = path[len(prefix):]
        end = time.monotonic() + self.args.timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(path)
                break
            except (BlockingIOError, InterruptedError):
                # AF_UNIX: the listen queue is full; try again
                s.close()
            except OSError:
                s.close()
                raise
            if time.monotonic() > end:
                raise OSError("listen queue full for %g s" %
                              self.args.timeout)
            await asyncio.sleep(0.01)
        self.reader, self.writer = await asyncio.open_unix_connection(
            sock=s)

    async def recv(self):
        head = await asyncio.wait_for(self.reader.readexactly(4),
                                      self.args.timeout)
        (n,) = struct.unpack("!I", head)
        if n < 1 or n > 1 << 20:
            raise OSError("bad packet length %d" % n)
        data = await asyncio.wait_for(self.reader.readexactly(n),
                                      self.args.timeout)
        return data[:1], data[1:]

    async def answer(self):
        while True:
            cmd, data = await self.recv()
            if cmd == b"p":
                continue
            if cmd in FINAL:
                return FINAL[cmd]
            if cmd == b"y":
                return "reply " + data[:3].decode("latin-1")
            # modifications before the final answer: ignored

    async def step(self, cmd, data, macros=None):
        """Send one step; return its answer, "sent" or "skipped"."""
        if NO.get(cmd, 0) & self.protocol:
            return "skipped"
        out = b""
        if macros:
            out += packet(b"D", cmd.encode() + b"".join(
                z(k) + z(v) for k, v in macros))
        out += packet(cmd.encode(), data)
        self.writer.write(out)
        await self.writer.drain()
        if NR.get(cmd, 0) & self.protocol:
            return "sent"
        return await self.answer()

    async def run(self, rec):
        a = self.args
        await self.open()
        rec["connected"] = time.monotonic()
        self.writer.write(packet(b"O", struct.pack(
            "!III", VERSION, ALL_ACTIONS, ALL_STEPS)))
        await self.writer.drain()
        cmd, data = await self.recv()
        if cmd != b"O" or len(data) < 12:
            raise OSError("bad negotiation answer %r" % cmd)
        self.protocol = struct.unpack("!III", data[:12])[2]
        macros = [("j", "mx.example.net"), ("{daemon_name}", "bench")]
        if a.postfix:
            macros.append(("v", "Postfix 3.7.11"))
        ip = a.client_ip
        conn = z("client%d.example" % self.num) + b"4" + \
            struct.pack("!H", 40000 + self.num % 20000) + z(ip)
        for name, cmd, data, mac in (
                ("connect", "C", conn, macros),
                ("helo", "H", z("client.example"), None),
                ("mail", "M", z("<%s>" % self.sender()),
                 [("i", "Q%06d" % self.num)])):
            res = await self.step(cmd, data, mac)
            rec[name + "_done"] = time.monotonic()
            if res not in ("continue", "sent", "skipped"):
                rec["result"] = "%s at %s" % (res, name)
                return
        rec["rcpt_sent"] = time.monotonic()
        res = await self.step("R", z("<%s>" % a.rcpt))
        rec["rcpt_done"] = time.monotonic()
        rec["result"] = res
        self.writer.write(packet(b"Q"))
        try:
            await asyncio.wait_for(self.writer.drain(), a.timeout)
        except (OSError, asyncio.TimeoutError):
            pass

    def sender(self):
        if self.args.sender:
            return self.args.sender
        return self.args.sender_fmt.format(
            i=self.num, d=self.num % self.args.domains)

    def close(self):
        if self.writer is not None:
            self.writer.close()


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in ("Threads", "VmRSS", "VmHWM"):
                    out[key] = int(val.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


async def watch(pid, samples, stop):
    while not stop.is_set():
        st = proc_status(pid)
        if st:
            samples["peak_threads"] = max(samples.get("peak_threads", 0),
                                          st.get("Threads", 0))
            samples["peak_rss_kb"] = max(samples.get("peak_rss_kb", 0),
                                         st.get("VmRSS", 0))
            samples["n"] = samples.get("n", 0) + 1
        try:
            await asyncio.wait_for(stop.wait(), 0.02)
        except asyncio.TimeoutError:
            pass


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 *
                                                    len(sorted_vals))) - 1))
    return sorted_vals[k]


async def one(args, num, sem, recs):
    rec = {"num": num}
    recs.append(rec)
    async with sem:
        rec["start"] = time.monotonic()
        sess = Session(args, num)
        try:
            await sess.run(rec)
        except (OSError, asyncio.TimeoutError,
                asyncio.IncompleteReadError) as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            sess.close()


async def main_async(args):
    sem = asyncio.Semaphore(args.concurrency or args.sessions)
    recs, samples = [], {}
    stop = asyncio.Event()
    watcher = None
    if args.watch_pid:
        before = proc_status(args.watch_pid)
        samples["before"] = before
        watcher = asyncio.ensure_future(watch(args.watch_pid, samples,
                                              stop))
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one(args, i, sem, recs))
             for i in range(args.sessions)]
    done, pending = await asyncio.wait(tasks, timeout=args.limit)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
    t1 = time.monotonic()
    if watcher is not None:
        stop.set()
        await watcher
        samples["after"] = proc_status(args.watch_pid)
    if args.records:
        write_records(args.records, recs, t0)
    return summarize(args, recs, t0, t1, len(pending), samples)


def write_records(path, recs, t0):
    """One line per session: number, then each time in ms from the
    start of the run ("-" when not reached), then the result or the
    error."""
    keys = ("start", "connected", "connect_done", "helo_done",
            "mail_done", "rcpt_sent", "rcpt_done")
    with open(path, "w") as f:
        for r in sorted(recs, key=lambda r: r["num"]):
            times = ["%.1f" % ((r[k] - t0) * 1000.0) if k in r else "-"
                     for k in keys]
            f.write("%d %s %s\n" % (r["num"], " ".join(times),
                                    r.get("error", r.get("result", "-"))
                                    .replace(" ", "_")))


def summarize(args, recs, t0, t1, npending, samples):
    results, errors = {}, []
    lat = []
    last = t0
    for r in recs:
        if "error" in r:
            errors.append(r["error"])
            continue
        res = r.get("result", "unfinished")
        results[res] = results.get(res, 0) + 1
        if "rcpt_done" in r:
            lat.append((r["rcpt_done"] - r["rcpt_sent"]) * 1000.0)
            last = max(last, r["rcpt_done"])
    lat.sort()
    ok = len(lat)
    span = last - t0
    out = {
        "sessions": args.sessions,
        "concurrency": args.concurrency or args.sessions,
        "ok": ok,
        "errors": len(errors) + npending,
        "error_samples": sorted(set(errors))[:5] +
        (["%d sessions unfinished at --limit" % npending]
         if npending else []),
        "results": results,
        "rcpt_ms": {
            "min": lat[0] if lat else None,
            "p50": pct(lat, 50), "p90": pct(lat, 90),
            "p99": pct(lat, 99), "max": lat[-1] if lat else None,
            "mean": sum(lat) / len(lat) if lat else None,
        },
        "all_decided_s": span,
        "wall_s": t1 - t0,
        "decisions_per_s": ok / span if span > 0 else None,
    }
    if samples:
        out["proc"] = samples
    return out


def raise_nofile(need):
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        if soft != resource.RLIM_INFINITY and soft < need:
            print("milterload: RLIMIT_NOFILE %d < %d" % (soft, need),
                  file=sys.stderr)
    except (ValueError, OSError):
        pass


def main(argv=None):
    p = argparse.ArgumentParser(description="milter load generator")
    p.add_argument("--socket", required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=0)
    p.add_argument("--sender")
    p.add_argument("--sender-fmt")
    p.add_argument("--domains", type=int, default=1)
    p.add_argument("--rcpt", default="user@example.net")
    p.add_argument("--client-ip", default="192.0.2.100")
    p.add_argument("--postfix", action="store_true")
    p.add_argument("--timeout", type=float, default=40.0)
    p.add_argument("--limit", type=float, default=120.0)
    p.add_argument("--watch-pid", type=int, default=0)
    p.add_argument("--out")
    p.add_argument("--records")
    args = p.parse_args(argv)
    if not args.sender and not args.sender_fmt:
        p.error("--sender or --sender-fmt is needed")
    if args.sessions < 1 or args.domains < 1 or args.concurrency < 0:
        p.error("counts must be positive")
    raise_nofile(args.sessions + 64)
    out = asyncio.run(main_async(args))
    text = json.dumps(out, indent=1, sort_keys=True)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0 if out["errors"] == 0 and out["ok"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
