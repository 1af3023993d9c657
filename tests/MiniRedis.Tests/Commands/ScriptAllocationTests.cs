using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>The EVALSHA hot path on the executor: a cached one-call script allocates no managed memory per call in steady state.</summary>
[Trait("Category", "Unit")]
public sealed class ScriptAllocationTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer();

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData("return redis.call('incr', KEYS[1])")]
    [InlineData("return redis.call('get', KEYS[1])")]
    [InlineData("return {redis.call('incr', KEYS[1]), ARGV[1], 'ok'}")]
    public void Evalsha_of_a_one_call_script_allocates_nothing_per_call(string script)
    {
        var client = new InProcessClient(_server);
        var sha = client.Run($"SCRIPT LOAD \"{script}\"").Split("\r\n")[1];
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, "EVALSHA", sha, "1", "counter", "argument");
        Assert.True(allocated < 10_000, $"10,000 EVALSHA calls allocated {allocated} bytes");
    }
}
