using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Memory;
using MiniRedis.Execution;
using MiniRedis.Observability;

namespace MiniRedis.Commands;

/// <summary>
/// INFO (Redis's genRedisInfoString). Sections, their order, headers, fields and field order follow
/// Redis 7.0.15. Fields of mechanisms this server does not have (fork, replicas, io threads, active
/// defrag, Redis's reply-buffer resizing) state what is true here: none happened, so 0.
/// The memory section adds the .NET runtime's own dotnet_gc_* figures.
/// </summary>
public static unsafe class InfoCommand
{
    static readonly string[] DefaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];

    /// <summary>Every section in Redis's output order; "all" is these.</summary>
    static readonly (string Name, Action<CommandContext, StringBuilder> Write)[] Sections =
    [
        ("server", Server),
        ("clients", Clients),
        ("memory", Memory),
        ("persistence", Persistence),
        ("stats", Stats),
        ("replication", Replication),
        ("cpu", Cpu),
        ("modules", Modules),
        ("commandstats", CommandStats),
        ("errorstats", ErrorStats),
        ("latencystats", LatencyStats),
        ("cluster", Cluster),
        ("keyspace", Keyspace),
    ];

    public static void Register(CommandTable t) => t.Add("info", &Info);

    static void Info(CommandContext ctx)
    {
        var requested = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool all = false;
        if (ctx.ArgCount == 1) requested.UnionWith(DefaultSections);
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            var name = ctx.ArgString(i).ToLowerInvariant();
            if (name is "all" or "everything") all = true;
            else if (name == "default") requested.UnionWith(DefaultSections);
            else if (name == "module_list") requested.Add("modules");
            else requested.Add(name);
        }
        ctx.Reply.Verbatim(Generate(ctx, section => all || requested.Contains(section)));
    }

    /// <summary>The INFO text for the sections <paramref name="include"/> selects, CRLF line endings, blank line between sections.</summary>
    public static string Generate(CommandContext ctx, Func<string, bool> include)
    {
        var text = new StringBuilder();
        foreach (var (name, write) in Sections)
        {
            if (!include(name)) continue;
            if (text.Length > 0) text.Append("\r\n");
            write(ctx, text);
        }
        return text.ToString();
    }

    static void Line(StringBuilder text, string field, object value)
        => text.Append(field).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");

    static string Fixed(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    static void Server(CommandContext ctx, StringBuilder text)
    {
        long nowUs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        long uptime = (long)(DateTimeOffset.UtcNow - ctx.Server.StartTime).TotalSeconds;
        text.Append("# Server\r\n");
        Line(text, "redis_version", ServerConfig.RedisVersion);
        Line(text, "redis_git_sha1", "00000000");
        Line(text, "redis_git_dirty", 0);
        Line(text, "redis_build_id", BuildId);
        Line(text, "redis_mode", "standalone");
        Line(text, "os", OperatingSystemName());
        Line(text, "arch_bits", IntPtr.Size * 8);
        if (OperatingSystem.IsLinux()) Line(text, "monotonic_clock", "POSIX clock_gettime");
        if (MultiplexingApi() is { } api) Line(text, "multiplexing_api", api);
        // The atomics behind the connection threads' counters; no C compiler built this server.
        Line(text, "atomicvar_api", "dotnet-interlocked");
        Line(text, "gcc_version", "0.0.0");
        Line(text, "process_id", Environment.ProcessId);
        Line(text, "process_supervised", "no");
        Line(text, "run_id", ctx.Server.RunId);
        Line(text, "tcp_port", ctx.TcpPort);
        Line(text, "server_time_usec", nowUs);
        Line(text, "uptime_in_seconds", uptime);
        Line(text, "uptime_in_days", uptime / 86400);
        Line(text, "hz", ctx.Config.Hz);
        Line(text, "configured_hz", ctx.Config.Hz);
        Line(text, "lru_clock", ctx.Keyspace.LruClock & ((1 << 24) - 1));
        Line(text, "executable", Environment.ProcessPath ?? "");
        Line(text, "config_file", ctx.Config.ConfigFile ?? "");
        Line(text, "io_threads_active", 0);
    }

    /// <summary>Redis hashes its build's facts; here the build is the engine assembly, named by its module version id.</summary>
    static readonly string BuildId = typeof(InfoCommand).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..16];

    /// <summary>As uname -s -r -m, which is what Redis prints.</summary>
    static string OperatingSystemName()
    {
        if (!OperatingSystem.IsLinux()) return RuntimeInformation.OSDescription;
        string kernel = File.ReadAllText("/proc/sys/kernel/ostype").Trim();
        string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        string machine = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            Architecture.Arm => "armv7l",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{kernel} {release} {machine}";
    }

    /// <summary>The readiness API .NET's socket engine uses on this OS.</summary>
    static string? MultiplexingApi()
    {
        if (OperatingSystem.IsLinux()) return "epoll";
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()) return "kqueue";
        return null;
    }

    static void Clients(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Clients\r\n");
        Line(text, "connected_clients", ctx.Clients.Count);
        Line(text, "cluster_connections", 0);
        Line(text, "maxclients", ctx.Config.MaxClients);
        Line(text, "client_recent_max_input_buffer", ctx.Stats.RecentMaxInputBuffer);
        Line(text, "client_recent_max_output_buffer", ctx.Stats.RecentMaxOutputBuffer);
        Line(text, "blocked_clients", ctx.Blocked.Count + ctx.Pause.PostponedCount);
        Line(text, "tracking_clients", ctx.Tracking.Clients);
        Line(text, "clients_in_timeout_table", ctx.Clients.Count(c => c.Blocked is { DeadlineMs: not 0 }));
    }

    static void Memory(CommandContext ctx, StringBuilder text)
    {
        var memory = ctx.Memory;
        var f = memory.Measure();
        var overhead = f.Overhead;
        long used = overhead.Used;
        long total = ProcessMemory.TotalSystemMemory();
        long maxmemory = ctx.Config.Maxmemory;
        text.Append("# Memory\r\n");
        Line(text, "used_memory", used);
        Line(text, "used_memory_human", BytesToHuman(used));
        Line(text, "used_memory_rss", f.Rss);
        Line(text, "used_memory_rss_human", BytesToHuman(f.Rss));
        Line(text, "used_memory_peak", f.Peak);
        Line(text, "used_memory_peak_human", BytesToHuman(f.Peak));
        Line(text, "used_memory_peak_perc", Fixed(used * 100.0 / f.Peak, 2) + "%");
        Line(text, "used_memory_overhead", overhead.Total);
        Line(text, "used_memory_startup", ServerMemory.StartupBytes);
        Line(text, "used_memory_dataset", overhead.Dataset);
        Line(text, "used_memory_dataset_perc", Fixed(overhead.DatasetPercent, 2) + "%");
        Line(text, "allocator_allocated", f.Allocated);
        Line(text, "allocator_active", f.Active);
        Line(text, "allocator_resident", f.Resident);
        Line(text, "total_system_memory", total);
        Line(text, "total_system_memory_human", BytesToHuman(total));
        Scripts(ctx, text);
        Line(text, "maxmemory", maxmemory);
        Line(text, "maxmemory_human", BytesToHuman(maxmemory));
        Line(text, "maxmemory_policy", ctx.Config.Get("maxmemory-policy")[0].Value);
        Line(text, "allocator_frag_ratio", Fixed(f.AllocatorFragmentation, 2));
        Line(text, "allocator_frag_bytes", f.Active - f.Allocated);
        Line(text, "allocator_rss_ratio", Fixed(f.AllocatorRss, 2));
        Line(text, "allocator_rss_bytes", f.Resident - f.Active);
        Line(text, "rss_overhead_ratio", Fixed(f.RssOverhead, 2));
        Line(text, "rss_overhead_bytes", f.Rss - f.Resident);
        Line(text, "mem_fragmentation_ratio", Fixed(f.Fragmentation, 2));
        Line(text, "mem_fragmentation_bytes", f.Rss - used);
        Line(text, "mem_not_counted_for_evict", memory.NotCountedForEvict);
        Line(text, "mem_replication_backlog", 0);
        Line(text, "mem_total_replication_buffers", 0);
        Line(text, "mem_clients_slaves", 0);
        Line(text, "mem_clients_normal", memory.ClientsBytes);
        Line(text, "mem_cluster_links", 0);
        Line(text, "mem_aof_buffer", memory.AofBufferBytes);
        Line(text, "mem_allocator", "dotnet-gc");
        Line(text, "active_defrag_running", 0);
        Line(text, "lazyfree_pending_objects", 0);
        Line(text, "lazyfreed_objects", 0);
        ManagedHeap(ctx, text);
    }

    /// <summary>The managed runtime's own figures, beyond Redis's fields: what the process really holds beside the model.</summary>
    static void ManagedHeap(CommandContext ctx, StringBuilder text)
    {
        var gc = GC.GetGCMemoryInfo();
        Line(text, "dotnet_gc_heap_size", gc.HeapSizeBytes);
        Line(text, "dotnet_gc_committed", gc.TotalCommittedBytes);
        Line(text, "dotnet_gc_fragmented", gc.FragmentedBytes);
        string[] generations = ["gen0", "gen1", "gen2", "loh", "poh"];
        for (int g = 0; g < gc.GenerationInfo.Length && g < generations.Length; g++)
        {
            Line(text, $"dotnet_gc_{generations[g]}_size", gc.GenerationInfo[g].SizeAfterBytes);
        }
        for (int g = 0; g <= GC.MaxGeneration; g++) Line(text, $"dotnet_gc_gen{g}_collections", GC.CollectionCount(g));
        Line(text, "dotnet_gc_pause_total_ms", (long)GC.GetTotalPauseDuration().TotalMilliseconds);
        Line(text, "dotnet_gc_pause_time_perc", Fixed(gc.PauseTimePercentage, 2));
        var pauses = GcPauses.Summary();
        Line(text, "dotnet_gc_pauses", pauses.Count);
        Line(text, "dotnet_gc_pause_max_ms", Fixed(pauses.MaxMs, 2));
        Line(text, "dotnet_gc_pause_max_kind", GcPauses.MaxKind);
        Line(text, "dotnet_gc_pause_p99_ms", Fixed(pauses.P99Ms, 2));
        Line(text, "dotnet_gc_pauses_over_5ms", pauses.Over5Ms);
        Line(text, "dotnet_gc_heap_compactions", ctx.HeapReturn.Compactions);
    }

    /// <summary>The scripting fields of the memory section, in Redis 7.0's order: EVAL's Lua state and cache, then the functions'.</summary>
    static void Scripts(CommandContext ctx, StringBuilder text)
    {
        var scripts = ctx.Scripts;
        var functions = ctx.Functions;
        long lua = scripts.LuaMemory;
        long cache = scripts.ScriptsMemory;
        long functionsVm = functions.VmMemory;
        long functionsOverhead = functions.OverheadMemory;
        Line(text, "used_memory_lua", lua);
        Line(text, "used_memory_vm_eval", lua);
        Line(text, "used_memory_lua_human", BytesToHuman(lua));
        Line(text, "used_memory_scripts_eval", cache);
        Line(text, "number_of_cached_scripts", scripts.CachedScripts);
        Line(text, "number_of_functions", functions.FunctionCount);
        Line(text, "number_of_libraries", functions.LibraryCount);
        Line(text, "used_memory_vm_functions", functionsVm);
        Line(text, "used_memory_vm_total", lua + functionsVm);
        Line(text, "used_memory_vm_total_human", BytesToHuman(lua + functionsVm));
        Line(text, "used_memory_functions", functionsOverhead);
        Line(text, "used_memory_scripts", cache + functionsOverhead);
        Line(text, "used_memory_scripts_human", BytesToHuman(cache + functionsOverhead));
    }

    /// <summary>Redis's bytesToHuman: "512B", "1.16M", ...</summary>
    public static string BytesToHuman(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        double scaled = bytes;
        foreach (char unit in "KMGTP")
        {
            scaled /= 1024;
            if (scaled < 1024) return Fixed(scaled, 2) + unit;
        }
        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }

    /// <summary>
    /// Every Redis 7.0 field. Without fork the copy-on-write fields report the bytes the running
    /// snapshot (BGSAVE or rewrite, never both) copied because commands reached keys before its
    /// walk; that count only grows, so the peak is the current value and its age is always 0.
    /// </summary>
    static void Persistence(CommandContext ctx, StringBuilder text)
    {
        var aof = ctx.Aof;
        var rewrite = ctx.AofRewrite;
        var rdb = ctx.Rdb;
        bool rdbRunning = rdb.InProgress;
        long cow = rdbRunning ? rdb.CurrentCowSize : rewrite.CurrentCowSize;
        long processed = rdbRunning ? rdb.CurrentKeysProcessed : rewrite.CurrentKeysProcessed;
        long total = rdbRunning ? rdb.CurrentKeysTotal : rewrite.CurrentKeysTotal;
        text.Append("# Persistence\r\n");
        Line(text, "loading", ctx.Keyspace.Loading ? 1 : 0);
        Line(text, "async_loading", 0);
        Line(text, "current_cow_peak", cow);
        Line(text, "current_cow_size", cow);
        Line(text, "current_cow_size_age", 0);
        Line(text, "current_fork_perc", Fixed(total == 0 ? 0 : processed * 100.0 / total, 2));
        Line(text, "current_save_keys_processed", processed);
        Line(text, "current_save_keys_total", total);
        Line(text, "rdb_changes_since_last_save", rdb.ChangesSinceLastSave);
        Line(text, "rdb_bgsave_in_progress", rdbRunning ? 1 : 0);
        Line(text, "rdb_last_save_time", rdb.LastSaveTime);
        Line(text, "rdb_last_bgsave_status", rdb.LastBgsaveOk ? "ok" : "err");
        Line(text, "rdb_last_bgsave_time_sec", rdb.LastBgsaveTimeSec);
        Line(text, "rdb_current_bgsave_time_sec", rdb.CurrentBgsaveTimeSec);
        Line(text, "rdb_saves", rdb.Saves);
        Line(text, "rdb_last_cow_size", rdb.LastCowSize);
        Line(text, "rdb_last_load_keys_expired", rdb.LastLoadKeysExpired);
        Line(text, "rdb_last_load_keys_loaded", rdb.LastLoadKeysLoaded);
        Line(text, "aof_enabled", aof.Enabled ? 1 : 0);
        Line(text, "aof_rewrite_in_progress", rewrite.InProgress ? 1 : 0);
        Line(text, "aof_rewrite_scheduled", rewrite.Scheduled ? 1 : 0);
        Line(text, "aof_last_rewrite_time_sec", rewrite.LastRewriteTimeSec);
        Line(text, "aof_current_rewrite_time_sec", rewrite.CurrentRewriteTimeSec);
        Line(text, "aof_last_bgrewrite_status", rewrite.LastStatusOk ? "ok" : "err");
        Line(text, "aof_rewrites", rewrite.Rewrites);
        Line(text, "aof_rewrites_consecutive_failures", rewrite.ConsecutiveFailures);
        Line(text, "aof_last_write_status", aof.LastWriteStatus);
        Line(text, "aof_last_cow_size", rewrite.LastCowSize);
        Line(text, "module_fork_in_progress", 0);
        Line(text, "module_fork_last_cow_size", 0);
        if (aof.Enabled)
        {
            Line(text, "aof_current_size", aof.CurrentSize);
            Line(text, "aof_base_size", aof.BaseSize);
            Line(text, "aof_pending_rewrite", rewrite.Scheduled ? 1 : 0);
            Line(text, "aof_buffer_length", aof.BufferLength);
            Line(text, "aof_pending_bio_fsync", aof.PendingBioFsync);
            Line(text, "aof_delayed_fsync", aof.DelayedFsync);
        }
        if (ctx.Persistence.Loading is { Active: true } loading)
        {
            Line(text, "loading_start_time", loading.StartTime);
            Line(text, "loading_total_bytes", loading.TotalBytes);
            Line(text, "loading_rdb_used_mem", rdb.LoadingRdbUsedMem);
            Line(text, "loading_loaded_bytes", loading.LoadedBytes);
            Line(text, "loading_loaded_perc", Fixed(loading.LoadedPercent, 2));
            Line(text, "loading_eta_seconds", loading.EtaSeconds);
        }
    }

    static void Stats(CommandContext ctx, StringBuilder text)
    {
        var stats = ctx.Stats;
        var diagnostics = ctx.Diagnostics;
        var keyspace = ctx.Keyspace;
        text.Append("# Stats\r\n");
        Line(text, "total_connections_received", Interlocked.Read(ref stats.TotalConnectionsReceived));
        Line(text, "total_commands_processed", stats.TotalCommandsProcessed);
        Line(text, "instantaneous_ops_per_sec", diagnostics.OpsPerSec.PerSecond);
        Line(text, "total_net_input_bytes", Interlocked.Read(ref stats.NetInputBytes));
        Line(text, "total_net_output_bytes", Interlocked.Read(ref stats.NetOutputBytes));
        Line(text, "total_net_repl_input_bytes", 0);
        Line(text, "total_net_repl_output_bytes", 0);
        Line(text, "instantaneous_input_kbps", Fixed(diagnostics.NetInput.PerSecond / 1024.0, 2));
        Line(text, "instantaneous_output_kbps", Fixed(diagnostics.NetOutput.PerSecond / 1024.0, 2));
        Line(text, "instantaneous_input_repl_kbps", Fixed(0, 2));
        Line(text, "instantaneous_output_repl_kbps", Fixed(0, 2));
        Line(text, "rejected_connections", Interlocked.Read(ref stats.RejectedConnections));
        Line(text, "sync_full", ctx.Replication.SyncFull);
        Line(text, "sync_partial_ok", ctx.Replication.SyncPartialOk);
        Line(text, "sync_partial_err", ctx.Replication.SyncPartialErr);
        Line(text, "expired_keys", keyspace.ExpiredKeys);
        Line(text, "expired_stale_perc", Fixed(keyspace.ExpiredStalePercent, 2));
        Line(text, "expired_time_cap_reached_count", keyspace.ExpiredTimeCapReached);
        Line(text, "expire_cycle_cpu_milliseconds", stats.ExpireCycleMicroseconds / 1000);
        Line(text, "evicted_keys", ctx.Evictor.EvictedKeys);
        Line(text, "evicted_clients", ctx.Evictor.EvictedClients);
        Line(text, "total_eviction_exceeded_time", ctx.Evictor.ExceededTotalMs);
        Line(text, "current_eviction_exceeded_time", ctx.Evictor.ExceededCurrentMs);
        Line(text, "keyspace_hits", stats.KeyspaceHits);
        Line(text, "keyspace_misses", stats.KeyspaceMisses);
        Line(text, "pubsub_channels", ctx.PubSub.Channels.Count);
        Line(text, "pubsub_patterns", ctx.PubSub.PatternCount);
        Line(text, "pubsubshard_channels", ctx.PubSub.ShardChannels.Count);
        Line(text, "latest_fork_usec", 0);
        Line(text, "total_forks", 0);
        Line(text, "migrate_cached_sockets", 0);
        Line(text, "slave_expires_tracked_keys", 0);
        Line(text, "active_defrag_hits", 0);
        Line(text, "active_defrag_misses", 0);
        Line(text, "active_defrag_key_hits", 0);
        Line(text, "active_defrag_key_misses", 0);
        Line(text, "total_active_defrag_time", 0);
        Line(text, "current_active_defrag_time", 0);
        Line(text, "tracking_total_keys", ctx.Tracking.TotalKeys);
        Line(text, "tracking_total_items", ctx.Tracking.TotalItems);
        Line(text, "tracking_total_prefixes", ctx.Tracking.TotalPrefixes);
        Line(text, "unexpected_error_replies", stats.UnexpectedErrorReplies);
        Line(text, "total_error_replies", stats.TotalErrorReplies);
        Line(text, "dump_payload_sanitizations", 0);
        Line(text, "total_reads_processed", Interlocked.Read(ref stats.TotalReadsProcessed));
        Line(text, "total_writes_processed", Interlocked.Read(ref stats.TotalWritesProcessed));
        Line(text, "io_threaded_reads_processed", 0);
        Line(text, "io_threaded_writes_processed", 0);
        Line(text, "reply_buffer_shrinks", 0);
        Line(text, "reply_buffer_expands", 0);
    }

    static void Replication(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Replication\r\n");
        ctx.Replication.WriteInfo((name, value) => Line(text, name, value));
    }

    /// <summary>getrusage of the process, its children (none: nothing forks) and the executor thread, which INFO runs on (Redis's main thread).</summary>
    static void Cpu(CommandContext ctx, StringBuilder text)
    {
        var self = ResourceUsage.Process();
        var children = ResourceUsage.Children();
        var thread = ResourceUsage.CurrentThread();
        text.Append("# CPU\r\n");
        Line(text, "used_cpu_sys", Fixed(self.SystemSeconds, 6));
        Line(text, "used_cpu_user", Fixed(self.UserSeconds, 6));
        Line(text, "used_cpu_sys_children", Fixed(children.SystemSeconds, 6));
        Line(text, "used_cpu_user_children", Fixed(children.UserSeconds, 6));
        Line(text, "used_cpu_sys_main_thread", Fixed(thread.SystemSeconds, 6));
        Line(text, "used_cpu_user_main_thread", Fixed(thread.UserSeconds, 6));
    }

    static void Modules(CommandContext ctx, StringBuilder text) => text.Append("# Modules\r\n");

    static void CommandStats(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Commandstats\r\n");
        foreach (var def in ctx.Commands.All)
        {
            WriteCommandStats(def, text);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) WriteCommandStats(sub, text);
        }
    }

    static void WriteCommandStats(CommandDef def, StringBuilder text)
    {
        if (def.Calls == 0 && def.FailedCalls == 0 && def.RejectedCalls == 0) return;
        double perCall = def.Calls == 0 ? 0 : (double)def.Microseconds / def.Calls;
        text.Append("cmdstat_").Append(def.Name)
            .Append(":calls=").Append(def.Calls.ToString(CultureInfo.InvariantCulture))
            .Append(",usec=").Append(def.Microseconds.ToString(CultureInfo.InvariantCulture))
            .Append(",usec_per_call=").Append(Fixed(perCall, 2))
            .Append(",rejected_calls=").Append(def.RejectedCalls.ToString(CultureInfo.InvariantCulture))
            .Append(",failed_calls=").Append(def.FailedCalls.ToString(CultureInfo.InvariantCulture))
            .Append("\r\n");
    }

    static void ErrorStats(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Errorstats\r\n");
        foreach (var (code, count) in ctx.Stats.ErrorsByCode.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append("errorstat_").Append(code).Append(":count=").Append(count.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
    }

    /// <summary>Redis's genRedisInfoStringLatencyStats: each called command's percentiles (latency-tracking-info-percentiles), in microseconds.</summary>
    static void LatencyStats(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Latencystats\r\n");
        if (!ctx.Config.LatencyTracking) return;
        var percentiles = ctx.Config.LatencyTrackingInfoPercentiles;
        foreach (var def in ctx.Commands.All)
        {
            WritePercentiles(def, percentiles, text);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) WritePercentiles(sub, percentiles, text);
        }
    }

    static void WritePercentiles(CommandDef def, IReadOnlyList<double> percentiles, StringBuilder text)
    {
        if (def.LatencyHistogram is not { } histogram) return;
        text.Append("latency_percentiles_usec_").Append(def.Name).Append(':');
        for (int i = 0; i < percentiles.Count; i++)
        {
            if (i > 0) text.Append(',');
            text.Append('p').Append(Config.ServerConfig.FormatPercentile(percentiles[i])).Append('=')
                .Append(Fixed(histogram.ValueAtPercentile(percentiles[i]) / 1000.0, 3));
        }
        text.Append("\r\n");
    }

    static void Cluster(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Cluster\r\n");
        Line(text, "cluster_enabled", 0);
    }

    static void Keyspace(CommandContext ctx, StringBuilder text)
    {
        text.Append("# Keyspace\r\n");
        for (int i = 0; i < ctx.Keyspace.Count; i++)
        {
            var db = ctx.Keyspace[i];
            if (db.Count == 0) continue;
            text.Append(CultureInfo.InvariantCulture, $"db{i}:keys={db.Count},expires={db.ExpiresCount},avg_ttl={db.AverageTtl}\r\n");
        }
    }
}
