using Microsoft.Extensions.Logging;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Memory;
using MiniRedis.Observability;

namespace MiniRedis;

/// <summary>The server's memory side: used_memory, eviction of keys and of clients.</summary>
public sealed partial class RedisServer
{
    public ServerMemory Memory { get; }
    public Evictor Evictor { get; }
    public HeapReturn HeapReturn { get; } = new();

    void WatchMemoryConfig()
    {
        GcPauses.Start();
        ApplyAccessPolicy();
        Config.Changed += name =>
        {
            if (name is "maxmemory-policy" or "lfu-log-factor" or "lfu-decay-time") ApplyAccessPolicy();
            if (name == "maxmemory") MaxmemoryChanged();
        };
    }

    void ApplyAccessPolicy()
    {
        Keyspace.Access.Policy = Config.MaxmemoryPolicy;
        Keyspace.Access.LfuLogFactor = Config.LfuLogFactor;
        Keyspace.Access.LfuDecayTime = Config.LfuDecayTime;
    }

    /// <summary>Redis's updateMaxmemory: warns when the new limit is below the current usage, and starts evicting at once (with no limit, the pass just ends the over-the-limit stretch).</summary>
    void MaxmemoryChanged()
    {
        long used = Memory.Used;
        if (Config.Maxmemory != 0 && Config.Maxmemory < used)
        {
            Logger.LogWarning("WARNING: the new maxmemory value set via CONFIG SET ({Maxmemory}) is smaller than the current memory usage ({Used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
                Config.Maxmemory, used);
        }
        Evictor.PerformEvictions();
    }

    void MemoryCron()
    {
        Memory.Cron();
        EvictClients();
        HeapReturn.Cron(Memory.Used, Stats.TotalCommandsProcessed, busy: Keyspace.Loading || Persistence.BackgroundJobRunning);
    }

    /// <summary>
    /// Redis's evictClients: while the clients' memory passes maxmemory-clients, the client using the
    /// most is closed (CLIENT NO-EVICT clients are spared).
    /// </summary>
    void EvictClients()
    {
        long limit = Config.MaxmemoryClients;
        if (limit == 0 || Memory.ClientsBytes <= limit) return;
        var candidates = new List<(long Bytes, ClientSession Client)>();
        foreach (var client in _clients.Values)
        {
            if (!client.NoEvict && client.Connection is not null) candidates.Add((client.MemoryBytes, client));
        }
        candidates.Sort((a, b) => b.Bytes.CompareTo(a.Bytes));
        long total = Memory.ClientsBytes;
        foreach (var (bytes, client) in candidates)
        {
            if (total <= limit) break;
            Logger.LogDebug("Evicting client: id={Id}", client.Id);
            client.Connection!.Close();
            total -= bytes;
            Evictor.EvictedClients++;
        }
    }
}
