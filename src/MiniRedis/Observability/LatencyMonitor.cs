using System.Globalization;
using System.Text;
using MiniRedis.Config;

namespace MiniRedis.Observability;

/// <summary>Redis's latency event names, recorded where those things happen.</summary>
public static class LatencyEvents
{
    public const string Command = "command";
    public const string FastCommand = "fast-command";
    public const string AofWrite = "aof-write";
    public const string AofWriteAlone = "aof-write-alone";
    public const string AofWriteActiveChild = "aof-write-active-child";
    public const string AofWritePendingFsync = "aof-write-pending-fsync";
    public const string AofFsyncAlways = "aof-fsync-always";
    public const string AofFstat = "aof-fstat";
    public const string AofRename = "aof-rename";
    public const string RdbUnlinkTempFile = "rdb-unlink-temp-file";
    public const string ExpireCycle = "expire-cycle";
    public const string EvictionCycle = "eviction-cycle";
    public const string EvictionDel = "eviction-del";
}

/// <summary>
/// Redis's latency.c: per event, the last 160 seconds that had a sample at or over
/// latency-monitor-threshold milliseconds (the worst of each second) and the all-time maximum.
/// Events are listed in the order they first occurred (Redis lists them in its hash order).
/// </summary>
public sealed class LatencyMonitor(ServerConfig config)
{
    /// <summary>Redis's LATENCY_TS_LEN.</summary>
    public const int SeriesLength = 160;

    public sealed class Series
    {
        internal readonly long[] Times = new long[SeriesLength];
        internal readonly long[] Latencies = new long[SeriesLength];
        internal int Next;

        public long Max { get; internal set; }

        /// <summary>The samples oldest first, as (unix seconds, milliseconds).</summary>
        public IEnumerable<(long Time, long Latency)> Samples()
        {
            for (int j = 0; j < SeriesLength; j++)
            {
                int i = (Next + j) % SeriesLength;
                if (Times[i] != 0) yield return (Times[i], Latencies[i]);
            }
        }

        public (long Time, long Latency) Latest
        {
            get
            {
                int last = (Next + SeriesLength - 1) % SeriesLength;
                return (Times[last], Latencies[last]);
            }
        }
    }

    readonly List<(string Name, Series Series)> _events = [];

    public IReadOnlyList<(string Name, Series Series)> Events => _events;

    public Series? Find(string name) => _events.Find(e => e.Name == name).Series;

    /// <summary>Redis's latencyAddSampleIfNeeded: a no-op (no allocation) under the threshold or with the monitor off.</summary>
    public void AddSampleIfNeeded(string name, long milliseconds)
    {
        long threshold = config.LatencyMonitorThreshold;
        if (threshold != 0 && milliseconds >= threshold) AddSample(name, milliseconds);
    }

