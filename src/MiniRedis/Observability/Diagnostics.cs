using MiniRedis.Config;

namespace MiniRedis.Observability;

/// <summary>
/// What the server records about itself beyond its plain counters: the slow log, the latency monitor
/// and the sampled rates (INFO's instantaneous_*). Touched on the executor only.
/// </summary>
public sealed class Diagnostics
{
    public Diagnostics(ServerConfig config)
    {
        SlowLog = new SlowLog(config);
        Latency = new LatencyMonitor(config);
        long now = NowMs;
        OpsPerSec = new InstantaneousMetric(now);
        NetInput = new InstantaneousMetric(now);
        NetOutput = new InstantaneousMetric(now);
    }

    public SlowLog SlowLog { get; }
    public LatencyMonitor Latency { get; }

    /// <summary>INFO instantaneous_ops_per_sec, instantaneous_input_kbps, instantaneous_output_kbps.</summary>
    public InstantaneousMetric OpsPerSec { get; }
    public InstantaneousMetric NetInput { get; }
    public InstantaneousMetric NetOutput { get; }

    static long NowMs => Environment.TickCount64;

    /// <summary>From the cron: Redis's trackInstantaneousMetric calls, every 100 ms, over the server's running totals.</summary>
    public void SampleRates(long commandsProcessed, long netInputBytes, long netOutputBytes)
    {
        long now = NowMs;
        if (!OpsPerSec.Due(now)) return;
        OpsPerSec.Track(commandsProcessed, now);
        NetInput.Track(netInputBytes, now);
        NetOutput.Track(netOutputBytes, now);
    }

    /// <summary>CONFIG RESETSTAT's part here: the sampled rates start again from zero.</summary>
    public void ResetRates()
    {
        long now = NowMs;
        OpsPerSec.Reset(0, now);
        NetInput.Reset(0, now);
        NetOutput.Reset(0, now);
    }
}
