using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MiniRedis.Commands;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Memory;
using MiniRedis.Notifications;
using MiniRedis.Observability;
using MiniRedis.Persistence;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Io;
using MiniRedis.Persistence.Rdb;
using MiniRedis.PubSub;
using MiniRedis.Replication;
using MiniRedis.Scripting;
using MiniRedis.Security;

namespace MiniRedis;

/// <summary>
/// The composition root: builds the server's services (as Redis's redisServer struct holds them:
/// config, keyspace, command table, clients, stats, propagation), gives each folder the narrow host or
/// seams it takes (<see cref="ExecutionHost"/>, <see cref="PersistenceHost"/>, <see cref="CommandServices"/>, ...),
/// and keeps the clients and the cron. No folder names this type. Everything here except the
/// thread-safe counters is touched only on the executor thread.
/// </summary>
public sealed partial class RedisServer : IClientRegistry, IServerControl
{
    readonly Dictionary<long, ClientSession> _clients = [];
    long _lastSecondCronTicks = Stopwatch.GetTimestamp();
    // Idle time after which a client's command buffers are given back (Redis's 2 s).
    const long IdleBuffersMs = 2000;

    public RedisServer(ServerConfig config, ILogger? logger = null)
    {
        Config = config;
        Logger = logger ?? NullLogger.Instance;
        Diagnostics = new Diagnostics(config);
        Keyspace = new Keyspace(config.Databases);
        Commands = new CommandTable();
        CommandRegistry.RegisterAll(Commands);
        foreach (var (from, to) in config.CommandRenames) Commands.Rename(from, to);
        Acl = new AclStore(config, Logger, Keyspace, Commands.CreateAclCatalog());
        LoadUsersAtStart();
        Host = new ExecutionHost(config, Logger, Keyspace, Commands, Acl, Diagnostics, this) { Cron = Cron };
        PubSub = new PubSubHub(Executor);
        Tracking = new ClientTracking(Host);
        Keyspace.ModifiedKeys = Tracking;
        Events = new KeyspaceEvents(Keyspace) { Publisher = PubSub.Publish, Enabled = config.NotifyKeyspaceEvents };
        Host.Events = Events;
        config.Changed += name =>
        {
            if (name == "notify-keyspace-events") Events.Enabled = config.NotifyKeyspaceEvents;
        };
        Keyspace.KeyExpired = ExpiredKey;
        Keyspace.KeyAdded = (db, key) => Events.Notify(NotifyClass.New, "new"u8, key, db.Index);
        Keyspace.KeyReady = (db, key) => Blocked.SignalKeyAsReady(db, key);
        Keyspace.StreamKeyGone = Blocked.SignalStreamKeyGone;
        BusyScript = new BusyScript(Host);
        ScriptHost = new ScriptHost(Host, BusyScript);
        Scripts = new ScriptEngine(ScriptHost);
        Functions = new FunctionEngine(ScriptHost);
        Persistence = new PersistenceCoordinator(new PersistenceHost(config, Logger, Keyspace, Host, Commands, Propagation,
            Functions, Diagnostics.Latency) { Fatal = ExitOnFatalError });
        Replication = new ReplicationState(config, Logger, Executor, Persistence, Propagation, () => Keyspace.NowMs, SignalAcks);
        Memory = new ServerMemory(Host, Persistence.Aof, Scripts, Functions);
        Evictor = new Evictor(Host, Memory);
        Host.Tracking = Tracking;
        Host.Persistence = Persistence;
        Host.Replication = Replication;
        Host.BusyScript = BusyScript;
        Host.Evictor = Evictor;
        Host.ScriptFlags = new ScriptCommandFlags(Scripts, Functions);
        Host.HandlerServices = new CommandServices
        {
            Server = this, PubSub = PubSub, Tracking = Tracking, Replication = Replication, Persistence = Persistence,
            Scripts = Scripts, Functions = Functions, BusyScript = BusyScript, ScriptHost = ScriptHost,
            Memory = Memory, Evictor = Evictor, HeapReturn = HeapReturn,
        };
        WatchMemoryConfig();
        RunId = RandomId.NewHex();
    }

