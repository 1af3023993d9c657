using System.Globalization;
using System.Text;
using MiniRedis.Tests.Differential;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>Real Redis and MiniRedis both started with small hash and set encoding limits, so conversions happen early.</summary>
public sealed class SmallHashSetLimitsPair() : ServerPairFixture(
    "--hash-max-listpack-entries", "8", "--hash-max-listpack-value", "6", "--set-max-intset-entries", "8");

/// <summary>
/// Random hash and set command sequences (fixed seeds) under small encoding limits: every reply must equal
/// real Redis 7.0.15's (byte for byte, or as a multiset where the order of a hash table is Redis's own, or
/// in shape where Redis picks at random), and the collections must match an in-test model after every step.
/// </summary>
[Trait("Category", "Differential")]
public sealed class HashSetPropertyTests(SmallHashSetLimitsPair servers) : IClassFixture<SmallHashSetLimitsPair>
{
    static readonly string[] HashKeys = ["h1", "h2"];
    static readonly string[] SetKeys = ["s1", "s2", "s3"];
    const int Steps = 1200;

    sealed class Model
    {
        public readonly Dictionary<string, Dictionary<string, string>> Hashes = HashKeys.ToDictionary(k => k, _ => new Dictionary<string, string>());
        public readonly Dictionary<string, HashSet<string>> Sets = SetKeys.ToDictionary(k => k, _ => new HashSet<string>());
    }

