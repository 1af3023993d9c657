using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// What a replica tells about itself, as Redis 7.0.15 does: replica-announce-ip / -port go in REPLCONF
/// and the master shows them in INFO slaveN and ROLE; replica-priority and replica-announced show in
/// the replica's INFO (Sentinel reads them), and CONFIG knows their old slave-* names.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaAnnounceTests
{
    [Fact]
    public void AnnouncedAddressPriorityAndVisibilityAreRedis()
    {
        Assert.Equal(Observed(realRedis: true), Observed(realRedis: false));
    }

    static List<string> Observed(bool realRedis)
    {
        using ServerProcess master = realRedis ? new RealRedisProcess("--repl-diskless-sync-delay", "0") : new MiniRedisProcess();
        string[] directives = ["--replicaof", "127.0.0.1", master.Port.ToString(), "--replica-announce-ip", "10.1.2.3",
            "--replica-announce-port", "1234", "--replica-priority", "0", "--replica-announced", "no"];
        using ServerProcess replica = realRedis ? new RealRedisProcess(directives) : new MiniRedisProcess(directives);
        Assert.True(Wait.Until(() => ReplicationChecks.InfoField(master, "slave0")?.Contains("state=online", StringComparison.Ordinal) == true
            && ReplicationChecks.InfoField(replica, "master_link_status") == "up"), master.Output + replica.Output);
        using var onMaster = master.Connect();
        using var onReplica = replica.Connect();
        string slave0 = ReplicationChecks.InfoField(master, "slave0")!;
        string role = onMaster.Text("ROLE");
        return
        [
            slave0[..slave0.IndexOf(",offset=", StringComparison.Ordinal)],
            // ROLE's replica entry without the offset acknowledged.
            role[role.IndexOf("*3\r\n$8", StringComparison.Ordinal)..role.LastIndexOf('$')],
            ReplicationChecks.InfoField(replica, "slave_priority")!,
            ReplicationChecks.InfoField(replica, "replica_announced")!,
            onReplica.Text("CONFIG", "GET", "slave-priority"),
            onReplica.Text("CONFIG", "GET", "slave-announce-ip"),
            onReplica.Text("CONFIG", "GET", "slave-announce-port"),
            onReplica.Text("CONFIG", "SET", "replica-priority", "-1"),
            onReplica.Text("CONFIG", "SET", "replica-announce-port", "65536"),
            onReplica.Text("CONFIG", "SET", "replica-announce-ip", ""),
            onReplica.Text("CONFIG", "GET", "replica-announce-ip"),
            onReplica.Text("CONFIG", "SET", "replica-priority", "7"),
            ReplicationChecks.InfoField(replica, "slave_priority")!,
        ];
    }
}
