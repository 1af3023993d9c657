using System.Globalization;
using MiniRedis.Tests.Persistence;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A replica that is saving in the background when its full sync's RDB arrives stops the save before
/// it empties its dataset (Redis's readSyncBulkPayload kills the RDB child), so the old snapshot never
/// lands on disk over the master's data. Real Redis 7.0.15 and MiniRedis go through the same steps.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaLoadStopsSaveTests
{
    // 100 keys at 1 s each: the save would run for 100 s, long after the sync.
    static readonly string[] SlowSave = ["--rdb-key-save-delay", "1000000"];

    const string KillLine = "Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process ";

    [Fact]
    public void AFullSyncStopsTheReplicasBackgroundSave()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) Assert.Equal("+OK\r\n", connection.Text("SET", "new", "from the master"));

        using var redis = new RealRedisProcess(SlowSave);
        string redisSaw = SyncDuringSave(master, redis);
        using var mini = new MiniRedisProcess(SlowSave);
        string miniSaw = SyncDuringSave(master, mini);

        Assert.Equal("rdb_bgsave_in_progress:0 rdb_last_bgsave_status:ok keys:1 $15\r\nfrom the master\r\n # Background saving terminated by signal 10", redisSaw);
        Assert.Equal(redisSaw, miniSaw);
        // Neither the old snapshot nor its temporary file is left behind.
        Assert.Empty(Directory.GetFiles(mini.DataDirectory, "*.rdb"));
    }

    /// <summary>Starts a slow BGSAVE of 100 keys on <paramref name="replica"/>, points it at the master, and tells what it holds once caught up.</summary>
    static string SyncDuringSave(ServerProcess master, ServerProcess replica)
    {
        using var client = replica.Connect();
        Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
        Assert.Equal("+Background saving started\r\n", client.Text("BGSAVE"));
        Assert.Equal("+OK\r\n", client.Text("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)));
        ReplicationChecks.WaitCaughtUp(master, replica);
        replica.WaitForOutput(KillLine);
        // Redis reaps its killed child in its next cron; without the stop the save would go on for 100 s.
        Assert.True(Wait.Until(() => client.InfoField("persistence", "rdb_bgsave_in_progress") == "0", TimeSpan.FromSeconds(10)), replica.Output);
        return $"rdb_bgsave_in_progress:{client.InfoField("persistence", "rdb_bgsave_in_progress")} " +
            $"rdb_last_bgsave_status:{client.InfoField("persistence", "rdb_last_bgsave_status")} " +
            $"keys:{client.Text("DBSIZE").Trim()[1..]} {client.Text("GET", "new")} " +
            string.Join(" | ", KilledJobLogTests.Logged(replica, ["terminated"]));
    }
}
