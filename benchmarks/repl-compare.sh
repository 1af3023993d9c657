#!/usr/bin/env bash
# Full sync time: a real Redis 7.0 replica syncing from a MiniRedis master vs from a real Redis master
# holding the same dataset. Both masters send a disk-based RDB (Redis with repl-diskless-sync no, as
# MiniRedis only does), persistence otherwise off, each in its own dir. Timed from the replica's start
# until its INFO says master_link_status:up and its DBSIZE matches. Rounds alternate which master goes first.
# Usage: benchmarks/repl-compare.sh     Environment: KEYS (default 100000, DEBUG POPULATE strings),
# DATASET=mixed for rdb_probe.py's 1M mixed keys instead, RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
keys=${KEYS:-100000}
work=$(mktemp -d /tmp/repl-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
build_server
[ "${DATASET:-}" = mixed ] && python3 benchmarks/rdb_probe.py dataset > "$work/dataset.resp"

# fill <port>: the dataset into the master.
fill() {
    if [ "${DATASET:-}" = mixed ]; then redis-cli -p "$1" --pipe < "$work/dataset.resp" > /dev/null
    else redis-cli -p "$1" DEBUG POPULATE "$keys" > /dev/null; fi
}

# sync_seconds <master port> <dir>: seconds until a fresh Redis replica is up and holds every key.
sync_seconds() {
    local master=$1 dir=$2 port start expected
    expected=$(redis-cli -p "$master" DBSIZE)
    port=$(free_port)
    mkdir -p "$dir/replica"
    start=$(date +%s.%N)
    redis-server --port "$port" --save "" --daemonize no --logfile "" --dir "$dir/replica" --replicaof 127.0.0.1 "$master" > "$dir/replica/log" &
    pids+=($!)
    local replica_pid=$!
    wait_ready "$port"
    until [ "$(redis-cli -p "$port" INFO replication | tr -d '\r' | grep master_link_status)" = master_link_status:up ] \
        && [ "$(redis-cli -p "$port" DBSIZE)" = "$expected" ]; do sleep 0.02; done
    echo "$(date +%s.%N) - $start" | bc
    kill "$replica_pid"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | keys | Redis→Redis s | MiniRedis→Redis s | MiniRedis / Redis |"
echo "| ---: | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
    dir=$work/run$run
    mkdir -p "$dir/redis" "$dir/miniredis"
    start_redis "$dir/redis/log" --dir "$dir/redis" --appendonly no --repl-diskless-sync no --enable-debug-command yes
    start_miniredis "$dir/miniredis/log" --dir "$dir/miniredis" --appendonly no --enable-debug-command yes
    wait_ready "$redis_port"
    wait_ready "$miniredis_port"
    fill "$redis_port"
    fill "$miniredis_port"
    if [ $((run % 2)) = 1 ]; then
        r=$(sync_seconds "$redis_port" "$dir/redis"); m=$(sync_seconds "$miniredis_port" "$dir/miniredis")
    else
        m=$(sync_seconds "$miniredis_port" "$dir/miniredis"); r=$(sync_seconds "$redis_port" "$dir/redis")
    fi
    printf '| %s | %s | %.2f | %.2f | %.2f |\n' "$run" "$(redis-cli -p "$redis_port" DBSIZE)" "$r" "$m" "$(echo "$m / $r" | bc -l)"
    stop_servers
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
