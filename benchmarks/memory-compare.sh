#!/usr/bin/env bash
# Memory per key, real Redis vs MiniRedis (Release build), each workload on a fresh pair (both `--save ""`,
# each in its own directory), loaded the same way (redis-cli --pipe):
#   strings  COUNT keys `key:%012d` (16 bytes) with 16-byte values (SET)
#   hashes   COUNT keys `user:N` with 5 short fields (HSET, listpack-encoded on both)
#   streams  COUNT entries `XADD events * sensor N value N` in one stream
# For each: used_memory and RSS after the load, their growth over the empty server per key/entry, and RSS
# once more after MEMORY PURGE (jemalloc's purge; MiniRedis: a compacting GC); the ratios are total RSS
# after the load and RSS growth after the purge, each against Redis's. Prints a markdown table.
# Usage: benchmarks/memory-compare.sh   Environment overrides: COUNT (default 1000000), WORKLOADS
# (default "strings hashes streams").
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

count=${COUNT:-1000000}
workloads=${WORKLOADS:-strings hashes streams}
work=$(mktemp -d /tmp/memory-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
used() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }

commands() {
    case $1 in
        strings) awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%012d v%015d\r\n", i, i }' ;;
        hashes) awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++)
            printf "HSET user:%d name user%d age %d city paris email u%d@example.com score %d\r\n", i, i, 20 + i % 60, i, i % 1000 }' ;;
        streams) awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "XADD events * sensor %d value %d\r\n", i % 1000, i % 100000 }' ;;
    esac
}

build_server
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $count keys (streams: entries) per workload"
echo
echo "| workload | server | used_memory (MiB) | used_memory growth per key (B) | RSS (MiB) | RSS growth per key (B) | RSS after MEMORY PURGE (MiB) | its growth per key (B) | RSS / Redis's | growth after purge / Redis's |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for workload in $workloads; do
    commands "$workload" > "$work/$workload.txt"
    start_pair_in "$work/$workload" --appendonly no
    declare -A rss0 rss1 rss2
    for server in redis miniredis; do
        port_var="${server}_port" pid_var="${server}_pid"
        used0=$(used "${!port_var}") rss0[$server]=$(rss_kb "${!pid_var}")
        redis-cli -p "${!port_var}" --pipe < "$work/$workload.txt" > /dev/null
        sleep 2
        used1=$(used "${!port_var}") rss1[$server]=$(rss_kb "${!pid_var}")
        redis-cli -p "${!port_var}" memory purge > /dev/null
        sleep 2
        rss2[$server]=$(rss_kb "${!pid_var}")
        awk -v w="$workload" -v s="$server" -v n="$count" -v u0="$used0" -v u1="$used1" -v r0="${rss0[$server]}" -v r1="${rss1[$server]}" \
            -v r2="${rss2[$server]}" -v rr0="${rss0[redis]}" -v rr1="${rss1[redis]}" -v rr2="${rss2[redis]}" 'BEGIN {
            printf "| %s | %s | %.1f | %.0f | %.1f | %.0f | %.1f | %.0f | %.2f | %.2f |\n", w, s, u1 / 1048576, (u1 - u0) / n,
                r1 / 1024, (r1 - r0) * 1024 / n, r2 / 1024, (r2 - r0) * 1024 / n, r1 / rr1, (r2 - r0) / (rr2 - rr0) }'
    done
    stop_servers
done
