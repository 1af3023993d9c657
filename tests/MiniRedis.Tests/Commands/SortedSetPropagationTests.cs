using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What sorted set commands hand to the AOF: the records real Redis 7.0.15 wrote to its AOF for the same
/// commands (writes that change nothing log nothing; pops other than ZPOPMIN/ZPOPMAX are rewritten).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SortedSetPropagationTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    void Run(string command) => _recorder.Client.Run(command);

    [Theory]
    [InlineData("zadd z 4 d", "0: zadd z 4 d")]
    [InlineData("zadd z incr 1 a", "0: zadd z incr 1 a")]
    [InlineData("zincrby z 0.1 b", "0: zincrby z 0.1 b")]
    [InlineData("zrem z c", "0: zrem z c")]
    [InlineData("zpopmin z", "0: zpopmin z")]
    [InlineData("zpopmax z 5", "0: zpopmax z 5")]
    [InlineData("zmpop 1 z min count 2", "0: ZPOPMIN z 2")]
    [InlineData("zmpop 1 z min count 5", "0: ZPOPMIN z 3")]
    [InlineData("bzpopmin z 0", "0: ZPOPMIN z")]
    [InlineData("bzpopmax z 0", "0: ZPOPMAX z")]
    [InlineData("bzmpop 0 1 z max", "0: ZPOPMAX z 1")]
    [InlineData("bzmpop 0 2 nokey z max count 7", "0: ZPOPMAX z 3")]
    [InlineData("zremrangebyscore z 1 1", "0: zremrangebyscore z 1 1")]
    [InlineData("zremrangebyrank z 0 0", "0: zremrangebyrank z 0 0")]
    [InlineData("zremrangebylex z - +", "0: zremrangebylex z - +")]
    [InlineData("zrangestore d z 0 -1", "0: zrangestore d z 0 -1")]
    [InlineData("zunionstore u 1 z", "0: zunionstore u 1 z")]
    [InlineData("zdiffstore u 1 z", "0: zdiffstore u 1 z")]
    [InlineData("sort z by nosort desc limit 1 1 store d", "0: sort z by nosort desc limit 1 1 store d")]
    public void Writes_are_logged_as_real_redis_logs_them(string command, string record)
    {
        Run("zadd z 1 a 2 b 3 c");
        Assert.Equal([record], Logged(command));
    }

    [Theory]
    [InlineData("zadd z 1 a")]
    [InlineData("zadd z nx incr 1 a")]
    [InlineData("zadd z gt 0 a")]
    [InlineData("zrem z nosuch")]
    [InlineData("zremrangebyrank z 5 6")]
    [InlineData("zpopmin nokey")]
    [InlineData("zrangestore d nokey 0 -1")]
    [InlineData("zinterstore u 1 nokey")]
    [InlineData("bzpopmin nokey 0.01")]
    public void Writes_that_change_nothing_log_nothing(string command)
    {
        Run("zadd z 1 a 2 b 3 c");
        Assert.Empty(Logged(command));
    }

    [Fact]
    public void Store_with_an_empty_result_logs_the_deletion_of_an_existing_destination()
    {
        Run("zadd d 1 a");
        Assert.Equal(["0: zrangestore d nokey 0 -1"], Logged("zrangestore d nokey 0 -1"));
        Assert.Equal(":0\r\n", _recorder.Client.Run("exists d"));
    }
}
