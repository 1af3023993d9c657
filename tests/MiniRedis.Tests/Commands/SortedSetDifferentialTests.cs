using System.Globalization;
using System.Text;
using MiniRedis.Tests.Differential;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>Real Redis and MiniRedis both started with small zset encoding limits, so conversions happen early.</summary>
public sealed class SmallZsetLimitsPair() : ServerPairFixture("--zset-max-listpack-entries", "8", "--zset-max-listpack-value", "6");

/// <summary>
/// Sorted sets against real Redis 7.0.15 beyond the corpus: encodings and their conversions under small
/// limits, random command sequences (fixed seeds), and blocking pops served by another client's write.
/// </summary>
[Trait("Category", "Differential")]
public sealed class SortedSetDifferentialTests(SmallZsetLimitsPair servers) : IClassFixture<SmallZsetLimitsPair>
{
    static RespConnection Fresh(ServerProcess server)
    {
        var connection = server.Connect();
        connection.Call("FLUSHALL");
        return connection;
    }

    /// <summary>Runs corpus-syntax lines on both servers and returns the differences.</summary>
    static string Compare(RespConnection redis, RespConnection mini, IEnumerable<string> lines)
    {
        var differences = new StringBuilder();
        int number = 0;
        foreach (var text in lines)
        {
            number++;
            var comparison = text.StartsWith("@sorted ", StringComparison.Ordinal) ? Comparison.Sorted : Comparison.Exact;
            var line = new CorpusLine(number, text, comparison, CommandLine.Split(comparison == Comparison.Sorted ? text["@sorted ".Length..] : text));
            redis.Send(RespConnection.EncodeCommand(line.Args));
            mini.Send(RespConnection.EncodeCommand(line.Args));
            string expected = line.Canonical(redis.ReadReply()), actual = line.Canonical(mini.ReadReply());
            if (expected != actual) differences.AppendLine($"{number}: {text}\n    redis:     {expected}\n    miniredis: {actual}");
        }
        return differences.ToString();
    }

