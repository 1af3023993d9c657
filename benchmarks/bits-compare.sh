#!/usr/bin/env bash
# Bitmaps and HyperLogLogs, real Redis vs MiniRedis (Release build) side by side, each with its own
# directory and no snapshots: SETBIT (new small keys, and one bit of a 1 MB bitmap), BITCOUNT of a 1 MB
# string, PFADD of random elements into one HyperLogLog (sparse, then dense), PFCOUNT of 10 keys.
# A SET row first gives the per-command floor every command pays, measured in the same run.
# Prints a markdown table: throughput and server CPU µs per operation of both (on a loaded machine the CPU
# ratio is the figure to read), ROUNDS times. redis-benchmark's __rand_int__ has leading zeros, which a bit offset refuses,
# so random offsets are not possible: the random part goes into key names and elements instead.
# Usage: benchmarks/bits-compare.sh   Environment overrides: REQUESTS (of a cheap row at -P 1; at -P N it sends
# N times as many), BITCOUNT_REQUESTS (of BITCOUNT and PFCOUNT, at every depth), CLIENTS, PIPELINES,
# ROUNDS, SERVER_DLL/SERVER_BIN/AOT=1 (see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
bitcount_requests=${BITCOUNT_REQUESTS:-5000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
rounds=${ROUNDS:-1}
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

# rows <pipeline>: every row once at that depth.
rows() {
    local p=$1
    # The cheap rows send pipeline × REQUESTS requests, so a -P 16 row lasts what its -P 1 row lasts (about
    # a second): 50,000 pipelined SETBITs or PFADDs take 40 ms, and one late wake-up of the server or of
    # redis-benchmark then halves the figure (both servers' -P 16 throughput jumped between ~0.65 and ~1.3
    # million ops/s from run to run, whatever the command).
    local cheap=$(( requests * p ))
    # The floor: SET of random small keys costs what every command pays (socket, parse, dispatch, a key
    # lookup); the rows below are read against it.
    requests=$cheap cpu_row "SET key:rand (floor)" "$p" -r 100000 set key:__rand_int__ value
    requests=$cheap cpu_row "SETBIT bits:rand 1000 1" "$p" -r 100000 setbit bits:__rand_int__ 1000 1
    requests=$cheap cpu_row "SETBIT bitmap (1 MB) 8388607 1" "$p" setbit bitmap 8388607 1
    requests=$bitcount_requests cpu_row "BITCOUNT bitmap (1 MB)" "$p" bitcount bitmap
    requests=$cheap cpu_row "PFADD hll rand" "$p" -r 1000000 pfadd hll __rand_int__
    requests=$bitcount_requests cpu_row "PFCOUNT of 10 keys" "$p" pfcount hll:0 hll:1 hll:2 hll:3 hll:4 hll:5 hll:6 hll:7 hll:8 hll:9
}

cpu_table_header
for _ in $(seq "$rounds"); do
    for pipeline in $pipelines; do rows "$pipeline"; done
done
