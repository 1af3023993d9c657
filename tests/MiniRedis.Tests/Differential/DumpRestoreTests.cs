using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// DUMP payloads cross with real Redis 7.0.15 both ways for every type and encoding: the same value
/// dumps to the same bytes on both servers (except hash tables, whose order is each process's own),
/// Redis's payload restores here and ours restores in Redis, with the same contents and encoding.
/// </summary>
[Trait("Category", "Differential")]
public sealed class DumpRestoreTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>A value built by <c>Setup</c> under key <c>k</c>, read back by <c>Read</c> (with the key appended).</summary>
    public sealed record Case(string Name, string[][] Setup, string[] Read, bool OrderedBytes = true)
    {
        public override string ToString() => Name;
    }

    static string[][] Repeat(int count, Func<int, string[]> command) => [.. Enumerable.Range(0, count).Select(command)];

    static readonly Dictionary<string, Case> Cases = new Case[]
    {
        new("string int", [["SET", "k", "12345"]], ["GET"]),
        new("string int64 min", [["SET", "k", "-9223372036854775808"]], ["GET"]),
        new("string int 11 digits", [["SET", "k", "12345678901"]], ["GET"]),
        new("string embstr", [["SET", "k", "hello world"]], ["GET"]),
        new("string raw compressible", [["SET", "k", new string('a', 200) + "tail"]], ["GET"]),
        new("string raw incompressible", [["SET", "k", string.Concat(Enumerable.Range(0, 60).Select(i => (char)('!' + i * 7 % 90)))]], ["GET"]),
        new("string binary", [["SET", "k", "\0\x01\xff\r\n"]], ["GET"]),
        new("list small", [["RPUSH", "k", "a", "1", "-5", "hello", "1234567890123"]], ["LRANGE", "0", "-1"]),
        new("list many nodes", Repeat(300, i => ["RPUSH", "k", $"element-{i}-" + new string('x', i % 50), (i * 1000).ToString()]), ["LRANGE", "0", "-1"]),
        new("set intset", [["SADD", "k", "1", "-2", "300", "70000", "5000000000"]], ["SMEMBERS"]),
        new("set hashtable", [["SADD", "k", "a", "b", "c", "1"]], ["SMEMBERS"], OrderedBytes: false),
        new("set big intset", Repeat(600, i => ["SADD", "k", (i * 3).ToString()]), ["SMEMBERS"], OrderedBytes: false),
        new("hash listpack", [["HSET", "k", "f", "v", "n", "123", "neg", "-7"]], ["HGETALL"]),
        new("hash hashtable", Repeat(200, i => ["HSET", "k", $"field{i}", $"value{i}"]), ["HGETALL"], OrderedBytes: false),
        new("hash long value", [["HSET", "k", "f", new string('v', 100)]], ["HGETALL"], OrderedBytes: false),
        new("zset listpack", [["ZADD", "k", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "1e300", "e"]], ["ZRANGE", "0", "-1", "WITHSCORES"]),
        new("zset skiplist", Repeat(200, i => ["ZADD", "k", (i * 0.37).ToString("R", System.Globalization.CultureInfo.InvariantCulture), $"member{i}"]), ["ZRANGE", "0", "-1", "WITHSCORES"]),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    static byte[] BulkContent(byte[] reply)
    {
        Assert.Equal((byte)'$', reply[0]);
        return reply[(Array.IndexOf(reply, (byte)'\n') + 1)..^2];
    }

    static string Read(RespConnection connection, Case c, string key)
        => CorpusLine.SortedForm(ParseOne(connection, [c.Read[0], key, .. c.Read[1..]]));

    static RespNode ParseOne(RespConnection connection, string[] command)
    {
        connection.Send(RespConnection.EncodeCommand([.. command.Select(Encoding.Latin1.GetBytes)]));
        return connection.ReadReply();
    }

    static byte[] Build(ServerProcess server, Case c)
    {
        using var connection = server.Connect();
        connection.Call("FLUSHALL");
        foreach (var command in c.Setup) connection.Call([.. command.Select(Encoding.Latin1.GetBytes)]);
        return BulkContent(connection.Call("DUMP", "k"));
    }

    static void Restore(RespConnection connection, string key, byte[] payload)
        => Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call([.. new[] { "RESTORE", key, "0" }.Select(Encoding.Latin1.GetBytes), payload])));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Payloads_cross_both_ways(string name)
    {
        var c = Cases[name];
        var fromRedis = Build(servers.Redis, c);
        var fromMini = Build(servers.Mini, c);
        if (c.OrderedBytes) Assert.Equal(RespConnection.Escape(fromRedis), RespConnection.Escape(fromMini));
        else Assert.Equal(fromRedis.Length, fromMini.Length);

        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        Restore(mini, "from-redis", fromRedis);
        Restore(redis, "from-mini", fromMini);
        string original = Read(redis, c, "k");
        Assert.Equal(original, Read(mini, c, "from-redis"));
        Assert.Equal(original, Read(redis, c, "from-mini"));
        string encoding = RespConnection.Escape(redis.Call("OBJECT", "ENCODING", "k"));
        Assert.Equal(encoding, RespConnection.Escape(mini.Call("OBJECT", "ENCODING", "from-redis")));
        Assert.Equal(encoding, RespConnection.Escape(redis.Call("OBJECT", "ENCODING", "from-mini")));
        // A value restored from Redis's payload dumps again to Redis's bytes.
        if (c.OrderedBytes) Assert.Equal(RespConnection.Escape(fromRedis), RespConnection.Escape(BulkContent(mini.Call("DUMP", "from-redis"))));
    }
}
