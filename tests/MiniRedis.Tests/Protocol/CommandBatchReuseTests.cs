using System.Buffers;
using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// A pipelined load (redis-cli --pipe) fills batch after batch to ClientConnection's 1 MB of argument
/// bytes. The batch's arrays must be reused from one such batch to the next: dropping them in Clear
/// made megabytes of large-object garbage per batch, which stayed resident after a 1M-key load.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandBatchReuseTests
{
    [Theory]
    [InlineData("SET key:{0:D12} v{0:D15}")]
    [InlineData("PING")]
    public void A_full_pipelined_batch_reuses_its_arrays(string command)
    {
        var text = new StringBuilder();
        for (int i = 0; text.Length < 3 << 20; i++) text.Append(string.Format(null, command, i)).Append("\r\n");
        var input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text.ToString()));
        var limits = new ParseLimits(512L * 1024 * 1024, 1 << 20, Unauthenticated: false);
        var batch = new CommandBatch();

        long FillAndClear()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            RespParser.Parse(input, batch, limits);
            Assert.True(batch.ArenaBytes >= 1 << 20, "the batch is full");
            batch.Clear();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        FillAndClear();
        Assert.True(FillAndClear() < 64 * 1024, "a second full batch allocates next to nothing");
    }
}
