#!/usr/bin/env bash
# A/B of MiniRedis builds next to real Redis, all running at once: server CPU µs per operation (as
# cpu-compare.sh measures it), the median over ROUNDS, the order of the servers rotating per round, so
# every build meets the same machine load. The throughput of each (median ops/s) follows the CPU columns. NAME=DLL[@VAR=VALUE] runs DLL with that environment variable.
# Usage: benchmarks/cpu-ab.sh base=/path/a/miniredis-server.dll new=/path/b/miniredis-server.dll
# Environment overrides: REQUESTS, CLIENTS, TESTS, PIPELINES, ROUNDS; GARNET=1 adds Garnet as one more column.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
requests=${REQUESTS:-100000}; clients=${CLIENTS:-50}; tests=${TESTS:-set,get}; pipelines=${PIPELINES:-1 16}; rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/ab.XXXXXX); trap 'stop_servers; rm -rf "$work"' EXIT
names=(redis)
mkdir -p "$work/redis"; start_redis "$work/redis/log" --dir "$work/redis"
[ "${GARNET:-0}" != 1 ] || { start_garnet_in "$work"; [ -z "$garnet_port" ] || names+=(garnet); }
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; dll=${rest%%@*}; envs=""; [[ "$rest" == *@* ]] && envs=${rest#*@}
  mkdir -p "$work/$name"; port=$(free_port)
  env $envs dotnet "$dll" --port "$port" --save "" --dir "$work/$name" > "$work/$name/log" &
  pids+=($!); printf -v "${name}_pid" %s $!; printf -v "${name}_port" %s "$port"; names+=("$name")
done
for n in "${names[@]}"; do p=${n}_port; wait_ready "${!p}"; done
for n in "${names[@]}"; do p=${n}_port; redis-benchmark -p "${!p}" -c "$clients" -n "$requests" -t "$tests" -P 16 -r 100000 -q > /dev/null; done
declare -A res ops
for round in $(seq "$rounds"); do
  echo "round $round load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for test in ${tests//,/ }; do for pl in $pipelines; do
    k=${#names[@]}; order=()
    for i in $(seq 0 $((k-1))); do order+=("${names[$(( (i+round) % k ))]}"); done
    for n in "${order[@]}"; do read -r rps cpu < <(measure "$n" "$pl" -t "$test" -r 100000); res[$n|$test|$pl]+="$cpu "; ops[$n|$test|$pl]+="$rps "; done
  done; done
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
printf "| test | pipeline |"; for n in "${names[@]}"; do printf " %s µs/op |" "$n"; done; for n in "${names[@]:1}"; do printf " %s / redis |" "$n"; done; for n in "${names[@]}"; do printf " %s ops/s |" "$n"; done; echo
printf "| --- | ---: |"; for _ in $(seq $(( ${#names[@]} * 3 - 1 ))); do printf " ---: |"; done; echo
for test in ${tests//,/ }; do for pl in $pipelines; do
  r=$(echo "${res[redis|$test|$pl]}" | med); printf "| %s | %s | %s |" "$test" "$pl" "$r"
  for n in "${names[@]:1}"; do printf " %s |" "$(echo "${res[$n|$test|$pl]}" | med)"; done
  for n in "${names[@]:1}"; do printf " %.2f |" "$(echo "$(echo "${res[$n|$test|$pl]}" | med) $r" | awk '{print $1/$2}')"; done
  for n in "${names[@]}"; do printf " %s |" "$(echo "${ops[$n|$test|$pl]}" | med)"; done; echo
done; done
