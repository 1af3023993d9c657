#!/usr/bin/env bash
# Pub/sub delivery, MiniRedis next to real Redis (both `--save ""`, each in a directory of its own):
# PUBLISH to 1 and to 50 subscribers of a channel, and PUBLISH to 1 subscriber holding 1,000
# non-matching patterns plus a matching one. Publishers are redis-benchmark connections
# (benchmarks/pubsub_load.py). Per server and row: delivered messages per second, and the server's
# CPU time (utime+stime from /proc) per delivered message, which a loaded machine disturbs far less;
# each the median of RUNS runs, the order of the servers rotating per run. Prints a markdown table.
# Usage: benchmarks/pubsub-compare.sh [NAME=DLL ...]
#   With no argument: Redis and the MiniRedis build (as lib.sh picks it: JIT, AOT=1, SERVER_DLL...).
#   With NAME=DLL arguments: Redis and each of those JIT builds (an A/B of builds), ratios to Redis.
# Environment overrides: RUNS, MESSAGES.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

runs=${RUNS:-3}
messages=${MESSAGES:-200000}
work=$(mktemp -d /tmp/pubsub-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

names=(redis)
mkdir -p "$work/redis"
start_redis "$work/redis/log" --dir "$work/redis" --appendonly no
if [ $# -eq 0 ]; then
    build_server
    mkdir -p "$work/miniredis"
    start_miniredis "$work/miniredis/log" --dir "$work/miniredis" --appendonly no
    names+=(miniredis)
else
    for spec in "$@"; do
        name=${spec%%=*}
        mkdir -p "$work/$name"
        port=$(free_port)
        dotnet "${spec#*=}" --port "$port" --save "" --appendonly no --dir "$work/$name" > "$work/$name/log" &
        pids+=($!)
        printf -v "${name}_pid" %s $!
        printf -v "${name}_port" %s "$port"
        names+=("$name")
    done
fi
for name in "${names[@]}"; do port_var=${name}_port; wait_ready "${!port_var}"; done
# Untimed warm-up: MiniRedis's JIT tiers up during its first runs.
for name in "${names[@]}"; do port_var=${name}_port; python3 benchmarks/pubsub_load.py "${!port_var}" 1 0 100000 > /dev/null; done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "| case | subscribers | patterns | messages |"
for name in "${names[@]}"; do printf " %s deliveries/s | %s CPU µs/delivery |" "$name" "$name"; done
for name in "${names[@]:1}"; do printf " %s / Redis deliveries/s | %s / Redis CPU |" "$name" "$name"; done
echo
printf "| --- | ---: | ---: | ---: |"
for _ in $(seq $(( ${#names[@]} * 2 + (${#names[@]} - 1) * 2 ))); do printf " ---: |"; done
echo
# case name, subscribers, patterns, published messages (the 50-subscriber case publishes fewer: 50 deliveries each)
while read -r case_name subscribers patterns count; do
    declare -A rates=() cpus=()
    for run in $(seq "$runs"); do
        k=${#names[@]}
        for i in $(seq 0 $((k - 1))); do
            name=${names[$(( (i + run) % k ))]}
            port_var=${name}_port
            pid_var=${name}_pid
            before=$(cpu_ticks "${!pid_var}")
            rate=$(python3 benchmarks/pubsub_load.py "${!port_var}" "$subscribers" "$patterns" "$count")
            after=$(cpu_ticks "${!pid_var}")
            rates[$name]+="$rate"$'\n'
            cpus[$name]+="$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n=$((subscribers * count)) \
                'BEGIN { printf "%.3f", t / hz * 1e6 / n }')"$'\n'
        done
    done
    printf "| %s | %d | %d | %d |" "$case_name" "$subscribers" "$patterns" "$count"
    declare -A rate_median=() cpu_median=()
    for name in "${names[@]}"; do
        rate_median[$name]=$(printf '%s' "${rates[$name]}" | median)
        cpu_median[$name]=$(printf '%s' "${cpus[$name]}" | median)
        printf " %.0f | %.3f |" "${rate_median[$name]}" "${cpu_median[$name]}"
    done
    for name in "${names[@]:1}"; do
        awk -v m="${rate_median[$name]}" -v r="${rate_median[redis]}" -v mc="${cpu_median[$name]}" -v rc="${cpu_median[redis]}" \
            'BEGIN { printf " %.2f | %.2f |", m / r, (rc > 0 ? mc / rc : 0) }'
    done
    echo
done <<EOF
publish-1-subscriber 1 0 $messages
publish-50-subscribers 50 0 $((messages / 10))
publish-1000-patterns 1 1000 $((messages / 2))
EOF
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
