using System.Globalization;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Memory;

/// <summary>
/// Filling past maxmemory under each policy: which keys survive follows the policy (Redis's sampled
/// approximation, so the checks allow a few misses), and hostile settings never stop the server.
/// Each test starts from an empty server with maxmemory 0.
/// </summary>
[Trait("Category", "Process")]
public sealed class EvictionTests(MiniRedisFixture fixture) : IClassFixture<MiniRedisFixture>
{
    const int ValueSize = 1000;
    static readonly string Value = new('v', ValueSize);

    static string Text(byte[] reply) => Encoding.Latin1.GetString(reply);

    static long Field(RespConnection connection, string section, string field) => connection.InfoNumber(section, field);

    RespConnection Fresh(string policy)
    {
        var connection = fixture.Server.Connect();
        connection.Call("CONFIG", "SET", "maxmemory", "0");
        connection.Call("FLUSHALL");
        connection.Call("CONFIG", "RESETSTAT");
        connection.Call("CONFIG", "SET", "maxmemory-policy", policy);
        return connection;
    }

    /// <summary>Pipelines commands and returns their replies as text.</summary>
    static List<string> Run(RespConnection connection, IEnumerable<string[]> commands)
    {
        var batch = new MemoryStream();
        int count = 0;
        foreach (var args in commands)
        {
            batch.Write(RespConnection.EncodeCommand([.. args.Select(Encoding.UTF8.GetBytes)]));
            count++;
        }
        connection.Send(batch.ToArray());
        var replies = new List<string>(count);
        for (int i = 0; i < count; i++) replies.Add(connection.ReadReply().Text);
        return replies;
    }

    static IEnumerable<string[]> Sets(string prefix, int count, int? ttlSeconds = null, int ttlStep = 0) =>
        Enumerable.Range(0, count).Select(i => ttlSeconds is { } ttl
            ? new[] { "SET", $"{prefix}{i}", Value, "EX", (ttl + i * ttlStep).ToString(CultureInfo.InvariantCulture) }
            : ["SET", $"{prefix}{i}", Value]);

    static int Existing(RespConnection connection, string prefix, IEnumerable<int> indexes) =>
        Run(connection, indexes.Select(i => new[] { "EXISTS", $"{prefix}{i}" })).Count(r => r == ":1\r\n");

