#!/usr/bin/env python3
"""Cache workload for benchmarks/cache-compare.sh: Zipf-distributed GETs over a key space; a miss
SETs a 500-byte value (cache-aside). Each client process pipelines batches of GETs, then the SETs
for that batch's misses. Prints one JSON line: hit ratio over the second half of the run, ops/s
over the whole run, the server's RSS at the end and its INFO memory/stats figures."""
import bisect, json, multiprocessing, random, socket, sys, time

def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.pos = 0

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = self.buf[self.pos:end]
                self.pos = end + 2
                return line
            self._fill()

    def _fill(self):
        self.buf = self.buf[self.pos:] + self.sock.recv(1 << 20)
        self.pos = 0

    def reply(self):
        """Reads one reply; returns True for a bulk with data, False for a null bulk, the text otherwise."""
        line = self._line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return False
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            self.pos += n + 2
            return True
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line

    def call(self, *args):
        self.sock.sendall(encode(*args))
        line = self._line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = self.buf[self.pos:self.pos + n]
            self.pos += n + 2
            return data
        return line

def zipf_cdf(keys, s):
    weights = [1.0 / (rank ** s) for rank in range(1, keys + 1)]
    total, acc, cdf = sum(weights), 0.0, []
    for w in weights:
        acc += w
        cdf.append(acc / total)
    return cdf

def client(port, keys, gets, batch, seed, zipf_s, out):
    rng = random.Random(seed)
    cdf = zipf_cdf(keys, zipf_s)
    # Ranks map to shuffled key ids, so the hot keys are not the first ones written.
    order = list(range(keys))
    random.Random(12345).shuffle(order)
    value = b"x" * 500
    conn = Conn(port)
    hits = misses = late_hits = late_misses = sets = 0
    done = 0
    while done < gets:
        n = min(batch, gets - done)
        names = [b"key:%d" % order[min(bisect.bisect_left(cdf, rng.random()), keys - 1)] for _ in range(n)]
        conn.sock.sendall(b"".join(encode(b"GET", k) for k in names))
        missed = [k for k in names if not conn.reply()]
        late = done >= gets // 2
        hits += n - len(missed)
        misses += len(missed)
        if late:
            late_hits += n - len(missed)
            late_misses += len(missed)
        if missed:
            conn.sock.sendall(b"".join(encode(b"SET", k, value) for k in missed))
            for _ in missed:
                conn.reply()
            sets += len(missed)
        done += n
    out.put((hits, misses, late_hits, late_misses, sets))

def info(port, section):
    text = Conn(port).call(b"INFO", section.encode()).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    keys, gets, clients = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, keys, gets // clients, 32, 1000 + i, 0.99, out)) for i in range(clients)]
    start = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - start
    hits, misses, late_hits, late_misses, sets = (sum(r[i] for r in results) for i in range(5))
    memory, stats = info(port, "memory"), info(port, "stats")
    print(json.dumps({
        "hit_ratio": late_hits / max(1, late_hits + late_misses),
        "hit_ratio_all": hits / max(1, hits + misses),
        "ops_per_sec": (hits + misses + sets) / elapsed,
        "seconds": elapsed,
        "rss": rss(pid),
        "used_memory": int(memory["used_memory"]),
        "maxmemory": int(memory["maxmemory"]),
        "evicted_keys": int(stats["evicted_keys"]),
        "keys": int(Conn(port).call(b"DBSIZE")[1:]),
    }))

if __name__ == "__main__":
    main()
