#!/usr/bin/env bash
# Replication, MiniRedis against real Redis 7.0 in the same run (persistence otherwise off, each server
# in its own dir, both masters with the same directives):
#  1. full sync time: a fresh real Redis replica syncing KEYS keys from a MiniRedis master vs from a real
#     Redis master, with a disk-based RDB (repl-diskless-sync no) and a diskless one (yes, delay 0);
#     timed from the replica's start until master_link_status:up and its DBSIZE matches;
#  2. replication lag at RATE writes/s (SETs paced by repl_load.py): the master's offset minus the
#     replica's, sampled every 100 ms (two INFO calls a few ms apart: the figure includes the writes of
#     those ms, ~40 bytes each), mean and max in bytes, and the time to catch up after the load;
#  3. master throughput with 2 real replicas attached: redis-benchmark SET (-P 16) against each master.
# Usage: benchmarks/repl-compare.sh    Environment: KEYS (default 1000000, DEBUG POPULATE strings;
# DATASET=mixed for rdb_probe.py's 1M mixed keys), RUNS (default 3), RATE (default 50000), LOAD_SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
keys=${KEYS:-1000000}
rate=${RATE:-50000}
seconds=${LOAD_SECONDS:-10}
work=$(mktemp -d /tmp/repl-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
build_server
[ "${DATASET:-}" = mixed ] && python3 benchmarks/rdb_probe.py dataset > "$work/dataset.resp"

# fill <port>: the dataset into the master.
fill() {
    if [ "${DATASET:-}" = mixed ]; then redis-cli -p "$1" --pipe < "$work/dataset.resp" > /dev/null
    else redis-cli -p "$1" DEBUG POPULATE "$keys" > /dev/null; fi
}

field() { redis-cli -p "$1" INFO replication | tr -d '\r' | grep "^$2:" | cut -d: -f2; }

# start_replica <master port> <dir>: a real Redis replica of it (replica_port, replica_pid).
start_replica() {
    replica_port=$(free_port)
    mkdir -p "$2"
    redis-server --port "$replica_port" --save "" --daemonize no --logfile "" --dir "$2" --replicaof 127.0.0.1 "$1" > "$2/log" &
    replica_pid=$!
    pids+=($!)
    wait_ready "$replica_port"
}

wait_synced() {
    local master=$1 replica=$2 expected
    expected=$(redis-cli -p "$master" DBSIZE)
    until [ "$(field "$replica" master_link_status)" = up ] && [ "$(redis-cli -p "$replica" DBSIZE)" = "$expected" ]; do sleep 0.02; done
}

# sync_seconds <master port> <dir>: seconds until a fresh Redis replica is up and holds every key.
sync_seconds() {
    local start
    start=$(date +%s.%N)
    start_replica "$1" "$2"
    wait_synced "$1" "$replica_port"
    echo "$(date +%s.%N) - $start" | bc
    kill "$replica_pid"
}

# lag <master port> <dir>: "mean max catch-up-ms" of the replica's lag under the paced load.
lag() {
    local master=$1 samples=$2/lag.txt start
    start_replica "$master" "$2"
    wait_synced "$master" "$replica_port"
    python3 benchmarks/repl_load.py "$master" "$rate" "$seconds" &
    local load=$!
    : > "$samples"
    while kill -0 "$load" 2>/dev/null; do
        # The replica first: the master's offset read a few ms later includes the writes of those ms.
        replica_offset=$(field "$replica_port" slave_repl_offset)
        echo $(( $(field "$master" master_repl_offset) - replica_offset )) >> "$samples"
        sleep 0.1
    done
    wait "$load"
    start=$(date +%s%N)
    until [ "$(field "$replica_port" slave_repl_offset)" = "$(field "$master" master_repl_offset)" ]; do sleep 0.005; done
    awk -v catchup=$(( ($(date +%s%N) - start) / 1000000 )) '{ s += $1; if ($1 > m) m = $1 } END { printf "%d %d %d", s / NR, m, catchup }' "$samples"
    kill "$replica_pid"
}

# throughput <master port> <dir>: SET requests/s with two replicas attached.
throughput() {
    local r1 r2
    start_replica "$1" "$2/r1"; r1=$replica_pid
    wait_synced "$1" "$replica_port"
    start_replica "$1" "$2/r2"; r2=$replica_pid
    wait_synced "$1" "$replica_port"
    redis-benchmark -p "$1" -t set -n 500000 -P 16 -r 100000 --csv | awk -F'"' '/SET/ { print $4 }'
    kill "$r1" "$r2"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | mode | keys | Redis→Redis s | MiniRedis→Redis s | MiniRedis / Redis |"
echo "| ---: | --- | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
    for diskless in no yes; do
        dir=$work/run$run-$diskless
        mkdir -p "$dir/redis" "$dir/miniredis"
        directives=(--appendonly no --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0 --enable-debug-command yes)
        start_redis "$dir/redis/log" --dir "$dir/redis" "${directives[@]}"
        start_miniredis "$dir/miniredis/log" --dir "$dir/miniredis" "${directives[@]}"
        wait_ready "$redis_port"
        wait_ready "$miniredis_port"
        fill "$redis_port"
        fill "$miniredis_port"
        if [ $((run % 2)) = 1 ]; then
            r=$(sync_seconds "$redis_port" "$dir/redis/replica"); m=$(sync_seconds "$miniredis_port" "$dir/miniredis/replica")
        else
            m=$(sync_seconds "$miniredis_port" "$dir/miniredis/replica"); r=$(sync_seconds "$redis_port" "$dir/redis/replica")
        fi
        mode=disk; [ "$diskless" = yes ] && mode=diskless
        printf '| %s | %s | %s | %.2f | %.2f | %.2f |\n' "$run" "$mode" "$(redis-cli -p "$redis_port" DBSIZE)" "$r" "$m" "$(echo "$m / $r" | bc -l)"
        stop_servers
    done
done

echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | server | lag mean bytes | lag max bytes | catch-up ms after the load | SET/s with 2 replicas (-P 16) |"
echo "| ---: | --- | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
    dir=$work/live$run
    mkdir -p "$dir/redis" "$dir/miniredis"
    start_redis "$dir/redis/log" --dir "$dir/redis" --appendonly no
    start_miniredis "$dir/miniredis/log" --dir "$dir/miniredis" --appendonly no
    wait_ready "$redis_port"
    wait_ready "$miniredis_port"
    for server in Redis MiniRedis; do
        port=$redis_port; [ "$server" = MiniRedis ] && port=$miniredis_port
        read -r mean max catchup <<< "$(lag "$port" "$dir/$server-lag")"
        sets=$(throughput "$port" "$dir/$server-tput")
        printf '| %s | %s | %s | %s | %s | %s |\n' "$run" "$server" "$mean" "$max" "$catchup" "$sets"
    done
    stop_servers
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
