namespace MiniRedis.Observability;

/// <summary>
/// Every garbage collection's pauses, for INFO's dotnet_gc_pause_max_ms / _p99_ms (issue 18's goal: no
/// pause above 5 ms). The runtime gives the pauses of the last collection of each kind
/// (GC.GetGCMemoryInfo); a finalizable sentinel, made anew each time its finalizer runs, wakes the
/// finalizer thread after every collection to read them, so nothing is polled and no command pays.
/// Collections that follow each other before the finalizer thread runs are missed except the last of
/// each kind. Process-wide (the GC is), started by the first server.
/// </summary>
public static class GcPauses
{
    /// <summary>Histogram buckets of 50 µs up to 100 ms; longer pauses count in the last bucket (the max stays exact).</summary>
    const double BucketMs = 0.05;
    const int Buckets = 2000;

    static readonly object Gate = new();
    static readonly long[] Histogram = new long[Buckets + 1];
    static readonly long[] LastIndex = new long[3];
    static readonly GCKind[] Kinds = [GCKind.Ephemeral, GCKind.FullBlocking, GCKind.Background];
    static long s_count;
    static double s_maxMs;
    static string s_maxKind = "";
    static int s_started;

    /// <summary>Starts recording (once per process).</summary>
    public static void Start()
    {
        if (Interlocked.Exchange(ref s_started, 1) == 0) _ = new Sentinel();
    }

    sealed class Sentinel
    {
        ~Sentinel()
        {
            if (Environment.HasShutdownStarted) return;
            Record();
            _ = new Sentinel();
        }
    }

    static void Record()
    {
        lock (Gate)
        {
            for (int k = 0; k < Kinds.Length; k++)
            {
                var info = GC.GetGCMemoryInfo(Kinds[k]);
                if (info.Index == LastIndex[k]) continue;
                LastIndex[k] = info.Index;
                foreach (var pause in info.PauseDurations)
                {
                    double ms = pause.TotalMilliseconds;
                    if (ms <= 0) continue;
                    Histogram[Math.Min(Buckets, (int)(ms / BucketMs))]++;
                    s_count++;
                    if (ms <= s_maxMs) continue;
                    s_maxMs = ms;
                    s_maxKind = Describe(Kinds[k], info);
                }
            }
        }
    }

    /// <summary>CONFIG RESETSTAT: the pauses recorded so far are forgotten (a measurement can start after a load).</summary>
    public static void Reset()
    {
        lock (Gate)
        {
            Array.Clear(Histogram);
            s_count = 0;
            s_maxMs = 0;
            s_maxKind = "";
        }
    }

    /// <summary>What the longest pause's collection was: "gen1", "gen2-background", "gen2-blocking-compacting"...</summary>
    static string Describe(GCKind kind, GCMemoryInfo info) =>
        kind == GCKind.Background ? "gen2-background"
        : $"gen{info.Generation}{(kind == GCKind.FullBlocking ? "-blocking" : "")}{(info.Compacted ? "-compacting" : "")}";

    /// <summary>The longest pause's collection (see <see cref="Describe"/>); empty before any.</summary>
    public static string MaxKind
    {
        get
        {
            lock (Gate) return s_maxKind;
        }
    }

    /// <summary>Pauses recorded, the longest, the 99th percentile (upper edge of its 50 µs bucket), and how many passed 5 ms.</summary>
    public static (long Count, double MaxMs, double P99Ms, long Over5Ms) Summary()
    {
        lock (Gate)
        {
            long over5 = 0;
            for (int b = (int)(5 / BucketMs); b <= Buckets; b++) over5 += Histogram[b];
            if (s_count == 0) return (0, 0, 0, 0);
            long rank = (long)Math.Ceiling(s_count * 0.99), seen = 0;
            int bucket = 0;
            for (; bucket < Buckets; bucket++)
            {
                seen += Histogram[bucket];
                if (seen >= rank) break;
            }
            double p99 = bucket == Buckets ? s_maxMs : Math.Min(s_maxMs, (bucket + 1) * BucketMs);
            return (s_count, s_maxMs, p99, over5);
        }
    }
}
