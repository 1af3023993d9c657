#!/usr/bin/env bash
# Runs redis-benchmark against real Redis, MiniRedis (Release build) and Microsoft Garnet (when installed:
# see start_garnet_in in lib.sh) started side by side on free local ports, none persisting anything, and
# prints a markdown table of throughput. Each test/pipeline pair runs on every server before moving to the
# next pair, so machine noise spreads over them; the load average is printed first.
# Usage: benchmarks/compare.sh        Environment overrides: REQUESTS (of a -P 1 row; a -P N row sends N times as
# many), CLIENTS, TESTS, PIPELINES, KEYSPACE (redis-benchmark -r: random keys, members and fields among that many,
# as issue 18's goals are measured; 0 for the literal key every request of a row names), GARNET=0.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,get,incr,lpush,hset,sadd,zadd,mset,ping}
pipelines=${PIPELINES:-1 16}
keyspace=${KEYSPACE:-100000}
work=$(mktemp -d /tmp/compare-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no
start_garnet_in "$work"

warm_up "$tests"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"

table_header ""
if [ "$keyspace" = 0 ]; then bench_rows "" "$tests" "$pipelines"; else bench_rows "" "$tests" "$pipelines" -r "$keyspace"; fi
