using MiniRedis.Execution;
using MiniRedis.Persistence.Aof;
using MiniRedis.Scripting;

namespace MiniRedis.Memory;

/// <summary>
/// used_memory as Redis's allocator accounting would report it for the same state, put together from
/// figures kept up to date where they change (no heap walk): the fixed structures of an empty server,
/// the keyspace (<see cref="Data.Keyspace.UsedBytes"/>), client buffers (refreshed by the cron, as
/// Redis's clientsCron does), the AOF buffer and the script cache.
/// </summary>
public sealed class ServerMemory(ExecutionHost server, AofState aof, ScriptEngine scripts, FunctionEngine functions)
{
    /// <summary>
    /// used_memory_startup: what Redis 7.0.15 itself allocates before any client or key (shared objects,
    /// the databases' empty dicts, the command table). The model counts Redis's allocations, and these
    /// are part of them; the process's own fixed cost is the runtime's, shown in the dotnet_* fields.
    /// </summary>
    public const long StartupBytes = 876_040;

    long _clientsBytes;

    /// <summary>Clients' memory as of the last cron (mem_clients_normal).</summary>
    public long ClientsBytes => _clientsBytes;

    public long AofBufferBytes => aof.BufferLength;

    public long ScriptCacheBytes => scripts.ScriptsMemory;

    /// <summary>The function libraries' code and names (used_memory_functions, MEMORY STATS functions.caches).</summary>
    public long FunctionsBytes => functions.OverheadMemory;

    /// <summary>used_memory.</summary>
    public long Used => StartupBytes + server.Keyspace.UsedBytes + _clientsBytes + AofBufferBytes + ScriptCacheBytes + FunctionsBytes;

    /// <summary>freeMemoryGetNotCountedMemory: buffers eviction would only grow by freeing keys (the AOF buffer; no replicas here).</summary>
    public long NotCountedForEvict => AofBufferBytes;

    /// <summary>The cron's refresh: clients' memory, the peak.</summary>
    public void Cron()
    {
        RefreshClients();
        server.Stats.ObservePeakMemory(Used);
    }

    /// <summary>Clients' memory as of now (a walk over the clients: the cron's, and what INFO and MEMORY report).</summary>
    void RefreshClients()
    {
        long clients = 0;
        foreach (var client in server.Clients) clients += client.MemoryBytes;
        _clientsBytes = clients;
    }

    /// <summary>A new client counts at once, so a flood of connections shows before the next cron.</summary>
    public void ClientConnected() => _clientsBytes += ClientSession.FixedBytes;

    public void ClientDisconnected() => _clientsBytes = Math.Max(0, _clientsBytes - ClientSession.FixedBytes);

    /// <summary>Redis's getMemoryOverheadData: what is not the dataset.</summary>
    public Overhead ComputeOverhead()
    {
        var dbs = new List<(int Db, long Main, long Expires)>();
        long total = StartupBytes + _clientsBytes + AofBufferBytes + ScriptCacheBytes + FunctionsBytes;
        for (int i = 0; i < server.Keyspace.Count; i++)
        {
            var db = server.Keyspace[i];
            if (db.Count == 0) continue;
            var (main, expires) = db.OverheadBytes;
            dbs.Add((i, main, expires));
            total += main + expires;
        }
        long used = Used;
        return new Overhead(used, total, dbs, server.Keyspace.TotalKeys());
    }

    public readonly record struct Overhead(long Used, long Total, List<(int Db, long Main, long Expires)> Databases, long Keys)
    {
        /// <summary>used_memory_dataset: used_memory less the overhead.</summary>
        public long Dataset => Math.Max(0, Used - Total);

        public double DatasetPercent => Used - StartupBytes <= 0 ? 0 : Dataset * 100.0 / (Used - StartupBytes);
    }

    /// <summary>Everything INFO memory, MEMORY STATS and DOCTOR report, read once (Redis's redisMemOverhead plus the allocator's figures, here the GC's).</summary>
    public Figures Measure()
    {
        // Not the last cron's client figures: a pipeline's buffers just given back would still count.
        RefreshClients();
        var overhead = ComputeOverhead();
        long peak = server.Stats.ObservePeakMemory(overhead.Used);
        long rss = ProcessMemory.ResidentSetSize();
        // The string arena's chunks are native memory beside the GC's heap: allocated by both measures.
        long arena = Data.StringArena.ReservedBytes;
        long allocated = GC.GetTotalMemory(false) + arena;
        long active = Math.Max(allocated, GC.GetGCMemoryInfo().TotalCommittedBytes + arena);
        return new Figures(overhead, peak, rss, allocated, active, Math.Max(rss, active));
    }

    /// <summary>
    /// The model's figures beside the process's: the GC's live objects (allocated), committed heap
    /// (active) and resident pages stand where Redis reports jemalloc's.
    /// </summary>
    public readonly record struct Figures(Overhead Overhead, long Peak, long Rss, long Allocated, long Active, long Resident)
    {
        public double Fragmentation => Ratio(Rss, Overhead.Used);
        public double AllocatorFragmentation => Ratio(Active, Allocated);
        public double AllocatorRss => Ratio(Resident, Active);
        public double RssOverhead => Ratio(Rss, Resident);

        static double Ratio(long a, long b) => b <= 0 ? 0 : (double)a / b;
    }
}
