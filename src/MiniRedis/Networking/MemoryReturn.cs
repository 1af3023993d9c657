namespace MiniRedis.Networking;

/// <summary>
/// Gives memory back after large output is sent or many clients leave. The freed buffers are
/// garbage that an idle server never collects (only allocation triggers a GC), so without this the
/// process would keep them resident. Asks for one collection a second at most, after enough has
/// been released.
/// </summary>
static class MemoryReturn
{
    const long ReleasedBytesPerCollection = 64L << 20;
    const long AggressiveBelowLiveBytes = 256L << 20;
    static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
    static long s_released;
    static int s_scheduled;

    public static void Released(long bytes)
    {
        if (Interlocked.Add(ref s_released, bytes) < ReleasedBytesPerCollection) return;
        if (Interlocked.Exchange(ref s_scheduled, 1) == 0) _ = CollectSoonAsync();
    }

    static async Task CollectSoonAsync()
    {
        await Task.Delay(Delay).ConfigureAwait(false);
        Interlocked.Exchange(ref s_released, 0);
        Volatile.Write(ref s_scheduled, 0);
        // A background collection frees the buffers but keeps their pages committed; the aggressive
        // one returns them to the OS but blocks while it compacts, so it is used only while little is live.
        var heap = GC.GetGCMemoryInfo();
        if (heap.HeapSizeBytes - heap.FragmentedBytes < AggressiveBelowLiveBytes)
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        else
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
    }
}
