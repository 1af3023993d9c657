#!/usr/bin/env python3
"""RDB snapshot measurements taken from outside the server (used by rdb-compare.sh).

Usage:
  rdb_probe.py dataset                          RESP for the 1M mixed keys, to pipe into redis-cli --pipe
  rdb_probe.py save <port> <dump> <labels...>   time a blocking SAVE, size of the dump, redis-check-rdb verdict
  rdb_probe.py bgsave <port> <pid> <labels...>  one BGSAVE under a read/write load: latency and extra memory
  rdb_probe.py load <port> <pid> <start> <log> <labels...>
                                                time from <start> (epoch seconds, taken just before the
                                                server was spawned) until PING answers PONG (not -LOADING)
  rdb_probe.py report <results.jsonl>           markdown tables, one per run, MiniRedis next to Redis

Each measuring command appends one JSON object (labels: server, run) to stdout; rdb-compare.sh collects
them and calls report at the end.
"""
import json, multiprocessing as mp, os, random, re, socket, statistics, subprocess, sys, time

from rewrite_probe import Conn, command, info, percentile

KEYS_PER_KIND = {"small": 97_500, "large": 2_500}
STRINGS = 600_000
DAY_SECONDS = 86_400


def dataset(out):
    """600k strings (10% with a TTL, 10% integers, 1% ~0.5 KB compressible); 97.5k each of 8-element
    lists, hashes (5% with a TTL), sets (half intsets), zsets; 2.5k each of 200-element lists, hashes,
    sets, zsets (the hashtable/skiplist encodings). 1,000,000 keys."""
    buf = []
    for i in range(STRINGS):
        kind = i % 10
        value = str(i) if kind == 5 else ("payload-" * 64 + str(i)) if i % 100 == 7 else f"value-{i}-abcdefghij"
        buf.append(command("SET", f"key:{i}", value, "EX", DAY_SECONDS) if kind == 0 else command("SET", f"key:{i}", value))
    for i in range(KEYS_PER_KIND["small"]):
        buf.append(command("RPUSH", f"list:{i}", *(f"item-{j}" for j in range(8))))
        buf.append(command("HSET", f"hash:{i}", *(x for j in range(8) for x in (f"f{j}", f"v{i}"))))
        if i % 20 == 0:
            buf.append(command("EXPIRE", f"hash:{i}", DAY_SECONDS))
        buf.append(command("SADD", f"set:{i}", *((i + j for j in range(8)) if i % 2 == 0 else (f"m{i + j}" for j in range(8)))))
        buf.append(command("ZADD", f"zset:{i}", *(x for j in range(8) for x in (j * 1.5, f"m{j}"))))
        if len(buf) > 10_000:
            out.write(b"".join(buf))
            buf.clear()
    for i in range(KEYS_PER_KIND["large"]):
        buf.append(command("RPUSH", f"biglist:{i}", *(f"item-{i}-{j}" for j in range(200))))
        buf.append(command("HSET", f"bighash:{i}", *(x for j in range(200) for x in (f"field-{j}", f"value-{i}-{j}"))))
        buf.append(command("SADD", f"bigset:{i}", *(f"member-{i}-{j}" for j in range(200))))
        buf.append(command("ZADD", f"bigzset:{i}", *(x for j in range(200) for x in (j, f"member-{j}"))))
    out.write(b"".join(buf))


