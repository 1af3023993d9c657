using MiniRedis.Observability;

namespace MiniRedis.Tests.Observability;

/// <summary>
/// The per-command histogram against figures real Redis 7.0.15 printed for single calls of known
/// duration (INFO commandstats usec beside INFO latencystats and LATENCY HISTOGRAM).
/// </summary>
[Trait("Category", "Unit")]
public sealed class LatencyHistogramTests
{
    static LatencyHistogram With(params long[] microseconds)
    {
        var histogram = new LatencyHistogram();
        foreach (long us in microseconds) histogram.Record(us * 1000);
        return histogram;
    }

    [Theory]
    // usec=7 -> p50=7.007, usec=27 -> 27.007, usec=30 -> 30.079, usec=62 -> 62.207, usec=356 -> 356.351.
    [InlineData(7, 7007)]
    [InlineData(27, 27007)]
    [InlineData(30, 30079)]
    [InlineData(62, 62207)]
    [InlineData(356, 356351)]
    public void One_call_gives_Redis_percentiles(long microseconds, long nanoseconds)
    {
        var histogram = With(microseconds);
        Assert.Equal(nanoseconds, histogram.ValueAtPercentile(50));
        Assert.Equal(nanoseconds, histogram.ValueAtPercentile(99.9));
    }

    [Theory]
    // LATENCY HISTOGRAM: a 62 us call falls in the 66 us bucket, a 27 us call in the 33 us one.
    [InlineData(62, 66)]
    [InlineData(27, 33)]
    public void One_call_falls_in_Redis_bucket(long microseconds, long bucket)
    {
        Assert.Equal([(bucket, 1L)], With(microseconds).CumulativeDistribution());
    }

    [Fact]
    public void Percentiles_and_buckets_are_cumulative_over_calls()
    {
        var histogram = With(1, 1, 1, 1, 1, 1, 1, 1, 1, 100);
        Assert.Equal(10, histogram.TotalCount);
        Assert.Equal(1000 + 3, histogram.ValueAtPercentile(50));
        Assert.Equal(100_351, histogram.ValueAtPercentile(99));
        // p0 is the low end of the slot, as hdr_value_at_percentile does.
        Assert.Equal(1000, histogram.ValueAtPercentile(0));
        // 1 us is below the first 1024 ns level; 100 us reaches the 131072 ns level (its slot tops at 132.095 us).
        Assert.Equal([(1L, 9L), (132L, 10L)], histogram.CumulativeDistribution());
        Assert.Empty(new LatencyHistogram().CumulativeDistribution());
        Assert.Equal(0, new LatencyHistogram().ValueAtPercentile(50));
    }

    [Fact]
    public void Durations_are_clamped_to_one_second()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(5_000_000_000);
        histogram.Record(0);
        Assert.Equal(2, histogram.TotalCount);
        Assert.InRange(histogram.ValueAtPercentile(100), 1_000_000_000, 1_010_000_000);
        Assert.Equal(1, histogram.ValueAtPercentile(50));
    }
}
