#!/usr/bin/env python3
"""Paced write load for repl-compare.sh: SETs at a fixed rate for a fixed time.

Usage: repl_load.py PORT RATE SECONDS. Every 10 ms it sends RATE/100 SETs pipelined on one connection
and reads their replies, then sleeps until the next tick, so the master sees RATE writes/s (or less,
printed at the end, when it cannot keep up).
"""
import socket
import sys
import time


def main():
    port, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    per_tick = max(1, rate // 100)
    sock = socket.create_connection(("127.0.0.1", port))
    sent = 0
    start = time.monotonic()
    tick = start
    while time.monotonic() - start < seconds:
        batch = bytearray()
        for i in range(per_tick):
            key = b"lag:%d" % ((sent + i) % 100000)
            batch += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$8\r\nxxxxxxxx\r\n" % (len(key), key)
        sock.sendall(batch)
        expected = 5 * per_tick
        got = 0
        while got < expected:
            got += len(sock.recv(65536))
        sent += per_tick
        tick += 0.01
        pause = tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    print(f"{sent / (time.monotonic() - start):.0f} writes/s", file=sys.stderr)


if __name__ == "__main__":
    main()
