using System.Diagnostics;
using MiniRedis.Data;
using MiniRedis.Execution;

namespace MiniRedis.Memory;

public enum EvictionResult { Ok, Running, Fail }

/// <summary>
/// Redis's performEvictions (evict.c): while used_memory (less the AOF buffer) is over maxmemory,
/// pick a key by the policy and delete it. LRU, LFU and TTL policies sample maxmemory-samples keys per
/// database into a 16-entry pool ordered by how evictable they are and take the best; random
/// policies take a random key. A pass stops after its time budget (maxmemory-eviction-tenacity) and
/// resumes after the round's replies, as Redis's eviction timer proc does.
/// </summary>
public sealed class Evictor(ExecutionHost server, ServerMemory memory) : IMemoryGate
{
    const int PoolSize = 16;

    readonly PoolEntry[] _pool = new PoolEntry[PoolSize];

    /// <summary>The evicted key's name while it is announced (<see cref="EvictKey"/>).</summary>
    byte[] _evictedKey = new byte[64];
    int _nextRandomDb;
    bool _resumeScheduled;

    record struct PoolEntry(Database? Db, KeyEntry? Entry, ulong Score);

    public long EvictedKeys { get; private set; }

    /// <summary>Clients closed because all clients together passed maxmemory-clients (INFO evicted_clients).</summary>
    public long EvictedClients { get; internal set; }

    long _exceededSinceTicks;
    long _exceededTotalTicks;

    /// <summary>INFO total_eviction_exceeded_time: milliseconds memory stayed over maxmemory after an eviction pass, the current stretch included.</summary>
    public long ExceededTotalMs => (_exceededTotalTicks + CurrentExceededTicks) * 1000 / Stopwatch.Frequency;

    /// <summary>INFO current_eviction_exceeded_time: milliseconds memory has been over maxmemory since a pass could not get under it.</summary>
    public long ExceededCurrentMs => CurrentExceededTicks * 1000 / Stopwatch.Frequency;

    long CurrentExceededTicks => _exceededSinceTicks == 0 ? 0 : Stopwatch.GetTimestamp() - _exceededSinceTicks;

    public void ResetStats() => (EvictedKeys, EvictedClients, _exceededTotalTicks) = (0, 0, 0);

    /// <summary>How far used memory is over the limit (getMaxmemoryState); 0 when under or no limit.</summary>
    public long BytesToFree(long pendingBytes = 0)
    {
        long maxmemory = server.Config.Maxmemory;
        if (maxmemory == 0) return 0;
        long used = memory.Used + pendingBytes;
        if (used <= maxmemory) return 0;
        used -= memory.NotCountedForEvict;
        return used <= maxmemory ? 0 : used - maxmemory;
    }

    /// <summary>Whether the eviction before the current client command left memory over the limit (Redis's pre_command_oom_state).</summary>
    public bool OutOfMemoryAtCommandStart { get; private set; }

    /// <summary>
    /// processCommand's maxmemory step, first half: evict before a command runs; true when memory is
    /// still over (the executor then refuses a command that may grow it).
    /// </summary>
    public bool StillOutOfMemoryBefore(Protocol.ArgVector args)
    {
        // The command's own arguments are in memory as it runs (Redis's argv), so a huge value counts.
        long argumentBytes = 0;
        for (int i = 0; i < args.Count; i++) argumentBytes += args[i].Length;
        OutOfMemoryAtCommandStart = PerformEvictions(argumentBytes) == EvictionResult.Fail;
        return OutOfMemoryAtCommandStart;
    }