    [Fact]
    public void Encodings_follow_the_limits_and_store_results_are_compact_again_when_small()
    {
        string[] lines =
        [
            "ZADD big 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h", "OBJECT ENCODING big",
            "ZADD big 9 i", "OBJECT ENCODING big",
            "ZREM big i h g f e d", "OBJECT ENCODING big",
            "@sorted ZSCAN big 0",
            "ZUNIONSTORE small 1 big", "OBJECT ENCODING small",
            "ZADD big 10 x 11 y 12 z 13 w 14 v 15 u 16 t",
            "ZRANGESTORE small big 0 -1", "OBJECT ENCODING small",
            "ZRANGESTORE small big 0 1", "OBJECT ENCODING small",
            "ZRANGESTORE small big -inf +inf BYSCORE", "OBJECT ENCODING small",
            "ZINTERSTORE small 2 big big WEIGHTS 1 0.5", "OBJECT ENCODING small",
            "ZADD longm 1 abcdefg", "OBJECT ENCODING longm",
            "ZADD shortm 1 abcdef", "OBJECT ENCODING shortm",
            "ZADD shortm 2 abcdefg", "OBJECT ENCODING shortm", "ZRANGE shortm 0 -1 WITHSCORES",
            "ZADD fl 0.1 a 1.5 b 1e-20 c 100 d -0 e 1e300 f -2.5 g",
            "ZSCAN fl 0", "OBJECT ENCODING fl",
            "ZADD fl 2 h 3 i", "OBJECT ENCODING fl",
            "@sorted ZSCAN fl 0", "ZSCORE fl e", "ZRANGE fl 0 -1 WITHSCORES",
            "ZADD neg -0 a", "ZSCORE neg a",
            "COPY fl flcopy", "OBJECT ENCODING flcopy", "ZRANGE flcopy 0 -1 WITHSCORES",
            "ZPOPMIN fl 5", "OBJECT ENCODING fl",
        ];
        using var redis = Fresh(servers.Redis);
        using var mini = Fresh(servers.Mini);
        string differences = Compare(redis, mini, lines);
        Assert.True(differences.Length == 0, differences);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_command_sequences_reply_like_real_redis(int seed)
    {
        var random = new Random(seed);
        string Member() => random.Next(10) == 0 ? "long" + random.Next(5) + "member" : ((char)('a' + random.Next(14))).ToString();
        string Score() => random.Next(12) switch
        {
            0 => "inf",
            1 => "-inf",
            2 => (random.Next(-20, 20) / 10.0).ToString(CultureInfo.InvariantCulture),
            3 => "0.1",
            _ => random.Next(-5, 6).ToString(CultureInfo.InvariantCulture),
        };
        string Bound() => random.Next(5) switch
        {
            0 => "-inf",
            1 => "+inf",
            2 => "(" + random.Next(-5, 6),
            _ => random.Next(-5, 6).ToString(CultureInfo.InvariantCulture),
        };
        string Lex() => random.Next(6) switch
        {
            0 => "-",
            1 => "+",
            2 => "(" + Member(),
            _ => "[" + Member(),
        };
        string Key() => random.Next(3) switch { 0 => "z1", 1 => "z2", _ => "z3" };
        string Limit() => random.Next(3) == 0 ? $" LIMIT {random.Next(-1, 4)} {random.Next(-1, 5)}" : "";
        string WithScores() => random.Next(2) == 0 ? " WITHSCORES" : "";

        var lines = new List<string>();
        for (int i = 0; i < 700; i++)
        {
            string key = Key();
            lines.Add(random.Next(22) switch
            {
                0 or 1 or 2 => $"ZADD {key} {Score()} {Member()} {Score()} {Member()} {Score()} {Member()}",
                3 => $"ZADD {key} {(random.Next(2) == 0 ? "GT" : "LT")} CH {Score()} {Member()} {Score()} {Member()}",
                4 => $"ZADD {key} {(random.Next(2) == 0 ? "NX" : "XX")} INCR {Score()} {Member()}",
                5 => $"ZINCRBY {key} {Score()} {Member()}",
                6 => $"ZREM {key} {Member()} {Member()}",
                7 => $"ZRANGE {key} {random.Next(-6, 6)} {random.Next(-6, 12)}{(random.Next(2) == 0 ? " REV" : "")}{WithScores()}",
                8 => $"ZRANGEBYSCORE {key} {Bound()} {Bound()}{WithScores()}{Limit()}",
                9 => $"ZREVRANGEBYSCORE {key} {Bound()} {Bound()}{WithScores()}{Limit()}",
                10 => $"ZRANGE lex {Lex()} {Lex()} BYLEX{(random.Next(2) == 0 ? " REV" : "")}{Limit()}",
                11 => $"ZADD lex 0 {Member()} 0 {Member()}",
                12 => $"ZCOUNT {key} {Bound()} {Bound()}",
                13 => $"ZLEXCOUNT lex {Lex()} {Lex()}",
                14 => $"ZRANK {key} {Member()}",
                15 => $"ZREVRANK {key} {Member()}",
                16 => random.Next(3) switch
                {
                    0 => $"ZREMRANGEBYRANK {key} {random.Next(-4, 4)} {random.Next(-4, 4)}",
                    1 => $"ZREMRANGEBYSCORE {key} {Bound()} {Bound()}",
                    _ => $"ZREMRANGEBYLEX lex {Lex()} {Lex()}",
                },
                17 => $"{(random.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX")} {key} {random.Next(0, 3)}",
                18 => $"ZUNIONSTORE {key} 2 {Key()} {Key()} WEIGHTS {Score()} {random.Next(-2, 3)} AGGREGATE {(random.Next(3) switch { 0 => "SUM", 1 => "MIN", _ => "MAX" })}",
                19 => $"ZINTER 2 {Key()} {Key()} WEIGHTS {random.Next(-2, 3)} 0.5 WITHSCORES",
                20 => $"ZRANGESTORE {key} {Key()} {Bound()} {Bound()} BYSCORE{Limit()}",
                _ => $"OBJECT ENCODING {key}",
            });
            if (i % 50 == 49) lines.AddRange(["ZRANGE z1 0 -1 WITHSCORES", "ZRANGE z2 0 -1 WITHSCORES", "ZRANGE z3 0 -1 WITHSCORES", "ZRANGE lex 0 -1"]);
        }
        using var redis = Fresh(servers.Redis);
        using var mini = Fresh(servers.Mini);
        string differences = Compare(redis, mini, lines);
        Assert.True(differences.Length == 0, differences);
    }

    [Fact]
    public void Blocked_pops_are_served_by_a_later_zadd_in_the_order_clients_blocked()
    {
        using var first = Fresh(servers.Mini);
        using var second = servers.Mini.Connect();
        using var writer = servers.Mini.Connect();
        first.Send(RespConnection.EncodeCommand([.. "BZPOPMIN nokey z 5".Split(' ').Select(Encoding.ASCII.GetBytes)]));
        Wait.ForBlockedClients(writer, 1);
        second.Send(RespConnection.EncodeCommand([.. "BZMPOP 5 1 z MAX COUNT 5".Split(' ').Select(Encoding.ASCII.GetBytes)]));
        Wait.ForBlockedClients(writer, 2);
        Assert.Equal(":3\r\n", Encoding.Latin1.GetString(writer.Call("ZADD", "z", "1", "a", "2", "b", "3", "c")));
        Assert.Equal("*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n", first.ReadReply().Text);
        Assert.Equal("*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", second.ReadReply().Text);
        Assert.Equal(":0\r\n", Encoding.Latin1.GetString(writer.Call("EXISTS", "z")));
    }

    [Fact]
    public void Blocked_pop_times_out_with_a_null_array_and_store_commands_wake_waiters()
    {
        using var waiter = Fresh(servers.Mini);
        using var writer = servers.Mini.Connect();
        Assert.Equal("*-1\r\n", Encoding.Latin1.GetString(waiter.Call("BZPOPMAX", "nokey", "0.05")));
        writer.Call("ZADD", "src", "5", "m");
        waiter.Send(RespConnection.EncodeCommand([.. "BZPOPMAX dst 5".Split(' ').Select(Encoding.ASCII.GetBytes)]));
        Wait.ForBlockedClients(writer, 1);
        Assert.Equal(":1\r\n", Encoding.Latin1.GetString(writer.Call("ZUNIONSTORE", "dst", "1", "src")));
        Assert.Equal("*3\r\n$3\r\ndst\r\n$1\r\nm\r\n$1\r\n5\r\n", waiter.ReadReply().Text);
    }
}
