#!/usr/bin/env bash
# A cache workload on real Redis and MiniRedis side by side (issue 13): Zipf-distributed GETs (s=0.99)
# over KEYS keys, a miss SETs a 500-byte value; maxmemory 20mb under allkeys-lru and allkeys-lfu.
# The client is benchmarks/MiniRedis.CacheDriver (CONNECTIONS threads, each pipelining BATCH GETs and then
# its misses' SETs), the same key sequence for both servers. Each round starts a fresh pair and drives one
# server at a time, the one that goes first alternating; the servers and the driver run at nice -5 (NICE)
# so other work on the machine takes less from the measured pair.
# Prints each round's rows, then per policy the medians and the median of the rounds' MiniRedis / Redis
# ratios: hit ratio (second half of the run), ops/s, server CPU µs per operation, RSS / maxmemory at the
# end of the run and at its peak (VmHWM).
# Usage: benchmarks/cache-compare.sh    Environment: KEYS, GETS, CONNECTIONS, BATCH, MAXMEMORY, POLICIES,
# ROUNDS, NICE (AOT=1 / SERVER_BIN for the native binary, see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

keys=${KEYS:-100000}
gets=${GETS:-1200000}
connections=${CONNECTIONS:-8}
batch=${BATCH:-32}
maxmemory=${MAXMEMORY:-20mb}
policies=${POLICIES:-allkeys-lru allkeys-lfu}
rounds=${ROUNDS:-3}
niceness=${NICE:--5}
driver=benchmarks/MiniRedis.CacheDriver/bin/Release/net10.0/MiniRedis.CacheDriver.dll
work=$(mktemp -d /tmp/cache-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
run_quietly dotnet build benchmarks/MiniRedis.CacheDriver -c Release -nologo
echo "load: $(uptime)"
echo "| policy | round | server | hit ratio | ops/s | server CPU µs/op | driver CPU µs/op | used_memory | RSS | RSS / maxmemory | peak RSS / maxmemory | GC heap / committed | compactions | keys kept | evicted |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for policy in $policies; do
    for round in $(seq "$rounds"); do
        start_pair_in "$work/$policy-$round" --appendonly no --maxmemory "$maxmemory" --maxmemory-policy "$policy"
        renice -n "$niceness" -p "$redis_pid" "$miniredis_pid" > /dev/null
        if [ $((round % 2)) = 1 ]; then order="redis miniredis"; else order="miniredis redis"; fi
        for server in $order; do
            port_var="${server}_port" pid_var="${server}_pid"
            nice -n "$niceness" timeout 600 dotnet "$driver" "${!port_var}" "${!pid_var}" "$keys" "$gets" "$connections" "$batch" \
                | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r.update(policy=sys.argv[1], round=int(sys.argv[2]), server=sys.argv[3])
heap = "%.1f / %.1f MB" % (r["dotnet_gc_heap_size"] / 2**20, r["dotnet_gc_committed"] / 2**20) if "dotnet_gc_heap_size" in r else "-"
print("| %s | %d | %s | %.4f | %.0f | %.2f | %.2f | %.2f MB | %.2f MB | %.2f | %.2f | %s | %s | %d | %d |" % (r["policy"], r["round"], r["server"], r["hit_ratio"],
      r["ops_per_sec"], r["server_cpu_us_per_op"], r["driver_cpu_us_per_op"], r["used_memory"] / 2**20, r["rss"] / 2**20,
      r["rss"] / r["maxmemory"], r["rss_peak"] / r["maxmemory"], heap, r.get("dotnet_gc_heap_compactions", "-"), r["keys"], r["evicted_keys"]))
with open(sys.argv[4], "a") as f:
    f.write(json.dumps(r) + "\n")' "$policy" "$round" "$server" "$work/runs.jsonl"
        done
        stop_servers
    done
done
echo "load: $(uptime)"
echo
echo "Medians of $rounds rounds (ratio columns: the median of the rounds' MiniRedis / Redis):"
echo
python3 - "$work/runs.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("| policy | Redis hit ratio | MiniRedis hit ratio | Redis ops/s | MiniRedis ops/s | ops/s ratio | CPU µs/op ratio | Redis RSS / maxmemory | MiniRedis RSS / maxmemory | RSS ratio | Redis peak RSS / maxmemory | MiniRedis peak RSS / maxmemory |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for policy in dict.fromkeys(r["policy"] for r in runs):
    rounds = {}
    for r in runs:
        if r["policy"] == policy:
            rounds.setdefault(r["round"], {})[r["server"]] = r
    pairs = [(p["redis"], p["miniredis"]) for p in rounds.values() if len(p) == 2]
    med = lambda f: statistics.median(f(p) for p in pairs)
    rss = lambda r: r["rss"] / r["maxmemory"]
    peak = lambda r: r["rss_peak"] / r["maxmemory"]
    print("| %s | %.4f | %.4f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (policy,
          med(lambda p: p[0]["hit_ratio"]), med(lambda p: p[1]["hit_ratio"]),
          med(lambda p: p[0]["ops_per_sec"]), med(lambda p: p[1]["ops_per_sec"]),
          med(lambda p: p[1]["ops_per_sec"] / p[0]["ops_per_sec"]),
          med(lambda p: p[1]["server_cpu_us_per_op"] / p[0]["server_cpu_us_per_op"]),
          med(lambda p: rss(p[0])), med(lambda p: rss(p[1])), med(lambda p: rss(p[1]) / rss(p[0])),
          med(lambda p: peak(p[0])), med(lambda p: peak(p[1]))))
EOF
