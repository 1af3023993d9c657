using MiniRedis.Execution;

namespace MiniRedis.Replication;

/// <summary>Where a replica of this master stands (Redis's SLAVE_STATE_*), named as INFO shows it.</summary>
public enum ReplicaState
{
    /// <summary>Waits for a BGSAVE to start (another background job runs).</summary>
    WaitBgsaveStart,
    /// <summary>Told +FULLRESYNC; the RDB is being written, the stream since is buffered.</summary>
    WaitBgsaveEnd,
    /// <summary>The RDB file is being sent.</summary>
    SendBulk,
    /// <summary>Fed the replication stream as it happens.</summary>
    Online,
}

/// <summary>
/// A replica attached to this master (Redis's client with CLIENT_SLAVE): its connection's session,
/// what it announced with REPLCONF, its sync state and the offset it acknowledged.
/// </summary>
public sealed class ReplicaLink
{
    internal ReplicaLink(ClientSession session, ReplicaHello hello, bool prePsync, long nowMs)
    {
        Session = session;
        ListeningPort = hello.ListeningPort;
        AnnouncedIp = hello.AnnouncedIp;
        CapaEof = hello.CapaEof;
        CapaPsync2 = hello.CapaPsync2;
        RdbOnly = hello.RdbOnly;
        PrePsync = prePsync;
        AckTimeMs = nowMs;
        SyncRequestedMs = nowMs;
    }

    /// <summary>When it asked for a sync (unix ms): a diskless sync waits repl-diskless-sync-delay from there.</summary>
    public long SyncRequestedMs { get; }

    /// <summary>Online after a diskless transfer, its stream held until its first REPLCONF ACK (Redis's repl_start_cmd_stream_on_ack).</summary>
    internal bool StreamOnAck { get; set; }

    public ClientSession Session { get; }
    public int ListeningPort { get; }
    public string? AnnouncedIp { get; }
    public bool CapaEof { get; }
    public bool CapaPsync2 { get; }

    /// <summary>REPLCONF rdb-only 1 (redis-cli --rdb): closed once the RDB is sent.</summary>
    public bool RdbOnly { get; }

    /// <summary>Came with SYNC (Redis's CLIENT_PRE_PSYNC): no +FULLRESYNC, and it never acknowledges.</summary>
    public bool PrePsync { get; }

    public ReplicaState State { get; internal set; }

    /// <summary>The master offset the RDB it is sent corresponds to (psync_initial_offset).</summary>
    public long InitialOffset { get; internal set; }

    /// <summary>REPLCONF ACK: the offset it processed, and when it said so (unix ms).</summary>
    public long AckOffset { get; internal set; }
    public long AckTimeMs { get; internal set; }

    /// <summary>The stream written while it waits for its RDB, sent right after it.</summary>
    internal List<byte[]> Buffered { get; } = [];
    internal long BufferedBytes { get; set; }

    /// <summary>The RDB file being sent, while <see cref="State"/> is <see cref="ReplicaState.SendBulk"/>.</summary>
    internal FileStream? Bulk { get; set; }

    /// <summary>The IP: announced by REPLCONF ip-address, else the connection's.</summary>
    public string Ip
    {
        get
        {
            if (AnnouncedIp is { } ip) return ip;
            string address = Session.Connection?.RemoteAddress ?? "?";
            int colon = address.LastIndexOf(':');
            return colon < 0 ? address : address[..colon];
        }
    }

    /// <summary>Redis's replicationGetSlaveName: ip:listening-port.</summary>
    public string Name => ListeningPort != 0 ? $"{Ip}:{ListeningPort}" : $"{Ip}:<unknown-replica-port>";

    /// <summary>INFO's state= word.</summary>
    public string StateName => State switch
    {
        ReplicaState.WaitBgsaveStart or ReplicaState.WaitBgsaveEnd => "wait_bgsave",
        ReplicaState.SendBulk => "send_bulk",
        _ => "online",
    };

    internal void CloseBulk()
    {
        Bulk?.Dispose();
        Bulk = null;
    }
}
