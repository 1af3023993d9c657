using System.Globalization;
using MiniRedis.Tests.Support;
using StackExchange.Redis;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// Debian's redis-sentinel 7.0.15, unchanged, watching a master and two replicas (MiniRedis, and the
/// same run with real Redis as the reference): three sentinels with a quorum of 2 see the master
/// killed, promote a replica (MULTI, REPLICAOF NO ONE, CONFIG REWRITE, CLIENT KILL, EXEC), repoint the
/// other (never the one of replica-priority 0), and a StackExchange.Redis client connected through them writes again. No write that WAIT
/// saw on both replicas before the kill is lost.
/// </summary>
[Trait("Category", "Process")]
public sealed class SentinelFailoverTests
{
    const string Service = "mymaster";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SentinelsPromoteAReplicaAndTheClientWritesAgain(bool realRedis)
    {
        string configs = Directory.CreateTempSubdirectory("sentinel-nodes-").FullName;
        try
        {
            Failover(configs, realRedis);
        }
        finally
        {
            Directory.Delete(configs, recursive: true);
        }
    }

    static void Failover(string configs, bool realRedis)
    {
        // Each node starts from a config file of its own, which CONFIG REWRITE then changes.
        ServerProcess Node(string name, params string[] directives)
        {
            string file = Path.Combine(configs, name + ".conf");
            File.WriteAllText(file, "# " + name + "\n");
            return realRedis ? RealRedisProcess.WithConfigFile(file, directives) : MiniRedisProcess.WithConfigFile(file, directives);
        }

        var master = Node("master");
        using var replicaA = Node("a", "--replicaof", "127.0.0.1", Port(master));
        // Priority 0: Sentinel never promotes it, so A is the one.
        using var replicaB = Node("b", "--replicaof", "127.0.0.1", Port(master), "--replica-priority", "0");
        try
        {
            ReplicationChecks.WaitCaughtUp(master, replicaA);
            ReplicationChecks.WaitCaughtUp(master, replicaB);
            // Quick to judge the master down, slow enough that a loaded machine does not fail it over early.
            using var s1 = new SentinelProcess(Service, master.Port, quorum: 2, downAfterMs: 3000, failoverTimeoutMs: 10_000);
            using var s2 = new SentinelProcess(Service, master.Port, quorum: 2, downAfterMs: 3000, failoverTimeoutMs: 10_000);
            using var s3 = new SentinelProcess(Service, master.Port, quorum: 2, downAfterMs: 3000, failoverTimeoutMs: 10_000);
            var sentinels = new[] { s1, s2, s3 };
            // Each sentinel has found both replicas (the master's INFO) and the other two (hello messages).
            Assert.True(Wait.Until(() => sentinels.All(s => s.MasterField(Service, "num-slaves") == "2" && s.MasterField(Service, "num-other-sentinels") == "2"),
                TimeSpan.FromSeconds(60)), Logs(sentinels));

            var options = ConfigurationOptions.Parse(string.Join(",", sentinels.Select(s => "127.0.0.1:" + s.Port)) + ",serviceName=" + Service);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 5_000;
            options.SyncTimeout = 5_000;
            using var client = ConnectionMultiplexer.Connect(options);
            var db = client.GetDatabase();
            db.StringSet("client:before", "1");

            // Writes WAIT saw on both replicas, until the master is killed under the writer.
            var acknowledged = new List<string>();
            using (var writer = master.Connect())
            {
                for (int i = 0; i < 200; i++)
                {
                    string key = "acked:" + i.ToString(CultureInfo.InvariantCulture);
                    writer.Call("SET", key, "v");
                    if (writer.Text("WAIT", "2", "5000") == ":2\r\n") acknowledged.Add(key);
                }
            }
            Assert.NotEmpty(acknowledged);
            master.Dispose();

            // A replica is promoted, every sentinel points at it, the other replica follows it.
            Assert.True(Wait.Until(() => sentinels.All(s => s.MasterPort(Service) != master.Port && s.MasterPort(Service) == sentinels[0].MasterPort(Service)),
                TimeSpan.FromSeconds(90)), Logs(sentinels));
            int newPort = s1.MasterPort(Service);
            Assert.Equal(replicaA.Port, newPort);
            var (promoted, other) = (replicaA, replicaB);
            Assert.Equal("master", ReplicationChecks.InfoField(promoted, "role"));
            Assert.True(Wait.Until(() => ReplicationChecks.InfoField(other, "master_port") == Port(promoted)
                && ReplicationChecks.InfoField(other, "master_link_status") == "up", TimeSpan.FromSeconds(60)), Logs(sentinels) + other.Output);

            // CONFIG REWRITE: the promoted replica's file lost its replicaof, the other's names the new master.
            Assert.DoesNotContain("replicaof", File.ReadAllText(Path.Combine(configs, "a.conf")), StringComparison.Ordinal);
            Assert.True(Wait.Until(() => File.ReadAllText(Path.Combine(configs, "b.conf")).Contains($"replicaof 127.0.0.1 {newPort}\n", StringComparison.Ordinal)),
                File.ReadAllText(Path.Combine(configs, "b.conf")));

            using (var onPromoted = promoted.Connect())
            {
                foreach (var key in acknowledged) Assert.Equal("$1\r\nv\r\n", onPromoted.Text("GET", key));
                Assert.Equal("$1\r\n1\r\n", onPromoted.Text("GET", "client:before"));
            }

            // The client learns the new master from the sentinels and writes there.
            Assert.True(Wait.Until(() => TryWrite(db, "client:after"), TimeSpan.FromSeconds(60)), Logs(sentinels));
            using (var onPromoted = promoted.Connect()) Assert.Equal("$5\r\nafter\r\n", onPromoted.Text("GET", "client:after"));
            ReplicationChecks.WaitCaughtUp(promoted, other);
            using (var onOther = other.Connect()) Assert.Equal("$5\r\nafter\r\n", onOther.Text("GET", "client:after"));
        }
        finally
        {
            master.Dispose();
        }
    }

    static bool TryWrite(IDatabase db, string key)
    {
        try
        {
            db.StringSet(key, "after");
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    static string Port(ServerProcess server) => server.Port.ToString(CultureInfo.InvariantCulture);

    static string Logs(IEnumerable<SentinelProcess> sentinels) => string.Join("\n----\n", sentinels.Select(s => s.Output));
}
