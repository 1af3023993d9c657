namespace MiniRedis.Networking;

/// <summary>
/// Gives memory back after large output is sent or many clients leave. The freed buffers are
/// garbage that an idle server never collects (only allocation triggers a GC), so without this the
/// process would keep them resident. Collects at most once every two seconds, once enough has been
/// released.
/// </summary>
static class MemoryReturn
{
    const long ReleasedBytesPerCollection = 64L << 20;
    const long AggressiveBelowLiveBytes = 256L << 20;
    static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
    const int MaxWaits = 10;
    static long s_released;
    static int s_scheduled;

    /// <summary>Called when <paramref name="bytes"/> of buffers are no longer referenced.</summary>
    public static void Released(long bytes)
    {
        if (Interlocked.Add(ref s_released, bytes) < ReleasedBytesPerCollection) return;
        if (Interlocked.Exchange(ref s_scheduled, 1) == 0) _ = CollectSoonAsync();
    }

    static async Task CollectSoonAsync()
    {
        await Task.Delay(Delay).ConfigureAwait(false);
        Interlocked.Exchange(ref s_released, 0);
        // A background collection frees the buffers (with short pauses) but keeps their pages
        // committed; the aggressive one then returns them to the OS, but it blocks while it
        // compacts, so it runs only when little is live once the garbage is gone.
        long previous = GC.GetGCMemoryInfo(GCKind.Background).Index;
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        // Its figures are recorded when it ends, which takes longer on a loaded machine.
        var heap = GC.GetGCMemoryInfo(GCKind.Background);
        for (int i = 0; i < MaxWaits && heap.Index == previous; i++)
        {
            await Task.Delay(Delay).ConfigureAwait(false);
            heap = GC.GetGCMemoryInfo(GCKind.Background);
        }
        if (heap.HeapSizeBytes - heap.FragmentedBytes < AggressiveBelowLiveBytes)
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Volatile.Write(ref s_scheduled, 0);
    }
}
