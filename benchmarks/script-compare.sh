#!/usr/bin/env bash
# EVALSHA of a one-call script and FCALL of a one-call function (INCR of one key), MiniRedis next to real Redis, both without
# persistence (`--save ""`, each in a directory of its own), pipelines 1 and 16, with plain INCR as the
# baseline the script wraps. Prints a markdown table of throughput and of the server's CPU time per
# operation (utime+stime from /proc, far less noisy than throughput on a shared machine).
# Usage: benchmarks/script-compare.sh        Environment overrides: REQUESTS, CLIENTS, PIPELINES, ROUNDS.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
rounds=${ROUNDS:-1}
script="return redis.call('incr', 'bench:counter')"
library=$'#!lua name=benchlib\nredis.register_function(\'incr1\', function(keys) return redis.call(\'incr\', keys[1]) end)'
work=$(mktemp -d /tmp/script-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work"
sha=$(redis-cli -p "$redis_port" script load "$script")
[ "$(redis-cli -p "$miniredis_port" script load "$script")" = "$sha" ] || { echo "SCRIPT LOAD differs" >&2; exit 1; }
for port in "$redis_port" "$miniredis_port"; do
    [ "$(redis-cli -p "$port" function load "$library")" = benchlib ] || { echo "FUNCTION LOAD failed on $port" >&2; exit 1; }
done

echo "| round | command | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis | Redis CPU µs/op | MiniRedis CPU µs/op |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    for pipeline in $pipelines; do
        for command in "evalsha $sha 0" "fcall incr1 1 bench:counter" "incr bench:counter"; do
            # The server that goes first alternates, so machine noise spreads over both.
            if [ $((round % 2)) = 1 ]; then
                read -r redis_rps redis_cpu < <(measure redis "$pipeline" $command)
                read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" $command)
            else
                read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" $command)
                read -r redis_rps redis_cpu < <(measure redis "$pipeline" $command)
            fi
            awk -v round="$round" -v c="${command%% *}" -v p="$pipeline" -v r="$redis_rps" -v m="$mini_rps" -v rc="$redis_cpu" -v mc="$mini_cpu" \
                'BEGIN { printf "| %s | %s | %s | %s | %s | %.2f | %s | %s |\n", round, c, p, r, m, (r > 0 ? m / r : 0), rc, mc }'
        done
    done
done
