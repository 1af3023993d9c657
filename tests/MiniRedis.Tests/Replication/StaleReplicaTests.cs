using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// <c>replica-serve-stale-data no</c>: while the link with the master is down, commands without the
/// stale flag get -MASTERDOWN, as Redis 7.0.15 answers them; once the link is up they are served.
/// </summary>
[Trait("Category", "Differential")]
public sealed class StaleReplicaTests
{
    static readonly string[][] Commands =
    [
        ["GET", "x"], ["SET", "x", "1"], ["PING"], ["ECHO", "a"], ["DBSIZE"], ["CONFIG", "GET", "replica-serve-stale-data"],
        ["MULTI"], ["GET", "x"], ["EXEC"],
        ["MULTI"], ["ECHO", "b"], ["EXEC"],
        ["MULTI"], ["ECHO", "c"], ["PING"], ["EXEC"],
    ];

    [Fact]
    public void ReplicaWithItsLinkDownAnswersMasterDownLikeRedis()
    {
        string nowhere = ServerProcess.FreePort().ToString();
        // Set once started: the harness waits for a PING answered, which a stale replica refuses.
        string[] directives = ["--replicaof", "127.0.0.1", nowhere];
        using var real = new RealRedisProcess(directives);
        using var mini = new MiniRedisProcess(directives);
        Assert.Equal(Replies(real), Replies(mini));
        Assert.Contains("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", Replies(mini)[0]);
    }

    [Fact]
    public void StaleReplicaServesAgainOnceTheLinkIsUp()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) connection.Call("SET", "x", "from master");
        using var replica = new MiniRedisProcess();
        using var onReplica = replica.Connect();
        onReplica.Call("CONFIG", "SET", "replica-serve-stale-data", "no");
        onReplica.Call("REPLICAOF", "127.0.0.1", ServerProcess.FreePort().ToString());
        Assert.StartsWith("-MASTERDOWN ", onReplica.Text("GET", "x"));
        onReplica.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal("$11\r\nfrom master\r\n", onReplica.Text("GET", "x"));
    }

    static List<string> Replies(ServerProcess server)
    {
        using var connection = server.Connect();
        connection.Call("CONFIG", "SET", "replica-serve-stale-data", "no");
        return [.. Commands.Select(command => connection.Text(command))];
    }
}
