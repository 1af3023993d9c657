using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Notifications;
using MiniRedis.Observability;
using MiniRedis.Protocol;
using MiniRedis.Security;

namespace MiniRedis.Execution;

/// <summary>
/// What a command handler sees: its arguments, the client, the server's services, and helpers for replies,
/// errors and propagation. One instance, reused by the executor for every command.
/// </summary>
public sealed class CommandContext
{
    public const string SyntaxError = "ERR syntax error";
    public const string WrongTypeError = "WRONGTYPE Operation against a key holding the wrong kind of value";
    public const string NotIntegerError = "ERR value is not an integer or out of range";
    public const string NotFloatError = "ERR value is not a valid float";
    public const string OverflowError = "ERR increment or decrement would overflow";
    /// <summary>Redis's shared.masterdownerr, without its dash: a stale replica refusing a command.</summary>
    public const string MasterDownError = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    /// <summary>Redis's shared.oomerr: maxmemory reached and eviction could not free enough (or the policy is noeviction).</summary>
    public const string OomError = "OOM command not allowed when used memory > 'maxmemory'.";

    readonly ExecutionHost _host;

    internal CommandContext(ExecutionHost host) => _host = host;

    public Keyspace Keyspace => _host.Keyspace;
    public ClientSession Client { get; internal set; } = null!;
    public CommandDef Command { get; internal set; } = null!;
    public ArgVector Args { get; internal set; }

    public ReplyBuffer Reply => Client.Reply;
    public Database Db => Client.Db;
    public int ArgCount => Args.Count;
    public ReadOnlySpan<byte> Arg(int index) => Args[index];
    public long NowMs => Keyspace.NowMs;

    // The services of the executor's layer and below that handlers use; those of the layers above
    // (pub/sub, replication, persistence, scripting, memory) are the Commands folder's, over HandlerServices.
    public ServerConfig Config => _host.Config;
    public ILogger Logger => _host.Logger;
    public CommandTable Commands => _host.Commands;
    public Executor Executor => _host.Executor;
    public ServerStats Stats => _host.Stats;
    public Diagnostics Diagnostics => _host.Diagnostics;
    public PropagationQueue Propagation => _host.Propagation;
    public BlockedClients Blocked => _host.Blocked;
    public MonitorFeed Monitors => _host.Monitors;
    public ClientPause Pause => _host.Pause;
    public AclStore Acl => _host.Acl;
    public KeyspaceEvents Events => _host.Events;

    /// <summary>Changes to the dataset since start (Redis's server.dirty).</summary>
    public long Dirty { get => _host.Dirty; set => _host.Dirty = value; }

    public int TcpPort => _host.TcpPort;
    public IReadOnlyCollection<ClientSession> Clients => _host.Clients;
    public ClientSession? FindClient(long id) => _host.FindClient(id);
    public void Disconnect(ClientSession session) => _host.Disconnect(session);
    public bool RequiresAuth(ClientSession session) => _host.RequiresAuth(session);
    public bool DefaultUserNeedsNoPassword => _host.DefaultUserNeedsNoPassword;

    /// <summary>What the layers above the executor give handlers; the Commands folder defines its type.</summary>
    public object HandlerServices => _host.HandlerServices;

    /// <summary>Set when this command replied with an error (INFO commandstats failed_calls).</summary>
    public bool Failed { get; internal set; }

    /// <summary>Set when the command logged its effect itself instead of its arguments.</summary>
    internal bool PropagationReplaced;

    /// <summary>True when a blocked command is re-run because one of its keys was signalled.</summary>
    public bool IsRetry { get; internal set; }

    /// <summary>During a retry, the signalled key being served: Redis serves a client from that key, not its first non-empty one.</summary>
    public byte[]? ReadyKey { get; internal set; }

    /// <summary>Arguments MONITOR shows as "(redacted)" (bit i: argument i), as Redis's redactClientCommandArgument.</summary>
    ulong _redactedArgs;

