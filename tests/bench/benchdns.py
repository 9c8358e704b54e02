#!/usr/bin/python3
"""benchdns.py: tests/fakedns.py with a large UDP receive buffer.

The benchmarks send bursts of a few thousand queries at once (1000
probes, each asking MX, AAAA and A).  fakedns.py answers them one by one
in one Python thread, and with the kernel's default receive buffer
(net.core.rmem_default, about 200 KiB: some 300 small datagrams) a burst
overflows it: the dropped queries are retried by the resolver only after
its timeout (DNSTimeout, 5 s), which would measure the fake server, not
the daemon.  A real caching resolver answers such a burst from memory.

This runs fakedns.py unchanged (same arguments, zone format, pidfile and
log) but asks for a receive buffer of BUFFER bytes on its UDP sockets
(the kernel caps it at net.core.rmem_max, never changed here).
"""

import asyncio
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import fakedns  # noqa: E402  (tests/fakedns.py)

BUFFER = 8 << 20


class BigBufferServer(fakedns.Server):
    async def start(self):
        loop = asyncio.get_running_loop()
        for host, port in self.listens:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(fam, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
            sock.bind((host, port))
            tr, _ = await loop.create_datagram_endpoint(
                lambda: fakedns.UDPProtocol(self), sock=sock)
            self.transports.append(tr)
            srv = await asyncio.start_server(self.tcp_client, host, port,
                                             family=fam, reuse_address=True,
                                             backlog=1024)
            self.tcp_servers.append(srv)


fakedns.Server = BigBufferServer

if __name__ == "__main__":
    sys.exit(fakedns.main())
