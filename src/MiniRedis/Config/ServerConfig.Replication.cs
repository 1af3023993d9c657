namespace MiniRedis.Config;

/// <summary>
/// The replication directives the server acts on (Replication/ reads them): whom to follow and how to
/// authenticate to it, what a replica serves, the backlog, the timeouts and the write quorum.
/// </summary>
public sealed partial class ServerConfig
{
    private static readonly ConfigDirective[] s_replicationDirectives =
    [
        ConfigDirective.Special("replicaof", "no one", c => c.MasterHost is null ? "" : $"{c.MasterHost} {c.MasterPort}",
            (c, args) => c.SetReplicaOf(args), Immutable | ConfigFlags.MultiArg, RewriteReplicaOf).WithAlias("slaveof"),
        ConfigDirective.String("masterauth", "", c => c.MasterAuth, (c, v) => c.MasterAuth = NullIfEmpty(v)),
        ConfigDirective.String("masteruser", "", c => c.MasterUser, (c, v) => c.MasterUser = NullIfEmpty(v)),
        ConfigDirective.Bool("replica-serve-stale-data", true, c => c.ReplicaServeStaleData, (c, v) => c.ReplicaServeStaleData = v).WithAlias("slave-serve-stale-data"),
        ConfigDirective.Bool("replica-read-only", true, c => c.ReplicaReadOnly, (c, v) => c.ReplicaReadOnly = v).WithAlias("slave-read-only"),
        ConfigDirective.Integer("replica-priority", 0, int.MaxValue, 100, c => c.ReplicaPriority, (c, v) => c.ReplicaPriority = (int)v).WithAlias("slave-priority"),
        ConfigDirective.Bool("replica-announced", true, c => c.ReplicaAnnounced, (c, v) => c.ReplicaAnnounced = v),
        ConfigDirective.String("replica-announce-ip", "", c => c.ReplicaAnnounceIp, (c, v) => c.ReplicaAnnounceIp = NullIfEmpty(v)).WithAlias("slave-announce-ip"),
        ConfigDirective.Integer("replica-announce-port", 0, 65535, 0, c => c.ReplicaAnnouncePort, (c, v) => c.ReplicaAnnouncePort = (int)v).WithAlias("slave-announce-port"),
        ConfigDirective.Integer("min-replicas-to-write", 0, int.MaxValue, 0, c => c.MinReplicasToWrite, (c, v) => c.MinReplicasToWrite = (int)v).WithAlias("min-slaves-to-write"),
        ConfigDirective.Integer("min-replicas-max-lag", 0, int.MaxValue, 10, c => c.MinReplicasMaxLag, (c, v) => c.MinReplicasMaxLag = (int)v).WithAlias("min-slaves-max-lag"),
        ConfigDirective.Integer("repl-ping-replica-period", 1, int.MaxValue, 10, c => c.ReplPingReplicaPeriod, (c, v) => c.ReplPingReplicaPeriod = (int)v).WithAlias("repl-ping-slave-period"),
        ConfigDirective.Integer("repl-timeout", 1, int.MaxValue, 60, c => c.ReplTimeout, (c, v) => c.ReplTimeout = (int)v),
        ConfigDirective.Memory("repl-backlog-size", 1, long.MaxValue, 1024 * 1024, c => c.ReplBacklogSize, (c, v) => c.ReplBacklogSize = v),
        ConfigDirective.Integer("repl-backlog-ttl", 0, long.MaxValue, 3600, c => c.ReplBacklogTtl, (c, v) => c.ReplBacklogTtl = v),
        ConfigDirective.Bool("repl-diskless-sync", true, c => c.ReplDisklessSync, (c, v) => c.ReplDisklessSync = v),
        ConfigDirective.Integer("repl-diskless-sync-delay", 0, int.MaxValue, 5, c => c.ReplDisklessSyncDelay, (c, v) => c.ReplDisklessSyncDelay = (int)v),
        ConfigDirective.Integer("repl-diskless-sync-max-replicas", 0, int.MaxValue, 0, c => c.ReplDisklessSyncMaxReplicas, (c, v) => c.ReplDisklessSyncMaxReplicas = (int)v),
        ConfigDirective.Bool("repl-disable-tcp-nodelay", false, c => c.ReplDisableTcpNoDelay, (c, v) => c.ReplDisableTcpNoDelay = v),
    ];

    /// <summary>The master this server replicates (replicaof), or null while it is a master.</summary>
    public string? MasterHost { get; private set; }
    public int MasterPort { get; private set; }
    public string? MasterAuth { get; private set; }
    public string? MasterUser { get; private set; }
    public bool ReplicaServeStaleData { get; private set; }
    public bool ReplicaReadOnly { get; private set; }

    /// <summary>Sentinel promotes the replica of lowest priority first, never one of 0 (INFO slave_priority).</summary>
    public int ReplicaPriority { get; private set; }

    /// <summary>Whether Sentinel lists this replica (INFO replica_announced).</summary>
    public bool ReplicaAnnounced { get; private set; }

    /// <summary>The address a replica tells its master (REPLCONF ip-address / listening-port) instead of its own, behind NAT.</summary>
    public string? ReplicaAnnounceIp { get; private set; }
    public int ReplicaAnnouncePort { get; private set; }
    public int MinReplicasToWrite { get; private set; }
    public int MinReplicasMaxLag { get; private set; }
    public int ReplPingReplicaPeriod { get; private set; }
    public int ReplTimeout { get; private set; }
    public long ReplBacklogSize { get; private set; }
    public long ReplBacklogTtl { get; private set; }

    /// <summary>A full sync streams the RDB to the replicas' sockets (EOF-marked) instead of a dump file.</summary>
    public bool ReplDisklessSync { get; private set; }

    /// <summary>Seconds a diskless sync waits for more replicas to share its transfer; -max-replicas that start it at once (0: no such count).</summary>
    public int ReplDisklessSyncDelay { get; private set; }
    public int ReplDisklessSyncMaxReplicas { get; private set; }

    /// <summary>Replica sockets send with Nagle's algorithm (fewer, larger packets; more lag).</summary>
    public bool ReplDisableTcpNoDelay { get; private set; }

    /// <summary>REPLICAOF host port / NO ONE: what CONFIG GET and CONFIG REWRITE then show (null host: a master).</summary>
    public void SetMaster(string? host, int port) => (MasterHost, MasterPort) = (host, port);

    /// <summary>"host port", or "no one" for none.</summary>
    private string? SetReplicaOf(IReadOnlyList<string> args)
    {
        if (args.Count != 2) return "wrong number of arguments";
        if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase) && args[1].Equals("one", StringComparison.OrdinalIgnoreCase))
        {
            SetMaster(null, 0);
            return null;
        }
        if (!NumberParsing.TryParseCLong(args[1], out long port) || port is < 0 or > 65535) return "Invalid master port";
        SetMaster(args[0], (int)port);
        return null;
    }

    /// <summary>Redis writes replicaof only while it is a replica, and then always.</summary>
    private static IReadOnlyList<RewriteLine> RewriteReplicaOf(ServerConfig config) =>
        config.MasterHost is { } host ? [new RewriteLine($"replicaof {host} {config.MasterPort}", true)] : [];
}
