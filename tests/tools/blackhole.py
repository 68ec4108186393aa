#!/usr/bin/env python3
"""A TCP port that never answers: connections to it hang in SYN_SENT.

Listens on 127.0.0.1 (a free port) with a backlog of 0, never accepts, and
fills the accept queue itself, so the kernel drops every further SYN — what
a firewall that drops packets (or a dead host) looks like to a client.
Prints the port on stdout, then waits until killed.

usage: blackhole.py
"""
import signal
import socket
import sys
import time


def main() -> int:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    # Check: one more connect must not complete within half a second.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(("127.0.0.1", port))
        print("blackhole: the port still accepts connections", file=sys.stderr)
        return 1
    except (socket.timeout, TimeoutError):
        pass
    finally:
        probe.close()
    print(port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
