using MiniRedis.Data;

namespace MiniRedis.Persistence.Snapshot;

/// <summary>
/// Keys of a snapshot handed from the executor to the writer thread together, and handed back to be
/// filled again (<see cref="KeyspaceSnapshot.Return"/>). A string key's bytes and value are copied
/// into the chunk's buffer, so taking one allocates nothing (1M walked strings made ~150 MB of
/// garbage as detached entries, dozens of gen0 collections per snapshot); other values, and strings
/// too long for the buffer, travel as a detached deep copy (<see cref="KeyEntry.CopyAs"/>).
/// </summary>
public sealed class SnapshotChunk
{
    /// <summary>Records per chunk: one hand-off (and one wake-up of the writer) per this many keys.</summary>
    public const int DefaultCapacity = 256;
    const int BufferBytes = 32 * 1024;
    /// <summary>A string longer than this travels as a copy of its own, so a chunk holds many keys.</summary>
    const int LargestCopied = BufferBytes / 8;

    struct Slot
    {
        public int Db;
        public bool Captured;
        public long ExpireAt;
        public int Start;
        public int KeyLength;
        public int ValueLength;
        public KeyEntry? Entry;
    }

    readonly Slot[] _items;
    readonly byte[] _bytes = new byte[BufferBytes];
    int _used;

    public SnapshotChunk(int capacity = DefaultCapacity) => _items = new Slot[capacity];

    public int Count { get; private set; }

    /// <summary>No room for one more key (any string up to the copied size still fits a chunk that is not full).</summary>
    public bool Full => Count == _items.Length || BufferBytes - _used < LargestCopied;

    public SnapshotKey this[int index]
    {
        get
        {
            ref readonly var item = ref _items[index];
            if (item.Entry is { } entry) return new SnapshotKey(item.Db, item.Captured, entry.Key, entry.ExpireAt, entry, default);
            var bytes = _bytes.AsSpan(item.Start, item.KeyLength + item.ValueLength);
            return new SnapshotKey(item.Db, item.Captured, bytes[..item.KeyLength], item.ExpireAt, null, bytes[item.KeyLength..]);
        }
    }

    /// <summary>Adds <paramref name="entry"/> as it is now (the chunk is not <see cref="Full"/>).</summary>
    public void Add(int db, KeyEntry entry, bool captured)
    {
        ref var item = ref _items[Count++];
        item.Db = db;
        item.Captured = captured;
        if (entry.Type == RedisType.String && TryCopy(entry.Key, entry.StringValue, ref item))
        {
            item.ExpireAt = entry.ExpireAt;
            item.Entry = null;
        }
        else item.Entry = entry.CopyAs(entry.Key, deep: true);
    }

    bool TryCopy(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ref Slot item)
    {
        int length = key.Length + value.Length;
        if (length > LargestCopied) return false;
        key.CopyTo(_bytes.AsSpan(_used));
        value.CopyTo(_bytes.AsSpan(_used + key.Length));
        item.Start = _used;
        item.KeyLength = key.Length;
        item.ValueLength = value.Length;
        _used += length;
        return true;
    }

    /// <summary>Empty again, for the next keys (the writer wrote these).</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
        _used = 0;
    }
}

/// <summary>One key of a <see cref="SnapshotChunk"/>, as of the snapshot's instant.</summary>
/// <param name="Db">The database the key was in at the instant.</param>
/// <param name="Captured">Taken because a command reached it before the walk did (counts as copy-on-write).</param>
/// <param name="Key">The key's bytes.</param>
/// <param name="ExpireAt">Its expiry, unix ms, or 0.</param>
/// <param name="Entry">A detached deep copy of the key, for every value but a string copied into the chunk.</param>
/// <param name="String">The string value copied into the chunk (when <paramref name="Entry"/> is null).</param>
public readonly ref struct SnapshotKey(int Db, bool Captured, ReadOnlySpan<byte> Key, long ExpireAt, KeyEntry? Entry, ReadOnlySpan<byte> String)
{
    public int Db { get; } = Db;
    public bool Captured { get; } = Captured;
    public ReadOnlySpan<byte> Key { get; } = Key;
    public long ExpireAt { get; } = ExpireAt;
    public KeyEntry? Entry { get; } = Entry;
    public ReadOnlySpan<byte> String { get; } = String;
}
