#!/usr/bin/env bash
# Pub/sub delivery, MiniRedis next to real Redis (both `--save ""`, each in a directory of its own):
# PUBLISH to 1 and to 50 subscribers of a channel, and PUBLISH to 1 subscriber holding 1,000
# non-matching patterns plus a matching one. Publishers are redis-benchmark connections
# (benchmarks/pubsub_load.py); each row is delivered messages per second, the median of RUNS runs,
# the server that goes first alternating. Prints a markdown table.
# Usage: benchmarks/pubsub-compare.sh        Environment overrides: RUNS, MESSAGES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
messages=${MESSAGES:-200000}
work=$(mktemp -d /tmp/pubsub-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "| case | subscribers | patterns | messages | Redis deliveries/s | MiniRedis deliveries/s | MiniRedis / Redis |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
# case name, subscribers, patterns, published messages (the 50-subscriber case publishes fewer: 50 deliveries each)
while read -r name subscribers patterns count; do
    declare -A rates=([redis]="" [miniredis]="")
    first=redis
    for _ in $(seq "$runs"); do
        for server in $first $([ "$first" = redis ] && echo miniredis || echo redis); do
            port_var="${server}_port"
            rates[$server]+="$(python3 benchmarks/pubsub_load.py "${!port_var}" "$subscribers" "$patterns" "$count")"$'\n'
        done
        first=$([ "$first" = redis ] && echo miniredis || echo redis)
    done
    r=$(printf '%s' "${rates[redis]}" | median)
    m=$(printf '%s' "${rates[miniredis]}" | median)
    awk -v n="$name" -v s="$subscribers" -v p="$patterns" -v c="$count" -v r="$r" -v m="$m" \
        'BEGIN { printf "| %s | %d | %d | %d | %.0f | %.0f | %.2f |\n", n, s, p, c, r, m, m / r }'
done <<EOF
publish-1-subscriber 1 0 $messages
publish-50-subscribers 50 0 $((messages / 10))
publish-1000-patterns 1 1000 $((messages / 2))
EOF
