#!/usr/bin/env bash
# AOF cost, MiniRedis vs real Redis 7.0: redis-benchmark with `appendonly yes` under each appendfsync
# policy (both servers restarted per policy in fresh temporary dirs), then the time each takes to
# load the same 1M-key AOF (Redis gets it as an old-style appendonly.aof; both report the load in
# their log). Prints markdown tables.
# Usage: benchmarks/aof-compare.sh     Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, POLICIES, LOAD_KEYS.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,incr,lpush}
pipelines=${PIPELINES:-1 16}
policies=${POLICIES:-always everysec no}
load_keys=${LOAD_KEYS:-1000000}

work=$(mktemp -d /tmp/aof-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server

table_header appendfsync
for policy in $policies; do
    start_pair_in "$work/$policy" --appendonly yes --appendfsync "$policy"
    bench_rows "$policy" "$tests" "$pipelines"
    stop_servers
done

# The same file for both: $load_keys SETs written by MiniRedis itself (redis-cli --pipe).
mkdir -p "$work/gen" "$work/load/redis" "$work/load/miniredis"
start_miniredis /dev/null --appendonly yes --appendfsync no --dir "$work/gen"
gen_port=$miniredis_port
wait_ready "$gen_port"
awk -v n="$load_keys" 'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n", length("key:" i), i, length("value:" i), i }' \
    | redis-cli -p "$gen_port" --pipe > /dev/null
stop_servers
size=$(stat -c %s "$work/gen/appendonly.aof")
cp "$work/gen/appendonly.aof" "$work/load/redis/appendonly.aof"
cp "$work/gen/appendonly.aof" "$work/load/miniredis/appendonly.aof"
start_pair_in "$work/load" --appendonly yes
redis_seconds=$(grep -o 'DB loaded from append only file: [0-9.]*' "$work/load/redis/log" | awk '{ print $NF }')
miniredis_seconds=$(grep -o 'DB loaded from append only file: [0-9.]*' "$work/load/miniredis/log" | awk '{ print $NF }')
stop_servers
echo
echo "| AOF load ($load_keys keys, $size bytes) | Redis s | MiniRedis s | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: |"
awk -v r="$redis_seconds" -v m="$miniredis_seconds" 'BEGIN { printf "| load time | %.3f | %.3f | %.2f |\n", r, m, (r > 0 ? m / r : 0) }'
