using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>What the executor may ask of a client's connection.</summary>
public interface IClientConnection
{
    string RemoteAddress { get; }
    string LocalAddress { get; }

    /// <summary>Connected through the <c>unixsocket</c> (CLIENT LIST flag U).</summary>
    bool IsUnixSocket { get; }

    /// <summary>
    /// Sends what the session's reply buffer holds (called on the executor after each round) and hands
    /// back <paramref name="completedBatches"/> batches for the connection to reuse.
    /// </summary>
    void SendReplies(int completedBatches);

    /// <summary>Reply bytes waiting for the socket to take them (CLIENT LIST omem).</summary>
    long PendingOutputBytes { get; }

    /// <summary>Reply segments waiting for the socket (CLIENT LIST oll).</summary>
    int PendingOutputSegments { get; }

    /// <summary>Query bytes read but not yet parsed into a command (CLIENT LIST qbuf, client_recent_max_input_buffer).</summary>
    long QueryBufferBytes { get; }

    /// <summary>The socket's file descriptor (CLIENT LIST fd).</summary>
    long Fd { get; }

    /// <summary>Closes the connection when its unsent output is over the client-output-buffer-limit (called by the cron).</summary>
    void CheckOutputLimit();

    /// <summary>Closes the connection (CLIENT KILL, timeouts, protocol errors after their reply).</summary>
    void Close();

    /// <summary>An idle client gives back the buffers its commands grew (called on the executor by the cron).</summary>
    void ReleaseIdleBuffers();

    /// <summary>Query bytes read but not yet run plus output not yet sent, for used_memory (any thread, approximate).</summary>
    long BufferedBytes { get; }

    /// <summary>repl-disable-tcp-nodelay on a replica's connection: Nagle's algorithm back on (a TCP socket's only).</summary>
    void DisableTcpNoDelay() { }
}

/// <summary>
/// A client's state as the executor sees it (Redis's client struct minus the socket): selected
/// database, protocol, transaction and watch state, name. Touched only on the executor thread.
/// </summary>
public sealed class ClientSession : IKeyWatcher
{
    static long s_nextId;

