using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Execution;

/// <summary>
/// The eight commands of the throughput goal, run as a connection's batch, allocate nothing per call in
/// steady state (keys and values that exist, values of the same length). Client tracking's after-command
/// hook once allocated a closure on every command of every client.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HotPathAllocationTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer(ServerConfig.Parse("save \"\""));

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData("SET", "key", "value")]
    [InlineData("GET", "key")]
    [InlineData("INCR", "counter")]
    [InlineData("MSET", "k1", "v1", "k2", "v2", "k3", "v3")]
    [InlineData("HSET", "hash", "field", "value")]
    [InlineData("SADD", "set", "member")]
    [InlineData("ZADD", "zset", "1", "member")]
    public void Hot_path_commands_allocate_nothing_per_call(params string[] command)
    {
        var client = new InProcessClient(_server);
        client.Run("SET key value");
        client.Run("SET counter 1000000");
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, command);
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls allocated {allocated} bytes");
    }
}
