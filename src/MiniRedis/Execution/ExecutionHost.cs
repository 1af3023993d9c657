using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Notifications;
using MiniRedis.Observability;
using MiniRedis.Security;

namespace MiniRedis.Execution;

/// <summary>
/// What the executor, each command's context and the connections reach of the server, in place of the
/// whole server object: the services of the executor's layer and below, the registry of connected
/// clients, and the seams to the layers above that the executor asks around each command (client
/// tracking, the write gates, the busy script, eviction). The root (RedisServer) builds it, with the
/// executor, and sets the seams once the services behind them exist.
/// </summary>
public sealed class ExecutionHost
{
    public ExecutionHost(ServerConfig config, ILogger logger, Keyspace keyspace, CommandTable commands, AclStore acl,
        Diagnostics diagnostics, IClientRegistry clients)
    {
        Config = config;
        Logger = logger;
        Keyspace = keyspace;
        Commands = commands;
        Acl = acl;
        Diagnostics = diagnostics;
        _clients = clients;
        Pause = new ClientPause(keyspace);
        Executor = new Executor(this);
        Monitors = new MonitorFeed(keyspace, Executor.MarkReplies);
    }

    readonly IClientRegistry _clients;

    public ServerConfig Config { get; }
    public ILogger Logger { get; }
    public Keyspace Keyspace { get; }
    public CommandTable Commands { get; }
    public Executor Executor { get; }
    public ServerStats Stats { get; } = new();

    /// <summary>Latency histograms, slow log, latency monitor, sampled rates.</summary>
    public Diagnostics Diagnostics { get; }
    public PropagationQueue Propagation { get; } = new();
    public BlockedClients Blocked { get; } = new();
    public MonitorFeed Monitors { get; }
    public ClientPause Pause { get; }

    /// <summary>ACL users, the ACL log and the permission checks.</summary>
    public AclStore Acl { get; }

    /// <summary>Keyspace notifications: commands, expiry and eviction announce their changes here (publishing through pub/sub, set once it exists).</summary>
    public KeyspaceEvents Events { get; set; } = null!;

    /// <summary>Changes to the dataset since start (Redis's server.dirty).</summary>
    public long Dirty { get; set; }

    /// <summary>The TCP port actually listened on (differs from the config with port 0); set by the listener.</summary>
    public int TcpPort { get; set; }

    /// <summary>Periodic work, <c>hz</c> times a second (Redis's serverCron), which the executor runs between rounds.</summary>
    public Action Cron { get; set; } = () => { };

    /// <summary>Client-side caching around each command (PubSub's ClientTracking).</summary>
    public IClientTracking Tracking { get; set; } = null!;

    /// <summary>MISCONF: a failed background save or AOF write refuses writes (the persistence coordinator).</summary>
    public IDiskWriteGate Persistence { get; set; } = null!;

    /// <summary>READONLY, NOREPLICAS, MASTERDOWN (the replication state).</summary>
    public IReplicationGate Replication { get; set; } = null!;

    /// <summary>A script past busy-reply-threshold: other clients get BUSY (Scripting's BusyScript).</summary>
    public IBusyScript BusyScript { get; set; } = null!;

    /// <summary>maxmemory: eviction before a command, OOM when it cannot free enough (Memory's Evictor).</summary>
    public IMemoryGate Evictor { get; set; } = null!;

    /// <summary>The flags a script or function declares, for the checks before it runs or is queued (Scripting's ScriptCommandFlags).</summary>
    public IScriptCommandFlags ScriptFlags { get; set; } = null!;

    /// <summary>
    /// What the layers above the executor give command handlers (pub/sub, replication, persistence,
    /// scripting, memory, the server's own controls): carried here without being used, read by the
    /// Commands folder, which defines its type.
    /// </summary>
    public object HandlerServices { get; set; } = null!;

    public IReadOnlyCollection<ClientSession> Clients => _clients.Clients;
    public ClientSession? FindClient(long id) => _clients.FindClient(id);

    /// <summary>A new connection's session, made on the connection's thread; <see cref="Connect"/>, posted before its first commands, registers it.</summary>
    public ClientSession NewSession(IClientConnection connection) => _clients.NewSession(connection);

    /// <summary>Registers a new connection's session (on the executor).</summary>
    public void Connect(ClientSession session) => _clients.Connect(session);

    public void Disconnect(ClientSession session) => _clients.Disconnect(session);

    public bool RequiresAuth(ClientSession session) => !session.Authenticated && !DefaultUserNeedsNoPassword;

    /// <summary>Redis's clientSetDefaultAuth: a client connecting (or RESETting) while the default user needs no password starts authenticated, and stays so when one is set later.</summary>
    public bool DefaultUserNeedsNoPassword => !Acl.DefaultNeedsAuth;
}
