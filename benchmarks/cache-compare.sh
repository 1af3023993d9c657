#!/usr/bin/env bash
# A cache workload on real Redis and MiniRedis side by side (issue 13): Zipf-distributed GETs (s=0.99)
# over KEYS keys, a miss SETs a 500-byte value; maxmemory 20mb under allkeys-lru and allkeys-lfu.
# Prints a markdown table: hit ratio (second half of the run), ops/s, RSS / maxmemory.
# Usage: benchmarks/cache-compare.sh    Environment overrides: KEYS, GETS, CLIENTS, MAXMEMORY, POLICIES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

keys=${KEYS:-100000}
gets=${GETS:-400000}
probe_clients=${CLIENTS:-2}
maxmemory=${MAXMEMORY:-20mb}
policies=${POLICIES:-allkeys-lru allkeys-lfu}
work=$(mktemp -d /tmp/cache-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
echo "| policy | server | hit ratio | ops/s | used_memory | RSS | RSS / maxmemory | keys kept | evicted |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for policy in $policies; do
    start_pair_in "$work/$policy" --appendonly no --maxmemory "$maxmemory" --maxmemory-policy "$policy"
    # Real Redis first, then MiniRedis, each alone on the machine while it runs (bounded by GETS).
    for server in redis miniredis; do
        port_var="${server}_port" pid_var="${server}_pid"
        timeout 600 python3 benchmarks/cache_probe.py "${!port_var}" "${!pid_var}" "$keys" "$gets" "$probe_clients" \
            | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("| %s | %s | %.4f | %.0f | %.2f MB | %.2f MB | %.2f | %d | %d |" % (sys.argv[1], sys.argv[2], r["hit_ratio"], r["ops_per_sec"],
      r["used_memory"] / 2**20, r["rss"] / 2**20, r["rss"] / r["maxmemory"], r["keys"], r["evicted_keys"]))' "$policy" "$server"
    done
    stop_servers
done
