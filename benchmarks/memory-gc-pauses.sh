#!/usr/bin/env bash
# GC pauses with 1M keys under write load (issue 18: no pause above 5 ms), real Redis beside for the
# clients' latency. Both servers `--save ""` in their own directories: 1M keys `key:%012d` with 16-byte
# values loaded by redis-cli --pipe, CONFIG RESETSTAT, then redis-benchmark SETs of 20-byte values over
# the same key space (-r 1000000: every write replaces a value with one of another size, so the old one
# becomes garbage in the old generation). Prints the clients' p99 / max latency for both, and
# MiniRedis's own record of its collections (INFO memory dotnet_gc_pause_*: max, p99, count over 5 ms).
# Usage: benchmarks/memory-gc-pauses.sh   Environment: COUNT (1000000), REQUESTS (2000000), PIPELINE (16),
# AOT=1 / SERVER_BIN / SERVER_DLL as in lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

count=${COUNT:-1000000}
requests=${REQUESTS:-2000000}
pipeline=${PIPELINE:-16}
work=$(mktemp -d /tmp/gc-pauses.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }

build_server
awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%012d v%015d\r\n", i, i }' > "$work/load.txt"
start_pair_in "$work" --appendonly no
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $count keys, $requests SETs of 20 bytes, -P $pipeline, 50 clients"
echo
echo "| server | SET ops/s | client p99 ms | client max ms | GC pauses | GC pause max ms (its collection) | GC pause p99 ms | pauses over 5 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for server in redis miniredis; do
    port_var="${server}_port"
    port=${!port_var}
    redis-cli -p "$port" --pipe < "$work/load.txt" > /dev/null
    redis-cli -p "$port" config resetstat > /dev/null
    csv=$(redis-benchmark -p "$port" -c 50 -n "$requests" -r "$count" -d 20 -P "$pipeline" -t set --csv | tail -1 | tr -d '"')
    IFS=, read -r _ rps _ _ _ _ p99 max <<< "$csv"
    if [ "$server" = miniredis ]; then
        gc="$(field "$port" dotnet_gc_pauses) | $(field "$port" dotnet_gc_pause_max_ms) ($(field "$port" dotnet_gc_pause_max_kind)) | $(field "$port" dotnet_gc_pause_p99_ms) | $(field "$port" dotnet_gc_pauses_over_5ms)"
    else
        gc="- | - | - | -"
    fi
    echo "| $server | $rps | $p99 | $max | $gc |"
done
