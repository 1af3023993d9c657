using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// HSET with many pairs, which a listpack takes in one step (the new fields appended together): repeated
/// fields, fields already there, integers and strings, a listpack that converts, must leave the same
/// replies, field order, encoding and DUMP bytes as real Redis's pair-by-pair hashTypeSet.
/// </summary>
[Trait("Category", "Differential")]
public sealed class HashSetPairsTests(SmallHashSetLimitsPair servers) : IClassFixture<SmallHashSetLimitsPair>
{
    public static TheoryData<string[][]> Sequences => new()
    {
        new[] { new[] { "HSET", "h", "a", "1", "b", "two", "c", "-3" } },
        new[] { new[] { "HSET", "h", "a", "1", "b", "2", "a", "3", "b", "x", "a", "long" } },
        new[] { new[] { "HSET", "h", "a", "1", "b", "2" }, new[] { "HSET", "h", "c", "3", "a", "abc", "d", "4", "c", "5" } },
        new[] { new[] { "HSET", "h", "a", "123456", "b", "2" }, new[] { "HSET", "h", "a", "1", "b", "-4096", "e", "" } },
        new[] { new[] { "HMSET", "h", "a", "1", "a", "2", "a", "3" } },
        // Past 8 entries (the fixture's hash-max-listpack-entries): a hash table.
        new[] { new[] { "HSET", "h", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5", "f6", "6", "f7", "7", "f8", "8", "f9", "9" } },
        new[] { new[] { "HSET", "h", "f1", "1", "f1", "2", "f2", "3", "f2", "4", "f3", "5", "f4", "6", "f5", "7", "f6", "8", "f7", "9", "f8", "0" } },
        // Past 6 bytes (hash-max-listpack-value) in a later pair: a hash table.
        new[] { new[] { "HSET", "h", "a", "1" }, new[] { "HSET", "h", "b", "2", "c", "toolongvalue" } },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Replies_order_encoding_and_dump_match_real_redis(string[][] commands)
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        foreach (var connection in new[] { redis, mini }) connection.Call("DEL", "h");
        foreach (var command in commands)
        {
            Assert.Equal(RespConnection.Escape(redis.Call(command)), RespConnection.Escape(mini.Call(command)));
        }
        string encoding = RespConnection.Escape(redis.Call("OBJECT", "ENCODING", "h"));
        Assert.Equal(encoding, RespConnection.Escape(mini.Call("OBJECT", "ENCODING", "h")));
        Assert.Equal(RespConnection.Escape(redis.Call("HLEN", "h")), RespConnection.Escape(mini.Call("HLEN", "h")));
        // A listpack's field order and bytes are Redis's exactly; a hash table's order is its own.
        if (encoding.Contains("listpack", StringComparison.Ordinal))
        {
            Assert.Equal(RespConnection.Escape(redis.Call("HGETALL", "h")), RespConnection.Escape(mini.Call("HGETALL", "h")));
            Assert.Equal(RespConnection.Escape(redis.Call("DUMP", "h")), RespConnection.Escape(mini.Call("DUMP", "h")));
        }
        else
        {
            foreach (var field in new[] { "a", "b", "c", "f1", "f2", "f8", "f9" })
            {
                Assert.Equal(RespConnection.Escape(redis.Call("HGET", "h", field)), RespConnection.Escape(mini.Call("HGET", "h", field)));
            }
        }
    }
}
