#!/usr/bin/env python3
"""Load and snapshot measurements for issue 18's persistence goals (used by persistence-compare.sh).

Usage:
  persistence_probe.py dataset                  RESP for the 1M mixed keys, to pipe into redis-cli --pipe
  persistence_probe.py load <port> <pid> <start> <labels...>
                                                spawn (<start>, epoch seconds) to PONG: wall and the server's
                                                CPU seconds, keys, RSS
  persistence_probe.py idle <port> <pid> <BGSAVE|BGREWRITEAOF> <labels...>
                                                one snapshot with no clients: wall and the server's CPU seconds
  persistence_probe.py busy <port> <pid> <BGSAVE|BGREWRITEAOF|none> <clients> <requests> <labels...>
                                                redis-benchmark SET over the existing string keys while the
                                                snapshot runs back to back until the benchmark ends: its
                                                throughput, p99 and max, the number of snapshots, extra memory
  persistence_probe.py report <results.jsonl>   markdown table: medians over rounds, MiniRedis / Redis

Each measuring command prints one JSON object (labels: server, round) on stdout.
"""
import json, statistics, subprocess, sys, threading, time

from rdb_probe import connect_when_serving, memory
from rewrite_probe import Conn, command, info
from runtime_probe import cpu_seconds

STRINGS, LISTS, HASHES, SETS, ZSETS = 700_000, 100_000, 100_000, 50_000, 50_000


def dataset(out):
    """Issue 18's mix: 700k strings (key:%012d, the names redis-benchmark -r 700000 overwrites), 100k
    10-element lists, 100k 5-field hashes, 50k 5-member sets (half integers), 50k 5-member zsets."""
    buf = []
    for i in range(STRINGS):
        buf.append(command("SET", f"key:{i:012d}", f"value-{i}-abcdef"))
        if len(buf) > 20_000:
            out.write(b"".join(buf))
            buf.clear()
    for i in range(LISTS):
        buf.append(command("RPUSH", f"list:{i}", *(f"item-{j}" for j in range(10))))
        buf.append(command("HSET", f"hash:{i}", *(x for j in range(5) for x in (f"field{j}", f"v{i}-{j}"))))
        if i < SETS:
            buf.append(command("SADD", f"set:{i}", *((i + j for j in range(5)) if i % 2 == 0 else (f"m{i + j}" for j in range(5)))))
            buf.append(command("ZADD", f"zset:{i}", *(x for j in range(5) for x in (j * 1.5, f"member{j}"))))
        if len(buf) > 20_000:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))


def labels(argv):
    return {"server": argv[0], "round": int(argv[1])}


def load(port, pid, start, *label_args):
    c = connect_when_serving(port, pid)
    if c is None:
        print(json.dumps({**labels(label_args), "phase": "load", "error": "server exited"}))
        return
    elapsed = time.time() - float(start)
    cpu = cpu_seconds(pid)
    print(json.dumps({**labels(label_args), "phase": "load", "wall_s": round(elapsed, 3), "cpu_s": round(cpu, 2),
                      "keys": int(c.call("DBSIZE")), "rss_mb": round(memory(pid)["rss"] / 2**20, 1)}))


SNAPSHOT_FIELDS = {"BGSAVE": ("rdb_bgsave_in_progress", "rdb_last_bgsave_status"),
                   "BGREWRITEAOF": ("aof_rewrite_in_progress", "aof_last_bgrewrite_status")}


def snapshot(c, kind, on_poll=None):
    """Starts one snapshot and polls INFO every 5 ms until it ends; its wall seconds and status."""
    progress, status = SNAPSHOT_FIELDS[kind]
    start = time.perf_counter()
    reply = c.call(kind).decode()
    if not reply.startswith("Background"):
        return None, reply
    while True:
        if on_poll:
            on_poll()
        if info(c, progress) == "0" and (kind != "BGREWRITEAOF" or info(c, "aof_rewrite_scheduled") == "0"):
            return time.perf_counter() - start, info(c, status)
        time.sleep(0.005)


def idle(port, pid, kind, *label_args):
    c = Conn(port)
    cpu0 = cpu_seconds(pid, with_children=True)
    wall, status = snapshot(c, kind)
    time.sleep(0.05)  # Redis reaps its child on the next cron tick
    print(json.dumps({**labels(label_args), "phase": f"idle {kind}", "wall_s": round(wall, 3) if wall else None,
                      "cpu_s": round(cpu_seconds(pid, with_children=True) - cpu0, 2), "status": status}))


