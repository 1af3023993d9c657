#!/usr/bin/env bash
# Collection commands, real Redis vs MiniRedis (Release build) side by side: redis-benchmark's list, set,
# hash and sorted set tests at each pipeline depth, then ZADD with random members (-r) so the sorted set
# grows to ~100k members (its skiplist form). Prints markdown tables.
# Usage: benchmarks/collections-compare.sh   Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES,
# ZADD_REQUESTS, ZADD_KEYSPACE.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
tests=${TESTS:-lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600}
pipelines=${PIPELINES:-1 16}
zadd_requests=${ZADD_REQUESTS:-200000}
zadd_keyspace=${ZADD_KEYSPACE:-100000}
work=$(mktemp -d /tmp/collections-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

table_header ""
bench_rows "" "$tests" "$pipelines"

echo
table_header "large zset"
requests=$zadd_requests bench_rows "-r $zadd_keyspace" zadd 16 -r "$zadd_keyspace"
