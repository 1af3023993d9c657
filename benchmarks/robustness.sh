#!/usr/bin/env bash
# Connection robustness, MiniRedis vs real Redis 7.0 in the same run (issue 10): open fds during and
# after connect/PING/close churn, RSS with many idle clients and after they leave, and a pipeline of
# large GETs whose replies pass 1 GiB in one round. Each server runs with --save "" in its own
# temporary dir; all traffic goes to 127.0.0.1 and every loop is bounded. Prints one JSON line per
# measurement, labelled with the server.
# Usage: benchmarks/robustness.sh   Environment overrides: CHURN (10000), CHURN_PEAK (25000),
# IDLE_CLIENTS (9000), GETS (1100), VALUE_BYTES (1048576).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

churn=${CHURN:-10000}
churn_peak=${CHURN_PEAK:-25000}
idle_clients=${IDLE_CLIENTS:-9000}
gets=${GETS:-1100}
value_bytes=${VALUE_BYTES:-1048576}

work=$(mktemp -d /tmp/robustness.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

build_server
start_pair_in "$work" --appendonly no

probe() { python3 benchmarks/robustness_probe.py "$@"; }
for server in redis miniredis; do
    port_var="${server}_port"
    pid_var="${server}_pid"
    echo "$server churn $(probe churn "${!port_var}" "${!pid_var}" "$churn")"
    echo "$server churn $(probe churn "${!port_var}" "${!pid_var}" "$churn_peak")"
    echo "$server idle $(probe idle "${!port_var}" "${!pid_var}" "$idle_clients")"
    echo "$server pipeline $(probe pipeline "${!port_var}" "$gets" "$value_bytes")"
    sleep 10  # MiniRedis returns freed memory to the OS a few seconds after a large release
    echo "$server after: PING=$(timeout 5 redis-cli -p "${!port_var}" ping 2>&1 || echo none) rss_mb=$(( $(awk '/VmRSS/ {print $2}' "/proc/${!pid_var}/status") / 1024 ))"
done
