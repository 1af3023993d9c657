#!/usr/bin/env bash
# SET/GET as the default user (every permission: no ACL check runs) and as a restricted user
# (`~key:* +get +set`, plus the CONFIG GET redis-benchmark sends at start: the command, then every key,
# is checked before each command), MiniRedis next to real Redis doing the same. Server CPU time per operation (utime+stime from /proc over a fixed
# redis-benchmark run) is the figure to compare on a shared machine; throughput moves with the load
# (printed per round).
# Usage: benchmarks/acl-compare.sh   Environment overrides: REQUESTS, CLIENTS, PIPELINES, ROUNDS,
# SERVER_DLL (another MiniRedis build; not rebuilt then).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
rounds=${ROUNDS:-2}
work=$(mktemp -d /tmp/acl-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

[ -n "${SERVER_DLL:-}" ] || build_server
start_pair_in "$work"
restricted=(--user bench -a bench-secret)
for port in "$redis_port" "$miniredis_port"; do
    redis-cli -p "$port" ACL SETUSER bench on '>bench-secret' '~key:*' +get +set '+config|get' > /dev/null
    # Untimed first: MiniRedis's JIT tiers up during its first runs, and both keyspaces reach their size.
    redis-benchmark -p "$port" -c "$clients" -n "$requests" -t set,get -P 16 -r 100000 -q > /dev/null
    redis-benchmark -p "$port" -c "$clients" -n "$requests" -t set,get -P 16 -r 100000 -q "${restricted[@]}" > /dev/null 2>&1
done

echo "| round | load average | user | test | pipeline | Redis ops/s | MiniRedis ops/s | Redis CPU µs/op | MiniRedis CPU µs/op | CPU ratio |"
echo "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    for user in default bench; do
        auth=()
        [ "$user" = default ] || auth=("${restricted[@]}")
        for test in set get; do
            for pipeline in $pipelines; do
                # The server that goes first alternates, so machine noise spreads over both.
                if [ $((round % 2)) = 1 ]; then
                    read -r redis_rps redis_cpu < <(measure redis "$pipeline" -t "$test" -r 100000 "${auth[@]}" 2>/dev/null)
                    read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" -t "$test" -r 100000 "${auth[@]}" 2>/dev/null)
                else
                    read -r mini_rps mini_cpu < <(measure miniredis "$pipeline" -t "$test" -r 100000 "${auth[@]}" 2>/dev/null)
                    read -r redis_rps redis_cpu < <(measure redis "$pipeline" -t "$test" -r 100000 "${auth[@]}" 2>/dev/null)
                fi
                awk -v round="$round" -v load="$load" -v u="$user" -v t="$test" -v p="$pipeline" -v r="$redis_rps" -v m="$mini_rps" -v rc="$redis_cpu" -v mc="$mini_cpu" \
                    'BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f |\n", round, load, u, t, p, r, m, rc, mc, (rc > 0 ? mc / rc : 0) }'
            done
        done
    done
done
# Both servers must have refused nothing: a denied command would make the restricted figures meaningless.
for port in "$redis_port" "$miniredis_port"; do
    denied=$(redis-cli -p "$port" ACL LOG | grep -c '^reason$' || true)
    [ "$denied" = 0 ] || { echo "port $port logged $denied ACL denials" >&2; exit 1; }
done
