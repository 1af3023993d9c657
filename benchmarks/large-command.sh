#!/usr/bin/env bash
# One huge command written at once (MSET of 200k 100-byte values, ~25 MB; RPUSH with 1M arguments),
# timed from the write to its reply, on MiniRedis and real Redis 7.0 started side by side with
# --save "" in temp dirs of their own. Prints a markdown table with MiniRedis / Redis ratios.
# Usage: benchmarks/large-command.sh     Environment override: RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
work=$(mktemp -d /tmp/large-command.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

echo "| run | command | request bytes | Redis s | MiniRedis s | MiniRedis / Redis |"
echo "| ---: | --- | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
    for kind in mset rpush; do
        redis=$(python3 benchmarks/large_command.py "$redis_port" redis "$kind")
        mini=$(python3 benchmarks/large_command.py "$miniredis_port" miniredis "$kind")
        python3 - "$run" "$redis" "$mini" <<'PY'
import json, sys
run, r, m = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
if r["reply"] != m["reply"]:
    raise SystemExit(f"replies differ: Redis {r['reply']!r}, MiniRedis {m['reply']!r}")
print(f"| {run} | {r['command']} | {r['bytes']} | {r['seconds']:.3f} | {m['seconds']:.3f} | {m['seconds'] / r['seconds']:.1f} |")
PY
    done
done
