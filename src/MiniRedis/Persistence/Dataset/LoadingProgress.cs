using MiniRedis.Data;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// The load running now, whichever file it reads (the dump, the AOF, an AOF's RDB preamble): the
/// keyspace's loading and complete flags, and INFO's loading fields. Executor thread only.
/// </summary>
public sealed class LoadingProgress(Keyspace keyspace)
{
    /// <summary>loading: clients get -LOADING meanwhile.</summary>
    public bool Active => keyspace.Loading;

    public long StartTime { get; private set; }
    public long TotalBytes { get; private set; }
    public long LoadedBytes { get; set; }
    public double LoadedPercent => TotalBytes == 0 ? 0 : LoadedBytes * 100.0 / TotalBytes;

    /// <summary>loading_eta_seconds, from the average rate so far (1 until there is one, as Redis).</summary>
    public long EtaSeconds
    {
        get
        {
            long elapsed = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - StartTime;
            if (elapsed <= 0 || LoadedBytes == 0) return 1;
            return (long)((TotalBytes - LoadedBytes) / (LoadedBytes / (double)elapsed));
        }
    }

    public void Begin(long totalBytes)
    {
        keyspace.Loading = true;
        keyspace.Complete = false;
        StartTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        TotalBytes = totalBytes;
        LoadedBytes = 0;
    }

    /// <summary>Loading is over; only a load that <paramref name="succeeded"/> leaves the complete dataset.</summary>
    public void End(bool succeeded)
    {
        keyspace.Loading = false;
        keyspace.Complete = succeeded;
        LoadedBytes = TotalBytes;
    }
}
