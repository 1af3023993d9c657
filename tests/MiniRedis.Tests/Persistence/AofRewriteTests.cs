using System.Text;
using MiniRedis.Persistence.Aof;
using MiniRedis.Protocol;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// The dataset written for <c>CONFIG SET appendonly yes</c>, as an RDB preamble or as commands
/// (<see cref="AofRewriteEmitter"/>, aof-use-rdb-preamble no): every type, TTLs, several databases;
/// reloaded by us and by real Redis 7.0.15; the program compared with the one Redis's own
/// BGREWRITEAOF writes (aof-use-rdb-preamble no) for the same data.
/// </summary>
[Trait("Category", "Differential")]
public sealed class AofRewriteTests
{
    /// <summary>Absolute expiry times only, so both servers hold identical TTLs.</summary>
    internal static IEnumerable<string[]> Script()
    {
        foreach (var db in new[] { "0", "1", "5" })
        {
            yield return ["SELECT", db];
            yield return ["SET", "str", "value-" + db];
            yield return ["SET", "int", "12345"];
            yield return ["SET", "bin\0key", "v\r\n\0w"];
            yield return ["SET", "empty", ""];
            yield return ["SET", "volatile", "x", "PXAT", "4102444800000"];
            yield return ["RPUSH", "small-list", "a", "1", "-7", "b"];
            yield return ["RPUSH", "big-list", .. Enumerable.Range(0, 150).Select(i => i % 3 == 0 ? i.ToString() : $"item-{i}")];
            yield return ["PEXPIREAT", "big-list", "4102444801000"];
            yield return ["HSET", "small-hash", "f1", "v1", "n", "5", "f2", ""];
            yield return ["HSET", "big-hash", .. Enumerable.Range(0, 200).SelectMany(i => new[] { $"field-{i}", i % 2 == 0 ? i.ToString() : $"value-{i}" })];
            yield return ["PEXPIREAT", "small-hash", "4102444802000"];
            yield return ["SADD", "intset", "3", "-1", "2", "100000"];
            yield return ["SADD", "big-intset", .. Enumerable.Range(0, 130).Select(i => (i * 7).ToString())];
            yield return ["SADD", "strset", .. Enumerable.Range(0, 150).Select(i => $"m{i}")];
            yield return ["SADD", "mixed-set", "a", "1"];
            yield return ["PEXPIREAT", "strset", "4102444803000"];
            yield return ["ZADD", "small-zset", "1.5", "a", "0.1", "b", "-inf", "c", "3", "d", "1e300", "e"];
            yield return ["ZADD", "big-zset", .. Enumerable.Range(0, 150).SelectMany(i => new[] { (i / 7.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture), $"member-{i}" })];
            yield return ["PEXPIREAT", "big-zset", "4102444804000"];
        }
        yield return ["SELECT", "0"];
    }

    internal static void RunScript(ServerProcess server)
    {
        using var connection = server.Connect();
        foreach (var command in Script()) connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void ConfigSetAppendonlyYesWritesEveryTypeAndBothServersReloadIt(string preamble)
    {
        string dir = AofTestData.NewDirectory("aof-dump-");
        string redisDir = AofTestData.NewDirectory("aof-dump-redis-");
        try
        {
            string aof = Path.Combine(dir, "appendonly.aof");
            SortedDictionary<string, string> expected;
            byte[] dump;
            using (var server = AofServerProcess.MiniRedis(dir, "--appendonly", "no", "--aof-use-rdb-preamble", preamble))
            {
                RunScript(server);
                using var connection = server.Connect();
                expected = AofTestData.Snapshot(connection);
                Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("CONFIG", "SET", "appendonly", "yes")));
                dump = File.ReadAllBytes(aof);
            }
            Assert.Equal(45, expected.Count);
            Assert.Equal(preamble == "yes", dump.AsSpan().StartsWith("REDIS0010"u8));

            using (var restarted = AofServerProcess.MiniRedis(dir))
            using (var connection = restarted.Connect())
                Assert.Equal(expected, AofTestData.Snapshot(connection));

            File.WriteAllBytes(Path.Combine(redisDir, "appendonly.aof"), dump);
            using (var redis = AofServerProcess.Redis(redisDir))
            using (var connection = redis.Connect())
                Assert.Equal(expected, AofTestData.Snapshot(connection));
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(redisDir, true);
        }
    }

    [Fact]
    public void EmittedProgramMatchesRedisBgrewriteaof()
    {
        string dir = AofTestData.NewDirectory("aof-emit-");
        string redisDir = AofTestData.NewDirectory("aof-emit-redis-");
        try
        {
            using (var server = AofServerProcess.MiniRedis(dir, "--appendonly", "no", "--aof-use-rdb-preamble", "no"))
            {
                RunScript(server);
                using var connection = server.Connect();
                connection.Call("CONFIG", "SET", "appendonly", "yes");
            }
            using (var redis = AofServerProcess.Redis(redisDir, "--aof-use-rdb-preamble", "no"))
            {
                RunScript(redis);
                using var connection = redis.Connect();
                connection.Call("BGREWRITEAOF");
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (!Encoding.Latin1.GetString(connection.Call("INFO", "persistence")).Contains("aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n", StringComparison.Ordinal)
                    || !File.Exists(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.2.base.aof")))
                {
                    Assert.True(DateTime.UtcNow < deadline, "BGREWRITEAOF did not finish");
                    Thread.Sleep(50);
                }
            }
            var ours = CommandsPerKey(Path.Combine(dir, "appendonly.aof"));
            var redisProgram = CommandsPerKey(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.2.base.aof"));
            Assert.Equal(45, ours.Count);
            Assert.Equal(redisProgram, ours);
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(redisDir, true);
        }
    }

    /// <summary>
    /// Per "db key", its commands in order as "NAME argc" (with every argument for the ordered
    /// SET, RPUSH and PEXPIREAT), then the items of its SADD/HMSET/ZADD commands sorted, since hash
    /// table order is each server's own (Redis writes a big zset in its dict's order). Keys come in dictionary order, so they are compared as a map.
    /// </summary>
    static SortedDictionary<string, List<string>> CommandsPerKey(string path)
    {
        var result = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var unordered = new Dictionary<string, List<string>>();
        using var reader = new AofReader(File.OpenRead(path));
        var batch = new CommandBatch();
        string db = "";
        while (true)
        {
            batch.Clear();
            var record = reader.Next(batch);
            if (record == AofRecord.End) break;
            Assert.Equal(AofRecord.Command, record);
            var args = batch[0];
            var text = Enumerable.Range(0, args.Count).Select(i => RespConnection.Escape(args[i])).ToList();
            string name = Encoding.Latin1.GetString(args[0]);
            if (name == "SELECT")
            {
                db = Encoding.Latin1.GetString(args[1]);
                continue;
            }
            string key = $"{db} {text[1]}";
            if (!result.TryGetValue(key, out var commands)) result[key] = commands = [];
            if (name is "SADD" or "HMSET" or "ZADD")
            {
                commands.Add($"{name} {args.Count}");
                int width = name == "SADD" ? 1 : 2;
                if (!unordered.TryGetValue(key, out var items)) unordered[key] = items = [];
                items.AddRange(text.Skip(2).Chunk(width).Select(item => string.Join(" ", item)));
            }
            else
            {
                commands.Add($"{args.Count} {string.Join(" ", text)}");
            }
        }
        foreach (var (key, items) in unordered) result[key].AddRange(items.Order(StringComparer.Ordinal));
        return result;
    }
}
