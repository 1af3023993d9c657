using MiniRedis.Tests.Support;
using StackExchange.Redis;

namespace MiniRedis.Tests.Integration;

/// <summary>A widely used client library, which sends its own handshake (CONFIG, INFO, CLIENT SETNAME, ECHO…).</summary>
public sealed class StackExchangeRedisFixture : IDisposable
{
    public MiniRedisProcess Server { get; } = new();
    public ConnectionMultiplexer Connection { get; }

    public StackExchangeRedisFixture()
    {
        var options = new ConfigurationOptions { AllowAdmin = true, AbortOnConnectFail = true, ConnectTimeout = 15_000, SyncTimeout = 15_000 };
        options.EndPoints.Add("127.0.0.1", Server.Port);
        using var log = new StringWriter();
        try
        {
            Connection = ConnectionMultiplexer.Connect(options, log);
        }
        catch (RedisConnectionException e)
        {
            Server.Dispose();
            throw new InvalidOperationException($"StackExchange.Redis could not connect: {e.Message}\n{log}", e);
        }
    }

    public IServer Admin => Connection.GetServer("127.0.0.1", Server.Port);

    public void Dispose()
    {
        Connection.Dispose();
        Server.Dispose();
    }
}

[Trait("Category", "Process")]
public sealed class StackExchangeRedisTests(StackExchangeRedisFixture fixture) : IClassFixture<StackExchangeRedisFixture>
{
    // Each test works in its own database so tests stay independent without flushing each other.
    IDatabase Db(int index)
    {
        fixture.Admin.FlushDatabase(index);
        return fixture.Connection.GetDatabase(index);
    }

    [Fact]
    public void Strings_round_trip()
    {
        var db = Db(1);
        Assert.True(db.StringSet("s", "hello"));
        Assert.Equal("hello", (string?)db.StringGet("s"));
        Assert.False(db.StringSet("s", "other", when: When.NotExists));
        Assert.True(db.StringSet("s2", "x", when: When.NotExists));
        Assert.False(db.StringSet("missing", "x", when: When.Exists));
        Assert.True(db.StringGet("nosuch").IsNull);
        Assert.Equal(11, db.StringAppend("s", " world"));
        Assert.Equal(11, db.StringLength("s"));
        Assert.Equal("world", (string?)db.StringGetRange("s", 6, -1));
        Assert.Equal(11, (long)db.StringSetRange("s", 0, "J"));
        Assert.Equal("Jello world", (string?)db.StringGetSet("s", "new"));
        Assert.Equal(5, db.StringIncrement("n", 5));
        Assert.Equal(3, db.StringDecrement("n", 2));
        Assert.Equal(4.5, db.StringIncrement("f", 4.5));
        Assert.True(db.StringSet([new KeyValuePair<RedisKey, RedisValue>("m1", "a"), new KeyValuePair<RedisKey, RedisValue>("m2", "b")]));
        Assert.Equal(["a", "b", null], db.StringGet(["m1", "m2", "m3"]).Select(v => (string?)v));
        byte[] binary = [0, 1, 255, 13, 10];
        db.StringSet("bin", binary);
        Assert.Equal(binary, (byte[]?)db.StringGet("bin"));
        Assert.Throws<RedisServerException>(() => db.StringIncrement("s", 1));
    }

    [Fact]
    public void Keys_expire_rename_and_delete()
    {
        var db = Db(2);
        db.StringSet("k", "v", TimeSpan.FromSeconds(1000));
        var ttl = db.KeyTimeToLive("k");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(1000));
        Assert.True(db.KeyPersist("k"));
        Assert.Null(db.KeyTimeToLive("k"));
        Assert.True(db.KeyExpire("k", TimeSpan.FromSeconds(500)));
        Assert.True(db.KeyRename("k", "k2"));
        Assert.False(db.KeyExists("k"));
        Assert.True(db.KeyExists("k2"));
        Assert.Equal(RedisType.String, db.KeyType("k2"));
        Assert.Equal(RedisType.None, db.KeyType("k"));
        Assert.Equal("k2", (string?)db.KeyRandom());
        db.StringSet("k3", "taken");
        Assert.False(db.KeyRename("k2", "k3", When.NotExists));
        Assert.Equal(2, db.KeyDelete(["k2", "k3", "nosuch"]));
        Assert.False(db.KeyDelete("k2"));
        Assert.False(db.KeyExpire("nosuch", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Transaction_runs_when_its_conditions_hold()
    {
        var db = Db(3);
        db.StringSet("balance", "10");
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual("balance", "10"));
        transaction.AddCondition(Condition.KeyNotExists("lock"));
        var decremented = transaction.StringDecrementAsync("balance", 3);
        var logged = transaction.StringSetAsync("log", "paid 3");
        Assert.True(transaction.Execute());
        Assert.Equal(7, decremented.Result);
        Assert.True(logged.Result);
        Assert.Equal("7", (string?)db.StringGet("balance"));
    }

    [Fact]
    public void Transaction_is_not_run_when_a_condition_fails()
    {
        var db = Db(4);
        db.StringSet("balance", "10");
        db.StringSet("lock", "held");
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.KeyNotExists("lock"));
        _ = transaction.StringDecrementAsync("balance", 3);
        Assert.False(transaction.Execute());
        Assert.Equal("10", (string?)db.StringGet("balance"));
    }

