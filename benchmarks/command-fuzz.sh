#!/usr/bin/env bash
# The differential command fuzzer's long run, outside CI: the same test as CI's short run
# (tests/MiniRedis.Tests/Differential/CommandFuzzerTests.cs), with more commands. It starts its own
# real Redis and MiniRedis (Release build) on free local ports and prints the report: crashes, hangs
# and every difference from Redis by command and kind, each with a reproduction.
# Usage: benchmarks/command-fuzz.sh        Environment: FUZZ_SEED (default 1), FUZZ_COMMANDS
# (default 1000000), FUZZ_HISTORY (commands shown before each difference, default 12),
# FUZZ_REPORT (where the report goes, default command-fuzz-report.txt in the current directory).
set -euo pipefail
report=$(realpath -m "${FUZZ_REPORT:-command-fuzz-report.txt}")
cd "$(dirname "$0")/.."

export FUZZ_SEED=${FUZZ_SEED:-1}
export FUZZ_COMMANDS=${FUZZ_COMMANDS:-1000000}
export FUZZ_REPORT=$report
rm -f "$report"
start=$(date +%s)
status=0
# The test host's hang guard would end a long run: none here, the fuzzer times every batch itself.
dotnet test tests/MiniRedis.Tests -c Release --nologo \
    --filter "FullyQualifiedName~CommandFuzzerTests" > "$report.log" 2>&1 || status=$?
echo "wall time: $(( $(date +%s) - start )) s, dotnet test exit status $status"
if [ -f "$report" ]; then cat "$report"; else tail -50 "$report.log"; fi
exit "$status"
