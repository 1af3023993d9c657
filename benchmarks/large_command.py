"""One big command sent with one write, timed until its reply: what a client waits for when a
single MSET or RPUSH is megabytes long (the parser must stay linear in the command's size).
Usage: large_command.py <port> <server name> <mset|rpush>; prints one JSON line."""
import json
import socket
import sys
import time


def encode(args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def command(kind):
    if kind == "mset":
        value = b"v" * 100
        args = [b"MSET"]
        for i in range(200_000):
            args += [b"key:%06d" % i, value]
        return "MSET 200k keys of 100-byte values", encode(args)
    args = [b"RPUSH", b"biglist"] + [b"%d" % i for i in range(1_000_000)]
    return "RPUSH 1M arguments", encode(args)


def read_reply(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit(f"connection closed, received {data!r}")
        data += chunk
    return data


def main():
    port, server, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    label, request = command(kind)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        sock.sendall(request)
        reply = read_reply(sock)
        elapsed = time.perf_counter() - start
        sock.sendall(encode([b"FLUSHALL"]))
        read_reply(sock)
    print(json.dumps({"command": label, "bytes": len(request), "server": server,
                      "seconds": round(elapsed, 3), "reply": reply.decode().strip()}))


main()
