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
        TotalConnectionsReceived = RejectedConnections = NetInputBytes = NetOutputBytes = 0;
    }
}
