using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>Real Redis with DEBUG allowed (it refuses it by default) beside MiniRedis.</summary>
public sealed class DebugServersFixture : IDisposable
{
    public RealRedisProcess Redis { get; } = new();
    public MiniRedisProcess Mini { get; } = new();

    public void Dispose()
    {
        Redis.Dispose();
        Mini.Dispose();
    }
}

/// <summary>
/// DEBUG's subcommands against real Redis 7.0.15: the digests of the same data (every type and
/// encoding, TTLs, several databases) must be Redis's bytes; replies and errors compared exactly.
/// </summary>
[Trait("Category", "Differential")]
public sealed class DebugCommandTests(DebugServersFixture servers) : IClassFixture<DebugServersFixture>
{
    static string Reply(RespConnection connection, params string[] args)
    {
        connection.Send(RespConnection.EncodeCommand(args.Select(Encoding.Latin1.GetBytes).ToArray()));
        var reply = connection.ReadReply();
        // A push message comes before the command's own reply (DEBUG PROTOCOL push).
        return reply.Type == (byte)'>' ? reply + " " + connection.ReadReply() : reply.ToString();
    }

    static string Transcript(ServerProcess server, IEnumerable<string[]> script)
    {
        using var connection = server.Connect();
        var seen = new StringBuilder();
        foreach (var command in script)
        {
            string reply = Reply(connection, command);
            // HELLO's reply names the client's id and the server: only the protocol switch matters here.
            if (command[0] == "HELLO") reply = "(hello)";
            seen.Append(string.Join(' ', command)).Append(" -> ").Append(reply).Append('\n');
        }
        return seen.ToString();
    }

    static IEnumerable<string[]> Dataset()
    {
        yield return ["FLUSHALL"];
        yield return ["SET", "str", "hello"];
        yield return ["SET", "int", "12345"];
        yield return ["SET", "empty", ""];
        yield return ["SET", "raw", new string('r', 100)];
        yield return ["RPUSH", "list", "a", "b", "1", "2", "-7"];
        yield return ["SADD", "intset", "1", "2", "3", "-100"];
        yield return ["SADD", "set", "a", "b", "c"];
        yield return ["ZADD", "zsmall", "1.5", "a", "2", "b", "-0.25", "c", "inf", "d", "0.1", "e"];
        yield return ["HSET", "hsmall", "f1", "v1", "f2", "2"];
        yield return ["SET", "ttl", "v", "EX", "1000"];
        yield return ["HSET", "httl", "f", "v"];
        yield return ["EXPIRE", "httl", "1000"];
        var big = new List<string>();
        for (int i = 0; i < 200; i++) big.Add($"m{i}");
        yield return ["RPUSH", "biglist", .. big];
        yield return ["SADD", "bigset", .. big];
        yield return ["ZADD", "bigz", .. big.SelectMany((m, i) => new[] { (i * 0.1).ToString("R", System.Globalization.CultureInfo.InvariantCulture), m })];
        yield return ["HSET", "bighash", .. big.SelectMany(m => new[] { m, m + m })];
        yield return ["SELECT", "3"];
        yield return ["SET", "str", "hello"];
        yield return ["SELECT", "0"];
    }

    [Fact]
    public void Digests_equal_Redis_for_every_type_and_encoding()
    {
        string[] keys = ["str", "int", "empty", "raw", "list", "intset", "set", "zsmall", "hsmall", "ttl", "httl", "biglist", "bigset", "bigz", "bighash", "nosuch"];
        string[][] script =
        [
            .. Dataset(),
            ["DEBUG", "DIGEST"],
            ["DEBUG", "DIGEST-VALUE", .. keys],
            ["DEBUG", "DIGEST-VALUE"],
            ["OBJECT", "ENCODING", "zsmall"],
            ["OBJECT", "ENCODING", "bigz"],
            ["OBJECT", "ENCODING", "intset"],
            ["OBJECT", "ENCODING", "bighash"],
            ["FLUSHALL"],
            ["DEBUG", "DIGEST"],
        ];
        Assert.Equal(Transcript(servers.Redis, script), Transcript(servers.Mini, script));
    }