    /// <summary>What the executor, command contexts and connections reach of the server (a listener is built on it).</summary>
    public ExecutionHost Host { get; }

    /// <summary>
    /// A key the server expired is announced (<c>expired</c>) and logged as a DEL, on its own unless a
    /// command is running (Redis's deleteExpiredKeyAndPropagate).
    /// </summary>
    void ExpiredKey(Database db, byte[] key)
    {
        Events.Notify(NotifyClass.Expired, "expired"u8, key, db.Index);
        Propagation.Begin(db.Index).Arg("DEL"u8).Arg(key);
        if (!Executor.InCommand) Propagation.EndUnit();
    }

    public ServerConfig Config { get; }
    public ILogger Logger { get; }
    public Keyspace Keyspace { get; }
    public CommandTable Commands { get; }
    public Executor Executor => Host.Executor;
    public ServerStats Stats => Host.Stats;

    /// <summary>Latency histograms, slow log, latency monitor, sampled rates.</summary>
    public Diagnostics Diagnostics { get; }
    public PropagationQueue Propagation => Host.Propagation;
    public BlockedClients Blocked => Host.Blocked;

    /// <summary>Keyspace notifications: commands, expiry and eviction announce their changes here.</summary>
    public KeyspaceEvents Events { get; }
    public MonitorFeed Monitors => Host.Monitors;
    public ClientPause Pause => Host.Pause;
    public PubSubHub PubSub { get; }
    public ClientTracking Tracking { get; }
    public AofState Aof => Persistence.Aof;

    /// <summary>Where the AOF and the dumps are written; a test gives its own to record or fail disk operations.</summary>
    public IDisk Disk { get => Persistence.Host.Disk; init => Persistence.Host.Disk = value; }
    public AofRewriter AofRewrite => Persistence.AofRewrite;
    public RdbState Rdb => Persistence.Rdb;

    /// <summary>Load order, loading progress, background job scheduling, the disk write gate.</summary>
    public PersistenceCoordinator Persistence { get; }

    /// <summary>The Lua engine behind EVAL and SCRIPT, and the client its scripts' commands run as.</summary>
    public ScriptEngine Scripts { get; }
    internal ScriptHost ScriptHost { get; }

    /// <summary>The function libraries behind FUNCTION and FCALL, in a Lua state of their own.</summary>
    public FunctionEngine Functions { get; }

    /// <summary>The running script's time and kill state: BUSY, SCRIPT KILL, FUNCTION KILL.</summary>
    public BusyScript BusyScript { get; }
    public string RunId { get; }

    /// <summary>Replication: IDs and offset, the backlog, replicas attached, the link to a master.</summary>
    public ReplicationState Replication { get; }

    /// <summary>Redis's emptyData before a full sync's load: every database and the function libraries.</summary>
    void EmptyData()
    {
        for (int i = 0; i < Keyspace.Count; i++) Keyspace[i].Clear();
        Functions.Flush();
    }

    /// <summary>Replicas acknowledged: clients in WAIT (blocked on the replication's key in their database) check again.</summary>
    void SignalAcks(byte[] key)
    {
        for (int i = 0; i < Keyspace.Count; i++) Blocked.SignalKeyAsReady(Keyspace[i], key);
    }

    /// <summary>
    /// Stops the process at once without sending pending replies (an AOF write failed under
    /// <c>appendfsync always</c>); replaceable so in-process tests can observe it.
    /// </summary>
    public Action<string> Fatal { get => Persistence.Host.Fatal; set => Persistence.Host.Fatal = value; }

    /// <summary>Redis's exit(1): logs, then ends the process without running shutdown code that could reply.</summary>
    void ExitOnFatalError(string message)
    {
        Logger.LogCritical("{Message}", message);
        Platform.ExitProcess(1);
    }
    public DateTimeOffset StartTime { get; } = DateTimeOffset.UtcNow;

    /// <summary>The TCP port actually listened on (differs from the config with port 0); set by the listener.</summary>
    public int TcpPort { get => Host.TcpPort; set => Host.TcpPort = value; }

