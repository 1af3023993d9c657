using MiniRedis.Observability;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Observability;

/// <summary>INFO's dotnet_gc_pause_max_ms / _p99_ms come from every collection's recorded pauses.</summary>
[Trait("Category", "Unit")]
public sealed class GcPausesTests
{
    [Fact]
    public void A_collection_is_recorded_with_its_pause()
    {
        GcPauses.Start();
        long before = GcPauses.Summary().Count;
        Assert.True(Wait.Until(() =>
        {
            GC.Collect();
            return GcPauses.Summary().Count > before;
        }), "a pause is recorded after a collection");
        var summary = GcPauses.Summary();
        Assert.True(summary.MaxMs > 0);
        Assert.True(summary.P99Ms > 0 && summary.P99Ms <= summary.MaxMs);
        Assert.True(summary.Over5Ms <= summary.Count);
    }

    [Fact]
    public void Reset_forgets_the_recorded_pauses()
    {
        GcPauses.Start();
        Assert.True(Wait.Until(() =>
        {
            GC.Collect();
            return GcPauses.Summary().Count > 0;
        }));
        GcPauses.Reset();
        // A collection of another test may land in between: whatever is left is at most that.
        Assert.True(GcPauses.Summary().Count <= 3);
    }
}