    public ClientSession(IClientConnection? connection, Database db, long nowMs)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Connection = connection;
        Db = db;
        CreatedMs = nowMs;
        LastInteractionMs = nowMs;
    }

    public long Id { get; }
    public IClientConnection? Connection { get; }

    /// <summary>
    /// Redis's islocalClient, for the "local" setting of the enable-* switches: the Unix socket, or a peer
    /// at exactly 127.0.0.1 or ::1. A session without a connection runs inside the server (AOF, tests).
    /// </summary>
    public bool IsLocal => Connection is not { } connection || connection.IsUnixSocket
        || connection.RemoteAddress.AsSpan(0, Math.Max(0, connection.RemoteAddress.LastIndexOf(':'))) is "127.0.0.1" or "::1";
    public ReplyBuffer Reply { get; } = new();

    /// <summary>A connected client in Redis: the client struct and its 16 KB static reply buffer.</summary>
    public const long FixedBytes = 16 * 1024 + 2 * 1024;

    /// <summary>Redis's per-client memory (getClientMemoryUsage): fixed part plus what its buffers hold now.</summary>
    public long MemoryBytes => FixedBytes + Reply.Length + (Connection?.BufferedBytes ?? 0);

    public Database Db { get; set; }
    public string? Name { get; set; }
    public string? LibName { get; set; }
    public string? LibVersion { get; set; }
    public bool Authenticated { get; set; }

    /// <summary>The ACL user the client runs as (null for internal clients, which may run anything).</summary>
    public Security.AclUser? User { get; set; }

    /// <summary>The client replaying the AOF at start: its commands are not counted in INFO stats (Redis's isAOFLoadingContext).</summary>
    public bool IsAofLoader { get; init; }

    /// <summary>The client a script's commands run as (Redis's CLIENT_SCRIPT): MONITOR shows it as <c>lua</c>.</summary>
    public bool IsScriptClient { get; init; }

    /// <summary>What the client announced with REPLCONF before SYNC/PSYNC; null when it announced nothing.</summary>
    public ReplicaHello? ReplicaHello { get; set; }

    /// <summary>Set once the client is a replica of this server (Redis's CLIENT_SLAVE); its link is the replication state's.</summary>
    public bool IsReplica { get; internal set; }

    /// <summary>Set by MONITOR (Redis's CLIENT_MONITOR): fed every command, refused keyspace commands.</summary>
    public bool Monitor { get; internal set; }

    /// <summary>CLIENT REPLY OFF / SKIP (the skip applies to the command after the one that asked for it).</summary>
    public bool ReplyOff { get; set; }
    public bool ReplySkip { get; set; }
    public bool ReplySkipNext { get; set; }

    /// <summary>Set while CLIENT PAUSE holds this client's next command (Redis's BLOCKED_POSTPONE).</summary>
    public bool Postponed { get; internal set; }
    public bool NoEvict { get; set; }
    public bool NoTouch { get; set; }
    public int Protocol => Reply.Resp3 ? 3 : 2;
    public long CreatedMs { get; }
    public long LastInteractionMs { get; set; }
    public string LastCommand { get; set; } = "NULL";
    public bool CloseAfterReply { get; set; }
    public bool Closed { get; set; }

    /// <summary>True while this session's replies are queued for sending this round.</summary>
    internal bool HasPendingReplies;

    /// <summary>Rounds its messages were held back while the executor had more work (Executor.FinishRound).</summary>
    internal int HeldRounds;

    /// <summary>Batches fully executed this round, handed back to the connection with the replies.</summary>
    internal int CompletedBatches;

    /// <summary>Set while the client waits in a blocking command (BLPOP...).</summary>
    public BlockState? Blocked { get; internal set; }

    /// <summary>The batch a blocked client stopped in, and the index of its next command.</summary>
    internal CommandBatch? SuspendedBatch;
    internal int SuspendedIndex;

    /// <summary>Set while the client's next command (a script, MIGRATE) waits for the executor thread (Executor.RunsOnExecutorThread).</summary>
    internal bool AwaitsExecutorThread;

    /// <summary>Batches that arrived while the client was blocked, run in order once it is served.</summary>
    internal Queue<CommandBatch> DeferredBatches { get; } = new();

    /// <summary>True while EXEC runs the queued commands: blocking commands must not block then.</summary>
    public bool InExec { get; internal set; }

    // MULTI/EXEC state (Redis's mstate and CLIENT_DIRTY_CAS / CLIENT_DIRTY_EXEC).
    public bool InMulti { get; set; }
    public bool DirtyExec { get; set; }
    public bool DirtyCas { get; set; }
    public List<(CommandDef Command, ArgVector Args)> Queued { get; } = [];

    /// <summary>
    /// The flags of the commands queued so far, and those some queued command lacks (Redis's
    /// mstate.cmd_flags / cmd_inv_flags): EXEC is checked as a command of them. A script's are the
    /// ones it declares.
    /// </summary>
    public CommandFlags QueuedFlags { get; private set; }
    public CommandFlags QueuedMissingFlags { get; private set; }

    public void Queue(CommandDef command, CommandFlags flags, ArgVector args)
    {
        Queued.Add((command, args));
        QueuedFlags |= flags;
        QueuedMissingFlags |= ~flags;
    }
    public List<(Database Db, byte[] Key, bool ExpiredAtWatch)> Watched { get; } = [];

    /// <summary>Channels, patterns and shard channels the client listens to; null when none.</summary>
    public ClientSubscriptions? Subscriptions { get; internal set; }

    /// <summary>CLIENT TRACKING settings while tracking is on; null when off.</summary>
    public TrackingState? Tracking { get; internal set; }

    /// <summary>Redis's CLIENT_PUBSUB: subscribed to anything (in RESP2 only the (un)subscribe commands, PING, QUIT and RESET run then).</summary>
    public bool IsSubscribed => Subscriptions is not null;

    public void WatchedKeyTouched() => DirtyCas = true;

    public void UnwatchAll()
    {
        foreach (var (db, key, _) in Watched) db.Unwatch(key, this);
        Watched.Clear();
        DirtyCas = false;
    }

    public void DiscardTransaction()
    {
        Queued.Clear();
        QueuedFlags = QueuedMissingFlags = CommandFlags.None;
        InMulti = false;
        DirtyExec = false;
        UnwatchAll();
    }
}
