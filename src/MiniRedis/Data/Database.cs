
namespace MiniRedis.Data;

/// <summary>Told when a key it watches is modified (WATCH), so EXEC can abort.</summary>
public interface IKeyWatcher
{
    void WatchedKeyTouched();
}

/// <summary>Told of every modified key beyond its watchers (client-side caching invalidation).</summary>
public interface IModifiedKeyObserver
{
    void KeyModified(ReadOnlySpan<byte> key);
}

/// <summary>
/// A value type's deep copy, for COPY. Strings are byte[] and copied directly; every other value
/// object (list, set, zset, hash) implements this so COPY needs no per-type code.
/// </summary>
public interface ICopyableValue
{
    object DeepCopy();
}

/// <summary>
/// One numbered database (SELECT n): keys, their expiries and the clients watching them.
/// Like Redis's db.c, every lookup first removes a key whose time has passed (lazy expiry);
/// the <see cref="Keyspace"/> is told so it can count and propagate the deletion.
/// </summary>
public sealed class Database
{
    readonly Keyspace _keyspace;
    Dict _dict = new();
    List<KeyEntry> _volatile = [];
    Dictionary<byte[], List<IKeyWatcher>>? _watchers;

    /// <summary>Sum of the keys' <see cref="KeyEntry.AccountedBytes"/>.</summary>
    long _keyBytes;

    internal Database(Keyspace keyspace, int index)
    {
        _keyspace = keyspace;
        Index = index;
    }

    public int Index { get; }
    public int Count => _dict.Count;
    public int ExpiresCount => _volatile.Count;

    /// <summary>
    /// What the keys take in Redis's layout (keys, values, expire entries) plus both dicts' bucket
    /// arrays: the database's part of used_memory. Values changed by a command are re-measured when
    /// it ends (<see cref="Keyspace.Settle"/>).
    /// </summary>
    public long UsedBytes => _keyBytes + TablesBytes;

    /// <summary>The dicts' own allocations: struct and bucket array of the main dict, and of the expires dict when it holds keys.</summary>
    long TablesBytes => AllocationModel.DictTable(_dict.BucketCount) + (_volatile.Count == 0 ? 0 : AllocationModel.DictTable(AllocationModel.DictBuckets(_volatile.Count)));

    /// <summary>
    /// Redis's per-db overhead of MEMORY STATS and used_memory_overhead: dict entries, robj headers and
    /// bucket arrays of the main and expires dicts.
    /// </summary>
    public (long Main, long Expires) OverheadBytes => (
        (long)Count * (AllocationModel.DictEntry + AllocationModel.ObjectHeader) + _dict.BucketCount * 8L,
        (long)_volatile.Count * AllocationModel.DictEntry + (_volatile.Count == 0 ? 0 : AllocationModel.DictBuckets(_volatile.Count) * 8));

    /// <summary>Brings <paramref name="entry"/>'s share of used_memory up to date with its value; nothing for a key no longer here.</summary>
    internal void Account(KeyEntry entry)
    {
        if (!entry.IsAccounted) return;
        long before = entry.AccountedBytes;
        entry.SetAccounted(AllocationModel.Entry(entry));
        _keyBytes += entry.AccountedBytes - before;
    }

    /// <summary>Running estimate of the remaining TTL of volatile keys, in ms, as INFO keyspace shows.</summary>
    public long AverageTtl { get; internal set; }

    /// <summary>The live entry for <paramref name="key"/>, expiring it first if its time has passed.</summary>
    public KeyEntry? Lookup(ReadOnlySpan<byte> key)
    {
        var entry = _dict.Find(key);
        if (entry is null) return null;
        // Every command reaches a key through here before changing it in place, so a running
        // snapshot takes the key's current value first (reads included: the key must be taken once anyway).
        _keyspace.BeforeAccess(_dict, entry);
        if (entry.ExpireAt == 0 || !_keyspace.IsExpired(entry) || _keyspace.LazyExpiry == LazyExpiry.KeepAlive)
        {
            _keyspace.MarkChanging(this, entry);
            return entry;
        }
        if (_keyspace.LazyExpiry == LazyExpiry.Delete && !_keyspace.ExpiryPaused) ExpireNow(entry);
        return null;
    }

