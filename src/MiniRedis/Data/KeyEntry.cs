namespace MiniRedis.Data;

/// <summary>Redis's value types, in the order TYPE and SCAN TYPE name them.</summary>
public enum RedisType : byte { String, List, Set, ZSet, Hash, Stream }

/// <summary>How a value is laid out in memory, as OBJECT ENCODING reports it.</summary>
public enum ObjectEncoding : byte { Raw, Int, Embstr, Listpack, Quicklist, Intset, Hashtable, Skiplist, Stream }

/// <summary>
/// One key of the keyspace: the hash table node, the value and its expiry in one object, so a
/// key costs one allocation beside its bytes. Owned by the executor thread.
/// </summary>
public sealed class KeyEntry : IChainedNode<KeyEntry>
{
    public KeyEntry(byte[] key, uint hash, object value, RedisType type, ObjectEncoding encoding)
    {
        Key = key;
        Hash = hash;
        Value = value;
        Type = type;
        Encoding = encoding;
    }

    public byte[] Key { get; }
    public uint Hash { get; }
    internal KeyEntry? Next;

    KeyEntry? IChainedNode<KeyEntry>.Next { get => Next; set => Next = value; }

    /// <summary>byte[] for strings; the collection object for other types.</summary>
    public object Value;
    public RedisType Type;
    public ObjectEncoding Encoding;

    /// <summary>Absolute expiry in unix milliseconds; 0 when the key is persistent.</summary>
    public long ExpireAt;

    /// <summary>Position in the database's list of keys with a TTL, or -1.</summary>
    internal int VolatileIndex = -1;

    /// <summary>
    /// Redis's 24-bit lru field: the LRU clock (seconds) of the last access under an LRU or no policy,
    /// or under an LFU policy the minutes of the last decrement (16 bits) and the log counter (8 bits).
    /// </summary>
    public uint LastAccess;

    /// <summary>
    /// What this key adds to used_memory (<see cref="Memory.AllocationModel.Entry"/>) in 8-byte units
    /// (jemalloc's sizes are multiples of 8), so it fits the object's padding; Detached when the key
    /// is in no database.
    /// </summary>
    uint _accountedUnits = Detached;
    const uint Detached = uint.MaxValue;

    internal bool IsAccounted => _accountedUnits != Detached;
    internal long AccountedBytes => IsAccounted ? _accountedUnits * 8L : 0;

    /// <summary>Records the key's size (saturating past 32 GB), or detaches it when <paramref name="bytes"/> is negative.</summary>
    internal void SetAccounted(long bytes) => _accountedUnits = bytes < 0 ? Detached : (uint)Math.Min(bytes / 8, Detached - 1);

    /// <summary>
    /// The snapshot epoch (<see cref="ISnapshotCapture.Epoch"/>) in which this key was taken or
    /// created: equal to the running snapshot's epoch means "not its business". Two bytes fit the
    /// object's padding, so a key costs no more memory.
    /// </summary>
    internal ushort SnapshotEpoch;

    public byte[] StringValue => (byte[])Value;

    /// <summary>Redis's OBJ_SHARED_INTEGERS: values below this are one shared object when maxmemory is off.</summary>
    const long SharedIntegers = 10000;

    /// <summary>An int-encoded value held as an object of its own, as COPY's dupStringObject makes it, not the shared integer.</summary>
    public bool OwnsInteger;

    /// <summary>Whether Redis would hold this value as a shared small integer (OBJECT REFCOUNT reads INT_MAX).</summary>
    public bool IsSharedInteger => Type == RedisType.String && Encoding == ObjectEncoding.Int && !OwnsInteger
        && RedisNumbers.TryParseInt64(StringValue, out long value) && value is >= 0 and < SharedIntegers;

    /// <summary>A deep copy of the value (COPY, snapshots): strings and compact encodings are arrays; other types copy themselves.</summary>
    public object CopyValue() => Value switch
    {
        byte[] bytes => bytes.Clone(),
        ICopyableValue copyable => copyable.DeepCopy(),
        _ => throw new InvalidOperationException($"a {Type} value cannot be copied"),
    };
}
