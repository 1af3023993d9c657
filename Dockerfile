# syntax=docker/dockerfile:1
# Build: docker build -t miniredis .
# Run:   docker run -p 6379:6379 -v miniredis-data:/data miniredis [--directive value ...]
#        (the forms of the official redis image work too: see docker/docker-entrypoint.sh)

# The build stage is pinned by digest (tag kept for readers and for update tools); the digest was taken
# from public Dockerfiles that pin the same tag and could not be checked against the registry from
# where this file was written: if a pull fails, replace it with `docker buildx imagetools inspect
# <tag>`'s digest. The final stage's tag is not pinned: pin it the same way.
# .NET 10's images are Ubuntu 24.04 (it has no Debian images); the final stage is the same distro as
# the build stage, so the native binary runs on the C library it was linked against.
FROM mcr.microsoft.com/dotnet/sdk:10.0@sha256:2fa828c68761b1b8c23d7662dc134421b9d3b59fe1425fdbc80804e390cdb24d AS build
# The native AOT link step needs clang and zlib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Project files first so the restore layer is reused while only sources change.
COPY Directory.Build.props ./
COPY src/MiniRedis/MiniRedis.csproj src/MiniRedis/
COPY src/MiniRedis.Server/MiniRedis.Server.csproj src/MiniRedis.Server/
COPY src/MiniRedis.CheckAof/MiniRedis.CheckAof.csproj src/MiniRedis.CheckAof/
COPY src/MiniRedis.CheckRdb/MiniRedis.CheckRdb.csproj src/MiniRedis.CheckRdb/
RUN dotnet restore src/MiniRedis.Server -r linux-x64
COPY src/ src/
# Native AOT binaries (the server and the checkers, see MiniRedis.Server.csproj) and the Lua library.
RUN dotnet publish src/MiniRedis.Server -c Release -r linux-x64 -o /app
# Their debug symbols stay out of the image.
RUN rm -f /app/*.dbg /app/*.pdb

# runtime-deps: the C libraries a native .NET binary needs, without the .NET runtime.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
# redis-cli for users and for the health check; setpriv (util-linux) drops root in the entrypoint.
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-tools util-linux \
    && rm -rf /var/lib/apt/lists/*
# The .NET images ship the non-root "app" user: the server runs as it (the entrypoint hands /data to it).
RUN mkdir -p /data /etc/miniredis && chown app:app /data
COPY --from=build /app /app
COPY docker/redis.conf /etc/miniredis/redis.conf
COPY docker/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Where the entrypoint finds the server, its baked config and its user.
ENV MINIREDIS_APP=/app
ENV MINIREDIS_CONFIG=/etc/miniredis/redis.conf
ENV MINIREDIS_USER=app
WORKDIR /data
VOLUME /data
EXPOSE 6379
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD redis-cli -p 6379 ping | grep -qE '^(PONG|NOAUTH)'
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
