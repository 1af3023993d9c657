using System.Diagnostics;
using System.Text;
using MiniRedis.Persistence.Aof;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// AOFs with an RDB preamble cross both ways with real Redis 7.0.15: Redis's base .rdb plus its incr
/// file, joined into one old-style AOF, loads in ours; the preamble AOF our BGREWRITEAOF writes loads
/// in Redis (as an old-style appendonly.aof it upgrades, and as the base of a manifest), and Debian's
/// redis-check-aof accepts it with the report ours gives.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RdbPreambleInteropTests
{
    /// <summary>Writes after the rewrite: they land in the incr file (Redis) or the tail after the preamble (ours).</summary>
    internal static readonly string[][] LaterWrites =
    [
        ["SET", "after", "rewrite"], ["INCR", "counter"], ["INCR", "counter"], ["DEL", "str"], ["RPUSH", "small-list", "tail"],
        ["SELECT", "5"], ["HSET", "small-hash", "late", "field"], ["PEXPIREAT", "str", "4102444900000"], ["SELECT", "0"], ["INCR", "counter"],
    ];

    internal static void Run(ServerProcess server, IEnumerable<string[]> commands)
    {
        using var connection = server.Connect();
        foreach (var command in commands) connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
    }

    /// <summary>Redis's BGREWRITEAOF is done once the rewrite is over and the new manifest names base <paramref name="seq"/>.</summary>
    internal static void RedisRewriteAndWait(ServerProcess redis, string dir, int seq)
    {
        using var connection = redis.Connect();
        connection.Call("BGREWRITEAOF");
        var clock = Stopwatch.StartNew();
        while (!Encoding.Latin1.GetString(connection.Call("INFO", "persistence")).Contains("aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n", StringComparison.Ordinal)
            || !File.ReadAllText(Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest")).Contains($"seq {seq} type b", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "BGREWRITEAOF did not finish");
            Thread.Sleep(50);
        }
    }

    /// <summary>SHUTDOWN (everything fsynced, unlike a kill), then the process is gone.</summary>
    internal static void Shutdown(ServerProcess server)
    {
        using (var connection = server.Connect()) connection.Send(RespConnection.EncodeCommand([.. new[] { "SHUTDOWN" }.Select(Encoding.ASCII.GetBytes)]));
        Assert.NotNull(server.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    static (string Output, int ExitCode) RunTool(string tool, string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (output, process.ExitCode);
    }

    internal static (string Output, int ExitCode) RunRedisTool(string name, string workingDirectory, params string[] arguments) =>
        RunTool(RealRedisProcess.ExecutablePath(name), workingDirectory, arguments);

    [Fact]
    public void Preamble_aofs_cross_both_ways_with_redis()
    {
        string redisDir = AofTestData.NewDirectory("preamble-redis-");
        string ourDir = AofTestData.NewDirectory("preamble-ours-");
        string upgradeDir = AofTestData.NewDirectory("preamble-upgrade-");
        string manifestDir = AofTestData.NewDirectory("preamble-manifest-");
        try
        {
            SortedDictionary<string, string> expected;
            using (var redis = AofServerProcess.Redis(redisDir))
            {
                AofRewriteTests.RunScript(redis);
                RedisRewriteAndWait(redis, redisDir, 2);
                Run(redis, LaterWrites);
                using (var connection = redis.Connect()) expected = AofTestData.Snapshot(connection);
                Shutdown(redis);
            }
            string parts = Path.Combine(redisDir, "appendonlydir");
            byte[] redisBase = File.ReadAllBytes(Path.Combine(parts, "appendonly.aof.2.base.rdb"));
            Assert.StartsWith("REDIS0010", Encoding.Latin1.GetString(redisBase));
            File.WriteAllBytes(Path.Combine(ourDir, "appendonly.aof"), [.. redisBase, .. File.ReadAllBytes(Path.Combine(parts, "appendonly.aof.2.incr.aof"))]);

            SortedDictionary<string, string> ours;
            using (var server = AofServerProcess.MiniRedis(ourDir))
            {
                using var connection = server.Connect();
                Assert.Equal(expected, AofTestData.Snapshot(connection));
                RewriteBackgroundTests.AssertLogged(server, "Reading RDB preamble from AOF file");
                RewriteBackgroundTests.RewriteAndWait(connection);
                Run(server, [["SET", "written", "after our rewrite"], ["SELECT", "1"], ["DEL", "int"], ["SELECT", "0"]]);
                ours = AofTestData.Snapshot(connection);
                Shutdown(server);
            }
            string ourAof = Path.Combine(ourDir, "appendonly.aof");
            byte[] ourBytes = File.ReadAllBytes(ourAof);
            Assert.StartsWith("REDIS0010", Encoding.Latin1.GetString(ourBytes));

            var (redisReport, redisExit) = RunRedisTool("redis-check-aof", ourDir, "appendonly.aof");
            Assert.Equal(0, redisExit);
            var (ourReport, ourExit) = AofChecker.Describe("appendonly.aof", AofChecker.Check(ourBytes, "appendonly.aof"));
            Assert.Equal((redisReport, redisExit), (ourReport, ourExit));
            Assert.Contains("RDB preamble is OK, proceeding with AOF tail...", ourReport);

            // Redis 7.0 upgrades an old-style appendonly.aof into its directory at start.
            File.WriteAllBytes(Path.Combine(upgradeDir, "appendonly.aof"), ourBytes);
            using (var redis = AofServerProcess.Redis(upgradeDir))
            using (var connection = redis.Connect())
                Assert.Equal(ours, AofTestData.Snapshot(connection));

            // As the base of a manifest: a base .aof may itself start with a preamble.
            Directory.CreateDirectory(Path.Combine(manifestDir, "appendonlydir"));
            File.WriteAllBytes(Path.Combine(manifestDir, "appendonlydir", "appendonly.aof.1.base.aof"), ourBytes);
            File.WriteAllText(Path.Combine(manifestDir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof.1.base.aof seq 1 type b\n");
            using (var redis = AofServerProcess.Redis(manifestDir))
            using (var connection = redis.Connect())
                Assert.Equal(ours, AofTestData.Snapshot(connection));
        }
        finally
        {
            foreach (var dir in new[] { redisDir, ourDir, upgradeDir, manifestDir }) Directory.Delete(dir, true);
        }
    }
}
