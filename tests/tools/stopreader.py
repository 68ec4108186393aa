#!/usr/bin/env python3
"""A batch import client that stops reading its replies, then goes away.

    stopreader.py SOCKET CSV ROWS OUT

Sends `batch import --credentials=stop.csv` with CSV streamed as DATA frames
(then END), reads the replies until ROWS credentials (SECRET records) have
come, and stops reading.  Once provd has stopped writing (the socket's
receive queue unchanged for 2 s), it looks at what waits in that queue
without reading it (MSG_PEEK) and closes the connection.

Writes to OUT the employee id of every SECRET record provd wrote to the
socket in full (read, or waiting in the queue), one a line, and prints
"read=N queued=M" (SECRET records read, and left in the socket).
"""
import fcntl
import os
import socket
import struct
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abuse import connect, frame, split_frames  # noqa: E402

REQUEST, DATA, END, SECRET = 1, 2, 3, 17


def secret_ids(fr):
    ids = []
    for ftype, fields in fr:
        if ftype != SECRET:
            continue
        kv = dict(zip(fields[0::2], fields[1::2]))
        ids.append(kv.get(b"employee_id", b"").decode())
    return ids


def send_all(s, csv_path):
    try:
        with open(csv_path, "rb") as f:
            while True:
                chunk = f.read(16384)
                if not chunk:
                    break
                s.sendall(frame(DATA, [chunk]))
        s.sendall(frame(END, []))
    except OSError:
        pass        # the connection went away: expected


def queued(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0" * 4))[0]


def main():
    path, csv_path, rows, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    s = connect(path)
    s.sendall(frame(REQUEST, [b"batch", b"import", b"--credentials=stop.csv", b"new.csv"]))
    threading.Thread(target=send_all, args=(s, csv_path), daemon=True).start()
    buf, read_ids = b"", []
    s.settimeout(60)
    while len(read_ids) < rows:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("provd closed the connection early")
        buf += chunk
        fr, buf = split_frames(buf)
        read_ids += secret_ids(fr)
    # Stop reading; wait until provd has stopped writing.
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 2.0:
        n = queued(s)
        if n != last:
            last, since = n, time.monotonic()
        time.sleep(0.1)
    peek = s.recv(last, socket.MSG_PEEK | socket.MSG_DONTWAIT) if last > 0 else b""
    fr, _ = split_frames(buf + peek)
    queued_ids = secret_ids(fr)
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    with open(out_path, "w") as f:
        for i in read_ids + queued_ids:
            f.write(i + "\n")
    print("read=%d queued=%d" % (len(read_ids), len(queued_ids)))


if __name__ == "__main__":
    main()
