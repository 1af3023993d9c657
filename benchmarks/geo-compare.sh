#!/usr/bin/env bash
# GEOADD and GEOSEARCH, real Redis vs MiniRedis (Release build) side by side, both without persistence
# (`--save ""`, each in a directory of its own). GEOADD adds random points of the square from 0 to 1
# degree (__rand_int__e-5 with the default -r 100000; random members, so the set grows towards KEYSPACE
# members, a skiplist), then searches run against that set around its middle: a 1 km radius with
# distances, a 10 km box sorted with COUNT 10. Each row runs on both servers back to back, the one
# that goes first alternating. Prints a markdown table: throughput and server CPU µs per operation of
# both (on a loaded machine the CPU ratio is the figure to read), ROUNDS times (GEOADD goes on adding).
# Usage: benchmarks/geo-compare.sh     Environment overrides: REQUESTS (GEOADD sends pipeline depth × REQUESTS),
# CLIENTS, PIPELINES, KEYSPACE, ROUNDS,
# BOX_REQUESTS (the requests of the CPU-bound box search),
# SERVER_DLL/SERVER_BIN/AOT=1 (see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
keyspace=${KEYSPACE:-100000}
rounds=${ROUNDS:-1}
box_requests=${BOX_REQUESTS:-10000}
work=$(mktemp -d /tmp/geo-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

commands=(
    "GEOADD geo __rand_int__e-5 __rand_int__e-5 m:__rand_int__"
    "GEOSEARCH geo FROMLONLAT 0.5 0.5 BYRADIUS 1 km WITHDIST"
    "GEOSEARCH geo FROMLONLAT 0.5 0.5 BYBOX 10 10 km ASC COUNT 10"
)

cpu_table_header
for _ in $(seq "$rounds"); do
    for command in "${commands[@]}"; do
        for pipeline in $pipelines; do
            # GEOADD at -P N sends N times the requests, so its pipelined row lasts what its -P 1 row lasts
            # (50,000 pipelined GEOADDs took 0.15-0.25 s, where one late wake-up moves the figure by a fifth).
            n=$(( requests * pipeline ))
            [[ "$command" == GEOSEARCH* ]] && n=$requests
            [[ "$command" == *BYBOX* ]] && n=$box_requests
            requests=$n cpu_row "${command:0:48}" "$pipeline" -r "$keyspace" $command
        done
    done
done
echo
for port in "$redis_port" "$miniredis_port"; do
    echo "members on port $port: $(redis-cli -p "$port" zcard geo), 1 km search finds $(redis-cli -p "$port" geosearch geo fromlonlat 0.5 0.5 byradius 1 km | wc -l)"
done
