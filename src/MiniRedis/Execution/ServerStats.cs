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
    public long TotalReadsProcessed;
    public long TotalWritesProcessed;

    /// <summary>Highest GC heap size seen by the cron or INFO (INFO used_memory_peak).</summary>
    public long PeakMemory;

    /// <summary>Records a memory sample and returns the peak so far.</summary>
    public long ObservePeakMemory(long used) => PeakMemory = Math.Max(PeakMemory, used);

    // Largest client query and output buffers seen in each of the last 8 seconds (Redis's ClientsPeakMemInput/Output).
    readonly long[] _inputPeaks = new long[8];
    readonly long[] _outputPeaks = new long[8];

    /// <summary>INFO client_recent_max_input_buffer: the largest query buffer of the last seconds.</summary>
    public long RecentMaxInputBuffer => _inputPeaks.Max();

    /// <summary>INFO client_recent_max_output_buffer: the largest output buffer of the last seconds.</summary>
    public long RecentMaxOutputBuffer => _outputPeaks.Max();

    /// <summary>Redis's clientsCronTrackExpansiveClients, once a second: starts this second's slots from the clients' buffers.</summary>
    public void TrackBufferPeaks(long unixSeconds, IEnumerable<ClientSession> clients)
    {
        int slot = (int)(unixSeconds % _outputPeaks.Length);
        int next = (slot + 1) % _outputPeaks.Length;
        _inputPeaks[next] = _outputPeaks[next] = 0;
        foreach (var client in clients)
        {
            if (client.Connection is not { } connection) continue;
            _inputPeaks[slot] = Math.Max(_inputPeaks[slot], connection.QueryBufferBytes);
            _outputPeaks[slot] = Math.Max(_outputPeaks[slot], connection.PendingOutputBytes);
        }
    }

    /// <summary>INFO expire_cycle_cpu_milliseconds: time spent in active expiry cycles.</summary>
    public long ExpireCycleMicroseconds;

    /// <summary>
    /// Redis's afterErrorReply: the code is the text before the first space within the reply's first 32
    /// bytes ("-" included); without one there, the error counts as ERR.
    /// </summary>
    public void CountError(string message)
    {
        TotalErrorReplies++;
        int space = message.AsSpan(0, Math.Min(message.Length, 31)).IndexOf(' ');
        string code = space < 0 ? "ERR" : message[..space];
        ErrorsByCode[code] = ErrorsByCode.GetValueOrDefault(code) + 1;
    }

    public void Reset()
    {
        TotalCommandsProcessed = KeyspaceHits = KeyspaceMisses = TotalErrorReplies = UnexpectedErrorReplies = ExpireCycleMicroseconds = 0;
        ErrorsByCode.Clear();
        // As Redis 7.0, the memory peak stays.
        TotalConnectionsReceived = RejectedConnections = NetInputBytes = NetOutputBytes = TotalReadsProcessed = TotalWritesProcessed = 0;
    }
}