    [Fact]
    public void Server_keys_info_and_flush()
    {
        var db = Db(5);
        for (int i = 0; i < 250; i++) db.StringSet($"key:{i}", i);
        db.StringSet("other", 1);
        var server = fixture.Admin;
        var keys = server.Keys(5, "key:*", pageSize: 50).Select(k => (string)k!).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"key:{i}").ToHashSet(), keys);
        Assert.Equal(251, server.DatabaseSize(5));

        var info = server.Info().SelectMany(group => group).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("7.0.15", info["redis_version"]);
        Assert.Equal(fixture.Server.Port.ToString(), info["tcp_port"]);

        server.FlushDatabase(5);
        Assert.Equal(0, server.DatabaseSize(5));
    }

    [Fact]
    public void Scripts_evaluate_by_body_by_sha_and_as_prepared_lua_scripts()
    {
        var db = Db(6);
        // A rate limiter as client code writes it: INCR, and EXPIRE on the first hit.
        const string limiter = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n";
        Assert.Equal(1, (long)db.ScriptEvaluate(limiter, ["hits"], [60]));
        Assert.Equal(2, (long)db.ScriptEvaluate(limiter, ["hits"], [60]));
        Assert.InRange(db.KeyTimeToLive("hits")!.Value, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));

        // SCRIPT LOAD, then EVALSHA by the returned hash.
        byte[] sha = fixture.Admin.ScriptLoad("return {KEYS[1], ARGV[1], 3}");
        Assert.True(fixture.Admin.ScriptExists(sha));
        var array = (RedisResult[])db.ScriptEvaluate(sha, ["k"], ["a"])!;
        Assert.Equal(["k", "a", "3"], array.Select(r => (string?)r));

        // LuaScript: @names become KEYS/ARGV, sent with EVALSHA after the first load.
        var prepared = LuaScript.Prepare("redis.call('SET', @key, @value) return redis.call('GET', @key)");
        Assert.Equal("v1", (string?)db.ScriptEvaluate(prepared, new { key = (RedisKey)"lua", value = "v1" }));
        Assert.Equal("v2", (string?)db.ScriptEvaluate(prepared, new { key = (RedisKey)"lua", value = "v2" }));

        var error = Assert.Throws<RedisServerException>(() => db.ScriptEvaluate("return redis.call('INCR', KEYS[1])", ["lua"]));
        Assert.StartsWith("ERR value is not an integer or out of range script:", error.Message, StringComparison.Ordinal);

        fixture.Admin.ScriptFlush();
        Assert.False(fixture.Admin.ScriptExists(sha));
        // The library reloads a flushed script on NOSCRIPT by itself.
        Assert.Equal("v3", (string?)db.ScriptEvaluate(prepared, new { key = (RedisKey)"lua", value = "v3" }));
    }

    /// <summary>
    /// Subscribe/Publish as applications use them, over RESP2 (a separate subscription connection,
    /// arrays) and RESP3 (one connection, push frames): channels, patterns, unsubscribing.
    /// </summary>
    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Subscribe_and_publish_over_each_protocol(RedisProtocol protocol)
    {
        var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 15_000, SyncTimeout = 15_000, Protocol = protocol };
        options.EndPoints.Add("127.0.0.1", fixture.Server.Port);
        using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        Assert.Equal(protocol, connection.GetServer("127.0.0.1", fixture.Server.Port).Protocol);
        var subscriber = connection.GetSubscriber();
        var received = new System.Collections.Concurrent.BlockingCollection<string>();
        string prefix = $"se.{protocol}";
        var news = RedisChannel.Literal($"{prefix}.news");
        var pattern = RedisChannel.Pattern($"{prefix}.p.*");
        await subscriber.SubscribeAsync(news, (channel, message) => received.Add($"{channel}={message}"));
        await subscriber.SubscribeAsync(pattern, (channel, message) => received.Add($"{channel}={message}"));

        Assert.Equal(1, await subscriber.PublishAsync(news, "hello"));
        Assert.True(received.TryTake(out var first, 10_000));
        Assert.Equal($"{prefix}.news=hello", first);
        Assert.Equal(1, await connection.GetDatabase().PublishAsync(RedisChannel.Literal($"{prefix}.p.1"), "by pattern"));
        Assert.True(received.TryTake(out var second, 10_000));
        Assert.Equal($"{prefix}.p.1=by pattern", second);

        await subscriber.UnsubscribeAsync(news);
        await subscriber.UnsubscribeAsync(pattern);
        Assert.Equal(0, await subscriber.PublishAsync(news, "nobody"));
        Assert.Equal(0, await subscriber.PublishAsync(RedisChannel.Literal($"{prefix}.p.2"), "nobody"));
        Assert.False(received.TryTake(out _, 200));
    }
}
