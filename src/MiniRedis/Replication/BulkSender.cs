using MiniRedis.Execution;

namespace MiniRedis.Replication;

/// <summary>
/// Sends full syncs' RDB: the dump file to each replica in <see cref="ReplicaState.SendBulk"/> (Redis's
/// sendBulkToSlave), and the diskless transfer's image to all of its replicas at once; on the
/// executor, a chunk at a time into a replica's output while its socket keeps up, so a large image
/// never sits in memory whole. A timer wakes it every few milliseconds while a transfer runs (the
/// sockets drain on their own threads meanwhile).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One sender lives as long as the server; its timer is stopped, not disposed, between transfers.")]
sealed class BulkSender
{
    const int ChunkBytes = 256 * 1024;
    // A replica's output is topped up to this much unsent data.
    const long MaxInFlight = 4L << 20;
    static readonly TimeSpan Period = TimeSpan.FromMilliseconds(2);

    readonly Executor _executor;
    readonly ReplicationState _replication;
    readonly byte[] _chunk = new byte[ChunkBytes];
    readonly Timer _timer;
    int _posted;
    bool _running;

    public BulkSender(Executor executor, ReplicationState replication)
    {
        _executor = executor;
        _replication = replication;
        _timer = new Timer(_ => Wake());
    }

    /// <summary>A replica entered SendBulk: the pump runs until no transfer is left.</summary>
    public void Start()
    {
        if (!_running)
        {
            _running = true;
            _timer.Change(TimeSpan.Zero, Period);
        }
    }

    void Wake()
    {
        if (Interlocked.Exchange(ref _posted, 1) == 0) _executor.Post(Pump);
    }

    void Pump()
    {
        Volatile.Write(ref _posted, 0);
        bool any = false;
        foreach (var link in _replication.SendingBulk.ToList())
        {
            any = true;
            var session = link.Session;
            var connection = session.Connection;
            if (connection is null || session.Closed) continue;
            while (link.Bulk is { } bulk && connection.PendingOutputBytes + session.Reply.Length < MaxInFlight)
            {
                int n = bulk.Read(_chunk);
                if (n == 0)
                {
                    _replication.BulkSent(link);
                    break;
                }
                session.Reply.Raw(_chunk.AsSpan(0, n));
            }
            if (session.Reply.Length > 0) _executor.MarkReplies(session);
        }
        if (_replication.Transfer is { } transfer)
        {
            any = true;
            if (transfer.Pump(MaxInFlight))
            {
                foreach (var link in transfer.Replicas) _executor.MarkReplies(link.Session);
            }
        }
        if (!any)
        {
            _running = false;
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
        }
    }
}
