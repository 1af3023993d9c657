# syntax=docker/dockerfile:1
# Build: docker build -t miniredis .
# Run:   docker run -p 6379:6379 -v miniredis-data:/data miniredis [--directive value ...]
#        (the forms of the official redis image work too: see docker/docker-entrypoint.sh)

# Base images pinned by digest (tag kept for readers and for update tools). The digests were taken
# from public Dockerfiles that pin the same tags; they could not be checked against the registry
# from where this file was written: if a pull fails, replace them with `docker buildx imagetools
# inspect <tag>`'s digest.
FROM mcr.microsoft.com/dotnet/sdk:10.0@sha256:2fa828c68761b1b8c23d7662dc134421b9d3b59fe1425fdbc80804e390cdb24d AS build
WORKDIR /src
# Project files first so the restore layer is reused while only sources change.
COPY Directory.Build.props ./
COPY src/MiniRedis/MiniRedis.csproj src/MiniRedis/
COPY src/MiniRedis.Server/MiniRedis.Server.csproj src/MiniRedis.Server/
COPY src/MiniRedis.CheckAof/MiniRedis.CheckAof.csproj src/MiniRedis.CheckAof/
COPY src/MiniRedis.CheckRdb/MiniRedis.CheckRdb.csproj src/MiniRedis.CheckRdb/
RUN dotnet restore src/MiniRedis.Server
COPY src/ src/
RUN dotnet publish src/MiniRedis.Server -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0@sha256:ff17a18b639a0327e52c7c296fa2e1abe6e03eb61d8121a8ef67cc6aa430a27e
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