    /// <summary>Changes to the dataset since start (Redis's server.dirty).</summary>
    public long Dirty { get => Host.Dirty; set => Host.Dirty = value; }

    public IReadOnlyCollection<ClientSession> Clients => _clients.Values;

    /// <summary>Raised (on the executor) when SHUTDOWN asks the process to stop.</summary>
    public event Action? ShutdownRequested;

    /// <summary>
    /// CONFIG RESETSTAT: Redis's resetServerStats, resetCommandTableStats and resetErrorTableStats, over
    /// every part of the server that keeps such a counter.
    /// </summary>
    public void ResetStats()
    {
        Stats.Reset();
        Keyspace.ResetStats();
        Evictor.ResetStats();
        Aof.ResetStats();
        AofRewrite.ResetStats();
        Rdb.ResetStats();
        GcPauses.Reset();
        Diagnostics.ResetRates();
        Commands.ResetStats();
    }

    public void Start()
    {
        Persistence.RemoveLeftovers();
        Executor.Start();
        Replication.Start(new ReplicaHost(Persistence.StopJobsForFullSync, EmptyData, Persistence.LoadFullSync, (connection, db) => NewSession(connection, Keyspace[db]),
            Executor.Submit, Connect, Disconnect, () => Keyspace.Complete, () => TcpPort != 0 ? TcpPort : Config.Port));
    }

    /// <summary>
    /// Stops the executor, abandons background saves and rewrites, flushes and fsyncs the AOF, and
    /// saves the RDB when save points are configured (SHUTDOWN, SIGTERM), in Redis's order.
    /// </summary>
    public void Stop()
    {
        Executor.Stop();
        Persistence.Shutdown();
        Scripts.Dispose();
        Functions.Dispose();
    }

    public void RequestShutdown()
    {
        if (BusyScript.TimedOut) ExitDuringBusyScript();
        else ShutdownRequested?.Invoke();
    }

    /// <summary>
    /// SHUTDOWN NOSAVE while a script is busy: the executor is inside the script and cannot return to
    /// the host's orderly stop, so, as Redis does, the process ends from there. The AOF keeps what
    /// completed commands wrote; the script's own effects (still an open unit) are dropped.
    /// </summary>
    void ExitDuringBusyScript()
    {
        Aof.Shutdown();
        Logger.LogWarning("MiniRedis is now ready to exit, bye bye...");
        Platform.ExitProcess(0);
    }

    public bool RequiresAuth(ClientSession session) => Host.RequiresAuth(session);

    public bool DefaultUserNeedsNoPassword => Host.DefaultUserNeedsNoPassword;

    /// <summary>ACL users, the ACL log and the permission checks.</summary>
    public AclStore Acl { get; }

    /// <summary>
    /// Redis's ACLLoadUsersAtStartup: the config file's users, or the aclfile's (both at once is
    /// refused). An error stops the start.
    /// </summary>
    void LoadUsersAtStart()
    {
        Config.Changed += name =>
        {
            if (name == "requirepass") Acl.ApplyRequirePass();
        };
        Config.UserLines = Acl.ListLines;
        if (Config.AclFile.Length > 0 && Config.UserDeclarations.Count > 0)
            throw new InvalidOperationException("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.");
        if (Acl.LoadConfiguredUsers(Config.UserDeclarations) is { } error)
            throw new InvalidOperationException(error + "\nCritical error while loading ACLs. Exiting.");
        if (Config.AclFile.Length > 0 && Acl.LoadFile(Config.AclFile, out _) is { } fileError)
            throw new InvalidOperationException("Aborting Redis startup because of ACL errors: " + fileError);
    }

    /// <summary>
    /// A new connection's session, made on the connection's thread so that it does not wait for the
    /// executor; <see cref="Connect"/>, posted before its first commands, registers it.
    /// </summary>
    public ClientSession NewSession(IClientConnection connection) => NewSession(connection, Keyspace[0]);

    ClientSession NewSession(IClientConnection connection, Database db) =>
        new(connection, db, Keyspace.NowMs) { Authenticated = DefaultUserNeedsNoPassword, User = Acl.Default };

