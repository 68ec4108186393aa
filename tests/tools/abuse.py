#!/usr/bin/env python3
"""Many hostile or impatient clients of provd's control socket at once.

    abuse.py SOCKET flood N           N clients connect, then all send ping
    abuse.py SOCKET cap N             hold N connections; ping on each
    abuse.py SOCKET idle N WAIT       N silent + N half-frame clients
    abuse.py SOCKET hostile N         N each: oversized, bad version, random bytes
    abuse.py SOCKET raw HEXFIELD...   one REQUEST whose fields are hex-encoded
    abuse.py SOCKET probe STOP OUT    until file STOP exists: connect, ping,
                                      read the answer; one line per ping
                                      appended to OUT: "MS RC START" (RC 0:
                                      status 0; START: epoch seconds)

The probe times provd alone (connect to answer), not the start of a client
process, which a loaded machine can delay by more than provd ever takes.
Prints one line of key=value counts (raw: "status=<code> msg=<text>" and
the RECORD frames as "record k=v ...").  Exits 0 when it could run; the
caller judges the counts.
"""
import os
import socket
import struct
import sys
import threading
import time

STATUS, RECORD = 19, 16


def frame(ftype, fields, version=1):
    body = struct.pack(">BBH", version, ftype, len(fields))
    for f in fields:
        body += struct.pack(">I", len(f)) + f
    return struct.pack(">I", len(body)) + body


def split_frames(buf):
    """The complete frames at the start of buf: ([(type, fields)], rest)."""
    frames = []
    while len(buf) >= 4:
        (blen,) = struct.unpack(">I", buf[:4])
        if len(buf) < 4 + blen:
            break
        body = buf[4:4 + blen]
        buf = buf[4 + blen:]
        _, ftype, n = struct.unpack(">BBH", body[:4])
        p = 4
        fields = []
        for _ in range(n):
            (flen,) = struct.unpack(">I", body[p:p + 4])
            fields.append(body[p + 4:p + 4 + flen])
            p += 4 + flen
        frames.append((ftype, fields))
    return frames, buf


def read_frames(s, timeout):
    """Frames until a STATUS, EOF or the timeout: (frames, how) where how is
    'status', 'closed' or 'timeout'."""
    s.settimeout(timeout)
    buf = b""
    frames = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            got, buf = split_frames(buf)
            for i, (ftype, _) in enumerate(got):
                if ftype == STATUS:
                    frames += got[:i + 1]
                    return frames, "status"
            frames += got
            left = deadline - time.monotonic()
            if left <= 0:
                return frames, "timeout"
            s.settimeout(left)
            chunk = s.recv(65536)
            if not chunk:
                return frames, "closed"
            buf += chunk
    except socket.timeout:
        return frames, "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return frames, "closed"


def status_of(frames):
    for ftype, fields in frames:
        if ftype == STATUS:
            return int(fields[0]), fields[1].decode("utf-8", "replace")
    return None, ""


def is_closed(s, timeout=2.0):
    """After a STATUS: does the server close the connection?"""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def run_threads(n, fn):
    results = [None] * n
    threads = []
    for i in range(n):
        def work(i=i):
            try:
                results[i] = fn(i)
            except Exception as e:  # noqa: BLE001 - reported as a count
                results[i] = ("error", repr(e))
        t = threading.Thread(target=work)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return results


def flood(path, n):
    socks = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        socks[i] = connect(path)
        barrier.wait(timeout=30)
        t0 = time.monotonic()
        socks[i].sendall(frame(1, [b"ping", b""]))
        frames, how = read_frames(socks[i], 20)
        code, _ = status_of(frames)
        ms = (time.monotonic() - t0) * 1000
        socks[i].close()
        return ("ok" if code == 0 else "status%s" % code if code is not None else how, ms)

    res = run_threads(n, one)
    ok = sum(1 for r in res if r[0] == "ok")
    worst = max((r[1] for r in res if r[0] == "ok"), default=0)
    other = sorted(set(str(r[0]) if r[0] != "error" else "error(%s)" % r[1]
                       for r in res if r[0] != "ok"))
    print("clients=%d answered_ok=%d worst_ms=%.0f other=%s" % (n, ok, worst, ",".join(other) or "-"))


