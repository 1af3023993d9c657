#!/usr/bin/env bash
# The runtime's footprint: real Redis, MiniRedis's JIT build (`dotnet build`) and its native AOT
# binary (`dotnet publish`) side by side, in alternating order per round. Per server: spawn-to-PONG
# time of an empty server (and its CPU time by then), its RSS idle after that PING, its RSS after
# 100,000 SET + 100,000 GET (redis-benchmark -P 16 -r 100000), and its CPU time so far; then
# spawn-to-PONG time (and CPU), keys and RSS when started on the same 1M-key mixed dump
# (benchmarks/rdb_probe.py dataset, saved by Redis).
# Prints one markdown row per round and server, the load average with each. The RSS figures are read a
# second after the PONG (benchmarks/runtime_probe.py).
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

# probe <server> <dir> [--bench]: one start of <server> on the files in <dir> (benchmarks/runtime_probe.py);
# prints its JSON line.
probe() {
    local server=$1 dir=$2 port
    shift 2
    port=$(free_port)
    local -a command
    case $server in
        redis) command=(redis-server --daemonize no --logfile "") ;;
        jit) command=(env "${miniredis_env[@]}" dotnet "$jit_dll") ;;
        aot) command=(env "${miniredis_env[@]}" "$aot_dir/miniredis-server") ;;
    esac
    python3 benchmarks/runtime_probe.py "$port" "$dir/log" "$@" -- "${command[@]}" --port "$port" --save "" --appendonly no --dir "$dir"
}

echo "| round | load average | server | empty: spawn to PONG (CPU) | idle RSS | RSS after 100k SET+GET | CPU s then | 1M-key dump: spawn to PONG (CPU) | keys | RSS loaded |"
echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    order=("${servers[@]}")
    [ $((round % 2)) = 1 ] || order=($(printf '%s\n' "${servers[@]}" | tac))
    for server in "${order[@]}"; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        mkdir -p "$work/$server-$round-empty" "$work/$server-$round-loaded"
        cp "$work/seed/dump.rdb" "$work/$server-$round-loaded/"
        empty=$(probe "$server" "$work/$server-$round-empty" --bench)
        loaded=$(probe "$server" "$work/$server-$round-loaded")
        rm -rf "$work/$server-$round-loaded"
        python3 -c '
import json, sys
e, l = json.loads(sys.argv[4]), json.loads(sys.argv[5])
print("| %s | %s | %s | %.3f s (%.2f s) | %.1f MB | %.1f MB | %.2f s | %.2f s (%.2f s) | %d | %.1f MB |" % (sys.argv[1], sys.argv[2], sys.argv[3],
      e["pong_s"], e["pong_cpu_s"], e["rss_kb"] / 1024, e["rss_after_kb"] / 1024, e["cpu_s"], l["pong_s"], l["pong_cpu_s"], l["keys"],
      l["rss_kb"] / 1024))' \
            "$round" "$load" "$server" "$empty" "$loaded"
    done
done
