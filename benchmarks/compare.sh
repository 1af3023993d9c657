#!/usr/bin/env bash
# Runs redis-benchmark against real Redis and MiniRedis (Release build) started side by side on free
# local ports, and prints a markdown table of throughput. Each test/pipeline pair runs Redis, then
# MiniRedis, before moving to the next pair, so machine noise spreads over both servers.
# Usage: benchmarks/compare.sh        Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,get,incr,mset,ping}
pipelines=${PIPELINES:-1 16}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() {
    local port
    while :; do
        port=$(( 20000 + RANDOM % 40000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

wait_ready() {
    for _ in $(seq 300); do
        [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return
        sleep 0.1
    done
    echo "server on port $1 did not answer PING" >&2
    exit 1
}

if ! build_log=$(dotnet build src/MiniRedis.Server -c Release -nologo 2>&1); then echo "$build_log" >&2; exit 1; fi

redis_port=$(free_port)
redis-server --port "$redis_port" --save "" --appendonly no --daemonize no --logfile "" > /dev/null &
pids+=($!)
miniredis_port=$(free_port)
while [ "$miniredis_port" = "$redis_port" ]; do miniredis_port=$(free_port); done
dotnet src/MiniRedis.Server/bin/Release/net10.0/miniredis-server.dll --port "$miniredis_port" > /dev/null &
pids+=($!)
wait_ready "$redis_port"
wait_ready "$miniredis_port"

declare -A rps
rows=()
for test in ${tests//,/ }; do
    for pipeline in $pipelines; do
        for server in redis miniredis; do
            port_var="${server}_port"
            # --csv prints a header then one "NAME","rps",... line per benchmark (-t ping gives two).
            while IFS=, read -r name value _; do
                name=${name//\"/}
                [ "$name" = test ] && continue
                key="$name|$pipeline"
                [ -n "${rps[$key|redis]+set}" ] || [ "$server" != redis ] || rows+=("$key")
                rps[$key|$server]=${value//\"/}
            done < <(redis-benchmark -p "${!port_var}" -c "$clients" -n "$requests" -t "$test" -P "$pipeline" --csv 2>/dev/null)
        done
    done
done

echo "| test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: | ---: |"
for key in "${rows[@]}"; do
    redis=${rps[$key|redis]}
    miniredis=${rps[$key|miniredis]:-0}
    awk -v name="${key%|*}" -v p="${key#*|}" -v r="$redis" -v m="$miniredis" \
        'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f |\n", name, p, r, m, (r > 0 ? m / r : 0) }'
done
