#!/usr/bin/env bash
# BGREWRITEAOF, MiniRedis (fork-less snapshot) vs real Redis 7.0 (fork), on the same 1M mixed keys
# (600k strings; 100k each of 8-element lists, 8-field hashes, 8-member sets, 8-member zsets), under
# a 4-client write load: rewrite duration, client p99/max latency during the rewrite, memory growth
# (PSS of the server and its children), rewritten AOF size. Redis writes a command program too
# (aof-use-rdb-preamble no); automatic rewrites are off on both. Prints a markdown table.
# Usage: benchmarks/rewrite-compare.sh     Environment overrides: RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
work=$(mktemp -d /tmp/rewrite-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

dataset() {
    awk 'function cmd(n, a,   i, s) { s = "*" n "\r\n"; for (i = 1; i <= n; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"; printf "%s", s }
    BEGIN {
        for (i = 0; i < 600000; i++) { a[1] = "SET"; a[2] = "key:" i; a[3] = "value-" i "-abcdefghij"; cmd(3, a) }
        for (i = 0; i < 100000; i++) {
            a[1] = "RPUSH"; a[2] = "list:" i; for (j = 0; j < 8; j++) a[3 + j] = "item-" j; cmd(10, a)
            a[1] = "HSET"; a[2] = "hash:" i; for (j = 0; j < 8; j++) { a[3 + 2 * j] = "f" j; a[4 + 2 * j] = "v" i } cmd(18, a)
            a[1] = "SADD"; a[2] = "set:" i; for (j = 0; j < 8; j++) a[3 + j] = "m" (i + j); cmd(10, a)
            a[1] = "ZADD"; a[2] = "zset:" i; for (j = 0; j < 8; j++) { a[3 + 2 * j] = j * 1.5; a[4 + 2 * j] = "m" j } cmd(18, a)
        }
    }'
}

build_server
dataset > "$work/dataset.resp"

echo "| server | run | rewrite s | client p99 ms during (before) | client max ms during (before) | memory growth MB (PSS before) | rewritten AOF MB | status |"
echo "|---|---|---|---|---|---|---|---|"
for run in $(seq "$runs"); do
    for server in redis miniredis; do
        dir="$work/$server-$run"
        mkdir -p "$dir"
        if [ "$server" = redis ]; then
            start_redis "$dir/log" --appendonly yes --dir "$dir" --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0
            port=$redis_port; aof="$dir/appendonlydir"
        else
            start_miniredis "$dir/log" --appendonly yes --dir "$dir" --auto-aof-rewrite-percentage 0
            port=$miniredis_port; aof="$dir/appendonly.aof"
        fi
        pid=${pids[-1]}
        wait_ready "$port"
        redis-cli -p "$port" --pipe < "$work/dataset.resp" > /dev/null
        python3 benchmarks/rewrite_probe.py "$port" "$pid" "$aof" "$server" "$run" 2>> "$work/probe.json"
        stop_servers
        rm -rf "$dir"
    done
done
