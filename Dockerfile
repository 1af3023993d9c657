# syntax=docker/dockerfile:1
# Build: docker build -t miniredis .
# Run:   docker run -p 6379:6379 -v miniredis-data:/data miniredis [--directive value ...]

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
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

FROM mcr.microsoft.com/dotnet/runtime:10.0
# The .NET images ship the non-root "app" user; it must own the data directory before the volume is declared.
RUN mkdir -p /data /etc/miniredis && chown app:app /data
COPY --from=build /app /app
COPY docker/redis.conf /etc/miniredis/redis.conf
USER app
WORKDIR /data
VOLUME /data
EXPOSE 6379
# Arguments given to "docker run" follow the config file, so they act as --directive overrides.
ENTRYPOINT ["dotnet", "/app/miniredis-server.dll", "/etc/miniredis/redis.conf"]
