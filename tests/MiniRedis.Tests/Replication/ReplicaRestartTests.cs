using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A replica restarted from its dump continues with PSYNC: the dump keeps the replication ID, offset
/// and the stream's database (AUX repl-id, repl-offset, repl-stream-db), in the bytes Redis 7.0 writes
/// them, so a MiniRedis replica's dump restarts a real Redis replica and the other way round.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaRestartTests
{
    [Fact]
    public void RestartedReplicasContinueFromTheirDumpWithPartialResync()
    {
        using var master = new RealRedisProcess("--repl-diskless-sync-delay", "0");
        string dir = Directory.CreateTempSubdirectory("repl-restart-").FullName;
        try
        {
            using var writer = master.Connect();
            writer.Call("SELECT", "3");
            writer.Call("SET", "before", "1");
            string port = master.Port.ToString();

            // MiniRedis follows, is saved and restarted: +CONTINUE, and the stream goes on in database 3 (no SELECT is resent).
            RunUntilShutdown(new MiniRedisProcess("--dir", dir, "--replicaof", "127.0.0.1", port), master, writer, "1");
            using (var replica = new MiniRedisProcess("--dir", dir, "--replicaof", "127.0.0.1", port))
            {
                AssertContinued(master, replica, expectedPartialSyncs: 1);
                replica.WaitForOutput("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
                Shutdown(replica, master, writer, "2");
            }

            // Our dump restarts a real Redis replica, whose dump restarts MiniRedis.
            using (var real = new RealRedisProcess("--dir", dir, "--replicaof", "127.0.0.1", port))
            {
                AssertContinued(master, real, expectedPartialSyncs: 2);
                Shutdown(real, master, writer, "3");
            }
            using (var replica = new MiniRedisProcess("--dir", dir, "--replicaof", "127.0.0.1", port))
            {
                AssertContinued(master, replica, expectedPartialSyncs: 3);
                using var onReplica = replica.Connect();
                onReplica.Call("SELECT", "3");
                Assert.Equal("$1\r\n3\r\n", onReplica.Text("GET", "while-down"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MasterAndRealReplicaDumpsCarryTheSameReplicationFields()
    {
        string dir = Directory.CreateTempSubdirectory("repl-aux-").FullName;
        try
        {
            // No PING in the stream between the two SAVEs and the INFO.
            using var master = new MiniRedisProcess("--repl-ping-replica-period", "3600");
            using var replica = new RealRedisProcess("--dir", dir);
            using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
            ReplicationChecks.WaitCaughtUp(master, replica);
            using (var connection = master.Connect())
            {
                connection.Call("SELECT", "5");
                connection.Call("SET", "a", "1");
            }
            ReplicationChecks.WaitCaughtUp(master, replica);
            foreach (var server in new ServerProcess[] { master, replica })
            {
                using var connection = server.Connect();
                Assert.Equal("+OK\r\n", connection.Text("SAVE"));
            }
            // redis-check-rdb lists them in file order: repl-stream-db, repl-id, repl-offset, between used-mem and aof-base.
            var ours = ReplicationFields(Path.Combine(master.DataDirectory, "dump.rdb"));
            Assert.Equal(["used-mem", "repl-stream-db = '5'", $"repl-id = '{ReplicationChecks.InfoField(master, "master_replid")}'",
                $"repl-offset = '{ReplicationChecks.InfoField(master, "master_repl_offset")}'", "aof-base = '0'"], ours);
            Assert.Equal(ReplicationFields(Path.Combine(dir, "dump.rdb")), ours);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static List<string> ReplicationFields(string path)
    {
        var (exitCode, output) = Persistence.Rdb.RdbInteropTests.CheckRdb(path);
        Assert.True(exitCode == 0, output);
        return [.. output.Split('\n')
            .Select(line => line.IndexOf("AUX FIELD ", StringComparison.Ordinal) is var at and >= 0 ? line[(at + "AUX FIELD ".Length)..].Trim() : null)
            .OfType<string>()
            .Where(field => !field.StartsWith("redis-", StringComparison.Ordinal) && !field.StartsWith("ctime", StringComparison.Ordinal))
            .Select(field => field.StartsWith("used-mem", StringComparison.Ordinal) ? "used-mem" : field)];
    }

    [Fact]
    public void CoReplicaContinuesWithThePromotedReplica()
    {
        using var first = new MiniRedisProcess();
        using var second = new MiniRedisProcess();
        using (var master = new MiniRedisProcess())
        {
            using (var connection = master.Connect())
            {
                connection.Call("SELECT", "2");
                connection.Call("SET", "before", "1");
            }
            foreach (var replica in new[] { first, second })
            {
                using var connection = replica.Connect();
                connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
                ReplicationChecks.WaitCaughtUp(master, replica);
            }
        }
        // The master is gone: the first replica is promoted, the second follows it from where both were.
        using (var connection = first.Connect()) Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "NO", "ONE"));
        using (var connection = second.Connect()) Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "127.0.0.1", first.Port.ToString()));
        ReplicationChecks.WaitCaughtUp(first, second);
        second.WaitForOutput("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        using (var connection = first.Connect())
        {
            Assert.Contains("sync_partial_ok:1\r\n", connection.Text("INFO", "stats"));
            connection.Call("SET", "after", "2");
        }
        ReplicationChecks.WaitCaughtUp(first, second);
        Assert.Equal(ReplicationChecks.Dataset(first), ReplicationChecks.Dataset(second));
    }

    static void RunUntilShutdown(ServerProcess replica, ServerProcess master, RespConnection writer, string value)
    {
        using (replica)
        {
            ReplicationChecks.WaitCaughtUp(master, replica);
            Shutdown(replica, master, writer, value);
        }
    }

    /// <summary>SHUTDOWN SAVE on the replica, then a write on the master it misses while down.</summary>
    static void Shutdown(ServerProcess replica, ServerProcess master, RespConnection writer, string value)
    {
        writer.Call("INCR", "counter");
        ReplicationChecks.WaitCaughtUp(master, replica);
        using (var connection = replica.Connect())
        {
            // A successful SHUTDOWN has no reply: the connection closes.
            Assert.Throws<IOException>(() => connection.Call("SHUTDOWN", "SAVE"));
        }
        replica.WaitForExit(TimeSpan.FromSeconds(30));
        writer.Call("SET", "while-down", value);
    }

    static void AssertContinued(ServerProcess master, ServerProcess replica, int expectedPartialSyncs)
    {
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
        using var connection = master.Connect();
        string stats = connection.Text("INFO", "stats");
        Assert.Contains($"sync_partial_ok:{expectedPartialSyncs}\r\n", stats);
        Assert.Contains("sync_full:1\r\n", stats);
    }
}