    /// <summary>Evicts until used memory (plus <paramref name="pendingBytes"/> about to be held) is under maxmemory, or the time budget is spent.</summary>
    public EvictionResult PerformEvictions(long pendingBytes = 0)
    {
        // Most commands find memory under the limit: that costs no clock reading (Redis's getMaxmemoryState first).
        long toFree = server.Keyspace.Loading ? 0 : BytesToFree(pendingBytes);
        if (toFree == 0 && _exceededSinceTicks == 0) return EvictionResult.Ok;
        var result = toFree == 0 ? EvictionResult.Ok : TimedEvict(toFree);
        // performEvictions' update_metrics: time over the limit runs from the first pass that did not get under it.
        if (result != EvictionResult.Ok)
        {
            if (_exceededSinceTicks == 0) _exceededSinceTicks = Stopwatch.GetTimestamp();
        }
        else if (_exceededSinceTicks != 0)
        {
            _exceededTotalTicks += Stopwatch.GetTimestamp() - _exceededSinceTicks;
            _exceededSinceTicks = 0;
        }
        return result;
    }

    EvictionResult TimedEvict(long toFree)
    {
        long start = Stopwatch.GetTimestamp();
        var result = Evict(toFree, start);
        server.Diagnostics.Latency.AddSampleIfNeeded(Observability.LatencyEvents.EvictionCycle, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        return result;
    }

    EvictionResult Evict(long toFree, long start)
    {
        var policy = server.Config.MaxmemoryPolicy;
        if (policy == MaxmemoryPolicy.NoEviction) return EvictionResult.Fail;

        long limitTicks = TimeLimitTicks(server.Config.MaxmemoryEvictionTenacity);
        // Each deletion is timed only for the latency monitor (Redis's latencyStartMonitor reads no clock when it is off).
        bool timeDeletions = server.Config.LatencyMonitorThreshold != 0;
        long freed = 0;
        int evicted = 0;
        server.Keyspace.Settle();
        while (freed < toFree)
        {
            var (db, entry) = policy switch
            {
                MaxmemoryPolicy.AllkeysRandom or MaxmemoryPolicy.VolatileRandom => PickRandom(policy == MaxmemoryPolicy.AllkeysRandom),
                _ => PickFromPool(policy),
            };
            if (entry is null) return EvictionResult.Fail;
            freed += entry.AccountedBytes;
            long deleteStart = timeDeletions ? Stopwatch.GetTimestamp() : 0;
            EvictKey(db!, entry);
            if (timeDeletions) server.Diagnostics.Latency.AddSampleIfNeeded(Observability.LatencyEvents.EvictionDel, (long)Stopwatch.GetElapsedTime(deleteStart).TotalMilliseconds);
            if (++evicted % 16 == 0 && Stopwatch.GetTimestamp() - start > limitTicks)
            {
                ScheduleResume();
                return EvictionResult.Running;
            }
        }
        return EvictionResult.Ok;
    }

    /// <summary>
    /// The one place an evicted key is deleted: counted, watchers and tracking clients told, announced
    /// as "evicted", the deletion propagated (UNLINK under lazyfree-lazy-eviction, as Redis's propagateDeletion).
    /// </summary>
    void EvictKey(Database db, KeyEntry entry)
    {
        // The entry's key goes with its arena slot: the announcements read a copy, kept for the next eviction.
        if (_evictedKey.Length < entry.Key.Length) _evictedKey = new byte[entry.Key.Length];
        var key = _evictedKey.AsSpan(0, entry.Key.Length);
        entry.Key.CopyTo(key);
        db.Discard(entry);
        db.Touch(key);
        server.Events.KeyEvicted(db.Index, key);
        EvictedKeys++;
        server.Propagation.Begin(db.Index).Arg(server.Config.LazyfreeLazyEviction ? "UNLINK"u8 : "DEL"u8).Arg(key);
        if (!server.Executor.InCommand) server.Propagation.EndUnit();
        // The pool is the last holder of the entry (sampled more than once): once out of it, a new key
        // may take it. The pool stays a sorted run from its start.
        int kept = 0;
        for (int k = 0; k < PoolSize; k++)
        {
            if (_pool[k].Entry != entry) _pool[kept++] = _pool[k];
        }
        Array.Clear(_pool, kept, PoolSize - kept);
        server.Keyspace.Recycle(entry);
    }

    /// <summary>evictionTimeLimitUs: 50 µs per tenacity step up to 10, then growing 15% per step; 100 means no limit.</summary>
    static long TimeLimitTicks(int tenacity)
    {
        if (tenacity >= 100) return long.MaxValue;
        double microseconds = tenacity <= 10 ? 50.0 * tenacity : 500.0 * Math.Pow(1.15, tenacity - 10);
        return (long)(microseconds * Stopwatch.Frequency / 1_000_000);
    }

    void ScheduleResume()
    {
        if (_resumeScheduled) return;
        _resumeScheduled = true;
        server.Executor.RunAfterReplies(() =>
        {
            _resumeScheduled = false;
            PerformEvictions();
            server.Propagation.FlushSinks();
        });
    }

    (Database?, KeyEntry?) PickRandom(bool allKeys)
    {
        var keyspace = server.Keyspace;
        for (int n = 0; n < keyspace.Count; n++)
        {
            var db = keyspace[_nextRandomDb];
            _nextRandomDb = (_nextRandomDb + 1) % keyspace.Count;
            var entry = allKeys ? db.RandomEntry() : db.RandomVolatile();
            if (entry is not null) return (db, entry);
        }
        return (null, null);
    }

    (Database?, KeyEntry?) PickFromPool(MaxmemoryPolicy policy)
    {
        bool allKeys = policy is MaxmemoryPolicy.AllkeysLru or MaxmemoryPolicy.AllkeysLfu;
        var keyspace = server.Keyspace;
        while (true)
        {
            long candidates = 0;
            for (int i = 0; i < keyspace.Count; i++)
            {
                var db = keyspace[i];
                int keys = allKeys ? db.Count : db.ExpiresCount;
                if (keys == 0) continue;
                candidates += keys;
                Populate(db, allKeys, policy);
            }
            if (candidates == 0) return (null, null);
            for (int k = PoolSize - 1; k >= 0; k--)
            {
                var (db, entry, _) = _pool[k];
                if (entry is null) continue;
                _pool[k] = default;
                // A ghost: deleted, moved or (volatile policies) persisted since it was sampled.
                if (db!.Peek(entry.Key) != entry || (!allKeys && entry.ExpireAt == 0)) continue;
                return (db, entry);
            }
        }
    }

    /// <summary>evictionPoolPopulate: samples keys and keeps the most evictable 16 of pool and sample, ascending.</summary>
    void Populate(Database db, bool allKeys, MaxmemoryPolicy policy)
    {
        var keyspace = server.Keyspace;
        long now = keyspace.NowMs;
        int samples = Math.Min(server.Config.MaxmemorySamples, allKeys ? db.Count : db.ExpiresCount);
        for (int s = 0; s < samples; s++)
        {
            var entry = allKeys ? db.RandomEntry() : db.RandomVolatile();
            if (entry is null) return;
            ulong score = policy switch
            {
                MaxmemoryPolicy.AllkeysLru or MaxmemoryPolicy.VolatileLru => (ulong)KeyAccess.IdleMs(entry.LastAccess, now),
                MaxmemoryPolicy.AllkeysLfu or MaxmemoryPolicy.VolatileLfu => 255 - keyspace.Access.DecayedCounter(entry.LastAccess, now),
                _ => ulong.MaxValue - (ulong)entry.ExpireAt,
            };
            Insert(new PoolEntry(db, entry, score));
        }
    }

    void Insert(PoolEntry candidate)
    {
        int k = 0;
        while (k < PoolSize && _pool[k].Entry is not null && _pool[k].Score < candidate.Score) k++;
        if (k == 0 && _pool[PoolSize - 1].Entry is not null) return;
        if (k < PoolSize && _pool[k].Entry is null)
        {
            // An empty slot: nothing to move.
        }
        else if (_pool[PoolSize - 1].Entry is null)
        {
            Array.Copy(_pool, k, _pool, k + 1, PoolSize - k - 1);
        }
        else
        {
            k--;
            Array.Copy(_pool, 1, _pool, 0, k);
        }
        _pool[k] = candidate;
    }
}
