using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Networking;

namespace MiniRedis.Server;

/// <summary>
/// Runs the server inside the generic host: start-up lines, listener, graceful stop on
/// SIGTERM/SIGINT/SHUTDOWN, and telling the supervisor (or the daemonizing parent) when it serves.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The listener is disposed in StopAsync, the end of a hosted service's life.")]
sealed class RedisHostedService(ServerConfig config, Supervision supervision, ILogger<RedisHostedService> logger, IHostApplicationLifetime lifetime) : IHostedService
{
    RedisServer? _server;
    Listener? _listener;
    // The server serves once both the data is loaded and the listener is up, in whichever order they finish.
    int _stepsBeforeReady = 2;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("oO0OoO0OoO0Oo MiniRedis is starting oO0OoO0OoO0Oo");
        logger.LogInformation("MiniRedis version={Version} (Redis {Redis} compatible), bits=64, pid={Pid}, just started",
            typeof(RedisServer).Assembly.GetName().Version, ServerConfig.RedisVersion, Environment.ProcessId);
        _server = new RedisServer(config, logger);
        _server.ShutdownRequested += () => lifetime.StopApplication();
        _server.Start();
        // The load is marked begun (its slices run on the executor) before the first client is
        // accepted, so none sees PONG ahead of -LOADING; clients connecting during the load get -LOADING.
        supervision.Loading();
        _server.Persistence.LoadAtStart(AfterLoading);
        _listener = new Listener(_server.Host);
        _listener.Start();
        logger.LogInformation("Running mode=standalone, port={Port}.", _listener.Endpoints.Count > 0 ? _listener.Endpoints[0].Port : config.Port);
        logger.LogInformation("Server initialized");
        StepTowardsReady();
        return Task.CompletedTask;
    }

    void AfterLoading(bool started)
    {
        if (started)
        {
            StepTowardsReady();
            return;
        }
        // Like Redis, refuse to run on a dataset that could not be loaded.
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    void StepTowardsReady()
    {
        if (Interlocked.Decrement(ref _stepsBeforeReady) != 0) return;
        logger.LogInformation("Ready to accept connections tcp");
        if (config.UnixSocket is { } path) logger.LogInformation("The server is now ready to accept connections at {Path}", path);
        supervision.Ready();
        Daemon.SignalReady();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogWarning("Received shutdown request, preparing to shutdown.");
        supervision.Stopping();
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        _server?.Stop();
        logger.LogWarning("MiniRedis is now ready to exit, bye bye...");
    }
}
