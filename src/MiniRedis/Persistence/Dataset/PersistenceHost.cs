using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Observability;
using MiniRedis.Io;
using MiniRedis.Scripting;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// What persistence reaches of the server, in place of the whole server object: the services the AOF
/// and RDB read and write, the disk, the dirty counter and the fatal exit. The server builds it once
/// and hands it to the <see cref="PersistenceCoordinator"/>; the services under it keep it as their
/// <c>_server</c>.
/// </summary>
public sealed class PersistenceHost(ServerConfig config, ILogger logger, Keyspace keyspace, ExecutionHost execution,
    CommandTable commands, PropagationQueue propagation, FunctionEngine functions, LatencyMonitor latency)
{
    public ServerConfig Config { get; } = config;
    public ILogger Logger { get; } = logger;
    public Keyspace Keyspace { get; } = keyspace;
    public Executor Executor { get; } = execution.Executor;

    /// <summary>The command table the AOF loader replays commands from.</summary>
    public CommandTable Commands { get; } = commands;

    /// <summary>Where the AOF writer is a sink of the command stream.</summary>
    public PropagationQueue Propagation { get; } = propagation;

    /// <summary>The function libraries an image saves and loads.</summary>
    public FunctionEngine Functions { get; } = functions;

    /// <summary>Where slow disk operations (aof-fsync-always, aof-write, ...) are recorded.</summary>
    public LatencyMonitor Latency { get; } = latency;

    /// <summary>Where the AOF and the dumps are written; a test gives its own to record or fail disk operations.</summary>
    public IDisk Disk { get; set; } = Io.Disk.Default;

    /// <summary>Ends the process at once (an AOF write failed under <c>appendfsync always</c>); replaceable for tests.</summary>
    public required Action<string> Fatal { get; set; }

    /// <summary>Changes to the dataset since start (Redis's server.dirty), which commands count.</summary>
    public long Dirty { get => execution.Dirty; set => execution.Dirty = value; }
}
