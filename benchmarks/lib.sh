# Shell functions shared by the benchmark scripts that compare real Redis with MiniRedis.
# Source it from the repository root (the scripts cd there first); set `clients` and `requests` before
# calling bench_rows. Servers started here are stopped by stop_servers, which the scripts run on exit.

# The MiniRedis the scripts measure: the JIT build (`dotnet build`) by default; AOT=1 the native AOT
# binary (`dotnet publish` into artifacts/aot); SERVER_DLL or SERVER_BIN another JIT build's dll or
# another native binary (an A/B against an older commit; not rebuilt).
jit_dll=src/MiniRedis.Server/bin/Release/net10.0/miniredis-server.dll
aot_dir=artifacts/aot
if [ -n "${SERVER_BIN:-}" ]; then
    miniredis_command=("$SERVER_BIN")
elif [ -n "${SERVER_DLL:-}" ]; then
    miniredis_command=(dotnet "$SERVER_DLL")
elif [ "${AOT:-0}" = 1 ]; then
    miniredis_command=("$aot_dir/miniredis-server")
else
    miniredis_command=(dotnet "$jit_dll")
fi
pids=()

stop_servers() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

free_port() {
    local port
    while :; do
        # Below Linux's ephemeral range (32768-60999): a port there may be the local end of some
        # client's connection, and then the server's bind fails although nothing listens on it.
        port=$(( 20000 + RANDOM % 12000 ))
        [ "$port" != "${redis_port:-}" ] || continue
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

wait_ready() {
    for _ in $(seq 1200); do
        [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return
        sleep 0.1
    done
    echo "server on port $1 did not answer PING" >&2
    exit 1
}

# build_server: builds the MiniRedis the scripts measure (nothing for SERVER_DLL / SERVER_BIN).
build_server() {
    [ -z "${SERVER_DLL:-}${SERVER_BIN:-}" ] || return 0
    if [ "${AOT:-0}" = 1 ]; then publish_aot; else build_jit; fi
}

build_jit() { run_quietly dotnet build src/MiniRedis.Server -c Release -nologo; }

# publish_aot: the native binary into artifacts/aot (minutes when the sources changed).
publish_aot() { run_quietly dotnet publish src/MiniRedis.Server -c Release -nologo -o "$aot_dir"; }

# run_quietly <command...>: its output only when it fails, then the script stops.
run_quietly() {
    local log
    if ! log=$("$@" 2>&1); then echo "$log" >&2; exit 1; fi
}

# start_redis <log file> [directives...]: real Redis on a free port (redis_port), no RDB snapshots.
start_redis() {
    local log=$1
    shift
    redis_port=$(free_port)
    redis-server --port "$redis_port" --save "" --daemonize no --logfile "" "$@" > "$log" &
    redis_pid=$!
    pids+=($!)
}

# start_miniredis <log file> [directives...]: the Release build on another free port (miniredis_port),
# no RDB snapshots either (without `--save ""` its default save points wrote dump.rdb on SIGTERM, into
# the repository root for the in-memory pair, and the next run loaded it).
start_miniredis() {
    local log=$1
    shift
    miniredis_port=$(free_port)
    "${miniredis_command[@]}" --port "$miniredis_port" --save "" "$@" > "$log" &
    miniredis_pid=$!
    pids+=($!)
}

# Microsoft Garnet 2.2.12, the C# peer, as a third column of the comparisons that call start_garnet_in
# (compare.sh): GARNET=0 leaves it out; GARNET_BIN is where `dotnet tool install --tool-path DIR
# garnet-server --version 2.2.12` put it. Garnet keeps no AOF and takes no checkpoints unless told to.
garnet_bin=${GARNET_BIN:-/work/tools/garnet/garnet-server}

# start_garnet_in <dir>: Garnet on a free port (garnet_port), working in <dir>/garnet, answering; nothing
# (garnet_port stays empty) when GARNET=0 or it is not installed.
start_garnet_in() {
    local dir=$1
    garnet_port=
    [ "${GARNET:-1}" != 0 ] || return 0
    if [ ! -x "$garnet_bin" ]; then
        echo "no Garnet at $garnet_bin (dotnet tool install --tool-path DIR garnet-server --version 2.2.12; GARNET_BIN=DIR/garnet-server): left out" >&2
        return 0
    fi
    mkdir -p "$dir/garnet"
    garnet_port=$(free_port)
    (cd "$dir/garnet" && exec "$garnet_bin" --port "$garnet_port" --bind 127.0.0.1 --checkpointdir "$dir/garnet" > "$dir/garnet/log" 2>&1) &
    garnet_pid=$!
    pids+=($!)
    wait_ready "$garnet_port"
}

# start_pair_in <dir> [directives...]: real Redis in <dir>/redis and MiniRedis in <dir>/miniredis
# (each with its log there), with the same directives, both answering.
start_pair_in() {
    local dir=$1
    shift
    mkdir -p "$dir/redis" "$dir/miniredis"
    start_redis "$dir/redis/log" --dir "$dir/redis" "$@"
    start_miniredis "$dir/miniredis/log" --dir "$dir/miniredis" "$@"
    wait_ready "$redis_port"
    wait_ready "$miniredis_port"
}

# table_header <leading>: with Garnet's two columns when start_garnet_in started it.
table_header() {
    local leading=$1
    if [ -n "${garnet_port:-}" ]; then
        echo "| ${leading:+$leading | }test | pipeline | Redis ops/s | MiniRedis ops/s | Garnet ops/s | MiniRedis / Redis | Garnet / Redis |"
        echo "| ${leading:+--- | }--- | ---: | ---: | ---: | ---: | ---: | ---: |"
    else
        echo "| ${leading:+$leading | }test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis |"
        echo "| ${leading:+--- | }--- | ---: | ---: | ---: | ---: |"
    fi
}

# warm_up <tests>: an untimed pipelined pass of <tests> on every started server, so the first measured
# row does not time MiniRedis's JIT still compiling its hot path (SET -P 1 read 0.85 without it).
warm_up() {
    local server port_var
    for server in redis miniredis ${garnet_port:+garnet}; do
        port_var="${server}_port"
        redis-benchmark -p "${!port_var}" -c "$clients" -n 100000 -t "$1" -P 16 -r 100000 -q > /dev/null 2>&1 || true
    done
}

# bench_rows <leading cells> <tests> <pipelines> [redis-benchmark options...]: one markdown row per
# benchmark (`-t ping` gives two), each pair run on every server back to back (Redis, MiniRedis, and
# Garnet when started), the server that goes first rotating so machine noise and warm caches spread over all.
# A row at -P N sends N × REQUESTS requests, so it lasts about as long as its -P 1 row: 150,000 pipelined SETs
# take ~0.2 s, and one late wake-up of a server or of redis-benchmark then moved the ratio by ±0.3.
bench_rows() {
    local leading=$1 tests=$2 pipelines=$3
    shift 3
    local test pipeline server name value turn=0 i
    local -a servers=(redis miniredis) order names
    [ -z "${garnet_port:-}" ] || servers+=(garnet)
    local -A rps seen
    for test in ${tests//,/ }; do
        for pipeline in $pipelines; do
            rps=()
            seen=()
            names=()
            order=()
            for i in "${!servers[@]}"; do order+=("${servers[$(( (i + turn) % ${#servers[@]} ))]}"); done
            turn=$((turn + 1))
            for server in "${order[@]}"; do
                local port_var="${server}_port"
                # --csv prints a header then one "NAME","rps",... line per benchmark; nothing for a command the server lacks.
                while IFS=, read -r name value _; do
                    name=${name//\"/}
                    [ "$name" = test ] && continue
                    [ -n "${seen[$name]+set}" ] || { names+=("$name"); seen[$name]=1; }
                    rps[$name|$server]=${value//\"/}
                done < <(redis-benchmark -p "${!port_var}" -c "$clients" -n $(( requests * pipeline )) -t "$test" -P "$pipeline" --csv "$@" 2>/dev/null || true)
            done
            for name in "${names[@]}"; do
                awk -v lead="${leading:+$leading | }" -v name="$name" -v p="$pipeline" -v r="${rps[$name|redis]:-0}" -v m="${rps[$name|miniredis]:-0}" \
                    -v g="${garnet_port:+${rps[$name|garnet]:-0}}" \
                    'BEGIN {
                        if (g == "") printf "| %s%s | %s | %.0f | %.0f | %.2f |\n", lead, name, p, r, m, (r > 0 ? m / r : 0)
                        else printf "| %s%s | %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", lead, name, p, r, m, g, (r > 0 ? m / r : 0), (r > 0 ? g / r : 0)
                    }'
            done
        done
    done
}

# bench_command <label> <pipelines> <redis-benchmark arguments...>: one markdown row per pipeline for a
# command given on redis-benchmark's command line (not one of its -t tests), labelled <label>; the
# server that goes first alternates as in bench_rows.
bench_command() {
    local label=$1 pipelines=$2
    shift 2
    local pipeline server value first=redis
    local -A rps
    for pipeline in $pipelines; do
        rps=()
        for server in $first $([ "$first" = redis ] && echo miniredis || echo redis); do
            local port_var="${server}_port"
            value=$(redis-benchmark -p "${!port_var}" -c "$clients" -n "$requests" -P "$pipeline" --csv "$@" 2>/dev/null | awk -F, 'NR == 2 { gsub(/"/, "", $2); print $2 }')
            rps[$server]=${value:-0}
        done
        first=$([ "$first" = redis ] && echo miniredis || echo redis)
        awk -v name="$label" -v p="$pipeline" -v r="${rps[redis]}" -v m="${rps[miniredis]}" \
            'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f |\n", name, p, r, m, (r > 0 ? m / r : 0) }'
    done
}

# cpu_ticks <pid>: utime+stime of the process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# cpu_us <pid>: the process's CPU time in µs from its tick counts (dead threads included).
cpu_us() { echo $(( $(cpu_ticks "$1") * 1000000 / ticks_per_second )); }

# cpu_us_threads <pid>: the CPU time in µs of the process's live threads from schedstat (nanoseconds:
# the tick counts are too coarse for a short run of a cheap command; a thread that ended is not counted).
cpu_us_threads() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ sum += $1 } END { printf "%.0f\n", sum / 1000 }'; }

# measure <server> <pipeline> <redis-benchmark arguments...>: prints "ops/s cpu-µs-per-op" for one
# redis-benchmark run of `requests` requests from `clients` clients (the server's CPU time read by
# ${cpu_reader:-cpu_us}: far less noisy than throughput on a shared machine).
measure() {
    local server=$1 pipeline=$2
    shift 2
    local port_var="${server}_port" pid_var="${server}_pid" reader=${cpu_reader:-cpu_us}
    local before after rps
    before=$($reader "${!pid_var}")
    rps=$(redis-benchmark -p "${!port_var}" -c "$clients" -n "$requests" -P "$pipeline" --csv "$@" | awk -F'"' 'NR == 2 { print $4 }')
    after=$($reader "${!pid_var}")
    awk -v r="$rps" -v us="$((after - before))" -v n="$requests" 'BEGIN { printf "%.0f %.2f\n", r, us / n }'
}

# cpu_table_header / cpu_row <label> <pipeline> <redis-benchmark arguments...>: one markdown row with both
# servers' throughput and server CPU µs per operation (`measure` with cpu_us_threads) and their ratios, the load average
# first; the server that goes first alternates from row to row.
cpu_table_header() {
    echo "| load average | test | pipeline | Redis ops/s | MiniRedis ops/s | MiniRedis / Redis | Redis CPU µs/op | MiniRedis CPU µs/op | CPU ratio |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
}
cpu_first=redis
cpu_row() {
    local label=$1 pipeline=$2 load redis_rps redis_cpu mini_rps mini_cpu
    shift 2
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ "$cpu_first" = redis ]; then
        read -r redis_rps redis_cpu < <(cpu_reader=cpu_us_threads measure redis "$pipeline" "$@")
        read -r mini_rps mini_cpu < <(cpu_reader=cpu_us_threads measure miniredis "$pipeline" "$@")
        cpu_first=miniredis
    else
        read -r mini_rps mini_cpu < <(cpu_reader=cpu_us_threads measure miniredis "$pipeline" "$@")
        read -r redis_rps redis_cpu < <(cpu_reader=cpu_us_threads measure redis "$pipeline" "$@")
        cpu_first=redis
    fi
    awk -v load="$load" -v t="$label" -v p="$pipeline" -v r="$redis_rps" -v m="$mini_rps" -v rc="$redis_cpu" -v mc="$mini_cpu" \
        'BEGIN { printf "| %s | %s | %s | %s | %s | %.2f | %s | %s | %.2f |\n", load, t, p, r, m, (r > 0 ? m / r : 0), rc, mc, (rc > 0 ? mc / rc : 0) }'
}
