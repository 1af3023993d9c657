using System.Diagnostics;

namespace MiniRedis.Memory;

/// <summary>What <see cref="HeapReturn.Decide"/> can ask for.</summary>
public enum HeapAction
{
    None,

    /// <summary>A background full collection: frees released buffers with short pauses, and shows the holes it leaves.</summary>
    Collect,

    /// <summary>A blocking, compacting full collection that gives the free space back to the operating system.</summary>
    Compact,
}

/// <summary>
/// The heap as the last collection left it, and what happened since the last compaction: everything the
/// decision reads.
/// </summary>
/// <param name="HeapBytes">The heap the last collection left, holes included.</param>
/// <param name="FreeBytes">Its holes (free space the heap keeps committed).</param>
/// <param name="ExpectedLiveBytes">The live heap the data explains: the last compaction's live heap scaled by how used_memory
/// changed since (0 before the first one). A heap past it holds garbage a background collection has not swept yet:
/// evicted values die old, and their holes only show once the old generation is collected.</param>
/// <param name="ReleasedBytes">Buffers given up (output sent, clients gone) since the last background collection asked for.</param>
/// <param name="CollectionPending">That collection has not reported yet.</param>
/// <param name="AfterRequestedCollection">The last collection is the one asked for released buffers.</param>
/// <param name="CollectedSinceCompaction">A collection ran since the last compaction (else the figures are that compaction's own).</param>
/// <param name="SinceCompaction">Time since the last compaction.</param>
/// <param name="LastCompactionPause">How long the last compaction paused the process.</param>
/// <param name="CommittedBytes">Memory the GC holds from the operating system (the heap, its holes, and free regions it keeps).</param>
/// <param name="Idle">No command has run for <see cref="HeapReturn.IdleAfter"/>.</param>
/// <param name="AllocatedSinceCompaction">Bytes the process allocated on the heap since the last compaction.</param>
public readonly record struct HeapFacts(
    long HeapBytes,
    long FreeBytes,
    long ExpectedLiveBytes,
    long ReleasedBytes,
    bool CollectionPending,
    bool AfterRequestedCollection,
    bool CollectedSinceCompaction,
    TimeSpan SinceCompaction,
    TimeSpan LastCompactionPause,
    long CommittedBytes,
    bool Idle,
    long AllocatedSinceCompaction);

/// <summary>
/// When the process gives heap memory back to the operating system, in one policy. Two things leave
/// memory behind that the GC keeps: background collections sweep the old generation and never compact,
/// so a cache under maxmemory, whose evicted values die old, left holes that kept RSS growing with the
/// length of the run (4.7x maxmemory after 1.2M GETs, against Redis's 1.6x, whose allocator reuses a freed
/// block at once: benchmarks/RESULTS.md, session 5); and buffers given up after large output or many
/// clients leaving are garbage an idle server never collects (only allocation starts a collection). The
/// remedy for both is a compacting collection, which blocks for a time that grows with the live heap: so
/// it runs only when what it returns is worth the live data it has to move (the garbage is counted as soon
/// as the heap outgrows what used_memory explains, not only once a background collection has swept it
/// into holes, which came ~20 MB of old-generation growth late), while the live heap is small
/// enough for a short pause (larger after released buffers, a one-off), and never more often than keeps
/// its pauses to a small share of the time. And once a burst of writes is over (no command for a second),
/// what the GC still holds past the live data (its young generation's regions, promoted regions part used,
/// holes) is given back, as jemalloc purges dirty pages some time after they were freed: an idle server
/// pauses nobody, and a one-off load of 1M stream entries kept ~4 MB (a sixth of its data) committed
/// until its next collection, which an idle server never has. Only after a burst: enough allocated since
/// the last compaction (a collection commits gen0's budget again, so without that an idle second after
/// every collection of steady light traffic would compact the whole heap each time). The cron reads the heap's figures and acts (<see cref="Cron"/>);
/// connections report their released buffers through <see cref="Released"/>.
/// </summary>
public sealed class HeapReturn
{
    /// <summary>Above this much live data a compaction for holes pauses too long to repeat (tens of ms per 64 MB here).</summary>
    const long MaxLiveBytes = 64L << 20;

    /// <summary>After released buffers, a one-off, compaction is worth a longer pause.</summary>
    const long MaxLiveBytesAfterRelease = 256L << 20;

    /// <summary>Garbage and holes below this are not worth a pause.</summary>
    const long MinFreeBytes = 8L << 20;

    /// <summary>Garbage and holes as a share of the live data (what a compaction moves) that makes them worth one.</summary>
    const double MinFreeShare = 0.25;

    /// <summary>An idle server keeps no client waiting: it compacts a live heap this large (a pause of a few tens of ms) once.</summary>
    const long MaxLiveBytesWhenIdle = 128L << 20;

    /// <summary>Memory committed past the live data that an idle server gives back (an empty server holds ~2 MB: gen0's budget).</summary>
    const long MinIdleSpareBytes = 4L << 20;

    /// <summary>Allocation since the last compaction that makes an idle server's compaction worth it: at least this...</summary>
    const long MinIdleAllocatedBytes = 8L << 20;

    /// <summary>...and this share of the live data (what the compaction moves).</summary>
    const double MinIdleAllocatedShare = 0.25;

    /// <summary>No command for this long makes the server idle.</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(1);

    /// <summary>Released buffers that make a collection worth asking for.</summary>
    const long ReleasedBytesPerCollection = 64L << 20;

    /// <summary>Compactions are at least this far apart...</summary>
    static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <summary>...and far enough apart that their pauses take at most a tenth of the time.</summary>
    const int IntervalPerPause = 10;

