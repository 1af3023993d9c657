using System.Text;
using MiniRedis.Tests.Differential;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// Function libraries cross with real Redis 7.0.15 through every way they persist: the AOF (FUNCTION
/// LOAD/DELETE as commands, FCALL as its effects), the rewritten AOF (RDB preamble or FUNCTION LOAD
/// commands), the RDB (FUNCTION2 records), DEBUG RELOAD, and FUNCTION DUMP / RESTORE payloads.
/// </summary>
[Trait("Category", "Differential")]
public sealed class FunctionPersistenceTests
{
    const string LibA = "#!lua name=liba\n" +
        "redis.register_function('seta', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
        "redis.register_function{function_name='geta', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}";
    const string LibB = "#!lua name=libb\nredis.register_function('twice', function(keys) redis.call('incr', keys[1]) return redis.call('incr', keys[1]) end)";
    const string LibC = "#!lua name=libc\nredis.register_function('gone', function() return 'gone' end)";

    static readonly string[][] Script =
    [
        ["FUNCTION", "LOAD", LibA],
        ["FUNCTION", "LOAD", LibB],
        ["FUNCTION", "LOAD", LibC],
        ["FCALL", "seta", "1", "k", "v"],
        ["FCALL", "twice", "1", "n"],
        ["FUNCTION", "DELETE", "libc"],
        ["FUNCTION", "LOAD", "REPLACE", LibB],
        ["FCALL", "twice", "1", "n"],
    ];

    static void RunScript(ServerProcess server)
    {
        using var connection = server.Connect();
        foreach (var command in Script)
        {
            var reply = connection.Call(command);
            Assert.True(reply[0] != (byte)'-', $"{string.Join(' ', command[..2])}: {RespConnection.Escape(reply)}");
        }
    }

    /// <summary>The libraries (in any order) with their code, and what their functions read back.</summary>
    static string State(ServerProcess server)
    {
        using var connection = server.Connect();
        connection.Send(RespConnection.EncodeCommand([.. new[] { "FUNCTION", "LIST", "WITHCODE" }.Select(Encoding.UTF8.GetBytes)]));
        var libraries = CorpusLine.SortedForm(connection.ReadReply());
        var get = RespConnection.Escape(connection.Call("FCALL", "geta", "1", "k"));
        var counter = RespConnection.Escape(connection.Call("GET", "n"));
        var gone = RespConnection.Escape(connection.Call("FCALL", "gone", "0"));
        return $"{libraries}\n{get} {counter} {gone}";
    }