def client_load(port, seed, writer, stop, results):
    """Synchronous requests on one connection until stopped. Writers overwrite existing values in place
    (same sizes, no new keys, TTLs untouched), the case where fork's copy-on-write costs most."""
    rnd = random.Random(seed)
    c = Conn(port)
    small, large = KEYS_PER_KIND["small"], KEYS_PER_KIND["large"]
    samples = []
    while not stop.is_set():
        k = rnd.randrange(small)
        if writer:
            plain = 10 * rnd.randrange(STRINGS // 10) + 1  # kind 1: a plain string without a TTL
            args = [("SET", f"key:{plain}", f"value-{plain}-ABCDEFGHIJ"), ("HSET", f"hash:{k}", "f0", f"w{k}"),
                    ("ZADD", f"zset:{k}", k % 97, "m0"), ("LSET", f"list:{k}", 0, "item-X"),
                    ("HSET", f"bighash:{k % large}", f"field-{k % 200}", f"W-{k}")][rnd.randrange(5)]
        else:
            args = [("GET", f"key:{rnd.randrange(STRINGS)}"), ("HGET", f"hash:{k}", "f1"), ("LRANGE", f"list:{k}", 0, 7),
                    ("SISMEMBER", f"set:{k}", k), ("ZSCORE", f"zset:{k}", "m1"), ("HGET", f"bighash:{k % large}", "field-7")][rnd.randrange(6)]
        t0 = time.perf_counter()
        c.call(*args)
        samples.append((t0, time.perf_counter() - t0))
    results.put(samples)


class ClientLoad:
    """Four client processes, writers and readers alternating, until finish() returns their samples."""

    def __init__(self, port):
        self.stop, self.results = mp.Event(), mp.Queue()
        self.workers = [mp.Process(target=client_load, args=(port, s, s % 2 == 0, self.stop, self.results)) for s in range(4)]
        for w in self.workers:
            w.start()

    def finish(self):
        self.stop.set()
        samples = [s for _ in self.workers for s in self.results.get()]
        for w in self.workers:
            w.join()
        return samples


def smaps(pid):
    """Rss, Pss and Private_Dirty of one process in bytes (zeros once it is gone)."""
    fields = {"Rss": 0, "Pss": 0, "Private_Dirty": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in fields:
                    fields[name] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return fields


def memory(pid):
    """One sample: the server and its fork children (Redis's BGSAVE child), if any."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        children = []
    parent = smaps(pid)
    kids = [smaps(p) for p in children]
    return {"rss": parent["Rss"], "pss": parent["Pss"] + sum(k["Pss"] for k in kids),
            "child_dirty": sum(k["Private_Dirty"] for k in kids)}


def labels(argv):
    return {"server": argv[0], "run": int(argv[1])}


def save(port, dump, *label_args):
    c = Conn(port)
    keys = int(c.call("DBSIZE"))
    t0 = time.perf_counter()
    reply = c.call("SAVE").decode()
    elapsed = time.perf_counter() - t0
    r = {**labels(label_args), "phase": "save", "keys": keys, "reply": reply}
    if reply == "OK":
        check = subprocess.run(["redis-check-rdb", dump], capture_output=True, text=True)
        r.update(save_s=round(elapsed, 3), dump_bytes=os.path.getsize(dump),
                 check_rdb="OK" if "RDB looks OK" in check.stdout else "FAIL")
    print(json.dumps(r))


def bgsave(port, pid, *label_args):
    clients = ClientLoad(port)
    c = Conn(port)
    before = []
    until = time.perf_counter() + 3
    while time.perf_counter() < until:
        before.append(memory(pid))
        time.sleep(0.02)
    before = before[len(before) // 3:]  # the first second warms the clients up
    saves_before = info(c, "rdb_saves")
    start = time.perf_counter()
    reply = c.call("BGSAVE").decode()
    during = []
    status = None
    while reply.startswith("Background saving started"):
        during.append(memory(pid))
        saves = info(c, "rdb_saves")
        if info(c, "rdb_bgsave_in_progress") == "0" and (saves is None or saves != saves_before):
            status = info(c, "rdb_last_bgsave_status")
            break
        if time.perf_counter() - start > 600:
            status = "timeout"
            break
        time.sleep(0.02)
    end = time.perf_counter()
    time.sleep(0.5)
    samples = clients.finish()
    r = {**labels(label_args), "phase": "bgsave", "reply": reply, "status": status}
    if during:
        lat_during = [lat for t, lat in samples if start <= t <= end]
        lat_before = [lat for t, lat in samples if t < start]
        base = {k: statistics.median(s[k] for s in before) for k in ("rss", "pss")}
        ms = lambda v: round(v * 1000, 2)
        mb = lambda v: round(v / 2**20, 1)
        cow = info(c, "rdb_last_cow_size")
        r.update(bgsave_s=round(end - start, 3), requests_during=len(lat_during),
                 p50_ms=ms(percentile(lat_during, 0.5)), p99_ms=ms(percentile(lat_during, 0.99)), max_ms=ms(max(lat_during, default=float("nan"))),
                 p99_before_ms=ms(percentile(lat_before, 0.99)), max_before_ms=ms(max(lat_before, default=float("nan"))),
                 # Physical memory added by the save: the parent's own growth plus the pages only the
                 # child holds (its copy-on-write copies and its allocations), peak over the samples.
                 extra_mb=mb(max(s["rss"] - base["rss"] + s["child_dirty"] for s in during)),
                 pss_growth_mb=mb(max(s["pss"] for s in during) - base["pss"]),
                 child_dirty_mb=mb(max(s["child_dirty"] for s in during)), rss_before_mb=mb(base["rss"]),
                 cow_info_mb=mb(int(cow)) if cow is not None else None)
    print(json.dumps(r))


def connect_when_serving(port, pid):
    """A connection once the server answers PING (a load at start has ended), or None if it exited first."""
    c = None
    while c is None:
        try:
            c = Conn(port)
        except OSError:
            if not os.path.exists(f"/proc/{pid}"):
                return None
            time.sleep(0.002)
    while c.call("PING") != b"PONG":
        time.sleep(0.002)
    return c


def load(port, pid, start, log, *label_args):
    start = float(start)
    c = connect_when_serving(port, pid)
    if c is None:
        print(json.dumps({**labels(label_args), "phase": "load", "reply": "server exited"}))
        return
    elapsed = time.time() - start
    keys = int(c.call("DBSIZE"))
    with open(log, errors="replace") as f:
        logged = re.search(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
    print(json.dumps({**labels(label_args), "phase": "load", "load_s": round(elapsed, 3), "keys": keys,
                      "logged_load_s": float(logged.group(1)) if logged else None}))


def report(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = {(r["run"], r["server"], r["phase"]): r for r in rows}
    figures = [  # (label, phase, field, goal for MiniRedis / Redis)
        ("SAVE s", "save", "save_s", ""), ("dump.rdb bytes", "save", "dump_bytes", "<= 1.05"),
        ("redis-check-rdb on the dump", "save", "check_rdb", ""),
        ("BGSAVE s (seen from a client)", "bgsave", "bgsave_s", ""),
        ("requests during BGSAVE", "bgsave", "requests_during", ""),
        ("client p50 ms during BGSAVE", "bgsave", "p50_ms", ""), ("client p99 ms during BGSAVE", "bgsave", "p99_ms", ""),
        ("client p99 ms in the 3 s before", "bgsave", "p99_before_ms", ""), ("client max ms during BGSAVE", "bgsave", "max_ms", ""),
        ("client max ms in the 3 s before", "bgsave", "max_before_ms", ""),
        ("extra memory MB (parent RSS growth + child Private_Dirty)", "bgsave", "extra_mb", "<= 0.3"),
        ("PSS growth MB (server + children)", "bgsave", "pss_growth_mb", ""),
        ("child Private_Dirty peak MB", "bgsave", "child_dirty_mb", ""), ("INFO rdb_last_cow_size MB", "bgsave", "cow_info_mb", ""),
        ("RSS before BGSAVE MB", "bgsave", "rss_before_mb", ""), ("BGSAVE status", "bgsave", "status", ""),
        ("load s (spawn to PONG)", "load", "load_s", "<= 1.0"), ("load s (log line)", "load", "logged_load_s", ""),
        ("keys after load", "load", "keys", ""),
    ]
    for run in sorted({r["run"] for r in rows}):
        machine = by.get((run, "machine", "loadavg"), {})
        print(f"\nRun {run} (load average {machine.get('start')} at start, {machine.get('end')} at end):\n")
        print("| figure | Redis | MiniRedis | MiniRedis / Redis | goal |")
        print("| --- | ---: | ---: | ---: | --- |")
        for label, phase, field, goal in figures:
            cells = []
            for server in ("redis", "miniredis"):
                r = by.get((run, server, phase), {})
                v = r.get(field)
                cells.append(v if v is not None else f"n/a ({r.get('reply', 'not run').split(',')[0]})")
            ratio = f"{cells[1] / cells[0]:.2f}" if all(isinstance(v, (int, float)) for v in cells) and cells[0] else ""
            print(f"| {label} | {cells[0]} | {cells[1]} | {ratio} | {goal} |")
        cross = by.get((run, "miniredis-loads-redis-dump", "load"))
        if cross:
            print(f"\nMiniRedis loading Redis's dump (cross check): {cross.get('load_s', cross.get('reply'))} s to PONG, "
                  f"{cross.get('keys')} keys (Redis: {by.get((run, 'redis', 'load'), {}).get('keys')}).")


if __name__ == "__main__":
    sub, args = sys.argv[1], sys.argv[2:]
    if sub == "dataset":
        dataset(sys.stdout.buffer)
    elif sub == "save":
        save(int(args[0]), *args[1:])
    elif sub == "bgsave":
        bgsave(int(args[0]), int(args[1]), *args[2:])
    elif sub == "load":
        load(int(args[0]), int(args[1]), *args[2:])
    elif sub == "report":
        report(args[0])
    else:
        sys.exit(__doc__)
