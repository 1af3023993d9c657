using System.Numerics;

namespace MiniRedis.Observability;

/// <summary>
/// One command's latency distribution, laid out as the HdrHistogram Redis 7.0 keeps per command
/// (lowest 1 ns, highest 1 s, 2 significant figures): 23 buckets of 128 sub-buckets, each bucket
/// twice as wide as the one before. The same layout gives the same percentiles as Redis
/// (INFO latencystats) and the same bucket bounds (LATENCY HISTOGRAM). Recording is an array
/// increment: nothing is allocated after the first call of a command.
/// </summary>
public sealed class LatencyHistogram
{
    // hdr_init(1, 1_000_000_000, 2): sub_bucket_count = 2^ceil(log2(2 * 10^2)) = 256.
    const int SubBucketHalfCountMagnitude = 7;
    const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;
    const int SubBucketCount = SubBucketHalfCount * 2;
    const long SubBucketMask = SubBucketCount - 1;
    const int BucketCount = 23;
    const int CountsLength = (BucketCount + 1) * SubBucketHalfCount;

    /// <summary>Redis's LATENCY_HISTOGRAM_MIN_VALUE and _MAX_VALUE: durations are clamped into 1 ns .. 1 s.</summary>
    public const long MinNanoseconds = 1;
    public const long MaxNanoseconds = 1_000_000_000;

    readonly long[] _counts = new long[CountsLength];

    public long TotalCount { get; private set; }

    /// <summary>Redis's updateCommandLatencyHistogram: records a duration, clamped into the tracked range.</summary>
    public void Record(long nanoseconds)
    {
        nanoseconds = Math.Clamp(nanoseconds, MinNanoseconds, MaxNanoseconds);
        _counts[CountsIndex(nanoseconds)]++;
        TotalCount++;
    }

    static int BucketIndex(long value) => 64 - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask)) - (SubBucketHalfCountMagnitude + 1);

    static int CountsIndex(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + subBucket - SubBucketHalfCount;
    }

    /// <summary>hdr_value_at_index: the lowest value the counts slot stands for.</summary>
    static long ValueAtIndex(int index)
    {
        int bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        int subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0)
        {
            subBucket -= SubBucketHalfCount;
            bucket = 0;
        }
        return (long)subBucket << bucket;
    }

    /// <summary>hdr_highest_equivalent_value: the top of the range of values recorded in the same slot as <paramref name="value"/>.</summary>
    static long HighestEquivalentValue(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        int adjustedBucket = subBucket >= SubBucketCount ? bucket + 1 : bucket;
        long lowest = (long)subBucket << bucket;
        return lowest + (1L << adjustedBucket) - 1;
    }

    /// <summary>hdr_value_at_percentile, in nanoseconds (0 when nothing was recorded).</summary>
    public long ValueAtPercentile(double percentile)
    {
        double requested = Math.Min(percentile, 100.0);
        long countAtPercentile = Math.Max(1, (long)(requested / 100 * TotalCount + 0.5));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen < countAtPercentile) continue;
            long value = ValueAtIndex(i);
            return percentile == 0.0 ? value : HighestEquivalentValue(value);
        }
        return 0;
    }

    /// <summary>
    /// LATENCY HISTOGRAM's cumulative distribution (Redis's fillCommandCDF over hdr_iter_log_init(1024, 2)):
    /// for each logarithmic step (1024 ns, 2048 ns, ...) whose cumulative count grew, the step's upper
    /// bound in microseconds and the count of calls at or below it.
    /// </summary>
    public List<(long Microseconds, long CumulativeCount)> CumulativeDistribution()
    {
        var steps = new List<(long, long)>();
        long cumulative = 0, previous = 0, value = 0;
        int index = -1;
        // As hdr's _log_iter_next: each step walks the slots up to the first one at or past the
        // reporting level (1024 ns, doubling), reports that slot's upper bound, and a level past
        // the last slot ends the walk unreported.
        for (long level = 1024; cumulative < TotalCount; level *= 2)
        {
            long lowest = LowestEquivalentValue(level);
            while (value < lowest)
            {
                if (++index >= _counts.Length) return steps;
                cumulative += _counts[index];
                value = ValueAtIndex(index);
            }
            if (cumulative > previous) steps.Add((HighestEquivalentValue(value) / 1000, cumulative));
            previous = cumulative;
        }
        return steps;
    }

    static long LowestEquivalentValue(long value)
    {
        int bucket = BucketIndex(value);
        return (value >> bucket) << bucket;
    }
}
