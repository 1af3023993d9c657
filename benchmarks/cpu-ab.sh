#!/usr/bin/env bash
# A/B of MiniRedis builds next to real Redis, all running at once: server CPU µs per operation (as
# cpu-compare.sh measures it), the median over ROUNDS, the order of the servers rotating per round, so
# every build meets the same machine load. The throughput of each (median ops/s) follows the CPU columns. NAME=DLL[@VAR=VALUE] runs DLL with that environment variable;
# a path not ending in .dll is a native binary (`dotnet publish`), run as it is.
# Usage: benchmarks/cpu-ab.sh base=/path/a/miniredis-server.dll new=/path/b/miniredis-server.dll
# Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, ROUNDS, KEYSPACE (-r, default 100000); GARNET=1 adds Garnet
# as one more column. COMMANDS: rows of redis-benchmark command lines instead of TESTS, separated by ';' (e.g.
# "pfadd hll __rand_int__;bitcount bitmap"); SETUP: a command run once per server before the rounds with the server's
# port appended (to load the data the COMMANDS read).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
requests=${REQUESTS:-100000}; clients=${CLIENTS:-50}; tests=${TESTS:-set,get}; pipelines=${PIPELINES:-1 16}; rounds=${ROUNDS:-3}
keyspace=${KEYSPACE:-100000}
work=$(mktemp -d /tmp/ab.XXXXXX); trap 'stop_servers; rm -rf "$work"' EXIT
names=(redis)
mkdir -p "$work/redis"; start_redis "$work/redis/log" --dir "$work/redis"
[ "${GARNET:-0}" != 1 ] || { start_garnet_in "$work"; [ -z "$garnet_port" ] || names+=(garnet); }
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; dll=${rest%%@*}; envs=""; [[ "$rest" == *@* ]] && envs=${rest#*@}
  mkdir -p "$work/$name"; port=$(free_port)
  launcher=(); [[ "$dll" == *.dll ]] && launcher=(dotnet)
  env $envs "${launcher[@]}" "$dll" --port "$port" --save "" --dir "$work/$name" > "$work/$name/log" &
  pids+=($!); printf -v "${name}_pid" %s $!; printf -v "${name}_port" %s "$port"; names+=("$name")
done
for n in "${names[@]}"; do p=${n}_port; wait_ready "${!p}"; done
# rows: the test names, or the COMMANDS; row_args <row>: its redis-benchmark arguments into args (split, not globbed: `XADD s * f v`).
rows=()
if [ -n "${COMMANDS:-}" ]; then IFS=';' read -r -a rows <<< "$COMMANDS"; else rows=(${tests//,/ }); fi
row_args() { if [ -n "${COMMANDS:-}" ]; then read -r -a args <<< "$1"; else args=(-t "$1"); fi; }
for n in "${names[@]}"; do p=${n}_port; [ -z "${SETUP:-}" ] || $SETUP "${!p}"; done
for n in "${names[@]}"; do p=${n}_port; for test in "${rows[@]}"; do row_args "$test"; redis-benchmark -p "${!p}" -c "$clients" -n "$requests" -P 16 -r "$keyspace" -q "${args[@]}" > /dev/null; done; done
declare -A res ops
for round in $(seq "$rounds"); do
  echo "round $round load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for test in "${rows[@]}"; do for pl in $pipelines; do
    k=${#names[@]}; order=()
    for i in $(seq 0 $((k-1))); do order+=("${names[$(( (i+round) % k ))]}"); done
    row_args "$test"
    for n in "${order[@]}"; do read -r rps cpu < <(measure "$n" "$pl" -r "$keyspace" "${args[@]}"); res[$n|$test|$pl]+="$cpu "; ops[$n|$test|$pl]+="$rps "; done
  done; done
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
printf "| test | pipeline |"; for n in "${names[@]}"; do printf " %s µs/op |" "$n"; done; for n in "${names[@]:1}"; do printf " %s / redis |" "$n"; done; for n in "${names[@]}"; do printf " %s ops/s |" "$n"; done; echo
printf "| --- | ---: |"; for _ in $(seq $(( ${#names[@]} * 3 - 1 ))); do printf " ---: |"; done; echo
for test in "${rows[@]}"; do for pl in $pipelines; do
  r=$(echo "${res[redis|$test|$pl]}" | med); printf "| %s | %s | %s |" "$test" "$pl" "$r"
  for n in "${names[@]:1}"; do printf " %s |" "$(echo "${res[$n|$test|$pl]}" | med)"; done
  for n in "${names[@]:1}"; do printf " %.2f |" "$(echo "$(echo "${res[$n|$test|$pl]}" | med) $r" | awk '{print $1/$2}')"; done
  for n in "${names[@]}"; do printf " %s |" "$(echo "${ops[$n|$test|$pl]}" | med)"; done; echo
done; done
