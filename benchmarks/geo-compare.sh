#!/usr/bin/env bash
# GEOADD and GEOSEARCH, real Redis vs MiniRedis (Release build) side by side, both without persistence
# (`--save ""`, each in a directory of its own). GEOADD adds random points of the square from 0 to 1
# degree (__rand_int__e-5 with the default -r 100000; random members, so the set grows towards KEYSPACE
# members, a skiplist), then searches run against that set around its middle: a 1 km radius with
# distances, a 10 km box sorted with COUNT 10. Each row runs on both servers
# back to back, the one that goes first alternating. Prints a markdown table.
# Usage: benchmarks/geo-compare.sh     Environment overrides: REQUESTS, CLIENTS, PIPELINES, KEYSPACE.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
keyspace=${KEYSPACE:-100000}
work=$(mktemp -d /tmp/geo-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

# ops <port> <pipeline> <command...>: requests per second of one redis-benchmark run.
ops() {
    local port=$1 pipeline=$2
    shift 2
    redis-benchmark -p "$port" -c "$clients" -n "$requests" -P "$pipeline" -r "$keyspace" --csv "$@" | awk -F'"' 'NR == 2 { print $4 }'
}

commands=(
    "GEOADD geo __rand_int__e-5 __rand_int__e-5 m:__rand_int__"
    "GEOSEARCH geo FROMLONLAT 0.5 0.5 BYRADIUS 1 km WITHDIST"
    "GEOSEARCH geo FROMLONLAT 0.5 0.5 BYBOX 10 10 km ASC COUNT 10"
)

table_header ""
first=redis
for command in "${commands[@]}"; do
    for pipeline in $pipelines; do
        if [ "$first" = redis ]; then
            redis_ops=$(ops "$redis_port" "$pipeline" $command)
            mini_ops=$(ops "$miniredis_port" "$pipeline" $command)
        else
            mini_ops=$(ops "$miniredis_port" "$pipeline" $command)
            redis_ops=$(ops "$redis_port" "$pipeline" $command)
        fi
        first=$([ "$first" = redis ] && echo miniredis || echo redis)
        awk -v c="${command:0:48}" -v p="$pipeline" -v r="$redis_ops" -v m="$mini_ops" \
            'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f |\n", c, p, r, m, (r > 0 ? m / r : 0) }'
    done
done
echo
for port in "$redis_port" "$miniredis_port"; do
    echo "members on port $port: $(redis-cli -p "$port" zcard geo), 1 km search finds $(redis-cli -p "$port" geosearch geo fromlonlat 0.5 0.5 byradius 1 km | wc -l)"
done
