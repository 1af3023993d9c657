#!/usr/bin/env python3
"""Connection robustness measured from outside a server (used by robustness.sh). 127.0.0.1 only.

Usage:
  robustness_probe.py churn <port> <pid> <cycles>      connect/PING/close cycles; open fds (from /proc)
                                                       before, peak while churning, and after; RSS before/after
  robustness_probe.py idle <port> <pid> <clients>      RSS before, with <clients> idle connections (each sent
                                                       one PING), and 3 s after they all closed
  robustness_probe.py pipeline <port> <gets> <bytes>   SET a value of <bytes>, pipeline <gets> GETs of it, read
                                                       for at most 60 s: bytes delivered and seconds
Each prints one line of JSON.
"""
import json, os, socket, sys, threading, time


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS")


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def ping(sock):
    sock.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("closed before PONG")
        reply += chunk
    assert reply == b"+PONG\r\n", reply


def churn(port, pid, cycles):
    before, rss_before = fds(pid), rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], fds(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.monotonic()
    for _ in range(cycles):
        sock = connect(port)
        ping(sock)
        sock.close()
    seconds = time.monotonic() - start
    done.set()
    sampler.join()
    time.sleep(1)
    return {"cycles": cycles, "seconds": round(seconds, 2), "fds_before": before, "fds_peak": peak[0],
            "fds_after": fds(pid), "rss_before_mb": rss_before, "rss_after_mb": rss_mb(pid)}


def idle(port, pid, clients):
    before = rss_mb(pid)
    socks = []
    for _ in range(clients):
        sock = connect(port)
        ping(sock)
        socks.append(sock)
    time.sleep(1)
    with_clients = rss_mb(pid)
    for sock in socks:
        sock.close()
    time.sleep(3)
    return {"clients": clients, "rss_before_mb": before, "rss_idle_mb": with_clients, "rss_after_close_mb": rss_mb(pid)}


def bulk(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def pipeline(port, gets, size):
    sock = connect(port)
    sock.sendall(bulk(b"SET", b"big", b"x" * size))
    assert sock.recv(16) == b"+OK\r\n"
    expected = gets * (len(b"$%d\r\n" % size) + size + 2)
    sock.settimeout(1)
    start = time.monotonic()
    sock.sendall(bulk(b"GET", b"big") * gets)
    received = 0
    buffer = memoryview(bytearray(1 << 20))
    while received < expected and time.monotonic() - start < 60:
        try:
            n = sock.recv_into(buffer)
        except socket.timeout:
            continue
        if n == 0:
            break
        received += n
    seconds = time.monotonic() - start
    sock.close()
    return {"gets": gets, "value_bytes": size, "expected_bytes": expected, "received_bytes": received,
            "seconds": round(seconds, 2)}


if __name__ == "__main__":
    mode, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    print(json.dumps({"churn": churn, "idle": idle, "pipeline": pipeline}[mode](*args)), flush=True)
