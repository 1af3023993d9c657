using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Persistence;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Protocol;

namespace MiniRedis.Replication;

/// <summary>
/// The master side of replication (Redis's replication.c, master half): the replication IDs and
/// offset, the backlog, the replicas attached with SYNC/PSYNC and their full syncs, the periodic
/// PING, timeouts and the write quorum. It is a consumer of the propagation stream (an
/// <see cref="IPropagationSink"/>, registered while the backlog exists, as Redis feeds replicas only
/// then): each record is encoded once, appended to the backlog and written to the online replicas'
/// output; replicas waiting for their RDB buffer it. A full sync is a background save the
/// persistence coordinator runs (never beside another background job): with
/// <c>repl-diskless-sync</c> and replicas that read EOF-marked payloads, its image is streamed to
/// their sockets (<see cref="DisklessTransfer"/>, shared by the replicas that came during
/// <c>repl-diskless-sync-delay</c>); otherwise the dump it leaves is sent as
/// <c>$&lt;len&gt;\r\n&lt;bytes&gt;</c>. <see cref="BulkSender"/> moves both. A replica serves its own
/// replicas the same way, and relays its master's stream to them byte for byte. Executor thread only.
/// </summary>
public sealed class ReplicationState : IPropagationSink, IReplicationGate
{
    readonly ServerConfig _config;
    readonly ILogger _logger;
    readonly Executor _executor;
    readonly PersistenceCoordinator _persistence;
    readonly PropagationQueue _propagation;
    readonly Func<long> _nowMs;
    readonly Action<byte[]> _acksArrived;
    readonly AofEncoder _encoder = new();
    readonly List<ReplicaLink> _replicas = [];
    // Each replica client's link (its session only knows it is one).
    readonly Dictionary<ClientSession, ReplicaLink> _linkOf = [];
    readonly BulkSender _bulk;
    int _selectedDb = -1;
    bool _saveForSync;
    DisklessTransfer? _transfer;
    bool _producing;
    long _noReplicasSinceMs;
    long _lastPingMs;

    internal ReplicationState(ServerConfig config, ILogger logger, Executor executor, PersistenceCoordinator persistence,
        PropagationQueue propagation, Func<long> nowMs, Action<byte[]> acksArrived)
    {
        _config = config;
        _logger = logger;
        _executor = executor;
        _persistence = persistence;
        _propagation = propagation;
        _nowMs = nowMs;
        _acksArrived = acksArrived;
        _bulk = new BulkSender(executor, this);
        Failover = new Failover(this, logger, nowMs);
        persistence.Rdb.SaveDone = BackgroundSaveDone;
        persistence.Rdb.ReplicationInfo = SaveInfo;
        persistence.Rdb.ReplicationInfoLoaded = RestoreFromRdb;
        persistence.Rdb.ExpiredAtLoad = FeedExpiredAtLoad;
        _noReplicasSinceMs = nowMs();
    }

    // ---- identity and offsets ----------------------------------------------------------------

    /// <summary>master_replid: random at start, renewed when the history starts over.</summary>
    public string ReplicationId { get; private set; } = NewId();

    /// <summary>master_replid2 and second_repl_offset: the previous history's ID, valid up to that offset.</summary>
    public string ReplicationId2 { get; private set; } = new('0', 40);
    public long SecondOffset { get; private set; } = -1;

    /// <summary>master_repl_offset: bytes of replication stream produced.</summary>
    public long MasterOffset { get; private set; }

    public ReplicationBacklog? Backlog { get; private set; }

    /// <summary>INFO stats sync_full, sync_partial_ok, sync_partial_err: SYNC/PSYNC served fully, continued, refused a continuation.</summary>
    public long SyncFull { get; private set; }
    public long SyncPartialOk { get; private set; }
    public long SyncPartialErr { get; private set; }

    public IReadOnlyList<ReplicaLink> Replicas => _replicas;

    /// <summary>FAILOVER's state: writes held, this master turning into a replica of one of its replicas.</summary>
    public Failover Failover { get; }

    static string NewId() => Io.RandomId.NewHex();

    /// <summary>DEBUG CHANGE-REPL-ID and a new history: a new ID, the old one forgotten (changeReplicationId + clearReplicationId2).</summary>
    public void ChangeReplicationId()
    {
        ReplicationId = NewId();
        ReplicationId2 = new string('0', 40);
        SecondOffset = -1;
    }

    // ---- the stream ------------------------------------------------------------------------

    public void Append(int db, ArgVector args)
    {
        _encoder.Record(db, ref _selectedDb, args);
        Feed();
    }

    /// <summary>A command the master itself sends to its replicas (PING, REPLCONF GETACK), in the current database.</summary>
    void FeedCommand(params string[] args)
    {
        if (Backlog is null) return;
        Append(-1, ArgVector.FromStrings(args));
        Flush();
    }

    void Feed()
    {
        var bytes = _encoder.Written;
        FeedStream(bytes);
        _encoder.Consume(bytes.Length);
    }

