using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// FAILOVER as Redis 7.0.15 runs it, each scenario on a master and one replica of MiniRedis and of real
/// Redis, compared: the argument errors, the coordinated failover (writes held until the replica caught
/// up, PSYNC ... FAILOVER, roles swapped with the history continued), ABORT, the timeout, and FORCE.
/// </summary>
[Trait("Category", "Differential")]
public sealed class FailoverTests
{
    static (ServerProcess Master, ServerProcess Replica) Pair(bool realRedis)
    {
        ServerProcess master = realRedis ? new RealRedisProcess("--repl-diskless-sync-delay", "0") : new MiniRedisProcess();
        try
        {
            string[] follow = ["--replicaof", "127.0.0.1", master.Port.ToString()];
            ServerProcess replica = realRedis ? new RealRedisProcess(follow) : new MiniRedisProcess(follow);
            ReplicationChecks.WaitCaughtUp(master, replica);
            // The replica's side is up before the master has its first REPLCONF ACK (after a diskless sync): FAILOVER wants it online.
            Assert.True(Wait.Until(() => ReplicationChecks.InfoField(master, "slave0")?.Contains("state=online", StringComparison.Ordinal) == true),
                master.Output);
            return (master, replica);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    [Fact]
    public void ArgumentAndStateErrorsAreRedis()
    {
        Assert.Equal(Errors(realRedis: true), Errors(realRedis: false));
    }

    static List<string> Errors(bool realRedis)
    {
        var (master, replica) = Pair(realRedis);
        using (master)
        using (replica)
        {
            using var connection = master.Connect();
            using var onReplica = replica.Connect();
            string port = replica.Port.ToString();
            List<string> replies =
            [
                connection.Text("FAILOVER", "ABORT"),
                connection.Text("FAILOVER", "ABORT", "NOW"),
                connection.Text("FAILOVER", "TIMEOUT", "0"),
                connection.Text("FAILOVER", "TIMEOUT", "-5"),
                connection.Text("FAILOVER", "TIMEOUT", "soon"),
                connection.Text("FAILOVER", "TIMEOUT", "10", "TIMEOUT", "10"),
                connection.Text("FAILOVER", "TO", "127.0.0.1"),
                connection.Text("FAILOVER", "TO", "127.0.0.1", "x"),
                connection.Text("FAILOVER", "FORCE"),
                connection.Text("FAILOVER", "FORCE", "FORCE"),
                connection.Text("FAILOVER", "TO", "127.0.0.1", port, "FORCE"),
                connection.Text("FAILOVER", "TIMEOUT", "100", "FORCE"),
                connection.Text("FAILOVER", "TO", "127.0.0.1", "1"),
                connection.Text("FAILOVER", "TO", "10.0.0.1", port),
                onReplica.Text("FAILOVER"),
                onReplica.Text("FAILOVER", "ABORT"),
                onReplica.Text("PSYNC", "0123456789012345678901234567890123456789", "1", "FAILOVER"),
            ];
            Assert.Equal("no-failover", ReplicationChecks.InfoField(master, "master_failover_state"));
            return replies;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FailoverSwapsTheRolesAndContinuesTheHistory(bool realRedis)
    {
        var (master, replica) = Pair(realRedis);
        using (master)
        using (replica)
        {
            using (var connection = master.Connect())
            {
                ReplicationChecks.Fill(connection);
                string oldId = ReplicationChecks.InfoField(master, "master_replid")!;
                Assert.Equal("+OK\r\n", connection.Text("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString()));
                Assert.Equal("-ERR FAILOVER already in progress.\r\n", connection.Text("FAILOVER"));
                Assert.True(Wait.Until(() => ReplicationChecks.InfoField(master, "role") == "slave"
                    && ReplicationChecks.InfoField(master, "master_link_status") == "up"
                    && ReplicationChecks.InfoField(master, "master_failover_state") == "no-failover"), master.Output + replica.Output);
                Assert.Equal("master", ReplicationChecks.InfoField(replica, "role"));
                // The replica continued the master's history: the old ID is its second one, and the old master resynced partially.
                Assert.Equal(oldId, ReplicationChecks.InfoField(replica, "master_replid2"));
                Assert.True(Wait.Until(() => AfterLast(master.Output, "failing over.").Contains("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.", StringComparison.Ordinal)), master.Output);
                Assert.Equal("-READONLY You can't write against a read only replica.\r\n", connection.Text("SET", "k", "v"));
            }
            master.WaitForOutput($"* FAILOVER requested to 127.0.0.1:{replica.Port}.");
            master.WaitForOutput($"* Failover target 127.0.0.1:{replica.Port} is synced, failing over.");
            replica.WaitForOutput("# Failover request received for replid ");
            replica.WaitForOutput("* MASTER MODE enabled (failover request from 'id=");
            using (var onNewMaster = replica.Connect()) ReplicationChecks.LiveWrites(onNewMaster);
            ReplicationChecks.WaitCaughtUp(replica, master);
            Assert.Equal(ReplicationChecks.Dataset(replica), ReplicationChecks.Dataset(master));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WritesWaitDuringTheFailoverAndAbortReleasesThem(bool realRedis)
    {
        var (master, replica) = Pair(realRedis);
        using (master)
        using (replica)
        {
            using var connection = master.Connect();
            // A replica whose writes are paused holds its master's stream too: its offset stays behind and the failover waits.
            using (var onReplica = replica.Connect()) onReplica.Call("CLIENT", "PAUSE", "60000", "WRITE");
            connection.Call("SET", "moved", "on");
            Assert.Equal("+OK\r\n", connection.Text("FAILOVER", "TIMEOUT", "60000"));
            Assert.Equal("waiting-for-sync", ReplicationChecks.InfoField(master, "master_failover_state"));
            using var writer = master.Connect();
            writer.Send("SET held 1\r\n");
            Wait.ForBlockedClients(master, 1);
            Assert.Equal("$2\r\non\r\n", connection.Text("GET", "moved"));
            Assert.Equal("-ERR REPLICAOF not allowed while failing over.\r\n", connection.Text("REPLICAOF", "NO", "ONE"));
            // CLIENT UNPAUSE lifts only the client's pause, not the failover's.
            Assert.Equal("+OK\r\n", connection.Text("CLIENT", "UNPAUSE"));
            Assert.Equal(1, Wait.BlockedClients(master));
            Assert.Equal("+OK\r\n", connection.Text("FAILOVER", "ABORT"));
            Assert.Equal("+OK\r\n", writer.ReadReply().Text);
            Assert.Equal("no-failover", ReplicationChecks.InfoField(master, "master_failover_state"));
            Assert.Equal("master", ReplicationChecks.InfoField(master, "role"));
            master.WaitForOutput("* FAILOVER to any replica aborted: Failover manually aborted");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheTimeoutAbortsUnlessForced(bool realRedis)
    {
        var (master, replica) = Pair(realRedis);
        using (master)
        using (replica)
        {
            using var connection = master.Connect();
            using var onReplica = replica.Connect();
            onReplica.Call("CLIENT", "PAUSE", "60000", "WRITE");
            connection.Call("SET", "moved", "on");
            Assert.Equal("+OK\r\n", connection.Text("FAILOVER", "TIMEOUT", "100"));
            master.WaitForOutput("* FAILOVER to any replica aborted: Replica never caught up before timeout");
            Assert.Equal("master", ReplicationChecks.InfoField(master, "role"));
            Assert.Equal("+OK\r\n", connection.Text("SET", "after-abort", "1"));

            // Forced: the master follows the target anyway (it resyncs from the target's data), and a write held meanwhile is then refused.
            Assert.Equal("+OK\r\n", connection.Text("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString(), "TIMEOUT", "100", "FORCE"));
            using var writer = master.Connect();
            writer.Send("SET held 1\r\n");
            Assert.Equal("-READONLY You can't write against a read only replica.\r\n", writer.ReadReply().Text);
            master.WaitForOutput($"* FAILOVER to 127.0.0.1:{replica.Port} time out exceeded, failing over.");
            Assert.Equal("master", ReplicationChecks.InfoField(replica, "role"));
            onReplica.Call("CLIENT", "UNPAUSE");
            ReplicationChecks.WaitCaughtUp(replica, master);
            Assert.Equal(ReplicationChecks.Dataset(replica), ReplicationChecks.Dataset(master));
        }
    }

    static string AfterLast(string log, string marker)
    {
        int at = log.LastIndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? "" : log[at..];
    }
}
