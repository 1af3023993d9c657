using System.Globalization;

namespace MiniRedis.Config;

/// <summary>The slow log's, latency monitor's and latency tracking's settings (Redis's slowlog.c, latency.c).</summary>
public sealed partial class ServerConfig
{
    /// <summary>slowlog-log-slower-than: microseconds; -1 disables the slow log, 0 logs every command.</summary>
    public long SlowlogLogSlowerThan { get; private set; } = 10000;

    /// <summary>slowlog-max-len: entries kept, newest first.</summary>
    public long SlowlogMaxLen { get; private set; } = 128;

    /// <summary>latency-monitor-threshold: milliseconds; 0 disables the latency monitor.</summary>
    public long LatencyMonitorThreshold { get; private set; }

    /// <summary>latency-tracking: the per-command latency histograms behind INFO latencystats and LATENCY HISTOGRAM.</summary>
    public bool LatencyTracking { get; private set; } = true;

    /// <summary>latency-tracking-info-percentiles: the percentiles INFO latencystats prints.</summary>
    public IReadOnlyList<double> LatencyTrackingInfoPercentiles { get; private set; } = [50, 99, 99.9];

    /// <summary>Redis's setConfigLatencyTrackingInfoPercentilesOutputOption: a single empty argument means none.</summary>
    private string? SetLatencyTrackingInfoPercentiles(IReadOnlyList<string> args)
    {
        if (args is [""] or []) args = [];
        var percentiles = new double[args.Count];
        for (int i = 0; i < args.Count; i++)
        {
            if (!Data.RedisNumbers.TryParseDouble(System.Text.Encoding.Latin1.GetBytes(args[i]), out percentiles[i]))
                return "Invalid latency-tracking-info-percentiles parameters";
            if (percentiles[i] is > 100.0 or < 0.0)
                return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        }
        LatencyTrackingInfoPercentiles = percentiles;
        return null;
    }

    private string FormatLatencyTrackingInfoPercentiles() =>
        string.Join(' ', LatencyTrackingInfoPercentiles.Select(FormatPercentile));

    /// <summary>Redis's "%f" then trimDoubleString: 99.900000 is "99.9", 50.000000 is "50".</summary>
    public static string FormatPercentile(double percentile)
    {
        string text = percentile.ToString("F6", CultureInfo.InvariantCulture);
        return text.TrimEnd('0').TrimEnd('.');
    }
}
