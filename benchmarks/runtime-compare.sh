#!/usr/bin/env bash
# The runtime's footprint: real Redis, MiniRedis's JIT build (`dotnet build`) and its native AOT
# binary (`dotnet publish`) side by side, in alternating order per round. Per server: spawn-to-PONG
# time of an empty server, its RSS idle after that PING, its RSS after 100,000 SET + 100,000 GET
# (redis-benchmark -P 16 -r 100000), and its CPU time so far; then spawn-to-PONG time, keys and RSS
# when started on the same 1M-key mixed dump (benchmarks/rdb_probe.py dataset, saved by Redis).
# Prints one markdown row per round and server, the load average with each.
# Usage: benchmarks/runtime-compare.sh    Environment overrides: ROUNDS (default 3), SERVERS (default
# "redis jit aot"), MINIREDIS_ENV (variables for both MiniRedis builds, e.g. "DOTNET_GCgen0size=0x400000").
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

rounds=${ROUNDS:-3}
servers=(${SERVERS:-redis jit aot})
miniredis_env=(${MINIREDIS_ENV:-})
work=$(mktemp -d /tmp/runtime-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_jit
publish_aot

# The dump every server loads: Redis saves the dataset once.
mkdir -p "$work/seed"
start_redis "$work/seed/log" --dir "$work/seed"
wait_ready "$redis_port"
python3 benchmarks/rdb_probe.py dataset | redis-cli -p "$redis_port" --pipe > /dev/null
redis-cli -p "$redis_port" save > /dev/null
stop_servers

# spawn <server> <dir>: starts it with persistence off but the dump in <dir>; sets port and pid, and
# start (the time just before the spawn).
spawn() {
    local server=$1 dir=$2
    start=$EPOCHREALTIME
    if [ "$server" = redis ]; then
        start_redis "$dir/log" --appendonly no --dir "$dir"
        port=$redis_port
    else
        [ "$server" = aot ] && miniredis_command=(env "${miniredis_env[@]}" "$aot_dir/miniredis-server") \
            || miniredis_command=(env "${miniredis_env[@]}" dotnet "$jit_dll")
        start_miniredis "$dir/log" --appendonly no --dir "$dir"
        port=$miniredis_port
    fi
    pid=${pids[-1]}
}

# until_pong <dir>: waits for PONG; prints "seconds-since-start keys".
until_pong() {
    python3 benchmarks/rdb_probe.py load "$port" "$pid" "$start" "$1/log" x 0 \
        | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["load_s"], r["keys"])'
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

echo "| round | load average | server | empty: spawn to PONG | idle RSS | RSS after 100k SET+GET | CPU s | 1M-key dump: spawn to PONG | keys | RSS loaded |"
echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    order=("${servers[@]}")
    [ $((round % 2)) = 1 ] || order=($(printf '%s\n' "${servers[@]}" | tac))
    for server in "${order[@]}"; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        dir="$work/$server-$round-empty"
        mkdir -p "$dir"
        spawn "$server" "$dir"
        read -r empty_s _ < <(until_pong "$dir")
        sleep 1
        idle=$(rss_kb)
        redis-benchmark -p "$port" -c 50 -n 100000 -t set,get -P 16 -r 100000 -q > /dev/null
        sleep 1
        used=$(rss_kb)
        cpu=$(awk -v t="$(cpu_ticks "$pid")" -v hz="$ticks_per_second" 'BEGIN { printf "%.2f", t / hz }')
        stop_servers

        dir="$work/$server-$round-loaded"
        mkdir -p "$dir"
        cp "$work/seed/dump.rdb" "$dir/"
        spawn "$server" "$dir"
        read -r loaded_s keys < <(until_pong "$dir")
        loaded=$(rss_kb)
        stop_servers
        awk -v r="$round" -v l="$load" -v s="$server" -v e="$empty_s" -v i="$idle" -v u="$used" -v c="$cpu" -v ls="$loaded_s" -v k="$keys" -v lr="$loaded" \
            'BEGIN { printf "| %s | %s | %s | %.3f s | %.1f MB | %.1f MB | %s | %.2f s | %d | %.1f MB |\n", r, l, s, e, i / 1024, u / 1024, c, ls, k, lr / 1024 }'
    done
done
