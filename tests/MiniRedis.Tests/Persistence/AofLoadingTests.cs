using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>Loading at start, in process: torn tails, corruption, -LOADING while a load runs, CONFIG SET appendonly.</summary>
[Trait("Category", "Differential")]
public sealed class AofLoadingTests() : AofBootTests("aof-load-")
{
    /// <summary>Units of the file (a transaction is one unit) with the keys each leaves behind.</summary>
    static readonly (byte[] Bytes, string[] Keys)[] Units =
    [
        (Command("SELECT", "0"), []),
        (Command("SET", "a", "1"), ["a"]),
        ([.. Encoding.ASCII.GetBytes("#TS:1700000000\r\n"), .. Command("SET", "b", "2")], ["b"]),
        ([.. Command("MULTI"), .. Command("SET", "c", "3"), .. Command("INCR", "c"), .. Command("EXEC")], ["c"]),
        (Command("SET", "last", "value-with-some-length"), ["last"]),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TornTailAtEveryOffsetLoadsOrRefusesPerAofLoadTruncated(bool loadTruncated)
    {
        byte[] whole = [.. Units.SelectMany(u => u.Bytes)];
        int tailStart = Units.Take(3).Sum(u => u.Bytes.Length);
        for (int cut = tailStart; cut <= whole.Length; cut++)
        {
            File.WriteAllBytes(AofPath, whole[..cut]);
            // The complete units before the cut survive; the unit it tears is dropped whole.
            int end = 0, units = 0;
            while (units < Units.Length && end + Units[units].Bytes.Length <= cut) end += Units[units++].Bytes.Length;
            bool torn = end != cut;
            var (server, started, log) = Boot($"aof-load-truncated {(loadTruncated ? "yes" : "no")}");
            Assert.True(started == (loadTruncated || !torn), $"cut {cut}: started={started}; log: {string.Join(" | ", log.Lines)}");
            if (!started)
            {
                Assert.Contains(log.Lines, l => l.Contains("Unexpected end of file", StringComparison.Ordinal) && l.Contains($"offset {end}", StringComparison.Ordinal));
                continue;
            }
            Assert.Equal(end, new FileInfo(AofPath).Length);
            var client = new InProcessClient(server);
            string[] expected = [.. Units.Take(units).SelectMany(u => u.Keys).Order(StringComparer.Ordinal)];
            Assert.Equal(expected.Length.ToString(), client.Run("DBSIZE")[1..^2]);
            if (expected.Contains("c")) Assert.Equal("$1\r\n4\r\n", client.Run("GET c"));
        }
    }

    [Fact]
    public void CorruptionBeforeTheTailRefusesToStartNamingTheOffset()
    {
        byte[] good = Command("SET", "a", "1");
        File.WriteAllBytes(AofPath, [.. good, .. "garbage\r\n"u8, .. Command("SET", "b", "2")]);
        var (_, started, log) = Boot();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains($"Bad file format reading the append only file {AofPath} at offset {good.Length}", StringComparison.Ordinal) && l.Contains("miniredis-check-aof", StringComparison.Ordinal));
    }

    /// <summary>Redis 7.0 (isAOFLoadingContext) neither times nor counts replayed commands, inside EXEC either.</summary>
    [Fact]
    public void ReplayedCommandsAreNotCountedInStats()
    {
        File.WriteAllBytes(AofPath, [.. Command("SELECT", "0"), .. Command("SET", "a", "1"), .. Command("MULTI"), .. Command("INCR", "a"), .. Command("EXEC")]);
        var (server, started, _) = Boot();
        Assert.True(started);
        var client = new InProcessClient(server);
        Assert.Equal("$1\r\n2\r\n", client.Run("GET a"));
        Assert.DoesNotContain("cmdstat_set", client.Run("INFO commandstats"));
        Assert.DoesNotContain("cmdstat_incr", client.Run("INFO commandstats"));
        Assert.Contains("cmdstat_get:calls=1,", client.Run("INFO commandstats"));
    }

    [Fact]
    public void RdbPreambleIsRefusedWithAClearError()
    {
        File.WriteAllBytes(AofPath, [.. "REDIS0010"u8, 0xFA]);
        var (_, started, log) = Boot();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains("RDB preamble", StringComparison.Ordinal));
    }

    [Fact]
    public void ClientsGetLoadingWhileTheFileLoads()
    {
        using (var file = new FileStream(AofPath, FileMode.Create))
        {
            for (int i = 0; i < 300_000; i++) file.Write(Command("SET", $"key:{i}", "value"));
        }
        var log = new CollectingLogger();
        var server = new RedisServer(ServerConfig.Parse($"dir {Dir}\nappendonly yes"), log);
        Servers.Add(server);
        server.Start();
        var client = new InProcessClient(server);
        var done = new TaskCompletionSource<bool>();
        server.Persistence.LoadAtStart(done.SetResult);
        Assert.Equal("-LOADING Redis is loading the dataset in memory\r\n", client.Run("PING"));
        string info = client.Run("INFO persistence");
        Assert.Contains("loading:1\r\n", info);
        Assert.Contains("loading_total_bytes:" + new FileInfo(AofPath).Length, info);
        Assert.True(done.Task.Wait(TimeSpan.FromSeconds(60)) && done.Task.Result);
        Assert.Equal("+PONG\r\n", client.Run("PING"));
        Assert.Equal(":300000\r\n", client.Run("DBSIZE"));
        Assert.Contains("loading:0\r\n", client.Run("INFO persistence"));
        Assert.Contains(log.Lines, l => l.StartsWith("DB loaded from append only file", StringComparison.Ordinal) && l.Contains("300000 keys", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigSetAppendonlyYesWritesTheDatasetThenLogs()
    {
        var server = new RedisServer(ServerConfig.Parse($"dir {Dir}\nappendonly no"));
        Servers.Add(server);
        server.Start();
        var client = new InProcessClient(server);
        client.Run("SET plain v");
        client.Run("SET volatile v PXAT 4102444800000");
        client.Run("SELECT 2");
        client.Run("SET other v");
        Assert.Null(client.OnExecutor(() => server.Config.Set([("appendonly", "yes")])));
        Assert.Contains("aof_enabled:1\r\n", client.Run("INFO persistence"));
        client.Run("SET later v");
        Assert.Null(client.OnExecutor(() => server.Config.Set([("appendonly", "no")])));
        client.Run("SET unlogged v");
        Assert.Contains("aof_enabled:0\r\n", client.Run("INFO persistence"));

        var (reloaded, started, _) = Boot();
        Assert.True(started);
        var check = new InProcessClient(reloaded);
        Assert.Equal("$1\r\nv\r\n", check.Run("GET plain"));
        Assert.Equal(":4102444800000\r\n", check.Run("PEXPIRETIME volatile"));
        check.Run("SELECT 2");
        Assert.Equal("$1\r\nv\r\n", check.Run("GET other"));
        Assert.Equal("$1\r\nv\r\n", check.Run("GET later"));
        Assert.Equal("$-1\r\n", check.Run("GET unlogged"));
    }

    [Fact]
    public void TimestampAnnotationsAreWrittenWhenEnabled()
    {
        var (server, started, _) = Boot("aof-timestamp-enabled yes");
        Assert.True(started);
        new InProcessClient(server).Run("SET k v");
        string text = File.ReadAllText(AofPath);
        Assert.Matches(@"^#TS:\d{10}\r\n\*2\r\n\$6\r\nSELECT\r\n\$1\r\n0\r\n\*3\r\n\$3\r\nSET\r\n", text);
    }
}
