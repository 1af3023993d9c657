using System.Diagnostics;

namespace MiniRedis.Memory;

/// <summary>
/// Gives back the free space that background collections leave in the old generation (they sweep, never
/// compact). A cache under maxmemory evicts values that have reached gen2, and their holes kept RSS
/// growing with the length of the run: 2.3x maxmemory after 200k GETs, 4.7x after 1.2M, against Redis's
/// 1.6x (benchmarks/RESULTS.md, session 5), whose allocator reuses a freed block at once. The .NET
/// remedy is a compacting collection, which blocks for a time that grows with the live heap, so the
/// cron asks for one only while the live heap is small enough for a short pause, once the free space
/// passes both a floor and a share of the live data, and at most once per interval.
/// </summary>
public sealed class HeapCompaction
{
    /// <summary>Above this much live data a compaction pauses too long (tens of ms per 64 MB on this machine): left to the GC.</summary>
    const long MaxLiveBytes = 64L << 20;

    /// <summary>Free space below this is not worth a pause.</summary>
    const long MinFreeBytes = 8L << 20;

    /// <summary>Free space as a share of the live data that makes it worth one.</summary>
    const double MinFreeShare = 0.5;

    static readonly long IntervalTicks = 5 * Stopwatch.Frequency;

    long _lastCheckedIndex;
    long _lastTicks = Stopwatch.GetTimestamp();

    /// <summary>Compactions the cron has run (INFO dotnet_gc_heap_compactions).</summary>
    public long Compactions { get; private set; }

    /// <summary>Whether a heap with <paramref name="live"/> bytes of objects and <paramref name="free"/> bytes of holes is worth a compaction's pause.</summary>
    internal static bool Worthwhile(long live, long free) => live <= MaxLiveBytes && free >= MinFreeBytes && free >= live * MinFreeShare;

    /// <summary>The cron's look at the last collection's figures, compacting when they say so.</summary>
    public void Cron()
    {
        var heap = GC.GetGCMemoryInfo();
        if (heap.Index == _lastCheckedIndex) return;
        _lastCheckedIndex = heap.Index;
        long free = heap.FragmentedBytes;
        if (!Worthwhile(heap.HeapSizeBytes - free, free)) return;
        long now = Stopwatch.GetTimestamp();
        if (now - _lastTicks < IntervalTicks) return;
        _lastTicks = now;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Compactions++;
        _lastCheckedIndex = GC.GetGCMemoryInfo().Index;
    }
}
