using System.Runtime;
using MiniRedis.Data;
using MiniRedis.Persistence.Dataset;
using Xunit;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// The start-up load runs in a window without garbage collections (issue 18: they were half its CPU
/// time); whatever the load allocated, the window never outlives it, and the loading flags are as before.
/// </summary>
[Trait("Category", "Unit")]
public class LoadingProgressTests
{
    [Fact]
    public void A_start_up_load_ends_its_window_without_collections_with_one_full_collection()
    {
        var keyspace = new Keyspace(1);
        var progress = new LoadingProgress(keyspace);

        progress.Begin(1000, heapBytes: 32 << 20);
        Assert.True(keyspace.Loading);
        int fullCollections = GC.CollectionCount(GC.MaxGeneration);
        progress.End(succeeded: true);

        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections, "the loaded keys are promoted before clients are served");
        Assert.False(keyspace.Loading);
        Assert.True(keyspace.Complete);
    }

    [Fact]
    public void A_load_that_allocates_past_its_window_ends_normally()
    {
        var keyspace = new Keyspace(1);
        var progress = new LoadingProgress(keyspace);

        progress.Begin(1000, heapBytes: 32 << 20);
        var kept = new List<byte[]>();
        for (int i = 0; i < 64; i++) kept.Add(new byte[1 << 20]);
        progress.End(succeeded: false);

        Assert.Equal(64, kept.Count);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.False(keyspace.Complete);
    }

    [Fact]
    public void A_small_load_keeps_the_usual_collections()
    {
        var keyspace = new Keyspace(1);
        var progress = new LoadingProgress(keyspace);

        progress.Begin(1000, heapBytes: 1 << 20);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.True(keyspace.Loading);
        progress.End(succeeded: true);
        Assert.True(keyspace.Complete);
    }
}
