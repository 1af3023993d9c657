using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// HyperLogLogs hold Redis's own bytes: after the same PFADDs, PFMERGEs and PFCOUNTs (which cache the count
/// in the header) both servers hold identical strings, sparse, dense and across the promotion; and a dump
/// written by either server gives the same values and counts in the other.
/// </summary>
[Trait("Category", "Differential")]
public sealed class HyperLogLogTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    static readonly string[] Keys = ["h1", "h2", "h3", "merged"];

    static RespNode Call(RespConnection connection, params string[] args)
    {
        connection.Send(RespConnection.EncodeCommand([.. args.Select(Encoding.Latin1.GetBytes)]));
        return connection.ReadReply();
    }

    static void Both(RespConnection redis, RespConnection mini, string context, params string[] args)
    {
        var expected = Call(redis, args).ToString();
        var actual = Call(mini, args).ToString();
        Assert.True(expected == actual, $"{context}: {string.Join(' ', args)}\n  redis: {Shorten(expected)}\n  mini:  {Shorten(actual)}");
    }

    static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "...";

    [Theory]
    [InlineData(1, "3000")]
    [InlineData(2, "3000")]
    [InlineData(3, "300")]
    public void Random_pfadd_pfmerge_pfcount_leave_the_same_bytes_as_redis(int seed, string sparseMaxBytes)
    {
        var random = new Random(seed);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        foreach (var connection in new[] { redis, mini })
        {
            Call(connection, "FLUSHALL");
            Call(connection, "CONFIG", "SET", "hll-sparse-max-bytes", sparseMaxBytes);
        }
        var encodings = new HashSet<string>();
        try
        {
            for (int step = 0; step < 300; step++)
            {
                string context = $"seed {seed} step {step}";
                string key = Keys[random.Next(3)];
                int pool = 200 * (1 + step / 20);
                var elements = Enumerable.Range(0, random.Next(4) == 0 ? 60 : 1 + random.Next(6)).Select(_ => "e" + random.Next(pool));
                Both(redis, mini, context, ["PFADD", key, .. elements]);
                switch (random.Next(4))
                {
                    case 0:
                        Both(redis, mini, context, "PFCOUNT", key);
                        break;
                    case 1:
                        Both(redis, mini, context, "PFCOUNT", "h1", "h2", "h3");
                        break;
                    case 2:
                        Both(redis, mini, context, "PFMERGE", "merged", key, Keys[random.Next(3)]);
                        break;
                }
                foreach (var k in Keys)
                {
                    Both(redis, mini, context, "GET", k);
                    encodings.Add(Call(mini, "PFDEBUG", "ENCODING", k).ToString());
                }
            }
        }
        finally
        {
            Call(redis, "CONFIG", "SET", "hll-sparse-max-bytes", "3000");
            Call(mini, "CONFIG", "SET", "hll-sparse-max-bytes", "3000");
        }
        Assert.Contains("\"+sparse\\r\\n\"", encodings);
        Assert.Contains("\"+dense\\r\\n\"", encodings);
    }

    /// <summary>PFADDs of 1000 elements each, pipelined.</summary>
    static void AddMany(RespConnection connection, string key, int count)
    {
        const int Batch = 1000;
        for (int start = 0; start < count; start += Batch)
            connection.Send(RespConnection.EncodeCommand([.. new[] { "PFADD", key }.Concat(Enumerable.Range(start, Batch).Select(i => "element:" + i)).Select(Encoding.ASCII.GetBytes)]));
        for (int start = 0; start < count; start += Batch) Assert.Equal((byte)':', connection.ReadReply().Type);
    }

    [Fact]
    public void Pfcount_of_a_million_elements_is_redis_count_within_the_standard_error_bound()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        const int Count = 1_000_000;
        foreach (var connection in new[] { redis, mini })
        {
            Call(connection, "DEL", "million");
            AddMany(connection, "million", Count);
        }
        Both(redis, mini, "1M", "GET", "million");
        var expected = Call(redis, "PFCOUNT", "million").Text;
        var actual = Call(mini, "PFCOUNT", "million").Text;
        Assert.Equal(expected, actual);
        long estimate = long.Parse(actual.AsSpan(1).Trim());
        // The standard error of 16384 registers is 0.81%: two of them.
        Assert.InRange(estimate, Count * (1 - 0.0162), Count * (1 + 0.0162));
        Both(redis, mini, "1M", "GET", "million");
    }

    /// <summary>A sparse HLL, a dense one with its count cached, and a dense one whose cache is stale.</summary>
    static void WriteSamples(RespConnection connection)
    {
        Call(connection, "FLUSHALL");
        Call(connection, "PFADD", "sparse", "a", "b", "c");
        AddMany(connection, "dense", 20_000);
        Call(connection, "PFCOUNT", "dense");
        AddMany(connection, "stale", 5000);
    }

    static Dictionary<string, string> Read(RespConnection connection) => new[] { "sparse", "dense", "stale" }
        .SelectMany(k => new[] { ("GET " + k, Call(connection, "GET", k).ToString()), ("PFCOUNT " + k, Call(connection, "PFCOUNT", k).ToString()) })
        .Append(("PFCOUNT all", Call(connection, "PFCOUNT", "sparse", "dense", "stale").ToString()))
        .ToDictionary(p => p.Item1, p => p.Item2);

    /// <summary>Saves on <paramref name="source"/> and returns a fresh directory holding its dump.rdb.</summary>
    static string SaveInto(RespConnection source)
    {
        Assert.Equal("+OK\r\n", Call(source, "SAVE").Text);
        var dir = Call(source, "CONFIG", "GET", "dir").Children[1].Text.Split("\r\n")[1];
        var target = Directory.CreateTempSubdirectory("hll-rdb-").FullName;
        File.Copy(Path.Combine(dir, "dump.rdb"), Path.Combine(target, "dump.rdb"));
        return target;
    }

    [Fact]
    public void Hll_saved_here_loads_in_redis_with_the_same_bytes_and_counts()
        => AssertDumpCrosses(servers.Mini, dir => new RealRedisProcess("--dir", dir, "--dbfilename", "dump.rdb"));

    [Fact]
    public void Hll_saved_by_redis_loads_here_with_the_same_bytes_and_counts()
        => AssertDumpCrosses(servers.Redis, dir => new MiniRedisProcess("--dir", dir, "--dbfilename", "dump.rdb"));

    /// <summary>The samples written and saved on <paramref name="writer"/> read the same on a server started from that dump.</summary>
    static void AssertDumpCrosses(ServerProcess writer, Func<string, ServerProcess> startFromDump)
    {
        using var source = writer.Connect();
        WriteSamples(source);
        // Read after the save: PFCOUNT of the stale key caches its count, as it will on the loading side.
        string dir = SaveInto(source);
        var before = Read(source);
        try
        {
            using var loaded = startFromDump(dir);
            using var connection = loaded.Connect();
            Assert.Equal(before, Read(connection));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Debug_reload_keeps_the_bytes_and_counts_on_both_servers()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        WriteSamples(redis);
        WriteSamples(mini);
        Assert.Equal(Read(redis), Read(mini));
        // Read again: the first PFCOUNTs cached their counts, and the reload must keep the cached bytes.
        var expected = Read(redis);
        Assert.Equal(expected, Read(mini));
        Call(redis, "DEBUG", "RELOAD");
        Assert.Equal("+OK\r\n", Call(mini, "DEBUG", "RELOAD").Text);
        Assert.Equal(expected, Read(redis));
        Assert.Equal(expected, Read(mini));
    }

    [Fact]
    public void Pfselftest_passes()
    {
        using var mini = servers.Mini.Connect();
        Assert.Equal("+OK\r\n", Call(mini, "PFSELFTEST").Text);
    }
}
