#!/usr/bin/env bash
# Bitmaps and HyperLogLogs, real Redis vs MiniRedis (Release build) side by side, each with its own
# directory and no snapshots: SETBIT (new small keys, and one bit of a 1 MB bitmap), BITCOUNT of a 1 MB
# string, PFADD of random elements into one HyperLogLog (sparse, then dense), PFCOUNT of 10 keys.
# Prints a markdown table. redis-benchmark's __rand_int__ has leading zeros, which a bit offset refuses,
# so random offsets are not possible: the random part goes into key names and elements instead.
# Usage: benchmarks/bits-compare.sh   Environment overrides: REQUESTS, BITCOUNT_REQUESTS, CLIENTS, PIPELINES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
bitcount_requests=${BITCOUNT_REQUESTS:-5000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
work=$(mktemp -d /tmp/bits-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

# The same data on both: a 1 MB random bitmap, and 10 HyperLogLogs of 1,000 to 10,000 elements (sparse and dense).
head -c 1048576 /dev/urandom > "$work/bitmap"
for port in "$redis_port" "$miniredis_port"; do
    redis-cli -p "$port" -x set bitmap < "$work/bitmap" > /dev/null
    for i in $(seq 0 9); do
        seq -f "element:$i:%.0f" 1 $(( (i + 1) * 1000 )) | xargs -n 500 redis-cli -p "$port" pfadd "hll:$i" > /dev/null
    done
done

table_header ""
bench_command "SETBIT bits:rand 1000 1" "$pipelines" -r 100000 setbit bits:__rand_int__ 1000 1
bench_command "SETBIT bitmap (1 MB) 8388607 1" "$pipelines" setbit bitmap 8388607 1
requests=$bitcount_requests bench_command "BITCOUNT bitmap (1 MB)" "$pipelines" bitcount bitmap
bench_command "PFADD hll rand" "$pipelines" -r 1000000 pfadd hll __rand_int__
bench_command "PFCOUNT of 10 keys" "$pipelines" pfcount hll:0 hll:1 hll:2 hll:3 hll:4 hll:5 hll:6 hll:7 hll:8 hll:9
