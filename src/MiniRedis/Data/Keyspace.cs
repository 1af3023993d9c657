using System.Diagnostics;

namespace MiniRedis.Data;

/// <summary>
/// A point-in-time snapshot in progress (Persistence/Snapshot): told before a key that has not
/// been taken yet (its <see cref="KeyEntry.SnapshotEpoch"/> differs from <see cref="Epoch"/>) is
/// accessed, so it can copy the value as of the snapshot's instant.
/// </summary>
public interface ISnapshotCapture
{
    ushort Epoch { get; }

    /// <summary>Takes <paramref name="entry"/> of the hash table <paramref name="table"/> now, and marks it taken.</summary>
    void Capture(Dict table, KeyEntry entry);
}

/// <summary>
/// All databases plus what expiry needs: the command clock, and Redis's active expire cycle
/// (expire.c) that samples keys with a TTL so expired keys are reclaimed without being accessed.
/// </summary>
public sealed class Keyspace
{
    const int KeysPerLoop = 20;
    const int AcceptableStalePercent = 10;

    readonly Database[] _databases;
    int _nextCycleDb;

    public Keyspace(int databaseCount)
    {
        _databases = new Database[databaseCount];
        for (int i = 0; i < databaseCount; i++) _databases[i] = new Database(this, i);
    }

    public int Count => _databases.Length;
    public Database this[int index] => _databases[index];