    /// <summary>
    /// Stream bytes, ours or (on a replica) the master's as they were applied: counted in the
    /// offset, kept in the backlog, written to the replicas online, held for those waiting.
    /// </summary>
    void FeedStream(ReadOnlySpan<byte> bytes)
    {
        MasterOffset += bytes.Length;
        Backlog?.Append(bytes);
        foreach (var replica in _replicas)
        {
            if (replica.State == ReplicaState.WaitBgsaveStart) continue;
            if (replica.State == ReplicaState.Online && !replica.StreamOnAck)
            {
                replica.Session.Reply.Raw(bytes);
                continue;
            }
            replica.Buffered.Add(bytes.ToArray());
            replica.BufferedBytes += bytes.Length;
            // The stream held for it counts in its output buffer: the replica limit bounds it.
            long hard = _config.ReplicaOutputBufferLimit.Hard;
            if (hard > 0 && replica.BufferedBytes >= hard)
            {
                _logger.LogWarning("Client {Name} scheduled to be closed ASAP for overcoming of output buffer limits.", replica.Name);
                replica.Session.Connection?.Close();
            }
        }
    }

    public void Flush()
    {
        foreach (var replica in _replicas)
        {
            if (replica.State == ReplicaState.Online && replica.Session.Reply.Length > 0) _executor.MarkReplies(replica.Session);
        }
    }

    // ---- SYNC and PSYNC ----------------------------------------------------------------------