    /// <summary>Redis's latencyAddSample: the worst latency of each second is kept.</summary>
    void AddSample(string name, long milliseconds)
    {
        var series = Find(name);
        if (series is null)
        {
            series = new Series();
            _events.Add((name, series));
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (milliseconds > series.Max) series.Max = milliseconds;
        int previous = (series.Next + SeriesLength - 1) % SeriesLength;
        if (series.Times[previous] == now)
        {
            if (milliseconds > series.Latencies[previous]) series.Latencies[previous] = milliseconds;
            return;
        }
        series.Times[series.Next] = now;
        series.Latencies[series.Next] = milliseconds;
        series.Next = (series.Next + 1) % SeriesLength;
    }

    /// <summary>Redis's latencyResetEvent: the named event (any case), or all of them; how many were reset.</summary>
    public int Reset(string? name = null) =>
        _events.RemoveAll(e => name is null || string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    const int GraphColumns = 80;

    /// <summary>Redis's latencyCommandGenSparkeline: LATENCY GRAPH's text.</summary>
    public static string Graph(string name, Series series)
    {
        var samples = new List<(double Value, string Label)>();
        long min = 0, max = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (time, latency) in series.Samples())
        {
            if (samples.Count == 0) min = max = latency;
            else
            {
                max = Math.Max(max, latency);
                min = Math.Min(min, latency);
            }
            long elapsed = now - time;
            string label = elapsed < 60 ? $"{elapsed}s" : elapsed < 3600 ? $"{elapsed / 60}m" : elapsed < 86400 ? $"{elapsed / 3600}h" : $"{elapsed / 86400}d";
            samples.Add((latency, label));
        }
        var graph = new StringBuilder();
        graph.Append(CultureInfo.InvariantCulture, $"{name} - high {max} ms, low {min} ms (all time high {series.Max} ms)\n");
        graph.Append('-', GraphColumns).Append('\n');
        Sparkline.Render(graph, samples, GraphColumns, 4);
        return graph.ToString();
    }

    /// <summary>Redis's analyzeLatencyForEvent.</summary>
    readonly record struct EventAnalysis(long Samples, long Average, long MeanDeviation, long Period);

    static EventAnalysis Analyze(Series series)
    {
        long samples = 0, min = 0, max = 0, sum = 0, oldest = 0;
        foreach (var (time, latency) in series.Samples())
        {
            samples++;
            if (samples == 1) min = max = latency;
            else
            {
                min = Math.Min(min, latency);
                max = Math.Max(max, latency);
            }
            sum += latency;
            if (oldest == 0 || time < oldest) oldest = time;
        }
        if (samples == 0) return default;
        long average = sum / samples;
        long period = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - oldest;
        if (period == 0) period = 1;
        long deviation = 0;
        foreach (var (_, latency) in series.Samples()) deviation += Math.Abs(average - latency);
        return new EventAnalysis(samples, average, deviation / samples, period);
    }

    /// <summary>Redis's createLatencyReport: LATENCY DOCTOR's text, with its advice per event.</summary>
    public string Doctor(long slowlogLogSlowerThan, bool fsyncAlways, int hz, bool transparentHugePages)
    {
        if (_events.Count == 0 && config.LatencyMonitorThreshold == 0)
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";

        var report = new StringBuilder();
        var advice = new HashSet<Advice>();
        int advices = 0;
        int number = 0;
        foreach (var (name, series) in _events)
        {
            number++;
            if (number == 1) report.Append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            var analysis = Analyze(series);
            report.Append(CultureInfo.InvariantCulture,
                $"{number}. {name}: {analysis.Samples} latency spikes (average {analysis.Average}ms, mean deviation {analysis.MeanDeviation}ms, period {((double)analysis.Period / analysis.Samples).ToString("F2", CultureInfo.InvariantCulture)} sec). Worst all time event {series.Max}ms.");
            advices += AdviseFor(name, slowlogLogSlowerThan, advice);
            report.Append('\n');
        }
        if (transparentHugePages)
        {
            advice.Add(Advice.DisableThp);
            advices++;
        }

        if (number == 0 && advices == 0)
            report.Append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        else if (number > 0 && advices == 0)
            report.Append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        else
        {
            report.Append("\nI have a few advices for you:\n\n");
            long threshold = config.LatencyMonitorThreshold;
            foreach (var (kind, text) in AdviceTexts)
            {
                if (!advice.Contains(kind)) continue;
                if (kind == Advice.RelaxFsyncPolicy && !fsyncAlways) continue;
                if (kind == Advice.Hz && hz >= 100) continue;
                report.Append(text.Replace("{threshold}", (threshold * 1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            }
        }
        return report.ToString();
    }

    enum Advice
    {
        SlowlogEnabled, SlowlogTuning, SlowlogInspect, Scheduler, LocalDisk, Ssd, DataWriteback, DiskContention,
        NoAppendfsync, RelaxFsyncPolicy, WriteLoadInfo, Hz, LargeObjects, MassEviction, DisableThp,
    }

    /// <summary>The advice an event calls for, and how many items Redis counts for it.</summary>
    int AdviseFor(string name, long slowlogLogSlowerThan, HashSet<Advice> advice)
    {
        void Add(params Advice[] kinds) => advice.UnionWith(kinds);
        switch (name)
        {
            case LatencyEvents.Command:
                int extra = 0;
                if (slowlogLogSlowerThan < 0)
                {
                    Add(Advice.SlowlogEnabled);
                    extra = 1;
                }
                else if (slowlogLogSlowerThan / 1000 > config.LatencyMonitorThreshold)
                {
                    Add(Advice.SlowlogTuning);
                    extra = 1;
                }
                Add(Advice.SlowlogInspect, Advice.LargeObjects);
                return extra + 2;
            case LatencyEvents.FastCommand:
                Add(Advice.Scheduler);
                return 1;
            case LatencyEvents.AofWritePendingFsync:
                Add(Advice.LocalDisk, Advice.DiskContention, Advice.Ssd, Advice.DataWriteback);
                return 4;
            case LatencyEvents.AofWriteActiveChild:
                Add(Advice.NoAppendfsync, Advice.DataWriteback, Advice.Ssd);
                return 3;
            case LatencyEvents.AofWriteAlone:
                Add(Advice.LocalDisk, Advice.DataWriteback, Advice.Ssd);
                return 3;
            case LatencyEvents.AofFsyncAlways:
                Add(Advice.RelaxFsyncPolicy);
                return 1;
            case LatencyEvents.AofFstat or LatencyEvents.RdbUnlinkTempFile:
                Add(Advice.DiskContention, Advice.LocalDisk);
                return 2;
            case "aof-rewrite-diff-write" or LatencyEvents.AofRename:
                Add(Advice.WriteLoadInfo, Advice.DataWriteback, Advice.Ssd, Advice.LocalDisk);
                return 4;
            case LatencyEvents.ExpireCycle:
                Add(Advice.Hz, Advice.LargeObjects);
                return 2;
            case LatencyEvents.EvictionDel:
                Add(Advice.LargeObjects);
                return 1;
            case LatencyEvents.EvictionCycle:
                Add(Advice.MassEviction);
                return 1;
            default:
                return 0;
        }
    }

    /// <summary>Redis's advice paragraphs, in the order its report prints them.</summary>
    static readonly (Advice Kind, string Text)[] AdviceTexts =
    [
        (Advice.SlowlogEnabled, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"),
        (Advice.SlowlogTuning, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold}'.\n"),
        (Advice.SlowlogInspect, "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"),
        (Advice.Scheduler, "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
            "  1) Lower the system load.\n" +
            "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
            "  3) Check if you have a \"noisy neighbour\" problem.\n" +
            "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
            "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"),
        (Advice.LocalDisk, "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n"),
        (Advice.Ssd, "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n"),
        (Advice.DataWriteback, "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n"),
        (Advice.DiskContention, "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n"),
        (Advice.NoAppendfsync, "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n"),
        (Advice.RelaxFsyncPolicy, "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"),
        (Advice.WriteLoadInfo, "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n"),
        (Advice.Hz, "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"),
        (Advice.LargeObjects, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"),
        (Advice.MassEviction, "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n"),
        (Advice.DisableThp, "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n"),
    ];
}
