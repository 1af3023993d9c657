using System.Globalization;
using System.Runtime;
using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Memory;

namespace MiniRedis.Commands;

/// <summary>MEMORY (Redis's memoryCommand in object.c): USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.</summary>
public static unsafe class MemoryCommands
{
    static readonly string[] HelpLines =
    [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("memory|usage", &Usage);
        t.Add("memory|stats", &Stats);
        t.Add("memory|doctor", &Doctor);
        t.Add("memory|malloc-stats", &MallocStats);
        t.Add("memory|purge", &Purge);
        t.Add("memory|help", &Help);
    }

    /// <summary>
    /// objectComputeSize plus the key's sds and dictEntry. The value types keep exact totals, so every
    /// element counts whatever SAMPLES says (Redis extrapolates from a sample; equal for uniform data).
    /// Like Redis it finds the key without expiring it.
    /// </summary>
    static void Usage(CommandContext ctx)
    {
        for (int j = 3; j < ctx.ArgCount; j++)
        {
            if (!ctx.ArgIs(j, "SAMPLES"u8) || j + 1 >= ctx.ArgCount)
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
            if (!ctx.TryGetLong(j + 1, out long samples)) return;
            if (samples < 0)
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
            j++;
        }
        if (ctx.Db.Peek(ctx.Arg(2)) is not { } entry)
        {
            ctx.Reply.NullBulk();
            return;
        }
        ctx.Reply.Integer(AllocationModel.Key(entry) + AllocationModel.Value(entry));
    }

    static void Stats(CommandContext ctx)
    {
        var f = ctx.Memory.Measure();
        var o = f.Overhead;
        var reply = ctx.Reply;
        reply.MapHeader(27 + o.Databases.Count);
        Pair(reply, "peak.allocated", f.Peak);
        Pair(reply, "total.allocated", o.Used);
        Pair(reply, "startup.allocated", ServerMemory.StartupBytes);
        Pair(reply, "replication.backlog", 0);
        Pair(reply, "clients.slaves", 0);
        Pair(reply, "clients.normal", ctx.Memory.ClientsBytes);
        Pair(reply, "cluster.links", 0);
        Pair(reply, "aof.buffer", ctx.Memory.AofBufferBytes);
        Pair(reply, "lua.caches", ctx.Memory.ScriptCacheBytes);
        Pair(reply, "functions.caches", ctx.Memory.FunctionsBytes);
        foreach (var (db, main, expires) in o.Databases)
        {
            reply.Bulk("db." + db.ToString(CultureInfo.InvariantCulture));
            reply.MapHeader(2);
            Pair(reply, "overhead.hashtable.main", main);
            Pair(reply, "overhead.hashtable.expires", expires);
        }
        Pair(reply, "overhead.total", o.Total);
        Pair(reply, "keys.count", o.Keys);
        Pair(reply, "keys.bytes-per-key", o.Keys == 0 ? 0 : (o.Used - ServerMemory.StartupBytes) / o.Keys);
        Pair(reply, "dataset.bytes", o.Dataset);
        Pair(reply, "dataset.percentage", o.DatasetPercent);
        Pair(reply, "peak.percentage", f.Peak == 0 ? 0 : o.Used * 100.0 / f.Peak);
        Pair(reply, "allocator.allocated", f.Allocated);
        Pair(reply, "allocator.active", f.Active);
        Pair(reply, "allocator.resident", f.Resident);
        Pair(reply, "allocator-fragmentation.ratio", f.AllocatorFragmentation);
        Pair(reply, "allocator-fragmentation.bytes", f.Active - f.Allocated);
        Pair(reply, "allocator-rss.ratio", f.AllocatorRss);
        Pair(reply, "allocator-rss.bytes", f.Resident - f.Active);
        Pair(reply, "rss-overhead.ratio", f.RssOverhead);
        Pair(reply, "rss-overhead.bytes", f.Rss - f.Resident);
        Pair(reply, "fragmentation", f.Fragmentation);
        Pair(reply, "fragmentation.bytes", f.Rss - o.Used);
    }

