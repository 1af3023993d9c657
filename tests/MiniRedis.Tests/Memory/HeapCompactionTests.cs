using MiniRedis.Memory;

namespace MiniRedis.Tests.Memory;

/// <summary>When the cron compacts the heap: holes worth a pause, in a live heap small enough for a short one.</summary>
[Trait("Category", "Unit")]
public sealed class HeapCompactionTests
{
    const long MB = 1 << 20;

    [Theory]
    [InlineData(30 * MB, 32 * MB)] // a maxmemory 20mb cache after a long run: more holes than data
    [InlineData(64 * MB, 32 * MB)] // the largest live heap, holes half of it
    [InlineData(10 * MB, 8 * MB)] // the smallest holes worth it
    public void Compacts_a_small_heap_with_many_holes(long live, long free) => Assert.True(HeapCompaction.Worthwhile(live, free));

    [Theory]
    [InlineData(200 * MB, 150 * MB)] // 1M keys: the pause would be far too long
    [InlineData(65 * MB, 64 * MB)] // just past the live heap's limit
    [InlineData(10 * MB, 7 * MB)] // holes below the floor
    [InlineData(40 * MB, 19 * MB)] // holes under half of the live data
    public void Leaves_the_heap_alone_otherwise(long live, long free) => Assert.False(HeapCompaction.Worthwhile(live, free));
}
