using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// MIGRATE between real Redis 7.0.15 and MiniRedis both ways: single keys and KEYS, COPY, REPLACE,
/// AUTH/AUTH2, NOKEY, the target's errors, an unreachable target and the argument errors.
/// </summary>
[Trait("Category", "Differential")]
public sealed class MigrateTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    static string Call(RespConnection connection, params string[] args)
        => RespConnection.Escape(connection.Call([.. args.Select(Encoding.Latin1.GetBytes)]));

    /// <summary>Runs the scenario with <paramref name="source"/> migrating to <paramref name="target"/>; every reply seen, in order.</summary>
    static List<string> Scenario(ServerProcess source, ServerProcess target)
    {
        using var from = source.Connect();
        using var to = target.Connect();
        from.Call("FLUSHALL");
        to.Call("FLUSHALL");
        string host = "127.0.0.1", port = target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var seen = new List<string>();
        void Both(params string[] args) => seen.Add(Call(from, args));
        void Target(params string[] args) => seen.Add("target: " + Call(to, args));

        from.Call("RPUSH", "list", "a", "b", "1");
        from.Call("SET", "str", "12345", "PX", "100000");
        from.Call("ZADD", "zset", "1", "x", "2.5", "y");
        from.Call("HSET", "hash", "f", "v");
        from.Call("SADD", "set", "1", "2", "3");
        Both("MIGRATE", host, port, "list", "3", "5000");
        Both("EXISTS", "list");
        Target("SELECT", "3");
        Target("LRANGE", "list", "0", "-1");
        Both("MIGRATE", host, port, "", "3", "5000", "COPY", "KEYS", "str", "nosuch", "zset");
        Both("EXISTS", "str", "zset");
        Target("ZRANGE", "zset", "0", "-1", "WITHSCORES");
        Target("GET", "str");
        seen.Add("target pttl set: " + (long.Parse(Encoding.ASCII.GetString(to.Call("PTTL", "str")).Trim(':', '\r', '\n'), System.Globalization.CultureInfo.InvariantCulture) > 90000));
        Both("MIGRATE", host, port, "", "3", "5000", "KEYS", "str");
        Both("EXISTS", "str");
        Both("MIGRATE", host, port, "", "3", "5000", "REPLACE", "KEYS", "str", "hash", "set");
        Both("EXISTS", "str", "hash", "set");
        Target("HGETALL", "hash");
        Target("SMEMBERS", "set");
        Target("OBJECT", "ENCODING", "set");
        Both("MIGRATE", host, port, "nosuch", "3", "5000");
        from.Call("SET", "busy", "here");
        to.Call("SET", "busy", "there");
        Both("MIGRATE", host, port, "busy", "3", "5000");
        Both("MIGRATE", host, port, "busy", "3", "5000", "AUTH", "secret");
        Both("MIGRATE", host, port, "busy", "3", "5000", "AUTH2", "nobody", "secret");
        Both("EXISTS", "busy");
        Both("MIGRATE", host, port, "busy", "99", "5000");
        Both("MIGRATE", host, "1", "busy", "0", "5000");
        Both("MIGRATE", host, port, "busy", "0", "5000", "BOGUS");
        Both("MIGRATE", host, port, "busy", "0", "5000", "AUTH");
        Both("MIGRATE", host, port, "busy", "0", "5000", "KEYS", "busy");
        Both("MIGRATE", host, port, "busy", "x", "5000");
        Both("MIGRATE", host, port, "busy", "0", "x");
        return seen;
    }

    /// <summary>
    /// A server cannot migrate into itself (it blocks while the target, itself, waits), so the two
    /// directions are compared: Redis into MiniRedis (MiniRedis as the target) and MiniRedis into Redis
    /// (MiniRedis as the source) must show the same replies and leave the same target keys.
    /// </summary>
    [Fact]
    public void Migrate_crosses_between_both_servers_as_redis_does()
        => Assert.Equal(string.Join("\n", Scenario(servers.Redis, servers.Mini)), string.Join("\n", Scenario(servers.Mini, servers.Redis)));

    /// <summary>
    /// MIGRATE waits for its connect, which the socket engine completes on the thread pool. Run on a
    /// connection's thread (a pool thread) it held up that completion on a loaded machine and answered
    /// IOERR; a pool of one thread makes that certain.
    /// </summary>
    [Fact]
    public void Migrate_connects_when_the_thread_pool_has_one_thread()
    {
        using var source = new MiniRedisProcess(new Dictionary<string, string> { ["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = "1" });
        using var from = source.Connect();
        using var to = servers.Redis.Connect();
        to.Call("DEL", "one-thread");
        from.Call("SET", "one-thread", "v");
        string port = servers.Redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("\"+OK\\r\\n\"", Call(from, "MIGRATE", "127.0.0.1", port, "one-thread", "0", "5000"));
        Assert.Equal("\"$1\\r\\nv\\r\\n\"", Call(to, "GET", "one-thread"));
    }
}
