using MiniRedis.Memory;

namespace MiniRedis.Tests.Memory;

/// <summary>
/// When the process gives heap memory back (<see cref="HeapReturn.Decide"/>): holes worth a pause in a live
/// heap small enough for a short one, released buffers after the collection asked for them, and never more
/// often than keeps compactions' pauses to a small share of the time.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HeapReturnTests
{
    const long MB = 1 << 20;

    /// <summary>
    /// A busy server's heap collected since the last compaction, which was long ago and short, nothing released, no
    /// estimate of the live data, nothing committed past the heap.
    /// </summary>
    static HeapFacts Heap(long live, long free) => new(HeapBytes: live + free, FreeBytes: free, ExpectedLiveBytes: 0, ReleasedBytes: 0, CollectionPending: false, AfterRequestedCollection: false,
        CollectedSinceCompaction: true, SinceCompaction: TimeSpan.FromMinutes(1), LastCompactionPause: TimeSpan.FromMilliseconds(10), CommittedBytes: live + free, Idle: false,
        AllocatedSinceCompaction: 0);

    [Theory]
    [InlineData(30 * MB, 32 * MB)] // a maxmemory 20mb cache after a long run: more holes than data
    [InlineData(64 * MB, 16 * MB)] // the largest live heap, holes a quarter of it
    [InlineData(10 * MB, 8 * MB)] // the smallest holes worth it
    public void Compacts_a_small_heap_with_many_holes(long live, long free) => Assert.Equal(HeapAction.Compact, HeapReturn.Decide(Heap(live, free)));

    [Theory]
    [InlineData(200 * MB, 150 * MB)] // 1M keys: the pause would be far too long
    [InlineData(65 * MB, 64 * MB)] // just past the live heap's limit
    [InlineData(10 * MB, 7 * MB)] // holes below the floor
    [InlineData(40 * MB, 9 * MB)] // holes under a quarter of the live data
    public void Leaves_the_heap_alone_otherwise(long live, long free) => Assert.Equal(HeapAction.None, HeapReturn.Decide(Heap(live, free)));

    [Fact]
    public void Counts_garbage_the_data_does_not_explain_before_a_collection_shows_it_as_holes()
    {
        // A cache at maxmemory: used_memory as at the last compaction (25 MB live), the heap 20 MB past it.
        var cache = new HeapFacts(HeapBytes: 45 * MB, FreeBytes: 0, ExpectedLiveBytes: 25 * MB, ReleasedBytes: 0, CollectionPending: false,
            AfterRequestedCollection: false, CollectedSinceCompaction: true, SinceCompaction: TimeSpan.FromMinutes(1), LastCompactionPause: TimeSpan.FromMilliseconds(10),
            CommittedBytes: 45 * MB, Idle: false, AllocatedSinceCompaction: 0);
        Assert.Equal(HeapAction.Compact, HeapReturn.Decide(cache));
        // The data grew as much as the heap did: nothing to return.
        Assert.Equal(HeapAction.None, HeapReturn.Decide(cache with { ExpectedLiveBytes = 45 * MB }));
        // An estimate above what the last collection kept does not hide the holes it found.
        Assert.Equal(HeapAction.Compact, HeapReturn.Decide(cache with { FreeBytes = 20 * MB, ExpectedLiveBytes = 40 * MB }));
    }

    [Fact]
    public void Does_not_compact_again_before_the_heap_has_been_collected()
    {
        // The figures are the last compaction's own: compacting again would find the same holes (pinned ones, say).
        Assert.Equal(HeapAction.None, HeapReturn.Decide(Heap(30 * MB, 32 * MB) with { CollectedSinceCompaction = false }));
    }

    [Theory]
    [InlineData(10, 500, false)] // within the minimum interval
    [InlineData(10, 1000, true)] // the minimum interval has passed, the pause was short
    [InlineData(200, 1500, false)] // a 200 ms pause: not again before 2 s (a tenth of the time)
    [InlineData(200, 2000, true)]
    public void Keeps_compactions_apart_by_their_pauses(int pauseMs, int sinceMs, bool compacts)
    {
        var facts = Heap(30 * MB, 32 * MB) with { LastCompactionPause = TimeSpan.FromMilliseconds(pauseMs), SinceCompaction = TimeSpan.FromMilliseconds(sinceMs) };
        Assert.Equal(compacts ? HeapAction.Compact : HeapAction.None, HeapReturn.Decide(facts));
    }

    [Fact]
    public void Asks_for_a_collection_once_enough_buffers_are_released()
    {
        Assert.Equal(HeapAction.None, HeapReturn.Decide(Heap(200 * MB, 0) with { ReleasedBytes = 63 * MB }));
        Assert.Equal(HeapAction.Collect, HeapReturn.Decide(Heap(200 * MB, 0) with { ReleasedBytes = 64 * MB }));
    }

    [Fact]
    public void Waits_for_the_collection_it_asked_for()
    {
        var pending = Heap(30 * MB, 32 * MB) with { ReleasedBytes = 128 * MB, CollectionPending = true };
        Assert.Equal(HeapAction.None, HeapReturn.Decide(pending));
    }

    [Theory]
    [InlineData(200, true)] // the released buffers are worth a longer, one-off pause
    [InlineData(256, true)]
    [InlineData(257, false)] // past that, the buffers stay committed until the GC reuses them
    public void After_released_buffers_compacts_a_larger_heap(long liveMB, bool compacts)
    {
        var facts = Heap(liveMB * MB, 0) with { AfterRequestedCollection = true };
        Assert.Equal(compacts ? HeapAction.Compact : HeapAction.None, HeapReturn.Decide(facts));
    }

    [Theory]
    [InlineData(19, 5, true, true)] // 1M stream entries just loaded: young regions and holes past the data, no command since
    [InlineData(19, 5, false, false)] // the same while commands run: the GC reuses that room
    [InlineData(19, 3, true, false)] // too little to give back
    [InlineData(1, 2, true, false)] // an empty server: gen0's budget
    [InlineData(72, 8, true, true)] // the same load when its replies piled up: the last collection left their buffers in gen1
    [InlineData(129, 40, true, false)] // past the idle limit: the pause would be too long
    public void Gives_committed_room_back_once_the_server_is_idle(long liveMB, long spareMB, bool idle, bool compacts)
    {
        // Holes too small for the busy rule; the spare is committed past the heap; the load allocated its data and more.
        var facts = Heap(liveMB * MB, MB) with { CommittedBytes = (liveMB + spareMB) * MB, Idle = idle, AllocatedSinceCompaction = 2 * liveMB * MB };
        Assert.Equal(compacts ? HeapAction.Compact : HeapAction.None, HeapReturn.Decide(facts));
        // Compacted already and not collected since: the same figures, nothing more to give.
        Assert.Equal(HeapAction.None, HeapReturn.Decide(facts with { CollectedSinceCompaction = false }));
    }

    [Theory]
    [InlineData(19, 19, true)] // the stream load: its data was allocated since
    [InlineData(19, 7, false)] // below the floor: light traffic's collection, not a burst
    [InlineData(100, 24, false)] // under a quarter of the live heap the compaction would move
    [InlineData(100, 25, true)]
    public void Compacts_an_idle_heap_only_after_a_burst_of_allocation(long liveMB, long allocatedMB, bool compacts)
    {
        var facts = Heap(liveMB * MB, MB) with { CommittedBytes = (liveMB + 6) * MB, Idle = true, AllocatedSinceCompaction = allocatedMB * MB };
        Assert.Equal(compacts ? HeapAction.Compact : HeapAction.None, HeapReturn.Decide(facts));
    }
}
