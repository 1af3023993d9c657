#!/usr/bin/env python3
"""One BGREWRITEAOF under write load, measured from outside (used by rewrite-compare.sh).

Usage: rewrite_probe.py <port> <server pid> <aof path or dir> <row label...>
Write load: 4 processes, one connection each, random SET/INCR/LPUSH/HSET/SADD/ZADD over the 1M-key
keyspace; every request's latency is recorded with its time. The main process starts the rewrite,
polls INFO persistence every 10 ms until it ends, and samples the server's memory (PSS of the
process and its children, so fork's shared pages count once and copy-on-write pages count). Prints
one JSON line: rewrite seconds, client p99/max latency during the rewrite (and before it), memory
growth, file size; then the same as a markdown table row starting with the labels.
"""
import json, multiprocessing as mp, os, random, socket, sys, time

def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def call(self, *args):
        self.s.sendall(command(*args))
        return self.read()

    def read(self):
        line = self.f.readline()
        t = line[:1]
        if t == b"$":
            n = int(line[1:])
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            return [self.read() for _ in range(int(line[1:]))]
        return line[1:-2]

def load(port, seed, stop, results):
    rnd = random.Random(seed)
    c = Conn(port)
    samples = []
    while not stop.is_set():
        k = rnd.randrange(1_000_000)
        op = rnd.randrange(6)
        args = [("SET", f"key:{k}", f"new-{seed}"), ("INCR", f"counter:{k % 1000}"), ("LPUSH", f"list:{k % 100000}", "x"),
                ("HSET", f"hash:{k % 100000}", "f0", seed), ("SADD", f"set:{k % 100000}", k), ("ZADD", f"zset:{k % 100000}", k, "m0")][op]
        t0 = time.perf_counter()
        c.call(*args)
        samples.append((t0, time.perf_counter() - t0))
    results.put(samples)

def pss(pid):
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total

def info(c, field):
    text = c.call("INFO", "persistence").decode()
    for line in text.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]

def file_size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path) if not n.endswith(".manifest"))
    return os.path.getsize(path)

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")

def main():
    port, pid, aof = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    stop, results = mp.Event(), mp.Queue()
    workers = [mp.Process(target=load, args=(port, s, stop, results)) for s in range(4)]
    for w in workers: w.start()
    c = Conn(port)
    time.sleep(3)
    base_mem = pss(pid)
    peak_mem = base_mem
    start = time.perf_counter()
    c.call("BGREWRITEAOF")
    while True:
        peak_mem = max(peak_mem, pss(pid))
        if info(c, "aof_rewrite_in_progress") == "0" and info(c, "aof_rewrite_scheduled") == "0":
            break
        time.sleep(0.01)
    end = time.perf_counter()
    time.sleep(1)
    stop.set()
    samples = [s for _ in workers for s in results.get()]
    for w in workers: w.join()
    during = [lat for t, lat in samples if start <= t <= end]
    before = [lat for t, lat in samples if t < start]
    r = {
        "rewrite_s": round(end - start, 3),
        "p99_ms": round(percentile(during, 0.99) * 1000, 2), "max_ms": round(max(during) * 1000, 2),
        "p99_before_ms": round(percentile(before, 0.99) * 1000, 2), "max_before_ms": round(max(before) * 1000, 2),
        "requests_during": len(during),
        "mem_growth_mb": round((peak_mem - base_mem) / 2**20, 1), "mem_before_mb": round(base_mem / 2**20, 1),
        "file_mb": round(file_size(aof) / 2**20, 1),
        "status": info(c, "aof_last_bgrewrite_status"),
    }
    print(json.dumps(r), file=sys.stderr)
    cells = [*sys.argv[4:], r["rewrite_s"], f"{r['p99_ms']} ({r['p99_before_ms']})", f"{r['max_ms']} ({r['max_before_ms']})",
             f"{r['mem_growth_mb']} ({r['mem_before_mb']})", r["file_mb"], r["status"]]
    print("| " + " | ".join(str(x) for x in cells) + " |")

if __name__ == "__main__":
    main()
