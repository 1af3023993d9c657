#!/usr/bin/env python3
"""Pub/sub load driver for pubsub-compare.sh: delivered messages per second on one server.

  pubsub_load.py <port> <subscribers> <patterns> <messages> [payload bytes]

Opens <subscribers> connections, each subscribed to the channel "bench" (or, when <patterns> > 0,
to <patterns> patterns that never match plus "bench*", so PUBLISH tests every pattern), then
redis-benchmark publishes <messages> messages (PUBLISHERS connections, PIPELINE deep). Every message
frame has the same size, so subscribers only count bytes. Prints the deliveries per second, from the
publishers' start until every subscriber has received every message. Talks to 127.0.0.1 only.
"""
import selectors
import socket
import subprocess
import sys
import time

# The publishers: redis-benchmark connections sending pipelined PUBLISH commands.
PUBLISHERS = 4
PIPELINE = 16


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return data


def main():
    port, subscribers, patterns, messages = (int(a) for a in sys.argv[1:5])
    payload = b"x" * (int(sys.argv[5]) if len(sys.argv) > 5 else 16)
    channel = b"bench"

    subs = []
    for _ in range(subscribers):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if patterns:
            names = [b"nomatch:%d:*" % i for i in range(patterns)] + [b"bench*"]
            s.sendall(command(b"PSUBSCRIBE", *names))
            confirmations = b"".join(
                b"*3\r\n$10\r\npsubscribe\r\n$%d\r\n%s\r\n:%d\r\n" % (len(n), n, i + 1) for i, n in enumerate(names))
        else:
            s.sendall(command(b"SUBSCRIBE", channel))
            confirmations = b"*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n"
        if read_exactly(s, len(confirmations)) != confirmations:
            raise RuntimeError("unexpected subscription confirmations")
        s.setblocking(False)
        subs.append(s)

    if patterns:
        frame = b"*4\r\n$8\r\npmessage\r\n$6\r\nbench*\r\n$5\r\nbench\r\n$%d\r\n%s\r\n" % (len(payload), payload)
    else:
        frame = b"*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$%d\r\n%s\r\n" % (len(payload), payload)
    selector = selectors.DefaultSelector()
    for s in subs:
        selector.register(s, selectors.EVENT_READ)

    expected = len(frame) * messages
    received = {s: 0 for s in subs}
    done_subs = 0
    start = time.perf_counter()
    publishers = subprocess.Popen(
        ["redis-benchmark", "-p", str(port), "-c", str(PUBLISHERS), "-n", str(messages), "-P", str(PIPELINE), "-q",
         "PUBLISH", "bench", payload.decode()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while done_subs < subscribers:
        events = selector.select(timeout=30)
        if not events:
            raise TimeoutError("no message for 30 s")
        for key, _ in events:
            sock = key.fileobj
            data = sock.recv(1 << 20)
            if not data:
                raise ConnectionError("server closed the connection")
            before = received[sock]
            received[sock] += len(data)
            if before < expected <= received[sock]:
                done_subs += 1
    elapsed = time.perf_counter() - start
    publishers.wait()
    for s in subs:
        s.close()
    print("%.0f" % (subscribers * messages / elapsed))


if __name__ == "__main__":
    main()
