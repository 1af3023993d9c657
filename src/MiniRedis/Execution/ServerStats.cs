namespace MiniRedis.Execution;

/// <summary>Counters behind INFO stats/errorstats; written on the executor unless noted.</summary>
public sealed class ServerStats
{
    public long TotalCommandsProcessed;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long TotalErrorReplies;
    public long UnexpectedErrorReplies;
    public readonly Dictionary<string, long> ErrorsByCode = new(StringComparer.Ordinal);

    // Updated by connection threads: use Interlocked.
    public long TotalConnectionsReceived;
    public long RejectedConnections;
    public long NetInputBytes;
    public long NetOutputBytes;

    /// <summary>Highest GC heap size seen by the cron or INFO (INFO used_memory_peak).</summary>
    public long PeakMemory;

    /// <summary>Records a memory sample and returns the peak so far.</summary>
    public long ObservePeakMemory(long used) => PeakMemory = Math.Max(PeakMemory, used);

    // Largest client output buffer seen in each of the last 8 seconds (Redis's ClientsPeakMemOutput).
    readonly long[] _outputPeaks = new long[8];

    /// <summary>INFO client_recent_max_output_buffer: the largest output buffer of the last seconds.</summary>
    public long RecentMaxOutputBuffer => _outputPeaks.Max();

    /// <summary>Redis's clientsCronTrackExpansiveClients, once a second: starts this second's slot from the clients' output buffers.</summary>
    public void TrackOutputPeak(long unixSeconds, IEnumerable<long> outputBytes)
    {
        int slot = (int)(unixSeconds % _outputPeaks.Length);
        _outputPeaks[(slot + 1) % _outputPeaks.Length] = 0;
        foreach (long bytes in outputBytes) _outputPeaks[slot] = Math.Max(_outputPeaks[slot], bytes);
    }

    public void CountError(string message)
    {
        TotalErrorReplies++;
        int space = message.IndexOf(' ', StringComparison.Ordinal);
        string code = space < 0 ? message : message[..space];
        ErrorsByCode[code] = ErrorsByCode.GetValueOrDefault(code) + 1;
    }

    public void Reset()
    {
        TotalCommandsProcessed = KeyspaceHits = KeyspaceMisses = TotalErrorReplies = UnexpectedErrorReplies = 0;
        ErrorsByCode.Clear();
        TotalConnectionsReceived = RejectedConnections = NetInputBytes = NetOutputBytes = PeakMemory = 0;
    }
}
