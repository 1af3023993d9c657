#!/usr/bin/env bash
# The project's one test command (README and .ci/run both use it): installs the real Redis the
# differential tests compare against when it is missing, builds the whole solution in Release and
# runs every test, writing one TRX file per test project into TestResults/.
# Extra arguments go to `dotnet test` (e.g. `--filter Category=Unit`).
set -euo pipefail
cd "$(dirname "$0")"

# The differential tests start their own redis-server next to MiniRedis, and use redis-cli/redis-benchmark.
tests/install-redis.sh

rm -rf TestResults
# A hung test is reported by name and the run ends instead of eating the CI time budget.
exec dotnet test MiniRedis.sln -c Release \
    --logger trx --results-directory TestResults \
    --blame-hang-timeout 5m --blame-hang-dump-type none \
    "$@"
