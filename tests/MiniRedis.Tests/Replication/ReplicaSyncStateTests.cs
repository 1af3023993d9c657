using System.Globalization;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// What clients of a replica see around a full sync, against real Redis 7.0.15 doing the same: while
/// it loads the received RDB every command without the loading flag gets -LOADING and INFO shows the
/// loading fields, then it serves the master's data; a replica that never synced shows offset 1.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaSyncStateTests
{
    const int Keys = 3000;

    // key-load-delay (µs per key, Redis's hidden testing aid) makes the load last seconds;
    // Redis serves clients during a load only every loading-process-events-interval-bytes of the file.
    static readonly string[] SlowLoad = ["--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"];

    [Fact]
    public void ClientsGetLoadingWhileTheReceivedRdbLoadsThenTheMastersData()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect())
        {
            Assert.Equal("+OK\r\n", connection.Text("DEBUG", "POPULATE", Keys.ToString(CultureInfo.InvariantCulture), "key", "10"));
            ReplicationChecks.Fill(connection);
        }
        var expected = ReplicationChecks.Dataset(master);

        using var redis = new RealRedisProcess(SlowLoad);
        string redisSaw = WatchFullSync(master, redis);
        using var replica = new MiniRedisProcess(SlowLoad);
        string miniSaw = WatchFullSync(master, replica);

        Assert.Contains("GET: -LOADING Redis is loading the dataset in memory", redisSaw);
        Assert.Equal(redisSaw, miniSaw);
        Assert.Equal(expected, ReplicationChecks.Dataset(replica));
        using var onReplica = replica.Connect();
        Assert.Equal("0", onReplica.InfoField("persistence", "loading"));
        replica.WaitForOutput("MASTER <-> REPLICA sync: Loading DB in memory");
        replica.WaitForOutput("MASTER <-> REPLICA sync: Finished with success");
    }

    /// <summary>
    /// Points <paramref name="replica"/> at the master and polls it until the master's data is served;
    /// what it answered the first time it answered -LOADING (GET, PING, INFO's loading and link
    /// fields), or that it never did.
    /// </summary>
    static string WatchFullSync(ServerProcess master, ServerProcess replica)
    {
        using var client = replica.Connect();
        Assert.Equal("+OK\r\n", client.Text("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)));
        string? seen = null;
        bool served = Wait.Until(() =>
        {
            string reply = client.Text("GET", "key:1");
            if (reply.StartsWith("-LOADING", StringComparison.Ordinal)) seen ??= WhileLoading(client, reply);
            return reply.StartsWith('$') && reply != "$-1\r\n";
        }, TimeSpan.FromSeconds(120));
        Assert.True(served, replica.Output);
        ReplicationChecks.WaitCaughtUp(master, replica);
        return seen ?? "never saw -LOADING";
    }

    static readonly string[] LinkFields = ["master_link_status", "master_last_io_seconds_ago", "master_sync_in_progress", "slave_read_repl_offset", "slave_repl_offset"];
    static readonly string[] LoadingFields = ["loading_start_time", "loading_total_bytes", "loading_rdb_used_mem", "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds"];

    static string WhileLoading(RespConnection client, string getReply)
    {
        var seen = new List<string> { "GET: " + getReply.Trim(), "PING: " + client.Text("PING").Trim() };
        string persistence = client.Text("INFO", "persistence");
        seen.Add("loading:" + client.InfoField("persistence", "loading"));
        seen.AddRange(LoadingFields.Select(field => field + (persistence.Contains("\r\n" + field + ":", StringComparison.Ordinal) ? " shown" : " missing")));
        seen.AddRange(LinkFields.Select(field => field + ":" + client.InfoField("replication", field)));
        return string.Join("\n", seen);
    }

    [Fact]
    public void ReplicaThatNeverSyncedShowsTheOffsetsOfRedis()
    {
        int deadPort = ServerProcess.FreePort();
        using var redis = new RealRedisProcess("--replicaof", "127.0.0.1", deadPort.ToString(CultureInfo.InvariantCulture));
        using var replica = new MiniRedisProcess("--replicaof", "127.0.0.1", deadPort.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(Replication(redis), Replication(replica));
        Assert.Equal("1", ReplicationChecks.InfoField(replica, "slave_repl_offset"));
        using var onReplica = replica.Connect();
        using var onRedis = redis.Connect();
        Assert.Equal(onRedis.Text("ROLE"), onReplica.Text("ROLE"));
    }

    [Fact]
    public void ReplicaWhoseMasterDiedShowsTheOffsetItReached()
    {
        using var replica = new MiniRedisProcess();
        using var redis = new RealRedisProcess();
        using (var master = new MiniRedisProcess())
        {
            using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
            foreach (var server in new ServerProcess[] { replica, redis })
            {
                using var connection = server.Connect();
                connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture));
                ReplicationChecks.WaitCaughtUp(master, server);
            }
        }
        Assert.True(Wait.Until(() => ReplicationChecks.InfoField(replica, "master_link_status") == "down"
            && ReplicationChecks.InfoField(redis, "master_link_status") == "down"));
        var offset = ReplicationChecks.InfoField(redis, "slave_repl_offset");
        Assert.NotEqual("1", offset);
        Assert.Equal(offset, ReplicationChecks.InfoField(replica, "slave_repl_offset"));
        Assert.Equal(offset, ReplicationChecks.InfoField(replica, "slave_read_repl_offset"));
        Assert.Equal("-1", ReplicationChecks.InfoField(replica, "master_last_io_seconds_ago"));
    }

    /// <summary>INFO replication without what differs between any two servers (the port asked for, the IDs).</summary>
    static string Replication(ServerProcess server)
    {
        using var connection = server.Connect();
        var lines = connection.Text("INFO", "replication").Split("\r\n")
            .Where(line => !line.StartsWith("master_replid", StringComparison.Ordinal));
        return string.Join("\n", lines);
    }
}
