#!/usr/bin/env bash
# Server CPU time per operation (utime+stime from /proc divided by the requests of a fixed redis-benchmark
# run) and throughput, MiniRedis next to real Redis, both `--save ""` in directories of their own. On a
# shared machine the CPU per operation is the figure to compare; the throughput ratio moves with the load
# (printed before each round).
# Usage: benchmarks/cpu-compare.sh   Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, ROUNDS,
# AOT=1, SERVER_DLL, SERVER_BIN (the MiniRedis build measured: see benchmarks/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,get}
pipelines=${PIPELINES:-1 16}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/cpu-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work"
# Untimed first: MiniRedis's JIT tiers up during its first runs, and both keyspaces reach their size.
for port in "$redis_port" "$miniredis_port"; do redis-benchmark -p "$port" -c "$clients" -n "$requests" -t "$tests" -P 16 -r 100000 -q > /dev/null; done

echo "| round | load average | test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis | Redis CPU µs/op | MiniRedis CPU µs/op | CPU ratio |"
echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    for test in ${tests//,/ }; do
        for pipeline in $pipelines; do
            # The server that goes first alternates, so machine noise spreads over both.
            if [ $((round % 2)) = 1 ]; then
                read -r redis_rps redis_cpu < <(measure redis "$pipeline" -t "$test" -r 100000)
                read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" -t "$test" -r 100000)
            else
                read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" -t "$test" -r 100000)
                read -r redis_rps redis_cpu < <(measure redis "$pipeline" -t "$test" -r 100000)
            fi
            awk -v round="$round" -v load="$load" -v t="$test" -v p="$pipeline" -v r="$redis_rps" -v m="$mini_rps" -v rc="$redis_cpu" -v mc="$mini_cpu" \
                'BEGIN { printf "| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %.2f |\n", round, load, t, p, r, m, (r > 0 ? m / r : 0), rc, mc, (rc > 0 ? mc / rc : 0) }'
        done
    done
done