    public ClientSession? FindClient(long id) => _clients.GetValueOrDefault(id);

    /// <summary>Registers a new connection's session (on the executor).</summary>
    public void Connect(ClientSession session)
    {
        _clients[session.Id] = session;
        Memory.ClientConnected();
    }

    public void Disconnect(ClientSession session)
    {
        session.Closed = true;
        if (session.Blocked is not null) Blocked.Unblock(session);
        Pause.Forget(session);
        Monitors.Remove(session);
        session.DiscardTransaction();
        PubSub.UnsubscribeAll(session);
        Tracking.Disable(session);
        Replication.Disconnected(session);
        if (_clients.Remove(session.Id)) Memory.ClientDisconnected();
    }

    /// <summary>Periodic work, <c>hz</c> times a second (Redis's serverCron).</summary>
    internal void Cron()
    {
        ActiveExpireCycle();
        if (Config.ActiveRehashing) Keyspace.RehashIncrementally();
        CloseTimedOutClients();
        Diagnostics.SampleRates(Stats.TotalCommandsProcessed, Interlocked.Read(ref Stats.NetInputBytes), Interlocked.Read(ref Stats.NetOutputBytes));
        MemoryCron();
        long now = Stopwatch.GetTimestamp();
        bool secondElapsed = now - _lastSecondCronTicks >= Stopwatch.Frequency;
        Persistence.Cron(secondElapsed, Stats.TotalCommandsProcessed);
        if (secondElapsed)
        {
            _lastSecondCronTicks = now;
            ReleaseIdleClientBuffers();
            foreach (var client in _clients.Values) client.Connection?.CheckOutputLimit();
            Stats.TrackBufferPeaks(Keyspace.NowMs / 1000, _clients.Values);
            LogStatusPeriodically();
            Replication.Cron();
        }
        // While failing over, Redis runs its replication cron every 100 ms so the failover goes on quickly.
        else if (Replication.Failover.State != FailoverState.None) Replication.Failover.Update();
    }

    /// <summary>DEBUG SET-ACTIVE-EXPIRE: whether the cron expires keys in the background (Redis's active_expire_enabled).</summary>
    public bool ActiveExpireEnabled { get; set; } = true;

    /// <summary>Redis's activeExpireCycle accounting: its time (expire_cycle_cpu_milliseconds) and the expire-cycle latency event.</summary>
    void ActiveExpireCycle()
    {
        // A replica's keys go with its master's DELs (Redis runs the cycle only when iAmMaster).
        if (!ActiveExpireEnabled || Replication.IsReplica) return;
        long start = Stopwatch.GetTimestamp();
        Keyspace.ActiveExpireCycle(TimeSpan.FromMilliseconds(250.0 / Math.Max(1, Config.Hz)));
        long microseconds = (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        Stats.ExpireCycleMicroseconds += microseconds;
        Diagnostics.Latency.AddSampleIfNeeded(LatencyEvents.ExpireCycle, microseconds / 1000);
    }

    /// <summary>As Redis's clientsCronResizeQueryBuffer: a client idle for 2 s gives back its command buffers.</summary>
    void ReleaseIdleClientBuffers()
    {
        long limit = Keyspace.NowMs - IdleBuffersMs;
        foreach (var client in _clients.Values)
        {
            if (client.LastInteractionMs < limit) client.Connection?.ReleaseIdleBuffers();
        }
    }

    void CloseTimedOutClients()
    {
        if (Config.Timeout <= 0) return;
        long limit = Keyspace.NowMs - Config.Timeout * 1000L;
        foreach (var client in _clients.Values)
        {
            // Like Redis's clientsCronHandleTimeout, clients that wait by design are not idle: blocked on
            // keys or held by a pause (CLIENT_BLOCKED), subscribers (CLIENT_PUBSUB), monitors and replicas (CLIENT_SLAVE).
            if (client.LastInteractionMs < limit && client.Connection is not null && client.Blocked is null
                && !client.Postponed && !client.IsSubscribed && !client.Monitor && !client.IsReplica)
            {
                Logger.LogDebug("Closing idle client");
                client.Connection.Close();
            }
        }
    }
}
