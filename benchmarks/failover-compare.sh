#!/usr/bin/env bash
# Failover times, MiniRedis beside real Redis 7.0 (each server in its own dir, persistence off):
#  - FAILOVER: a master with KEYS keys (DEBUG POPULATE) and one replica of the same kind, synced and its
#    acknowledgement seen by the master; seconds from FAILOVER TO <replica> until the old master reports
#    role:slave, its link up and no failover state.
#  - Sentinel: a master and two replicas, three redis-sentinels (quorum 2, down-after-milliseconds
#    DOWN_AFTER, failover-timeout 5000); seconds from kill -9 of the master until a sentinel names the
#    promoted replica, a SET there succeeds and the other replica follows it with its link up.
#    Sentinel's own clock (down-after, its 1 s INFO refresh during a failover) dominates this one.
# Usage: benchmarks/failover-compare.sh     Environment: RUNS (default 3), KEYS (default 100000), DOWN_AFTER (default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
keys=${KEYS:-100000}
down_after=${DOWN_AFTER:-1000}
work=$(mktemp -d /tmp/failover-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
build_server

# start_node <kind> <dir> [directives...]: a server of <kind> (redis|miniredis) in <dir> on node_port (its pid node_pid).
start_node() {
    local kind=$1 dir=$2
    shift 2
    node_port=$(free_port)
    mkdir -p "$dir"
    # The same persistence and replication settings for both kinds.
    local settings=(--port "$node_port" --save "" --dir "$dir" --repl-diskless-sync-delay 0)
    if [ "$kind" = redis ]; then
        redis-server "${settings[@]}" --daemonize no --logfile "" "$@" > "$dir/log" &
    else
        "${miniredis_command[@]}" "${settings[@]}" "$@" > "$dir/log" &
    fi
    node_pid=$!
    pids+=($!)
}

field() { redis-cli -p "$1" INFO replication | tr -d '\r' | grep "^$2:" | cut -d: -f2; }

# failover_seconds <kind> <dir>
failover_seconds() {
    local kind=$1 dir=$2 master replica start
    start_node "$kind" "$dir/master"
    master=$node_port
    wait_ready "$master"
    redis-cli -p "$master" DEBUG POPULATE "$keys" > /dev/null
    start_node "$kind" "$dir/replica" --replicaof 127.0.0.1 "$master"
    replica=$node_port
    wait_ready "$replica"
    # Timed from when the master has the replica's acknowledgement of its offset: a Redis replica of a diskless
    # sync acknowledges at once, one of a disk-based sync (MiniRedis's) at its next once-a-second ACK.
    until [ "$(field "$master" slave0 | sed 's/.*offset=\([0-9]*\).*/\1/')" = "$(field "$master" master_repl_offset)" ]; do sleep 0.02; done
    start=$(date +%s.%N)
    redis-cli -p "$master" FAILOVER TO 127.0.0.1 "$replica" > /dev/null
    until [ "$(field "$master" role)" = slave ] && [ "$(field "$master" master_link_status)" = up ] \
        && [ "$(field "$master" master_failover_state)" = no-failover ]; do sleep 0.01; done
    echo "$(date +%s.%N) - $start" | bc
    stop_servers
}

# sentinel_seconds <kind> <dir>
sentinel_seconds() {
    local kind=$1 dir=$2 master master_pid a b sentinels=() s port start new other
    start_node "$kind" "$dir/master"
    master=$node_port master_pid=$node_pid
    wait_ready "$master"
    start_node "$kind" "$dir/a" --replicaof 127.0.0.1 "$master"
    a=$node_port
    start_node "$kind" "$dir/b" --replicaof 127.0.0.1 "$master"
    b=$node_port
    wait_ready "$a"; wait_ready "$b"
    for s in 1 2 3; do
        port=$(free_port)
        mkdir -p "$dir/s$s"
        printf 'port %s\ndir %s\nsentinel monitor m 127.0.0.1 %s 2\nsentinel down-after-milliseconds m %s\nsentinel failover-timeout m 5000\n' \
            "$port" "$dir/s$s" "$master" "$down_after" > "$dir/s$s/sentinel.conf"
        redis-sentinel "$dir/s$s/sentinel.conf" > "$dir/s$s/log" 2>&1 &
        pids+=($!)
        sentinels+=("$port")
    done
    for s in "${sentinels[@]}"; do
        wait_ready "$s"
        until redis-cli -p "$s" SENTINEL MASTER m | tr -d '\r' | paste - - | grep -q "^num-slaves	2$" \
            && redis-cli -p "$s" SENTINEL MASTER m | tr -d '\r' | paste - - | grep -q "^num-other-sentinels	2$"; do sleep 0.1; done
    done
    start=$(date +%s.%N)
    kill -9 "$master_pid"
    until new=$(redis-cli -p "${sentinels[0]}" SENTINEL GET-MASTER-ADDR-BY-NAME m | tail -1) && [ "$new" != "$master" ] \
        && [ "$(redis-cli -p "$new" SET after-failover 1 2>/dev/null)" = OK ]; do sleep 0.02; done
    if [ "$new" = "$a" ]; then other=$b; else other=$a; fi
    until [ "$(field "$other" master_port)" = "$new" ] && [ "$(field "$other" master_link_status)" = up ]; do sleep 0.02; done
    echo "$(date +%s.%N) - $start" | bc
    stop_servers
}

echo "load: $(uptime)"
echo "| measure | run | Redis s | MiniRedis s | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
    failover_seconds redis "$work/f$run/redis" > "$work/r"
    failover_seconds miniredis "$work/f$run/miniredis" > "$work/m"
    r=$(cat "$work/r") m=$(cat "$work/m")
    printf '| FAILOVER TO (%s keys) | %s | %.2f | %.2f | %.2f |\n' "$keys" "$run" "$r" "$m" "$(echo "$m / $r" | bc -l)"
    sentinel_seconds redis "$work/s$run/redis" > "$work/r"
    sentinel_seconds miniredis "$work/s$run/miniredis" > "$work/m"
    r=$(cat "$work/r") m=$(cat "$work/m")
    printf '| Sentinel, kill -9 to write and repoint | %s | %.2f | %.2f | %.2f |\n' "$run" "$r" "$m" "$(echo "$m / $r" | bc -l)"
done
