#!/usr/bin/env bash
# SET/GET over TLS next to the same over the plain port, MiniRedis beside real Redis (Debian's build has
# TLS), both with a tls-port, certificates made here with openssl, tls-auth-clients no (the figure is the
# cost of the encrypted stream: redis-benchmark opens its connections once, so handshakes are not in it).
# Server CPU time per operation (utime+stime from /proc) is the figure to compare on a shared machine.
# Usage: benchmarks/tls-compare.sh   Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, ROUNDS, SERVER_DLL.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh

requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
tests=${TESTS:-set,get}
pipelines=${PIPELINES:-1 16}
rounds=${ROUNDS:-2}
work=$(mktemp -d /tmp/tls-bench.XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT

openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$work/ca.key" -out "$work/ca.crt" -days 2 -subj "/CN=bench CA" 2> /dev/null
openssl req -new -nodes -newkey rsa:2048 -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=localhost" 2> /dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -out "$work/server.crt" -days 2 2> /dev/null
tls=(--tls-cert-file "$work/server.crt" --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no)

[ -n "${SERVER_DLL:-}" ] || build_server
mkdir -p "$work/redis" "$work/miniredis"
redis_tls_port=$(free_port)
start_redis "$work/redis/log" --dir "$work/redis" --tls-port "$redis_tls_port" "${tls[@]}"
miniredis_tls_port=$(free_port)
start_miniredis "$work/miniredis/log" --dir "$work/miniredis" --tls-port "$miniredis_tls_port" "${tls[@]}"
wait_ready "$redis_port"
wait_ready "$miniredis_port"
redis_plain_port=$redis_port
miniredis_plain_port=$miniredis_port
tls_options=(--tls --cacert "$work/ca.crt")
# Untimed first: MiniRedis's JIT tiers up during its first runs (both paths), and both keyspaces reach their size.
for port in "$redis_port" "$miniredis_port"; do redis-benchmark -p "$port" -c "$clients" -n "$requests" -t "$tests" -P 16 -r 100000 -q > /dev/null; done
for port in "$redis_tls_port" "$miniredis_tls_port"; do redis-benchmark -p "$port" "${tls_options[@]}" -c "$clients" -n "$requests" -t "$tests" -P 16 -r 100000 -q > /dev/null; done

echo "| round | load average | port | test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis | Redis CPU µs/op | MiniRedis CPU µs/op | CPU ratio |"
echo "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    for transport in plain tls; do
        options=()
        [ "$transport" = tls ] && options=("${tls_options[@]}")
        # measure reads <server>_port: point it at this transport's port.
        redis_port_now=$([ "$transport" = tls ] && echo "$redis_tls_port" || echo "$redis_plain_port")
        miniredis_port_now=$([ "$transport" = tls ] && echo "$miniredis_tls_port" || echo "$miniredis_plain_port")
        for test in ${tests//,/ }; do
            for pipeline in $pipelines; do
                # The server that goes first alternates, so machine noise spreads over both.
                if [ $((round % 2)) = 1 ]; then
                    read -r redis_rps redis_cpu < <(redis_port=$redis_port_now measure redis "$pipeline" -t "$test" -r 100000 "${options[@]}")
                    read -r mini_rps mini_cpu < <(miniredis_port=$miniredis_port_now measure miniredis "$pipeline" -t "$test" -r 100000 "${options[@]}")
                else
                    read -r mini_rps mini_cpu < <(miniredis_port=$miniredis_port_now measure miniredis "$pipeline" -t "$test" -r 100000 "${options[@]}")
                    read -r redis_rps redis_cpu < <(redis_port=$redis_port_now measure redis "$pipeline" -t "$test" -r 100000 "${options[@]}")
                fi
                awk -v round="$round" -v load="$load" -v port="$transport" -v t="$test" -v p="$pipeline" -v r="$redis_rps" -v m="$mini_rps" -v rc="$redis_cpu" -v mc="$mini_cpu" \
                    'BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %.2f |\n", round, load, port, t, p, r, m, (r > 0 ? m / r : 0), rc, mc, (rc > 0 ? mc / rc : 0) }'
            done
        done
    done
done