    static void WithDirectories(int count, Action<string[]> test)
    {
        var dirs = Enumerable.Range(0, count).Select(_ => AofTestData.NewDirectory("functions-")).ToArray();
        try
        {
            test(dirs);
        }
        finally
        {
            foreach (var dir in dirs) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Aof_has_the_bytes_of_redis_and_loads_both_ways() => WithDirectories(4, dirs =>
    {
        var (ourDir, redisDir, ourCopy, redisCopy) = (dirs[0], dirs[1], dirs[2], dirs[3]);
        string expected;
        using (var ours = AofServerProcess.MiniRedis(ourDir))
        using (var redis = AofServerProcess.Redis(redisDir))
        {
            RunScript(ours);
            RunScript(redis);
            expected = State(redis);
            Assert.Contains("liba", expected);
            Assert.Equal(expected, State(ours));
            var ourAof = Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(ourDir, "appendonly.aof")));
            Assert.Equal(ourAof, RedisAofOnceWritten(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.1.incr.aof"), ourAof.Length));
        }
        File.Copy(Path.Combine(ourDir, "appendonly.aof"), Path.Combine(ourCopy, "appendonly.aof"));
        using (var redisLoadingOurs = AofServerProcess.Redis(ourCopy)) Assert.Equal(expected, State(redisLoadingOurs));
        File.Copy(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.1.incr.aof"), Path.Combine(redisCopy, "appendonly.aof"));
        using (var oursLoadingRedis = AofServerProcess.MiniRedis(redisCopy)) Assert.Equal(expected, State(oursLoadingRedis));
    });

    /// <summary>
    /// Redis's file once it is <paramref name="length"/> bytes long or 5 s passed: with everysec, while
    /// its background fsync is slow (a loaded disk), Redis postpones the write up to 2 s and replies anyway.
    /// </summary>
    static string RedisAofOnceWritten(string path, int length)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (new FileInfo(path).Length < length && DateTime.UtcNow < deadline) Thread.Sleep(50);
        return Encoding.Latin1.GetString(File.ReadAllBytes(path));
    }

    static void Rewrite(ServerProcess server)
    {
        using var connection = server.Connect();
        Assert.StartsWith("+Background append only file rewriting", Encoding.ASCII.GetString(connection.Call("BGREWRITEAOF")));
        // Both servers put the new file in place in the step that ends the rewrite (Redis's
        // backgroundRewriteDoneHandler before resetChildState, our job's completion before it is let go).
        Assert.True(Wait.Until(() =>
        {
            string info = Encoding.ASCII.GetString(connection.Call("INFO", "persistence"));
            return info.Contains("aof_rewrite_in_progress:0", StringComparison.Ordinal) && info.Contains("aof_rewrite_scheduled:0", StringComparison.Ordinal);
        }), "the rewrite did not finish");
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Rewritten_aof_carries_the_libraries(string preamble) => WithDirectories(2, dirs =>
    {
        string expected;
        using (var ours = AofServerProcess.MiniRedis(dirs[0], "--aof-use-rdb-preamble", preamble))
        {
            RunScript(ours);
            expected = State(ours);
            Rewrite(ours);
            var rewritten = File.ReadAllBytes(Path.Combine(dirs[0], "appendonly.aof"));
            Assert.Equal(preamble == "yes", rewritten.AsSpan().StartsWith("REDIS"u8));
            if (preamble == "no") Assert.StartsWith("*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n", Encoding.Latin1.GetString(rewritten));
        }
        using (var restarted = AofServerProcess.MiniRedis(dirs[0])) Assert.Equal(expected, State(restarted));
        File.Copy(Path.Combine(dirs[0], "appendonly.aof"), Path.Combine(dirs[1], "appendonly.aof"));
        using (var redis = AofServerProcess.Redis(dirs[1])) Assert.Equal(expected, State(redis));
    });

    [Fact]
    public void Rewrite_without_preamble_writes_the_bytes_of_redis() => WithDirectories(2, dirs =>
    {
        string[][] script = [["FUNCTION", "LOAD", LibA], ["SET", "k", "v"]];
        using var ours = AofServerProcess.MiniRedis(dirs[0], "--aof-use-rdb-preamble", "no");
        using var redis = AofServerProcess.Redis(dirs[1], "--aof-use-rdb-preamble", "no");
        foreach (var server in new ServerProcess[] { ours, redis })
        {
            using (var connection = server.Connect())
            {
                foreach (var command in script) Assert.NotEqual((byte)'-', connection.Call(command)[0]);
            }
            Rewrite(server);
        }
        var redisBase = File.ReadAllBytes(Directory.GetFiles(Path.Combine(dirs[1], "appendonlydir"), "*.base.aof").Single());
        Assert.Equal(Encoding.Latin1.GetString(redisBase), Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(dirs[0], "appendonly.aof"))));
    });

    static void Save(ServerProcess server)
    {
        using var connection = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(connection.Call("SAVE")));
    }

    /// <summary>FUNCTION DUMP without its version and CRC: the FUNCTION2 records rdbSaveFunctions writes into a dump.</summary>
    static byte[] FunctionRecords(ServerProcess server)
    {
        using var connection = server.Connect();
        connection.Send(RespConnection.EncodeCommand([.. new[] { "FUNCTION", "DUMP" }.Select(Encoding.UTF8.GetBytes)]));
        var payload = AofTestData.Bulk(connection.ReadReply());
        return payload[..^10];
    }

