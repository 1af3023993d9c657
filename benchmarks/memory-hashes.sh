#!/usr/bin/env bash
# Memory for N small hashes (5 short fields each) in real Redis vs MiniRedis, loaded the same way
# (redis-cli --pipe). Reports RSS of each process and Redis's INFO used_memory (and MiniRedis's when
# it has INFO). Usage: benchmarks/memory-hashes.sh [count, default 1000000]
set -euo pipefail
count=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
redis_port=7480
mini_port=7481
trap 'redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true; kill "${mini_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++)
  printf "HSET user:%d name user%d age %d city paris email u%d@example.com score %d\r\n", i, i, 20 + i % 60, i, i % 1000 }' > "$work/load.txt"

dotnet build "$root/src/MiniRedis.Server" -c Release -v q -nologo >/dev/null
redis-server --port $redis_port --save "" --appendonly no --daemonize yes --dir "$work" >/dev/null
dotnet "$root/src/MiniRedis.Server/bin/Release/net10.0/miniredis-server.dll" --port $mini_port --save "" --dir "$work" >"$work/mini.log" 2>&1 &
mini_pid=$!
for _ in $(seq 50); do redis-cli -p $mini_port ping >/dev/null 2>&1 && break; sleep 0.2; done

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
info_field() { redis-cli -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }

for port in $redis_port $mini_port; do
  redis-cli -p $port --pipe < "$work/load.txt" | tail -1
  redis-cli -p $port dbsize
  redis-cli -p $port object encoding user:1
done
sleep 2
redis_pid=$(redis-cli -p $redis_port info server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
redis_rss=$(rss_kb "$redis_pid")
mini_rss=$(rss_kb "$mini_pid")
redis_used=$(info_field $redis_port used_memory)
mini_used=$(info_field $mini_port used_memory)
echo "hashes: $count"
echo "redis     used_memory: $((redis_used / 1024)) KiB  rss: $redis_rss KiB"
echo "miniredis used_memory: $([ -n "$mini_used" ] && echo "$((mini_used / 1024)) KiB" || echo n/a)  rss: $mini_rss KiB"
awk -v m="$mini_rss" -v r="$redis_rss" -v u="$redis_used" -v mu="${mini_used:-0}" 'BEGIN {
  printf "rss ratio (mini/redis): %.2f   used_memory ratio (mini/redis): %.2f   mini rss / redis used_memory: %.2f\n", m / r, mu / u, m * 1024 / u }'
