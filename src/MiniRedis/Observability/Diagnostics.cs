using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Observability;

/// <summary>
/// What the server records about itself beyond the plain counters of <see cref="ServerStats"/>: the
/// per-command latency histograms, the slow log, the latency monitor and the sampled rates (INFO's
/// instantaneous_*). Touched on the executor only.
/// </summary>
public sealed class Diagnostics
{
    readonly RedisServer _server;

    public Diagnostics(RedisServer server)
    {
        _server = server;
        SlowLog = new SlowLog(server.Config);
        Latency = new LatencyMonitor(server.Config);
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

    /// <summary>
    /// After a client's command ran (Redis's call()): its latency histogram, the latency monitor's
    /// command / fast-command event and the slow log. Allocates only on a command's first call
    /// (its histogram) and for a command slow enough to be logged.
    /// </summary>
    public void CommandCalled(CommandDef command, ArgVector args, ulong redactedArgs, long microseconds, ClientSession client)
    {
        if (_server.Config.LatencyTracking) (command.LatencyHistogram ??= new LatencyHistogram()).Record(microseconds * 1000);
        if ((command.Flags & CommandFlags.SkipSlowlog) != 0) return;
        Latency.AddSampleIfNeeded((command.Flags & CommandFlags.Fast) != 0 ? LatencyEvents.FastCommand : LatencyEvents.Command, microseconds / 1000);
        SlowLog.PushIfSlow(args, redactedArgs, microseconds, client);
    }

    /// <summary>From the cron: Redis's trackInstantaneousMetric calls, every 100 ms.</summary>
    public void SampleRates()
    {
        long now = NowMs;
        if (!OpsPerSec.Due(now)) return;
        var stats = _server.Stats;
        OpsPerSec.Track(stats.TotalCommandsProcessed, now);
        NetInput.Track(Interlocked.Read(ref stats.NetInputBytes), now);
        NetOutput.Track(Interlocked.Read(ref stats.NetOutputBytes), now);
    }

    /// <summary>
    /// CONFIG RESETSTAT: Redis's resetServerStats, resetCommandTableStats and resetErrorTableStats, over
    /// every part of the server that keeps such a counter.
    /// </summary>
    public void ResetStats()
    {
        var server = _server;
        server.Stats.Reset();
        server.Keyspace.ResetStats();
        server.Evictor.ResetStats();
        server.Aof.ResetStats();
        server.AofRewrite.ResetStats();
        server.Rdb.ResetStats();
        MiniRedis.Memory.GcPauses.Reset();
        long now = NowMs;
        OpsPerSec.Reset(0, now);
        NetInput.Reset(0, now);
        NetOutput.Reset(0, now);
        foreach (var def in server.Commands.All)
        {
            ResetCounters(def);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) ResetCounters(sub);
        }
    }

    static void ResetCounters(CommandDef def)
    {
        def.Calls = def.Microseconds = def.RejectedCalls = def.FailedCalls = 0;
        def.LatencyHistogram = null;
    }
}