    [Fact]
    public void Rdb_crosses_both_ways_with_the_records_of_redis() => WithDirectories(2, dirs =>
    {
        string expected;
        byte[] redisRecords;
        using (var ours = new MiniRedisProcess("--dir", dirs[0]))
        using (var redis = new RealRedisProcess("--dir", dirs[1]))
        {
            RunScript(ours);
            RunScript(redis);
            expected = State(redis);
            Assert.Equal(expected, State(ours));
            Save(ours);
            Save(redis);
            using (var connection = redis.Connect()) connection.Call("FUNCTION", "DELETE", "libb");
            redisRecords = FunctionRecords(redis);
        }
        using (var redisLoadingOurs = new RealRedisProcess("--dir", dirs[0])) Assert.Equal(expected, State(redisLoadingOurs));
        using (var oursLoadingRedis = new MiniRedisProcess("--dir", dirs[1])) Assert.Equal(expected, State(oursLoadingRedis));

        // One library, so one possible order: our dump holds Redis's FUNCTION2 record byte for byte.
        using (var ours = new MiniRedisProcess("--dir", dirs[0]))
        {
            using (var connection = ours.Connect()) connection.Call("FUNCTION", "DELETE", "libb");
            Assert.Equal(Convert.ToHexString(redisRecords), Convert.ToHexString(FunctionRecords(ours)));
            Save(ours);
            Assert.True(File.ReadAllBytes(Path.Combine(dirs[0], "dump.rdb")).AsSpan().IndexOf(redisRecords) > 0);
        }
    });

    [Fact]
    public void Debug_reload_keeps_the_libraries_as_redis_does()
    {
        using var ours = new MiniRedisProcess();
        using var redis = new RealRedisProcess();
        foreach (var server in new ServerProcess[] { ours, redis })
        {
            RunScript(server);
            using var connection = server.Connect();
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(connection.Call("DEBUG", "RELOAD")));
        }
        Assert.Equal(State(redis), State(ours));
        Assert.Contains("libb", State(ours));
    }

    static string Restore(ServerProcess server, byte[] payload, string? policy = null)
    {
        using var connection = server.Connect();
        byte[][] args = [Encoding.ASCII.GetBytes("FUNCTION"), Encoding.ASCII.GetBytes("RESTORE"), payload, .. policy is null ? Array.Empty<byte[]>() : [Encoding.ASCII.GetBytes(policy)]];
        return Encoding.Latin1.GetString(connection.Call(args));
    }

    static byte[] Dump(ServerProcess server)
    {
        using var connection = server.Connect();
        connection.Send(RespConnection.EncodeCommand([.. new[] { "FUNCTION", "DUMP" }.Select(Encoding.UTF8.GetBytes)]));
        return AofTestData.Bulk(connection.ReadReply());
    }

    [Fact]
    public void Function_dump_restores_across_and_a_damaged_payload_changes_nothing()
    {
        using var ours = new MiniRedisProcess();
        using var redis = new RealRedisProcess();
        RunScript(redis);
        var redisPayload = Dump(redis);
        Assert.Equal("+OK\r\n", Restore(ours, redisPayload));
        using (var connection = ours.Connect())
        {
            connection.Call("FCALL", "seta", "1", "k", "v");
            connection.Call("FCALL", "twice", "1", "n");
            connection.Call("FCALL", "twice", "1", "n");
        }
        Assert.Equal(State(redis), State(ours));

        using var fresh = new RealRedisProcess();
        Assert.Equal("+OK\r\n", Restore(fresh, Dump(ours)));
        using (var connection = fresh.Connect())
        {
            connection.Call("SET", "k", "v");
            connection.Call("SET", "n", "4");
        }
        Assert.Equal(State(ours), State(fresh));

        // Damage anywhere (a flipped bit in a record, a truncated footer) is refused as Redis refuses it, and nothing changes.
        var before = State(ours);
        var flipped = (byte[])redisPayload.Clone();
        flipped[flipped.Length / 2] ^= 0x20;
        foreach (var damaged in new[] { flipped, redisPayload[..^1], redisPayload[..5] })
        {
            foreach (var policy in new[] { "FLUSH", "REPLACE" })
            {
                Assert.Equal(Restore(redis, damaged, policy), Restore(ours, damaged, policy));
                Assert.Equal(before, State(ours));
            }
        }
    }
}
