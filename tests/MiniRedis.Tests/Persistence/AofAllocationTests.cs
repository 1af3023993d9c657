using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// The AOF append path on the executor (the command propagated, encoded into the writer's buffer and
/// written at the round's end) allocates no managed memory per command in steady state.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AofAllocationTests() : AofBootTests("aof-alloc-")
{
    [Theory]
    [InlineData("no", "SET", "k", "value")]
    [InlineData("everysec", "SET", "k", "value")]
    [InlineData("always", "SET", "k", "value")]
    [InlineData("everysec", "INCR", "counter")]
    public void Write_command_logged_to_the_aof_allocates_nothing_per_call(string policy, params string[] command)
    {
        var (server, started, _) = Boot("save \"\"\nappendfsync " + policy);
        Assert.True(started);
        Assert.True(server.Aof.Enabled);
        long before = server.Aof.CurrentSize;
        // The round's end (Executor.FinishRound) lets the writer write its buffer to the file.
        long allocated = AllocationProbe.BytesFor10000Calls(server, new InProcessClient(server), server.Propagation.FlushSinks, command);
        Assert.True(server.Aof.CurrentSize > before, "the commands were not logged");
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls logged (appendfsync {policy}) to the AOF allocated {allocated} bytes");
    }
}
