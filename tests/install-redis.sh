#!/usr/bin/env bash
# Installs the real Redis the differential tests compare against (Redis 7.0.15, the Debian package)
# (and its redis-sentinel, which the failover tests start) when redis-server, redis-cli, redis-benchmark or
# redis-sentinel is missing. Used by ./test.sh and .ci/run.
set -euo pipefail

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null \
    || ! command -v redis-sentinel >/dev/null; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "install-redis.sh: redis-server/redis-tools/redis-sentinel are missing and cannot be installed here (needs root and apt-get);" \
             "install Redis 7.0.15 yourself: the differential tests need it." >&2
    else
        echo "install-redis.sh: installing redis-server, redis-tools and redis-sentinel (Redis 7.0.15) with apt-get, which the differential tests need..."
        export DEBIAN_FRONTEND=noninteractive
        # policy-rc.d exit 101 stops the package's postinst from starting the system service.
        created_policy=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
        fi
        install_rc=0
        { apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools redis-sentinel < /dev/null; } || install_rc=$?
        [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
        if [ "$install_rc" -ne 0 ]; then
            echo "install-redis.sh: installing redis-server/redis-tools/redis-sentinel failed (exit $install_rc)" >&2
            exit "$install_rc"
        fi
        echo "install-redis.sh: installed $(redis-server --version | cut -d' ' -f1-3)"
    fi
fi