    /// <summary>The time commands see: fixed for the duration of one command, like Redis's cached mstime.</summary>
    public long NowMs { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Sets the command clock from a wall-clock reading the caller already has (DateTime ticks, UTC).</summary>
    public void SetNow(long utcTicks) => NowMs = (utcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>Redis's LRU clock: seconds, for OBJECT IDLETIME.</summary>
    public uint LruClock => (uint)(NowMs / 1000);

    /// <summary>The maxmemory policy's way of recording accesses in each key (LRU clock or LFU counter).</summary>
    public KeyAccess Access { get; } = new();

    /// <summary>The access field a new or replaced value starts with.</summary>
    internal uint NewAccessStamp => Access.NewStamp(NowMs);

    /// <summary>A command's lookup of <paramref name="entry"/> (Redis's lookupKey touch).</summary>
    public void Touch(KeyEntry entry) => Access.Touch(entry, NowMs);

    /// <summary>Entries of evicted keys that new string keys take (<see cref="KeyEntry.Reuse"/>); a few are enough, one eviction makes room for one SET.</summary>
    readonly KeyEntry?[] _recycled = new KeyEntry?[16];
    int _recycledCount;

    /// <summary>
    /// Keeps an entry deleted without its value (<see cref="Database.Discard"/>) for a new key. Only for
    /// one that nothing refers to any more: the evictor's, after it has told everyone the key went.
    /// </summary>
    internal void Recycle(KeyEntry entry)
    {
        if (_recycledCount < _recycled.Length) _recycled[_recycledCount++] = entry;
    }

    /// <summary>The entry of a new key holding a string: a recycled one if there is one.</summary>
    internal KeyEntry NewStringEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        if (_recycledCount == 0) return new KeyEntry(key, value, encoding);
        var entry = _recycled[--_recycledCount]!;
        _recycled[_recycledCount] = null;
        entry.Reuse(key, value, encoding);
        return entry;
    }

    /// <summary>Keys a command reached and may have resized; re-measured by <see cref="Settle"/>.</summary>
    readonly List<(Database Db, KeyEntry Entry)> _changing = [];

    internal void MarkChanging(Database db, KeyEntry entry) => _changing.Add((db, entry));

    /// <summary>
    /// Re-measures the keys commands reached since the last call, so each one's share of used_memory
    /// follows its value: the one place values' sizes are accounted, whatever changed them. The
    /// executor calls it after every command; readers of used_memory get a settled figure.
    /// </summary>
    public void Settle()
    {
        foreach (var (db, entry) in _changing) db.Account(entry);
        _changing.Clear();
    }

    /// <summary>used_memory's dataset part: every database's keys, values, expires and tables, settled.</summary>
    public long UsedBytes
    {
        get
        {
            Settle();
            long total = 0;
            foreach (var db in _databases) total += db.UsedBytes;
            return total;
        }
    }

    /// <summary>While replaying a file nothing expires: Redis defers that until loading is over.</summary>
    public bool Loading { get; set; }

    /// <summary>
    /// The keyspace is the whole dataset of the files it comes from: false from the start of a load
    /// until it succeeds (a failed or interrupted load leaves it false). The gate every writer of
    /// dump.rdb and the AOF asks, so part of a dataset (or none of it) never replaces the files.
    /// True for a keyspace nothing was loaded into; the server's start clears it until its data loaded.
    /// </summary>
    public bool Complete { get; set; } = true;

    public long ExpiredKeys { get; private set; }
    public long ExpiredStalePercent { get; private set; }
    public long ExpiredTimeCapReached { get; private set; }

    /// <summary>CONFIG RESETSTAT: the expiry counters start again.</summary>
    public void ResetStats()
    {
        ExpiredKeys = 0;
        ExpiredStalePercent = 0;
        ExpiredTimeCapReached = 0;
    }

    /// <summary>Told of every key the server deletes because its TTL passed (to announce it and log a DEL).</summary>
    public Action<Database, byte[]>? KeyExpired { get; set; }

    /// <summary>Told of every key modified in any database (Redis's signalModifiedKey reaching tracking).</summary>
    public IModifiedKeyObserver? ModifiedKeys { get; set; }

    /// <summary>
    /// Told when a stream key is deleted or overwritten (the key), or a database's keys are all dropped or
    /// swapped (null): clients blocked in XREADGROUP there are woken (Redis's signalDeletedKeyAsReady).
    /// </summary>
    public Action<Database, byte[]?>? StreamKeyGone { get; set; }

    /// <summary>Told of every key created (Redis's dbAdd announces <c>new</c>).</summary>
    public Action<Database, ReadOnlySpan<byte>>? KeyAdded { get; set; }

    /// <summary>
    /// Told when a key that blocked clients can wait on is created or given a new value (Redis's
    /// signalKeyAsReady in dbAdd): the one place every way a key appears (a push, RENAME, MOVE, COPY,
    /// RESTORE, a *STORE) wakes them.
    /// </summary>
    public Action<Database, ReadOnlySpan<byte>>? KeyReady { get; set; }

    /// <summary>The types blocking commands wait for (Redis's getBlockedTypeByType).</summary>
    internal static bool IsBlockable(RedisType type) => type is RedisType.List or RedisType.ZSet;

    /// <summary>The point-in-time snapshot being taken, if any (at most one at a time).</summary>
    public ISnapshotCapture? Snapshot { get; private set; }
    ushort _lastSnapshotEpoch;

    /// <summary>
    /// Makes <paramref name="snapshot"/> the running one and returns its epoch, unused by any key.
    /// When the 16-bit counter wraps, every key's epoch is reset first (one pass per 65535 snapshots).
    /// </summary>
    public ushort BeginSnapshot(ISnapshotCapture snapshot)
    {
        if (Snapshot is not null) throw new InvalidOperationException("a snapshot is already running");
        if (_lastSnapshotEpoch == ushort.MaxValue)
        {
            foreach (var db in _databases)
            {
                foreach (var entry in db) entry.SnapshotEpoch = 0;
            }
            _lastSnapshotEpoch = 0;
        }
        Snapshot = snapshot;
        return ++_lastSnapshotEpoch;
    }

    public void EndSnapshot(ISnapshotCapture snapshot)
    {
        if (Snapshot == snapshot) Snapshot = null;
    }

    /// <summary>A new key belongs to the running snapshot's epoch: created after its instant, it is not part of it.</summary>
    internal ushort NewKeyEpoch => Snapshot?.Epoch ?? 0;

    /// <summary>Lets a running snapshot take <paramref name="entry"/> before it is read, changed or deleted.</summary>
    internal void BeforeAccess(Dict table, KeyEntry entry)
    {
        if (Snapshot is { } snapshot && entry.SnapshotEpoch != snapshot.Epoch) snapshot.Capture(table, entry);
    }

    /// <summary>
    /// Set while CLIENT PAUSE is in force: keys are not deleted for their TTL (a lookup still treats an
    /// expired key as missing), as Redis's expireIfNeeded and activeExpireCycle check for a pause.
    /// </summary>
    public bool ExpiryPaused { get; set; }

    /// <summary>
    /// What a lookup does with the key whose TTL has passed, for the command running now (Redis's
    /// expireIfNeeded): set by the executor before each command.
    /// </summary>
    public LazyExpiry LazyExpiry { get; set; }

    public bool IsExpired(KeyEntry entry) => !Loading && entry.ExpireAt != 0 && entry.ExpireAt <= NowMs;

    internal void OnKeyExpired(Database db, byte[] key)
    {
        ExpiredKeys++;
        KeyExpired?.Invoke(db, key);
    }

    /// <summary>A loader's hint (RDB RESIZEDB) that <paramref name="count"/> keys are coming for <paramref name="db"/>: the table is sized once.</summary>
    public void ReserveKeys(int db, int count)
    {
        if (db >= 0 && db < _databases.Length) _databases[db].Table.EnsureCapacity(_databases[db].Count + count);
    }

    public int TotalKeys()
    {
        int total = 0;
        foreach (var db in _databases) total += db.Count;
        return total;
    }

    /// <summary>Redis's activerehashing: resizes in progress move on for up to 1 ms per cron tick, even when no command touches the table.</summary>
    public void RehashIncrementally()
    {
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
        foreach (var db in _databases)
        {
            if (!db.Table.IsRehashing) continue;
            db.Table.RehashFor(deadline);
            return;
        }
    }

    /// <summary>
    /// One slow cycle of active expiry (Redis's activeExpireCycle): per database, sample keys with a
    /// TTL and delete the expired ones, repeating while more than 10% of a sample was expired,
    /// until <paramref name="budget"/> is spent. Resumes at the next database next time.
    /// </summary>
    public void ActiveExpireCycle(TimeSpan budget)
    {
        if (Loading || ExpiryPaused) return;
        long deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        for (int n = 0; n < _databases.Length; n++)
        {
            var db = _databases[_nextCycleDb];
            _nextCycleDb = (_nextCycleDb + 1) % _databases.Length;
            int expired, sampled;
            do
            {
                NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                (expired, sampled) = SampleAndExpire(db);
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    ExpiredTimeCapReached++;
                    return;
                }
            }
            while (sampled > 0 && expired * 100 > sampled * AcceptableStalePercent);
        }
    }

    (int Expired, int Sampled) SampleAndExpire(Database db)
    {
        int toSample = Math.Min(db.ExpiresCount, KeysPerLoop);
        int expired = 0;
        long ttlSum = 0;
        int ttlSamples = 0;
        for (int i = 0; i < toSample; i++)
        {
            var entry = db.RandomVolatile()!;
            if (entry.ExpireAt <= NowMs)
            {
                db.ExpireNow(entry);
                expired++;
            }
            else
            {
                ttlSum += entry.ExpireAt - NowMs;
                ttlSamples++;
            }
        }
        if (ttlSamples > 0)
        {
            long average = ttlSum / ttlSamples;
            // Same smoothing as Redis: the new sample weighs 2%.
            db.AverageTtl = db.AverageTtl == 0 ? average : db.AverageTtl / 50 * 49 + average / 50;
        }
        if (toSample > 0) ExpiredStalePercent = expired * 100 / toSample;
        return (expired, toSample);
    }
}