    /// <summary>AUTH and HELLO keep passwords out of what MONITOR shows.</summary>
    public void RedactArg(int index)
    {
        if (index < 64) _redactedArgs |= 1UL << index;
    }

    internal ulong TakeRedactedArgs()
    {
        ulong redacted = _redactedArgs;
        _redactedArgs = 0;
        return redacted;
    }

    /// <summary>
    /// EVAL and EVALSHA are shown to monitors before they run, so the script's commands follow them
    /// (Redis's evalCommand feeds them itself; they are skip_monitor for call()).
    /// </summary>
    public void FeedMonitors() => Monitors.Feed(Client, Db.Index, Args, 0);

    /// <summary>Set by <see cref="BlockForKeys"/>: the command did not complete and the client waits.</summary>
    internal bool BlockedNow;

    /// <summary>
    /// Redis's blockForKeys: suspends the client until a key is signalled (the handler is then re-run with
    /// <see cref="IsRetry"/>) or the deadline passes (then <paramref name="timeoutReply"/> is sent). Inside
    /// MULTI/EXEC nothing blocks: the timeout reply is sent at once. <paramref name="retryArgs"/> replaces the
    /// arguments the retry runs with (XREAD fixes what "$" meant when it blocked).
    /// </summary>
    public void BlockForKeys(IReadOnlyList<byte[]> keys, long deadlineMs, BlockedReply timeoutReply, ArgVector? retryArgs = null)
    {
        if (Client.InExec || Client.Connection is null)
        {
            WriteTimeoutReply(Reply, timeoutReply);
            return;
        }
        BlockedNow = true;
        if (IsRetry) return;
        var blockedKeys = new List<(Database, byte[])>(keys.Count);
        foreach (var key in keys) blockedKeys.Add((Db, key));
        Blocked.Block(Client, new BlockState(Command, retryArgs ?? Args.Clone(), blockedKeys, deadlineMs, timeoutReply));
    }

    /// <summary>
    /// WAIT: suspends the client on <paramref name="key"/>, which the replication signals when replicas
    /// acknowledge (the handler is re-run with <paramref name="retryArgs"/>), until the deadline, when
    /// the reply is <paramref name="count"/>'s value.
    /// </summary>
    public void BlockForAcks(byte[] key, long deadlineMs, Func<long> count, ArgVector retryArgs)
    {
        BlockedNow = true;
        if (IsRetry) return;
        Blocked.Block(Client, new BlockState(Command, retryArgs, [(Db, key)], deadlineMs, BlockedReply.NullBulk) { TimeoutCount = count });
    }

    internal static void WriteTimeoutReply(ReplyBuffer reply, BlockState state)
    {
        if (state.TimeoutCount is { } count) reply.Integer(count());
        else WriteTimeoutReply(reply, state.TimeoutReply);
    }

    internal static void WriteTimeoutReply(ReplyBuffer reply, BlockedReply timeoutReply)
    {
        if (timeoutReply == BlockedReply.NullArray) reply.NullArray();
        else reply.NullBulk();
    }

    /// <summary>
    /// Wakes clients blocked on an existing <paramref name="key"/> that got new elements once this command is
    /// done; keys created or replaced are signalled by the keyspace itself (<see cref="Keyspace.KeyReady"/>).
    /// </summary>
    public void SignalKeyAsReady(Database db, ReadOnlySpan<byte> key) => Blocked.SignalKeyAsReady(db, key);

