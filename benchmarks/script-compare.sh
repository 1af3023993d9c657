#!/usr/bin/env bash
# EVALSHA of a one-call script (INCR of one key), MiniRedis next to real Redis, both without
# persistence, pipelines 1 and 16; prints a markdown table of throughput (see compare.sh).
# Usage: benchmarks/script-compare.sh        Environment overrides: REQUESTS, CLIENTS, PIPELINES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
script="return redis.call('incr', 'bench:counter')"
work=$(mktemp -d /tmp/script-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no
sha=$(redis-cli -p "$redis_port" script load "$script")
[ "$(redis-cli -p "$miniredis_port" script load "$script")" = "$sha" ] || { echo "SCRIPT LOAD differs" >&2; exit 1; }

table_header ""
bench_rows "" evalsha "$pipelines" evalsha "$sha" 0