    [Fact]
    public void Populate_protocol_and_the_small_subcommands_match_Redis()
    {
        string[][] script =
        [
            ["FLUSHALL"],
            ["DEBUG", "POPULATE", "5"],
            ["DEBUG", "POPULATE", "3", "p", "10"],
            ["DEBUG", "POPULATE", "3", "q", "3"],
            ["SET", "key:1", "kept"],
            ["DEBUG", "POPULATE", "3"],
            ["MGET", "key:0", "key:1", "p:2", "q:2"],
            ["OBJECT", "ENCODING", "key:0"],
            ["DBSIZE"],
            ["DEBUG", "DIGEST"],
            ["DEBUG", "POPULATE", "-1"],
            ["DEBUG", "POPULATE", "abc"],
            ["DEBUG", "POPULATE", "1", "x", "-5"],
            ["DEBUG", "POPULATE"],
            ["DEBUG", "POPULATE", "1", "2", "3", "4"],
            .. new[] { "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true", "false", "nosuch" }
                .Select(type => new[] { "DEBUG", "PROTOCOL", type }),
            ["HELLO", "3"],
            .. new[] { "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true", "false" }
                .Select(type => new[] { "DEBUG", "PROTOCOL", type }),
            ["HELLO", "2"],
            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"],
            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1gb"],
            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"],
            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc"],
            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
            ["HSET", "lp", "f", "v"],
            ["DEBUG", "LISTPACK", "lp"],
            ["DEBUG", "LISTPACK", "key:0"],
            ["DEBUG", "LISTPACK", "nosuch"],
            ["DEBUG", "CHANGE-REPL-ID"],
            ["DEBUG", "LOG", "hello from a test"],
            ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
            ["DEBUG", "JMAP"],
            ["DEBUG", "NOSUCH"],
            ["DEBUG", "DIGEST", "extra"],
        ];
        Assert.Equal(Transcript(servers.Redis, script), Transcript(servers.Mini, script));
    }

    [Fact]
    public void Change_repl_id_gives_a_new_master_replid()
    {
        using var connection = servers.Mini.Connect();
        string ReplId() => Encoding.Latin1.GetString(connection.Call("INFO", "replication")).Split("\r\n").Single(l => l.StartsWith("master_replid:", StringComparison.Ordinal));
        string before = ReplId();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("DEBUG", "CHANGE-REPL-ID")));
        string after = ReplId();
        Assert.NotEqual(before, after);
        Assert.Matches("^master_replid:[0-9a-f]{40}$", after);
    }

    /// <summary>Real Redis runs 10 million rounds (longer than a test may wait); its reply is the same text.</summary>
    [Fact]
    public void Stringmatch_test_runs_the_matcher_fuzz()
    {
        using var connection = servers.Mini.Connect();
        Assert.Equal("+Apparently Redis did not crash: test passed\r\n", Encoding.Latin1.GetString(connection.Call("DEBUG", "STRINGMATCH-TEST")));
    }

    /// <summary>With active expiry off, a key past its TTL stays until it is touched (DBSIZE still counts it).</summary>
    [Fact]
    public void Set_active_expire_stops_and_restarts_background_expiry()
    {
        string Run(ServerProcess server)
        {
            using var c = server.Connect();
            var seen = new StringBuilder();
            seen.Append(Reply(c, "FLUSHALL")).Append(Reply(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0"));
            for (int i = 0; i < 20; i++) Reply(c, "SET", $"exp:{i}", "v", "PX", "20");
            Thread.Sleep(500);
            seen.Append(Reply(c, "DBSIZE"));
            seen.Append(Reply(c, "DEBUG", "SET-ACTIVE-EXPIRE", "1"));
            for (int i = 0; i < 50 && Reply(c, "DBSIZE") != RespConnection.Escape(":0\r\n"u8); i++) Thread.Sleep(100);
            seen.Append(Reply(c, "DBSIZE"));
            return seen.ToString();
        }
        Assert.Equal(Run(servers.Redis), Run(servers.Mini));
    }
}
