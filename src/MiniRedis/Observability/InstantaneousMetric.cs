namespace MiniRedis.Observability;

/// <summary>
/// Redis's STATS_METRIC sampling (trackInstantaneousMetric / getInstantaneousMetric): every 100 ms the
/// cron turns a counter's growth into a per-second rate; the value shown is the mean of the last 16 rates.
/// </summary>
public sealed class InstantaneousMetric
{
    /// <summary>Redis's STATS_METRIC_SAMPLES.</summary>
    const int Samples = 16;

    /// <summary>Redis samples from serverCron with run_with_period(100).</summary>
    public const long PeriodMs = 100;

    readonly long[] _samples = new long[Samples];
    int _next;
    long _lastSampleMs;
    long _lastReading;

    public InstantaneousMetric(long nowMs) => _lastSampleMs = nowMs;

    /// <summary>Whether a period has passed since the last sample.</summary>
    public bool Due(long nowMs) => nowMs - _lastSampleMs >= PeriodMs;

    public void Track(long reading, long nowMs)
    {
        long elapsed = nowMs - _lastSampleMs;
        _samples[_next] = elapsed > 0 ? (reading - _lastReading) * 1000 / elapsed : 0;
        _next = (_next + 1) % Samples;
        _lastSampleMs = nowMs;
        _lastReading = reading;
    }

    /// <summary>The mean rate per second over the last samples.</summary>
    public long PerSecond => _samples.Sum() / Samples;

    /// <summary>As resetServerStats: the samples are forgotten and the next one counts from <paramref name="reading"/>.</summary>
    public void Reset(long reading, long nowMs)
    {
        Array.Clear(_samples);
        _next = 0;
        _lastSampleMs = nowMs;
        _lastReading = reading;
    }
}