    static void Pair(Protocol.ReplyBuffer reply, string name, long value)
    {
        reply.Bulk(name);
        reply.Integer(value);
    }

    static void Pair(Protocol.ReplyBuffer reply, string name, double value)
    {
        reply.Bulk(name);
        reply.Double(value);
    }

    const long TenMegabytes = 10 << 20;

    /// <summary>getMemoryDoctorReport's checks and texts; below 5 MB the instance counts as empty.</summary>
    static void Doctor(CommandContext ctx)
    {
        var f = ctx.Memory.Measure();
        var issues = new StringBuilder();
        bool empty = f.Overhead.Used < 5 << 20;
        if (!empty)
        {
            if ((float)f.Peak / f.Overhead.Used > 1.5)
                issues.Append(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
            if (f.Fragmentation > 1.4 && f.Rss - f.Overhead.Used > TenMegabytes)
                issues.Append(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"dotnet-gc\".\n\n");
            if (f.AllocatorFragmentation > 1.1 && f.Active - f.Allocated > TenMegabytes)
                issues.Append(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
            if (f.AllocatorRss > 1.1 && f.Resident - f.Active > TenMegabytes)
                issues.Append(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
            if (f.RssOverhead > 1.1 && f.Rss - f.Resident > TenMegabytes)
                issues.Append(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
            if (ctx.Clients.Count > 0 && ctx.Memory.ClientsBytes / ctx.Clients.Count > 1024 * 200)
                issues.Append(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
            if (ctx.Scripts.CachedScripts > 1000)
                issues.Append(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n");
        }
        ctx.Reply.Verbatim(empty
            ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
            : issues.Length == 0
            ? "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
            : "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues + "I'm here to keep you safe, Sam. I want to help you.\n");
    }

    /// <summary>The allocator's statistics: here the .NET GC's, per generation.</summary>
    static void MallocStats(CommandContext ctx)
    {
        var gc = GC.GetGCMemoryInfo();
        var text = new StringBuilder("___ Begin .NET GC statistics ___\n");
        text.Append(CultureInfo.InvariantCulture, $"Server GC: {GCSettings.IsServerGC}, latency mode: {GCSettings.LatencyMode}\n");
        text.Append(CultureInfo.InvariantCulture, $"Heap size: {gc.HeapSizeBytes}, committed: {gc.TotalCommittedBytes}, fragmented: {gc.FragmentedBytes}, total available: {gc.TotalAvailableMemoryBytes}\n");
        string[] names = ["gen0", "gen1", "gen2", "loh", "poh"];
        for (int g = 0; g < gc.GenerationInfo.Length && g < names.Length; g++)
        {
            var info = gc.GenerationInfo[g];
            text.Append(CultureInfo.InvariantCulture, $"{names[g]}: size before {info.SizeBeforeBytes}, after {info.SizeAfterBytes}, fragmentation after {info.FragmentationAfterBytes}\n");
        }
        for (int g = 0; g <= GC.MaxGeneration; g++) text.Append(CultureInfo.InvariantCulture, $"gen{g} collections: {GC.CollectionCount(g)}\n");
        text.Append(CultureInfo.InvariantCulture, $"Total pause: {GC.GetTotalPauseDuration().TotalMilliseconds:F1} ms, last pause share: {gc.PauseTimePercentage:F2}%\n");
        text.Append("___ End .NET GC statistics ___\n");
        ctx.Reply.Verbatim(text.ToString());
    }

    /// <summary>jemalloc's purge of dirty pages, the .NET way: a full compacting collection, large objects included, that gives memory back.</summary>
    static void Purge(CommandContext ctx)
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        ctx.Reply.Ok();
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "MEMORY", HelpLines);
}
