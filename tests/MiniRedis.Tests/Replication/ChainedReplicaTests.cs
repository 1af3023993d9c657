using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A MiniRedis replica serving replicas of its own (chained replication, as Redis 7 does): it relays
/// its master's stream byte for byte, so the whole chain has one replication ID and offset; a
/// sub-replica gets a full sync from it (disk or diskless) and a partial resync after its link breaks.
/// Top masters: real Redis 7.0.15 and MiniRedis; the end of the chain is a real Redis replica.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ChainedReplicaTests
{
    [Theory]
    [InlineData(true, "yes")]
    [InlineData(false, "no")]
    public void ChainOfThreeHasOneHistoryAndTheSameData(bool realTop, string middleDiskless)
    {
        // No PING in the stream between the offsets compared.
        using ServerProcess top = realTop ? new RealRedisProcess(QuietMaster) : new MiniRedisProcess(QuietMaster);
        using (var connection = top.Connect()) ReplicationChecks.Fill(connection);
        using var middle = new MiniRedisProcess("--replicaof", "127.0.0.1", top.Port.ToString(), "--repl-diskless-sync", middleDiskless);
        ReplicationChecks.WaitCaughtUp(top, middle);
        using var bottom = new RealRedisProcess("--replicaof", "127.0.0.1", middle.Port.ToString());
        ReplicationChecks.WaitCaughtUp(middle, bottom);

        using (var connection = top.Connect()) ReplicationChecks.LiveWrites(connection);
        ReplicationChecks.WaitCaughtUp(top, middle);
        ReplicationChecks.WaitCaughtUp(middle, bottom);
        AssertSameHistoryAndData(top, middle, bottom);

        // The sub-replica's link breaks: it continues from the middle's backlog.
        using (var connection = middle.Connect()) Assert.Equal(":1\r\n", connection.Text("CLIENT", "KILL", "TYPE", "replica"));
        using (var connection = top.Connect())
        {
            connection.Call("SET", "after-kill", "1");
            connection.Call("SELECT", "4");
            connection.Call("INCRBY", "counter", "5");
        }
        middle.WaitForOutput($"Partial resynchronization request from 127.0.0.1:{bottom.Port} accepted");
        ReplicationChecks.WaitCaughtUp(top, middle);
        ReplicationChecks.WaitCaughtUp(middle, bottom);
        AssertSameHistoryAndData(top, middle, bottom);
        bottom.WaitForOutput("Successful partial resynchronization with master.");
    }

    /// <summary>A middle whose own link is down refuses sub-replicas with -NOMASTERLINK, as Redis does; they sync once it is up.</summary>
    [Fact]
    public void SubReplicaWaitsWhileTheMiddleHasNoMaster()
    {
        using var top = new MiniRedisProcess(QuietMaster);
        using (var connection = top.Connect()) ReplicationChecks.Fill(connection);
        int topPort = top.Port;
        using var middle = new MiniRedisProcess("--replicaof", "127.0.0.1", ServerProcess.FreePort().ToString());
        using var bottom = new RealRedisProcess("--replicaof", "127.0.0.1", middle.Port.ToString());
        bottom.WaitForOutput("NOMASTERLINK Can't SYNC while not connected with my master");
        using (var connection = middle.Connect()) connection.Call("REPLICAOF", "127.0.0.1", topPort.ToString());
        ReplicationChecks.WaitCaughtUp(top, middle);
        ReplicationChecks.WaitCaughtUp(middle, bottom);
        AssertSameHistoryAndData(top, middle, bottom);
    }

    static readonly string[] QuietMaster = ["--repl-ping-replica-period", "3600"];

    static void AssertSameHistoryAndData(ServerProcess top, ServerProcess middle, ServerProcess bottom)
    {
        foreach (var field in new[] { "master_replid", "master_repl_offset" })
        {
            Assert.Equal(ReplicationChecks.InfoField(top, field), ReplicationChecks.InfoField(middle, field));
            Assert.Equal(ReplicationChecks.InfoField(top, field), ReplicationChecks.InfoField(bottom, field));
        }
        var expected = ReplicationChecks.Dataset(top);
        Assert.Equal(expected, ReplicationChecks.Dataset(middle));
        Assert.Equal(expected, ReplicationChecks.Dataset(bottom));
    }
}
