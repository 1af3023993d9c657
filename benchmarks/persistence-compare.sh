#!/usr/bin/env bash
# Issue 18's persistence goals, MiniRedis vs real Redis 7.0.15 on the same files: 1M mixed keys (700k
# strings, 100k 10-element lists, 100k 5-field hashes, 50k 5-member sets, 50k 5-member zsets; see
# persistence_probe.py). Redis writes the seed once: dump.rdb (SAVE) and an AOF of commands
# (aof-use-rdb-preamble no). Per round and server (the order alternates): load the dump at start (spawn
# to PONG, CPU seconds), then in that server an idle BGSAVE and an idle BGREWRITEAOF (default RDB
# preamble), a redis-benchmark SET load (-c CLIENTS over the existing string keys) alone, then with
# BGSAVE run back to back for its whole length, then with BGREWRITEAOF likewise; restart on the AOF (the
# same command file: Redis's multi-part directory, MiniRedis's appendonly.aof) and time that load. Prints one markdown table of medians with MiniRedis / Redis ratios and the goals.
# Usage: benchmarks/persistence-compare.sh     Environment: ROUNDS (default 3), CLIENTS (20),
# REQUESTS (1000000 per SET run), AOT=1 for the native binary (see lib.sh), LOAD_ONLY=1 for the two load
# rows alone (no snapshots, no SET runs: quick iterations on the load path), BUSY_ONLY=1 for the SET runs
# alone with and without snapshots (the RDB load that fills the server, no idle snapshots, no AOF load:
# quick iterations on the clients-during-a-snapshot rows; each row is measured as in the full run).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

rounds=${ROUNDS:-3}
clients=${CLIENTS:-20}
requests=${REQUESTS:-1000000}
work=$(mktemp -d /tmp/persistence-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
results=$work/results.jsonl
probe=benchmarks/persistence_probe.py

# start_server <redis|miniredis> <dir> [directives...]: in <dir> (its log there); sets port and pid.
start_server() {
    local server=$1 dir=$2
    shift 2
    if [ "$server" = redis ]; then
        start_redis "$dir/log" --dir "$dir" "$@"
        port=$redis_port
    else
        start_miniredis "$dir/log" --dir "$dir" "$@"
        port=$miniredis_port
    fi
    pid=${pids[-1]}
}

wait_field() {  # wait_field <port> <INFO field> <value>
    until redis-cli -p "$1" info persistence | tr -d '\r' | grep -qx "$2:$3"; do sleep 0.1; done
}

build_server
mkdir -p "$work/seed"
python3 "$probe" dataset > "$work/dataset.resp"
start_server redis "$work/seed" --appendonly no --aof-use-rdb-preamble no
wait_ready "$port"
redis-cli -p "$port" --pipe < "$work/dataset.resp" > /dev/null
redis-cli -p "$port" save > /dev/null
redis-cli -p "$port" config set appendonly yes > /dev/null
wait_field "$port" aof_rewrite_in_progress 0
wait_field "$port" aof_rewrite_scheduled 0
wait_field "$port" aof_rewrite_in_progress 0
stop_servers
rm -f "$work/dataset.resp"
echo "seed: dump.rdb $(stat -c %s "$work/seed/dump.rdb") bytes, AOF $(du -cb "$work/seed/appendonlydir" | tail -1 | cut -f1) bytes" >&2

for round in $(seq "$rounds"); do
    order=(redis miniredis)
    [ $((round % 2)) = 1 ] || order=(miniredis redis)
    loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
    for server in "${order[@]}"; do
        dir="$work/$server-$round-rdb"
        mkdir -p "$dir"
        cp "$work/seed/dump.rdb" "$dir/"
        start=$EPOCHREALTIME
        start_server "$server" "$dir" --appendonly no
        python3 "$probe" load "$port" "$pid" "$start" "$server" "$round" | sed 's/"load"/"load rdb"/' >> "$results"
        [ "${LOAD_ONLY:-0}" = 1 ] || [ "${BUSY_ONLY:-0}" = 1 ] || for kind in BGSAVE BGREWRITEAOF; do
            python3 "$probe" idle "$port" "$pid" "$kind" "$server" "$round" >> "$results"
        done
        [ "${LOAD_ONLY:-0}" = 1 ] || for kind in none BGSAVE BGREWRITEAOF; do
            python3 "$probe" busy "$port" "$pid" "$kind" "$clients" "$requests" "$server" "$round" >> "$results"
        done
        stop_servers
        rm -rf "$dir"
        [ "${BUSY_ONLY:-0}" = 0 ] || continue

        dir="$work/$server-$round-aof"
        mkdir -p "$dir"
        # The same commands in each server's own layout: Redis 7's multi-part directory; MiniRedis keeps
        # one appendonly.aof (given Redis's directory, it would import it and then write its own file).
        if [ "$server" = redis ]; then cp -r "$work/seed/appendonlydir" "$dir/"
        else cp "$work/seed/appendonlydir/"*.base.aof "$dir/appendonly.aof"; fi
        start=$EPOCHREALTIME
        start_server "$server" "$dir" --appendonly yes --aof-use-rdb-preamble no
        python3 "$probe" load "$port" "$pid" "$start" "$server" "$round" | sed 's/"load"/"load aof"/' >> "$results"
        stop_servers
        rm -rf "$dir"
    done
    echo "{\"server\": \"machine\", \"round\": $round, \"loadavg\": \"$loadavg_start .. $(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$results"
done
python3 "$probe" report "$results"
