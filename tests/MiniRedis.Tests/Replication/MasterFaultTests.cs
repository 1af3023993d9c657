using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// The master side's limits and faults with a real Redis replica: WAIT and min-replicas-to-write,
/// a backlog overrun (full sync again). (A replica gone in the middle of its full sync: <see cref="DisklessSyncTests"/>.)
/// </summary>
[Trait("Category", "Differential")]
public sealed class MasterFaultTests
{
    [Fact]
    public void WaitCountsAcknowledgingReplicasAndMinReplicasRefusesWrites()
    {
        using var master = new MiniRedisProcess();
        using var replica = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        using var connection = master.Connect();
        connection.Call("SET", "k", "v");
        Assert.Equal(":1\r\n", connection.Text("WAIT", "1", "0"));
        // Two are asked for, one acknowledges: the count at the timeout.
        Assert.Equal(":1\r\n", connection.Text("WAIT", "2", "100"));
        Assert.Equal("-ERR timeout is negative\r\n", connection.Text("WAIT", "1", "-1"));
        connection.Call("CONFIG", "SET", "min-replicas-to-write", "2");
        Assert.Equal("-NOREPLICAS Not enough good replicas to write.\r\n", connection.Text("SET", "k", "v2"));
        Assert.Equal("1", ReplicationChecks.InfoField(master, "min_slaves_good_slaves"));
        connection.Call("CONFIG", "SET", "min-replicas-to-write", "1");
        Assert.Equal("+OK\r\n", connection.Text("SET", "k", "v3"));
        using var onReplica = replica.Connect();
        Assert.Equal("-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n",
            onReplica.Text("WAIT", "1", "0"));
    }

    [Fact]
    public void BacklogOverrunFallsBackToFullSync()
    {
        using var master = new MiniRedisProcess("--repl-backlog-size", "16kb");
        using var replica = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        // The replica sleeps while its link is cut and more than the backlog is written.
        var sleeping = Task.Run(() =>
        {
            using var onReplica = RespConnection.Open(replica.Port, receiveTimeoutMs: 30_000);
            onReplica.Call("DEBUG", "SLEEP", "3");
        });
        Assert.True(Wait.Until(() => IsSleeping(replica)));
        using (var connection = master.Connect())
        {
            connection.Call("CLIENT", "KILL", "TYPE", "replica");
            for (int i = 0; i < 100; i++) connection.Call("SET", "big" + i, new string('x', 1000));
        }
        sleeping.Wait();
        master.WaitForOutput("for lack of backlog");
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
    }

    /// <summary>A server in DEBUG SLEEP does not answer PING.</summary>
    static bool IsSleeping(ServerProcess server)
    {
        try
        {
            using var probe = RespConnection.Open(server.Port, receiveTimeoutMs: 300);
            probe.Call("PING");
            return false;
        }
        catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return true;
        }
    }
}