    /// <summary>
    /// One step: the command, how replies compare, and what it does to the model given real Redis's reply
    /// (which settles arithmetic results such as HINCRBYFLOAT's formatting; the comparison checks MiniRedis's).
    /// </summary>
    sealed record Step(string[] Args, Comparison Comparison, Action<RespNode>? Apply = null);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_hash_sequences_match_real_redis_and_the_model(int seed)
        => Run(seed, NextHashStep, checkHashes: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_set_sequences_match_real_redis_and_the_model(int seed)
        => Run(seed, NextSetStep, checkHashes: false);

    void Run(int seed, Func<Random, Model, Step> next, bool checkHashes)
    {
        var random = new Random(seed);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        redis.Call("FLUSHALL");
        mini.Call("FLUSHALL");
        var model = new Model();
        var encodingsSeen = new HashSet<string>();

        for (int step = 0; step < Steps; step++)
        {
            var command = next(random, model);
            var args = command.Args.Select(Encoding.Latin1.GetBytes).ToList();
            var line = new CorpusLine(step, string.Join(' ', command.Args), command.Comparison, args);
            var expected = Call(redis, args);
            var actual = Call(mini, args);
            Assert.True(line.Canonical(expected) == line.Canonical(actual),
                $"seed {seed} step {step}: {line.Text}\n  redis: {expected}\n  mini:  {actual}");
            command.Apply?.Invoke(expected);

            // Listpacks and intsets have one order, so their replies must match exactly; hash tables as multisets.
            foreach (var key in checkHashes ? HashKeys : SetKeys)
            {
                var contents = checkHashes ? Call(mini, "HGETALL", key) : Call(mini, "SMEMBERS", key);
                Assert.True(ModelReply(model, key, checkHashes) == Sorted(contents), $"seed {seed} step {step}: {line.Text}\n  {key} is {contents}");
            }
            if (step % 40 == 39)
            {
                foreach (var key in checkHashes ? HashKeys : SetKeys)
                {
                    string[] read = [checkHashes ? "HGETALL" : "SMEMBERS", key];
                    var encoding = Call(redis, "OBJECT", "ENCODING", key).Text;
                    encodingsSeen.Add(encoding);
                    bool exact = encoding is "$8\r\nlistpack\r\n" or "$6\r\nintset\r\n";
                    var readLine = new CorpusLine(step, string.Join(' ', read), exact ? Comparison.Exact : Comparison.Sorted, [.. read.Select(Encoding.Latin1.GetBytes)]);
                    Assert.Equal(readLine.Canonical(Call(redis, read)), readLine.Canonical(Call(mini, read)));
                }
            }
        }
        // The sequence must have crossed the limits: both the compact encoding and the hash table were seen.
        Assert.Contains("$9\r\nhashtable\r\n", encodingsSeen);
        Assert.Contains(checkHashes ? "$8\r\nlistpack\r\n" : "$6\r\nintset\r\n", encodingsSeen);
    }

    static RespNode Call(RespConnection connection, params string[] args) => Call(connection, [.. args.Select(Encoding.Latin1.GetBytes)]);

    static RespNode Call(RespConnection connection, IReadOnlyList<byte[]> args)
    {
        connection.Send(RespConnection.EncodeCommand(args));
        return connection.ReadReply();
    }

    static string Sorted(RespNode reply) => new CorpusLine(0, "", Comparison.Sorted, []).Canonical(reply);

    /// <summary>The model's contents as the HGETALL/SMEMBERS reply, in sorted form.</summary>
    static string ModelReply(Model model, string key, bool hash)
    {
        var items = hash ? model.Hashes[key].SelectMany(p => new[] { p.Key, p.Value }) : model.Sets[key];
        var bulks = items.Select(item => new RespNode((byte)'$', Encoding.Latin1.GetBytes($"${item.Length}\r\n{item}\r\n"), [])).ToList();
        return Sorted(new RespNode((byte)'*', Encoding.Latin1.GetBytes($"*{bulks.Count}\r\n"), bulks));
    }

    static string Pick(Random random, string[] options) => options[random.Next(options.Length)];

    static string Field(Random random) => random.Next(12) == 0 ? "longfield" + random.Next(3) : "f" + random.Next(12);

    static string Value(Random random) => random.Next(8) switch
    {
        0 => "longvalue" + random.Next(3),
        1 => "-" + random.Next(100),
        2 => "1.5",
        3 => "abc",
        _ => random.Next(1000).ToString(CultureInfo.InvariantCulture),
    };

    static Step NextHashStep(Random random, Model model)
    {
        string key = Pick(random, HashKeys);
        var hash = model.Hashes[key];
        string field = Field(random), value = Value(random);
        switch (random.Next(16))
        {
            case 0:
            case 1:
            case 2:
                {
                    string field2 = Field(random), value2 = Value(random);
                    return new(["HSET", key, field, value, field2, value2], Comparison.Exact, _ =>
                    {
                        hash[field] = value;
                        hash[field2] = value2;
                    });
                }
            case 3:
                return new(["HSETNX", key, field, value], Comparison.Exact, _ => hash.TryAdd(field, value));
            case 4:
                {
                    string field2 = Field(random);
                    return new(["HDEL", key, field, field2], Comparison.Exact, _ =>
                    {
                        hash.Remove(field);
                        hash.Remove(field2);
                    });
                }
            case 5:
                {
                    string by = random.Next(20) == 0 ? "9223372036854775807" : random.Next(-50, 50).ToString(CultureInfo.InvariantCulture);
                    return new(["HINCRBY", key, field, by], Comparison.Exact, reply =>
                    {
                        if (reply.Type == (byte)':') hash[field] = reply.Text[1..^2];
                    });
                }
            case 6:
                {
                    string by = Pick(random, ["0.1", "-1.25", "3", "1e3", "abc", "inf"]);
                    return new(["HINCRBYFLOAT", key, field, by], Comparison.Exact, reply =>
                    {
                        if (reply.Type == (byte)'$') hash[field] = Encoding.Latin1.GetString(BulkBody(reply));
                    });
                }
            case 7:
                return new(["HGET", key, field], Comparison.Exact);
            case 8:
                return new(["HMGET", key, field, Field(random), Field(random)], Comparison.Exact);
            case 9:
                return new([Pick(random, ["HLEN", "HKEYS", "HVALS", "HGETALL"]), key], Comparison.Sorted);
            case 10:
                return new([Pick(random, ["HSTRLEN", "HEXISTS"]), key, field], Comparison.Exact);
            case 11:
                {
                    // A count covering the whole hash returns all of it; other counts pick at random.
                    int count = random.Next(-3, 12);
                    bool withValues = random.Next(2) == 0;
                    string[] args = withValues ? ["HRANDFIELD", key, count.ToString(CultureInfo.InvariantCulture), "WITHVALUES"] : ["HRANDFIELD", key, count.ToString(CultureInfo.InvariantCulture)];
                    return new(args, count >= hash.Count || count == 0 ? Comparison.Sorted : Comparison.Shape);
                }
            case 12:
                return new(["OBJECT", "ENCODING", key], Comparison.Exact);
            case 13:
                return new(["HSCAN", key, "0", "COUNT", "100"], Comparison.Sorted);
            case 14:
                // A set command on an existing hash: WRONGTYPE, nothing changes.
                return new(hash.Count > 0 ? ["SADD", key, "x"] : ["HGET", key, field], Comparison.Exact);
            default:
                return new(["DEL", key], Comparison.Exact, _ => hash.Clear());
        }
    }

    static byte[] BulkBody(RespNode bulk)
    {
        int start = Array.IndexOf(bulk.Raw, (byte)'\n') + 1;
        return bulk.Raw[start..^2];
    }

    static string Member(Random random) => random.Next(10) switch
    {
        0 => "m" + random.Next(4),
        1 => "longmember" + random.Next(2),
        2 => Pick(random, ["01", "-0", "9223372036854775807", "9223372036854775808", "-9223372036854775808"]),
        _ => random.Next(-5, 15).ToString(CultureInfo.InvariantCulture),
    };

    static Step NextSetStep(Random random, Model model)
    {
        string key = Pick(random, SetKeys), other = Pick(random, SetKeys), third = Pick(random, SetKeys);
        var set = model.Sets[key];
        string member = Member(random), member2 = Member(random);
        switch (random.Next(18))
        {
            case 0:
            case 1:
            case 2:
            case 3:
                return new(["SADD", key, member, member2], Comparison.Exact, _ =>
                {
                    set.Add(member);
                    set.Add(member2);
                });
            case 4:
                return new(["SREM", key, member, member2], Comparison.Exact, _ =>
                {
                    set.Remove(member);
                    set.Remove(member2);
                });
            case 5:
                return new(["SISMEMBER", key, member], Comparison.Exact);
            case 6:
                return new(["SMISMEMBER", key, member, member2], Comparison.Exact);
            case 7:
                return new([Pick(random, ["SCARD", "SMEMBERS"]), key], Comparison.Sorted);
            case 8:
                return new(["SMOVE", key, other, member], Comparison.Exact, reply =>
                {
                    if (reply.Text != ":1\r\n") return;
                    set.Remove(member);
                    model.Sets[other].Add(member);
                });
            case 9:
                return new([Pick(random, ["SINTER", "SUNION", "SDIFF"]), key, other, third], Comparison.Sorted);
            case 10:
                {
                    string operation = Pick(random, ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                    return new([operation, key, other, third], Comparison.Exact, _ =>
                    {
                        var result = new HashSet<string>(model.Sets[other]);
                        if (operation == "SINTERSTORE") result.IntersectWith(model.Sets[third]);
                        else if (operation == "SUNIONSTORE") result.UnionWith(model.Sets[third]);
                        else result.ExceptWith(model.Sets[third]);
                        set.Clear();
                        set.UnionWith(result);
                    });
                }
            case 11:
                return new(["SINTERCARD", "2", key, other, "LIMIT", random.Next(0, 4).ToString(CultureInfo.InvariantCulture)], Comparison.Exact);
            case 12:
                {
                    // Popping the whole set is deterministic; popping part of it is not, so it is left out.
                    int count = set.Count + random.Next(0, 3);
                    return new(["SPOP", key, count.ToString(CultureInfo.InvariantCulture)], Comparison.Sorted, _ => set.Clear());
                }
            case 13:
                {
                    int count = random.Next(-3, 12);
                    return new(["SRANDMEMBER", key, count.ToString(CultureInfo.InvariantCulture)], count >= set.Count || count == 0 ? Comparison.Sorted : Comparison.Shape);
                }
            case 14:
                return new(["OBJECT", "ENCODING", key], Comparison.Exact);
            case 15:
                return new(["SSCAN", key, "0", "COUNT", "100"], Comparison.Sorted);
            case 16:
                return new(set.Count > 0 ? ["HSET", key, "f", "v"] : ["SCARD", key], Comparison.Exact);
            default:
                return new(["DEL", key], Comparison.Exact, _ => set.Clear());
        }
    }
}
