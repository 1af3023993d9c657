#!/usr/bin/env bash
# Runs redis-benchmark against real Redis and MiniRedis (Release build) started side by side on free
# local ports, and prints a markdown table of throughput. Each test/pipeline pair runs on both servers
# before moving to the next pair, so machine noise spreads over both.
# Usage: benchmarks/compare.sh        Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,get,incr,mset,ping}
pipelines=${PIPELINES:-1 16}
work=$(mktemp -d /tmp/compare-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

table_header ""
bench_rows "" "$tests" "$pipelines"
