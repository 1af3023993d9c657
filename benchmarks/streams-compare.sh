#!/usr/bin/env bash
# Streams, real Redis vs MiniRedis (Release build) side by side, both `--save ""` in their own directories:
# a SET row (the per-command floor every command pays), XADD (auto IDs), XRANGE of 100 entries, XREADGROUP (COUNT 1, ">") then XACK of delivered IDs, at each
# pipeline depth (throughput and server CPU µs per operation of both: on a loaded machine the CPU ratio is
# the figure to read), ROUNDS times; then the memory of STREAM_ENTRIES entries (XADD * with two fields) in one stream:
# used_memory (MiniRedis's is its model of Redis's allocations) and RSS, each also as growth over the
# empty server, and RSS once more after MEMORY PURGE on both (jemalloc's purge; MiniRedis: a compacting GC).
# Prints markdown tables.
# Usage: benchmarks/streams-compare.sh   Environment overrides: REQUESTS, CLIENTS, PIPELINES, ROUNDS, STREAM_ENTRIES,
# THROUGHPUT=no (memory only), MEMORY=no (throughput only), SERVER_DLL/SERVER_BIN/AOT=1 (see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
entries=${STREAM_ENTRIES:-1000000}
throughput=${THROUGHPUT:-yes}
memory=${MEMORY:-yes}
rounds=${ROUNDS:-1}
work=$(mktemp -d /tmp/streams-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

# prepare <port>: a 100-entry stream for XRANGE, and a stream of `requests` x pipelines entries with IDs
# 1-0, 1-1, ... and a group, so every XREADGROUP delivers one and XACK 1-<n> finds what it acks (mostly:
# after the first round the random IDs include ones acked before).
prepare() {
    local port=$1 total=$(( requests * $(echo "$pipelines" | wc -w) * rounds + 1 ))
    redis-cli -p "$port" del range queue >/dev/null
    awk 'BEGIN { for (i = 0; i < 100; i++) printf "XADD range * sensor %d temperature %d.5\r\n", i, 20 + i % 10 }' | redis-cli -p "$port" --pipe >/dev/null
    awk -v n="$total" 'BEGIN { for (i = 0; i < n; i++) printf "XADD queue 1-%d job %d\r\n", i, i }' | redis-cli -p "$port" --pipe >/dev/null
    redis-cli -p "$port" xgroup create queue workers 0 >/dev/null
}

build_server
if [ "$throughput" = yes ]; then
    start_pair_in "$work" --appendonly no
    prepare "$redis_port"
    prepare "$miniredis_port"

    cpu_table_header
    for _ in $(seq "$rounds"); do
        for pipeline in $pipelines; do
            # The floor every command pays (socket, parse, dispatch, a key lookup): the X rows are read against it.
            cpu_row "SET key:rand (floor)" "$pipeline" -r 100000 set key:__rand_int__ value
            cpu_row "XADD s * f v" "$pipeline" XADD stream '*' field value
            cpu_row "XRANGE of 100" "$pipeline" XRANGE range - + COUNT 100
            cpu_row "XREADGROUP COUNT 1 >" "$pipeline" XREADGROUP GROUP workers consumer COUNT 1 STREAMS queue '>'
            cpu_row "XACK (delivered IDs)" "$pipeline" -r "$requests" XACK queue workers 1-__rand_int__
        done
    done
    echo
fi

[ "$memory" = yes ] || exit 0
# Memory on a fresh pair: the throughput runs left garbage in MiniRedis's heap that its RSS would still show.
stop_servers
start_pair_in "$work/memory" --appendonly no
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
used() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
for server in redis miniredis; do
    port_var="${server}_port"
    pid_var="${server}_pid"
    declare "${server}_used0=$(used "${!port_var}")" "${server}_rss0=$(rss_kb "${!pid_var}")"
    awk -v n="$entries" 'BEGIN { for (i = 0; i < n; i++) printf "XADD events * sensor %d value %d\r\n", i % 1000, i % 100000 }' \
        | redis-cli -p "${!port_var}" --pipe >/dev/null
    sleep 2
    declare "${server}_len=$(redis-cli -p "${!port_var}" xlen events)" "${server}_used1=$(used "${!port_var}")" "${server}_rss1=$(rss_kb "${!pid_var}")"
    redis-cli -p "${!port_var}" memory purge >/dev/null
    sleep 1
    declare "${server}_rss2=$(rss_kb "${!pid_var}")"
done
echo "| $entries stream entries | Redis | MiniRedis | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: |"
awk -v ru0="$redis_used0" -v ru1="$redis_used1" -v mu0="$miniredis_used0" -v mu1="$miniredis_used1" \
    -v rr0="$redis_rss0" -v rr1="$redis_rss1" -v mr0="$miniredis_rss0" -v mr1="$miniredis_rss1" -v rl="$redis_len" -v ml="$miniredis_len" \
    -v rr2="$redis_rss2" -v mr2="$miniredis_rss2" 'BEGIN {
    printf "| XLEN | %d | %d | |\n", rl, ml
    printf "| used_memory (MiB) | %.1f | %.1f | %.2f |\n", ru1 / 1048576, mu1 / 1048576, mu1 / ru1
    printf "| used_memory growth (MiB) | %.1f | %.1f | %.2f |\n", (ru1 - ru0) / 1048576, (mu1 - mu0) / 1048576, (mu1 - mu0) / (ru1 - ru0)
    printf "| RSS (MiB) | %.1f | %.1f | %.2f |\n", rr1 / 1024, mr1 / 1024, mr1 / rr1
    printf "| RSS growth (MiB) | %.1f | %.1f | %.2f |\n", (rr1 - rr0) / 1024, (mr1 - mr0) / 1024, (mr1 - mr0) / (rr1 - rr0)
    printf "| RSS growth after MEMORY PURGE (MiB) | %.1f | %.1f | %.2f |\n", (rr2 - rr0) / 1024, (mr2 - mr0) / 1024, (mr2 - mr0) / (rr2 - rr0)
}'
