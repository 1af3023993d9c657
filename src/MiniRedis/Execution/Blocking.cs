using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>What a blocked command replies when its timeout passes.</summary>
public enum BlockedReply { NullArray, NullBulk }

/// <summary>Why and until when a client is blocked (Redis's bpop state).</summary>
public sealed class BlockState
{
    internal BlockState(CommandDef command, ArgVector args, List<(Database Db, byte[] Key)> keys, long deadlineMs, BlockedReply timeoutReply)
    {
        Command = command;
        Args = args;
        Keys = keys;
        DeadlineMs = deadlineMs;
        TimeoutReply = timeoutReply;
    }

    public CommandDef Command { get; }
    public ArgVector Args { get; }
    public List<(Database Db, byte[] Key)> Keys { get; }

    /// <summary>Absolute unix ms, or 0 to wait forever.</summary>
    public long DeadlineMs { get; }
    public BlockedReply TimeoutReply { get; }

    /// <summary>WAIT: at the deadline the reply is this count (the replicas that acknowledged), not a null.</summary>
    public Func<long>? TimeoutCount { get; init; }
}

/// <summary>
/// Clients blocked on keys (BLPOP, BZPOPMIN...), as Redis's blocked.c: per key, the clients in the order
/// they blocked; keys signalled ready during a command are served once it finishes, by re-running the
/// blocked commands in that order; deadlines are kept in a heap and checked every executor loop.
/// </summary>
public sealed class BlockedClients
{
    readonly Dictionary<(Database Db, byte[] Key), List<ClientSession>> _byKey = new(KeyComparer.Instance);
    readonly List<(Database Db, byte[] Key)> _readyKeys = [];
    readonly HashSet<(Database Db, byte[] Key)> _readySet = new(KeyComparer.Instance);
    readonly PriorityQueue<(ClientSession Session, BlockState State), long> _deadlines = new();

    public int Count { get; private set; }

    public bool HasReadyKeys => _readyKeys.Count > 0;

    internal void Block(ClientSession session, BlockState state)
    {
        foreach (var key in state.Keys)
        {
            if (!_byKey.TryGetValue(key, out var clients)) _byKey[key] = clients = [];
            clients.Add(session);
        }
        if (state.DeadlineMs != 0) _deadlines.Enqueue((session, state), state.DeadlineMs);
        session.Blocked = state;
        Count++;
    }

    internal void Unblock(ClientSession session)
    {
        var state = session.Blocked!;
        foreach (var key in state.Keys)
        {
            var clients = _byKey[key];
            clients.Remove(session);
            if (clients.Count == 0) _byKey.Remove(key);
        }
        session.Blocked = null;
        Count--;
    }

    /// <summary>Notes that a key some client may wait on got elements (Redis's signalKeyAsReady).</summary>
    public void SignalKeyAsReady(Database db, ReadOnlySpan<byte> key)
    {
        if (_byKey.Count == 0) return;
        var probe = (db, key.ToArray());
        if (_byKey.ContainsKey(probe) && _readySet.Add(probe)) _readyKeys.Add(probe);
    }

    /// <summary>
    /// Signals every key of <paramref name="db"/> clients wait on that now holds a value they can take
    /// (Redis's scanDatabaseForReadyKeys, after SWAPDB gave the db other contents).
    /// </summary>
    public void SignalExistingKeys(Database db)
    {
        if (_byKey.Count == 0) return;
        foreach (var (keyDb, key) in _byKey.Keys.ToArray())
        {
            if (keyDb == db && db.Lookup(key) is { } entry && Keyspace.IsBlockable(entry.Type) && _readySet.Add((db, key))) _readyKeys.Add((db, key));
        }
    }

    /// <summary>A stream key went (<paramref name="key"/>), or all of <paramref name="db"/>'s keys (null): its blocked clients are re-run.</summary>
    public void SignalStreamKeyGone(Database db, byte[]? key)
    {
        if (_byKey.Count == 0) return;
        if (key is not null)
        {
            SignalKeyAsReady(db, key);
            return;
        }
        foreach (var blocked in _byKey.Keys.Where(k => k.Db == db).ToList()) SignalKeyAsReady(db, blocked.Key);
    }

    /// <summary>Takes the keys signalled so far, in signal order.</summary>
    internal List<(Database Db, byte[] Key)> TakeReadyKeys()
    {
        var keys = new List<(Database, byte[])>(_readyKeys);
        _readyKeys.Clear();
        _readySet.Clear();
        return keys;
    }

    /// <summary>The clients blocked on a key, oldest first (a copy: serving them changes the list).</summary>
    internal ClientSession[] ClientsOn((Database Db, byte[] Key) key)
        => _byKey.TryGetValue(key, out var clients) ? [.. clients] : [];

    /// <summary>The next client whose deadline has passed, if any.</summary>
    internal ClientSession? NextTimedOut(long nowMs)
    {
        while (_deadlines.TryPeek(out var item, out long deadline))
        {
            // Entries of clients served or disconnected since are stale.
            if (item.Session.Blocked != item.State)
            {
                _deadlines.Dequeue();
                continue;
            }
            if (deadline > nowMs) return null;
            _deadlines.Dequeue();
            return item.Session;
        }
        return null;
    }

    /// <summary>Milliseconds until the earliest deadline, or -1.</summary>
    internal long MillisecondsToNextDeadline(long nowMs)
        => _deadlines.TryPeek(out _, out long deadline) ? Math.Max(0, deadline - nowMs) : -1;

    sealed class KeyComparer : IEqualityComparer<(Database Db, byte[] Key)>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals((Database Db, byte[] Key) x, (Database Db, byte[] Key) y) => x.Db == y.Db && x.Key.AsSpan().SequenceEqual(y.Key);

        public int GetHashCode((Database Db, byte[] Key) obj) => HashCode.Combine(obj.Db.Index, Dict.HashKey(obj.Key));
    }
}