    /// <summary>
    /// SYNC / PSYNC from <paramref name="session"/> (Redis's syncCommand). <paramref name="replid"/> and
    /// <paramref name="offset"/> are PSYNC's (null for SYNC). Replies are written to the session.
    /// </summary>
    public void Sync(ClientSession session, string? replid, long offset)
    {
        // A replica asking again is ignored, as Redis does.
        if (session.IsReplica) return;
        if (Failover.State != FailoverState.None)
        {
            session.Reply.Error("NOMASTERLINK Can't SYNC while failing over");
            return;
        }
        if (_link is { Connected: false })
        {
            session.Reply.Error("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
        var hello = session.ReplicaHello ?? new ReplicaHello();
        var link = new ReplicaLink(session, hello, prePsync: replid is null, _nowMs());
        _logger.LogInformation("Replica {Name} asks for synchronization", link.Name);
        if (replid is not null && TryPartialResync(link, replid, offset))
        {
            SyncPartialOk++;
            return;
        }
        if (replid is not null && replid != "?") SyncPartialErr++;
        SyncFull++;
        Attach(link);
        if (_config.ReplDisableTcpNoDelay) session.Connection?.DisableTcpNoDelay();
        if (Backlog is null)
        {
            ChangeReplicationId();
            CreateBacklog();
            _logger.LogInformation("Replication backlog created, my new replication IDs are '{Id}' and '{Id2}'", ReplicationId, ReplicationId2);
        }
        StartFullSync(link);
    }

    /// <summary>A backlog from the offset now; a master's own writes feed it (a replica's master feeds it through <see cref="StreamProcessed"/>).</summary>
    void CreateBacklog()
    {
        Backlog = new ReplicationBacklog(_config.ReplBacklogSize, MasterOffset);
        if (!IsReplica) ProduceStream();
    }

    /// <summary>Our writes become the stream (a master with a backlog); it restarts with a SELECT.</summary>
    void ProduceStream()
    {
        _selectedDb = -1;
        if (_producing) return;
        _producing = true;
        _propagation.AddSink(this);
    }

    /// <summary>Our writes no longer feed the stream (a replica's is its master's).</summary>
    void StopProducing()
    {
        if (!_producing) return;
        _producing = false;
        _propagation.RemoveSink(this);
    }

    /// <summary>The backlog goes with its stream consumer; the IDs are the caller's business.</summary>
    void DropBacklog()
    {
        Backlog = null;
        StopProducing();
    }

    /// <summary>Redis's disconnectSlaves: our replicas sync again (they learn of a new history that way).</summary>
    void DisconnectReplicas()
    {
        foreach (var replica in _replicas.ToList()) replica.Session.Connection?.Close();
    }

    /// <summary>The offset a snapshot taken now is at: on a replica, the master's commands already run count in it.</summary>
    long OffsetNow()
    {
        _link?.CountRunBatches();
        return MasterOffset;
    }

    /// <summary>Redis's masterTryPartialResynchronization: +CONTINUE and the backlog from the replica's offset, or false for a full sync.</summary>
    bool TryPartialResync(ReplicaLink link, string replid, long offset)
    {
        bool sameHistory = replid == ReplicationId || (replid == ReplicationId2 && offset <= SecondOffset);
        if (!sameHistory)
        {
            if (replid == "?") _logger.LogInformation("Full resync requested by replica {Name}", link.Name);
            else if (replid != ReplicationId2)
                _logger.LogInformation("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{Asked}', my replication IDs are '{Id}' and '{Id2}')",
                    replid, ReplicationId, ReplicationId2);
            else
                _logger.LogInformation("Partial resynchronization not accepted: Requested offset for second ID was {Offset}, but I can reply up to {Second}", offset, SecondOffset);
            return false;
        }
        if (Backlog is null || !Backlog.Holds(offset))
        {
            _logger.LogInformation("Unable to partial resync with replica {Name} for lack of backlog (Replica request was: {Offset}).", link.Name, offset);
            if (Backlog is not null && offset > MasterOffset + 1)
                _logger.LogWarning("Warning: replica {Name} tried to PSYNC with an offset that is greater than the master replication offset.", link.Name);
            return false;
        }
        var session = link.Session;
        link.State = ReplicaState.Online;
        link.AckTimeMs = _nowMs();
        Attach(link);
        session.Reply.Raw(Encoding.ASCII.GetBytes(link.CapaPsync2 ? $"+CONTINUE {ReplicationId}\r\n" : "+CONTINUE\r\n"));
        long sent = Backlog.CopyFrom(offset, chunk => session.Reply.Raw(chunk.Span));
        _logger.LogInformation("Partial resynchronization request from {Name} accepted. Sending {Bytes} bytes of backlog starting from offset {Offset}.",
            link.Name, sent, offset);
        return true;
    }

    /// <summary>A replica that needs the whole dataset: attached to the BGSAVE for replication in progress, or one is started (now or by the cron).</summary>
    void StartFullSync(ReplicaLink link)
    {
        link.State = ReplicaState.WaitBgsaveStart;
        if (_persistence.Rdb.InProgress && !_persistence.Rdb.TransferInProgress)
        {
            if (_saveForSync && _replicas.Find(r => r != link && r.State == ReplicaState.WaitBgsaveEnd) is { } other)
            {
                // Same RDB, same starting offset, and the stream the other one buffered since.
                link.Buffered.AddRange(other.Buffered);
                link.BufferedBytes = other.BufferedBytes;
                SetupFullResync(link, other.InitialOffset);
                _logger.LogInformation("Waiting for end of BGSAVE for SYNC");
            }
            else _logger.LogInformation("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
        }
        else if (_persistence.Rdb.TransferInProgress)
        {
            _logger.LogInformation("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
        }
        else if (_config.ReplDisklessSync && link.CapaEof && _config.ReplDisklessSyncDelay > 0)
        {
            // The cron starts it once the delay passed (or enough replicas came): they share the transfer.
            _logger.LogInformation("Delay next BGSAVE for diskless SYNC");
        }
        else if (_persistence.BackgroundJobRunning)
        {
            _logger.LogInformation("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
        }
        else StartBgsaveForReplication();
    }

    /// <summary>
    /// Redis's replicationStartPendingFork (the cron, and the end of a background job): replicas
    /// waiting for a BGSAVE get one once no job runs, a diskless one after the delay since the
    /// first asked, or when repl-diskless-sync-max-replicas are waiting.
    /// </summary>
    void StartPendingSync()
    {
        if (_persistence.BackgroundJobRunning) return;
        long now = _nowMs();
        int waiting = 0;
        long maxIdleSeconds = 0;
        foreach (var replica in _replicas)
        {
            if (replica.State != ReplicaState.WaitBgsaveStart) continue;
            waiting++;
            maxIdleSeconds = Math.Max(maxIdleSeconds, (now - replica.SyncRequestedMs) / 1000);
        }
        if (waiting == 0) return;
        if (!_config.ReplDisklessSync || (_config.ReplDisklessSyncMaxReplicas > 0 && waiting >= _config.ReplDisklessSyncMaxReplicas)
            || maxIdleSeconds >= _config.ReplDisklessSyncDelay)
            StartBgsaveForReplication();
    }

    /// <summary>Redis's startBgsaveForReplication: the replicas waiting for a BGSAVE are told +FULLRESYNC at its instant.</summary>
    void StartBgsaveForReplication()
    {
        var waiting = _replicas.FindAll(r => r.State == ReplicaState.WaitBgsaveStart);
        bool toSockets = _config.ReplDisklessSync && waiting.TrueForAll(r => r.CapaEof);
        _logger.LogInformation("Starting BGSAVE for SYNC with target: {Target}", toSockets ? "replicas sockets" : "disk");
        // The RDB's instant is now: the stream after it starts with a SELECT (Redis forces one).
        long offset = OffsetNow();
        _selectedDb = -1;
        DisklessTransfer? transfer = toSockets ? new DisklessTransfer(waiting, _logger) : null;
        bool started = transfer is null ? _persistence.StartBackgroundSave() : _persistence.StartTransfer(transfer);
        if (started && transfer is not null)
        {
            _transfer = transfer;
            _bulk.Start();
        }
        else transfer?.Dispose();
        if (!started)
        {
            _logger.LogWarning("BGSAVE for replication failed");
            foreach (var replica in _replicas.Where(r => r.State == ReplicaState.WaitBgsaveStart).ToList())
            {
                replica.Session.Reply.Error("ERR BGSAVE failed, replication can't continue");
                replica.Session.CloseAfterReply = true;
                _executor.MarkReplies(replica.Session);
            }
            return;
        }
        _saveForSync = true;
        foreach (var replica in _replicas)
        {
            if (replica.State == ReplicaState.WaitBgsaveStart) SetupFullResync(replica, offset);
        }
    }

    /// <summary>Redis's replicationSetupSlaveForFullResync.</summary>
    void SetupFullResync(ReplicaLink link, long offset)
    {
        link.State = ReplicaState.WaitBgsaveEnd;
        link.InitialOffset = offset;
        if (link.PrePsync) return;
        link.Session.Reply.Raw(Encoding.ASCII.GetBytes($"+FULLRESYNC {ReplicationId} {offset}\r\n"));
        _executor.MarkReplies(link.Session);
    }

    /// <summary>From the RDB service when a background save ends (or is abandoned): the replicas waiting for it get the file, or are dropped.</summary>
    void BackgroundSaveDone(bool saved)
    {
        if (!_saveForSync) return;
        _saveForSync = false;
        if (_transfer is { } transfer)
        {
            _transfer = null;
            TransferDone(transfer, saved);
        }
        else SendDumpToReplicas(saved);
        StartPendingSync();
    }

    /// <summary>The replicas of a diskless transfer are online once it ended; their stream starts at their first ACK (Redis's updateSlavesWaitingBgsave, socket type).</summary>
    void TransferDone(DisklessTransfer transfer, bool saved)
    {
        foreach (var replica in transfer.Replicas)
        {
            if (replica.State != ReplicaState.WaitBgsaveEnd) continue;
            if (!saved)
            {
                _logger.LogWarning("SYNC failed. BGSAVE child returned an error");
                replica.Session.Connection?.Close();
                continue;
            }
            _logger.LogInformation("Streamed RDB transfer with replica {Name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming", replica.Name);
            PutOnline(replica);
            // The replica finds the end mark only if nothing follows it before it answers.
            replica.StreamOnAck = true;
        }
    }

    /// <summary>A dump written for replicas: sent to each waiting for it, or they are dropped when it failed.</summary>
    void SendDumpToReplicas(bool saved)
    {
        foreach (var replica in _replicas.ToList())
        {
            if (replica.State != ReplicaState.WaitBgsaveEnd) continue;
            if (!saved)
            {
                _logger.LogWarning("SYNC failed. BGSAVE child returned an error");
                replica.Session.Connection?.Close();
                continue;
            }
            try
            {
                replica.Bulk = new FileStream(_persistence.Rdb.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("SYNC failed. Can't open/stat DB after BGSAVE: {Error}", e.Message);
                replica.Session.Connection?.Close();
                continue;
            }
            replica.State = ReplicaState.SendBulk;
            replica.Session.Reply.Raw(Encoding.ASCII.GetBytes($"${replica.Bulk.Length}\r\n"));
            _executor.MarkReplies(replica.Session);
            _bulk.Start();
        }
    }

    /// <summary>The dump file is sent: the replica is online and its stream follows at once.</summary>
    internal void BulkSent(ReplicaLink link)
    {
        link.CloseBulk();
        PutOnline(link);
        StartCommandStream(link);
    }

    /// <summary>Redis's replicaPutOnline (an rdb-only client stays out of the replicas' count).</summary>
    void PutOnline(ReplicaLink link)
    {
        // Out of the transfer states in any case: the sender must not read its closed file again.
        link.State = ReplicaState.Online;
        link.AckTimeMs = _nowMs();
        if (!link.RdbOnly) _logger.LogInformation("Synchronization with replica {Name} succeeded", link.Name);
    }

    /// <summary>Redis's replicaStartCommandStream: the stream held since the RDB's instant goes out; an rdb-only client is closed.</summary>
    void StartCommandStream(ReplicaLink link)
    {
        link.StreamOnAck = false;
        if (link.RdbOnly)
        {
            _logger.LogInformation("Close the connection with replica {Name} as RDB transfer is complete", link.Name);
            link.Session.CloseAfterReply = true;
            _executor.MarkReplies(link.Session);
            return;
        }
        foreach (var chunk in link.Buffered) link.Session.Reply.Raw(chunk);
        link.Buffered.Clear();
        link.BufferedBytes = 0;
        _executor.MarkReplies(link.Session);
    }

    internal IEnumerable<ReplicaLink> SendingBulk => _replicas.Where(r => r.State == ReplicaState.SendBulk);

    /// <summary>The diskless transfer running, for <see cref="BulkSender"/>.</summary>
    internal DisklessTransfer? Transfer => _transfer;

    /// <summary>The client of <paramref name="link"/> is a replica from now on (Redis's CLIENT_SLAVE).</summary>
    void Attach(ReplicaLink link)
    {
        link.Session.IsReplica = true;
        _linkOf[link.Session] = link;
        _replicas.Add(link);
    }

    /// <summary>A replica's connection closed (Redis's freeClient of a slave).</summary>
    public void Disconnected(ClientSession session)
    {
        if (!_linkOf.Remove(session, out var link)) return;
        link.CloseBulk();
        _replicas.Remove(link);
        if (_replicas.Count == 0) _noReplicasSinceMs = _nowMs();
        _logger.LogInformation("Connection with replica {Name} lost.", link.Name);
        if (_transfer is { } transfer && transfer.Replicas.Remove(link) && transfer.Replicas.Count == 0)
        {
            // Redis kills the child: nobody reads its pipe any more.
            _logger.LogWarning("Diskless rdb transfer, last replica dropped, killing fork child.");
            _persistence.Rdb.CancelBackgroundSave();
        }
    }

    /// <summary>REPLCONF ACK offset.</summary>
    public void Acknowledged(ClientSession session, long offset)
    {
        if (!_linkOf.TryGetValue(session, out var link)) return;
        if (offset > link.AckOffset) link.AckOffset = offset;
        link.AckTimeMs = _nowMs();
        if (link.StreamOnAck && link.State == ReplicaState.Online) StartCommandStream(link);
        _acksArrived(AckKey);
    }

    // ---- cron ----------------------------------------------------------------------------------

    /// <summary>Once a second (Redis's replicationCron): PING, keepalive newlines, timeouts, pending BGSAVEs, the backlog's TTL.</summary>
    internal void Cron()
    {
        Failover.Update();
        long now = _nowMs();
        if (_link is { Connected: true } link) link.SendAck(MasterOffset);
        // A replica's replicas get its master's PINGs, relayed.
        if (!IsReplica && _replicas.Count > 0 && !Failover.HoldsPing && now - _lastPingMs >= _config.ReplPingReplicaPeriod * 1000L)
        {
            _lastPingMs = now;
            FeedCommand("PING");
        }
        foreach (var replica in _replicas.ToList())
        {
            // Not into an EOF-marked transfer: a newline there would be part of the RDB.
            if (replica.State == ReplicaState.WaitBgsaveStart
                || (replica.State == ReplicaState.WaitBgsaveEnd && _transfer?.Replicas.Contains(replica) != true))
            {
                replica.Session.Reply.Raw("\n"u8);
                _executor.MarkReplies(replica.Session);
            }
            else if (replica.State == ReplicaState.Online && !replica.PrePsync && now - replica.AckTimeMs > _config.ReplTimeout * 1000L)
            {
                _logger.LogWarning("Disconnecting timedout replica (streaming sync): {Name}", replica.Name);
                replica.Session.Connection?.Close();
            }
        }
        StartPendingSync();
        if (Backlog is not null && !IsReplica && _replicas.Count == 0 && _config.ReplBacklogTtl > 0 && now - _noReplicasSinceMs > _config.ReplBacklogTtl * 1000L)
        {
            // A new ID: replicas of the old history can no longer continue it.
            ChangeReplicationId();
            DropBacklog();
            _logger.LogInformation("Replication backlog freed after {Seconds} seconds without connected replicas.", _config.ReplBacklogTtl);
        }
        if (Backlog is not null && Backlog.Size != Math.Max(_config.ReplBacklogSize, 16 * 1024)) Backlog.Resize(_config.ReplBacklogSize);
    }

    // ---- write quorum ----------------------------------------------------------------------------

    /// <summary>Replicas online whose last ACK is at most min-replicas-max-lag seconds old (Redis's repl_good_slaves_count).</summary>
    public int GoodReplicas
    {
        get
        {
            long now = _nowMs();
            int good = 0;
            foreach (var replica in _replicas)
            {
                if (replica.State == ReplicaState.Online && (now - replica.AckTimeMs) / 1000 <= _config.MinReplicasMaxLag) good++;
            }
            return good;
        }
    }

    /// <summary>The refusal of a write command (Redis's processCommand checks): -NOREPLICAS on a master, -READONLY on a replica; null when allowed.</summary>
    public string? WriteDeniedError(ClientSession session)
    {
        if (IsReplica)
        {
            return _config.ReplicaReadOnly && !IsMasterSession(session) && !session.IsAofLoader
                ? "READONLY You can't write against a read only replica." : null;
        }
        if (_config.MinReplicasToWrite > 0 && _config.MinReplicasMaxLag > 0 && GoodReplicas < _config.MinReplicasToWrite)
            return "NOREPLICAS Not enough good replicas to write.";
        return null;
    }

    /// <summary>
    /// A replica whose link is not up with <c>replica-serve-stale-data no</c>: clients' commands without
    /// the stale flag are refused with <see cref="CommandContext.MasterDownError"/> (the master's own never are).
    /// </summary>
    public bool DeniesStaleData(ClientSession session) =>
        _link is { Connected: false } && !_config.ReplicaServeStaleData && !IsMasterSession(session);

    /// <summary>
    /// Redis's expireIfNeeded on a replica: its master's commands see expired keys alive, a write on a
    /// writable replica deletes them, anything else only hides them until the master's DEL arrives.
    /// </summary>
    public LazyExpiry LazyExpiryFor(ClientSession session, bool write) =>
        !IsReplica ? LazyExpiry.Delete
        : IsMasterSession(session) ? LazyExpiry.KeepAlive
        : write && !_config.ReplicaReadOnly ? LazyExpiry.Delete
        : LazyExpiry.Hide;

    /// <summary>Replicas whose acknowledged offset reached <paramref name="offset"/> (replicationCountAcksByOffset).</summary>
    public int CountAcks(long offset)
    {
        int count = 0;
        foreach (var replica in _replicas)
        {
            if (replica.State == ReplicaState.Online && replica.AckOffset >= offset) count++;
        }
        return count;
    }

    /// <summary>WAIT: asks every replica for its offset (REPLCONF GETACK *, in the stream).</summary>
    public void RequestAcks() => FeedCommand("REPLCONF", "GETACK", "*");

    /// <summary>The key WAIT blocks on in its database; signalled whenever a replica acknowledges.</summary>
    public byte[] AckKey { get; } = "\0replication-acks"u8.ToArray();

    // ---- replica side -----------------------------------------------------------------------------

    MasterLink? _link;
    ReplicaHost? _replicaHost;
    // Our replid and offset are a history a master may continue (after a sync, or as a master).
    bool _hasHistory;
    bool _ackRequested;

    /// <summary>Whether this server follows a master (replicaof).</summary>
    public bool IsReplica => _config.MasterHost is not null;

    public MasterLink? Link => _link;

    /// <summary>At start (after the data on disk is loaded): a configured replicaof starts the link.</summary>
    internal void Start(ReplicaHost host)
    {
        _replicaHost = host;
        if (_config.MasterHost is { } masterHost) StartLink(masterHost, _config.MasterPort);
    }

    void StartLink(string host, int port)
    {
        _link = new MasterLink(this, _config, _logger, _executor, _replicaHost!, host, port);
        _link.Start();
    }

    /// <summary>REPLICAOF host port (Redis's replicaofCommand after its checks), or FAILOVER (no requester, nothing logged); the reply text.</summary>
    public string ReplicaOf(string host, int port, string? requester)
    {
        if (_link is { } current && current.MasterHost.Equals(host, StringComparison.OrdinalIgnoreCase) && current.MasterPort == port)
        {
            _logger.LogInformation("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return "+OK Already connected to specified master\r\n";
        }
        bool wasMaster = _link is null;
        _link?.Stop();
        _config.SetMaster(host, port);
        // Replicas of ours must sync again with the new history.
        DisconnectReplicas();
        if (wasMaster)
        {
            // Our own writes no longer feed the stream: the master's is the history now, relayed into the backlog kept.
            StopProducing();
            _logger.LogInformation("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
            _hasHistory = true;
        }
        StartLink(host, port);
        if (requester is not null) _logger.LogInformation("REPLICAOF {Host}:{Port} enabled (user request from '{Client}')", host, port, requester);
        return "+OK\r\n";
    }

    /// <summary>
    /// REPLICAOF NO ONE, PSYNC ... FAILOVER from our master (<paramref name="byFailover"/>), or an aborted
    /// FAILOVER (no requester, nothing logged): a master again, continuing the history under a new ID
    /// (replid2 keeps the old one).
    /// </summary>
    public void PromoteToMaster(string? requester, bool byFailover = false)
    {
        if (_link is not { } link) return;
        link.Stop();
        _link = null;
        _config.SetMaster(null, 0);
        ShiftReplicationId();
        // The former co-replicas continue the old history here (+CONTINUE from replid2), from the
        // backlog the master's stream filled; our replicas reconnect to learn the new ID.
        if (Backlog is null) CreateBacklog();
        else ProduceStream();
        DisconnectReplicas();
        _noReplicasSinceMs = _nowMs();
        if (requester is not null) _logger.LogInformation("MASTER MODE enabled ({Origin} request from '{Client}')", byFailover ? "failover" : "user", requester);
    }

    /// <summary>Redis's shiftReplicationId: the current history becomes the second one, valid up to the offset now.</summary>
    void ShiftReplicationId()
    {
        ReplicationId2 = ReplicationId;
        SecondOffset = MasterOffset + 1;
        ReplicationId = NewId();
        _logger.LogInformation("Setting secondary replication ID to {Id2}, valid up to offset: {Offset}. New replication ID is {Id}", ReplicationId2, SecondOffset, ReplicationId);
    }

    /// <summary>The database the master's stream had selected when the link went down (the cached master's), selected again by the next link.</summary>
    internal int StreamDb { get; private set; }

    /// <summary>
    /// The master's connection closed: its selected database is kept for a partial resync. A
    /// transaction it had half sent is dropped with the connection: the PSYNC asks for it again.
    /// </summary>
    internal void MasterDisconnected(int db)
    {
        StreamDb = db;
        _heldTransaction.Clear();
    }

    /// <summary>
    /// On a replica, the bytes of the master's transaction received so far (its MULTI and queued
    /// commands): as in Redis 7.0, whose master->reploff stays before a MULTI until its EXEC, they
    /// count in the offset, the backlog and our replicas' stream only with the EXEC. So a dump, an
    /// ACK or a PSYNC taken meanwhile is at the offset before the MULTI.
    /// </summary>
    readonly ArrayBufferWriter<byte> _heldTransaction = new();

    /// <summary>
    /// Redis's rdbPopulateSaveInfo: a master with a backlog, or a replica with a history, saves its
    /// replication ID, offset and the stream's database in the dump; otherwise nothing.
    /// </summary>
    RdbReplicationInfo? SaveInfo()
    {
        if (!IsReplica) return Backlog is null ? null : new RdbReplicationInfo(Math.Max(_selectedDb, 0), ReplicationId, MasterOffset);
        if (!_hasHistory) return null;
        long offset = OffsetNow();
        int db = _link?.Session is { } master ? master.Db.Index : StreamDb;
        return new RdbReplicationInfo(db, ReplicationId, offset);
    }

    /// <summary>
    /// At start (loadDataFromDisk), a dump with a replication history: a replica takes it as its
    /// cached master, so it continues with PSYNC instead of a full sync; a master keeps it as its
    /// second ID, valid up to that offset, with a backlog from there (after the DELs of the keys the
    /// load found expired), so its former replicas continue. A master's dump without one keeps no
    /// backlog, though its offset counts those DELs, as Redis's does.
    /// </summary>
    void RestoreFromRdb(RdbReplicationInfo? info)
    {
        if (!IsReplica)
        {
            if (info is null)
            {
                DropBacklog();
                return;
            }
            ReplicationId2 = info.ReplId;
            SecondOffset = info.Offset + 1;
            // The DELs fed during the load follow the saved history.
            MasterOffset += info.Offset;
            if (Backlog is null) CreateBacklog();
            else Backlog.Rebase(info.Offset);
            _noReplicasSinceMs = _nowMs();
            return;
        }
        if (info is null) return;
        ReplicationId = info.ReplId;
        MasterOffset = info.Offset;
        StreamDb = info.StreamDb;
        _hasHistory = true;
        _logger.LogInformation("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
    }

    readonly CommandBatch _expiredAtLoad = new();

    /// <summary>
    /// A master's load at start skipped a key whose TTL had passed: its DEL (UNLINK under
    /// lazyfree-lazy-expire) goes to a backlog made for the load, so replicas continuing after the
    /// restart delete it too (Redis's RDBFLAGS_FEED_REPL).
    /// </summary>
    void FeedExpiredAtLoad(int db, byte[] key)
    {
        if (Backlog is null) CreateBacklog();
        _expiredAtLoad.Clear();
        _expiredAtLoad.BeginCommand();
        var command = _config.LazyfreeLazyExpire ? "UNLINK"u8 : "DEL"u8;
        command.CopyTo(_expiredAtLoad.AddArgument(command.Length));
        key.CopyTo(_expiredAtLoad.AddArgument(key.Length));
        Append(db, _expiredAtLoad[0]);
    }

    /// <summary>What the link asks PSYNC with: our history, or none (PSYNC ? -1).</summary>
    internal (string? Replid, long Offset) CachedMaster() => _hasHistory ? (ReplicationId, MasterOffset) : (null, -1);

    /// <summary>+CONTINUE [new id]: the master changed its ID (it was promoted) and our history follows it.</summary>
    internal void PartialResyncAccepted(string? newId)
    {
        if (Backlog is null) CreateBacklog();
        if (newId is null || newId == ReplicationId) return;
        ReplicationId2 = ReplicationId;
        SecondOffset = MasterOffset + 1;
        ReplicationId = newId;
        _logger.LogWarning("Master replication ID changed to {Id}", newId);
        DisconnectReplicas();
    }

    /// <summary>
    /// +FULLRESYNC: our history cannot be continued any more (Redis's replicationDiscardCachedMaster).
    /// Until the load ends a PSYNC asks for a full sync again, a dump saves no replication history,
    /// and INFO shows the offsets of a replica without a master (1).
    /// </summary>
    internal void FullSyncAccepted()
    {
        if (!_hasHistory) return;
        _hasHistory = false;
        _logger.LogInformation("Discarding previously cached master state.");
    }

    /// <summary>
    /// The full sync's RDB is received, before the dataset is emptied for it (Redis's
    /// replicationAttachToNewMaster): our replicas sync again, and the backlog of the old history goes.
    /// </summary>
    internal void FullSyncReceived()
    {
        DisconnectReplicas();
        DropBacklog();
    }

    /// <summary>
    /// The full sync's RDB is loaded: our history is the master's from its offset, in the database
    /// its stream had selected (the dump's repl-stream-db: a relayed stream need not start with a
    /// SELECT), with a new backlog from there.
    /// </summary>
    internal void FullSyncLoaded(string replid, long offset, int streamDb)
    {
        ReplicationId = replid;
        ReplicationId2 = new string('0', 40);
        SecondOffset = -1;
        MasterOffset = offset;
        StreamDb = streamDb;
        _hasHistory = true;
        CreateBacklog();
    }

    /// <summary>
    /// The bytes of a master command, once it ran: relayed as received to the backlog and our
    /// replicas, and counted in the offset; held while a MULTI is open, until the command that closes it.
    /// </summary>
    internal void StreamProcessed(ReadOnlySpan<byte> bytes, bool outsideMulti)
    {
        if (!outsideMulti)
        {
            _heldTransaction.Write(bytes);
            return;
        }
        if (_heldTransaction.WrittenCount > 0)
        {
            FeedStream(_heldTransaction.WrittenSpan);
            _heldTransaction.Clear();
        }
        FeedStream(bytes);
    }

    /// <summary>After a round of the master's commands: relayed bytes go out, and a GETACK among them is answered with the offset now.</summary>
    internal void AfterStreamRound()
    {
        Flush();
        if (!_ackRequested) return;
        _ackRequested = false;
        _link?.SendAck(MasterOffset);
    }

    /// <summary>REPLCONF GETACK from our master: the ACK goes out after the round.</summary>
    public void SendAckToMaster()
    {
        if (_link is not null) _ackRequested = true;
    }

    bool IsMasterSession(ClientSession session) => _link?.Session == session;

    // ---- ROLE and INFO ------------------------------------------------------------------------------

    /// <summary>ROLE on a master: "master", the offset, and [ip, port, acked offset] per replica.</summary>
    public void WriteRole(ReplyBuffer reply)
    {
        if (_link is { } link)
        {
            reply.ArrayHeader(5);
            reply.Bulk("slave"u8);
            reply.Bulk(link.MasterHost);
            reply.Integer(link.MasterPort);
            reply.Bulk(link.Connected ? "connected" : link.SyncInProgress ? "sync" : "connect");
            reply.Integer(link.Connected ? MasterOffset : -1);
            return;
        }
        reply.ArrayHeader(3);
        reply.Bulk("master"u8);
        reply.Integer(MasterOffset);
        // Only the replicas online, as Redis lists them.
        var online = _replicas.FindAll(replica => replica.State == ReplicaState.Online);
        reply.ArrayHeader(online.Count);
        foreach (var replica in online)
        {
            reply.ArrayHeader(3);
            reply.Bulk(replica.Ip);
            reply.Bulk(replica.ListeningPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            reply.Bulk(replica.AckOffset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>INFO replication's fields after the section header (Redis 7.0's genRedisInfoString).</summary>
    public void WriteInfo(Action<string, string> line)
    {
        long now = _nowMs();
        if (_link is { } link)
        {
            line("role", "slave");
            line("master_host", link.MasterHost);
            line("master_port", Str(link.MasterPort));
            line("master_link_status", link.Connected ? "up" : "down");
            line("master_last_io_seconds_ago", link.Connected ? Str((now - link.LastIoMs) / 1000) : "-1");
            line("master_sync_in_progress", link.SyncInProgress ? "1" : "0");
            // Without a master or a cached one (never synced, or a full sync under way) Redis shows 1.
            bool hasOffset = link.Connected || _hasHistory;
            line("slave_read_repl_offset", hasOffset ? Str(MasterOffset + _heldTransaction.WrittenCount) : "1");
            line("slave_repl_offset", hasOffset ? Str(MasterOffset) : "1");
            if (link.SyncInProgress)
            {
                line("master_sync_total_bytes", Str(link.SyncTotalBytes));
                line("master_sync_read_bytes", Str(link.SyncReadBytes));
                line("master_sync_left_bytes", Str(link.SyncTotalBytes - link.SyncReadBytes));
                double percent = link.SyncTotalBytes == 0 ? 0 : link.SyncReadBytes * 100.0 / link.SyncTotalBytes;
                line("master_sync_perc", percent.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
                line("master_sync_last_io_seconds_ago", Str((now - link.LastIoMs) / 1000));
            }
            if (!link.Connected) line("master_link_down_since_seconds", link.DownSinceMs == 0 ? "-1" : Str((now - link.DownSinceMs) / 1000));
            line("slave_priority", Str(_config.ReplicaPriority));
            line("slave_read_only", _config.ReplicaReadOnly ? "1" : "0");
            line("replica_announced", _config.ReplicaAnnounced ? "1" : "0");
        }
        else line("role", "master");
        line("connected_slaves", Str(_replicas.Count));
        if (_config.MinReplicasToWrite > 0 && _config.MinReplicasMaxLag > 0) line("min_slaves_good_slaves", Str(GoodReplicas));
        for (int i = 0; i < _replicas.Count; i++)
        {
            var replica = _replicas[i];
            line("slave" + Str(i), $"ip={replica.Ip},port={replica.ListeningPort},state={replica.StateName},offset={replica.AckOffset},lag={(now - replica.AckTimeMs) / 1000}");
        }
        line("master_failover_state", Failover.StateName);
        line("master_replid", ReplicationId);
        line("master_replid2", ReplicationId2);
        line("master_repl_offset", Str(MasterOffset));
        line("second_repl_offset", Str(SecondOffset));
        line("repl_backlog_active", Backlog is null ? "0" : "1");
        line("repl_backlog_size", Str(Math.Max(_config.ReplBacklogSize, 16 * 1024)));
        line("repl_backlog_first_byte_offset", Str(Backlog?.FirstOffset ?? 0));
        line("repl_backlog_histlen", Str(Backlog?.HistoryLength ?? 0));
    }

    static string Str(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
