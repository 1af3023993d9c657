#!/usr/bin/env bash
# AOF cost, MiniRedis vs real Redis 7.0: redis-benchmark with `appendonly yes` under each appendfsync
# policy (both servers restarted per policy in fresh temporary dirs), then the time each takes to
# load the same 1M-key AOF (Redis gets it as an old-style appendonly.aof; both report the load in
# their log). Prints markdown tables.
# Usage: benchmarks/aof-compare.sh     Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, POLICIES, LOAD_KEYS.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,incr,lpush}
pipelines=${PIPELINES:-1 16}
policies=${POLICIES:-always everysec no}
load_keys=${LOAD_KEYS:-1000000}
server_dll=src/MiniRedis.Server/bin/Release/net10.0/miniredis-server.dll

work=$(mktemp -d /tmp/aof-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() {
    local port
    while :; do
        port=$(( 20000 + RANDOM % 40000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

wait_ready() {
    for _ in $(seq 1200); do
        [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return
        sleep 0.1
    done
    echo "server on port $1 did not answer PING" >&2
    exit 1
}

stop_servers() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

# start_pair <redis dir> <miniredis dir> <extra directives...>: sets redis_port, miniredis_port.
start_pair() {
    local rdir=$1 mdir=$2
    shift 2
    redis_port=$(free_port)
    redis-server --port "$redis_port" --save "" --appendonly yes --dir "$rdir" --daemonize no --logfile "$rdir/log" "$@" > /dev/null &
    pids+=($!)
    miniredis_port=$(free_port)
    while [ "$miniredis_port" = "$redis_port" ]; do miniredis_port=$(free_port); done
    dotnet "$server_dll" --port "$miniredis_port" --appendonly yes --dir "$mdir" "$@" > "$mdir/log" &
    pids+=($!)
    wait_ready "$redis_port"
    wait_ready "$miniredis_port"
}

if ! build_log=$(dotnet build src/MiniRedis.Server -c Release -nologo 2>&1); then echo "$build_log" >&2; exit 1; fi

echo "| appendfsync | test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for policy in $policies; do
    mkdir -p "$work/$policy/redis" "$work/$policy/miniredis"
    start_pair "$work/$policy/redis" "$work/$policy/miniredis" --appendfsync "$policy"
    for test in ${tests//,/ }; do
        for pipeline in $pipelines; do
            declare -A rps=()
            for server in redis miniredis; do
                port_var="${server}_port"
                # A command the server lacks makes redis-benchmark print nothing for it.
                while IFS=, read -r name value _; do
                    name=${name//\"/}
                    [ "$name" = test ] && continue
                    rps[$server]=${value//\"/}
                    label=$name
                done < <(redis-benchmark -p "${!port_var}" -c "$clients" -n "$requests" -t "$test" -P "$pipeline" --csv 2>/dev/null || true)
            done
            [ -n "${rps[redis]:-}" ] || continue
            awk -v pol="$policy" -v name="$label" -v p="$pipeline" -v r="${rps[redis]}" -v m="${rps[miniredis]:-0}" \
                'BEGIN { printf "| %s | %s | %s | %.0f | %.0f | %.2f |\n", pol, name, p, r, m, (r > 0 ? m / r : 0) }'
            unset rps
        done
    done
    stop_servers
done

# The same file for both: $load_keys SETs written by MiniRedis itself (redis-cli --pipe).
mkdir -p "$work/gen" "$work/load/redis" "$work/load/miniredis"
gen_port=$(free_port)
dotnet "$server_dll" --port "$gen_port" --appendonly yes --appendfsync no --dir "$work/gen" > /dev/null &
pids+=($!)
wait_ready "$gen_port"
awk -v n="$load_keys" 'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n", length("key:" i), i, length("value:" i), i }' \
    | redis-cli -p "$gen_port" --pipe > /dev/null
stop_servers
size=$(stat -c %s "$work/gen/appendonly.aof")
cp "$work/gen/appendonly.aof" "$work/load/redis/appendonly.aof"
cp "$work/gen/appendonly.aof" "$work/load/miniredis/appendonly.aof"
start_pair "$work/load/redis" "$work/load/miniredis"
redis_seconds=$(grep -o 'DB loaded from append only file: [0-9.]*' "$work/load/redis/log" | awk '{ print $NF }')
miniredis_seconds=$(grep -o 'DB loaded from append only file: [0-9.]*' "$work/load/miniredis/log" | awk '{ print $NF }')
stop_servers
echo
echo "| AOF load ($load_keys keys, $size bytes) | Redis s | MiniRedis s | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: |"
awk -v r="$redis_seconds" -v m="$miniredis_seconds" 'BEGIN { printf "| load time | %.3f | %.3f | %.2f |\n", r, m, (r > 0 ? m / r : 0) }'
