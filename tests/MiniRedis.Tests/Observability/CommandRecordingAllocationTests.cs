using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Observability;

/// <summary>
/// What every command's call records (its latency histogram, the latency monitor's check, the slow
/// log's check) allocates nothing per command in steady state, with all three switched on; nor do the
/// hot-path commands of the throughput goal, run as a connection's batch (keys and values that exist,
/// values of the same length). Client tracking's after-command hook once allocated a closure on every
/// command of every client.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandRecordingAllocationTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer(ServerConfig.Parse("save \"\"\nlatency-monitor-threshold 1000\nslowlog-log-slower-than 1000000\nlatency-tracking yes"));

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData("SET", "key", "value")]
    [InlineData("GET", "key")]
    [InlineData("INCR", "counter")]
    [InlineData("MSET", "k1", "v1", "k2", "v2", "k3", "v3")]
    [InlineData("HSET", "hash", "field", "value")]
    [InlineData("SADD", "set", "member")]
    [InlineData("ZADD", "zset", "1", "member")]
    public void Hot_path_commands_record_their_calls_without_allocating(params string[] command)
    {
        var client = new InProcessClient(_server);
        client.Run("SET key value");
        client.Run("SET counter 1000000");
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, command);
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls allocated {allocated} bytes");
        var def = _server.Commands.Find(command[0])!;
        Assert.True(def.LatencyHistogram!.TotalCount >= 11_000);
    }
}