    /// <summary>The entry regardless of its TTL (no lazy expiry), e.g. for SCAN filtering.</summary>
    public KeyEntry? Peek(ReadOnlySpan<byte> key) => _dict.Find(key);

    public KeyEntry Add(ReadOnlySpan<byte> key, object value, RedisType type, ObjectEncoding encoding) =>
        Insert(new KeyEntry(key, value, type, encoding));

    /// <summary>Puts a new entry into the table with a fresh access stamp and the running snapshot's epoch, and announces it.</summary>
    KeyEntry Insert(KeyEntry entry)
    {
        entry.LastAccess = _keyspace.NewAccessStamp;
        entry.SnapshotEpoch = _keyspace.NewKeyEpoch;
        entry.Attach();
        _dict.Insert(entry);
        entry.SetAccounted(0);
        _keyspace.MarkChanging(this, entry);
        _keyspace.KeyAdded?.Invoke(this, entry.Key);
        SignalIfBlockable(entry);
        return entry;
    }

    /// <summary>
    /// Redis's setKey for strings: creates the key or replaces its value (of any type), dropping
    /// the TTL unless <paramref name="keepTtl"/>. A same-sized string value is overwritten in place.
    /// The encoding is tryObjectEncoding's unless the caller gives it.
    /// </summary>
    public KeyEntry SetString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keepTtl = false, ObjectEncoding? encodingAs = null)
        => SetString(Lookup(key), key, value, keepTtl, encodingAs);

    /// <summary>
    /// <see cref="SetString(ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool, ObjectEncoding?)"/> for a caller that has just
    /// looked <paramref name="key"/> up (<paramref name="entry"/>: what <see cref="Lookup"/> returned), so SET finds its key once.
    /// </summary>
    public KeyEntry SetString(KeyEntry? entry, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keepTtl = false, ObjectEncoding? encodingAs = null)
    {
        var encoding = encodingAs ?? StringEncoding.Of(value);
        if (entry is null) return Insert(_keyspace.NewStringEntry(key, value, encoding));
        BeforeOverwrite(entry);
        entry.SetString(value, encoding);
        AfterOverwrite(entry, keepTtl);
        return entry;
    }

    /// <summary>
    /// Redis's setKey for any value (the *STORE commands): creates the key or replaces its value, dropping
    /// the TTL. Replacing keeps the key (Redis's dbOverwrite): it is not announced as <c>new</c>.
    /// </summary>
    public KeyEntry SetKey(ReadOnlySpan<byte> key, object value, RedisType type, ObjectEncoding encoding)
    {
        var entry = Lookup(key);
        if (entry is null) return Add(key, value, type, encoding);
        Overwrite(entry, value, type, encoding, keepTtl: false);
        return entry;
    }

    void Overwrite(KeyEntry entry, object value, RedisType type, ObjectEncoding encoding, bool keepTtl)
    {
        BeforeOverwrite(entry);
        if (type == RedisType.String && value is byte[] bytes) entry.SetString(bytes, encoding);
        else
        {
            entry.Value = value;
            entry.Type = type;
            entry.Encoding = encoding;
        }
        AfterOverwrite(entry, keepTtl);
    }

    void BeforeOverwrite(KeyEntry entry)
    {
        if (entry.Type == RedisType.Stream) _keyspace.StreamKeyGone?.Invoke(this, entry.Key.ToArray());
    }

    void AfterOverwrite(KeyEntry entry, bool keepTtl)
    {
        entry.OwnsInteger = false;
        _keyspace.Touch(entry);
        if (!keepTtl && entry.ExpireAt != 0) Persist(entry);
        SignalIfBlockable(entry);
    }

    void SignalIfBlockable(KeyEntry entry)
    {
        if (Keyspace.IsBlockable(entry.Type)) _keyspace.KeyReady?.Invoke(this, entry.Key);
    }

    /// <summary>Adds <paramref name="key"/> holding a deep copy of <paramref name="source"/>'s value (COPY); the TTL is the caller's.</summary>
    public KeyEntry AddCopy(ReadOnlySpan<byte> key, KeyEntry source)
    {
        var copy = Add(key, source.CopyValue(), source.Type, source.Encoding);
        copy.OwnsInteger = source.Type == RedisType.String;
        return copy;
    }

    /// <summary>Adds <paramref name="key"/> holding <paramref name="source"/>'s value itself, not a copy (RENAME, which then deletes the source); the TTL is the caller's.</summary>
    public KeyEntry AddMoved(ReadOnlySpan<byte> key, KeyEntry source)
    {
        var moved = source.CopyAs(key, deep: false);
        moved.ExpireAt = 0;
        return Insert(moved);
    }

    /// <summary>Re-inserts an existing entry object (MOVE, RENAME keep the node).</summary>
    internal void Adopt(KeyEntry entry)
    {
        entry.Attach();
        _dict.Insert(entry);
        if (entry.ExpireAt != 0) AddVolatile(entry);
        entry.SetAccounted(0);
        Account(entry);
        _keyspace.KeyAdded?.Invoke(this, entry.Key);
        SignalIfBlockable(entry);
    }

    /// <summary>Removes a key whose entry its caller goes on using (RENAME, MOVE, GETDEL's reply): its value stays readable.</summary>
    public void Delete(KeyEntry entry) => Remove(entry, keep: true);

    /// <summary>
    /// Removes a key nobody reads again, neither its value nor its key (DEL, expiry, eviction): the arena
    /// slots are freed without copying anything out, and the entry's key reads as empty afterwards (a caller
    /// that announces the key keeps its own copy). A running snapshot has already taken the key (BeforeAccess).
    /// </summary>
    public void Discard(KeyEntry entry) => Remove(entry, keep: false);

    void Remove(KeyEntry entry, bool keep)
    {
        _keyspace.BeforeAccess(_dict, entry);
        if (entry.VolatileIndex >= 0) RemoveVolatile(entry);
        _dict.Remove(entry);
        if (entry.Type == RedisType.Stream) _keyspace.StreamKeyGone?.Invoke(this, entry.Key.ToArray());
        entry.Detach(keepValue: keep, keepKey: keep);
        _keyBytes -= entry.AccountedBytes;
        entry.SetAccounted(-1);
    }

    /// <summary>Deletes a key whose TTL passed and reports it, as Redis's deleteExpiredKeyAndPropagate.</summary>
    internal void ExpireNow(KeyEntry entry)
    {
        var key = entry.Key.ToArray();
        Discard(entry);
        Touch(key);
        _keyspace.OnKeyExpired(this, key);
    }

    public void SetExpire(KeyEntry entry, long expireAtMs)
    {
        _keyspace.BeforeAccess(_dict, entry);
        entry.ExpireAt = expireAtMs;
        if (entry.VolatileIndex < 0) AddVolatile(entry);
        Account(entry);
    }

    public void Persist(KeyEntry entry)
    {
        _keyspace.BeforeAccess(_dict, entry);
        entry.ExpireAt = 0;
        if (entry.VolatileIndex >= 0) RemoveVolatile(entry);
        Account(entry);
    }

    void AddVolatile(KeyEntry entry)
    {
        entry.VolatileIndex = _volatile.Count;
        _volatile.Add(entry);
    }

    void RemoveVolatile(KeyEntry entry)
    {
        int index = entry.VolatileIndex;
        var last = _volatile[^1];
        _volatile[index] = last;
        last.VolatileIndex = index;
        _volatile.RemoveAt(_volatile.Count - 1);
        entry.VolatileIndex = -1;
    }

    public KeyEntry? RandomVolatile() => _volatile.Count == 0 ? null : _volatile[Random.Shared.Next(_volatile.Count)];

    public KeyEntry? RandomEntry() => _dict.RandomEntry();

    public ulong Scan<TVisitor>(ulong cursor, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor
        => _dict.Scan(cursor, ref visitor);

    public ChainedBuckets.Enumerator<KeyEntry> GetEnumerator() => _dict.GetEnumerator();

    /// <summary>The hash table itself, for a snapshot: it keeps walking the table a db had at its instant even after FLUSHDB or SWAPDB.</summary>
    internal Dict Table => _dict;

    /// <summary>Drops every key; watchers of keys that existed are told.</summary>
    public void Clear()
    {
        if (_watchers is { Count: > 0 })
        {
            foreach (var (key, watchers) in _watchers)
            {
                if (_dict.Find(key) is not null) watchers.ForEach(w => w.WatchedKeyTouched());
            }
        }
        // Keys being changed by the running command are measured before they go, so none comes back.
        _keyspace.Settle();
        _keyspace.StreamKeyGone?.Invoke(this, null);
        // A running snapshot still walks the old table, so its entries keep their keys and values (in arrays);
        // otherwise nothing reads them again and the arena slots are only freed.
        bool keep = _keyspace.Snapshot is not null;
        foreach (var entry in _dict) entry.Detach(keepValue: keep, keepKey: keep);
        _dict = new Dict();
        _volatile = [];
        _keyBytes = 0;
        AverageTtl = 0;
    }

    /// <summary>Exchanges contents with another database (SWAPDB); watchers stay with their db number.</summary>
    public void SwapContents(Database other)
    {
        _keyspace.Settle();
        (_dict, other._dict) = (other._dict, _dict);
        (_volatile, other._volatile) = (other._volatile, _volatile);
        (_keyBytes, other._keyBytes) = (other._keyBytes, _keyBytes);
        (AverageTtl, other.AverageTtl) = (other.AverageTtl, AverageTtl);
        TouchWatchedPresentIn(other);
        other.TouchWatchedPresentIn(this);
        _keyspace.StreamKeyGone?.Invoke(this, null);
        _keyspace.StreamKeyGone?.Invoke(other, null);
    }

    /// <summary>After a swap, a watched key changed only if it exists on either side (Redis's touchAllWatchedKeysInDb).</summary>
    void TouchWatchedPresentIn(Database other)
    {
        if (_watchers is null) return;
        foreach (var (key, watchers) in _watchers)
        {
            if (_dict.Find(key) is not null || other._dict.Find(key) is not null) watchers.ForEach(w => w.WatchedKeyTouched());
        }
    }

    /// <summary>Signals that <paramref name="key"/> changed (Redis's signalModifiedKey).</summary>
    public void Touch(ReadOnlySpan<byte> key)
    {
        _keyspace.ModifiedKeys?.KeyModified(key);
        if (_watchers is not { Count: > 0 }) return;
        if (_watchers.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var watchers))
        {
            foreach (var w in watchers) w.WatchedKeyTouched();
        }
    }

    public void Watch(byte[] key, IKeyWatcher watcher)
    {
        _watchers ??= new Dictionary<byte[], List<IKeyWatcher>>(ByteArrayComparer.Instance);
        if (!_watchers.TryGetValue(key, out var list)) _watchers[key] = list = [];
        if (!list.Contains(watcher)) list.Add(watcher);
    }

    public void Unwatch(byte[] key, IKeyWatcher watcher)
    {
        if (_watchers is null || !_watchers.TryGetValue(key, out var list)) return;
        list.Remove(watcher);
        if (list.Count == 0) _watchers.Remove(key);
    }
}