def busy(port, pid, kind, clients, requests, *label_args):
    c = Conn(port)
    base = memory(pid)["rss"]
    bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", clients, "-n", requests, "-t", "set",
                              "-r", str(STRINGS), "-d", "16", "--csv"], stdout=subprocess.PIPE, text=True)
    out = {}
    reader = threading.Thread(target=lambda: out.update(text=bench.stdout.read()))
    reader.start()
    time.sleep(0.3)  # the benchmark's connections are up
    peak = 0
    walls = []

    def sample():
        nonlocal peak
        m = memory(pid)
        peak = max(peak, m["rss"] - base + m["child_dirty"])

    while kind != "none" and bench.poll() is None:
        wall, status = snapshot(c, kind, sample)
        if wall is None:
            time.sleep(0.01)  # Redis refuses a BGREWRITEAOF while its last child is being reaped
            continue
        walls.append(wall)
    reader.join()
    bench.wait()
    lines = [l.replace('"', "").split(",") for l in out["text"].splitlines()]
    header, row = lines[0], lines[1]
    fields = dict(zip(header, row))
    print(json.dumps({**labels(label_args), "phase": f"busy {kind}", "snapshots": len(walls),
                      "snapshot_s": round(statistics.median(walls), 3) if walls else None,
                      "rps": float(fields["rps"]), "p99_ms": float(fields["p99_latency_ms"]),
                      "max_ms": float(fields["max_latency_ms"]), "extra_mb": round(peak / 2**20, 1)}))


FIGURES = [  # (label, phase, field, goal on MiniRedis / Redis)
    ("RDB load: spawn to PONG s", "load rdb", "wall_s", "<= 1.0"), ("RDB load: CPU s", "load rdb", "cpu_s", ""),
    ("RDB load: keys", "load rdb", "keys", ""), ("RSS loaded MB", "load rdb", "rss_mb", ""),
    ("AOF load: spawn to PONG s", "load aof", "wall_s", "<= 1.0"), ("AOF load: CPU s", "load aof", "cpu_s", ""),
    ("AOF load: keys", "load aof", "keys", ""),
    ("idle BGSAVE s", "idle BGSAVE", "wall_s", "<= 1.5"), ("idle BGSAVE CPU s", "idle BGSAVE", "cpu_s", ""),
    ("idle BGREWRITEAOF s", "idle BGREWRITEAOF", "wall_s", "<= 1.5"),
    ("idle BGREWRITEAOF CPU s", "idle BGREWRITEAOF", "cpu_s", ""),
    ("SET ops/s, no snapshot", "busy none", "rps", ""), ("SET p99 ms, no snapshot", "busy none", "p99_ms", ""),
    ("SET max ms, no snapshot", "busy none", "max_ms", ""),
    ("BGSAVE under SET load s", "busy BGSAVE", "snapshot_s", "<= 1.5"),
    ("SET ops/s during BGSAVE", "busy BGSAVE", "rps", ">= 0.9"), ("SET p99 ms during BGSAVE", "busy BGSAVE", "p99_ms", "<= 1.0"),
    ("SET max ms during BGSAVE", "busy BGSAVE", "max_ms", "<= 2.0"), ("extra memory MB during BGSAVE", "busy BGSAVE", "extra_mb", "<= 0.3"),
    ("BGREWRITEAOF under SET load s", "busy BGREWRITEAOF", "snapshot_s", "<= 1.5"),
    ("SET ops/s during BGREWRITEAOF", "busy BGREWRITEAOF", "rps", ">= 0.9"),
    ("SET p99 ms during BGREWRITEAOF", "busy BGREWRITEAOF", "p99_ms", "<= 1.0"),
    ("SET max ms during BGREWRITEAOF", "busy BGREWRITEAOF", "max_ms", "<= 2.0"),
    ("extra memory MB during BGREWRITEAOF", "busy BGREWRITEAOF", "extra_mb", "<= 0.3"),
]


def report(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rounds = sorted({r["round"] for r in rows if r["server"] != "machine"})
    loads = [r["loadavg"] for r in rows if r["server"] == "machine"]
    print(f"Medians of {len(rounds)} rounds; load average per round: {'; '.join(loads)}\n")
    print("| figure | Redis | MiniRedis | MiniRedis / Redis | goal |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, phase, field, goal in FIGURES:
        cells = []
        for server in ("redis", "miniredis"):
            values = [r[field] for r in rows if r["server"] == server and r["phase"] == phase and r.get(field) is not None]
            cells.append(round(statistics.median(values), 3) if values else None)
        if cells == [None, None]:
            continue  # a row LOAD_ONLY=1 did not run
        ratio = f"{cells[1] / cells[0]:.2f}" if None not in cells and cells[0] else ""
        print(f"| {label} | {cells[0]} | {cells[1]} | {ratio} | {goal} |")


if __name__ == "__main__":
    sub, args = sys.argv[1], sys.argv[2:]
    if sub == "dataset":
        dataset(sys.stdout.buffer)
    elif sub == "load":
        load(int(args[0]), int(args[1]), *args[2:])
    elif sub == "idle":
        idle(int(args[0]), int(args[1]), *args[2:])
    elif sub == "busy":
        busy(int(args[0]), int(args[1]), *args[2:])
    elif sub == "report":
        report(args[0])
    else:
        sys.exit(__doc__)
