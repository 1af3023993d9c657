using System.Runtime;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// The load running now, whichever file it reads (the dump, the AOF, an AOF's RDB preamble): the
/// keyspace's loading and complete flags, and INFO's loading fields. Executor thread only.
/// </summary>
public sealed class LoadingProgress(Keyspace keyspace)
{
    /// <summary>loading: clients get -LOADING meanwhile.</summary>
    public bool Active => keyspace.Loading;

    public long StartTime { get; private set; }
    public long TotalBytes { get; private set; }
    public long LoadedBytes { get; set; }
    public double LoadedPercent => TotalBytes == 0 ? 0 : LoadedBytes * 100.0 / TotalBytes;

    /// <summary>A start-up load's window without collections is open (<see cref="Begin"/>).</summary>
    bool _window;

    /// <summary>The start-up load's keys wait for the collection that takes them to generation 2 (<see cref="PromoteLoadedKeysWhenIdle"/>).</summary>
    bool _promotionPending;
    long _commandsAtLastLook;

    /// <summary>loading_eta_seconds, from the average rate so far (1 until there is one, as Redis).</summary>
    public long EtaSeconds
    {
        get
        {
            long elapsed = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - StartTime;
            if (elapsed <= 0 || LoadedBytes == 0) return 1;
            return (long)((TotalBytes - LoadedBytes) / (LoadedBytes / (double)elapsed));
        }
    }

    /// <summary>
    /// The load at start (<paramref name="heapBytes"/> &gt; 0, what it is expected to allocate): the GC is asked to let that many bytes be
    /// allocated without a collection. Nearly every object a load makes is kept, so each collection
    /// meanwhile would copy survivors from generation to generation and mark the growing heap again
    /// for nothing: on 1M mixed keys they were about half the load's CPU time. The heap is almost
    /// empty then, so the collection that starts the window costs nothing; allocating past it just
    /// ends the window early. At its end one collection promotes the loaded keys while clients still
    /// get -LOADING, rather than as a pause of the first commands served. Replicas' and DEBUG
    /// RELOAD's loads start on a full heap: not for them. Neither for small loads (under
    /// <see cref="MinNoCollectionWindow"/>): they make few collections, and the window's own two full
    /// collections cost more (the suite's thousands of small loads took ten times as long).
    /// </summary>
    public void Begin(long totalBytes, long heapBytes = 0)
    {
        if (heapBytes >= MinNoCollectionWindow && !_window)
        {
            _window = true;
            StartNoCollectionWindow(heapBytes);
        }
        keyspace.Loading = true;
        keyspace.Complete = false;
        StartTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        TotalBytes = totalBytes;
        LoadedBytes = 0;
    }

    /// <summary>Loading is over; only a load that <paramref name="succeeded"/> leaves the complete dataset.</summary>
    public void End(bool succeeded)
    {
        keyspace.Loading = false;
        keyspace.Complete = succeeded;
        LoadedBytes = TotalBytes;
        if (_window)
        {
            EndNoCollectionWindow();
            _promotionPending = succeeded;
            _commandsAtLastLook = -1;
        }
        _window = false;
    }

    static void StartNoCollectionWindow(long heapBytes)
    {
        try
        {
            GC.TryStartNoGCRegion(Math.Min(heapBytes, MaxNoCollectionWindow));
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            // More than this runtime grants, or a window already open: the load runs with the usual collections.
        }
    }

    static void EndNoCollectionWindow()
    {
        try
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // The load allocated past the window, which then ended by itself.
        }
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    /// <summary>
    /// From the cron with the count of commands run so far: once a start-up load's keys are loaded, the first
    /// look at which no command ran since the previous one runs the collection that takes them to generation 2.
    /// A collection moves survivors up one generation, and the keys were made in the window (generation 0):
    /// after the collection that ends it they sit in generation 1, and the first generation-1 collection
    /// afterwards (under a client load, the first BGSAVE's garbage) marked and moved them all in one pause of
    /// 110-165 ms. Run at that load's end instead it cost ~20% of the load's time (0.58 -> 0.72 CPU s on 1M
    /// keys); on an idle server nobody waits for it. A server that is never idle takes it as before. A full
    /// collection, not a generation-1 one: that left generation 2's budget spent, and the first BGSAVE then
    /// brought a blocking full collection of the whole dataset (107 ms).
    /// </summary>
    public void PromoteLoadedKeysWhenIdle(long commandsProcessed)
    {
        if (!_promotionPending) return;
        if (commandsProcessed != _commandsAtLastLook)
        {
            _commandsAtLastLook = commandsProcessed;
            return;
        }
        _promotionPending = false;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    const long MinNoCollectionWindow = 32 << 20;
    const long MaxNoCollectionWindow = 1L << 30;
}
