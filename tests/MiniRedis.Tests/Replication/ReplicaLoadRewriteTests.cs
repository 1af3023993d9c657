using System.Globalization;
using MiniRedis.Tests.Persistence;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A replica rewriting its AOF in the background when its full sync's RDB arrives: Redis's
/// readSyncBulkPayload stops the AOF only when it is on (stopAppendOnly kills the rewrite, and
/// the AOF and a rewrite start again after the load); with the AOF off a BGREWRITEAOF goes on and
/// ends as it would have. Real Redis 7.0.15 and MiniRedis go through the same steps.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaLoadRewriteTests
{
    // 50 keys at 100 ms each: the rewrite runs for 5 s, through the sync.
    static readonly string[] SlowRewrite = ["--rdb-key-save-delay", "100000"];

    [Theory]
    [InlineData("no", "* Background AOF rewrite terminated with success")]
    [InlineData("yes", "* Killing running AOF rewrite child: <pid>")]
    public void AFullSyncStopsTheReplicasRewriteOnlyWithTheAofOn(string appendonly, string firstJobLine)
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) Assert.Equal("+OK\r\n", connection.Text("SET", "new", "from the master"));
        string[] directives = [.. SlowRewrite, "--appendonly", appendonly];

        using var redis = new RealRedisProcess(directives);
        var redisSaw = SyncDuringRewrite(master, redis);
        using var mini = new MiniRedisProcess(directives);
        var miniSaw = SyncDuringRewrite(master, mini);

        Assert.Equal(firstJobLine, redisSaw[0]);
        Assert.Equal(redisSaw, miniSaw);
    }

    /// <summary>
    /// Starts a slow BGREWRITEAOF of 50 keys on <paramref name="replica"/>, points it at the master, and
    /// tells, once it caught up and no rewrite runs: what the log says of the rewrites after the
    /// sync began, whether the first of them outlived the load, and what the replica holds.
    /// </summary>
    static List<string> SyncDuringRewrite(ServerProcess master, ServerProcess replica)
    {
        using var client = replica.Connect();
        Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "50", "old", "10"));
        Assert.Equal("+Background append only file rewriting started\r\n", client.Text("BGREWRITEAOF"));
        Assert.Equal("+OK\r\n", client.Text("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)));
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.True(Wait.Until(() => client.InfoField("persistence", "aof_rewrite_in_progress") == "0"
            && client.InfoField("persistence", "aof_rewrite_scheduled") == "0"
            && replica.Output.Contains("Background AOF rewrite terminated", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), replica.Output);
        string log = replica.Output;
        int loaded = log.IndexOf("MASTER <-> REPLICA sync: Finished with success", StringComparison.Ordinal);
        int firstEnd = log.IndexOf("Background AOF rewrite terminated with success", StringComparison.Ordinal);
        var seen = KilledJobLogTests.Logged(replica, ["Background AOF rewrite terminated", "Killing"]);
        seen.Add($"first rewrite ended after the load: {firstEnd > loaded}");
        seen.Add("aof_last_bgrewrite_status:" + client.InfoField("persistence", "aof_last_bgrewrite_status"));
        seen.Add($"keys:{client.Text("DBSIZE").Trim()[1..]} {client.Text("GET", "new").Trim()}");
        return seen;
    }
}
