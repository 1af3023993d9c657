using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Observability;

/// <summary>
/// What every command's call records (its latency histogram, the latency monitor's check, the slow
/// log's check) allocates nothing per command in steady state, with all three switched on.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandRecordingAllocationTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer(ServerConfig.Parse("save \"\"\nlatency-monitor-threshold 1000\nslowlog-log-slower-than 1000000\nlatency-tracking yes"));

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData("SET", "key", "value")]
    [InlineData("GET", "key")]
    public void Get_and_set_record_their_calls_without_allocating(params string[] command)
    {
        var client = new InProcessClient(_server);
        client.Run("SET key value");
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, command);
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls allocated {allocated} bytes");
        var def = _server.Commands.Find(command[0])!;
        Assert.True(def.LatencyHistogram!.TotalCount >= 11_000);
    }
}