def cap(path, n):
    held = []
    accepted = refused5 = refused_closed = other = 0
    for _ in range(n):
        s = connect(path)
        frames, how = read_frames(s, 0.15)
        if how == "timeout" and not frames:
            held.append(s)
            continue
        code, msg = status_of(frames)
        if code == 5:
            refused5 += 1
            if how == "closed" or is_closed(s):
                refused_closed += 1
        else:
            other += 1
        s.close()
    for s in held:
        s.sendall(frame(1, [b"ping", b""]))
        frames, _ = read_frames(s, 5)
        code, _ = status_of(frames)
        if code == 0:
            accepted += 1
        else:
            other += 1
    for s in held:
        s.close()
    time.sleep(0.3)
    # Closed connections no longer count: as many fit again.
    again = []
    for _ in range(len(held)):
        again.append(connect(path))
    again_ok = 0
    for s in again:
        s.sendall(frame(1, [b"ping", b""]))
        frames, _ = read_frames(s, 5)
        code, _ = status_of(frames)
        if code == 0:
            again_ok += 1
    for s in again:
        s.close()
    print("held=%d accepted=%d refused5=%d refused_closed=%d other=%d again_ok=%d"
          % (len(held), accepted, refused5, refused_closed, other, again_ok))


def idle(path, n, wait):
    def one(i):
        s = connect(path)
        if i % 2:
            s.sendall(frame(1, [b"ping", b""])[:6])
        t0 = time.monotonic()
        frames, how = read_frames(s, wait)
        code, _ = status_of(frames)
        closed = how == "closed" or (how == "status" and is_closed(s))
        s.close()
        return code, closed, time.monotonic() - t0

    res = run_threads(2 * n, one)
    closed9 = sum(1 for r in res if isinstance(r[0], int) and r[0] == 9 and r[1])
    slowest = max((r[2] for r in res if isinstance(r[2], float)), default=0)
    print("clients=%d closed9=%d slowest_s=%.1f" % (2 * n, closed9, slowest))


def hostile(path, n):
    kinds = ["oversized", "badversion", "garbage"]

    def one(i):
        kind = kinds[i % 3]
        s = connect(path)
        try:
            if kind == "oversized":
                s.sendall(struct.pack(">I", (1 << 20) + 1) + b"\x01\x01\x00\x00")
            elif kind == "badversion":
                s.sendall(frame(1, [b"ping", b""], version=2))
            else:
                data = os.urandom(2048)
                # A first byte of 0 keeps the length under the limit
                # sometimes; force a version that is never valid.
                s.sendall(data[:4] + b"\xee" + data[5:])
        except (BrokenPipeError, ConnectionResetError):
            pass
        frames, how = read_frames(s, 10)
        code, _ = status_of(frames)
        closed = how == "closed" or (how == "status" and is_closed(s))
        s.close()
        return kind, code, closed

    res = run_threads(3 * n, one)
    good = sum(1 for r in res if len(r) == 3 and r[1] == 9 and r[2])
    print("clients=%d refused9_closed=%d" % (3 * n, good))


def raw(path, hexfields):
    s = connect(path)
    s.sendall(frame(1, [bytes.fromhex(h) for h in hexfields]))
    frames, how = read_frames(s, 10)
    for ftype, fields in frames:
        if ftype == RECORD:
            kv = [fields[i].decode("utf-8", "replace") + "=" + fields[i + 1].decode("utf-8", "replace")
                  for i in range(0, len(fields) - 1, 2)]
            print("record " + " ".join(kv))
    code, msg = status_of(frames)
    print("status=%s msg=%s" % (code if code is not None else how, msg))


def probe(path, stop, out):
    with open(out, "a", buffering=1) as f:
        while not os.path.exists(stop):
            start = time.time()
            t0 = time.monotonic()
            try:
                s = connect(path)
                s.sendall(frame(1, [b"ping", b""]))
                frames, how = read_frames(s, 20)
                s.close()
                code, msg = status_of(frames)
                rc = 0 if code == 0 else 1
                why = "" if rc == 0 else "status=%s %s" % (code if code is not None else how, msg)
            except OSError as e:
                rc, why = 1, repr(e)
            ms = (time.monotonic() - t0) * 1000
            f.write("%d %d %.6f%s\n" % (ms, rc, start, " " + why if why else ""))
            time.sleep(0.02)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if mode == "flood":
        flood(path, int(args[0]))
    elif mode == "cap":
        cap(path, int(args[0]))
    elif mode == "idle":
        idle(path, int(args[0]), float(args[1]))
    elif mode == "hostile":
        hostile(path, int(args[0]))
    elif mode == "raw":
        raw(path, args)
    elif mode == "probe":
        probe(path, args[0], args[1])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