    /// <summary>
    /// Parses a blocking command's timeout in seconds (a float, 0 = forever) into an absolute deadline in
    /// ms (0 for forever), with Redis's errors.
    /// </summary>
    public bool TryGetTimeout(int index, out long deadlineMs)
    {
        deadlineMs = 0;
        if (!LongDouble.TryParse(Args[index], out _))
        {
            Error("ERR timeout is not a float or out of range");
            return false;
        }
        // Valid as a long double but beyond a double (1e400): as huge as infinity for what follows.
        if (!RedisNumbers.TryParseDouble(Args[index], out double seconds)) seconds = double.PositiveInfinity;
        double ms = Math.Ceiling(seconds * 1000.0);
        // Redis casts to long long; on x86 an out-of-range value becomes LLONG_MIN, reported as negative.
        long timeout = ms is >= 9.2233720368547758e18 or < -9.2233720368547758e18 or double.NaN ? long.MinValue : (long)ms;
        if (timeout < 0)
        {
            Error("ERR timeout is negative");
            return false;
        }
        if (timeout > 0)
        {
            if (timeout > long.MaxValue - NowMs)
            {
                Error("ERR timeout is out of range");
                return false;
            }
            deadlineMs = timeout + NowMs;
        }
        return true;
    }

    public bool ArgIs(int index, ReadOnlySpan<byte> upperCaseWord) => Ascii.EqualsIgnoreCase(Args[index], upperCaseWord);

    public string ArgString(int index) => Encoding.Latin1.GetString(Args[index]);

    /// <summary>The argument as Redis's C code sees it where it takes the bytes as a C string: up to the first NUL.</summary>
    public string ArgCString(int index) => ArgVector.CString(Args[index]);

    public void Error(string message)
    {
        Failed = true;
        Stats.CountError(message);
        Reply.Error(message);
    }

    public void WrongType() => Error(WrongTypeError);

    /// <summary>Parses an integer argument; replies Redis's error and returns false when it is not one.</summary>
    public bool TryGetLong(int index, out long value, string error = NotIntegerError)
    {
        if (RedisNumbers.TryParseInt64(Args[index], out value)) return true;
        Error(error);
        return false;
    }

    /// <summary>Redis's getPositiveLongFromObjectOrReply with a message: the same <paramref name="error"/> for a non-integer and a negative one.</summary>
    public bool TryGetNonNegativeLong(int index, out long value, string error)
    {
        if (RedisNumbers.TryParseInt64(Args[index], out value) && value >= 0) return true;
        Error(error);
        return false;
    }

    /// <summary>
    /// Records that <paramref name="key"/> of <paramref name="db"/> changed: watchers are told and the
    /// change counts as dirty, which makes the command propagate (Redis's signalModifiedKey + server.dirty++).
    /// </summary>
    public void KeyModified(Database db, ReadOnlySpan<byte> key, long changes = 1)
    {
        db.Touch(key);
        Dirty += changes;
    }

    public void KeyModified(ReadOnlySpan<byte> key) => KeyModified(Db, key);

    /// <summary>
    /// Logs an effect different from what the client sent (SET ... PXAT for SET EX); the command's
    /// own arguments are then not logged. Call once per record.
    /// </summary>
    public RecordBuilder Propagate(Database db)
    {
        PropagationReplaced = true;
        return Propagation.Begin(db.Index);
    }

    public RecordBuilder Propagate() => Propagate(Db);

    /// <summary>Announces a keyspace event of this command on a key of the client's database (Redis's notifyKeyspaceEvent).</summary>
    public void Notify(NotifyClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key) => Events.Notify(type, eventName, key, Db.Index);

    public void Notify(NotifyClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, Database db) => Events.Notify(type, eventName, key, db.Index);

    /// <summary>Looks a key up for reading, counting keyspace hits and misses (a miss announces <c>keymiss</c>).</summary>
    public KeyEntry? LookupRead(ReadOnlySpan<byte> key)
    {
        var entry = Db.Lookup(key);
        if (entry is null)
        {
            Notify(NotifyClass.KeyMiss, "keymiss"u8, key);
            Stats.KeyspaceMisses++;
        }
        else
        {
            Stats.KeyspaceHits++;
            if (!Client.NoTouch) Keyspace.Touch(entry);
        }
        return entry;
    }

    /// <summary>Looks a key up for writing (no hit/miss accounting).</summary>
    public KeyEntry? LookupWrite(ReadOnlySpan<byte> key)
    {
        var entry = Db.Lookup(key);
        if (entry is not null) Keyspace.Touch(entry);
        return entry;
    }
}
