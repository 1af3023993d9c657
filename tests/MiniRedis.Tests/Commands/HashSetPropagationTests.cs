using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What hash and set commands hand to the AOF/replication stream. Expected records match what a real
/// Redis 7.0.15 wrote to its appendonlydir/*.incr.aof for the same commands.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HashSetPropagationTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    InProcessClient _client => _recorder.Client;

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    [Fact]
    public void Hash_writes_are_logged_as_sent_only_when_they_change_something()
    {
        Assert.Equal(["0: hsetnx h a 1"], Logged("hsetnx h a 1"));
        Assert.Empty(Logged("hsetnx h a 2"));
        Assert.Equal(["0: hset h b 2 c 3"], Logged("hset h b 2 c 3"));
        Assert.Equal(["0: hmset h b 2"], Logged("hmset h b 2"));
        Assert.Equal(["0: hdel h a nofield"], Logged("hdel h a nofield"));
        Assert.Empty(Logged("hdel h a"));
        Assert.Equal(["0: hincrby h n 5"], Logged("hincrby h n 5"));
        Assert.Empty(Logged("hincrby h b notanumber"));
        Assert.Empty(Logged("hget h b"));
    }

    [Fact]
    public void Hincrbyfloat_is_logged_as_hset_of_the_result()
    {
        _client.Run("hset h2 a 1");
        Assert.Equal(["0: HSET h2 a 1"], Logged("hincrbyfloat h2 a 0"));
        Assert.Equal(["0: HSET h2 a 1.1"], Logged("hincrbyfloat h2 a 0.1"));
        Assert.Empty(Logged("hincrbyfloat h2 a x"));
    }

    [Fact]
    public void Set_writes_are_logged_as_sent_only_when_they_change_something()
    {
        Assert.Equal(["0: sadd s 1 2"], Logged("sadd s 1 2"));
        Assert.Empty(Logged("sadd s 1"));
        Assert.Empty(Logged("srem s 9"));
        Assert.Equal(["0: smove s t 1"], Logged("smove s t 1"));
        Assert.Empty(Logged("smove s t 9"));
        Assert.Empty(Logged("sinterstore d s nokey"));
        Assert.Equal(["0: sinterstore d s s"], Logged("sinterstore d s s"));
        Assert.Equal(["0: sinterstore d s nokey"], Logged("sinterstore d s nokey"));
        Assert.Empty(Logged("sunionstore d nokey"));
        Assert.Equal(["0: sdiffstore d s"], Logged("sdiffstore d s"));
        Assert.Empty(Logged("sintercard 1 s"));
        Assert.Empty(Logged("smembers s"));
    }

    [Fact]
    public void Spop_is_logged_as_srem_of_the_popped_member()
    {
        _client.Run("sadd s 2");
        Assert.Equal(["0: SREM s 2"], Logged("spop s"));
        Assert.Empty(Logged("spop nokey"));
        Assert.Empty(Logged("spop nokey 1"));
    }

    [Fact]
    public void Spop_with_count_logs_one_srem_per_member_in_a_transaction()
    {
        _client.Run("sadd u a b c d e f g");
        var records = Logged("spop u 3");
        Assert.Equal(5, records.Count);
        Assert.Equal("0: MULTI", records[0]);
        Assert.Equal("-1: EXEC", records[^1]);
        var members = records[1..^1].Select(r => r.Split(' ')).ToList();
        Assert.All(members, parts => Assert.Equal(["0:", "SREM", "u"], parts[..3]));
        Assert.Equal(3, members.Select(parts => parts[3]).Distinct().Count());
        Assert.Equal(":4\r\n", _client.Run("scard u"));
        Assert.Empty(Logged("spop u 0"));
    }

    [Fact]
    public void Spop_taking_the_whole_set_is_logged_as_del()
    {
        _client.Run("sadd x 5");
        Assert.Equal(["0: DEL x"], Logged("spop x 1"));
        _client.Run("sadd y a b");
        Assert.Equal(["0: DEL y"], Logged("spop y 10"));
    }
}