    /// <summary>A requested collection that has not reported after this long is not waited for any more.</summary>
    static readonly TimeSpan MaxCollectionWait = TimeSpan.FromSeconds(10);

    static long s_released;

    long _requestTicks;
    long _requestBackgroundIndex = -1, _requestBlockingIndex;
    long _requestedIndex = -1;
    long _compactionIndex = -1;
    long _compactionTicks = Stopwatch.GetTimestamp();
    TimeSpan _compactionPause;
    long _liveAtCompaction, _usedAtCompaction;
    long _commandsSeen = -1, _lastCommandTicks;
    long _allocatedAtCompaction;

    /// <summary>Compactions run (INFO dotnet_gc_heap_compactions).</summary>
    public long Compactions { get; private set; }

    /// <summary>Called when <paramref name="bytes"/> of buffers are no longer referenced.</summary>
    public static void Released(long bytes) => Interlocked.Add(ref s_released, bytes);

    /// <summary>The policy, from the facts alone.</summary>
    public static HeapAction Decide(in HeapFacts facts)
    {
        if (facts.CollectionPending) return HeapAction.None;
        long live = facts.HeapBytes - facts.FreeBytes;
        if (facts.ExpectedLiveBytes > 0 && facts.ExpectedLiveBytes < live) live = facts.ExpectedLiveBytes;
        long spare = facts.HeapBytes - live;
        // Right after the collection asked for released buffers, those (at least ReleasedBytesPerCollection)
        // are what a compaction returns; otherwise the garbage and holes have to be worth it.
        bool worthwhile = facts.AfterRequestedCollection
            ? live <= MaxLiveBytesAfterRelease
            : facts.CollectedSinceCompaction
                && ((live <= MaxLiveBytes && spare >= MinFreeBytes && spare >= live * MinFreeShare)
                    || (facts.Idle && live <= MaxLiveBytesWhenIdle && facts.CommittedBytes - live >= MinIdleSpareBytes
                        && facts.AllocatedSinceCompaction >= MinIdleAllocatedBytes && facts.AllocatedSinceCompaction >= live * MinIdleAllocatedShare));
        var interval = facts.LastCompactionPause * IntervalPerPause;
        if (worthwhile && facts.SinceCompaction >= (interval > MinInterval ? interval : MinInterval)) return HeapAction.Compact;
        return facts.ReleasedBytes >= ReleasedBytesPerCollection ? HeapAction.Collect : HeapAction.None;
    }

    /// <summary>
    /// The cron's look at the heap, with the data's size (used_memory), and for idleness the commands processed so
    /// far and whether other work runs (a dataset loading, a snapshot being written or sent to a replica: busy, not
    /// idle, and a compaction would only move what the snapshot walks): acts on what <see cref="Decide"/> says.
    /// </summary>
    public void Cron(long usedMemory, long commandsProcessed, bool busy)
    {
        long now = Stopwatch.GetTimestamp();
        if (commandsProcessed != _commandsSeen || busy)
        {
            _commandsSeen = commandsProcessed;
            _lastCommandTicks = now;
        }
        var heap = GC.GetGCMemoryInfo();
        bool pending = _requestBackgroundIndex >= 0;
        if (pending && RequestReported(now))
        {
            pending = false;
            _requestBackgroundIndex = -1;
            _requestedIndex = heap.Index;
        }
        var facts = new HeapFacts(
            HeapBytes: heap.HeapSizeBytes,
            FreeBytes: heap.FragmentedBytes,
            ExpectedLiveBytes: _usedAtCompaction > 0 ? (long)((double)_liveAtCompaction * usedMemory / _usedAtCompaction) : 0,
            ReleasedBytes: Interlocked.Read(ref s_released),
            CollectionPending: pending,
            AfterRequestedCollection: heap.Index == _requestedIndex,
            CollectedSinceCompaction: heap.Index != _compactionIndex,
            SinceCompaction: Stopwatch.GetElapsedTime(_compactionTicks, now),
            LastCompactionPause: _compactionPause,
            CommittedBytes: heap.TotalCommittedBytes,
            Idle: Stopwatch.GetElapsedTime(_lastCommandTicks, now) >= IdleAfter,
            AllocatedSinceCompaction: GC.GetTotalAllocatedBytes() - _allocatedAtCompaction);
        switch (Decide(facts))
        {
            case HeapAction.Collect:
                Interlocked.Exchange(ref s_released, 0);
                _requestTicks = now;
                _requestBackgroundIndex = GC.GetGCMemoryInfo(GCKind.Background).Index;
                _requestBlockingIndex = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;
                GC.Collect(2, GCCollectionMode.Forced, blocking: false);
                break;
            case HeapAction.Compact:
                var pauseBefore = GC.GetTotalPauseDuration();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                _compactionPause = GC.GetTotalPauseDuration() - pauseBefore;
                _compactionTicks = Stopwatch.GetTimestamp();
                var compacted = GC.GetGCMemoryInfo();
                _compactionIndex = compacted.Index;
                _liveAtCompaction = compacted.HeapSizeBytes - compacted.FragmentedBytes;
                _usedAtCompaction = usedMemory;
                _allocatedAtCompaction = GC.GetTotalAllocatedBytes();
                _requestedIndex = -1;
                Compactions++;
                break;
        }
    }

    /// <summary>Whether the full collection asked for has ended (as a background one, or blocking if the GC chose so), or waiting has stopped making sense.</summary>
    bool RequestReported(long now) =>
        GC.GetGCMemoryInfo(GCKind.Background).Index != _requestBackgroundIndex
        || GC.GetGCMemoryInfo(GCKind.FullBlocking).Index != _requestBlockingIndex
        || Stopwatch.GetElapsedTime(_requestTicks, now) >= MaxCollectionWait;
}
