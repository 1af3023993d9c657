using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// Our AOF against real Redis 7.0.15's: the same command script gives the same bytes as Redis's incr
/// file, and files cross both ways to identical datasets. Covers every write command in the server
/// today: strings, hashes, sets, generic key commands, database commands, transactions.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class AofInteropTests
{
    /// <summary>Every write command (and no-op writes, which log nothing), run line by line on both servers.</summary>
    static readonly string[][] Script =
    [
        ["SET", "s1", "v1"], ["SET", "s2", "hello", "EX", "100"], ["SET", "s3", "x", "PX", "100000"],
        ["SET", "s4", "y", "EXAT", "4102444800"], ["SET", "s5", "z", "PXAT", "4102444800000"], ["SET", "s5", "z2", "KEEPTTL"],
        ["SET", "s1", "v3", "GET"], ["SET", "s1", "v4", "get", "XX"], ["SET", "s5", "z3", "PXAT", "4102444800000", "GET"], ["SET", "s1", "nx", "NX"], ["SET", "s6", "q", "XX"], ["SET", "s3", "xx", "XX", "GET", "EX", "200"],
        ["SETNX", "s1", "a"], ["SETNX", "s7", "b"], ["SETEX", "s8", "100", "c"], ["PSETEX", "s9", "100000", "d"],
        ["MSET", "m1", "1", "m2", "2"], ["MSETNX", "m1", "x", "m3", "y"], ["MSETNX", "n1", "1", "n2", "2"],
        ["APPEND", "s1", "tail"], ["SETRANGE", "s1", "2", "XY"], ["SETRANGE", "s10", "3", "pad"], ["SETRANGE", "s1", "0", ""],
        ["INCR", "c1"], ["INCRBY", "c1", "10"], ["DECR", "c1"], ["DECRBY", "c1", "5"],
        ["INCRBYFLOAT", "f1", "1.5"], ["INCRBYFLOAT", "f1", "2.25e2"], ["INCRBYFLOAT", "s4", "3"],
        ["GETSET", "s1", "new"], ["GETDEL", "m2"], ["GETDEL", "missing"],
        ["GETEX", "s2", "PERSIST"], ["GETEX", "s7", "EX", "50"], ["GETEX", "s7", "PXAT", "4102444800000"], ["GETEX", "missing", "EX", "10"], ["GETEX", "s1"],
        ["EXPIRE", "s1", "100"], ["PEXPIRE", "m1", "100000"], ["EXPIREAT", "n1", "4102444800"], ["PEXPIREAT", "n2", "4102444800000"],
        ["EXPIRE", "s10", "-1"], ["PERSIST", "s1"], ["PERSIST", "s1"], ["EXPIRE", "s7", "100", "NX"], ["EXPIRE", "s7", "200", "GT"], ["EXPIRE", "nokey", "10"],
        ["DEL", "s9", "nokey"], ["UNLINK", "s8"], ["DEL", "nokey"],
        ["RENAME", "c1", "c2"], ["RENAMENX", "c2", "f1"], ["COPY", "c2", "c3"], ["COPY", "c2", "c3", "REPLACE"], ["MOVE", "c3", "5"], ["COPY", "f1", "f9", "DB", "7"],
        ["SELECT", "3"], ["SET", "d3", "x"], ["SELECT", "0"], ["SET", "back", "y"],
        ["MULTI"], ["SET", "t1", "1"], ["INCR", "t1"], ["EXEC"], ["MULTI"], ["GET", "t1"], ["EXEC"], ["MULTI"], ["SET", "t2", "only"], ["EXEC"],
        ["SWAPDB", "0", "3"], ["SWAPDB", "0", "3"], ["SELECT", "3"], ["FLUSHDB"], ["SELECT", "0"], ["SET", "after", "flush"],
        ["SET", "bin\x00key", "v\r\nw"], ["SET", "empty", ""],
        ["HSET", "h1", "f1", "v1", "f2", "v2"], ["HSET", "h1", "f1", "v1"], ["HSETNX", "h1", "f3", "v3"], ["HSETNX", "h1", "f3", "x"], ["HMSET", "h1", "f4", "4"],
        ["HDEL", "h1", "f2", "nofield"], ["HDEL", "h1", "nofield"], ["HINCRBY", "h1", "f4", "10"], ["HINCRBYFLOAT", "h1", "f5", "1.5"], ["HINCRBYFLOAT", "h1", "f5", "1e3"],
        ["HSET", "h2", "only", "1"], ["HDEL", "h2", "only"], ["EXPIRE", "h1", "1000"],
        ["SADD", "set1", "a", "b", "c", "1"], ["SADD", "set1", "a"], ["SREM", "set1", "b", "zz"], ["SREM", "set1", "zz"], ["SMOVE", "set1", "set2", "c"], ["SMOVE", "set1", "set2", "zz"],
        ["SADD", "one", "x"], ["SPOP", "one"], ["SADD", "one", "x", "y"], ["SPOP", "one", "5"], ["SADD", "ints", "1", "2", "3"],
        ["SINTERSTORE", "dst1", "set1", "ints"], ["SUNIONSTORE", "dst2", "set1", "ints"], ["SDIFFSTORE", "dst3", "ints", "set1"], ["SINTERSTORE", "dst2", "nokey", "ints"],
    ];

    static void RunScript(ServerProcess server)
    {
        using var connection = server.Connect();
        foreach (var command in Script) connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
    }

    /// <summary>Absolute unix-ms times written now (SET EX → PXAT, EXPIRE → PEXPIREAT) differ by the run's milliseconds.</summary>
    static string NormalizeTimes(byte[] aof) => NowMs().Replace(Encoding.Latin1.GetString(aof), "<now-ms>");

    [GeneratedRegex(@"(?<![0-9])1[7-9][0-9]{11}(?![0-9])")]
    private static partial Regex NowMs();

    [Fact]
    public void SameScriptGivesTheBytesOfRedisIncrAof()
    {
        string ourDir = AofTestData.NewDirectory("aof-ours-");
        string redisDir = AofTestData.NewDirectory("aof-redis-");
        try
        {
            using (var ours = AofServerProcess.MiniRedis(ourDir)) RunScript(ours);
            using (var redis = AofServerProcess.Redis(redisDir))
            {
                RunScript(redis);
                // Reply bytes are sent after the write under every policy, so both files are complete now.
                var redisAof = File.ReadAllBytes(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.1.incr.aof"));
                var ourAof = File.ReadAllBytes(Path.Combine(ourDir, "appendonly.aof"));
                Assert.Equal(NormalizeTimes(redisAof), NormalizeTimes(ourAof));
            }
        }
        finally
        {
            Directory.Delete(ourDir, true);
            Directory.Delete(redisDir, true);
        }
    }

    [Fact]
    public void OurAofLoadsInRedisAndRedisAofLoadsInOurs()
    {
        string ourDir = AofTestData.NewDirectory("aof-ours-");
        string redisDir = AofTestData.NewDirectory("aof-redis-");
        string ourCopyDir = AofTestData.NewDirectory("aof-ours-copy-");
        string redisCopyDir = AofTestData.NewDirectory("aof-redis-copy-");
        try
        {
            using var ours = AofServerProcess.MiniRedis(ourDir);
            using var redis = AofServerProcess.Redis(redisDir);
            RunScript(ours);
            RunScript(redis);
            SortedDictionary<string, string> ourData, redisData;
            using (var c = ours.Connect()) ourData = AofTestData.Snapshot(c);
            using (var c = redis.Connect()) redisData = AofTestData.Snapshot(c);
            Assert.NotEmpty(ourData);

            // Our single file as an old-style appendonly.aof: Redis upgrades it into appendonlydir on start.
            File.Copy(Path.Combine(ourDir, "appendonly.aof"), Path.Combine(ourCopyDir, "appendonly.aof"));
            using (var redisLoadingOurs = AofServerProcess.Redis(ourCopyDir))
            using (var c = redisLoadingOurs.Connect())
                Assert.Equal(ourData, AofTestData.Snapshot(c));

            // Redis's incr file (its base is an empty RDB: the server started empty) as our appendonly.aof.
            File.Copy(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.1.incr.aof"), Path.Combine(redisCopyDir, "appendonly.aof"));
            using (var oursLoadingRedis = AofServerProcess.MiniRedis(redisCopyDir))
            using (var c = oursLoadingRedis.Connect())
                Assert.Equal(redisData, AofTestData.Snapshot(c));
        }
        finally
        {
            foreach (var dir in new[] { ourDir, redisDir, ourCopyDir, redisCopyDir }) Directory.Delete(dir, true);
        }
    }
}
