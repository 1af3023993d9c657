using MiniRedis.Execution;
using MiniRedis.Memory;
using MiniRedis.Persistence;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Rdb;
using MiniRedis.PubSub;
using MiniRedis.Replication;
using MiniRedis.Scripting;

namespace MiniRedis.Commands;

/// <summary>
/// The services of the layers above the executor that command handlers use: pub/sub and client
/// tracking, replication, persistence, scripting, memory, and the server's own controls. The root
/// composes it once; the executor carries it to handlers (<see cref="CommandContext.HandlerServices"/>)
/// without naming it, and handlers reach its parts as <c>ctx.PubSub</c>, <c>ctx.Rdb</c>, ...
/// </summary>
public sealed class CommandServices
{
    public required IServerControl Server { get; init; }
    public required PubSubHub PubSub { get; init; }
    public required ClientTracking Tracking { get; init; }
    public required ReplicationState Replication { get; init; }
    public required PersistenceCoordinator Persistence { get; init; }
    public required ScriptEngine Scripts { get; init; }
    public required FunctionEngine Functions { get; init; }
    public required BusyScript BusyScript { get; init; }
    public required ScriptHost ScriptHost { get; init; }
    public required ServerMemory Memory { get; init; }
    public required Evictor Evictor { get; init; }
    public required HeapReturn HeapReturn { get; init; }
}

/// <summary>The server's own facts and controls that commands reach (INFO server, SHUTDOWN, CONFIG RESETSTAT, DEBUG).</summary>
public interface IServerControl
{
    string RunId { get; }
    DateTimeOffset StartTime { get; }

    /// <summary>DEBUG SET-ACTIVE-EXPIRE: whether the cron expires keys in the background.</summary>
    bool ActiveExpireEnabled { get; set; }

    /// <summary>SHUTDOWN: asks the process to stop (at once when a script is busy).</summary>
    void RequestShutdown();

    /// <summary>CONFIG RESETSTAT: every counter the server keeps.</summary>
    void ResetStats();
}

/// <summary>The <see cref="CommandServices"/> parts as members of a handler's context.</summary>
public static class CommandContextServices
{
    extension(CommandContext ctx)
    {
        public IServerControl Server => Of(ctx).Server;
        public PubSubHub PubSub => Of(ctx).PubSub;
        public ClientTracking Tracking => Of(ctx).Tracking;
        public ReplicationState Replication => Of(ctx).Replication;
        public PersistenceCoordinator Persistence => Of(ctx).Persistence;
        public AofState Aof => Of(ctx).Persistence.Aof;
        public AofRewriter AofRewrite => Of(ctx).Persistence.AofRewrite;
        public RdbState Rdb => Of(ctx).Persistence.Rdb;
        public ScriptEngine Scripts => Of(ctx).Scripts;
        public FunctionEngine Functions => Of(ctx).Functions;
        public BusyScript BusyScript => Of(ctx).BusyScript;
        public ScriptHost ScriptHost => Of(ctx).ScriptHost;
        public ServerMemory Memory => Of(ctx).Memory;
        public Evictor Evictor => Of(ctx).Evictor;
        public HeapReturn HeapReturn => Of(ctx).HeapReturn;
    }

    static CommandServices Of(CommandContext ctx) => (CommandServices)ctx.HandlerServices;
}
