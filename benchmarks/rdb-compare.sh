#!/usr/bin/env bash
# RDB snapshots, MiniRedis (fork-less snapshot) vs real Redis 7.0 (fork), on the same 1M mixed keys
# (benchmarks/rdb_probe.py dataset: strings with TTLs, small and large lists, hashes, sets, zsets).
# Per run and server, in a fresh dir: load the keys with redis-cli --pipe; time a blocking SAVE (dump
# size, redis-check-rdb verdict); one BGSAVE under a 4-client read/write load (client latency, extra
# memory); restart on the dump and time the load until PING answers. Then MiniRedis loads Redis's dump
# (cross check). Prints a markdown table per run with MiniRedis / Redis ratios.
# Usage: benchmarks/rdb-compare.sh     Environment overrides: RUNS (default 2), SERVERS (default
# "redis miniredis"; the order alternates per run).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-2}
servers=(${SERVERS:-redis miniredis})
work=$(mktemp -d /tmp/rdb-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
results=$work/results.jsonl

# start_server <redis|miniredis> <dir> <log>: started with persistence off except the dump in <dir>;
# sets port and pid.
start_server() {
    local server=$1 dir=$2 log=$3
    if [ "$server" = redis ]; then
        start_redis "$log" --appendonly no --dir "$dir"
        port=$redis_port
    else
        start_miniredis "$log" --save "" --appendonly no --dir "$dir"
        port=$miniredis_port
    fi
    pid=${pids[-1]}
}

# measure_load <server> <dir> <label> <run>: restart on the dump in <dir>, time it until PONG.
measure_load() {
    local start=$EPOCHREALTIME
    start_server "$1" "$2" "$2/load.log"
    python3 benchmarks/rdb_probe.py load "$port" "$pid" "$start" "$2/load.log" "$3" "$4" >> "$results"
    stop_servers
}

build_server
python3 benchmarks/rdb_probe.py dataset > "$work/dataset.resp"

for run in $(seq "$runs"); do
    loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
    order=("${servers[@]}")
    [ $((run % 2)) = 1 ] || order=($(printf '%s\n' "${servers[@]}" | tac))
    for server in "${order[@]}"; do
        dir="$work/$server-$run"
        mkdir -p "$dir"
        start_server "$server" "$dir" "$dir/log"
        wait_ready "$port"
        redis-cli -p "$port" --pipe < "$work/dataset.resp" > /dev/null
        python3 benchmarks/rdb_probe.py save "$port" "$dir/dump.rdb" "$server" "$run" >> "$results"
        python3 benchmarks/rdb_probe.py bgsave "$port" "$pid" "$server" "$run" >> "$results"
        stop_servers
        [ ! -s "$dir/dump.rdb" ] || measure_load "$server" "$dir" "$server" "$run"
    done
    if [ -s "$work/redis-$run/dump.rdb" ] && [[ " ${servers[*]} " = *" miniredis "* ]]; then
        mkdir -p "$work/cross-$run"
        cp "$work/redis-$run/dump.rdb" "$work/cross-$run/"
        measure_load miniredis "$work/cross-$run" miniredis-loads-redis-dump "$run"
    fi
    printf '{"server": "machine", "run": %d, "phase": "loadavg", "start": "%s", "end": "%s"}\n' \
        "$run" "$loadavg_start" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"
    rm -rf "$work"/*-"$run"
done
python3 benchmarks/rdb_probe.py report "$results"
