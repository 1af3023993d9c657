#!/usr/bin/env bash
# GC pauses with 1M keys under write load (issue 18: no pause above 5 ms), real Redis beside for the
# clients' latency. Both servers `--save ""` in their own directories: 1M keys `key:%012d` with 16-byte
# values loaded by redis-cli --pipe, CONFIG RESETSTAT, then redis-benchmark SETs of 20-byte values over
# the same key space (-r 1000000: every write replaces a value with one of another size, so the old one
# becomes garbage in the old generation). Prints the clients' p99 / max latency for both, and
# MiniRedis's own record of its collections (INFO memory dotnet_gc_pause_*: max, p99, count over 5 ms),
# and from the runtime's counters over the same interval: collections per generation and the total and
# mean pause (exact even when the recorder, which reads the pauses after each collection from the
# finalizer thread, merges collections that follow each other on a busy machine).
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
echo "| server | SET ops/s | client p99 ms | client max ms | GC pauses recorded | GC pause max ms (its collection) | GC pause p99 ms | pauses over 5 ms | collections gen0/gen1/gen2 | total pause ms | mean pause ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for server in redis miniredis; do
    port_var="${server}_port"
    port=${!port_var}
    redis-cli -p "$port" --pipe < "$work/load.txt" > /dev/null
    redis-cli -p "$port" config resetstat > /dev/null
    if [ "$server" = miniredis ]; then
        before=($(field "$port" dotnet_gc_gen0_collections) $(field "$port" dotnet_gc_gen1_collections) $(field "$port" dotnet_gc_gen2_collections) $(field "$port" dotnet_gc_pause_total_ms))
    fi
    csv=$(redis-benchmark -p "$port" -c 50 -n "$requests" -r "$count" -d 20 -P "$pipeline" -t set --csv | tail -1 | tr -d '"')
    IFS=, read -r _ rps _ _ _ _ p99 max <<< "$csv"
    if [ "$server" = miniredis ]; then
        after=($(field "$port" dotnet_gc_gen0_collections) $(field "$port" dotnet_gc_gen1_collections) $(field "$port" dotnet_gc_gen2_collections) $(field "$port" dotnet_gc_pause_total_ms))
        # A gen1 collection counts in gen0's count too, a gen2 in both.
        runtime=$(awk -v g0=$((after[0] - before[0])) -v g1=$((after[1] - before[1])) -v g2=$((after[2] - before[2])) -v ms=$((after[3] - before[3])) \
            'BEGIN { printf "%d/%d/%d | %d | %.1f", g0, g1, g2, ms, (g0 > 0 ? ms / g0 : 0) }')
        gc="$(field "$port" dotnet_gc_pauses) | $(field "$port" dotnet_gc_pause_max_ms) ($(field "$port" dotnet_gc_pause_max_kind)) | $(field "$port" dotnet_gc_pause_p99_ms) | $(field "$port" dotnet_gc_pauses_over_5ms) | $runtime"
    else
        gc="- | - | - | - | - | - | -"
    fi
    echo "| $server | $rps | $p99 | $max | $gc |"
done
