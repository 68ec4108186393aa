#!/usr/bin/env python3
"""Send hand-made bytes to provd's control socket and print what comes back.

    rawclient.py SOCKET MODE

MODE is one of: oversized, badversion, badtype, garbage, halfframe, silent,
truncated-field, valid-ping.  Prints "status=<code> msg=<text>" for the first
STATUS frame received, or "closed" / "timeout".
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abuse import frame, split_frames  # noqa: E402


def read_status(s, timeout):
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return "closed" if not buf else parse(buf)
            buf += chunk
            got = parse(buf)
            if got:
                return got
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "closed"


def parse(buf):
    frames, _ = split_frames(buf)
    for ftype, fields in frames:
        if ftype == 19:
            return "status=%s msg=%s" % (fields[0].decode(), fields[1].decode("utf-8", "replace"))
    return None


def main():
    path, mode = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    timeout = 5.0
    if mode == "oversized":
        s.sendall(struct.pack(">I", 64 << 20) + b"\x01\x01\x00\x00")
    elif mode == "badversion":
        s.sendall(frame(1, [b"ping", b""], version=7))
    elif mode == "badtype":
        s.sendall(frame(99, [b"ping", b""]))
    elif mode == "garbage":
        s.sendall(os.urandom(4096))
    elif mode == "truncated-field":
        body = struct.pack(">BBH", 1, 1, 1) + struct.pack(">I", 1000) + b"abc"
        s.sendall(struct.pack(">I", len(body)) + body)
    elif mode == "halfframe":
        s.sendall(frame(1, [b"ping", b""])[:6])
        timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    elif mode == "silent":
        timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    elif mode == "valid-ping":
        s.sendall(frame(1, [b"ping", b""]))
    print(read_status(s, timeout))


main()