    /// <summary>Sets maxmemory to the current usage plus <paramref name="headroom"/> bytes.</summary>
    static long LimitAt(RespConnection connection, long headroom)
    {
        long limit = Field(connection, "memory", "used_memory") + headroom;
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture))));
        return limit;
    }

    static void AssertUnderLimit(RespConnection connection, long limit)
    {
        // Eviction runs before each command: the INFO command itself gets memory under the limit first.
        long used = Field(connection, "memory", "used_memory");
        Assert.True(used <= limit, $"used_memory {used} over maxmemory {limit}");
    }

    [Theory]
    [InlineData("volatile-lru")]
    [InlineData("volatile-lfu")]
    [InlineData("volatile-random")]
    [InlineData("volatile-ttl")]
    public void Volatile_policies_never_evict_keys_without_ttl(string policy)
    {
        using var connection = Fresh(policy);
        Run(connection, Sets("keep:", 500));
        long limit = LimitAt(connection, 2 << 20);
        var replies = Run(connection, Sets("vol:", 6000, ttlSeconds: 1000));
        Assert.All(replies, r => Assert.Equal("+OK\r\n", r));
        Assert.Equal(500, Existing(connection, "keep:", Enumerable.Range(0, 500)));
        Assert.True(Field(connection, "stats", "evicted_keys") > 0);
        AssertUnderLimit(connection, limit);

        // Once only keys without a TTL are left, nothing can be evicted: writes are refused. (A pass that
        // ran out of its time budget lets the command through, as Redis does, so it may take a few.)
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "1mb")));
        string reply = "";
        for (int i = 0; i < 200 && !reply.StartsWith('-'); i++) reply = Text(connection.Call("SET", "more", "v"));
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", reply);
        Assert.Equal(500, Existing(connection, "keep:", Enumerable.Range(0, 500)));
        Assert.Equal(0, Existing(connection, "vol:", Enumerable.Range(0, 6000)));
    }

    [Fact]
    public void Volatile_ttl_evicts_the_nearest_expiry_first()
    {
        using var connection = Fresh("volatile-ttl");
        long limit = LimitAt(connection, 3 << 20);
        // TTLs grow with the index, so later keys expire later; about half of them must go.
        Run(connection, Sets("t:", 6000, ttlSeconds: 10000, ttlStep: 1));
        AssertUnderLimit(connection, limit);
        int nearestSurvivors = Existing(connection, "t:", Enumerable.Range(0, 1500));
        int furthestSurvivors = Existing(connection, "t:", Enumerable.Range(4500, 1500));
        Assert.True(nearestSurvivors < 150, $"{nearestSurvivors} of the 1500 nearest expiries survived");
        Assert.True(furthestSurvivors > 1350, $"only {furthestSurvivors} of the 1500 furthest expiries survived");
    }

    [Fact]
    public void Allkeys_lru_keeps_the_recently_read_keys()
    {
        using var connection = Fresh("allkeys-lru");
        Run(connection, Sets("k:", 3000));
        // The LRU clock counts seconds (as Redis's): let the cold keys age before the hot ones are read.
        Thread.Sleep(2200);
        Run(connection, Enumerable.Range(0, 300).Select(i => new[] { "GET", $"k:{i}" }));
        long limit = LimitAt(connection, 0);
        Run(connection, Sets("n:", 1500));
        AssertUnderLimit(connection, limit);
        Assert.True(Field(connection, "stats", "evicted_keys") >= 1000);
        int hot = Existing(connection, "k:", Enumerable.Range(0, 300));
        Assert.True(hot >= 285, $"only {hot} of 300 recently read keys survived");
    }

    [Theory]
    [InlineData("allkeys-lru")]
    [InlineData("allkeys-lfu")]
    [InlineData("volatile-ttl")]
    public void Keys_set_over_evicted_ones_hold_their_own_values(string policy)
    {
        // A new key takes an evicted key's entry and its value's arena slot: every key read back must be
        // the one written, with its value, TTL and type, whatever entry and slot it got.
        using var connection = Fresh(policy);
        long limit = LimitAt(connection, 1 << 20);
        string ValueOf(int i) => $"{i}:" + new string((char)('a' + i % 26), 300 + i % 700);
        var replies = Run(connection, Enumerable.Range(0, 8000).Select(i => i % 5 == 0
            ? new[] { "SET", $"c:{i}", ValueOf(i), "EX", "100000" }
            : ["SET", $"c:{i}", ValueOf(i), "EX", "200000"]));
        Assert.All(replies, r => Assert.Equal("+OK\r\n", r));
        AssertUnderLimit(connection, limit);
        Assert.True(Field(connection, "stats", "evicted_keys") > 1000);
        int kept = 0;
        // In small batches: the replies' buffer counts in used_memory and would evict keys meanwhile.
        for (int from = 0; from < 8000; from += 100)
        {
            var batch = Run(connection, Enumerable.Range(from, 100).SelectMany(i => new[] { new[] { "TTL", $"c:{i}" }, ["GET", $"c:{i}"] }));
            for (int i = from; i < from + 100; i++)
            {
                string ttl = batch[2 * (i - from)], value = batch[2 * (i - from) + 1];
                if (value == "$-1\r\n") continue;
                kept++;
                Assert.Equal($"${ValueOf(i).Length}\r\n{ValueOf(i)}\r\n", value);
                Assert.InRange(long.Parse(ttl.AsSpan(1, ttl.Length - 3), CultureInfo.InvariantCulture), i % 5 == 0 ? 99000 : 199000, i % 5 == 0 ? 100000 : 200000);
            }
        }
        Assert.InRange(kept, 100, 7000);
    }

    [Fact]
    public void Allkeys_lfu_keeps_the_hot_set()
    {
        using var connection = Fresh("allkeys-lfu");
        Run(connection, Sets("k:", 3000));
        for (int round = 0; round < 20; round++) Run(connection, Enumerable.Range(0, 300).Select(i => new[] { "GET", $"k:{i}" }));
        long limit = LimitAt(connection, 0);
        Run(connection, Sets("n:", 1500));
        AssertUnderLimit(connection, limit);
        Assert.True(Field(connection, "stats", "evicted_keys") >= 1000);
        int hot = Existing(connection, "k:", Enumerable.Range(0, 300));
        Assert.True(hot >= 285, $"only {hot} of 300 frequently read keys survived");
        Assert.True(long.Parse(Text(connection.Call("OBJECT", "FREQ", "k:0"))[1..^2], CultureInfo.InvariantCulture) > 5);
    }

    [Theory]
    [InlineData("allkeys-random")]
    [InlineData("allkeys-lru")]
    [InlineData("allkeys-lfu")]
    public void Maxmemory_set_below_usage_evicts_down_to_it(string policy)
    {
        using var connection = Fresh(policy);
        Run(connection, Sets("k:", 5000));
        long used = Field(connection, "memory", "used_memory");
        long limit = used / 2;
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture))));
        // A pass stops after its time budget and resumes after the round: a few commands finish it.
        for (int i = 0; i < 100 && Field(connection, "memory", "used_memory") > limit; i++) connection.Call("PING");
        AssertUnderLimit(connection, limit);
        long keys = long.Parse(Text(connection.Call("DBSIZE"))[1..^2], CultureInfo.InvariantCulture);
        Assert.InRange(keys, 1000, 3000);
        Assert.Equal(5000 - keys, Field(connection, "stats", "evicted_keys"));
    }

    [Fact]
    public void Noeviction_refuses_writes_over_the_limit_and_serves_reads_and_deletes()
    {
        using var connection = Fresh("noeviction");
        Run(connection, Sets("k:", 2000));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "1mb")));
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", Text(connection.Call("SET", "x", "y")));
        Assert.StartsWith("$1000", Text(connection.Call("GET", "k:1")));
        Assert.Equal(":1\r\n", Text(connection.Call("DEL", "k:1")));
        Assert.Equal("1999", Text(connection.Call("DBSIZE"))[1..^2]);
        Assert.Equal(0, Field(connection, "stats", "evicted_keys"));
        // Memory has been over the limit since the refusal; lifting the limit ends that stretch.
        Thread.Sleep(20);
        Assert.True(Field(connection, "stats", "current_eviction_exceeded_time") > 0);
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "0")));
        Assert.Equal(0, Field(connection, "stats", "current_eviction_exceeded_time"));
        Assert.True(Field(connection, "stats", "total_eviction_exceeded_time") > 0);
    }

    [Fact]
    public void Maxmemory_of_one_byte_refuses_every_write_under_every_policy()
    {
        using var connection = Fresh("allkeys-lru");
        Run(connection, Sets("k:", 10));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "1")));
        foreach (var policy in new[] { "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl" })
        {
            connection.Call("CONFIG", "SET", "maxmemory-policy", policy);
            Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", Text(connection.Call("SET", "x", "y")));
            Assert.Equal("+PONG\r\n", Text(connection.Call("PING")));
        }
        Assert.Equal(":0\r\n", Text(connection.Call("DBSIZE")));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "0")));
        Assert.Equal("+OK\r\n", Text(connection.Call("SET", "x", "y")));
    }

    [Fact]
    public void Switching_policy_under_load_keeps_serving()
    {
        using var writer = Fresh("allkeys-lru");
        using var switcher = fixture.Server.Connect();
        long limit = LimitAt(writer, 2 << 20);
        string[] policies = ["allkeys-lru", "volatile-ttl", "allkeys-lfu", "volatile-lru", "allkeys-random", "volatile-lfu", "noeviction", "volatile-random"];
        for (int round = 0; round < 16; round++)
        {
            // Writes are pipelined while the other client changes the policy between them.
            var commands = Sets($"r{round}:", 400, ttlSeconds: round % 2 == 0 ? null : 1000).ToList();
            var batch = new MemoryStream();
            foreach (var args in commands) batch.Write(RespConnection.EncodeCommand([.. args.Select(Encoding.UTF8.GetBytes)]));
            writer.Send(batch.ToArray());
            Assert.Equal("+OK\r\n", Text(switcher.Call("CONFIG", "SET", "maxmemory-policy", policies[round % policies.Length])));
            for (int i = 0; i < commands.Count; i++)
            {
                string reply = writer.ReadReply().Text;
                Assert.True(reply is "+OK\r\n" || reply.StartsWith("-OOM", StringComparison.Ordinal), reply);
            }
        }
        writer.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        for (int i = 0; i < 100 && Field(writer, "memory", "used_memory") > limit; i++) writer.Call("PING");
        AssertUnderLimit(writer, limit);
    }

    [Fact]
    public void Maxmemory_clients_evicts_the_biggest_client_and_spares_no_evict_ones()
    {
        using var connection = Fresh("noeviction");
        Assert.Equal("+OK\r\n", Text(connection.Call("CLIENT", "NO-EVICT", "on")));
        using var victim = fixture.Server.Connect();
        Assert.Equal("+PONG\r\n", Text(victim.Call("PING")));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory-clients", "1")));
        // The cron (10 times a second) finds the clients over the limit.
        for (int i = 0; i < 50 && Field(connection, "stats", "evicted_clients") == 0; i++) Thread.Sleep(100);
        connection.Call("CONFIG", "SET", "maxmemory-clients", "0");
        Assert.True(Field(connection, "stats", "evicted_clients") >= 1);
        Assert.Equal("+PONG\r\n", Text(connection.Call("PING")));
        Assert.Empty(victim.ReadUntilClosed());
    }
}
