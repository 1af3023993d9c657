using System.Net;
using System.Net.Sockets;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// MiniRedis as a replica: of a real Redis 7.0.15 master (its diskless EOF-marked transfer, the live
/// stream, partial resync after the master drops the link), of another MiniRedis, READONLY,
/// REPLICAOF NO ONE, and masters that are not there or not Redis.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaSideTests
{
    [Fact]
    public void FollowsRealRedisMasterThenPartialResyncAfterKill()
    {
        using var master = new RealRedisProcess("--repl-diskless-sync-delay", "0");
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using var replica = new MiniRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
        replica.WaitForOutput("MASTER <-> REPLICA sync: Finished with success");

        using (var connection = master.Connect())
        {
            ReplicationChecks.LiveWrites(connection);
            connection.Call("SELECT", "0");
            connection.Call("DEL", "hash");
            Assert.Equal(":1\r\n", connection.Text("WAIT", "1", "5000"));
        }
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));

        using (var onReplica = replica.Connect())
        {
            Assert.Equal("-READONLY You can't write against a read only replica.\r\n", onReplica.Text("SET", "x", "1"));
            Assert.StartsWith("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:" + master.Port + "\r\n$9\r\nconnected\r\n", onReplica.Text("ROLE"));
        }
        using (var connection = master.Connect())
        {
            connection.Call("CLIENT", "KILL", "TYPE", "replica");
            connection.Call("SET", "after-kill", "1");
        }
        replica.WaitForOutput("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
    }

    /// <summary>
    /// The master's client is authenticated: its commands of more than 10 arguments or with values
    /// over 16 KB (the limits for clients that must still AUTH) are run, not a protocol error that
    /// dropped the link after every partial resync (found by LargeDatasetTests at 1M keys).
    /// </summary>
    [Fact]
    public void RunsTheMastersLargeCommands()
    {
        using var master = new RealRedisProcess();
        using var replica = new MiniRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        using (var connection = master.Connect())
        {
            Assert.Equal("+OK\r\n", connection.Text("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"));
            Assert.Equal("+OK\r\n", connection.Text("SET", "big", new string('x', 20_000)));
        }
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
        Assert.DoesNotContain("Protocol error", replica.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ReplicaOfMiniRedisThenNoOne()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using var replica = new MiniRedisProcess();
        using (var onReplica = replica.Connect())
        {
            onReplica.Call("SET", "local", "dropped by the sync");
            Assert.Equal("+OK\r\n", onReplica.Text("REPLICAOF", "127.0.0.1", master.Port.ToString()));
            Assert.Equal("+OK Already connected to specified master\r\n", onReplica.Text("REPLICAOF", "127.0.0.1", master.Port.ToString()));
        }
        ReplicationChecks.WaitCaughtUp(master, replica);
        using (var connection = master.Connect()) connection.Call("SET", "live", "1");
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
        using (var onReplica = replica.Connect())
        {
            Assert.Equal("+OK\r\n", onReplica.Text("REPLICAOF", "NO", "ONE"));
            Assert.Equal("+OK\r\n", onReplica.Text("SET", "x", "1"));
        }
        Assert.Equal("master", ReplicationChecks.InfoField(replica, "role"));
        Assert.Equal(ReplicationChecks.InfoField(master, "master_replid"), ReplicationChecks.InfoField(replica, "master_replid2"));
        replica.WaitForOutput("MASTER MODE enabled (user request from 'id=");
        // The log's role char: S while a replica, M once a master again.
        var lines = replica.Output.Split('\n');
        Assert.Contains(lines, line => line.StartsWith($"{replica.ProcessId}:S ", StringComparison.Ordinal) && line.Contains("* REPLICAOF 127.0.0.1:", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith($"{replica.ProcessId}:M ", StringComparison.Ordinal) && line.Contains("* MASTER MODE enabled", StringComparison.Ordinal));
    }

    [Fact]
    public void ReplicaOfItselfOrOfANonRedisPortKeepsRetrying()
    {
        using var server = new MiniRedisProcess();
        using var garbage = new TcpListener(IPAddress.Loopback, 0);
        garbage.Start();
        var answering = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await garbage.AcceptTcpClientAsync();
                await client.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray());
            }
        });
        int garbagePort = ((IPEndPoint)garbage.LocalEndpoint).Port;
        using var connection = server.Connect();
        Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "127.0.0.1", server.Port.ToString()));
        server.WaitForOutput("Can't SYNC while not connected with my master");
        Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "127.0.0.1", garbagePort.ToString()));
        server.WaitForOutput("Error reply to PING from master: 'HTTP/1.1 400 Bad Request'");
        Assert.Equal("-ERR Invalid master port\r\n", connection.Text("REPLICAOF", "127.0.0.1", "99999"));
        Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "NO", "ONE"));
        Assert.Equal("+PONG\r\n", connection.Text("PING"));
        Assert.Equal("master", ReplicationChecks.InfoField(server, "role"));
    }

    [Fact]
    public void ReplicaWithAppendOnlyWritesTheSyncAndTheStreamToItsAof()
    {
        using var master = new RealRedisProcess("--repl-diskless-sync-delay", "0");
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        string dir = Directory.CreateTempSubdirectory("repl-aof-").FullName;
        List<string> expected;
        using (var replica = new MiniRedisProcess("--dir", dir, "--appendonly", "yes", "--replicaof", "127.0.0.1", master.Port.ToString()))
        {
            ReplicationChecks.WaitCaughtUp(master, replica);
            using (var connection = master.Connect())
            {
                connection.Call("SET", "live", "1");
                connection.Call("SELECT", "4");
                connection.Call("RPUSH", "live-list", "a", "b");
            }
            ReplicationChecks.WaitCaughtUp(master, replica);
            // The AOF is rewritten from the loaded dataset after the sync.
            Assert.True(Wait.Until(() => AfterSync(replica.Output).Contains("Background AOF rewrite finished successfully", StringComparison.Ordinal)), replica.Output);
            expected = ReplicationChecks.Dataset(master);
            using var onReplica = replica.Connect();
            // A successful SHUTDOWN has no reply: the connection closes.
            Assert.Throws<IOException>(() => onReplica.Call("SHUTDOWN", "NOSAVE"));
            replica.WaitForExit(TimeSpan.FromSeconds(30));
        }
        // Restarted alone from its AOF: the synced dataset and the stream after it.
        using var restarted = new MiniRedisProcess("--dir", dir, "--appendonly", "yes");
        Assert.Equal(expected, ReplicationChecks.Dataset(restarted));
    }

    static string AfterSync(string log)
    {
        int at = log.IndexOf("MASTER <-> REPLICA sync: Finished with success", StringComparison.Ordinal);
        return at < 0 ? "" : log[at..];
    }

    [Fact]
    public void MasterKilledDuringTheTransferLeavesTheReplicaRetrying()
    {
        using var replica = new MiniRedisProcess();
        using (var master = new RealRedisProcess("--repl-diskless-sync-delay", "0", "--rdb-key-save-delay", "100000"))
        {
            using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
            using var onReplica = replica.Connect();
            onReplica.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
            replica.WaitForOutput("receiving streamed RDB");
        }
        Assert.True(Wait.Until(() => replica.Output.Contains("Connection with master lost.", StringComparison.Ordinal)
            || replica.Output.Contains("Error condition on socket for SYNC", StringComparison.Ordinal)), replica.Output);
        using (var connection = replica.Connect()) Assert.Equal("+PONG\r\n", connection.Text("PING"));
        Assert.Equal("down", ReplicationChecks.InfoField(replica, "master_link_status"));
        Assert.Empty(Directory.GetFiles(replica.DataDirectory, "temp-*.rdb"));
    }
}
