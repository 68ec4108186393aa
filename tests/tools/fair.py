#!/usr/bin/env python3
"""Clients that try to take more than their share of provd's control socket.

    fair.py SOCKET flood N            one connection pipelines N pings, reading
                                      the replies as they come
    fair.py SOCKET noread N NOUN VERB one connection pipelines N requests and
                                      never reads; waits until provd closes it
    fair.py SOCKET loris INTERVAL     sends a frame one byte every INTERVAL s
    fair.py SOCKET stall NOUN VERB... one request, its reply never read; holds
                                      the connection until provd closes it
    fair.py SOCKET pipeline C N NOUN VERB
                                      C connections each pipeline N requests
                                      and read every reply
    fair.py SOCKET pings SECONDS      a ping on a new connection every 10 ms;
                                      prints n, p50, p99 and max in ms

Prints one line of key=value results; exits 0 when it could run.
"""
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abuse import STATUS, connect, frame, split_frames  # noqa: E402


def read_statuses(s, n):
    """Read replies until n STATUS frames (or EOF): {code: count}."""
    codes = {}
    buf = b""
    got = 0
    while got < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        frames, buf = split_frames(buf)
        for ftype, fields in frames:
            if ftype == STATUS:
                code = int(fields[0])
                codes[code] = codes.get(code, 0) + 1
                got += 1
    return codes


def flood(path, n):
    s = connect(path)
    req = frame(1, [b"ping", b""])
    t0 = time.monotonic()
    sender = threading.Thread(target=lambda: s.sendall(req * n))
    sender.start()
    s.settimeout(120)
    codes = read_statuses(s, n)
    got = sum(codes.values())
    sender.join()
    s.close()
    print("sent=%d answered=%d seconds=%.2f %s" % (
        n, got, time.monotonic() - t0,
        " ".join("status%d=%d" % kv for kv in sorted(codes.items()))))


def wait_closed(s, limit):
    """Seconds until the peer closes s (without reading what it sent), or
    None after limit seconds."""
    t0 = time.monotonic()
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while time.monotonic() - t0 < limit:
        if p.poll(200):
            return time.monotonic() - t0
    return None


def noread(path, n, noun, verb):
    s = connect(path)
    req = frame(1, [noun.encode(), verb.encode()])
    s.setblocking(False)
    sent = 0
    t0 = time.monotonic()
    data = req * n
    off = 0
    while off < len(data) and time.monotonic() - t0 < 10:
        try:
            off += s.send(data[off:off + 65536])
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    sent = off // len(req)
    closed = wait_closed(s, 60)
    print("sent=%d closed_after_s=%s" % (sent, "%.1f" % (time.monotonic() - t0) if closed is not None else "never"))


def loris(path, interval):
    s = connect(path)
    req = frame(1, [b"ping", b""])
    t0 = time.monotonic()
    for b in req:
        try:
            s.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            break
        if wait_closed(s, interval) is not None:
            break
    else:
        print("closed_after_s=never (the frame was completed)")
        return
    print("closed_after_s=%.1f" % (time.monotonic() - t0))


def stall(path, words):
    s = connect(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(frame(1, [w.encode() for w in words]))
    t0 = time.monotonic()
    closed = wait_closed(s, 60)
    print("closed_after_s=%s" % ("%.1f" % (time.monotonic() - t0) if closed is not None else "never"))


def pipeline(path, c, n, noun, verb):
    req = frame(1, [noun.encode(), verb.encode()])
    done = [0] * c

    def one(i):
        s = connect(path)
        t = threading.Thread(target=lambda: s.sendall(req * n))
        t.start()
        done[i] = sum(read_statuses(s, n).values())
        t.join()
        s.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(c)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("connections=%d requests=%d answered=%d seconds=%.1f" % (
        c, c * n, sum(done), time.monotonic() - t0))


def pings(path, seconds):
    req = frame(1, [b"ping", b""])
    v = []
    fails = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            s = connect(path)
            s.sendall(req)
            s.settimeout(30)
            if sum(read_statuses(s, 1).values()) != 1:
                fails += 1
            s.close()
        except OSError:
            fails += 1
        v.append((time.monotonic() - t0) * 1000)
        time.sleep(0.01)
    v.sort()
    q = lambda x: v[min(len(v) - 1, int(x * len(v)))]
    print("n=%d p50=%.1f p99=%.1f max=%.1f failed=%d" % (len(v), q(0.5), q(0.99), v[-1], fails))


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "flood":
        flood(path, int(sys.argv[3]))
    elif mode == "noread":
        noread(path, int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif mode == "loris":
        loris(path, float(sys.argv[3]))
    elif mode == "stall":
        stall(path, sys.argv[3:])
    elif mode == "pipeline":
        pipeline(path, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif mode == "pings":
        pings(path, float(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
